//! Everything a scan is told besides its inputs, built once by the caller: what to detect
//! ([`Params`]), how to read ([`ReadOptions`]), whether a bad input stops the run, and tuning
//! that changes speed and memory but never the findings. The engine reads no environment
//! variable for any of these; the binary maps its own (see `dupsift-cli`).

use crate::corpus::ReadOptions;
use crate::params::Params;

/// The options of a scan (and of the commands built on one: clean, check, index).
#[derive(Clone, Debug, Default)]
pub struct ScanOptions {
    /// What is detected.
    pub params: Params,
    /// How inputs are walked, split and decoded.
    pub read: ReadOptions,
    /// Stop at the first input that cannot be used (a skipped file or record, invalid UTF-8)
    /// with [`crate::ScanError::Strict`], instead of skipping it and going on.
    pub strict: bool,
    /// Speed and memory, never the findings.
    pub tuning: Tuning,
}

/// Knobs that trade speed for memory or disk; every setting gives the same findings (tests
/// compare them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tuning {
    /// Keep each document's 32-bit word hashes in a temporary file in pass 1 (in the system's
    /// temporary directory), so that the later passes need not read and tokenise the text
    /// again. On by default; when off, or when no file can be written, the text is re-read.
    pub spill: bool,
    /// Shingles (8 bytes each) of verification sets held in memory at once (256 MiB by
    /// default); a smaller budget means more passes over the candidate documents.
    pub verify_block_shingles: usize,
}

/// The default verification budget: 32 Mi shingles.
pub const VERIFY_BLOCK_SHINGLES: usize = 32 << 20;

impl Default for Tuning {
    fn default() -> Tuning {
        Tuning {
            spill: true,
            verify_block_shingles: VERIFY_BLOCK_SHINGLES,
        }
    }
}
