//! The files a check reads and writes besides the corpus: the index it runs against
//! (`--against`), refused when the check's options cannot use it, and the baseline of accepted
//! findings. Each failure is a typed error naming the file, with the message the binary prints.
//!
//! This module opens, validates and saves; it must not judge findings (see [`super::judge`]).

use std::path::{Path, PathBuf};

use super::Baseline;
use crate::atomic::WriteError;
use crate::cluster::KeepPolicy;
use crate::index::{Disagreement, Index, IndexFileError};
use crate::params::{ParamsBuilder, ParamsError};
use crate::verify::Verify;

/// Why a check cannot run against an index.
#[derive(Debug, thiserror::Error)]
pub enum AgainstError {
    /// The index file cannot be read or decoded.
    #[error(transparent)]
    Index(#[from] IndexFileError),
    /// A keep policy other than the first: against an index the indexed document is kept.
    #[error("--against keeps the indexed document: drop --keep")]
    Keep,
    /// A source ranking: against an index the indexed document is kept.
    #[error("--against keeps the indexed document: drop --prefer")]
    Prefer,
    /// Estimated verification: an index keeps word hashes, not signatures.
    #[error("--against verifies candidates exactly: drop --verify estimate")]
    Estimate,
    /// The check's parameters are invalid.
    #[error(transparent)]
    Params(#[from] ParamsError),
    /// The check's parameters differ from the index's.
    #[error(transparent)]
    Disagree(#[from] Disagreement),
}

/// Opens the index at `path` for a check with `params`, refusing what cannot work: the
/// indexed documents come first, so the first document of a cluster is an indexed one
/// (`keep` must be first); candidates are verified exactly from the stored word hashes
/// (`verify` must be exact); and every parameter that shapes band keys, shingles or
/// fingerprints must be the index's. Checked in that order, so the message names the first
/// thing to fix.
pub fn open_against(path: &Path, params: &ParamsBuilder) -> Result<Index, AgainstError> {
    let index = Index::load(path)?;
    check_against(&index, path, params)?;
    Ok(index)
}

/// Refuses to scan against `index` (read from `path`) with `params` what [`open_against`]
/// refuses: a keep policy but `first`, `--prefer`, estimated verification, parameters that
/// disagree with the index's.
pub fn check_against(
    index: &Index,
    path: &Path,
    params: &ParamsBuilder,
) -> Result<(), AgainstError> {
    if params.keep != KeepPolicy::First {
        return Err(AgainstError::Keep);
    }
    if !params.prefer.is_empty() {
        return Err(AgainstError::Prefer);
    }
    if params.verify == Verify::Estimate {
        return Err(AgainstError::Estimate);
    }
    index.check_params(&params.build()?, path)?;
    Ok(())
}

/// Why a baseline file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// The file could not be read.
    #[error("reading the baseline {}", path.display())]
    Read {
        /// The baseline file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not a baseline (see [`Baseline::parse`]).
    #[error("{}: {why}", path.display())]
    Invalid {
        /// The baseline file.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
}

impl Baseline {
    /// Reads the baseline file at `path`.
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let bytes = std::fs::read(path).map_err(|source| BaselineError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Baseline::parse(&bytes).map_err(|why| BaselineError::Invalid {
            path: path.to_path_buf(),
            why,
        })
    }

    /// Refuses to replace what is at `path` unless it is missing, empty or a baseline
    /// (`--update-baseline` must not overwrite a corpus file or a report named by mistake).
    pub fn check_replaceable(path: &Path) -> Result<(), crate::guard::GuardError> {
        crate::guard::check_replaceable(path, "a dupsift baseline", |p| {
            let bytes = std::fs::read(p).map_err(|e| e.to_string())?;
            Baseline::parse(&bytes).map(|_| ())
        })
    }

    /// Writes the baseline to `path` atomically, as pretty-printed JSON with a final newline.
    pub fn save(&self, path: &Path) -> Result<(), WriteError> {
        crate::atomic::write(path, |w| {
            serde_json::to_writer_pretty(&mut *w, self)?;
            w.write_all(b"\n")
        })
    }
}
