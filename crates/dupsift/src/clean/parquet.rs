//! The mirror of a Parquet input: a Parquet file with the input's schema (every column, also
//! those a scan does not read), each column's codec, row groups of the input's size and its
//! key-value metadata, holding the rows that stay in input order. A row that is cut has only
//! its text value changed; with an annotation, the annotation columns are appended to the
//! schema.
//!
//! Rows the scan did not take as documents (null text, too large) stay as they are, like
//! malformed JSONL lines; a row group that cannot be read is reported by the scan, and what
//! could be read is written.
//!
//! An Arrow table in memory is cleaned the same way, batch by batch, into batches for the
//! caller or a Parquet file.
//!
//! This module writes one file; it must not decide what is removed or cut.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath as LeafPath;

use super::{CleanError, Records, apply_cuts, io_err};
use crate::corpus::parquet::{
    ColumnPath, Texts, bad_group_prefix, guarded, replace_values, unpacked, with_fields,
};
use crate::corpus::{Skipped, Source};
use crate::plan::{Annotate, CLUSTER_FIELD, CLUSTER_SIZE_FIELD, DUPLICATE_OF_FIELD};

/// Rows per batch while mirroring: whole rows of every column are held, so keep it modest.
const BATCH_ROWS: usize = 1024;

/// The key the Arrow writer stores its own schema under; it is written anew, not copied.
const ARROW_SCHEMA_KEY: &str = "ARROW:schema";

/// Writes the mirror of Parquet source `src` to `out_path`. `doc_at(row)` is the document of
/// a 1-based row, if the scan took it as one; `skipped` is the scan's list. Returns the bytes
/// of text written.
pub(super) fn write(
    src: &Source,
    doc_at: &dyn Fn(u64) -> Option<u32>,
    records: &Records,
    skipped: &[Skipped],
    out_path: &Path,
) -> Result<u64, CleanError> {
    // The row groups the scan reported it could not read (file-level skips of this source).
    let scan_lost = |group: usize| {
        skipped.iter().any(|k| {
            k.path == src.name && k.line.is_none() && k.reason.starts_with(&bad_group_prefix(group))
        })
    };
    let changed = || CleanError::Changed {
        path: src.name.clone(),
    };
    let file = File::open(&src.path).map_err(io_err(&src.path))?;
    let meta = guarded(|| {
        ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()).map_err(|e| e.to_string())
    })
    .map_err(|_| changed())?;
    let text = ColumnPath::find(meta.schema(), records.text_field).ok_or_else(changed)?;
    let extra = annotation_fields(records.annotations.as_ref().map(|a| a.mode()));
    refuse_annotated(src, meta.schema(), &extra, records)?;
    let schema = Arc::new(with_fields(meta.schema(), extra));
    let out = create_output(out_path)?;
    let props = properties(&meta);
    let write_err = writer_error(out_path);
    let mut writer = ArrowWriter::try_new(out, schema.clone(), Some(props)).map_err(write_err)?;
    let mut bytes_out = 0u64;
    let mut row = 1u64;
    for group in 0..meta.metadata().num_row_groups() {
        let group_rows = meta.metadata().row_group(group).num_rows().max(0) as u64;
        let next_group = row + group_rows;
        // The outer error is the input's (a damaged group), the inner one the cleanup's own.
        let read = guarded(|| {
            let input = file.try_clone().map_err(|e| e.to_string())?;
            let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(input, meta.clone())
                .with_row_groups(vec![group])
                .with_batch_size(BATCH_ROWS)
                .build()
                .map_err(|e| e.to_string())?;
            // Written as read, so that memory stays at one batch.
            for batch in reader {
                let batch = batch.map_err(|e| e.to_string())?;
                let n = batch.num_rows() as u64;
                let mirrored =
                    match mirror(&batch, row, &text, doc_at, records, &schema, &mut bytes_out) {
                        Ok(m) => m,
                        Err(_) => return Ok(Err(changed())),
                    };
                if let Err(e) = writer.write(&mirrored) {
                    return Ok(Err(write_err(e)));
                }
                row += n;
            }
            Ok(Ok(()))
        });
        match read {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            // A row group the scan could not read either is in its skipped list, with the
            // rows lost; one it read has changed since.
            Err(_) if scan_lost(group) => {}
            Err(_) => return Err(changed()),
        }
        row = next_group;
    }
    let out = writer.into_inner().map_err(write_err)?;
    out.sync_all().map_err(io_err(out_path))?;
    Ok(bytes_out)
}

/// The rows of an Arrow table in memory (source `src`) as a cleanup keeps them, a batch of
/// at most [`BATCH_ROWS`] rows at a time handed to `emit` with the schema written (the table's
/// with the annotation columns). Returns the schema and the bytes of text kept.
pub(super) fn mirror_table(
    src: &Source,
    doc_at: &dyn Fn(u64) -> Option<u32>,
    records: &Records,
    mut emit: impl FnMut(&Arc<Schema>, RecordBatch) -> Result<(), CleanError>,
) -> Result<(Arc<Schema>, u64), CleanError> {
    let changed = || CleanError::Changed {
        path: src.name.clone(),
    };
    let table = src.table.as_ref().ok_or_else(changed)?;
    let text = ColumnPath::find(table.schema(), records.text_field).ok_or_else(changed)?;
    let extra = annotation_fields(records.annotations.as_ref().map(|a| a.mode()));
    refuse_annotated(src, table.schema(), &extra, records)?;
    let schema = Arc::new(with_fields(table.schema(), extra));
    let mut bytes_out = 0u64;
    let mut row = 1u64;
    for batch in table.batches() {
        for first in (0..batch.num_rows()).step_by(BATCH_ROWS) {
            let slice = batch.slice(first, BATCH_ROWS.min(batch.num_rows() - first));
            let n = slice.num_rows() as u64;
            let kept = mirror(&slice, row, &text, doc_at, records, &schema, &mut bytes_out)
                .map_err(|_| changed())?;
            emit(&schema, kept)?;
            row += n;
        }
    }
    Ok((schema, bytes_out))
}

/// Writes the cleanup of an Arrow table in memory (source `src`) to `out_path` as Parquet,
/// with the writer's default settings. Returns the bytes of text written.
pub(super) fn write_table(
    src: &Source,
    doc_at: &dyn Fn(u64) -> Option<u32>,
    records: &Records,
    out_path: &Path,
) -> Result<u64, CleanError> {
    let out = create_output(out_path)?;
    let write_err = writer_error(out_path);
    let mut writer: Option<ArrowWriter<File>> = None;
    let mut out = Some(out);
    let (schema, bytes) = mirror_table(src, doc_at, records, |schema, batch| {
        if writer.is_none()
            && let Some(file) = out.take()
        {
            writer = Some(ArrowWriter::try_new(file, schema.clone(), None).map_err(write_err)?);
        }
        match writer.as_mut() {
            Some(w) => w.write(&batch).map_err(write_err),
            None => Ok(()),
        }
    })?;
    // A table without rows still gets its (empty) file, with its schema.
    let writer = match (writer, out) {
        (Some(w), _) => w,
        (None, Some(file)) => ArrowWriter::try_new(file, schema, None).map_err(write_err)?,
        (None, None) => return Err(io_err(out_path)(std::io::Error::other("no output file"))),
    };
    let file = writer.into_inner().map_err(write_err)?;
    file.sync_all().map_err(io_err(out_path))?;
    Ok(bytes)
}

/// Creates the file `out_path` (and its directories), which must not exist yet.
fn create_output(out_path: &Path) -> Result<File, CleanError> {
    if let Some(dir) = out_path.parent() {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(out_path)
        .map_err(io_err(out_path))
}

/// A Parquet writer's error as the cleanup's, naming the file written.
fn writer_error(
    out_path: &Path,
) -> impl Fn(parquet::errors::ParquetError) -> CleanError + Copy + '_ {
    move |e| io_err(out_path)(std::io::Error::other(e.to_string()))
}

/// Refuses to annotate a table that already has a column the annotation adds.
fn refuse_annotated(
    src: &Source,
    schema: &Schema,
    extra: &[Field],
    records: &Records,
) -> Result<(), CleanError> {
    if let Some(a) = &records.annotations
        && let Some(f) = extra
            .iter()
            .find(|f| schema.field_with_name(f.name()).is_ok())
    {
        return Err(CleanError::ColumnExists {
            path: src.name.clone(),
            field: annotation_name(f.name()),
            flag: a.mode().flag(),
        });
    }
    Ok(())
}

/// The batch of rows `first`.. as written: removed rows dropped, cuts applied to the text
/// column, annotation columns appended.
fn mirror(
    batch: &RecordBatch,
    first: u64,
    text: &ColumnPath,
    doc_at: &dyn Fn(u64) -> Option<u32>,
    records: &Records,
    schema: &Arc<Schema>,
    bytes_out: &mut u64,
) -> Result<RecordBatch, String> {
    let n = batch.num_rows();
    let docs: Vec<Option<u32>> = (0..n).map(|i| doc_at(first + i as u64)).collect();
    let keep: BooleanArray = docs
        .iter()
        .map(|d| Some(!d.is_some_and(|d| records.plan.removed.contains_key(&d))))
        .collect();
    let mut cut: Vec<(usize, Vec<u8>)> = Vec::new();
    let values = text
        .values(batch)
        .ok_or_else(|| "the text column is missing".to_owned())?;
    let plain = unpacked(values)?;
    let plain =
        Texts::new(plain.as_ref()).ok_or_else(|| "the text column is not text".to_owned())?;
    for (i, d) in docs.iter().enumerate() {
        let Some(d) = *d else { continue };
        if records.plan.removed.contains_key(&d) {
            continue;
        }
        let mut bytes = records.bytes[d as usize];
        if let Some(cuts) = records.plan.cuts.get(&d) {
            let Some(text) = plain.get(i) else {
                return Err("a row's text became null".to_owned());
            };
            cut.push((i, apply_cuts(text, cuts)));
            bytes -= cuts
                .iter()
                .map(|c| c.bytes.end - c.bytes.start)
                .sum::<u64>();
        }
        *bytes_out += bytes;
    }
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    if !cut.is_empty() {
        let top = batch
            .schema()
            .index_of(&text.names[0])
            .map_err(|e| e.to_string())?;
        columns[top] = replace_values(&columns[top], &text.names, &cut)?;
    }
    if let Some(a) = &records.annotations {
        let values: Vec<_> = docs.iter().map(|d| d.map(|d| a.values(d))).collect();
        let cluster: Int64Array = values
            .iter()
            .map(|v| v.and_then(|(c, _, _)| c.map(i64::from)))
            .collect();
        let size: Int64Array = values
            .iter()
            .map(|v| Some(v.map_or(1, |(_, s, _)| s as i64)))
            .collect();
        columns.push(Arc::new(cluster));
        columns.push(Arc::new(size));
        if a.mode() == Annotate::Only {
            let of: StringArray = values.iter().map(|v| v.and_then(|(_, _, o)| o)).collect();
            columns.push(Arc::new(of));
        }
    }
    let full = RecordBatch::try_new(schema.clone(), columns).map_err(|e| e.to_string())?;
    arrow_select::filter::filter_record_batch(&full, &keep).map_err(|e| e.to_string())
}

/// The columns an annotation appends (see [`Annotate::fields`]): the cluster and its size as
/// 64-bit integers (the cluster null for a row in none), the kept document's id as a string.
fn annotation_fields(mode: Option<Annotate>) -> Vec<Field> {
    let Some(mode) = mode.filter(|&m| m != Annotate::None) else {
        return Vec::new();
    };
    let mut fields = vec![
        Field::new(CLUSTER_FIELD, DataType::Int64, true),
        Field::new(CLUSTER_SIZE_FIELD, DataType::Int64, false),
    ];
    if mode == Annotate::Only {
        fields.push(Field::new(DUPLICATE_OF_FIELD, DataType::Utf8, true));
    }
    fields
}

fn annotation_name(name: &str) -> &'static str {
    [CLUSTER_FIELD, CLUSTER_SIZE_FIELD, DUPLICATE_OF_FIELD]
        .into_iter()
        .find(|f| *f == name)
        .unwrap_or(CLUSTER_FIELD)
}

/// Writer settings that reproduce the input's: each leaf column's codec (as the first row
/// group has it), the largest row group's row count, and the key-value metadata.
fn properties(meta: &ArrowReaderMetadata) -> WriterProperties {
    let md = meta.metadata();
    let mut b = WriterProperties::builder();
    if let Some(rg) = md.row_groups().first() {
        if let Some(c) = rg.columns().first() {
            b = b.set_compression(c.compression());
        }
        for c in rg.columns() {
            b = b.set_column_compression(
                LeafPath::new(c.column_path().parts().to_vec()),
                c.compression(),
            );
        }
    }
    let rows = md
        .row_groups()
        .iter()
        .map(|rg| rg.num_rows().max(0) as usize)
        .max()
        .unwrap_or(0);
    if rows > 0 {
        b = b.set_max_row_group_row_count(Some(rows));
    }
    let kv: Vec<KeyValue> = md
        .file_metadata()
        .key_value_metadata()
        .into_iter()
        .flatten()
        .filter(|kv| kv.key != ARROW_SCHEMA_KEY)
        .cloned()
        .collect();
    if !kv.is_empty() {
        b = b.set_key_value_metadata(Some(kv));
    }
    b.build()
}
