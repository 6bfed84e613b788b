//! Scratch storage between the passes of a scan: each document's 32-bit word hashes, written
//! to an unlinked temporary file in pass 1 and read back by document number, so that
//! verification and passage alignment read 4 bytes per word instead of reading, decoding and
//! re-tokenising the text again.
//!
//! The file lives in the system's temporary directory (`TMPDIR`), is never named in the file
//! system, and disappears when the scan ends or dies. This module must not interpret the words
//! or know what a document is beyond its number, and it never touches the inputs.

use std::fs::File;
use std::io::{self, BufWriter, Write};

/// Writes the words of documents `0, 1, 2, ...` in order.
pub struct SpillWriter {
    out: BufWriter<File>,
    /// Words written so far.
    at: u64,
    starts: Vec<u64>,
    lens: Vec<u32>,
}

impl SpillWriter {
    /// Creates the temporary file.
    pub fn new() -> io::Result<SpillWriter> {
        Ok(SpillWriter {
            out: BufWriter::with_capacity(1 << 20, tempfile::tempfile()?),
            at: 0,
            starts: Vec::new(),
            lens: Vec::new(),
        })
    }

    /// Number of documents pushed.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// True before the first document.
    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// Appends the next document's words. A document of more than `u32::MAX` words (only with
    /// a raised `--max-doc-bytes`) is an error: the caller then reads text again instead.
    pub fn push(&mut self, words: &[u32]) -> io::Result<()> {
        let n = u32::try_from(words.len()).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "a document of more than 4,294,967,295 words",
            )
        })?;
        self.out.write_all(as_bytes(words).as_ref())?;
        self.starts.push(self.at);
        self.lens.push(n);
        self.at += u64::from(n);
        Ok(())
    }

    /// The next document has the same words as document `d` (an exact duplicate): nothing is
    /// written.
    pub fn push_copy(&mut self, d: usize) {
        self.starts.push(self.starts[d]);
        self.lens.push(self.lens[d]);
    }

    /// The next document is never read back: nothing is written and it reads as no words.
    pub fn push_copy_empty(&mut self) {
        self.starts.push(0);
        self.lens.push(0);
    }

    /// Flushes the file and turns it into a reader.
    pub fn finish(self) -> io::Result<Spill> {
        let file = self.out.into_inner().map_err(|e| e.into_error())?;
        Ok(Spill {
            file,
            starts: self.starts,
            lens: self.lens,
        })
    }
}

/// The words of every document, readable from any thread.
pub struct Spill {
    file: File,
    starts: Vec<u64>,
    lens: Vec<u32>,
}

impl Spill {
    /// Number of documents.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// True when no document was written.
    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// Bytes of bookkeeping per document held in memory (the words stay on disk).
    pub const BYTES_PER_DOCUMENT: usize = 12;

    /// Where document `d`'s words are: `(first word, number of words)`. The originals among
    /// documents are laid out in document order; an exact copy points at its original's words.
    pub fn span(&self, d: usize) -> (u64, u32) {
        (self.starts[d], self.lens[d])
    }

    /// Reads `out.len()` words starting at word `at` of the file (several documents' words
    /// in one read, with [`Spill::span`]).
    pub fn read_at(&self, at: u64, out: &mut [u32]) -> io::Result<()> {
        read_exact_at(&self.file, as_bytes_mut(out), at * 4)?;
        if cfg!(target_endian = "big") {
            for w in out.iter_mut() {
                *w = u32::from_le(*w);
            }
        }
        Ok(())
    }

    /// Reads the words of document `d` into `out` (replacing its contents).
    pub fn read(&self, d: usize, out: &mut Vec<u32>) -> io::Result<()> {
        out.clear();
        out.resize(self.lens[d] as usize, 0);
        read_exact_at(&self.file, as_bytes_mut(out), self.starts[d] * 4)?;
        if cfg!(target_endian = "big") {
            for w in out.iter_mut() {
                *w = u32::from_le(*w);
            }
        }
        Ok(())
    }
}

/// The little-endian bytes of `words`: borrowed on little-endian targets.
fn as_bytes(words: &[u32]) -> std::borrow::Cow<'_, [u8]> {
    if cfg!(target_endian = "little") {
        // SAFETY: u32 has no padding and any initialised u32 is valid as 4 bytes; the slice
        // covers exactly the memory of `words` for its lifetime.
        std::borrow::Cow::Borrowed(unsafe {
            std::slice::from_raw_parts(words.as_ptr().cast::<u8>(), std::mem::size_of_val(words))
        })
    } else {
        std::borrow::Cow::Owned(words.iter().flat_map(|w| w.to_le_bytes()).collect())
    }
}

fn as_bytes_mut(words: &mut [u32]) -> &mut [u8] {
    // SAFETY: as in `as_bytes`; every byte pattern is a valid u32, so writes through the byte
    // view cannot create an invalid value.
    unsafe {
        std::slice::from_raw_parts_mut(
            words.as_mut_ptr().cast::<u8>(),
            std::mem::size_of_val(words),
        )
    }
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, offset) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_read_back_as_written_in_any_order_and_from_threads() {
        let mut w = SpillWriter::new().unwrap();
        let docs: Vec<Vec<u32>> = (0..300u32)
            .map(|i| {
                (0..i % 17)
                    .map(|k| i.wrapping_mul(2_654_435_761) ^ k)
                    .collect()
            })
            .collect();
        for d in &docs {
            w.push(d).unwrap();
        }
        w.push_copy(5);
        w.push(&[]).unwrap();
        assert_eq!(w.len(), 302);
        let spill = w.finish().unwrap();
        assert_eq!(spill.len(), 302);
        let mut buf = vec![9];
        for d in (0..300).rev() {
            spill.read(d, &mut buf).unwrap();
            assert_eq!(buf, docs[d]);
        }
        spill.read(300, &mut buf).unwrap();
        assert_eq!(buf, docs[5]);
        // Documents 10..20 in one read, and a copy's span is its original's.
        let (at, _) = spill.span(10);
        let (last, n) = spill.span(19);
        let mut run = vec![0; (last + u64::from(n) - at) as usize];
        spill.read_at(at, &mut run).unwrap();
        assert_eq!(run, docs[10..20].concat());
        assert_eq!(spill.span(300), spill.span(5));
        spill.read(301, &mut buf).unwrap();
        assert!(buf.is_empty());
        std::thread::scope(|s| {
            for t in 0..2 {
                let spill = &spill;
                let docs = &docs;
                s.spawn(move || {
                    let mut buf = Vec::new();
                    for d in (t..300).step_by(2) {
                        spill.read(d, &mut buf).unwrap();
                        assert_eq!(&buf, &docs[d]);
                    }
                });
            }
        });
    }
}
