//! `dupsift check`, the CI gate: exit codes against the limits, the JSON verdict, GitHub workflow
//! commands, SARIF, content fingerprints, `-o FILE`, determinism and `--max-findings`.
//!
//! The corpora are generated (seeded) in temporary directories, so every figure, place and
//! fingerprint is known in advance: fingerprints are recomputed here with xxh3 (xxh3-128 of a
//! document's bytes, xxh3-64 of a passage occurrence's bytes).

use std::ops::Range;

use serde_json::{Value, json};
use xxhash_rust::xxh3::{xxh3_64, xxh3_128};

use crate::util::*;

// ---------------------------------------------------------------------------------------------
// Running the check.

/// `dupsift check --quiet ARGS` in `t`.
fn check(t: &TempCorpus, args: &[&str]) -> Run {
    let mut all = vec!["check", "--quiet"];
    all.extend_from_slice(args);
    t.run(&all)
}

/// `dupsift check --quiet --format json ARGS` in `t`: the exit code (0 or 1, asserted) and the
/// verdict, checked for consistency.
#[track_caller]
fn check_json(t: &TempCorpus, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let run = check(t, &all);
    let code = run.code.unwrap_or(-1);
    assert!(
        code == 0 || code == 1,
        "check exited with {:?}\nstderr:\n{}",
        run.code,
        run.stderr
    );
    let v: Value = serde_json::from_slice(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "the verdict is not JSON ({e}):\n{}",
            String::from_utf8_lossy(&run.stdout)
        )
    });
    check_verdict(&v);
    assert_eq!(
        code == 0,
        v["passed"] == true,
        "the exit code disagrees with `passed`: {v}"
    );
    (code, v)
}

/// What must hold of every JSON verdict: the schema, ratios computed from the counts, one
/// duplicate finding per duplicate document, passage findings pointing at existing passages,
/// `passed` exactly when nothing failed.
#[track_caller]
fn check_verdict(v: &Value) {
    assert_eq!(v["tool"], "dupsift", "{v}");
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"), "{v}");
    assert_eq!(v["format_version"], 1, "{v}");
    let l = &v["limits"];
    for k in ["max_duplicate_ratio", "max_passage_ratio"] {
        assert!(l[k].is_null() || l[k].is_f64(), "limits.{k}: {l}");
    }
    assert!(l["fail_on_any"].is_boolean(), "{l}");
    let f = &v["figures"];
    let (docs, bytes) = (u(f, "documents"), u(f, "bytes"));
    let (dups, passages, pbytes) = (
        u(f, "duplicate_documents"),
        u(f, "passages"),
        u(f, "passage_bytes"),
    );
    u(f, "skipped");
    let accepted = u(f, "accepted");
    let ratio = |a: u64, b: u64| json!(if b == 0 { 0.0 } else { a as f64 / b as f64 });
    assert_same_json(&f["duplicate_ratio"], &ratio(dups, docs));
    assert_same_json(&f["passage_ratio"], &ratio(pbytes, bytes));
    let failures = arr(v, "failures");
    assert!(failures.iter().all(Value::is_string), "{v}");
    assert_eq!(v["passed"].as_bool(), Some(failures.is_empty()), "{v}");
    let findings = arr(v, "findings");
    let mut dup_findings = 0;
    let mut seen_passages = std::collections::BTreeSet::new();
    let mut n_accepted = 0;
    for x in findings {
        let rule = s(x, "rule");
        let is_accepted = x["accepted"].as_bool().expect("accepted is a bool");
        n_accepted += u64::from(is_accepted);
        for p in [&x["place"], &x["original"]] {
            assert!(!s(p, "doc").is_empty() && !s(p, "path").is_empty(), "{x}");
            let line = u(p, "line");
            assert!(line >= 1, "{x}");
            assert!(
                p["end_line"].is_null() || u(p, "end_line") > line,
                "end_line is null unless a range: {x}"
            );
        }
        let sim = x["similarity"].as_f64().expect("similarity");
        assert!(sim > 0.0 && sim <= 1.0, "{x}");
        assert!(u(x, "bytes") > 0, "{x}");
        let fp = s(x, "fingerprint");
        assert!(fp.bytes().all(|b| b.is_ascii_hexdigit()), "{x}");
        assert_eq!(fp.len(), 64, "{x}");
        assert!(fp[..32] <= fp[32..], "the two hashes are sorted: {x}");
        match rule {
            "exact-duplicate" | "near-duplicate" => {
                dup_findings += u64::from(!is_accepted);
                assert!(x["passage"].is_null(), "{x}");
                assert!(x["place"]["end_line"].is_null(), "{x}");
                if rule == "exact-duplicate" {
                    assert_eq!(sim, 1.0, "{x}");
                    assert_eq!(
                        fp[..32],
                        fp[32..],
                        "an exact copy has the original's hash: {x}"
                    );
                }
            }
            "repeated-passage" => {
                let p = u(x, "passage");
                if !is_accepted {
                    seen_passages.insert(p);
                }
                // Two 64-bit hashes, widened.
                assert!(fp.starts_with("0000000000000000"), "{x}");
                assert_eq!(&fp[32..48], "0000000000000000", "{x}");
            }
            other => panic!("unknown rule {other}: {x}"),
        }
    }
    assert_eq!(accepted, n_accepted, "figures.accepted: {v}");
    assert_eq!(
        dup_findings, dups,
        "one finding per duplicate document not accepted: {v}"
    );
    assert_eq!(
        seen_passages.len() as u64,
        passages,
        "every passage counted has a repeat finding not accepted: {v}"
    );
    // Duplicates first, then passage repeats.
    let first_passage = findings
        .iter()
        .position(|x| x["rule"] == "repeated-passage")
        .unwrap_or(findings.len());
    assert!(
        findings[first_passage..]
            .iter()
            .all(|x| x["rule"] == "repeated-passage"),
        "duplicates come first: {v}"
    );
}

// ---------------------------------------------------------------------------------------------
// Expected values.

/// Two content hashes in sorted order, 32 hex digits each.
fn pair(a: u128, b: u128) -> String {
    format!("{:032x}{:032x}", a.min(b), a.max(b))
}

/// Fingerprint of a duplicate document: the xxh3-128 of the kept document's bytes and of the
/// duplicate's.
fn dup_fp(kept: &str, dup: &str) -> String {
    pair(xxh3_128(kept.as_bytes()), xxh3_128(dup.as_bytes()))
}

/// xxh3-64 of the word hashes of `text` (the passage-fingerprint format), computed with the
/// library's tokenizer.
fn words_hash(text: &str) -> u64 {
    let mut t = dupsift::tokenize::Tokens::default();
    dupsift::tokenize::tokenize(text.as_bytes(), &mut t);
    let mut h = Vec::new();
    dupsift::shingle::word_hashes(&t, &mut h);
    let bytes: Vec<u8> = h.iter().flat_map(|w| w.to_le_bytes()).collect();
    xxh3_64(&bytes)
}

/// Fingerprint of a passage repeat: the hashes of the first occurrence's words and of the
/// repeat's.
fn passage_fp(first: &str, repeat: &str) -> String {
    pair(words_hash(first) as u128, words_hash(repeat) as u128)
}

/// JSON values equal up to floating-point parsing (serde_json's default float parser may be one
/// unit in the last place off).
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            (x - y).abs() <= 1e-12 * x.abs().max(y.abs())
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

#[track_caller]
fn assert_same_json(got: &Value, want: &Value) {
    assert!(
        same_json(got, want),
        "\n got {}\nwant {}",
        serde_json::to_string_pretty(got).unwrap(),
        serde_json::to_string_pretty(want).unwrap()
    );
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// 1-based line of byte `at`.
fn line_of(text: &str, at: usize) -> u64 {
    1 + text.as_bytes()[..at]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u64
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

/// A JSON place.
fn place(doc: &str, path: &str, line: u64, end_line: Option<u64>) -> Value {
    json!({ "doc": doc, "path": path, "line": line, "end_line": end_line })
}

/// A whole-file place: line 1.
fn file_place(doc: &str, path: &str) -> Value {
    place(doc, path, 1, None)
}

/// The bytes and lines of a passage occurrence (a range of `text`), as a JSON place.
fn range_place(doc: &str, path: &str, text: &str, r: &Range<usize>) -> Value {
    let (a, b) = (line_of(text, r.start), line_of(text, r.end - 1));
    place(doc, path, a, (b > a).then_some(b))
}

fn dup_finding(
    rule: &str,
    place: Value,
    original: Value,
    sim: f64,
    bytes: usize,
    fp: String,
) -> Value {
    json!({
        "rule": rule, "place": place, "original": original, "similarity": sim,
        "bytes": bytes, "passage": null, "fingerprint": fp, "accepted": false,
    })
}

fn passage_finding(
    place: Value,
    original: Value,
    identity: f64,
    bytes: usize,
    passage: u64,
    fp: String,
) -> Value {
    json!({
        "rule": "repeated-passage", "place": place, "original": original, "similarity": identity,
        "bytes": bytes, "passage": passage, "fingerprint": fp, "accepted": false,
    })
}

#[track_caller]
fn assert_findings(v: &Value, expected: &[Value]) {
    let got = arr(v, "findings");
    assert_eq!(
        got.len(),
        expected.len(),
        "findings:\n{}",
        serde_json::to_string_pretty(got).unwrap()
    );
    for (k, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!(
            same_json(g, e),
            "finding {k}:\n got {}\nwant {}",
            serde_json::to_string_pretty(g).unwrap(),
            serde_json::to_string_pretty(e).unwrap()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Generated corpora.

/// Unrelated documents `DIR/doc{i}.txt` of 150 words.
fn unrelated(t: &TempCorpus, dir: &str, n: usize, seed: u64) -> Vec<String> {
    let mut g = Gen::new(seed);
    (0..n)
        .map(|i| {
            let text = g.text(150);
            t.file(&format!("{dir}/doc{i}.txt"), &text);
            text
        })
        .collect()
}

/// `d/a.txt` (300 words), its near-duplicate `d/b.txt` (3 words changed) and two unrelated
/// documents `d/c.txt`, `d/e.txt`. Returns (a, b).
fn near_dup_corpus(t: &TempCorpus, seed: u64) -> (String, String) {
    let mut g = Gen::new(seed);
    let words = g.words(300);
    let a = render(&words);
    let b = render(&g.edit(&words, 3));
    let j = jaccard5(&a, &b);
    assert!((0.85..1.0).contains(&j), "generator: J = {j}");
    t.file("d/a.txt", &a)
        .file("d/b.txt", &b)
        .file("d/c.txt", g.text(150))
        .file("d/e.txt", g.text(150));
    (a, b)
}

/// Two otherwise unrelated documents `d/one.txt` and `d/two.txt` sharing a 60-word paragraph
/// (6 lines), plus an unrelated `d/three.txt`. Returns the texts and where the paragraph is in
/// each.
struct Shared {
    one: String,
    two: String,
    passage: String,
    in_one: Range<usize>,
    in_two: Range<usize>,
}

fn shared_passage_corpus(t: &TempCorpus, seed: u64) -> Shared {
    let mut g = Gen::new(seed);
    let passage = g.passage(6);
    let mut one = g.text(200);
    let in_one = plant(&mut one, &passage);
    one.push_str(&g.text(150));
    let mut two = g.text(120);
    let in_two = plant(&mut two, &passage);
    two.push_str(&g.text(230));
    t.file("d/one.txt", &one)
        .file("d/two.txt", &two)
        .file("d/three.txt", g.text(200));
    assert!(jaccard5(&one, &two) < 0.3);
    Shared {
        one,
        two,
        passage,
        in_one,
        in_two,
    }
}

/// A corpus under `g/` with one finding of every kind, and awkward file names:
///
/// - `b.txt` is a near-duplicate of `a.txt` (2 words of 200 changed), which also makes all of
///   `b.txt` a repeat of all of `a.txt` (passage 0, lines 1-7);
/// - `d.txt` is an exact copy of `c.txt`;
/// - record 2 (line 2, id `r2`) of `recs.jsonl` has the text of `e.txt`;
/// - `z,copy:2.txt` is an exact copy of `f.txt`, `q%2.txt` of `q%1.txt`, `v w.txt` of `u.txt`;
/// - `p.txt` holds a 6-line paragraph twice (passage 1);
/// - `zz.bin` is binary (skipped).
///
/// Documents in input order: a b c d e f p q%1 q%2 r1 r2 u `v w` `z,copy:2` (14).
struct Review {
    t: TempCorpus,
    a: String,
    b: String,
    c: String,
    e: String,
    f: String,
    p: String,
    q: String,
    u: String,
    r1: String,
    p_first: Range<usize>,
    p_second: Range<usize>,
}

fn review_corpus() -> Review {
    let t = TempCorpus::new();
    let mut g = Gen::new(7);
    let words = g.words(200);
    let a = render(&words);
    let b = render(&g.edit(&words, 2));
    let c = g.text(150);
    let e = g.text(120);
    let r1 = g.text(130);
    let f = g.text(110);
    let q = g.text(100);
    let u = g.text(100);
    let passage = g.passage(6);
    let mut p = g.text(90);
    let p_first = plant(&mut p, &passage);
    p.push('\n');
    p.push_str(&g.text(70));
    let p_second = plant(&mut p, &passage);
    let jsonl = jsonl_line(&[("id", json!("r1")), ("text", json!(r1))])
        + &jsonl_line(&[("id", json!("r2")), ("text", json!(e))]);
    t.file("g/a.txt", &a)
        .file("g/b.txt", &b)
        .file("g/c.txt", &c)
        .file("g/d.txt", &c)
        .file("g/e.txt", &e)
        .file("g/recs.jsonl", jsonl)
        .file("g/f.txt", &f)
        .file("g/z,copy:2.txt", &f)
        .file("g/p.txt", &p)
        .file("g/q%1.txt", &q)
        .file("g/q%2.txt", &q)
        .file("g/u.txt", &u)
        .file("g/v w.txt", &u)
        .file("g/zz.bin", b"\x7fELF\x00\x00\x01binary");
    Review {
        t,
        a,
        b,
        c,
        e,
        f,
        p,
        q,
        u,
        r1,
        p_first,
        p_second,
    }
}

impl Review {
    fn bytes(&self) -> usize {
        self.a.len()
            + self.b.len()
            + 2 * self.c.len()
            + 2 * self.e.len()
            + self.r1.len()
            + 2 * self.f.len()
            + self.p.len()
            + 2 * self.q.len()
            + 2 * self.u.len()
    }

    /// The whole of a (and b) but the final newline: what the near-duplicate repeats.
    fn ab_first(&self) -> &str {
        &self.a[..self.a.len() - 1]
    }

    fn ab_repeat(&self) -> &str {
        &self.b[..self.b.len() - 1]
    }

    fn passage_bytes(&self) -> usize {
        self.ab_repeat().len() + self.p_second.len()
    }

    fn similarity_ab(&self) -> f64 {
        round4(jaccard5(&self.a, &self.b))
    }

    /// Every finding, in the order of the verdict.
    fn findings(&self) -> Vec<Value> {
        let lines_a = line_of(&self.a, self.a.len() - 1);
        let lines_b = line_of(&self.b, self.b.len() - 1);
        assert_eq!((lines_a, lines_b), (7, 7), "generator: 4 paragraphs");
        vec![
            dup_finding(
                "near-duplicate",
                file_place("b.txt", "g/b.txt"),
                file_place("a.txt", "g/a.txt"),
                self.similarity_ab(),
                self.b.len(),
                dup_fp(&self.a, &self.b),
            ),
            dup_finding(
                "exact-duplicate",
                file_place("d.txt", "g/d.txt"),
                file_place("c.txt", "g/c.txt"),
                1.0,
                self.c.len(),
                dup_fp(&self.c, &self.c),
            ),
            dup_finding(
                "exact-duplicate",
                place("r2", "g/recs.jsonl", 2, None),
                file_place("e.txt", "g/e.txt"),
                1.0,
                self.e.len(),
                dup_fp(&self.e, &self.e),
            ),
            dup_finding(
                "exact-duplicate",
                file_place("z,copy:2.txt", "g/z,copy:2.txt"),
                file_place("f.txt", "g/f.txt"),
                1.0,
                self.f.len(),
                dup_fp(&self.f, &self.f),
            ),
            dup_finding(
                "exact-duplicate",
                file_place("q%2.txt", "g/q%2.txt"),
                file_place("q%1.txt", "g/q%1.txt"),
                1.0,
                self.q.len(),
                dup_fp(&self.q, &self.q),
            ),
            dup_finding(
                "exact-duplicate",
                file_place("v w.txt", "g/v w.txt"),
                file_place("u.txt", "g/u.txt"),
                1.0,
                self.u.len(),
                dup_fp(&self.u, &self.u),
            ),
            passage_finding(
                place("b.txt", "g/b.txt", 1, Some(lines_b)),
                place("a.txt", "g/a.txt", 1, Some(lines_a)),
                0.99,
                self.ab_repeat().len(),
                0,
                passage_fp(self.ab_first(), self.ab_repeat()),
            ),
            passage_finding(
                range_place("p.txt", "g/p.txt", &self.p, &self.p_second),
                range_place("p.txt", "g/p.txt", &self.p, &self.p_first),
                1.0,
                self.p_second.len(),
                1,
                passage_fp(
                    &self.p[self.p_first.clone()],
                    &self.p[self.p_second.clone()],
                ),
            ),
        ]
    }

    /// The expected GitHub workflow commands for the findings at `level`.
    fn github_findings(&self, level: &str) -> Vec<String> {
        let (l1, l2) = (
            line_of(&self.p, self.p_first.start),
            line_of(&self.p, self.p_first.end - 1),
        );
        let (m1, m2) = (
            line_of(&self.p, self.p_second.start),
            line_of(&self.p, self.p_second.end - 1),
        );
        assert!(
            l1 < l2 && l2 < m1 && m1 < m2,
            "generator: {l1} {l2} {m1} {m2}"
        );
        vec![
            format!(
                "::{level} file=g/b.txt,line=1,title=dupsift near-duplicate::near-duplicate of g/a.txt (similarity {:.3})",
                self.similarity_ab()
            ),
            format!(
                "::{level} file=g/d.txt,line=1,title=dupsift exact-duplicate::exact duplicate of g/c.txt"
            ),
            format!(
                "::{level} file=g/recs.jsonl,line=2,title=dupsift exact-duplicate::exact duplicate of g/e.txt"
            ),
            format!(
                "::{level} file=g/z%2Ccopy%3A2.txt,line=1,title=dupsift exact-duplicate::exact duplicate of g/f.txt"
            ),
            format!(
                "::{level} file=g/q%252.txt,line=1,title=dupsift exact-duplicate::exact duplicate of g/q%251.txt"
            ),
            format!(
                "::{level} file=g/v w.txt,line=1,title=dupsift exact-duplicate::exact duplicate of g/u.txt"
            ),
            format!(
                "::{level} file=g/b.txt,line=1,endLine=7,title=dupsift repeated-passage::repeats passage 0 first seen at g/a.txt:1-7 ({}, identity 0.990)",
                human_bytes(self.ab_repeat().len() as u64)
            ),
            format!(
                "::{level} file=g/p.txt,line={m1},endLine={m2},title=dupsift repeated-passage::repeats passage 1 first seen at g/p.txt:{l1}-{l2} ({}, identity 1.000)",
                human_bytes(self.p_second.len() as u64)
            ),
        ]
    }
}

fn lines(out: &[u8]) -> Vec<String> {
    String::from_utf8(out.to_vec())
        .expect("UTF-8 output")
        .lines()
        .map(str::to_owned)
        .collect()
}

#[track_caller]
fn assert_lines(got: &[String], want: &[String]) {
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g, w, "line {}", k + 1);
    }
    assert_eq!(got.len(), want.len(), "got:\n{}", got.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// 1. Exit codes.

#[test]
fn unrelated_documents_pass() {
    let t = TempCorpus::new();
    unrelated(&t, "d", 4, 1);
    let run = check(&t, &["d"]).success();
    assert_eq!(
        run.stdout_str(),
        "dupsift check: pass (4 documents, 0 duplicates = 0.00%, 0 repeated passages = 0.00% of bytes, 0 skipped)\n"
    );
    let (code, v) = check_json(&t, &["d"]);
    assert_eq!(code, 0);
    assert_eq!(v["failures"], json!([]));
    assert_eq!(v["findings"], json!([]));
    // Ratios and --fail-on-any change nothing when there is nothing to find.
    check(&t, &["d", "--fail-on-any", "--max-duplicate-ratio", "0"]).success();
}

#[test]
fn one_near_duplicate_fails_unless_the_ratio_allows_it() {
    let t = TempCorpus::new();
    near_dup_corpus(&t, 2);
    // 1 duplicate of 4 documents (25%), and b.txt repeats a.txt as a passage.
    let code = |args: &[&str]| {
        let mut all = vec!["d"];
        all.extend_from_slice(args);
        check(&t, &all).code
    };
    assert_eq!(code(&[]), Some(1), "any duplicate fails by default");
    assert_eq!(code(&["--max-duplicate-ratio", "0.5"]), Some(0));
    // Equal to the limit is not above it.
    assert_eq!(code(&["--max-duplicate-ratio", "0.25"]), Some(0));
    assert_eq!(code(&["--max-duplicate-ratio", "0.2"]), Some(1));
    assert_eq!(
        code(&["--max-duplicate-ratio", "0.5", "--fail-on-any"]),
        Some(1)
    );
    assert_eq!(code(&["--fail-on-any"]), Some(1));
    // Only the passage ratio is given: the duplicate ratio is not checked.
    assert_eq!(code(&["--max-passage-ratio", "0.9"]), Some(0));
    assert_eq!(code(&["--max-passage-ratio", "0.01"]), Some(1));

    let run = check(&t, &["d"]);
    let text = run.stdout_str();
    assert!(
        text.starts_with(
            "dupsift check: FAIL (4 documents, 1 duplicates = 25.00%, 1 repeated passages = "
        ),
        "{text}"
    );
    assert!(
        text.contains("\n  failed: 1 duplicate document (no duplicate is accepted)\n  failed: 1 repeated passage (no repeat is accepted)\n"),
        "{text}"
    );
    let run = check(&t, &["d", "--max-duplicate-ratio", "0.2"]);
    assert!(
        run.stdout_str()
            .contains("\n  failed: duplicate documents 1 of 4 = 25.00% > 20.00%\n"),
        "{}",
        run.stdout_str()
    );
}

#[test]
fn usage_and_input_errors_exit_2() {
    let t = TempCorpus::new();
    near_dup_corpus(&t, 2);
    for bad in ["1.5", "-0.1", "abc", "NaN", "inf", ""] {
        let arg = format!("--max-duplicate-ratio={bad}");
        let run = check(&t, &["d", &arg]).usage_error();
        assert!(
            run.stderr
                .contains(&format!("not a ratio between 0 and 1: {bad:?}")),
            "{bad}: {}",
            run.stderr
        );
        let arg = format!("--max-passage-ratio={bad}");
        check(&t, &["d", &arg]).usage_error();
    }
    check(&t, &["d", "--format", "xml"]).usage_error();
    check(&t, &["d", "--no-such-flag"]).usage_error();

    // A path that does not exist: an error naming it, not a pass on fewer documents.
    let run = check(&t, &["d", "missing-dir"]).usage_error();
    assert!(run.stderr.contains("missing-dir"), "{}", run.stderr);
    let run = check(&t, &["d/nope.txt", "--max-duplicate-ratio", "1"]).usage_error();
    assert!(run.stderr.contains("d/nope.txt"), "{}", run.stderr);
}

#[test]
fn bad_input_is_counted_and_fails_only_under_strict() {
    let t = TempCorpus::new();
    unrelated(&t, "d", 3, 3);
    t.file("d/blob.dat", b"abc\x00def");
    let run = check(&t, &["d"]).success();
    assert_eq!(
        run.stdout_str(),
        "dupsift check: pass (3 documents, 0 duplicates = 0.00%, 0 repeated passages = 0.00% of bytes, 1 skipped)\n"
    );
    let (_, v) = check_json(&t, &["d"]);
    assert_eq!(v["figures"]["skipped"], 1);
    let run = check(&t, &["d", "--strict"]).usage_error();
    assert!(run.stderr.contains("blob.dat"), "{}", run.stderr);
    let run = check(&t, &["d", "--strict", "--format", "json"]).usage_error();
    assert!(run.stderr.contains("blob.dat"), "{}", run.stderr);
}

#[test]
fn a_shared_paragraph_alone_fails_by_default_and_is_judged_by_the_passage_ratio() {
    let t = TempCorpus::new();
    let sh = shared_passage_corpus(&t, 4);
    let code = |args: &[&str]| {
        let mut all = vec!["d"];
        all.extend_from_slice(args);
        check(&t, &all).code
    };
    assert_eq!(code(&[]), Some(1));
    assert_eq!(code(&["--max-passage-ratio", "0.9"]), Some(0));
    assert_eq!(code(&["--max-passage-ratio", "0.0001"]), Some(1));
    assert_eq!(
        code(&["--max-passage-ratio", "0.9", "--fail-on-any"]),
        Some(1)
    );
    // Not a duplicate document: a duplicate limit alone accepts it.
    assert_eq!(code(&["--max-duplicate-ratio", "0"]), Some(0));

    let (code, v) = check_json(&t, &["d"]);
    assert_eq!(code, 1);
    let total = sh.one.len() + sh.two.len() + std::fs::read(t.join("d/three.txt")).unwrap().len();
    let pb = sh.passage.len();
    assert_same_json(
        &v["figures"],
        &json!({
            "documents": 3, "bytes": total, "duplicate_documents": 0, "duplicate_ratio": 0.0,
            "passages": 1, "passage_bytes": pb, "passage_ratio": pb as f64 / total as f64,
            "skipped": 0, "accepted": 0,
        }),
    );
    assert_eq!(
        v["failures"],
        json!(["1 repeated passage (no repeat is accepted)"])
    );
    // two.txt sorts after one.txt: the repeat is the copy in two.txt.
    assert_findings(
        &v,
        &[passage_finding(
            range_place("two.txt", "d/two.txt", &sh.two, &sh.in_two),
            range_place("one.txt", "d/one.txt", &sh.one, &sh.in_one),
            1.0,
            pb,
            0,
            passage_fp(&sh.passage, &sh.passage),
        )],
    );
    let (_, v) = check_json(&t, &["d", "--max-passage-ratio", "0.0001"]);
    assert_eq!(
        v["failures"],
        json!([format!(
            "bytes in repeated passages {pb} of {total} = {:.2}% > 0.01%",
            pb as f64 * 100.0 / total as f64
        )])
    );
    assert_same_json(
        &v["limits"],
        &json!({ "max_duplicate_ratio": null, "max_passage_ratio": 0.0001, "fail_on_any": false }),
    );
}

// ---------------------------------------------------------------------------------------------
// 2. JSON.

#[test]
fn json_verdict_lists_figures_failures_and_every_finding() {
    let r = review_corpus();
    let (code, v) = check_json(&r.t, &["g"]);
    assert_eq!(code, 1);
    let (bytes, pb) = (r.bytes(), r.passage_bytes());
    assert_same_json(
        &v["figures"],
        &json!({
            "documents": 14, "bytes": bytes, "duplicate_documents": 6,
            "duplicate_ratio": 6.0 / 14.0, "passages": 2, "passage_bytes": pb,
            "passage_ratio": pb as f64 / bytes as f64, "skipped": 1, "accepted": 0,
        }),
    );
    assert_same_json(
        &v["limits"],
        &json!({ "max_duplicate_ratio": null, "max_passage_ratio": null, "fail_on_any": false }),
    );
    assert_eq!(
        v["failures"],
        json!([
            "6 duplicate documents (no duplicate is accepted)",
            "2 repeated passages (no repeat is accepted)",
        ])
    );
    assert_eq!(v["passed"], false);
    assert_findings(&v, &r.findings());
    // `passage` is the id in the scan report, where the first occurrence is the original and
    // the finding is a later one.
    let scan = r.t.scan(&["g"]);
    for x in arr(&v, "findings")
        .iter()
        .filter(|x| x["rule"] == "repeated-passage")
    {
        let p = &arr(&scan, "passages")[u(x, "passage") as usize];
        let occ = arr(p, "occurrences");
        let at = |o: &Value, pl: &Value| {
            o["doc"] == pl["doc"]
                && o["line_start"] == pl["line"]
                && (o["line_end"] == pl["end_line"] || pl["end_line"].is_null())
        };
        assert!(at(&occ[0], &x["original"]), "{x}\n{p}");
        assert!(
            occ[1..]
                .iter()
                .any(|o| at(o, &x["place"]) && u(o, "end") - u(o, "start") == u(x, "bytes")),
            "{x}\n{p}"
        );
    }

    // The same findings whatever the verdict; failures from both ratios.
    let (code, v2) = check_json(
        &r.t,
        &[
            "g",
            "--max-duplicate-ratio",
            "0.1",
            "--max-passage-ratio",
            "0.01",
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(v2["findings"], v["findings"]);
    assert_eq!(
        v2["failures"],
        json!([
            "duplicate documents 6 of 14 = 42.86% > 10.00%",
            format!(
                "bytes in repeated passages {pb} of {bytes} = {:.2}% > 1.00%",
                pb as f64 * 100.0 / bytes as f64
            ),
        ])
    );
    let (code, v3) = check_json(
        &r.t,
        &[
            "g",
            "--max-duplicate-ratio",
            "0.5",
            "--max-passage-ratio",
            "0.5",
        ],
    );
    assert_eq!(code, 0);
    assert_eq!(v3["passed"], true);
    assert_eq!(v3["failures"], json!([]));
    assert_eq!(v3["findings"], v["findings"]);
    assert_same_json(
        &v3["limits"],
        &json!({ "max_duplicate_ratio": 0.5, "max_passage_ratio": 0.5, "fail_on_any": false }),
    );
    let (code, v4) = check_json(
        &r.t,
        &[
            "g",
            "--max-duplicate-ratio",
            "0.5",
            "--max-passage-ratio",
            "0.5",
            "--fail-on-any",
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(v4["failures"], v["failures"]);
    assert_eq!(v4["limits"]["fail_on_any"], true);
}

// ---------------------------------------------------------------------------------------------
// 3. GitHub workflow commands.

#[test]
fn github_annotations_land_on_files_and_lines() {
    let r = review_corpus();
    let run = check(&r.t, &["g", "--format", "github"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let mut want = r.github_findings("error");
    want.push(
        "::error title=dupsift check failed::6 duplicate documents (no duplicate is accepted)"
            .into(),
    );
    want.push(
        "::error title=dupsift check failed::2 repeated passages (no repeat is accepted)".into(),
    );
    assert_lines(&lines(&run.stdout), &want);

    // A check that passes annotates with warnings and has no failure line.
    let run = check(
        &r.t,
        &[
            "g",
            "--format",
            "github",
            "--max-duplicate-ratio",
            "0.5",
            "--max-passage-ratio",
            "0.5",
        ],
    )
    .success();
    assert_lines(&lines(&run.stdout), &r.github_findings("warning"));

    // A ratio exceeded: its sentence, with `%` escaped in the message.
    let run = check(
        &r.t,
        &[
            "g",
            "--format",
            "github",
            "--max-duplicate-ratio",
            "0.1",
            "--max-passage-ratio",
            "0.5",
        ],
    );
    assert_eq!(run.code, Some(1));
    let mut want = r.github_findings("error");
    want.push(
        "::error title=dupsift check failed::duplicate documents 6 of 14 = 42.86%25 > 10.00%25"
            .into(),
    );
    assert_lines(&lines(&run.stdout), &want);
}

// ---------------------------------------------------------------------------------------------
// 4. SARIF.

#[test]
fn sarif_has_one_result_per_finding_with_relative_uris() {
    let r = review_corpus();
    let run = check(&r.t, &["g", "--format", "sarif"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let sarif: Value = serde_json::from_slice(&run.stdout).expect("SARIF is JSON");
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(
        sarif["$schema"],
        "https://json.schemastore.org/sarif-2.1.0.json"
    );
    let runs = arr(&sarif, "runs");
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "dupsift");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    let rules: Vec<&str> = arr(driver, "rules").iter().map(|x| s(x, "id")).collect();
    assert_eq!(
        rules,
        ["exact-duplicate", "near-duplicate", "repeated-passage"]
    );
    for rule in arr(driver, "rules") {
        assert!(!s(&rule["shortDescription"], "text").is_empty(), "{rule}");
    }

    let (_, v) = check_json(&r.t, &["g"]);
    let findings = arr(&v, "findings");
    let results = arr(&runs[0], "results");
    assert_eq!(results.len(), findings.len());
    assert_eq!(results.len(), 8);
    let messages: Vec<String> = r
        .github_findings("error")
        .iter()
        .map(|l| {
            l.split_once("::")
                .unwrap()
                .1
                .split_once("::")
                .unwrap()
                .1
                .replace("%25", "%")
        })
        .collect();
    let uri = |path: &str| {
        path.replace('%', "%25")
            .replace(' ', "%20")
            .replace(',', "%2C")
            .replace(':', "%3A")
    };
    for ((res, f), msg) in results.iter().zip(findings).zip(&messages) {
        assert_eq!(res["ruleId"], f["rule"], "{res}");
        assert_eq!(res["level"], "error", "{res}");
        assert_eq!(s(&res["message"], "text"), msg, "{res}");
        let loc = &arr(res, "locations")[0]["physicalLocation"];
        assert_eq!(
            s(&loc["artifactLocation"], "uri"),
            uri(s(&f["place"], "path")),
            "{res}"
        );
        assert_eq!(loc["region"]["startLine"], f["place"]["line"], "{res}");
        match f["place"]["end_line"].as_u64() {
            Some(e) => assert_eq!(loc["region"]["endLine"], e, "{res}"),
            None => assert!(loc["region"].get("endLine").is_none(), "{res}"),
        }
        let rel = &arr(res, "relatedLocations")[0]["physicalLocation"];
        assert_eq!(
            s(&rel["artifactLocation"], "uri"),
            uri(s(&f["original"], "path")),
            "{res}"
        );
        assert_eq!(rel["region"]["startLine"], f["original"]["line"], "{res}");
        assert_eq!(
            res["partialFingerprints"]["dupsiftContent/v1"], f["fingerprint"],
            "{res}"
        );
    }
    // The awkward names, spelled out.
    let uris: Vec<&str> = results
        .iter()
        .map(|x| {
            s(
                &arr(x, "locations")[0]["physicalLocation"]["artifactLocation"],
                "uri",
            )
        })
        .collect();
    assert_eq!(
        uris,
        [
            "g/b.txt",
            "g/d.txt",
            "g/recs.jsonl",
            "g/z%2Ccopy%3A2.txt",
            "g/q%252.txt",
            "g/v%20w.txt",
            "g/b.txt",
            "g/p.txt",
        ]
    );
    assert_eq!(
        arr(&runs[0], "results")[2]["locations"][0]["physicalLocation"]["region"]["startLine"],
        2,
        "the JSONL record's line"
    );

    // Passing: warnings.
    let run = check(
        &r.t,
        &[
            "g",
            "--format",
            "sarif",
            "--max-duplicate-ratio",
            "0.5",
            "--max-passage-ratio",
            "0.5",
        ],
    )
    .success();
    let sarif: Value = serde_json::from_slice(&run.stdout).expect("SARIF is JSON");
    let results = arr(&sarif["runs"][0], "results");
    assert_eq!(results.len(), 8);
    assert!(results.iter().all(|x| x["level"] == "warning"), "{sarif}");
}

// ---------------------------------------------------------------------------------------------
// 5. Fingerprints.

/// (rule, place path, original path, fingerprint) of every finding.
fn fingerprints(v: &Value) -> Vec<(String, String, String, String)> {
    arr(v, "findings")
        .iter()
        .map(|f| {
            (
                s(f, "rule").to_owned(),
                s(&f["place"], "path").to_owned(),
                s(&f["original"], "path").to_owned(),
                s(f, "fingerprint").to_owned(),
            )
        })
        .collect()
}

fn fp_row(rule: &str, place: &str, original: &str, fp: &str) -> (String, String, String, String) {
    (rule.into(), place.into(), original.into(), fp.into())
}

/// The text without its final newline: what a whole-document passage occurrence covers.
fn body(x: &str) -> &str {
    &x[..x.len() - 1]
}

/// Fingerprints are content hashes: the same duplicated content in another file, under another
/// directory given on the command line, keeps them, and so does a rename that makes the
/// duplicate the kept document (the two hashes are sorted); changed content changes them.
///
/// What they are not: unique per finding. A further exact copy of a document is one more
/// finding with the same fingerprint as the copy before it (both are the hash of the original's
/// bytes twice). A further copy of a *near*-duplicate is reported as an exact duplicate of the
/// first copy (fingerprint: that copy's hash twice), not as a second near-duplicate of the kept
/// document.
#[test]
fn fingerprints_follow_content_not_paths() {
    let t = TempCorpus::new();
    let (a, b) = near_dup_corpus(&t, 5);
    let dup = dup_fp(&a, &b);
    let rep = passage_fp(body(&a), body(&b));
    assert_ne!(dup, dup_fp(&b, &b));
    let (_, v) = check_json(&t, &["d"]);
    assert_eq!(
        fingerprints(&v),
        [
            fp_row("near-duplicate", "d/b.txt", "d/a.txt", &dup),
            fp_row("repeated-passage", "d/b.txt", "d/a.txt", &rep),
        ]
    );
    // Another run: the same verdict.
    let (_, again) = check_json(&t, &["d"]);
    assert_eq!(again, v);

    // The duplicate moved to another directory under another name.
    std::fs::create_dir(t.join("moved")).unwrap();
    std::fs::rename(t.join("d/b.txt"), t.join("moved/zz.txt")).unwrap();
    let (_, v) = check_json(&t, &["d", "moved"]);
    assert_eq!(
        fingerprints(&v),
        [
            fp_row("near-duplicate", "moved/zz.txt", "d/a.txt", &dup),
            fp_row("repeated-passage", "moved/zz.txt", "d/a.txt", &rep),
        ]
    );

    // A second copy of the duplicate: an exact duplicate of the first copy. It is not aligned
    // for passages (byte-identical copies are left to the duplicate findings).
    t.file("moved/zz2.txt", &b);
    let (_, v) = check_json(&t, &["d", "moved"]);
    let three = [
        fp_row("near-duplicate", "moved/zz.txt", "d/a.txt", &dup),
        fp_row(
            "exact-duplicate",
            "moved/zz2.txt",
            "moved/zz.txt",
            &dup_fp(&b, &b),
        ),
        fp_row("repeated-passage", "moved/zz.txt", "d/a.txt", &rep),
    ];
    assert_eq!(fingerprints(&v), three);

    // a.txt renamed to sort after the copies: zz.txt is now kept, a.txt is the near-duplicate.
    // The same fingerprints, on other files.
    std::fs::rename(t.join("d/a.txt"), t.join("moved/zzz.txt")).unwrap();
    let (_, v) = check_json(&t, &["d", "moved"]);
    assert_eq!(
        fingerprints(&v),
        [
            fp_row(
                "exact-duplicate",
                "moved/zz2.txt",
                "moved/zz.txt",
                &dup_fp(&b, &b)
            ),
            fp_row("near-duplicate", "moved/zzz.txt", "moved/zz.txt", &dup),
            fp_row("repeated-passage", "moved/zzz.txt", "moved/zz.txt", &rep),
        ]
    );
    let mut before: Vec<&String> = three.iter().map(|x| &x.3).collect();
    let now = fingerprints(&v);
    let mut after: Vec<&String> = now.iter().map(|x| &x.3).collect();
    before.sort();
    after.sort();
    assert_eq!(before, after);

    // Further exact copies of one document: one finding each, all with the same fingerprint.
    let c = std::fs::read_to_string(t.join("d/c.txt")).unwrap();
    t.file("d/c2.txt", &c).file("d/c3.txt", &c);
    let (_, v) = check_json(&t, &["d", "--no-passages"]);
    let cc = dup_fp(&c, &c);
    assert_eq!(
        fingerprints(&v)[..2],
        [
            fp_row("exact-duplicate", "d/c2.txt", "d/c.txt", &cc),
            fp_row("exact-duplicate", "d/c3.txt", "d/c.txt", &cc),
        ]
    );
    std::fs::remove_file(t.join("d/c2.txt")).unwrap();
    std::fs::remove_file(t.join("d/c3.txt")).unwrap();

    // Changed content: changed fingerprints.
    std::fs::remove_file(t.join("moved/zz2.txt")).unwrap();
    let mut words = ref_words(&b);
    assert_eq!(render(&words), b, "generator: lowercase words");
    words[150] = "qzxchanged".to_owned();
    let b2 = render(&words);
    std::fs::write(t.join("moved/zz.txt"), &b2).unwrap();
    let (_, v) = check_json(&t, &["d", "moved"]);
    let new_dup = dup_fp(&a, &b2);
    let new_rep = passage_fp(body(&a), body(&b2));
    assert_ne!(new_dup, dup);
    assert_ne!(new_rep, rep);
    assert_eq!(
        fingerprints(&v),
        [
            fp_row("near-duplicate", "moved/zzz.txt", "moved/zz.txt", &new_dup),
            fp_row(
                "repeated-passage",
                "moved/zzz.txt",
                "moved/zz.txt",
                &new_rep
            ),
        ]
    );
}

/// Baselines accept findings by fingerprint: what was accepted stays accepted across renames,
/// a further copy is new.
#[test]
fn baseline_accepts_recorded_fingerprints_and_counts_them() {
    let t = TempCorpus::new();
    let (a, b) = near_dup_corpus(&t, 6);
    let (dup, rep) = (dup_fp(&a, &b), passage_fp(body(&a), body(&b)));
    let run = check(&t, &["d", "--baseline", "base.json", "--update-baseline"]).success();
    assert!(run.stdout.is_empty(), "{}", run.stdout_str());
    let base: Value = serde_json::from_slice(&std::fs::read(t.join("base.json")).unwrap())
        .expect("the baseline is JSON");
    assert_eq!(
        base,
        json!({ "kind": "dupsift-baseline", "baseline_version": 1,
                "accepted": { dup.clone(): 1, rep.clone(): 1 } })
    );

    let (code, v) = check_json(&t, &["d", "--baseline", "base.json"]);
    assert_eq!(code, 0);
    let f = &v["figures"];
    assert_eq!(
        (
            u(f, "accepted"),
            u(f, "duplicate_documents"),
            u(f, "passages"),
            u(f, "passage_bytes")
        ),
        (2, 0, 0, 0)
    );
    assert!(arr(&v, "findings").iter().all(|x| x["accepted"] == true));
    let run = check(&t, &["d", "--baseline", "base.json"]).success();
    assert_eq!(
        run.stdout_str(),
        "dupsift check: pass (4 documents, 0 duplicates = 0.00%, 0 repeated passages = 0.00% of bytes, 0 skipped)\n  2 findings accepted by the baseline\n"
    );
    let run = check(&t, &["d", "--baseline", "base.json", "--format", "github"]).success();
    assert_eq!(run.stdout_str(), "", "accepted findings are not annotated");
    let run = check(&t, &["d", "--baseline", "base.json", "--format", "sarif"]).success();
    let sarif: Value = serde_json::from_slice(&run.stdout).unwrap();
    for res in arr(&sarif["runs"][0], "results") {
        assert_eq!(
            (&res["level"], &res["baselineState"]),
            (&json!("note"), &json!("unchanged"))
        );
    }

    // Renamed so that the duplicate is kept: still accepted.
    std::fs::rename(t.join("d/b.txt"), t.join("d/0.txt")).unwrap();
    let (code, v) = check_json(&t, &["d", "--baseline", "base.json"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["figures"]["accepted"], 2);
    assert_eq!(v["findings"][0]["place"]["path"], "d/a.txt");

    // A further copy: new, and the gate fails on it alone.
    t.file("d/zz.txt", &b);
    let (code, v) = check_json(&t, &["d", "--baseline", "base.json"]);
    assert_eq!(code, 1);
    assert_eq!(v["figures"]["accepted"], 2);
    assert_eq!(v["figures"]["duplicate_documents"], 1);
    let new: Vec<_> = fingerprints(&v)
        .into_iter()
        .zip(arr(&v, "findings"))
        .filter(|(_, x)| x["accepted"] == false)
        .map(|(r, _)| r)
        .collect();
    assert_eq!(
        new,
        [fp_row(
            "exact-duplicate",
            "d/zz.txt",
            "d/0.txt",
            &dup_fp(&b, &b)
        )]
    );
    assert_eq!(
        v["failures"],
        json!(["1 duplicate document (no duplicate is accepted)"])
    );

    // Not a baseline: exit 2.
    t.file(
        "foreign.json",
        r#"{"kind":"other","baseline_version":1,"accepted":{}}"#,
    );
    let run = check(&t, &["d", "--baseline", "foreign.json"]).usage_error();
    assert!(run.stderr.contains("foreign.json"), "{}", run.stderr);
    let run = check(&t, &["d", "--baseline", "absent.json"]).usage_error();
    assert!(run.stderr.contains("absent.json"), "{}", run.stderr);
}

// ---------------------------------------------------------------------------------------------
// 6. -o FILE.

#[test]
fn output_file_is_written_atomically_and_the_exit_code_is_the_verdict() {
    let r = review_corpus();
    for format in ["text", "json", "github", "sarif"] {
        let plain = check(&r.t, &["g", "--format", format]);
        assert_eq!(plain.code, Some(1));
        let run = check(&r.t, &["g", "--format", format, "-o", "out.txt"]);
        assert_eq!(run.code, Some(1), "{format}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{format}: {}", run.stdout_str());
        let written = std::fs::read(r.t.join("out.txt")).expect("the output is written");
        assert_eq!(
            String::from_utf8_lossy(&written),
            String::from_utf8_lossy(&plain.stdout),
            "{format}"
        );
    }
    // Passing, into an existing file in another directory: replaced whole, exit 0.
    r.t.file(
        "reports/check.json",
        "old content that is longer than nothing ".repeat(100),
    );
    let args = [
        "g",
        "--format",
        "json",
        "--max-duplicate-ratio",
        "0.5",
        "--max-passage-ratio",
        "0.5",
    ];
    let plain = check(&r.t, &args).success();
    let mut with_o = args.to_vec();
    with_o.extend(["--output", "reports/check.json"]);
    let run = check(&r.t, &with_o).success();
    assert!(run.stdout.is_empty());
    assert_eq!(
        std::fs::read(r.t.join("reports/check.json")).unwrap(),
        plain.stdout
    );
    // No temporary file left anywhere.
    for dir in [r.t.path().to_path_buf(), r.t.join("reports")] {
        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(names.is_empty(), "{}: {names:?}", dir.display());
    }
    // An output that cannot be written: exit 2, not a verdict.
    let run = check(&r.t, &["g", "-o", "no/such/dir/out.txt"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("no/such/dir"), "{}", run.stderr);
}

// ---------------------------------------------------------------------------------------------
// 7. Determinism.

#[test]
fn output_is_identical_across_thread_counts() {
    let r = review_corpus();
    for format in ["json", "github", "sarif", "text"] {
        let one = check(&r.t, &["g", "--format", format, "--threads", "1"]);
        let two = check(&r.t, &["g", "--format", format, "--threads", "2"]);
        assert_eq!(one.code, Some(1));
        assert_eq!(two.code, Some(1));
        assert!(
            one.stdout == two.stdout,
            "{format}: outputs differ\n--- 1\n{}\n--- 2\n{}",
            one.stdout_str(),
            two.stdout_str()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 8. --max-findings.

#[test]
fn max_findings_limits_the_text_listing() {
    let r = review_corpus();
    let bytes = r.bytes();
    let head = [
        format!(
            "dupsift check: FAIL (14 documents, 6 duplicates = 42.86%, 2 repeated passages = {:.2}% of bytes, 1 skipped)",
            r.passage_bytes() as f64 * 100.0 / bytes as f64
        ),
        "  failed: 6 duplicate documents (no duplicate is accepted)".to_owned(),
        "  failed: 2 repeated passages (no repeat is accepted)".to_owned(),
    ];
    let near = format!(
        "  g/b.txt:1: near-duplicate of g/a.txt (similarity {:.3})",
        r.similarity_ab()
    );
    let run = check(&r.t, &["g", "--max-findings", "1"]);
    assert_eq!(run.code, Some(1));
    let mut want = head.to_vec();
    want.extend([
        "largest findings:".to_owned(),
        near.clone(),
        "  ... and 7 more (--format json lists all)".to_owned(),
    ]);
    assert_lines(&lines(&run.stdout), &want);

    let run = check(&r.t, &["g", "--max-findings", "0"]);
    let mut want = head.to_vec();
    want.extend([
        "largest findings:".to_owned(),
        "  ... and 8 more (--format json lists all)".to_owned(),
    ]);
    assert_lines(&lines(&run.stdout), &want);

    // The default (10) lists all 8, largest first, and says nothing more.
    let run = check(&r.t, &["g"]);
    let got = lines(&run.stdout);
    assert_eq!(got.len(), 3 + 1 + 8, "{}", got.join("\n"));
    assert_eq!(got[4], near);
    assert!(!got.iter().any(|l| l.contains("more (--format json")));
    let (_, v) = check_json(&r.t, &["g"]);
    let largest = arr(&v, "findings").iter().map(|f| u(f, "bytes")).max();
    assert_eq!(
        largest,
        Some(r.b.len() as u64),
        "b.txt is the largest finding"
    );
    let q = "  g/q%2.txt:1: exact duplicate of g/q%1.txt".to_owned();
    assert!(got.contains(&q), "{}", got.join("\n"));
    let rec = "  g/recs.jsonl:2: exact duplicate of g/e.txt".to_owned();
    assert!(got.contains(&rec), "{}", got.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// Regressions found while writing these tests.

/// A message names the original by `path:line` when it is a JSONL record, whatever the file's
/// extension: `.jsonl`, `.ndjson`, compressed or not (all read as JSONL).
#[test]
fn messages_give_the_line_of_a_jsonl_original_whatever_its_extension() {
    let t = TempCorpus::new();
    let mut g = Gen::new(8);
    let names = ["a.jsonl", "a.ndjson", "a.jsonl.gz", "a.ndjson.zst"];
    for (k, name) in names.iter().enumerate() {
        let text = g.text(120);
        let line = jsonl_line(&[("id", json!("r1")), ("text", json!(text))]);
        let bytes = match k {
            2 => gzip(line.as_bytes()),
            3 => zstd(line.as_bytes()),
            _ => line.into_bytes(),
        };
        t.file(&format!("in{k}/{name}"), bytes)
            .file(&format!("in{k}/b.txt"), &text);
    }
    for (k, name) in names.iter().enumerate() {
        let dir = format!("in{k}");
        let run = check(&t, &[&dir, "--no-passages", "--format", "github"]);
        assert_eq!(run.code, Some(1), "{}", run.stderr);
        assert_eq!(
            lines(&run.stdout)[0],
            format!(
                "::error file={dir}/b.txt,line=1,title=dupsift exact-duplicate::exact duplicate of {dir}/{name}:1"
            ),
            "{name}"
        );
    }
}

/// A baseline that accepts nothing judges like no baseline. Here passage 1 (55 words) lies
/// inside passage 0 (120 words) in b.txt: the bytes in repeats count the overlap once.
#[test]
fn an_empty_baseline_judges_like_no_baseline() {
    let t = TempCorpus::new();
    let mut g = Gen::new(9);
    let words = g.g.words(120);
    let long = words.join(" ");
    let short = words[..55].join(" ");
    let mut docs = Vec::new();
    for (name, planted) in [("a", &long), ("b", &long), ("c", &short)] {
        let mut text = g.text(100);
        plant(&mut text, planted);
        text.push_str(&g.text(100));
        t.file(&format!("d/{name}.txt"), &text);
        docs.push(text);
    }
    let e = g.text(100);
    t.file("d/e.txt", &e);
    t.file(
        "empty.json",
        r#"{"kind":"dupsift-baseline","baseline_version":1,"accepted":{}}"#,
    );
    let total: usize = docs.iter().map(String::len).sum::<usize>() + e.len();
    let cut = long.len() + short.len();

    let (_, plain) = check_json(&t, &["d"]);
    let f = &plain["figures"];
    assert_eq!((u(f, "passages"), u(f, "passage_bytes")), (2, cut as u64));
    // Three repeat findings: the long one in b, the short one in b (inside the long one) and c.
    let sizes: Vec<u64> = arr(&plain, "findings")
        .iter()
        .map(|x| u(x, "bytes"))
        .collect();
    assert_eq!(
        sizes,
        [long.len() as u64, short.len() as u64, short.len() as u64]
    );

    let (_, based) = check_json(&t, &["d", "--baseline", "empty.json"]);
    assert_same_json(&based["figures"], &plain["figures"]);
    // A limit between the two readings.
    let limit = format!(
        "{}",
        (long.len() as f64 + 1.5 * short.len() as f64) / total as f64
    );
    let code = |args: &[&str]| {
        let mut all = vec!["d", "--max-passage-ratio", &limit];
        all.extend_from_slice(args);
        check(&t, &all).code
    };
    assert_eq!(code(&[]), Some(0));
    assert_eq!(code(&["--baseline", "empty.json"]), Some(0));
}
