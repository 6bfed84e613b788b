//! `dupsift clean NEW --against corpus.dsx -o OUT` (issue 15, part 4): a new batch cleaned
//! against the corpus already kept. Every document of NEW that duplicates an indexed document
//! goes, as does every document that duplicates an earlier one of NEW; indexed documents are
//! never written or removed; the manifest names what each removal matched.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::util::*;

/// `words` with five words replaced, 60 apart from `at` on: J ≈ 0.84 to `words`.
fn edited(words: &[String], at: usize, tag: &str) -> Vec<String> {
    let mut w = words.to_vec();
    for i in 0..5 {
        w[at + i * 60] = format!("{tag}x{i}");
    }
    w
}

struct World {
    t: TempCorpus,
    texts: BTreeMap<&'static str, String>,
}

/// The corpus `old/`: a, b (near a), c. The batch `new/`:
/// - `a-copy`: byte-identical to a (matches the index);
/// - `b-near`: near b only (b is near a: it still matches b, which the index keeps);
/// - `d`, `d2`: a new text and its near copy (a match inside the batch);
/// - `e`: new and alone.
fn world() -> World {
    let mut g = TextGen::new(404);
    let a = g.words(300);
    let b = edited(&a, 10, "b");
    let b_near = edited(&b, 35, "bn");
    let d = g.words(300);
    let texts: BTreeMap<&str, String> = [
        ("old/a.txt", render(&a)),
        ("old/b.txt", render(&b)),
        ("old/c.txt", g.text(300)),
        ("new/a-copy.txt", render(&a)),
        ("new/b-near.txt", render(&b_near)),
        ("new/d.txt", render(&d)),
        ("new/d2.txt", render(&edited(&d, 20, "dn"))),
        ("new/e.txt", g.text(300)),
    ]
    .into_iter()
    .collect();
    assert!(jaccard5(&texts["new/b-near.txt"], &texts["old/b.txt"]) >= 0.8);
    assert!(jaccard5(&texts["new/b-near.txt"], &texts["old/a.txt"]) < 0.8);
    let t = TempCorpus::new();
    for (path, text) in &texts {
        t.file(path, text);
    }
    t.run(&["index", "build", "old", "-o", "old.dsx", "--quiet"])
        .success();
    World { t, texts }
}

fn manifest(t: &TempCorpus, out: &str) -> Vec<Value> {
    std::fs::read_to_string(t.join(&format!("{out}/manifest.jsonl")))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_batch_is_cleaned_of_what_the_indexed_corpus_holds_and_of_its_own_duplicates() {
    let w = world();
    let t = &w.t;
    t.run(&["clean", "new", "--against", "old.dsx", "-o", "out", "-q"])
        .success();
    // Only the batch is mirrored: the indexed corpus is neither written nor removed.
    let mut written: Vec<String> = snapshot(&t.join("out"))
        .into_keys()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(
        written,
        ["d.txt", "e.txt", "manifest.jsonl", "report.json"],
        "{written:?}"
    );
    assert_eq!(
        std::fs::read_to_string(t.join("out/d.txt")).unwrap(),
        w.texts["new/d.txt"]
    );
    let m = manifest(t, "out");
    let got: Vec<(&str, &str, &str)> = m
        .iter()
        .map(|x| (s(x, "id"), s(x, "duplicate_of"), s(x, "reason")))
        .collect();
    assert_eq!(
        got,
        [
            ("a-copy.txt", "a.txt", "exact-duplicate"),
            ("b-near.txt", "b.txt", "near-duplicate"),
            ("d2.txt", "d.txt", "near-duplicate"),
        ]
    );
    for x in &m {
        let sim = x["similarity"].as_f64().unwrap();
        assert!(sim >= 0.8, "{x}");
    }
    let want = jaccard5(&w.texts["new/b-near.txt"], &w.texts["old/b.txt"]);
    assert!((m[1]["similarity"].as_f64().unwrap() - want).abs() < 1e-4);
    // The totals count the batch: read = kept + removed + skipped.
    let r = parse_report(&std::fs::read(t.join("out/report.json")).unwrap());
    let totals = &r["clean"]["totals"];
    assert_eq!(
        (
            u(totals, "documents_in"),
            u(totals, "kept"),
            u(totals, "removed")
        ),
        (5, 2, 3),
        "{totals}"
    );
    let bytes: u64 = ["new/d.txt", "new/e.txt"]
        .iter()
        .map(|p| w.texts[p].len() as u64)
        .sum();
    assert_eq!(u(totals, "bytes_out"), bytes);
}

#[test]
fn clean_against_an_index_agrees_with_check_against_it_and_refuses_what_cannot_work() {
    let w = world();
    let t = &w.t;
    let dry = t
        .run(&["clean", "new", "--against", "old.dsx", "--dry-run", "-q"])
        .success();
    let check = t.run(&["check", "new", "--against", "old.dsx", "--format", "json"]);
    let v: Value = serde_json::from_slice(&check.stdout).unwrap();
    let mut flagged: Vec<&str> = arr(&v, "findings")
        .iter()
        .filter(|f| f["rule"] != "repeated-passage")
        .map(|f| s(&f["place"], "doc"))
        .collect();
    flagged.sort();
    assert_eq!(flagged, ["a-copy.txt", "b-near.txt", "d2.txt"]);
    for id in &flagged {
        assert!(dry.stdout_str().contains(id), "{}", dry.stdout_str());
    }
    // The keep choice against an index is the indexed document's.
    let run = t
        .run(&[
            "clean",
            "new",
            "--against",
            "old.dsx",
            "-o",
            "o2",
            "--keep",
            "last",
        ])
        .usage_error();
    assert!(run.stderr.contains("drop --keep"), "{}", run.stderr);
    // Parameters that disagree with the index's.
    let run = t
        .run(&[
            "clean",
            "new",
            "--against",
            "old.dsx",
            "-o",
            "o3",
            "--ngram",
            "4",
        ])
        .usage_error();
    assert!(run.stderr.contains("ngram"), "{}", run.stderr);
    // A missing index.
    t.run(&["clean", "new", "--against", "nope.dsx", "-o", "o4"])
        .usage_error();
    for o in ["o2", "o3", "o4"] {
        assert!(!t.join(o).exists(), "{o} was written");
    }
}
