//! Parquet sources: one document per row, read through the `parquet` crate's Arrow reader one
//! row group at a time, with only the text, id and rank columns decoded.
//!
//! A row's location is its 1-based row number in the file ([`DocLoc::line`], as a JSONL line)
//! and its row group ([`DocLoc::offset`]), so that reading documents back decodes only the row
//! groups, and within them only the rows, that are wanted.
//!
//! Invariants:
//! - Nothing here panics on a damaged or hostile file: reader errors, and panics of the
//!   reader itself, become reasons; rows read before the damage stay.
//! - Memory is bounded by one Arrow batch (about `batch_bytes` of text), as for JSONL.
//! - A row decodes to the same document on the first read and when read back: both go
//!   through [`Columns::rows`].
//!
//! This module must not normalise or tokenise text.

use std::cell::Cell;
use std::fs::File;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, RecordBatch, StructArray};
use arrow_buffer::NullBuffer;
use arrow_schema::{DataType, Field, Fields, Schema, TimeUnit};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder, RowSelection,
    RowSelector,
};

use super::jsonl::iso8601_seconds;
use super::{DocLoc, RawRecord, ReadOptions, RowFields, Source};

/// Rows per Arrow batch are chosen so that a batch holds about `batch_bytes` of text, within
/// these bounds.
const MIN_BATCH_ROWS: usize = 16;
const MAX_BATCH_ROWS: usize = 8192;

/// A column found by name: its path from the top of the schema (one name for a top-level
/// column, `meta.body` for a field of a struct) and its Arrow type.
#[derive(Clone, Debug)]
pub(crate) struct ColumnPath {
    /// Names from the top-level column down.
    pub names: Vec<String>,
    /// The column's type.
    pub data_type: DataType,
}

impl ColumnPath {
    /// Finds `name` in `schema`: a top-level column of that exact name first, else, for a
    /// dotted name, the field of a struct column (`meta.body`: field `body` of column `meta`).
    pub(crate) fn find(schema: &Schema, name: &str) -> Option<ColumnPath> {
        if let Ok(f) = schema.field_with_name(name) {
            return Some(ColumnPath {
                names: vec![name.to_owned()],
                data_type: f.data_type().clone(),
            });
        }
        let mut parts = name.split('.');
        let mut field: &Field = schema.field_with_name(parts.next()?).ok()?;
        let mut names = vec![field.name().clone()];
        for part in parts {
            let DataType::Struct(children) = field.data_type() else {
                return None;
            };
            field = children.iter().find(|c| c.name() == part)?;
            names.push(part.to_owned());
        }
        (names.len() > 1).then(|| ColumnPath {
            names,
            data_type: field.data_type().clone(),
        })
    }

    /// The dotted name, as the user gave it.
    pub(crate) fn dotted(&self) -> String {
        self.names.join(".")
    }

    /// The column's values in `batch` (which holds the column), with the nulls of the structs
    /// above it folded in, so that a null `meta` makes `meta.body` null.
    pub(crate) fn values(&self, batch: &RecordBatch) -> Option<ArrayRef> {
        let mut array = batch.column_by_name(&self.names[0])?.clone();
        for name in &self.names[1..] {
            let parent = array.as_struct_opt()?;
            let child = parent.column_by_name(name)?.clone();
            array = match parent.logical_nulls() {
                Some(nulls) if nulls.null_count() > 0 => {
                    let union = NullBuffer::union(child.logical_nulls().as_ref(), Some(&nulls));
                    let data = child.to_data().into_builder().nulls(union).build().ok()?;
                    arrow_array::make_array(data)
                }
                _ => child,
            };
        }
        Some(array)
    }
}

/// What a text column may hold: strings (plain, large, view or dictionary-encoded), or bytes.
fn text_type_ok(t: &DataType) -> bool {
    match t {
        DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View
        | DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView => true,
        DataType::Dictionary(_, value) => text_type_ok(value),
        _ => false,
    }
}

/// The values of a text column, downcast once per batch.
pub(crate) enum Texts<'a> {
    Utf8(&'a arrow_array::StringArray),
    LargeUtf8(&'a arrow_array::LargeStringArray),
    Utf8View(&'a arrow_array::StringViewArray),
    Binary(&'a arrow_array::BinaryArray),
    LargeBinary(&'a arrow_array::LargeBinaryArray),
    BinaryView(&'a arrow_array::BinaryViewArray),
}

impl<'a> Texts<'a> {
    pub(crate) fn new(array: &'a dyn Array) -> Option<Texts<'a>> {
        Some(match array.data_type() {
            DataType::Utf8 => Texts::Utf8(array.as_string_opt()?),
            DataType::LargeUtf8 => Texts::LargeUtf8(array.as_string_opt()?),
            DataType::Utf8View => Texts::Utf8View(array.as_string_view_opt()?),
            DataType::Binary => Texts::Binary(array.as_binary_opt()?),
            DataType::LargeBinary => Texts::LargeBinary(array.as_binary_opt()?),
            DataType::BinaryView => Texts::BinaryView(array.as_binary_view_opt()?),
            _ => return None,
        })
    }

    /// Row `i`'s bytes; `None` for a null.
    pub(crate) fn get(&self, i: usize) -> Option<&'a [u8]> {
        macro_rules! value {
            ($a:expr, $v:expr) => {
                if $a.is_null(i) { None } else { Some($v) }
            };
        }
        match self {
            Texts::Utf8(a) => value!(a, a.value(i).as_bytes()),
            Texts::LargeUtf8(a) => value!(a, a.value(i).as_bytes()),
            Texts::Utf8View(a) => value!(a, a.value(i).as_bytes()),
            Texts::Binary(a) => value!(a, a.value(i)),
            Texts::LargeBinary(a) => value!(a, a.value(i)),
            Texts::BinaryView(a) => value!(a, a.value(i)),
        }
    }
}

/// A dictionary-encoded column unpacked to its values' type (ids and texts are read by
/// value); other columns as they are. (A `take` of the values by the keys: arrow-cast would do
/// it too, but its kernels for every pair of types would triple the binary.)
pub(crate) fn unpacked(array: ArrayRef) -> Result<ArrayRef, String> {
    match array.as_any_dictionary_opt() {
        Some(dict) => arrow_select::take::take(dict.values().as_ref(), dict.keys(), None)
            .map_err(|e| e.to_string()),
        None => Ok(array),
    }
}

/// Row `i` of an id column as text: strings as they are, integers in decimal, floating-point
/// numbers as JSON writes them (as a JSONL id reads); `None` for a null or another type.
fn id_at(array: &dyn Array, i: usize) -> Option<String> {
    if array.is_null(i) {
        return None;
    }
    macro_rules! int {
        ($t:ty) => {
            Some(array.as_primitive::<$t>().value(i).to_string())
        };
    }
    match array.data_type() {
        DataType::Int8 => int!(Int8Type),
        DataType::Int16 => int!(Int16Type),
        DataType::Int32 => int!(Int32Type),
        DataType::Int64 => int!(Int64Type),
        DataType::UInt8 => int!(UInt8Type),
        DataType::UInt16 => int!(UInt16Type),
        DataType::UInt32 => int!(UInt32Type),
        DataType::UInt64 => int!(UInt64Type),
        DataType::Float32 => json_number(f64::from(array.as_primitive::<Float32Type>().value(i))),
        DataType::Float64 => json_number(array.as_primitive::<Float64Type>().value(i)),
        _ => Texts::new(array)
            .and_then(|t| t.get(i))
            .map(|b| String::from_utf8_lossy(b).into_owned()),
    }
}

fn json_number(v: f64) -> Option<String> {
    serde_json::Number::from_f64(v).map(|n| n.to_string())
}

/// Row `i` of a rank column as a number: numbers as they are, dates and times as seconds since
/// 1970 UTC (a timestamp without a time zone is taken as UTC, as a JSONL time without an
/// offset), strings read as ISO-8601 dates; `None` otherwise.
fn rank_at(array: &dyn Array, i: usize) -> Option<f64> {
    if array.is_null(i) {
        return None;
    }
    macro_rules! num {
        ($t:ty, $scale:expr) => {
            Some(array.as_primitive::<$t>().value(i) as f64 * $scale)
        };
    }
    match array.data_type() {
        DataType::Int8 => num!(Int8Type, 1.0),
        DataType::Int16 => num!(Int16Type, 1.0),
        DataType::Int32 => num!(Int32Type, 1.0),
        DataType::Int64 => num!(Int64Type, 1.0),
        DataType::UInt8 => num!(UInt8Type, 1.0),
        DataType::UInt16 => num!(UInt16Type, 1.0),
        DataType::UInt32 => num!(UInt32Type, 1.0),
        DataType::UInt64 => num!(UInt64Type, 1.0),
        DataType::Float32 => num!(Float32Type, 1.0),
        DataType::Float64 => num!(Float64Type, 1.0),
        DataType::Date32 => num!(Date32Type, 86_400.0),
        DataType::Date64 => num!(Date64Type, 1e-3),
        DataType::Timestamp(TimeUnit::Second, _) => num!(TimestampSecondType, 1.0),
        DataType::Timestamp(TimeUnit::Millisecond, _) => num!(TimestampMillisecondType, 1e-3),
        DataType::Timestamp(TimeUnit::Microsecond, _) => num!(TimestampMicrosecondType, 1e-6),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => num!(TimestampNanosecondType, 1e-9),
        _ => Texts::new(array)
            .and_then(|t| t.get(i))
            .and_then(|b| std::str::from_utf8(b).ok())
            .and_then(iso8601_seconds),
    }
    .filter(|v| v.is_finite())
}

/// The columns of one table (a Parquet file or an Arrow table in memory) that a read decodes,
/// found once per table.
pub(crate) struct Columns {
    pub text: ColumnPath,
    pub id: Option<ColumnPath>,
    pub rank: Option<ColumnPath>,
}

impl Columns {
    /// Finds the text, id and rank columns of `schema`, or says why the table cannot be read
    /// (no text column, or one of another type). A missing id column means `NAME:ROW` ids; a
    /// missing rank column ranks every row last.
    pub(crate) fn find(schema: &Schema, opts: &ReadOptions) -> Result<Self, String> {
        let text = ColumnPath::find(schema, &opts.text_field)
            .ok_or_else(|| format!("no {:?} column", opts.text_field))?;
        if !text_type_ok(&text.data_type) {
            return Err(format!(
                "column {:?} is {}, not a string",
                opts.text_field, text.data_type
            ));
        }
        let id = ColumnPath::find(schema, &opts.id_field);
        let rank = opts
            .rank_field
            .as_deref()
            .and_then(|f| ColumnPath::find(schema, f));
        Ok(Columns { text, id, rank })
    }

    /// The leaves of `meta`'s file that hold these columns: all a Parquet read decodes.
    fn projection(&self, meta: &ArrowReaderMetadata) -> ProjectionMask {
        let names: Vec<String> = [Some(&self.text), self.id.as_ref(), self.rank.as_ref()]
            .into_iter()
            .flatten()
            .map(ColumnPath::dotted)
            .collect();
        projection(meta, &names)
    }

    /// The documents of `batch` (rows `first_row`.. of the file, 1-based, in row group
    /// `group`): each a record, or the reason it is not a document (null text, too large).
    pub(crate) fn rows(
        &self,
        batch: &RecordBatch,
        source: u32,
        group: u64,
        first_row: u64,
        max: u64,
        mut f: impl FnMut(u64, Result<RawRecord, String>),
    ) -> Result<(), String> {
        let missing = || "a column vanished from a batch".to_owned();
        let text = unpacked(self.text.values(batch).ok_or_else(missing)?)?;
        let texts = Texts::new(text.as_ref()).ok_or_else(|| {
            format!(
                "column {:?} is {}, not a string",
                self.text.dotted(),
                text.data_type()
            )
        })?;
        let ids = match &self.id {
            Some(c) => Some(unpacked(c.values(batch).ok_or_else(missing)?)?),
            None => None,
        };
        let ranks = match &self.rank {
            Some(c) => Some(unpacked(c.values(batch).ok_or_else(missing)?)?),
            None => None,
        };
        for i in 0..batch.num_rows() {
            let row = first_row + i as u64;
            let rec = match texts.get(i) {
                None => Err(format!("{:?} is null", self.text.dotted())),
                Some(b) if b.len() as u64 > max => Err(format!(
                    "text too long: {} bytes (limit {max}; see --max-doc-bytes)",
                    b.len()
                )),
                Some(b) => Ok(RawRecord {
                    loc: DocLoc {
                        source,
                        line: row,
                        offset: group,
                    },
                    bytes: b.to_vec(),
                    row: Some(RowFields {
                        id: ids.as_ref().and_then(|a| id_at(a.as_ref(), i)),
                        rank: ranks.as_ref().and_then(|a| rank_at(a.as_ref(), i)),
                    }),
                }),
            };
            f(row, rec);
        }
        Ok(())
    }
}

/// The leaves under the named columns (top-level names by root, so that a column whose name
/// has a dot is still found whole).
fn projection(meta: &ArrowReaderMetadata, names: &[String]) -> ProjectionMask {
    let descr = meta.parquet_schema();
    let roots = descr.root_schema().get_fields();
    let mut leaves = Vec::new();
    for name in names {
        if let Some(root) = roots.iter().position(|f| f.name() == name) {
            leaves
                .extend((0..descr.num_columns()).filter(|&l| descr.get_column_root_idx(l) == root));
        } else {
            let parts: Vec<&str> = name.split('.').collect();
            leaves.extend((0..descr.num_columns()).filter(|&l| {
                let path = descr.column(l).path().parts().to_vec();
                path.len() >= parts.len() && parts.iter().zip(&path).all(|(a, b)| a == b)
            }));
        }
    }
    ProjectionMask::leaves(descr, leaves)
}

/// Runs `f`, turning a panic of the Parquet reader (a damaged file it did not foresee) into an
/// error, so that one bad file never ends the run.
pub(crate) fn guarded<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown failure".to_owned());
            Err(format!("the Parquet reader failed: {msg}"))
        }
    }
}

/// Opens a Parquet file and reads its footer.
pub(crate) fn open(src: &Source) -> Result<(File, ArrowReaderMetadata), OpenError> {
    let file = File::open(&src.path).map_err(OpenError::Io)?;
    let meta = guarded(|| {
        ArrowReaderMetadata::load(&file, ArrowReaderOptions::new())
            .map_err(|e| format!("not a readable Parquet file: {e}"))
    })
    .map_err(OpenError::Format)?;
    Ok((file, meta))
}

/// Whether `src` opens as a Parquet table with a text column named `text_field` (else a scan
/// skipped the whole file, and a cleanup copies it through).
pub(crate) fn has_text_column(src: &Source, text_field: &str) -> bool {
    open(src).is_ok_and(|(_, meta)| {
        ColumnPath::find(meta.schema(), text_field).is_some_and(|c| text_type_ok(&c.data_type))
    })
}

/// Why a Parquet file could not be opened.
pub(crate) enum OpenError {
    Io(std::io::Error),
    Format(String),
}

/// Rows per Arrow batch for row group `group`: about `batch_bytes` of text.
fn batch_rows(
    meta: &ArrowReaderMetadata,
    mask: &ProjectionMask,
    group: usize,
    batch_bytes: usize,
) -> usize {
    let rg = meta.metadata().row_group(group);
    let descr = meta.parquet_schema();
    let text_bytes: i64 = (0..descr.num_columns())
        .filter(|&l| mask.leaf_included(l))
        .map(|l| rg.column(l).uncompressed_size())
        .sum();
    let rows = rg.num_rows().max(1);
    let per_row = (text_bytes / rows).max(1) as usize;
    (batch_bytes / per_row).clamp(MIN_BATCH_ROWS, MAX_BATCH_ROWS)
}

/// What [`read_all`] finds, in file order.
pub(crate) enum Found {
    /// Row `.0` (1-based): a document, or the reason it is not one.
    Row(u64, Result<RawRecord, String>),
    /// A row group that could not be read, and why (its rows are not documents; reading goes
    /// on with the next group, as row groups are independent).
    BadGroup(String),
}

/// An open Parquet source: its file, footer, the columns a read decodes, and where each row
/// group starts.
pub(crate) struct Table {
    file: File,
    meta: ArrowReaderMetadata,
    cols: Columns,
    /// The leaves of `cols`.
    mask: ProjectionMask,
    /// The 1-based first row of each row group, and one past the last row.
    starts: Vec<u64>,
}

impl Table {
    /// Opens `src` and finds its columns; errors when the file cannot be opened or holds no
    /// usable text column.
    pub(crate) fn open(src: &Source, opts: &ReadOptions) -> Result<Table, FileProblem> {
        let (file, meta) = match open(src) {
            Ok(x) => x,
            Err(OpenError::Io(e)) => return Err(FileProblem::Io(e)),
            Err(OpenError::Format(r)) => return Err(FileProblem::Reason(r)),
        };
        let cols = Columns::find(meta.schema(), opts).map_err(FileProblem::Reason)?;
        let mask = cols.projection(&meta);
        let starts = group_starts(&meta);
        Ok(Table {
            file,
            meta,
            cols,
            mask,
            starts,
        })
    }

    /// The row group holding 1-based row `row`, if any.
    pub(crate) fn group_of(&self, row: u64) -> Option<usize> {
        let g = self.starts.partition_point(|&s| s <= row).checked_sub(1)?;
        (g + 1 < self.starts.len()).then_some(g)
    }
}

/// Reads every row of a Parquet source, handing `found` each document, each row that is not
/// one, and each row group that cannot be read, until `found` returns false. Adds each row
/// group's compressed size to `progress` (and `tally`). Errors when the file cannot be opened
/// or holds no usable text column.
pub(crate) fn read_all(
    index: u32,
    src: &Source,
    opts: &ReadOptions,
    progress: &AtomicU64,
    tally: &Cell<u64>,
    mut found: impl FnMut(Found) -> bool,
) -> Result<(), FileProblem> {
    let Table {
        file,
        meta,
        cols,
        mask,
        starts,
    } = Table::open(src, opts)?;
    for group in 0..meta.metadata().num_row_groups() {
        let (first, end) = (starts[group], starts[group + 1]);
        let mut at = first;
        let mut stop = false;
        let res = guarded(|| {
            let input = file.try_clone().map_err(|e| e.to_string())?;
            let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(input, meta.clone())
                .with_row_groups(vec![group])
                .with_projection(mask.clone())
                .with_batch_size(batch_rows(&meta, &mask, group, opts.batch_bytes))
                .build()
                .map_err(|e| e.to_string())?;
            for batch in reader {
                let batch = batch.map_err(|e| e.to_string())?;
                if at + batch.num_rows() as u64 > end {
                    return Err("more rows than the footer says".to_owned());
                }
                cols.rows(
                    &batch,
                    index,
                    group as u64,
                    at,
                    opts.max_doc_bytes,
                    |r, rec| {
                        stop = stop || !found(Found::Row(r, rec));
                    },
                )?;
                at += batch.num_rows() as u64;
                if stop {
                    break;
                }
            }
            if !stop && at != end {
                return Err(format!("{} rows read of {}", at - first, end - first));
            }
            Ok(())
        });
        if stop {
            return Ok(());
        }
        if let Err(reason) = res {
            let read = if at > first {
                format!("rows {first}-{} read, ", at - 1)
            } else {
                String::new()
            };
            let lost = format!("rows {at}-{} skipped", end - 1);
            let msg = format!("{}{read}{lost}): {reason}", bad_group_prefix(group));
            if !found(Found::BadGroup(msg)) {
                return Ok(());
            }
        }
        let size = meta.metadata().row_group(group).compressed_size().max(0) as u64;
        tally.set(tally.get().saturating_add(size));
        progress.fetch_add(size, Ordering::Relaxed);
    }
    Ok(())
}

/// How the reason for a row group that cannot be read starts (`group` 0-based; people count
/// from 1): a cleanup finds the groups the scan lost by it.
pub(crate) fn bad_group_prefix(group: usize) -> String {
    format!("corrupt Parquet data in row group {} (", group + 1)
}

/// Why a Parquet file could not be read (to the end).
pub(crate) enum FileProblem {
    Io(std::io::Error),
    Reason(String),
}

/// The 1-based first row of each row group, and one past the last row.
fn group_starts(meta: &ArrowReaderMetadata) -> Vec<u64> {
    let mut starts = Vec::with_capacity(meta.metadata().num_row_groups() + 1);
    let mut at = 1u64;
    starts.push(at);
    for rg in meta.metadata().row_groups() {
        at += rg.num_rows().max(0) as u64;
        starts.push(at);
    }
    starts
}

/// Reads back the rows `rows` (1-based, ascending, no repeats) of row group `group` of
/// `table` (source `source`), calling `f` with each row and its record (or the reason it is no
/// longer a document). The outer error is `f`'s; the inner one why the group could not be
/// read.
pub(crate) fn read_rows(
    table: &Table,
    source: u32,
    group: usize,
    rows: &[u64],
    opts: &ReadOptions,
    mut f: impl FnMut(u64, Result<RawRecord, String>) -> Result<(), super::CorpusError>,
) -> Result<Result<(), String>, super::CorpusError> {
    let Table {
        file,
        meta,
        cols,
        mask,
        starts,
    } = table;
    let start = starts[group];
    let mut selectors = Vec::new();
    let mut at = start;
    for &r in rows {
        if r > at {
            selectors.push(RowSelector::skip((r - at) as usize));
        }
        selectors.push(RowSelector::select(1));
        at = r + 1;
    }
    let end = starts[group + 1];
    if end > at {
        selectors.push(RowSelector::skip((end - at) as usize));
    }
    let mut pending = rows.iter().copied();
    let mut err = Ok(());
    let res = guarded(|| {
        let input = file.try_clone().map_err(|e| e.to_string())?;
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(input, meta.clone())
            .with_row_groups(vec![group])
            .with_projection(mask.clone())
            .with_row_selection(RowSelection::from(selectors))
            .with_batch_size(batch_rows(meta, mask, group, opts.batch_bytes))
            .build()
            .map_err(|e| e.to_string())?;
        for batch in reader {
            let batch = batch.map_err(|e| e.to_string())?;
            // The batch's rows are the selected ones, in order; `rows` numbers them.
            let mut k = 0usize;
            let mut numbered = Vec::with_capacity(batch.num_rows());
            for _ in 0..batch.num_rows() {
                numbered.push(pending.next());
            }
            cols.rows(
                &batch,
                source,
                group as u64,
                0,
                opts.max_doc_bytes,
                |_, rec| {
                    let row = numbered.get(k).copied().flatten();
                    k += 1;
                    if err.is_err() {
                        return;
                    }
                    let Some(row) = row else {
                        err = Err(super::CorpusError::InvalidLoc {
                            loc: DocLoc {
                                source,
                                line: 0,
                                offset: group as u64,
                            },
                            reason: "more rows read back than selected",
                        });
                        return;
                    };
                    let rec = rec.map(|mut r| {
                        r.loc.line = row;
                        r
                    });
                    err = f(row, rec);
                },
            )?;
            if err.is_err() {
                break;
            }
        }
        Ok(())
    });
    err?;
    if res.is_ok() && pending.next().is_some() {
        return Ok(Err("fewer rows read back than selected".to_owned()));
    }
    Ok(res)
}

/// The schema of a Parquet file's Arrow reading with `fields` appended (the annotation columns
/// of a cleanup).
pub(crate) fn with_fields(schema: &Schema, fields: Vec<Field>) -> Schema {
    let mut all: Vec<Arc<Field>> = schema.fields().iter().cloned().collect();
    all.extend(fields.into_iter().map(Arc::new));
    Schema::new_with_metadata(Fields::from(all), schema.metadata().clone())
}

/// Rebuilds `array` (the column at `path[depth..]` of a batch) with the rows of `values`
/// replaced, keeping its type (dictionary and view encodings included) and, for structs, every
/// other field.
pub(crate) fn replace_values(
    array: &ArrayRef,
    path: &[String],
    values: &[(usize, Vec<u8>)],
) -> Result<ArrayRef, String> {
    if path.len() > 1 {
        let s: &StructArray = array
            .as_struct_opt()
            .ok_or_else(|| "a struct column is no longer a struct".to_owned())?;
        let (fields, mut columns, nulls) = s.clone().into_parts();
        let i = fields
            .iter()
            .position(|f| f.name() == &path[1])
            .ok_or_else(|| "a struct field vanished".to_owned())?;
        columns[i] = replace_values(&columns[i], &path[1..], values)?;
        let rebuilt = StructArray::try_new(fields, columns, nulls).map_err(|e| e.to_string())?;
        return Ok(Arc::new(rebuilt));
    }
    let plain = unpacked(array.clone())?;
    let texts =
        Texts::new(plain.as_ref()).ok_or_else(|| "the text column changed type".to_owned())?;
    let mut replaced = values.iter().peekable();
    let mut next = |i: usize| match replaced.next_if(|(r, _)| *r == i) {
        Some((_, v)) => Some(v.as_slice()),
        None => texts.get(i),
    };
    let n = plain.len();
    // Built in the column's own type, so that the schema stays the input's.
    macro_rules! build {
        ($builder:ty, $value:expr) => {{
            let mut b = <$builder>::new();
            for i in 0..n {
                b.append_option(next(i).map($value));
            }
            Arc::new(b.finish()) as ArrayRef
        }};
    }
    let text = String::from_utf8_lossy;
    let bytes = |v: &[u8]| v.to_vec();
    let rebuilt = match plain.data_type() {
        DataType::Utf8 => build!(arrow_array::builder::StringBuilder, text),
        DataType::LargeUtf8 => build!(arrow_array::builder::LargeStringBuilder, text),
        DataType::Utf8View => build!(arrow_array::builder::StringViewBuilder, text),
        DataType::Binary => build!(arrow_array::builder::BinaryBuilder, bytes),
        DataType::LargeBinary => build!(arrow_array::builder::LargeBinaryBuilder, bytes),
        DataType::BinaryView => build!(arrow_array::builder::BinaryViewBuilder, bytes),
        other => return Err(format!("a text column of type {other}")),
    };
    match array.data_type() {
        DataType::Dictionary(key, _) => dictionary(key, rebuilt),
        _ => Ok(rebuilt),
    }
}

/// `values` as a dictionary-encoded array with keys of type `key`, one entry per value (a
/// cut text is its own value; the writer encodes the column again anyway).
fn dictionary(key: &DataType, values: ArrayRef) -> Result<ArrayRef, String> {
    use arrow_array::DictionaryArray;
    use arrow_array::types::ArrowDictionaryKeyType;
    fn keys<K: ArrowDictionaryKeyType>(values: ArrayRef) -> Result<ArrayRef, String> {
        let nulls = values.logical_nulls();
        let keys: arrow_array::PrimitiveArray<K> = (0..values.len())
            .map(|i| {
                let valid = nulls.as_ref().is_none_or(|n| n.is_valid(i));
                num_key::<K>(i).filter(|_| valid)
            })
            .collect();
        if keys.len() != values.len() {
            return Err("too many rows for the dictionary's key type".to_owned());
        }
        DictionaryArray::<K>::try_new(keys, values)
            .map(|d| Arc::new(d) as ArrayRef)
            .map_err(|e| e.to_string())
    }
    match key {
        DataType::Int8 => keys::<Int8Type>(values),
        DataType::Int16 => keys::<Int16Type>(values),
        DataType::Int32 => keys::<Int32Type>(values),
        DataType::Int64 => keys::<Int64Type>(values),
        DataType::UInt8 => keys::<UInt8Type>(values),
        DataType::UInt16 => keys::<UInt16Type>(values),
        DataType::UInt32 => keys::<UInt32Type>(values),
        DataType::UInt64 => keys::<UInt64Type>(values),
        other => Err(format!("a dictionary with keys of type {other}")),
    }
}

/// Key `i` in the key type `K`, if it fits.
fn num_key<K: arrow_array::types::ArrowDictionaryKeyType>(i: usize) -> Option<K::Native> {
    arrow_buffer::ArrowNativeType::from_usize(i)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
    use parquet::arrow::ArrowWriter;
    use parquet::basic::Compression;
    use parquet::file::properties::WriterProperties;
    use proptest::prelude::*;
    use tempfile::TempDir;

    use super::super::testutil::{discover, read_all, write};
    use super::super::{CorpusError, DocLoc, ReadOptions};

    /// A Parquet file of `n` rows (`id` i, `text` "row i ..."), in row groups of `group` rows.
    fn table(n: usize, group: usize, codec: Compression) -> Vec<u8> {
        let text: ArrayRef = Arc::new(StringArray::from_iter_values(
            (0..n).map(|i| format!("row {i} {}", "word ".repeat(i % 17))),
        ));
        let id: ArrayRef = Arc::new(Int64Array::from_iter_values(0..n as i64));
        let batch = RecordBatch::try_from_iter([("id", id), ("text", text)]).expect("batch");
        let props = WriterProperties::builder()
            .set_compression(codec)
            .set_max_row_group_row_count(Some(group))
            .build();
        let mut out = Vec::new();
        let mut w = ArrowWriter::try_new(&mut out, batch.schema(), Some(props)).expect("writer");
        w.write(&batch).expect("write");
        w.close().expect("close");
        out
    }

    #[test]
    fn rows_read_back_are_the_rows_read_first() {
        let t = TempDir::new().expect("tempdir");
        write(t.path(), "a.parquet", &table(500, 37, Compression::SNAPPY));
        let opts = ReadOptions {
            batch_bytes: 2048,
            ..ReadOptions::default()
        };
        let c = discover(t.path(), &["."], &opts);
        let r = read_all(&c, &opts);
        assert_eq!(r.docs.len(), 500);
        assert!(r.skipped.is_empty(), "{:?}", r.skipped);
        for (i, d) in r.docs.iter().enumerate() {
            assert_eq!(d.id, i.to_string());
            assert_eq!(d.loc.line, i as u64 + 1);
            assert_eq!(d.loc.offset, (i / 37) as u64, "row group of row {}", i + 1);
        }
        // A sparse selection across groups, with a repeat, and everything.
        let pick = [0usize, 1, 36, 37, 38, 38, 200, 499];
        let locs: Vec<DocLoc> = pick.iter().map(|&i| r.docs[i].loc).collect();
        let mut back = Vec::new();
        c.reread(&locs, &opts, |i, d| back.push((i, d.id, d.text)))
            .expect("reread");
        let want: Vec<_> = pick
            .iter()
            .enumerate()
            .map(|(k, &i)| (k, r.docs[i].id.clone(), r.docs[i].text.clone()))
            .collect();
        assert_eq!(back, want);
        let all: Vec<DocLoc> = r.docs.iter().map(|d| d.loc).collect();
        let mut n = 0;
        c.reread(&all, &opts, |i, d| {
            assert_eq!(d.text, r.docs[i].text);
            n += 1;
        })
        .expect("reread");
        assert_eq!(n, 500);
    }

    #[test]
    fn a_table_that_changed_is_reported_when_read_back() {
        let t = TempDir::new().expect("tempdir");
        write(t.path(), "a.parquet", &table(100, 10, Compression::SNAPPY));
        let opts = ReadOptions::default();
        let c = discover(t.path(), &["."], &opts);
        let r = read_all(&c, &opts);
        let last = r.docs[99].loc;
        // Fewer rows now: the last one is gone.
        write(t.path(), "a.parquet", &table(50, 10, Compression::SNAPPY));
        let err = c.reread(&[last], &opts, |_, _| {}).expect_err("changed");
        assert!(
            matches!(&err, CorpusError::Changed { path, line: 100, row: true } if path == "a.parquet"),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            "a.parquet changed while being processed: row 100 could not be read back identically"
        );
        // Other row groups: the row is elsewhere.
        write(t.path(), "a.parquet", &table(100, 25, Compression::SNAPPY));
        let err = c.reread(&[r.docs[12].loc], &opts, |_, _| {});
        assert!(matches!(err, Err(CorpusError::Changed { .. })), "{err:?}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// A damaged table (cut short, or bytes overwritten anywhere, the footer included) is
        /// read as far as it can be, or skipped with a reason; reading back what was read
        /// first never panics either.
        #[test]
        fn damaged_tables_never_panic(
            cut in 0usize..4000,
            at in 0usize..4000,
            junk in proptest::collection::vec(any::<u8>(), 1..24),
            codec in 0usize..3,
        ) {
            let codec = [Compression::UNCOMPRESSED, Compression::SNAPPY, Compression::LZ4_RAW][codec];
            let mut bytes = table(120, 16, codec);
            let len = bytes.len();
            let at = at % len;
            let end = (at + junk.len()).min(len);
            bytes[at..end].copy_from_slice(&junk[..end - at]);
            if cut % 3 == 0 {
                bytes.truncate(cut % len);
            }
            let t = TempDir::new().expect("tempdir");
            write(t.path(), "a.parquet", &bytes);
            let opts = ReadOptions::default();
            let c = discover(t.path(), &["."], &opts);
            let r = read_all(&c, &opts);
            prop_assert!(r.docs.len() <= 120);
            prop_assert!(r.docs.len() == 120 || !r.skipped.is_empty());
            let locs: Vec<DocLoc> = r.docs.iter().map(|d| d.loc).collect();
            let _ = c.reread(&locs, &opts, |_, _| {});
        }
    }
}
