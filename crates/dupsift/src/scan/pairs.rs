//! Similarities of document pairs, for verification (candidates → near-duplicate pairs) and
//! for clusters (each member against its kept document): estimated from the signatures kept in
//! pass 1, or exact, from the shingle sets of the documents, loaded in blocks under the
//! verification budget ([`Tuning::verify_block_shingles`]).
//!
//! This module must not decide clusters; it computes numbers for given pairs.

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::blocks::for_each_block;
use super::sketch::{Scratch, word_set};
use super::sources::{Sources, View, load_chunks, load_words};
use crate::error::ScanError;
use crate::minhash::estimate_jaccard;
use crate::options::Tuning;
use crate::params::Params;
use crate::progress::Progress;
use crate::result::{DocTable, Pair};
use crate::shingle::{self, Unit};
use crate::tokenize::tokenize;
use crate::verify::{Verify, jaccard_sorted};

/// Later partners loaded at a time past a block of sets.
const LATER_CHUNK_DOCS: usize = 4096;

/// Shingle sets by document.
type Sets = FxHashMap<u32, Vec<u64>>;

/// How the similarity of a pair is computed in this scan.
pub(super) struct Similarity<'a> {
    /// Where documents are read again (exact verification).
    pub src: Sources<'a>,
    /// The documents.
    pub docs: &'a DocTable,
    /// The scan's parameters.
    pub params: &'a Params,
    /// The verification budget.
    pub tuning: &'a Tuning,
    /// `num_perm` signature values per document, kept with `--verify estimate` only.
    pub sigs: &'a [u32],
    /// When `sigs` holds some documents only: the row of each document's signature.
    pub rows: Option<&'a [u32]>,
}

impl<'a> Similarity<'a> {
    /// The similarities of a scan with `options`; `sigs` (and `rows`) as the fields say.
    pub fn new(
        src: Sources<'a>,
        docs: &'a DocTable,
        options: &'a crate::options::ScanOptions,
        sigs: &'a [u32],
        rows: Option<&'a [u32]>,
    ) -> Similarity<'a> {
        Similarity {
            src,
            docs,
            params: &options.params,
            tuning: &options.tuning,
            sigs,
            rows,
        }
    }

    /// The similarity of each pair (`a < b`), in the order of `pairs`.
    pub fn of(&self, pairs: &[(u32, u32)], progress: &Progress) -> Result<Vec<f64>, ScanError> {
        match self.params.verify {
            Verify::Exact => jaccard_blocked(
                self.src,
                self.docs,
                pairs,
                self.params,
                self.tuning,
                progress,
            ),
            Verify::Estimate => {
                let n = self.params.num_perm;
                let sig = |d: u32| {
                    let row = self.rows.map_or(d, |r| r[d as usize]) as usize;
                    &self.sigs[row * n..(row + 1) * n]
                };
                Ok(pairs
                    .par_iter()
                    .map(|&(a, b)| estimate_jaccard(sig(a), sig(b)))
                    .collect())
            }
        }
    }

    /// The verification pass: the candidates whose similarity reaches the threshold, in the
    /// order of `candidates`.
    pub fn verify(
        &self,
        candidates: &[(u32, u32)],
        progress: &Progress,
    ) -> Result<Vec<Pair>, ScanError> {
        let sims = self.of(candidates, progress)?;
        Ok(candidates
            .iter()
            .zip(&sims)
            .filter(|(_, s)| **s >= self.params.threshold)
            .map(|(&(a, b), &similarity)| Pair { a, b, similarity })
            .collect())
    }
}

/// Exact Jaccard similarity of each pair (`a < b`; sorted or not), holding at most
/// [`Tuning::verify_block_shingles`] shingles of sets in memory at a time: the documents of the pairs
/// are cut into blocks in document order; each block's sets are loaded and its pairs within
/// the block computed, then the later partners of its documents are streamed past it.
fn jaccard_blocked(
    src: Sources<'_>,
    docs: &DocTable,
    pairs: &[(u32, u32)],
    params: &Params,
    tuning: &Tuning,
    progress: &Progress,
) -> Result<Vec<f64>, ScanError> {
    let mut out = vec![0.0; pairs.len()];
    let mut order: Vec<u32> = (0..pairs.len() as u32).collect();
    order.sort_unstable_by_key(|&i| pairs[i as usize]);
    let mut involved: Vec<u32> = pairs.iter().flat_map(|&(a, b)| [a, b]).collect();
    involved.par_sort_unstable();
    involved.dedup();
    let budget = tuning.verify_block_shingles;
    let weight = |d: u32| docs.shingles[d as usize] as usize;
    let pairs_of = |lo: u32, hi: u32| {
        let mine = &order[order.partition_point(|&i| pairs[i as usize].0 < lo)
            ..order.partition_point(|&i| pairs[i as usize].0 <= hi)];
        ((), mine.to_vec())
    };
    let load = |need: &[u32]| load_sets(src, docs, need, params, progress);
    let work = |_: &(), mine: &[u32], a_sets: &Sets, b_sets: &Sets| {
        let sims: Vec<f64> = mine
            .par_iter()
            .map(|&i| {
                let (a, b) = pairs[i as usize];
                jaccard_sorted(&a_sets[&a], &b_sets[&b])
            })
            .collect();
        for (&i, s) in mine.iter().zip(sims) {
            out[i as usize] = s;
        }
        Ok(())
    };
    for_each_block(
        &involved,
        weight,
        budget,
        pairs_of,
        |&i| pairs[i as usize],
        load,
        |rest| rest.len().min(LATER_CHUNK_DOCS),
        work,
    )?;
    Ok(out)
}

/// Shingle sets of documents `need` (sorted).
fn load_sets(
    src: Sources<'_>,
    docs: &DocTable,
    need: &[u32],
    params: &Params,
    progress: &Progress,
) -> Result<Sets, ScanError> {
    let mut sets = FxHashMap::default();
    sets.reserve(need.len());
    let keep = |chunk: Vec<(u32, Vec<u64>)>| {
        sets.extend(chunk);
        Ok(())
    };
    if params.unit == Unit::Char {
        // Indexes hold word shingles only (char units are refused when one is built), so
        // every document here has its text.
        let build = |_: u32, view: View<'_>, s: &mut Scratch| {
            let mut set = Vec::new();
            if let View::Text(doc) = view {
                tokenize(&doc.text, &mut s.tokens);
                shingle::shingle_set(
                    &s.tokens,
                    Unit::Char,
                    params.ngram,
                    &mut s.shingle,
                    &mut set,
                );
            }
            set.shrink_to_fit();
            set
        };
        load_chunks(src, docs, need, progress, build, keep)?;
    } else {
        let build = |_: u32, words: &[u32], _: &mut Scratch| {
            let mut set = Vec::new();
            word_set(words, params.ngram, &mut set);
            set.shrink_to_fit();
            set
        };
        load_words(src, docs, need, progress, build, keep)?;
    }
    Ok(sets)
}
