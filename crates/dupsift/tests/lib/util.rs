//! What the library tests share: deterministic texts (unrelated unless made otherwise), a
//! corpus in a temporary directory, and scans of it with chosen parameters.

use std::path::{Path, PathBuf};

use dupsift::{Params, ParamsBuilder, Progress, ScanOptions, ScanResult};

/// `n` words of a text that shares no run of five words with another seed's.
pub fn words(seed: u64, n: usize) -> String {
    const SYLLABLES: [&str; 20] = [
        "al", "bo", "ci", "du", "ek", "fo", "gu", "hi", "ja", "ko", "lu", "mi", "no", "pa", "qu",
        "re", "si", "tu", "vo", "wy",
    ];
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = || {
        // xorshift64: deterministic, no dependency.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..n)
        .map(|_| {
            let r = next();
            (0..3)
                .map(|i| SYLLABLES[((r >> (i * 8)) % 20) as usize])
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `text` with the words at `positions` replaced.
pub fn edited(text: &str, positions: &[usize]) -> String {
    let mut w: Vec<String> = text.split(' ').map(str::to_owned).collect();
    for &p in positions {
        w[p] = format!("edit{p}");
    }
    w.join(" ")
}

/// A corpus under a temporary directory.
pub struct Corpus {
    pub dir: tempfile::TempDir,
}

impl Corpus {
    pub fn new() -> Corpus {
        Corpus {
            dir: tempfile::tempdir().expect("temporary directory"),
        }
    }

    /// Writes `rel` (creating its directories).
    pub fn file(&self, rel: &str, bytes: impl AsRef<[u8]>) -> &Corpus {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
        self
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }
}

/// The usual duplicates: `in/a.txt`, its exact copy `in/b.txt`, its near-copy `in/c.txt` (two
/// words of 300 edited) and the unrelated `in/d.txt`. Returns the texts of a, c and d.
pub fn duplicates(c: &Corpus) -> (String, String, String) {
    let a = words(1, 300);
    let near = edited(&a, &[100, 200]);
    let d = words(2, 300);
    c.file("in/a.txt", &a)
        .file("in/b.txt", &a)
        .file("in/c.txt", &near)
        .file("in/d.txt", &d);
    (a, near, d)
}

/// Parameters: the defaults, passages on or off.
pub fn params(passages: bool) -> Params {
    let mut b = ParamsBuilder::default();
    if !passages {
        b.passages = None;
    }
    b.build().expect("valid parameters")
}

/// Scan options with `params` and the default reading.
pub fn options(params: Params) -> ScanOptions {
    ScanOptions {
        params,
        ..ScanOptions::default()
    }
}

/// Scans `inputs` with `options`.
#[track_caller]
pub fn scan(inputs: &[PathBuf], options: &ScanOptions) -> ScanResult {
    dupsift::scan::scan(inputs, options, &Progress::default()).expect("scan")
}

/// The ids of a cluster: kept first, then the members.
pub fn cluster_ids(result: &ScanResult, i: usize) -> Vec<String> {
    let c = &result.clusters[i];
    std::iter::once(c.kept)
        .chain(c.members.iter().map(|m| m.0))
        .map(|d| result.docs.id(d).to_owned())
        .collect()
}
