//! Library-level tests: each command's library calls on small corpora built in temporary
//! directories, asserting on typed results (not on the binary's output). A binding's test suite
//! mirrors these.
//!
//! One test binary (files directly under `tests/` would each become their own); the modules live
//! in `tests/lib/`.

#[path = "lib/util.rs"]
mod util;

#[path = "lib/arrow.rs"]
mod arrow;
#[path = "lib/check.rs"]
mod check;
#[path = "lib/clean.rs"]
mod clean;
#[path = "lib/index.rs"]
mod index;
#[path = "lib/scan.rs"]
mod scan;
