//! The result of a scan in document numbers: the per-document table, clusters, passages and
//! what was skipped. [`crate::report`] turns it into reports, [`crate::clean`] into a cleaned
//! corpus, [`crate::check`] into a verdict. Plain data: this module computes nothing beyond
//! lookups.

use rustc_hash::FxHashMap;

use crate::corpus::{Corpus, DocLoc, Skipped};
use crate::params::Params;

/// Per-document state kept between passes: small and fixed-size, whatever the text length.
#[derive(Debug, Default)]
pub struct DocTable {
    pub(crate) id_text: String,
    pub(crate) id_ends: Vec<usize>,
    /// Where each document can be read again.
    pub locs: Vec<DocLoc>,
    /// Size of each document's text in bytes.
    pub bytes: Vec<u64>,
    /// xxh3-128 of each document's bytes.
    pub content: Vec<u128>,
    /// Number of shingles (with repeats); 0 for documents with no words.
    pub shingles: Vec<u32>,
    /// Number of words.
    pub words: Vec<u32>,
    /// The first document with the same bytes, for exact duplicates; the document itself otherwise.
    pub original: Vec<u32>,
    /// Whether the text had invalid UTF-8.
    pub lossy: Vec<bool>,
    /// The value of the field `--keep newest/oldest:FIELD` ranks by, NaN when a document has
    /// none; empty under the other policies.
    pub rank: Vec<f64>,
}

impl DocTable {
    /// Number of documents.
    pub fn len(&self) -> usize {
        self.locs.len()
    }

    /// True when no document was read.
    pub fn is_empty(&self) -> bool {
        self.locs.is_empty()
    }

    /// The id of document `d`.
    pub fn id(&self, d: u32) -> &str {
        let d = d as usize;
        let start = if d == 0 { 0 } else { self.id_ends[d - 1] };
        &self.id_text[start..self.id_ends[d]]
    }

    /// Approximate heap bytes held per document (for the README's memory figure and tests).
    pub fn heap_bytes(&self) -> usize {
        self.id_text.capacity()
            + self.id_ends.capacity() * 8
            + self.locs.capacity() * std::mem::size_of::<DocLoc>()
            + self.bytes.capacity() * 8
            + self.content.capacity() * 16
            + self.shingles.capacity() * 4
            + self.words.capacity() * 4
            + self.original.capacity() * 4
            + self.lossy.capacity()
            + self.rank.capacity() * 8
    }
}

/// A verified near-duplicate pair.
pub use crate::verify::Verified as Pair;

/// One cluster: the documents a cleanup removes in favour of one it keeps (see
/// [`crate::cluster::Clustering`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Cluster {
    /// The member a cleanup keeps.
    pub kept: u32,
    /// The other members, in input order, each with its similarity to `kept`.
    pub members: Vec<(u32, f64)>,
    /// The connected component (of exact duplication and verified pairs) the cluster belongs
    /// to: its position among components, largest first.
    pub component: u32,
}

/// The outcome of a scan, in document indices; [`crate::report`] turns it into reports.
#[derive(Debug)]
pub struct ScanResult {
    /// The inputs, kept open (standard input stays spooled) for stages that read them again.
    pub corpus: Corpus,
    /// Documents `0..prior` come from an index (see [`crate::scan::scan_against`]), the rest from `corpus`.
    pub prior: u32,
    /// The parameters used.
    pub params: Params,
    /// Per-document state.
    pub docs: DocTable,
    /// Inputs that could not be used, sorted by path, then line.
    pub skipped: Vec<Skipped>,
    /// Candidate pairs proposed by LSH.
    pub candidate_pairs: usize,
    /// Near-duplicate pairs that passed verification (exact duplicates not included).
    pub pairs: Vec<Pair>,
    /// Clusters in canonical order: by component (largest first, then by first member), a
    /// component's clusters in the order their kept documents were chosen.
    pub clusters: Vec<Cluster>,
    /// A short one-line preview of every document that is in a cluster.
    pub previews: FxHashMap<u32, String>,
    /// Repeated passages, the ones a cleanup would cut most first.
    pub passages: Vec<PassageFound>,
    /// Documents holding a passage more than once, with the bytes a cleanup of those repeats
    /// would cut, in document order.
    pub self_repeating: Vec<(u32, u64)>,
    /// Documents holding at least one occurrence of a passage.
    pub passage_documents: u64,
    /// Bytes in passage occurrences beyond each passage's first (overlaps counted once).
    pub passage_cut_bytes: u64,
    /// The record-level skips beyond the first [`crate::corpus::LISTED_RECORD_SKIPS`], counted
    /// only: `skipped` lists the others.
    pub skipped_unlisted: crate::corpus::Unlisted,
    /// Things the user should know that did not change the findings (e.g. a slower path
    /// taken because no temporary file could be written).
    pub warnings: Vec<String>,
}

impl ScanResult {
    /// Inputs skipped in all: those listed and those only counted.
    pub fn skipped_count(&self) -> u64 {
        self.skipped.len() as u64 + self.skipped_unlisted.records
    }
}

/// A repeated passage as reported.
#[derive(Clone, Debug, PartialEq)]
pub struct PassageFound {
    /// Length of the first occurrence in words.
    pub words: u64,
    /// Length of the first occurrence in bytes.
    pub bytes: u64,
    /// Lowest identity among the alignments that make up the passage.
    pub identity: f64,
    /// The start of the first occurrence, on one line.
    pub preview: String,
    /// Every occurrence, in document order.
    pub occurrences: Vec<OccurrenceFound>,
}

/// One occurrence of a passage, located in its document's original bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OccurrenceFound {
    /// Document index.
    pub doc: u32,
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
    /// 1-based line of the first byte.
    pub line_start: u64,
    /// 1-based line of the last byte.
    pub line_end: u64,
    /// xxh3-64 of the occurrence's word hashes: identifies its words whatever file (or index)
    /// it is in and however it is formatted.
    pub hash: u64,
}

/// A similarity or share as every report, manifest and verdict writes it: rounded to 4
/// decimals (one function, so that a cluster's similarity reads the same everywhere).
pub fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// Characters in a document preview.
pub const PREVIEW_CHARS: usize = 72;

/// The first `max` characters of `text` on one line, whitespace collapsed, `…` when cut.
pub fn preview(text: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(&text[..text.len().min(max * 8)]);
    let mut out = String::new();
    let mut count = 0;
    for word in text.split_whitespace() {
        if count > 0 {
            if count + 1 >= max {
                out.push('…');
                return out;
            }
            out.push(' ');
            count += 1;
        }
        for c in word.chars() {
            if count >= max {
                out.push('…');
                return out;
            }
            // Control characters would garble a terminal.
            out.push(if c.is_control() { '\u{fffd}' } else { c });
            count += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_are_one_short_line() {
        assert_eq!(preview(b"  Hello\n\n  world  ", 72), "Hello world");
        assert_eq!(preview(b"abcdef", 3), "abc…");
        assert_eq!(preview(b"a\x07b", 10), "a\u{fffd}b");
        assert_eq!(preview(b"", 10), "");
        // A word ending right at the limit leaves no room for the next one.
        assert_eq!(preview(b"abc def", 3), "abc…");
        assert_eq!(preview(b"abc def", 4), "abc…");
        assert_eq!(preview(b"abc def", 5), "abc d…");
        assert_eq!(preview(b"abc def", 7), "abc def");
    }
}
