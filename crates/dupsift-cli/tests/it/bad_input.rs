//! Bad input: every unusable input is skipped with its path (and line) and a reason, the good
//! documents are all read, `--strict` stops with exit code 2 naming the input, and inputs are
//! never modified.

use serde_json::{Value, json};

use crate::util::*;

/// Texts of 120 words, unrelated to one another.
fn texts(seed: u64, n: usize) -> Vec<String> {
    let mut g = TextGen::new(seed);
    (0..n).map(|_| g.text(120)).collect()
}

/// A gzip stream cut short.
fn truncated_gzip(bytes: &[u8]) -> Vec<u8> {
    let mut z = gzip(bytes);
    z.truncate(z.len() * 6 / 10);
    z
}

/// A zstd stream cut short.
fn truncated_zstd(bytes: &[u8]) -> Vec<u8> {
    let mut z = zstd(bytes);
    z.truncate(z.len() * 6 / 10);
    z
}

/// The bad-input tree, under `in/`, and what is known about it.
struct BadTree {
    corpus: TempCorpus,
    /// Text bytes of the good documents, excluding `partial.jsonl.gz`'s records.
    good_bytes: u64,
    /// Text of each record of `partial.jsonl.gz`, in line order.
    partial_records: Vec<String>,
}

fn bad_tree() -> BadTree {
    let t = texts(11, 50);
    let corpus = TempCorpus::new();
    // Invalid UTF-8 between words: the same words as good-a.
    let mut lossy = t[0].clone().into_bytes();
    let at = lossy.iter().position(|&b| b == b' ').expect("a space");
    lossy.splice(at..at, b" \xff\xfe ".iter().copied());
    let jsonl = [
        jsonl_line(&[("id", json!("j1")), ("text", json!(t[2]))]),
        format!(
            "{{\"id\": \"j2\", \"text\": \"unterminated {}\n",
            &t[3][..40]
        ),
        jsonl_line(&[("id", json!("j3")), ("text", json!(t[4]))]),
        jsonl_line(&[("id", json!("j4")), ("body", json!("no text field"))]),
        "\n".to_owned(),
        jsonl_line(&[("id", json!("j6")), ("text", json!(3))]),
        "[1, 2]\n".to_owned(),
    ]
    .concat();
    let partial_records: Vec<String> = t[10..50].to_vec();
    let partial: String = partial_records
        .iter()
        .enumerate()
        .map(|(i, text)| jsonl_line(&[("id", json!(format!("p{}", i + 1))), ("text", json!(text))]))
        .collect();
    corpus
        .file("in/good-a.txt", &t[0])
        .file("in/good-b.txt", &t[1])
        .file("in/lossy.txt", &lossy)
        .file(
            "in/binary.dat",
            b"\x7fELF\x02\x01\x01\x00\x00\x00 some text after a NUL",
        )
        .file("in/empty.txt", b"")
        .file("in/data.jsonl", &jsonl)
        .file("in/truncated.txt.gz", truncated_gzip(t[5].as_bytes()))
        .file("in/corrupt.txt.zst", truncated_zstd(t[6].as_bytes()))
        .file("in/notgzip.gz", "plain text that only pretends to be gzip")
        .file("in/notzstd.zst", "plain text that only pretends to be zstd")
        .file("in/partial.jsonl.gz", truncated_gzip(partial.as_bytes()));
    let good_bytes = (t[0].len() + t[1].len() + lossy.len() + t[2].len() + t[4].len()) as u64;
    BadTree {
        corpus,
        good_bytes,
        partial_records,
    }
}

fn scan_bad_tree(tree: &BadTree) -> Value {
    tree.corpus.scan(&["in", "missing.txt"])
}

#[track_caller]
fn one_skip(r: &Value, path: &str) -> Skip {
    let mut k = skips_of(r, path);
    assert_eq!(k.len(), 1, "skips of {path}: {k:?}; all: {:#?}", skipped(r));
    k.remove(0)
}

#[test]
fn bad_inputs_are_skipped_with_reasons_and_good_documents_are_read() {
    let tree = bad_tree();
    let r = scan_bad_tree(&tree);

    let k = one_skip(&r, "in/binary.dat");
    assert!(k.reason.contains("binary"), "{k:?}");
    assert_eq!(k.line, None);
    let k = one_skip(&r, "in/empty.txt");
    assert!(k.reason.contains("empty"), "{k:?}");
    let k = one_skip(&r, "in/truncated.txt.gz");
    assert!(k.reason.contains("gzip"), "{k:?}");
    let k = one_skip(&r, "in/corrupt.txt.zst");
    assert!(k.reason.contains("zstd"), "{k:?}");
    let k = one_skip(&r, "in/notgzip.gz");
    assert_eq!(k.reason, "not a gzip stream");
    let k = one_skip(&r, "in/notzstd.zst");
    assert_eq!(k.reason, "not a zstd stream");
    let k = one_skip(&r, "missing.txt");
    assert_eq!(
        (k.line, k.reason.as_str()),
        (None, "no such file or directory")
    );

    // JSONL: each bad line is skipped with its number; the blank line 5 is ignored silently.
    let lines: Vec<(Option<u64>, String)> = skips_of(&r, "in/data.jsonl")
        .into_iter()
        .map(|k| (k.line, k.reason))
        .collect();
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert_eq!(lines[0].0, Some(2));
    assert!(lines[0].1.starts_with("malformed JSON"), "{lines:?}");
    assert_eq!(lines[1], (Some(4), r#"no "text" field"#.to_owned()));
    assert_eq!(lines[2], (Some(6), r#""text" is not a string"#.to_owned()));
    assert_eq!(lines[3].0, Some(7));
    assert!(lines[3].1.contains("not an object"), "{lines:?}");

    // A truncated compressed JSONL keeps the records read before the damage.
    let k = one_skip(&r, "in/partial.jsonl.gz");
    assert!(k.reason.contains("gzip"), "{k:?}");
    let after: usize = k
        .reason
        .split("after line ")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no line number in {k:?}"));
    assert!(
        (5..tree.partial_records.len()).contains(&after),
        "{after} records before the damage"
    );
    let partial_bytes: usize = tree.partial_records[..after].iter().map(String::len).sum();

    // good-a, good-b, lossy, j1, j3, and the partial records.
    assert_eq!(summary(&r, "documents"), 5 + after as u64);
    assert_eq!(summary(&r, "bytes"), tree.good_bytes + partial_bytes as u64);
    assert_eq!(summary(&r, "skipped"), 7 + 4 + 1);
    assert_eq!(summary(&r, "invalid_utf8_documents"), 1);

    // Invalid UTF-8 separates words and is otherwise ignored: the lossy file has good-a's words.
    let m = member(&r, "in/lossy.txt").expect("lossy.txt is clustered with good-a.txt");
    assert_eq!(
        cluster_with(&r, "in/lossy.txt").map(|c| s(c, "kept")),
        Some("in/good-a.txt")
    );
    assert_eq!(m["similarity"].as_f64(), Some(1.0));
    assert_eq!(m["exact"], false);
    assert_eq!(summary(&r, "clusters"), 1, "{:#?}", clusters(&r));
}

/// The report's `skipped` is documented as sorted by path, then line, wherever in the run each
/// problem was found (walking, reading or decoding).
#[test]
fn skipped_inputs_are_sorted_by_path_then_line() {
    let tree = bad_tree();
    let r = scan_bad_tree(&tree);
    let got: Vec<(String, Option<u64>)> =
        skipped(&r).into_iter().map(|k| (k.path, k.line)).collect();
    let expected: Vec<(String, Option<u64>)> = [
        ("in/binary.dat", None),
        ("in/corrupt.txt.zst", None),
        ("in/data.jsonl", Some(2)),
        ("in/data.jsonl", Some(4)),
        ("in/data.jsonl", Some(6)),
        ("in/data.jsonl", Some(7)),
        ("in/empty.txt", None),
        ("in/notgzip.gz", None),
        ("in/notzstd.zst", None),
        ("in/partial.jsonl.gz", None),
        ("in/truncated.txt.gz", None),
        ("missing.txt", None),
    ]
    .iter()
    .map(|&(p, l)| (p.to_owned(), l))
    .collect();
    assert_eq!(got, expected);
}

#[test]
fn bad_inputs_are_listed_in_the_text_report() {
    let tree = bad_tree();
    let text = tree
        .corpus
        .run(&["scan", "in", "missing.txt"])
        .success()
        .stdout_str();
    assert!(text.contains("Skipped 12 inputs:"), "{text}");
    assert!(text.contains("  in/data.jsonl:2: malformed JSON"), "{text}");
    assert!(text.contains("  in/binary.dat: binary file"), "{text}");
    assert!(
        text.contains("  missing.txt: no such file or directory"),
        "{text}"
    );
    assert!(text.contains("1 document had invalid UTF-8"), "{text}");
}

/// Each kind of bad input alone: skipped normally; with `--strict`, exit code 2, the input named
/// on stderr, and no report.
#[test]
fn strict_stops_at_each_kind_of_bad_input() {
    let good = texts(5, 1).remove(0);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("binary.dat", b"abc\x00def".to_vec(), "binary.dat"),
        ("empty.txt", Vec::new(), "empty.txt"),
        ("lossy.txt", b"caf\xe9 au lait".to_vec(), "lossy.txt"),
        (
            "data.jsonl",
            b"{\"text\": \"fine\"}\n{\"text\": oops}\n".to_vec(),
            "data.jsonl:2",
        ),
        (
            "notext.jsonl",
            b"{\"body\": \"x\"}\n".to_vec(),
            "notext.jsonl:1",
        ),
        ("cut.txt.gz", truncated_gzip(good.as_bytes()), "cut.txt.gz"),
        (
            "cut.txt.zst",
            truncated_zstd(good.as_bytes()),
            "cut.txt.zst",
        ),
        ("fake.gz", b"not gzip at all".to_vec(), "fake.gz"),
    ];
    for (name, bytes, named) in cases {
        let t = TempCorpus::new();
        t.file("d/good.txt", &good)
            .file(&format!("d/{name}"), &bytes);
        // Without --strict: skipped (invalid UTF-8 is read lossily, and counted).
        let r = t.scan(&["d"]);
        let (docs, skips) = match name {
            "lossy.txt" => (2, 0),
            "data.jsonl" => (2, 1),
            _ => (1, 1),
        };
        assert_eq!(
            (summary(&r, "documents"), summary(&r, "skipped")),
            (docs, skips),
            "{name}: {:?}",
            skipped(&r)
        );
        let run = t.run(&["scan", "--strict", "d"]).usage_error();
        assert!(
            run.stderr.contains(named),
            "{name}: stderr does not name {named}: {}",
            run.stderr
        );
        // -o: no report file appears when the scan stops.
        let run = t
            .run(&[
                "scan", "--strict", "--format", "json", "-o", "out.json", "d",
            ])
            .usage_error();
        assert!(run.stderr.contains(named), "{}", run.stderr);
        assert!(!t.join("out.json").exists(), "{name}: a report was written");
    }

    // A missing path argument, and a file over --max-doc-bytes.
    let t = TempCorpus::new();
    t.file("d/good.txt", &good);
    let run = t.run(&["scan", "--strict", "d", "nope.txt"]).usage_error();
    assert!(run.stderr.contains("nope.txt"), "{}", run.stderr);
    let run = t
        .run(&["scan", "--strict", "--max-doc-bytes", "100", "d"])
        .usage_error();
    assert!(run.stderr.contains("good.txt"), "{}", run.stderr);
    // And a clean input passes --strict.
    let r = t.scan(&["--strict", "d"]);
    assert_eq!(summary(&r, "documents"), 1);
}

#[test]
fn max_doc_bytes_skips_large_files_and_long_lines() {
    let t = TempCorpus::new();
    let small = "a small document of a few words";
    t.file("d/small.txt", small)
        .file("d/big.txt", "word ".repeat(1000))
        .file("d/big.txt.gz", gzip("word ".repeat(1000).as_bytes()))
        .file(
            "d/lines.jsonl",
            [
                jsonl_line(&[("id", json!("short")), ("text", json!(small))]),
                jsonl_line(&[("id", json!("long")), ("text", json!("x ".repeat(3000)))]),
                jsonl_line(&[
                    ("id", json!("short2")),
                    ("text", json!("another small one")),
                ]),
            ]
            .concat(),
        );
    let r = t.scan(&["d", "--max-doc-bytes", "4K"]);
    assert_eq!(summary(&r, "documents"), 3, "{:?}", skipped(&r));
    let k = one_skip(&r, "big.txt");
    assert!(k.reason.starts_with("file too large: 5000 bytes"), "{k:?}");
    assert!(k.reason.contains("4096"), "{k:?}");
    let k = one_skip(&r, "big.txt.gz");
    assert!(k.reason.starts_with("file too large"), "{k:?}");
    let k = one_skip(&r, "lines.jsonl");
    assert_eq!(k.line, Some(2));
    assert!(k.reason.starts_with("line too long"), "{k:?}");
    // Without the limit everything is read.
    let r = t.scan(&["d"]);
    assert_eq!((summary(&r, "documents"), summary(&r, "skipped")), (6, 0));
}

/// Files of punctuation only are documents without words: counted as empty, never
/// near-duplicates, but byte-identical ones are still exact duplicates.
#[test]
fn documents_without_words_only_cluster_when_identical() {
    let t = TempCorpus::new();
    t.file("d/p1.txt", "--- !!! ---\n")
        .file("d/p2.txt", "--- !!! ---\n")
        .file("d/p3.txt", "*** ??? ***\n")
        .file("d/r.jsonl", "{\"id\": \"blank\", \"text\": \"\"}\n");
    let r = t.scan(&["d"]);
    assert_eq!(summary(&r, "documents"), 4, "{:?}", skipped(&r));
    assert_eq!(summary(&r, "empty_documents"), 4);
    assert_eq!(
        clusters(&r),
        vec![vec!["p1.txt".to_owned(), "p2.txt".to_owned()]]
    );
    assert_eq!(
        member(&r, "p2.txt").map(|m| m["exact"].clone()),
        Some(json!(true))
    );
}

/// chmod 000 does not stop root (CI runs tests as root), so the outcome is checked against what
/// the file system actually allows: unreadable inputs are skipped with "permission denied", and
/// when they are readable after all they are read as documents.
#[cfg(unix)]
#[test]
fn unreadable_inputs_are_skipped_or_read_if_the_os_allows() {
    use std::os::unix::fs::PermissionsExt;
    let t = TempCorpus::new();
    let tx = texts(3, 3);
    t.file("d/ok.txt", &tx[0])
        .file("d/secret.txt", &tx[1])
        .file("d/locked/inner.txt", &tx[2]);
    let secret = t.join("d/secret.txt");
    let locked = t.join("d/locked");
    let mode = |p: &std::path::Path, m| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).expect("chmod")
    };
    mode(&secret, 0o000);
    mode(&locked, 0o000);
    let file_readable = std::fs::read(&secret).is_ok();
    let dir_readable = std::fs::read_dir(&locked).is_ok();
    let r = t.scan(&["d"]);
    let strict = t.run(&["scan", "--strict", "d"]);
    mode(&secret, 0o644);
    mode(&locked, 0o755);

    let expected_docs = 1 + u64::from(file_readable) + u64::from(dir_readable);
    assert_eq!(summary(&r, "documents"), expected_docs, "{:?}", skipped(&r));
    if file_readable {
        assert!(skips_of(&r, "secret.txt").is_empty());
    } else {
        assert_eq!(one_skip(&r, "secret.txt").reason, "permission denied");
    }
    if dir_readable {
        assert!(skips_of(&r, "locked").is_empty());
    } else {
        assert_eq!(one_skip(&r, "locked").reason, "permission denied");
    }
    if file_readable && dir_readable {
        strict.success();
    } else {
        let strict = strict.usage_error();
        assert!(
            strict.stderr.contains("permission denied"),
            "{}",
            strict.stderr
        );
    }
}

/// Scans only ever read: the input tree (bytes, mtimes, entries) is the same afterwards, whatever
/// the options and outcome.
#[test]
fn inputs_are_never_modified() {
    let tree = bad_tree();
    let inputs = tree.corpus.join("in");
    let before = snapshot(&inputs);
    let out = TempCorpus::new();
    let report = out.join("r.json");
    let report = report.to_str().expect("UTF-8 path");
    for args in [
        vec!["scan", "in", "missing.txt"],
        vec!["scan", "--format", "json", "-o", report, "in"],
        vec!["scan", "--strict", "in"],
        vec![
            "scan",
            "--verify",
            "estimate",
            "--hidden",
            "--gitignore",
            "-L",
            "in",
        ],
    ] {
        let run = tree.corpus.run(&args);
        assert!(matches!(run.code, Some(0 | 2)), "{args:?}: {run:?}");
        assert!(before == snapshot(&inputs), "{args:?} changed the inputs");
    }
    assert!(std::path::Path::new(report).exists());
}

/// Invalid UTF-8 inside a JSONL record: the record is read (lossily) and counted; `--strict`
/// stops and names the file and line, not the record's id.
#[test]
fn regression_strict_invalid_utf8_in_jsonl_names_the_file_and_line() {
    let t = TempCorpus::new();
    t.file(
        "d/data.jsonl",
        b"{\"id\": \"ok\", \"text\": \"fine text here\"}\n{\"id\": \"rec-7\", \"text\": \"caf\xe9 au lait\"}\n",
    );
    let r = t.scan(&["d"]);
    assert_eq!(summary(&r, "documents"), 2);
    assert_eq!(summary(&r, "invalid_utf8_documents"), 1);
    let run = t.run(&["scan", "--strict", "d"]).usage_error();
    assert!(
        run.stderr.contains("data.jsonl:2"),
        "stderr does not name data.jsonl:2: {}",
        run.stderr
    );
}

/// `index build --strict` and `index add --strict` refuse invalid UTF-8 as `scan --strict`
/// does (they used to index the document lossily and exit 0), naming the file and line; the
/// index file is then not written (or left as it was).
#[test]
fn regression_index_strict_refuses_invalid_utf8_like_scan() {
    let t = TempCorpus::new();
    t.file(
        "good/a.txt",
        b"a clean document with enough words to be indexed",
    );
    t.file(
        "d/data.jsonl",
        b"{\"id\": \"ok\", \"text\": \"fine text here\"}\n{\"id\": \"rec-7\", \"text\": \"caf\xe9 au lait\"}\n",
    );
    // Without --strict the record is indexed (lossily).
    t.run(&["index", "build", "d", "-o", "lenient.dsx"])
        .success();
    let run = t
        .run(&["index", "build", "--strict", "d", "-o", "strict.dsx"])
        .usage_error();
    assert!(
        run.stderr.contains("data.jsonl:2") && run.stderr.contains("invalid UTF-8"),
        "stderr does not name data.jsonl:2: {}",
        run.stderr
    );
    assert!(!t.path().join("strict.dsx").exists(), "no index is written");
    t.run(&["index", "build", "good", "-o", "good.dsx"])
        .success();
    let before = std::fs::read(t.path().join("good.dsx")).unwrap();
    let run = t
        .run(&["index", "add", "--strict", "good.dsx", "d"])
        .usage_error();
    assert!(run.stderr.contains("data.jsonl:2"), "{}", run.stderr);
    assert_eq!(std::fs::read(t.path().join("good.dsx")).unwrap(), before);
}
