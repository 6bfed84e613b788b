//! Stage 10 (actions): turn a scan's findings into a cleaned copy of the corpus.
//!
//! [`plan`] (in [`crate::plan`]) decides, from a [`ScanResult`] alone, which documents go (every cluster member but
//! the kept one) and which byte ranges of the documents that stay are cut (repeats of passages,
//! with `--strip-passages`). [`write()`] then streams every input once more and writes, under a
//! directory, the kept documents byte for byte — files into a mirror of the input tree, JSONL
//! lines into JSONL files in input order, compressed as their input unless told otherwise — plus
//! `manifest.jsonl`, one line per removal or cut. With [`Annotate`] the JSONL records written
//! also carry their cluster (see `clean/annotate.rs`); [`Annotate::Only`] removes and cuts
//! nothing, so every record is written, and the manifest is empty.
//!
//! Invariants: inputs are only read; nothing is written outside the given directory (paths from
//! the inputs and ids are sanitised); every input record is accounted for: kept, removed, or
//! passed through unchanged because the scan skipped it (binary files, malformed lines), so that
//! `kept + removed + skipped = read`.
//!
//! [`run`] is the whole command: it refuses an output that overlaps the inputs or is not empty,
//! writes everything (with `report.json`) into a temporary directory beside the output and
//! renames it into place, so an interrupted run leaves the output as it was; [`dry_run`] plans
//! and counts without writing (see `clean/output.rs`).
//!
//! This stage acts on findings; it must not detect anything, print, read the environment or end
//! the process (an embedding host observes progress through [`CleanOptions::on_file_written`]).

use std::borrow::Cow;
use std::io::{self, BufRead, Read, Write};
use std::path::{Path, PathBuf};

use rustc_hash::{FxHashMap, FxHashSet};

use crate::corpus::{Compression, DocLoc, Format};
use crate::result::{ScanResult, round4};

mod annotate;
mod names;
mod output;
mod parquet;
mod table;
pub use crate::plan::{
    Annotate, CLUSTER_FIELD, CLUSTER_SIZE_FIELD, Cut, DUPLICATE_OF_FIELD, Plan, Reason, Removal,
    StripPassages, Totals, plan, totals,
};
use annotate::{Annotations, Refusal};
pub use names::{RESERVED, Renamed, safe_relative};
pub use output::{
    Cleanup, OutputError, check, check_annotate, check_options, check_output, check_strip, dry_run,
    place, run,
};
pub use table::{CleanedTable, table};

/// How a cleanup is done: what it cuts, how it writes, and what it is told to refuse.
#[derive(Clone)]
pub struct CleanOptions<'a> {
    /// The inputs the scan was given: [`run`] refuses an output inside one of them or holding
    /// one (see [`check_output`]).
    pub inputs: Vec<PathBuf>,
    /// The JSONL field holding the text, as the scan read it
    /// ([`ReadOptions::text_field`](crate::corpus::ReadOptions::text_field)): cuts rewrite it.
    pub text_field: String,
    /// Which repeated passages are cut from the documents that stay; must be
    /// [`StripPassages::None`] with [`Annotate::Only`], which cuts nothing.
    pub strip_passages: StripPassages,
    /// What the JSONL records written are annotated with (JSONL inputs only: see
    /// [`check_options`] and [`check_annotate`]).
    pub annotate: Annotate,
    /// Compression of the JSONL and text files written; `None`: as each input.
    pub compress: Option<Compression>,
    /// Replace an existing non-empty output (still atomically: the old one is removed only
    /// once the new one is in place).
    pub force: bool,
    /// Called after each file of the cleaned corpus is written (not the manifest nor
    /// `report.json`), with the number written so far: for progress, or for a test that
    /// interrupts a run part-way. `Sync`, so that a host can run the cleanup on a thread of
    /// its own.
    pub on_file_written: Option<&'a (dyn Fn(u64) + Sync)>,
}

impl CleanOptions<'_> {
    /// The options of a cleanup of the scan of `inputs` with `scan`: a document's repeats of
    /// its own passages are cut when the scan looks for passages (a body pasted twice comes out
    /// once), nothing is cut otherwise; the rest as by default.
    pub fn new(inputs: &[PathBuf], scan: &crate::ScanOptions) -> CleanOptions<'static> {
        CleanOptions {
            inputs: inputs.to_vec(),
            text_field: scan.read.text_field.clone(),
            strip_passages: StripPassages::default_for(scan.params.passages.is_some()),
            ..CleanOptions::default()
        }
    }
}

impl Default for CleanOptions<'_> {
    /// No inputs, the default text field, nothing cut, no annotation, compression as each
    /// input, no force, no callback.
    fn default() -> Self {
        CleanOptions {
            inputs: Vec::new(),
            text_field: crate::corpus::ReadOptions::default().text_field,
            strip_passages: StripPassages::None,
            annotate: Annotate::None,
            compress: None,
            force: false,
            on_file_written: None,
        }
    }
}

impl std::fmt::Debug for CleanOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CleanOptions")
            .field("inputs", &self.inputs)
            .field("text_field", &self.text_field)
            .field("strip_passages", &self.strip_passages)
            .field("annotate", &self.annotate)
            .field("compress", &self.compress)
            .field("force", &self.force)
            .field("on_file_written", &self.on_file_written.map(|_| "Fn(u64)"))
            .finish()
    }
}

/// Counts the files written and tells [`CleanOptions::on_file_written`].
struct Written<'a> {
    count: u64,
    hook: Option<&'a (dyn Fn(u64) + Sync)>,
}

impl Written<'_> {
    fn one(&mut self) {
        self.count += 1;
        if let Some(hook) = self.hook {
            hook(self.count);
        }
    }
}

/// Why a cleanup could not be written.
#[derive(Debug, thiserror::Error)]
pub enum CleanError {
    /// Reading an input or writing the output failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: io::Error,
    },
    /// An input changed since it was scanned.
    #[error("{path}: changed since it was scanned")]
    Changed {
        /// The file.
        path: String,
    },
    /// An input would be written where the cleanup writes one of its own files.
    #[error(
        "{path} would be written as {name} at the top of the output, where the cleanup writes its own {name} (rename the input, or give its parent directory instead, so that it is written below the top)"
    )]
    Reserved {
        /// The input (its display name).
        path: String,
        /// The cleanup's file.
        name: &'static str,
    },
    /// The output directory is refused (see [`check_output`]).
    #[error(transparent)]
    Output(#[from] OutputError),
    /// Passages are to be cut, but the scan did not look for them.
    #[error("--strip-passages needs passage detection: drop --no-passages")]
    NeedsPassages,
    /// Passages are to be cut while annotating only, which removes and cuts nothing.
    #[error(
        "--annotate-only removes and cuts nothing: drop --strip-passages (or use --annotate to clean and annotate)"
    )]
    AnnotateOnlyCuts,
    /// Records are to be annotated, but an input is read as plain text: it has none.
    #[error(
        "{path}: {flag} adds fields to JSONL records, and this input is read as plain text (only .jsonl and .ndjson files, and JSON lines on standard input, have records)"
    )]
    AnnotateText {
        /// The input (its display name).
        path: String,
        /// `--annotate` or `--annotate-only`.
        flag: &'static str,
    },
    /// A record to annotate already has a field of the name the annotation would add.
    #[error(
        "{path}:{line}: the record already has a {field:?} field; {flag} neither overwrites nor repeats it (remove it from the input first)"
    )]
    FieldExists {
        /// The input (its display name).
        path: String,
        /// The 1-based line.
        line: u64,
        /// The field.
        field: &'static str,
        /// `--annotate` or `--annotate-only`.
        flag: &'static str,
    },
    /// A Parquet input to annotate already has a column of the name the annotation would add.
    #[error(
        "{path}: the table already has a {field:?} column; {flag} neither overwrites nor repeats it (remove it from the input first)"
    )]
    ColumnExists {
        /// The input (its display name).
        path: String,
        /// The column.
        field: &'static str,
        /// `--annotate` or `--annotate-only`.
        flag: &'static str,
    },
    /// The directory that is to hold the output could not be created.
    #[error("creating {}", path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// No temporary directory could be created beside the output.
    #[error("creating a temporary directory in {}", dir.display())]
    TempDir {
        /// The output's parent directory.
        dir: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// `report.json` could not be created.
    #[error("writing report.json")]
    CreateReport {
        /// Where it was being created (in the temporary directory).
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// `report.json` could not be written. Shown as the bare I/O error: that is the message
    /// the binary has always printed here.
    #[error("{error}")]
    WriteReport {
        /// Where it was being written (in the temporary directory).
        path: PathBuf,
        /// The error.
        error: io::Error,
    },
    /// [`table`] was given the scan of something else than one Arrow table in memory.
    #[error("only the scan of one Arrow table in memory is cleaned into a table")]
    NotATable,
    /// Without `force`, something was put in the output directory while the cleanup ran: it
    /// is left as it is, and the finished cleanup stays in `kept`.
    #[error("{} is not empty any more: something was written into it while the cleanup ran, and it is not replaced without --force (the finished cleanup is in {})", path.display(), kept.display())]
    OutputTaken {
        /// The output directory.
        path: PathBuf,
        /// The hidden directory holding the finished cleanup.
        kept: PathBuf,
    },
    /// The finished output could not be renamed into place.
    #[error("moving the output to {}", path.display())]
    Place {
        /// The output directory.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> CleanError + '_ {
    move |source| CleanError::Io {
        path: path.display().to_string(),
        source,
    }
}

enum Sink {
    Plain(io::BufWriter<std::fs::File>),
    Gzip(flate2::write::GzEncoder<io::BufWriter<std::fs::File>>),
    Zstd(zstd::stream::write::Encoder<'static, io::BufWriter<std::fs::File>>),
}

impl Sink {
    fn create(path: &Path, codec: Compression) -> io::Result<Sink> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = io::BufWriter::new(
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)?,
        );
        Ok(match codec {
            Compression::None => Sink::Plain(file),
            Compression::Gzip => Sink::Gzip(flate2::write::GzEncoder::new(
                file,
                flate2::Compression::default(),
            )),
            Compression::Zstd => Sink::Zstd(zstd::stream::write::Encoder::new(file, 3)?),
        })
    }

    fn finish(self) -> io::Result<()> {
        let file = match self {
            Sink::Plain(w) => w,
            Sink::Gzip(w) => w.finish()?,
            Sink::Zstd(w) => w.finish()?,
        };
        let file = file.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Plain(w) => w.write(buf),
            Sink::Gzip(w) => w.write(buf),
            Sink::Zstd(w) => w.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Plain(w) => w.flush(),
            Sink::Gzip(w) => w.flush(),
            Sink::Zstd(w) => w.flush(),
        }
    }
}

/// Removes `cuts` (sorted, disjoint, within bounds) from `text`.
fn apply_cuts(text: &[u8], cuts: &[Cut]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut at = 0usize;
    for c in cuts {
        let (s, e) = (
            c.bytes.start as usize,
            (c.bytes.end as usize).min(text.len()),
        );
        if s >= at && s <= e {
            out.extend_from_slice(&text[at..s]);
            at = e;
        }
    }
    out.extend_from_slice(&text[at.min(text.len())..]);
    out
}

/// Rewrites the text field of one JSONL line with `cuts` applied, leaving every other byte of the
/// line as it was (a byte order mark, invalid UTF-8 in other fields, spacing, key order). `None`
/// when the field cannot be found again (the caller reports a change).
fn cut_jsonl_line(line: &[u8], text_field: &str, cuts: &[Cut]) -> Option<Vec<u8>> {
    let bom = if line.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let body = &line[bom..];
    // The reader decoded invalid UTF-8 lossily; do the same, remembering where each valid run
    // came from so the field's place maps back to the original bytes.
    let mut lossy = String::with_capacity(body.len());
    let mut anchors: Vec<(usize, usize)> = Vec::new(); // (offset in lossy, offset in body)
    let mut at = 0;
    for chunk in body.utf8_chunks() {
        anchors.push((lossy.len(), at));
        lossy.push_str(chunk.valid());
        at += chunk.valid().len();
        if !chunk.invalid().is_empty() {
            lossy.push('\u{fffd}');
            at += chunk.invalid().len();
        }
    }
    let to_body = |pos: usize| -> usize {
        let i = anchors.partition_point(|a| a.0 <= pos).saturating_sub(1);
        let (l, b) = anchors.get(i).copied().unwrap_or((0, 0));
        b + (pos - l)
    };
    let fields: FxHashMap<String, &serde_json::value::RawValue> =
        serde_json::from_str(lossy.trim_end_matches(['\n', '\r'])).ok()?;
    let raw = fields.get(text_field)?;
    let text: String = serde_json::from_str(raw.get()).ok()?;
    let cut = apply_cuts(text.as_bytes(), cuts);
    let escaped = serde_json::to_string(&String::from_utf8_lossy(&cut)).ok()?;
    // The raw value borrows from `lossy`: its address gives its place; the quotes around it are
    // ASCII, so its ends map back exactly.
    let start = raw.get().as_ptr() as usize - lossy.as_ptr() as usize;
    let end = start + raw.get().len();
    let (start, end) = (bom + to_body(start), bom + to_body(end));
    let mut out = Vec::with_capacity(line.len());
    out.extend_from_slice(&line[..start]);
    out.extend_from_slice(escaped.as_bytes());
    out.extend_from_slice(&line[end..]);
    Some(out)
}

/// How the JSONL record of a document that stays is written: its cuts, then its annotation.
struct Records<'a> {
    plan: &'a Plan,
    /// Text bytes of each document.
    bytes: &'a [u64],
    text_field: &'a str,
    annotations: Option<Annotations<'a>>,
}

impl<'a> Records<'a> {
    fn new(result: &'a ScanResult, plan: &'a Plan, options: &'a CleanOptions) -> Records<'a> {
        Records {
            plan,
            bytes: &result.docs.bytes,
            text_field: &options.text_field,
            annotations: (options.annotate != Annotate::None)
                .then(|| Annotations::new(result, options.annotate)),
        }
    }
}

/// The document read from line (or row) `line` of source `source`, if the scan took one from
/// there: a binary search of the documents of that source.
fn doc_finder(result: &ScanResult, source: u32) -> impl Fn(u64) -> Option<u32> + '_ {
    let docs = &result.docs;
    // Documents of an index (below `prior`) come first and are in no input.
    let prior = result.prior as usize;
    let first = prior + docs.locs[prior..].partition_point(|l| l.source < source);
    move |line: u64| -> Option<u32> {
        let i = first + docs.locs[first..].partition_point(|l| (l.source, l.line) < (source, line));
        docs.locs
            .get(i)
            .filter(|l| l.source == source && l.line == line)
            .map(|_| i as u32)
    }
}

impl Records<'_> {
    /// The line to write for document `d`, read as `line` (with its line ending) at line
    /// `number` of the source `name`, and the bytes of text it holds.
    fn rewrite<'l>(
        &self,
        line: &'l [u8],
        d: u32,
        name: &str,
        number: u64,
    ) -> Result<(Cow<'l, [u8]>, u64), CleanError> {
        let changed = || CleanError::Changed {
            path: name.to_owned(),
        };
        let mut out = Cow::Borrowed(line);
        let mut bytes = self.bytes[d as usize];
        if let Some(cuts) = self.plan.cuts.get(&d) {
            let mut new = cut_jsonl_line(line, self.text_field, cuts).ok_or_else(changed)?;
            if line.ends_with(b"\n") && !new.ends_with(b"\n") {
                new.push(b'\n');
            }
            out = new.into();
            bytes -= cuts
                .iter()
                .map(|c| c.bytes.end - c.bytes.start)
                .sum::<u64>();
        }
        if let Some(a) = &self.annotations {
            out = match a.annotate(&out, d) {
                Ok(new) => new.into(),
                Err(Refusal::Exists(field)) => {
                    return Err(CleanError::FieldExists {
                        path: name.to_owned(),
                        line: number,
                        field,
                        flag: a.mode().flag(),
                    });
                }
                Err(Refusal::NotAnObject) => return Err(changed()),
            };
        }
        Ok((out, bytes))
    }
}

/// Writes the cleaned corpus and `manifest.jsonl` under `dir` (which must exist and be empty),
/// reading every source once more, with the text field, annotation, compression and callback
/// of `options` (its other fields are for [`run`]), following `plan` (with [`Annotate::Only`],
/// an empty plan). Refuses what [`check_annotate`] refuses, and a record that already has a
/// field the annotation adds. Nothing is placed atomically here: [`run`] does that.
pub fn write(
    result: &ScanResult,
    plan: &Plan,
    dir: &Path,
    options: &CleanOptions,
) -> Result<Totals, CleanError> {
    check_annotate(result, options.annotate)?;
    let compress = options.compress;
    let records = Records::new(result, plan, options);
    let mut written = Written {
        count: 0,
        hook: options.on_file_written,
    };
    let docs = &result.docs;
    let corpus = &result.corpus;
    let mut totals = totals(result, plan);
    totals.bytes_out = 0;
    let names = names::place(result, compress);
    let damaged = crate::plan::damaged(result);
    let reported: FxHashSet<&str> = result.skipped.iter().map(|k| k.path.as_str()).collect();
    for (index, src) in corpus.sources.iter().enumerate() {
        let codec = names::codec(src.format, src.compression, compress);
        let out_path = dir.join(&names.sources[index]);
        let tally = std::cell::Cell::new(0);
        let src_path = Path::new(&src.name);
        // Documents of an index (below `prior`) come first and are in no input.
        let doc_at = doc_finder(result, index as u32);
        if src.format == Format::Text && doc_at(0).is_none() {
            // Not a document (binary, empty, too large, corrupt): copied through exactly as it
            // is on disk, so a cleanup never loses what it did not judge.
            copy_through(&src.path, &out_path, &mut written)?;
            continue;
        }
        if src.format == Format::Parquet {
            if !crate::corpus::parquet::has_text_column(src, &options.text_field) {
                // Not a table the scan could read: copied through, as a binary file is.
                copy_through(&src.path, &out_path, &mut written)?;
                continue;
            }
            totals.bytes_out += parquet::write(src, &doc_at, &records, &result.skipped, &out_path)?;
            written.one();
            continue;
        }
        if src.format == Format::Arrow {
            totals.bytes_out += parquet::write_table(src, &doc_at, &records, &out_path)?;
            written.one();
            continue;
        }
        if damaged.contains_key(&(index as u32)) {
            // The scan could not read it to its end: copied as it is, every record with it
            // (the plan neither removes nor cuts its documents).
            totals.bytes_out += (result.prior as usize..docs.len())
                .filter(|&d| docs.locs[d].source == index as u32)
                .map(|d| docs.bytes[d])
                .sum::<u64>();
            copy_through(&src.path, &out_path, &mut written)?;
            continue;
        }
        let mut reader = match corpus.open_source(index, &tally) {
            Ok(r) => r,
            // The scan reported it as skipped; there is nothing to copy.
            Err(_) => continue,
        };
        match src.format {
            Format::Text => {
                let d = doc_at(0).expect("documents only reach here");
                if plan.removed.contains_key(&d) {
                    continue;
                }
                let mut content = Vec::new();
                reader.read_to_end(&mut content).map_err(io_err(src_path))?;
                if xxhash_rust::xxh3::xxh3_128(&content) != docs.content[d as usize] {
                    return Err(CleanError::Changed {
                        path: src.name.clone(),
                    });
                }
                let kept = match plan.cuts.get(&d) {
                    Some(cuts) => apply_cuts(&content, cuts),
                    None => content,
                };
                totals.bytes_out += kept.len() as u64;
                let mut sink = Sink::create(&out_path, codec).map_err(io_err(&out_path))?;
                sink.write_all(&kept).map_err(io_err(&out_path))?;
                sink.finish().map_err(io_err(&out_path))?;
                written.one();
            }
            Format::Jsonl => {
                let mut sink = Sink::create(&out_path, codec).map_err(io_err(&out_path))?;
                let mut line = Vec::new();
                let mut number = 0u64;
                loop {
                    line.clear();
                    match reader.read_until(b'\n', &mut line) {
                        Ok(0) => break,
                        Ok(_) => {}
                        // A damaged stream the scan reported: what could be read is written.
                        Err(_) if reported.contains(src.name.as_str()) => break,
                        Err(e) => return Err(io_err(src_path)(e)),
                    }
                    number += 1;
                    match doc_at(number) {
                        Some(d) if plan.removed.contains_key(&d) => continue,
                        Some(d) => {
                            let (out, bytes) = records.rewrite(&line, d, &src.name, number)?;
                            sink.write_all(&out).map_err(io_err(&out_path))?;
                            totals.bytes_out += bytes;
                        }
                        // Blank, malformed or skipped lines stay where they were.
                        None => sink.write_all(&line).map_err(io_err(&out_path))?,
                    }
                }
                sink.finish().map_err(io_err(&out_path))?;
                written.one();
            }
            Format::Parquet | Format::Arrow => unreachable!("written above"),
        }
    }
    for ((path, _), rel) in corpus.rejected.iter().zip(&names.rejected) {
        copy_through(path, &dir.join(rel), &mut written)?;
    }
    let mut files: Vec<FileEntry> = names
        .renamed
        .iter()
        .map(|r| FileEntry {
            source: &r.source,
            reason: "renamed",
            output: r.output.to_string_lossy(),
            detail: None,
        })
        .collect();
    let mut damaged: Vec<(u32, &str)> = damaged.into_iter().collect();
    damaged.sort_unstable();
    files.extend(damaged.into_iter().map(|(i, why)| FileEntry {
        source: &corpus.sources[i as usize].name,
        reason: "damaged",
        output: names.sources[i as usize].to_string_lossy(),
        detail: Some(why),
    }));
    write_manifest(result, plan, &files, &dir.join("manifest.jsonl"))?;
    Ok(totals)
}

/// Copies a file byte for byte to `to` under the output directory.
fn copy_through(from: &Path, to: &Path, written: &mut Written) -> Result<(), CleanError> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    }
    match std::fs::copy(from, to) {
        Ok(_) => {
            written.one();
            Ok(())
        }
        // Unreadable inputs are in the report's skipped list; there is nothing to copy.
        Err(e)
            if e.kind() == io::ErrorKind::PermissionDenied
                || e.kind() == io::ErrorKind::NotFound =>
        {
            Ok(())
        }
        Err(e) => Err(io_err(to)(e)),
    }
}

/// One line of `manifest.jsonl`: a document removed, or a range cut from a document kept.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ManifestEntry<'a> {
    /// The document's id.
    pub id: &'a str,
    /// The input it was read from (its display name).
    pub source: &'a str,
    /// Its 1-based line (JSONL) or row (Parquet, Arrow); `None` for a whole file.
    pub line: Option<u64>,
    /// Why it (or the range) goes.
    pub reason: Reason,
    /// The kept document of its cluster, or the document keeping the passage.
    pub duplicate_of: &'a str,
    /// Similarity to that document (a passage's identity for a cut), rounded to 4 decimals.
    pub similarity: Option<f64>,
    /// Bytes removed.
    pub bytes: u64,
    /// The passage cut (its index in the report).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passage: Option<usize>,
    /// First byte cut, in the document's text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<u64>,
    /// One past the last byte cut.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<u64>,
}

/// Hands `f` every entry of the manifest of `plan`: removals and cuts interleaved in document
/// order (a document's removal, then its cuts in byte order). Stops at `f`'s first error.
pub fn manifest<E>(
    result: &ScanResult,
    plan: &Plan,
    mut f: impl FnMut(&ManifestEntry<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let docs = &result.docs;
    let loc = |d: u32| -> (&str, Option<u64>) {
        let l: DocLoc = docs.locs[d as usize];
        let name = result.corpus.sources[l.source as usize].name.as_str();
        (name, (l.line > 0).then_some(l.line))
    };
    let mut docs_touched: Vec<u32> = plan
        .removed
        .keys()
        .chain(plan.cuts.keys())
        .copied()
        .collect();
    docs_touched.sort_unstable();
    docs_touched.dedup();
    for d in docs_touched {
        let (source, line) = loc(d);
        if let Some(r) = plan.removed.get(&d) {
            f(&ManifestEntry {
                id: docs.id(d),
                source,
                line,
                reason: r.reason,
                duplicate_of: docs.id(r.kept),
                similarity: Some(round4(r.similarity)),
                bytes: docs.bytes[d as usize],
                passage: None,
                start: None,
                end: None,
            })?;
        }
        for c in plan.cuts.get(&d).into_iter().flatten() {
            f(&ManifestEntry {
                id: docs.id(d),
                source,
                line,
                reason: Reason::RepeatedPassage,
                duplicate_of: docs.id(c.kept_in),
                similarity: Some(result.passages[c.passage].identity),
                bytes: c.bytes.end - c.bytes.start,
                passage: Some(c.passage),
                start: Some(c.bytes.start),
                end: Some(c.bytes.end),
            })?;
        }
    }
    Ok(())
}

/// One line of `manifest.jsonl` about an input file as a whole: written under another name
/// than its own (`renamed`), or copied as it was because the scan could not read it to its
/// end (`damaged`, with the scan's reason).
#[derive(serde::Serialize)]
struct FileEntry<'a> {
    source: &'a str,
    reason: &'static str,
    output: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
}

/// Writes `manifest.jsonl`: the lines about whole files first (renamings, then damaged inputs,
/// each in input order), then the removals and cuts.
fn write_manifest(
    result: &ScanResult,
    plan: &Plan,
    files: &[FileEntry],
    path: &Path,
) -> Result<(), CleanError> {
    let mut w = io::BufWriter::new(std::fs::File::create(path).map_err(io_err(path))?);
    for entry in files {
        serde_json::to_writer(&mut w, entry).map_err(|e| io_err(path)(e.into()))?;
        w.write_all(b"\n").map_err(io_err(path))?;
    }
    manifest(result, plan, |entry| {
        serde_json::to_writer(&mut w, entry).map_err(|e| io_err(path)(e.into()))?;
        w.write_all(b"\n").map_err(io_err(path))
    })?;
    let file = w.into_inner().map_err(|e| io_err(path)(e.into_error()))?;
    file.sync_all().map_err(io_err(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(r: std::ops::Range<u64>) -> Cut {
        Cut {
            bytes: r,
            passage: 0,
            kept_in: 0,
        }
    }

    #[test]
    fn cuts_remove_exactly_their_bytes() {
        assert_eq!(
            apply_cuts(b"0123456789", &[cut(2..4), cut(6..7)]),
            b"0145789"
        );
        assert_eq!(apply_cuts(b"abc", &[]), b"abc");
        assert_eq!(apply_cuts(b"abc", &[cut(0..3)]), b"");
    }

    #[test]
    fn jsonl_cuts_touch_only_the_text_field() {
        let line = br#"{"z": 1, "text": "keep\u00e9 cut this", "id": "a"}"#;
        // Bytes of the decoded text: "keepé cut this" (é is 2 bytes).
        let out = cut_jsonl_line(line, "text", &[cut(6..15)]).unwrap();
        // serde_json writes é as UTF-8, not as an escape: the field's bytes change, the rest not.
        assert_eq!(out, r#"{"z": 1, "text": "keepé", "id": "a"}"#.as_bytes());
        assert!(cut_jsonl_line(b"{\"id\": 1}", "text", &[cut(0..1)]).is_none());
        // A byte order mark and invalid UTF-8 in other fields stay as they were.
        let line = b"\xEF\xBB\xBF{\"m\": \"\xff\", \"text\": \"abcdef\", \"t\": \"\xfe\"}";
        let out = cut_jsonl_line(line, "text", &[cut(1..3)]).unwrap();
        assert_eq!(
            out,
            b"\xEF\xBB\xBF{\"m\": \"\xff\", \"text\": \"adef\", \"t\": \"\xfe\"}"
        );
    }
}
