//! The detection and keep parameters of a scan, validated once.
//!
//! [`ParamsBuilder`] holds what a user sets (every field has the CLI's default); [`build`]
//! checks the combination and derives the LSH banding, giving a [`Params`] that every pass
//! takes as it is. A `Params` is only ever made by `build`, so a pass never meets a combination
//! that cannot work. This module must not read files or the environment.
//!
//! [`build`]: ParamsBuilder::build

use crate::cluster::{Clustering, KeepPolicy};
use crate::lsh;
use crate::minhash::{LANES, Scheme};
use crate::passages::PassageParams;
use crate::shingle::Unit;
use crate::verify::Verify;

/// Everything that changes what a scan finds. Build with [`Params::builder`], which validates;
/// the report records these fields in `params`.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Params {
    /// Shingle unit.
    pub unit: Unit,
    /// Units per shingle.
    pub ngram: usize,
    /// Signature length (number of permutations).
    pub num_perm: usize,
    /// LSH bands.
    pub bands: usize,
    /// Signature values per band.
    pub rows: usize,
    /// Similarity at or above which two documents are near-duplicates.
    pub threshold: f64,
    /// Seed of the MinHash permutations.
    pub seed: u64,
    /// How signatures are computed (left out of reports when classic, the default).
    #[serde(skip_serializing_if = "Scheme::is_classic")]
    pub scheme: Scheme,
    /// How candidates are verified.
    pub verify: Verify,
    /// Which member a cluster keeps.
    pub keep: KeepPolicy,
    /// Source ranking: a member whose id or file matches an earlier pattern is kept over
    /// later or unmatched ones, then `keep` breaks ties (left out of reports when empty).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub prefer: Vec<String>,
    /// What a cluster is: members within the threshold of the kept document, or connected
    /// components.
    pub clusters: Clustering,
    /// Repeated-passage detection; `None` turns it off.
    pub passages: Option<PassageParams>,
}

/// A parameter combination that cannot work.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("invalid parameters: {0}")]
pub struct ParamsError(pub String);

/// The parameters as a user gives them, before validation. `Default` holds the defaults of
/// `dupsift scan`; `bands`/`rows` of `None` are chosen from the threshold.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamsBuilder {
    /// Shingle unit (default: words).
    pub unit: Unit,
    /// Units per shingle (default 5).
    pub ngram: usize,
    /// Signature length (default 128; a multiple of [`LANES`] up to 4096).
    pub num_perm: usize,
    /// LSH bands; `None`: chosen with [`lsh::optimal_banding`], or derived from `rows`.
    pub bands: Option<usize>,
    /// Signature values per band; `None`: chosen, or derived from `bands`.
    pub rows: Option<usize>,
    /// Similarity threshold in (0, 1] (default 0.8).
    pub threshold: f64,
    /// Seed of the MinHash permutations (default 42).
    pub seed: u64,
    /// Signature scheme (default classic).
    pub scheme: Scheme,
    /// Verification of candidates (default exact).
    pub verify: Verify,
    /// Keep policy (default: the first in input order).
    pub keep: KeepPolicy,
    /// Glob patterns ranking sources, most preferred first (default: none). A pattern matches
    /// a document's id or the name of the file it was read from (`*` stays within a path
    /// component, `**` crosses them).
    pub prefer: Vec<String>,
    /// What a cluster is (default: members within the threshold of the kept document).
    pub clusters: Clustering,
    /// Repeated passages (default on, 50 words); `None` turns them off.
    pub passages: Option<PassageParams>,
}

impl Default for ParamsBuilder {
    fn default() -> ParamsBuilder {
        ParamsBuilder {
            unit: Unit::Word,
            ngram: 5,
            num_perm: 128,
            bands: None,
            rows: None,
            threshold: 0.8,
            seed: 42,
            scheme: Scheme::Classic,
            verify: Verify::Exact,
            keep: KeepPolicy::First,
            prefer: Vec::new(),
            clusters: Clustering::Threshold,
            passages: Some(PassageParams::default()),
        }
    }
}

impl ParamsBuilder {
    /// Validates the combination. Giving only one of `bands` and `rows` derives the other from
    /// `num_perm`. Messages name the CLI flag of the parameter at fault.
    pub fn build(&self) -> Result<Params, ParamsError> {
        let err = |m: String| Err(ParamsError(m));
        let &ParamsBuilder {
            unit,
            ngram,
            num_perm,
            bands,
            rows,
            threshold,
            seed,
            scheme,
            verify,
            ref keep,
            ref prefer,
            clusters,
            ref passages,
        } = self;
        if ngram == 0 {
            return err("--ngram must be at least 1".into());
        }
        if !(threshold > 0.0 && threshold <= 1.0) {
            return err(format!("--threshold must be in (0, 1], got {threshold}"));
        }
        if num_perm == 0 || num_perm % LANES != 0 || num_perm > 4096 {
            return err(format!(
                "--num-perm must be a multiple of {LANES} between {LANES} and 4096, got {num_perm}"
            ));
        }
        let (bands, rows) = match (bands, rows) {
            (None, None) => lsh::optimal_banding(threshold, num_perm, 0.5, lsh::DEFAULT_MIN_RECALL),
            (Some(b), None) if b > 0 => (b, num_perm / b),
            (None, Some(r)) if r > 0 => (num_perm / r, r),
            (Some(b), Some(r)) => (b, r),
            _ => return err("--bands and --rows must be positive".into()),
        };
        if let Err(e) = preference(prefer) {
            return err(format!("--prefer: {e}"));
        }
        if bands == 0 || rows == 0 || bands * rows > num_perm {
            return err(format!(
                "--bands x --rows ({bands} x {rows}) must be positive and at most --num-perm ({num_perm})"
            ));
        }
        Ok(Params {
            unit,
            ngram,
            num_perm,
            bands,
            rows,
            threshold,
            seed,
            scheme,
            verify,
            keep: keep.clone(),
            prefer: prefer.clone(),
            clusters,
            passages: passages.clone(),
        })
    }
}

/// The patterns of [`Params::prefer`], compiled: which of them each name matches.
pub fn preference(patterns: &[String]) -> Result<globset::GlobSet, globset::Error> {
    let mut set = globset::GlobSetBuilder::new();
    for p in patterns {
        set.add(
            globset::GlobBuilder::new(p)
                .literal_separator(true)
                .build()?,
        );
    }
    set.build()
}

impl Params {
    /// The defaults, to change before [`ParamsBuilder::build`].
    pub fn builder() -> ParamsBuilder {
        ParamsBuilder::default()
    }
}

impl Default for Params {
    fn default() -> Params {
        ParamsBuilder::default()
            .build()
            .expect("defaults are valid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_params_are_recall_oriented() {
        let p = Params::default();
        assert_eq!((p.unit, p.ngram, p.num_perm), (Unit::Word, 5, 128));
        assert!(lsh::candidate_probability(0.8, p.bands, p.rows) > 0.995);
        assert!(p.passages.is_some());
    }

    #[test]
    fn params_are_validated() {
        let mk = |num_perm, bands, rows, threshold| {
            ParamsBuilder {
                num_perm,
                bands,
                rows,
                threshold,
                seed: 1,
                ..ParamsBuilder::default()
            }
            .build()
        };
        assert!(mk(128, Some(16), Some(8), 0.8).is_ok());
        assert!(mk(128, Some(16), Some(9), 0.8).is_err());
        assert!(mk(100, None, None, 0.8).is_err());
        assert!(mk(128, None, None, 0.0).is_err());
        assert!(mk(128, None, None, 1.5).is_err());
        assert_eq!(mk(128, Some(32), None, 0.8).map(|p| p.rows), Ok(4));
        assert_eq!(mk(128, None, Some(8), 0.8).map(|p| p.bands), Ok(16));
        let no_ngram = ParamsBuilder {
            ngram: 0,
            ..ParamsBuilder::default()
        };
        assert!(no_ngram.build().unwrap_err().0.contains("--ngram"));
        let bad_glob = ParamsBuilder {
            prefer: vec!["web/[".into()],
            ..ParamsBuilder::default()
        };
        assert!(bad_glob.build().unwrap_err().0.contains("--prefer"));
    }
}
