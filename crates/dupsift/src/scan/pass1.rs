//! Pass 1: the one streaming read of the corpus. Batches of records are decoded and
//! content-hashed in parallel; exact duplicates are settled by content hash; every other
//! document is sketched (band keys, passage fingerprints, the signature with `--verify
//! estimate`, 32-bit word hashes for the spill) while the previous batch is filed. The text is
//! dropped with its batch: what stays is a fixed-size [`DocTable`] row per document, its band
//! keys and fingerprints, and its words on disk.
//!
//! [`index_documents`] is the same read for an index, keeping what a later check needs.
//!
//! This module must not compare documents with each other (beyond exact content).

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use xxhash_rust::xxh3::xxh3_128;

use super::sketch::{Scratch, Sketch, sketch};
use super::sources::{PRIOR_SOURCE, spill_warning};
use crate::corpus::{
    Corpus, Decoded, DocLoc, Document, LISTED_RECORD_SKIPS, ReadOptions, SkipList, Skipped,
    Unlisted,
};
use crate::error::ScanError;
use crate::index::{Index, IndexDoc};
use crate::minhash::MinHasher;
use crate::options::ScanOptions;
use crate::params::Params;
use crate::passages::FingerprintTable;
use crate::progress::{Progress, Stage};
use crate::result::DocTable;
use crate::shingle::Unit;
use crate::spill::SpillWriter;
use crate::verify::Verify;

/// What pass 1 leaves for the later passes (the artifact "documents sketched").
pub(super) struct Sketched {
    /// One row per document, indexed documents first.
    pub docs: DocTable,
    /// `bands` band keys per document.
    pub keys: Vec<u64>,
    /// `num_perm` signature values per document with `--verify estimate`; empty otherwise.
    pub sigs: Vec<u32>,
    /// Passage fingerprints of every original document.
    pub fingerprints: FingerprintTable,
    /// The spilled words of documents `prior_docs..`, when a temporary file could be written.
    pub spill: Option<SpillWriter>,
    /// Inputs that could not be used, sorted by path, then line.
    pub skipped: Vec<Skipped>,
    /// The record-level skips not listed in `skipped`.
    pub skipped_unlisted: Unlisted,
    /// What the user should know (a slower path taken).
    pub warnings: Vec<String>,
    /// Documents `0..prior_docs` come from the index.
    pub prior_docs: u32,
}

/// Runs pass 1 over the documents of `prior` (an index: nothing is read for them) and then
/// `corpus`.
pub(super) fn sketch_corpus(
    corpus: &Corpus,
    prior: Option<&Index>,
    options: &ScanOptions,
    progress: &Progress,
) -> Result<Sketched, ScanError> {
    let ScanOptions {
        params,
        read,
        strict,
        tuning,
    } = options;
    let mut skipped = SkipList::new(corpus.skipped.clone(), LISTED_RECORD_SKIPS);
    if *strict && let Some(s) = skipped.first() {
        return Err(ScanError::Strict(s.clone()));
    }
    let read = &*ranked_read(corpus, params, read)?;
    let hasher = MinHasher::with_scheme(params.num_perm, params.seed, params.scheme);
    let mut first_of: FxHashMap<u128, u32> = FxHashMap::default();
    let mut filed = Filed::default();
    if let Some(prior) = prior {
        filed.file_prior(prior, params, &mut first_of);
    }
    let prior_docs = filed.docs.len() as u32;
    // Later passes need only the words of word-shingled documents; character shingles and
    // estimated verification without passages read nothing again.
    filed.spill = (tuning.spill
        && params.unit == Unit::Word
        && (params.verify == Verify::Exact || params.passages.is_some()))
    .then(SpillWriter::new)
    .and_then(|w| w.map_err(|e| filed.warnings.push(spill_warning(&e))).ok());

    progress.enter(Stage::Reading, corpus.total_size());
    // Batch k is signed while batch k-1's results are filed (document table, band keys, spill),
    // so neither core waits on that sequential step. Which documents are exact duplicates is
    // settled before signing, so none is signed for nothing.
    let mut next_index = filed.docs.len();
    let mut pending: Option<Pending> = None;
    let file = |p: Pending, f: &mut Filed| f.file(p, params, prior_docs, progress);
    read_documents(corpus, read, *strict, &mut skipped, progress, |decoded| {
        let mut batch_docs = Vec::with_capacity(decoded.len());
        let mut dedup = Vec::with_capacity(decoded.len());
        for (doc, h) in decoded {
            // Exact duplicates are found by content hash before any MinHash work is spent
            // on them.
            let original = *first_of.entry(h).or_insert(next_index as u32);
            dedup.push((h, original));
            batch_docs.push(doc);
            next_index += 1;
        }
        let first = next_index - batch_docs.len();
        // Filing may give up the spill meanwhile; words signed for it are then dropped.
        let spilling = filed.spill.is_some();
        let sign = || -> Vec<Option<Sketch>> {
            batch_docs
                .par_iter()
                .zip(&dedup)
                .enumerate()
                .map_init(Scratch::default, |s, (i, (doc, &(_, original)))| {
                    (original as usize == first + i)
                        .then(|| sketch(&doc.text, params, &hasher, spilling, s))
                })
                .collect()
        };
        let sketches = match pending.take() {
            Some(p) => rayon::join(|| file(p, &mut filed), sign).1,
            None => sign(),
        };
        pending = Some(Pending {
            docs: batch_docs,
            dedup,
            sketches,
        });
        Ok(())
    })?;
    if let Some(p) = pending.take() {
        file(p, &mut filed);
    }
    let Filed {
        docs,
        keys,
        sigs,
        fingerprints,
        spill,
        warnings,
    } = filed;
    // Walk problems are found before reading and decode problems after it: the listing is
    // sorted to follow the inputs.
    let (skipped, skipped_unlisted) = skipped.finish();
    Ok(Sketched {
        docs,
        keys,
        sigs,
        fingerprints,
        spill,
        skipped,
        skipped_unlisted,
        warnings,
        prior_docs,
    })
}

/// The reading of a scan with `params`: a keep policy by field reads that field of every
/// record, and refuses inputs that have no records.
fn ranked_read<'r>(
    corpus: &Corpus,
    params: &Params,
    read: &'r ReadOptions,
) -> Result<Cow<'r, ReadOptions>, ScanError> {
    let Some(field) = params.keep.field() else {
        return Ok(Cow::Borrowed(read));
    };
    if !corpus.sources.iter().any(|s| s.format.has_records()) {
        return Err(ScanError::NoFields {
            policy: params.keep.to_string(),
        });
    }
    Ok(Cow::Owned(ReadOptions {
        rank_field: Some(field.to_owned()),
        ..read.clone()
    }))
}

/// Reads `corpus` batch after batch (one batch ahead, see [`read_ahead`]), decodes and
/// content-hashes each batch's records in parallel, and hands `sink` its documents in input
/// order, each with the xxh3-128 of its bytes. Inputs that cannot be used go to `skipped`;
/// with `strict`, the first of them (or the first document with invalid UTF-8) stops the read.
fn read_documents(
    corpus: &Corpus,
    read: &ReadOptions,
    strict: bool,
    skipped: &mut SkipList,
    progress: &Progress,
    mut sink: impl FnMut(Vec<(Document, u128)>) -> Result<(), ScanError>,
) -> Result<(), ScanError> {
    read_ahead(corpus, read, &progress.bytes, |batch| {
        super::sources::checkpoint(progress)?;
        skipped.extend(batch.skipped);
        if strict && let Some(s) = skipped.first() {
            return Err(ScanError::Strict(s.clone()));
        }
        let decoded: Vec<(Decoded, u128)> = batch
            .records
            .into_par_iter()
            .map(|rec| {
                let d = corpus.decode(rec, read);
                let h = match &d {
                    Decoded::Doc(doc) => xxh3_128(&doc.text),
                    _ => 0,
                };
                (d, h)
            })
            .collect();
        let mut docs = Vec::with_capacity(decoded.len());
        for (d, h) in decoded {
            match d {
                Decoded::Doc(doc) => {
                    if strict && doc.lossy {
                        return Err(ScanError::Strict(Skipped {
                            path: corpus.sources[doc.loc.source as usize].name.clone(),
                            line: (doc.loc.line > 0).then_some(doc.loc.line),
                            reason: "invalid UTF-8".into(),
                        }));
                    }
                    docs.push((doc, h));
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
        sink(docs)
    })
}

/// What the first pass files, batch after batch.
#[derive(Default)]
struct Filed {
    docs: DocTable,
    keys: Vec<u64>,
    sigs: Vec<u32>,
    fingerprints: FingerprintTable,
    spill: Option<SpillWriter>,
    warnings: Vec<String>,
}

/// One batch of the first pass, signed and waiting to be filed.
struct Pending {
    docs: Vec<Document>,
    /// Content hash and original (the first document with that content) of each document.
    dedup: Vec<(u128, u32)>,
    /// `None` for an exact duplicate of an earlier document.
    sketches: Vec<Option<Sketch>>,
}

impl Filed {
    /// Files the documents of an index as pass 1 would have filed them.
    fn file_prior(&mut self, prior: &Index, params: &Params, first_of: &mut FxHashMap<u128, u32>) {
        let docs = &mut self.docs;
        for (i, d) in prior.docs.iter().enumerate() {
            let index = docs.len() as u32;
            let original = *first_of.entry(d.content).or_insert(index);
            docs.id_text.push_str(&d.id);
            docs.id_ends.push(docs.id_text.len());
            docs.locs.push(DocLoc {
                source: PRIOR_SOURCE,
                line: i as u64,
                offset: 0,
            });
            docs.bytes.push(d.bytes);
            docs.content.push(d.content);
            docs.original.push(original);
            docs.lossy.push(false);
            // An index keeps no fields: its documents rank last under a policy by field.
            if params.keep.field().is_some() {
                docs.rank.push(f64::NAN);
            }
            let n = d.words.len();
            docs.shingles.push(if n == 0 {
                0
            } else {
                (n + 1).saturating_sub(params.ngram).max(1)
            } as u32);
            docs.words.push(n as u32);
            self.keys.extend_from_slice(&d.keys);
            if original == index {
                self.fingerprints.push(index, &d.fingerprints);
            }
        }
    }

    /// Files one signed batch: document rows, band keys, signatures, fingerprints, spill.
    fn file(&mut self, p: Pending, params: &Params, prior_docs: u32, progress: &Progress) {
        let count = p.docs.len() as u64;
        let keep_sigs = params.verify == Verify::Estimate;
        let Filed {
            docs,
            keys,
            sigs,
            fingerprints,
            spill,
            warnings,
        } = self;
        for ((doc, (content, original)), sk) in p.docs.into_iter().zip(p.dedup).zip(p.sketches) {
            let index = docs.len();
            docs.id_text.push_str(&doc.id);
            docs.id_ends.push(docs.id_text.len());
            docs.locs.push(doc.loc);
            docs.bytes.push(doc.text.len() as u64);
            docs.content.push(content);
            docs.original.push(original);
            docs.lossy.push(doc.lossy);
            if params.keep.field().is_some() {
                docs.rank.push(doc.rank.unwrap_or(f64::NAN));
            }
            match sk {
                Some(sk) => {
                    if let Some(w) = spill
                        && let Err(e) = w.push(&sk.spilled)
                    {
                        warnings.push(spill_warning(&e));
                        *spill = None;
                    }
                    docs.shingles.push(sk.shingles);
                    docs.words.push(sk.words);
                    fingerprints.push(index as u32, &sk.fingerprints);
                    keys.extend_from_slice(&sk.keys);
                    if keep_sigs {
                        sigs.extend_from_slice(&sk.sig);
                    }
                }
                None => {
                    // An exact duplicate: it shares its original's shingles, keys and signature.
                    // Its passages are its original's, so it takes no part in passage search.
                    let o = original as usize;
                    if let Some(w) = spill {
                        // Only originals are read back; an indexed original has no entry.
                        match o.checked_sub(prior_docs as usize) {
                            Some(k) => w.push_copy(k),
                            None => w.push_copy_empty(),
                        }
                    }
                    docs.shingles.push(docs.shingles[o]);
                    docs.words.push(docs.words[o]);
                    keys.extend_from_within(o * params.bands..(o + 1) * params.bands);
                    if keep_sigs {
                        sigs.extend_from_within(o * params.num_perm..(o + 1) * params.num_perm);
                    }
                }
            }
        }
        progress.docs.fetch_add(count, Ordering::Relaxed);
    }
}

/// Reads `inputs` and appends each document to `index` as a later check needs it (word
/// hashes, band keys, passage fingerprints), detecting nothing: pass 1 without the exact
/// duplicates, signatures or spill. Returns the inputs skipped, sorted (record-level ones
/// past [`LISTED_RECORD_SKIPS`] counted only); with
/// [`ScanOptions::strict`] the first unusable input (or invalid UTF-8) stops it, as in a scan.
pub fn index_documents(
    inputs: &[std::path::PathBuf],
    options: &ScanOptions,
    progress: &Progress,
    index: &mut Index,
) -> Result<(Vec<Skipped>, Unlisted), ScanError> {
    let corpus = Corpus::discover(inputs, &options.read)?;
    index_corpus(&corpus, options, progress, index)
}

/// [`index_documents`] of a corpus already discovered (or an Arrow table in memory:
/// [`Corpus::from_arrow`]).
pub fn index_corpus(
    corpus: &Corpus,
    options: &ScanOptions,
    progress: &Progress,
    index: &mut Index,
) -> Result<(Vec<Skipped>, Unlisted), ScanError> {
    let (params, read) = (&options.params, &options.read);
    let mut skipped = SkipList::new(corpus.skipped.clone(), LISTED_RECORD_SKIPS);
    if options.strict
        && let Some(s) = skipped.first()
    {
        return Err(ScanError::Strict(s.clone()));
    }
    let hasher = MinHasher::with_scheme(params.num_perm, params.seed, params.scheme);
    progress.enter(Stage::Reading, corpus.total_size());
    read_documents(
        corpus,
        read,
        options.strict,
        &mut skipped,
        progress,
        |docs| {
            let built: Vec<IndexDoc> = docs
                .into_par_iter()
                .map_init(Scratch::default, |s, (doc, content)| {
                    let sk = sketch(&doc.text, params, &hasher, false, s);
                    IndexDoc {
                        id: doc.id,
                        bytes: doc.text.len() as u64,
                        content,
                        keys: sk.keys,
                        fingerprints: sk.fingerprints,
                        words: s.word_hashes.clone(),
                    }
                })
                .collect();
            index.docs.extend(built);
            Ok(())
        },
    )?;
    Ok(skipped.finish())
}

/// Reads the corpus on a thread of its own, one batch ahead, so that I/O and decompression
/// overlap with the processing of the previous batch; `sink` runs on the calling thread (inside
/// the caller's thread pool), batch after batch in input order.
fn read_ahead(
    corpus: &Corpus,
    read: &ReadOptions,
    bytes: &AtomicU64,
    mut sink: impl FnMut(crate::corpus::Batch) -> Result<(), ScanError>,
) -> Result<(), ScanError> {
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let reader = scope.spawn(move || corpus.read_batches(read, bytes, |batch| tx.send(batch)));
        let mut result = Ok(());
        for batch in rx.iter() {
            if let Err(e) = sink(batch) {
                result = Err(e);
                break;
            }
        }
        // A reader waiting to hand over a batch sees the channel closed and stops.
        drop(rx);
        if reader.join().is_err() {
            panic!("the corpus reader panicked");
        }
        result
    })
}
