//! Why a library call stopped, as types a binding can map: each error names the file (and
//! line) or the value at fault. One bad input is not an error (it is skipped and reported)
//! unless the caller asked for strictness.
//!
//! Each call returns its own error type (the scan's [`ScanError`] is here; the others live with
//! their module); [`Error`] gathers them all, so that a binding maps one type. Messages are
//! complete sentences for a person: an error that shows its cause inline does not also return
//! it as its `source`, so printing the chain of causes never repeats a message. Nothing here
//! prints or decides an exit code.

use crate::atomic::WriteError;
use crate::check::{AgainstError, BaselineError, NothingRead};
use crate::clean::{CleanError, OutputError};
use crate::corpus::{CorpusError, MissingInput, Skipped};
use crate::guard::GuardError;
use crate::index::{Disagreement, IndexError, IndexFileError};
use crate::params::ParamsError;

/// Any error of the library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Parameters that cannot work together ([`crate::ParamsBuilder::build`]).
    #[error(transparent)]
    Params(#[from] ParamsError),
    /// An input that does not exist ([`crate::corpus::require_inputs`]).
    #[error(transparent)]
    MissingInput(#[from] MissingInput),
    /// Reading the corpus as a whole failed ([`crate::corpus::Corpus::discover`]).
    #[error(transparent)]
    Corpus(#[from] CorpusError),
    /// A scan stopped ([`crate::scan::scan`] and the calls beside it).
    #[error(transparent)]
    Scan(#[from] ScanError),
    /// An index cannot be made or decoded ([`crate::index::Index::new`], `from_bytes`).
    #[error(transparent)]
    Index(#[from] IndexError),
    /// An index file cannot be used ([`crate::index::Index::load`]).
    #[error(transparent)]
    IndexFile(#[from] IndexFileError),
    /// Parameters differ from an index's ([`crate::index::Index::check_params`]).
    #[error(transparent)]
    Disagreement(#[from] Disagreement),
    /// A check cannot run against an index ([`crate::check::open_against`]).
    #[error(transparent)]
    Against(#[from] AgainstError),
    /// A check read no document ([`crate::check::require_documents`]).
    #[error(transparent)]
    NothingRead(#[from] NothingRead),
    /// A baseline file cannot be used ([`crate::check::Baseline::load`]).
    #[error(transparent)]
    Baseline(#[from] BaselineError),
    /// An output directory is refused ([`crate::clean::check_output`]).
    #[error(transparent)]
    Output(#[from] OutputError),
    /// An output file is refused ([`crate::guard`]).
    #[error(transparent)]
    Guard(#[from] GuardError),
    /// A cleanup failed ([`crate::clean::run`] and the calls beside it).
    #[error(transparent)]
    Clean(#[from] CleanError),
    /// An output file could not be written ([`crate::atomic::write`]).
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// Why a scan stopped.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// Reading the corpus failed as a whole (not one bad input: those are skipped).
    #[error(transparent)]
    Corpus(#[from] CorpusError),
    /// The caller asked the scan to stop ([`crate::Progress::cancel`]).
    #[error("the scan was cancelled")]
    Cancelled,
    /// `--strict` and an input could not be used.
    #[error("{}{}: {} (--strict stops at the first bad input)", .0.path, .0.line.map(|l| format!(":{l}")).unwrap_or_default(), .0.reason)]
    Strict(Skipped),
    /// The temporary file of word hashes could not be read back.
    #[error("reading the scan's temporary file")]
    Spill(#[source] std::io::Error),
    /// `--keep newest/oldest:FIELD` on inputs that have no fields (no input is JSONL or
    /// Parquet).
    #[error(
        "--keep {policy} ranks records by a field, but no input is JSONL or Parquet: a text file has no fields (use first, last, longest or shortest)"
    )]
    NoFields {
        /// The policy as given.
        policy: String,
    },
    /// A document read in the first pass was different when read again.
    #[error("{id}: the document changed while it was being scanned")]
    Changed {
        /// The document's id.
        id: String,
    },
}
