//! Opening inputs: compression and format sniffing, decompressing readers, progress accounting and
//! spooling standard input to a temporary file.
//!
//! Invariants:
//! - Files are only ever opened read-only; the one exception is the stdin spool, which is a fresh
//!   temporary file owned (and deleted) by the [`Corpus`](super::Corpus).
//! - Progress counts raw bytes as they come off the disk, i.e. *compressed* bytes for compressed
//!   inputs, so that it is comparable with [`Source::size`].
//! - Nothing here panics on bad input: every failure is an `io::Error` or a reason string.

use std::cell::Cell;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::bufread::MultiGzDecoder;
use tempfile::NamedTempFile;

use super::{Compression, CorpusError, Format, Skipped, Source};

/// Buffer size for raw (possibly compressed) bytes. Large enough to keep syscalls rare on big files.
const RAW_BUF: usize = 128 * 1024;
/// Buffer size for decompressed bytes feeding the line reader.
const DECODED_BUF: usize = 128 * 1024;

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];
const UTF8_BOM: &[u8] = &[0xef, 0xbb, 0xbf];
/// What a Parquet file starts (and ends) with.
const PARQUET_MAGIC: &[u8] = b"PAR1";

/// Compression announced by the magic bytes at the start of a file, if any.
pub(super) fn compression_from_magic(head: &[u8]) -> Option<Compression> {
    if head.starts_with(GZIP_MAGIC) {
        Some(Compression::Gzip)
    } else if head.starts_with(ZSTD_MAGIC) {
        Some(Compression::Zstd)
    } else {
        None
    }
}

/// Splits a compression extension off a file name: `a.jsonl.gz` -> (`a.jsonl`, Some(Gzip)).
/// Case-insensitive because `.GZ` files exist in the wild.
pub(super) fn split_compression_ext(name: &str) -> (&str, Option<Compression>) {
    for (ext, c) in [
        (".gz", Compression::Gzip),
        (".zst", Compression::Zstd),
        (".zstd", Compression::Zstd),
    ] {
        if let Some(stem) = strip_suffix_ignore_ascii_case(name, ext) {
            return (stem, Some(c));
        }
    }
    (name, None)
}

/// Format implied by a file name (compression extension already stripped or not).
pub(super) fn format_from_name(name: &str) -> Format {
    let (stem, _) = split_compression_ext(name);
    let has = |exts: &[&str]| {
        exts.iter()
            .any(|ext| strip_suffix_ignore_ascii_case(stem, ext).is_some())
    };
    if has(&[".jsonl", ".ndjson"]) {
        Format::Jsonl
    } else if has(&[".parquet", ".parq"]) {
        Format::Parquet
    } else {
        Format::Text
    }
}

fn strip_suffix_ignore_ascii_case<'a>(s: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = s.len().checked_sub(suffix.len())?;
    // `get` rather than slicing: `cut` may fall inside a multi-byte character.
    let tail = s.get(cut..)?;
    tail.eq_ignore_ascii_case(suffix).then(|| &s[..cut])
}

/// Reads up to `buf.len()` bytes, retrying short reads, and returns how many were read.
fn read_head(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Opens a regular file found by the walk and works out how to read it.
/// `name` is the display name (and the basis of format detection).
pub(super) fn probe_file(path: &Path, name: String) -> Result<Source, Skipped> {
    let skip = |name, reason| Err(Skipped::file(name, reason));
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) => return skip(name, io_reason(&e)),
    };
    let meta = match file.metadata() {
        Ok(m) => m,
        Err(e) => return skip(name, io_reason(&e)),
    };
    // The walk saw a regular file, but it may have been swapped since; never read a fifo or device.
    if !meta.is_file() {
        return skip(name, "not a regular file".to_owned());
    }
    let mut head = [0u8; 4];
    let n = match read_head(&mut file, &mut head) {
        Ok(n) => n,
        Err(e) => return skip(name, format!("read error: {}", io_reason(&e))),
    };
    let compression = match (
        compression_from_magic(&head[..n]),
        split_compression_ext(&name).1,
    ) {
        (Some(c), _) => c,
        // An extension that promises compression the bytes do not deliver means a broken file;
        // reading it as text would silently index garbage.
        (None, Some(Compression::Gzip)) => return skip(name, "not a gzip stream".to_owned()),
        (None, Some(Compression::Zstd)) => return skip(name, "not a zstd stream".to_owned()),
        (None, _) => Compression::None,
    };
    let format = format_from_name(&name);
    if format == Format::Parquet {
        // Parquet compresses its own pages and is read by seeking to them: a compressed
        // file cannot be read in place.
        if compression != Compression::None {
            return skip(
                name,
                "a compressed Parquet file cannot be read (Parquet compresses its own pages): decompress it first".to_owned(),
            );
        }
        if !head[..n].starts_with(PARQUET_MAGIC) {
            return skip(name, "not a Parquet file (no PAR1 header)".to_owned());
        }
    }
    Ok(Source {
        path: path.to_path_buf(),
        format,
        name,
        compression,
        size: meta.len(),
        table: None,
    })
}

/// Copies all of `input` into a fresh temporary file so it can be read twice (once to detect
/// near-duplicates, once more to report them), and describes it as a source named `<stdin>`.
pub(super) fn spool_stdin(
    input: &mut impl Read,
    window_log: u32,
) -> Result<(NamedTempFile, Source), CorpusError> {
    spool(input, super::STDIN_NAME.to_owned(), true, window_log)
        .map_err(|source| CorpusError::Spool { source })
}

/// Copies a stream (standard input, a named pipe) to a temporary file, so that it can be read
/// more than once, as the source `name`. Its compression is sniffed; its format too when
/// `sniff` (Parquet by its magic, JSONL when it opens with `{`, decompressed within a window
/// of 2^`window_log` bytes), else taken from `name`.
pub(super) fn spool(
    input: &mut impl Read,
    name: String,
    sniff: bool,
    window_log: u32,
) -> io::Result<(NamedTempFile, Source)> {
    let mut tmp = NamedTempFile::new()?;
    let size = io::copy(input, tmp.as_file_mut())?;

    let mut file = tmp.reopen()?;
    let mut head = [0u8; 4];
    let n = read_head(&mut file, &mut head)?;
    let compression = compression_from_magic(&head[..n]).unwrap_or(Compression::None);

    let mut source = Source {
        path: tmp.path().to_path_buf(),
        format: if sniff {
            Format::Text
        } else {
            format_from_name(&name)
        },
        name,
        compression,
        size,
        table: None,
    };
    if !sniff {
        return Ok((tmp, source));
    }
    if head[..n].starts_with(PARQUET_MAGIC) {
        source.format = Format::Parquet;
    } else if let Ok(Some(b'{')) = first_non_blank_byte(&source, window_log) {
        // A corrupt stream is reported when it is read; here it just falls back to text.
        source.format = Format::Jsonl;
    }
    Ok((tmp, source))
}

/// First byte of the decompressed content that is not whitespace (or a UTF-8 BOM).
fn first_non_blank_byte(source: &Source, window_log: u32) -> io::Result<Option<u8>> {
    let file = File::open(&source.path)?;
    let counted = Cell::new(0);
    let mut r = decompress(file, source.compression, window_log, None, &counted)?;
    let mut at_start = true;
    loop {
        let buf = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok(None);
        }
        let mut skip = 0;
        // Only a BOM at the very start counts; the buffer is far larger than 3 bytes in practice,
        // and a BOM split across refills merely makes this guess "text".
        if at_start && buf.starts_with(UTF8_BOM) {
            skip = UTF8_BOM.len();
        }
        at_start = false;
        if let Some(&b) = buf[skip..].iter().find(|b| !b.is_ascii_whitespace()) {
            return Ok(Some(b));
        }
        let len = buf.len();
        r.consume(len);
    }
}

/// A reader that reports every byte it reads: to the caller's shared progress counter, and to a
/// per-source tally so the caller can settle the source's progress when it is done with it.
pub(super) struct Counting<'a, R> {
    inner: R,
    progress: Option<&'a AtomicU64>,
    tally: &'a Cell<u64>,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let n64 = n as u64;
        self.tally.set(self.tally.get().saturating_add(n64));
        if let Some(p) = self.progress {
            p.fetch_add(n64, Ordering::Relaxed);
        }
        Ok(n)
    }
}

/// Wraps an open file in the decompressor its source needs, buffered for line reading.
/// Bytes read from `file` are added to `progress` (if any) and to `tally`.
pub(super) fn decompress<'a>(
    file: File,
    compression: Compression,
    window_log: u32,
    progress: Option<&'a AtomicU64>,
    tally: &'a Cell<u64>,
) -> io::Result<Box<dyn BufRead + 'a>> {
    let raw = BufReader::with_capacity(
        RAW_BUF,
        Counting {
            inner: file,
            progress,
            tally,
        },
    );
    Ok(match compression {
        Compression::None => Box::new(raw),
        // Multi-member: `cat a.gz b.gz` and parallel compressors produce concatenated members.
        Compression::Gzip => Box::new(BufReader::with_capacity(
            DECODED_BUF,
            MultiGzDecoder::new(raw),
        )),
        Compression::Zstd => {
            let mut d = zstd::stream::read::Decoder::with_buffer(raw)?;
            d.window_log_max(window_log)?;
            Box::new(BufReader::with_capacity(DECODED_BUF, d))
        }
    })
}

/// A short, stable description of an I/O error for a [`Skipped`] reason:
/// the OS message without the "(os error N)" noise, starting lower-case.
pub(super) fn io_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => return "no such file or directory".to_owned(),
        io::ErrorKind::PermissionDenied => return "permission denied".to_owned(),
        _ => {}
    }
    let mut msg = e.to_string();
    if let Some(code) = e.raw_os_error() {
        let suffix = format!(" (os error {code})");
        if msg.ends_with(&suffix) {
            msg.truncate(msg.len() - suffix.len());
        }
    }
    let mut chars = msg.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => msg,
    }
}

/// Reason for a failure while streaming a source's content.
/// `after_line` is the number of JSONL lines read successfully before the failure, if relevant.
pub(super) fn stream_reason(
    compression: Compression,
    e: &io::Error,
    after_line: Option<u64>,
    window_log: u32,
) -> String {
    // zstd's own words for a frame whose window is above the decoder's limit.
    if compression == Compression::Zstd && e.to_string().contains("too much memory") {
        let at = after_line
            .map(|n| format!(" after line {n}"))
            .unwrap_or_default();
        return format!(
            "zstd stream made with a window above the limit of {} MiB (2^{window_log} bytes){at}: raise it with --zstd-window-log (up to {})",
            (1u64 << window_log) >> 20,
            super::ZSTD_WINDOW_LOG_MAX
        );
    }
    let what = match compression {
        Compression::None => "read error",
        Compression::Gzip => "corrupt or truncated gzip stream",
        Compression::Zstd => "corrupt or truncated zstd stream",
    };
    match after_line {
        Some(n) => format!("{what} after line {n}: {}", io_reason(e)),
        None => format!("{what}: {}", io_reason(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::testutil::{gzip, zstd_compress};
    use std::io::Cursor;

    #[test]
    fn extensions_and_formats() {
        assert_eq!(
            split_compression_ext("a.jsonl.gz"),
            ("a.jsonl", Some(Compression::Gzip))
        );
        assert_eq!(
            split_compression_ext("a.ZST"),
            ("a", Some(Compression::Zstd))
        );
        assert_eq!(
            split_compression_ext("a.zstd"),
            ("a", Some(Compression::Zstd))
        );
        assert_eq!(split_compression_ext("gz"), ("gz", None));
        assert_eq!(split_compression_ext("é"), ("é", None));
        assert_eq!(format_from_name("x/a.jsonl"), Format::Jsonl);
        assert_eq!(format_from_name("a.NDJSON.zst"), Format::Jsonl);
        assert_eq!(format_from_name("a.json"), Format::Text);
        assert_eq!(format_from_name("jsonl"), Format::Text);
    }

    #[test]
    fn magic() {
        assert_eq!(compression_from_magic(&gzip(b"x")), Some(Compression::Gzip));
        assert_eq!(
            compression_from_magic(&zstd_compress(b"x")),
            Some(Compression::Zstd)
        );
        assert_eq!(compression_from_magic(b"\x1f"), None);
        assert_eq!(compression_from_magic(b""), None);
    }

    #[test]
    fn spool_sniffs_format_and_compression() {
        let cases: Vec<(Vec<u8>, Format, Compression)> = vec![
            (
                b"  \n{\"text\":\"a\"}\n".to_vec(),
                Format::Jsonl,
                Compression::None,
            ),
            (
                b"\xef\xbb\xbf{\"text\":\"a\"}\n".to_vec(),
                Format::Jsonl,
                Compression::None,
            ),
            (b"hello {".to_vec(), Format::Text, Compression::None),
            (b"".to_vec(), Format::Text, Compression::None),
            (
                gzip(b"\n\n{\"text\":\"a\"}"),
                Format::Jsonl,
                Compression::Gzip,
            ),
            (zstd_compress(b"plain"), Format::Text, Compression::Zstd),
            // Corrupt after the magic: falls back to text; the reader reports the corruption.
            (
                b"\x1f\x8b\x00garbage".to_vec(),
                Format::Text,
                Compression::Gzip,
            ),
        ];
        for (input, format, compression) in cases {
            let (tmp, src) = spool_stdin(&mut Cursor::new(&input), super::super::ZSTD_WINDOW_LOG)
                .expect("spool");
            assert_eq!(
                (src.format, src.compression),
                (format, compression),
                "{input:?}"
            );
            assert_eq!(src.size, input.len() as u64);
            assert_eq!(src.name, "<stdin>");
            assert_eq!(std::fs::read(tmp.path()).expect("read spool"), input);
        }
    }

    #[test]
    fn io_reason_is_short() {
        let e = io::Error::from_raw_os_error(21);
        let r = io_reason(&e);
        assert!(!r.contains("os error"), "{r}");
        assert!(r.chars().next().is_some_and(|c| !c.is_uppercase()), "{r}");
        assert_eq!(
            io_reason(&io::Error::from(io::ErrorKind::NotFound)),
            "no such file or directory"
        );
    }
}
