//! What a cluster is (issue 15): by default every member is within the threshold of its
//! cluster's kept document, so a cleanup removes nothing without a near-duplicate that stays;
//! documents joined only through a removed member get a cluster of their own, in the same
//! `component`. `--clusters components` restores transitive removal. `scan`, `clean`, `check`
//! and `check --against` all follow.

use serde_json::Value;

use crate::util::*;

/// A path of `n` documents: each is the one before with five words replaced, 60 words apart,
/// at positions none of the others touched. Neighbours are at J ≈ 0.84, two steps apart at
/// J ≈ 0.71: below the 0.8 threshold.
fn path_of(n: usize) -> Vec<String> {
    let mut g = TextGen::new(15);
    let mut words = g.words(300);
    let mut texts = vec![render(&words)];
    for step in 1..n {
        for i in 0..5 {
            words[i * 60 + step * 11] = format!("edit{step}x{i}");
        }
        texts.push(render(&words));
    }
    for w in texts.windows(2) {
        assert!(jaccard5(&w[0], &w[1]) >= 0.82, "neighbours are near");
    }
    for w in texts.windows(3) {
        assert!(jaccard5(&w[0], &w[2]) < 0.75, "two steps apart are not");
    }
    texts
}

/// `in/1.txt` … `in/N.txt`, one for each text.
fn corpus(texts: &[String]) -> TempCorpus {
    let t = TempCorpus::new();
    for (i, text) in texts.iter().enumerate() {
        t.file(&format!("in/{}.txt", i + 1), text);
    }
    t
}

/// Each cluster as (component, kept, members).
fn shape(r: &Value) -> Vec<(u64, String, Vec<String>)> {
    arr(r, "clusters")
        .iter()
        .map(|c| {
            (
                u(c, "component"),
                s(c, "kept").to_owned(),
                arr(c, "members")
                    .iter()
                    .map(|m| s(m, "doc").to_owned())
                    .collect(),
            )
        })
        .collect()
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn regression_a_chain_whose_ends_are_far_apart_removes_only_the_middle() {
    let t = corpus(&path_of(3));
    let r = t.scan(&["in", "--no-passages"]);
    check_report(&r);
    assert_eq!(r["params"]["clusters"], "threshold");
    // 1 keeps 2; 3 is near 2 only, which is removed, so 3 stays: no cluster of its own.
    assert_eq!(shape(&r), vec![(0, "1.txt".into(), strs(&["2.txt"]))]);
    assert!(arr(&r, "clusters")[0]["members"][0]["similarity"].as_f64() >= Some(0.8));

    // The transitive view: one cluster of three, 3 removed at a similarity below 0.8.
    let c = t.scan(&["in", "--no-passages", "--clusters", "components"]);
    check_report(&c);
    assert_eq!(c["params"]["clusters"], "components");
    assert_eq!(
        shape(&c),
        vec![(0, "1.txt".into(), strs(&["2.txt", "3.txt"]))]
    );
    let far = member(&c, "3.txt").unwrap()["similarity"].as_f64().unwrap();
    assert!(far < 0.8, "{far}");
}

#[test]
fn a_path_is_split_into_clusters_of_one_component_in_keep_order() {
    let t = corpus(&path_of(5));
    let r = t.scan(&["in", "--no-passages"]);
    check_report(&r);
    assert_eq!(
        shape(&r),
        vec![
            (0, "1.txt".into(), strs(&["2.txt"])),
            (0, "3.txt".into(), strs(&["4.txt"])),
        ]
    );
    // 5 is near 4 only: kept alone.
    assert_eq!(summary(&r, "duplicate_documents"), 2);
    // Keeping the last walks the path from the other end.
    let l = t.scan(&["in", "--no-passages", "--keep", "last"]);
    assert_eq!(
        shape(&l),
        vec![
            (0, "5.txt".into(), strs(&["4.txt"])),
            (0, "3.txt".into(), strs(&["2.txt"])),
        ]
    );
    // People see which clusters are parts of one component.
    let text = t
        .run(&["scan", "in", "--no-passages"])
        .success()
        .stdout_str();
    assert!(
        text.contains("Cluster 1: 2 documents (part 2 of 2 of component 0)"),
        "{text}"
    );
}

#[test]
fn clean_removes_nothing_without_a_near_duplicate_that_stays() {
    let texts = path_of(3);
    let t = corpus(&texts);
    // An exact copy of the far end: it goes with its original, which stays.
    t.file("in/4.txt", &texts[2]);
    t.run(&["clean", "in", "-o", "out", "--no-passages"])
        .success();
    let kept: Vec<bool> = (1..=4)
        .map(|i| t.join(&format!("out/{i}.txt")).exists())
        .collect();
    assert_eq!(kept, [true, false, true, false]);
    let manifest = std::fs::read_to_string(t.join("out/manifest.jsonl")).unwrap();
    let lines: Vec<Value> = manifest
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{manifest}");
    for (line, (doc, kept)) in lines.iter().zip([("2.txt", "1.txt"), ("4.txt", "3.txt")]) {
        assert_eq!(line["id"], doc, "{line}");
        assert_eq!(line["duplicate_of"], kept, "{line}");
        let sim = line["similarity"].as_f64().unwrap();
        assert!(sim >= 0.8, "{line}");
        // The similarity is the exact one, as the reference computes it.
        let i = |id: &str| id[..1].parse::<usize>().unwrap() - 1;
        let want = jaccard5(&texts[i(doc).min(2)], &texts[i(kept)]);
        assert!((sim - want).abs() < 1e-4, "{line} vs {want}");
    }
    // Transitive removal on request: 3 (and its copy) go with 1.
    t.run(&[
        "clean",
        "in",
        "-o",
        "out2",
        "--no-passages",
        "--clusters",
        "components",
    ])
    .success();
    assert!(t.join("out2/1.txt").exists());
    assert!(!t.join("out2/3.txt").exists() && !t.join("out2/4.txt").exists());
}

#[test]
fn check_and_check_against_an_index_follow_the_clusters() {
    let texts = path_of(3);
    let t = corpus(&texts);
    let dups = |args: &[&str]| {
        let mut all = vec!["check", "--format", "json", "--no-passages"];
        all.extend_from_slice(args);
        let run = t.run(&all);
        let v: Value =
            serde_json::from_slice(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stderr));
        u(&v["figures"], "duplicate_documents")
    };
    assert_eq!(dups(&["in"]), 1);
    assert_eq!(dups(&["in", "--clusters", "components"]), 2);
    // The first document indexed, the other two checked against it: 2 duplicates 1; 3 is
    // near 2 only, which the index does not hold, so 3 is new.
    t.file("old/1.txt", &texts[0])
        .file("new/2.txt", &texts[1])
        .file("new/3.txt", &texts[2]);
    t.run(&["index", "build", "old", "-o", "old.dsx", "--no-passages"])
        .success();
    assert_eq!(dups(&["new", "--against", "old.dsx"]), 1);
    assert_eq!(
        dups(&["new", "--against", "old.dsx", "--clusters", "components"]),
        2
    );
}
