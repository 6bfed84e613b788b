//! Index files (`.dsx`): what later checks need of an already-scanned corpus, so that a batch
//! can be checked against it without reading the corpus's text again.
//!
//! Per document the index keeps its id, size, content hash, LSH band keys, passage fingerprints
//! and the hashes of its words (from which shingle sets are rebuilt for exact verification and
//! passages are aligned), plus the parameters that shaped all of these. A check whose
//! parameters differ is refused rather than silently wrong.
//!
//! Layout (little-endian): the magic `DUPSIFTX`, a `u32` format version, a `u64` length and a
//! JSON header (parameters, document count), then for each document its fixed fields, its id,
//! its band keys, fingerprints and word hashes, and last an xxh3-64 checksum of everything
//! before it. A truncated, corrupt or foreign file is an error naming what is wrong, never a
//! panic. [`Index::save`] writes the file whole to a temporary file and renames it (see
//! [`crate::atomic`]), so an interrupted build or add leaves the previous index as it was.
//!
//! This module stores and loads, and says whether a scan's parameters fit an index; detection
//! lives in [`crate::scan`].

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use xxhash_rust::xxh3::xxh3_64;

use crate::minhash::Scheme;
use crate::params::Params;
use crate::shingle::Unit;

/// The first bytes of every index file.
pub const MAGIC: &[u8; 8] = b"DUPSIFTX";
/// Version of the layout; readers refuse others.
pub const FORMAT_VERSION: u32 = 1;

/// The parameters an index was built with: everything that changes band keys, shingles or
/// fingerprints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IndexParams {
    /// Shingle unit (only `word` is supported by indexes).
    pub unit: Unit,
    /// Words per shingle.
    pub ngram: usize,
    /// Permutations.
    pub num_perm: usize,
    /// LSH bands.
    pub bands: usize,
    /// Rows per band.
    pub rows: usize,
    /// Similarity threshold.
    pub threshold: f64,
    /// Permutation seed.
    pub seed: u64,
    /// Signature scheme (absent, i.e. classic, in indexes written before it existed).
    #[serde(default, skip_serializing_if = "Scheme::is_classic")]
    pub scheme: Scheme,
    /// Shortest passage (fingerprints depend on it); `None` without passages.
    pub min_passage: Option<usize>,
    /// The shingle and word hash format (constants of [`crate::shingle`]).
    pub hash_format: u32,
}

/// Version of the word and shingle hash format stored in indexes.
pub const HASH_FORMAT: u32 = 1;

impl IndexParams {
    /// The index parameters of scan parameters: the ones that shape band keys, shingles and
    /// fingerprints, taken from `p` (whose every field is named here, so that a new
    /// parameter cannot be forgotten: it is either stored or said not to matter).
    pub fn of(p: &Params) -> IndexParams {
        let Params {
            unit,
            ngram,
            num_perm,
            bands,
            rows,
            threshold,
            seed,
            scheme,
            // Which pairs are verified how, which member is kept and how components are split
            // are decided when the index is used, not stored in it.
            verify: _,
            keep: _,
            prefer: _,
            clusters: _,
            ref passages,
        } = *p;
        IndexParams {
            unit,
            ngram,
            num_perm,
            bands,
            rows,
            threshold,
            seed,
            scheme,
            min_passage: passages.as_ref().map(|pp| pp.min_words),
            hash_format: HASH_FORMAT,
        }
    }

    /// Describes every difference from `other` ("ngram 5 in the index, 7 here"), empty when
    /// they agree.
    pub fn conflicts(&self, here: &IndexParams) -> Vec<String> {
        let mut out = Vec::new();
        let mut cmp = |name: &str, a: String, b: String| {
            if a != b {
                out.push(format!("{name} is {a} in the index, {b} here"));
            }
        };
        cmp("unit", self.unit.to_string(), here.unit.to_string());
        cmp("ngram", self.ngram.to_string(), here.ngram.to_string());
        cmp(
            "num-perm",
            self.num_perm.to_string(),
            here.num_perm.to_string(),
        );
        cmp("bands", self.bands.to_string(), here.bands.to_string());
        cmp("rows", self.rows.to_string(), here.rows.to_string());
        cmp(
            "threshold",
            self.threshold.to_string(),
            here.threshold.to_string(),
        );
        cmp("seed", self.seed.to_string(), here.seed.to_string());
        cmp("scheme", self.scheme.to_string(), here.scheme.to_string());
        let mp = |m: Option<usize>| m.map_or("off".to_string(), |m| m.to_string());
        cmp("min-passage", mp(self.min_passage), mp(here.min_passage));
        cmp(
            "hash format",
            self.hash_format.to_string(),
            here.hash_format.to_string(),
        );
        out
    }
}

/// One indexed document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexDoc {
    /// Document id at indexing time.
    pub id: String,
    /// Size of its text in bytes.
    pub bytes: u64,
    /// xxh3-128 of its bytes.
    pub content: u128,
    /// LSH band keys (`bands` values).
    pub keys: Vec<u64>,
    /// Passage fingerprints `(hash, word position)`.
    pub fingerprints: Vec<(u64, u32)>,
    /// Hashes of its words, in order.
    pub words: Vec<u64>,
}

/// An index: parameters and documents, in indexing order.
#[derive(Clone, Debug, PartialEq)]
pub struct Index {
    /// The parameters every document was processed with.
    pub params: IndexParams,
    /// The documents.
    pub docs: Vec<IndexDoc>,
}

#[derive(Serialize, Deserialize)]
struct Header {
    tool: String,
    version: String,
    params: IndexParams,
    documents: u64,
}

/// Why an index cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// Reading or writing failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// Not an index file at all.
    #[error("not a dupsift index (wrong magic number)")]
    Foreign,
    /// An index of another layout version.
    #[error(
        "index format version {0} is not supported (this dupsift reads version {FORMAT_VERSION})"
    )]
    Version(u32),
    /// Damaged: truncated, or bytes changed.
    #[error("damaged index: {0}")]
    Corrupt(String),
    /// Built in a way this dupsift cannot check against.
    #[error("{0}")]
    Unsupported(String),
}

/// Why an index file cannot be used, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum IndexFileError {
    /// The file could not be read.
    #[error("reading {}", path.display())]
    Read {
        /// The index file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// The file is not an index this dupsift can use.
    #[error("{}: {error}", path.display())]
    Invalid {
        /// The index file.
        path: PathBuf,
        /// What is wrong with it (part of the message, hence not a `source`).
        error: IndexError,
    },
}

/// Scan parameters that disagree with an index's: one description per parameter.
#[derive(Debug, PartialEq, thiserror::Error)]
#[error("{}", self.messages().join("\n"))]
pub struct Disagreement {
    /// The index file.
    pub path: PathBuf,
    /// What differs, as [`IndexParams::conflicts`] describes it.
    pub conflicts: Vec<String>,
}

impl Disagreement {
    /// One message per conflict, each naming the file and saying how to fix it.
    pub fn messages(&self) -> Vec<String> {
        self.conflicts
            .iter()
            .map(|c| {
                format!(
                    "{}: {c}; rerun with the index's parameters (see `dupsift index info`)",
                    self.path.display()
                )
            })
            .collect()
    }
}

/// The lock of an index file, held from its load to its save by whoever adds to it: two
/// `index add` runs at once would otherwise both load the same file, and the second save
/// would drop the first one's batch. Released when dropped.
#[derive(Debug)]
pub struct IndexLock {
    _file: std::fs::File,
}

impl Index {
    /// Takes the lock of the index file at `path`, waiting while another process holds it
    /// (`waiting` is called once, before the wait, so that a caller can say why it stops).
    /// The lock is an advisory lock on the file itself; since a save replaces the file with a
    /// new one, a lock taken on a file that was replaced meanwhile is dropped and taken again
    /// on the new one.
    pub fn lock(path: &Path, waiting: impl FnOnce()) -> Result<IndexLock, IndexFileError> {
        let read = |source| IndexFileError::Read {
            path: path.to_path_buf(),
            source,
        };
        let mut waiting = Some(waiting);
        loop {
            let file = std::fs::File::open(path).map_err(read)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    if let Some(w) = waiting.take() {
                        w();
                    }
                    file.lock().map_err(read)?;
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(read(e)),
            }
            if same_file(&file, path).map_err(read)? {
                return Ok(IndexLock { _file: file });
            }
        }
    }

    /// Reads and decodes the index file at `path`.
    pub fn load(path: &Path) -> Result<Index, IndexFileError> {
        let bytes = std::fs::read(path).map_err(|source| IndexFileError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Index::from_bytes(&bytes).map_err(|error| IndexFileError::Invalid {
            path: path.to_path_buf(),
            error,
        })
    }

    /// Refuses to replace what is at `path` unless it is missing, empty or begins as an index
    /// file does (`index build -o` must not overwrite a corpus file named by mistake; an index
    /// of another version or a damaged one may be rebuilt).
    pub fn check_replaceable(path: &Path) -> Result<(), crate::guard::GuardError> {
        crate::guard::check_replaceable(path, "a dupsift index", |p| {
            let mut head = [0u8; MAGIC.len()];
            let read =
                std::fs::File::open(p).and_then(|mut f| io::Read::read_exact(&mut f, &mut head));
            if read.is_ok() && &head == MAGIC {
                Ok(())
            } else {
                Err("it does not begin as an index file does".to_owned())
            }
        })
    }

    /// Writes the index to `path` atomically: readers see the old file or the new one.
    pub fn save(&self, path: &Path) -> Result<(), crate::atomic::WriteError> {
        crate::atomic::write(path, |w| self.write(w))
    }

    /// Refuses scan parameters that would give other band keys, shingles or fingerprints than
    /// the index holds; `path` is the index file, for the messages.
    pub fn check_params(&self, params: &Params, path: &Path) -> Result<(), Disagreement> {
        let conflicts = self.params.conflicts(&IndexParams::of(params));
        if conflicts.is_empty() {
            Ok(())
        } else {
            Err(Disagreement {
                path: path.to_path_buf(),
                conflicts,
            })
        }
    }

    /// Words held over all documents.
    pub fn words(&self) -> u64 {
        self.docs.iter().map(|d| d.words.len() as u64).sum()
    }

    /// An empty index for `params` (word shingles only).
    pub fn new(params: IndexParams) -> Result<Index, IndexError> {
        if params.unit != Unit::Word {
            return Err(IndexError::Unsupported(
                "indexes store word hashes: --unit char cannot be indexed".into(),
            ));
        }
        Ok(Index {
            params,
            docs: Vec::new(),
        })
    }

    /// Bytes the index takes on disk.
    pub fn encoded_len(&self) -> usize {
        let mut n = MAGIC.len() + 4 + 8 + self.header_json().len() + 8;
        for d in &self.docs {
            n += 8 + 16 + 4 + 4 + 4 + 4 + d.id.len();
            n += d.keys.len() * 8 + d.fingerprints.len() * 12 + d.words.len() * 8;
        }
        n
    }

    fn header_json(&self) -> Vec<u8> {
        serde_json::to_vec(&Header {
            tool: "dupsift".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            params: self.params.clone(),
            documents: self.docs.len() as u64,
        })
        .expect("the header serialises")
    }

    /// Encodes the index.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(self.encoded_len());
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        let header = self.header_json();
        b.extend_from_slice(&(header.len() as u64).to_le_bytes());
        b.extend_from_slice(&header);
        for d in &self.docs {
            b.extend_from_slice(&d.bytes.to_le_bytes());
            b.extend_from_slice(&d.content.to_le_bytes());
            b.extend_from_slice(&(d.id.len() as u32).to_le_bytes());
            b.extend_from_slice(&(d.keys.len() as u32).to_le_bytes());
            b.extend_from_slice(&(d.fingerprints.len() as u32).to_le_bytes());
            b.extend_from_slice(&(d.words.len() as u32).to_le_bytes());
            b.extend_from_slice(d.id.as_bytes());
            for k in &d.keys {
                b.extend_from_slice(&k.to_le_bytes());
            }
            for (h, pos) in &d.fingerprints {
                b.extend_from_slice(&h.to_le_bytes());
                b.extend_from_slice(&pos.to_le_bytes());
            }
            for w in &d.words {
                b.extend_from_slice(&w.to_le_bytes());
            }
        }
        let sum = xxh3_64(&b);
        b.extend_from_slice(&sum.to_le_bytes());
        b
    }

    /// Writes the encoded index.
    pub fn write(&self, mut w: impl Write) -> io::Result<()> {
        w.write_all(&self.to_bytes())
    }

    /// Decodes an index, checking magic, version, checksum and every length.
    pub fn from_bytes(b: &[u8]) -> Result<Index, IndexError> {
        if b.len() < MAGIC.len() || &b[..MAGIC.len()] != MAGIC {
            return Err(IndexError::Foreign);
        }
        let mut r = Reader { b, at: MAGIC.len() };
        let version = r.u32()?;
        if version != FORMAT_VERSION {
            return Err(IndexError::Version(version));
        }
        if b.len() < r.at + 8 + 8 {
            return Err(IndexError::Corrupt("truncated header".into()));
        }
        let (body, sum) = b.split_at(b.len() - 8);
        let sum = u64::from_le_bytes(sum.try_into().expect("8 bytes"));
        if xxh3_64(body) != sum {
            return Err(IndexError::Corrupt(
                "checksum mismatch (truncated or modified)".into(),
            ));
        }
        let mut r = Reader { b: body, at: r.at };
        let header_len = r.u64()? as usize;
        let header: Header = serde_json::from_slice(r.take(header_len)?)
            .map_err(|e| IndexError::Corrupt(format!("header: {e}")))?;
        let mut index = Index::new(header.params)?;
        let docs = usize::try_from(header.documents)
            .map_err(|_| IndexError::Corrupt("document count".into()))?;
        index.docs.reserve(docs.min(body.len() / 40));
        for _ in 0..docs {
            let bytes = r.u64()?;
            let content = u128::from_le_bytes(r.take(16)?.try_into().expect("16 bytes"));
            let id_len = r.u32()? as usize;
            let n_keys = r.u32()? as usize;
            let n_fps = r.u32()? as usize;
            let n_words = r.u32()? as usize;
            let id = String::from_utf8(r.take(id_len)?.to_vec())
                .map_err(|_| IndexError::Corrupt("an id is not UTF-8".into()))?;
            if n_keys != index.params.bands {
                return Err(IndexError::Corrupt(format!(
                    "document {id} has {n_keys} band keys, not {}",
                    index.params.bands
                )));
            }
            let keys = (0..n_keys).map(|_| r.u64()).collect::<Result<_, _>>()?;
            let fingerprints = (0..n_fps)
                .map(|_| Ok((r.u64()?, r.u32()?)))
                .collect::<Result<_, IndexError>>()?;
            let words = r
                .take(
                    n_words
                        .checked_mul(8)
                        .ok_or_else(|| IndexError::Corrupt("sizes".into()))?,
                )?
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
                .collect();
            index.docs.push(IndexDoc {
                id,
                bytes,
                content,
                keys,
                fingerprints,
                words,
            });
        }
        if r.at != body.len() {
            return Err(IndexError::Corrupt(format!(
                "{} unexpected bytes after the last document",
                body.len() - r.at
            )));
        }
        Ok(index)
    }
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], IndexError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.b.len())
            .ok_or_else(|| IndexError::Corrupt("truncated".into()))?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32, IndexError> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn u64(&mut self) -> Result<u64, IndexError> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
}

/// Whether `path` still names the file `file` has open (a save renames a new file over it).
fn same_file(file: &std::fs::File, path: &Path) -> io::Result<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let (open, named) = (file.metadata()?, std::fs::metadata(path)?);
        Ok((open.dev(), open.ino()) == (named.dev(), named.ino()))
    }
    #[cfg(not(unix))]
    {
        // Elsewhere a file open without sharing cannot be renamed over: it is the same.
        let _ = (file, path);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Index {
        let mut i = Index::new(IndexParams::of(&Params::default())).unwrap();
        i.docs.push(IndexDoc {
            id: "a.txt".into(),
            bytes: 10,
            content: 7,
            keys: vec![1; i.params.bands],
            fingerprints: vec![(5, 0), (9, 3)],
            words: vec![11, 12, 13],
        });
        i.docs.push(IndexDoc {
            id: "b/é.txt".into(),
            bytes: 0,
            content: u128::MAX,
            keys: vec![2; i.params.bands],
            fingerprints: vec![],
            words: vec![],
        });
        i
    }

    #[test]
    fn round_trip() {
        let i = sample();
        let b = i.to_bytes();
        assert_eq!(b.len(), i.encoded_len());
        assert_eq!(Index::from_bytes(&b).unwrap(), i);
    }

    #[test]
    fn damage_is_detected_never_a_panic() {
        let b = sample().to_bytes();
        assert!(matches!(
            Index::from_bytes(b"PK\x03\x04zip"),
            Err(IndexError::Foreign)
        ));
        assert!(matches!(Index::from_bytes(b""), Err(IndexError::Foreign)));
        for cut in [9, 20, b.len() / 2, b.len() - 1] {
            assert!(
                matches!(Index::from_bytes(&b[..cut]), Err(IndexError::Corrupt(_))),
                "{cut}"
            );
        }
        let mut flipped = b.clone();
        flipped[b.len() / 2] ^= 1;
        assert!(matches!(
            Index::from_bytes(&flipped),
            Err(IndexError::Corrupt(_))
        ));
        let mut v2 = b.clone();
        v2[8] = 2;
        assert!(matches!(
            Index::from_bytes(&v2),
            Err(IndexError::Version(2))
        ));
    }

    #[test]
    fn conflicting_parameters_are_named() {
        let a = IndexParams::of(&Params::default());
        let mut b = a.clone();
        b.ngram = 7;
        b.seed = 1;
        let c = a.conflicts(&b);
        assert_eq!(c.len(), 2);
        assert!(c[0].contains("ngram is 5 in the index, 7 here"));
        assert!(a.conflicts(&a).is_empty());
    }

    #[test]
    fn char_shingles_cannot_be_indexed() {
        let mut p = IndexParams::of(&Params::default());
        p.unit = Unit::Char;
        assert!(Index::new(p).is_err());
    }
}
