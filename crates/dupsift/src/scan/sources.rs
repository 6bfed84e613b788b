//! Where the later passes read documents again: the spill of 32-bit word hashes that pass 1
//! wrote, the index the first documents came from, or the corpus itself (read back, decoded
//! and checked against pass 1's content hash). Each reader hands documents over in chunks of
//! about a batch, in document order, built in parallel.
//!
//! This module must not keep more than a chunk of text, nor decide anything about documents.

use std::sync::atomic::Ordering;

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use xxhash_rust::xxh3::xxh3_128;

use super::blocks::words_chunk_len;
use super::sketch::Scratch;
use crate::corpus::{Corpus, Decoded, DocLoc, Document, RawRecord, ReadOptions};
use crate::error::ScanError;
use crate::index::{Index, IndexDoc};
use crate::passages;
use crate::progress::Progress;
use crate::result::{DocTable, ScanResult};
use crate::shingle;
use crate::spill::Spill;

/// Source number marking documents that come from an index in [`DocLoc::source`].
pub(super) const PRIOR_SOURCE: u32 = u32::MAX;

/// Where the documents of a scan can be read again: the corpus, and the index the first
/// documents came from.
#[derive(Clone, Copy)]
pub(super) struct Sources<'a> {
    /// The inputs.
    pub corpus: &'a Corpus,
    /// The index the first documents came from.
    pub prior: Option<&'a Index>,
    /// Documents `0..prior_docs` come from `prior`.
    pub prior_docs: u32,
    /// The words of documents `prior_docs..`, when pass 1 could write them.
    pub spill: Option<&'a Spill>,
    /// How the inputs are read.
    pub read: &'a ReadOptions,
}

/// A document as the later passes see it: its text, or, for an indexed document, only the
/// hashes of its words.
#[derive(Clone, Copy)]
pub(super) enum View<'a> {
    Text(&'a Document),
    Words(&'a IndexDoc),
}

/// The word hashes of a document: stored for indexed ones, computed from the text otherwise.
pub(super) fn view_words<'a>(view: View<'a>, s: &'a mut Scratch) -> &'a [u64] {
    match view {
        View::Words(d) => &d.words,
        View::Text(doc) => {
            shingle::text_word_hashes(&doc.text, &mut s.tokens, &mut s.word_hashes);
            &s.word_hashes
        }
    }
}

/// Reads the records of documents `want` (sorted indices) again and hands each to `f` in index
/// order, undecoded: see [`decode_back`].
pub(super) fn read_back(
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
pub(super) fn decode_back(
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

/// Reads documents `want` (sorted) again in chunks of about `read.batch_bytes` of text, builds
/// a value from each document in parallel, and hands every chunk to `f` in document order, so
/// that only one chunk of text is in memory at a time. Indexed documents come first, from the
/// index.
pub(super) fn load_chunks<T: Send>(
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
            if let Err(e) = checkpoint(progress) {
                result = Err(e);
                break;
            }
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

/// Like [`load_chunks`], for builders that need only a document's 32-bit word hashes: read
/// from the spill when pass 1 wrote one, from the index for indexed documents, from the text
/// otherwise.
pub(super) fn load_words<T: Send>(
    src: Sources<'_>,
    docs: &DocTable,
    want: &[u32],
    progress: &Progress,
    build: impl Fn(u32, &[u32], &mut Scratch) -> T + Sync,
    mut f: impl FnMut(Vec<(u32, T)>) -> Result<(), ScanError>,
) -> Result<(), ScanError> {
    let Some(spill) = src.spill else {
        let from_view = |d: u32, view: View<'_>, s: &mut Scratch| {
            let mut words = std::mem::take(&mut s.spill_words);
            passages::words_into(view_words(view, s), &mut words);
            let out = build(d, &words, s);
            s.spill_words = words;
            out
        };
        return load_chunks(src, docs, want, progress, from_view, f);
    };
    let total: u64 = want.iter().map(|&d| docs.bytes[d as usize]).sum();
    progress.total.fetch_add(total, Ordering::Relaxed);
    for part in word_chunks(docs, want, src.read) {
        checkpoint(progress)?;
        let built: Result<Vec<(u32, T)>, ScanError> = part
            .par_iter()
            .map_init(Scratch::default, |s, &d| {
                let mut words = std::mem::take(&mut s.spill_words);
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
                s.spill_words = words;
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
pub(super) fn word_chunks<'a>(
    docs: &'a DocTable,
    want: &'a [u32],
    read: &ReadOptions,
) -> impl Iterator<Item = &'a [u32]> + 'a {
    let per_chunk = (read.batch_bytes / 4).max(1);
    let mut rest = want;
    std::iter::from_fn(move || {
        let (part, tail) = rest.split_at(words_chunk_len(docs, rest, per_chunk));
        rest = tail;
        (!part.is_empty()).then_some(part)
    })
}

/// Stops a pass the caller cancelled ([`Progress::cancel`]): checked between batches and
/// chunks, so a run stops within one chunk of work.
pub(super) fn checkpoint(progress: &Progress) -> Result<(), ScanError> {
    if progress.is_cancelled() {
        return Err(ScanError::Cancelled);
    }
    Ok(())
}

pub(super) fn spill_warning(e: &std::io::Error) -> String {
    format!(
        "no temporary file for word hashes ({e}; set TMPDIR to a writable directory with room \
         for about 4 bytes per word of text); reading the text again instead, which is slower"
    )
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
