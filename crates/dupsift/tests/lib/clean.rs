//! `clean::run` and `clean::dry_run`: the output tree, the manifest, `report.json` and the
//! totals; refusals (a non-empty or overlapping output, cutting passages a scan did not look
//! for); the file-written callback; a dry run that writes nothing.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use dupsift::clean::{
    self, Annotate, CleanError, CleanOptions, OutputError, Reason, StripPassages,
};
use serde_json::Value;

use crate::util::*;

/// Regular files under `root`, by relative path, with their bytes.
fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in walkdir(root) {
        let rel = e.strip_prefix(root).unwrap().to_string_lossy().into_owned();
        out.insert(rel, std::fs::read(&e).unwrap());
    }
    out
}

fn walkdir(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files.extend(walkdir(&p));
        } else {
            files.push(p);
        }
    }
    files
}

fn manifest(out: &Path) -> Vec<Value> {
    std::fs::read_to_string(out.join("manifest.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn run_writes_the_kept_documents_the_manifest_and_report_json() {
    let c = Corpus::new();
    let (a, near, d) = duplicates(&c);
    let inputs = [c.path("in")];
    let scan_options = options(params(false));
    let result = scan(&inputs, &scan_options);
    let out = c.path("out");
    let done = clean::run(&result, &out, &CleanOptions::new(&inputs, &scan_options)).unwrap();

    let files = tree(&out);
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        ["a.txt", "d.txt", "manifest.jsonl", "report.json"]
    );
    assert_eq!(files["a.txt"], a.as_bytes());
    assert_eq!(files["d.txt"], d.as_bytes());

    let m = manifest(&out);
    assert_eq!(m.len(), 2);
    assert_eq!(
        (&m[0]["id"], &m[0]["reason"], &m[0]["duplicate_of"]),
        (&"b.txt".into(), &"exact-duplicate".into(), &"a.txt".into())
    );
    assert_eq!(m[0]["similarity"], 1.0);
    assert_eq!(
        (&m[1]["id"], &m[1]["reason"], &m[1]["bytes"]),
        (
            &"c.txt".into(),
            &"near-duplicate".into(),
            &near.len().into()
        )
    );

    let t = &done.totals;
    assert_eq!(
        (
            t.documents_in,
            t.kept,
            t.removed,
            t.cut_documents,
            t.skipped
        ),
        (4, 2, 2, 0, 0)
    );
    assert_eq!(t.bytes_in, (2 * a.len() + near.len() + d.len()) as u64);
    assert_eq!(t.bytes_out, (a.len() + d.len()) as u64);
    assert_eq!(t.bytes_removed, (a.len() + near.len()) as u64);
    assert_eq!(done.plan.removed.len(), 2);
    assert_eq!(done.plan.removed[&1].reason, Reason::ExactDuplicate);
    assert_eq!(done.plan.removed[&2].kept, 0);

    let report: Value = serde_json::from_slice(&files["report.json"]).unwrap();
    assert_eq!(report["clean"]["totals"], serde_json::to_value(t).unwrap());
    assert_eq!(report["clean"]["dry_run"], false);
    assert_eq!(report["clean"]["strip_passages"], "none");
    assert_eq!(report["summary"]["duplicate_documents"], 2);
    // Nothing is left beside OUT.
    let beside: Vec<_> = std::fs::read_dir(c.root()).unwrap().collect();
    assert_eq!(beside.len(), 2, "only in/ and out/");
}

#[test]
fn the_callback_sees_each_file_written() {
    let c = Corpus::new();
    duplicates(&c);
    // An empty file is not a document: it is copied through, and counts as a file written.
    c.file("in/sub/empty.txt", "");
    let inputs = [c.path("in")];
    let scan_options = options(params(false));
    let result = scan(&inputs, &scan_options);
    // The callback is `Sync` (a host may clean on a thread of its own).
    let seen = Mutex::new(Vec::new());
    let note = |n: u64| seen.lock().unwrap().push(n);
    let o = CleanOptions {
        on_file_written: Some(&note),
        ..CleanOptions::new(&inputs, &scan_options)
    };
    clean::run(&result, &c.path("out"), &o).unwrap();
    let data_files = tree(&c.path("out")).len() - 2;
    assert_eq!(data_files, 3, "a.txt, d.txt, sub/empty.txt");
    assert_eq!(
        *seen.lock().unwrap(),
        (1..=data_files as u64).collect::<Vec<_>>()
    );
}

#[test]
fn a_non_empty_or_overlapping_output_is_refused_and_left_as_it_was() {
    let c = Corpus::new();
    duplicates(&c);
    c.file("out/old.txt", "previous");
    let inputs = [c.path("in")];
    let scan_options = options(params(false));
    let result = scan(&inputs, &scan_options);
    let mut o = CleanOptions::new(&inputs, &scan_options);
    let out = c.path("out");
    match clean::run(&result, &out, &o) {
        Err(CleanError::Output(OutputError::NotEmpty { out: p })) => assert_eq!(p, out),
        other => panic!("not refused: {other:?}"),
    }
    assert_eq!(tree(&out).keys().collect::<Vec<_>>(), ["old.txt"]);
    let inside = c.path("in/sub");
    let e = clean::run(&result, &inside, &o).unwrap_err();
    assert!(
        matches!(&e, CleanError::Output(OutputError::InsideInput { input, .. }) if input == &inputs[0]),
        "{e:?}"
    );
    assert_eq!(
        clean::check_output(&inputs, c.root(), true),
        Err(OutputError::HoldsInput {
            out: c.root().to_path_buf(),
            input: inputs[0].clone()
        })
    );
    // With force, the old output is replaced whole.
    o.force = true;
    clean::run(&result, &out, &o).unwrap();
    assert!(!out.join("old.txt").exists());
    assert!(out.join("a.txt").exists());
}

/// Issue 18, items 6 and 7: what another process puts in OUT while the cleanup runs is never
/// deleted without `force`: the placement fails, the file stays, and the finished cleanup is
/// kept where the error says. With `force` the old output is swapped out whole, and nothing
/// of either is left beside OUT.
#[test]
fn files_put_in_the_output_during_the_run_survive_the_placement() {
    let c = Corpus::new();
    duplicates(&c);
    let inputs = [c.path("in")];
    let scan_options = options(params(false));
    let result = scan(&inputs, &scan_options);
    let out = c.path("out");
    let intruder = out.join("theirs.txt");
    let plant = |n: u64| {
        if n == 1 {
            std::fs::create_dir_all(intruder.parent().unwrap()).unwrap();
            std::fs::write(&intruder, "not dupsift's").unwrap();
        }
    };
    let o = CleanOptions {
        on_file_written: Some(&plant),
        ..CleanOptions::new(&inputs, &scan_options)
    };
    let kept = match clean::run(&result, &out, &o) {
        Err(CleanError::OutputTaken { path, kept }) => {
            assert_eq!(path, out);
            kept
        }
        other => panic!("placed over a file it did not write: {other:?}"),
    };
    assert_eq!(std::fs::read_to_string(&intruder).unwrap(), "not dupsift's");
    assert!(kept.join("manifest.jsonl").is_file() && kept.join("a.txt").is_file());
    std::fs::remove_dir_all(&kept).unwrap();

    // An empty OUT made meanwhile is simply replaced.
    std::fs::remove_file(&intruder).unwrap();
    clean::run(&result, &out, &CleanOptions::new(&inputs, &scan_options)).unwrap();
    assert!(out.join("a.txt").is_file());

    // With force, an existing OUT is replaced whole, and no hidden directory is left.
    c.file("out/stale.txt", "old");
    let forced = CleanOptions {
        force: true,
        ..CleanOptions::new(&inputs, &scan_options)
    };
    clean::run(&result, &out, &forced).unwrap();
    assert!(!out.join("stale.txt").exists() && out.join("a.txt").is_file());
    let beside: Vec<_> = std::fs::read_dir(c.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".dupsift-"))
        .collect();
    assert!(beside.is_empty(), "{beside:?}");
}

#[test]
fn a_dry_run_plans_and_counts_what_a_run_writes_and_writes_nothing() {
    let c = Corpus::new();
    duplicates(&c);
    let inputs = [c.path("in")];
    let scan_options = options(params(false));
    let result = scan(&inputs, &scan_options);
    let o = CleanOptions::new(&inputs, &scan_options);
    let dry = clean::dry_run(&result, &o).unwrap();
    assert_eq!(std::fs::read_dir(c.root()).unwrap().count(), 1, "only in/");
    let done = clean::run(&result, &c.path("out"), &o).unwrap();
    assert_eq!(dry.totals, done.totals);
    assert_eq!(
        dry.plan.removed.keys().collect::<Vec<_>>(),
        done.plan.removed.keys().collect::<Vec<_>>()
    );
}

#[test]
fn strip_passages_self_writes_a_doubled_body_once_and_needs_passages() {
    let c = Corpus::new();
    let body = words(11, 120);
    let doubled = format!("{body}\n{body}");
    c.file("in/doubled.txt", &doubled)
        .file("in/other.txt", words(12, 200));
    let inputs = [c.path("in")];
    let scan_options = options(params(true));
    let result = scan(&inputs, &scan_options);
    let o = CleanOptions {
        strip_passages: StripPassages::SelfRepeats,
        ..CleanOptions::new(&inputs, &scan_options)
    };
    let done = clean::run(&result, &c.path("out"), &o).unwrap();
    assert_eq!(
        std::fs::read_to_string(c.path("out/doubled.txt")).unwrap(),
        format!("{body}\n")
    );
    assert_eq!(done.totals.cut_documents, 1);
    assert_eq!(done.totals.bytes_cut, body.len() as u64);
    let cuts = manifest(&c.path("out"));
    assert_eq!(cuts.len(), 1);
    assert_eq!(cuts[0]["reason"], "repeated-passage");
    assert_eq!(cuts[0]["start"], body.len() + 1);

    let without = scan(&inputs, &options(params(false)));
    assert!(matches!(
        clean::dry_run(&without, &o),
        Err(CleanError::NeedsPassages)
    ));
    assert!(matches!(
        clean::run(&without, &c.path("out2"), &o),
        Err(CleanError::NeedsPassages)
    ));
    assert!(!c.path("out2").exists());
}

/// A cleanup cuts a document's repeats of its own passages unless told otherwise, when the
/// scan looks for passages; without them there is nothing to cut (issue 15).
#[test]
fn options_for_a_scan_cut_self_repeats_by_default_when_passages_are_searched() {
    let inputs = [std::path::PathBuf::from("in")];
    let with = dupsift::ScanOptions::default();
    assert_eq!(
        CleanOptions::new(&inputs, &with).strip_passages,
        StripPassages::SelfRepeats
    );
    let without = options(params(false));
    assert_eq!(
        CleanOptions::new(&inputs, &without).strip_passages,
        StripPassages::None
    );
}

/// What a binding calls to annotate instead of removing (issue 15): `CleanOptions::annotate`
/// set on the options of the scan, the records written whole with their cluster; cutting while
/// annotating only, and plain text inputs, refused before anything is written.
#[test]
fn annotate_only_writes_every_record_with_its_cluster_and_refuses_what_it_cannot_annotate() {
    let c = Corpus::new();
    let a = words(21, 300);
    let line = |id: &str, text: &str| {
        format!(
            "{{\"id\": {}, \"text\": {}}}\n",
            serde_json::json!(id),
            serde_json::json!(text)
        )
    };
    let lines = [
        line("a", &a),
        line("lone", &words(22, 300)),
        line("a-copy", &a),
        line("a-near", &edited(&a, &[100, 200])),
    ];
    c.file("in/feed.jsonl", lines.concat());
    let inputs = [c.path("in")];
    let scan_options = dupsift::ScanOptions::default();
    let result = scan(&inputs, &scan_options);
    assert_eq!(cluster_ids(&result, 0), ["a", "a-copy", "a-near"]);

    // The default cut of self-repeats contradicts annotating only: set it to none.
    let mut o = CleanOptions {
        annotate: Annotate::Only,
        ..CleanOptions::new(&inputs, &scan_options)
    };
    assert!(matches!(
        clean::check_options(&o),
        Err(CleanError::AnnotateOnlyCuts)
    ));
    assert!(matches!(
        clean::run(&result, &c.path("refused"), &o),
        Err(CleanError::AnnotateOnlyCuts)
    ));
    assert!(!c.path("refused").exists());
    o.strip_passages = StripPassages::None;
    let done = clean::run(&result, &c.path("out"), &o).unwrap();
    assert!(done.plan.removed.is_empty() && done.plan.cuts.is_empty());
    assert_eq!((done.totals.kept, done.totals.removed), (4, 0));

    let with = |l: &str, fields: &str| format!("{}{fields}}}\n", &l[..l.len() - 2]);
    let of_a = r#","dupsift_cluster":0,"dupsift_cluster_size":3,"dupsift_duplicate_of":"a""#;
    assert_eq!(
        std::fs::read_to_string(c.path("out/feed.jsonl")).unwrap(),
        [
            with(
                &lines[0],
                r#","dupsift_cluster":0,"dupsift_cluster_size":3,"dupsift_duplicate_of":null"#
            ),
            with(
                &lines[1],
                r#","dupsift_cluster":null,"dupsift_cluster_size":1,"dupsift_duplicate_of":null"#
            ),
            with(&lines[2], of_a),
            with(&lines[3], of_a),
        ]
        .concat()
    );
    assert!(
        manifest(&c.path("out")).is_empty(),
        "nothing removed or cut"
    );
    let report: Value =
        serde_json::from_slice(&std::fs::read(c.path("out/report.json")).unwrap()).unwrap();
    assert_eq!(report["clean"]["annotate"], "only");

    // Plain text has no records: a named file before the scan, a tree once scanned.
    c.file("text/a.txt", &a).file("text/b.txt", &a);
    let text_inputs = [c.path("text/a.txt")];
    let named = CleanOptions {
        annotate: Annotate::Kept,
        ..CleanOptions::new(&text_inputs, &scan_options)
    };
    assert!(matches!(
        clean::check_options(&named),
        Err(CleanError::AnnotateText {
            flag: "--annotate",
            ..
        })
    ));
    let tree_inputs = [c.path("text")];
    let tree = CleanOptions {
        annotate: Annotate::Kept,
        ..CleanOptions::new(&tree_inputs, &scan_options)
    };
    clean::check_options(&tree).unwrap();
    let scanned = scan(&tree_inputs, &scan_options);
    match clean::dry_run(&scanned, &tree) {
        Err(CleanError::AnnotateText { path, .. }) => assert_eq!(path, "a.txt"),
        other => panic!("not refused: {other:?}"),
    }
}
