//! Test helpers: temporary trees, compression, and reading a corpus to the end.
//!
//! Test-only; panics freely because a failing helper is a failing test.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;

use tempfile::TempDir;

use super::{Corpus, Decoded, Document, ReadOptions, Skipped};

/// Writes `bytes` at `dir/rel`, creating parent directories.
pub(crate) fn write(dir: &Path, rel: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create dirs");
    }
    std::fs::write(&path, bytes).expect("write file");
    path
}

/// A temporary directory holding the given `(relative path, content)` files.
pub(crate) fn write_tree(files: &[(&str, &str)]) -> TempDir {
    let t = TempDir::new().expect("tempdir");
    for (rel, content) in files {
        write(t.path(), rel, content.as_bytes());
    }
    t
}

pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).expect("gzip");
    e.finish().expect("gzip")
}

pub(crate) fn zstd_compress(bytes: &[u8]) -> Vec<u8> {
    zstd::encode_all(bytes, 3).expect("zstd")
}

/// Everything a full read yields: documents, and skips (discovery's first, then the read's and
/// decode's in stream order), plus the batches' record counts.
pub(crate) struct ReadAll {
    pub docs: Vec<Document>,
    pub skipped: Vec<Skipped>,
    pub batch_sizes: Vec<usize>,
    pub progress: u64,
}

pub(crate) fn read_all(c: &Corpus, opts: &ReadOptions) -> ReadAll {
    let progress = AtomicU64::new(0);
    let mut out = ReadAll {
        docs: Vec::new(),
        skipped: c.skipped.clone(),
        batch_sizes: Vec::new(),
        progress: 0,
    };
    c.read_batches(opts, &progress, |batch| {
        out.batch_sizes.push(batch.records.len());
        out.skipped.extend(batch.skipped);
        for rec in batch.records {
            match c.decode(rec, opts) {
                Decoded::Doc(d) => out.docs.push(d),
                Decoded::Skip(s) => out.skipped.push(s),
                Decoded::Blank => {}
            }
        }
        Ok::<(), ()>(())
    })
    .expect("sink never fails");
    out.progress = progress.into_inner();
    out
}

/// Discovers the given paths (relative to `dir`) with default options.
pub(crate) fn discover(dir: &Path, inputs: &[&str], opts: &ReadOptions) -> Corpus {
    let inputs: Vec<PathBuf> = inputs.iter().map(|i| dir.join(i)).collect();
    Corpus::discover(&inputs, opts).expect("discover")
}
