//! Repeated passages: runs of at least `--min-passage` words (default 50) that occur two or more
//! times, inside one document or across documents. The motivating document is
//! `corpus/news/upi-article-doubled-body.txt` (its body pasted twice); the other tests plant
//! passages in generated documents and know exactly where every copy is.
//!
//! Generated documents are made of filler (random words, see [`render`]) whose first and last
//! words are unique to the document, so an alignment can never run on past a planted copy by
//! chance, and planted copies are separated from the filler by whitespace: a reported occurrence
//! of a verbatim copy must be exactly its bytes (its final full stop included: punctuation
//! touching the last word is part of the occurrence).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use serde_json::Value;

use crate::util::*;

const SEED_FILE: &str = "corpus/news/upi-article-doubled-body.txt";

// ---------------------------------------------------------------------------------------------
// Reading the passages section.

/// One reported occurrence.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Occ {
    doc: String,
    start: usize,
    end: usize,
    line_start: u64,
    line_end: u64,
}

impl Occ {
    fn bytes(&self) -> Range<usize> {
        self.start..self.end
    }
}

fn occurrences(p: &Value) -> Vec<Occ> {
    arr(p, "occurrences")
        .iter()
        .map(|o| Occ {
            doc: s(o, "doc").to_owned(),
            start: u(o, "start") as usize,
            end: u(o, "end") as usize,
            line_start: u(o, "line_start"),
            line_end: u(o, "line_end"),
        })
        .collect()
}

fn identity(p: &Value) -> f64 {
    p["identity"]
        .as_f64()
        .unwrap_or_else(|| panic!("identity is not a number in {p}"))
}

/// `round4` as the report does it.
fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// Checks what must hold of the passages section of every report: ids, counts and truncation,
/// well-formed occurrences (disjoint and ordered within a document), the sort order, and that
/// the summary and `self_repeating` agree with the passages.
#[track_caller]
fn check_passages(r: &Value) {
    let ps = arr(r, "passages");
    let sr = arr(r, "self_repeating");
    let pp = &r["params"]["passages"];
    if pp.is_null() {
        assert!(ps.is_empty() && sr.is_empty(), "passages are off: {r}");
        for k in [
            "passages",
            "passage_documents",
            "self_repeating_documents",
            "passage_cut_bytes",
        ] {
            assert_eq!(summary(r, k), 0, "summary.{k} with passages off");
        }
        return;
    }
    let (min_words, max_occ) = (u(pp, "min_words"), u(pp, "max_occurrences") as usize);
    let mut truncated = false;
    let mut holders = BTreeSet::new();
    let mut last_cut = u64::MAX;
    for (i, p) in ps.iter().enumerate() {
        assert_eq!(u(p, "id"), i as u64, "passage ids are positions");
        let count = u(p, "count") as usize;
        let occ = occurrences(p);
        assert!(count >= 2, "a passage occurs at least twice: {p}");
        assert_eq!(occ.len(), count.min(max_occ), "occurrences listed: {p}");
        truncated |= occ.len() < count;
        assert!(
            u(p, "words") >= min_words,
            "shorter than --min-passage: {p}"
        );
        assert_eq!(u(p, "bytes") as usize, occ[0].end - occ[0].start, "{p}");
        let id = identity(p);
        assert!(id > 0.0 && id <= 1.0, "identity out of range: {p}");
        assert!(!s(p, "preview").is_empty(), "{p}");
        for (k, o) in occ.iter().enumerate() {
            assert!(o.start < o.end, "empty occurrence: {p}");
            assert!(1 <= o.line_start && o.line_start <= o.line_end, "{p}");
            if k > 0 && occ[k - 1].doc == o.doc {
                assert!(occ[k - 1].end <= o.start, "overlapping occurrences: {p}");
            }
            holders.insert(o.doc.clone());
        }
        if occ.len() == count {
            let cut: u64 = occ[1..].iter().map(|o| (o.end - o.start) as u64).sum();
            assert!(cut <= last_cut, "passages are sorted by bytes cut: {p}");
            last_cut = cut;
        }
    }
    assert_eq!(summary(r, "passages"), ps.len() as u64, "summary.passages");
    assert_eq!(
        summary(r, "self_repeating_documents"),
        sr.len() as u64,
        "summary.self_repeating_documents"
    );
    if !truncated {
        assert_eq!(
            summary(r, "passage_documents"),
            holders.len() as u64,
            "summary.passage_documents"
        );
    }
    for d in sr {
        let (bytes, cut) = (u(d, "bytes"), u(d, "cut_bytes"));
        assert!(0 < cut && cut < bytes, "{d}");
        assert_eq!(d["share"].as_f64(), Some(round4(cut as f64 / bytes as f64)));
        assert!(holders.contains(s(d, "doc")), "{d} holds no passage");
    }
    assert!(summary(r, "passage_cut_bytes") <= summary(r, "bytes"));
}

/// `scan --format json --quiet ARGS` in `t`, with both report checks.
#[track_caller]
fn scan(t: &TempCorpus, args: &[&str]) -> Value {
    let r = t.scan(args);
    check_passages(&r);
    r
}

/// The reported passage that has an occurrence in `doc` overlapping `bytes`.
#[track_caller]
fn passage_at<'a>(r: &'a Value, doc: &str, bytes: &Range<usize>) -> &'a Value {
    let found: Vec<&Value> = arr(r, "passages")
        .iter()
        .filter(|p| {
            occurrences(p)
                .iter()
                .any(|o| o.doc == doc && o.start < bytes.end && bytes.start < o.end)
        })
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one passage at {doc} {bytes:?}, got {found:#?}"
    );
    found[0]
}

// ---------------------------------------------------------------------------------------------
// Generated documents with planted copies.

/// 1-based line of byte `at`, counting `\n`.
fn line_of(text: &[u8], at: usize) -> u64 {
    1 + text[..at].iter().filter(|&&b| b == b'\n').count() as u64
}

/// Where a planted copy is, as the report should give it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Planted {
    doc: String,
    bytes: Range<usize>,
}

impl Planted {
    /// The occurrence the report should give for this copy, lines computed from `text`.
    fn expected(&self, text: &str) -> Occ {
        Occ {
            doc: self.doc.clone(),
            start: self.bytes.start,
            end: self.bytes.end,
            line_start: line_of(text.as_bytes(), self.bytes.start),
            line_end: line_of(text.as_bytes(), self.bytes.end - 1),
        }
    }
}

/// A seeded source of filler and passages; each filler's first and last words are unique tags.
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

    /// `n` (>= 2) random words bracketed by unique tags, rendered, ending with a newline.
    fn filler(&mut self, n: usize) -> String {
        let mut w = self.g.words(n);
        w[0] = self.tag();
        w[n - 1] = self.tag();
        render(&w)
    }

    fn words(&mut self, n: usize) -> Vec<String> {
        self.g.words(n)
    }

    /// `words` with one word substituted about every 40 words, one deleted and one inserted,
    /// all at least 8 words from either end (so that the copy's ends are intact).
    fn edit(&mut self, words: &[String]) -> Vec<String> {
        let n = words.len();
        let inner = |rng: &mut Rng| 8 + rng.below(n - 16);
        let mut out = words.to_vec();
        let mut at = 8 + self.g.rng.below(32);
        while at < n - 8 {
            loop {
                let w = self.g.rng.pick(&self.g.vocab).clone();
                if w != out[at] {
                    out[at] = w;
                    break;
                }
            }
            at += 35 + self.g.rng.below(11);
        }
        let del = inner(&mut self.g.rng);
        out.remove(del);
        let ins = inner(&mut self.g.rng);
        let w = self.g.rng.pick(&self.g.vocab).clone();
        out.insert(ins, w);
        out
    }
}

/// A passage as planted: rendered words without the final newline, so it ends with its full
/// stop.
fn passage_text(words: &[String]) -> String {
    render(words).trim_end().to_owned()
}

/// A document being assembled from filler and planted copies.
struct DocBuilder {
    id: String,
    text: String,
    planted: Vec<(usize, Planted)>,
}

impl DocBuilder {
    fn new(id: &str) -> DocBuilder {
        DocBuilder {
            id: id.to_owned(),
            text: String::new(),
            planted: Vec::new(),
        }
    }

    fn filler(&mut self, g: &mut Gen, n: usize) -> &mut DocBuilder {
        self.text.push_str(&g.filler(n));
        self
    }

    /// Plants copy `text` of passage `label`, on its own line(s).
    fn plant(&mut self, label: usize, text: &str) -> &mut DocBuilder {
        if !self.text.is_empty() && !self.text.ends_with('\n') {
            self.text.push('\n');
        }
        let start = self.text.len();
        self.text.push_str(text);
        self.planted.push((
            label,
            Planted {
                doc: self.id.clone(),
                bytes: start..self.text.len(),
            },
        ));
        self.text.push('\n');
        self
    }
}

/// A generated corpus: documents under `docs/`, ids relative to it.
struct Gened {
    corpus: TempCorpus,
    texts: BTreeMap<String, String>,
    /// Passage label → its planted copies, in document order.
    planted: BTreeMap<usize, Vec<Planted>>,
}

impl Gened {
    fn write(docs: Vec<DocBuilder>) -> Gened {
        let corpus = TempCorpus::new();
        let mut texts = BTreeMap::new();
        let mut planted: BTreeMap<usize, Vec<Planted>> = BTreeMap::new();
        for d in docs {
            corpus.file(&format!("docs/{}", d.id), &d.text);
            for (label, p) in d.planted {
                planted.entry(label).or_default().push(p);
            }
            assert!(texts.insert(d.id, d.text).is_none(), "duplicate id");
        }
        for copies in planted.values_mut() {
            copies.sort_by(|x, y| (&x.doc, x.bytes.start).cmp(&(&y.doc, y.bytes.start)));
        }
        Gened {
            corpus,
            texts,
            planted,
        }
    }

    fn scan(&self, args: &[&str]) -> Value {
        let mut all = vec!["docs"];
        all.extend_from_slice(args);
        scan(&self.corpus, &all)
    }

    /// The occurrences the report should give for passage `label` planted verbatim.
    fn expected(&self, label: usize) -> Vec<Occ> {
        self.planted[&label]
            .iter()
            .map(|p| p.expected(&self.texts[&p.doc]))
            .collect()
    }
}

/// Word count of `text`, as dupsift counts words in the texts the tests generate.
fn word_count(text: &str) -> u64 {
    ref_words(text).len() as u64
}

// ---------------------------------------------------------------------------------------------
// 1. The seed article: a news article whose body was pasted twice.

#[test]
fn seed_article_doubled_body_is_one_passage_with_two_occurrences() {
    let bytes = std::fs::read(crate_root().join(SEED_FILE)).expect("read the seed article");
    assert_eq!(bytes.len(), 7759, "the seed article changed");
    // The body is bytes 0..3879, a newline, then the same body again (docs/corpus.md).
    assert_eq!(bytes[..3879], bytes[3880..]);
    assert_eq!(bytes[3879], b'\n');
    let body = std::str::from_utf8(&bytes[..3879]).expect("UTF-8");

    let r = scan_json(&[SEED_FILE]);
    check_passages(&r);
    let ps = arr(&r, "passages");
    assert_eq!(ps.len(), 1, "{ps:#?}");
    let p = &ps[0];
    assert_eq!(u(p, "count"), 2);
    assert_eq!(identity(p), 1.0);
    assert_eq!(u(p, "bytes"), 3879);
    assert_eq!(u(p, "words"), word_count(body));
    assert_eq!(u(p, "words"), 627);
    assert!(
        s(p, "preview").starts_with("March 31 (UPI) — Russia is actively looking"),
        "{p}"
    );
    let occ = |start, end, line_start, line_end| Occ {
        doc: SEED_FILE.to_owned(),
        start,
        end,
        line_start,
        line_end,
    };
    // 18 newlines in the body: lines 1-19; the second copy starts on line 20 and the file has
    // 38 lines (no final newline).
    assert_eq!(
        occurrences(p),
        [occ(0, 3879, 1, 19), occ(3880, 7759, 20, 38)]
    );
    assert_eq!(line_of(&bytes, 3880), 20);
    assert_eq!(line_of(&bytes, 7758), 38);

    let sr = arr(&r, "self_repeating");
    assert_eq!(sr.len(), 1, "{sr:#?}");
    assert_eq!(s(&sr[0], "doc"), SEED_FILE);
    assert_eq!(u(&sr[0], "bytes"), 7759);
    assert_eq!(u(&sr[0], "cut_bytes"), 3879);
    assert_eq!(sr[0]["share"].as_f64(), Some(0.4999));

    assert_eq!(summary(&r, "passages"), 1);
    assert_eq!(summary(&r, "passage_documents"), 1);
    assert_eq!(summary(&r, "self_repeating_documents"), 1);
    assert_eq!(summary(&r, "passage_cut_bytes"), 3879);
    assert_eq!(
        r["params"]["passages"],
        serde_json::json!({"min_words": 50, "max_occurrences": 100})
    );
}

#[test]
fn no_passages_reports_nothing_for_the_seed_article() {
    let r = scan_json(&[SEED_FILE, "--no-passages"]);
    check_passages(&r);
    assert!(r["params"]["passages"].is_null(), "{}", r["params"]);
    assert!(arr(&r, "passages").is_empty());
    assert!(arr(&r, "self_repeating").is_empty());
    for k in [
        "passages",
        "passage_documents",
        "self_repeating_documents",
        "passage_cut_bytes",
    ] {
        assert_eq!(summary(&r, k), 0, "summary.{k}");
    }
    // The rest of the scan is unchanged.
    assert_eq!(summary(&r, "documents"), 1);
    assert_eq!(summary(&r, "bytes"), 7759);
}

/// Byte-identical copies of a document are exact duplicates (in a cluster), and are not
/// searched for passages; but a copy may be the document a cleanup keeps, so it repeats its
/// original's self-repeats: the passage is listed in both, and both repeat themselves.
#[test]
fn exact_copies_of_a_self_repeating_document_repeat_its_passage_too() {
    let bytes = std::fs::read(crate_root().join(SEED_FILE)).expect("read the seed article");
    let t = TempCorpus::new();
    t.file("a.txt", &bytes).file("b.txt", &bytes);
    let r = scan(&t, &["."]);
    assert_eq!(
        clusters(&r),
        vec![vec!["a.txt".to_owned(), "b.txt".to_owned()]]
    );
    assert_eq!(
        member(&r, "b.txt").map(|m| m["exact"].clone()),
        Some(true.into())
    );
    let ps = arr(&r, "passages");
    assert_eq!(ps.len(), 1, "{ps:#?}");
    let got: Vec<(String, Range<usize>)> = occurrences(&ps[0])
        .into_iter()
        .map(|o| (o.doc.clone(), o.bytes()))
        .collect();
    assert_eq!(
        got,
        [
            ("a.txt".to_owned(), 0..3879),
            ("a.txt".to_owned(), 3880..7759),
            ("b.txt".to_owned(), 0..3879),
            ("b.txt".to_owned(), 3880..7759)
        ]
    );
    assert_eq!(u(&ps[0], "count"), 4);
    let sr: Vec<&str> = arr(&r, "self_repeating")
        .iter()
        .map(|x| s(x, "doc"))
        .collect();
    assert_eq!(sr, ["a.txt", "b.txt"]);
    assert_eq!(summary(&r, "passage_documents"), 2);
    assert_eq!(summary(&r, "passage_cut_bytes"), 3 * 3879);
}

/// The doubled article copied whole into another document is still the body four times (two
/// copies of it in each document), not one long passage hiding the repeat.
#[test]
fn doubled_body_copied_into_another_document_is_four_copies_of_the_body() {
    let bytes = std::fs::read(crate_root().join(SEED_FILE)).expect("read the seed article");
    let doubled = std::str::from_utf8(&bytes).expect("UTF-8");
    let mut g = Gen::new(71);
    let head = g.filler(40);
    let other = format!("{head}{doubled}\n{}", g.filler(40));
    let t = TempCorpus::new();
    t.file("a.txt", doubled).file("b.txt", &other);
    let r = scan(&t, &["."]);
    let ps = arr(&r, "passages");
    assert_eq!(ps.len(), 1, "{ps:#?}");
    let h = head.len();
    let got: Vec<(String, Range<usize>)> = occurrences(&ps[0])
        .into_iter()
        .map(|o| (o.doc.clone(), o.bytes()))
        .collect();
    assert_eq!(
        got,
        [
            ("a.txt".to_owned(), 0..3879),
            ("a.txt".to_owned(), 3880..7759),
            ("b.txt".to_owned(), h..h + 3879),
            ("b.txt".to_owned(), h + 3880..h + 7759),
        ]
    );
    assert_eq!(identity(&ps[0]), 1.0);
    let sr: Vec<(&str, u64)> = arr(&r, "self_repeating")
        .iter()
        .map(|d| (s(d, "doc"), u(d, "cut_bytes")))
        .collect();
    assert_eq!(sr, [("a.txt", 3879), ("b.txt", 3879)]);
}

// ---------------------------------------------------------------------------------------------
// 2, 3. Passages planted in unrelated generated documents.

/// Passage lengths in words and the documents (indices) holding a copy.
const PLANTS: &[(usize, &[usize])] = &[(60, &[1, 4]), (120, &[0, 3, 6]), (400, &[2, 5, 7, 8])];

/// Ten documents of filler; passage `k` of [`PLANTS`] is copied into its documents (edited with
/// [`Gen::edit`] in every copy but the first when `edited`).
fn planted_corpus(seed: u64, edited: bool) -> Gened {
    let mut g = Gen::new(seed);
    let passages: Vec<Vec<String>> = PLANTS.iter().map(|&(n, _)| g.words(n)).collect();
    let mut docs: Vec<DocBuilder> = (0..10)
        .map(|i| DocBuilder::new(&format!("doc{i:02}.txt")))
        .collect();
    for (i, d) in docs.iter_mut().enumerate() {
        d.filler(&mut g, 30 + 17 * i);
        for (label, &(_, holders)) in PLANTS.iter().enumerate() {
            if let Some(k) = holders.iter().position(|&h| h == i) {
                let words = if edited && k > 0 {
                    g.edit(&passages[label])
                } else {
                    passages[label].clone()
                };
                d.plant(label, &passage_text(&words));
                d.filler(&mut g, 20 + 5 * label + i);
            }
        }
    }
    Gened::write(docs)
}

#[test]
fn verbatim_planted_passages_are_reported_exactly() {
    let c = planted_corpus(101, false);
    let r = c.scan(&[]);
    let ps = arr(&r, "passages");
    assert_eq!(ps.len(), PLANTS.len(), "{ps:#?}");
    for (label, &(n, holders)) in PLANTS.iter().enumerate() {
        let copies = &c.planted[&label];
        assert_eq!(copies.len(), holders.len());
        let p = passage_at(&r, &copies[0].doc, &copies[0].bytes);
        assert_eq!(occurrences(p), c.expected(label), "passage of {n} words");
        assert_eq!(u(p, "count") as usize, holders.len());
        assert_eq!(u(p, "words") as usize, n);
        assert_eq!(identity(p), 1.0);
    }
    // Largest cut first: 3 x 400 words, then 2 x 120, then 1 x 60.
    let words: Vec<u64> = ps.iter().map(|p| u(p, "words")).collect();
    assert_eq!(words, [400, 120, 60]);
    assert!(arr(&r, "self_repeating").is_empty());
    assert_eq!(summary(&r, "passage_documents"), 9);
    let cut: usize = (0..PLANTS.len())
        .flat_map(|l| c.planted[&l][1..].iter().map(|p| p.bytes.len()))
        .sum();
    assert_eq!(summary(&r, "passage_cut_bytes") as usize, cut);
}

#[test]
fn edited_copies_are_one_passage_each_with_identity_below_one() {
    let c = planted_corpus(202, true);
    let r = c.scan(&[]);
    let ps = arr(&r, "passages");
    assert_eq!(
        ps.len(),
        PLANTS.len(),
        "one passage per planted passage: {ps:#?}"
    );
    for (label, &(n, holders)) in PLANTS.iter().enumerate() {
        let copies = &c.planted[&label];
        let p = passage_at(&r, &copies[0].doc, &copies[0].bytes);
        let occ = occurrences(p);
        assert_eq!(u(p, "count") as usize, holders.len(), "{n} words: {p:#}");
        assert_eq!(occ.len(), copies.len(), "{n} words: {p:#}");
        for (o, want) in occ.iter().zip(copies) {
            assert_eq!(o.doc, want.doc, "{n} words: {p:#}");
            // Within the copy (the filler around it is unrelated), and most of it.
            assert!(
                want.bytes.start <= o.start && o.end <= want.bytes.end,
                "{n} words: {o:?} outside {want:?}"
            );
            let covered = (o.end - o.start) as f64 / want.bytes.len() as f64;
            assert!(
                covered >= 0.9,
                "{n} words: {o:?} covers {covered:.3} of {want:?}"
            );
        }
        let id = identity(p);
        assert!((0.9..1.0).contains(&id), "{n} words: identity {id}");
    }
}

// ---------------------------------------------------------------------------------------------
// 4, 5. Repeats inside one document; adjacent and overlapping copies.

#[test]
fn passage_three_times_in_one_document() {
    let mut g = Gen::new(303);
    let text = passage_text(&g.words(80));
    let mut d = DocBuilder::new("thrice.txt");
    d.filler(&mut g, 40)
        .plant(0, &text)
        .filler(&mut g, 30)
        .plant(0, &text)
        .filler(&mut g, 25)
        .plant(0, &text)
        .filler(&mut g, 35);
    let mut other = DocBuilder::new("other.txt");
    other.filler(&mut g, 300);
    let c = Gened::write(vec![d, other]);
    let r = c.scan(&[]);
    let ps = arr(&r, "passages");
    assert_eq!(ps.len(), 1, "{ps:#?}");
    let expected = c.expected(0);
    assert_eq!(expected.len(), 3);
    assert_eq!(occurrences(&ps[0]), expected);
    assert_eq!(u(&ps[0], "count"), 3);
    assert_eq!(u(&ps[0], "words"), 80);
    assert_eq!(identity(&ps[0]), 1.0);
    let cut = (expected[1].end - expected[1].start) + (expected[2].end - expected[2].start);
    assert_eq!(cut, 2 * text.len());
    let sr = arr(&r, "self_repeating");
    assert_eq!(sr.len(), 1, "{sr:#?}");
    assert_eq!(s(&sr[0], "doc"), "thrice.txt");
    assert_eq!(u(&sr[0], "cut_bytes") as usize, cut);
    assert_eq!(u(&sr[0], "bytes") as usize, c.texts["thrice.txt"].len());
    assert_eq!(summary(&r, "passage_cut_bytes") as usize, cut);
    assert_eq!(summary(&r, "passage_documents"), 1);
}

#[test]
fn adjacent_passages_are_two_passages_that_do_not_overlap() {
    let mut g = Gen::new(404);
    let (p1, p2) = (passage_text(&g.words(70)), passage_text(&g.words(90)));
    let mut a = DocBuilder::new("a.txt");
    a.filler(&mut g, 30)
        .plant(1, &p1)
        .plant(2, &p2)
        .filler(&mut g, 30);
    let mut b = DocBuilder::new("b.txt");
    b.filler(&mut g, 25).plant(1, &p1).filler(&mut g, 45);
    let mut c = DocBuilder::new("c.txt");
    c.filler(&mut g, 50).plant(2, &p2).filler(&mut g, 20);
    let c = Gened::write(vec![a, b, c]);
    let r = c.scan(&[]);
    let ps = arr(&r, "passages");
    assert_eq!(ps.len(), 2, "{ps:#?}");
    for label in [1, 2] {
        let copies = &c.planted[&label];
        let p = passage_at(&r, &copies[0].doc, &copies[0].bytes);
        assert_eq!(occurrences(p), c.expected(label));
        assert_eq!(identity(p), 1.0);
    }
    // In a.txt the two are separated by one newline: adjacent, not overlapping.
    let (e1, e2) = (&c.planted[&1][0], &c.planted[&2][0]);
    assert_eq!((e1.doc.as_str(), e2.doc.as_str()), ("a.txt", "a.txt"));
    assert_eq!(e1.bytes.end + 1, e2.bytes.start);
    assert!(arr(&r, "self_repeating").is_empty());
}

#[test]
fn a_copy_overlapping_two_adjacent_passages_is_reported() {
    let mut g = Gen::new(505);
    let (w1, w2) = (g.words(120), g.words(120));
    let (p1, p2) = (passage_text(&w1), passage_text(&w2));
    let mut a = DocBuilder::new("a.txt");
    a.filler(&mut g, 30)
        .plant(1, &p1)
        .plant(2, &p2)
        .filler(&mut g, 30);
    let mut b = DocBuilder::new("b.txt");
    b.filler(&mut g, 25).plant(1, &p1).filler(&mut g, 45);
    let mut c = DocBuilder::new("c.txt");
    c.filler(&mut g, 50).plant(2, &p2).filler(&mut g, 20);
    // The second half of passage 1, then the first half of passage 2 (60 words each).
    let half1 = passage_text(&w1[60..]);
    let half2 = passage_text(&w2[..60]);
    let mut d = DocBuilder::new("d.txt");
    d.filler(&mut g, 35)
        .plant(3, &half1)
        .plant(4, &half2)
        .filler(&mut g, 35);
    let c = Gened::write(vec![a, b, c, d]);
    let r = c.scan(&[]);
    assert!(!arr(&r, "passages").is_empty());
    let in_d: Vec<Occ> = arr(&r, "passages")
        .iter()
        .flat_map(occurrences)
        .filter(|o| o.doc == "d.txt")
        .collect();
    let planted_d = c.planted[&3][0].bytes.start..c.planted[&4][0].bytes.end;
    for o in &in_d {
        assert!(
            planted_d.start <= o.start && o.end <= planted_d.end,
            "{o:?} is outside the planted halves {planted_d:?}"
        );
    }
    // Both halves are wholly covered by occurrences in d.txt: as one occurrence (they are
    // contiguous in a.txt too) or as two.
    for label in [3, 4] {
        let half = &c.planted[&label][0].bytes;
        // Occurrences of different passages may overlap here (the run in d.txt is a copy of
        // a.txt's middle, and each half is a copy of b.txt or c.txt): count each byte once.
        let covered = half
            .clone()
            .filter(|&i| in_d.iter().any(|o| o.start <= i && i < o.end))
            .count();
        assert_eq!(
            covered,
            half.len(),
            "half {label} {half:?} in d.txt: {in_d:?}"
        );
    }
    // Every copy in a, b and c is still covered.
    for label in [1, 2] {
        for copy in &c.planted[&label] {
            let here: Vec<Occ> = arr(&r, "passages")
                .iter()
                .flat_map(occurrences)
                .filter(|o| o.doc == copy.doc)
                .collect();
            let covered = copy
                .bytes
                .clone()
                .filter(|&i| here.iter().any(|o| o.start <= i && i < o.end))
                .count();
            assert_eq!(covered, copy.bytes.len(), "{copy:?}");
        }
    }
    // Regression: the overlapping copy in d.txt must not glue passage 1 and passage 2 into one
    // passage (b.txt and c.txt share no words, so no passage may hold both).
    for p in arr(&r, "passages") {
        let docs: Vec<String> = occurrences(p).into_iter().map(|o| o.doc).collect();
        assert!(
            !(docs.iter().any(|d| d == "b.txt") && docs.iter().any(|d| d == "c.txt")),
            "one passage holds both b.txt and c.txt: {p}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 6. Boilerplate.

#[test]
fn boilerplate_in_300_documents_is_one_passage_with_truncated_occurrences() {
    let mut g = Gen::new(606);
    let notice = passage_text(&g.words(60));
    let docs: Vec<DocBuilder> = (0..300)
        .map(|i| {
            let mut d = DocBuilder::new(&format!("d{i:03}.txt"));
            d.filler(&mut g, 30 + i % 7)
                .plant(0, &notice)
                .filler(&mut g, 30 + i % 11);
            d
        })
        .collect();
    let c = Gened::write(docs);
    let expected = c.expected(0);
    assert_eq!(expected.len(), 300);

    let r = c.scan(&[]);
    let ps = arr(&r, "passages");
    assert_eq!(ps.len(), 1, "{:#?}", &ps[..ps.len().min(3)]);
    assert_eq!(u(&ps[0], "count"), 300);
    assert_eq!(u(&ps[0], "words"), 60);
    assert_eq!(identity(&ps[0]), 1.0);
    assert_eq!(
        occurrences(&ps[0]),
        expected[..100],
        "the default lists 100"
    );
    assert_eq!(summary(&r, "passage_documents"), 300);
    assert_eq!(
        summary(&r, "passage_cut_bytes") as usize,
        299 * notice.len()
    );
    assert!(arr(&r, "self_repeating").is_empty());

    let r = c.scan(&["--max-occurrences", "25"]);
    let ps = arr(&r, "passages");
    assert_eq!(ps.len(), 1);
    assert_eq!(u(&ps[0], "count"), 300, "all occurrences are counted");
    assert_eq!(occurrences(&ps[0]), expected[..25]);
    assert_eq!(summary(&r, "passage_documents"), 300);
    assert_eq!(
        summary(&r, "passage_cut_bytes") as usize,
        299 * notice.len()
    );
}

// ---------------------------------------------------------------------------------------------
// 7. Nothing repeated; the minimum length.

#[test]
fn unrelated_documents_have_no_passages() {
    let mut g = Gen::new(707);
    let docs: Vec<DocBuilder> = (0..50)
        .map(|i| {
            let mut d = DocBuilder::new(&format!("u{i:02}.txt"));
            d.filler(&mut g, 150 + 3 * i);
            d
        })
        .collect();
    let c = Gened::write(docs);
    let r = c.scan(&[]);
    assert_eq!(summary(&r, "documents"), 50);
    assert!(arr(&r, "passages").is_empty(), "{:#}", r["passages"]);
    assert!(arr(&r, "self_repeating").is_empty());
    for k in [
        "passages",
        "passage_documents",
        "self_repeating_documents",
        "passage_cut_bytes",
    ] {
        assert_eq!(summary(&r, k), 0, "summary.{k}");
    }
}

#[test]
fn passages_shorter_than_min_passage_are_not_reported() {
    let mut g = Gen::new(808);
    let shared = passage_text(&g.words(30));
    let mut a = DocBuilder::new("a.txt");
    a.filler(&mut g, 60).plant(0, &shared).filler(&mut g, 60);
    let mut b = DocBuilder::new("b.txt");
    b.filler(&mut g, 45).plant(0, &shared).filler(&mut g, 70);
    let c = Gened::write(vec![a, b]);

    let r = c.scan(&[]);
    assert!(arr(&r, "passages").is_empty(), "{:#}", r["passages"]);
    assert_eq!(summary(&r, "passages"), 0);
    let r = c.scan(&["--min-passage", "31"]);
    assert!(arr(&r, "passages").is_empty(), "{:#}", r["passages"]);

    for min in ["20", "30"] {
        let r = c.scan(&["--min-passage", min]);
        assert_eq!(u(&r["params"]["passages"], "min_words").to_string(), min);
        let ps = arr(&r, "passages");
        assert_eq!(ps.len(), 1, "--min-passage {min}: {ps:#?}");
        assert_eq!(occurrences(&ps[0]), c.expected(0), "--min-passage {min}");
        assert_eq!(u(&ps[0], "words"), 30);
        assert_eq!(identity(&ps[0]), 1.0);
    }
    // 16 is the smallest minimum accepted.
    c.corpus
        .run(&["scan", "docs", "--min-passage", "15"])
        .usage_error();
    scan(&c.corpus, &["docs", "--min-passage", "16"]);
}

// ---------------------------------------------------------------------------------------------
// 8. JSONL.

#[test]
fn jsonl_offsets_are_into_the_decoded_text_field() {
    let mut g = Gen::new(909);
    let passage = passage_text(&g.words(120));
    assert!(passage.contains('\n'), "the passage spans lines");
    // Escapes and non-ASCII characters before the passage: the JSON bytes and the decoded
    // text differ in length there.
    let head_json =
        r#"caf\u00e9 \u2014 \"na\u00efve\" r\u00e9sum\u00e9\tend\nnext line caf\u00e9 \u2014 \n"#;
    let head_text = "café — \"naïve\" résumé\tend\nnext line café — \n";
    let filler_a = g.filler(40);
    let filler_b = g.filler(55);
    let tail = g.filler(30);
    let text1 = format!("{head_text}{filler_a}{passage}\n{tail}");
    let text2 = format!("{filler_b}{passage}\nvoilà — fin\n");
    let esc = |t: &str| {
        let j = serde_json::to_string(t).expect("serialise");
        j[1..j.len() - 1].to_owned()
    };
    let line1 = format!(
        "{{\"id\": \"j1\", \"text\": \"{head_json}{}{}\\n{}\"}}\n",
        esc(&filler_a),
        esc(&passage),
        esc(&tail)
    );
    let line2 = jsonl_line(&[("id", "j2".into()), ("text", text2.clone().into())]);
    // The hand-written line decodes to text1.
    let v: Value = serde_json::from_str(&line1).expect("valid JSON");
    assert_eq!(v["text"], text1.as_str());
    let unrelated = jsonl_line(&[("id", "j3".into()), ("text", g.filler(200).into())]);
    let t = TempCorpus::new();
    t.file("feed.jsonl", [line1, unrelated, line2].concat());

    let r = scan(&t, &["feed.jsonl"]);
    let ps = arr(&r, "passages");
    assert_eq!(ps.len(), 1, "{ps:#?}");
    let occ = occurrences(&ps[0]);
    let texts = [("j1", &text1), ("j2", &text2)];
    assert_eq!(occ.len(), 2, "{occ:?}");
    for (o, (id, text)) in occ.iter().zip(texts) {
        assert_eq!(o.doc, id);
        let bytes = text.as_bytes();
        assert_eq!(
            &bytes[o.bytes()],
            passage.as_bytes(),
            "{id}: the occurrence's bytes of the decoded text field are the passage"
        );
        let start = text.find(&passage).expect("planted");
        assert_eq!(o.bytes(), start..start + passage.len());
        assert_eq!(o.line_start, line_of(bytes, o.start), "{id}");
        assert_eq!(o.line_end, line_of(bytes, o.end - 1), "{id}");
    }
    // j1: two head lines, then the filler's line(s); the passage spans more than one line.
    assert!(occ[0].line_start >= 3 && occ[0].line_end > occ[0].line_start);
    assert_eq!(u(&ps[0], "words"), 120);
    assert_eq!(identity(&ps[0]), 1.0);
}

// ---------------------------------------------------------------------------------------------
// 9. Determinism.

#[test]
fn passages_are_identical_across_thread_counts() {
    let edited = planted_corpus(111, true);
    // Repeats inside documents too.
    let mut g = Gen::new(112);
    let text = passage_text(&g.words(70));
    for i in 0..6 {
        let mut d = DocBuilder::new("x");
        d.filler(&mut g, 20 + i).plant(0, &text).filler(&mut g, 30);
        if i % 2 == 0 {
            d.plant(0, &text).filler(&mut g, 10);
        }
        edited.corpus.file(&format!("docs/rep{i}.txt"), &d.text);
    }
    let section = |threads: &str| {
        let r = edited.scan(&["--threads", threads]);
        (
            r["passages"].clone(),
            r["self_repeating"].clone(),
            r["summary"].clone(),
        )
    };
    let one = section("1");
    assert!(
        one.0.as_array().expect("array").len() > PLANTS.len(),
        "{:#}",
        one.0
    );
    assert!(!one.1.as_array().expect("array").is_empty());
    for threads in ["2", "4"] {
        assert!(one == section(threads), "--threads {threads} differs");
    }
}

// ---------------------------------------------------------------------------------------------
// 10. The text report.

#[test]
fn text_report_shows_passages_and_self_repeating_documents() {
    let text = run_in(crate_root(), &["scan", SEED_FILE])
        .success()
        .stdout_str();
    for needle in [
        "1 repeated passage in 1 document; 1 document repeats itself. \
         A passage cleanup would cut 3.9 KB (50.0% of bytes).",
        "Passage 0: 627 words, 3.9 KB, 2 occurrences, identity 1.000",
        "\"March 31 (UPI) — Russia is actively looking",
        &format!("  {SEED_FILE}  lines 1-19  bytes 0..3879"),
        &format!("  {SEED_FILE}  lines 20-38  bytes 3880..7759"),
        "Documents that repeat themselves:",
        &format!("  {SEED_FILE}  3.9 KB of 7.8 KB repeated (50.0%)"),
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }

    let off = run_in(crate_root(), &["scan", SEED_FILE, "--no-passages"])
        .success()
        .stdout_str();
    for needle in [
        "repeated passage",
        "Passage 0",
        "repeat themselves",
        "repeats itself",
    ] {
        assert!(
            !off.contains(needle),
            "{needle:?} with --no-passages:\n{off}"
        );
    }
}

#[test]
fn text_report_lists_at_most_max_passages() {
    let c = planted_corpus(101, false);
    let text = c
        .corpus
        .run(&["scan", "docs", "--max-passages", "2"])
        .success()
        .stdout_str();
    assert!(
        text.contains("3 repeated passages in 9 documents; 0 documents repeat themselves."),
        "{text}"
    );
    assert!(text.contains("Passage 0: 400 words") && text.contains("Passage 1: 120 words"));
    assert!(!text.contains("Passage 2:"), "{text}");
    assert!(text.contains("... and 1 more passage"), "{text}");
    assert!(
        !text.contains("Documents that repeat themselves:"),
        "{text}"
    );
}
