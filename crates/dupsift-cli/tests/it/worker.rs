//! `dupsift worker` (built with `--features spark`): the per-partition half of a Spark run.
//! These tests play the driver's part in Rust — exact-duplicate groups from the content hash,
//! LSH buckets from the band keys, verification of the candidates by the worker, union-find —
//! and require the clusters of `dupsift scan` on the same documents, document for document.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{Array, ArrayRef, BinaryArray, Int64Array, RecordBatch, StringArray};
use arrow_ipc::reader::StreamReader;
use arrow_ipc::writer::StreamWriter;
use arrow_schema::{DataType, Field, Schema};
use serde_json::json;

use crate::util::*;

fn ipc(batches: &[RecordBatch]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = StreamWriter::try_new(&mut out, &batches[0].schema()).unwrap();
    for b in batches {
        w.write(b).unwrap();
    }
    w.finish().unwrap();
    drop(w);
    out
}

fn read_ipc(bytes: &[u8]) -> Vec<RecordBatch> {
    StreamReader::try_new(bytes, None)
        .expect("the worker writes an Arrow IPC stream")
        .map(|b| b.unwrap())
        .collect()
}

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    RecordBatch::try_from_iter(columns).unwrap()
}

fn worker(dir: &std::path::Path, args: &[&str], input: &[u8]) -> Run {
    let mut all = vec!["worker"];
    all.extend_from_slice(args);
    run_with_stdin(dir, &all, Some(input))
}

fn i64s<'a>(b: &'a RecordBatch, name: &str) -> &'a Int64Array {
    b.column_by_name(name).unwrap().as_primitive::<Int64Type>()
}

fn strs<'a>(b: &'a RecordBatch, name: &str) -> &'a StringArray {
    b.column_by_name(name).unwrap().as_string::<i32>()
}

/// Documents: bases, edited variants (near-duplicates), exact copies, unrelated ones, an empty
/// one, in an order that mixes them.
fn documents() -> Vec<(String, String)> {
    let mut g = Gen::new(8);
    let mut docs = Vec::new();
    for i in 0..60 {
        let words = g.words(150 + i);
        docs.push((format!("base-{i:02}"), render(&words)));
        if i % 3 == 0 {
            docs.push((format!("edit-{i:02}"), render(&g.edit(&words, 2))));
        }
        if i % 7 == 0 {
            docs.push((format!("copy-{i:02}"), render(&words)));
        }
        if i % 10 == 0 {
            docs.push((format!("other-{i:02}"), g.text(120)));
        }
    }
    docs.push(("empty".to_string(), String::new()));
    docs
}

#[test]
fn worker_halves_reproduce_the_clusters_of_a_scan() {
    let t = TempCorpus::new();
    let docs = documents();
    let jsonl: String = docs
        .iter()
        .map(|(id, text)| jsonl_line(&[("id", json!(id)), ("text", json!(text))]))
        .collect();
    t.file("docs.jsonl", &jsonl);
    let report = scan_json_in(t.path(), &["docs.jsonl", "--no-passages"]);
    let expected: BTreeSet<BTreeSet<String>> = clusters(&report)
        .into_iter()
        .map(|c| c.into_iter().collect())
        .collect();
    assert!(expected.len() >= 20, "{expected:?}");

    // Sign, in two batches (Spark hands a partition over in several).
    let ids: Vec<&str> = docs.iter().map(|d| d.0.as_str()).collect();
    let texts: Vec<&str> = docs.iter().map(|d| d.1.as_str()).collect();
    let half = docs.len() / 2;
    let make = |r: std::ops::Range<usize>| {
        batch(vec![
            (
                "doc",
                Arc::new(Int64Array::from_iter_values(r.clone().map(|i| i as i64))) as ArrayRef,
            ),
            ("id", Arc::new(StringArray::from(ids[r.clone()].to_vec()))),
            ("text", Arc::new(StringArray::from(texts[r].to_vec()))),
        ])
    };
    let run = worker(
        t.path(),
        &["sign", "-j", "2"],
        &ipc(&[make(0..half), make(half..docs.len())]),
    )
    .success();
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    let signed = read_ipc(&run.stdout);
    assert_eq!(signed.len(), 2);
    let names: Vec<String> = signed[0]
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(
        names,
        [
            "doc",
            "id",
            "bytes",
            "words",
            "shingles",
            "content_hi",
            "content_lo",
            "keys",
            "lossy",
            "error"
        ]
    );

    // The driver's part: exact duplicates by content hash, LSH buckets by band key.
    let mut original = vec![0usize; docs.len()];
    let mut first: HashMap<(i64, i64), usize> = HashMap::new();
    let mut buckets: BTreeMap<(usize, i64), Vec<usize>> = BTreeMap::new();
    for b in &signed {
        let keys = b.column_by_name("keys").unwrap().as_list::<i32>();
        for r in 0..b.num_rows() {
            let d = i64s(b, "doc").value(r) as usize;
            assert!(strs(b, "error").is_null(r));
            assert_eq!(i64s(b, "bytes").value(r), texts[d].len() as i64);
            let content = (
                i64s(b, "content_hi").value(r),
                i64s(b, "content_lo").value(r),
            );
            original[d] = *first.entry(content).or_insert(d);
            let k = keys.value(r);
            let k = k.as_primitive::<Int64Type>();
            if d == docs.len() - 1 {
                assert_eq!(k.len(), 0, "a document without words has no keys");
            } else if original[d] == d {
                assert_eq!(k.len(), 18);
                for (band, key) in k.values().iter().enumerate() {
                    buckets.entry((band, *key)).or_default().push(d);
                }
            }
        }
    }
    let mut candidates: BTreeSet<(usize, usize)> = BTreeSet::new();
    for members in buckets.values() {
        for (i, &a) in members.iter().enumerate() {
            for &b in &members[i + 1..] {
                candidates.insert((a.min(b), a.max(b)));
            }
        }
    }
    assert!(!candidates.is_empty());

    // Verify the candidates with the worker.
    let (a, b): (Vec<usize>, Vec<usize>) = candidates.iter().copied().unzip();
    let pairs = batch(vec![
        (
            "a",
            Arc::new(Int64Array::from_iter_values(a.iter().map(|&d| d as i64))) as ArrayRef,
        ),
        (
            "b",
            Arc::new(Int64Array::from_iter_values(b.iter().map(|&d| d as i64))),
        ),
        (
            "a_text",
            Arc::new(StringArray::from(
                a.iter().map(|&d| texts[d]).collect::<Vec<_>>(),
            )),
        ),
        (
            "b_text",
            Arc::new(StringArray::from(
                b.iter().map(|&d| texts[d]).collect::<Vec<_>>(),
            )),
        ),
    ]);
    let verified = read_ipc(
        &worker(t.path(), &["verify"], &ipc(&[pairs]))
            .success()
            .stdout,
    );
    // The edges: exact-duplicate links and verified pairs; components by the worker.
    let (mut ea, mut eb): (Vec<i64>, Vec<i64>) = original
        .iter()
        .enumerate()
        .filter(|&(d, &o)| d != o)
        .map(|(d, &o)| (o as i64, d as i64))
        .unzip();
    let mut near = 0;
    for v in &verified {
        let sims = v
            .column_by_name("similarity")
            .unwrap()
            .as_primitive::<Float64Type>();
        for r in 0..v.num_rows() {
            if sims.value(r) >= 0.8 {
                near += 1;
                ea.push(i64s(v, "a").value(r));
                eb.push(i64s(v, "b").value(r));
            }
        }
    }
    assert!(near >= 20, "{near}");
    let edges = batch(vec![
        ("a", Arc::new(Int64Array::from(ea)) as ArrayRef),
        ("b", Arc::new(Int64Array::from(eb))),
    ]);
    let comps = read_ipc(
        &worker(t.path(), &["components"], &ipc(&[edges]))
            .success()
            .stdout,
    );
    let mut groups: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
    for c in &comps {
        for r in 0..c.num_rows() {
            let d = i64s(c, "doc").value(r) as usize;
            groups
                .entry(i64s(c, "component").value(r))
                .or_default()
                .insert(ids[d].to_string());
        }
    }
    let found: BTreeSet<BTreeSet<String>> = groups.into_values().collect();
    assert_eq!(found, expected);
}

#[test]
fn bad_records_keep_their_row_with_an_error() {
    let t = TempCorpus::new();
    let texts: Vec<Option<&[u8]>> = vec![
        Some(b"plain words of a small document".as_slice()),
        None,
        Some(b"caf\xe9 au lait with invalid bytes".as_slice()),
        Some(&[b'x'; 300]),
        Some(b"".as_slice()),
    ];
    let input = batch(vec![
        (
            "id",
            Arc::new(StringArray::from(vec![
                "ok", "null", "latin1", "huge", "empty",
            ])) as ArrayRef,
        ),
        ("body", Arc::new(BinaryArray::from(texts))),
    ]);
    let run = worker(
        t.path(),
        &["sign", "--text-field", "body", "--max-doc-bytes", "200"],
        &ipc(&[input]),
    )
    .success();
    assert_eq!(
        run.stderr,
        "dupsift worker: 2 of 5 rows have an error (see the error column)\n"
    );
    let out = read_ipc(&run.stdout);
    let b = &out[0];
    assert_eq!(b.num_rows(), 5);
    let ids: Vec<&str> = strs(b, "id").iter().map(|s| s.unwrap()).collect();
    assert_eq!(ids, ["ok", "null", "latin1", "huge", "empty"]);
    let errors: Vec<Option<&str>> = strs(b, "error").iter().collect();
    assert_eq!(
        errors,
        [
            None,
            Some("\"body\" is null"),
            None,
            Some("document of 300 bytes is larger than --max-doc-bytes (200)"),
            None
        ]
    );
    let lossy = b.column_by_name("lossy").unwrap().as_boolean();
    assert_eq!(
        lossy.iter().map(|v| v.unwrap()).collect::<Vec<_>>(),
        [false, false, true, false, false]
    );
    let keys = b.column_by_name("keys").unwrap().as_list::<i32>();
    let lens: Vec<usize> = (0..5).map(|r| keys.value(r).len()).collect();
    assert_eq!(lens, [18, 0, 18, 0, 0]);
    assert!(i64s(b, "content_hi").is_null(1) && !i64s(b, "content_hi").is_null(4));
    // --quiet keeps standard error empty.
    let texts: Vec<Option<&str>> = vec![None];
    let quiet = worker(
        t.path(),
        &["sign", "--quiet"],
        &ipc(&[batch(vec![(
            "text",
            Arc::new(StringArray::from(texts)) as ArrayRef,
        )])]),
    )
    .success();
    assert!(quiet.stderr.is_empty());
}

#[test]
fn verify_reports_null_texts_and_identical_pairs() {
    let t = TempCorpus::new();
    let text = "one two three four five six seven eight nine ten";
    let pairs = batch(vec![
        (
            "a_text",
            Arc::new(StringArray::from(vec![Some(text), None])) as ArrayRef,
        ),
        (
            "b_text",
            Arc::new(StringArray::from(vec![Some(text), Some(text)])),
        ),
    ]);
    let out = read_ipc(
        &worker(t.path(), &["verify", "-q"], &ipc(&[pairs]))
            .success()
            .stdout,
    );
    let sims = out[0]
        .column_by_name("similarity")
        .unwrap()
        .as_primitive::<Float64Type>();
    assert_eq!(sims.value(0), 1.0);
    assert!(sims.is_null(1));
    assert_eq!(strs(&out[0], "error").value(1), "a_text or b_text is null");
    let names: Vec<String> = out[0]
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, ["similarity", "error"]);
}

#[test]
fn unusable_input_is_a_clear_error() {
    let t = TempCorpus::new();
    let wrong = batch(vec![(
        "content",
        Arc::new(StringArray::from(vec!["x"])) as ArrayRef,
    )]);
    let run = worker(t.path(), &["sign"], &ipc(&[wrong])).usage_error();
    assert_eq!(
        run.stderr,
        "dupsift: error: no column \"text\" in the input (columns: content)\n"
    );
    let numbers = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new(
            "text",
            DataType::Int64,
            false,
        )])),
        vec![Arc::new(Int64Array::from(vec![1]))],
    )
    .unwrap();
    let run = worker(t.path(), &["sign"], &ipc(&[numbers])).usage_error();
    assert!(
        run.stderr
            .contains("column \"text\" is Int64; text must be utf8"),
        "{}",
        run.stderr
    );
    let run = worker(
        t.path(),
        &["verify"],
        b"{\"id\": 1, \"text\": \"not arrow\"}\n",
    )
    .usage_error();
    assert!(
        run.stderr
            .starts_with("dupsift: error: reading the Arrow IPC stream on standard input"),
        "{}",
        run.stderr
    );
    let run = worker(t.path(), &["sign", "docs.jsonl"], b"").usage_error();
    assert!(
        run.stderr.contains("takes no paths (got docs.jsonl)"),
        "{}",
        run.stderr
    );
}

#[test]
fn components_are_labelled_by_their_smallest_document() {
    let t = TempCorpus::new();
    let edges = batch(vec![
        (
            "a",
            Arc::new(Int64Array::from(vec![Some(9), Some(3), Some(40), None])) as ArrayRef,
        ),
        (
            "b",
            Arc::new(Int64Array::from(vec![Some(3), Some(12), Some(41), Some(1)])),
        ),
        (
            "note",
            Arc::new(StringArray::from(vec!["x", "y", "z", "w"])),
        ),
    ]);
    let run = worker(t.path(), &["components"], &ipc(&[edges])).success();
    assert_eq!(
        run.stderr,
        "dupsift worker: 1 of 4 edges have a null end and were left out\n"
    );
    let out = read_ipc(&run.stdout);
    let pairs: Vec<(i64, i64)> = out
        .iter()
        .flat_map(|b| {
            (0..b.num_rows()).map(move |r| (i64s(b, "doc").value(r), i64s(b, "component").value(r)))
        })
        .collect();
    assert_eq!(pairs, [(3, 3), (9, 3), (12, 3), (40, 40), (41, 40)]);
    let text = batch(vec![(
        "a",
        Arc::new(StringArray::from(vec!["1"])) as ArrayRef,
    )]);
    let run = worker(t.path(), &["components"], &ipc(&[text])).usage_error();
    assert!(
        run.stderr
            .contains("column \"a\" is Utf8; document numbers must be int64"),
        "{}",
        run.stderr
    );
}

/// With --jsonl-lines the worker decodes raw JSONL lines as a scan decodes a JSONL file: the
/// same documents, the same reasons for the lines it skips, and blank lines are no records.
#[test]
fn jsonl_lines_decode_as_a_scan_does() {
    let t = TempCorpus::new();
    let mut lines: Vec<Vec<u8>> = vec![
        br#"{"id": "a", "text": "the harbour master opens the lock gates"}"#.to_vec(),
        b"   ".to_vec(),
        br#"{"id": "b", "text": "unterminated}"#.to_vec(),
        br#"{"id": "c", "body": "no text here"}"#.to_vec(),
        br#"{"id": "d", "text": 42}"#.to_vec(),
        br#"[1, 2]"#.to_vec(),
        br#"{"text": "a record without an id"}"#.to_vec(),
        format!(r#"{{"id": "long", "text": "{}"}}"#, "x ".repeat(200)).into_bytes(),
    ];
    let mut latin1 = br#"{"id": "e", "text": "caf"#.to_vec();
    latin1.extend(b"\xe9 au lait\"}");
    lines.push(latin1);
    let mut file = Vec::new();
    for l in &lines {
        file.extend_from_slice(l);
        file.push(b'\n');
    }
    std::fs::write(t.path().join("docs.jsonl"), &file).unwrap();
    let report = scan_json_in(t.path(), &["docs.jsonl", "--max-doc-bytes", "300"]);
    let scan_reasons: Vec<String> = arr(&report, "skipped")
        .iter()
        .map(|k| s(k, "reason").to_string())
        .collect();

    let input = batch(vec![(
        "line",
        Arc::new(BinaryArray::from(
            lines.iter().map(|l| l.as_slice()).collect::<Vec<_>>(),
        )) as ArrayRef,
    )]);
    let run = worker(
        t.path(),
        &["sign", "--jsonl-lines", "--max-doc-bytes", "300", "-q"],
        &ipc(&[input]),
    )
    .success();
    let b = &read_ipc(&run.stdout)[0];
    let errors: Vec<String> = strs(b, "error")
        .iter()
        .flatten()
        .map(str::to_string)
        .collect();
    assert_eq!(errors, scan_reasons);
    assert_eq!(errors.len(), 5, "{errors:?}");
    let ids: Vec<Option<&str>> = strs(b, "id").iter().collect();
    assert_eq!(ids[0], Some("a"));
    assert_eq!(ids[6], None, "no id field: the driver names it");
    let blank = b.column_by_name("blank").unwrap().as_boolean();
    assert!(blank.value(1) && !blank.value(0));
    assert!(strs(b, "error").is_null(1), "a blank line is no error");
    let lossy = b.column_by_name("lossy").unwrap().as_boolean();
    assert!(lossy.value(8));
    let text = b.column_by_name("text").unwrap().as_binary::<i32>();
    assert_eq!(text.value(8), "caf\u{fffd} au lait".as_bytes());
    assert_eq!(summary(&report, "invalid_utf8_documents"), 1);
    assert_eq!(summary(&report, "documents"), 3);
}

/// `worker report` turns what a driver collected (cluster members with their similarity to the
/// kept document, the run's totals and skipped records) into the JSON report of `scan
/// --no-passages`, byte for byte: same cluster order, member order, rounding and previews.
#[test]
fn report_is_the_report_of_a_scan() {
    let t = TempCorpus::new();
    let docs = documents();
    let mut jsonl: String = docs
        .iter()
        .map(|(id, text)| jsonl_line(&[("id", json!(id)), ("text", json!(text))]))
        .collect();
    jsonl.push_str("{\"id\": \"broken\", \"text\": \n");
    t.file("docs.jsonl", &jsonl);
    let flags = ["--no-passages", "--keep", "longest"];
    let mut args = vec!["scan", "docs.jsonl", "--format", "json"];
    args.extend(flags);
    let scan = run_in(t.path(), &args).success().stdout;
    let report = parse_report(&scan);
    assert!(arr(&report, "clusters").len() >= 20);
    assert_eq!(arr(&report, "skipped").len(), 1);

    // What the driver knows: each cluster's members, which one is kept, which are exact
    // copies of it, and the similarity of the others to it, computed by the worker.
    let text_of: HashMap<&str, &str> = docs.iter().map(|(i, x)| (i.as_str(), x.as_str())).collect();
    let doc_of: HashMap<&str, i64> = docs
        .iter()
        .enumerate()
        .map(|(d, (i, _))| (i.as_str(), d as i64))
        .collect();
    let mut rows: Vec<(i64, &str, bool, bool)> = Vec::new();
    let mut component_of: HashMap<i64, i64> = HashMap::new();
    for (k, c) in arr(&report, "clusters").iter().enumerate() {
        // Cluster labels are the driver's own, in the order the clusters are reported.
        let label = 7 * k as i64 % 11 + 100 * k as i64;
        component_of.insert(label, u(c, "component") as i64);
        rows.push((label, s(c, "kept"), true, false));
        for m in arr(c, "members") {
            rows.push((label, s(m, "doc"), false, m["exact"].as_bool().unwrap()));
        }
    }
    rows.reverse();
    let kept_of: HashMap<i64, &str> = rows.iter().filter(|r| r.2).map(|r| (r.0, r.1)).collect();
    let others: Vec<&(i64, &str, bool, bool)> = rows.iter().filter(|r| !r.2 && !r.3).collect();
    let pairs = batch(vec![
        (
            "a_text",
            Arc::new(StringArray::from(
                others
                    .iter()
                    .map(|r| text_of[kept_of[&r.0]])
                    .collect::<Vec<_>>(),
            )) as ArrayRef,
        ),
        (
            "b_text",
            Arc::new(StringArray::from(
                others.iter().map(|r| text_of[r.1]).collect::<Vec<_>>(),
            )),
        ),
    ]);
    let verified = read_ipc(
        &worker(t.path(), &["verify"], &ipc(&[pairs]))
            .success()
            .stdout,
    );
    let sims: Vec<f64> = verified
        .iter()
        .flat_map(|b| {
            let col = b
                .column_by_name("similarity")
                .unwrap()
                .as_primitive::<Float64Type>();
            col.values().to_vec()
        })
        .collect();
    let mut similarity: HashMap<&str, f64> = HashMap::new();
    for (r, s) in others.iter().zip(sims) {
        similarity.insert(r.1, s);
    }
    let members = batch(vec![
        (
            "cluster",
            Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.0))) as ArrayRef,
        ),
        (
            "component",
            Arc::new(Int64Array::from_iter_values(
                rows.iter().map(|r| component_of[&r.0]),
            )),
        ),
        (
            "doc",
            Arc::new(Int64Array::from_iter_values(
                rows.iter().map(|r| doc_of[r.1]),
            )),
        ),
        (
            "id",
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            )),
        ),
        (
            "bytes",
            Arc::new(Int64Array::from_iter_values(
                rows.iter().map(|r| text_of[r.1].len() as i64),
            )),
        ),
        (
            "head",
            Arc::new(BinaryArray::from_iter_values(rows.iter().map(|r| {
                &text_of[r.1].as_bytes()[..text_of[r.1].len().min(576)]
            }))),
        ),
        (
            "kept",
            Arc::new(arrow_array::BooleanArray::from(
                rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            )),
        ),
        (
            "exact",
            Arc::new(arrow_array::BooleanArray::from(
                rows.iter().map(|r| r.3).collect::<Vec<_>>(),
            )),
        ),
        (
            "similarity",
            Arc::new(arrow_array::Float64Array::from(
                rows.iter()
                    .map(|r| similarity.get(r.1).copied())
                    .collect::<Vec<_>>(),
            )),
        ),
    ]);
    let summary = &report["summary"];
    let totals = json!({
        "documents": summary["documents"],
        "bytes": summary["bytes"],
        "invalid_utf8_documents": summary["invalid_utf8_documents"],
        "empty_documents": summary["empty_documents"],
        "candidate_pairs": summary["candidate_pairs"],
        "verified_pairs": summary["verified_pairs"],
        "skipped": report["skipped"],
    });
    t.file("totals.json", totals.to_string());
    let mut args = vec!["report", "--totals", "totals.json"];
    args.extend(flags);
    let run = worker(t.path(), &args, &ipc(std::slice::from_ref(&members))).success();
    assert_eq!(
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&scan)
    );

    // A cluster without a kept document is refused, with nothing written.
    let no_kept = batch(vec![
        (
            "cluster",
            Arc::new(Int64Array::from(vec![1, 1])) as ArrayRef,
        ),
        ("component", Arc::new(Int64Array::from(vec![0, 0]))),
        ("doc", Arc::new(Int64Array::from(vec![0, 1]))),
        ("id", Arc::new(StringArray::from(vec!["a", "b"]))),
        ("bytes", Arc::new(Int64Array::from(vec![1, 1]))),
        ("head", Arc::new(StringArray::from(vec!["x", "x"]))),
        (
            "kept",
            Arc::new(arrow_array::BooleanArray::from(vec![false, false])),
        ),
        (
            "exact",
            Arc::new(arrow_array::BooleanArray::from(vec![true, true])),
        ),
        (
            "similarity",
            Arc::new(arrow_array::Float64Array::from(vec![None, None])),
        ),
    ]);
    let run = worker(t.path(), &args, &ipc(&[no_kept])).usage_error();
    assert!(
        run.stderr.contains("has 0 kept documents"),
        "{}",
        run.stderr
    );
    let run = worker(t.path(), &["report"], &ipc(&[members])).usage_error();
    assert!(run.stderr.contains("--totals"), "{}", run.stderr);
}
