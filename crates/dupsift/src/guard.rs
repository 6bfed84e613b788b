//! What an output file may not be: one of the command's inputs, a file a later scan of the
//! same inputs would read, or an existing file of another kind than the one written there.
//! Every command that writes a file (`-o`, `--report-html`, `index build -o`,
//! `--update-baseline`) asks here first, before any scan, so that a slip of the keyboard
//! (`scan a.jsonl -o a.jsonl`) costs an error message, not the corpus.
//!
//! Paths are compared once resolved (symbolic links followed, `..` removed), as the writer
//! will resolve them: [`crate::atomic::write`] replaces the target of a link. A hard link to
//! an input is not refused: the atomic write renames a new file over the link's name, and the
//! input keeps its bytes. Devices and pipes are written in place and are never compared
//! (`-o /dev/null` is fine whatever is read).
//!
//! This module only decides; it must not read inputs, write or print.

use std::path::{Path, PathBuf};

use crate::corpus::ReadOptions;

/// Why an output file is refused. Each message names the output and what it would destroy.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    /// The output path has no existing ancestor that can be resolved.
    #[error("{}: cannot resolve the output path", out.display())]
    Unresolvable {
        /// The output.
        out: PathBuf,
    },
    /// The output is one of the inputs: writing it would replace the input.
    #[error("{} is also an input: writing it would destroy that input (choose another output)", out.display())]
    IsInput {
        /// The output.
        out: PathBuf,
    },
    /// The output is inside an input directory, where a later scan would read it (and replace
    /// what is there).
    #[error("{} is inside the input {}: a later scan would read it (choose an output outside the inputs)", out.display(), input.display())]
    InsideInput {
        /// The output.
        out: PathBuf,
        /// The input directory holding it.
        input: PathBuf,
    },
    /// The output exists, is not empty and is not the kind of file written there (an index
    /// over a corpus file, a baseline over a report).
    #[error("{} exists and is not {what} ({why}): remove it or choose another output", out.display())]
    NotReplaceable {
        /// The output.
        out: PathBuf,
        /// What would be written there ("a dupsift index", "a dupsift baseline").
        what: &'static str,
        /// Why the file is not one.
        why: String,
    },
    /// A second output is inside a directory the command replaces as a whole.
    #[error("{} is inside the output {}, which the cleanup replaces as a whole (write it beside)", out.display(), dir.display())]
    InsideOutput {
        /// The file output.
        out: PathBuf,
        /// The output directory.
        dir: PathBuf,
    },
}

/// `p` made absolute with its existing part resolved (links followed) and the part that does
/// not exist yet appended as written; `None` when no ancestor resolves.
pub(crate) fn resolve(p: &Path) -> Option<PathBuf> {
    let p = std::path::absolute(p).ok()?;
    let mut base = p.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(c) = base.canonicalize() {
            return Some(rest.iter().rev().fold(c, |acc, part| acc.join(part)));
        }
        rest.push(base.file_name()?.to_owned());
        base = base.parent()?;
    }
}

/// Whether a directory walk under `opts` would reach `rel` (a path below the walked
/// directory): it skips hidden entries unless told otherwise. `.gitignore` rules are not
/// consulted: an output they would hide is still refused, which errs on the safe side.
fn walk_reaches(rel: &Path, opts: &ReadOptions) -> bool {
    opts.hidden
        || !rel
            .components()
            .any(|c| c.as_os_str().to_string_lossy().starts_with('.'))
}

/// Refuses `out` as a file output of a command reading `inputs` (`-` is standard input and
/// is not compared; inputs that do not exist are skipped by the scan and are not compared
/// either): `out` is an input file, or lies inside an input directory where the walk would
/// read it. A device or pipe is always accepted.
pub fn check_file_output(
    inputs: &[PathBuf],
    out: &Path,
    opts: &ReadOptions,
) -> Result<(), GuardError> {
    if std::fs::metadata(out).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        return Ok(());
    }
    let out_abs = resolve(out).ok_or_else(|| GuardError::Unresolvable {
        out: out.to_path_buf(),
    })?;
    for input in inputs.iter().filter(|p| p.as_os_str() != "-") {
        let Ok(input_abs) = input.canonicalize() else {
            continue;
        };
        if out_abs == input_abs {
            return Err(GuardError::IsInput {
                out: out.to_path_buf(),
            });
        }
        if std::fs::metadata(&input_abs).is_ok_and(|m| m.is_dir())
            && let Ok(rel) = out_abs.strip_prefix(&input_abs)
            && walk_reaches(rel, opts)
        {
            return Err(GuardError::InsideInput {
                out: out.to_path_buf(),
                input: input.clone(),
            });
        }
    }
    Ok(())
}

/// Refuses `out` (a file a command would write) inside the directory `dir` that the command
/// replaces as a whole: it would be written, then deleted with the old directory.
pub fn check_outside(out: &Path, dir: &Path) -> Result<(), GuardError> {
    let (Some(out_abs), Some(dir_abs)) = (resolve(out), resolve(dir)) else {
        return Ok(());
    };
    if out_abs.starts_with(&dir_abs) {
        return Err(GuardError::InsideOutput {
            out: out.to_path_buf(),
            dir: dir.to_path_buf(),
        });
    }
    Ok(())
}

/// Refuses to replace an existing, non-empty regular file at `out` that `is_kind` (given the
/// file) says is not `what`. A missing or empty file, a device or a pipe is accepted.
pub fn check_replaceable(
    out: &Path,
    what: &'static str,
    is_kind: impl FnOnce(&Path) -> Result<(), String>,
) -> Result<(), GuardError> {
    match std::fs::metadata(out) {
        Ok(m) if m.is_file() && m.len() > 0 => {
            is_kind(out).map_err(|why| GuardError::NotReplaceable {
                out: out.to_path_buf(),
                what,
                why,
            })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("data/sub")).unwrap();
        std::fs::write(d.path().join("data/a.jsonl"), "{}\n").unwrap();
        std::fs::write(d.path().join("b.txt"), "b").unwrap();
        d
    }

    #[test]
    fn an_input_file_is_refused_by_any_path_that_names_it() {
        let d = tree();
        let opts = ReadOptions::default();
        let b = d.path().join("b.txt");
        let inputs = [b.clone()];
        let dotted = d.path().join("data/../b.txt");
        for out in [&b, &dotted] {
            assert_eq!(
                check_file_output(&inputs, out, &opts),
                Err(GuardError::IsInput { out: out.clone() })
            );
        }
        #[cfg(unix)]
        {
            let link = d.path().join("link");
            std::os::unix::fs::symlink(&b, &link).unwrap();
            assert!(check_file_output(&inputs, &link, &opts).is_err());
        }
        let other = d.path().join("report.json");
        assert_eq!(check_file_output(&inputs, &other, &opts), Ok(()));
        assert_eq!(
            check_file_output(&inputs, Path::new("/dev/null"), &opts),
            Ok(())
        );
    }

    #[test]
    fn inside_a_walked_directory_is_refused_unless_the_walk_skips_it() {
        let d = tree();
        let data = d.path().join("data");
        let inputs = [data.clone(), PathBuf::from("-")];
        let opts = ReadOptions::default();
        for out in ["data/a.jsonl", "data/new.json", "data/sub/deep/new.json"] {
            let out = d.path().join(out);
            assert!(
                matches!(
                    check_file_output(&inputs, &out, &opts),
                    Err(GuardError::InsideInput { .. })
                ),
                "{}",
                out.display()
            );
        }
        // Hidden: the walk does not read it, unless `--hidden`.
        let hidden = d.path().join("data/.dupsift/baseline.json");
        assert_eq!(check_file_output(&inputs, &hidden, &opts), Ok(()));
        let with_hidden = ReadOptions {
            hidden: true,
            ..ReadOptions::default()
        };
        assert!(check_file_output(&inputs, &hidden, &with_hidden).is_err());
        // Beside the directory, and a missing input, are fine.
        let beside = d.path().join("data.json");
        let missing = [d.path().join("nope")];
        assert_eq!(check_file_output(&inputs, &beside, &opts), Ok(()));
        assert_eq!(
            check_file_output(&missing, &d.path().join("nope"), &opts),
            Ok(())
        );
    }

    #[test]
    fn replaceable_only_when_missing_empty_or_of_the_kind() {
        let d = tree();
        let b = d.path().join("b.txt");
        let no = |_: &Path| Err("no magic".to_owned());
        assert!(matches!(
            check_replaceable(&b, "a dupsift index", no),
            Err(GuardError::NotReplaceable {
                what: "a dupsift index",
                ..
            })
        ));
        assert_eq!(check_replaceable(&b, "x", |_| Ok(())), Ok(()));
        let empty = d.path().join("empty");
        std::fs::write(&empty, "").unwrap();
        assert_eq!(check_replaceable(&empty, "x", no), Ok(()));
        assert_eq!(
            check_replaceable(&d.path().join("missing"), "x", no),
            Ok(())
        );
    }

    #[test]
    fn a_file_inside_a_replaced_directory_is_refused() {
        let d = tree();
        let out = d.path().join("out");
        assert!(check_outside(&out.join("review.html"), &out).is_err());
        assert!(check_outside(&d.path().join("out.html"), &out).is_ok());
    }
}
