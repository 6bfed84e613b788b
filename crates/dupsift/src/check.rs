//! The gate of `dupsift check`: turns a scan's findings into a pass/fail verdict against limits,
//! and lists each finding with a place a person (or a code-review UI) can jump to.
//!
//! A finding is a document that duplicates another (exactly or nearly) or an occurrence of a
//! repeated passage beyond its first. Places are input files as given on the command line
//! (`Source::path`), with the JSONL line for records, so that CI annotations land on the files
//! of the repository. Each finding carries a fingerprint made of content hashes only, so that it
//! is stable across renames and runs.
//!
//! This stage judges findings against limits; it must not detect anything or format output.

use serde::Serialize;

use crate::ranges::union_lengths;
use crate::result::{ScanResult, round4};

mod files;
pub use files::{AgainstError, BaselineError, check_against, open_against};

/// A check that read no document: it would pass whatever the data holds.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "no document was read from the inputs ({skipped} skipped): a check that read nothing proves nothing (--allow-empty lets it pass)"
)]
pub struct NothingRead {
    /// Inputs skipped (missing, empty, unreadable, malformed).
    pub skipped: u64,
}

/// Refuses the scan of a check that read no document of its inputs (an index's documents do
/// not count: they are not what is checked).
pub fn require_documents(result: &ScanResult) -> Result<(), NothingRead> {
    if result.docs.len() > result.prior as usize {
        return Ok(());
    }
    Err(NothingRead {
        skipped: result.skipped_count(),
    })
}

/// Limits of a check. No limit at all means any finding fails.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Limits {
    /// Largest accepted share of duplicate documents (removable cluster members / documents).
    pub max_duplicate_ratio: Option<f64>,
    /// Largest accepted share of bytes in passage repeats (`passage_cut_bytes / bytes`).
    pub max_passage_ratio: Option<f64>,
    /// Fail on any finding, whatever the ratios.
    pub fail_on_any: bool,
}

/// What kind of finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// A document byte-identical to another.
    ExactDuplicate,
    /// A document whose shingle similarity to another reaches the threshold.
    NearDuplicate,
    /// A repeat of a passage that occurs earlier.
    RepeatedPassage,
}

impl Rule {
    /// The rule's id (SARIF `ruleId`, JSON `rule`).
    pub fn id(self) -> &'static str {
        match self {
            Rule::ExactDuplicate => "exact-duplicate",
            Rule::NearDuplicate => "near-duplicate",
            Rule::RepeatedPassage => "repeated-passage",
        }
    }
}

/// A place in the inputs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Place {
    /// Document id.
    pub doc: String,
    /// The input file, as reached from the command line.
    pub path: String,
    /// First line (1 for a whole file; the record's line for JSONL).
    pub line: u64,
    /// Last line, when the finding spans several lines of a file.
    pub end_line: Option<u64>,
    /// The place is a JSONL record (`line` is its line), not a whole file.
    #[serde(skip)]
    pub record: bool,
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// What it is.
    pub rule: Rule,
    /// Where it is.
    pub place: Place,
    /// What it duplicates (the kept document, or the passage's first occurrence).
    pub original: Place,
    /// Similarity to the original (1.0 for exact duplicates; the passage's identity).
    pub similarity: f64,
    /// Bytes involved (the duplicate document, or the repeated occurrence).
    pub bytes: u64,
    /// Passage id in the scan report, for passage findings.
    pub passage: Option<usize>,
    /// Stable identity of the finding: content hashes of what is duplicated, never paths or
    /// positions.
    pub fingerprint: String,
    /// Accepted by the baseline: reported, but not counted against the limits.
    pub accepted: bool,
    /// For passage repeats: the byte range in the document (overlaps are counted once).
    #[serde(skip)]
    pub range: Option<(u64, u64)>,
}

/// Figures a check is judged on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Figures {
    /// Documents read (against an index: the new ones only).
    pub documents: u64,
    /// Bytes of text read (against an index: of the new documents).
    pub bytes: u64,
    /// Duplicate documents (cluster members a cleanup would remove), not counting those a
    /// baseline accepts.
    pub duplicate_documents: u64,
    /// `duplicate_documents / documents`.
    pub duplicate_ratio: f64,
    /// Repeated passages with a repeat the baseline does not accept.
    pub passages: u64,
    /// Bytes in passage repeats (without a baseline: `passage_cut_bytes` of the scan, overlaps
    /// counted once; with one: the sum of the repeats it does not accept).
    pub passage_bytes: u64,
    /// `passage_bytes / bytes`.
    pub passage_ratio: f64,
    /// Inputs skipped.
    pub skipped: u64,
    /// Findings accepted by the baseline (not counted in the figures above).
    pub accepted: u64,
}

/// The verdict of a check.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verdict {
    /// True when every limit holds.
    pub passed: bool,
    /// The limits applied.
    pub limits: Limits,
    /// The figures.
    pub figures: Figures,
    /// One sentence per limit exceeded.
    pub failures: Vec<String>,
    /// Every finding, duplicates first (in cluster order), then passage repeats.
    pub findings: Vec<Finding>,
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// A ratio as a check writes it (its failures, the text verdict): a percentage, 2 decimals.
pub(crate) fn pct(x: f64) -> String {
    format!("{:.2}%", x * 100.0)
}

/// Findings a team has accepted: fingerprints with how many findings of each are accepted, so
/// that a further copy of an accepted duplicate counts as new.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Baseline {
    /// Always `"dupsift-baseline"`.
    pub kind: String,
    /// Version of this file's layout.
    pub baseline_version: u32,
    /// Fingerprint → number of accepted findings with it.
    pub accepted: std::collections::BTreeMap<String, u64>,
}

impl Baseline {
    /// A baseline accepting every finding of `findings`.
    pub fn of(findings: &[Finding]) -> Baseline {
        let mut accepted = std::collections::BTreeMap::new();
        for f in findings {
            *accepted.entry(f.fingerprint.clone()).or_insert(0) += 1;
        }
        Baseline {
            kind: "dupsift-baseline".into(),
            baseline_version: 1,
            accepted,
        }
    }

    /// Reads a baseline written by [`Baseline::of`], refusing anything else.
    pub fn parse(bytes: &[u8]) -> Result<Baseline, String> {
        let b: Baseline =
            serde_json::from_slice(bytes).map_err(|e| format!("not a dupsift baseline: {e}"))?;
        if b.kind != "dupsift-baseline" || b.baseline_version != 1 {
            return Err(format!(
                "not a dupsift baseline of version 1 (kind {:?}, version {})",
                b.kind, b.baseline_version
            ));
        }
        Ok(b)
    }
}

/// The two content hashes of a finding in a fixed order: which of the two is kept (or first)
/// depends on file names and input order, and a rename must not make a finding new.
fn pair_fingerprint(a: u128, b: u128) -> String {
    format!("{:032x}{:032x}", a.min(b), a.max(b))
}

/// Judges a scan against `limits`, not counting what `baseline` accepts.
pub fn judge(result: &ScanResult, limits: &Limits, baseline: Option<&Baseline>) -> Verdict {
    let mut findings = duplicate_findings(result);
    findings.extend(passage_findings(result));
    if let Some(b) = baseline {
        accept(&mut findings, b);
    }
    let figures = figures(result, &findings, baseline.is_some());
    let failures = failures(&figures, limits);
    Verdict {
        passed: failures.is_empty(),
        limits: limits.clone(),
        figures,
        failures,
        findings,
    }
}

/// Where document `d` is; `lines` are the first and last line of a finding in a file.
fn place(result: &ScanResult, d: u32, lines: Option<(u64, u64)>) -> Place {
    let docs = &result.docs;
    // An indexed document is known by its id only.
    if d < result.prior {
        return Place {
            doc: docs.id(d).to_string(),
            path: docs.id(d).to_string(),
            line: 1,
            end_line: None,
            record: false,
        };
    }
    let loc = docs.locs[d as usize];
    let path = result.corpus.sources[loc.source as usize].path_for_humans();
    let (line, end_line) = match (loc.line, lines) {
        (0, Some((s, e))) => (s, (e > s).then_some(e)),
        (0, None) => (1, None),
        (l, _) => (l, None),
    };
    Place {
        doc: docs.id(d).to_string(),
        path,
        line,
        end_line,
        record: loc.line > 0,
    }
}

/// A finding for each cluster member a cleanup would remove, in cluster order.
fn duplicate_findings(result: &ScanResult) -> Vec<Finding> {
    let docs = &result.docs;
    let mut findings = Vec::new();
    for c in &result.clusters {
        for &(m, similarity) in &c.members {
            // Against an index, only the new documents are judged.
            if m < result.prior {
                continue;
            }
            // A byte-identical copy points at the first document with its bytes.
            let first_copy = docs.original[m as usize];
            let (rule, original) = if first_copy != m {
                (Rule::ExactDuplicate, first_copy)
            } else {
                (Rule::NearDuplicate, c.kept)
            };
            let similarity = if rule == Rule::ExactDuplicate {
                1.0
            } else {
                similarity
            };
            findings.push(Finding {
                rule,
                place: place(result, m, None),
                original: place(result, original, None),
                similarity: round4(similarity),
                bytes: docs.bytes[m as usize],
                passage: None,
                fingerprint: pair_fingerprint(
                    docs.content[original as usize],
                    docs.content[m as usize],
                ),
                accepted: false,
                range: None,
            });
        }
    }
    findings
}

/// A finding for each occurrence of a passage after its first, passage by passage.
fn passage_findings(result: &ScanResult) -> Vec<Finding> {
    let mut findings = Vec::new();
    // An exact copy's occurrences are its original's (see `passages::repeat_in_copies`): the
    // copy already has its exact-duplicate finding.
    let is_copy = |d: u32| result.docs.original[d as usize] != d;
    for (p, f) in result.passages.iter().enumerate() {
        let first = &f.occurrences[0];
        for o in f.occurrences[1..]
            .iter()
            .filter(|o| o.doc >= result.prior && !is_copy(o.doc))
        {
            findings.push(Finding {
                rule: Rule::RepeatedPassage,
                place: place(result, o.doc, Some((o.line_start, o.line_end))),
                original: place(result, first.doc, Some((first.line_start, first.line_end))),
                similarity: round4(f.identity),
                bytes: o.end - o.start,
                passage: Some(p),
                fingerprint: pair_fingerprint(first.hash as u128, o.hash as u128),
                accepted: false,
                range: Some((o.start, o.end)),
            });
        }
    }
    findings
}

/// Marks the findings `baseline` accepts: in order, as many of each fingerprint as it holds.
fn accept(findings: &mut [Finding], baseline: &Baseline) {
    let mut left = baseline.accepted.clone();
    for f in findings {
        if let Some(n) = left.get_mut(&f.fingerprint)
            && *n > 0
        {
            *n -= 1;
            f.accepted = true;
        }
    }
}

/// The figures of the new documents. Without a baseline or an index they are the scan's own;
/// otherwise they follow from the findings not accepted.
fn figures(result: &ScanResult, findings: &[Finding], baseline: bool) -> Figures {
    let docs = &result.docs;
    let prior = result.prior;
    let accepted = findings.iter().filter(|f| f.accepted).count() as u64;
    let documents = docs.len() as u64 - prior as u64;
    let bytes: u64 = docs.bytes[prior as usize..].iter().sum();
    let (duplicate_documents, passage_bytes, passages) = if !baseline && prior == 0 {
        (
            result.clusters.iter().map(|c| c.members.len() as u64).sum(),
            result.passage_cut_bytes,
            result.passages.len() as u64,
        )
    } else {
        let new = || findings.iter().filter(|f| !f.accepted);
        let mut passage_ids: Vec<usize> = new().filter_map(|f| f.passage).collect();
        passage_ids.dedup();
        (
            new().filter(|f| f.rule != Rule::RepeatedPassage).count() as u64,
            repeated_bytes(new()),
            passage_ids.len() as u64,
        )
    };
    Figures {
        documents,
        bytes,
        duplicate_documents,
        duplicate_ratio: ratio(duplicate_documents, documents),
        passages,
        passage_bytes,
        passage_ratio: ratio(passage_bytes, bytes),
        skipped: result.skipped_count(),
        accepted,
    }
}

/// Bytes in the passage repeats among `findings`. Repeats of different passages may overlap:
/// each byte is counted once, as the scan does.
fn repeated_bytes<'a>(findings: impl Iterator<Item = &'a Finding>) -> u64 {
    let ranges: Vec<(&str, u64, u64)> = findings
        .filter_map(|f| f.range.map(|(s, e)| (f.place.doc.as_str(), s, e)))
        .collect();
    union_lengths(ranges).iter().map(|x| x.1).sum()
}

/// One sentence per limit the figures exceed. Without a ratio limit, any finding fails.
fn failures(figures: &Figures, limits: &Limits) -> Vec<String> {
    let mut failures = Vec::new();
    let any = limits.fail_on_any
        || (limits.max_duplicate_ratio.is_none() && limits.max_passage_ratio.is_none());
    if any {
        if figures.duplicate_documents > 0 {
            failures.push(format!(
                "{} duplicate document{} (no duplicate is accepted)",
                figures.duplicate_documents,
                if figures.duplicate_documents == 1 {
                    ""
                } else {
                    "s"
                }
            ));
        }
        if figures.passages > 0 {
            failures.push(format!(
                "{} repeated passage{} (no repeat is accepted)",
                figures.passages,
                if figures.passages == 1 { "" } else { "s" }
            ));
        }
    }
    if let Some(max) = limits.max_duplicate_ratio
        && figures.duplicate_ratio > max
    {
        failures.push(format!(
            "duplicate documents {} of {} = {} > {}",
            figures.duplicate_documents,
            figures.documents,
            pct(figures.duplicate_ratio),
            pct(max)
        ));
    }
    if let Some(max) = limits.max_passage_ratio
        && figures.passage_ratio > max
    {
        failures.push(format!(
            "bytes in repeated passages {} of {} = {} > {}",
            figures.passage_bytes,
            figures.bytes,
            pct(figures.passage_ratio),
            pct(max)
        ));
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baselines_round_trip_and_refuse_foreign_files() {
        let f = |fp: &str| Finding {
            rule: Rule::NearDuplicate,
            place: Place {
                doc: "a".into(),
                path: "a".into(),
                line: 1,
                end_line: None,
                record: false,
            },
            original: Place {
                doc: "b".into(),
                path: "b".into(),
                line: 1,
                end_line: None,
                record: false,
            },
            similarity: 0.9,
            bytes: 1,
            passage: None,
            fingerprint: fp.into(),
            accepted: false,
            range: None,
        };
        let b = Baseline::of(&[f("x"), f("x"), f("y")]);
        assert_eq!(b.accepted.get("x"), Some(&2));
        let text = serde_json::to_vec(&b).unwrap();
        assert_eq!(Baseline::parse(&text), Ok(b));
        assert!(Baseline::parse(b"{}").is_err());
        assert!(
            Baseline::parse(br#"{"kind":"other","baseline_version":1,"accepted":{}}"#).is_err()
        );
        assert!(Baseline::parse(b"\x00garbage").is_err());
    }

    #[test]
    fn ratios_of_nothing_are_zero() {
        assert_eq!(ratio(0, 0), 0.0);
        assert_eq!(ratio(1, 4), 0.25);
        assert_eq!(pct(0.0123), "1.23%");
    }
}
