//! `Index`: the `.dsx` index of a corpus, the same files as `dupsift index build|add` and
//! `dupsift check --against`: built from a source, extended with more, and queried with a new
//! batch, which is scanned after the indexed documents without reading their text again.

use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Float64Builder, Int64Builder, StringBuilder};
use arrow_pyarrow::{PyArrowType, Table};
use arrow_schema::DataType;
use dupsift::Progress;
use dupsift::corpus::{Corpus, Skipped};
use dupsift::index::{Index, IndexParams};
use dupsift::result::round4;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::errors::{Kind, engine, error};
use crate::options::{Options, Params, scan_options};
use crate::run::detached;
use crate::scan::{Input, Scan, input, skipped_list, table};

/// An index in memory and the file it is kept in.
#[pyclass(module = "dupsift._dupsift")]
pub struct IndexHandle {
    index: Index,
    path: PathBuf,
    /// The file as this handle last read or wrote it: an `add` refuses a file another
    /// process has written since, whose documents the save would drop.
    stamp: Option<Stamp>,
}

/// What tells one version of a file from another: its identity, length and modification time.
type Stamp = (u64, u64, std::time::SystemTime);

fn stamp(path: &std::path::Path) -> Option<Stamp> {
    let m = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let id = std::os::unix::fs::MetadataExt::ino(&m);
    #[cfg(not(unix))]
    let id = 0;
    Some((id, m.len(), m.modified().ok()?))
}

/// The options of `params` (consumed) and the input they read.
fn prepared(
    paths: Option<Vec<PathBuf>>,
    table: Option<&Bound<'_, PyAny>>,
    params: &Bound<'_, PyDict>,
) -> PyResult<(Options, Input)> {
    let p = Params::new(params);
    let opts = scan_options(&p)?;
    p.finish()?;
    let input = input(paths, table, &opts.scan)?;
    Ok((opts, input))
}

/// Appends the documents of `input` to `index`, the GIL released; returns what was skipped.
fn append(
    py: Python<'_>,
    index: &mut Index,
    input: Input,
    opts: &Options,
) -> PyResult<Vec<Skipped>> {
    let progress = Progress::default();
    let options = &opts.scan;
    detached(py, opts.threads, &progress, move |progress| {
        let corpus = match input {
            Input::Table(corpus, _) => corpus,
            Input::Paths(paths) => Corpus::discover(&paths, &options.read)?,
        };
        // The records skipped past those listed are counted only; the list is what Python shows.
        dupsift::scan::index_corpus(&corpus, options, progress, index).map(|(listed, _)| listed)
    })?
    .map_err(|e| engine(e.into()))
}

/// Builds the index of `paths` or `table` with the parameters in `params` and writes it to
/// `path` (atomically).
#[pyfunction]
#[pyo3(signature = (paths, table, path, params))]
pub fn index_build(
    py: Python<'_>,
    paths: Option<Vec<PathBuf>>,
    table: Option<&Bound<'_, PyAny>>,
    path: PathBuf,
    params: &Bound<'_, PyDict>,
) -> PyResult<IndexHandle> {
    let read: Vec<PathBuf> = paths.clone().unwrap_or_default();
    let (opts, input) = prepared(paths, table, params)?;
    // Before any document is read: the index must not replace an input or a foreign file.
    dupsift::guard::check_file_output(&read, &path, &opts.scan.read)
        .and_then(|()| Index::check_replaceable(&path))
        .map_err(|e| engine(e.into()))?;
    let mut index = Index::new(IndexParams::of(&opts.scan.params)).map_err(|e| engine(e.into()))?;
    append(py, &mut index, input, &opts)?;
    index.save(&path).map_err(|e| engine(e.into()))?;
    let stamp = stamp(&path);
    Ok(IndexHandle { index, path, stamp })
}

/// Opens the index file at `path`.
#[pyfunction]
pub fn index_open(py: Python<'_>, path: PathBuf) -> PyResult<IndexHandle> {
    let (index, stamp) = py
        .detach(|| {
            let _lock = Index::lock(&path, || {})?;
            Ok::<_, dupsift::index::IndexFileError>((Index::load(&path)?, stamp(&path)))
        })
        .map_err(|e| engine(e.into()))?;
    Ok(IndexHandle { index, path, stamp })
}

#[pymethods]
impl IndexHandle {
    /// Documents in the index.
    fn __len__(&self) -> usize {
        self.index.docs.len()
    }

    /// The file the index is kept in.
    #[getter]
    fn path(&self) -> PathBuf {
        self.path.clone()
    }

    /// The parameters the index was built with, as JSON.
    fn params_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.index.params).map_err(|e| error(Kind::Engine, e.to_string()))
    }

    /// Appends the documents of `paths` or `table` (read with the parameters in `params`,
    /// which must agree with the index's) and rewrites the file atomically. Returns the
    /// inputs skipped.
    #[pyo3(signature = (paths, table, params))]
    fn add<'py>(
        &mut self,
        py: Python<'py>,
        paths: Option<Vec<PathBuf>>,
        table: Option<&Bound<'py, PyAny>>,
        params: &Bound<'py, PyDict>,
    ) -> PyResult<Bound<'py, PyList>> {
        let (opts, input) = prepared(paths, table, params)?;
        self.index
            .check_params(&opts.scan.params, &self.path)
            .map_err(|e| engine(e.into()))?;
        let is_table = input.rows().is_some();
        // Held until the save: another `index add` waits meanwhile.
        let path = self.path.clone();
        let _lock = py
            .detach(|| Index::lock(&path, || {}))
            .map_err(|e| engine(e.into()))?;
        if stamp(&self.path) != self.stamp {
            return Err(error(
                Kind::Input,
                format!(
                    "{}: the index file changed since it was opened (another process wrote it); open it again",
                    self.path.display()
                ),
            ));
        }
        // On a failed read or write the documents added are dropped again: the index stays
        // as the file has it.
        let before = self.index.docs.len();
        let skipped = append(py, &mut self.index, input, &opts);
        let saved = skipped.and_then(|s| {
            self.index.save(&self.path).map_err(|e| engine(e.into()))?;
            self.stamp = stamp(&self.path);
            Ok(s)
        });
        match saved {
            Ok(skipped) => skipped_list(py, &skipped, is_table),
            Err(e) => {
                self.index.docs.truncate(before);
                Err(e)
            }
        }
    }

    /// Scans `paths` or `table` after the indexed documents (whose text is not read again)
    /// and returns the scan and one row per document of the batch that duplicates another:
    /// id, row, indexed_id (the indexed document it duplicates; null when that is in the
    /// batch), duplicate_of, similarity, exact.
    #[pyo3(signature = (paths, table, params))]
    fn query<'py>(
        &self,
        py: Python<'py>,
        paths: Option<Vec<PathBuf>>,
        table: Option<&Bound<'py, PyAny>>,
        params: &Bound<'py, PyDict>,
    ) -> PyResult<(Scan, PyArrowType<Table>)> {
        let (opts, input) = prepared(paths, table, params)?;
        dupsift::check::check_against(&self.index, &self.path, &opts.given)
            .map_err(|e| error(Kind::Parameter, e.to_string()))?;
        let progress = Progress::default();
        let options = &opts.scan;
        let rows = input.rows();
        let index = &self.index;
        let result = detached(py, opts.threads, &progress, move |progress| {
            let corpus = match input {
                Input::Table(corpus, _) => corpus,
                Input::Paths(paths) => Corpus::discover(&paths, &options.read)?,
            };
            dupsift::scan::scan_corpus(corpus, Some(index), options, progress)
        })?
        .map_err(|e| engine(e.into()))?;
        let scan = Scan::new(result, opts.scan, rows);
        let matches = matches(&scan)?;
        Ok((scan, matches))
    }
}

/// The duplicates of a scan against an index: every cluster member of the batch, with the
/// document its cluster keeps.
fn matches(scan: &Scan) -> PyResult<PyArrowType<Table>> {
    let r = scan.result();
    let docs = &r.docs;
    let (mut id, mut indexed, mut of) = (
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
    );
    let (mut row, mut similarity, mut exact) = (
        Int64Builder::new(),
        Float64Builder::new(),
        BooleanBuilder::new(),
    );
    for c in &r.clusters {
        let kept_indexed = c.kept < r.prior;
        for &(m, s) in &c.members {
            if m < r.prior {
                continue;
            }
            id.append_value(docs.id(m));
            row.append_option(scan.row(m));
            indexed.append_option(kept_indexed.then(|| docs.id(c.kept)));
            of.append_value(docs.id(c.kept));
            similarity.append_value(round4(s));
            exact.append_value(docs.content[m as usize] == docs.content[c.kept as usize]);
        }
    }
    table(vec![
        ("id", DataType::Utf8, false, Arc::new(id.finish())),
        ("row", DataType::Int64, true, Arc::new(row.finish())),
        (
            "indexed_id",
            DataType::Utf8,
            true,
            Arc::new(indexed.finish()),
        ),
        ("duplicate_of", DataType::Utf8, false, Arc::new(of.finish())),
        (
            "similarity",
            DataType::Float64,
            false,
            Arc::new(similarity.finish()),
        ),
        ("exact", DataType::Boolean, false, Arc::new(exact.finish())),
    ])
}
