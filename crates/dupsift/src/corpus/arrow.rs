//! Arrow tables in memory, handed to the engine by a caller (the Python binding passes a
//! pyarrow table, a Dataset's table or a polars frame without copying it): one document per
//! row, read through the same columns as a Parquet file ([`parquet::Columns`]), so that a table
//! and the same table written as Parquet give the same documents.
//!
//! A row's location is its 1-based row number in the table ([`DocLoc::line`], as for Parquet)
//! and the index of the batch holding it ([`DocLoc::offset`]), so reading it back is a slice of
//! that batch.
//!
//! Invariants:
//! - The table's buffers are shared, never copied whole: only the text (and id) of the rows in
//!   hand are copied, one batch of about `batch_bytes` at a time, as for a file.
//! - A row decodes to the same document on the first read and when read back: both go through
//!   [`parquet::Columns::rows`].
//!
//! This module must not normalise or tokenise text.

use std::sync::atomic::{AtomicU64, Ordering};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use super::parquet::Columns;
use super::{DocLoc, RawRecord, ReadOptions};

/// Rows handed to [`Columns::rows`] at a time: a batch of a million rows is taken a slice at a
/// time, so that unpacking a dictionary-encoded column copies a slice, not the column.
const SLICE_ROWS: usize = 8192;

/// How a row without an id (no id column, or a null id) is named.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MissingIds {
    /// `NAME:ROW`, rows numbered from 1, as for a Parquet file of that name.
    #[default]
    NameAndRow,
    /// The row's 0-based index in the table, in decimal: how Python and Arrow count rows.
    RowIndex,
}

/// An Arrow table in memory: a schema and the record batches holding its rows, in order.
#[derive(Clone, Debug)]
pub struct ArrowTable {
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
    /// The 1-based first row of each batch, and one past the last row.
    starts: Vec<u64>,
    missing_ids: MissingIds,
}

/// A batch whose schema is not the table's.
#[derive(Debug, thiserror::Error)]
#[error("record batch {batch} has another schema than the table's")]
pub struct SchemaMismatch {
    /// The 0-based index of the batch.
    pub batch: usize,
}

impl ArrowTable {
    /// A table of `batches`, each of `schema` (field names and types; metadata may differ).
    pub fn new(schema: SchemaRef, batches: Vec<RecordBatch>) -> Result<Self, SchemaMismatch> {
        if let Some(batch) = batches
            .iter()
            .position(|b| !b.schema().fields().eq(schema.fields()))
        {
            return Err(SchemaMismatch { batch });
        }
        let mut starts = Vec::with_capacity(batches.len() + 1);
        let mut at = 1u64;
        starts.push(at);
        for b in &batches {
            at += b.num_rows() as u64;
            starts.push(at);
        }
        Ok(ArrowTable {
            schema,
            batches,
            starts,
            missing_ids: MissingIds::default(),
        })
    }

    /// Names rows without an id as `missing` says.
    pub fn with_missing_ids(mut self, missing: MissingIds) -> Self {
        self.missing_ids = missing;
        self
    }

    /// How rows without an id are named.
    pub fn missing_ids(&self) -> MissingIds {
        self.missing_ids
    }

    /// The table's schema.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// The record batches, in row order.
    pub fn batches(&self) -> &[RecordBatch] {
        &self.batches
    }

    /// Rows in the table.
    pub fn num_rows(&self) -> u64 {
        self.starts.last().map_or(0, |&end| end - 1)
    }

    /// Bytes the table's buffers take, for progress reporting.
    pub fn memory_size(&self) -> u64 {
        self.batches
            .iter()
            .map(|b| b.get_array_memory_size() as u64)
            .sum()
    }

    /// Why a read with `opts` could not use this table (no text column, or one of another
    /// type), as the skipped entry of a scan would say; `None` when it can.
    pub fn text_column_problem(&self, opts: &ReadOptions) -> Option<String> {
        columns(self, opts).err()
    }

    /// The id of 1-based row `row` when it has none, for a table named `name`.
    pub(crate) fn missing_id(&self, name: &str, row: u64) -> String {
        match self.missing_ids {
            MissingIds::NameAndRow => format!("{name}:{row}"),
            MissingIds::RowIndex => row.saturating_sub(1).to_string(),
        }
    }
}

/// Reads every row of `table` (source `index`), handing `found` each document or the reason a
/// row is not one (null text, too large), with its 1-based row, until `found` returns false.
/// Errors when the table holds no usable text column.
pub(crate) fn read_all(
    index: u32,
    table: &ArrowTable,
    opts: &ReadOptions,
    progress: &AtomicU64,
    mut found: impl FnMut(u64, Result<RawRecord, String>) -> bool,
) -> Result<(), String> {
    let cols = columns(table, opts)?;
    for (b, batch) in table.batches.iter().enumerate() {
        let mut stop = false;
        for first in (0..batch.num_rows()).step_by(SLICE_ROWS) {
            let len = SLICE_ROWS.min(batch.num_rows() - first);
            let slice = batch.slice(first, len);
            cols.rows(
                &slice,
                index,
                b as u64,
                table.starts[b] + first as u64,
                opts.max_doc_bytes,
                |row, rec| stop = stop || !found(row, rec),
            )?;
            if stop {
                return Ok(());
            }
        }
        progress.fetch_add(batch.get_array_memory_size() as u64, Ordering::Relaxed);
    }
    Ok(())
}

/// The columns a read of `table` with `opts` decodes, or why it cannot be read: found once for
/// a whole read back, not per row.
pub(crate) fn columns(table: &ArrowTable, opts: &ReadOptions) -> Result<Columns, String> {
    Columns::find(&table.schema, opts)
}

/// Reads back the row at `loc` of `table`, whose `cols` are [`columns`]'s: its record, or the
/// reason it is not one. `None` when the table has no such row in that batch.
pub(crate) fn read_row(
    table: &ArrowTable,
    cols: &Columns,
    loc: DocLoc,
    opts: &ReadOptions,
) -> Option<Result<RawRecord, String>> {
    let b = usize::try_from(loc.offset).ok()?;
    let (batch, start, end) = (table.batches.get(b)?, table.starts[b], table.starts[b + 1]);
    if !(start..end).contains(&loc.line) {
        return None;
    }
    let slice = batch.slice((loc.line - start) as usize, 1);
    let mut out = None;
    let res = cols.rows(
        &slice,
        loc.source,
        loc.offset,
        loc.line,
        opts.max_doc_bytes,
        |_, rec| out = Some(rec),
    );
    match res {
        Ok(()) => out,
        Err(reason) => Some(Err(reason)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{ArrayRef, Int64Array, StringArray};
    use arrow_schema::{DataType, Field, Schema};
    use std::sync::Arc;

    fn table(texts: &[Option<&str>], ids: &[Option<i64>], per_batch: usize) -> ArrowTable {
        let schema = Arc::new(Schema::new(vec![
            Field::new("text", DataType::Utf8, true),
            Field::new("id", DataType::Int64, true),
        ]));
        let batches = texts
            .chunks(per_batch)
            .zip(ids.chunks(per_batch))
            .map(|(t, i)| {
                let cols: Vec<ArrayRef> = vec![
                    Arc::new(StringArray::from(t.to_vec())),
                    Arc::new(Int64Array::from(i.to_vec())),
                ];
                RecordBatch::try_new(schema.clone(), cols).expect("batch")
            })
            .collect();
        ArrowTable::new(schema, batches).expect("table")
    }

    #[test]
    fn rows_are_numbered_across_batches_and_read_back_alike() {
        let t = table(
            &[Some("a b"), None, Some("c d"), Some("e f"), Some("g h")],
            &[Some(7), Some(8), None, Some(10), Some(11)],
            2,
        );
        assert_eq!(t.num_rows(), 5);
        let opts = ReadOptions::default();
        let progress = AtomicU64::new(0);
        let mut seen = Vec::new();
        read_all(3, &t, &opts, &progress, |row, rec| {
            seen.push((row, rec));
            true
        })
        .expect("read");
        let cols = columns(&t, &opts).expect("columns");
        let rows: Vec<u64> = seen.iter().map(|(r, _)| *r).collect();
        assert_eq!(rows, [1, 2, 3, 4, 5]);
        assert_eq!(seen[1].1.as_ref().unwrap_err(), "\"text\" is null");
        for (row, rec) in &seen {
            let Ok(rec) = rec else { continue };
            assert_eq!(rec.loc.line, *row);
            assert_eq!(rec.loc.source, 3);
            let back = read_row(&t, &cols, rec.loc, &opts)
                .expect("row")
                .expect("record");
            assert_eq!(back.bytes, rec.bytes);
            assert_eq!(back.row, rec.row);
        }
        let third = seen[2].1.as_ref().expect("record");
        assert_eq!(third.loc.offset, 1);
        assert_eq!(third.row.as_ref().and_then(|r| r.id.clone()), None);
        let fourth = seen[3].1.as_ref().expect("record");
        assert_eq!(
            fourth.row.as_ref().and_then(|r| r.id.clone()),
            Some("10".into())
        );
        assert!(progress.into_inner() > 0);
        // A row outside its batch is not there.
        let loc = DocLoc {
            source: 3,
            line: 3,
            offset: 0,
        };
        assert!(read_row(&t, &cols, loc, &opts).is_none());
    }

    #[test]
    fn a_table_without_a_usable_text_column_says_why() {
        let t = table(&[Some("a")], &[Some(1)], 1);
        let opts = ReadOptions {
            text_field: "id".into(),
            ..ReadOptions::default()
        };
        let err = read_all(0, &t, &opts, &AtomicU64::new(0), |_, _| true).unwrap_err();
        assert_eq!(err, "column \"id\" is Int64, not a string");
        let opts = ReadOptions {
            text_field: "body".into(),
            ..ReadOptions::default()
        };
        let err = read_all(0, &t, &opts, &AtomicU64::new(0), |_, _| true).unwrap_err();
        assert_eq!(err, "no \"body\" column");
    }

    #[test]
    fn missing_ids_are_named_as_asked() {
        let t = table(&[Some("a")], &[None], 1);
        assert_eq!(t.missing_id("t", 4), "t:4");
        let t = t.with_missing_ids(MissingIds::RowIndex);
        assert_eq!(t.missing_id("t", 4), "3");
    }

    #[test]
    fn batches_of_another_schema_are_refused() {
        let t = table(&[Some("a")], &[Some(1)], 1);
        let other = Arc::new(Schema::new(vec![Field::new("x", DataType::Utf8, true)]));
        let err = ArrowTable::new(other, t.batches().to_vec()).unwrap_err();
        assert_eq!(err.batch, 0);
    }
}
