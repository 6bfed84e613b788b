//! The one memory-budgeted loop over document pairs that verification and passage alignment
//! share, and the loading of documents' words into one buffer.
//!
//! [`for_each_block`] cuts the documents taking part into blocks in document order, each
//! holding at most a budget (of shingles, or of words) unless one document alone is larger;
//! loads a block; hands its pairs within the block to the work; then streams the block's later
//! partners past it in chunks, handing each chunk's pairs over with the block. Memory is the
//! block plus one chunk, whatever the number of pairs; every pair is handed over exactly once,
//! in an order that depends only on the pairs (not on threads).
//!
//! This module must not decide what a pair means: the work does.

use std::sync::atomic::Ordering;

use rayon::prelude::*;

use super::sketch::Scratch;
use super::sources::{Sources, load_words};
use crate::error::ScanError;
use crate::passages::Words;
use crate::progress::Progress;
use crate::result::DocTable;

/// Runs `work` over every pair `(a, b)` (`a < b`) of a job, a block of documents at a time.
///
/// - `involved`: every document of a pair, sorted, without repeats; `weight(d)` is what it
///   costs in memory and `budget` what a block may hold.
/// - `pairs_of(lo, hi)`: the pairs whose first document is in `lo..=hi`, in (a, b) order, with
///   a context the work gets back; `pair` gives a pair's two documents (pairs are unique).
/// - `load(docs)`: the documents (sorted) in memory; `chunk(rest)`: how many of the later
///   partners `rest` one chunk takes (at least one).
/// - `work(ctx, pairs, a_side, b_side)`: pairs inside the block get the block on both sides;
///   pairs with a later partner get the block and the chunk holding the partner.
#[allow(clippy::too_many_arguments)]
pub(super) fn for_each_block<C, P: Copy + Send, M>(
    involved: &[u32],
    weight: impl Fn(u32) -> usize,
    budget: usize,
    mut pairs_of: impl FnMut(u32, u32) -> (C, Vec<P>),
    pair: impl Fn(&P) -> (u32, u32) + Sync,
    mut load: impl FnMut(&[u32]) -> Result<M, ScanError>,
    chunk: impl Fn(&[u32]) -> usize,
    mut work: impl FnMut(&C, &[P], &M, &M) -> Result<(), ScanError>,
) -> Result<(), ScanError> {
    let mut start = 0;
    while start < involved.len() {
        let mut end = start;
        let mut held = 0usize;
        while end < involved.len() && (end == start || held + weight(involved[end]) <= budget) {
            held += weight(involved[end]);
            end += 1;
        }
        let block = &involved[start..end];
        let (lo, hi) = (block[0], block[block.len() - 1]);
        let mem = load(block)?;
        let (ctx, mine) = pairs_of(lo, hi);
        let (inner, mut outer): (Vec<P>, Vec<P>) = mine.into_iter().partition(|p| pair(p).1 <= hi);
        work(&ctx, &inner, &mem, &mem)?;
        drop(inner);
        // Later partners are streamed past the block in document order. The pairs are
        // unique, so an unstable sort is exact.
        outer.par_sort_unstable_by_key(|p| {
            let (a, b) = pair(p);
            (u64::from(b) << 32) | u64::from(a)
        });
        let mut later: Vec<u32> = outer.iter().map(|p| pair(p).1).collect();
        later.dedup();
        let (mut rest, mut next) = (&later[..], 0);
        while !rest.is_empty() {
            let (part, tail) = rest.split_at(chunk(rest).clamp(1, rest.len()));
            rest = tail;
            let partners = load(part)?;
            let last = part[part.len() - 1];
            let end = next + outer[next..].partition_point(|p| pair(p).1 <= last);
            work(&ctx, &outer[next..end], &mem, &partners)?;
            next = end;
        }
        start = end;
    }
    Ok(())
}

/// How many of `rest` make a chunk of about `per_chunk` words (at least one document; the
/// last one may cross the limit), so that memory stays bounded as it is with text.
pub(super) fn words_chunk_len(docs: &DocTable, rest: &[u32], per_chunk: usize) -> usize {
    let (mut end, mut words) = (0, 0usize);
    while end < rest.len() && (end == 0 || words < per_chunk) {
        words += docs.words[rest[end] as usize] as usize;
        end += 1;
    }
    end
}

/// The words of a sorted set of documents in one buffer: a block of passage alignment, or a
/// chunk of later partners streamed past it.
#[derive(Default)]
pub(super) struct WordsBlock {
    words: Vec<u32>,
    /// The documents, ascending.
    docs: Vec<u32>,
    /// Where each document's words start in `words`, and how many there are.
    at: Vec<(usize, u32)>,
    /// Document `docs[0] + k` is `docs[slot[k]]` (`u32::MAX`: not in the set); empty when the
    /// documents are too sparse for it.
    slot: Vec<u32>,
}

impl WordsBlock {
    pub(super) fn push(&mut self, d: u32, words: &[u32]) {
        self.docs.push(d);
        self.at.push((self.words.len(), words.len() as u32));
        self.words.extend_from_slice(words);
    }

    /// Indexes the documents by number when they are dense enough, so that [`Self::get`]
    /// needs no search (the search took a fifth of alignment's time).
    pub(super) fn index(&mut self) {
        let (Some(&lo), Some(&hi)) = (self.docs.first(), self.docs.last()) else {
            return;
        };
        let range = (hi - lo) as usize + 1;
        if range <= 16 * self.docs.len() {
            self.slot = vec![u32::MAX; range];
            for (i, &d) in self.docs.iter().enumerate() {
                self.slot[(d - lo) as usize] = i as u32;
            }
        }
    }

    /// The words of document `d`, which must be one of the set.
    pub(super) fn get(&self, d: u32) -> &[u32] {
        let lo = self.docs.first().copied().unwrap_or(0);
        let i = match self.slot.get(d.wrapping_sub(lo) as usize) {
            Some(&i) if i != u32::MAX => Some(i as usize),
            _ if self.slot.is_empty() => self.docs.binary_search(&d).ok(),
            _ => None,
        };
        let (start, n) = self.at[i.unwrap_or_else(|| panic!("document {d} is not in the block"))];
        &self.words[start..start + n as usize]
    }
}

/// Longest stretch of other documents' words read along to join two reads of the spill into
/// one (a read costs about as much as copying a few thousand words).
const JOIN_GAP_WORDS: u64 = 2048;

/// Longest single read of the spill, in words (reads run in parallel).
const RUN_WORDS: u64 = 1 << 20;

/// Plans the reads of documents' words from the spill, given each one's `(first word, words)`
/// in document order: `(first document, end, first word, words)` per read. Consecutive
/// documents share a read when the words between them are at most [`JOIN_GAP_WORDS`] and all
/// such words read along add up to at most an eighth of those wanted; a read covers at most
/// [`RUN_WORDS`] (or one document's words).
fn plan_reads(spans: impl Iterator<Item = (u64, u32)> + Clone) -> Vec<(usize, usize, u64, u64)> {
    let wanted: u64 = spans.clone().map(|(_, n)| u64::from(n)).sum();
    let mut slack = wanted / 8;
    let mut runs: Vec<(usize, usize, u64, u64)> = Vec::new();
    for (i, (at, n)) in spans.enumerate() {
        let end = at + u64::from(n);
        if let Some(r) = runs.last_mut()
            && at >= r.2 + r.3
            && end - r.2 <= RUN_WORDS
        {
            let gap = at - (r.2 + r.3);
            if gap <= JOIN_GAP_WORDS.min(slack) {
                slack -= gap;
                r.1 = i + 1;
                r.3 = end - r.2;
                continue;
            }
        }
        runs.push((i, i + 1, at, u64::from(n)));
    }
    runs
}

/// Loads the words of documents `want` (sorted) into one buffer. Documents whose words pass 1
/// spilled are read in a few large reads, each covering a run of them (their words lie in
/// document order; see [`plan_reads`]); others go through [`load_words`].
pub(super) fn load_block(
    src: Sources<'_>,
    docs: &DocTable,
    want: &[u32],
    progress: &Progress,
) -> Result<WordsBlock, ScanError> {
    let mut block = WordsBlock::default();
    let split = match src.spill {
        Some(_) => want.partition_point(|&d| d < src.prior_docs),
        None => want.len(),
    };
    let (elsewhere, spilled) = want.split_at(split);
    if !elsewhere.is_empty() {
        load_words(src, docs, elsewhere, progress, doc_words, |chunk| {
            for (d, w) in chunk {
                block.push(d, &w);
            }
            Ok(())
        })?;
    }
    let Some(spill) = src.spill.filter(|_| !spilled.is_empty()) else {
        block.index();
        return Ok(block);
    };
    let bytes: u64 = spilled.iter().map(|&d| docs.bytes[d as usize]).sum();
    progress.total.fetch_add(bytes, Ordering::Relaxed);
    let span = |d: u32| spill.span((d - src.prior_docs) as usize);
    let runs = plan_reads(spilled.iter().map(|&d| span(d)));
    let base = block.words.len();
    let total: u64 = runs.iter().map(|r| r.3).sum();
    block.words.resize(base + total as usize, 0);
    let mut parts = Vec::with_capacity(runs.len());
    let mut rest = &mut block.words[base..];
    for r in &runs {
        let (part, tail) = std::mem::take(&mut rest).split_at_mut(r.3 as usize);
        parts.push(part);
        rest = tail;
    }
    parts
        .into_par_iter()
        .zip(&runs)
        .try_for_each(|(part, r)| spill.read_at(r.2, part))
        .map_err(ScanError::Spill)?;
    let mut off = base;
    for r in &runs {
        for &d in &spilled[r.0..r.1] {
            let (at, n) = span(d);
            block.docs.push(d);
            block.at.push((off + (at - r.2) as usize, n));
        }
        off += r.3 as usize;
    }
    progress.bytes.fetch_add(bytes, Ordering::Relaxed);
    progress
        .docs
        .fetch_add(spilled.len() as u64, Ordering::Relaxed);
    block.index();
    Ok(block)
}

pub(super) fn doc_words(_: u32, words: &[u32], _: &mut Scratch) -> Words {
    words.to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_words_block_finds_its_documents_dense_or_sparse() {
        for docs in [vec![3u32, 4, 6, 7, 9], vec![5, 1000, 70_000]] {
            let mut block = WordsBlock::default();
            for &d in &docs {
                block.push(d, &[d, d + 1, d + 2][..(d % 3) as usize + 1]);
            }
            block.index();
            assert_eq!(
                block.slot.is_empty(),
                docs.len() == 3,
                "dense sets are indexed"
            );
            for &d in docs.iter().rev() {
                assert_eq!(block.get(d), &[d, d + 1, d + 2][..(d % 3) as usize + 1]);
            }
            let missing = docs[1] + 1;
            let found = std::panic::catch_unwind(|| block.get(missing).to_vec());
            assert!(found.is_err(), "document {missing} is not in the block");
        }
    }

    #[test]
    fn spill_reads_join_close_documents_within_bounds() {
        // Adjacent documents share a read; a short gap is read along while the slack lasts.
        let spans = [(0, 100), (100, 50), (150, 10), (170, 40), (210, 0)];
        assert_eq!(plan_reads(spans.iter().copied()), vec![(0, 5, 0, 210)]);
        let spans = [(0, 100), (140, 100)];
        assert_eq!(
            plan_reads(spans.iter().copied()),
            vec![(0, 1, 0, 100), (1, 2, 140, 100)],
            "a gap of 40 words is more than an eighth of 200"
        );
        // Enough slack, but a gap longer than JOIN_GAP_WORDS.
        for (gap, joined) in [(JOIN_GAP_WORDS, true), (JOIN_GAP_WORDS + 1, false)] {
            let spans = [(0, 1000), (1020, 1000), (2020 + gap, 20_000)];
            let expect = if joined {
                vec![(0, 3, 0, 22_020 + gap)]
            } else {
                vec![(0, 2, 0, 2020), (2, 3, 2020 + gap, 20_000)]
            };
            assert_eq!(plan_reads(spans.iter().copied()), expect, "gap {gap}");
        }
        // Out of order (an exact copy points back at its original) starts a new read.
        let spans = [(500, 10), (0, 10), (10, 10)];
        assert_eq!(
            plan_reads(spans.iter().copied()),
            vec![(0, 1, 500, 10), (1, 3, 0, 20)]
        );
        // No read grows past RUN_WORDS, but a longer document is read whole.
        let half = (RUN_WORDS / 2) as u32;
        let spans = [
            (0, half),
            (u64::from(half), half),
            (RUN_WORDS, half),
            (RUN_WORDS * 3 / 2, 3 * half),
        ];
        assert_eq!(
            plan_reads(spans.iter().copied()),
            vec![
                (0, 2, 0, RUN_WORDS),
                (2, 3, RUN_WORDS, RUN_WORDS / 2),
                (3, 4, RUN_WORDS * 3 / 2, RUN_WORDS * 3 / 2)
            ]
        );
    }
}
