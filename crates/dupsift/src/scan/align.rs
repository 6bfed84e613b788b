//! Passage alignment: seeds from the fingerprints pass 1 filed, then every document pair that
//! shares a seed aligned on its words, a block of documents at a time (at most
//! [`passages::BLOCK_WORDS`] words, read from the spill), later partners streamed past it.
//!
//! This module must not locate occurrences in bytes (see `locate`) nor group passages.

use rayon::prelude::*;

use super::blocks::{WordsBlock, for_each_block, load_block, words_chunk_len};
use super::sources::Sources;
use crate::error::ScanError;
use crate::passages::{self, FingerprintTable, PassageParams};
use crate::progress::Progress;
use crate::result::DocTable;

/// Seeds from the fingerprints, then alignment of every document pair that shares one, a block
/// of documents at a time: each block is loaded (at most [`passages::BLOCK_WORDS`] words) and
/// aligned with itself and with every later partner, which is streamed through in chunks.
pub(super) fn align_passages(
    src: Sources<'_>,
    docs: &DocTable,
    fingerprints: FingerprintTable,
    pp: &PassageParams,
    progress: &Progress,
) -> Result<Vec<passages::Alignment>, ScanError> {
    let seeds = passages::seeds(fingerprints, pp);
    let per_chunk = (src.read.batch_bytes / 4).max(1);
    let mut seen = vec![false; docs.len()];
    for s in &seeds {
        seen[s.a as usize] = true;
        seen[s.b as usize] = true;
    }
    let involved: Vec<u32> = (0..docs.len() as u32)
        .filter(|&d| seen[d as usize])
        .collect();
    drop(seen);
    let mut alignments = Vec::new();
    let pairs_of = |lo: u32, hi: u32| {
        let mine =
            &seeds[seeds.partition_point(|s| s.a < lo)..seeds.partition_point(|s| s.a <= hi)];
        // Each group is a run of one (a, b) pair.
        (mine, PairGroup::all(mine).collect())
    };
    let work = |mine: &&[passages::Seed], groups: &[PairGroup], a: &WordsBlock, b: &WordsBlock| {
        alignments.extend(align_groups(mine, groups, a, b, pp.min_words));
        Ok(())
    };
    for_each_block(
        &involved,
        |d| docs.words[d as usize] as usize,
        passages::BLOCK_WORDS,
        pairs_of,
        |g: &PairGroup| (g.a, g.b),
        |want| load_block(src, docs, want, progress),
        |rest| words_chunk_len(docs, rest, per_chunk),
        work,
    )?;
    Ok(alignments)
}

/// The seeds of one document pair: `seeds[at..at + n]` of a block's seeds.
#[derive(Clone, Copy)]
struct PairGroup {
    a: u32,
    b: u32,
    at: u32,
    n: u32,
}

impl PairGroup {
    /// The groups of `seeds` (sorted by pair).
    fn all(seeds: &[passages::Seed]) -> impl Iterator<Item = PairGroup> + '_ {
        let mut at = 0;
        seeds
            .chunk_by(|x, y| (x.a, x.b) == (y.a, y.b))
            .map(move |g| {
                let group = PairGroup {
                    a: g[0].a,
                    b: g[0].b,
                    at,
                    n: g.len() as u32,
                };
                at += g.len() as u32;
                group
            })
    }
}

fn align_groups(
    seeds: &[passages::Seed],
    groups: &[PairGroup],
    a_words: &WordsBlock,
    b_words: &WordsBlock,
    min_words: usize,
) -> Vec<passages::Alignment> {
    // Words are read at random places of a block far larger than the caches: each group's
    // first seed is prefetched a few groups ahead, so that the misses overlap.
    const AHEAD: usize = 4;
    groups
        .par_chunks(256)
        .flat_map_iter(|chunk| {
            let words: Vec<(&[u32], &[u32])> = chunk
                .iter()
                .map(|g| (a_words.get(g.a), b_words.get(g.b)))
                .collect();
            chunk.iter().enumerate().flat_map(move |(i, g)| {
                if let (Some(ahead), Some(&(wa, wb))) = (chunk.get(i + AHEAD), words.get(i + AHEAD))
                {
                    let s = &seeds[ahead.at as usize];
                    prefetch(&wa[(s.pa as usize).min(wa.len().saturating_sub(1))..]);
                    prefetch(&wb[(s.pb as usize).min(wb.len().saturating_sub(1))..]);
                }
                let pos = seeds[g.at as usize..(g.at + g.n) as usize]
                    .iter()
                    .map(|s| (s.pa, s.pb));
                passages::align_pair((g.a, words[i].0), (g.b, words[i].1), pos, min_words)
            })
        })
        .collect()
}

/// Asks the CPU to start loading the cache line holding the start of `words`.
#[inline]
fn prefetch(words: &[u32]) {
    #[cfg(target_arch = "x86_64")]
    if !words.is_empty() {
        // SAFETY: a prefetch is only a hint; it never faults, even on a bad address, and
        // this one is in bounds. SSE is part of every x86-64 target.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                words.as_ptr().cast::<i8>(),
            );
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = words;
}
