//! The bundled sample corpus (`corpus/`, described in `docs/corpus.md`): the documented
//! near-duplicate groups are found, unrelated documents are kept apart, and the reports agree.
//!
//! Pairs within ±0.03 of the 0.8 threshold (`night-trains`/`edit02` 0.825, `unzip`/`zip` 0.826,
//! `jq`/`mawk` 0.796, `libedit2`/`BSD` 0.784) are deliberately not asserted on.

use serde_json::Value;

use crate::util::*;

/// Groups of `docs/corpus.md` ("Clusters at J ≥ 0.8") at least 0.03 above the threshold, plus
/// the two record-level pairs of `feeds/snippets.jsonl`. Each group must be one whole cluster.
const EXPECTED_GROUPS: &[&[&str]] = &[
    &[
        "prose/essay-sourdough-starter.txt",
        "prose/essay-sourdough-starter-copy.txt",
        "prose/essay-sourdough-starter-appended.txt",
    ],
    &[
        "prose/essay-public-library.txt",
        "prose/essay-public-library-reformatted.txt",
    ],
    &["docs/python-ref-if.txt", "docs/python-ref-else.txt"],
    &["copyright/sqlite3.txt", "copyright/libsqlite3-0.txt"],
    &["news/upi-article.txt", "news/upi-article-doubled-body.txt"],
    &["copyright/libsm-dev.txt", "copyright/libxau-dev.txt"],
    &[
        "copyright/alsa-topology-conf.txt",
        "copyright/alsa-ucm-conf.txt",
    ],
    &["copyright/ca-certificates.txt", "licenses/MPL-2.0.txt"],
    &["copyright/libcairo-gobject2.txt", "licenses/MPL-1.1.txt"],
    &["licenses/GFDL-1.2.txt", "licenses/GFDL-1.3.txt"],
    // 0.707 with the reference `\w+` tokenization, 0.942 per ideograph (dupsift's).
    &["prose/zh-tea-house.txt", "prose/zh-tea-house-variant.txt"],
    // Records of feeds/snippets.jsonl: s06 is the umbrella note's text, s12 is s04 with one word
    // changed (0.851).
    &["s06", "prose/note-lost-umbrella.txt"],
    &["s04", "s12"],
];

/// Documented pairs (J as in `docs/corpus.md`) whose two documents each form the whole of a
/// two-document cluster, so the reported similarity is the pair's. dupsift's tokenizer differs
/// slightly from the reference `\w+` (e.g. `don't`, `1.1` are one word), hence the tolerance.
const EXPECTED_PAIR_J: &[(&str, &str, f64)] = &[
    (
        "news/upi-article.txt",
        "news/upi-article-doubled-body.txt",
        0.994,
    ),
    ("copyright/libsm-dev.txt", "copyright/libxau-dev.txt", 0.948),
    (
        "copyright/alsa-topology-conf.txt",
        "copyright/alsa-ucm-conf.txt",
        0.907,
    ),
    (
        "copyright/ca-certificates.txt",
        "licenses/MPL-2.0.txt",
        0.904,
    ),
    (
        "copyright/libcairo-gobject2.txt",
        "licenses/MPL-1.1.txt",
        0.899,
    ),
    ("licenses/GFDL-1.2.txt", "licenses/GFDL-1.3.txt", 0.852),
    (
        "prose/zh-tea-house.txt",
        "prose/zh-tea-house-variant.txt",
        0.942,
    ),
    ("s04", "s12", 0.851),
    (
        "prose/essay-public-library.txt",
        "prose/essay-public-library-reformatted.txt",
        1.0,
    ),
];

/// Documented pairs clearly below the threshold (J ≤ 0.77): never in one cluster.
const UNRELATED_PAIRS: &[(&str, &str)] = &[
    ("licenses/LGPL-2.1.txt", "licenses/LGPL-2.txt"), // 0.721
    ("copyright/publicsuffix.txt", "licenses/MPL-2.0.txt"), // 0.697
    ("copyright/libargon2-1.txt", "licenses/CC0-1.0.txt"), // 0.688
    ("copyright/libacl1.txt", "copyright/libattr1.txt"), // 0.667
    (
        "docs/python-ref-execmodel.txt",
        "docs/python-ref-naming.txt",
    ), // 0.657
    (
        "copyright/ca-certificates.txt",
        "copyright/publicsuffix.txt",
    ), // 0.655
    (
        "prose/essay-night-trains.txt",
        "prose/essay-night-trains-edit05.txt",
    ), // 0.628
    (
        "news/eastmere-ferry-timetable.txt",
        "news/eastmere-ferry-timetable-wire.txt",
    ), // 0.567
    ("copyright/libncursesw6.txt", "copyright/libpcre2-8-0.txt"), // 0.494
    ("licenses/GPL-1.txt", "licenses/GPL-2.txt"),     // 0.463
    (
        "prose/essay-night-trains.txt",
        "prose/essay-night-trains-edit10.txt",
    ), // 0.431
    (
        "prose/essay-night-trains.txt",
        "prose/essay-night-trains-edit25.txt",
    ), // 0.140
    (
        "prose/fr-marche-du-samedi.txt",
        "prose/fr-marche-du-samedi-sans-accents.txt",
    ), // 0.282
    ("docs/python-ref-if.txt", "docs/python-ref-compound.txt"), // contained, J low
    (
        "docs/python-ref-augassign.txt",
        "docs/python-ref-assignment.txt",
    ), // 0.169
    (
        "prose/essay-night-trains-edit02.txt",
        "prose/essay-night-trains-edit05.txt",
    ), // 0.522
    (
        "prose/essay-sourdough-starter.txt",
        "prose/essay-public-library.txt",
    ), // unrelated
];

fn corpus_report() -> Value {
    scan_json(&["corpus"])
}

/// One-permutation hashing only changes which pairs become candidates; with exact verification
/// the bundled corpus (clusters far from the threshold) gives the same clusters and similarities.
#[test]
fn one_permutation_hashing_finds_the_same_clusters() {
    let classic = corpus_report();
    let oph = scan_json(&["corpus", "--scheme", "oph"]);
    assert_eq!(oph["params"]["scheme"], "oph");
    assert!(classic["params"].get("scheme").is_none());
    assert_eq!(oph["clusters"], classic["clusters"]);
    assert_eq!(oph["passages"], classic["passages"]);
    assert!(!clusters(&oph).is_empty());
}

#[test]
fn sample_corpus_finds_the_documented_clusters() {
    let r = corpus_report();
    for group in EXPECTED_GROUPS {
        for d in group.iter() {
            assert!(
                cluster_with(&r, d).is_some(),
                "{d} is in no cluster; clusters: {:#?}",
                clusters(&r)
            );
        }
        for pair in group.windows(2) {
            assert!(
                same_cluster(&r, pair[0], pair[1]),
                "{} and {} are not in one cluster; clusters: {:#?}",
                pair[0],
                pair[1],
                clusters(&r)
            );
        }
    }
    // "No cluster merges with another at 0.8": every expected group is a whole cluster (the
    // borderline pairs, not asserted on, would form clusters of their own).
    for group in EXPECTED_GROUPS {
        let c = cluster_with(&r, group[0]).expect("checked above");
        assert_eq!(
            arr(c, "members").len() + 1,
            group.len(),
            "cluster of {} has other documents: {c}",
            group[0]
        );
    }
}

#[test]
fn sample_corpus_similarities_match_the_documented_figures() {
    let r = corpus_report();
    for &(a, b, j) in EXPECTED_PAIR_J {
        let c = cluster_with(&r, a).unwrap_or_else(|| panic!("{a} is in no cluster"));
        let ms = arr(c, "members");
        assert_eq!(ms.len(), 1, "{c}");
        let (kept, other) = (s(c, "kept"), s(&ms[0], "doc"));
        assert!(
            (kept, other) == (a, b) || (kept, other) == (b, a),
            "cluster of {a} is {kept} + {other}"
        );
        let sim = ms[0]["similarity"].as_f64().expect("similarity");
        assert!(
            (sim - j).abs() <= 0.01,
            "{a} ~ {b}: reported {sim}, documented {j}"
        );
    }
}

/// The motivating case: a scrape that pasted the article body twice is a near-duplicate of the
/// clean article (J = 0.994: the doubled copy has the same 5-grams plus the few that span the
/// seam).
#[test]
fn doubled_upi_article_clusters_with_the_clean_one() {
    let r = corpus_report();
    let c = cluster_with(&r, "news/upi-article-doubled-body.txt").expect("clustered");
    assert_eq!(
        s(c, "kept"),
        "news/upi-article-doubled-body.txt",
        "first in input order"
    );
    assert_eq!(u(c, "kept_bytes"), 7759);
    let m = member(&r, "news/upi-article.txt").expect("member");
    assert_eq!(u(m, "bytes"), 3880);
    assert_eq!(m["exact"], false);
    let sim = m["similarity"].as_f64().expect("similarity");
    assert!((0.99..1.0).contains(&sim), "similarity {sim}");
}

#[test]
fn sample_corpus_exact_duplicates_have_similarity_one() {
    let r = corpus_report();
    // Byte-identical groups; in each, one of the two is kept unless a third document is.
    for (a, b) in [
        ("docs/python-ref-else.txt", "docs/python-ref-if.txt"),
        ("copyright/libsqlite3-0.txt", "copyright/sqlite3.txt"),
        ("s06", "prose/note-lost-umbrella.txt"),
    ] {
        let c = cluster_with(&r, a).unwrap_or_else(|| panic!("{a} is in no cluster"));
        assert_eq!(s(c, "kept"), a, "first in input order is kept: {c}");
        let m = member(&r, b).unwrap_or_else(|| panic!("{b} is not a member"));
        assert_eq!(m["exact"], true, "{m}");
        assert_eq!(m["similarity"].as_f64(), Some(1.0), "{m}");
        assert_eq!(u(m, "bytes"), u(c, "kept_bytes"));
    }
    // The sourdough group: the appended essay sorts first and is kept; the byte-identical
    // original and copy are not exact duplicates *of the kept document*, but both have the same
    // similarity to it.
    let c = cluster_with(&r, "prose/essay-sourdough-starter.txt").expect("clustered");
    assert_eq!(s(c, "kept"), "prose/essay-sourdough-starter-appended.txt");
    let orig = member(&r, "prose/essay-sourdough-starter.txt").expect("member");
    let copy = member(&r, "prose/essay-sourdough-starter-copy.txt").expect("member");
    assert_eq!(orig["similarity"], copy["similarity"]);
    assert_eq!(orig["exact"], false);
    assert_eq!(copy["exact"], false);
    assert!((orig["similarity"].as_f64().expect("f64") - 0.96).abs() < 0.01);
    // Reformatted: the same words with different bytes is similarity 1 but not exact.
    let m = member(&r, "prose/essay-public-library.txt").expect("member");
    assert_eq!(m["similarity"].as_f64(), Some(1.0));
    assert_eq!(m["exact"], false);
    assert_eq!(summary(&r, "exact_duplicate_documents"), 3);
}

#[test]
fn sample_corpus_keeps_unrelated_documents_apart() {
    let r = corpus_report();
    for &(a, b) in UNRELATED_PAIRS {
        assert!(
            !same_cluster(&r, a, b),
            "{a} and {b} (J well below 0.8) are in one cluster: {:?}",
            cluster_with(&r, a)
        );
    }
    // Most documents are unrelated to every other: at most 20 clusters (13 documented, 2 from
    // the JSONL records, and a few borderline ones), holding well under a quarter of the corpus.
    let n_clusters = summary(&r, "clusters");
    assert!((13..=20).contains(&n_clusters), "{n_clusters} clusters");
    let in_clusters = n_clusters + summary(&r, "duplicate_documents");
    assert!(in_clusters <= 40, "{in_clusters} documents in clusters");
}

/// 158 files, one of them `feeds/snippets.jsonl` read as 14 records: 171 documents, nothing
/// skipped, and `bytes` is the sum of the text files' sizes plus the records' text lengths.
#[test]
fn sample_corpus_summary_counts_every_document() {
    let r = corpus_report();
    let mut files = 0u64;
    let mut bytes = 0u64;
    let mut records = 0u64;
    for entry in walkdir::WalkDir::new(crate_root().join("corpus")) {
        let entry = entry.expect("walk corpus");
        if !entry.file_type().is_file() {
            continue;
        }
        files += 1;
        let content = std::fs::read(entry.path()).expect("read corpus file");
        if entry.path().extension().is_some_and(|e| e == "jsonl") {
            for line in content.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                let v: Value = serde_json::from_slice(line).expect("valid JSONL");
                bytes += s(&v, "text").len() as u64;
                records += 1;
            }
        } else {
            bytes += content.len() as u64;
        }
    }
    assert_eq!((files, records), (158, 14), "docs/corpus.md's counts");
    assert_eq!(summary(&r, "documents"), 158 - 1 + 14);
    assert_eq!(summary(&r, "bytes"), bytes);
    assert_eq!(summary(&r, "skipped"), 0, "{:?}", skipped(&r));
    assert_eq!(summary(&r, "invalid_utf8_documents"), 0);
    assert_eq!(summary(&r, "empty_documents"), 0);
    assert!(summary(&r, "verified_pairs") >= 10);
    let p = &r["params"];
    assert_eq!(
        (s(p, "unit"), u(p, "ngram"), u(p, "num_perm"), u(p, "seed")),
        ("word", 5, 128, 42)
    );
    assert_eq!(
        (u(p, "bands"), u(p, "rows")),
        (18, 6),
        "documented default banding"
    );
    assert_eq!(p["threshold"].as_f64(), Some(0.8));
    assert_eq!((s(p, "verify"), s(p, "keep")), ("exact", "first"));
}

/// Previews are "the start of its text, on one line" of at most `PREVIEW_CHARS` (72) characters
/// plus an ellipsis when cut.
#[test]
fn regression_previews_are_at_most_72_characters_on_one_line() {
    let r = corpus_report();
    let mut previews = Vec::new();
    for c in arr(&r, "clusters") {
        previews.push((s(c, "kept").to_owned(), s(c, "kept_preview").to_owned()));
        for m in arr(c, "members") {
            previews.push((s(m, "doc").to_owned(), s(m, "preview").to_owned()));
        }
    }
    assert!(!previews.is_empty());
    for (doc, p) in &previews {
        assert!(!p.is_empty(), "{doc}: empty preview");
        assert!(!p.contains('\n'), "{doc}: preview spans lines: {p:?}");
        let chars = p.chars().count();
        let cut = p.ends_with('…');
        assert!(
            chars <= 72 + usize::from(cut),
            "{doc}: preview of {chars} characters: {p:?}"
        );
    }
    let upi = cluster_with(&r, "news/upi-article.txt").expect("clustered");
    assert!(
        s(upi, "kept_preview").ends_with('…'),
        "a long text's preview is cut"
    );
}

/// The default (text) report says what the JSON report says.
#[test]
fn sample_corpus_text_report_lists_summary_and_clusters() {
    let r = corpus_report();
    let text = run_in(crate_root(), &["scan", "corpus"]).success();
    assert!(
        text.stderr.is_empty(),
        "text to stdout: no notes: {}",
        text.stderr
    );
    let text = text.stdout_str();
    let sm = &r["summary"];
    for needle in [
        format!("{} documents read", u(sm, "documents")),
        format!("{} skipped", u(sm, "skipped")),
        "word 5-grams, 128 permutations (18 bands x 6 rows), threshold 0.8, exact verification"
            .to_owned(),
        format!(
            "{} clusters holding {} documents ({} exact copies of a kept document).",
            u(sm, "clusters"),
            u(sm, "clusters") + u(sm, "duplicate_documents"),
            u(sm, "exact_duplicate_documents")
        ),
        format!(
            "A cleanup keeping the first of each cluster would remove {} documents",
            u(sm, "duplicate_documents")
        ),
    ] {
        assert!(text.contains(&needle), "{needle:?} missing from:\n{text}");
    }
    for c in arr(&r, "clusters") {
        let header = format!(
            "Cluster {}: {} documents",
            u(c, "id"),
            arr(c, "members").len() + 1
        );
        assert!(text.contains(&header), "{header:?} missing");
        assert!(text.contains(&format!("keep    {}  (", s(c, "kept"))));
        for m in arr(c, "members") {
            let sim = if m["exact"] == true {
                "exact ".to_owned()
            } else {
                format!("{:.3} ", m["similarity"].as_f64().expect("f64"))
            };
            let line = format!("  {sim}  {}  (", s(m, "doc"));
            assert!(text.contains(&line), "{line:?} missing from:\n{text}");
        }
    }
    assert!(!text.contains("Skipped"), "nothing is skipped");
}

#[test]
fn text_report_lists_at_most_max_clusters() {
    let r = corpus_report();
    let n = summary(&r, "clusters");
    let text = run_in(crate_root(), &["scan", "corpus", "--max-clusters", "2"])
        .success()
        .stdout_str();
    assert!(
        text.contains("Cluster 0: ") && text.contains("Cluster 1: "),
        "{text}"
    );
    assert!(!text.contains("Cluster 2: "), "{text}");
    assert!(
        text.contains(&format!("... and {} more clusters", n - 2)),
        "{text}"
    );
    // The summary still counts all of them.
    assert!(text.contains(&format!("{n} clusters holding ")), "{text}");
}

/// `dupsift scan` without a path scans `corpus` in the current directory.
#[test]
fn scan_without_paths_defaults_to_corpus() {
    let explicit = run_in(crate_root(), &["scan", "--format", "json", "-q", "corpus"]).success();
    let default = run_in(crate_root(), &["scan", "--format", "json", "-q"]).success();
    assert_eq!(
        String::from_utf8_lossy(&default.stdout),
        String::from_utf8_lossy(&explicit.stdout)
    );
    let r = parse_report(&default.stdout);
    assert_eq!(summary(&r, "documents"), 171);
}

/// `--timings` adds one line on standard error naming each stage and the MinHash kernel, and
/// changes nothing on standard output.
#[test]
fn timings_name_each_stage_and_leave_the_report_alone() {
    let plain = run_in(crate_root(), &["scan", "--format", "json", "-q"]).success();
    let timed = run_in(
        crate_root(),
        &["scan", "--format", "json", "-q", "--timings"],
    )
    .success();
    assert_eq!(timed.stdout, plain.stdout);
    let line = timed.stderr.trim();
    assert_eq!(line.lines().count(), 1, "{line}");
    for stage in [
        "reading ",
        "verifying ",
        "clustering ",
        "passages ",
        "finishing ",
    ] {
        assert!(line.contains(stage), "{line}");
    }
    assert!(line.contains("(MinHash kernel "), "{line}");
}

/// Without a path and without a `corpus` directory there is nothing to scan: a usage error,
/// not an empty report that a CI gate would pass.
#[test]
fn scan_without_paths_outside_a_checkout_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = run_in(dir.path(), &["scan"]).usage_error();
    assert!(run.stderr.contains("nothing to scan"), "{}", run.stderr);
}

/// Scanning never modifies its inputs (nor leaves files among them).
#[test]
fn sample_corpus_is_not_modified_by_a_scan() {
    let root = crate_root().join("corpus");
    let before = snapshot(&root);
    assert!(before.len() > 150);
    run_in(crate_root(), &["scan", "--format", "json", "corpus"]).success();
    run_in(crate_root(), &["scan", "corpus"]).success();
    assert!(before == snapshot(&root), "corpus/ changed during a scan");
}
