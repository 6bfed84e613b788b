//! The pipeline driver: runs the stages in order and hands back plain results.
//!
//! ```text
//! pass 1 (streaming): corpus batches ─▶ decode ─▶ content hash ─▶ tokens ─▶ shingles ─▶ signature ─▶ band keys
//!                     (sequential I/O)  (parallel)  (exact dups)  (parallel, per document; text dropped here)
//! then:               band keys ─▶ candidate pairs ─▶ pass 2: re-read candidates ─▶ exact Jaccard ─▶ union-find
//! ```
//!
//! Memory: pass 1 keeps a fixed-size record per document ([`DocTable`]: id, location, size,
//! content hash, shingle count) plus `bands` u64 band keys (and the signature with
//! `--verify estimate`), never the text. Pass 2 holds the shingle sets of candidate documents
//! only. Results are independent of thread count: documents are numbered in input order,
//! every parallel step collects in input order, and pairs and clusters are sorted.
//!
//! This module wires stages together; text processing lives in the stage modules, rendering in
//! [`crate::report`].

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use xxhash_rust::xxh3::xxh3_128;

use crate::cluster::{KeepPolicy, UnionFind, choose_kept};
use crate::corpus::{Corpus, CorpusError, Decoded, DocLoc, Document, ReadOptions, Skipped};
use crate::lsh;
use crate::minhash::{LANES, MinHasher, estimate_jaccard};
use crate::shingle::{self, Unit};
use crate::tokenize::{Tokens, tokenize};
use crate::verify::{self, Verify, jaccard_sorted};

/// Everything that changes what a scan finds. Build with [`Params::new`], which validates.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Params {
    /// Shingle unit.
    pub unit: Unit,
    /// Units per shingle.
    pub ngram: usize,
    /// Signature length (number of permutations).
    pub num_perm: usize,
    /// LSH bands.
    pub bands: usize,
    /// Signature values per band.
    pub rows: usize,
    /// Similarity at or above which two documents are near-duplicates.
    pub threshold: f64,
    /// Seed of the MinHash permutations.
    pub seed: u64,
    /// How candidates are verified.
    pub verify: Verify,
    /// Which member a cluster keeps.
    pub keep: KeepPolicy,
}

/// A parameter combination that cannot work.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("invalid parameters: {0}")]
pub struct ParamsError(pub String);

impl Params {
    /// Validates a combination. `bands`/`rows` of `None` are chosen from the threshold with
    /// [`lsh::optimal_banding`]; giving only one derives the other from `num_perm`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        unit: Unit,
        ngram: usize,
        num_perm: usize,
        bands: Option<usize>,
        rows: Option<usize>,
        threshold: f64,
        seed: u64,
        verify: Verify,
        keep: KeepPolicy,
    ) -> Result<Params, ParamsError> {
        let err = |m: String| Err(ParamsError(m));
        if ngram == 0 {
            return err("--ngram must be at least 1".into());
        }
        if !(threshold > 0.0 && threshold <= 1.0) {
            return err(format!("--threshold must be in (0, 1], got {threshold}"));
        }
        if num_perm == 0 || num_perm % LANES != 0 || num_perm > 4096 {
            return err(format!(
                "--num-perm must be a multiple of {LANES} between {LANES} and 4096, got {num_perm}"
            ));
        }
        let (bands, rows) = match (bands, rows) {
            (None, None) => lsh::optimal_banding(threshold, num_perm, 0.5, lsh::DEFAULT_MIN_RECALL),
            (Some(b), None) if b > 0 => (b, num_perm / b),
            (None, Some(r)) if r > 0 => (num_perm / r, r),
            (Some(b), Some(r)) => (b, r),
            _ => return err("--bands and --rows must be positive".into()),
        };
        if bands == 0 || rows == 0 || bands * rows > num_perm {
            return err(format!(
                "--bands x --rows ({bands} x {rows}) must be positive and at most --num-perm ({num_perm})"
            ));
        }
        Ok(Params {
            unit,
            ngram,
            num_perm,
            bands,
            rows,
            threshold,
            seed,
            verify,
            keep,
        })
    }
}

impl Default for Params {
    fn default() -> Params {
        Params::new(
            Unit::Word,
            5,
            128,
            None,
            None,
            0.8,
            42,
            Verify::Exact,
            KeepPolicy::First,
        )
        .expect("defaults are valid")
    }
}

/// What the scan is doing, for progress displays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Stage {
    /// Reading, hashing and signing documents.
    Reading = 0,
    /// Re-reading candidate documents and verifying pairs.
    Verifying = 1,
    /// Building clusters and the result.
    Clustering = 2,
}

/// Counters a scan updates as it goes; another thread may read them at any time.
#[derive(Debug, Default)]
pub struct Progress {
    /// Raw input bytes read so far in the current pass.
    pub bytes: AtomicU64,
    /// Bytes the current pass will read in all (0 when unknown).
    pub total: AtomicU64,
    /// Documents processed so far in the current pass.
    pub docs: AtomicU64,
    stage: AtomicU8,
}

impl Progress {
    /// The current stage.
    pub fn stage(&self) -> Stage {
        match self.stage.load(Ordering::Relaxed) {
            0 => Stage::Reading,
            1 => Stage::Verifying,
            _ => Stage::Clustering,
        }
    }

    fn enter(&self, stage: Stage, total: u64) {
        self.bytes.store(0, Ordering::Relaxed);
        self.docs.store(0, Ordering::Relaxed);
        self.total.store(total, Ordering::Relaxed);
        self.stage.store(stage as u8, Ordering::Relaxed);
    }
}

/// Why a scan stopped.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// Reading the corpus failed as a whole (not one bad input: those are skipped).
    #[error(transparent)]
    Corpus(#[from] CorpusError),
    /// `--strict` and an input could not be used.
    #[error("{}{}: {} (--strict stops at the first bad input)", .0.path, .0.line.map(|l| format!(":{l}")).unwrap_or_default(), .0.reason)]
    Strict(Skipped),
    /// A document read in the first pass was different when read again.
    #[error("{id}: the document changed while it was being scanned")]
    Changed {
        /// The document's id.
        id: String,
    },
}

/// Per-document state kept between passes: small and fixed-size, whatever the text length.
#[derive(Debug, Default)]
pub struct DocTable {
    id_text: String,
    id_ends: Vec<usize>,
    /// Where each document can be read again.
    pub locs: Vec<DocLoc>,
    /// Size of each document's text in bytes.
    pub bytes: Vec<u64>,
    /// xxh3-128 of each document's bytes.
    pub content: Vec<u128>,
    /// Number of shingles (with repeats); 0 for documents with no words.
    pub shingles: Vec<u32>,
    /// The first document with the same bytes, for exact duplicates; the document itself otherwise.
    pub original: Vec<u32>,
    /// Whether the text had invalid UTF-8.
    pub lossy: Vec<bool>,
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
            + self.original.capacity() * 4
            + self.lossy.capacity()
    }
}

/// A verified near-duplicate pair.
pub use crate::verify::Verified as Pair;

/// One cluster: documents connected by exact duplication or verified pairs.
#[derive(Clone, Debug, PartialEq)]
pub struct Cluster {
    /// The member a cleanup keeps.
    pub kept: u32,
    /// The other members, in input order, each with its similarity to `kept`.
    pub members: Vec<(u32, f64)>,
}

/// The outcome of a scan, in document indices; [`crate::report`] turns it into reports.
#[derive(Debug)]
pub struct ScanResult {
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
    /// Clusters in canonical order (largest first, then by first member).
    pub clusters: Vec<Cluster>,
    /// A short one-line preview of every document that is in a cluster.
    pub previews: FxHashMap<u32, String>,
}

/// Per-thread reusable buffers for pass 1 and 2.
#[derive(Default)]
struct Scratch {
    tokens: Tokens,
    shingle: shingle::Scratch,
    hashes: Vec<u64>,
    sig: Vec<u32>,
}

/// What pass 1 keeps of one document besides its [`DocTable`] row.
struct Sketch {
    shingles: u32,
    keys: Vec<u64>,
    sig: Vec<u32>,
}

/// Runs a scan of `inputs` (paths; `-` is standard input).
pub fn scan(
    inputs: &[std::path::PathBuf],
    params: &Params,
    read: &ReadOptions,
    strict: bool,
    progress: &Progress,
) -> Result<ScanResult, ScanError> {
    let corpus = Corpus::discover(inputs, read)?;
    let mut skipped = corpus.skipped.clone();
    if strict && let Some(s) = skipped.first() {
        return Err(ScanError::Strict(s.clone()));
    }
    let hasher = MinHasher::new(params.num_perm, params.seed);
    let keep_sigs = params.verify == Verify::Estimate;

    let mut docs = DocTable::default();
    let mut keys: Vec<u64> = Vec::new();
    let mut sigs: Vec<u32> = Vec::new();
    let mut first_of: FxHashMap<u128, u32> = FxHashMap::default();

    progress.enter(Stage::Reading, corpus.total_size());
    corpus.read_batches(read, &progress.bytes, |batch| -> Result<(), ScanError> {
        skipped.extend(batch.skipped);
        if strict && let Some(s) = skipped.first() {
            return Err(ScanError::Strict(s.clone()));
        }
        let decoded: Vec<Decoded> = batch
            .records
            .into_par_iter()
            .map(|rec| corpus.decode(rec, read))
            .collect();
        let mut batch_docs = Vec::with_capacity(decoded.len());
        for d in decoded {
            match d {
                Decoded::Doc(doc) => {
                    if strict && doc.lossy {
                        return Err(ScanError::Strict(Skipped {
                            path: corpus.sources[doc.loc.source as usize].name.clone(),
                            line: (doc.loc.line > 0).then_some(doc.loc.line),
                            reason: "invalid UTF-8".into(),
                        }));
                    }
                    batch_docs.push(doc);
                }
                Decoded::Skip(s) => {
                    if strict {
                        return Err(ScanError::Strict(s));
                    }
                    skipped.push(s);
                }
                Decoded::Blank => {}
            }
        }
        // Exact duplicates are found by content hash before any MinHash work is spent on them.
        let hashes: Vec<u128> = batch_docs.par_iter().map(|d| xxh3_128(&d.text)).collect();
        let mut to_sign = Vec::with_capacity(batch_docs.len());
        for (doc, h) in batch_docs.iter().zip(&hashes) {
            let index = docs.len() as u32;
            let original = *first_of.entry(*h).or_insert(index);
            docs.id_text.push_str(&doc.id);
            docs.id_ends.push(docs.id_text.len());
            docs.locs.push(doc.loc);
            docs.bytes.push(doc.text.len() as u64);
            docs.content.push(*h);
            docs.original.push(original);
            docs.lossy.push(doc.lossy);
            to_sign.push(original == index);
        }
        let sketches: Vec<Option<Sketch>> = batch_docs
            .par_iter()
            .zip(&to_sign)
            .map_init(Scratch::default, |s, (doc, &sign)| {
                sign.then(|| sketch(doc, params, &hasher, s))
            })
            .collect();
        for (i, sk) in sketches.into_iter().enumerate() {
            let index = docs.len() - batch_docs.len() + i;
            match sk {
                Some(sk) => {
                    docs.shingles.push(sk.shingles);
                    keys.extend_from_slice(&sk.keys);
                    if keep_sigs {
                        sigs.extend_from_slice(&sk.sig);
                    }
                }
                None => {
                    // An exact duplicate: it shares its original's shingles, keys and signature.
                    let o = docs.original[index] as usize;
                    docs.shingles.push(docs.shingles[o]);
                    keys.extend_from_within(o * params.bands..(o + 1) * params.bands);
                    if keep_sigs {
                        sigs.extend_from_within(o * params.num_perm..(o + 1) * params.num_perm);
                    }
                }
            }
        }
        progress
            .docs
            .fetch_add(batch_docs.len() as u64, Ordering::Relaxed);
        Ok(())
    })?;
    drop(first_of);
    // Walk problems are found before reading and decode problems after it, so sort for a
    // listing that follows the inputs.
    skipped.sort();

    // Only originals with shingles take part in LSH; their exact duplicates join through
    // `original` below.
    let eligible: Vec<bool> = (0..docs.len())
        .map(|d| docs.original[d] == d as u32 && docs.shingles[d] > 0)
        .collect();
    let candidates = lsh::candidate_pairs(&keys, params.bands, &eligible);
    drop(keys);

    progress.enter(Stage::Verifying, 0);
    let (pairs, sets) = match params.verify {
        Verify::Estimate => {
            let n = params.num_perm;
            let sig = |d: u32| &sigs[d as usize * n..(d as usize + 1) * n];
            let pairs = verify::verify_pairs(&candidates, params.threshold, |a, b| {
                estimate_jaccard(sig(a), sig(b))
            });
            (pairs, FxHashMap::default())
        }
        Verify::Exact => {
            let mut need: Vec<u32> = candidates.iter().flat_map(|&(a, b)| [a, b]).collect();
            need.par_sort_unstable();
            need.dedup();
            let sets = load_sets(&corpus, &docs, &need, params, read, progress)?;
            let pairs = verify::verify_pairs(&candidates, params.threshold, |a, b| {
                jaccard_sorted(&sets[&a], &sets[&b])
            });
            (pairs, sets)
        }
    };

    progress.enter(Stage::Clustering, 0);
    let mut uf = UnionFind::new(docs.len());
    for d in 0..docs.len() as u32 {
        uf.union(d, docs.original[d as usize]);
    }
    for p in &pairs {
        uf.union(p.a, p.b);
    }
    let n_perm = params.num_perm;
    let similarity = |a: u32, b: u32| -> f64 {
        let (oa, ob) = (docs.original[a as usize], docs.original[b as usize]);
        if oa == ob {
            return 1.0;
        }
        match params.verify {
            Verify::Exact => jaccard_sorted(&sets[&oa], &sets[&ob]),
            Verify::Estimate => estimate_jaccard(
                &sigs[oa as usize * n_perm..(oa as usize + 1) * n_perm],
                &sigs[ob as usize * n_perm..(ob as usize + 1) * n_perm],
            ),
        }
    };
    let clusters: Vec<Cluster> = uf
        .components()
        .into_par_iter()
        .map(|members| {
            let kept = choose_kept(&members, &docs.bytes, params.keep);
            let members = members
                .into_iter()
                .filter(|&m| m != kept)
                .map(|m| (m, similarity(kept, m)))
                .collect();
            Cluster { kept, members }
        })
        .collect();
    drop(sets);

    let mut want: Vec<u32> = clusters
        .iter()
        .flat_map(|c| std::iter::once(c.kept).chain(c.members.iter().map(|m| m.0)))
        .map(|d| docs.original[d as usize])
        .collect();
    want.sort_unstable();
    want.dedup();
    let mut previews = FxHashMap::default();
    read_back(&corpus, &docs, &want, read, |d, doc| {
        previews.insert(d, preview(&doc.text, PREVIEW_CHARS));
        Ok(())
    })?;
    for c in &clusters {
        for d in std::iter::once(c.kept).chain(c.members.iter().map(|m| m.0)) {
            let o = docs.original[d as usize];
            if o != d
                && let Some(p) = previews.get(&o).cloned()
            {
                previews.insert(d, p);
            }
        }
    }

    Ok(ScanResult {
        params: params.clone(),
        docs,
        skipped,
        candidate_pairs: candidates.len(),
        pairs,
        clusters,
        previews,
    })
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

fn sketch(doc: &Document, params: &Params, hasher: &MinHasher, s: &mut Scratch) -> Sketch {
    tokenize(&doc.text, &mut s.tokens);
    s.hashes.clear();
    shingle::shingles(
        &s.tokens,
        params.unit,
        params.ngram,
        &mut s.shingle,
        &mut s.hashes,
    );
    s.sig.resize(params.num_perm, 0);
    hasher.sign(&s.hashes, &mut s.sig);
    let mut keys = vec![0u64; params.bands];
    lsh::band_keys(&s.sig, params.bands, params.rows, &mut keys);
    Sketch {
        shingles: s.hashes.len().min(u32::MAX as usize) as u32,
        keys,
        sig: if params.verify == Verify::Estimate {
            s.sig.clone()
        } else {
            Vec::new()
        },
    }
}

/// Reads documents `want` (sorted indices) again and hands each to `f` in index order, checking
/// that its bytes are those hashed in pass 1.
fn read_back(
    corpus: &Corpus,
    docs: &DocTable,
    want: &[u32],
    read: &ReadOptions,
    mut f: impl FnMut(u32, Document) -> Result<(), ScanError>,
) -> Result<(), ScanError> {
    let locs: Vec<DocLoc> = want.iter().map(|&d| docs.locs[d as usize]).collect();
    let mut failure = None;
    corpus.reread(&locs, read, |i, doc| {
        if failure.is_some() {
            return;
        }
        let d = want[i];
        if xxh3_128(&doc.text) != docs.content[d as usize] {
            failure = Some(ScanError::Changed {
                id: docs.id(d).to_string(),
            });
            return;
        }
        if let Err(e) = f(d, doc) {
            failure = Some(e);
        }
    })?;
    failure.map_or(Ok(()), Err)
}

/// Shingle sets of documents `need` (sorted), read again from the corpus and built in parallel
/// chunks so that only a chunk of text is in memory at a time.
fn load_sets(
    corpus: &Corpus,
    docs: &DocTable,
    need: &[u32],
    params: &Params,
    read: &ReadOptions,
    progress: &Progress,
) -> Result<FxHashMap<u32, Vec<u64>>, ScanError> {
    let total: u64 = need.iter().map(|&d| docs.bytes[d as usize]).sum();
    progress.total.store(total, Ordering::Relaxed);
    let mut sets = FxHashMap::default();
    sets.reserve(need.len());
    let mut chunk: Vec<(u32, Document)> = Vec::new();
    let mut chunk_bytes = 0usize;
    let flush = |chunk: &mut Vec<(u32, Document)>, sets: &mut FxHashMap<u32, Vec<u64>>| {
        let built: Vec<(u32, Vec<u64>)> = chunk
            .par_drain(..)
            .map_init(Scratch::default, |s, (d, doc)| {
                tokenize(&doc.text, &mut s.tokens);
                let mut set = Vec::new();
                shingle::shingle_set(
                    &s.tokens,
                    params.unit,
                    params.ngram,
                    &mut s.shingle,
                    &mut set,
                );
                set.shrink_to_fit();
                (d, set)
            })
            .collect();
        sets.extend(built);
    };
    read_back(corpus, docs, need, read, |d, doc| {
        chunk_bytes += doc.text.len();
        progress
            .bytes
            .fetch_add(doc.text.len() as u64, Ordering::Relaxed);
        progress.docs.fetch_add(1, Ordering::Relaxed);
        chunk.push((d, doc));
        if chunk_bytes >= read.batch_bytes {
            flush(&mut chunk, &mut sets);
            chunk_bytes = 0;
        }
        Ok(())
    })?;
    flush(&mut chunk, &mut sets);
    Ok(sets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_params_are_recall_oriented() {
        let p = Params::default();
        assert_eq!((p.unit, p.ngram, p.num_perm), (Unit::Word, 5, 128));
        assert!(lsh::candidate_probability(0.8, p.bands, p.rows) > 0.995);
    }

    #[test]
    fn params_are_validated() {
        let mk = |np, b, r, t| {
            Params::new(
                Unit::Word,
                5,
                np,
                b,
                r,
                t,
                1,
                Verify::Exact,
                KeepPolicy::First,
            )
        };
        assert!(mk(128, Some(16), Some(8), 0.8).is_ok());
        assert!(mk(128, Some(16), Some(9), 0.8).is_err());
        assert!(mk(100, None, None, 0.8).is_err());
        assert!(mk(128, None, None, 0.0).is_err());
        assert!(mk(128, None, None, 1.5).is_err());
        assert_eq!(mk(128, Some(32), None, 0.8).map(|p| p.rows), Ok(4));
        assert_eq!(mk(128, None, Some(8), 0.8).map(|p| p.bands), Ok(16));
    }

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
