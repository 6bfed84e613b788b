//! The cleanup of an Arrow table in memory, handed back to the caller instead of written:
//! the rows that stay, in order, every column as it was but the text of rows that are cut, and
//! the annotation columns appended — what the Parquet mirror of the same table holds.
//!
//! This module must not decide what is removed or cut, nor write files.

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use super::output::decide;
use super::{CleanError, CleanOptions, Cleanup, Records, check, doc_finder, parquet, totals};
use crate::corpus::{Format, parquet::Columns};
use crate::result::ScanResult;

/// A table as a cleanup leaves it (see [`table`]).
#[derive(Clone, Debug)]
pub struct CleanedTable {
    /// The input table's schema, with the annotation columns when asked for.
    pub schema: SchemaRef,
    /// The rows that stay, in input order.
    pub batches: Vec<RecordBatch>,
    /// What was removed and cut, and the totals (`bytes_out`: the text kept).
    pub cleanup: Cleanup,
}

/// Cleans the table of `result`, the scan of one Arrow table in memory
/// ([`Corpus::from_arrow`](crate::corpus::Corpus::from_arrow)), as `options` say (their
/// inputs, compression and callback do not apply). Refuses what [`check`] refuses, a table
/// that already has an annotation column, and the scan of anything else
/// ([`CleanError::NotATable`]). A table without a usable text column (the scan skipped it) is
/// handed back as it is.
pub fn table(result: &ScanResult, options: &CleanOptions) -> Result<CleanedTable, CleanError> {
    check(result, options)?;
    let src = match result.corpus.sources.as_slice() {
        [src] if src.format == Format::Arrow => src,
        _ => return Err(CleanError::NotATable),
    };
    let input = src.table.as_ref().ok_or(CleanError::NotATable)?;
    let plan = decide(result, options);
    let mut totals = totals(result, &plan);
    let read = crate::corpus::ReadOptions {
        text_field: options.text_field.clone(),
        ..Default::default()
    };
    if Columns::find(input.schema(), &read).is_err() {
        totals.bytes_out = 0;
        return Ok(CleanedTable {
            schema: input.schema().clone(),
            batches: input.batches().to_vec(),
            cleanup: Cleanup { plan, totals },
        });
    }
    let records = Records::new(result, &plan, options);
    let doc_at = doc_finder(result, 0);
    let mut batches = Vec::new();
    let (schema, bytes_out) = parquet::mirror_table(src, &doc_at, &records, |_, b| {
        if b.num_rows() > 0 {
            batches.push(b);
        }
        Ok(())
    })?;
    totals.bytes_out = bytes_out;
    drop(records);
    Ok(CleanedTable {
        schema,
        batches,
        cleanup: Cleanup { plan, totals },
    })
}
