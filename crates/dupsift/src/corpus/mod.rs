//! Stage 1: read the corpus. Turns command-line inputs (directories, files, JSONL, Parquet,
//! gzip/zstd, stdin) into a stream of [`Document`]s in a stable order, and every input it cannot
//! use into a [`Skipped`] entry with a reason.
//!
//! Invariants:
//! - Order is deterministic: inputs in command-line order, directory entries sorted by file name,
//!   JSONL records in line order, Parquet rows in row order. Document indices are assigned in that order by the caller.
//! - Inputs are only ever opened for reading (the stdin spool is the one file written, and it is a
//!   private temporary file deleted with the [`Corpus`]).
//! - Bad input never aborts the read: it becomes a [`Skipped`] entry and the stream goes on.
//! - Documents can be located again ([`DocLoc`]) and re-read ([`Corpus::reread`]) without holding
//!   their text: later stages keep compact per-document state only.
//!
//! This stage must not normalise, tokenise or hash text (beyond sniffing formats).
//!
//! The work is split in three: [`Corpus::discover`] walks the inputs (cheap metadata and a few
//! magic bytes per file), [`Corpus::read_batches`] does the sequential I/O and hands over raw
//! records, and [`Corpus::decode`] turns records into documents, in parallel at the caller's
//! choice.

mod arrow;
pub use arrow::{ArrowTable, MissingIds, SchemaMismatch};
mod jsonl;
pub use jsonl::{FieldNames, Record, decode_fields, decode_record, iso8601_seconds};
mod open;
pub(crate) mod parquet;
mod read;
mod walk;

#[cfg(test)]
mod testutil;

use std::path::PathBuf;
use std::sync::atomic::AtomicU64;

use tempfile::NamedTempFile;

/// Display name (and document id) of standard input.
pub const STDIN_NAME: &str = "<stdin>";

/// How to find and read the inputs.
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// Include hidden entries (name starting with '.') when walking directories.
    /// Inputs named on the command line are always included.
    pub hidden: bool,
    /// Honour `.gitignore` files found while walking directories.
    pub gitignore: bool,
    /// Follow symbolic links while walking directories. Loops are detected and reported.
    pub follow_links: bool,
    /// JSONL field (Parquet column) holding the document text; for Parquet, `a.b` names field
    /// `b` of a struct column `a` when no column is named `a.b`.
    pub text_field: String,
    /// JSONL field (Parquet column) holding the document id.
    pub id_field: String,
    /// JSONL field (Parquet column) whose value a keep policy ranks documents by (`--keep newest:FIELD`). A
    /// scan sets it from its parameters; other readers leave it `None`.
    pub rank_field: Option<String>,
    /// Larger documents (text file size, JSONL line length, or Parquet text value length) are
    /// skipped with a reason.
    pub max_doc_bytes: u64,
    /// Target raw bytes per batch yielded by [`Corpus::read_batches`].
    pub batch_bytes: usize,
    /// Read cluster members back at the end of a scan for their previews; off for outputs
    /// that show none (the duplicates table), which then skip that read.
    pub previews: bool,
    /// The largest zstd window read, as a power of two (`--zstd-window-log`): a stream made
    /// with a larger one (`zstd --long=28`) is reported, not read, unless this is raised. The
    /// decoder holds up to a window of memory per file being read; 27 (128 MiB) is zstd's
    /// own default, 31 the format's largest.
    pub zstd_window_log: u32,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            hidden: false,
            gitignore: false,
            follow_links: false,
            text_field: "text".to_owned(),
            id_field: "id".to_owned(),
            rank_field: None,
            max_doc_bytes: 64 * 1024 * 1024,
            batch_bytes: 4 * 1024 * 1024,
            previews: true,
            zstd_window_log: ZSTD_WINDOW_LOG,
        }
    }
}

/// The default of [`ReadOptions::zstd_window_log`]: zstd's own decoding limit.
pub const ZSTD_WINDOW_LOG: u32 = 27;
/// The largest [`ReadOptions::zstd_window_log`]: the format's largest window.
pub const ZSTD_WINDOW_LOG_MAX: u32 = 31;

/// How a source's content is split into documents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The whole file is one document.
    Text,
    /// One JSON object per line; one document per object.
    Jsonl,
    /// A Parquet table; one document per row.
    Parquet,
    /// An Arrow table in memory, handed over by the caller ([`Corpus::from_arrow`]); one
    /// document per row, as for Parquet.
    Arrow,
}

impl Format {
    /// The format a file of this name is read in (a compression extension aside): JSONL for
    /// `.jsonl` and `.ndjson`, Parquet for `.parquet` and `.parq`, in any case; text otherwise.
    /// Standard input is sniffed instead.
    pub fn from_name(name: &str) -> Format {
        open::format_from_name(name)
    }
}

/// How a source's bytes are compressed on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// Not compressed.
    None,
    /// gzip, possibly several concatenated members.
    Gzip,
    /// Zstandard, possibly several concatenated frames.
    Zstd,
}

/// One input file to read.
#[derive(Clone, Debug)]
pub struct Source {
    /// What to open (for stdin: the spooled temporary file).
    pub path: PathBuf,
    /// Display name; for a [`Format::Text`] source this is also the document id.
    pub name: String,
    /// How the content splits into documents.
    pub format: Format,
    /// How the content is compressed.
    pub compression: Compression,
    /// Bytes on disk (compressed size for compressed sources; the buffers of an Arrow table),
    /// for progress reporting.
    pub size: u64,
    /// The table of an [`Format::Arrow`] source; `None` for files.
    pub table: Option<std::sync::Arc<ArrowTable>>,
}

impl Format {
    /// Whether documents of this format are records with fields (JSONL lines, Parquet rows),
    /// rather than whole files.
    pub fn has_records(self) -> bool {
        matches!(self, Format::Jsonl | Format::Parquet | Format::Arrow)
    }

    /// Whether a record's [`DocLoc::line`] is a row of a table (Parquet or Arrow) rather than
    /// a line of a file.
    pub fn is_table(self) -> bool {
        matches!(self, Format::Parquet | Format::Arrow)
    }
}

/// Where a document lives, so it can be read again without keeping its text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DocLoc {
    /// Index into [`Corpus::sources`].
    pub source: u32,
    /// 1-based JSONL line or Parquet row; 0 for a whole-file document.
    pub line: u64,
    /// Byte offset of the line start in the (decompressed) stream; 0 for whole files; the
    /// 0-based row group of a Parquet row.
    pub offset: u64,
}

/// Record-level skips (a JSONL line, a Parquet row) listed one by one; beyond these, a run
/// counts them by reason. 100 MB of malformed lines would otherwise hold gigabytes of entries.
pub const LISTED_RECORD_SKIPS: usize = 10_000;

/// The record-level skips a run did not list: how many, by kind of reason (the reason up to
/// its first detail: `invalid JSON`, `not a JSON object`).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Unlisted {
    /// Records skipped and not listed.
    pub records: u64,
    /// The same, by kind of reason (at most [`Unlisted::KINDS`], the rest under `other`).
    pub by_reason: std::collections::BTreeMap<String, u64>,
}

impl Unlisted {
    /// Distinct kinds of reason counted apart.
    pub const KINDS: usize = 64;

    fn count(&mut self, reason: &str) {
        self.records += 1;
        // The kind: up to the first detail (a colon, a parenthesis, a number).
        let end = reason
            .find([':', '(', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9'])
            .unwrap_or(reason.len());
        let kind = reason[..end].trim();
        let kind = if kind.is_empty() { "other" } else { kind };
        if let Some(n) = self.by_reason.get_mut(kind) {
            *n += 1;
        } else if self.by_reason.len() < Self::KINDS {
            self.by_reason.insert(kind.to_owned(), 1);
        } else {
            *self.by_reason.entry("other".to_owned()).or_default() += 1;
        }
    }
}

/// What a run skipped, in bounded memory: every file-level entry, and the first
/// [`LISTED_RECORD_SKIPS`] record-level ones in listing order (by input, then line), the
/// others counted in [`Unlisted`]. Which are listed does not depend on the order they arrive
/// in (threads), so reports stay byte-identical.
#[derive(Debug, Default)]
pub struct SkipList {
    files: Vec<Skipped>,
    records: Vec<Skipped>,
    unlisted: Unlisted,
    limit: usize,
}

impl SkipList {
    /// A list that starts with `first` (discovery's skips) and lists up to `limit` records.
    pub fn new(first: Vec<Skipped>, limit: usize) -> SkipList {
        let mut list = SkipList {
            limit,
            ..SkipList::default()
        };
        list.extend(first);
        list
    }

    /// Adds one entry.
    pub fn push(&mut self, s: Skipped) {
        if s.line.is_none() {
            self.files.push(s);
            return;
        }
        self.records.push(s);
        if self.records.len() >= 2 * self.limit.max(1) {
            self.prune();
        }
    }

    /// Adds entries.
    pub fn extend(&mut self, all: impl IntoIterator<Item = Skipped>) {
        for s in all {
            self.push(s);
        }
    }

    /// An entry, if any was added (what `--strict` stops at).
    pub fn first(&self) -> Option<&Skipped> {
        self.files.first().or(self.records.first())
    }

    /// Keeps the `limit` first records in listing order, counting the others.
    fn prune(&mut self) {
        if self.records.len() <= self.limit {
            return;
        }
        self.records.sort_unstable();
        for s in self.records.drain(self.limit..) {
            self.unlisted.count(&s.reason);
        }
    }

    /// Every entry listed, sorted (by input, then line), and what was not listed.
    pub fn finish(mut self) -> (Vec<Skipped>, Unlisted) {
        self.prune();
        let mut all = self.files;
        all.append(&mut self.records);
        all.sort();
        (all, self.unlisted)
    }
}

/// An input that could not be used, and why.
///
/// Serializes as `{"path": ..., "line": null|n, "reason": ...}`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Skipped {
    /// Display name of the input (as in [`Source::name`]).
    pub path: String,
    /// 1-based JSONL line or Parquet row, when a single record was skipped.
    pub line: Option<u64>,
    /// Human-readable reason.
    pub reason: String,
}

impl Skipped {
    fn file(path: String, reason: String) -> Self {
        Skipped {
            path,
            line: None,
            reason,
        }
    }

    fn at_line(path: String, line: u64, reason: String) -> Self {
        Skipped {
            path,
            line: Some(line),
            reason,
        }
    }
}

/// A raw record as read from disk, before decoding (cheap, sequential I/O only).
#[derive(Debug)]
pub struct RawRecord {
    /// Where the record was read from.
    pub loc: DocLoc,
    /// Whole decompressed file (text sources), one line without its line ending (JSONL), or
    /// the text value of a row (Parquet).
    pub bytes: Vec<u8>,
    /// The other fields of a Parquet row, which its columnar reading has already taken apart;
    /// `None` for files and JSONL lines.
    pub row: Option<RowFields>,
}

/// The fields of a Parquet row beside its text.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RowFields {
    /// The id column's value as text, if the file has the column and the row a value.
    pub id: Option<String>,
    /// The rank column's value (see [`Document::rank`]).
    pub rank: Option<f64>,
}

/// What [`Corpus::read_batches`] hands over: records and the inputs skipped while reading them,
/// each in stream order.
#[derive(Debug, Default)]
pub struct Batch {
    /// Records, in stream order.
    pub records: Vec<RawRecord>,
    /// Inputs (files or lines) skipped while reading this batch, in stream order.
    pub skipped: Vec<Skipped>,
}

/// A decoded document.
#[derive(Clone, Debug)]
pub struct Document {
    /// The file's display name (text) or the JSONL id field (Parquet id column), else
    /// `NAME:LINE` (`NAME:ROW`).
    pub id: String,
    /// Where the document was read from.
    pub loc: DocLoc,
    /// The original bytes: whole file, the JSONL text field's UTF-8, or the Parquet text value.
    pub text: Vec<u8>,
    /// The input had invalid UTF-8 (text files and Parquet binary columns: `text` holds it as
    /// is; JSONL: the line was decoded with replacement characters before parsing).
    pub lossy: bool,
    /// The value of [`ReadOptions::rank_field`] (see [`Record::Doc`]).
    pub rank: Option<f64>,
}

/// The outcome of [`Corpus::decode`].
#[derive(Clone, Debug)]
pub enum Decoded {
    /// A document.
    Doc(Document),
    /// The record is not a usable document.
    Skip(Skipped),
    /// An empty or whitespace-only JSONL line: ignored silently.
    Blank,
}

/// Errors of the corpus stage. Problems with individual inputs are not errors (see [`Skipped`]).
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    /// An input could not be read while reading documents back.
    #[error("cannot read {path}: {source}")]
    Io {
        /// Display name of the input.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A document could not be read back identically: the input changed during the run.
    #[error("{}", changed_message(.path, *.line, *.row))]
    Changed {
        /// Display name of the input.
        path: String,
        /// 1-based JSONL line or Parquet row, or 0 for a whole-file document.
        line: u64,
        /// `line` is a Parquet row.
        row: bool,
    },
    /// Standard input could not be copied to a temporary file.
    #[error("cannot copy standard input to a temporary file: {source}")]
    Spool {
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A location that does not belong to this corpus (a caller bug, not an input problem).
    #[error("invalid document location {loc:?}: {reason}")]
    InvalidLoc {
        /// The offending location.
        loc: DocLoc,
        /// What is wrong with it.
        reason: &'static str,
    },
}

fn changed_message(path: &str, line: u64, row: bool) -> String {
    let unit = if row { "row" } else { "line" };
    if line == 0 {
        format!("{path} changed while being processed: it could not be read back identically")
    } else {
        format!(
            "{path} changed while being processed: {unit} {line} could not be read back identically"
        )
    }
}

/// An input given by the caller that does not exist.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}: no such file or directory", path.display())]
pub struct MissingInput {
    /// The input as given.
    pub path: PathBuf,
}

/// Refuses `inputs` when one of them does not exist (`-`, standard input, always does). A scan
/// skips a missing input with a reason; a gate or an index given a typo must not pass on an
/// empty corpus, so `check` and `index` call this first.
pub fn require_inputs(inputs: &[PathBuf]) -> Result<(), MissingInput> {
    match inputs
        .iter()
        .find(|p| p.as_os_str() != "-" && std::fs::symlink_metadata(p).is_err())
    {
        Some(p) => Err(MissingInput { path: p.clone() }),
        None => Ok(()),
    }
}

/// The inputs of a run: the sources to read, in order, and the inputs already rejected.
#[derive(Debug)]
pub struct Corpus {
    /// Files to read, in reading order. [`DocLoc::source`] indexes this.
    pub sources: Vec<Source>,
    /// Inputs rejected while discovering (missing paths, unreadable files, loops, ...), in order.
    pub skipped: Vec<Skipped>,
    /// Files found but rejected before reading (a `.gz` that is not gzip, unreadable...), as
    /// `(path on disk, display name)`: they are in `skipped` too, and a cleanup copies them
    /// through as they are.
    pub rejected: Vec<(PathBuf, String)>,
    /// Keeps the spools of standard input and of named pipes alive (and deletes them on drop).
    _spool: Vec<NamedTempFile>,
    /// The zstd window limit the corpus was discovered with, for [`Corpus::open_source`].
    zstd_window_log: u32,
}

impl Source {
    /// The file as a person would name it: the path reached from the command line, or
    /// `<stdin>` for standard input (not its spool file).
    pub fn path_for_humans(&self) -> String {
        if self.name == STDIN_NAME {
            STDIN_NAME.to_owned()
        } else {
            self.path.to_string_lossy().into_owned()
        }
    }
}

impl Corpus {
    /// Opens source `index` for reading its content from the start, decompressed: what the
    /// cleanup stage copies from. `tally` counts the raw bytes read.
    pub fn open_source<'a>(
        &self,
        index: usize,
        tally: &'a std::cell::Cell<u64>,
    ) -> std::io::Result<Box<dyn std::io::BufRead + 'a>> {
        let src = &self.sources[index];
        let file = std::fs::File::open(&src.path)?;
        open::decompress(file, src.compression, self.zstd_window_log, None, tally)
    }

    /// A corpus of one Arrow table in memory, named `name` (in skipped entries, and in the ids
    /// of rows without one when `table` names them `NAME:ROW`). Its buffers are shared, not
    /// copied.
    pub fn from_arrow(name: &str, table: ArrowTable) -> Corpus {
        let size = table.memory_size();
        Corpus {
            sources: vec![Source {
                path: PathBuf::from(name),
                name: name.to_owned(),
                format: Format::Arrow,
                compression: Compression::None,
                size,
                table: Some(std::sync::Arc::new(table)),
            }],
            skipped: Vec::new(),
            rejected: Vec::new(),
            _spool: Vec::new(),
            zstd_window_log: ZSTD_WINDOW_LOG,
        }
    }

    /// Walks the inputs. `-` means standard input, which is copied to a temporary file so it can
    /// be read again. Never fails on a bad path: it becomes a [`Skipped`] entry (nonexistent
    /// path, permission denied, symlink loop, walk error). Errors only when standard input cannot
    /// be spooled.
    pub fn discover(inputs: &[PathBuf], opts: &ReadOptions) -> Result<Corpus, CorpusError> {
        walk::discover(inputs, opts, std::io::stdin)
    }

    /// Total bytes on disk of all sources, for a progress bar.
    pub fn total_size(&self) -> u64 {
        self.sources
            .iter()
            .fold(0u64, |acc, s| acc.saturating_add(s.size))
    }

    /// Reads all sources in order, sequentially, handing batches of roughly `opts.batch_bytes`
    /// to `sink`.
    ///
    /// Adds the raw bytes read from disk (compressed bytes for compressed inputs) to `progress`
    /// as it goes; when a source is done (or skipped) its progress is topped up to its
    /// [`Source::size`], so progress ends at [`Corpus::total_size`] unless files grew.
    ///
    /// Read problems of one source (unreadable file, corrupt gzip/zstd stream — documents
    /// already read from it stay —, file too large, JSONL line too long) become [`Skipped`]
    /// entries in the batch and reading goes on. Stops early and returns the sink's error if the
    /// sink fails.
    pub fn read_batches<E>(
        &self,
        opts: &ReadOptions,
        progress: &AtomicU64,
        sink: impl FnMut(Batch) -> Result<(), E>,
    ) -> Result<(), E> {
        read::read_batches(self, opts, progress, sink)
    }

    /// Decodes one raw record. Pure and thread-safe: meant to be called in parallel.
    pub fn decode(&self, rec: RawRecord, opts: &ReadOptions) -> Decoded {
        read::decode(self, rec, opts)
    }

    /// Reads the documents at `locs` again, calling `f(i, doc)` with `i` the index into `locs`.
    ///
    /// `locs` should be sorted ascending (then `f` sees ascending `i`); unsorted or repeated
    /// locations are tolerated, and `f` is then called in location order. Plain files are read
    /// by seeking; compressed ones are streamed again up to the last wanted line.
    ///
    /// Returns [`CorpusError::Changed`] if a record is gone or no longer decodes to a document,
    /// [`CorpusError::Io`] if an input cannot be read.
    pub fn reread(
        &self,
        locs: &[DocLoc],
        opts: &ReadOptions,
        f: impl FnMut(usize, Document),
    ) -> Result<(), CorpusError> {
        read::reread(self, locs, opts, f)
    }

    /// [`Corpus::reread`] without decoding: `f(i, record)` gets the raw record, to be passed
    /// to [`Corpus::decode`] (in parallel, say). A record that no longer decodes to a document
    /// is the caller's to report as changed. Stops at the first error `f` returns.
    pub fn reread_raw(
        &self,
        locs: &[DocLoc],
        opts: &ReadOptions,
        f: impl FnMut(usize, RawRecord) -> Result<(), CorpusError>,
    ) -> Result<(), CorpusError> {
        read::reread_raw(self, locs, opts, f)
    }
}

#[cfg(test)]
mod skip_list_tests {
    use super::*;

    fn rec(path: &str, line: u64, reason: &str) -> Skipped {
        Skipped::at_line(path.to_owned(), line, reason.to_owned())
    }

    /// Issue 18, item 10: record-level skips beyond the limit are counted, not held, and which
    /// are listed does not depend on the order they arrive in.
    #[test]
    fn a_skip_list_holds_the_first_records_and_counts_the_rest_whatever_the_order() {
        let all: Vec<Skipped> = (1..=1000u64)
            .map(|l| {
                let why = if l % 3 == 0 {
                    "invalid JSON: expected value (column 1)"
                } else {
                    "not a JSON object"
                };
                rec("a.jsonl", l, why)
            })
            .chain([Skipped::file("z.bin".into(), "binary".into())])
            .collect();
        let run = |order: &mut dyn Iterator<Item = Skipped>| {
            let mut list = SkipList::new(Vec::new(), 10);
            list.extend(order);
            list.finish()
        };
        let forward = run(&mut all.clone().into_iter());
        let backward = run(&mut all.clone().into_iter().rev());
        assert_eq!(forward, backward);
        let (listed, unlisted) = forward;
        assert_eq!(listed.len(), 11, "10 records and the file");
        assert_eq!(listed[0].line, Some(1));
        assert_eq!(listed[9].line, Some(10));
        assert_eq!(listed[10].path, "z.bin");
        assert_eq!(unlisted.records, 990);
        let by: Vec<(&str, u64)> = unlisted
            .by_reason
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect();
        assert_eq!(by, [("invalid JSON", 330), ("not a JSON object", 660)]);
    }
}
