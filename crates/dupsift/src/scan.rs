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

use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use xxhash_rust::xxh3::xxh3_128;

use crate::cluster::{UnionFind, choose_kept};
use crate::corpus::{Corpus, Decoded, DocLoc, Document, RawRecord, ReadOptions, Skipped};
use crate::error::ScanError;
use crate::index::{Index, IndexDoc};
use crate::lsh;
use crate::minhash::{MinHasher, estimate_jaccard};
use crate::options::{ScanOptions, Tuning};
use crate::params::Params;
use crate::passages::{self, FingerprintTable, PassageParams, Words};
use crate::progress::{Progress, Stage};
use crate::result::{
    Cluster, DocTable, OccurrenceFound, PREVIEW_CHARS, PassageFound, ScanResult, preview,
};
use crate::shingle::{self, Unit};
use crate::spill::{Spill, SpillWriter};
use crate::tokenize::{Tokens, tokenize};
use crate::verify::{self, Verify, jaccard_sorted};

/// Per-thread reusable buffers for pass 1 and 2.
#[derive(Default)]
struct Scratch {
    tokens: Tokens,
    shingle: shingle::Scratch,
    words: Vec<u64>,
    hashes: Vec<u64>,
    grams: Vec<u64>,
    window: Vec<u8>,
    sig: Vec<u32>,
    spans: Vec<std::ops::Range<usize>>,
    /// 32-bit word hashes (what the spill holds), when they come from elsewhere.
    words32: Vec<u32>,
}

/// What pass 1 keeps of one document besides its [`DocTable`] row.
struct Sketch {
    shingles: u32,
    words: u32,
    /// The 32-bit word hashes for the spill; empty when not spilling.
    spilled: Vec<u32>,
    keys: Vec<u64>,
    sig: Vec<u32>,
    fingerprints: Vec<(u64, u32)>,
}

/// What the first pass files, batch after batch.
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
    docs: Vec<crate::corpus::Document>,
    /// Content hash and original (the first document with that content) of each document.
    dedup: Vec<(u128, u32)>,
    /// `None` for an exact duplicate of an earlier document.
    sketches: Vec<Option<Sketch>>,
}

/// Runs a scan of `inputs` (paths; `-` is standard input).
pub fn scan(
    inputs: &[std::path::PathBuf],
    options: &ScanOptions,
    progress: &Progress,
) -> Result<ScanResult, ScanError> {
    scan_against(inputs, None, options, progress)
}

/// Source number marking documents that come from an index in [`DocLoc::source`].
const PRIOR_SOURCE: u32 = u32::MAX;

/// Runs a scan of the documents of `prior` (an index, whose text is not read) followed by
/// `inputs`: the same findings as a scan of the indexed corpus and the inputs together. The
/// caller checks that `params` agree with the index's.
pub fn scan_against(
    inputs: &[std::path::PathBuf],
    prior: Option<&Index>,
    options: &ScanOptions,
    progress: &Progress,
) -> Result<ScanResult, ScanError> {
    let ScanOptions {
        params,
        read,
        strict,
        tuning,
    } = options;
    let strict = *strict;
    let corpus = Corpus::discover(inputs, read)?;
    let mut skipped = corpus.skipped.clone();
    if strict && let Some(s) = skipped.first() {
        return Err(ScanError::Strict(s.clone()));
    }
    let hasher = MinHasher::with_scheme(params.num_perm, params.seed, params.scheme);
    let keep_sigs = params.verify == Verify::Estimate;

    let mut docs = DocTable::default();
    let mut keys: Vec<u64> = Vec::new();
    let sigs: Vec<u32> = Vec::new();
    let mut first_of: FxHashMap<u128, u32> = FxHashMap::default();
    let mut fingerprints = FingerprintTable::default();

    for (i, d) in prior
        .map_or(&[][..], |p| p.docs.as_slice())
        .iter()
        .enumerate()
    {
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
        let n = d.words.len();
        docs.shingles.push(if n == 0 {
            0
        } else {
            (n + 1).saturating_sub(params.ngram).max(1)
        } as u32);
        docs.words.push(n as u32);
        keys.extend_from_slice(&d.keys);
        if original == index {
            fingerprints.push(index, &d.fingerprints);
        }
    }
    let prior_docs = docs.len() as u32;
    let mut warnings = Vec::new();
    // Later passes need only the words of word-shingled documents; character shingles and
    // estimated verification without passages read nothing again.
    let spill = (tuning.spill
        && params.unit == Unit::Word
        && (params.verify == Verify::Exact || params.passages.is_some()))
    .then(SpillWriter::new)
    .and_then(|w| w.map_err(|e| warnings.push(spill_warning(&e))).ok());

    progress.enter(Stage::Reading, corpus.total_size());
    // Batch k is signed while batch k-1's results are filed (document table, band keys, spill),
    // so neither core waits on that sequential step. Which documents are exact duplicates is
    // settled before signing, so none is signed for nothing.
    let mut next_index = docs.len();
    let mut pending: Option<Pending> = None;
    let mut filed = Filed {
        docs,
        keys,
        sigs,
        fingerprints,
        spill,
        warnings,
    };
    let file = |p: Pending, f: &mut Filed| {
        let count = p.docs.len() as u64;
        let Filed {
            docs,
            keys,
            sigs,
            fingerprints,
            spill,
            warnings,
        } = f;
        for ((doc, (content, original)), sk) in p.docs.into_iter().zip(p.dedup).zip(p.sketches) {
            let index = docs.len();
            docs.id_text.push_str(&doc.id);
            docs.id_ends.push(docs.id_text.len());
            docs.locs.push(doc.loc);
            docs.bytes.push(doc.text.len() as u64);
            docs.content.push(content);
            docs.original.push(original);
            docs.lossy.push(doc.lossy);
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
    };
    read_ahead(
        &corpus,
        read,
        &progress.bytes,
        |batch| -> Result<(), ScanError> {
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
            let mut batch_docs = Vec::with_capacity(decoded.len());
            let mut dedup = Vec::with_capacity(decoded.len());
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
                        // Exact duplicates are found by content hash before any MinHash work
                        // is spent on them.
                        let original = *first_of.entry(h).or_insert(next_index as u32);
                        dedup.push((h, original));
                        batch_docs.push(doc);
                        next_index += 1;
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
        },
    )?;
    if let Some(p) = pending.take() {
        file(p, &mut filed);
    }
    let Filed {
        docs,
        keys,
        sigs,
        fingerprints,
        spill,
        mut warnings,
    } = filed;
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
    let spill = spill.and_then(|w| {
        w.finish()
            .map_err(|e| warnings.push(spill_warning(&e)))
            .ok()
    });
    let src = Sources {
        corpus: &corpus,
        prior,
        prior_docs,
        spill: spill.as_ref(),
        read,
    };
    drop(keys);

    progress.enter(Stage::Verifying, 0);
    let pairs = match params.verify {
        Verify::Estimate => {
            let n = params.num_perm;
            let sig = |d: u32| &sigs[d as usize * n..(d as usize + 1) * n];
            verify::verify_pairs(&candidates, params.threshold, |a, b| {
                estimate_jaccard(sig(a), sig(b))
            })
        }
        Verify::Exact => {
            let sims = jaccard_blocked(src, &docs, &candidates, params, tuning, progress)?;
            candidates
                .iter()
                .zip(&sims)
                .filter(|(_, s)| **s >= params.threshold)
                .map(|(&(a, b), &similarity)| verify::Verified { a, b, similarity })
                .collect()
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
    let components = uf.components();
    let kept_of: Vec<u32> = components
        .iter()
        .map(|members| choose_kept(members, &docs.bytes, params.keep))
        .collect();
    // Each member's similarity to its kept document: known for exact duplicates and verified
    // pairs; the others are computed like the candidates were.
    let key = |a: u32, b: u32| {
        let (oa, ob) = (docs.original[a as usize], docs.original[b as usize]);
        (oa.min(ob), oa.max(ob))
    };
    let mut known: FxHashMap<(u32, u32), f64> =
        pairs.iter().map(|p| ((p.a, p.b), p.similarity)).collect();
    let mut missing: Vec<(u32, u32)> = components
        .iter()
        .zip(&kept_of)
        .flat_map(|(members, &kept)| members.iter().map(move |&m| key(kept, m)))
        .filter(|(a, b)| a != b && !known.contains_key(&(*a, *b)))
        .collect();
    missing.sort_unstable();
    missing.dedup();
    let sims = match params.verify {
        Verify::Exact => jaccard_blocked(src, &docs, &missing, params, tuning, progress)?,
        Verify::Estimate => {
            let n = params.num_perm;
            let sig = |d: u32| &sigs[d as usize * n..(d as usize + 1) * n];
            missing
                .iter()
                .map(|&(a, b)| estimate_jaccard(sig(a), sig(b)))
                .collect()
        }
    };
    known.extend(missing.into_iter().zip(sims));
    let clusters: Vec<Cluster> = components
        .into_iter()
        .zip(kept_of)
        .map(|(members, kept)| {
            let members = members
                .into_iter()
                .filter(|&m| m != kept)
                .map(|m| {
                    let (a, b) = key(kept, m);
                    (m, if a == b { 1.0 } else { known[&(a, b)] })
                })
                .collect();
            Cluster { kept, members }
        })
        .collect();
    drop(known);
    drop(sigs);

    let groups = match &params.passages {
        Some(pp) => {
            progress.enter(Stage::Passages, 0);
            let alignments = align_passages(src, &docs, fingerprints, pp, progress)?;
            passages::group(&passages::refine(alignments, pp.min_words))
        }
        None => Vec::new(),
    };

    // One last read of what the report shows: cluster previews, and each passage occurrence's
    // bytes, lines and preview.
    progress.enter(Stage::Finishing, 0);
    // Each document's passage occurrences as (passage, occurrence number), documents laid out
    // one after another: `occ[occ_at[d]..occ_at[d + 1]]`.
    let mut occ_at = vec![0u32; docs.len() + 1];
    for o in groups.iter().flat_map(|g| &g.occurrences) {
        occ_at[o.doc as usize + 1] += 1;
    }
    for d in 0..docs.len() {
        occ_at[d + 1] += occ_at[d];
    }
    let mut occ = vec![(0u32, 0u32); occ_at[docs.len()] as usize];
    let mut next = occ_at.clone();
    for (p, g) in groups.iter().enumerate() {
        for (k, o) in g.occurrences.iter().enumerate() {
            occ[next[o.doc as usize] as usize] = (p as u32, k as u32);
            next[o.doc as usize] += 1;
        }
    }
    drop(next);
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
    for c in clusters.iter().filter(|_| read.previews) {
        for d in std::iter::once(c.kept).chain(c.members.iter().map(|m| m.0)) {
            previewed[docs.original[d as usize] as usize] = true;
        }
    }
    let want: Vec<u32> = (0..docs.len() as u32)
        .filter(|&d| previewed[d as usize] || occ_at[d as usize] < occ_at[d as usize + 1])
        .collect();
    let mut previews = FxHashMap::default();
    let locate = |d: u32, view: View<'_>, s: &mut Scratch| {
        let here = &occ[occ_at[d as usize] as usize..occ_at[d as usize + 1] as usize];
        let doc = match view {
            View::Text(doc) => doc,
            // An indexed document has no text here: its occurrences are known by words only
            // (no bytes, line 0), identified by the hash of those words.
            View::Words(ix) => {
                let located: Vec<(u32, u32, OccurrenceFound, Option<String>)> = here
                    .iter()
                    .map(|&(p, k)| {
                        let o = &groups[p as usize].occurrences[k as usize];
                        let occ = OccurrenceFound {
                            doc: o.doc,
                            start: 0,
                            end: 0,
                            line_start: 0,
                            line_end: 0,
                            hash: shingle::words_hash(
                                &ix.words[o.words.start as usize..o.words.end as usize],
                            ),
                        };
                        (p, k, occ, (k == 0).then(String::new))
                    })
                    .collect();
                return (None, located);
            }
        };
        // Words past the last occurrence are not needed: a passage often ends early.
        let need = here
            .iter()
            .map(|&(p, k)| groups[p as usize].occurrences[k as usize].words.end);
        if let Some(need) = need.max() {
            let of = u64::from(docs.words[d as usize]).max(1);
            let guess = (doc.text.len() as u64 * u64::from(need) / of) as usize;
            shingle::text_word_hashes_spans_prefix(
                &doc.text,
                need as usize,
                guess + guess / 16,
                &mut s.tokens,
                &mut s.words,
                &mut s.spans,
            );
        }
        let spans = &s.spans;
        let located: Vec<(u32, u32, OccurrenceFound, Option<String>)> = here
            .iter()
            .map(|&(p, k)| {
                let o = &groups[p as usize].occurrences[k as usize];
                let first = spans[o.words.start as usize].start as u64;
                let last = spans[o.words.end as usize - 1].end as u64;
                let (start, end) = widen_to_punctuation(&doc.text, first, last);
                let occ = OccurrenceFound {
                    doc: o.doc,
                    start,
                    end,
                    line_start: line_of(&doc.text, start),
                    line_end: line_of(&doc.text, end.saturating_sub(1).max(start)),
                    hash: shingle::words_hash(
                        &s.words[o.words.start as usize..o.words.end as usize],
                    ),
                };
                let pv = (k == 0)
                    .then(|| preview(&doc.text[start as usize..end as usize], PREVIEW_CHARS));
                (p, k, occ, pv)
            })
            .collect();
        let pv = previewed[d as usize].then(|| preview(&doc.text, PREVIEW_CHARS));
        (pv, located)
    };
    let mut located = Vec::new();
    load_chunks(src, &docs, &want, progress, locate, |chunk| {
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

    // Closes the last stage's time.
    progress.mark(Stage::Finishing);
    Ok(ScanResult {
        corpus,
        prior: prior_docs,
        params: params.clone(),
        docs,
        skipped,
        candidate_pairs: candidates.len(),
        pairs,
        clusters,
        previews,
        passages: found,
        self_repeating,
        passage_documents,
        passage_cut_bytes,
        warnings,
    })
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

/// 1-based line number of byte `at`.
fn line_of(text: &[u8], at: u64) -> u64 {
    let at = (at as usize).min(text.len());
    1 + memchr::memchr_iter(b'\n', &text[..at]).count() as u64
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
    let union = |mut v: Vec<(u32, u64, u64)>| -> Vec<(u32, u64)> {
        v.sort_unstable();
        let mut out: Vec<(u32, u64)> = Vec::new();
        let mut cur: Option<(u32, u64, u64)> = None;
        for (d, s, e) in v {
            match cur {
                Some((cd, cs, ce)) if cd == d && s <= ce => cur = Some((cd, cs, ce.max(e))),
                _ => {
                    if let Some((cd, cs, ce)) = cur {
                        push_sum(&mut out, cd, ce - cs);
                    }
                    cur = Some((d, s, e));
                }
            }
        }
        if let Some((cd, cs, ce)) = cur {
            push_sum(&mut out, cd, ce - cs);
        }
        out
    };
    let total = union(cut).iter().map(|x| x.1).sum();
    (union(self_cut), holders.len() as u64, total)
}

fn push_sum(out: &mut Vec<(u32, u64)>, doc: u32, n: u64) {
    match out.last_mut() {
        Some(last) if last.0 == doc => last.1 += n,
        _ => out.push((doc, n)),
    }
}

/// Seeds from the fingerprints, then alignment of every document pair that shares one, a block
/// of documents at a time: each block is loaded (at most [`passages::BLOCK_WORDS`] words) and
/// aligned with itself and with every later partner, which is streamed through in chunks.
fn align_passages(
    src: Sources<'_>,
    docs: &DocTable,
    fingerprints: FingerprintTable,
    pp: &PassageParams,
    progress: &Progress,
) -> Result<Vec<passages::Alignment>, ScanError> {
    let seeds = passages::seeds(fingerprints, pp);
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
    let mut start = 0;
    while start < involved.len() {
        let mut end = start;
        let mut words = 0usize;
        while end < involved.len()
            && (end == start
                || words + docs.words[involved[end] as usize] as usize <= passages::BLOCK_WORDS)
        {
            words += docs.words[involved[end] as usize] as usize;
            end += 1;
        }
        let block = &involved[start..end];
        let (lo, hi) = (block[0], block[block.len() - 1]);
        let mem = load_block(src, docs, block, progress)?;
        let mine =
            &seeds[seeds.partition_point(|s| s.a < lo)..seeds.partition_point(|s| s.a <= hi)];
        // Each group is a run of one (a, b) pair: inner when both are in the block.
        let (inner, mut outer): (Vec<_>, Vec<_>) = PairGroup::all(mine).partition(|g| g.b <= hi);
        alignments.extend(align_groups(mine, &inner, &mem, &mem, pp.min_words));
        drop(inner);
        // Later partners are streamed past the block in document order. The pairs are
        // unique, so an unstable sort is exact.
        outer.par_sort_unstable_by_key(|g| (u64::from(g.b) << 32) | u64::from(g.a));
        let mut later: Vec<u32> = outer.iter().map(|g| g.b).collect();
        later.dedup();
        let mut next = 0;
        for part in word_chunks(docs, &later, src.read) {
            let chunk = load_block(src, docs, part, progress)?;
            let last = part[part.len() - 1];
            let end = next + outer[next..].partition_point(|g| g.b <= last);
            alignments.extend(align_groups(
                mine,
                &outer[next..end],
                &mem,
                &chunk,
                pp.min_words,
            ));
            next = end;
        }
        start = end;
    }
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

fn doc_words(_: u32, words: &[u32], _: &mut Scratch) -> Words {
    words.to_vec()
}

/// The words of a sorted set of documents in one buffer: a block of passage alignment, or a
/// chunk of later partners streamed past it.
#[derive(Default)]
struct WordsBlock {
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
    fn push(&mut self, d: u32, words: &[u32]) {
        self.docs.push(d);
        self.at.push((self.words.len(), words.len() as u32));
        self.words.extend_from_slice(words);
    }

    /// Indexes the documents by number when they are dense enough, so that [`Self::get`]
    /// needs no search (the search took a fifth of alignment's time).
    fn index(&mut self) {
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
    fn get(&self, d: u32) -> &[u32] {
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
fn load_block(
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

/// Reads `inputs` and appends each document to `index` as a later check needs it (word
/// hashes, band keys, passage fingerprints), detecting nothing. Returns the inputs skipped.
pub fn index_documents(
    inputs: &[std::path::PathBuf],
    options: &ScanOptions,
    progress: &Progress,
    index: &mut Index,
) -> Result<Vec<Skipped>, ScanError> {
    let (params, read, strict) = (&options.params, &options.read, options.strict);
    let corpus = Corpus::discover(inputs, read)?;
    let mut skipped = corpus.skipped.clone();
    if strict && let Some(s) = skipped.first() {
        return Err(ScanError::Strict(s.clone()));
    }
    let hasher = MinHasher::with_scheme(params.num_perm, params.seed, params.scheme);
    progress.enter(Stage::Reading, corpus.total_size());
    read_ahead(
        &corpus,
        read,
        &progress.bytes,
        |batch| -> Result<(), ScanError> {
            skipped.extend(batch.skipped);
            let built: Vec<Result<IndexDoc, Skipped>> = batch
                .records
                .into_par_iter()
                .filter_map(|rec| match corpus.decode(rec, read) {
                    Decoded::Doc(doc) => Some(Ok(doc)),
                    Decoded::Skip(k) => Some(Err(k)),
                    Decoded::Blank => None,
                })
                .map_init(Scratch::default, |s, doc| {
                    let doc = doc?;
                    let sk = sketch(&doc.text, params, &hasher, false, s);
                    Ok(IndexDoc {
                        id: doc.id,
                        bytes: doc.text.len() as u64,
                        content: xxh3_128(&doc.text),
                        keys: sk.keys,
                        fingerprints: sk.fingerprints,
                        words: s.words.clone(),
                    })
                })
                .collect();
            for b in built {
                match b {
                    Ok(d) => index.docs.push(d),
                    Err(k) => skipped.push(k),
                }
            }
            if strict && let Some(k) = skipped.first() {
                return Err(ScanError::Strict(k.clone()));
            }
            Ok(())
        },
    )?;
    skipped.sort();
    Ok(skipped)
}

/// Reads back the first `max_bytes` of the text of documents `want` (any order), for reports
/// that show text (the HTML report). Indexed documents have no text and are left out. The
/// boolean says whether the text was cut.
pub fn excerpts(
    result: &ScanResult,
    want: &[u32],
    read: &ReadOptions,
    max_bytes: usize,
) -> Result<FxHashMap<u32, (Vec<u8>, bool)>, ScanError> {
    let mut want: Vec<u32> = want
        .iter()
        .copied()
        .filter(|&d| d >= result.prior)
        .collect();
    want.sort_unstable();
    want.dedup();
    let mut out = FxHashMap::default();
    let mut failure = None;
    read_back(&result.corpus, &result.docs, &want, read, |d, rec| {
        if failure.is_some() {
            return;
        }
        let doc = match decode_back(&result.corpus, &result.docs, d, rec, read) {
            Ok(doc) => doc,
            Err(e) => {
                failure = Some(e);
                return;
            }
        };
        let cut = doc.text.len() > max_bytes;
        let mut text = doc.text;
        if cut {
            // Cut at a character boundary, so the excerpt stays valid UTF-8 where the text was.
            let mut end = max_bytes;
            while end > 0 && (text[end] & 0xC0) == 0x80 {
                end -= 1;
            }
            text.truncate(end);
        }
        out.insert(d, (text, cut));
    })?;
    failure.map_or(Ok(out), Err)
}

fn sketch(
    text: &[u8],
    params: &Params,
    hasher: &MinHasher,
    spill: bool,
    s: &mut Scratch,
) -> Sketch {
    s.hashes.clear();
    match params.unit {
        Unit::Word => {
            shingle::text_word_hashes(text, &mut s.tokens, &mut s.words);
            shingle::gram_hashes(&s.words, params.ngram, &mut s.window, &mut s.hashes);
        }
        Unit::Char => {
            tokenize(text, &mut s.tokens);
            shingle::word_hashes(&s.tokens, &mut s.words);
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
        passages::fingerprints(&s.words, pp, &mut s.grams, &mut s.window, &mut fingerprints);
    }
    Sketch {
        shingles: s.hashes.len().min(u32::MAX as usize) as u32,
        words: s.words.len().min(u32::MAX as usize) as u32,
        spilled: if spill {
            passages::words(&s.words)
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
fn word_set(words: &[u32], ngram: usize, out: &mut Vec<u64>) {
    out.clear();
    shingle::verify_gram_hashes(words, ngram, out);
    out.sort_unstable();
    out.dedup();
}

/// The per-document work of a scan, one document at a time, for runs that another system
/// distributes (`dupsift worker`): the band keys [`scan`] computes in its first pass and the
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

    /// The exact similarity of two documents, as verification in [`scan`] computes it.
    pub fn similarity(&mut self, a: &[u8], b: &[u8]) -> f64 {
        let (sa, sb) = &mut self.sets;
        for (text, set) in [(a, &mut *sa), (b, &mut *sb)] {
            let s = &mut self.scratch;
            match self.params.unit {
                Unit::Word => {
                    shingle::text_word_hashes(text, &mut s.tokens, &mut s.words);
                    passages::words_into(&s.words, &mut s.words32);
                    word_set(&s.words32, self.params.ngram, set);
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

/// Reads the records of documents `want` (sorted indices) again and hands each to `f` in index
/// order, undecoded: see [`decode_back`].
fn read_back(
    corpus: &Corpus,
    docs: &DocTable,
    want: &[u32],
    read: &ReadOptions,
    mut f: impl FnMut(u32, RawRecord),
) -> Result<(), ScanError> {
    let locs: Vec<DocLoc> = want.iter().map(|&d| docs.locs[d as usize]).collect();
    corpus.reread_raw(&locs, read, |i, rec| {
        f(want[i], rec);
        Ok(())
    })?;
    Ok(())
}

/// Decodes document `d` read back, checking that its bytes are those hashed in pass 1.
fn decode_back(
    corpus: &Corpus,
    docs: &DocTable,
    d: u32,
    rec: RawRecord,
    read: &ReadOptions,
) -> Result<Document, ScanError> {
    match corpus.decode(rec, read) {
        Decoded::Doc(doc) if xxh3_128(&doc.text) == docs.content[d as usize] => Ok(doc),
        _ => Err(ScanError::Changed {
            id: docs.id(d).to_string(),
        }),
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
    let mut start = 0;
    while start < involved.len() {
        let mut end = start;
        let mut held = 0usize;
        while end < involved.len()
            && (end == start || held + docs.shingles[involved[end] as usize] as usize <= budget)
        {
            held += docs.shingles[involved[end] as usize] as usize;
            end += 1;
        }
        let block = &involved[start..end];
        let (lo, hi) = (block[0], block[block.len() - 1]);
        let sets = load_sets(src, docs, block, params, progress)?;
        let mine = &order[order.partition_point(|&i| pairs[i as usize].0 < lo)
            ..order.partition_point(|&i| pairs[i as usize].0 <= hi)];
        let (inner, mut outer): (Vec<u32>, Vec<u32>) =
            mine.iter().partition(|&&i| pairs[i as usize].1 <= hi);
        let inner_sims: Vec<f64> = inner
            .par_iter()
            .map(|&i| {
                let (a, b) = pairs[i as usize];
                jaccard_sorted(&sets[&a], &sets[&b])
            })
            .collect();
        for (&i, s) in inner.iter().zip(inner_sims) {
            out[i as usize] = s;
        }
        outer.sort_unstable_by_key(|&i| (pairs[i as usize].1, pairs[i as usize].0));
        let mut later: Vec<u32> = outer.iter().map(|&i| pairs[i as usize].1).collect();
        later.dedup();
        let mut next = 0;
        for part in later.chunks(4096) {
            let part_sets = load_sets(src, docs, part, params, progress)?;
            let last = part[part.len() - 1];
            let end = next + outer[next..].partition_point(|&i| pairs[i as usize].1 <= last);
            let sims: Vec<f64> = outer[next..end]
                .par_iter()
                .map(|&i| {
                    let (a, b) = pairs[i as usize];
                    jaccard_sorted(&sets[&a], &part_sets[&b])
                })
                .collect();
            for (&i, s) in outer[next..end].iter().zip(sims) {
                out[i as usize] = s;
            }
            next = end;
        }
        start = end;
    }
    Ok(out)
}

/// Shingle sets of documents `need` (sorted).
fn load_sets(
    src: Sources<'_>,
    docs: &DocTable,
    need: &[u32],
    params: &Params,
    progress: &Progress,
) -> Result<FxHashMap<u32, Vec<u64>>, ScanError> {
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

/// A document as the later passes see it: its text, or, for an indexed document, only the
/// hashes of its words.
#[derive(Clone, Copy)]
enum View<'a> {
    Text(&'a Document),
    Words(&'a IndexDoc),
}

/// The word hashes of a document: stored for indexed ones, computed from the text otherwise.
fn view_words<'a>(view: View<'a>, s: &'a mut Scratch) -> &'a [u64] {
    match view {
        View::Words(d) => &d.words,
        View::Text(doc) => {
            shingle::text_word_hashes(&doc.text, &mut s.tokens, &mut s.words);
            &s.words
        }
    }
}

fn spill_warning(e: &std::io::Error) -> String {
    format!(
        "no temporary file for word hashes ({e}; set TMPDIR to a writable directory with room \
         for about 4 bytes per word of text); reading the text again instead, which is slower"
    )
}

/// Like [`load_chunks`], for builders that need only a document's 32-bit word hashes: read
/// from the spill when pass 1 wrote one, from the index for indexed documents, from the text
/// otherwise.
fn load_words<T: Send>(
    src: Sources<'_>,
    docs: &DocTable,
    want: &[u32],
    progress: &Progress,
    build: impl Fn(u32, &[u32], &mut Scratch) -> T + Sync,
    mut f: impl FnMut(Vec<(u32, T)>) -> Result<(), ScanError>,
) -> Result<(), ScanError> {
    let Some(spill) = src.spill else {
        let from_view = |d: u32, view: View<'_>, s: &mut Scratch| {
            let mut words = std::mem::take(&mut s.words32);
            passages::words_into(view_words(view, s), &mut words);
            let out = build(d, &words, s);
            s.words32 = words;
            out
        };
        return load_chunks(src, docs, want, progress, from_view, f);
    };
    let total: u64 = want.iter().map(|&d| docs.bytes[d as usize]).sum();
    progress.total.fetch_add(total, Ordering::Relaxed);
    for part in word_chunks(docs, want, src.read) {
        let built: Result<Vec<(u32, T)>, ScanError> = part
            .par_iter()
            .map_init(Scratch::default, |s, &d| {
                let mut words = std::mem::take(&mut s.words32);
                if d < src.prior_docs {
                    let doc = &src
                        .prior
                        .expect("indexed documents come with their index")
                        .docs[docs.locs[d as usize].line as usize];
                    passages::words_into(&doc.words, &mut words);
                } else {
                    spill
                        .read((d - src.prior_docs) as usize, &mut words)
                        .map_err(ScanError::Spill)?;
                }
                let out = build(d, &words, s);
                s.words32 = words;
                Ok((d, out))
            })
            .collect();
        let built = built?;
        let bytes: u64 = part.iter().map(|&d| docs.bytes[d as usize]).sum();
        progress.bytes.fetch_add(bytes, Ordering::Relaxed);
        progress
            .docs
            .fetch_add(part.len() as u64, Ordering::Relaxed);
        f(built)?;
    }
    Ok(())
}

/// Cuts `want` into runs of about a batch of words each (at least one document), so that
/// memory stays bounded as it is with text.
fn word_chunks<'a>(
    docs: &'a DocTable,
    want: &'a [u32],
    read: &ReadOptions,
) -> impl Iterator<Item = &'a [u32]> + 'a {
    let per_chunk = (read.batch_bytes / 4).max(1);
    let mut rest = want;
    std::iter::from_fn(move || {
        let (mut end, mut words) = (0, 0usize);
        while end < rest.len() && (end == 0 || words < per_chunk) {
            words += docs.words[rest[end] as usize] as usize;
            end += 1;
        }
        let (part, tail) = rest.split_at(end);
        rest = tail;
        (!part.is_empty()).then_some(part)
    })
}

/// Where the documents of a scan can be read again: the corpus, and the index the first
/// documents came from.
#[derive(Clone, Copy)]
struct Sources<'a> {
    corpus: &'a Corpus,
    prior: Option<&'a Index>,
    /// Documents `0..prior_docs` come from `prior`.
    prior_docs: u32,
    /// The words of documents `prior_docs..`, when pass 1 could write them.
    spill: Option<&'a Spill>,
    read: &'a ReadOptions,
}

/// Reads documents `want` (sorted) again in chunks of about `read.batch_bytes` of text, builds
/// a value from each document in parallel, and hands every chunk to `f` in document order, so
/// that only one chunk of text is in memory at a time. Indexed documents come first, from the
/// index.
fn load_chunks<T: Send>(
    src: Sources<'_>,
    docs: &DocTable,
    want: &[u32],
    progress: &Progress,
    build: impl Fn(u32, View<'_>, &mut Scratch) -> T + Sync,
    mut f: impl FnMut(Vec<(u32, T)>) -> Result<(), ScanError>,
) -> Result<(), ScanError> {
    let (corpus, read) = (src.corpus, src.read);
    let total: u64 = want.iter().map(|&d| docs.bytes[d as usize]).sum();
    progress.total.fetch_add(total, Ordering::Relaxed);
    let split = want.partition_point(|&d| docs.locs[d as usize].source == PRIOR_SOURCE);
    let (from_index, want) = want.split_at(split);
    if let Some(index) = src.prior {
        for part in from_index.chunks(4096) {
            let built: Vec<(u32, T)> = part
                .par_iter()
                .map_init(Scratch::default, |s, &d| {
                    let doc = &index.docs[docs.locs[d as usize].line as usize];
                    (d, build(d, View::Words(doc), s))
                })
                .collect();
            f(built)?;
        }
    }
    // As in the first pass, one chunk is read ahead on a thread of its own while the previous
    // one is built, so re-reading (sequential: seeks, decompression, JSON) overlaps the work.
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<(u32, RawRecord)>>(1);
        let reader = scope.spawn(move || {
            let mut chunk = Vec::new();
            let mut chunk_bytes = 0usize;
            // The receiver only hangs up after a failure of its own, which it reports.
            let mut hung_up = false;
            let read = read_back(corpus, docs, want, read, |d, rec| {
                if hung_up {
                    return;
                }
                chunk_bytes += rec.bytes.len();
                chunk.push((d, rec));
                if chunk_bytes >= read.batch_bytes {
                    chunk_bytes = 0;
                    hung_up = tx.send(std::mem::take(&mut chunk)).is_err();
                }
            });
            if read.is_ok() && !chunk.is_empty() {
                let _ = tx.send(chunk);
            }
            read
        });
        let mut result = Ok(());
        for mut chunk in rx.iter() {
            let built: Result<Vec<(u32, T, usize)>, ScanError> = chunk
                .par_drain(..)
                .map_init(Scratch::default, |s, (d, rec)| {
                    let doc = decode_back(corpus, docs, d, rec, read)?;
                    Ok((d, build(d, View::Text(&doc), s), doc.text.len()))
                })
                .collect();
            let built = match built {
                Ok(b) => b,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            };
            let bytes: usize = built.iter().map(|b| b.2).sum();
            progress.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
            progress
                .docs
                .fetch_add(built.len() as u64, Ordering::Relaxed);
            if let Err(e) = f(built.into_iter().map(|(d, t, _)| (d, t)).collect()) {
                result = Err(e);
                break;
            }
        }
        drop(rx);
        let read = reader
            .join()
            .unwrap_or_else(|_| panic!("the corpus re-reader panicked"));
        result.and(read)
    })
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
