//! Per-partition work for runs that Apache Spark distributes (`dupsift worker`, built with the
//! `spark` feature): record batches come in as an Arrow IPC stream on one side and leave on the
//! other with what the shuffle needs, computed by the code of a single-node scan
//! ([`Signer`]), so that both paths find the same pairs.
//!
//! - [`sign`]: documents (a text column) → band keys, exact-duplicate hash, counts.
//! - [`verify`]: candidate pairs (`a_text`, `b_text`) → their exact similarity.
//! - [`components`]: the edge list a driver collected (`a`, `b`) → each document's component,
//!   with the union-find of a scan (run once, on the driver).
//! - [`report`]: the clusters' members and the run's totals → the JSON report of a scan
//!   (`--no-passages`), with the same order, rounding and previews (run once, on the driver).
//!
//! Spark has no unsigned integers, so hashes leave as `int64` holding the same 64 bits. Every
//! input row leaves as one output row, in order: a bad record (null text, a document over the
//! size limit) gets an `error` and no keys, never disappears. Every other input column passes
//! through unchanged, so the caller keeps its ids and document numbers.
//!
//! This module must not group or shuffle: that is Spark's job and the driver's.

use std::io::{Read, Write};
use std::sync::Arc;

use arrow_array::builder::{Int64Builder, ListBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{
    Array, ArrayRef, BinaryArray, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray,
};
use arrow_ipc::reader::StreamReader;
use arrow_ipc::writer::StreamWriter;
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use rayon::prelude::*;

use dupsift::Params;
use dupsift::cluster::UnionFind;
use dupsift::corpus::{Record, Skipped, decode_record};
use dupsift::report::{ClusterReport, Counts, Member, Report};
use dupsift::result::{PREVIEW_CHARS, preview};
use dupsift::scan::Signer;

/// Options of a worker run besides the detection parameters.
#[derive(Clone, Debug)]
pub struct Options {
    /// Column holding the document text for [`sign`] (`utf8`, `large_utf8`, `binary` or
    /// `large_binary`; binary text may hold invalid UTF-8).
    pub text_field: String,
    /// Documents larger than this get an error instead of keys, as a scan skips them.
    pub max_doc_bytes: u64,
    /// The input holds raw JSONL lines (a `line` column) to decode as a scan does.
    pub jsonl_lines: bool,
    /// The id field of JSONL records (with `jsonl_lines`).
    pub id_field: String,
}

/// Why a worker run stopped.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The input is not an Arrow IPC stream, or is damaged.
    #[error("reading the Arrow IPC stream on standard input")]
    Read(#[source] ArrowError),
    /// The output could not be written (e.g. the reader went away).
    #[error("writing the Arrow IPC stream to standard output")]
    Write(#[source] ArrowError),
    /// The input lacks a column the task needs, or has it with a type it cannot read.
    #[error("{0}")]
    Schema(String),
}

/// What a run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Rows read (and written).
    pub rows: u64,
    /// Rows whose output carries an error.
    pub errors: u64,
}

/// One text-like column, whatever its Arrow type.
enum Texts<'a> {
    Utf8(&'a arrow_array::StringArray),
    LargeUtf8(&'a arrow_array::LargeStringArray),
    Binary(&'a arrow_array::BinaryArray),
    LargeBinary(&'a arrow_array::LargeBinaryArray),
}

impl Texts<'_> {
    fn of<'a>(batch: &'a RecordBatch, name: &str) -> Result<Texts<'a>, WorkerError> {
        let col = batch
            .column_by_name(name)
            .ok_or_else(|| missing(batch.schema(), name))?;
        text_type(name, col.data_type())?;
        Ok(match col.data_type() {
            DataType::Utf8 => Texts::Utf8(col.as_string::<i32>()),
            DataType::LargeUtf8 => Texts::LargeUtf8(col.as_string::<i64>()),
            DataType::Binary => Texts::Binary(col.as_binary::<i32>()),
            _ => Texts::LargeBinary(col.as_binary::<i64>()),
        })
    }

    fn get(&self, i: usize) -> Option<&[u8]> {
        match self {
            Texts::Utf8(a) => a.is_valid(i).then(|| a.value(i).as_bytes()),
            Texts::LargeUtf8(a) => a.is_valid(i).then(|| a.value(i).as_bytes()),
            Texts::Binary(a) => a.is_valid(i).then(|| a.value(i)),
            Texts::LargeBinary(a) => a.is_valid(i).then(|| a.value(i)),
        }
    }
}

fn text_type(name: &str, t: &DataType) -> Result<(), WorkerError> {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Binary | DataType::LargeBinary => Ok(()),
        other => Err(WorkerError::Schema(format!(
            "column {name:?} is {other}; text must be utf8, large_utf8, binary or large_binary"
        ))),
    }
}

fn missing(schema: SchemaRef, name: &str) -> WorkerError {
    let have: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    WorkerError::Schema(format!(
        "no column {name:?} in the input (columns: {})",
        have.join(", ")
    ))
}

/// Runs `task` over every batch of `input`, writing one output batch per input batch: the
/// input's columns except `consumed`, then the columns `task` makes.
fn run(
    input: impl Read,
    output: impl Write,
    consumed: &[&str],
    made: Vec<Field>,
    task: impl Fn(&RecordBatch) -> Result<(Vec<ArrayRef>, u64), WorkerError>,
) -> Result<Stats, WorkerError> {
    let reader = StreamReader::try_new(input, None).map_err(WorkerError::Read)?;
    let in_schema = reader.schema();
    // Checked before anything is written, so that a refused input leaves standard output empty.
    for name in consumed {
        match in_schema.column_with_name(name) {
            None => return Err(missing(in_schema, name)),
            Some((_, f)) => text_type(name, f.data_type())?,
        }
    }
    let kept: Vec<usize> = (0..in_schema.fields().len())
        .filter(|&i| !consumed.contains(&in_schema.field(i).name().as_str()))
        .collect();
    let mut fields: Vec<Field> = kept.iter().map(|&i| in_schema.field(i).clone()).collect();
    fields.extend(made);
    let out_schema = Arc::new(Schema::new(fields));
    let mut writer = StreamWriter::try_new(output, &out_schema).map_err(WorkerError::Write)?;
    let mut stats = Stats::default();
    for batch in reader {
        let batch = batch.map_err(WorkerError::Read)?;
        let (made, errors) = task(&batch)?;
        let mut columns: Vec<ArrayRef> = kept.iter().map(|&i| batch.column(i).clone()).collect();
        columns.extend(made);
        let out = RecordBatch::try_new(out_schema.clone(), columns).map_err(WorkerError::Write)?;
        writer.write(&out).map_err(WorkerError::Write)?;
        stats.rows += batch.num_rows() as u64;
        stats.errors += errors;
    }
    writer.finish().map_err(WorkerError::Write)?;
    Ok(stats)
}

/// Signs every document: reads a stream with a text column (`opts.text_field`) and writes,
/// per row, the other input columns and `bytes`, `words`, `shingles` (int64), `content_hi`,
/// `content_lo` (int64: the two halves of the xxh3-128 content hash, equal for exact
/// duplicates), `keys` (list of `params.bands` int64 band keys; empty without shingles: such a
/// document takes no part in LSH), `lossy` (bool: the text had invalid UTF-8) and `error`
/// (utf8, null when the row is fine).
///
/// With `opts.jsonl_lines`, the input holds raw JSONL lines instead (a `line` column) and each
/// is decoded as a scan decodes the lines of a JSONL file (`--text-field`, `--id-field`; the
/// same reasons for the lines it skips); the output then also has `id` (utf8, null when the
/// record has none), `text` (binary: the decoded text) and `blank` (bool: a whitespace-only
/// line, which is no record and no error).
pub fn sign(
    input: impl Read,
    output: impl Write,
    params: &Params,
    opts: &Options,
) -> Result<Stats, WorkerError> {
    let mut made = Vec::new();
    if opts.jsonl_lines {
        made.extend([
            Field::new("id", DataType::Utf8, true),
            Field::new("text", DataType::Binary, true),
            Field::new("blank", DataType::Boolean, false),
        ]);
    }
    made.extend([
        Field::new("bytes", DataType::Int64, false),
        Field::new("words", DataType::Int64, false),
        Field::new("shingles", DataType::Int64, false),
        Field::new("content_hi", DataType::Int64, true),
        Field::new("content_lo", DataType::Int64, true),
        Field::new_list("keys", Field::new_list_field(DataType::Int64, true), false),
        Field::new("lossy", DataType::Boolean, false),
        Field::new("error", DataType::Utf8, true),
    ]);
    let field = if opts.jsonl_lines {
        "line"
    } else {
        opts.text_field.as_str()
    };
    run(input, output, &[field], made, |batch| {
        let texts = Texts::of(batch, field)?;
        let rows: Vec<Row> = (0..batch.num_rows())
            .into_par_iter()
            .map_init(
                || Signer::new(params),
                |signer, i| sign_row(signer, texts.get(i), field, opts),
            )
            .collect();
        let n = rows.len();
        let mut ids: Vec<Option<String>> = Vec::with_capacity(n);
        let mut decoded: Vec<Option<Vec<u8>>> = Vec::with_capacity(n);
        let mut blank = Vec::with_capacity(n);
        let (mut bytes, mut words, mut shingles) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let (mut hi, mut lo) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let mut keys = ListBuilder::new(Int64Builder::new());
        let (mut lossy, mut error) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let mut errors = 0;
        for row in rows {
            errors += u64::from(row.error.is_some());
            bytes.push(row.len as i64);
            let s = row.signed.as_ref();
            words.push(s.map_or(0, |s| i64::from(s.words)));
            shingles.push(s.map_or(0, |s| i64::from(s.shingles)));
            hi.push(s.map(|s| (s.content >> 64) as u64 as i64));
            lo.push(s.map(|s| s.content as u64 as i64));
            if let Some(s) = s {
                let k: Vec<i64> = s.keys.iter().map(|&k| k as i64).collect();
                keys.values().append_slice(&k);
            }
            keys.append(true);
            lossy.push(row.lossy);
            error.push(row.error);
            ids.push(row.id);
            decoded.push(row.text);
            blank.push(row.blank);
        }
        let mut columns: Vec<ArrayRef> = Vec::new();
        if opts.jsonl_lines {
            columns.push(Arc::new(StringArray::from(ids)));
            columns.push(Arc::new(BinaryArray::from(
                decoded.iter().map(|t| t.as_deref()).collect::<Vec<_>>(),
            )));
            columns.push(Arc::new(BooleanArray::from(blank)));
        }
        columns.extend([
            Arc::new(Int64Array::from(bytes)) as ArrayRef,
            Arc::new(Int64Array::from(words)),
            Arc::new(Int64Array::from(shingles)),
            Arc::new(Int64Array::from(hi)),
            Arc::new(Int64Array::from(lo)),
            Arc::new(keys.finish()),
            Arc::new(BooleanArray::from(lossy)),
            Arc::new(StringArray::from(error)),
        ]);
        Ok((columns, errors))
    })
}

/// What [`sign`] makes of one input row.
#[derive(Default)]
struct Row {
    len: usize,
    signed: Option<dupsift::scan::Signed>,
    lossy: bool,
    error: Option<String>,
    id: Option<String>,
    text: Option<Vec<u8>>,
    blank: bool,
}

fn sign_row(signer: &mut Signer, value: Option<&[u8]>, field: &str, opts: &Options) -> Row {
    let fail = |error: String| Row {
        error: Some(error),
        ..Row::default()
    };
    let Some(value) = value else {
        return fail(format!("{field:?} is null"));
    };
    if !opts.jsonl_lines {
        if value.len() as u64 > opts.max_doc_bytes {
            return fail(format!(
                "document of {} bytes is larger than --max-doc-bytes ({})",
                value.len(),
                opts.max_doc_bytes
            ));
        }
        return Row {
            len: value.len(),
            signed: Some(signer.sign(value)),
            lossy: std::str::from_utf8(value).is_err(),
            ..Row::default()
        };
    }
    if value.len() as u64 > opts.max_doc_bytes {
        // The words of a scan skipping an overlong JSONL line.
        return fail(format!(
            "line too long: {} bytes (limit {}; see --max-doc-bytes)",
            value.len(),
            opts.max_doc_bytes
        ));
    }
    match decode_record(value, &opts.text_field, &opts.id_field) {
        Record::Blank => Row {
            blank: true,
            ..Row::default()
        },
        Record::Skip(reason) => fail(reason),
        Record::Doc {
            id, text, lossy, ..
        } => Row {
            len: text.len(),
            signed: Some(signer.sign(&text)),
            lossy,
            id,
            text: Some(text),
            ..Row::default()
        },
    }
}

/// Verifies candidate pairs: reads a stream with `a_text` and `b_text` columns and writes, per
/// row, the other input columns, `similarity` (float64: the exact Jaccard similarity a scan's
/// verification computes; null on error) and `error` (utf8, null when the row is fine).
pub fn verify(
    input: impl Read,
    output: impl Write,
    params: &Params,
    opts: &Options,
) -> Result<Stats, WorkerError> {
    let made = vec![
        Field::new("similarity", DataType::Float64, true),
        Field::new("error", DataType::Utf8, true),
    ];
    run(input, output, &["a_text", "b_text"], made, |batch| {
        let (a, b) = (Texts::of(batch, "a_text")?, Texts::of(batch, "b_text")?);
        let rows: Vec<Result<f64, String>> = (0..batch.num_rows())
            .into_par_iter()
            .map_init(
                || Signer::new(params),
                |signer, i| match (a.get(i), b.get(i)) {
                    (Some(x), Some(y))
                        if x.len() as u64 <= opts.max_doc_bytes
                            && y.len() as u64 <= opts.max_doc_bytes =>
                    {
                        Ok(signer.similarity(x, y))
                    }
                    (Some(_), Some(_)) => Err(format!(
                        "a document is larger than --max-doc-bytes ({})",
                        opts.max_doc_bytes
                    )),
                    _ => Err("a_text or b_text is null".to_owned()),
                },
            )
            .collect();
        let errors = rows.iter().filter(|r| r.is_err()).count() as u64;
        let similarity: Float64Array = rows.iter().map(|r| r.as_ref().ok().copied()).collect();
        let error: StringArray = rows.iter().map(|r| r.as_ref().err().cloned()).collect();
        Ok((vec![Arc::new(similarity), Arc::new(error)], errors))
    })
}

/// Connected components of an edge list: reads a stream with int64 columns `a` and `b` (one
/// edge per row; document numbers, any other columns ignored) and writes `doc` and `component`
/// (int64: the smallest document number of its component) for every document in some edge,
/// ordered by document. Documents in no edge are alone and not listed.
pub fn components(input: impl Read, output: impl Write) -> Result<Stats, WorkerError> {
    let reader = StreamReader::try_new(input, None).map_err(WorkerError::Read)?;
    let schema = reader.schema();
    for name in ["a", "b"] {
        match schema.column_with_name(name) {
            None => return Err(missing(schema, name)),
            Some((_, f)) if f.data_type() != &DataType::Int64 => {
                return Err(WorkerError::Schema(format!(
                    "column {name:?} is {}; document numbers must be int64",
                    f.data_type()
                )));
            }
            Some(_) => {}
        }
    }
    let mut edges: Vec<(i64, i64)> = Vec::new();
    let mut errors = 0;
    for batch in reader {
        let batch = batch.map_err(WorkerError::Read)?;
        let a = batch
            .column_by_name("a")
            .expect("checked")
            .as_primitive::<Int64Type>();
        let b = batch
            .column_by_name("b")
            .expect("checked")
            .as_primitive::<Int64Type>();
        for i in 0..batch.num_rows() {
            if a.is_null(i) || b.is_null(i) {
                errors += 1;
                continue;
            }
            edges.push((a.value(i), b.value(i)));
        }
    }
    let mut docs: Vec<i64> = edges.iter().flat_map(|&(a, b)| [a, b]).collect();
    docs.par_sort_unstable();
    docs.dedup();
    let index = |d: i64| docs.binary_search(&d).expect("every end is listed") as u32;
    let mut uf = UnionFind::new(docs.len());
    for &(a, b) in &edges {
        uf.union(index(a), index(b));
    }
    let mut smallest = vec![i64::MAX; docs.len()];
    for (i, &d) in docs.iter().enumerate() {
        let root = uf.find(i as u32) as usize;
        smallest[root] = smallest[root].min(d);
    }
    let component: Vec<i64> = (0..docs.len())
        .map(|i| smallest[uf.find(i as u32) as usize])
        .collect();
    let out_schema = Arc::new(Schema::new(vec![
        Field::new("doc", DataType::Int64, false),
        Field::new("component", DataType::Int64, false),
    ]));
    let mut writer = StreamWriter::try_new(output, &out_schema).map_err(WorkerError::Write)?;
    for (d, c) in docs.chunks(65536).zip(component.chunks(65536)) {
        let batch = RecordBatch::try_new(
            out_schema.clone(),
            vec![
                Arc::new(Int64Array::from(d.to_vec())),
                Arc::new(Int64Array::from(c.to_vec())),
            ],
        )
        .map_err(WorkerError::Write)?;
        writer.write(&batch).map_err(WorkerError::Write)?;
    }
    writer.finish().map_err(WorkerError::Write)?;
    Ok(Stats {
        rows: edges.len() as u64 + errors,
        errors,
    })
}

/// What a driver counted over the whole run, for [`report`]: the summary figures that do not
/// come from the clusters, and the records that could not be used.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct Totals {
    /// Documents, bytes, invalid-UTF-8 and empty documents, candidate and verified pairs.
    #[serde(flatten)]
    pub counts: Counts,
    /// Records that could not be used (sorted here as a scan sorts them).
    pub skipped: Vec<Skipped>,
}

/// Writes the JSON report of a scan without passage search from the clusters a driver found:
/// reads a stream with one row per cluster member, with columns `cluster` (int64: shared by
/// the members of one cluster; clusters are reported in its order), `component` (int64: the
/// cluster's connected component, as a scan numbers them), `doc` (int64: input position), `id` (utf8), `bytes`
/// (int64: text size), `head` (binary or utf8: at least the first 576 bytes of the text, for
/// the preview), `kept` (bool: the document a cleanup keeps, one per cluster), `exact` (bool:
/// byte-identical to the kept document) and `similarity` (float64: to the kept document; null
/// for the kept one). Members are listed as a scan lists them.
pub fn report(
    input: impl Read,
    output: impl Write,
    params: &Params,
    totals: Totals,
) -> Result<Stats, WorkerError> {
    let reader = StreamReader::try_new(input, None).map_err(WorkerError::Read)?;
    let schema = reader.schema();
    let want = [
        ("cluster", DataType::Int64),
        ("component", DataType::Int64),
        ("doc", DataType::Int64),
        ("bytes", DataType::Int64),
        ("kept", DataType::Boolean),
        ("exact", DataType::Boolean),
        ("similarity", DataType::Float64),
        ("id", DataType::Utf8),
    ];
    for (name, t) in &want {
        match schema.column_with_name(name) {
            None => return Err(missing(schema, name)),
            Some((_, f)) if f.data_type() != t => {
                return Err(WorkerError::Schema(format!(
                    "column {name:?} is {}; it must be {t}",
                    f.data_type()
                )));
            }
            Some(_) => {}
        }
    }
    match schema.column_with_name("head") {
        None => return Err(missing(schema, "head")),
        Some((_, f)) => text_type("head", f.data_type())?,
    }
    struct Row {
        cluster: i64,
        component: i64,
        doc: i64,
        id: String,
        bytes: u64,
        kept: bool,
        exact: bool,
        similarity: Option<f64>,
        preview: String,
    }
    let mut rows = Vec::new();
    let mut errors = 0;
    for batch in reader {
        let batch = batch.map_err(WorkerError::Read)?;
        let int = |name| {
            batch
                .column_by_name(name)
                .expect("checked")
                .as_primitive::<Int64Type>()
        };
        let flag = |name| batch.column_by_name(name).expect("checked").as_boolean();
        let (cluster, doc, bytes) = (int("cluster"), int("doc"), int("bytes"));
        let component = int("component");
        let (kept, exact) = (flag("kept"), flag("exact"));
        let similarity = batch
            .column_by_name("similarity")
            .expect("checked")
            .as_primitive::<arrow_array::types::Float64Type>();
        let id = batch
            .column_by_name("id")
            .expect("checked")
            .as_string::<i32>();
        let head = Texts::of(&batch, "head")?;
        for i in 0..batch.num_rows() {
            if [
                cluster.is_null(i),
                component.is_null(i),
                doc.is_null(i),
                bytes.is_null(i),
                id.is_null(i),
            ]
            .into_iter()
            .chain([kept.is_null(i), exact.is_null(i)])
            .any(|n| n)
            {
                errors += 1;
                continue;
            }
            rows.push(Row {
                cluster: cluster.value(i),
                component: component.value(i),
                doc: doc.value(i),
                id: id.value(i).to_owned(),
                bytes: bytes.value(i).max(0) as u64,
                kept: kept.value(i),
                exact: exact.value(i),
                similarity: similarity.is_valid(i).then(|| similarity.value(i)),
                preview: preview(head.get(i).unwrap_or_default(), PREVIEW_CHARS),
            });
        }
    }
    if errors > 0 {
        return Err(WorkerError::Schema(format!(
            "{errors} member rows have a null cluster, component, doc, id, bytes, kept or exact"
        )));
    }
    rows.sort_unstable_by_key(|r| (r.cluster, r.doc));
    let groups: Vec<&[Row]> = rows.chunk_by(|x, y| x.cluster == y.cluster).collect();
    let mut clusters = Vec::with_capacity(groups.len());
    for (n, g) in groups.iter().enumerate() {
        let kept: Vec<&Row> = g.iter().filter(|r| r.kept).collect();
        let [k] = kept[..] else {
            return Err(WorkerError::Schema(format!(
                "cluster {} has {} kept documents; it must have one",
                g[0].cluster,
                kept.len()
            )));
        };
        let members = g
            .iter()
            .filter(|r| !r.kept)
            .map(|r| {
                let similarity = match (r.exact, r.similarity) {
                    (true, _) => 1.0,
                    (false, Some(s)) => s,
                    (false, None) => {
                        return Err(WorkerError::Schema(format!(
                            "member {:?} of cluster {} has no similarity",
                            r.id, g[0].cluster
                        )));
                    }
                };
                Ok(Member {
                    doc: r.id.clone(),
                    similarity: dupsift::result::round4(similarity),
                    exact: r.exact,
                    bytes: r.bytes,
                    preview: r.preview.clone(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if g.iter().any(|r| r.component != g[0].component) {
            return Err(WorkerError::Schema(format!(
                "cluster {} has members in more than one component",
                g[0].cluster
            )));
        }
        clusters.push(ClusterReport {
            id: n,
            component: g[0].component.max(0) as usize,
            kept: k.id.clone(),
            kept_bytes: k.bytes,
            kept_preview: k.preview.clone(),
            members,
        });
    }
    let mut skipped = totals.skipped;
    skipped.sort();
    let params = Params {
        passages: None,
        ..params.clone()
    };
    let report = Report::from_parts(params, clusters, totals.counts, skipped);
    let mut output = output;
    report
        .write_json(&mut output)
        .and_then(|()| output.flush())
        .map_err(|e| WorkerError::Write(ArrowError::IoError(e.to_string(), e)))?;
    Ok(Stats {
        rows: rows.len() as u64,
        errors: 0,
    })
}
