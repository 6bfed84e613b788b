//! `dupsift clean`: a deduplicated copy of the corpus under OUT, with `manifest.jsonl` (one line
//! per removal or cut) and `report.json` (the scan report plus the cleanup's totals).
//!
//! Most tests run on one generated tree (see [`mixed`]) holding exact copies, near-duplicates
//! (1–2 words edited in 300), unrelated documents, a boilerplate passage planted in three
//! documents, the doubled-body seed article, a JSONL feed with bad lines, and bad files (binary,
//! empty, invalid UTF-8). Every expectation is computed from what the test planted.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::ops::Range;
use std::path::Path;

use serde_json::{Value, json};

use crate::util::*;
use dupsift::report::human_bytes;

const SEED_FILE: &str = "corpus/news/upi-article-doubled-body.txt";
const SEED: &str = "news/upi-article-doubled-body.txt";

/// The seed article: a body of 3879 bytes, a newline, and the same body again.
fn seed_bytes() -> Vec<u8> {
    let b = std::fs::read(crate_root().join(SEED_FILE)).expect("read the seed article");
    assert_eq!(b.len(), 7759, "the seed article changed");
    assert_eq!(b[..3879], b[3880..], "the seed article's body is doubled");
    b
}

// ---------------------------------------------------------------------------------------------
// Running `clean` and reading what it wrote.

/// `dupsift clean --quiet ARGS` in `dir`.
fn clean(dir: &Path, args: &[&str]) -> Run {
    let mut all = vec!["clean", "--quiet"];
    all.extend_from_slice(args);
    run_in(dir, &all)
}

/// Regular files under `root`, by relative path, with their bytes.
fn files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    assert!(root.is_dir(), "{} is not a directory", root.display());
    snapshot(root)
        .into_iter()
        .filter(|(rel, _)| {
            std::fs::symlink_metadata(root.join(rel))
                .expect("metadata")
                .is_file()
        })
        .map(|(rel, (_, bytes))| (rel.to_string_lossy().into_owned(), bytes))
        .collect()
}

fn names(f: &BTreeMap<String, Vec<u8>>) -> BTreeSet<String> {
    f.keys().cloned().collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// The lines of `OUT/manifest.jsonl`, parsed.
#[track_caller]
fn manifest(out: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(out.join("manifest.jsonl")).expect("read manifest.jsonl");
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "manifest.jsonl ends with a newline: {text:?}"
    );
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// `OUT/report.json`, parsed and checked like every report.
#[track_caller]
fn out_report(out: &Path) -> Value {
    let bytes = std::fs::read(out.join("report.json")).expect("read report.json");
    parse_report(&bytes)
}

/// `clean.totals` of a report.
#[track_caller]
fn totals(r: &Value) -> &Value {
    let t = &r["clean"]["totals"];
    assert!(t.is_object(), "no clean.totals in {r}");
    t
}

/// Names of the `.dupsift-*` entries in `dir` (temporary and set-aside directories).
fn leftovers(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".dupsift-"))
        .collect();
    v.sort();
    v
}

/// `snapshot(root)` without the subtree `rel` and without the modification time of `rel`'s
/// parent directory (creating OUT there changes it).
fn snapshot_without(root: &Path, rel: &str) -> Snapshot {
    let rel = Path::new(rel);
    let parent = rel.parent().unwrap_or(Path::new(""));
    snapshot(root)
        .into_iter()
        .filter(|(p, _)| !p.starts_with(rel))
        .map(|(p, (mtime, bytes))| {
            let mtime = if p == parent { None } else { mtime };
            (p, (mtime, bytes))
        })
        .collect()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    assert_eq!(bytes[..2], [0x1f, 0x8b], "not a gzip stream");
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("gunzip");
    out
}

fn unzstd(bytes: &[u8]) -> Vec<u8> {
    assert_eq!(bytes[..4], [0x28, 0xb5, 0x2f, 0xfd], "not a zstd stream");
    zstd::decode_all(bytes).expect("unzstd")
}

/// The similarity the report gives `doc` (a cluster member).
#[track_caller]
fn similarity(r: &Value, doc: &str) -> f64 {
    member(r, doc).unwrap_or_else(|| panic!("{doc} is not a cluster member"))["similarity"]
        .as_f64()
        .expect("similarity")
}

/// Index of the reported passage with an occurrence in `doc`.
#[track_caller]
fn passage_in(r: &Value, doc: &str) -> u64 {
    let found: Vec<u64> = arr(r, "passages")
        .iter()
        .filter(|p| arr(p, "occurrences").iter().any(|o| s(o, "doc") == doc))
        .map(|p| u(p, "id"))
        .collect();
    assert_eq!(found.len(), 1, "passages in {doc}: {found:?}");
    found[0]
}

/// A manifest line for a removed document.
fn removal(
    id: &str,
    source: &str,
    line: Option<u64>,
    exact: bool,
    kept: &str,
    sim: f64,
    bytes: usize,
) -> Value {
    json!({
        "id": id,
        "source": source,
        "line": line,
        "reason": if exact { "exact-duplicate" } else { "near-duplicate" },
        "duplicate_of": kept,
        "similarity": sim,
        "bytes": bytes,
    })
}

/// A manifest line for a cut.
fn cut_line(id: &str, source: &str, kept_in: &str, passage: u64, bytes: &Range<usize>) -> Value {
    json!({
        "id": id,
        "source": source,
        "line": null,
        "reason": "repeated-passage",
        "duplicate_of": kept_in,
        "similarity": 1.0,
        "bytes": bytes.end - bytes.start,
        "passage": passage,
        "start": bytes.start,
        "end": bytes.end,
    })
}

/// `text` without `range`.
fn without(text: &[u8], range: &Range<usize>) -> Vec<u8> {
    [&text[..range.start], &text[range.end..]].concat()
}

// ---------------------------------------------------------------------------------------------
// Generated corpora.

/// Filler with unique first and last words (so a passage alignment cannot run past a planted
/// copy), and passages.
struct Gen {
    g: TextGen,
    tags: usize,
}

impl Gen {
    fn new(seed: u64) -> Gen {
        Gen {
            g: TextGen::new(seed),
            tags: 0,
        }
    }

    fn tag(&mut self) -> String {
        self.tags += 1;
        format!("qzx{}", self.tags)
    }

    /// `n` words, bracketed by unique tags, rendered, ending with a newline.
    fn filler(&mut self, n: usize) -> String {
        let mut w = self.g.words(n);
        w[0] = self.tag();
        w[n - 1] = self.tag();
        render(&w)
    }

    /// A passage of `n` words, ending with its full stop (no newline).
    fn passage(&mut self, n: usize) -> String {
        render(&self.g.words(n)).trim_end().to_owned()
    }
}

/// The mixed tree, under `in/` (names below are relative to `in/`):
///
/// | file | what | cleanup (keep first) |
/// |---|---|---|
/// | a/1-orig.txt | 300 words | kept |
/// | a/2-copy.txt | exact copy of 1-orig | removed |
/// | b/3-near.txt | 1-orig with 2 words replaced | removed |
/// | b/4-other.txt | 300 words | kept |
/// | b/5-other-near.txt | 4-other with 1 word replaced | removed |
/// | bin.dat | NUL bytes | skipped, copied |
/// | boiler/{1,2,3}.txt | filler + the boilerplate passage + filler | kept |
/// | empty.txt | 0 bytes | skipped, copied |
/// | feed.jsonl | f1, malformed, blank, f4 (= f1), no text field | f1 kept, f4 removed |
/// | lossy.txt | invalid UTF-8 between words | kept |
/// | news/upi-article-doubled-body.txt | the seed | kept |
/// | unrelated/u{1,2}.txt | unrelated | kept |
struct Mixed {
    t: TempCorpus,
    /// Input files by name relative to `in/`.
    inputs: BTreeMap<String, Vec<u8>>,
    /// The boilerplate passage.
    boiler: String,
    /// Where it is in each boiler document.
    boiler_at: BTreeMap<String, Range<usize>>,
    /// Text of the records f1 and f4.
    feed_text: String,
    /// feed.jsonl as it should come out with f4 removed.
    feed_out: String,
}

const KEPT_TEXT: &[&str] = &[
    "a/1-orig.txt",
    "b/4-other.txt",
    "boiler/1.txt",
    "boiler/2.txt",
    "boiler/3.txt",
    "lossy.txt",
    SEED,
    "unrelated/u1.txt",
    "unrelated/u2.txt",
];
const SKIPPED_FILES: &[&str] = &["bin.dat", "empty.txt"];

fn mixed() -> Mixed {
    let mut g = Gen::new(4242);
    let orig_w = g.g.words(300);
    let other_w = g.g.words(300);
    let near = g.g.edit(&orig_w, 2);
    let other_near = g.g.edit(&other_w, 1);
    let boiler = g.passage(80);
    let mut inputs: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut put = |name: &str, bytes: Vec<u8>| {
        assert!(inputs.insert(name.to_owned(), bytes).is_none());
    };
    put("a/1-orig.txt", render(&orig_w).into_bytes());
    put("a/2-copy.txt", render(&orig_w).into_bytes());
    put("b/3-near.txt", render(&near).into_bytes());
    put("b/4-other.txt", render(&other_w).into_bytes());
    put("b/5-other-near.txt", render(&other_near).into_bytes());
    put(
        "bin.dat",
        b"\x7fELF\x02\x01\x01\x00\x00\x00 some text after a NUL\n".to_vec(),
    );
    let mut boiler_at = BTreeMap::new();
    for i in 1..=3 {
        let mut text = g.filler(60 + 10 * i);
        let start = text.len();
        text.push_str(&boiler);
        boiler_at.insert(format!("boiler/{i}.txt"), start..text.len());
        text.push('\n');
        text.push_str(&g.filler(50 + 7 * i));
        put(&format!("boiler/{i}.txt"), text.into_bytes());
    }
    put("empty.txt", Vec::new());
    let feed_text = g.filler(150);
    let lines = [
        jsonl_line(&[("id", json!("f1")), ("text", json!(feed_text))]),
        "{\"id\": \"f2\", \"text\": \"unterminated string\n".to_owned(),
        "\n".to_owned(),
        jsonl_line(&[("id", json!("f4")), ("text", json!(feed_text))]),
        jsonl_line(&[("id", json!("f5")), ("body", json!("no text field"))]),
    ];
    let feed_out = [&lines[0], &lines[1], &lines[2], &lines[4]]
        .map(String::as_str)
        .concat();
    put("feed.jsonl", lines.concat().into_bytes());
    let mut lossy = g.filler(150).into_bytes();
    let at = lossy.iter().position(|&b| b == b' ').expect("a space");
    lossy.splice(at..at, b" \xff\xfe ".iter().copied());
    assert!(std::str::from_utf8(&lossy).is_err());
    put("lossy.txt", lossy);
    put(SEED, seed_bytes());
    put("unrelated/u1.txt", g.filler(200).into_bytes());
    put("unrelated/u2.txt", g.filler(220).into_bytes());

    let t = TempCorpus::new();
    for (name, bytes) in &inputs {
        t.file(&format!("in/{name}"), bytes);
    }
    Mixed {
        t,
        inputs,
        boiler,
        boiler_at,
        feed_text,
        feed_out,
    }
}

impl Mixed {
    fn input(&self, name: &str) -> &[u8] {
        &self.inputs[name]
    }

    /// Bytes of text of every document (files, and JSONL text fields).
    fn bytes_in(&self) -> u64 {
        let files: usize = self
            .inputs
            .iter()
            .filter(|(n, _)| n.ends_with(".txt") && n.as_str() != "empty.txt")
            .map(|(_, b)| b.len())
            .sum();
        (files + 2 * self.feed_text.len()) as u64
    }

    /// The manifest lines of the removals, prefixing sources and ids with `prefix` (`in/` when
    /// the tree is given with other arguments). Similarities come from the report.
    fn removals(&self, r: &Value, prefix: &str) -> Vec<Value> {
        let p = |n: &str| format!("{prefix}{n}");
        let near = |doc: &str, kept: &str| {
            let sim = similarity(r, &p(doc));
            let text = |n: &str| String::from_utf8(self.input(n).to_vec()).expect("utf-8");
            let j = jaccard5(&text(kept), &text(doc));
            assert!(
                (sim - j).abs() <= 5.001e-5,
                "{doc}: reported {sim}, exact Jaccard {j}"
            );
            assert!((0.8..1.0).contains(&sim), "{doc}: {sim}");
            removal(
                &p(doc),
                &p(doc),
                None,
                false,
                &p(kept),
                sim,
                self.input(doc).len(),
            )
        };
        vec![
            removal(
                &p("a/2-copy.txt"),
                &p("a/2-copy.txt"),
                None,
                true,
                &p("a/1-orig.txt"),
                1.0,
                self.input("a/2-copy.txt").len(),
            ),
            near("b/3-near.txt", "a/1-orig.txt"),
            near("b/5-other-near.txt", "b/4-other.txt"),
            removal(
                "f4",
                &p("feed.jsonl"),
                Some(4),
                true,
                "f1",
                1.0,
                self.feed_text.len(),
            ),
        ]
    }
}

/// Checks the accounting of a cleanup from its report and what it wrote: `out_root` is where
/// the mirrored tree is, `prefix` the names' prefix there.
#[track_caller]
fn check_accounting(m: &Mixed, out: &Path, prefix: &str, extra_skips: u64) {
    let r = out_report(out);
    let t = totals(&r);
    let man = manifest(out);
    let (docs_in, kept, removed, skipped) = (
        u(t, "documents_in"),
        u(t, "kept"),
        u(t, "removed"),
        u(t, "skipped"),
    );
    let (bytes_in, bytes_out, bytes_removed, bytes_cut) = (
        u(t, "bytes_in"),
        u(t, "bytes_out"),
        u(t, "bytes_removed"),
        u(t, "bytes_cut"),
    );
    // 9 text documents kept, f1 kept; 3 text documents and f4 removed.
    assert_eq!((docs_in, kept, removed), (14, 10, 4), "{t}");
    // bin.dat, empty.txt, feed.jsonl lines 2 and 5, and the extra ones.
    assert_eq!(skipped, 4 + extra_skips, "{t}");
    assert_eq!(docs_in, kept + removed);
    assert_eq!(docs_in, summary(&r, "documents"));
    assert_eq!(skipped, summary(&r, "skipped"));
    assert_eq!(
        kept + removed + skipped,
        summary(&r, "documents") + summary(&r, "skipped")
    );
    assert_eq!(removed, summary(&r, "duplicate_documents"));
    assert_eq!(bytes_in, m.bytes_in());
    assert_eq!(bytes_in, summary(&r, "bytes"));
    assert_eq!(bytes_removed, summary(&r, "duplicate_bytes"));
    let (mut man_removed, mut man_cut, mut cut_docs) = (0, 0, BTreeSet::new());
    for l in &man {
        if s(l, "reason") == "repeated-passage" {
            man_cut += u(l, "bytes");
            cut_docs.insert(s(l, "id").to_owned());
        } else {
            man_removed += u(l, "bytes");
        }
    }
    assert_eq!(bytes_removed, man_removed, "removed bytes in the manifest");
    assert_eq!(bytes_cut, man_cut, "cut bytes in the manifest");
    assert_eq!(u(t, "cut_documents"), cut_docs.len() as u64);
    assert_eq!(bytes_out, bytes_in - bytes_removed - bytes_cut);
    // What was written: the kept text files, and the text fields of the kept records.
    let written = files(out);
    let mut actual = 0u64;
    for name in KEPT_TEXT {
        actual += written[&format!("{prefix}{name}")].len() as u64;
    }
    for line in written[&format!("{prefix}feed.jsonl")].split(|&b| b == b'\n') {
        if let Ok(Value::Object(o)) = serde_json::from_slice::<Value>(line)
            && let Some(Value::String(text)) = o.get("text")
        {
            actual += text.len() as u64;
        }
    }
    assert_eq!(bytes_out, actual, "bytes_out is what was written");
}

// ---------------------------------------------------------------------------------------------
// 1–3. The mirrored tree, the manifest, the accounting.

#[test]
fn directory_is_mirrored_with_kept_documents_and_skipped_inputs_only() {
    let m = mixed();
    let input_before = snapshot(&m.t.join("in"));
    let run = clean(m.t.path(), &["in", "-o", "out", "--strip-passages", "none"]).success();
    let out = m.t.join("out");

    let written = files(&out);
    let mut expected: BTreeSet<String> = set(KEPT_TEXT);
    expected.extend(set(SKIPPED_FILES));
    expected.extend(set(&["feed.jsonl", "manifest.jsonl", "report.json"]));
    assert_eq!(names(&written), expected);
    for name in KEPT_TEXT.iter().chain(SKIPPED_FILES) {
        assert!(
            written[*name] == m.input(name),
            "{name} is not a byte-identical copy"
        );
    }
    assert_eq!(
        String::from_utf8_lossy(&written["feed.jsonl"]),
        m.feed_out,
        "feed.jsonl: f4 removed, the bad and blank lines in place"
    );
    // The directories of the tree are mirrored.
    for dir in ["a", "b", "boiler", "news", "unrelated"] {
        assert!(out.join(dir).is_dir(), "{dir}");
    }
    assert_eq!(leftovers(m.t.path()), Vec::<String>::new());
    assert_eq!(snapshot(&m.t.join("in")), input_before, "inputs modified");

    let stdout = run.stdout_str();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert_eq!(
        lines[0],
        "documents: 14 in, 10 kept, 4 removed, 0 with passages cut; 4 inputs skipped by the scan (those that could be read are copied as they were)"
    );
    let r = out_report(&out);
    let t = totals(&r);
    assert_eq!(
        lines[1],
        format!(
            "bytes: {} in, {} out, {} in removed documents, 0 B cut",
            human_bytes(u(t, "bytes_in")),
            human_bytes(u(t, "bytes_out")),
            human_bytes(u(t, "bytes_removed"))
        )
    );
    assert_eq!(lines[2], "wrote out (with manifest.jsonl and report.json)");
}

#[test]
fn manifest_has_one_line_per_removed_document() {
    let m = mixed();
    clean(m.t.path(), &["in", "-o", "out", "--strip-passages", "none"]).success();
    let out = m.t.join("out");
    let r = out_report(&out);
    assert_eq!(manifest(&out), m.removals(&r, ""));
    // The report is the scan's, with the cleanup's section.
    assert_eq!(r["clean"]["strip_passages"], "none");
    assert_eq!(r["clean"]["dry_run"], false);
    assert_eq!(
        clusters(&r),
        vec![
            vec!["a/1-orig.txt", "a/2-copy.txt", "b/3-near.txt"],
            vec!["b/4-other.txt", "b/5-other-near.txt"],
            vec!["f1", "f4"],
        ]
    );
}

#[test]
fn manifest_lists_cut_passages_with_strip_passages_all() {
    let m = mixed();
    clean(m.t.path(), &["in", "-o", "out", "--strip-passages", "all"]).success();
    let out = m.t.join("out");
    let r = out_report(&out);
    assert_eq!(r["clean"]["strip_passages"], "all");
    let boiler_p = passage_in(&r, "boiler/1.txt");
    assert_eq!(passage_in(&r, "boiler/3.txt"), boiler_p);
    let seed_p = passage_in(&r, SEED);
    let rem = m.removals(&r, "");
    let cut = |i: usize| {
        let doc = format!("boiler/{i}.txt");
        cut_line(&doc, &doc, "boiler/1.txt", boiler_p, &m.boiler_at[&doc])
    };
    // Removals and cuts interleaved in document order.
    let expected = vec![
        rem[0].clone(),
        rem[1].clone(),
        rem[2].clone(),
        cut(2),
        cut(3),
        rem[3].clone(),
        cut_line(SEED, SEED, SEED, seed_p, &(3880..7759)),
    ];
    assert_eq!(manifest(&out), expected);
    let t = totals(&r);
    assert_eq!(u(t, "cut_documents"), 3);
    assert_eq!(u(t, "bytes_cut"), (3879 + 2 * m.boiler.len()) as u64);
}

#[test]
fn accounting_adds_up_with_bad_inputs_mixed_in() {
    let m = mixed();
    // Two arguments: names are prefixed with the argument; missing.txt is one more skip.
    clean(
        m.t.path(),
        &["in", "missing.txt", "-o", "out", "--strip-passages", "none"],
    )
    .success();
    let out = m.t.join("out");
    check_accounting(&m, &out, "in/", 1);
    let t = totals(&out_report(&out)).clone();
    assert_eq!((u(&t, "bytes_cut"), u(&t, "cut_documents")), (0, 0));
    // Nothing cut: bytes_out is the size of the kept text files plus the kept text fields.
    let kept_files: u64 = KEPT_TEXT.iter().map(|n| m.input(n).len() as u64).sum();
    assert_eq!(u(&t, "bytes_out"), kept_files + m.feed_text.len() as u64);
    assert_eq!(manifest(&out), m.removals(&out_report(&out), "in/"));

    // With cuts.
    clean(
        m.t.path(),
        &[
            "in",
            "missing.txt",
            "-o",
            "out-cut",
            "--strip-passages",
            "all",
        ],
    )
    .success();
    let out = m.t.join("out-cut");
    check_accounting(&m, &out, "in/", 1);
    let t = totals(&out_report(&out)).clone();
    assert_eq!(u(&t, "bytes_cut"), (3879 + 2 * m.boiler.len()) as u64);
    assert_eq!(
        u(&t, "bytes_out"),
        kept_files + m.feed_text.len() as u64 - u(&t, "bytes_cut")
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Which document of a cluster survives.

#[test]
fn keep_policy_chooses_the_surviving_file() {
    let mut g = TextGen::new(77);
    let w = g.words(300);
    let mut long_w = w.clone();
    long_w.extend(g.words(6));
    let mid = render(&w);
    let long = render(&long_w);
    let short = render(&w[..294]);
    assert!(long.len() > mid.len() && mid.len() > short.len());
    let t = TempCorpus::new();
    t.file("in/1-mid.txt", &mid)
        .file("in/2-long.txt", &long)
        .file("in/3-short.txt", &short);
    let text = |n: &str| match n {
        "1-mid.txt" => &mid,
        "2-long.txt" => &long,
        _ => &short,
    };
    for (keep, survivor) in [
        ("first", "1-mid.txt"),
        ("longest", "2-long.txt"),
        ("shortest", "3-short.txt"),
    ] {
        let out_name = format!("out-{keep}");
        clean(t.path(), &["in", "-o", &out_name, "--keep", keep]).success();
        let out = t.join(&out_name);
        let written = files(&out);
        assert_eq!(
            names(&written),
            set(&[survivor, "manifest.jsonl", "report.json"]),
            "--keep {keep}"
        );
        assert_eq!(written[survivor], text(survivor).as_bytes());
        let r = out_report(&out);
        assert_eq!(r["params"]["keep"], keep);
        let expected: Vec<Value> = ["1-mid.txt", "2-long.txt", "3-short.txt"]
            .into_iter()
            .filter(|d| *d != survivor)
            .map(|d| {
                let sim = similarity(&r, d);
                let j = jaccard5(text(survivor), text(d));
                assert!(
                    (sim - j).abs() <= 5.001e-5,
                    "{d}: reported {sim}, exact {j}"
                );
                removal(d, d, None, false, survivor, sim, text(d).len())
            })
            .collect();
        assert_eq!(manifest(&out), expected, "--keep {keep}");
    }
}

// ---------------------------------------------------------------------------------------------
// 5. JSONL in, JSONL out.

/// A JSONL feed with ids `{p}1`.. and what a cleanup writes of it: lines 6 (exact copy of 1) and
/// 7 (near-duplicate of 1) go; blank, whitespace, malformed and non-object lines stay in place;
/// CRLF endings and a last line without a newline are kept as they are.
struct Feed {
    input: String,
    output: String,
    /// (id, line, exact, bytes) of the removed records; all duplicates of `{p}1`.
    removed: Vec<(String, u64, bool, usize)>,
    texts: BTreeMap<String, String>,
}

fn feed(p: &str, seed: u64) -> Feed {
    let mut g = TextGen::new(seed);
    let a_w = g.words(300);
    let a = render(&a_w);
    let a_near = render(&g.edit(&a_w, 2));
    let b = g.text(250);
    let c = g.text(260);
    let crlf = |l: String| format!("{}\r\n", l.trim_end_matches('\n'));
    let lines = [
        jsonl_line(&[("id", json!(format!("{p}1"))), ("text", json!(a))]),
        crlf(jsonl_line(&[
            ("id", json!(format!("{p}2"))),
            ("text", json!(b)),
        ])),
        "\n".to_owned(),
        "  \r\n".to_owned(),
        format!("{{\"id\": \"{p}5\", \"text\": \"unterminated\n"),
        jsonl_line(&[("id", json!(format!("{p}6"))), ("text", json!(a))]),
        crlf(jsonl_line(&[
            ("id", json!(format!("{p}7"))),
            ("text", json!(a_near)),
        ])),
        "[1, 2]\n".to_owned(),
        format!(
            "{{\"id\": \"{p}9\", \"extra\": {{\"n\": 1}}, \"text\": {}}}",
            json!(c)
        ),
    ];
    let output = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| ![5, 6].contains(i))
        .map(|(_, l)| l.as_str())
        .collect();
    let texts = [("1", &a), ("2", &b), ("6", &a), ("7", &a_near), ("9", &c)]
        .into_iter()
        .map(|(n, t)| (format!("{p}{n}"), t.clone()))
        .collect();
    Feed {
        input: lines.concat(),
        output,
        removed: vec![
            (format!("{p}6"), 6, true, a.len()),
            (format!("{p}7"), 7, false, a_near.len()),
        ],
        texts,
    }
}

#[test]
fn jsonl_outputs_keep_lines_in_order_and_follow_the_compression() {
    let plain = feed("p", 501);
    let gz = feed("g", 502);
    let zst = feed("z", 503);
    let notes = TextGen::new(504).text(200);
    let t = TempCorpus::new();
    t.file("in/plain.jsonl", &plain.input)
        .file("in/gz.jsonl.gz", gzip(gz.input.as_bytes()))
        .file("in/zst.jsonl.zst", zstd(zst.input.as_bytes()))
        .file("in/notes.txt.gz", gzip(notes.as_bytes()));
    let input_before = snapshot(&t.join("in"));
    let feeds = [
        ("plain.jsonl", &plain),
        ("gz.jsonl.gz", &gz),
        ("zst.jsonl.zst", &zst),
    ];

    // As the inputs.
    clean(t.path(), &["in", "-o", "out"]).success();
    let out = t.join("out");
    let w = files(&out);
    assert_eq!(
        names(&w),
        set(&[
            "gz.jsonl.gz",
            "manifest.jsonl",
            "notes.txt.gz",
            "plain.jsonl",
            "report.json",
            "zst.jsonl.zst"
        ])
    );
    assert!(w["plain.jsonl"] == plain.output.as_bytes(), "plain.jsonl");
    assert!(
        gunzip(&w["gz.jsonl.gz"]) == gz.output.as_bytes(),
        "gz.jsonl.gz"
    );
    assert!(
        unzstd(&w["zst.jsonl.zst"]) == zst.output.as_bytes(),
        "zst.jsonl.zst"
    );
    assert_eq!(gunzip(&w["notes.txt.gz"]), notes.as_bytes());

    let r = out_report(&out);
    let expected: Vec<Value> = feeds
        .iter()
        .flat_map(|(source, f)| {
            f.removed.iter().map(|(id, line, exact, bytes)| {
                let sim = if *exact { 1.0 } else { similarity(&r, id) };
                let kept = format!("{}1", &id[..1]);
                if !exact {
                    let j = jaccard5(&f.texts[&kept], &f.texts[id]);
                    assert!((sim - j).abs() <= 5.001e-5, "{id}: {sim} vs {j}");
                }
                removal(id, source, Some(*line), *exact, &kept, sim, *bytes)
            })
        })
        .collect();
    // Document order: gz.jsonl.gz, plain.jsonl, zst.jsonl.zst.
    let mut expected = expected;
    expected.sort_by_key(|l| (s(l, "source").to_owned(), u(l, "line")));
    assert_eq!(manifest(&out), expected);
    let tt = totals(&r);
    // 5 records in each feed, and notes.
    assert_eq!(
        (u(tt, "documents_in"), u(tt, "kept"), u(tt, "removed")),
        (16, 10, 6)
    );
    // Lines 5 and 8 of each feed; blank lines are not skips.
    assert_eq!(u(tt, "skipped"), 6);

    // --compress none: uncompressed, names without the compression extension.
    clean(t.path(), &["in", "-o", "out-none", "--compress", "none"]).success();
    let w = files(&t.join("out-none"));
    assert_eq!(
        names(&w),
        set(&[
            "gz.jsonl",
            "manifest.jsonl",
            "notes.txt",
            "plain.jsonl",
            "report.json",
            "zst.jsonl"
        ])
    );
    assert!(w["plain.jsonl"] == plain.output.as_bytes());
    assert!(w["gz.jsonl"] == gz.output.as_bytes());
    assert!(w["zst.jsonl"] == zst.output.as_bytes());
    assert_eq!(w["notes.txt"], notes.as_bytes());

    // --compress zst and gz: every file in that codec.
    for (codec, ext) in [("zst", ".zst"), ("gz", ".gz")] {
        let name = format!("out-{codec}");
        clean(t.path(), &["in", "-o", &name, "--compress", codec]).success();
        let w = files(&t.join(&name));
        let stems = ["gz.jsonl", "notes.txt", "plain.jsonl", "zst.jsonl"];
        let mut expected: BTreeSet<String> = stems.iter().map(|s| format!("{s}{ext}")).collect();
        expected.extend(set(&["manifest.jsonl", "report.json"]));
        assert_eq!(names(&w), expected, "--compress {codec}");
        let decode = |b: &[u8]| if codec == "zst" { unzstd(b) } else { gunzip(b) };
        for (stem, want) in [
            ("gz.jsonl", gz.output.as_bytes()),
            ("notes.txt", notes.as_bytes()),
            ("plain.jsonl", plain.output.as_bytes()),
            ("zst.jsonl", zst.output.as_bytes()),
        ] {
            assert!(
                decode(&w[&format!("{stem}{ext}")]) == want,
                "--compress {codec}: {stem}"
            );
        }
    }
    assert_eq!(snapshot(&t.join("in")), input_before, "inputs modified");
}

// ---------------------------------------------------------------------------------------------
// 6. Cutting passages.

#[test]
fn strip_passages_self_writes_the_seed_body_once() {
    let seed = seed_bytes();
    let t = TempCorpus::new();
    let other = TextGen::new(61).text(200);
    t.file(&format!("in/{SEED}"), &seed)
        .file("in/other.txt", &other);

    clean(t.path(), &["in", "-o", "out", "--strip-passages", "self"]).success();
    let out = t.join("out");
    let w = files(&out);
    assert_eq!(
        names(&w),
        set(&[SEED, "other.txt", "manifest.jsonl", "report.json"])
    );
    assert_eq!(w[SEED].len(), 3880);
    assert!(w[SEED] == seed[..3880], "the body once, with its newline");
    assert!(w[SEED].ends_with(b"briefing.\n"));
    assert_eq!(w["other.txt"], other.as_bytes());
    let r = out_report(&out);
    assert_eq!(
        manifest(&out),
        vec![cut_line(SEED, SEED, SEED, 0, &(3880..7759))]
    );
    let tt = totals(&r);
    assert_eq!(
        [
            "documents_in",
            "kept",
            "removed",
            "cut_documents",
            "bytes_in",
            "bytes_out",
            "bytes_removed",
            "bytes_cut"
        ]
        .map(|k| u(tt, k)),
        [
            2,
            2,
            0,
            1,
            7759 + other.len() as u64,
            3880 + other.len() as u64,
            0,
            3879
        ]
    );
    assert_eq!(r["clean"]["strip_passages"], "self");

    // By default the seed's repeat is cut as with `self`; `none` copies it whole.
    clean(t.path(), &["in", "-o", "out-default"]).success();
    assert_eq!(
        manifest(&t.join("out-default")),
        manifest(&t.join("out")),
        "the default cuts self-repeats"
    );
    clean(
        t.path(),
        &["in", "-o", "out-none", "--strip-passages", "none"],
    )
    .success();
    assert!(files(&t.join("out-none"))[SEED] == seed);
    assert_eq!(manifest(&t.join("out-none")), Vec::<Value>::new());
}

#[test]
fn strip_passages_all_keeps_boilerplate_in_the_first_document_only() {
    let m = mixed();
    clean(m.t.path(), &["in", "-o", "out", "--strip-passages", "all"]).success();
    let w = files(&m.t.join("out"));
    let boiler = m.boiler.as_bytes();
    let contains = |hay: &[u8]| hay.windows(boiler.len()).any(|x| x == boiler);
    assert!(
        w["boiler/1.txt"] == m.input("boiler/1.txt"),
        "the first copy stays"
    );
    assert!(contains(&w["boiler/1.txt"]));
    for doc in ["boiler/2.txt", "boiler/3.txt"] {
        assert!(!contains(&w[doc]), "{doc} still holds the boilerplate");
        assert!(
            w[doc] == without(m.input(doc), &m.boiler_at[doc]),
            "{doc}: exactly the passage's bytes are cut"
        );
    }
    assert!(w[SEED] == seed_bytes()[..3880]);
    // Documents without passages are untouched.
    for doc in [
        "a/1-orig.txt",
        "b/4-other.txt",
        "lossy.txt",
        "unrelated/u1.txt",
    ] {
        assert!(w[doc] == m.input(doc), "{doc}");
    }
    assert_eq!(String::from_utf8_lossy(&w["feed.jsonl"]), m.feed_out);

    // `self` does not cut copies across documents.
    clean(
        m.t.path(),
        &["in", "-o", "out-self", "--strip-passages", "self"],
    )
    .success();
    let w = files(&m.t.join("out-self"));
    for doc in ["boiler/1.txt", "boiler/2.txt", "boiler/3.txt"] {
        assert!(w[doc] == m.input(doc), "--strip-passages self cut {doc}");
    }
    assert!(w[SEED] == seed_bytes()[..3880]);
}

/// One JSONL line whose text field is cut: `prefix`, the text value, `suffix`.
struct CutLine {
    prefix: String,
    suffix: String,
    text: String,
}

impl CutLine {
    fn line(&self) -> String {
        format!("{}{}{}", self.prefix, json!(self.text), self.suffix)
    }
}

/// Checks that `got` is `line` with only the text field's value changed, to `text`.
#[track_caller]
fn check_cut_line(got: &[u8], line: &[u8], prefix: &[u8], suffix: &[u8], text: &str) {
    assert!(
        got.starts_with(prefix),
        "the bytes before the text value changed:\n{}\n{}",
        String::from_utf8_lossy(got),
        String::from_utf8_lossy(line)
    );
    assert!(
        got.ends_with(suffix),
        "the bytes after the text value changed:\n{}",
        String::from_utf8_lossy(&got[got.len().saturating_sub(suffix.len() + 20)..])
    );
    let value = &got[prefix.len()..got.len() - suffix.len()];
    let decoded: String = serde_json::from_slice(value)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(value)));
    assert_eq!(decoded, text);
}

#[test]
fn jsonl_cut_changes_only_the_text_field() {
    let mut g = Gen::new(808);
    let passage = g.passage(100);
    let text1 = format!("{}{passage}\n{}", g.filler(60), g.filler(40));
    // Escapes, non-ASCII and a CRLF line ending around the cut.
    let head = "caf\u{e9} \u{2014} \"na\u{ef}ve\"\tend\n";
    let text2 = format!("{head}{}{passage}\n{}", g.filler(70), g.filler(30));
    let start = text2.find(&passage).expect("planted");
    let range = start..start + passage.len();
    let line1 = jsonl_line(&[("id", json!("j1")), ("text", json!(text1))]);
    let l2 = CutLine {
        prefix: "{\"z\": 1, \"id\": \"j2\", \"text\": ".to_owned(),
        suffix: ", \"meta\": {\"k\": [1, 2], \"s\": \"caf\\u00e9\"}, \"n\": 2.50}\r\n".to_owned(),
        text: text2.clone(),
    };
    let line2 = l2.line();
    let line3 = jsonl_line(&[("id", json!("j3")), ("text", json!(g.filler(120)))]);
    let t = TempCorpus::new();
    t.file(
        "in/feed.jsonl",
        [&line1, &line2, &line3].map(String::as_str).concat(),
    );

    clean(t.path(), &["in", "-o", "out", "--strip-passages", "all"]).success();
    let out = t.join("out");
    let got = std::fs::read(out.join("feed.jsonl")).expect("feed.jsonl");
    let got_lines: Vec<&[u8]> = got.split_inclusive(|&b| b == b'\n').collect();
    assert_eq!(got_lines.len(), 3);
    assert_eq!(got_lines[0], line1.as_bytes());
    assert_eq!(got_lines[2], line3.as_bytes());
    let expected_text = String::from_utf8(without(text2.as_bytes(), &range)).expect("utf-8");
    check_cut_line(
        got_lines[1],
        line2.as_bytes(),
        l2.prefix.as_bytes(),
        l2.suffix.as_bytes(),
        &expected_text,
    );
    // Parsed, every field but the text is the same.
    let mut before: serde_json::Map<String, Value> =
        serde_json::from_str(&line2).expect("line 2 is JSON");
    let mut after: serde_json::Map<String, Value> =
        serde_json::from_slice(got_lines[1]).expect("the cut line is JSON");
    assert_eq!(after.remove("text"), Some(json!(expected_text)));
    before.remove("text");
    assert_eq!(after, before);

    let r = out_report(&out);
    let p = passage_in(&r, "j2");
    assert_eq!(
        manifest(&out),
        vec![json!({
            "id": "j2",
            "source": "feed.jsonl",
            "line": 2,
            "reason": "repeated-passage",
            "duplicate_of": "j1",
            "similarity": 1.0,
            "bytes": passage.len(),
            "passage": p,
            "start": range.start,
            "end": range.end,
        })]
    );
    assert_eq!(u(totals(&r), "bytes_cut"), passage.len() as u64);
}

/// A JSONL line with invalid UTF-8 outside its text field: the decoder reads the line lossily,
/// but a cut must still leave every byte outside the text field as it was.
#[test]
fn jsonl_cut_keeps_invalid_utf8_outside_the_text_field() {
    let mut g = Gen::new(809);
    let body = g.passage(100);
    let text = format!("{}{body}\n{body}\n", g.filler(40));
    let prefix = b"{\"id\": \"l1\", \"meta\": \"x\xffy\", \"text\": ".to_vec();
    let suffix = b", \"tail\": \"\xfe\"}\n".to_vec();
    let line = [&prefix[..], json!(text).to_string().as_bytes(), &suffix[..]].concat();
    let t = TempCorpus::new();
    t.file("in/lossy.jsonl", &line);

    clean(t.path(), &["in", "-o", "out", "--strip-passages", "self"]).success();
    let got = std::fs::read(t.join("out/lossy.jsonl")).expect("lossy.jsonl");
    let second = text.rfind(&body).expect("second copy");
    let expected =
        String::from_utf8(without(text.as_bytes(), &(second..second + body.len()))).expect("utf-8");
    check_cut_line(&got, &line, &prefix, &suffix, &expected);
}

/// A UTF-8 byte order mark before the first line is not JSON (the reader skips it); cutting
/// that line must keep it and everything else outside the text field.
#[test]
fn jsonl_cut_on_a_first_line_after_a_byte_order_mark() {
    let mut g = Gen::new(810);
    let body = g.passage(100);
    let text = format!("{}{body}\n{body}\n", g.filler(40));
    let prefix = b"\xef\xbb\xbf{\"id\": \"b1\", \"text\": ".to_vec();
    let suffix = b"}\n".to_vec();
    let line = [&prefix[..], json!(text).to_string().as_bytes(), &suffix[..]].concat();
    let t = TempCorpus::new();
    t.file("in/bom.jsonl", &line);

    let run = clean(t.path(), &["in", "-o", "out", "--strip-passages", "self"]);
    let run = run.success();
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    let got = std::fs::read(t.join("out/bom.jsonl")).expect("bom.jsonl");
    let second = text.rfind(&body).expect("second copy");
    let expected =
        String::from_utf8(without(text.as_bytes(), &(second..second + body.len()))).expect("utf-8");
    check_cut_line(&got, &line, &prefix, &suffix, &expected);
}

// ---------------------------------------------------------------------------------------------
// 7. Dry run.

#[test]
fn dry_run_prints_the_plan_and_writes_nothing() {
    let m = mixed();
    // The real run first, for its figures.
    clean(m.t.path(), &["in", "-o", "real", "--strip-passages", "all"]).success();
    let real = m.t.join("real");
    let r = out_report(&real);
    let t = totals(&r).clone();
    let before = snapshot(m.t.path());

    let run = clean(
        m.t.path(),
        &["in", "-o", "out", "--dry-run", "--strip-passages", "all"],
    )
    .success();
    assert!(!m.t.join("out").exists(), "a dry run wrote OUT");
    assert_eq!(snapshot(m.t.path()), before, "a dry run changed the tree");
    assert_eq!(leftovers(m.t.path()), Vec::<String>::new());

    let sim = |d: &str| format!("{:.3}", similarity(&r, d));
    let size = |d: &str| human_bytes(m.input(d).len() as u64);
    let boiler_p = passage_in(&r, "boiler/1.txt");
    let seed_p = passage_in(&r, SEED);
    let cut = |d: &str| {
        let b = &m.boiler_at[d];
        format!(
            "cut     {d}  bytes {}..{}  ({}, passage {boiler_p} kept in boiler/1.txt)",
            b.start,
            b.end,
            human_bytes((b.end - b.start) as u64)
        )
    };
    let expected = [
        format!(
            "remove  a/2-copy.txt  ({}, exact duplicate of a/1-orig.txt, similarity 1.000)",
            size("a/2-copy.txt")
        ),
        format!(
            "remove  b/3-near.txt  ({}, near-duplicate of a/1-orig.txt, similarity {})",
            size("b/3-near.txt"),
            sim("b/3-near.txt")
        ),
        format!(
            "remove  b/5-other-near.txt  ({}, near-duplicate of b/4-other.txt, similarity {})",
            size("b/5-other-near.txt"),
            sim("b/5-other-near.txt")
        ),
        format!(
            "remove  f4  ({}, exact duplicate of f1, similarity 1.000)",
            human_bytes(m.feed_text.len() as u64)
        ),
        cut("boiler/2.txt"),
        cut("boiler/3.txt"),
        format!("cut     {SEED}  bytes 3880..7759  (3.9 KB, passage {seed_p} kept in {SEED})"),
        "documents: 14 in, 10 kept, 4 would be removed, 3 with passages would be cut; 4 inputs skipped by the scan (those that could be read are copied as they were)".to_owned(),
        format!(
            "bytes: {} in, {} out, {} in removed documents, {} cut",
            human_bytes(u(&t, "bytes_in")),
            human_bytes(u(&t, "bytes_out")),
            human_bytes(u(&t, "bytes_removed")),
            human_bytes(u(&t, "bytes_cut"))
        ),
        "dry run: nothing written".to_owned(),
    ];
    assert_eq!(run.stdout_str(), expected.map(|l| l + "\n").concat());

    // Without OUT too.
    let run = clean(m.t.path(), &["in", "--dry-run"]).success();
    assert!(run.stdout_str().ends_with("dry run: nothing written\n"));
    assert_eq!(snapshot(m.t.path()), before);
}

// ---------------------------------------------------------------------------------------------
// 8. Refusals.

/// Runs a cleanup that must be refused: exit 2, `message` on stderr, nothing changed under
/// `root`.
#[track_caller]
fn refused(root: &Path, cwd: &Path, args: &[&str], message: &str) {
    let before = snapshot(root);
    let run = clean(cwd, args).usage_error();
    assert!(
        run.stderr.contains(message),
        "expected {message:?} in:\n{}",
        run.stderr
    );
    assert_eq!(snapshot(root), before, "a refused run changed something");
}

#[test]
fn output_inside_an_input_or_containing_one_is_refused() {
    let t = TempCorpus::new();
    let mut g = TextGen::new(88);
    t.file("data/in/a.txt", g.text(200))
        .file("data/in/b.txt", g.text(200))
        .file("data/in/sub/c.txt", g.text(200));
    let root = t.path();
    refused(
        root,
        root,
        &["data/in", "-o", "data/in/out"],
        "dupsift: error: data/in/out is inside the input data/in: choose an output outside the inputs",
    );
    refused(
        root,
        root,
        &["data/in", "-o", "data/in/sub/deeper/out", "--force"],
        "is inside the input data/in",
    );
    refused(
        root,
        root,
        &["data/in", "-o", "data/in", "--force"],
        "is inside the input",
    );
    // One input among several, given as a file.
    refused(
        root,
        root,
        &["data/in/a.txt", "data/in/b.txt", "-o", "data/in/b.txt/x"],
        "is inside the input",
    );
    // An input inside OUT: replacing OUT would delete it.
    refused(
        root,
        root,
        &["data/in", "-o", "data", "--force"],
        "dupsift: error: the input data/in is inside the output data",
    );
    refused(
        &root.join("data"),
        &root.join("data"),
        &["in", "-o", ".", "--force"],
        "the input in is inside the output .",
    );
    // A sibling whose name starts like the input's is not inside it.
    clean(root, &["data/in", "-o", "data/in-clean"]).success();
    assert_eq!(
        names(&files(&root.join("data/in-clean"))),
        set(&[
            "a.txt",
            "b.txt",
            "sub/c.txt",
            "manifest.jsonl",
            "report.json"
        ])
    );
}

#[test]
fn existing_output_needs_force_and_is_replaced_whole() {
    let t = TempCorpus::new();
    let mut g = TextGen::new(89);
    let (a, b) = (g.text(200), g.text(200));
    t.file("in/a.txt", &a)
        .file("in/b.txt", &b)
        .file("out/old.txt", "an old output")
        .file("out/sub/old2.txt", "another")
        .file("file-out", "a file where OUT would go")
        .dir("empty-out");
    let root = t.path();
    let input_before = snapshot(&t.join("in"));
    refused(
        root,
        root,
        &["in", "-o", "out"],
        "dupsift: error: out exists and is not empty (use --force to replace it)",
    );
    refused(
        root,
        root,
        &["in", "-o", "file-out"],
        "dupsift: error: file-out exists and is not a directory",
    );

    // An existing empty directory is fine.
    clean(root, &["in", "-o", "empty-out"]).success();
    assert_eq!(
        names(&files(&t.join("empty-out"))),
        set(&["a.txt", "b.txt", "manifest.jsonl", "report.json"])
    );

    // --force replaces OUT: the old files are gone.
    clean(root, &["in", "-o", "out", "--force"]).success();
    let w = files(&t.join("out"));
    assert_eq!(
        names(&w),
        set(&["a.txt", "b.txt", "manifest.jsonl", "report.json"])
    );
    assert_eq!(w["a.txt"], a.as_bytes());
    assert_eq!(w["b.txt"], b.as_bytes());
    assert!(!t.join("out/sub").exists());
    assert_eq!(leftovers(root), Vec::<String>::new());
    assert_eq!(snapshot(&t.join("in")), input_before);
}

/// Without a path, `clean` reads `corpus` in the current directory: the output checks must
/// apply to that input too.
#[test]
fn default_corpus_input_is_checked_against_the_output() {
    let t = TempCorpus::new();
    let mut g = TextGen::new(90);
    t.file("work/corpus/a.txt", g.text(200))
        .file("work/corpus/b.txt", g.text(200));
    let work = t.join("work");
    refused(
        t.path(),
        &work,
        &["-o", "corpus/out"],
        "is inside the input corpus",
    );
}

/// The same with OUT the current directory and --force: replacing OUT would delete the input.
#[test]
fn default_corpus_input_is_not_deleted_by_force() {
    let t = TempCorpus::new();
    let mut g = TextGen::new(91);
    t.file("work/corpus/a.txt", g.text(200))
        .file("work/corpus/b.txt", g.text(200));
    let work = t.join("work");
    let before = snapshot(t.path());
    let out = work.to_str().expect("UTF-8 temporary path").to_owned();
    let run = clean(&work, &["-o", &out, "--force"]);
    assert!(
        work.join("corpus/a.txt").is_file() && work.join("corpus/b.txt").is_file(),
        "the input corpus was deleted; now under work/: {:?}\nstdout: {}",
        names(&files(&work)),
        run.stdout_str()
    );
    let run = run.usage_error();
    assert!(
        run.stderr.contains("is inside the output"),
        "{}",
        run.stderr
    );
    assert_eq!(
        snapshot(t.path()),
        before,
        "a refused run changed something"
    );
}

// ---------------------------------------------------------------------------------------------
// 9. Interrupted runs.

/// Runs `clean ARGS` in `dir` with the abort hook after `n` files; returns its exit status.
fn aborted_clean(dir: &Path, args: &[&str], n: u32) -> std::process::ExitStatus {
    let mut cmd = dupsift();
    cmd.current_dir(dir)
        .env("DUPSIFT_ABORT_AFTER_FILES", n.to_string())
        .arg("clean")
        .arg("--quiet")
        .args(args);
    cmd.output().expect("run dupsift").status
}

#[track_caller]
fn assert_aborted(status: std::process::ExitStatus) {
    assert!(!status.success(), "the run was not interrupted: {status:?}");
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(6), "killed by SIGABRT: {status:?}");
    }
}

/// Leftovers of an interrupted run: only `.dupsift-clean-*` directories, none of them looking
/// complete (no report.json, no manifest.jsonl).
#[track_caller]
fn check_leftovers(dir: &Path) {
    for name in leftovers(dir) {
        assert!(name.starts_with(".dupsift-clean-"), "{name}");
        let w = files(&dir.join(&name));
        assert!(
            !w.contains_key("report.json") && !w.contains_key("manifest.jsonl"),
            "{name}: {:?}",
            names(&w)
        );
    }
}

#[test]
fn interrupted_run_leaves_no_output() {
    let m = mixed();
    let root = m.t.path();
    let input_before = snapshot(&m.t.join("in"));
    let status = aborted_clean(root, &["in", "-o", "out", "--strip-passages", "none"], 2);
    assert_aborted(status);
    assert!(!m.t.join("out").exists(), "an interrupted run left OUT");
    assert_eq!(snapshot(&m.t.join("in")), input_before, "inputs modified");
    // An abort runs no destructor: the temporary directory beside OUT may remain (today it does,
    // holding the 2 files written), but never looks like a finished output.
    check_leftovers(root);

    // An existing OUT, replaced with --force by a run that is interrupted, stays as it was.
    m.t.file("prev/keep.txt", "the previous output\n");
    let prev_before = snapshot(&m.t.join("prev"));
    let status = aborted_clean(
        root,
        &["in", "-o", "prev", "--force", "--strip-passages", "all"],
        3,
    );
    assert_aborted(status);
    assert_eq!(snapshot(&m.t.join("prev")), prev_before, "OUT changed");
    assert_eq!(snapshot(&m.t.join("in")), input_before, "inputs modified");
    let left = leftovers(root);
    assert!(
        left.iter().all(|n| !n.starts_with(".dupsift-old-")),
        "the previous OUT was set aside: {left:?}"
    );
    check_leftovers(root);

    // A later complete run is not disturbed by the leftovers.
    clean(
        root,
        &["in", "-o", "prev", "--strip-passages", "none", "--force"],
    )
    .success();
    assert_eq!(
        manifest(&m.t.join("prev")),
        m.removals(&out_report(&m.t.join("prev")), "")
    );
}

// ---------------------------------------------------------------------------------------------
// 10. Paths stay inside OUT.

#[test]
fn odd_file_names_are_mirrored_and_ids_do_not_name_files() {
    let mut g = TextGen::new(100);
    let t = TempCorpus::new();
    let odd = [
        ("with space.txt", "with space.txt"),
        ("ünïcödé-文書.txt", "ünïcödé-文書.txt"),
        ("-leading-dash.txt", "-leading-dash.txt"),
        ("tab\there.txt", "tab_here.txt"),
        ("back\\slash.txt", "back_slash.txt"),
        ("sub dir/x .txt", "sub dir/x .txt"),
    ];
    let mut texts = BTreeMap::new();
    for (name, _) in odd {
        let text = g.text(150);
        t.file(&format!("in/{name}"), &text);
        texts.insert(name, text);
    }
    let evil_text = g.text(150);
    let evil = [
        jsonl_line(&[("id", json!("../../evil")), ("text", json!(evil_text))]),
        jsonl_line(&[("id", json!("/etc/passwd")), ("text", json!(evil_text))]),
        jsonl_line(&[("id", json!("..")), ("text", json!(g.text(150)))]),
    ]
    .concat();
    t.file("in/ids.jsonl", &evil);
    let before = snapshot(t.path());

    clean(t.path(), &["in", "-o", "out"]).success();
    let w = files(&t.join("out"));
    let mut expected: BTreeSet<String> = odd.iter().map(|(_, o)| (*o).to_owned()).collect();
    expected.extend(set(&["ids.jsonl", "manifest.jsonl", "report.json"]));
    assert_eq!(names(&w), expected);
    for (name, out_name) in odd {
        assert_eq!(w[out_name], texts[name].as_bytes(), "{name}");
    }
    let second_line = evil.split_inclusive('\n').nth(1).expect("line 2");
    assert_eq!(w["ids.jsonl"], evil.replacen(second_line, "", 1).as_bytes());
    // The names that changed are in the manifest, before the removals.
    let renamed = |from: &str, to: &str| json!({"source": from, "reason": "renamed", "output": to});
    assert_eq!(
        manifest(&t.join("out")),
        vec![
            renamed("back\\slash.txt", "back_slash.txt"),
            renamed("tab\there.txt", "tab_here.txt"),
            removal(
                "/etc/passwd",
                "ids.jsonl",
                Some(2),
                true,
                "../../evil",
                1.0,
                evil_text.len()
            )
        ]
    );
    // Nothing outside OUT.
    assert_eq!(snapshot_without(t.path(), "out"), before);
}

#[test]
fn several_arguments_are_mirrored_under_their_names_and_nothing_escapes() {
    let mut g = TextGen::new(101);
    let t = TempCorpus::new();
    let docs = [
        "work/a/x.txt",
        "work/a/sub/y.txt",
        "work/b/z.txt",
        "sib/w.txt",
        "sib/v.txt",
    ];
    let mut texts = BTreeMap::new();
    for d in docs {
        let text = g.text(150);
        t.file(d, &text);
        texts.insert(d, text);
    }
    // A duplicate across arguments: b/dup.txt is a copy of a/x.txt.
    t.file("work/b/dup.txt", &texts["work/a/x.txt"]);
    let before = snapshot(t.path());
    let work = t.join("work");

    clean(&work, &["a", "b", "../sib/w.txt", "-o", "out"]).success();
    let w = files(&work.join("out"));
    assert_eq!(
        names(&w),
        set(&[
            "a/sub/y.txt",
            "a/x.txt",
            "b/z.txt",
            "manifest.jsonl",
            "report.json",
            "sib/w.txt"
        ])
    );
    assert_eq!(w["a/x.txt"], texts["work/a/x.txt"].as_bytes());
    assert_eq!(w["a/sub/y.txt"], texts["work/a/sub/y.txt"].as_bytes());
    assert_eq!(w["b/z.txt"], texts["work/b/z.txt"].as_bytes());
    assert_eq!(w["sib/w.txt"], texts["sib/w.txt"].as_bytes());
    assert_eq!(
        manifest(&work.join("out")),
        vec![removal(
            "b/dup.txt",
            "b/dup.txt",
            None,
            true,
            "a/x.txt",
            1.0,
            texts["work/a/x.txt"].len()
        )]
    );
    // Nothing outside OUT: the tree is as it was but for work/out (and work's mtime).
    let mut expected = before.clone();
    expected.get_mut(Path::new("work")).expect("work").0 = None;
    assert_eq!(snapshot_without(t.path(), "work/out"), expected);

    // One absolute file argument: its name is the path, rooted under OUT.
    let abs = t.join("sib/v.txt");
    let abs_str = abs.to_str().expect("UTF-8 temporary path");
    clean(&work, &[abs_str, "-o", "out-abs"]).success();
    let w = files(&work.join("out-abs"));
    let rel = abs_str.trim_start_matches('/');
    assert_eq!(names(&w), set(&[rel, "manifest.jsonl", "report.json"]));
    assert_eq!(w[rel], texts["sib/v.txt"].as_bytes());
    let mut expected = before;
    expected.get_mut(Path::new("work")).expect("work").0 = None;
    let after: Snapshot = snapshot_without(t.path(), "work/out")
        .into_iter()
        .filter(|(p, _)| !p.starts_with("work/out-abs"))
        .collect();
    assert_eq!(after, expected);
}

#[test]
fn standard_input_is_written_as_stdin_jsonl() {
    let mut g = TextGen::new(102);
    let text = g.text(150);
    let input = [
        jsonl_line(&[("id", json!("s1")), ("text", json!(text))]),
        jsonl_line(&[("id", json!("s2")), ("text", json!(text))]),
        jsonl_line(&[("id", json!("s3")), ("text", json!(g.text(150)))]),
    ];
    let t = TempCorpus::new();
    let run = run_with_stdin(
        t.path(),
        &["clean", "-q", "-", "-o", "out"],
        Some(input.concat().as_bytes()),
    )
    .success();
    assert!(
        run.stdout_str()
            .starts_with("documents: 3 in, 2 kept, 1 removed")
    );
    let w = files(&t.join("out"));
    assert_eq!(
        names(&w),
        set(&["manifest.jsonl", "report.json", "stdin.jsonl"])
    );
    assert_eq!(
        w["stdin.jsonl"],
        [&input[0], &input[2]]
            .map(String::as_str)
            .concat()
            .as_bytes()
    );
    assert_eq!(
        manifest(&t.join("out")),
        vec![removal(
            "s2",
            "<stdin>",
            Some(2),
            true,
            "s1",
            1.0,
            text.len()
        )]
    );
}

// ---------------------------------------------------------------------------------------------
// Skipped compressed inputs.

/// A truncated gzip file is skipped by the scan ("corrupt or truncated gzip stream"); a cleanup
/// must copy it through unchanged like any skipped input, not fail.
#[test]
fn truncated_compressed_text_file_is_copied_through() {
    let mut g = TextGen::new(110);
    let t = TempCorpus::new();
    let a = g.text(200);
    let mut truncated = gzip(g.text(400).as_bytes());
    truncated.truncate(truncated.len() * 6 / 10);
    t.file("in/a.txt", &a).file("in/trunc.txt.gz", &truncated);
    let r = t.scan(&["in"]);
    assert_eq!(skips_of(&r, "trunc.txt.gz").len(), 1, "{:?}", skipped(&r));

    let run = clean(t.path(), &["in", "-o", "out"]);
    let run = run.success();
    assert!(run.stdout_str().starts_with(
        "documents: 1 in, 1 kept, 0 removed, 0 with passages cut; 1 input skipped by the scan"
    ));
    let w = files(&t.join("out"));
    assert_eq!(
        names(&w),
        set(&["a.txt", "manifest.jsonl", "report.json", "trunc.txt.gz"])
    );
    assert_eq!(w["trunc.txt.gz"], truncated);
    assert_eq!(w["a.txt"], a.as_bytes());
}

/// A file whose extension promises compression its bytes do not deliver is skipped at
/// discovery ("not a gzip stream"); it is a skipped input like a binary file and must be copied
/// through.
#[test]
fn file_that_is_not_the_compressed_stream_it_claims_is_copied_through() {
    let mut g = TextGen::new(111);
    let t = TempCorpus::new();
    let a = g.text(200);
    t.file("in/a.txt", &a).file(
        "in/notgzip.gz",
        "plain text that only pretends to be gzip\n",
    );
    let r = t.scan(&["in"]);
    assert_eq!(
        skipped(&r),
        vec![Skip {
            path: "notgzip.gz".to_owned(),
            line: None,
            reason: "not a gzip stream".to_owned()
        }]
    );
    clean(t.path(), &["in", "-o", "out"]).success();
    let w = files(&t.join("out"));
    assert_eq!(
        names(&w),
        set(&["a.txt", "manifest.jsonl", "notgzip.gz", "report.json"])
    );
    assert_eq!(
        w["notgzip.gz"],
        b"plain text that only pretends to be gzip\n"
    );
}

/// A truncated gzip JSONL file: the scan keeps the records read before the damage and reports
/// the file; the cleanup copies the file as it was (writing only the records read would lose
/// the rest), with a `damaged` line in the manifest.
#[test]
fn damaged_compressed_jsonl_is_copied_through_whole() {
    let mut g = TextGen::new(112);
    let lines: Vec<String> = (1..=40)
        .map(|i| jsonl_line(&[("id", json!(format!("d{i}"))), ("text", json!(g.text(100)))]))
        .collect();
    let mut damaged = gzip(lines.concat().as_bytes());
    damaged.truncate(damaged.len() * 6 / 10);
    let t = TempCorpus::new();
    t.file("in/feed.jsonl.gz", &damaged);
    let r = t.scan(&["in"]);
    let n = summary(&r, "documents") as usize;
    assert!((5..40).contains(&n), "{n} records before the damage");
    let k = skips_of(&r, "feed.jsonl.gz");
    assert_eq!(k.len(), 1, "{k:?}");
    assert!(
        k[0].reason.contains(&format!("after line {n}")),
        "{:?}",
        k[0]
    );

    clean(t.path(), &["in", "-o", "out"]).success();
    let w = files(&t.join("out"));
    assert_eq!(
        names(&w),
        set(&["feed.jsonl.gz", "manifest.jsonl", "report.json"])
    );
    assert_eq!(w["feed.jsonl.gz"], damaged);
    assert!(
        String::from_utf8_lossy(&w["manifest.jsonl"]).contains(r#""reason":"damaged""#),
        "{}",
        String::from_utf8_lossy(&w["manifest.jsonl"])
    );
    let tt = totals(&out_report(&t.join("out"))).clone();
    assert_eq!(
        (u(&tt, "documents_in"), u(&tt, "kept"), u(&tt, "skipped")),
        (n as u64, n as u64, 1)
    );
}

/// Two inputs whose output names coincide (`--compress none` maps `a.jsonl.gz` to `a.jsonl`)
/// must not overwrite each other: the one with its own name keeps it, the other gets `~2`
/// before its extension (so it is still read as JSONL), and the manifest says so.
#[test]
fn inputs_that_map_to_one_output_name_do_not_overwrite_each_other() {
    let mut g = TextGen::new(113);
    let plain = jsonl_line(&[("id", json!("x1")), ("text", json!(g.text(150)))]);
    let packed = jsonl_line(&[("id", json!("y1")), ("text", json!(g.text(150)))]);
    let t = TempCorpus::new();
    t.file("in/a.jsonl", &plain)
        .file("in/a.jsonl.gz", gzip(packed.as_bytes()));
    clean(t.path(), &["in", "-o", "out", "--compress", "none"]).success();
    let w = files(&t.join("out"));
    assert_eq!(
        names(&w),
        set(&["a.jsonl", "a~2.jsonl", "manifest.jsonl", "report.json"])
    );
    assert_eq!(w["a.jsonl"], plain.as_bytes());
    assert_eq!(w["a~2.jsonl"], packed.as_bytes());
    assert_eq!(
        String::from_utf8_lossy(&w["manifest.jsonl"]),
        "{\"source\":\"a.jsonl.gz\",\"reason\":\"renamed\",\"output\":\"a~2.jsonl\"}\n"
    );
}

// ---------------------------------------------------------------------------------------------
// 11–12. Inputs untouched; determinism.

#[test]
fn inputs_are_never_modified() {
    let m = mixed();
    m.t.file("in/feed2.jsonl.gz", gzip(feed("q", 120).input.as_bytes()));
    let input_before = snapshot(&m.t.join("in"));
    let root = m.t.path();
    for (i, args) in [
        vec!["--strip-passages", "all"],
        vec!["--strip-passages", "self", "--compress", "zst", "-j", "1"],
        vec!["--keep", "longest", "--compress", "none"],
        vec!["--dry-run", "--strip-passages", "all"],
    ]
    .into_iter()
    .enumerate()
    {
        let out = format!("out{i}");
        let mut all = vec!["in", "-o", out.as_str()];
        all.extend(args);
        clean(root, &all).success();
        assert_eq!(
            snapshot(&m.t.join("in")),
            input_before,
            "inputs modified by clean {all:?}"
        );
    }
    // Replacing an earlier output, and a refused run.
    clean(root, &["in", "-o", "out0", "--force"]).success();
    clean(root, &["in", "-o", "in/out"]).usage_error();
    assert_eq!(snapshot(&m.t.join("in")), input_before);
}

#[test]
fn output_is_identical_across_thread_counts() {
    let m = mixed();
    m.t.file("in/feed2.jsonl.gz", gzip(feed("q", 121).input.as_bytes()));
    let root = m.t.path();
    let args = |out: &'static str, j: &'static str| {
        vec!["in", "-o", out, "--strip-passages", "all", "--threads", j]
    };
    let one = clean(root, &args("out1", "1")).success();
    let two = clean(root, &args("out2", "2")).success();
    let (w1, w2) = (files(&m.t.join("out1")), files(&m.t.join("out2")));
    assert_eq!(names(&w1), names(&w2));
    for (name, bytes) in &w1 {
        assert!(
            *bytes == w2[name],
            "{name} differs between --threads 1 and 2:\n{}\n---\n{}",
            String::from_utf8_lossy(bytes),
            String::from_utf8_lossy(&w2[name])
        );
    }
    assert_eq!(
        one.stdout_str().replace("wrote out1", "wrote out2"),
        two.stdout_str()
    );
    // And the same as a default run (one thread per core).
    clean(root, &["in", "-o", "out3", "--strip-passages", "all"]).success();
    assert_eq!(files(&m.t.join("out3")), w1);
}

/// Regression (issue 15): `clean corpus/` with the defaults kept the article whose body was
/// pasted twice, whole, and removed the clean single copy: the cleaned corpus held the body
/// twice. Self-repeats are now cut by default, so the body is in the output exactly once;
/// without passage detection nothing is cut, and that is not an error.
#[test]
fn regression_default_clean_of_the_corpus_writes_the_doubled_body_once() {
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("clean");
    let dest_arg = dest.to_str().unwrap();
    run_in(crate_root(), &["clean", "corpus", "-o", dest_arg]).success();
    let sentence = "Russia is actively looking to acquire weapons and munitions from North Korea";
    // The corpus itself, not the report and manifest written beside it.
    let copies: usize = files(&dest)
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "report.json" | "manifest.jsonl"))
        .map(|(_, bytes)| String::from_utf8_lossy(bytes).matches(sentence).count())
        .sum();
    assert_eq!(copies, 1, "the UPI body is in the cleaned corpus once");
    let r = out_report(&dest);
    assert_eq!(r["clean"]["strip_passages"], "self");

    let plain = out.path().join("plain");
    run_in(
        crate_root(),
        &[
            "clean",
            "corpus",
            "--no-passages",
            "-o",
            plain.to_str().unwrap(),
        ],
    )
    .success();
    assert_eq!(out_report(&plain)["clean"]["strip_passages"], "none");
    let run = run_in(
        crate_root(),
        &[
            "clean",
            "corpus",
            "--no-passages",
            "--strip-passages",
            "self",
            "--dry-run",
        ],
    );
    assert_eq!(
        run.code,
        Some(2),
        "asking for cuts without passages is refused"
    );
}

/// Regression (issue 15): `--keep longest` kept the doubled article because its body, pasted
/// twice, made it the longest member. Members are now ranked after their self-repeats are cut:
/// the single copy with a closing sentence is longer than the doubled body cut once, so it is
/// kept; `--keep shortest` ranks the same way, and exact copies of a doubled document rank as
/// it does.
#[test]
fn regression_keep_by_length_compares_members_after_their_self_repeats_are_cut() {
    let seed = seed_bytes();
    let body = &seed[..3879];
    let t = TempCorpus::new();
    let mut longer = body.to_vec();
    longer.extend_from_slice(b"\nThis story was updated with a comment from the ministry.\n");
    t.file("in/a-doubled.txt", &seed)
        .file("in/b-doubled-copy.txt", &seed)
        .file("in/c-single-longer.txt", &longer);
    let kept = |keep: &str| {
        let r = scan_json_in(t.path(), &["in", "--keep", keep]);
        let c = arr(&r, "clusters");
        assert_eq!(c.len(), 1, "{r}");
        s(&c[0], "kept").to_owned()
    };
    assert_eq!(kept("longest"), "c-single-longer.txt");
    // Shortest: the doubled body cut once (3880 bytes) is shorter than the longer single copy.
    assert_eq!(kept("shortest"), "a-doubled.txt");
    assert_eq!(kept("first"), "a-doubled.txt");
    // And the cleaned corpus holds the body once, whichever is kept.
    clean(t.path(), &["in", "-o", "out", "--keep", "longest"]).success();
    let written = files(&t.join("out"));
    let copies: usize = written
        .iter()
        .filter(|(name, _)| name.ends_with(".txt"))
        .map(|(_, b)| {
            String::from_utf8_lossy(b)
                .matches("Russia is actively looking")
                .count()
        })
        .sum();
    assert_eq!(copies, 1, "{:?}", written.keys().collect::<Vec<_>>());
}

/// Doubled bodies of several lengths (50 to 400 words), each doubled document with an exact
/// copy and a copy under another headline: whichever member is kept, no cleaned file holds a
/// body twice, and the report lists every copy's self-repeat.
#[test]
fn regression_doubled_bodies_of_every_length_and_their_copies_are_written_once() {
    let mut g = crate::util::Gen::new(1515);
    let t = TempCorpus::new();
    let mut bodies = Vec::new();
    for (i, n) in [50usize, 60, 100, 400].into_iter().enumerate() {
        let body = render(&g.words(n));
        let doubled = format!("{}\n{body}\n{body}", g.text(12));
        let near = format!("{}\n{body}\n{body}", g.text(12));
        t.file(&format!("in/{i}a.txt"), &doubled)
            .file(&format!("in/{i}b.txt"), &doubled)
            .file(&format!("in/{i}c.txt"), &near);
        bodies.push(body.trim_end().to_owned());
    }
    for keep in ["first", "last", "longest", "shortest"] {
        let out = format!("out-{keep}");
        clean(t.path(), &["in", "-o", &out, "--keep", keep]).success();
        let kept = files(&t.join(&out));
        for body in &bodies {
            let counts: Vec<usize> = kept
                .iter()
                .filter(|(name, _)| name.ends_with(".txt"))
                .map(|(_, b)| String::from_utf8_lossy(b).matches(body.as_str()).count())
                .filter(|&n| n > 0)
                .collect();
            // The near copy may be kept too (a short body makes the headline count), but no
            // file holds a body twice.
            assert!(
                !counts.is_empty() && counts.iter().all(|&n| n == 1),
                "--keep {keep}: a body of {} bytes is in kept files {counts:?} times",
                body.len()
            );
        }
        let r = out_report(&t.join(&out));
        let repeating: BTreeSet<&str> = arr(&r, "self_repeating")
            .iter()
            .map(|x| s(x, "doc"))
            .collect();
        for i in 0..4 {
            for c in ["a", "b", "c"] {
                let doc = format!("{i}{c}.txt");
                assert!(repeating.contains(doc.as_str()), "{doc}: {repeating:?}");
            }
        }
    }
}
