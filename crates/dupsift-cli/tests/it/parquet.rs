//! Parquet inputs and outputs: tables written here with the `parquet` crate, in several codecs
//! and shapes, are scanned, checked, indexed and cleaned, and what dupsift finds in them is
//! compared with what it finds in the same documents as JSONL.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{StringDictionaryBuilder, StructBuilder};
use arrow_array::types::Int32Type;
use arrow_array::{
    Array, ArrayRef, BinaryArray, Int64Array, LargeStringArray, RecordBatch, StringArray,
    StringViewArray, TimestampSecondArray,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{BrotliLevel, Compression, GzipLevel, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use serde_json::{Value, json};

use crate::util::*;

/// A document: id and text.
type Doc = (String, String);

/// Documents with near-duplicates (a few words changed), exact copies, unrelated ones and a
/// body pasted twice, so that scans find clusters and passages.
fn documents() -> Vec<Doc> {
    let vocab = vocabulary(16, 3000);
    let mut rng = Rng::new(1616);
    let mut docs = Vec::new();
    for family in 0..8 {
        let base = random_words(&mut rng, &vocab, 140 + 10 * family);
        docs.push((format!("f{family}"), render(&base)));
        for v in 0..(family % 3 + 1) {
            let edited = replace_words(&mut rng, &base, &vocab, 3);
            docs.push((format!("f{family}-v{v}"), render(&edited)));
        }
        if family % 4 == 0 {
            docs.push((format!("f{family}-copy"), render(&base)));
        }
    }
    for i in 0..12 {
        docs.push((
            format!("u{i}"),
            render(&random_words(&mut rng, &vocab, 120)),
        ));
    }
    let body = render(&random_words(&mut rng, &vocab, 150));
    docs.push(("doubled".into(), format!("{body}{body}")));
    docs
}

fn jsonl(docs: &[Doc]) -> String {
    docs.iter()
        .map(|(id, text)| jsonl_line(&[("id", json!(id)), ("text", json!(text))]))
        .collect()
}

fn props(codec: Compression, group_rows: usize, dictionary: bool) -> WriterProperties {
    WriterProperties::builder()
        .set_compression(codec)
        .set_max_row_group_row_count(Some(group_rows))
        .set_dictionary_enabled(dictionary)
        .build()
}

/// Writes `columns` as one table at `path`.
fn write_table(path: &Path, columns: Vec<(&str, ArrayRef)>, props: WriterProperties) {
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    write_batch(
        path,
        schema,
        columns.into_iter().map(|c| c.1).collect(),
        props,
    );
}

fn write_batch(path: &Path, schema: SchemaRef, columns: Vec<ArrayRef>, props: WriterProperties) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("mkdir");
    }
    let batch = RecordBatch::try_new(schema.clone(), columns).expect("batch");
    let mut w = ArrowWriter::try_new(File::create(path).expect("create"), schema, Some(props))
        .expect("writer");
    w.write(&batch).expect("write");
    w.close().expect("close");
}

fn strings<'a>(items: impl IntoIterator<Item = &'a str>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(items))
}

fn ids(docs: &[Doc]) -> ArrayRef {
    strings(docs.iter().map(|d| d.0.as_str()))
}

fn texts(docs: &[Doc]) -> ArrayRef {
    strings(docs.iter().map(|d| d.1.as_str()))
}

/// What a scan found: clusters as ids, passages as their occurrences (id and byte range).
type Findings = (Vec<Vec<String>>, Vec<Vec<(String, u64, u64)>>);

fn findings(r: &Value) -> Findings {
    let passages = arr(r, "passages")
        .iter()
        .map(|p| {
            arr(p, "occurrences")
                .iter()
                .map(|o| (s(o, "doc").to_owned(), u(o, "start"), u(o, "end")))
                .collect()
        })
        .collect();
    (clusters(r), passages)
}

/// The JSONL scan of `docs` (as `docs.jsonl` in a corpus of its own) with `args`.
fn jsonl_scan(docs: &[Doc], args: &[&str]) -> Value {
    let c = TempCorpus::new();
    c.file("docs.jsonl", jsonl(docs));
    let mut all = vec!["docs.jsonl"];
    all.extend_from_slice(args);
    c.scan(&all)
}

#[test]
fn rows_are_found_as_jsonl_lines_are_in_every_codec_and_layout() {
    let docs = documents();
    let want = jsonl_scan(&docs, &[]);
    let (clusters, passages) = findings(&want);
    assert!(clusters.len() >= 8 && !passages.is_empty(), "{want}");
    let codecs = [
        Compression::UNCOMPRESSED,
        Compression::SNAPPY,
        Compression::GZIP(GzipLevel::default()),
        Compression::ZSTD(ZstdLevel::default()),
        Compression::LZ4_RAW,
        Compression::LZ4,
        Compression::BROTLI(BrotliLevel::default()),
    ];
    let c = TempCorpus::new();
    for (i, codec) in codecs.iter().enumerate() {
        // Row groups of 7 rows: documents of one cluster fall in different groups.
        let props = props(*codec, 7, i % 2 == 0);
        let path = c.join(&format!("{codec}.parquet"));
        write_table(
            &path,
            vec![("id", ids(&docs)), ("text", texts(&docs))],
            props,
        );
        let got = c.scan(&[path.to_str().expect("utf-8 path")]);
        assert_eq!(
            findings(&got),
            (clusters.clone(), passages.clone()),
            "{codec}"
        );
        for key in [
            "documents",
            "bytes",
            "duplicate_documents",
            "passage_cut_bytes",
        ] {
            assert_eq!(summary(&got, key), summary(&want, key), "{codec}: {key}");
        }
        assert!(arr(&got, "skipped").is_empty(), "{got}");
    }
}

#[test]
fn large_view_dictionary_and_binary_texts_and_integer_ids() {
    let docs = documents();
    // Integer ids, as the JSONL holds them.
    let numbered: Vec<Doc> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| ((i * 10).to_string(), d.1.clone()))
        .collect();
    let c = TempCorpus::new();
    c.file(
        "docs.jsonl",
        numbered
            .iter()
            .map(|(id, t)| {
                jsonl_line(&[
                    ("id", json!(id.parse::<u64>().expect("int"))),
                    ("text", json!(t)),
                ])
            })
            .collect::<String>(),
    );
    let want = findings(&c.scan(&["docs.jsonl"]));
    c.run(&["clean", "docs.jsonl", "-o", "out-jsonl", "--quiet"])
        .success();
    let cleaned = jsonl_records(&c.join("out-jsonl/docs.jsonl"));
    let id: ArrayRef = Arc::new(Int64Array::from_iter_values(
        (0..docs.len() as i64).map(|i| i * 10),
    ));
    let text = || docs.iter().map(|d| d.1.as_str());
    let mut dict = StringDictionaryBuilder::<Int32Type>::new();
    for t in text() {
        dict.append_value(t);
    }
    let shapes: Vec<(&str, ArrayRef)> = vec![
        (
            "large",
            Arc::new(LargeStringArray::from_iter_values(text())),
        ),
        ("view", Arc::new(StringViewArray::from_iter_values(text()))),
        ("dictionary", Arc::new(dict.finish())),
        (
            "binary",
            Arc::new(BinaryArray::from_iter_values(text().map(str::as_bytes))),
        ),
    ];
    for (name, array) in shapes {
        let path = c.join(&format!("{name}.parquet"));
        write_table(
            &path,
            vec![("id", id.clone()), ("text", array)],
            props(Compression::SNAPPY, 10, true),
        );
        let got = c.scan(&[&format!("{name}.parquet")]);
        assert_eq!(findings(&got), want, "{name}");
        // The cleanup cuts the doubled body in the column's own type and keeps the schema.
        let out = format!("out-{name}");
        c.run(&["clean", &format!("{name}.parquet"), "-o", &out, "--quiet"])
            .success();
        let (in_schema, _) = read_rows(&path);
        let (schema, rows) = read_rows(&c.join(&out).join(format!("{name}.parquet")));
        assert_eq!(schema.fields(), in_schema.fields(), "{name}");
        let texts: Vec<&Value> = rows.iter().map(|r| &r["text"]).collect();
        let want_texts: Vec<&Value> = cleaned.iter().map(|r| &r["text"]).collect();
        assert_eq!(texts, want_texts, "{name}");
    }
}

#[test]
fn rows_without_an_id_are_named_file_row_and_null_texts_are_skipped_at_their_row() {
    let docs = documents();
    let c = TempCorpus::new();
    // Without ids, JSONL lines are FILE:LINE; Parquet rows FILE:ROW, numbered alike.
    c.file(
        "docs.jsonl",
        docs.iter()
            .map(|(_, t)| jsonl_line(&[("text", json!(t))]))
            .collect::<String>(),
    );
    let want = findings(&c.scan(&["docs.jsonl"]));
    let renamed = |f: &Findings| {
        let r = |id: &String| id.replace("docs.parquet:", "docs.jsonl:");
        (
            f.0.iter()
                .map(|c| c.iter().map(r).collect())
                .collect::<Vec<Vec<_>>>(),
            f.1.iter()
                .map(|p| p.iter().map(|(d, a, b)| (r(d), *a, *b)).collect())
                .collect::<Vec<Vec<_>>>(),
        )
    };
    write_table(
        &c.join("docs.parquet"),
        vec![
            ("text", texts(&docs)),
            (
                "n",
                Arc::new(Int64Array::from_iter_values(0..docs.len() as i64)),
            ),
        ],
        props(Compression::SNAPPY, 9, false),
    );
    let got = c.scan(&["docs.parquet"]);
    assert_eq!(renamed(&findings(&got)), want);
    assert!(
        clusters(&got)
            .concat()
            .contains(&"docs.parquet:1".to_owned()),
        "{got}"
    );

    // Null texts: each a skip at its row; the other rows keep their numbers. A null id is
    // FILE:ROW too.
    let nulls = [3usize, 10, 11];
    let text: ArrayRef = Arc::new(StringArray::from_iter(
        docs.iter()
            .enumerate()
            .map(|(i, d)| (!nulls.contains(&i)).then_some(d.1.as_str())),
    ));
    let id: ArrayRef = Arc::new(StringArray::from_iter(
        docs.iter()
            .enumerate()
            .map(|(i, d)| (i != 0).then_some(d.0.as_str())),
    ));
    write_table(
        &c.join("nulls.parquet"),
        vec![("id", id), ("text", text)],
        props(Compression::ZSTD(ZstdLevel::default()), 4, true),
    );
    let got = c.scan(&["nulls.parquet"]);
    let skips = skips_of(&got, "nulls.parquet");
    let want_skips: Vec<Skip> = nulls
        .iter()
        .map(|&i| Skip {
            path: "nulls.parquet".into(),
            line: Some(i as u64 + 1),
            reason: r#""text" is null"#.into(),
        })
        .collect();
    assert_eq!(skips, want_skips);
    assert_eq!(
        summary(&got, "documents"),
        (docs.len() - nulls.len()) as u64
    );
    let kept_ids: Vec<String> = clusters(&got).concat();
    assert!(
        kept_ids.contains(&"nulls.parquet:1".to_owned()),
        "{kept_ids:?}"
    );
    assert!(!kept_ids.iter().any(|d| d == &docs[3].0));
}

#[test]
fn a_text_field_of_a_struct_column_is_read_with_a_dotted_name() {
    let docs = documents();
    let want = findings(&jsonl_scan(&docs, &[]));
    let fields = vec![
        Field::new("body", DataType::Utf8, true),
        Field::new("lang", DataType::Utf8, true),
    ];
    let mut meta = StructBuilder::from_fields(fields.clone(), docs.len());
    for (_, t) in &docs {
        meta.field_builder::<arrow_array::builder::StringBuilder>(0)
            .expect("body")
            .append_value(t);
        meta.field_builder::<arrow_array::builder::StringBuilder>(1)
            .expect("lang")
            .append_value("en");
        meta.append(true);
    }
    let c = TempCorpus::new();
    write_table(
        &c.join("nested.parquet"),
        vec![("id", ids(&docs)), ("meta", Arc::new(meta.finish()))],
        props(Compression::SNAPPY, 8, true),
    );
    let got = c.scan(&["nested.parquet", "--text-field", "meta.body"]);
    assert_eq!(findings(&got), want);
    // Without the dotted name there is no text column.
    let got = c.scan(&["nested.parquet"]);
    assert_eq!(
        skipped(&got),
        [Skip {
            path: "nested.parquet".into(),
            line: None,
            reason: r#"no "text" column"#.into()
        }]
    );
}

/// The byte offset of the first page of column `column` in row group `group`.
fn first_page(path: &Path, group: usize, column: usize) -> u64 {
    let r =
        ParquetRecordBatchReaderBuilder::try_new(File::open(path).expect("open")).expect("parquet");
    let c = r.metadata().row_group(group).column(column);
    c.dictionary_page_offset().unwrap_or(c.data_page_offset()) as u64
}

#[test]
fn damaged_and_foreign_files_are_skipped_with_the_file_and_row() {
    let docs = documents();
    let c = TempCorpus::new();
    let good = |p: &str, group: usize| {
        write_table(
            &c.join(p),
            vec![("id", ids(&docs)), ("text", texts(&docs))],
            props(Compression::UNCOMPRESSED, group, false),
        )
    };
    good("bad/damaged.parquet", 5);
    // The second row group's text pages start with garbage: rows 6-10 cannot be read.
    let damaged = c.join("bad/damaged.parquet");
    let at = first_page(&damaged, 1, 1) as usize;
    let mut bytes = std::fs::read(&damaged).expect("read");
    bytes[at..at + 16].fill(0xff);
    std::fs::write(&damaged, &bytes).expect("write");
    good("bad/truncated.parquet", 5);
    let t = std::fs::read(c.join("bad/truncated.parquet")).expect("read");
    std::fs::write(c.join("bad/truncated.parquet"), &t[..t.len() / 2]).expect("write");
    c.file("bad/notparquet.parquet", "id,text\n1,hello\n");
    write_table(
        &c.join("bad/wrongtype.parquet"),
        vec![("text", Arc::new(Int64Array::from_iter_values([1, 2, 3])))],
        props(Compression::SNAPPY, 5, true),
    );
    write_table(
        &c.join("bad/notext.parquet"),
        vec![("body", texts(&docs))],
        props(Compression::SNAPPY, 5, true),
    );
    c.file(
        "bad/zz.jsonl",
        "{\"text\":\"one two three\"}\n{\"text\":\"four five six\"}\n",
    );
    let got = c.scan(&["bad", "--max-doc-bytes", "1500"]);
    let skips = skipped(&got);
    let reason = |p: &str| -> Vec<(Option<u64>, String)> {
        skips
            .iter()
            .filter(|k| k.path == p)
            .map(|k| (k.line, k.reason.clone()))
            .collect()
    };
    let damaged_skips = reason("damaged.parquet");
    let file_level: Vec<_> = damaged_skips.iter().filter(|k| k.0.is_none()).collect();
    assert_eq!(file_level.len(), 1, "{damaged_skips:?}");
    assert!(
        file_level[0]
            .1
            .starts_with("corrupt Parquet data in row group 2 (rows 6-10 skipped): "),
        "{damaged_skips:?}"
    );
    // Rows before and after the damaged group are read (those within --max-doc-bytes).
    let read: Vec<String> = arr(&got, "clusters")
        .iter()
        .flat_map(|c| std::iter::once(s(c, "kept").to_owned()))
        .collect();
    assert!(!read.is_empty());
    let long = docs
        .iter()
        .position(|d| d.1.len() > 1500)
        .expect("a long doc") as u64
        + 1;
    assert!(
        damaged_skips.contains(&(
            Some(long),
            format!(
                "text too long: {} bytes (limit 1500; see --max-doc-bytes)",
                docs[long as usize - 1].1.len()
            )
        )) || (6..=10).contains(&long),
        "{damaged_skips:?}"
    );
    let one = |p: &str| {
        let r = reason(p);
        assert_eq!(r.len(), 1, "{p}: {r:?}");
        assert_eq!(r[0].0, None, "{p}");
        r[0].1.clone()
    };
    assert!(one("truncated.parquet").starts_with("not a readable Parquet file: "));
    assert_eq!(
        one("notparquet.parquet"),
        "not a Parquet file (no PAR1 header)"
    );
    assert_eq!(
        one("wrongtype.parquet"),
        r#"column "text" is Int64, not a string"#
    );
    assert_eq!(one("notext.parquet"), r#"no "text" column"#);
    assert!(reason("zz.jsonl").is_empty());
    // Every document of the damaged file outside row group 2 was read.
    let documents = summary(&got, "documents");
    let short_outside = docs
        .iter()
        .enumerate()
        .filter(|(i, d)| !(5..10).contains(i) && d.1.len() <= 1500)
        .count() as u64;
    assert_eq!(documents, short_outside + 2, "{got}");

    // A cleanup writes the rows it can read: all but the damaged group's and the removed
    // documents' (the oversized rows the scan skipped stay); files it cannot read as tables
    // are copied through as they are.
    c.run(&[
        "clean",
        "bad",
        "-o",
        "out",
        "--max-doc-bytes",
        "1500",
        "--quiet",
    ])
    .success();
    let removed: Vec<String> = arr(&got, "clusters")
        .iter()
        .flat_map(|c| arr(c, "members").iter().map(|m| s(m, "doc").to_owned()))
        .collect();
    let (_, rows) = read_rows(&c.join("out/damaged.parquet"));
    let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().expect("id")).collect();
    let want: Vec<&str> = docs
        .iter()
        .enumerate()
        .filter(|(i, d)| !(5..10).contains(i) && !removed.contains(&d.0))
        .map(|(_, d)| d.0.as_str())
        .collect();
    assert_eq!(ids, want);
    for name in ["truncated", "notparquet", "wrongtype", "notext"] {
        let file = format!("{name}.parquet");
        assert_eq!(
            std::fs::read(c.join("out").join(&file)).expect("copied"),
            std::fs::read(c.join("bad").join(&file)).expect("input"),
            "{file}"
        );
    }

    // --strict: the first problem stops the scan with exit 2, naming the file.
    let run = c.run(&["scan", "bad", "--strict", "--quiet"]).usage_error();
    assert!(run.stderr.contains(".parquet"), "{}", run.stderr);
}

#[test]
fn parquet_on_standard_input_is_read_as_a_table() {
    let docs = documents();
    let c = TempCorpus::new();
    write_table(
        &c.join("d.parquet"),
        vec![("text", texts(&docs))],
        props(Compression::SNAPPY, 10, true),
    );
    let bytes = std::fs::read(c.join("d.parquet")).expect("read");
    let got = scan_json_stdin(c.path(), &["-"], &bytes);
    assert_eq!(summary(&got, "documents"), docs.len() as u64);
    assert!(
        clusters(&got)
            .concat()
            .iter()
            .all(|d| d.starts_with("<stdin>:"))
    );
}

/// Every row of a Parquet file, as JSON objects of its columns.
fn read_rows(path: &Path) -> (SchemaRef, Vec<serde_json::Map<String, Value>>) {
    let r =
        ParquetRecordBatchReaderBuilder::try_new(File::open(path).expect("open")).expect("parquet");
    let schema = r.schema().clone();
    let mut rows = Vec::new();
    for batch in r.build().expect("reader") {
        let batch = batch.expect("batch");
        for i in 0..batch.num_rows() {
            let mut row = serde_json::Map::new();
            for (f, col) in schema.fields().iter().zip(batch.columns()) {
                row.insert(f.name().clone(), cell(col.as_ref(), i));
            }
            rows.push(row);
        }
    }
    (schema, rows)
}

fn cell(col: &dyn Array, i: usize) -> Value {
    use arrow_array::cast::AsArray;
    if col.is_null(i) {
        return Value::Null;
    }
    match col.data_type() {
        DataType::Utf8 => json!(col.as_string::<i32>().value(i)),
        DataType::LargeUtf8 => json!(col.as_string::<i64>().value(i)),
        DataType::Utf8View => json!(col.as_string_view().value(i)),
        DataType::Binary => json!(String::from_utf8_lossy(col.as_binary::<i32>().value(i))),
        DataType::Dictionary(..) => {
            let d = col.as_any_dictionary();
            cell(d.values().as_ref(), d.normalized_keys()[i])
        }
        DataType::Int64 => json!(col.as_primitive::<arrow_array::types::Int64Type>().value(i)),
        other => panic!("no reading of {other} in this test"),
    }
}

fn jsonl_records(path: &Path) -> Vec<serde_json::Map<String, Value>> {
    std::fs::read_to_string(path)
        .expect("read")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect()
}

fn manifest(out: &Path) -> Vec<Value> {
    std::fs::read_to_string(out.join("manifest.jsonl"))
        .expect("manifest")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect()
}

#[test]
fn clean_writes_parquet_with_the_input_schema_codec_metadata_and_the_kept_rows_in_order() {
    let docs = documents();
    let c = TempCorpus::new();
    c.file("in-jsonl/docs.jsonl", jsonl(&docs));
    let n = docs.len() as i64;
    let url = |i: usize| format!("https://example.org/{i}");
    let kv = KeyValue::new(
        "huggingface".to_owned(),
        r#"{"info": {"features": {}}}"#.to_owned(),
    );
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_max_row_group_row_count(Some(10))
        .set_key_value_metadata(Some(vec![kv]))
        .build();
    write_table(
        &c.join("in-parquet/train-00000-of-00001.parquet"),
        vec![
            (
                "url",
                strings(
                    (0..docs.len())
                        .map(url)
                        .collect::<Vec<_>>()
                        .iter()
                        .map(String::as_str),
                ),
            ),
            ("id", ids(&docs)),
            ("text", texts(&docs)),
            ("n", Arc::new(Int64Array::from_iter_values(0..n))),
        ],
        props,
    );
    c.run(&["clean", "in-jsonl", "-o", "out-jsonl", "--quiet"])
        .success();
    c.run(&["clean", "in-parquet", "-o", "out-parquet", "--quiet"])
        .success();
    let want = jsonl_records(&c.join("out-jsonl/docs.jsonl"));
    let input = c.join("in-parquet/train-00000-of-00001.parquet");
    let output = c.join("out-parquet/train-00000-of-00001.parquet");
    let (in_schema, _) = read_rows(&input);
    let (out_schema, rows) = read_rows(&output);
    assert_eq!(out_schema.fields(), in_schema.fields());
    // The kept rows, in input order, with the text the JSONL cleanup writes (cuts included)
    // and every other column as it was.
    assert!(rows.len() < docs.len() && rows.len() == want.len());
    for (row, w) in rows.iter().zip(&want) {
        assert_eq!(row["id"], w["id"]);
        assert_eq!(row["text"], w["text"], "{}", row["id"]);
        let i = docs
            .iter()
            .position(|d| json!(d.0) == row["id"])
            .expect("an input row");
        assert_eq!(row["n"], json!(i));
        assert_eq!(row["url"], json!(url(i)));
    }
    assert!(
        rows.iter().any(|r| r["id"] == "doubled"
            && r["text"].as_str().expect("text").len() < docs.last().expect("doubled").1.len()),
        "the doubled body is cut"
    );
    let meta = ParquetRecordBatchReaderBuilder::try_new(File::open(&output).expect("open"))
        .expect("parquet")
        .metadata()
        .clone();
    let kv = meta.file_metadata().key_value_metadata().expect("metadata");
    assert!(kv.iter().any(|k| k.key == "huggingface"), "{kv:?}");
    for rg in meta.row_groups() {
        assert!(rg.num_rows() <= 10);
        assert!(
            rg.columns()
                .iter()
                .all(|c| matches!(c.compression(), Compression::ZSTD(_)))
        );
    }
    // The manifest names the same removals and cuts, at the rows of the input.
    let jm = manifest(&c.join("out-jsonl"));
    let pm = manifest(&c.join("out-parquet"));
    assert_eq!(jm.len(), pm.len());
    for (j, p) in jm.iter().zip(&pm) {
        assert_eq!(
            (&j["id"], &j["line"], &j["reason"], &j["start"]),
            (&p["id"], &p["line"], &p["reason"], &p["start"])
        );
        assert_eq!(p["source"], "train-00000-of-00001.parquet");
    }
    // The input is untouched.
    assert_eq!(read_rows(&input).1.len(), docs.len());
}

#[test]
fn clean_annotate_adds_the_annotation_columns_and_refuses_a_table_that_has_them() {
    let docs = documents();
    let c = TempCorpus::new();
    c.file("in-jsonl/docs.jsonl", jsonl(&docs));
    write_table(
        &c.join("in-parquet/docs.parquet"),
        vec![("id", ids(&docs)), ("text", texts(&docs))],
        props(Compression::SNAPPY, 16, true),
    );
    c.run(&[
        "clean",
        "in-jsonl",
        "-o",
        "aj",
        "--annotate-only",
        "--quiet",
    ])
    .success();
    c.run(&[
        "clean",
        "in-parquet",
        "-o",
        "ap",
        "--annotate-only",
        "--quiet",
    ])
    .success();
    let want = jsonl_records(&c.join("aj/docs.jsonl"));
    let (schema, rows) = read_rows(&c.join("ap/docs.parquet"));
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(
        names,
        [
            "id",
            "text",
            "dupsift_cluster",
            "dupsift_cluster_size",
            "dupsift_duplicate_of"
        ]
    );
    assert_eq!(rows.len(), docs.len());
    for (row, w) in rows.iter().zip(&want) {
        for key in [
            "id",
            "text",
            "dupsift_cluster",
            "dupsift_cluster_size",
            "dupsift_duplicate_of",
        ] {
            assert_eq!(row[key], w[key], "{key} of {}", row["id"]);
        }
    }
    assert!(rows.iter().any(|r| r["dupsift_duplicate_of"].is_string()));

    c.run(&["clean", "in-parquet", "-o", "ak", "--annotate", "--quiet"])
        .success();
    let (schema, rows) = read_rows(&c.join("ak/docs.parquet"));
    assert_eq!(schema.fields().len(), 4);
    assert_eq!(
        rows.len(),
        jsonl_records(&{
            c.run(&["clean", "in-jsonl", "-o", "akj", "--annotate", "--quiet"])
                .success();
            c.join("akj/docs.jsonl")
        })
        .len()
    );

    // A table that already has such a column: exit 2, nothing written.
    write_table(
        &c.join("has/docs.parquet"),
        vec![
            ("text", texts(&docs)),
            (
                "dupsift_cluster",
                Arc::new(Int64Array::from_iter_values(0..docs.len() as i64)),
            ),
        ],
        props(Compression::SNAPPY, 16, true),
    );
    let run = c
        .run(&["clean", "has", "-o", "hx", "--annotate", "--quiet"])
        .usage_error();
    assert!(
        run.stderr.contains("docs.parquet") && run.stderr.contains("\"dupsift_cluster\" column"),
        "{}",
        run.stderr
    );
    assert!(!c.join("hx").exists());
}

#[test]
fn check_index_and_against_read_parquet_as_scan_does() {
    let docs = documents();
    let c = TempCorpus::new();
    write_table(
        &c.join("corpus.parquet"),
        vec![("id", ids(&docs)), ("text", texts(&docs))],
        props(Compression::SNAPPY, 10, true),
    );
    c.file("corpus.jsonl", jsonl(&docs));
    // A full check fails on the duplicates, with the same figures as for JSONL.
    let pj = c.run(&[
        "check",
        "corpus.parquet",
        "--format",
        "json",
        "--max-duplicate-ratio",
        "0",
    ]);
    let jj = c.run(&[
        "check",
        "corpus.jsonl",
        "--format",
        "json",
        "--max-duplicate-ratio",
        "0",
    ]);
    assert_eq!((pj.code, jj.code), (Some(1), Some(1)));
    let (p, j): (Value, Value) = (
        serde_json::from_slice(&pj.stdout).expect("json"),
        serde_json::from_slice(&jj.stdout).expect("json"),
    );
    assert_eq!(p["summary"], j["summary"]);
    // An index built from Parquet checks a new batch (JSONL here) against the old rows.
    c.run(&[
        "index",
        "build",
        "corpus.parquet",
        "-o",
        "corpus.dsx",
        "--quiet",
    ])
    .success();
    c.file(
        "batch.jsonl",
        jsonl_line(&[("id", json!("new-copy")), ("text", json!(docs[0].1))]),
    );
    let run = c.run(&[
        "check",
        "batch.jsonl",
        "--against",
        "corpus.dsx",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(
        out.contains("new-copy") && out.contains(&format!("\"{}\"", docs[0].0)),
        "{out}"
    );
    // And a Parquet batch against an index of JSONL.
    c.run(&["index", "build", "corpus.jsonl", "-o", "j.dsx", "--quiet"])
        .success();
    write_table(
        &c.join("batch.parquet"),
        vec![
            ("id", strings(["new-copy"])),
            ("text", strings([docs[0].1.as_str()])),
        ],
        props(Compression::SNAPPY, 10, true),
    );
    let run = c.run(&[
        "check",
        "batch.parquet",
        "--against",
        "j.dsx",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    // `index add` takes Parquet too: once a new table is in the index, a copy of its row is
    // found against that row.
    let fresh = render(&random_words(&mut Rng::new(77), &vocabulary(78, 500), 160));
    write_table(
        &c.join("added.parquet"),
        vec![
            ("id", strings(["added-row"])),
            ("text", strings([fresh.as_str()])),
        ],
        props(Compression::ZSTD(ZstdLevel::default()), 10, true),
    );
    c.run(&["index", "add", "j.dsx", "added.parquet", "--quiet"])
        .success();
    c.file(
        "again.jsonl",
        jsonl_line(&[("id", json!("again")), ("text", json!(fresh))]),
    );
    let run = c.run(&[
        "check",
        "again.jsonl",
        "--against",
        "j.dsx",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(
        out.contains("\"added-row\""),
        "the added row is indexed: {out}"
    );
    // The HTML report of a Parquet scan names its documents.
    c.run(&[
        "scan",
        "corpus.parquet",
        "--format",
        "html",
        "-o",
        "r.html",
        "--quiet",
    ])
    .success();
    let html = std::fs::read_to_string(c.join("r.html")).expect("html");
    assert!(html.contains("f0-v0"), "the report names the rows");
}

#[test]
fn keep_newest_ranks_rows_by_a_timestamp_column_as_jsonl_by_a_date() {
    let docs = documents();
    let c = TempCorpus::new();
    // Later documents are older, so the newest is the first of each cluster... reversed.
    let secs = |i: usize| 1_700_000_000i64 - 86_400 * i as i64;
    c.file(
        "docs.jsonl",
        docs.iter()
            .enumerate()
            .map(|(i, (id, t))| {
                let date = if i % 3 == 0 {
                    json!(secs(docs.len() - i))
                } else {
                    json!(secs(i))
                };
                jsonl_line(&[("id", json!(id)), ("text", json!(t)), ("date", date)])
            })
            .collect::<String>(),
    );
    let stamps = TimestampSecondArray::from_iter_values((0..docs.len()).map(|i| {
        if i % 3 == 0 {
            secs(docs.len() - i)
        } else {
            secs(i)
        }
    }));
    write_table(
        &c.join("docs.parquet"),
        vec![
            ("id", ids(&docs)),
            ("text", texts(&docs)),
            ("date", Arc::new(stamps)),
        ],
        props(Compression::SNAPPY, 10, true),
    );
    for policy in ["newest:date", "oldest:date"] {
        let want = c.scan(&["docs.jsonl", "--keep", policy]);
        let got = c.scan(&["docs.parquet", "--keep", policy]);
        assert_eq!(findings(&got), findings(&want), "{policy}");
    }
    let first = clusters(&c.scan(&["docs.parquet", "--keep", "first"]));
    let newest = clusters(&c.scan(&["docs.parquet", "--keep", "newest:date"]));
    assert_ne!(
        first, newest,
        "the timestamps change which document is kept"
    );
}
