//! Index files and incremental checks: `dupsift index build | add | info` and
//! `dupsift check PATHS --against INDEX`.
//!
//! The key property: checking a batch against an index of a corpus reports, for the batch's
//! documents, exactly what a full check of corpus and batch together reports for them (indexed
//! originals appear by their id, at line 1). The other tests cover what `index info` shows,
//! refused parameter combinations, damaged and foreign files (exit 2, never a panic), atomic
//! writes and determinism. Corpora are generated (seeded) in temporary directories.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;
use xxhash_rust::xxh3::xxh3_64;

use crate::util::*;

// ---------------------------------------------------------------------------------------------
// Generated texts.

/// A generated document: its path relative to the temporary directory and its text.
struct Doc {
    path: String,
    text: String,
}

/// Edit rates of the near-duplicates planted in the corpus and in the batch.
const CORPUS_EDITS: &[(&str, f64)] = &[("e01", 0.01), ("e03", 0.03), ("e05", 0.05), ("e10", 0.10)];
const BATCH_EDITS: &[(&str, f64)] = &[
    ("e01", 0.01),
    ("e02", 0.02),
    ("e05", 0.05),
    ("e10", 0.10),
    ("e25", 0.25),
];

fn edits(words: &[String], rate: f64) -> usize {
    ((words.len() as f64 * rate).round() as usize).max(1)
}

/// A corpus `C/` (a few hundred documents: unrelated bases, near-duplicates of some at several
/// edit rates, exact copies, a passage shared by two documents, one held by a single document,
/// one repeated inside a document) and a batch `B/` of new documents: near-duplicates and exact
/// copies of corpus documents, near-duplicates and copies of each other, copies of corpus
/// passages and of new ones, unrelated documents, and a JSONL file mixing these.
struct World {
    t: TempCorpus,
    corpus: Vec<Doc>,
    batch: Vec<Doc>,
    /// Documents in the batch (files, plus the records of `B/recs.jsonl`).
    batch_docs: usize,
}

impl World {
    fn text_of(&self, path: &str) -> &str {
        &self
            .corpus
            .iter()
            .chain(&self.batch)
            .find(|d| d.path == path)
            .unwrap_or_else(|| panic!("no document {path}"))
            .text
    }
}

fn world() -> World {
    let t = TempCorpus::new();
    let mut g = Gen::new(4242);
    let mut corpus = Vec::new();
    let add = |docs: &mut Vec<Doc>, path: String, text: String| {
        t.file(&path, &text);
        docs.push(Doc { path, text });
    };

    let bases: Vec<Vec<String>> = (0..180).map(|i| g.words(150 + (i * 37) % 150)).collect();
    for (i, w) in bases.iter().enumerate() {
        add(&mut corpus, format!("C/base/{i:03}.txt"), render(w));
    }
    for (i, w) in bases.iter().enumerate().take(20) {
        for &(kind, rate) in CORPUS_EDITS {
            let e = g.edit(w, edits(w, rate));
            add(&mut corpus, format!("C/var/{i:03}-{kind}.txt"), render(&e));
        }
        if i % 4 == 0 {
            add(&mut corpus, format!("C/var/{i:03}-copy.txt"), render(w));
        }
    }
    let (p0, p1, p2) = (g.passage(6), g.passage(7), g.passage(6));
    let p0a = g.around(120, &p0, 100);
    add(&mut corpus, "C/pass/p0a.txt".into(), p0a);
    let p0b = g.around(90, &p0, 130);
    add(&mut corpus, "C/pass/p0b.txt".into(), p0b);
    let p1d = g.around(100, &p1, 80);
    add(&mut corpus, "C/pass/p1.txt".into(), p1d);
    let mut p2d = g.around(80, &p2, 60);
    plant(&mut p2d, &p2);
    p2d.push_str(&g.text(50));
    add(&mut corpus, "C/pass/p2.txt".into(), p2d);

    let mut batch = Vec::new();
    for (i, w) in bases.iter().enumerate().take(26).skip(20) {
        for &(kind, rate) in BATCH_EDITS {
            let e = g.edit(w, edits(w, rate));
            add(&mut batch, format!("B/near/{i:03}-{kind}.txt"), render(&e));
        }
    }
    let corpus_text = |path: &str| -> String {
        corpus
            .iter()
            .find(|d: &&Doc| d.path == path)
            .expect("a corpus document")
            .text
            .clone()
    };
    for (name, of) in [
        ("050.txt", "C/base/050.txt"),
        ("000-copy.txt", "C/var/000-copy.txt"),
        ("003-e01.txt", "C/var/003-e01.txt"),
        ("p2.txt", "C/pass/p2.txt"),
    ] {
        add(&mut batch, format!("B/copy/{name}"), corpus_text(of));
    }
    let n1 = g.words(240);
    let n2 = g.words(200);
    add(&mut batch, "B/own/n1.txt".into(), render(&n1));
    let e = g.edit(&n1, 2);
    add(&mut batch, "B/own/n1v-e01.txt".into(), render(&e));
    add(&mut batch, "B/own/n1v-copy.txt".into(), render(&n1));
    add(&mut batch, "B/own/n2.txt".into(), render(&n2));
    let e = g.edit(&n2, 4);
    add(&mut batch, "B/own/n2v-e02.txt".into(), render(&e));
    let e = g.edit(&n2, 60);
    add(&mut batch, "B/own/n2v-e30.txt".into(), render(&e));

    let (p3, p4) = (g.passage(6), g.passage(6));
    let mut p1_edited: Vec<String> = p1.split(['\n', ' ']).map(str::to_owned).collect();
    p1_edited[35] = "qzxchanged".into();
    let p1_edited = p1_edited
        .chunks(10)
        .map(|l| l.join(" "))
        .collect::<Vec<_>>()
        .join("\n");
    let q = [
        ("q0.txt", g.around(100, &p0, 100)),
        ("q1.txt", g.around(70, &p1, 120)),
        ("q1-edited.txt", g.around(90, &p1_edited, 90)),
        ("q2.txt", g.around(80, &p2, 50)),
        ("q3a.txt", g.around(90, &p3, 90)),
        ("q3b.txt", g.around(60, &p3, 110)),
    ];
    for (name, text) in q {
        add(&mut batch, format!("B/pass/{name}"), text);
    }
    let mut q4 = g.around(50, &p4, 40);
    plant(&mut q4, &p4);
    q4.push_str(&g.text(30));
    add(&mut batch, "B/pass/q4.txt".into(), q4);

    for i in 0..10 {
        let text = g.text(150 + 10 * i);
        add(&mut batch, format!("B/unrel/u{i}.txt"), text);
    }

    let records = [
        g.text(130),
        corpus_text("C/base/060.txt"),
        render(&g.edit(&bases[61], 2)),
        g.around(60, &p1, 60),
        render(&n1),
    ];
    let mut jsonl = String::new();
    for (k, text) in records.iter().enumerate() {
        jsonl.push_str(&jsonl_line(&[
            ("id", Value::from(format!("r{}", k + 1))),
            ("text", Value::from(text.as_str())),
        ]));
    }
    t.file("B/recs.jsonl", &jsonl);
    let batch_docs = batch.len() + records.len();
    World {
        t,
        corpus,
        batch,
        batch_docs,
    }
}

// ---------------------------------------------------------------------------------------------
// Running dupsift.

/// `dupsift check --quiet --format json ARGS` in `t`: the exit code (0 or 1, asserted, and
/// agreeing with `passed`) and the verdict.
#[track_caller]
fn check_json(t: &TempCorpus, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["check", "--quiet", "--format", "json"];
    all.extend_from_slice(args);
    let run = t.run(&all);
    let code = run.code.unwrap_or(-1);
    assert!(
        code == 0 || code == 1,
        "check {args:?} exited with {:?}\nstderr:\n{}",
        run.code,
        run.stderr
    );
    let v: Value = serde_json::from_slice(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "the verdict is not JSON ({e}):\n{}",
            String::from_utf8_lossy(&run.stdout)
        )
    });
    assert_eq!(v["tool"], "dupsift", "{v}");
    assert_eq!(
        code == 0,
        v["passed"] == true,
        "the exit code disagrees with `passed`: {v}"
    );
    (code, v)
}

/// `dupsift index ARGS` in `t`, asserted to succeed.
#[track_caller]
fn index(t: &TempCorpus, args: &[&str]) -> Run {
    let mut all = vec!["index"];
    all.extend_from_slice(args);
    t.run(&all).success()
}

/// Runs `args` in `t`, asserting exit code 2 with exactly `message` on stderr (no panic, no
/// output).
#[track_caller]
fn refused(t: &TempCorpus, args: &[&str], message: &str) {
    let run = t.run(args).usage_error();
    assert!(!run.stderr.contains("panicked"), "{args:?}: {}", run.stderr);
    assert_eq!(run.stderr, message, "{args:?}");
}

fn read(t: &TempCorpus, rel: &str) -> Vec<u8> {
    std::fs::read(t.join(rel)).unwrap_or_else(|e| panic!("reading {rel}: {e}"))
}

/// Names in `dir` starting with a dot: what an interrupted or failed atomic write leaves.
fn hidden_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect()
}

/// As dupsift prints sizes.
fn human_bytes(n: u64) -> String {
    if n < 1000 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1000.0;
    let mut unit = 0;
    const UNITS: [&str; 5] = ["KB", "MB", "GB", "TB", "PB"];
    while v >= 999.95 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// `index info FILE`: its lines, with the load time (which varies) checked and cut off.
#[track_caller]
fn info(t: &TempCorpus, file: &str) -> Vec<String> {
    let run = index(t, &["info", file]);
    assert_eq!(run.stderr, "", "info prints nothing on stderr");
    let mut lines: Vec<String> = run.stdout_str().lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 4, "{lines:?}");
    let (head, time) = lines[2]
        .rsplit_once(", loaded in ")
        .unwrap_or_else(|| panic!("no load time: {}", lines[2]));
    let secs = time
        .strip_suffix(" s")
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("bad load time: {}", lines[2]));
    assert!((0.0..60.0).contains(&secs), "{}", lines[2]);
    lines[2] = head.to_owned();
    lines
}

/// The lines `index info` should print for `docs` (texts) in a file of `size` bytes.
fn expected_info(file: &str, texts: &[&str], size: u64, params: &str) -> Vec<String> {
    let words: usize = texts.iter().map(|t| ref_words(t).len()).sum();
    vec![
        format!("index {file}"),
        "format version 1, hash format 1".to_owned(),
        format!(
            "documents {}, words {words}, size {} ({} per document)",
            texts.len(),
            human_bytes(size),
            human_bytes(size / texts.len().max(1) as u64)
        ),
        format!("parameters: {params}"),
    ]
}

const DEFAULT_PARAMS: &str = "--unit word --ngram 5 --num-perm 128 --bands 18 --rows 6 --threshold 0.8 --seed 42 --scheme classic --min-passage 50";

// ---------------------------------------------------------------------------------------------
// Comparing findings.

/// A finding as compared between a check against an index and a full check: rule, place, the
/// original's document id and (for originals in the batch) its place, similarity, bytes and,
/// for duplicates, the fingerprint (content hashes, available from the index too).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Row {
    rule: String,
    path: String,
    line: u64,
    end_line: Option<u64>,
    original: String,
    /// The original's place when it is in the batch; `None` for a corpus document.
    original_place: Option<(String, u64, Option<u64>)>,
    similarity: String,
    bytes: u64,
    fingerprint: Option<String>,
}

fn end_line(p: &Value) -> Option<u64> {
    match &p["end_line"] {
        Value::Null => None,
        v => Some(v.as_u64().unwrap_or_else(|| panic!("bad end_line in {p}"))),
    }
}

/// The findings of `v` on documents under `B/`, as rows, originals named by their path. A
/// corpus original is known by its path in a full check and by its id against an index (at
/// line 1): `corpus_path` maps such an id to the path (`None` for a full check).
#[track_caller]
fn batch_rows(v: &Value, corpus_path: Option<&dyn Fn(&str) -> String>) -> BTreeSet<Row> {
    let mut rows = BTreeSet::new();
    for f in arr(v, "findings") {
        let (p, o) = (&f["place"], &f["original"]);
        if !s(p, "path").starts_with("B/") {
            assert!(
                corpus_path.is_none(),
                "against an index only the batch is judged: {f}"
            );
            continue;
        }
        let (opath, odoc) = (s(o, "path"), s(o, "doc"));
        let (original, original_place) = if opath.starts_with("B/") {
            let place = (opath.to_owned(), u(o, "line"), end_line(o));
            (opath.to_owned(), Some(place))
        } else if let Some(corpus_path) = corpus_path {
            assert_eq!(opath, odoc, "an indexed original is known by its id: {f}");
            assert_eq!((u(o, "line"), end_line(o)), (1, None), "{f}");
            (corpus_path(odoc), None)
        } else {
            assert!(opath.starts_with("C/"), "{f}");
            (opath.to_owned(), None)
        };
        let rule = s(f, "rule").to_owned();
        let fingerprint = (rule != "repeated-passage").then(|| s(f, "fingerprint").to_owned());
        let row = Row {
            rule,
            path: s(p, "path").to_owned(),
            line: u(p, "line"),
            end_line: end_line(p),
            original,
            original_place,
            similarity: f["similarity"].to_string(),
            bytes: u(f, "bytes"),
            fingerprint,
        };
        assert!(rows.insert(row.clone()), "a finding twice: {row:?}");
    }
    rows
}

fn show(rows: &BTreeSet<Row>) -> String {
    rows.iter().map(|r| format!("  {r:?}\n")).collect()
}

#[track_caller]
fn assert_same_rows(against: &BTreeSet<Row>, full: &BTreeSet<Row>, what: &str) {
    if against != full {
        panic!(
            "{what}: findings differ\nonly against the index:\n{}only in the full check:\n{}",
            show(&against.difference(full).cloned().collect()),
            show(&full.difference(against).cloned().collect()),
        );
    }
}

/// A row for a whole-document finding.
fn doc_row(rule: &str, path: &str, line: u64, original: &str) -> (String, String, u64, String) {
    (rule.into(), path.into(), line, original.into())
}

// ---------------------------------------------------------------------------------------------
// 1. Round trip: build, info, add.

#[test]
fn build_info_and_add_round_trip() {
    let w = world();
    let t = &w.t;
    let corpus: Vec<&str> = w.corpus.iter().map(|d| d.text.as_str()).collect();
    let run = index(t, &["build", "C", "-o", "c.dsx"]);
    let size = read(t, "c.dsx").len() as u64;
    assert_eq!(
        run.stderr,
        format!(
            "dupsift: indexed {} documents into c.dsx ({})\n",
            corpus.len(),
            human_bytes(size)
        )
    );
    assert!(run.stdout.is_empty());
    assert_eq!(
        info(t, "c.dsx"),
        expected_info("c.dsx", &corpus, size, DEFAULT_PARAMS)
    );

    // A second batch: the batch's files and the five records of its JSONL file.
    let run = index(t, &["add", "c.dsx", "B"]);
    let size = read(t, "c.dsx").len() as u64;
    let total = corpus.len() + w.batch_docs;
    assert_eq!(
        run.stderr,
        format!(
            "dupsift: added {} documents to c.dsx ({total} in all)\n",
            w.batch_docs
        )
    );
    let recs = std::fs::read_to_string(t.join("B/recs.jsonl")).unwrap();
    let rec_texts: Vec<String> = recs
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            s(&v, "text").to_owned()
        })
        .collect();
    let mut all = corpus.clone();
    all.extend(w.batch.iter().map(|d| d.text.as_str()));
    all.extend(rec_texts.iter().map(String::as_str));
    assert_eq!(all.len(), total);
    assert_eq!(
        info(t, "c.dsx"),
        expected_info("c.dsx", &all, size, DEFAULT_PARAMS)
    );

    // Non-default flags are stored and shown.
    t.dir("out");
    let pass: Vec<&str> = w
        .corpus
        .iter()
        .filter(|d| d.path.starts_with("C/pass/"))
        .map(|d| d.text.as_str())
        .collect();
    assert_eq!(pass.len(), 4);
    index(
        t,
        &[
            "build",
            "C/pass",
            "-o",
            "out/p.dsx",
            "--ngram",
            "4",
            "--seed",
            "7",
            "--no-passages",
            "--quiet",
        ],
    );
    let size = read(t, "out/p.dsx").len() as u64;
    let params = "--unit word --ngram 4 --num-perm 128 --bands 18 --rows 6 --threshold 0.8 --seed 7 --scheme classic --no-passages";
    assert_eq!(
        info(t, "out/p.dsx"),
        expected_info("out/p.dsx", &pass, size, params)
    );
    index(
        t,
        &[
            "build",
            "C/pass",
            "-o",
            "q.dsx",
            "--threshold",
            "0.9",
            "--num-perm",
            "64",
            "--bands",
            "8",
            "--rows",
            "8",
            "--min-passage",
            "30",
            "-q",
        ],
    );
    let size = read(t, "q.dsx").len() as u64;
    let params = "--unit word --ngram 5 --num-perm 64 --bands 8 --rows 8 --threshold 0.9 --seed 42 --scheme classic --min-passage 30";
    assert_eq!(
        info(t, "q.dsx"),
        expected_info("q.dsx", &pass, size, params)
    );

    // The parameters `info` prints are flags a check against the index accepts (as its error
    // message suggests), and `add` too.
    for (file, params) in [
        ("out/p.dsx", "--ngram 4 --seed 7 --no-passages"),
        (
            "q.dsx",
            "--unit word --ngram 5 --num-perm 64 --bands 8 --rows 8 --threshold 0.9 --seed 42 --scheme classic --min-passage 30",
        ),
    ] {
        let shown = info(t, file)[3].clone();
        let mut args: Vec<&str> = vec!["B/unrel", "--against", file];
        args.extend(shown.strip_prefix("parameters: ").unwrap().split(' '));
        let (code, v) = check_json(t, &args);
        assert_eq!((code, u(&v["figures"], "documents")), (0, 10), "{file}");
        let mut add = vec!["index", "add", file, "B/unrel", "-q"];
        add.extend(params.split(' '));
        t.run(&add).success();
    }
    let size = read(t, "q.dsx").len() as u64;
    let mut with_unrel = pass.clone();
    with_unrel.extend(
        w.batch
            .iter()
            .filter(|d| d.path.starts_with("B/unrel/"))
            .map(|d| d.text.as_str()),
    );
    assert_eq!(with_unrel.len(), 14);
    assert_eq!(
        info(t, "q.dsx"),
        expected_info(
            "q.dsx",
            &with_unrel,
            size,
            "--unit word --ngram 5 --num-perm 64 --bands 8 --rows 8 --threshold 0.9 --seed 42 --scheme classic --min-passage 30"
        )
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Equivalence with a full check.

/// Checking the batch against an index of the corpus reports, for the batch's documents, what a
/// full check of corpus and batch reports for them: the same duplicate documents with the same
/// originals and similarities, the same passage repeats at the same lines; the figures count
/// the batch only, and the limits give the same verdicts. The same holds for an index built in
/// two steps (`build` then `add`).
#[test]
fn check_against_an_index_finds_what_a_full_check_finds_in_the_batch() {
    let w = world();
    let t = &w.t;
    index(t, &["build", "C", "-o", "c.dsx", "--quiet"]);
    let (code, against) = check_json(t, &["B", "--against", "c.dsx"]);
    let (full_code, full) = check_json(t, &["C", "B"]);
    assert_eq!((code, full_code), (1, 1));
    let in_c = |id: &str| format!("C/{id}");
    let rows = batch_rows(&against, Some(&in_c));
    let full_rows = batch_rows(&full, None);
    assert_same_rows(&rows, &full_rows, "check B --against index(C) vs check C B");

    // The corpus shapes what is found: every kind of finding is there.
    let short: BTreeSet<_> = rows
        .iter()
        .map(|r| doc_row(&r.rule, &r.path, r.line, &r.original))
        .collect();
    let expected_present = [
        doc_row("exact-duplicate", "B/copy/050.txt", 1, "C/base/050.txt"),
        // A copy of a corpus copy points at the first document with its bytes.
        doc_row(
            "exact-duplicate",
            "B/copy/000-copy.txt",
            1,
            "C/base/000.txt",
        ),
        doc_row(
            "exact-duplicate",
            "B/copy/003-e01.txt",
            1,
            "C/var/003-e01.txt",
        ),
        doc_row("exact-duplicate", "B/copy/p2.txt", 1, "C/pass/p2.txt"),
        doc_row("exact-duplicate", "B/own/n1v-copy.txt", 1, "B/own/n1.txt"),
        doc_row("exact-duplicate", "B/recs.jsonl", 2, "C/base/060.txt"),
        doc_row("exact-duplicate", "B/recs.jsonl", 5, "B/own/n1.txt"),
        doc_row("near-duplicate", "B/near/020-e01.txt", 1, "C/base/020.txt"),
        doc_row("near-duplicate", "B/near/025-e01.txt", 1, "C/base/025.txt"),
        doc_row("near-duplicate", "B/own/n1v-e01.txt", 1, "B/own/n1.txt"),
        doc_row("near-duplicate", "B/own/n2v-e02.txt", 1, "B/own/n2.txt"),
        doc_row("near-duplicate", "B/recs.jsonl", 3, "C/base/061.txt"),
    ];
    for r in &expected_present {
        assert!(short.contains(r), "missing {r:?}\n{}", show(&rows));
    }
    // Heavily edited and unrelated documents have no finding (nor the unrelated record 1).
    for r in &short {
        assert!(
            !r.1.contains("-e25") && !r.1.contains("-e30") && !r.1.starts_with("B/unrel/"),
            "{r:?}"
        );
    }
    assert!(!short.iter().any(|r| r.1 == "B/recs.jsonl" && r.2 == 1));
    // Passage repeats: of corpus passages (also an edited copy and one of a passage repeated
    // inside a corpus document), of a new passage shared by two batch documents, and inside one
    // batch document.
    let passage_rows: Vec<&Row> = rows
        .iter()
        .filter(|r| r.rule == "repeated-passage")
        .collect();
    let with = |path: &str, original: &str| -> Vec<&Row> {
        passage_rows
            .iter()
            .copied()
            .filter(|r| r.path == path && r.original == original)
            .collect()
    };
    for (path, original) in [
        ("B/pass/q0.txt", "C/pass/p0a.txt"),
        ("B/pass/q1.txt", "C/pass/p1.txt"),
        ("B/pass/q1-edited.txt", "C/pass/p1.txt"),
        ("B/pass/q2.txt", "C/pass/p2.txt"),
        ("B/pass/q3b.txt", "B/pass/q3a.txt"),
        ("B/pass/q4.txt", "B/pass/q4.txt"),
        ("B/recs.jsonl", "C/pass/p1.txt"),
    ] {
        assert_eq!(
            with(path, original).len(),
            1,
            "{path} repeats a passage of {original}\n{}",
            show(&rows)
        );
    }
    // The line ranges of repeats in batch files: the planted passage's lines.
    let passage_line = |path: &str| -> u64 {
        let text = w.text_of(path);
        let first = text.lines().position(|l| !l.is_empty() && !l.contains('.'));
        1 + first.expect("a planted passage") as u64
    };
    let q3b = with("B/pass/q3b.txt", "B/pass/q3a.txt")[0];
    let (b, a) = (
        passage_line("B/pass/q3b.txt"),
        passage_line("B/pass/q3a.txt"),
    );
    assert_eq!((q3b.line, q3b.end_line), (b, Some(b + 5)));
    assert_eq!(
        q3b.original_place,
        Some(("B/pass/q3a.txt".to_owned(), a, Some(a + 5)))
    );
    let q0 = with("B/pass/q0.txt", "C/pass/p0a.txt")[0];
    let b = passage_line("B/pass/q0.txt");
    assert_eq!((q0.line, q0.end_line), (b, Some(b + 5)));
    let rec = with("B/recs.jsonl", "C/pass/p1.txt")[0];
    assert_eq!((rec.line, rec.end_line), (4, None), "a record's line");

    // Figures: the batch only; duplicates and passages as found for the batch by the full
    // check.
    let f = &against["figures"];
    let batch_bytes: usize = w.batch.iter().map(|d| d.text.len()).sum::<usize>() + {
        let recs = std::fs::read_to_string(t.join("B/recs.jsonl")).unwrap();
        recs.lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                s(&v, "text").len()
            })
            .sum::<usize>()
    };
    let dup_findings = full_rows
        .iter()
        .filter(|r| r.rule != "repeated-passage")
        .count() as u64;
    let full_passage_ids: BTreeSet<u64> = arr(&full, "findings")
        .iter()
        .filter(|x| x["rule"] == "repeated-passage" && s(&x["place"], "path").starts_with("B/"))
        .map(|x| u(x, "passage"))
        .collect();
    // Bytes in repeats in the batch, overlaps counted once: from the passages of a scan of
    // corpus and batch (each occurrence's byte range), every occurrence in the batch but a
    // passage's first, and but those in exact copies (they repeat their original's, and
    // are findings as exact duplicates).
    let copies: BTreeSet<&str> = full_rows
        .iter()
        .filter(|r| r.rule == "exact-duplicate")
        .map(|r| r.path.as_str())
        .collect();
    let scan = t.scan(&["C", "B"]);
    let mut ranges: Vec<(String, u64, u64)> = Vec::new();
    for p in arr(&scan, "passages") {
        let occ = arr(p, "occurrences");
        assert_eq!(u(p, "count"), occ.len() as u64, "all occurrences listed");
        for o in &occ[1..] {
            if !s(o, "doc").starts_with("C/") && !copies.contains(s(o, "doc")) {
                ranges.push((s(o, "doc").to_owned(), u(o, "start"), u(o, "end")));
            }
        }
    }
    ranges.sort();
    let mut repeat_bytes = 0;
    let mut cur: Option<(String, u64, u64)> = None;
    for (d, a, b) in ranges {
        match &mut cur {
            Some((cd, _, ce)) if *cd == d && a <= *ce => *ce = (*ce).max(b),
            _ => {
                if let Some((_, ca, ce)) = cur.take() {
                    repeat_bytes += ce - ca;
                }
                cur = Some((d, a, b));
            }
        }
    }
    if let Some((_, ca, ce)) = cur {
        repeat_bytes += ce - ca;
    }
    assert_eq!(
        (
            u(f, "documents"),
            u(f, "bytes"),
            u(f, "duplicate_documents"),
            u(f, "passages"),
            u(f, "passage_bytes"),
            u(f, "skipped"),
            u(f, "accepted"),
        ),
        (
            w.batch_docs as u64,
            batch_bytes as u64,
            dup_findings,
            full_passage_ids.len() as u64,
            repeat_bytes,
            0,
            0
        ),
        "{f}"
    );
    assert_eq!(
        f["duplicate_ratio"].as_f64(),
        Some(dup_findings as f64 / w.batch_docs as f64)
    );
    assert_eq!(
        f["passage_ratio"].as_f64(),
        Some(repeat_bytes as f64 / batch_bytes as f64)
    );
    assert_eq!(
        against["failures"],
        serde_json::json!([
            format!("{dup_findings} duplicate documents (no duplicate is accepted)"),
            format!(
                "{} repeated passages (no repeat is accepted)",
                full_passage_ids.len()
            ),
        ])
    );

    // Limits: the verdict turns exactly at the batch's ratios.
    let dup_ratio = dup_findings as f64 / w.batch_docs as f64;
    let passage_ratio = repeat_bytes as f64 / batch_bytes as f64;
    let verdict = |dup: f64, passage: f64| -> i32 {
        let (d, p) = (format!("{dup}"), format!("{passage}"));
        let args = [
            "B",
            "--against",
            "c.dsx",
            "--max-duplicate-ratio",
            &d,
            "--max-passage-ratio",
            &p,
        ];
        let (code, v) = check_json(t, &args);
        assert_eq!(u(&v["figures"], "duplicate_documents"), dup_findings);
        code
    };
    assert_eq!(verdict(dup_ratio, passage_ratio), 0);
    assert_eq!(verdict(dup_ratio * 0.99, 1.0), 1);
    assert_eq!(verdict(1.0, passage_ratio * 0.99), 1);
    assert_eq!(verdict(1.0, 1.0), 0);

    // An index built in two steps gives the findings of a full check of the same inputs.
    index(t, &["build", "C/base", "-o", "two.dsx", "-q"]);
    index(t, &["add", "two.dsx", "C/pass", "C/var", "-q"]);
    let (_, against2) = check_json(t, &["B", "--against", "two.dsx"]);
    let (_, full2) = check_json(t, &["C/base", "C/pass", "C/var", "B"]);
    // Ids in two.dsx: relative to C/base (the only input of the build), then the inputs of
    // the add as given (two inputs).
    let in_two = |id: &str| {
        if id.starts_with("C/") {
            id.to_owned()
        } else {
            format!("C/base/{id}")
        }
    };
    let rows2 = batch_rows(&against2, Some(&in_two));
    assert_same_rows(
        &rows2,
        &batch_rows(&full2, None),
        "against build+add vs full check",
    );
    // And the same findings as against the index built at once.
    assert_same_rows(&rows2, &rows, "two indexes");
}

/// `--verify estimate` is not stored in an index: a check against one must either refuse it
/// (exit 2) or find what a full check with it finds — never crash.
#[test]
fn check_against_an_index_with_estimated_verification_does_not_crash() {
    let w = world();
    let t = &w.t;
    index(t, &["build", "C", "-o", "c.dsx", "-q"]);
    let run = t.run(&[
        "check",
        "B",
        "--against",
        "c.dsx",
        "--verify",
        "estimate",
        "--format",
        "json",
        "-q",
    ]);
    assert!(
        !run.stderr.contains("panicked"),
        "check --against --verify estimate crashed (exit {:?}):\n{}",
        run.code,
        run.stderr.lines().take(3).collect::<Vec<_>>().join("\n")
    );
    match run.code {
        Some(2) => {
            let run = run.usage_error();
            assert!(run.stderr.contains("estimate"), "{}", run.stderr);
        }
        Some(0 | 1) => {
            let against: Value = serde_json::from_slice(&run.stdout).expect("JSON");
            let (_, full) = check_json(t, &["C", "B", "--verify", "estimate"]);
            assert_same_rows(
                &batch_rows(&against, Some(&|id: &str| format!("C/{id}"))),
                &batch_rows(&full, None),
                "--verify estimate",
            );
        }
        other => panic!("exit {other:?}: {}", run.stderr),
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Conflicting parameters.

#[test]
fn parameters_that_disagree_with_the_index_are_refused() {
    let t = TempCorpus::new();
    let mut g = Gen::new(3);
    for i in 0..6 {
        t.file(&format!("C/c{i}.txt"), g.text(120));
    }
    let words = g.words(200);
    t.file("C/n.txt", render(&words));
    t.file("B/n-e01.txt", render(&g.edit(&words, 1)));
    t.file("B/u.txt", g.text(150));
    index(&t, &["build", "C", "-o", "idx.dsx", "-q"]);
    let before = read(&t, "idx.dsx");
    let hint = "; rerun with the index's parameters (see `dupsift index info`)\n";
    let conflict = |lines: &[&str]| -> String {
        lines
            .iter()
            .map(|l| format!("dupsift: error: idx.dsx: {l}{hint}"))
            .collect()
    };
    let check = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = ["check", "B", "--against", "idx.dsx"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let cases: &[(&[&str], &[&str])] = &[
        (&["--ngram", "7"], &["ngram is 5 in the index, 7 here"]),
        (
            &["--no-passages"],
            &["min-passage is 50 in the index, off here"],
        ),
        (
            &["--min-passage", "60"],
            &["min-passage is 50 in the index, 60 here"],
        ),
        (&["--seed", "1"], &["seed is 42 in the index, 1 here"]),
        (
            &["--scheme", "oph"],
            &["scheme is classic in the index, oph here"],
        ),
        (
            &["--unit", "char"],
            &["unit is word in the index, char here"],
        ),
        (
            &["--num-perm", "256", "--bands", "18", "--rows", "6"],
            &["num-perm is 128 in the index, 256 here"],
        ),
        (
            &["--bands", "16", "--rows", "8"],
            &[
                "bands is 18 in the index, 16 here",
                "rows is 6 in the index, 8 here",
            ],
        ),
        (
            &["--threshold", "0.8000001", "--bands", "18", "--rows", "6"],
            &["threshold is 0.8 in the index, 0.8000001 here"],
        ),
        (
            &["--ngram", "3", "--seed", "9", "--no-passages"],
            &[
                "ngram is 5 in the index, 3 here",
                "seed is 42 in the index, 9 here",
                "min-passage is 50 in the index, off here",
            ],
        ),
    ];
    for (flags, lines) in cases {
        let args = check(flags);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        refused(&t, &args, &conflict(lines));
        // `index add` refuses the same flags and leaves the index as it was.
        let mut add = vec!["index", "add", "idx.dsx", "B"];
        add.extend_from_slice(flags);
        refused(&t, &add, &conflict(lines));
        assert_eq!(read(&t, "idx.dsx"), before, "{flags:?}");
    }
    assert!(
        hidden_files(t.path()).is_empty(),
        "{:?}",
        hidden_files(t.path())
    );

    // --keep other than first: the indexed document is the one kept.
    for keep in ["longest", "shortest"] {
        refused(
            &t,
            &["check", "B", "--against", "idx.dsx", "--keep", keep],
            "dupsift: error: --against keeps the indexed document: drop --keep\n",
        );
    }
    // Char shingles cannot be indexed; nothing is written.
    refused(
        &t,
        &["index", "build", "C", "-o", "char.dsx", "--unit", "char"],
        "dupsift: error: indexes store word hashes: --unit char cannot be indexed\n",
    );
    assert!(!t.join("char.dsx").exists());
    // A missing index: exit 2, named.
    let run = t
        .run(&["check", "B", "--against", "absent.dsx"])
        .usage_error();
    assert!(run.stderr.contains("absent.dsx"), "{}", run.stderr);

    // Flags that agree, given explicitly, and flags that do not change what is found, are
    // accepted: the same verdict as with the defaults.
    let (code, plain) = check_json(&t, &["B", "--against", "idx.dsx"]);
    assert_eq!(code, 1);
    // n-e01 is a near-duplicate of n, and so all of it a repeat of all of n.
    let found: Vec<(&str, &str, &str)> = arr(&plain, "findings")
        .iter()
        .map(|f| {
            (
                s(f, "rule"),
                s(&f["place"], "path"),
                s(&f["original"], "doc"),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("near-duplicate", "B/n-e01.txt", "n.txt"),
            ("repeated-passage", "B/n-e01.txt", "n.txt")
        ]
    );
    for extra in [
        &[
            "--keep",
            "first",
            "--bands",
            "18",
            "--rows",
            "6",
            "--num-perm",
            "128",
            "--threshold",
            "0.8",
            "--seed",
            "42",
            "--ngram",
            "5",
            "--unit",
            "word",
            "--min-passage",
            "50",
        ][..],
        &[
            "--max-occurrences",
            "3",
            "--threads",
            "1",
            "--verify",
            "exact",
        ][..],
    ] {
        let mut args = vec!["B", "--against", "idx.dsx"];
        args.extend_from_slice(extra);
        let (code, v) = check_json(&t, &args);
        assert_eq!((code, &v), (1, &plain), "{extra:?}");
    }
    index(
        &t,
        &["add", "idx.dsx", "B", "--seed", "42", "--ngram", "5", "-q"],
    );
    assert_ne!(read(&t, "idx.dsx"), before);
}

// ---------------------------------------------------------------------------------------------
// 4. Damaged and foreign files.

/// Byte offsets of an index's parts: (end of the header, start of each document record).
struct Layout {
    header_end: usize,
    docs: Vec<usize>,
}

/// Parses the layout documented in `src/index.rs` (independently of dupsift's reader).
fn layout(b: &[u8]) -> Layout {
    assert_eq!(&b[..8], b"DUPSIFTX");
    assert_eq!(u32::from_le_bytes(b[8..12].try_into().unwrap()), 1);
    let hl = u64::from_le_bytes(b[12..20].try_into().unwrap()) as usize;
    let header: Value = serde_json::from_slice(&b[20..20 + hl]).expect("a JSON header");
    let n = header["documents"].as_u64().expect("documents") as usize;
    let u32_at = |at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize;
    let mut at = 20 + hl;
    let mut docs = Vec::new();
    for _ in 0..n {
        docs.push(at);
        let (id, keys, fps, words) = (
            u32_at(at + 24),
            u32_at(at + 28),
            u32_at(at + 32),
            u32_at(at + 36),
        );
        at += 40 + id + 8 * keys + 12 * fps + 8 * words;
    }
    assert_eq!(at + 8, b.len(), "the layout accounts for every byte");
    assert_eq!(
        u64::from_le_bytes(b[at..].try_into().unwrap()),
        xxh3_64(&b[..at]),
        "the checksum"
    );
    Layout {
        header_end: 20 + hl,
        docs,
    }
}

/// `b` with its trailing checksum recomputed.
fn reseal(mut b: Vec<u8>) -> Vec<u8> {
    let n = b.len() - 8;
    let sum = xxh3_64(&b[..n]);
    b[n..].copy_from_slice(&sum.to_le_bytes());
    b
}

/// Every command that reads `file` refuses it with exit 2 and `why`, and `add` leaves it as it
/// was.
#[track_caller]
fn assert_unusable(t: &TempCorpus, file: &str, why: &str) {
    let before = read(t, file);
    let msg = format!("dupsift: error: {file}: {why}\n");
    refused(t, &["check", "B", "--against", file], &msg);
    refused(
        t,
        &["check", "B", "--against", file, "--format", "json"],
        &msg,
    );
    refused(t, &["index", "info", file], &msg);
    refused(t, &["index", "add", file, "B"], &msg);
    assert_eq!(read(t, file), before, "{file} changed");
}

#[test]
fn damaged_and_foreign_index_files_are_refused_never_a_panic() {
    let t = TempCorpus::new();
    let mut g = Gen::new(5);
    let p = g.passage(6);
    t.file("C/a.txt", g.around(80, &p, 40))
        .file("C/b.txt", g.text(150));
    t.file("B/c.txt", g.around(30, &p, 60));
    index(&t, &["build", "C", "-o", "good.dsx", "-q"]);
    let good = read(&t, "good.dsx");
    let lay = layout(&good);
    assert_eq!(lay.docs.len(), 2);
    let (code, _) = check_json(&t, &["B", "--against", "good.dsx"]);
    assert_eq!(code, 1, "the batch repeats a passage of the corpus");

    let foreign = "not a dupsift index (wrong magic number)";
    let truncated = "damaged index: truncated";
    let checksum = "damaged index: checksum mismatch (truncated or modified)";
    let mut cases: Vec<(String, Vec<u8>, String)> = vec![
        ("empty".into(), Vec::new(), foreign.into()),
        (
            "json".into(),
            br#"{"tool":"dupsift","documents":2}"#.to_vec(),
            foreign.into(),
        ),
        (
            "random".into(),
            (0..4096u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect(),
            foreign.into(),
        ),
        ("magic only".into(), good[..8].to_vec(), truncated.into()),
        ("cut 4".into(), good[..4].to_vec(), foreign.into()),
        ("cut 10".into(), good[..10].to_vec(), truncated.into()),
        (
            "cut 12".into(),
            good[..12].to_vec(),
            "damaged index: truncated header".into(),
        ),
        (
            "cut 27".into(),
            good[..27].to_vec(),
            "damaged index: truncated header".into(),
        ),
        ("cut 28".into(), good[..28].to_vec(), checksum.into()),
    ];
    for cut in [
        lay.header_end - 1,
        lay.header_end,
        lay.docs[1],
        good.len() / 2,
        good.len() - 9,
        good.len() - 8,
        good.len() - 1,
    ] {
        cases.push((format!("cut {cut}"), good[..cut].to_vec(), checksum.into()));
    }
    for at in [
        13,
        30,
        lay.header_end + 3,
        lay.docs[1] + 45,
        good.len() / 2,
        good.len() - 9,
        good.len() - 1,
    ] {
        let mut b = good.clone();
        b[at] ^= 0x10;
        cases.push((format!("flip {at}"), b, checksum.into()));
    }
    let mut b = good.clone();
    b[0] = b'd';
    cases.push(("flip magic".into(), b, foreign.into()));
    let mut b = good.clone();
    b[8..12].copy_from_slice(&2u32.to_le_bytes());
    cases.push((
        "version 2".into(),
        b.clone(),
        "index format version 2 is not supported (this dupsift reads version 1)".into(),
    ));
    // A version 2 file with a consistent checksum: refused for its version all the same.
    cases.push((
        "version 2, resealed".into(),
        reseal(b),
        "index format version 2 is not supported (this dupsift reads version 1)".into(),
    ));
    let mut extra = good[..good.len() - 8].to_vec();
    extra.extend_from_slice(b"junk");
    extra.extend_from_slice(&[0; 8]);
    cases.push((
        "trailing bytes".into(),
        reseal(extra),
        "damaged index: 4 unexpected bytes after the last document".into(),
    ));
    let mut b = good.clone();
    let hl = u64::from_le_bytes(b[12..20].try_into().unwrap()) as usize;
    let header = String::from_utf8(b[20..20 + hl].to_vec()).unwrap();
    assert!(header.contains("\"documents\":2"), "{header}");
    let more = header.replace("\"documents\":2", "\"documents\":3");
    b.splice(20..20 + hl, more.bytes());
    cases.push(("a document too many".into(), reseal(b), truncated.into()));

    for (k, (what, bytes, why)) in cases.iter().enumerate() {
        // The file's name tells the case in failure messages.
        let file = format!("bad{k}-{}.dsx", what.replace([' ', ','], "-"));
        t.file(&file, bytes);
        assert_unusable(&t, &file, why);
    }
    assert!(
        hidden_files(t.path()).is_empty(),
        "{:?}",
        hidden_files(t.path())
    );
    // A directory, or a file that cannot be read, is an error too.
    t.dir("dir.dsx");
    let run = t.run(&["check", "B", "--against", "dir.dsx"]).usage_error();
    assert!(
        run.stderr.starts_with("dupsift: error: reading dir.dsx"),
        "{}",
        run.stderr
    );
}

/// A file whose checksum is consistent but whose content is not (as a buggy writer or a crafted
/// file would make): refused or used, never a panic.
#[test]
fn an_index_with_a_valid_checksum_but_inconsistent_records_does_not_crash() {
    let t = TempCorpus::new();
    let mut g = Gen::new(6);
    let p = g.passage(6);
    t.file("C/a.txt", g.around(80, &p, 40))
        .file("C/b.txt", g.text(150));
    t.file("B/c.txt", g.around(30, &p, 60));
    index(&t, &["build", "C", "-o", "good.dsx", "-q"]);
    let good = read(&t, "good.dsx");
    let (code, _) = check_json(&t, &["B", "--against", "good.dsx"]);
    assert_eq!(code, 1, "the batch repeats a passage of a.txt");
    let lay = layout(&good);
    let at = lay.docs[0];
    let u32_at = |at: usize| u32::from_le_bytes(good[at..at + 4].try_into().unwrap()) as usize;
    let (id, keys, fps, words) = (
        u32_at(at + 24),
        u32_at(at + 28),
        u32_at(at + 32),
        u32_at(at + 36),
    );
    assert!(fps > 0 && words > 100, "a.txt has passage fingerprints");
    let fp_start = at + 40 + id + 8 * keys;
    // Fingerprints of a.txt at positions it does not have, or too near its end for a whole
    // passage seed, or shifted.
    // (position, words) -> new position.
    type Move = fn(u32, u32) -> u32;
    let variants: [(&str, Move); 5] = [
        ("past the end", |_, n| n + 1000),
        ("at u32::MAX", |_, _| u32::MAX),
        ("at the last word", |_, n| n - 1),
        ("ten words before the end", |_, n| n - 10),
        ("shifted by 7", |p, n| (p + 7).min(n - 1)),
    ];
    for (what, f) in variants {
        let mut b = good.clone();
        for k in 0..fps {
            let at = fp_start + 12 * k + 8;
            let pos = u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
            b[at..at + 4].copy_from_slice(&f(pos, words as u32).to_le_bytes());
        }
        t.file("fps.dsx", reseal(b));
        let run = t.run(&["check", "B", "--against", "fps.dsx", "-q"]);
        assert!(
            !run.stderr.contains("panicked") && matches!(run.code, Some(0..=2)),
            "fingerprints {what}: exit {:?}:\n{}",
            run.code,
            run.stderr.lines().take(3).collect::<Vec<_>>().join("\n")
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Atomic writes.

#[test]
fn index_files_are_written_whole_and_atomically() {
    let w = world();
    let t = &w.t;
    index(t, &["build", "C", "-o", "c-alone.dsx", "-q"]);
    index(t, &["build", "B", "-o", "b-alone.dsx", "-q"]);
    let (c, b) = (read(t, "c-alone.dsx"), read(t, "b-alone.dsx"));
    let (lc, lb) = (layout(&c), layout(&b));
    assert_eq!(
        (lc.docs.len(), lb.docs.len()),
        (w.corpus.len(), w.batch_docs)
    );

    // An existing, longer file (an index, if a damaged one: a file of another kind is refused)
    // is replaced whole.
    let mut longer = b"DUPSIFTX".to_vec();
    longer.resize(c.len() * 2, b'x');
    t.file("out/c.dsx", longer);
    index(t, &["build", "C", "-o", "out/c.dsx", "-q"]);
    assert!(
        read(t, "out/c.dsx") == c,
        "not the same index as a fresh build"
    );
    // Adding the batch: the corpus's header with the count of both, the corpus's records, the
    // batch's records (as an index of the batch alone has them), a new checksum.
    index(t, &["add", "out/c.dsx", "B", "-q"]);
    let added = read(t, "out/c.dsx");
    let header = std::str::from_utf8(&c[20..lc.header_end]).unwrap();
    let (nc, nb) = (lc.docs.len(), lb.docs.len());
    let count = format!("\"documents\":{nc}}}");
    assert!(header.ends_with(&count), "{header}");
    let header = header.replace(&count, &format!("\"documents\":{}}}", nc + nb));
    let mut want = c[..12].to_vec();
    want.extend_from_slice(&(header.len() as u64).to_le_bytes());
    want.extend_from_slice(header.as_bytes());
    want.extend_from_slice(&c[lc.header_end..c.len() - 8]);
    want.extend_from_slice(&b[lb.header_end..b.len() - 8]);
    want.extend_from_slice(&[0; 8]);
    assert!(
        added == reseal(want),
        "index add: not the corpus's records followed by the batch's"
    );
    assert_eq!(layout(&added).docs.len(), nc + nb);
    for dir in [t.path().to_path_buf(), t.join("out")] {
        assert!(hidden_files(&dir).is_empty(), "{}", dir.display());
    }
    let names: Vec<String> = std::fs::read_dir(t.join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["c.dsx"]);

    // Outputs that cannot be written: exit 2, nothing left behind.
    let run = t
        .run(&["index", "build", "C", "-o", "no/such/dir/c.dsx", "-q"])
        .usage_error();
    assert!(run.stderr.contains("no/such/dir"), "{}", run.stderr);
    t.dir("taken.dsx");
    t.run(&["index", "build", "C", "-o", "taken.dsx", "-q"])
        .usage_error();
    assert!(t.join("taken.dsx").is_dir());
    assert!(
        hidden_files(t.path()).is_empty(),
        "{:?}",
        hidden_files(t.path())
    );
    // A failed add (a binary input under --strict) leaves the index as it was.
    t.file("bad/x.bin", b"\x00\x01\x02binary\x00");
    let run = t
        .run(&["index", "add", "out/c.dsx", "B", "bad", "--strict", "-q"])
        .usage_error();
    assert!(run.stderr.contains("bad/x.bin"), "{}", run.stderr);
    assert!(
        read(t, "out/c.dsx") == added,
        "a failed add changed the index"
    );
    assert!(hidden_files(&t.join("out")).is_empty());
}

/// `--strict` stops `index build` and `index add` at the first bad input, exit 2, whatever the
/// input: a path that does not exist as much as a binary file. Nothing is written.
#[test]
fn strict_index_build_and_add_stop_at_a_path_that_does_not_exist() {
    let t = TempCorpus::new();
    let mut g = Gen::new(8);
    t.file("C/a.txt", g.text(100));
    index(&t, &["build", "C", "-o", "c.dsx", "-q"]);
    let before = read(&t, "c.dsx");
    let build = t.run(&["index", "build", "missing", "-o", "m.dsx", "--strict", "-q"]);
    let add = t.run(&["index", "add", "c.dsx", "missing", "--strict", "-q"]);
    assert_eq!(
        (build.code, add.code, t.join("m.dsx").exists()),
        (Some(2), Some(2), false),
        "--strict with a path that does not exist: index build (stderr {:?}) and index add \
         (stderr {:?}) must stop with exit 2, writing nothing",
        build.stderr,
        add.stderr
    );
    for run in [build, add] {
        let run = run.usage_error();
        assert!(run.stderr.contains("missing"), "{}", run.stderr);
    }
    assert!(read(&t, "c.dsx") == before);
}

/// Regression: a typo'd path made an empty index (exit 0) that every later check passed.
#[test]
fn index_build_and_add_refuse_a_path_that_does_not_exist_even_without_strict() {
    let t = TempCorpus::new();
    let mut g = Gen::new(9);
    t.file("C/a.txt", g.text(100));
    index(&t, &["build", "C", "-o", "c.dsx", "-q"]);
    let before = read(&t, "c.dsx");
    let build = t
        .run(&["index", "build", "typo", "-o", "m.dsx", "-q"])
        .usage_error();
    assert!(build.stderr.contains("typo"), "{}", build.stderr);
    assert!(!t.join("m.dsx").exists());
    let add = t
        .run(&["index", "add", "c.dsx", "typo", "-q"])
        .usage_error();
    assert!(add.stderr.contains("typo"), "{}", add.stderr);
    assert!(read(&t, "c.dsx") == before);
}

// ---------------------------------------------------------------------------------------------
// 6. The indexed corpus against itself; an unrelated batch.

#[test]
fn the_indexed_corpus_checked_again_is_all_exact_duplicates_and_new_text_passes() {
    let w = world();
    let t = &w.t;
    index(t, &["build", "C", "-o", "c.dsx", "-q"]);
    let (code, v) = check_json(t, &["C", "--against", "c.dsx"]);
    assert_eq!(code, 1);
    // Each document is an exact duplicate of the first indexed document with its bytes: itself,
    // or an earlier copy.
    let mut sorted: Vec<&Doc> = w.corpus.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    let mut first: BTreeMap<&str, &str> = BTreeMap::new();
    for d in &sorted {
        first
            .entry(d.text.as_str())
            .or_insert(&d.path["C/".len()..]);
    }
    let expected: Vec<(String, String, String, u64)> = sorted
        .iter()
        .map(|d| {
            (
                "exact-duplicate".to_owned(),
                d.path.clone(),
                first[d.text.as_str()].to_owned(),
                d.text.len() as u64,
            )
        })
        .collect();
    let mut got: Vec<(String, String, String, u64)> = arr(&v, "findings")
        .iter()
        .map(|f| {
            assert_eq!(f["similarity"], 1.0, "{f}");
            assert_eq!(f["original"]["path"], f["original"]["doc"], "{f}");
            (
                s(f, "rule").to_owned(),
                s(&f["place"], "path").to_owned(),
                s(&f["original"], "doc").to_owned(),
                u(f, "bytes"),
            )
        })
        .collect();
    got.sort();
    assert_eq!(got, expected);
    let copies = sorted
        .iter()
        .filter(|d| first[d.text.as_str()] != &d.path["C/".len()..])
        .count();
    assert_eq!(copies, 5, "the corpus's exact copies point at the first");
    let n = w.corpus.len() as u64;
    let bytes: u64 = w.corpus.iter().map(|d| d.text.len() as u64).sum();
    let f = &v["figures"];
    assert_eq!(
        (
            u(f, "documents"),
            u(f, "bytes"),
            u(f, "duplicate_documents"),
            u(f, "passages"),
            u(f, "passage_bytes")
        ),
        (n, bytes, n, 0, 0)
    );
    assert_eq!(f["duplicate_ratio"], 1.0);

    // Unrelated new documents pass.
    let (code, v) = check_json(t, &["B/unrel", "--against", "c.dsx"]);
    assert_eq!(code, 0);
    assert_eq!(arr(&v, "findings").len(), 0, "{v}");
    let unrel: Vec<&Doc> = w
        .batch
        .iter()
        .filter(|d| d.path.starts_with("B/unrel/"))
        .collect();
    let bytes: u64 = unrel.iter().map(|d| d.text.len() as u64).sum();
    let f = &v["figures"];
    assert_eq!(
        (
            u(f, "documents"),
            u(f, "bytes"),
            u(f, "duplicate_documents"),
            u(f, "passages"),
            u(f, "passage_bytes")
        ),
        (10, bytes, 0, 0, 0)
    );
    let run = t
        .run(&["check", "B/unrel", "--against", "c.dsx", "-q"])
        .success();
    assert_eq!(
        run.stdout_str(),
        "dupsift check: pass (10 documents, 0 duplicates = 0.00%, 0 repeated passages = 0.00% of bytes, 0 skipped)\n"
    );
}

// ---------------------------------------------------------------------------------------------
// 7. Determinism.

#[test]
fn index_files_and_checks_against_them_are_identical_across_thread_counts() {
    let w = world();
    let t = &w.t;
    index(t, &["build", "C", "-o", "one.dsx", "--threads", "1", "-q"]);
    index(t, &["build", "C", "-o", "two.dsx", "--threads", "2", "-q"]);
    let one = read(t, "one.dsx");
    assert!(
        one == read(t, "two.dsx"),
        "index build differs with 1 and 2 threads"
    );
    index(t, &["add", "one.dsx", "B", "--threads", "1", "-q"]);
    index(t, &["add", "two.dsx", "B", "--threads", "2", "-q"]);
    assert!(
        read(t, "one.dsx") == read(t, "two.dsx"),
        "index add differs with 1 and 2 threads"
    );
    std::fs::write(t.join("one.dsx"), &one).unwrap();
    let args = |threads: &'static str| {
        [
            "check",
            "B",
            "--against",
            "one.dsx",
            "--format",
            "json",
            "--threads",
            threads,
            "-q",
        ]
    };
    let a = t.run(&args("1"));
    let b = t.run(&args("2"));
    assert_eq!((a.code, b.code), (Some(1), Some(1)), "{}", a.stderr);
    assert!(
        a.stdout == b.stdout,
        "check --against differs with 1 and 2 threads\n--- 1\n{}\n--- 2\n{}",
        a.stdout_str(),
        b.stdout_str()
    );
}
