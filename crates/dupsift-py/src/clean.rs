//! `clean`: a scan followed by the cleanup it calls for. For a table in memory the cleaned
//! table and the manifest come back as Arrow tables; for paths the cleaned corpus is written
//! under `out` exactly as `dupsift clean` writes it (manifest.jsonl, report.json, placed
//! atomically).

use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::builder::{Float64Builder, Int64Builder, StringBuilder};
use arrow_pyarrow::{PyArrowType, Table};
use arrow_schema::DataType;
use dupsift::Progress;
use dupsift::clean::{self as cleanup, Cleanup};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::{Kind, engine, error};
use crate::options::{Params, clean_options, scan_options};
use crate::run::detached;
use crate::scan::{Input, Scan, input, run_scan, table};

/// What `clean` hands back: the scan, the cleaned table and the manifest (tables only), and
/// the cleanup's totals as JSON.
type Cleaned = (
    Scan,
    Option<PyArrowType<Table>>,
    Option<PyArrowType<Table>>,
    String,
);

/// Scans `paths` or `table` and cleans it with the parameters in `params` (see
/// `dupsift.clean`): a table comes back cleaned; paths are written under `out`.
#[pyfunction]
#[pyo3(signature = (paths, table, out, params))]
pub fn clean(
    py: Python<'_>,
    paths: Option<Vec<PathBuf>>,
    table: Option<&Bound<'_, PyAny>>,
    out: Option<PathBuf>,
    params: &Bound<'_, PyDict>,
) -> PyResult<Cleaned> {
    let p = Params::new(params);
    let opts = scan_options(&p)?;
    let inputs = paths.clone().unwrap_or_default();
    let options = clean_options(&p, &opts.scan, &inputs)?;
    p.finish()?;
    let threads = opts.threads;
    let input = input(paths, table, &opts.scan)?;
    match (&input, &out) {
        (Input::Paths(_), None) => {
            return Err(error(
                Kind::Parameter,
                "out: the directory to write the cleaned corpus to (paths are cleaned into a directory; a table is returned cleaned)",
            ));
        }
        (Input::Table(..), Some(_)) => {
            return Err(error(
                Kind::Parameter,
                "out is for paths: a table is returned cleaned, with its manifest",
            ));
        }
        (Input::Paths(_), Some(out)) => {
            cleanup::check_output(&inputs, out, options.force).map_err(|e| engine(e.into()))?;
        }
        (Input::Table(..), None) => {}
    }
    let scan = run_scan(py, input, opts)?;
    let result = scan.result();
    cleanup::check(result, &options).map_err(|e| engine(e.into()))?;
    let totals = |c: &Cleanup| serde_json::to_string(&c.totals).unwrap_or_default();
    match out {
        Some(out) => {
            let progress = Progress::default();
            let cleanup = detached(py, threads, &progress, |_| {
                cleanup::run(result, &out, &options)
            })?
            .map_err(|e| engine(e.into()))?;
            let totals = totals(&cleanup);
            Ok((scan, None, None, totals))
        }
        None => {
            let cleaned = cleanup::table(result, &options).map_err(|e| engine(e.into()))?;
            let manifest = manifest(&scan, &cleaned.cleanup)?;
            let totals = totals(&cleaned.cleanup);
            let t = Table::try_new(cleaned.batches, cleaned.schema)
                .map_err(|e| error(Kind::Engine, e.to_string()))?;
            Ok((scan, Some(PyArrowType(t)), Some(manifest), totals))
        }
    }
}

/// The manifest as a table, one row per removal or cut, as `manifest.jsonl` has them, with
/// each document's 0-based `row` beside its 1-based `line`.
fn manifest(scan: &Scan, cleanup: &Cleanup) -> PyResult<PyArrowType<Table>> {
    let result = scan.result();
    let (mut id, mut source, mut reason, mut of) = (
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
    );
    let (mut line, mut row, mut bytes) = (
        Int64Builder::new(),
        Int64Builder::new(),
        Int64Builder::new(),
    );
    let (mut passage, mut start, mut end) = (
        Int64Builder::new(),
        Int64Builder::new(),
        Int64Builder::new(),
    );
    let mut similarity = Float64Builder::new();
    let mut bad = None;
    cleanup::manifest(result, &cleanup.plan, |e| {
        id.append_value(e.id);
        source.append_value(e.source);
        line.append_option(e.line.map(|l| l as i64));
        row.append_option(
            e.line
                .filter(|_| scan.rows().is_some())
                .map(|l| l as i64 - 1),
        );
        match serde_json::to_value(e.reason) {
            Ok(serde_json::Value::String(s)) => reason.append_value(s),
            other => bad = Some(format!("{other:?}")),
        }
        of.append_value(e.duplicate_of);
        similarity.append_option(e.similarity);
        bytes.append_value(e.bytes as i64);
        passage.append_option(e.passage.map(|p| p as i64));
        start.append_option(e.start.map(|s| s as i64));
        end.append_option(e.end.map(|s| s as i64));
        Ok::<(), ()>(())
    })
    .ok();
    if let Some(bad) = bad {
        return Err(error(
            Kind::Engine,
            format!("a reason without a name: {bad}"),
        ));
    }
    table(vec![
        ("id", DataType::Utf8, false, Arc::new(id.finish())),
        ("source", DataType::Utf8, false, Arc::new(source.finish())),
        ("line", DataType::Int64, true, Arc::new(line.finish())),
        ("row", DataType::Int64, true, Arc::new(row.finish())),
        ("reason", DataType::Utf8, false, Arc::new(reason.finish())),
        ("duplicate_of", DataType::Utf8, false, Arc::new(of.finish())),
        (
            "similarity",
            DataType::Float64,
            true,
            Arc::new(similarity.finish()),
        ),
        ("bytes", DataType::Int64, false, Arc::new(bytes.finish())),
        ("passage", DataType::Int64, true, Arc::new(passage.finish())),
        ("start", DataType::Int64, true, Arc::new(start.finish())),
        ("end", DataType::Int64, true, Arc::new(end.finish())),
    ])
}
