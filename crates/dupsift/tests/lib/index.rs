//! Indexes: building one (`Index::new`, `scan::index_documents`), its bytes and file round
//! trips, a check against it (`scan_against`) finding what a scan of everything finds, and the
//! typed refusals of `check::open_against`.

use std::path::Path;

use dupsift::check::{AgainstError, open_against};
use dupsift::index::{Index, IndexError, IndexFileError, IndexParams};
use dupsift::report::Report;
use dupsift::shingle::Unit;
use dupsift::{ParamsBuilder, Progress, ScanOptions};

use crate::util::*;

/// `corpus/`: a, b, c unrelated; `batch/`: a near-copy of a, a new document, and a document
/// sharing a paragraph with b.
fn corpus_and_batch(c: &Corpus) {
    let a = words(30, 300);
    let shared = words(34, 80);
    c.file("corpus/a.txt", &a)
        .file("corpus/b.txt", format!("{} {shared}", words(31, 200)))
        .file("corpus/c.txt", words(32, 300))
        .file("batch/n1.txt", edited(&a, &[50, 150]))
        .file("batch/n2.txt", words(33, 300))
        .file("batch/n3.txt", format!("{shared} {}", words(35, 200)));
}

fn build(c: &Corpus, options: &ScanOptions) -> Index {
    let mut index = Index::new(IndexParams::of(&options.params)).unwrap();
    let skipped = dupsift::scan::index_documents(
        &[c.path("corpus")],
        options,
        &Progress::default(),
        &mut index,
    )
    .unwrap();
    assert!(skipped.0.is_empty() && skipped.1.records == 0);
    index
}

fn name(id: &str) -> String {
    Path::new(id)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

#[test]
fn an_index_round_trips_through_bytes_and_files() {
    let c = Corpus::new();
    corpus_and_batch(&c);
    let index = build(&c, &options(params(true)));
    let ids: Vec<&str> = index.docs.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["a.txt", "b.txt", "c.txt"]);
    assert_eq!(index.words(), 300 + 280 + 300);
    let bytes = index.to_bytes();
    assert_eq!(bytes.len(), index.encoded_len());
    assert_eq!(Index::from_bytes(&bytes).unwrap(), index);
    let path = c.path("i.dsx");
    index.save(&path).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    assert_eq!(Index::load(&path).unwrap(), index);
}

#[test]
fn a_check_against_an_index_finds_what_a_scan_of_everything_finds() {
    let c = Corpus::new();
    corpus_and_batch(&c);
    let o = options(params(true));
    let index = build(&c, &o);
    let against =
        dupsift::scan::scan_against(&[c.path("batch")], Some(&index), &o, &Progress::default())
            .unwrap();
    let full = scan(&[c.path("corpus"), c.path("batch")], &o);
    let clusters = |r: &dupsift::ScanResult| -> Vec<Vec<String>> {
        (0..r.clusters.len())
            .map(|i| cluster_ids(r, i).iter().map(|id| name(id)).collect())
            .collect()
    };
    assert_eq!(clusters(&against), [["a.txt", "n1.txt"]]);
    assert_eq!(clusters(&against), clusters(&full));
    assert_eq!(
        against.clusters[0].members[0].1,
        full.clusters[0].members[0].1
    );
    let passages = |r: &dupsift::ScanResult| -> Vec<Vec<String>> {
        Report::new(r)
            .passages
            .iter()
            .map(|p| p.occurrences.iter().map(|o| name(&o.doc)).collect())
            .collect()
    };
    assert!(passages(&full).contains(&vec!["b.txt".to_owned(), "n3.txt".to_owned()]));
    assert_eq!(passages(&against), passages(&full));
    // The batch's findings: the documents of the index are not judged again.
    let v = dupsift::check::judge(&against, &Default::default(), None);
    assert_eq!(v.figures.documents, 3);
}

#[test]
fn open_against_refuses_what_a_check_cannot_use() {
    let c = Corpus::new();
    corpus_and_batch(&c);
    let path = c.path("i.dsx");
    build(&c, &options(params(true))).save(&path).unwrap();
    let defaults = ParamsBuilder::default();
    assert_eq!(open_against(&path, &defaults).unwrap().docs.len(), 3);

    let keep = ParamsBuilder {
        keep: dupsift::cluster::KeepPolicy::Longest,
        ..defaults.clone()
    };
    assert!(matches!(
        open_against(&path, &keep),
        Err(AgainstError::Keep)
    ));
    let estimate = ParamsBuilder {
        verify: dupsift::verify::Verify::Estimate,
        ..defaults.clone()
    };
    assert!(matches!(
        open_against(&path, &estimate),
        Err(AgainstError::Estimate)
    ));
    let ngram = ParamsBuilder {
        ngram: 7,
        ..defaults.clone()
    };
    match open_against(&path, &ngram) {
        Err(AgainstError::Disagree(d)) => assert_eq!(
            d.messages(),
            [format!(
                "{}: ngram is 5 in the index, 7 here; rerun with the index's parameters (see `dupsift index info`)",
                path.display()
            )]
        ),
        other => panic!("not refused: {other:?}"),
    }
    let invalid = ParamsBuilder {
        ngram: 0,
        ..defaults.clone()
    };
    assert!(matches!(
        open_against(&path, &invalid),
        Err(AgainstError::Params(_))
    ));

    c.file("foreign.dsx", "not an index");
    let e = open_against(&c.path("foreign.dsx"), &defaults).unwrap_err();
    assert!(
        matches!(
            &e,
            AgainstError::Index(IndexFileError::Invalid {
                error: IndexError::Foreign,
                ..
            })
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        format!(
            "{}: not a dupsift index (wrong magic number)",
            c.path("foreign.dsx").display()
        )
    );
    let e: dupsift::Error = open_against(&c.path("missing.dsx"), &defaults)
        .unwrap_err()
        .into();
    assert!(matches!(
        e,
        dupsift::Error::Against(AgainstError::Index(IndexFileError::Read { .. }))
    ));
}

#[test]
fn character_shingles_cannot_be_indexed() {
    let p = ParamsBuilder {
        unit: Unit::Char,
        ..ParamsBuilder::default()
    }
    .build()
    .unwrap();
    assert!(matches!(
        Index::new(IndexParams::of(&p)),
        Err(IndexError::Unsupported(_))
    ));
}

/// Regression (issue 14): indexing read through a copy of pass 1 that let invalid UTF-8 pass
/// under `strict`; it now stops as a strict scan does, and indexes the text lossily otherwise.
#[test]
fn strict_indexing_stops_at_invalid_utf8_as_a_strict_scan_does() {
    let c = Corpus::new();
    c.file("corpus/a.txt", words(40, 100)).file(
        "corpus/bad.txt",
        b"fine until \xff\xfe here and some more words",
    );
    let mut options = ScanOptions::default();
    let mut index = Index::new(IndexParams::of(&options.params)).unwrap();
    let progress = Progress::default();
    let skipped =
        dupsift::scan::index_documents(&[c.path("corpus")], &options, &progress, &mut index)
            .unwrap();
    assert!(skipped.0.is_empty() && skipped.1.records == 0);
    assert_eq!(index.docs.len(), 2, "lossily read, indexed");
    options.strict = true;
    let mut index = Index::new(IndexParams::of(&options.params)).unwrap();
    match dupsift::scan::index_documents(&[c.path("corpus")], &options, &progress, &mut index) {
        Err(dupsift::ScanError::Strict(k)) => {
            assert_eq!(
                (k.path.as_str(), k.reason.as_str()),
                ("bad.txt", "invalid UTF-8")
            )
        }
        other => panic!("not a strict stop: {other:?}"),
    }
}
