//! `dupsift._dupsift`: the engine's calls for Python. The package `dupsift` (under `python/`)
//! turns whatever a user hands it (paths, pyarrow tables, Datasets, frames, lists of texts) into
//! paths or an Arrow C stream, and this module runs the engine on them with the GIL released.
//!
//! Each call is the same shape as a CLI subcommand: a dict of parameters → validated options
//! ([`options`]) → one library call ([`run`]) → Python values. Errors become the exception
//! classes of `dupsift._errors` ([`errors`]); nothing here may end the interpreter: engine
//! panics are caught at the boundary.

mod clean;
mod compat;
mod errors;
mod index;
mod options;
mod run;
mod scan;

use pyo3::prelude::*;

#[pymodule]
fn _dupsift(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(scan::scan, m)?)?;
    m.add_function(wrap_pyfunction!(clean::clean, m)?)?;
    m.add_function(wrap_pyfunction!(index::index_build, m)?)?;
    m.add_function(wrap_pyfunction!(index::index_open, m)?)?;
    m.add_class::<scan::Scan>()?;
    m.add_class::<compat::MinHash>()?;
    m.add_class::<compat::MinHashLSH>()?;
    m.add_function(wrap_pyfunction!(compat::minhash_bulk, m)?)?;
    m.add_class::<index::IndexHandle>()?;
    Ok(())
}
