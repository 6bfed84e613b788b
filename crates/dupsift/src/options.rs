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

/// The most threads a run takes per core: past a few per core, threads only add switching and
/// memory (a run of 5,000 threads on two cores took a minute for a megabyte of input).
pub const MAX_THREADS_PER_CORE: usize = 8;

/// The fewest threads [`check_threads`] allows as its limit, whatever the core count: a small
/// machine may still be asked for a few dozen.
pub const MIN_THREADS_LIMIT: usize = 64;

/// A thread count far above the machine's cores.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{threads} threads on {cores} cores: at most {max} ({MAX_THREADS_PER_CORE} per core, or {MIN_THREADS_LIMIT}); 0 means one per core"
)]
pub struct TooManyThreads {
    /// The threads asked for.
    pub threads: usize,
    /// The machine's cores.
    pub cores: usize,
    /// The most allowed.
    pub max: usize,
}

/// Refuses `threads` (0: one per core) far above `cores`, the machine's cores as the caller
/// knows them (the engine reads nothing of the machine).
pub fn check_threads(threads: usize, cores: usize) -> Result<(), TooManyThreads> {
    let max = cores
        .saturating_mul(MAX_THREADS_PER_CORE)
        .max(MIN_THREADS_LIMIT);
    if threads > max {
        return Err(TooManyThreads {
            threads,
            cores,
            max,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_counts_far_above_the_cores_are_refused() {
        assert!(check_threads(0, 2).is_ok());
        assert!(check_threads(64, 2).is_ok());
        let e = check_threads(65, 2).unwrap_err();
        assert_eq!((e.threads, e.cores, e.max), (65, 2, 64));
        assert_eq!(
            e.to_string(),
            "65 threads on 2 cores: at most 64 (8 per core, or 64); 0 means one per core"
        );
        assert!(check_threads(128, 16).is_ok());
        assert!(check_threads(129, 16).is_err());
        assert!(check_threads(usize::MAX, usize::MAX).is_ok());
    }
}
