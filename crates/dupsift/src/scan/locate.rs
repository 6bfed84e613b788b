//! The last read of a scan: what the report shows that pass 1 did not keep. Documents in a
//! cluster are read again for their previews; documents holding a passage occurrence for the
//! occurrence's byte range (widened over touching punctuation), lines and word hash.
//!
//! This module must not find passages or clusters; it places what the earlier passes found.

use rustc_hash::FxHashMap;

use super::sketch::Scratch;
use super::sources::{Sources, View, load_chunks};
use crate::corpus::Document;
use crate::error::ScanError;
use crate::index::IndexDoc;
use crate::passages::Passage;
use crate::progress::Progress;
use crate::ranges::union_lengths;
use crate::result::{DocTable, OccurrenceFound, PREVIEW_CHARS, PassageFound, preview};
use crate::shingle;

/// What the last read adds to a scan: previews, and each passage located in bytes and lines.
pub(super) struct Located {
    /// A preview of every document in a cluster.
    pub previews: FxHashMap<u32, String>,
    /// The passages, the ones a cleanup would cut most first.
    pub passages: Vec<PassageFound>,
    /// See [`crate::result::ScanResult::self_repeating`].
    pub self_repeating: Vec<(u32, u64)>,
    /// Documents holding at least one occurrence.
    pub passage_documents: u64,
    /// Bytes in occurrences beyond each passage's first.
    pub passage_cut_bytes: u64,
}

/// The last read: documents in a cluster (`components`, for their previews, when `previews`) and documents
/// holding a passage occurrence are read once more, in document order; occurrences get their
/// byte and line ranges and hashes, passages their previews, and the passages are ordered.
pub(super) fn locate(
    src: Sources<'_>,
    docs: &DocTable,
    components: &[Vec<u32>],
    groups: &[Passage],
    previews: bool,
    progress: &Progress,
) -> Result<Located, ScanError> {
    let occ = OccurrenceTable::of(groups, docs.len());
    let mut found: Vec<PassageFound> = groups
        .iter()
        .map(|g| PassageFound {
            words: g.occurrences[0].words.len() as u64,
            bytes: 0,
            identity: g.identity,
            preview: String::new(),
            occurrences: Vec::with_capacity(g.occurrences.len()),
        })
        .collect();
    // Previews are only shown for documents in clusters (an exact copy shows its original's).
    let mut previewed = vec![false; docs.len()];
    for members in components.iter().filter(|_| previews) {
        for &d in members {
            previewed[docs.original[d as usize] as usize] = true;
        }
    }
    let want: Vec<u32> = (0..docs.len() as u32)
        .filter(|&d| previewed[d as usize] || !occ.of_doc(d).is_empty())
        .collect();
    let mut previews = FxHashMap::default();
    let locate = |d: u32, view: View<'_>, s: &mut Scratch| {
        let here = occ.of_doc(d);
        let located = match view {
            View::Text(doc) => locate_in_text(doc, docs.words[d as usize], here, groups, s),
            View::Words(ix) => locate_in_words(ix, here, groups),
        };
        let pv = match view {
            View::Text(doc) if previewed[d as usize] => Some(preview(&doc.text, PREVIEW_CHARS)),
            _ => None,
        };
        (pv, located)
    };
    let mut located = Vec::new();
    load_chunks(src, docs, &want, progress, locate, |chunk| {
        for (d, (pv, occs)) in chunk {
            if let Some(pv) = pv {
                previews.insert(d, pv);
            }
            located.extend(occs);
        }
        Ok(())
    })?;
    // Documents come back in order, so each passage's occurrences arrive in document order.
    located.sort_unstable_by_key(|x| (x.0, x.1));
    for (p, _, occ, pv) in located {
        let f = &mut found[p as usize];
        if let Some(pv) = pv {
            f.bytes = occ.end - occ.start;
            f.preview = pv;
        }
        f.occurrences.push(occ);
    }
    for members in components {
        for &d in members {
            let o = docs.original[d as usize];
            if o != d
                && let Some(p) = previews.get(&o).cloned()
            {
                previews.insert(d, p);
            }
        }
    }
    let (self_repeating, passage_documents, passage_cut_bytes) = passage_totals(&mut found);
    // The passages a cleanup would cut most come first.
    let cut =
        |f: &PassageFound| -> u64 { f.occurrences[1..].iter().map(|o| o.end - o.start).sum() };
    found.sort_by(|x, y| {
        cut(y).cmp(&cut(x)).then_with(|| {
            let (a, b) = (&x.occurrences[0], &y.occurrences[0]);
            (a.doc, a.start).cmp(&(b.doc, b.start))
        })
    });
    Ok(Located {
        previews,
        passages: found,
        self_repeating,
        passage_documents,
        passage_cut_bytes,
    })
}

/// An occurrence located: (passage, occurrence number, where it is, the passage's preview when
/// this is its first occurrence).
type Placed = (u32, u32, OccurrenceFound, Option<String>);

/// Each document's passage occurrences as (passage, occurrence number), documents laid out one
/// after another.
struct OccurrenceTable {
    /// Document `d`'s are `occ[at[d]..at[d + 1]]`.
    at: Vec<u32>,
    occ: Vec<(u32, u32)>,
}

impl OccurrenceTable {
    fn of(groups: &[Passage], docs: usize) -> OccurrenceTable {
        let mut at = vec![0u32; docs + 1];
        for o in groups.iter().flat_map(|g| &g.occurrences) {
            at[o.doc as usize + 1] += 1;
        }
        for d in 0..docs {
            at[d + 1] += at[d];
        }
        let mut occ = vec![(0u32, 0u32); at[docs] as usize];
        let mut next = at.clone();
        for (p, g) in groups.iter().enumerate() {
            for (k, o) in g.occurrences.iter().enumerate() {
                occ[next[o.doc as usize] as usize] = (p as u32, k as u32);
                next[o.doc as usize] += 1;
            }
        }
        OccurrenceTable { at, occ }
    }

    fn of_doc(&self, d: u32) -> &[(u32, u32)] {
        &self.occ[self.at[d as usize] as usize..self.at[d as usize + 1] as usize]
    }
}

/// An indexed document has no text here: its occurrences are known by words only (no bytes,
/// line 0), identified by the hash of those words.
fn locate_in_words(ix: &IndexDoc, here: &[(u32, u32)], groups: &[Passage]) -> Vec<Placed> {
    here.iter()
        .map(|&(p, k)| {
            let o = &groups[p as usize].occurrences[k as usize];
            let occ = OccurrenceFound {
                doc: o.doc,
                start: 0,
                end: 0,
                line_start: 0,
                line_end: 0,
                hash: shingle::words_hash(&ix.words[o.words.start as usize..o.words.end as usize]),
            };
            (p, k, occ, (k == 0).then(String::new))
        })
        .collect()
}

/// Occurrences in a document's text: byte ranges (widened over touching punctuation), lines,
/// the hash of their words, and the passage's preview at its first occurrence.
fn locate_in_text(
    doc: &Document,
    words: u32,
    here: &[(u32, u32)],
    groups: &[Passage],
    s: &mut Scratch,
) -> Vec<Placed> {
    // Words past the last occurrence are not needed: a passage often ends early.
    let need = here
        .iter()
        .map(|&(p, k)| groups[p as usize].occurrences[k as usize].words.end);
    if let Some(need) = need.max() {
        let of = u64::from(words).max(1);
        let guess = (doc.text.len() as u64 * u64::from(need) / of) as usize;
        shingle::text_word_hashes_spans_prefix(
            &doc.text,
            need as usize,
            guess + guess / 16,
            &mut s.tokens,
            &mut s.word_hashes,
            &mut s.spans,
        );
    }
    let spans = &s.spans;
    let ranges: Vec<(u64, u64)> = here
        .iter()
        .map(|&(p, k)| {
            let o = &groups[p as usize].occurrences[k as usize];
            let first = spans[o.words.start as usize].start as u64;
            let last = spans[o.words.end as usize - 1].end as u64;
            widen_to_punctuation(&doc.text, first, last)
        })
        .collect();
    // Line numbers from one pass over the text, not one count from its start per occurrence:
    // a document repeating itself has thousands of occurrences.
    let lines = Lines::new(&doc.text, ranges.iter().map(|r| r.1).max().unwrap_or(0));
    here.iter()
        .zip(ranges)
        .map(|(&(p, k), (start, end))| {
            let o = &groups[p as usize].occurrences[k as usize];
            let occ = OccurrenceFound {
                doc: o.doc,
                start,
                end,
                line_start: lines.of(start),
                line_end: lines.of(end.saturating_sub(1).max(start)),
                hash: shingle::words_hash(
                    &s.word_hashes[o.words.start as usize..o.words.end as usize],
                ),
            };
            let pv =
                (k == 0).then(|| preview(&doc.text[start as usize..end as usize], PREVIEW_CHARS));
            (p, k, occ, pv)
        })
        .collect()
}

/// Per-document totals of the passages, after making each passage's occurrences in one
/// document disjoint: (self-repeating documents with their cut bytes, documents holding a
/// passage, bytes in occurrences beyond each passage's first).
fn passage_totals(found: &mut [PassageFound]) -> (Vec<(u32, u64)>, u64, u64) {
    let mut cut: Vec<(u32, u64, u64)> = Vec::new();
    let mut self_cut: Vec<(u32, u64, u64)> = Vec::new();
    let mut holders: Vec<u32> = Vec::new();
    for f in found.iter_mut() {
        // Widening over punctuation may make neighbours touch; the earlier one keeps the byte.
        for k in 1..f.occurrences.len() {
            let (prev, cur) = f.occurrences.split_at_mut(k);
            let (p, c) = (&prev[k - 1], &mut cur[0]);
            if p.doc == c.doc && c.start < p.end {
                c.start = p.end.min(c.end);
            }
        }
        for (k, o) in f.occurrences.iter().enumerate() {
            holders.push(o.doc);
            if k > 0 {
                cut.push((o.doc, o.start, o.end));
            }
            if k > 0 && f.occurrences[k - 1].doc == o.doc {
                self_cut.push((o.doc, o.start, o.end));
            }
        }
    }
    holders.sort_unstable();
    holders.dedup();
    let total = union_lengths(cut).iter().map(|x| x.1).sum();
    (union_lengths(self_cut), holders.len() as u64, total)
}

/// Widens `[start, end)` over punctuation touching it (closing quotes and full stops after,
/// opening quotes and brackets before), stopping at whitespace and at letters or digits.
fn widen_to_punctuation(text: &[u8], start: u64, end: u64) -> (u64, u64) {
    let is_punct = |c: char| !c.is_whitespace() && !c.is_alphanumeric() && c != '\u{fffd}';
    let (mut s, mut e) = (start as usize, end as usize);
    while let Some(c) = char_before(text, s).filter(|&(c, _)| is_punct(c)) {
        s -= c.1;
    }
    while let Some(c) = char_at(text, e).filter(|&(c, _)| is_punct(c)) {
        e += c.1;
    }
    (s as u64, e as u64)
}

fn char_at(text: &[u8], i: usize) -> Option<(char, usize)> {
    let rest = text.get(i..)?;
    let len = rest.len().min(4);
    let chunk = rest[..len].utf8_chunks().next()?;
    let c = chunk.valid().chars().next()?;
    Some((c, c.len_utf8()))
}

fn char_before(text: &[u8], i: usize) -> Option<(char, usize)> {
    (1..=4.min(i)).find_map(|n| {
        let c = std::str::from_utf8(&text[i - n..i]).ok()?.chars().next()?;
        (c.len_utf8() == n).then_some((c, n))
    })
}

/// The line breaks of a text up to some byte, for 1-based line numbers of the bytes before it.
struct Lines {
    breaks: Vec<u64>,
}

impl Lines {
    /// The breaks of `text` before byte `upto`.
    fn new(text: &[u8], upto: u64) -> Lines {
        let upto = (upto as usize).min(text.len());
        Lines {
            breaks: memchr::memchr_iter(b'\n', &text[..upto])
                .map(|i| i as u64)
                .collect(),
        }
    }

    /// 1-based line number of byte `at` (below `upto`): one more than the breaks before it.
    fn of(&self, at: u64) -> u64 {
        1 + self.breaks.partition_point(|&b| b < at) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::Lines;

    #[test]
    fn line_numbers_count_the_breaks_before_a_byte() {
        let text = b"a\nbb\n\nccc\n";
        let lines = Lines::new(text, text.len() as u64);
        let naive = |at: usize| 1 + text[..at].iter().filter(|&&b| b == b'\n').count() as u64;
        for at in 0..text.len() {
            assert_eq!(lines.of(at as u64), naive(at), "byte {at}");
        }
    }
}
