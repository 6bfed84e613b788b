//! One document's sketch: folded word hashes, shingles, the MinHash signature and its band
//! keys, passage fingerprints and the 32-bit words for the spill, computed with per-thread
//! scratch buffers; and [`Signer`], the same computation one document at a time for runs that
//! another system distributes.
//!
//! This module must not see more than one document at a time (two for a similarity).

use xxhash_rust::xxh3::xxh3_128;

use crate::lsh;
use crate::minhash::MinHasher;
use crate::params::Params;
use crate::passages;
use crate::shingle::{self, Unit};
use crate::tokenize::{Tokens, tokenize};
use crate::verify::{Verify, jaccard_sorted};

/// Per-thread reusable buffers of every pass, so that a document costs no allocation.
///
/// Words, as the scan speaks of them: a *word* is a folded word of the text; its *word hash*
/// is the seeded 64-bit xxh3 of the folded bytes ([`shingle::text_word_hashes`], what indexes
/// store); a *spilled word* is that hash truncated to 32 bits ([`passages::Words`], what the
/// spill holds and what exact verification and alignment compare). Counts of words are
/// [`crate::result::DocTable::words`]; passage lengths and positions are in words.
#[derive(Default)]
pub(super) struct Scratch {
    /// Tokens of the general tokenizer (character shingles, and spans).
    pub tokens: Tokens,
    /// The shingler's buffers.
    pub shingle: shingle::Scratch,
    /// The document's word hashes.
    pub word_hashes: Vec<u64>,
    /// The document's shingle hashes (with repeats).
    pub hashes: Vec<u64>,
    /// Passage gram hashes.
    pub grams: Vec<u64>,
    /// Bytes of the window being hashed.
    pub window: Vec<u8>,
    /// The MinHash signature.
    pub sig: Vec<u32>,
    /// Byte spans of the words (the last read).
    pub spans: Vec<std::ops::Range<usize>>,
    /// Spilled words, when they come from elsewhere (an index, the text).
    pub spill_words: Vec<u32>,
}

/// What pass 1 keeps of one document besides its [`crate::result::DocTable`] row.
pub(super) struct Sketch {
    /// Shingles, with repeats.
    pub shingles: u32,
    /// Words.
    pub words: u32,
    /// The 32-bit word hashes for the spill; empty when not spilling.
    pub spilled: Vec<u32>,
    /// Band keys.
    pub keys: Vec<u64>,
    /// The signature with `--verify estimate`; empty otherwise.
    pub sig: Vec<u32>,
    /// Passage fingerprints (hash, word position).
    pub fingerprints: Vec<(u64, u32)>,
}

pub(super) fn sketch(
    text: &[u8],
    params: &Params,
    hasher: &MinHasher,
    spill: bool,
    s: &mut Scratch,
) -> Sketch {
    s.hashes.clear();
    match params.unit {
        Unit::Word => {
            shingle::text_word_hashes(text, &mut s.tokens, &mut s.word_hashes);
            shingle::gram_hashes(&s.word_hashes, params.ngram, &mut s.window, &mut s.hashes);
        }
        Unit::Char => {
            tokenize(text, &mut s.tokens);
            shingle::word_hashes(&s.tokens, &mut s.word_hashes);
            shingle::shingles(
                &s.tokens,
                params.unit,
                params.ngram,
                &mut s.shingle,
                &mut s.hashes,
            );
        }
    }
    s.sig.resize(params.num_perm, 0);
    hasher.sign(&s.hashes, &mut s.sig);
    let mut keys = vec![0u64; params.bands];
    lsh::band_keys(&s.sig, params.bands, params.rows, &mut keys);
    let mut fingerprints = Vec::new();
    // Word positions and byte spans are kept as u32 by the passage stage.
    if let Some(pp) = &params.passages
        && text.len() <= u32::MAX as usize
    {
        passages::fingerprints(
            &s.word_hashes,
            pp,
            &mut s.grams,
            &mut s.window,
            &mut fingerprints,
        );
    }
    Sketch {
        shingles: s.hashes.len().min(u32::MAX as usize) as u32,
        words: s.word_hashes.len().min(u32::MAX as usize) as u32,
        spilled: if spill {
            passages::words(&s.word_hashes)
        } else {
            Vec::new()
        },
        keys,
        sig: if params.verify == Verify::Estimate {
            s.sig.clone()
        } else {
            Vec::new()
        },
        fingerprints,
    }
}

/// The set exact verification compares for word shingles: sorted, without repeats.
pub(super) fn word_set(words: &[u32], ngram: usize, out: &mut Vec<u64>) {
    out.clear();
    shingle::verify_gram_hashes(words, ngram, out);
    out.sort_unstable();
    out.dedup();
}

/// The per-document work of a scan, one document at a time, for runs that another system
/// distributes (`dupsift worker`): the band keys [`super::scan`] computes in its first pass and the
/// similarity its exact verification computes, so that both paths find the same pairs. Repeated
/// passages are not part of it.
pub struct Signer {
    params: Params,
    hasher: MinHasher,
    scratch: Scratch,
    sets: (Vec<u64>, Vec<u64>),
}

/// What [`Signer::sign`] computes for one document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signed {
    /// Shingles (with repeats); 0 for a document without words, which takes no part in LSH.
    pub shingles: u32,
    /// Words.
    pub words: u32,
    /// xxh3-128 of the bytes: equal for exact duplicates.
    pub content: u128,
    /// The band keys (`params.bands` of them); empty when there are no shingles.
    pub keys: Vec<u64>,
}

impl Signer {
    /// A signer for `params` (their passage settings are ignored).
    pub fn new(params: &Params) -> Signer {
        Signer {
            params: Params {
                passages: None,
                ..params.clone()
            },
            hasher: MinHasher::with_scheme(params.num_perm, params.seed, params.scheme),
            scratch: Scratch::default(),
            sets: (Vec::new(), Vec::new()),
        }
    }

    /// Band keys and counts of one document's bytes.
    pub fn sign(&mut self, text: &[u8]) -> Signed {
        let sk = sketch(text, &self.params, &self.hasher, false, &mut self.scratch);
        Signed {
            shingles: sk.shingles,
            words: sk.words,
            content: xxh3_128(text),
            keys: if sk.shingles > 0 { sk.keys } else { Vec::new() },
        }
    }

    /// The exact similarity of two documents, as verification in [`super::scan`] computes it.
    pub fn similarity(&mut self, a: &[u8], b: &[u8]) -> f64 {
        let (sa, sb) = &mut self.sets;
        for (text, set) in [(a, &mut *sa), (b, &mut *sb)] {
            let s = &mut self.scratch;
            match self.params.unit {
                Unit::Word => {
                    shingle::text_word_hashes(text, &mut s.tokens, &mut s.word_hashes);
                    passages::words_into(&s.word_hashes, &mut s.spill_words);
                    word_set(&s.spill_words, self.params.ngram, set);
                }
                Unit::Char => {
                    tokenize(text, &mut s.tokens);
                    shingle::shingle_set(
                        &s.tokens,
                        Unit::Char,
                        self.params.ngram,
                        &mut s.shingle,
                        set,
                    );
                }
            }
        }
        jaccard_sorted(sa, sb)
    }
}
