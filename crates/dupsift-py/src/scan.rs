//! `scan`: one engine scan of paths or of an Arrow table, and its result as Python sees it
//! ([`Scan`]): the report's summary and JSON, and the findings as Arrow tables whose rows name
//! the input rows they come from.

use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Float64Builder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_pyarrow::{PyArrowType, Table};
use arrow_schema::{DataType, Field, Schema};
use dupsift::corpus::{ArrowTable, Corpus, Format, MissingIds, Skipped};
use dupsift::plan::{StripPassages, plan};
use dupsift::report::Report;
use dupsift::result::round4;
use dupsift::{Progress, ScanOptions, ScanResult};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};

use crate::errors::{Kind, engine, error};
use crate::options::{Options, Params, scan_options};
use crate::run::detached;

/// The name of a table handed over in memory: in skipped entries, as `<stdin>` is for
/// standard input.
pub const TABLE_NAME: &str = "<table>";

/// A finished scan: the engine's result and the options it ran with.
#[pyclass(module = "dupsift._dupsift", frozen)]
pub struct Scan {
    result: ScanResult,
    options: ScanOptions,
    /// Rows of the input table (`None` for paths): the length of `keep_mask`.
    table_rows: Option<u64>,
}

/// What a call reads.
pub enum Input {
    /// Paths: everything the CLI reads.
    Paths(Vec<PathBuf>),
    /// A table in memory, and its number of rows.
    Table(Corpus, u64),
}

impl Input {
    /// Rows of a table.
    pub fn rows(&self) -> Option<u64> {
        match self {
            Input::Paths(_) => None,
            Input::Table(_, rows) => Some(*rows),
        }
    }
}

/// The input of a call: paths, or an object exposing the Arrow C stream interface (read now,
/// with the GIL held, as its producer may need it; its buffers are shared, not copied).
pub fn input(
    paths: Option<Vec<PathBuf>>,
    table: Option<&Bound<'_, PyAny>>,
    options: &ScanOptions,
) -> PyResult<Input> {
    match (paths, table) {
        (Some(paths), None) => {
            dupsift::corpus::require_inputs(&paths)
                .map_err(|e| error(Kind::Input, e.to_string()))?;
            Ok(Input::Paths(paths))
        }
        (None, Some(table)) => {
            let PyArrowType(t) = table.extract::<PyArrowType<Table>>().map_err(|e| {
                error(
                    Kind::Parameter,
                    format!("not an Arrow table or stream: {e}"),
                )
            })?;
            let (batches, schema) = t.into_inner();
            let t = ArrowTable::new(schema, batches)
                .map_err(|e| error(Kind::Parameter, e.to_string()))?
                .with_missing_ids(MissingIds::RowIndex);
            if let Some(problem) = t.text_column_problem(&options.read) {
                return Err(error(
                    Kind::Column,
                    format!("{problem} (text={:?})", options.read.text_field),
                ));
            }
            let rows = t.num_rows();
            Ok(Input::Table(Corpus::from_arrow(TABLE_NAME, t), rows))
        }
        _ => Err(error(
            Kind::Parameter,
            "give either paths or a table".to_owned(),
        )),
    }
}

/// Scans `paths` or `table` with the parameters in `params` (see `dupsift.scan`).
#[pyfunction]
#[pyo3(signature = (paths, table, params))]
pub fn scan(
    py: Python<'_>,
    paths: Option<Vec<PathBuf>>,
    table: Option<&Bound<'_, PyAny>>,
    params: &Bound<'_, PyDict>,
) -> PyResult<Scan> {
    let p = Params::new(params);
    let opts = scan_options(&p)?;
    p.finish()?;
    let input = input(paths, table, &opts.scan)?;
    run_scan(py, input, opts)
}

/// Runs the scan of `input` with `opts`, the GIL released.
pub fn run_scan(py: Python<'_>, input: Input, opts: Options) -> PyResult<Scan> {
    let progress = Progress::default();
    let options = &opts.scan;
    let table_rows = input.rows();
    let result = detached(py, opts.threads, &progress, move |progress| match input {
        Input::Table(corpus, _) => dupsift::scan::scan_corpus(corpus, None, options, progress),
        Input::Paths(paths) => dupsift::scan::scan(&paths, options, progress),
    })?
    .map_err(|e| engine(e.into()))?;
    Ok(Scan::new(result, opts.scan, table_rows))
}

/// `skipped` as Python sees it: dicts of path, line (1-based, for a line or row), row
/// (0-based, for a row of a table in memory) and reason.
pub fn skipped_list<'py>(
    py: Python<'py>,
    skipped: &[Skipped],
    table: bool,
) -> PyResult<Bound<'py, PyList>> {
    let out = PyList::empty(py);
    for k in skipped {
        let d = PyDict::new(py);
        d.set_item("path", &k.path)?;
        d.set_item("line", k.line)?;
        d.set_item("row", k.line.filter(|_| table).map(|l| l - 1))?;
        d.set_item("reason", &k.reason)?;
        out.append(d)?;
    }
    Ok(out)
}

/// A table of `columns` (name, type, nullable) and their arrays, as a `pyarrow.Table`.
pub fn table(columns: Vec<(&str, DataType, bool, ArrayRef)>) -> PyResult<PyArrowType<Table>> {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(n, t, null, _)| Field::new(*n, t.clone(), *null))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let arrays = columns.into_iter().map(|c| c.3).collect();
    let batch = RecordBatch::try_new(schema.clone(), arrays)
        .map_err(|e| error(Kind::Engine, e.to_string()))?;
    let t = Table::try_new(vec![batch], schema).map_err(|e| error(Kind::Engine, e.to_string()))?;
    Ok(PyArrowType(t))
}

impl Scan {
    /// The result of a scan of `options`; `table_rows` for a table source.
    pub fn new(result: ScanResult, options: ScanOptions, table_rows: Option<u64>) -> Scan {
        Scan {
            result,
            options,
            table_rows,
        }
    }

    /// The engine's result.
    pub fn result(&self) -> &ScanResult {
        &self.result
    }

    /// Rows of the input table (`None` for paths).
    pub fn rows(&self) -> Option<u64> {
        self.table_rows
    }

    /// The 0-based input row of document `d`, for a table source.
    pub fn row(&self, d: u32) -> Option<i64> {
        let loc = self.result.docs.locs[d as usize];
        let src = self.result.corpus.sources.get(loc.source as usize)?;
        (src.format == Format::Arrow).then(|| loc.line as i64 - 1)
    }

    /// The document named `key`: an id, or for a table source a 0-based row (an int).
    fn find(&self, key: &Bound<'_, PyAny>) -> PyResult<u32> {
        let docs = &self.result.docs;
        let n = docs.len() as u32;
        let found = if let Ok(id) = key.extract::<String>() {
            (0..n).find(|&d| docs.id(d) == id)
        } else if let Ok(row) = key.extract::<i64>() {
            (0..n).find(|&d| self.row(d) == Some(row))
        } else {
            return Err(error(
                Kind::Parameter,
                "a document is named by its id (str) or its row (int)",
            ));
        };
        found.ok_or_else(|| {
            let shown = key.repr().map(|r| r.to_string()).unwrap_or_default();
            pyo3::exceptions::PyKeyError::new_err(format!("no document {shown} in this scan"))
        })
    }
}

#[pymethods]
impl Scan {
    /// The report's summary, as JSON.
    fn summary_json(&self) -> PyResult<String> {
        let report = Report::new(&self.result);
        serde_json::to_string(&report.summary).map_err(|e| error(Kind::Engine, e.to_string()))
    }

    /// The JSON report `dupsift scan --format json` writes for the same inputs and
    /// parameters.
    fn to_json(&self) -> PyResult<String> {
        let mut out = Vec::new();
        Report::new(&self.result)
            .write_json(&mut out)
            .map_err(|e| error(Kind::Engine, e.to_string()))?;
        String::from_utf8(out).map_err(|e| error(Kind::Engine, e.to_string()))
    }

    /// One row per cluster member, the kept document first: cluster, component, id, row,
    /// kept, similarity (null for the kept document), exact.
    fn clusters(&self) -> PyResult<PyArrowType<Table>> {
        let r = &self.result;
        let docs = &r.docs;
        let (mut cluster, mut component) = (Int64Builder::new(), Int64Builder::new());
        let (mut id, mut row) = (StringBuilder::new(), Int64Builder::new());
        let (mut kept, mut exact) = (BooleanBuilder::new(), BooleanBuilder::new());
        let mut similarity = Float64Builder::new();
        for (i, c) in r.clusters.iter().enumerate() {
            let members =
                std::iter::once((c.kept, None)).chain(c.members.iter().map(|&(m, s)| (m, Some(s))));
            for (d, s) in members {
                cluster.append_value(i as i64);
                component.append_value(i64::from(c.component));
                id.append_value(docs.id(d));
                row.append_option(self.row(d));
                kept.append_value(s.is_none());
                similarity.append_option(s.map(round4));
                exact.append_value(
                    s.is_some() && docs.content[d as usize] == docs.content[c.kept as usize],
                );
            }
        }
        table(vec![
            (
                "cluster",
                DataType::Int64,
                false,
                Arc::new(cluster.finish()),
            ),
            (
                "component",
                DataType::Int64,
                false,
                Arc::new(component.finish()),
            ),
            ("id", DataType::Utf8, false, Arc::new(id.finish())),
            ("row", DataType::Int64, true, Arc::new(row.finish())),
            ("kept", DataType::Boolean, false, Arc::new(kept.finish())),
            (
                "similarity",
                DataType::Float64,
                true,
                Arc::new(similarity.finish()),
            ),
            ("exact", DataType::Boolean, false, Arc::new(exact.finish())),
        ])
    }

    /// One row per occurrence of a repeated passage: passage, id, row, start, end (bytes of
    /// the document's UTF-8 text), line_start, line_end, words (the passage's length).
    fn passages(&self) -> PyResult<PyArrowType<Table>> {
        let r = &self.result;
        let (mut passage, mut id, mut row) = (
            Int64Builder::new(),
            StringBuilder::new(),
            Int64Builder::new(),
        );
        let (mut start, mut end) = (Int64Builder::new(), Int64Builder::new());
        let (mut line_start, mut line_end) = (Int64Builder::new(), Int64Builder::new());
        let mut words = Int64Builder::new();
        for (i, p) in r.passages.iter().enumerate() {
            for o in &p.occurrences {
                passage.append_value(i as i64);
                id.append_value(r.docs.id(o.doc));
                row.append_option(self.row(o.doc));
                start.append_value(o.start as i64);
                end.append_value(o.end as i64);
                line_start.append_value(o.line_start as i64);
                line_end.append_value(o.line_end as i64);
                words.append_value(p.words as i64);
            }
        }
        let int = |name, b: &mut Int64Builder| {
            (
                name,
                DataType::Int64,
                false,
                Arc::new(b.finish()) as ArrayRef,
            )
        };
        table(vec![
            int("passage", &mut passage),
            ("id", DataType::Utf8, false, Arc::new(id.finish())),
            ("row", DataType::Int64, true, Arc::new(row.finish())),
            int("start", &mut start),
            int("end", &mut end),
            int("line_start", &mut line_start),
            int("line_end", &mut line_end),
            int("words", &mut words),
        ])
    }

    /// One row per document, in reading order: id, row, source, line (1-based JSONL line or
    /// Parquet row; null for a whole file), bytes.
    fn documents(&self) -> PyResult<PyArrowType<Table>> {
        let r = &self.result;
        let (mut id, mut row, mut source) = (
            StringBuilder::new(),
            Int64Builder::new(),
            StringBuilder::new(),
        );
        let (mut line, mut bytes) = (Int64Builder::new(), Int64Builder::new());
        for d in 0..r.docs.len() as u32 {
            let loc = r.docs.locs[d as usize];
            id.append_value(r.docs.id(d));
            row.append_option(self.row(d));
            let name = r
                .corpus
                .sources
                .get(loc.source as usize)
                .map(|s| s.name.as_str());
            source.append_option(name);
            line.append_option((loc.line > 0).then_some(loc.line as i64));
            bytes.append_value(r.docs.bytes[d as usize] as i64);
        }
        table(vec![
            ("id", DataType::Utf8, false, Arc::new(id.finish())),
            ("row", DataType::Int64, true, Arc::new(row.finish())),
            ("source", DataType::Utf8, true, Arc::new(source.finish())),
            ("line", DataType::Int64, true, Arc::new(line.finish())),
            ("bytes", DataType::Int64, false, Arc::new(bytes.finish())),
        ])
    }

    /// What a cleanup keeps, one byte (0 or 1) per input row of a table (rows that are not
    /// documents, such as null texts, are kept), or per document in reading order for paths.
    fn keep_mask<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let r = &self.result;
        let removed = plan(r, StripPassages::None).removed;
        let mask = match self.table_rows {
            Some(rows) => {
                let mut mask = vec![1u8; rows as usize];
                for &d in removed.keys() {
                    if let Some(row) = self.row(d) {
                        mask[row as usize] = 0;
                    }
                }
                mask
            }
            None => (0..r.docs.len() as u32)
                .map(|d| u8::from(!removed.contains_key(&d)))
                .collect(),
        };
        PyBytes::new(py, &mask)
    }

    /// The inputs (files, lines, rows) that were not documents, and why: dicts of path, line
    /// (1-based, for a line or row), row (0-based, for a table's row) and reason.
    fn skipped<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        skipped_list(py, &self.result.skipped, self.table_rows.is_some())
    }

    /// Why document `key` (an id, or a table's 0-based row) is kept or removed: its cluster,
    /// the document kept there and its similarity to it, and the repeated passages it holds.
    fn explain<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let d = self.find(key)?;
        let r = &self.result;
        let docs = &r.docs;
        let out = PyDict::new(py);
        out.set_item("id", docs.id(d))?;
        out.set_item("row", self.row(d))?;
        out.set_item("bytes", docs.bytes[d as usize])?;
        let found = r.clusters.iter().enumerate().find_map(|(i, c)| {
            if c.kept == d {
                Some((i, c, None))
            } else {
                c.members
                    .iter()
                    .find(|m| m.0 == d)
                    .map(|m| (i, c, Some(m.1)))
            }
        });
        match found {
            Some((i, c, sim)) => {
                out.set_item("cluster", i)?;
                out.set_item("component", c.component)?;
                out.set_item("cluster_size", c.members.len() + 1)?;
                out.set_item("kept", docs.id(c.kept))?;
                out.set_item("kept_row", self.row(c.kept))?;
                out.set_item("removed", sim.is_some())?;
                out.set_item("similarity", sim.map(round4))?;
                out.set_item(
                    "exact",
                    sim.is_some() && docs.content[d as usize] == docs.content[c.kept as usize],
                )?;
            }
            None => {
                for k in ["cluster", "component", "kept", "kept_row", "similarity"] {
                    out.set_item(k, py.None())?;
                }
                out.set_item("cluster_size", 1)?;
                out.set_item("removed", false)?;
                out.set_item("exact", false)?;
            }
        }
        let passages = PyList::empty(py);
        for (i, p) in r.passages.iter().enumerate() {
            let here = p.occurrences.iter().filter(|o| o.doc == d).count();
            for o in p.occurrences.iter().filter(|o| o.doc == d) {
                let e = PyDict::new(py);
                e.set_item("passage", i)?;
                e.set_item("start", o.start)?;
                e.set_item("end", o.end)?;
                e.set_item("line_start", o.line_start)?;
                e.set_item("line_end", o.line_end)?;
                e.set_item("words", p.words)?;
                e.set_item("occurrences", p.occurrences.len())?;
                e.set_item("in_this_document", here)?;
                passages.append(e)?;
            }
        }
        out.set_item("passages", passages)?;
        let cut = r
            .self_repeating
            .iter()
            .find(|(x, _)| *x == d)
            .map_or(0, |(_, c)| *c);
        out.set_item("self_repeat_bytes", cut)?;
        Ok(out)
    }

    /// Rows of the input table (`None` for paths).
    #[getter]
    fn table_rows(&self) -> Option<u64> {
        self.table_rows
    }

    /// The parameters the scan ran with, as the JSON report's `params`.
    fn params_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.options.params).map_err(|e| error(Kind::Engine, e.to_string()))
    }
}
