//! dupsift finds near-duplicate documents and repeated passages in a corpus with shingling,
//! MinHash and LSH, and verifies every candidate pair so that reported clusters are exact at the
//! chosen threshold. This crate is the engine: every pass and every command, with no command
//! line, printing, environment or process exit in it, so that the `dupsift` binary and a Python
//! binding call the same functions.
//!
//! **Model** (leaf modules every pass and command shares): [`params`] (what is detected,
//! validated once by [`ParamsBuilder::build`]), [`options`] (a scan's [`ScanOptions`]: params,
//! reading, strictness, [`Tuning`]), [`progress`], [`result`] (a scan's [`ScanResult`]),
//! [`plan`] (what a cleanup does), [`error`] (one [`Error`] over every call's typed errors).
//!
//! **Kernels**, one module per stage, data flowing forward only:
//!
//! | stage | module | in → out |
//! |---|---|---|
//! | read corpus | [`corpus`] | paths, JSONL, gzip/zstd, stdin → [`corpus::Document`]s + [`corpus::Skipped`] |
//! | normalise | [`normalize`] | word → NFKC, lowercase, alphanumeric only |
//! | tokenise | [`tokenize`] | bytes → words with spans into the original bytes |
//! | shingle | [`shingle`] | words → `u64` hashes of n-unit windows (seeded xxh3) |
//! | sign | [`minhash`] | shingle hashes → `num_perm` minima |
//! | band | [`lsh`] | signatures → band keys → candidate pairs |
//! | (between passes) | [`spill`] | each document's 32-bit word hashes, kept on disk for the later passes |
//! | verify | [`verify`] | candidate pairs → pairs at or above the threshold |
//! | cluster | [`cluster`] | pairs + exact duplicates → clusters with a kept document |
//! | passages | [`passages`] | fingerprints → seeds → alignments → grouped passages, in word positions |
//!
//! **Driver**: [`scan`] runs the kernels as a sequence of passes, one artifact to the next
//! (sketch the corpus → candidates → verified pairs → components → aligned passages → located
//! occurrences → clusters with their kept documents; the table is in [`scan`]'s docs).
//!
//! **Commands**, each owning its whole job:
//!
//! | command | call | does |
//! |---|---|---|
//! | scan | [`scan::scan`] → [`report::Report`] | the findings; JSON, text, HTML and TSV writers in [`report`] |
//! | clean | [`clean::run`], [`clean::dry_run`] | the cleaned corpus, manifest and `report.json` under OUT, placed atomically |
//! | check | [`check::judge`], [`check::open_against`], [`check::Baseline`] | a CI verdict with limits and baselines; formats in [`report`] |
//! | index | [`index::Index`], [`scan::index_documents`], [`scan::scan_against`] | the `.dsx` index of a corpus, and scans against it |
//! | (Spark worker) | [`scan::Signer`] | per-document band keys and similarities, for the binary's `worker` |
//!
//! Files a command writes go through [`atomic::write`]. `ARCHITECTURE.md` describes the
//! invariants (determinism, memory per document). A scan of three documents:
//!
//! ```
//! use dupsift::{report::Report, scan::scan, Progress, ScanOptions};
//!
//! let dir = tempfile::tempdir()?;
//! let text = "the quick brown fox jumps over the lazy dog while the cat sleeps on the warm mat";
//! std::fs::write(dir.path().join("a.txt"), text)?;
//! std::fs::write(dir.path().join("b.txt"), format!("{text} today"))?;
//! std::fs::write(dir.path().join("c.txt"), "an entirely different document about something else")?;
//!
//! let result = scan(&[dir.path().to_path_buf()], &ScanOptions::default(), &Progress::default())?;
//! let report = Report::new(&result);
//! assert_eq!(report.summary.documents, 3);
//! assert_eq!(report.clusters.len(), 1);
//! assert_eq!(report.clusters[0].kept, "a.txt");
//! assert_eq!(report.clusters[0].members[0].doc, "b.txt");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

// Model types: leaf modules that every pass and command shares.
pub mod error;
pub mod options;
pub mod params;
pub mod plan;
pub mod progress;
pub mod ranges;
pub mod result;

// The kernels, one module per stage.
pub mod cluster;
pub mod corpus;
pub mod lsh;
pub mod minhash;
pub mod normalize;
pub mod passages;
pub mod shingle;
pub mod spill;
pub mod tokenize;
pub mod verify;

// The driver and the commands built on it.
pub mod atomic;
pub mod check;
pub mod clean;
pub mod guard;
pub mod index;
pub mod report;
pub mod scan;

pub use error::{Error, ScanError};
pub use options::{ScanOptions, Tuning};
pub use params::{Params, ParamsBuilder, ParamsError};
pub use progress::{Progress, Stage};
pub use result::ScanResult;
