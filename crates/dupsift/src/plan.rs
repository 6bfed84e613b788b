//! What a cleanup does, decided from a scan's findings alone: which documents go (every
//! cluster member but the kept one) and which byte ranges of the documents that stay are cut
//! (repeats of passages, with [`StripPassages`]), what the records written are annotated with
//! ([`Annotate`]), and the totals that follow. The model of a
//! cleanup, shared by [`crate::clean`] (which writes it) and [`crate::report`] (which shows
//! it); a leaf: it depends on the scan's result only.
//!
//! This module must not read or write files.

use std::collections::BTreeMap;
use std::ops::Range;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::result::ScanResult;

/// Which repeated passages a cleanup cuts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StripPassages {
    /// None: documents are kept or removed whole.
    #[default]
    None,
    /// Repeats of a passage inside one document beyond its first copy there.
    #[serde(rename = "self")]
    SelfRepeats,
    /// Also every occurrence of a passage already seen in an earlier kept document.
    All,
}

impl StripPassages {
    /// What a cleanup cuts unless told otherwise: self-repeats when passages are searched (a
    /// body pasted twice by a scrape is the case dupsift exists for), nothing without them.
    pub fn default_for(passages: bool) -> StripPassages {
        if passages {
            StripPassages::SelfRepeats
        } else {
            StripPassages::None
        }
    }
}

/// What a cleanup adds to the JSONL records it writes: the cluster each belongs to, so that a
/// pipeline can weigh, sample or audit duplicates instead of (or as well as) dropping them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Annotate {
    /// Nothing: records are written as they are (or with their cuts).
    #[default]
    None,
    /// Duplicates are removed and passages cut as without it; each record written also gets
    /// [`CLUSTER_FIELD`] and [`CLUSTER_SIZE_FIELD`].
    Kept,
    /// Nothing is removed or cut; every record gets [`CLUSTER_FIELD`], [`CLUSTER_SIZE_FIELD`]
    /// and [`DUPLICATE_OF_FIELD`].
    Only,
}

impl Annotate {
    /// The `dupsift clean` flag that asks for this, for messages.
    pub fn flag(self) -> &'static str {
        match self {
            Annotate::None => "",
            Annotate::Kept => "--annotate",
            Annotate::Only => "--annotate-only",
        }
    }

    /// The fields this adds to a record, in the order they are written.
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            Annotate::None => &[],
            Annotate::Kept => &[CLUSTER_FIELD, CLUSTER_SIZE_FIELD],
            Annotate::Only => &[CLUSTER_FIELD, CLUSTER_SIZE_FIELD, DUPLICATE_OF_FIELD],
        }
    }
}

/// The record's cluster: its `id` in the JSON report (its position in
/// [`ScanResult::clusters`]), or null for a document in no cluster.
pub const CLUSTER_FIELD: &str = "dupsift_cluster";
/// Documents in the record's cluster, the kept one included; 1 for a document in no cluster.
pub const CLUSTER_SIZE_FIELD: &str = "dupsift_cluster_size";
/// The id of the document the record's cluster keeps; null for that document itself and for a
/// document in no cluster ([`Annotate::Only`]).
pub const DUPLICATE_OF_FIELD: &str = "dupsift_duplicate_of";

/// Why a document or a range leaves the corpus.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// Byte-identical to the kept document of its cluster.
    ExactDuplicate,
    /// In the cluster of the kept document, not identical.
    NearDuplicate,
    /// A repeat of a passage kept elsewhere.
    RepeatedPassage,
}

/// A document removed whole.
#[derive(Clone, Debug, PartialEq)]
pub struct Removal {
    /// Why.
    pub reason: Reason,
    /// The kept document of its cluster.
    pub kept: u32,
    /// Similarity to the kept document.
    pub similarity: f64,
}

/// A range cut out of a kept document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cut {
    /// Bytes of the document (the text field's UTF-8 for JSONL) that go.
    pub bytes: Range<u64>,
    /// Index of the passage in [`ScanResult::passages`].
    pub passage: usize,
    /// The document holding the occurrence that stays.
    pub kept_in: u32,
}

/// What a cleanup does, decided before anything is written.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// Removed documents.
    pub removed: BTreeMap<u32, Removal>,
    /// Cuts of kept documents, sorted and disjoint per document.
    pub cuts: BTreeMap<u32, Vec<Cut>>,
}

impl Plan {
    /// Bytes the cuts remove.
    pub fn cut_bytes(&self) -> u64 {
        self.cuts
            .values()
            .flatten()
            .map(|c| c.bytes.end - c.bytes.start)
            .sum()
    }
}

/// Decides removals and cuts.
pub fn plan(result: &ScanResult, strip: StripPassages) -> Plan {
    let docs = &result.docs;
    let mut plan = Plan::default();
    let damaged = damaged(result);
    // A document of a damaged input is written as it was: neither removed nor cut.
    let frozen = |d: u32| damaged.contains_key(&docs.locs[d as usize].source);
    for c in &result.clusters {
        // Indexed documents (below `prior`) are in the corpus already: never removed.
        for &(m, similarity) in c
            .members
            .iter()
            .filter(|m| m.0 >= result.prior && !frozen(m.0))
        {
            let exact = docs.content[m as usize] == docs.content[c.kept as usize];
            plan.removed.insert(
                m,
                Removal {
                    reason: if exact {
                        Reason::ExactDuplicate
                    } else {
                        Reason::NearDuplicate
                    },
                    kept: c.kept,
                    similarity,
                },
            );
        }
    }
    if strip == StripPassages::None {
        return plan;
    }
    let mut cuts: FxHashMap<u32, Vec<Cut>> = FxHashMap::default();
    for (p, f) in result.passages.iter().enumerate() {
        // Occurrences come in document order; the first in a kept document stays.
        let mut keeper: Option<u32> = None;
        let mut seen_in: FxHashSet<u32> = FxHashSet::default();
        for o in &f.occurrences {
            // An indexed document holds its occurrence already (it has no byte range here), and
            // a damaged input's document is copied as it was.
            if o.doc < result.prior || frozen(o.doc) {
                keeper.get_or_insert(o.doc);
                seen_in.insert(o.doc);
                continue;
            }
            if plan.removed.contains_key(&o.doc) || o.start >= o.end {
                continue;
            }
            let repeat_here = !seen_in.insert(o.doc);
            let cut = match strip {
                StripPassages::SelfRepeats => repeat_here,
                StripPassages::All => keeper.is_some(),
                StripPassages::None => false,
            };
            if cut {
                cuts.entry(o.doc).or_default().push(Cut {
                    bytes: o.start..o.end,
                    passage: p,
                    kept_in: if repeat_here {
                        o.doc
                    } else {
                        keeper.unwrap_or(o.doc)
                    },
                });
            }
            keeper.get_or_insert(o.doc);
        }
    }
    for (doc, mut list) in cuts {
        // Overlapping occurrences of different passages: cut each byte once.
        list.sort_by_key(|c| (c.bytes.start, c.bytes.end));
        let mut merged: Vec<Cut> = Vec::with_capacity(list.len());
        for c in list {
            match merged.last_mut() {
                Some(m) if c.bytes.start <= m.bytes.end => {
                    m.bytes.end = m.bytes.end.max(c.bytes.end);
                }
                _ => merged.push(c),
            }
        }
        plan.cuts.insert(doc, merged);
    }
    plan
}

/// The inputs a cleanup copies through as they are on disk, by source, with the reason the
/// scan gave: JSONL inputs whose compressed stream could not be read to its end (damaged,
/// truncated, or made with a zstd window above the limit). Writing the records read before the
/// damage would lose the rest without a word; so their documents are neither removed nor cut,
/// the file is copied whole, and the manifest says why.
pub fn damaged(result: &ScanResult) -> FxHashMap<u32, &str> {
    let whole: FxHashMap<&str, &str> = result
        .skipped
        .iter()
        .filter(|k| k.line.is_none())
        .map(|k| (k.path.as_str(), k.reason.as_str()))
        .collect();
    if whole.is_empty() {
        return FxHashMap::default();
    }
    result
        .corpus
        .sources
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            s.format == crate::corpus::Format::Jsonl
                && s.compression != crate::corpus::Compression::None
        })
        .filter_map(|(i, s)| whole.get(s.name.as_str()).map(|&why| (i as u32, why)))
        .collect()
}

/// Totals of a cleanup.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Totals {
    /// Documents read.
    pub documents_in: u64,
    /// Documents written (whole or with cuts).
    pub kept: u64,
    /// Documents removed as duplicates.
    pub removed: u64,
    /// Documents with passages cut.
    pub cut_documents: u64,
    /// Inputs the scan skipped; files and lines among them are copied through unchanged.
    pub skipped: u64,
    /// Bytes of text read (documents only).
    pub bytes_in: u64,
    /// Bytes of text written (documents only).
    pub bytes_out: u64,
    /// Bytes of removed documents.
    pub bytes_removed: u64,
    /// Bytes cut from kept documents.
    pub bytes_cut: u64,
}

/// Totals a plan gives, without writing anything (what `--dry-run` prints).
pub fn totals(result: &ScanResult, plan: &Plan) -> Totals {
    let docs = &result.docs;
    // Only the documents read count: indexed ones (below `prior`) are neither read nor written.
    let prior = result.prior as usize;
    let bytes_in: u64 = docs.bytes[prior..].iter().sum();
    let bytes_removed: u64 = plan.removed.keys().map(|&d| docs.bytes[d as usize]).sum();
    let bytes_cut = plan.cut_bytes();
    let documents_in = (docs.len() - prior) as u64;
    Totals {
        documents_in,
        kept: documents_in - plan.removed.len() as u64,
        removed: plan.removed.len() as u64,
        cut_documents: plan.cuts.len() as u64,
        skipped: result.skipped_count(),
        bytes_in,
        bytes_out: bytes_in - bytes_removed - bytes_cut,
        bytes_removed,
        bytes_cut,
    }
}
