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

/// One JSONL file of near-copies of one text, each record with `fields` (JSON object members,
/// without braces) added; ids r0, r1, ….
fn records(fields: &[&str]) -> TempCorpus {
    let text = render(&random_words(&mut Rng::new(21), &vocabulary(5, 400), 300));
    let mut jsonl = String::new();
    for (i, f) in fields.iter().enumerate() {
        let sep = if f.is_empty() { "" } else { "," };
        jsonl.push_str(&format!(
            "{{\"id\":\"r{i}\",\"text\":{}{sep}{f}}}\n",
            serde_json::to_string(&format!("{text} {i}")).unwrap()
        ));
    }
    let t = TempCorpus::new();
    t.file("in/docs.jsonl", &jsonl);
    t
}

#[test]
fn keep_newest_and_oldest_rank_dates_with_offsets_and_put_records_without_them_last() {
    let t = records(&[
        "",                                      // r0: no date
        r#""date":"2024-05-01T09:00:00+02:00""#, // r1: 07:00 UTC
        r#""date":"2024-05-01T08:00:00Z""#,      // r2: newest
        r#""date":"not a date""#,                // r3: ranks as missing
        r#""date":"2023-12-31""#,                // r4: oldest
        r#""date":"2024-05-01 08:00Z""#,         // r5: ties with r2, later
    ]);
    let r = t.scan(&["in", "--keep", "newest:date"]);
    assert_eq!(kept(&r), "r2");
    assert_eq!(r["params"]["keep"], "newest:date");
    assert_eq!(kept(&t.scan(&["in", "--keep", "oldest:date"])), "r4");
    // --prefer still ranks first: among r3 and r5, r5 is the one with a date.
    let r = t.scan(&["in", "--keep", "newest:date", "--prefer", "r[35]"]);
    assert_eq!(kept(&r), "r5");
    // A field nobody has: every record ties, the first is kept.
    assert_eq!(kept(&t.scan(&["in", "--keep", "oldest:published"])), "r0");
}

#[test]
fn keep_by_a_numeric_field_and_in_clean_and_check() {
    let t = records(&[
        r#""n":3"#,
        r#""n":-2.5"#,
        r#""n":10"#,
        r#""n":"10""#,
        r#""n":10"#,
    ]);
    assert_eq!(kept(&t.scan(&["in", "--keep", "newest:n"])), "r2");
    assert_eq!(kept(&t.scan(&["in", "--keep", "oldest:n"])), "r1");
    t.run(&["clean", "in", "-o", "out", "--keep", "newest:n"])
        .success();
    let out = std::fs::read_to_string(t.join("out/docs.jsonl")).unwrap();
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.starts_with("{\"id\":\"r2\""), "{out}");
    let check = t.run(&["check", "in", "--format", "json", "--keep", "oldest:n"]);
    let v: Value = serde_json::from_slice(&check.stdout).unwrap();
    let originals: Vec<&str> = arr(&v, "findings")
        .iter()
        .filter(|f| f["rule"] == "near-duplicate")
        .map(|f| s(&f["original"], "doc"))
        .collect();
    assert!(
        !originals.is_empty() && originals.iter().all(|&o| o == "r1"),
        "{v}"
    );
}

#[test]
fn keep_by_field_on_a_text_tree_or_without_a_field_is_a_usage_error() {
    let t = corpus();
    let run = t
        .run(&["scan", "in", "--keep", "newest:date"])
        .usage_error();
    assert!(
        run.stderr.contains("no input is JSONL or Parquet") && run.stderr.contains("newest:date"),
        "{}",
        run.stderr
    );
    let run = t
        .run(&["clean", "in", "-o", "out", "--keep", "oldest:"])
        .usage_error();
    assert!(run.stderr.contains("names no field"), "{}", run.stderr);
    assert!(!t.path().join("out").exists());
    let run = t.run(&["scan", "in", "--keep", "latest"]).usage_error();
    assert!(run.stderr.contains("not a keep policy"), "{}", run.stderr);
}
