//! Integration tests: they drive the real `dupsift` binary on the bundled sample corpus and on
//! corpora generated in temporary directories, and inspect its JSON report.
//!
//! One test binary (files directly under `tests/` would each become their own); the modules live
//! in `tests/it/`.

#[path = "it/util.rs"]
mod util;

#[path = "it/annotate.rs"]
mod annotate;
#[path = "it/bad_input.rs"]
mod bad_input;
#[path = "it/check.rs"]
mod check;
#[path = "it/clean.rs"]
mod clean;
#[path = "it/clean_against.rs"]
mod clean_against;
#[path = "it/clusters.rs"]
mod clusters;
#[path = "it/corpus_sample.rs"]
mod corpus_sample;
#[path = "it/determinism.rs"]
mod determinism;
#[path = "it/formats.rs"]
mod formats;
#[path = "it/golden.rs"]
mod golden;
#[path = "it/html.rs"]
mod html;
#[path = "it/index.rs"]
mod index;
#[path = "it/keep.rs"]
mod keep;
#[path = "it/parquet.rs"]
mod parquet;
#[path = "it/passages.rs"]
mod passages;
#[path = "it/planted.rs"]
mod planted;
#[path = "it/reliability.rs"]
mod reliability;
#[cfg(feature = "spark")]
#[path = "it/worker.rs"]
mod worker;
