//! The pipeline driver: a scan as a sequence of passes, each a function from one named
//! artifact to the next.
//!
//! | pass | module | in → out |
//! |---|---|---|
//! | 1. sketch the corpus | [`pass1`] | inputs (+ an index) → documents sketched: [`DocTable`] rows, band keys, fingerprints, spilled words, skipped inputs |
//! | 2. candidates | [`crate::lsh`] | band keys → candidate pairs |
//! | 3. verify | `pairs` | candidate pairs → verified pairs (exact Jaccard from the spilled words, in memory-budgeted blocks; or estimated) |
//! | 4. components | `clusters` | pairs + exact duplicates → connected components |
//! | 5. align passages | `align` | fingerprints → seeds → alignments (blocks of spilled words) → grouped passages |
//! | 6. locate | `locate` | components + passages → previews, occurrences in bytes and lines, totals |
//! | 7. cluster | `clusters` | components + self-repeats → clusters with a kept document (ranked by length after self-repeat cuts) and member similarities; by default each component split so that every member is near its kept document |
//!
//! `blocks` holds the one block loop that passes 3 and 5 share (a block of documents under a
//! memory budget, pairs inside it, later partners streamed past it) and `sources` the readers
//! every later pass uses (spill, index, or the text read back and checked against pass 1's
//! content hash). `sketch` is the per-document computation, shared with [`Signer`].
//!
//! Memory: pass 1 keeps a fixed-size record per document plus `bands` band keys (and the
//! signature with `--verify estimate`) and 16 bytes per passage fingerprint, never the text;
//! the later passes hold one block and one chunk at a time. Results are independent of thread
//! count: documents are numbered in input order, every parallel step collects in input order,
//! and pairs, clusters and passages are sorted.
//!
//! This module wires passes together; text processing lives in the stage modules, rendering in
//! [`crate::report`]. It must not read the environment: everything comes in [`ScanOptions`].

mod align;
mod blocks;
mod clusters;
mod locate;
mod pairs;
pub mod pass1;
mod sketch;
mod sources;

pub use pass1::{index_corpus, index_documents};
pub use sketch::{Signed, Signer};
pub use sources::excerpts;

use crate::corpus::Corpus;
use crate::error::ScanError;
use crate::index::Index;
use crate::lsh;
use crate::options::ScanOptions;
use crate::passages;
use crate::progress::{Progress, Stage};
use crate::result::{DocTable, ScanResult};
use crate::verify::Verify;
use pairs::Similarity;
use sources::{Sources, spill_warning};

/// Runs a scan of `inputs` (paths; `-` is standard input).
pub fn scan(
    inputs: &[std::path::PathBuf],
    options: &ScanOptions,
    progress: &Progress,
) -> Result<ScanResult, ScanError> {
    scan_against(inputs, None, options, progress)
}

/// Runs a scan of the documents of `prior` (an index, whose text is not read) followed by
/// `inputs`: the same findings as a scan of the indexed corpus and the inputs together. The
/// caller checks that the parameters agree with the index's.
pub fn scan_against(
    inputs: &[std::path::PathBuf],
    prior: Option<&Index>,
    options: &ScanOptions,
    progress: &Progress,
) -> Result<ScanResult, ScanError> {
    let corpus = Corpus::discover(inputs, &options.read)?;
    scan_corpus(corpus, prior, options, progress)
}

/// Runs a scan of the documents of `prior` (an index), if any, followed by those of `corpus`
/// (discovered from paths, or an Arrow table in memory: [`Corpus::from_arrow`]). The result
/// owns the corpus, to read documents back.
pub fn scan_corpus(
    corpus: Corpus,
    prior: Option<&Index>,
    options: &ScanOptions,
    progress: &Progress,
) -> Result<ScanResult, ScanError> {
    let params = &options.params;
    let pass1::Sketched {
        docs,
        keys,
        sigs,
        fingerprints,
        spill,
        skipped,
        skipped_unlisted,
        mut warnings,
        prior_docs,
    } = pass1::sketch_corpus(&corpus, prior, options, progress)?;

    let candidates = candidates(&docs, &keys, params.bands);
    drop(keys);
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
        read: &options.read,
    };

    sources::checkpoint(progress)?;
    progress.enter(Stage::Verifying, 0);
    let pairs = Similarity::new(src, &docs, options, &sigs, None).verify(&candidates, progress)?;

    sources::checkpoint(progress)?;
    progress.enter(Stage::Clustering, 0);
    let components = clusters::components(&docs, &pairs);
    // Estimated similarities to the kept documents, chosen after the passages, need the
    // signatures of clustered documents only.
    let (sigs, rows) = match params.verify {
        Verify::Estimate => {
            let (kept, rows) =
                clusters::clustered_signatures(&sigs, params.num_perm, &components, docs.len());
            (kept, Some(rows))
        }
        Verify::Exact => (sigs, None),
    };

    let groups = match &params.passages {
        Some(pp) => {
            progress.enter(Stage::Passages, 0);
            let alignments = align::align_passages(src, &docs, fingerprints, pp, progress)?;
            let mut groups = passages::group(&passages::refine(alignments, pp.min_words));
            passages::repeat_in_copies(&mut groups, &docs.original);
            groups
        }
        None => Vec::new(),
    };

    sources::checkpoint(progress)?;
    progress.enter(Stage::Finishing, 0);
    let located = locate::locate(
        src,
        &docs,
        &components,
        &groups,
        options.read.previews,
        progress,
    )?;
    let keep = clusters::Keep::new(&docs, &corpus, params, &located.self_repeating, prior_docs);
    let clusters = clusters::clusters(
        components,
        &docs,
        &pairs,
        &keep,
        &Similarity::new(src, &docs, options, &sigs, rows.as_deref()),
        progress,
    )?;
    drop(sigs);
    // Closes the last stage's time.
    progress.mark(Stage::Finishing);
    drop(spill);
    if docs.len() == prior_docs as usize {
        // Loudly: an empty report looks like a clean corpus.
        warnings.push(format!(
            "no document was read from the inputs ({} skipped)",
            skipped.len() as u64 + skipped_unlisted.records
        ));
    }
    Ok(ScanResult {
        corpus,
        prior: prior_docs,
        params: params.clone(),
        docs,
        skipped,
        skipped_unlisted,
        candidate_pairs: candidates.len(),
        pairs,
        clusters,
        previews: located.previews,
        passages: located.passages,
        self_repeating: located.self_repeating,
        passage_documents: located.passage_documents,
        passage_cut_bytes: located.passage_cut_bytes,
        warnings,
    })
}

/// Pass 2: candidate pairs from the band keys. Only originals with shingles take part; their
/// exact duplicates join their clusters through [`DocTable::original`].
fn candidates(docs: &DocTable, keys: &[u64], bands: usize) -> Vec<(u32, u32)> {
    let eligible: Vec<bool> = (0..docs.len())
        .map(|d| docs.original[d] == d as u32 && docs.shingles[d] > 0)
        .collect();
    lsh::candidate_pairs(keys, bands, &eligible)
}
