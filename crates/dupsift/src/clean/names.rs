//! Where each input goes under the output directory: its own name when it can, a sanitised
//! one (control characters and backslashes replaced, no root or `..`) when it must, a
//! numbered one (`a~2.jsonl`) when two inputs would land on one name, and never a name the
//! cleanup writes itself (`manifest.jsonl`, `report.json` at the top). Every name that is not
//! the input's own is a renaming, recorded in the manifest.
//!
//! This module only names; it must not read or write files.

use std::path::{Component, Path, PathBuf};

use rustc_hash::FxHashSet;

use super::{CleanError, doc_finder};
use crate::corpus::{Compression, Format, STDIN_NAME};
use crate::result::ScanResult;

/// The files a cleanup writes at the top of its output, which no input may take.
pub const RESERVED: [&str; 2] = ["manifest.jsonl", "report.json"];

/// A path under the output directory for an input name: only normal components (no root, no
/// `..`), control characters and backslashes replaced, never empty.
pub fn safe_relative(name: &str) -> PathBuf {
    relative(name, |c| {
        c.chars()
            .map(|ch| {
                if ch.is_control() || ch == '\\' {
                    '_'
                } else {
                    ch
                }
            })
            .collect()
    })
}

/// `name`'s normal components (no root, no `..`), each made by `part`; `unnamed` when none.
fn relative(name: &str, part: impl Fn(&str) -> String) -> PathBuf {
    let mut out = PathBuf::new();
    for comp in Path::new(name).components() {
        if let Component::Normal(c) = comp {
            out.push(part(&c.to_string_lossy()));
        }
    }
    if out.as_os_str().is_empty() {
        out.push("unnamed");
    }
    out
}

/// Whether placing `name` changes a character of it (beyond dropping a root or `..`, which
/// only says where the tree starts).
fn sanitised(name: &str) -> bool {
    safe_relative(name) != relative(name, str::to_owned)
}

/// The output name of a source: its sanitised name, with the compression extension of the
/// output codec; whether a character had to be replaced.
pub(super) fn output_name(
    name: &str,
    format: Format,
    input: Compression,
    output: Compression,
) -> (PathBuf, bool) {
    let (mut rel, changed) = if name == STDIN_NAME {
        let stdin = match format {
            Format::Jsonl => "stdin.jsonl",
            Format::Text => "stdin.txt",
            Format::Parquet => "stdin.parquet",
            Format::Arrow => "table.parquet",
        };
        (PathBuf::from(stdin), false)
    } else if format == Format::Arrow && !Format::from_name(name).is_table() {
        // A table in memory is written as Parquet.
        let name = format!("{name}.parquet");
        (safe_relative(&name), sanitised(&name))
    } else {
        (safe_relative(name), sanitised(name))
    };
    let file = rel
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let lower = file.to_ascii_lowercase();
    let stem_len = match input {
        Compression::Gzip if lower.ends_with(".gz") => file.len() - 3,
        Compression::Zstd if lower.ends_with(".zst") => file.len() - 4,
        Compression::Zstd if lower.ends_with(".zstd") => file.len() - 5,
        _ => file.len(),
    };
    let ext = match output {
        Compression::None => "",
        Compression::Gzip => ".gz",
        Compression::Zstd => ".zst",
    };
    rel.set_file_name(format!("{}{ext}", &file[..stem_len]));
    (rel, changed)
}

/// The codec a source is written with: Parquet compresses its own pages, as the input does,
/// so `--compress` is for the others.
pub(super) fn codec(
    format: Format,
    input: Compression,
    compress: Option<Compression>,
) -> Compression {
    match format {
        Format::Parquet | Format::Arrow => Compression::None,
        _ => compress.unwrap_or(input),
    }
}

/// An input written under another name than its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Renamed {
    /// The input (its display name).
    pub source: String,
    /// Where it is, relative to the output directory.
    pub output: PathBuf,
}

/// The place of every input under the output directory.
#[derive(Debug, Default)]
pub(super) struct Names {
    /// One per source of the corpus, in order.
    pub sources: Vec<PathBuf>,
    /// One per input the corpus rejected before reading (copied through).
    pub rejected: Vec<PathBuf>,
    /// The inputs not written under their own name, in input order.
    pub renamed: Vec<Renamed>,
}

/// Each input's own output name (display name, name, whether sanitising changed it): sources
/// first, then rejected inputs.
fn wanted(result: &ScanResult, compress: Option<Compression>) -> Vec<(&str, PathBuf, bool)> {
    let corpus = &result.corpus;
    let mut out = Vec::with_capacity(corpus.sources.len() + corpus.rejected.len());
    for (index, src) in corpus.sources.iter().enumerate() {
        // What the scan did not take as a document is copied through in its own codec.
        let copied = src.format == Format::Text && doc_finder(result, index as u32)(0).is_none();
        let to = if copied {
            src.compression
        } else {
            codec(src.format, src.compression, compress)
        };
        let (rel, changed) = output_name(&src.name, src.format, src.compression, to);
        out.push((src.name.as_str(), rel, changed));
    }
    for (_, name) in &corpus.rejected {
        out.push((name.as_str(), safe_relative(name), sanitised(name)));
    }
    out
}

/// Refuses a cleanup that would write an input where the cleanup's own files go.
pub(super) fn check_reserved(
    result: &ScanResult,
    compress: Option<Compression>,
) -> Result<(), CleanError> {
    for (name, rel, _) in wanted(result, compress) {
        if let Some(reserved) = RESERVED.iter().find(|r| rel == Path::new(r)) {
            return Err(CleanError::Reserved {
                path: name.to_owned(),
                name: reserved,
            });
        }
    }
    Ok(())
}

/// `rel` with `~N` before its extension (`a~2.jsonl`, `x~2.jsonl.gz`), so that the numbered
/// file is still read as what it is.
fn numbered(rel: &Path, n: u32) -> PathBuf {
    let file = rel
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    // A leading dot is part of the name (`.env`), not an extension.
    let cut = file
        .char_indices()
        .skip(1)
        .find(|&(_, c)| c == '.')
        .map_or(file.len(), |(i, _)| i);
    rel.with_file_name(format!("{}~{n}{}", &file[..cut], &file[cut..]))
}

/// Places every input: those whose own name is free and unchanged take it first (in input
/// order); the others, in input order, take their sanitised name or the first numbered one
/// free. Names are compared as written: on a case-insensitive file system `A.txt` and
/// `a.txt` would still meet.
pub(super) fn place(result: &ScanResult, compress: Option<Compression>) -> Names {
    let wanted = wanted(result, compress);
    let mut used: FxHashSet<PathBuf> = RESERVED.iter().map(PathBuf::from).collect();
    let mut placed: Vec<Option<PathBuf>> = vec![None; wanted.len()];
    for (i, (_, rel, changed)) in wanted.iter().enumerate() {
        if !changed && used.insert(rel.clone()) {
            placed[i] = Some(rel.clone());
        }
    }
    let mut renamed = Vec::new();
    for (i, (name, rel, _)) in wanted.iter().enumerate() {
        if placed[i].is_some() {
            continue;
        }
        let mut candidate = rel.clone();
        let mut n = 2;
        while !used.insert(candidate.clone()) {
            candidate = numbered(rel, n);
            n += 1;
        }
        renamed.push(Renamed {
            source: (*name).to_owned(),
            output: candidate.clone(),
        });
        placed[i] = Some(candidate);
    }
    let mut placed = placed
        .into_iter()
        .map(|p| p.expect("every input is placed"));
    let sources = placed.by_ref().take(result.corpus.sources.len()).collect();
    Names {
        sources,
        rejected: placed.collect(),
        renamed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_paths_stay_inside_the_output_directory() {
        assert_eq!(
            safe_relative("../../etc/passwd"),
            PathBuf::from("etc/passwd")
        );
        assert_eq!(safe_relative("/abs/x.txt"), PathBuf::from("abs/x.txt"));
        assert_eq!(safe_relative("a/./b\u{7}.txt"), PathBuf::from("a/b_.txt"));
        assert_eq!(safe_relative(".."), PathBuf::from("unnamed"));
        assert!(!sanitised("/abs/../x.txt"));
        assert!(sanitised("back\\slash.txt"));
    }

    #[test]
    fn output_names_follow_the_output_codec() {
        let n = |name, f, i, o| output_name(name, f, i, o).0;
        use Compression::*;
        assert_eq!(
            n("d/a.jsonl.gz", Format::Jsonl, Gzip, Gzip),
            PathBuf::from("d/a.jsonl.gz")
        );
        assert_eq!(
            n("d/a.jsonl.gz", Format::Jsonl, Gzip, None),
            PathBuf::from("d/a.jsonl")
        );
        assert_eq!(
            n("a.jsonl", Format::Jsonl, None, Zstd),
            PathBuf::from("a.jsonl.zst")
        );
        assert_eq!(
            n("<stdin>", Format::Jsonl, None, None),
            PathBuf::from("stdin.jsonl")
        );
    }

    #[test]
    fn numbers_go_before_the_extension() {
        let n = |p: &str| numbered(Path::new(p), 2);
        assert_eq!(n("d/a.jsonl"), PathBuf::from("d/a~2.jsonl"));
        assert_eq!(n("x.jsonl.gz"), PathBuf::from("x~2.jsonl.gz"));
        assert_eq!(n(".env"), PathBuf::from(".env~2"));
        assert_eq!(n("README"), PathBuf::from("README~2"));
    }
}
