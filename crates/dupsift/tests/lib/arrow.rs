//! `Corpus::from_arrow`: an Arrow table in memory is scanned as the same table written as
//! Parquet is, and rows without an id are named as the table asks.

use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use dupsift::corpus::{ArrowTable, Corpus as Inputs, MissingIds};
use dupsift::report::Report;
use dupsift::{Progress, scan};

use crate::util::*;

/// Rows: a document, its exact copy, a near copy, a null text, an unrelated document holding a
/// passage of the first twice over, and a copy of the first without an id.
fn rows() -> (Vec<Option<String>>, Vec<Option<String>>) {
    let a = words(1, 300);
    let d = format!("{} {}", words(2, 200), words(3, 120));
    let doubled = format!("{d} {}", words(3, 120));
    let texts = vec![
        Some(a.clone()),
        Some(a.clone()),
        Some(edited(&a, &[100, 200])),
        None,
        Some(doubled),
        Some(a),
    ];
    let ids = ["a", "b", "c", "n", "d"]
        .iter()
        .map(|s| Some(s.to_string()))
        .chain([None])
        .collect();
    (texts, ids)
}

fn batches(texts: &[Option<String>], ids: &[Option<String>], per: usize) -> Vec<RecordBatch> {
    let schema = schema();
    texts
        .chunks(per)
        .zip(ids.chunks(per))
        .map(|(t, i)| {
            let cols: Vec<ArrayRef> = vec![
                Arc::new(StringArray::from(i.to_vec())),
                Arc::new(StringArray::from(t.to_vec())),
            ];
            RecordBatch::try_new(schema.clone(), cols).expect("batch")
        })
        .collect()
}

fn schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, true),
        Field::new("text", DataType::Utf8, true),
    ]))
}

/// The rows written as `t.parquet` in `c`, in row groups of 4.
fn parquet_file(
    c: &Corpus,
    texts: &[Option<String>],
    ids: &[Option<String>],
) -> std::path::PathBuf {
    let path = c.path("t.parquet");
    let file = std::fs::File::create(&path).expect("create");
    let mut w = parquet::arrow::ArrowWriter::try_new(file, schema(), None).expect("writer");
    for b in batches(texts, ids, 4) {
        w.write(&b).expect("write");
    }
    w.close().expect("close");
    path
}

fn json(r: &dupsift::ScanResult) -> String {
    let mut out = Vec::new();
    Report::new(r).write_json(&mut out).expect("json");
    String::from_utf8(out).expect("utf-8")
}

#[test]
fn a_table_in_memory_reports_what_the_table_as_parquet_reports() {
    let (texts, ids) = rows();
    let c = Corpus::new();
    let path = parquet_file(&c, &texts, &ids);
    let opts = options(params(true));
    let from_file = scan(&[path], &opts);
    let name = from_file.corpus.sources[0].name.clone();
    for per in [1, 2, 6] {
        let table = ArrowTable::new(schema(), batches(&texts, &ids, per)).expect("table");
        let inputs = Inputs::from_arrow(&name, table);
        let from_memory =
            scan::scan_corpus(inputs, None, &opts, &Progress::default()).expect("scan");
        assert_eq!(json(&from_memory), json(&from_file), "batches of {per}");
    }
    assert_eq!(cluster_ids(&from_file, 0)[..3], ["a", "b", "c"]);
    assert_eq!(from_file.skipped.len(), 1, "the null text");
    assert!(!from_file.self_repeating.is_empty(), "the doubled passage");
}

#[test]
fn rows_without_an_id_are_named_by_their_row_index_when_asked() {
    let (texts, _) = rows();
    let ids = vec![None; texts.len()];
    let table = ArrowTable::new(schema(), batches(&texts, &ids, 4))
        .expect("table")
        .with_missing_ids(MissingIds::RowIndex);
    let r = scan::scan_corpus(
        Inputs::from_arrow("<table>", table),
        None,
        &options(params(false)),
        &Progress::default(),
    )
    .expect("scan");
    assert_eq!(cluster_ids(&r, 0), ["0", "1", "2", "5"]);
    assert_eq!(r.skipped[0].path, "<table>");
    assert_eq!(
        r.skipped[0].line,
        Some(4),
        "rows count from 1 in skipped entries"
    );
}

/// The rows of every batch, as (column name, value as debug text) lists, to compare tables.
fn rows_of(batches: &[RecordBatch]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for b in batches {
        for i in 0..b.num_rows() {
            let row = b
                .columns()
                .iter()
                .zip(b.schema().fields())
                .map(|(c, f)| {
                    let one = c.slice(i, 1);
                    format!(
                        "{}={:?}",
                        f.name(),
                        arrow_array::cast::as_string_array(&one).value(0)
                    )
                })
                .collect();
            out.push(row);
        }
    }
    out
}

#[test]
fn a_table_is_cleaned_as_its_parquet_file_is_mirrored() {
    use dupsift::clean::{self, CleanOptions};
    let (texts, ids) = rows();
    let c = Corpus::new();
    let path = parquet_file(&c, &texts, &ids);
    let opts = options(params(true));
    let from_file = scan(std::slice::from_ref(&path), &opts);
    let out = c.path("out");
    let clean_opts = CleanOptions::new(std::slice::from_ref(&path), &opts);
    let written = clean::run(&from_file, &out, &clean_opts).expect("clean");
    let mirror = std::fs::File::open(walk_one(&out, "t.parquet")).expect("mirror");
    let mirrored: Vec<RecordBatch> =
        parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(mirror, 1024)
            .expect("reader")
            .map(|b| b.expect("batch"))
            .collect();

    let table = ArrowTable::new(schema(), batches(&texts, &ids, 2)).expect("table");
    let name = from_file.corpus.sources[0].name.clone();
    let scanned = scan::scan_corpus(
        Inputs::from_arrow(&name, table),
        None,
        &opts,
        &Progress::default(),
    )
    .expect("scan");
    let cleaned = clean::table(&scanned, &clean_opts).expect("clean table");
    // b, c and the id-less copy of a go, the null row stays (the scan did not judge it), d's
    // second copy of its passage is cut.
    assert_eq!(rows_of(&cleaned.batches), rows_of(&mirrored));
    assert_eq!(rows_of(&cleaned.batches).len(), 3);
    assert_eq!(cleaned.cleanup.totals, written.totals);
    let mut entries = Vec::new();
    clean::manifest(&scanned, &cleaned.cleanup.plan, |e| {
        entries.push((e.id.to_owned(), e.reason, e.line));
        Ok::<(), ()>(())
    })
    .expect("manifest");
    assert_eq!(entries.len(), 4, "{entries:?}");
    assert_eq!(entries[0].0, "b");

    // Only the scan of a table is cleaned into one.
    assert!(matches!(
        clean::table(&from_file, &clean_opts),
        Err(clean::CleanError::NotATable)
    ));
}

/// The one file named `name` under `dir`.
fn walk_one(dir: &std::path::Path, name: &str) -> std::path::PathBuf {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|f| f == name) {
                return p;
            }
        }
    }
    panic!("no {name} under {}", dir.display());
}
