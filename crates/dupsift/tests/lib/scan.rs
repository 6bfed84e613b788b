//! `scan::scan`: clusters of exact and near-duplicates with their similarities, repeated
//! passages at their byte ranges, strictness, and findings that do not depend on the thread
//! count.

use dupsift::report::Report;
use dupsift::{ParamsBuilder, ScanError, ScanOptions};

use crate::util::*;

#[test]
fn exact_and_near_duplicates_form_one_cluster_kept_by_the_first() {
    let c = Corpus::new();
    let (a, near, _) = duplicates(&c);
    let r = scan(&[c.path("in")], &options(params(false)));
    assert_eq!(r.docs.len(), 4);
    assert_eq!(r.clusters.len(), 1);
    assert_eq!(cluster_ids(&r, 0), ["a.txt", "b.txt", "c.txt"]);
    let sims: Vec<f64> = r.clusters[0].members.iter().map(|m| m.1).collect();
    assert_eq!(sims[0], 1.0, "b is an exact copy");
    assert!(
        (0.8..1.0).contains(&sims[1]),
        "c is a near-copy: {}",
        sims[1]
    );
    assert_eq!(r.docs.bytes[0], a.len() as u64);
    let s = Report::new(&r).summary;
    assert_eq!(
        (
            s.documents,
            s.clusters,
            s.duplicate_documents,
            s.exact_duplicate_documents
        ),
        (4, 1, 2, 1)
    );
    assert_eq!(s.duplicate_bytes, (a.len() + near.len()) as u64);
    assert!(r.passages.is_empty(), "passages are off");
}

#[test]
fn a_shared_paragraph_is_one_passage_at_its_byte_ranges() {
    let c = Corpus::new();
    let shared = words(9, 80);
    let e = format!("{} {shared} {}", words(3, 150), words(4, 150));
    let f = format!("{} {shared}", words(5, 200));
    c.file("in/e.txt", &e).file("in/f.txt", &f);
    let r = scan(&[c.path("in")], &options(params(true)));
    assert!(r.clusters.is_empty());
    assert_eq!(r.passages.len(), 1);
    let p = &r.passages[0];
    assert_eq!(p.words, 80);
    let ranges: Vec<(String, u64, u64)> = p
        .occurrences
        .iter()
        .map(|o| (r.docs.id(o.doc).to_owned(), o.start, o.end))
        .collect();
    let at = |text: &str| text.find(&shared).unwrap() as u64;
    assert_eq!(
        ranges,
        [
            ("e.txt".to_owned(), at(&e), at(&e) + shared.len() as u64),
            ("f.txt".to_owned(), at(&f), at(&f) + shared.len() as u64),
        ]
    );
    assert_eq!(r.passage_cut_bytes, shared.len() as u64);
}

#[test]
fn strict_stops_at_the_first_bad_input_and_otherwise_skips_it() {
    let c = Corpus::new();
    duplicates(&c);
    c.file("in/bad.txt", b"fine until \xff\xfe here");
    let mut o = options(params(false));
    let r = scan(&[c.path("in")], &o);
    assert!(r.skipped.is_empty(), "invalid UTF-8 is read lossily");
    assert_eq!(Report::new(&r).summary.invalid_utf8_documents, 1);
    o.strict = true;
    match dupsift::scan::scan(&[c.path("in")], &o, &Default::default()) {
        Err(ScanError::Strict(k)) => assert_eq!(k.path, "bad.txt"),
        other => panic!("not a strict stop: {other:?}"),
    }
}

#[test]
fn findings_do_not_depend_on_the_thread_count_or_the_spill() {
    let c = Corpus::new();
    duplicates(&c);
    c.file("in/e.txt", format!("{} {}", words(6, 100), words(7, 100)))
        .file("in/f.txt", format!("{} {}", words(7, 100), words(8, 100)));
    let json = |threads: usize, o: &ScanOptions| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let r = pool.install(|| scan(&[c.path("in")], o));
        let mut out = Vec::new();
        Report::new(&r).write_json(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    let o = options(params(true));
    let one = json(1, &o);
    let summary = &serde_json::from_str::<serde_json::Value>(&one).unwrap()["summary"];
    assert_eq!(summary["clusters"], 1);
    assert!(summary["passages"].as_u64().unwrap() >= 1, "{summary}");
    assert_eq!(one, json(2, &o));
    let mut unspilled = o.clone();
    unspilled.tuning.spill = false;
    assert_eq!(one, json(2, &unspilled));
}

#[test]
fn missing_inputs_are_refused_only_when_asked() {
    let c = Corpus::new();
    duplicates(&c);
    let inputs = [c.path("in"), c.path("typo")];
    let r = scan(&inputs, &options(params(false)));
    assert_eq!(r.skipped.len(), 1, "a scan skips a missing input");
    let e = dupsift::corpus::require_inputs(&inputs).unwrap_err();
    assert_eq!(e.path, c.path("typo"));
    assert_eq!(
        e.to_string(),
        format!("{}: no such file or directory", c.path("typo").display())
    );
    assert!(dupsift::corpus::require_inputs(&[c.path("in"), "-".into()]).is_ok());
}

#[test]
fn a_chain_is_split_unless_components_are_asked_for() {
    // a~b and b~c (5 words of 300 edited each, apart), a and c further apart than 0.8.
    let c = Corpus::new();
    let a = words(11, 300);
    let b = edited(&a, &[10, 70, 130, 190, 250]);
    let far = edited(&b, &[40, 100, 160, 220, 280]);
    c.file("in/a.txt", &a)
        .file("in/b.txt", &b)
        .file("in/c.txt", &far);
    let r = scan(&[c.path("in")], &options(params(false)));
    assert_eq!(r.clusters.len(), 1);
    assert_eq!(cluster_ids(&r, 0), ["a.txt", "b.txt"]);
    assert_eq!(r.clusters[0].component, 0);
    assert!(r.clusters[0].members[0].1 >= 0.8);

    let whole = ParamsBuilder {
        passages: None,
        clusters: dupsift::cluster::Clustering::Components,
        ..ParamsBuilder::default()
    };
    let r = scan(&[c.path("in")], &options(whole.build().unwrap()));
    assert_eq!(cluster_ids(&r, 0), ["a.txt", "b.txt", "c.txt"]);
    assert!(r.clusters[0].members[1].1 < 0.8, "c joined through b");
}

#[test]
fn keep_newest_ranks_records_by_a_date_field() {
    let c = Corpus::new();
    let text = words(12, 300);
    let line =
        |id: &str, extra: &str| format!("{{\"id\":\"{id}\",\"text\":\"{text} {id}\"{extra}}}\n");
    c.file(
        "in/docs.jsonl",
        [
            line("old", ",\"at\":\"2020-01-01\""),
            line("none", ""),
            line("new", ",\"at\":\"2025-06-30T23:00:00-01:00\""),
        ]
        .concat(),
    );
    let newest = ParamsBuilder {
        passages: None,
        keep: dupsift::cluster::KeepPolicy::Newest("at".into()),
        ..ParamsBuilder::default()
    };
    let r = scan(&[c.path("in")], &options(newest.build().unwrap()));
    assert_eq!(cluster_ids(&r, 0), ["new", "old", "none"]);
}

/// A host cancels through the scan's `Progress`: the scan stops with `Cancelled`, from before
/// the first batch or in the middle of a pass, and a later scan with a fresh `Progress` runs
/// to the end.
#[test]
fn a_cancelled_scan_stops_with_cancelled() {
    let c = Corpus::new();
    for i in 0..3000 {
        c.file(
            &format!("in/d{i:04}.jsonl"),
            format!("{{\"text\":\"{}\"}}\n", words(i, 60)),
        );
    }
    let mut opts = options(params(true));
    // Small batches, so that the first pass has many checkpoints.
    opts.read.batch_bytes = 2048;
    let inputs = [c.path("in")];

    let progress = dupsift::Progress::default();
    progress.cancel();
    let err = dupsift::scan::scan(&inputs, &opts, &progress).expect_err("cancelled");
    assert!(matches!(err, ScanError::Cancelled), "{err}");
    assert_eq!(err.to_string(), "the scan was cancelled");

    let progress = dupsift::Progress::default();
    let res = std::thread::scope(|s| {
        s.spawn(|| {
            while progress.docs.load(std::sync::atomic::Ordering::Relaxed) == 0 {
                std::thread::yield_now();
            }
            progress.cancel();
        });
        dupsift::scan::scan(&inputs, &opts, &progress)
    });
    assert!(
        matches!(res, Err(ScanError::Cancelled)),
        "{:?}",
        res.map(|r| r.docs.len())
    );

    let r = scan(&inputs, &opts);
    assert_eq!(r.docs.len(), 3000);
}
