//! Stage 9: reports. [`Report`] is the one model of a scan's outcome — the JSON report is its
//! serde serialisation, and the text writer renders the same values — so the formats cannot
//! disagree.
//!
//! The JSON schema is a contract, documented in `docs/report.md`: fields may be added within a
//! [`FORMAT_VERSION`], never renamed, removed or given another meaning.
//!
//! This module renders; it must not compute findings or read files itself (the texts the HTML
//! report shows are read back through [`crate::scan::excerpts`], see [`html_texts`]).

mod clean;
mod gate;
mod html;
mod index;
mod terminal;
mod text;
mod texts;
mod tsv;

use serde::Serialize;

use crate::corpus::Skipped;
use crate::params::Params;
use crate::result::{ScanResult, round4};

pub use clean::{write_annotate, write_plan, write_totals};
pub use gate::{
    CHECK_FORMAT_VERSION, write_check_github, write_check_json, write_check_sarif, write_check_text,
};
pub use html::{SIDE_BYTES, TEXT_ITEMS, Texts, escape, write_html};
pub use index::write_index_info;
pub use terminal::shown;
pub use text::{human_bytes, write_text};
pub use texts::html_texts;
pub use tsv::{TSV_HEADER, write_tsv};

/// Version of the JSON report's schema; bumped on any breaking change.
pub const FORMAT_VERSION: u32 = 2;

/// The whole report of a scan.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Always `"dupsift"`.
    pub tool: &'static str,
    /// The dupsift version that wrote the report.
    pub version: &'static str,
    /// [`FORMAT_VERSION`].
    pub format_version: u32,
    /// The parameters of the scan.
    pub params: Params,
    /// Totals.
    pub summary: Summary,
    /// Clusters by component (largest first), a component's in the order their kept
    /// documents were chosen.
    pub clusters: Vec<ClusterReport>,
    /// Repeated passages, the ones whose repeats hold the most bytes first.
    pub passages: Vec<PassageReport>,
    /// Documents that hold a passage more than once, in input order.
    pub self_repeating: Vec<SelfRepeating>,
    /// Inputs that could not be used, sorted by path, then line (record-level ones: the first
    /// [`crate::corpus::LISTED_RECORD_SKIPS`]).
    pub skipped: Vec<Skipped>,
    /// The record-level skips past those listed, counted by kind of reason (absent when every
    /// skip is listed). `summary.skipped` counts them too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped_unlisted: Option<crate::corpus::Unlisted>,
    /// What `dupsift clean` did (absent from `scan` reports).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clean: Option<CleanReport>,
}

/// The outcome of a cleanup.
#[derive(Clone, Debug, Serialize)]
pub struct CleanReport {
    /// `none`, `self` or `all`.
    pub strip_passages: crate::plan::StripPassages,
    /// `none`, `kept` or `only`: what the JSONL records written were annotated with.
    pub annotate: crate::plan::Annotate,
    /// Whether anything was written.
    pub dry_run: bool,
    /// Documents and bytes in, kept, removed, cut.
    pub totals: crate::plan::Totals,
}

/// Totals of a scan.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Summary {
    /// Documents read.
    pub documents: u64,
    /// Bytes of text in those documents.
    pub bytes: u64,
    /// Inputs skipped (files or JSONL lines).
    pub skipped: u64,
    /// Clusters of two or more documents.
    pub clusters: u64,
    /// Documents a cleanup would remove (every cluster member except the kept one).
    pub duplicate_documents: u64,
    /// Bytes of those documents.
    pub duplicate_bytes: u64,
    /// Of the duplicate documents, those byte-identical to their cluster's kept document.
    pub exact_duplicate_documents: u64,
    /// Documents with invalid UTF-8 (read lossily: invalid bytes separate words).
    pub invalid_utf8_documents: u64,
    /// Documents with no words (never near-duplicates; exact duplicates still count).
    pub empty_documents: u64,
    /// Candidate pairs proposed by LSH.
    pub candidate_pairs: u64,
    /// Candidate pairs that passed verification.
    pub verified_pairs: u64,
    /// Repeated passages found (0 with `--no-passages`).
    pub passages: u64,
    /// Documents holding at least one occurrence of a repeated passage.
    pub passage_documents: u64,
    /// Documents holding some passage more than once.
    pub self_repeating_documents: u64,
    /// Bytes in passage occurrences beyond each passage's first: what a passage cleanup would
    /// cut (overlapping occurrences counted once).
    pub passage_cut_bytes: u64,
}

/// The summary figures of a report that do not follow from its clusters or passages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
pub struct Counts {
    /// Documents read.
    pub documents: u64,
    /// Bytes of text in those documents.
    pub bytes: u64,
    /// Documents with invalid UTF-8.
    pub invalid_utf8_documents: u64,
    /// Documents with no words.
    pub empty_documents: u64,
    /// Candidate pairs proposed by LSH.
    pub candidate_pairs: u64,
    /// Candidate pairs that passed verification.
    pub verified_pairs: u64,
}

/// A repeated passage.
#[derive(Clone, Debug, Serialize)]
pub struct PassageReport {
    /// Position in the report, from 0.
    pub id: usize,
    /// Length in words of the first occurrence.
    pub words: u64,
    /// Length in bytes of the first occurrence.
    pub bytes: u64,
    /// Share of matching words in the least similar pair of occurrences (1.0: verbatim).
    pub identity: f64,
    /// The start of the first occurrence, on one line.
    pub preview: String,
    /// Number of occurrences.
    pub count: usize,
    /// The first `--max-occurrences` occurrences, in input order.
    pub occurrences: Vec<OccurrenceReport>,
}

/// Where one occurrence of a passage is.
#[derive(Clone, Debug, Serialize)]
pub struct OccurrenceReport {
    /// Document id.
    pub doc: String,
    /// First byte, in the document's original bytes (the text field's UTF-8 for JSONL).
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
    /// 1-based line of the first byte.
    pub line_start: u64,
    /// 1-based line of the last byte.
    pub line_end: u64,
}

/// A document that repeats itself.
#[derive(Clone, Debug, Serialize)]
pub struct SelfRepeating {
    /// Document id.
    pub doc: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// Bytes in its repeats of its own passages beyond the first copy.
    pub cut_bytes: u64,
    /// `cut_bytes / bytes`, rounded to 4 decimals.
    pub share: f64,
}

/// One cluster.
#[derive(Clone, Debug, Serialize)]
pub struct ClusterReport {
    /// Position in the report, from 0.
    pub id: usize,
    /// The connected component of exact duplication and verified pairs the cluster belongs
    /// to (its position among components, largest first, from 0). With `params.clusters` =
    /// `components`, the cluster is the whole component.
    pub component: usize,
    /// Id of the document a cleanup keeps.
    pub kept: String,
    /// Its size in bytes.
    pub kept_bytes: u64,
    /// The start of its text, on one line.
    pub kept_preview: String,
    /// Every other document of the cluster, in input order.
    pub members: Vec<Member>,
}

/// A cluster member other than the kept document.
#[derive(Clone, Debug, Serialize)]
pub struct Member {
    /// Document id.
    pub doc: String,
    /// Similarity to the kept document (1.0 for exact duplicates), rounded to 4 decimals. At
    /// least the threshold, unless `params.clusters` is `components`: then a member can reach
    /// the kept document through others.
    pub similarity: f64,
    /// Byte-identical to the kept document.
    pub exact: bool,
    /// Size in bytes.
    pub bytes: u64,
    /// The start of its text, on one line.
    pub preview: String,
}

/// For each cluster of `clusters`, which part of its component it is and how many parts the
/// component has (`(1, 1)`: the component is one cluster).
fn component_parts(clusters: &[ClusterReport]) -> Vec<(usize, usize)> {
    let mut parts = Vec::with_capacity(clusters.len());
    for run in clusters.chunk_by(|a, b| a.component == b.component) {
        parts.extend((1..=run.len()).map(|i| (i, run.len())));
    }
    parts
}

/// A note for people that a cluster is one of several its component was split into, empty
/// when it is the whole component.
fn part_note(c: &ClusterReport, (part, parts): (usize, usize)) -> String {
    if parts == 1 {
        String::new()
    } else {
        format!(" (part {part} of {parts} of component {})", c.component)
    }
}

/// `part` as a share of `whole` for people: one decimal and a `%` (`0%` of nothing).
fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "0%".into()
    } else {
        format!("{:.1}%", part as f64 * 100.0 / whole as f64)
    }
}

/// A member's similarity to the kept document for people: `exact` or 3 decimals (both five
/// characters wide, so that the text report's columns line up).
fn similarity(m: &Member) -> String {
    if m.exact {
        "exact".into()
    } else {
        format!("{:.3}", m.similarity)
    }
}

impl Report {
    /// Builds the report of a scan.
    pub fn new(r: &ScanResult) -> Report {
        let docs = &r.docs;
        let preview = |d: u32| r.previews.get(&d).cloned().unwrap_or_default();
        let clusters: Vec<ClusterReport> = r
            .clusters
            .iter()
            .enumerate()
            .map(|(id, c)| ClusterReport {
                id,
                component: c.component as usize,
                kept: docs.id(c.kept).to_string(),
                kept_bytes: docs.bytes[c.kept as usize],
                kept_preview: preview(c.kept),
                members: c
                    .members
                    .iter()
                    .map(|&(m, s)| Member {
                        doc: docs.id(m).to_string(),
                        similarity: round4(s),
                        exact: docs.content[m as usize] == docs.content[c.kept as usize],
                        bytes: docs.bytes[m as usize],
                        preview: preview(m),
                    })
                    .collect(),
            })
            .collect();
        let max_occ = r
            .params
            .passages
            .as_ref()
            .map_or(0, |pp| pp.max_occurrences);
        let passages: Vec<PassageReport> = r
            .passages
            .iter()
            .enumerate()
            .map(|(id, f)| PassageReport {
                id,
                words: f.words,
                bytes: f.bytes,
                identity: round4(f.identity),
                preview: f.preview.clone(),
                count: f.occurrences.len(),
                occurrences: f
                    .occurrences
                    .iter()
                    .take(max_occ)
                    .map(|o| OccurrenceReport {
                        doc: docs.id(o.doc).to_string(),
                        start: o.start,
                        end: o.end,
                        line_start: o.line_start,
                        line_end: o.line_end,
                    })
                    .collect(),
            })
            .collect();
        let self_repeating: Vec<SelfRepeating> = r
            .self_repeating
            .iter()
            .map(|&(d, cut)| {
                let bytes = docs.bytes[d as usize];
                SelfRepeating {
                    doc: docs.id(d).to_string(),
                    bytes,
                    cut_bytes: cut,
                    share: round4(cut as f64 / bytes.max(1) as f64),
                }
            })
            .collect();
        let counts = Counts {
            documents: docs.len() as u64,
            bytes: docs.bytes.iter().sum(),
            invalid_utf8_documents: docs.lossy.iter().filter(|&&l| l).count() as u64,
            empty_documents: docs.shingles.iter().filter(|&&s| s == 0).count() as u64,
            candidate_pairs: r.candidate_pairs as u64,
            verified_pairs: r.pairs.len() as u64,
        };
        let mut report = Report::from_parts(r.params.clone(), clusters, counts, r.skipped.clone());
        if r.skipped_unlisted.records > 0 {
            report.summary.skipped += r.skipped_unlisted.records;
            report.skipped_unlisted = Some(r.skipped_unlisted.clone());
        }
        report.summary.passages = passages.len() as u64;
        report.summary.passage_documents = r.passage_documents;
        report.summary.self_repeating_documents = self_repeating.len() as u64;
        report.summary.passage_cut_bytes = r.passage_cut_bytes;
        report.passages = passages;
        report.self_repeating = self_repeating;
        report
    }

    /// A report without passages from its clusters and the counts that do not follow from them
    /// (for runs that found the clusters elsewhere, e.g. on Spark): the summary's cluster
    /// figures are derived from `clusters` exactly as for a scan.
    pub fn from_parts(
        params: Params,
        clusters: Vec<ClusterReport>,
        counts: Counts,
        skipped: Vec<Skipped>,
    ) -> Report {
        let members = || clusters.iter().flat_map(|c| &c.members);
        let summary = Summary {
            documents: counts.documents,
            bytes: counts.bytes,
            skipped: skipped.len() as u64,
            clusters: clusters.len() as u64,
            duplicate_documents: members().count() as u64,
            duplicate_bytes: members().map(|m| m.bytes).sum(),
            exact_duplicate_documents: members().filter(|m| m.exact).count() as u64,
            invalid_utf8_documents: counts.invalid_utf8_documents,
            empty_documents: counts.empty_documents,
            candidate_pairs: counts.candidate_pairs,
            verified_pairs: counts.verified_pairs,
            passages: 0,
            passage_documents: 0,
            self_repeating_documents: 0,
            passage_cut_bytes: 0,
        };
        Report {
            tool: "dupsift",
            version: env!("CARGO_PKG_VERSION"),
            format_version: FORMAT_VERSION,
            params,
            summary,
            clusters,
            passages: Vec::new(),
            self_repeating: Vec::new(),
            skipped,
            skipped_unlisted: None,
            clean: None,
        }
    }

    /// Writes the JSON report (pretty-printed, with a final newline).
    pub fn write_json(&self, mut w: impl std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut w, self)?;
        w.write_all(b"\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_survive_empty_corpora() {
        assert_eq!(percent(1, 0), "0%");
        assert_eq!(percent(1, 8), "12.5%");
    }
}
