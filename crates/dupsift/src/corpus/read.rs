//! Reading: the sequential pass that turns sources into batches of raw records, decoding of
//! records into documents, and reading documents back by location.
//!
//! Invariants:
//! - `read_batches` is the only full pass over the data and does I/O only; decoding (UTF-8,
//!   JSON) is left to `decode` so the caller can run it in parallel.
//! - Records and skips leave in stream order; a batch is handed over once it holds about
//!   `batch_bytes`, so memory stays bounded by one batch plus one document.
//! - A failing source never stops the pass: what was read from it stays, the failure is a
//!   [`Skipped`].
//! - `decode` is a pure function of the record and the corpus, so `reread` reproduces exactly the
//!   documents the first pass produced, or reports [`CorpusError::Changed`].

use std::cell::Cell;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::sync::atomic::{AtomicU64, Ordering};

use memchr::memchr;

use super::jsonl::{self, Line, LineReader, line_loc};
use super::open::{self, io_reason, stream_reason};
use super::{
    Batch, Compression, Corpus, CorpusError, Decoded, DocLoc, Document, Format, RawRecord,
    ReadOptions, Skipped, Source,
};
use super::{arrow, parquet};

/// Counted against `batch_bytes` for every record and skip on top of its bytes, so that batches
/// of empty lines or of skips stay bounded in length.
const ENTRY_OVERHEAD: usize = 64;

/// How much of a text file is searched for a NUL byte to call it binary (as git and grep do).
const BINARY_SNIFF: usize = 8 * 1024;

/// Buffer for seeking reads during `reread`: lines are usually far apart, so keep it modest.
const SEEK_BUF: usize = 64 * 1024;

/// Accumulates records and skips and hands them to the sink in batches.
struct Batcher<F> {
    batch: Batch,
    bytes: usize,
    target: usize,
    sink: F,
}

impl<F> Batcher<F> {
    fn record<E>(&mut self, rec: RawRecord) -> Result<(), E>
    where
        F: FnMut(Batch) -> Result<(), E>,
    {
        self.bytes = self
            .bytes
            .saturating_add(rec.bytes.len().saturating_add(ENTRY_OVERHEAD));
        self.batch.records.push(rec);
        self.flush_if_full()
    }

    fn skip<E>(&mut self, s: Skipped) -> Result<(), E>
    where
        F: FnMut(Batch) -> Result<(), E>,
    {
        self.bytes = self.bytes.saturating_add(ENTRY_OVERHEAD);
        self.batch.skipped.push(s);
        self.flush_if_full()
    }

    fn flush_if_full<E>(&mut self) -> Result<(), E>
    where
        F: FnMut(Batch) -> Result<(), E>,
    {
        if self.bytes >= self.target {
            self.flush()?;
        }
        Ok(())
    }

    fn flush<E>(&mut self) -> Result<(), E>
    where
        F: FnMut(Batch) -> Result<(), E>,
    {
        if self.batch.records.is_empty() && self.batch.skipped.is_empty() {
            return Ok(());
        }
        self.bytes = 0;
        (self.sink)(std::mem::take(&mut self.batch))
    }
}

/// See [`Corpus::read_batches`].
pub(super) fn read_batches<E>(
    corpus: &Corpus,
    opts: &ReadOptions,
    progress: &AtomicU64,
    sink: impl FnMut(Batch) -> Result<(), E>,
) -> Result<(), E> {
    let mut out = Batcher {
        batch: Batch::default(),
        bytes: 0,
        target: opts.batch_bytes,
        sink,
    };
    for (i, src) in corpus.sources.iter().enumerate() {
        // `discover` never yields more sources than a u32 can index.
        let Ok(index) = u32::try_from(i) else { break };
        let tally = Cell::new(0);
        let res = match src.format {
            Format::Text => read_text(index, src, opts, progress, &tally, &mut out),
            Format::Jsonl => read_jsonl(index, src, opts, progress, &tally, &mut out),
            Format::Parquet => read_parquet(index, src, opts, progress, &tally, &mut out),
            Format::Arrow => read_arrow(index, src, opts, progress, &tally, &mut out),
        };
        // Skipped or partly read sources still count as done for the progress bar.
        if let Some(rest) = src.size.checked_sub(tally.get()) {
            progress.fetch_add(rest, Ordering::Relaxed);
        }
        res?;
    }
    out.flush()
}

/// Why a whole-file document could not be read.
enum WholeError {
    Open(io::Error),
    Read(io::Error),
    /// Too large; the exact size when known without reading (plain files).
    TooLarge(Option<u64>),
}

impl WholeError {
    fn reason(&self, src: &Source, opts: &ReadOptions) -> String {
        let max = opts.max_doc_bytes;
        match self {
            WholeError::Open(e) => io_reason(e),
            WholeError::Read(e) => stream_reason(src.compression, e, None, opts.zstd_window_log),
            WholeError::TooLarge(Some(n)) => {
                format!("file too large: {n} bytes (limit {max}; see --max-doc-bytes)")
            }
            WholeError::TooLarge(None) => {
                let decompressed = if src.compression == Compression::None {
                    ""
                } else {
                    " decompressed"
                };
                format!(
                    "file too large: more than {max} bytes{decompressed} (limit {max}; see --max-doc-bytes)"
                )
            }
        }
    }
}

/// The whole decompressed content of a text source, at most `max` bytes.
fn read_whole(
    src: &Source,
    opts: &ReadOptions,
    progress: Option<&AtomicU64>,
    tally: &Cell<u64>,
) -> Result<Vec<u8>, WholeError> {
    let max = opts.max_doc_bytes;
    let file = File::open(&src.path).map_err(WholeError::Open)?;
    let mut capacity = 0;
    if src.compression == Compression::None {
        // Checked before reading so a huge file costs nothing.
        let len = file.metadata().map_err(WholeError::Open)?.len();
        if len > max {
            return Err(WholeError::TooLarge(Some(len)));
        }
        capacity = usize::try_from(len).unwrap_or(0);
    }
    let mut r = open::decompress(file, src.compression, opts.zstd_window_log, progress, tally)
        .map_err(WholeError::Open)?;
    let mut buf = Vec::with_capacity(capacity);
    // The limit also guards plain files that grew since their size was checked.
    r.by_ref()
        .take(max.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(WholeError::Read)?;
    if buf.len() as u64 > max {
        return Err(WholeError::TooLarge(None));
    }
    Ok(buf)
}

fn read_text<E>(
    index: u32,
    src: &Source,
    opts: &ReadOptions,
    progress: &AtomicU64,
    tally: &Cell<u64>,
    out: &mut Batcher<impl FnMut(Batch) -> Result<(), E>>,
) -> Result<(), E> {
    match read_whole(src, opts, Some(progress), tally) {
        Ok(bytes) => out.record(RawRecord {
            loc: line_loc(index, 0, 0),
            bytes,
            row: None,
        }),
        Err(e) => out.skip(Skipped::file(src.name.clone(), e.reason(src, opts))),
    }
}

fn too_long_reason(len: u64, max: u64) -> String {
    format!("line too long: {len} bytes (limit {max}; see --max-doc-bytes)")
}

fn read_jsonl<E>(
    index: u32,
    src: &Source,
    opts: &ReadOptions,
    progress: &AtomicU64,
    tally: &Cell<u64>,
    out: &mut Batcher<impl FnMut(Batch) -> Result<(), E>>,
) -> Result<(), E> {
    let file = match File::open(&src.path) {
        Ok(f) => f,
        Err(e) => return out.skip(Skipped::file(src.name.clone(), io_reason(&e))),
    };
    let stream = match open::decompress(
        file,
        src.compression,
        opts.zstd_window_log,
        Some(progress),
        tally,
    ) {
        Ok(s) => s,
        Err(e) => {
            return out.skip(Skipped::file(
                src.name.clone(),
                stream_reason(src.compression, &e, None, opts.zstd_window_log),
            ));
        }
    };
    let max = opts.max_doc_bytes;
    let mut lines = LineReader::new(stream, max);
    loop {
        match lines.next_line() {
            Ok(None) => return Ok(()),
            Ok(Some(Line::Record {
                line,
                offset,
                bytes,
            })) => out.record(RawRecord {
                loc: line_loc(index, line, offset),
                bytes,
                row: None,
            })?,
            Ok(Some(Line::TooLong { line, len, .. })) => out.skip(Skipped::at_line(
                src.name.clone(),
                line,
                too_long_reason(len, max),
            ))?,
            Err(e) => {
                let after = Some(lines.lines_read()).filter(|&n| n > 0);
                return out.skip(Skipped::file(
                    src.name.clone(),
                    stream_reason(src.compression, &e, after, opts.zstd_window_log),
                ));
            }
        }
    }
}

fn read_parquet<E>(
    index: u32,
    src: &Source,
    opts: &ReadOptions,
    progress: &AtomicU64,
    tally: &Cell<u64>,
    out: &mut Batcher<impl FnMut(Batch) -> Result<(), E>>,
) -> Result<(), E> {
    // The sink's error stops the read; it is kept here and returned once the reader is done.
    let mut failed = None;
    let res = parquet::read_all(index, src, opts, progress, tally, |found| {
        let res = match found {
            parquet::Found::Row(_, Ok(rec)) => out.record(rec),
            parquet::Found::Row(row, Err(reason)) => {
                out.skip(Skipped::at_line(src.name.clone(), row, reason))
            }
            parquet::Found::BadGroup(reason) => out.skip(Skipped::file(src.name.clone(), reason)),
        };
        match res {
            Ok(()) => true,
            Err(e) => {
                failed = Some(e);
                false
            }
        }
    });
    if let Some(e) = failed {
        return Err(e);
    }
    match res {
        Ok(()) => Ok(()),
        Err(parquet::FileProblem::Io(e)) => {
            out.skip(Skipped::file(src.name.clone(), io_reason(&e)))
        }
        Err(parquet::FileProblem::Reason(r)) => out.skip(Skipped::file(src.name.clone(), r)),
    }
}

fn read_arrow<E>(
    index: u32,
    src: &Source,
    opts: &ReadOptions,
    progress: &AtomicU64,
    tally: &Cell<u64>,
    out: &mut Batcher<impl FnMut(Batch) -> Result<(), E>>,
) -> Result<(), E> {
    let Some(table) = &src.table else {
        return out.skip(Skipped::file(
            src.name.clone(),
            "an Arrow source without its table".to_owned(),
        ));
    };
    let mut failed = None;
    let res = arrow::read_all(index, table, opts, progress, |row, rec| {
        let res = match rec {
            Ok(rec) => out.record(rec),
            Err(reason) => out.skip(Skipped::at_line(src.name.clone(), row, reason)),
        };
        res.map_err(|e| failed = Some(e)).is_ok()
    });
    // The whole table counts as read (the progress bar counts its buffers).
    tally.set(src.size);
    if let Some(e) = failed {
        return Err(e);
    }
    match res {
        Ok(()) => Ok(()),
        Err(reason) => out.skip(Skipped::file(src.name.clone(), reason)),
    }
}

/// See [`Corpus::decode`].
pub(super) fn decode(corpus: &Corpus, rec: RawRecord, opts: &ReadOptions) -> Decoded {
    let Some(src) = corpus.sources.get(rec.loc.source as usize) else {
        // Only a caller mixing up corpora gets here; a skip keeps the run going.
        return Decoded::Skip(Skipped {
            path: format!("<source #{}>", rec.loc.source),
            line: (rec.loc.line > 0).then_some(rec.loc.line),
            reason: "record from an unknown source".to_owned(),
        });
    };
    match src.format {
        Format::Text => decode_text(src, rec),
        Format::Jsonl => jsonl::decode_line(src, rec, opts),
        Format::Parquet | Format::Arrow => decode_row(src, rec),
    }
}

/// A Parquet row: its fields were taken apart by the read; only the id may need making up.
fn decode_row(src: &Source, rec: RawRecord) -> Decoded {
    let RawRecord { loc, bytes, row } = rec;
    let row = row.unwrap_or_default();
    // A string column holds valid UTF-8; a binary one may not.
    let lossy = std::str::from_utf8(&bytes).is_err();
    Decoded::Doc(Document {
        id: row.id.unwrap_or_else(|| match &src.table {
            Some(table) => table.missing_id(&src.name, loc.line),
            None => format!("{}:{}", src.name, loc.line),
        }),
        loc,
        text: bytes,
        lossy,
        rank: row.rank,
    })
}

fn decode_text(src: &Source, rec: RawRecord) -> Decoded {
    let RawRecord { loc, bytes, .. } = rec;
    if bytes.is_empty() {
        return Decoded::Skip(Skipped::file(src.name.clone(), "empty file".to_owned()));
    }
    if memchr(0, &bytes[..bytes.len().min(BINARY_SNIFF)]).is_some() {
        return Decoded::Skip(Skipped::file(src.name.clone(), "binary file".to_owned()));
    }
    let lossy = std::str::from_utf8(&bytes).is_err();
    Decoded::Doc(Document {
        id: src.name.clone(),
        loc,
        text: bytes,
        lossy,
        // A file has no fields.
        rank: None,
    })
}

/// See [`Corpus::reread`].
pub(super) fn reread(
    corpus: &Corpus,
    locs: &[DocLoc],
    opts: &ReadOptions,
    mut f: impl FnMut(usize, Document),
) -> Result<(), CorpusError> {
    reread_raw(corpus, locs, opts, |i, rec| {
        let loc = rec.loc;
        match decode(corpus, rec, opts) {
            Decoded::Doc(d) => {
                f(i, d);
                Ok(())
            }
            Decoded::Skip(_) | Decoded::Blank => {
                let src = &corpus.sources[loc.source as usize];
                Err(CorpusError::Changed {
                    path: src.name.clone(),
                    line: loc.line,
                    row: src.format.is_table(),
                })
            }
        }
    })
}

/// See [`Corpus::reread_raw`].
pub(super) fn reread_raw(
    corpus: &Corpus,
    locs: &[DocLoc],
    opts: &ReadOptions,
    mut f: impl FnMut(usize, RawRecord) -> Result<(), CorpusError>,
) -> Result<(), CorpusError> {
    let mut order: Vec<usize> = (0..locs.len()).collect();
    if !locs.is_sorted() {
        // Stable: equal locations keep their index order.
        order.sort_by_key(|&i| locs[i]);
    }
    for group in order.chunk_by(|&a, &b| locs[a].source == locs[b].source) {
        let Some(&first) = group.first() else {
            continue;
        };
        let src =
            corpus
                .sources
                .get(locs[first].source as usize)
                .ok_or(CorpusError::InvalidLoc {
                    loc: locs[first],
                    reason: "no such source",
                })?;
        let mut reader = Rereader {
            src,
            locs,
            opts,
            f: &mut f,
        };
        match (src.format, src.compression) {
            (Format::Text, _) => reader.text(group)?,
            (Format::Jsonl, Compression::None) => reader.seeking(group)?,
            (Format::Jsonl, _) => reader.streaming(group)?,
            (Format::Parquet, _) => reader.parquet(group)?,
            (Format::Arrow, _) => reader.arrow(group)?,
        }
    }
    Ok(())
}

/// Re-reads the wanted locations of one source.
struct Rereader<'a, F> {
    src: &'a Source,
    locs: &'a [DocLoc],
    opts: &'a ReadOptions,
    f: &'a mut F,
}

impl<F: FnMut(usize, RawRecord) -> Result<(), CorpusError>> Rereader<'_, F> {
    fn io_error(&self, source: io::Error) -> CorpusError {
        CorpusError::Io {
            path: self.src.name.clone(),
            source,
        }
    }

    fn changed(&self, loc: DocLoc) -> CorpusError {
        CorpusError::Changed {
            path: self.src.name.clone(),
            line: loc.line,
            row: self.src.format.is_table(),
        }
    }

    /// Hands a record read back to every index wanting it. `run` holds the indices (into
    /// `locs`) of one location.
    fn emit(&mut self, run: &[usize], loc: DocLoc, bytes: Vec<u8>) -> Result<(), CorpusError> {
        let rec = RawRecord {
            loc,
            bytes,
            row: None,
        };
        self.emit_record(run, rec)
    }

    fn text(&mut self, group: &[usize]) -> Result<(), CorpusError> {
        for (run, loc) in runs(self.locs, group) {
            if loc.line != 0 || loc.offset != 0 {
                return Err(CorpusError::InvalidLoc {
                    loc,
                    reason: "a text source holds one whole-file document",
                });
            }
            let tally = Cell::new(0);
            let bytes = match read_whole(self.src, self.opts, None, &tally) {
                Ok(b) => b,
                Err(WholeError::Open(e) | WholeError::Read(e)) => return Err(self.io_error(e)),
                Err(WholeError::TooLarge(_)) => return Err(self.changed(loc)),
            };
            self.emit(run, loc, bytes)?;
        }
        Ok(())
    }

    /// Plain JSONL: seek to each line.
    fn seeking(&mut self, group: &[usize]) -> Result<(), CorpusError> {
        let file = File::open(&self.src.path).map_err(|e| self.io_error(e))?;
        let mut r = BufReader::with_capacity(SEEK_BUF, file);
        let mut pos = 0u64;
        for (run, loc) in runs(self.locs, group) {
            if loc.line == 0 {
                return Err(CorpusError::InvalidLoc {
                    loc,
                    reason: "a JSONL document has a line number",
                });
            }
            // The byte before the line must be a newline: a cheap check that the content has not
            // shifted under us.
            let start = loc.offset.saturating_sub(1);
            seek_to(&mut r, &mut pos, start).map_err(|e| self.io_error(e))?;
            if loc.offset > 0 {
                let mut b = [0u8; 1];
                match r.read_exact(&mut b) {
                    Ok(()) if b[0] == b'\n' => pos += 1,
                    Ok(()) => return Err(self.changed(loc)),
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                        return Err(self.changed(loc));
                    }
                    Err(e) => return Err(self.io_error(e)),
                }
            }
            let mut lines = LineReader::at(&mut r, self.opts.max_doc_bytes, pos, loc.line - 1);
            let line = lines.next_line().map_err(|e| self.io_error(e))?;
            pos = lines.position();
            match line {
                Some(Line::Record { bytes, .. }) => self.emit(run, loc, bytes)?,
                Some(Line::TooLong { .. }) | None => return Err(self.changed(loc)),
            }
        }
        Ok(())
    }

    /// Compressed JSONL: no random access, so decompress again and pick the wanted lines,
    /// stopping after the last one.
    fn streaming(&mut self, group: &[usize]) -> Result<(), CorpusError> {
        let file = File::open(&self.src.path).map_err(|e| self.io_error(e))?;
        let tally = Cell::new(0);
        let stream = open::decompress(
            file,
            self.src.compression,
            self.opts.zstd_window_log,
            None,
            &tally,
        )
        .map_err(|e| self.io_error(e))?;
        let mut lines = LineReader::new(stream, self.opts.max_doc_bytes);
        for (run, loc) in runs(self.locs, group) {
            if loc.line == 0 {
                return Err(CorpusError::InvalidLoc {
                    loc,
                    reason: "a JSONL document has a line number",
                });
            }
            // Lines before the wanted one are passed over without being copied.
            while lines.lines_read() + 1 < loc.line {
                match lines.skip_line().map_err(|e| self.io_error(e))? {
                    Some(_) => {}
                    None => return Err(self.changed(loc)),
                }
            }
            match lines.next_line().map_err(|e| self.io_error(e))? {
                Some(Line::Record {
                    line,
                    offset,
                    bytes,
                }) if line == loc.line && offset == loc.offset => self.emit(run, loc, bytes)?,
                _ => return Err(self.changed(loc)),
            }
        }
        Ok(())
    }
}

impl<F: FnMut(usize, RawRecord) -> Result<(), CorpusError>> Rereader<'_, F> {
    /// Parquet: decode the wanted rows of each row group that holds some, skipping the others.
    fn parquet(&mut self, group: &[usize]) -> Result<(), CorpusError> {
        let first = self.locs[group[0]];
        let table = match parquet::Table::open(self.src, self.opts) {
            Ok(t) => t,
            Err(parquet::FileProblem::Io(e)) => return Err(self.io_error(e)),
            // Read in the first pass, so the file changed.
            Err(parquet::FileProblem::Reason(_)) => return Err(self.changed(first)),
        };
        let runs: Vec<(&[usize], DocLoc)> = runs(self.locs, group).collect();
        for in_group in runs.chunk_by(|a, b| a.1.offset == b.1.offset) {
            let loc = in_group[0].1;
            if let Some(&(_, bad)) = in_group
                .iter()
                .find(|(_, l)| table.group_of(l.line) != Some(l.offset as usize))
            {
                return Err(self.changed(bad));
            }
            let rows: Vec<u64> = in_group.iter().map(|(_, l)| l.line).collect();
            let mut next = in_group.iter();
            let group = loc.offset as usize;
            let res =
                parquet::read_rows(&table, loc.source, group, &rows, self.opts, |row, rec| {
                    let Some(&(run, at)) = next.next() else {
                        return Err(self.changed(loc));
                    };
                    match rec {
                        Ok(rec) if at.line == row => self.emit_record(run, rec),
                        _ => Err(self.changed(at)),
                    }
                })?;
            if res.is_err() {
                return Err(self.changed(loc));
            }
        }
        Ok(())
    }

    /// An Arrow table in memory: a slice of a batch per row.
    fn arrow(&mut self, group: &[usize]) -> Result<(), CorpusError> {
        let first = self.locs[group[0]];
        let table = self.src.table.as_ref().ok_or(CorpusError::InvalidLoc {
            loc: first,
            reason: "an Arrow source without its table",
        })?;
        // Read in the first pass, so its columns are there.
        let cols = arrow::columns(table, self.opts).map_err(|_| self.changed(first))?;
        for (run, loc) in runs(self.locs, group) {
            match arrow::read_row(table, &cols, loc, self.opts) {
                Some(Ok(rec)) => self.emit_record(run, rec)?,
                Some(Err(_)) => return Err(self.changed(loc)),
                None => {
                    return Err(CorpusError::InvalidLoc {
                        loc,
                        reason: "no such row in the table",
                    });
                }
            }
        }
        Ok(())
    }

    /// Hands a record read back to every index of `run` (which all want its location).
    fn emit_record(&mut self, run: &[usize], rec: RawRecord) -> Result<(), CorpusError> {
        if let Some((&last, rest)) = run.split_last() {
            for &i in rest {
                let copy = RawRecord {
                    loc: rec.loc,
                    bytes: rec.bytes.clone(),
                    row: rec.row.clone(),
                };
                (self.f)(i, copy)?;
            }
            (self.f)(last, rec)?;
        }
        Ok(())
    }
}

/// Splits a group of indices (sorted by location) into runs of equal locations.
fn runs<'g>(
    locs: &'g [DocLoc],
    group: &'g [usize],
) -> impl Iterator<Item = (&'g [usize], DocLoc)> + 'g {
    group
        .chunk_by(move |&a, &b| locs[a] == locs[b])
        .filter_map(move |run| run.first().map(|&i| (run, locs[i])))
}

/// Moves the reader to absolute position `target`, given that it is at `*pos`.
fn seek_to(r: &mut BufReader<File>, pos: &mut u64, target: u64) -> io::Result<()> {
    // seek_relative keeps the buffer when the target is inside it: the common case when the
    // wanted lines are near each other.
    match i64::try_from(i128::from(target) - i128::from(*pos)) {
        Ok(delta) => r.seek_relative(delta)?,
        Err(_) => {
            r.seek(SeekFrom::Start(target))?;
        }
    }
    *pos = target;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::testutil::{ReadAll, discover, gzip, read_all, write, zstd_compress};
    use tempfile::TempDir;

    fn ids(r: &ReadAll) -> Vec<&str> {
        r.docs.iter().map(|d| d.id.as_str()).collect()
    }

    fn texts(r: &ReadAll) -> Vec<&[u8]> {
        r.docs.iter().map(|d| d.text.as_slice()).collect()
    }

    fn skips(r: &ReadAll) -> Vec<(&str, Option<u64>, &str)> {
        r.skipped
            .iter()
            .map(|s| (s.path.as_str(), s.line, s.reason.as_str()))
            .collect()
    }

    const JSONL: &[u8] = b"{\"id\":\"a\",\"text\":\"alpha\"}\r\n\
        \n\
        {\"text\": \"no id\"}\n\
        {\"id\": 7, \"text\": \"seven\"}\n\
        {\"id\":\"bad\", \"text\": \n\
        \t  \r\n\
        {\"id\":\"t\"}\n\
        {\"id\":\"last\",\"text\":\"no newline\"}";

    #[test]
    fn jsonl_lines() {
        let t = TempDir::new().expect("tempdir");
        write(t.path(), "d.jsonl", JSONL);
        let opts = ReadOptions::default();
        let c = discover(t.path(), &["."], &opts);
        let r = read_all(&c, &opts);
        assert_eq!(ids(&r), ["a", "d.jsonl:3", "7", "last"]);
        assert_eq!(
            texts(&r),
            [&b"alpha"[..], b"no id", b"seven", b"no newline"]
        );
        let locs: Vec<(u64, u64)> = r.docs.iter().map(|d| (d.loc.line, d.loc.offset)).collect();
        let starts: Vec<u64> = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', JSONL).map(|i| i as u64 + 1))
            .collect();
        assert_eq!(
            locs,
            [
                (1, starts[0]),
                (3, starts[2]),
                (4, starts[3]),
                (8, starts[7])
            ]
        );
        let s = skips(&r);
        assert_eq!(s.len(), 2, "{s:?}");
        assert_eq!((s[0].0, s[0].1), ("d.jsonl", Some(5)));
        assert!(
            s[0].2.starts_with("malformed JSON: EOF while parsing"),
            "{s:?}"
        );
        assert_eq!(s[1], ("d.jsonl", Some(7), "no \"text\" field"));
        assert_eq!(r.progress, JSONL.len() as u64);
    }

    #[test]
    fn compressed_inputs_by_extension_and_magic() {
        let t = TempDir::new().expect("tempdir");
        let jsonl = b"{\"id\":\"x\",\"text\":\"one\"}\n{\"id\":\"y\",\"text\":\"two\"}\n";
        let gz = gzip(jsonl);
        let zst = zstd_compress(jsonl);
        write(t.path(), "a.jsonl.gz", &gz);
        write(t.path(), "b.ndjson.zst", &zst);
        write(t.path(), "c.txt.gz", &gzip(b"gzipped text"));
        // Magic only: no compression extension; format comes from the name.
        write(t.path(), "d.txt", &zstd_compress(b"zstd text"));
        write(t.path(), "e.jsonl", &gz);
        // Concatenated gzip members and zstd frames read as one stream.
        let mut multi = gzip(b"{\"text\":\"m1\"}\n");
        multi.extend(gzip(b"{\"text\":\"m2\"}\n"));
        write(t.path(), "f.jsonl.gz", &multi);
        let mut frames = zstd_compress(b"{\"text\":\"z1\"}\n");
        frames.extend(zstd_compress(b"{\"text\":\"z2\"}"));
        write(t.path(), "g.jsonl.zstd", &frames);

        let opts = ReadOptions::default();
        let c = discover(t.path(), &["."], &opts);
        let kinds: Vec<(Format, Compression)> = c
            .sources
            .iter()
            .map(|s| (s.format, s.compression))
            .collect();
        assert_eq!(
            kinds,
            [
                (Format::Jsonl, Compression::Gzip),
                (Format::Jsonl, Compression::Zstd),
                (Format::Text, Compression::Gzip),
                (Format::Text, Compression::Zstd),
                (Format::Jsonl, Compression::Gzip),
                (Format::Jsonl, Compression::Gzip),
                (Format::Jsonl, Compression::Zstd),
            ]
        );
        let r = read_all(&c, &opts);
        assert!(r.skipped.is_empty(), "{:?}", r.skipped);
        assert_eq!(
            ids(&r),
            [
                "x",
                "y",
                "x",
                "y",
                "c.txt.gz",
                "d.txt",
                "x",
                "y",
                "f.jsonl.gz:1",
                "f.jsonl.gz:2",
                "g.jsonl.zstd:1",
                "g.jsonl.zstd:2"
            ]
        );
        assert_eq!(r.docs[4].text, b"gzipped text");
        assert_eq!(r.docs[5].text, b"zstd text");
        assert_eq!(r.docs[9].loc.offset, 14);
        // Progress counts compressed bytes and ends at the total size on disk.
        assert_eq!(r.progress, c.total_size());
    }

    fn lines_jsonl(n: usize) -> Vec<u8> {
        let mut v = Vec::new();
        for i in 0..n {
            v.extend(
                format!(
                    "{{\"id\":\"{i}\",\"text\":\"line {i} {}\"}}\n",
                    "x".repeat(i % 50)
                )
                .bytes(),
            );
        }
        v
    }

    #[test]
    fn truncated_streams_keep_the_good_lines() {
        let t = TempDir::new().expect("tempdir");
        // Large enough for several zstd blocks, so that half the stream holds complete ones.
        let jsonl = lines_jsonl(20_000);
        let gz = gzip(&jsonl);
        let zst = zstd_compress(&jsonl);
        write(t.path(), "a.jsonl.gz", &gz[..gz.len() / 2]);
        write(t.path(), "b.jsonl.zst", &zst[..zst.len() / 2]);
        write(t.path(), "c.txt.gz", &gzip(b"text")[..10]);
        write(t.path(), "d.jsonl", b"{\"text\":\"after\"}\n");
        let opts = ReadOptions::default();
        let c = discover(t.path(), &["."], &opts);
        let r = read_all(&c, &opts);
        let from = |name: &str| {
            r.docs
                .iter()
                .filter(|d| c.sources[d.loc.source as usize].name == name)
                .count()
        };
        let (a, b) = (from("a.jsonl.gz"), from("b.jsonl.zst"));
        assert!(a > 100 && a < 20_000, "{a}");
        assert!(b > 100 && b < 20_000, "{b}");
        // Every document read is intact: ids are consecutive from 0.
        for d in &r.docs[..a] {
            assert!(d.text.starts_with(format!("line {} ", d.id).as_bytes()));
        }
        assert_eq!(from("d.jsonl"), 1);
        let s = skips(&r);
        assert_eq!(s.len(), 3, "{s:?}");
        assert_eq!((s[0].0, s[0].1), ("a.jsonl.gz", None));
        assert!(
            s[0].2
                .starts_with(&format!("corrupt or truncated gzip stream after line {a}")),
            "{s:?}"
        );
        assert_eq!((s[1].0, s[1].1), ("b.jsonl.zst", None));
        assert!(
            s[1].2
                .starts_with("corrupt or truncated zstd stream after line"),
            "{s:?}"
        );
        assert_eq!(s[2].0, "c.txt.gz");
        assert!(
            s[2].2.starts_with("corrupt or truncated gzip stream: "),
            "{s:?}"
        );
        assert_eq!(r.progress, c.total_size());
    }

    #[test]
    fn text_files() {
        let t = TempDir::new().expect("tempdir");
        write(t.path(), "bin.dat", b"PK\x03\x04\x00\x00rest");
        write(t.path(), "empty.txt", b"");
        write(t.path(), "latin1.txt", b"caf\xe9 au lait");
        write(t.path(), "ok.txt", "héllo\r\nworld".as_bytes());
        write(
            t.path(),
            "late-nul.txt",
            &[b"a".repeat(BINARY_SNIFF).as_slice(), b"\0"].concat(),
        );
        let opts = ReadOptions::default();
        let c = discover(t.path(), &["."], &opts);
        let r = read_all(&c, &opts);
        assert_eq!(ids(&r), ["late-nul.txt", "latin1.txt", "ok.txt"]);
        assert!(r.docs[1].lossy);
        assert_eq!(r.docs[1].text, b"caf\xe9 au lait");
        assert!(!r.docs[2].lossy);
        assert_eq!(r.docs[2].text, "héllo\r\nworld".as_bytes());
        assert_eq!(
            r.docs[2].loc,
            DocLoc {
                source: 4,
                line: 0,
                offset: 0
            }
        );
        assert_eq!(
            skips(&r),
            [
                ("bin.dat", None, "binary file"),
                ("empty.txt", None, "empty file")
            ]
        );
    }

    #[test]
    fn size_limits() {
        let t = TempDir::new().expect("tempdir");
        write(t.path(), "a.txt", &[b'a'; 11]);
        write(t.path(), "b.txt", &[b'b'; 10]);
        write(t.path(), "c.txt.gz", &gzip(&[b'c'; 11]));
        write(
            t.path(),
            "d.jsonl",
            b"{\"text\":\"1\"}\n{\"text\":\"toolong\"}\r\n{\"text\":\"3\"}\n",
        );
        let opts = ReadOptions {
            max_doc_bytes: 12,
            ..ReadOptions::default()
        };
        let c = discover(t.path(), &["."], &opts);
        let r = read_all(&c, &opts);
        assert_eq!(
            ids(&r),
            ["a.txt", "b.txt", "c.txt.gz", "d.jsonl:1", "d.jsonl:3"]
        );

        let opts = ReadOptions {
            max_doc_bytes: 10,
            ..ReadOptions::default()
        };
        let r = read_all(&c, &opts);
        assert_eq!(ids(&r), ["b.txt"]);
        assert_eq!(
            skips(&r),
            [
                (
                    "a.txt",
                    None,
                    "file too large: 11 bytes (limit 10; see --max-doc-bytes)"
                ),
                (
                    "c.txt.gz",
                    None,
                    "file too large: more than 10 bytes decompressed (limit 10; see --max-doc-bytes)"
                ),
                (
                    "d.jsonl",
                    Some(1),
                    "line too long: 12 bytes (limit 10; see --max-doc-bytes)"
                ),
                (
                    "d.jsonl",
                    Some(2),
                    "line too long: 18 bytes (limit 10; see --max-doc-bytes)"
                ),
                (
                    "d.jsonl",
                    Some(3),
                    "line too long: 12 bytes (limit 10; see --max-doc-bytes)"
                ),
            ]
        );
        assert_eq!(r.progress, c.total_size());

        let opts = ReadOptions {
            max_doc_bytes: 13,
            ..ReadOptions::default()
        };
        let r = read_all(&c, &opts);
        assert_eq!(
            ids(&r),
            ["a.txt", "b.txt", "c.txt.gz", "d.jsonl:1", "d.jsonl:3"]
        );
        assert_eq!(
            skips(&r),
            [(
                "d.jsonl",
                Some(2),
                "line too long: 18 bytes (limit 13; see --max-doc-bytes)"
            )]
        );
    }

    #[test]
    fn batches_are_bounded_and_ordered() {
        let t = TempDir::new().expect("tempdir");
        let jsonl = lines_jsonl(3000);
        write(t.path(), "a.jsonl", &jsonl);
        write(t.path(), "b.txt", &[b'b'; 50_000]);
        write(t.path(), "c.jsonl.gz", &gzip(&jsonl));
        let target = 16 * 1024;
        let opts = ReadOptions {
            batch_bytes: target,
            ..ReadOptions::default()
        };
        let c = discover(t.path(), &["."], &opts);
        let progress = AtomicU64::new(0);
        let mut all = Vec::new();
        let mut batches = 0;
        let mut sizes_seen = Vec::new();
        c.read_batches(&opts, &progress, |b| {
            batches += 1;
            let sizes = b.records.iter().map(|r| r.bytes.len() + ENTRY_OVERHEAD);
            let bytes: usize = sizes.clone().sum();
            let largest = sizes.max().unwrap_or(0);
            // A batch is closed by the record that reaches the target.
            assert!(bytes < target + largest, "{bytes}");
            sizes_seen.push(bytes);
            all.extend(b.records.into_iter().map(|r| r.loc));
            Ok::<(), ()>(())
        })
        .expect("sink ok");
        assert_eq!(all.len(), 6001);
        assert!(all.is_sorted(), "records must come in stream order");
        assert_eq!(batches, sizes_seen.len());
        // Only the last batch may be short of the target.
        if let Some((_, full)) = sizes_seen.split_last() {
            assert!(full.iter().all(|&b| b >= target), "{sizes_seen:?}");
        }
        assert!(batches > 10, "{batches}");
        assert_eq!(progress.into_inner(), c.total_size());
    }

    #[test]
    fn corpus_can_be_shared_with_decoding_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Corpus>();
        assert_send_sync::<ReadOptions>();
        assert_send_sync::<RawRecord>();
        assert_send_sync::<CorpusError>();
    }

    #[test]
    fn sink_error_stops_the_read() {
        let t = TempDir::new().expect("tempdir");
        write(t.path(), "a.jsonl", &lines_jsonl(1000));
        let opts = ReadOptions {
            batch_bytes: 1,
            ..ReadOptions::default()
        };
        let c = discover(t.path(), &["."], &opts);
        let mut calls = 0;
        let res = c.read_batches(&opts, &AtomicU64::new(0), |_| {
            calls += 1;
            if calls == 3 { Err("stop") } else { Ok(()) }
        });
        assert_eq!(res, Err("stop"));
        assert_eq!(calls, 3);
    }

    #[test]
    fn vanished_file_is_skipped_at_read_time() {
        let t = TempDir::new().expect("tempdir");
        let gone = write(t.path(), "a.txt", b"a");
        write(t.path(), "b.jsonl", b"{\"text\":\"b\"}");
        let opts = ReadOptions::default();
        let c = discover(t.path(), &["."], &opts);
        std::fs::remove_file(gone).expect("rm");
        let r = read_all(&c, &opts);
        assert_eq!(ids(&r), ["b.jsonl:1"]);
        assert_eq!(skips(&r), [("a.txt", None, "no such file or directory")]);
        assert_eq!(r.progress, c.total_size());
    }

    /// A regular file that cannot be read even by root: reading /proc/self/mem at offset 0 fails
    /// with EIO (address 0 is never mapped). Stands in for "unreadable file" where chmod cannot.
    #[cfg(target_os = "linux")]
    #[test]
    fn read_error_is_skipped() {
        let mem = std::path::Path::new("/proc/self/mem");
        if !mem.exists() {
            return;
        }
        let c = Corpus::discover(&[mem.to_path_buf()], &ReadOptions::default()).expect("discover");
        assert!(c.sources.is_empty());
        assert_eq!(c.skipped.len(), 1);
        assert!(
            c.skipped[0].reason.starts_with("read error: "),
            "{:?}",
            c.skipped
        );
    }

    fn reread_all(
        c: &Corpus,
        locs: &[DocLoc],
        opts: &ReadOptions,
    ) -> Result<Vec<(usize, Document)>, CorpusError> {
        let mut out = Vec::new();
        c.reread(locs, opts, |i, d| out.push((i, d)))?;
        Ok(out)
    }

    #[test]
    fn reread_is_identical() {
        let t = TempDir::new().expect("tempdir");
        let jsonl = [JSONL, b"\n", &lines_jsonl(2000)].concat();
        write(t.path(), "a.jsonl", &jsonl);
        write(t.path(), "b.jsonl.gz", &gzip(&jsonl));
        write(t.path(), "c.jsonl.zst", &zstd_compress(&jsonl));
        write(t.path(), "d.txt", b"caf\xe9");
        write(t.path(), "e.txt.gz", &gzip(b"gz text"));
        let opts = ReadOptions::default();
        let c = discover(t.path(), &["."], &opts);
        let r = read_all(&c, &opts);
        assert_eq!(r.docs.len(), 3 * 2004 + 2);

        // Every document, then a sparse selection.
        let locs: Vec<DocLoc> = r.docs.iter().map(|d| d.loc).collect();
        let back = reread_all(&c, &locs, &opts).expect("reread");
        assert_eq!(back.len(), locs.len());
        for ((i, d), (j, orig)) in back.iter().zip(r.docs.iter().enumerate()) {
            assert_eq!(*i, j);
            assert_eq!(
                (&d.id, d.loc, &d.text, d.lossy),
                (&orig.id, orig.loc, &orig.text, orig.lossy)
            );
        }
        let pick: Vec<usize> = (0..r.docs.len())
            .filter(|i| i % 97 == 3 || *i + 1 == r.docs.len())
            .collect();
        let sparse: Vec<DocLoc> = pick.iter().map(|&i| locs[i]).collect();
        let back = reread_all(&c, &sparse, &opts).expect("reread");
        let got: Vec<(usize, &[u8])> = back.iter().map(|(i, d)| (*i, d.text.as_slice())).collect();
        let want: Vec<(usize, &[u8])> = pick
            .iter()
            .enumerate()
            .map(|(k, &i)| (k, r.docs[i].text.as_slice()))
            .collect();
        assert_eq!(got, want);

        // Unsorted and repeated locations still work; f sees them in location order.
        let mixed = [locs[5], locs[2], locs[5], locs[2100], locs[1]];
        let back = reread_all(&c, &mixed, &opts).expect("reread");
        let order: Vec<usize> = back.iter().map(|(i, _)| *i).collect();
        assert_eq!(order, [4, 1, 0, 2, 3]);
        assert_eq!(back[2].1.text, r.docs[5].text);

        assert!(matches!(
            reread_all(
                &c,
                &[DocLoc {
                    source: 99,
                    line: 0,
                    offset: 0
                }],
                &opts
            ),
            Err(CorpusError::InvalidLoc { .. })
        ));
    }

    #[test]
    fn reread_detects_changes() {
        let t = TempDir::new().expect("tempdir");
        let jsonl = lines_jsonl(100);
        let a = write(t.path(), "a.jsonl", &jsonl);
        let b = write(t.path(), "b.jsonl.gz", &gzip(&jsonl));
        let d = write(t.path(), "d.txt", b"text");
        let opts = ReadOptions::default();
        let c = discover(t.path(), &["."], &opts);
        let r = read_all(&c, &opts);
        let loc_of = |src: u32, line: u64| {
            r.docs
                .iter()
                .find(|d| d.loc.source == src && d.loc.line == line)
                .expect("doc")
                .loc
        };

        // Plain JSONL: a line inserted at the top shifts every offset.
        write(
            t.path(),
            "a.jsonl",
            &[b"{\"text\":\"new\"}\n".as_slice(), &jsonl].concat(),
        );
        let err = reread_all(&c, &[loc_of(0, 50)], &opts).expect_err("changed");
        assert!(
            matches!(&err, CorpusError::Changed { path, line: 50, row: false } if path == "a.jsonl"),
            "{err}"
        );
        assert!(err.to_string().contains("a.jsonl"), "{err}");
        // Truncated: the line is gone.
        write(t.path(), "a.jsonl", &jsonl[..100]);
        assert!(matches!(
            reread_all(&c, &[loc_of(0, 50)], &opts),
            Err(CorpusError::Changed { .. })
        ));
        std::fs::remove_file(&a).expect("rm");
        assert!(matches!(
            reread_all(&c, &[loc_of(0, 50)], &opts),
            Err(CorpusError::Io { .. })
        ));

        // Compressed JSONL: fewer lines now.
        write(t.path(), "b.jsonl.gz", &gzip(&jsonl[..jsonl.len() / 2]));
        let err = reread_all(&c, &[loc_of(1, 99)], &opts).expect_err("changed");
        assert!(
            matches!(&err, CorpusError::Changed { line: 99, .. }),
            "{err}"
        );
        std::fs::remove_file(&b).expect("rm");

        // Text file emptied: no longer decodes to a document.
        std::fs::write(&d, b"").expect("write");
        let err = reread_all(&c, &[loc_of(2, 0)], &opts).expect_err("changed");
        assert!(
            matches!(&err, CorpusError::Changed { path, line: 0, .. } if path == "d.txt"),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            "d.txt changed while being processed: it could not be read back identically"
        );
    }
}
