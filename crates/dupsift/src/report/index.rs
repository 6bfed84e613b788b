//! What `dupsift index info` prints: an index file's format, size, document and word counts,
//! and the parameters a check against it must be given.
//!
//! This module renders an index already loaded; it must not read or write files.

use std::io::{self, Write};
use std::path::Path;
use std::time::Duration;

use super::text::human_bytes;
use crate::index::{FORMAT_VERSION, Index};

/// Writes the description of `index`, loaded from `path` (`size` bytes on disk) in `loaded`.
pub fn write_index_info(
    index: &Index,
    path: &Path,
    size: u64,
    loaded: Duration,
    mut w: impl Write,
) -> io::Result<()> {
    let p = &index.params;
    writeln!(w, "index {}", path.display())?;
    writeln!(
        w,
        "format version {}, hash format {}",
        FORMAT_VERSION, p.hash_format
    )?;
    writeln!(
        w,
        "documents {}, words {}, size {} ({} per document), loaded in {:.3} s",
        index.docs.len(),
        index.words(),
        human_bytes(size),
        human_bytes(size / (index.docs.len() as u64).max(1)),
        loaded.as_secs_f64()
    )?;
    writeln!(
        w,
        "parameters: --unit {} --ngram {} --num-perm {} --bands {} --rows {} --threshold {} --seed {} --scheme {} {}",
        p.unit,
        p.ngram,
        p.num_perm,
        p.bands,
        p.rows,
        p.threshold,
        p.seed,
        p.scheme,
        match p.min_passage {
            Some(m) => format!("--min-passage {m}"),
            None => "--no-passages".to_string(),
        }
    )
}
