//! Keep policies (issue 15): `--keep last`, and `--prefer PATTERN` ranking sources before
//! `--keep` breaks ties, in `scan`, `clean` and `check`, and recorded in the report's params.

use serde_json::Value;

use crate::util::*;

/// Four near-copies of one text: `a/1.txt`, `b/2.txt`, `b/3.txt` (the longest), `c/4.txt`.
fn corpus() -> TempCorpus {
    let text = render(&random_words(&mut Rng::new(7), &vocabulary(3, 400), 300));
    let t = TempCorpus::new();
    t.file("in/a/1.txt", &text)
        .file("in/b/2.txt", format!("{text} one"))
        .file("in/b/3.txt", format!("{text} one two three"))
        .file("in/c/4.txt", format!("{text} four"));
    t
}

/// The kept document of the one cluster, which holds every document.
fn kept(r: &Value) -> String {
    let c = arr(r, "clusters");
    assert_eq!(c.len(), 1, "{r}");
    assert_eq!(
        arr(&c[0], "members").len() as u64 + 1,
        summary(r, "documents"),
        "{r}"
    );
    s(&c[0], "kept").to_owned()
}

#[test]
fn keep_last_keeps_the_last_document_in_input_order() {
    let t = corpus();
    assert_eq!(kept(&t.scan(&["in"])), "a/1.txt");
    let r = t.scan(&["in", "--keep", "last"]);
    assert_eq!(kept(&r), "c/4.txt");
    assert_eq!(r["params"]["keep"], "last");
}

#[test]
fn prefer_ranks_sources_and_keep_breaks_ties_among_the_preferred() {
    let t = corpus();
    // One pattern: the first match in input order, unless --keep says otherwise.
    assert_eq!(kept(&t.scan(&["in", "--prefer", "b/**"])), "b/2.txt");
    assert_eq!(
        kept(&t.scan(&["in", "--prefer", "b/**", "--keep", "longest"])),
        "b/3.txt"
    );
    // An earlier pattern wins over a later one, whatever the input order.
    let r = t.scan(&["in", "--prefer", "c/*", "--prefer", "b/**"]);
    assert_eq!(kept(&r), "c/4.txt");
    assert_eq!(r["params"]["prefer"], serde_json::json!(["c/*", "b/**"]));
    // No match: --keep alone decides; without --prefer the params say nothing of it.
    assert_eq!(kept(&t.scan(&["in", "--prefer", "zzz/**"])), "a/1.txt");
    assert!(t.scan(&["in"])["params"].get("prefer").is_none());
}

#[test]
fn prefer_matches_the_file_of_a_jsonl_record_and_ids() {
    let text = render(&random_words(&mut Rng::new(9), &vocabulary(4, 400), 300));
    let line = |id: &str, t: &str| jsonl_line(&[("id", id.into()), ("text", t.into())]);
    let t = TempCorpus::new();
    t.file("in/web.jsonl", line("w1", &text))
        .file("in/curated.jsonl", line("c1", &format!("{text} x")))
        .file("in/more.jsonl", line("keep-me", &format!("{text} y")));
    // Files in path order: curated.jsonl, more.jsonl, web.jsonl.
    assert_eq!(kept(&t.scan(&["in", "--prefer", "web.jsonl"])), "w1");
    assert_eq!(kept(&t.scan(&["in", "--prefer", "keep-*"])), "keep-me");
}

#[test]
fn clean_and_check_follow_prefer_and_bad_patterns_are_usage_errors() {
    let t = corpus();
    let run = t.run(&["clean", "in", "-o", "out", "--prefer", "c/**"]);
    run.success();
    assert!(t.path().join("out/c/4.txt").exists());
    assert!(!t.path().join("out/a/1.txt").exists());
    let check = t.run(&["check", "in", "--format", "json", "--prefer", "c/**"]);
    let v: Value = serde_json::from_slice(&check.stdout).unwrap();
    let text = v.to_string();
    assert!(text.contains("c/4.txt"), "{text}");
    let bad = t.run(&["scan", "in", "--prefer", "b/["]).usage_error();
    assert!(bad.stderr.contains("--prefer"), "{}", bad.stderr);
    // Against an index the indexed document is kept: --prefer is refused, like --keep.
    t.run(&["index", "build", "in/a", "-o", "a.dsx"]).success();
    let against = t
        .run(&["check", "in/b", "--against", "a.dsx", "--prefer", "b/**"])
        .usage_error();
    assert!(
        against.stderr.contains("drop --prefer"),
        "{}",
        against.stderr
    );
}
