//! `check::judge`: verdicts under limits, the findings with their places, and baselines that
//! accept recorded findings (saved and loaded as files).

use dupsift::check::{self, Baseline, BaselineError, Limits, Rule};

use crate::util::*;

#[test]
fn unrelated_documents_pass_any_limits() {
    let c = Corpus::new();
    c.file("in/x.txt", words(20, 200))
        .file("in/y.txt", words(21, 200));
    let r = scan(&[c.path("in")], &options(params(true)));
    let v = check::judge(&r, &Limits::default(), None);
    assert!(v.passed);
    assert!(v.findings.is_empty() && v.failures.is_empty());
    assert_eq!((v.figures.documents, v.figures.duplicate_documents), (2, 0));
}

#[test]
fn duplicates_fail_by_default_and_pass_under_a_ratio_that_allows_them() {
    let c = Corpus::new();
    duplicates(&c);
    let r = scan(&[c.path("in")], &options(params(false)));
    let v = check::judge(&r, &Limits::default(), None);
    assert!(!v.passed);
    assert_eq!(v.failures.len(), 1);
    let found: Vec<(Rule, &str, &str)> = v
        .findings
        .iter()
        .map(|f| (f.rule, f.place.doc.as_str(), f.original.doc.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (Rule::ExactDuplicate, "b.txt", "a.txt"),
            (Rule::NearDuplicate, "c.txt", "a.txt")
        ]
    );
    assert_eq!(v.findings[0].similarity, 1.0);
    assert_eq!(v.figures.duplicate_ratio, 0.5);

    let allow = |ratio| Limits {
        max_duplicate_ratio: Some(ratio),
        ..Limits::default()
    };
    assert!(check::judge(&r, &allow(0.5), None).passed);
    assert!(!check::judge(&r, &allow(0.49), None).passed);
    let any = Limits {
        fail_on_any: true,
        ..allow(1.0)
    };
    assert!(!check::judge(&r, &any, None).passed);
}

#[test]
fn a_baseline_accepts_its_findings_and_a_further_copy_is_new() {
    let c = Corpus::new();
    let (a, _, _) = duplicates(&c);
    let r = scan(&[c.path("in")], &options(params(false)));
    let first = check::judge(&r, &Limits::default(), None);
    let path = c.path("baseline.json");
    Baseline::of(&first.findings).save(&path).unwrap();
    let baseline = Baseline::load(&path).unwrap();
    assert_eq!(baseline, Baseline::of(&first.findings));
    assert_eq!(baseline.accepted.values().sum::<u64>(), 2);

    let v = check::judge(&r, &Limits::default(), Some(&baseline));
    assert!(v.passed, "{:?}", v.failures);
    assert_eq!(v.figures.accepted, 2);
    assert!(v.findings.iter().all(|f| f.accepted));

    // Renamed, the findings are still accepted; one more copy is not.
    std::fs::rename(c.path("in/b.txt"), c.path("in/b-renamed.txt")).unwrap();
    c.file("in/e.txt", &a);
    let r = scan(&[c.path("in")], &options(params(false)));
    let v = check::judge(&r, &Limits::default(), Some(&baseline));
    assert!(!v.passed);
    assert_eq!(v.figures.accepted, 2);
    assert_eq!(v.figures.duplicate_documents, 1);
    assert_eq!(v.findings.iter().filter(|f| !f.accepted).count(), 1);
}

#[test]
fn a_file_that_is_not_a_baseline_is_refused_with_its_path() {
    let c = Corpus::new();
    c.file(
        "other.json",
        r#"{"kind":"other","baseline_version":1,"accepted":{}}"#,
    );
    match Baseline::load(&c.path("other.json")) {
        Err(BaselineError::Invalid { path, why }) => {
            assert_eq!(path, c.path("other.json"));
            assert!(why.contains("kind \"other\""), "{why}");
        }
        other => panic!("not refused: {other:?}"),
    }
    assert!(matches!(
        Baseline::load(&c.path("missing.json")),
        Err(BaselineError::Read { .. })
    ));
}
