//! Why a library call stopped, as types a binding can map: each error names the file (and
//! line) or the value at fault. One bad input is not an error (it is skipped and reported)
//! unless the caller asked for strictness.

use crate::corpus::{CorpusError, Skipped};

/// Why a scan stopped.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// Reading the corpus failed as a whole (not one bad input: those are skipped).
    #[error(transparent)]
    Corpus(#[from] CorpusError),
    /// `--strict` and an input could not be used.
    #[error("{}{}: {} (--strict stops at the first bad input)", .0.path, .0.line.map(|l| format!(":{l}")).unwrap_or_default(), .0.reason)]
    Strict(Skipped),
    /// The temporary file of word hashes could not be read back.
    #[error("reading the scan's temporary file")]
    Spill(#[source] std::io::Error),
    /// A document read in the first pass was different when read again.
    #[error("{id}: the document changed while it was being scanned")]
    Changed {
        /// The document's id.
        id: String,
    },
}
