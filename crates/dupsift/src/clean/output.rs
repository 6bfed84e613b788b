//! The cleanup as a command: refuse an output directory that would overwrite or feed on the
//! inputs, and options that contradict each other or the inputs, write the cleaned corpus, `manifest.jsonl` and `report.json` into a hidden directory
//! beside it, and rename that into place once complete, so that an interrupted run leaves the
//! output as it was; or, for a dry run, only plan and count.
//!
//! This module places a cleanup; it must not decide what is removed or cut (see
//! [`super::plan`]), render the plan, or print.

use std::io;
use std::path::{Path, PathBuf};

use super::{Annotate, CleanError, CleanOptions, Plan, StripPassages, Totals, plan, totals, write};
use crate::corpus::Format;
use crate::report::{CleanReport, Report};
use crate::result::ScanResult;

/// A cleanup decided (and, unless it was a dry run, written): its plan and totals.
#[derive(Clone, Debug)]
pub struct Cleanup {
    /// What is removed and cut.
    pub plan: Plan,
    /// The totals; after [`run`], `bytes_out` counts what was written.
    pub totals: Totals,
}

/// Why an output directory is refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum OutputError {
    /// The output path has no existing ancestor that can be resolved.
    #[error("{}: cannot resolve the output path", out.display())]
    Unresolvable {
        /// The output directory.
        out: PathBuf,
    },
    /// The output would be inside an input (a later scan would read it).
    #[error("{} is inside the input {}: choose an output outside the inputs", out.display(), input.display())]
    InsideInput {
        /// The output directory.
        out: PathBuf,
        /// The input holding it.
        input: PathBuf,
    },
    /// An input is inside the output (replacing the output would delete it).
    #[error("the input {} is inside the output {}", input.display(), out.display())]
    HoldsInput {
        /// The output directory.
        out: PathBuf,
        /// The input inside it.
        input: PathBuf,
    },
    /// The output exists and is not empty, and `force` was not given.
    #[error("{} exists and is not empty (use --force to replace it)", out.display())]
    NotEmpty {
        /// The output directory.
        out: PathBuf,
    },
    /// The output exists and is not a directory, and `force` was not given.
    #[error("{} exists and is not a directory", out.display())]
    NotDirectory {
        /// The output path.
        out: PathBuf,
    },
}

/// Refuses an output directory that would overwrite or feed on the inputs: `out` inside an
/// input or an input inside `out`, or an existing non-empty `out` without `force`. Inputs that
/// do not exist (they are reported as skipped) and standard input are not compared.
pub fn check_output(inputs: &[PathBuf], out: &Path, force: bool) -> Result<(), OutputError> {
    // `out` usually does not exist yet: its nearest existing ancestor is resolved.
    let out_abs = crate::guard::resolve(out).ok_or_else(|| OutputError::Unresolvable {
        out: out.to_path_buf(),
    })?;
    for input in inputs.iter().filter(|p| p.as_os_str() != "-") {
        let Ok(input_abs) = input.canonicalize() else {
            continue;
        };
        if out_abs.starts_with(&input_abs) {
            return Err(OutputError::InsideInput {
                out: out.to_path_buf(),
                input: input.clone(),
            });
        }
        if input_abs.starts_with(&out_abs) {
            return Err(OutputError::HoldsInput {
                out: out.to_path_buf(),
                input: input.clone(),
            });
        }
    }
    if let Ok(mut entries) = std::fs::read_dir(out) {
        if entries.next().is_some() && !force {
            return Err(OutputError::NotEmpty {
                out: out.to_path_buf(),
            });
        }
    } else if out.exists() && !force {
        return Err(OutputError::NotDirectory {
            out: out.to_path_buf(),
        });
    }
    Ok(())
}

/// Refuses to cut passages from a scan that did not look for them.
pub fn check_strip(result: &ScanResult, strip: StripPassages) -> Result<(), CleanError> {
    if strip != StripPassages::None && result.params.passages.is_none() {
        return Err(CleanError::NeedsPassages);
    }
    Ok(())
}

/// Refuses records to annotate when an input is read as plain text (a file named otherwise
/// than `.jsonl` or `.ndjson`, found in a directory or given, or text on standard input): it
/// has no records. Nothing with [`Annotate::None`].
pub fn check_annotate(result: &ScanResult, annotate: Annotate) -> Result<(), CleanError> {
    if annotate == Annotate::None {
        return Ok(());
    }
    match result
        .corpus
        .sources
        .iter()
        .find(|s| s.format == Format::Text)
    {
        Some(s) => Err(CleanError::AnnotateText {
            path: s.name.clone(),
            flag: annotate.flag(),
        }),
        None => Ok(()),
    }
}

/// Refuses, before any scan, what `options` alone show cannot work: cutting passages while
/// annotating only, and annotating when an input named in [`CleanOptions::inputs`] is a file
/// read as plain text. Directories and standard input are known only once read: [`check`]
/// sees what they hold.
pub fn check_options(options: &CleanOptions) -> Result<(), CleanError> {
    if options.annotate == Annotate::Only && options.strip_passages != StripPassages::None {
        return Err(CleanError::AnnotateOnlyCuts);
    }
    if options.annotate == Annotate::None {
        return Ok(());
    }
    for input in options.inputs.iter().filter(|p| p.as_os_str() != "-") {
        let name = input.to_string_lossy();
        if std::fs::metadata(input).is_ok_and(|m| m.is_file())
            && Format::from_name(&name) == Format::Text
        {
            return Err(CleanError::AnnotateText {
                path: name.into_owned(),
                flag: options.annotate.flag(),
            });
        }
    }
    Ok(())
}

/// Everything [`run`] and [`dry_run`] refuse before planning, the output aside:
/// [`check_options`], [`check_strip`], [`check_annotate`], and an input that would be written
/// where the cleanup writes its own files ([`RESERVED`](super::RESERVED)).
pub fn check(result: &ScanResult, options: &CleanOptions) -> Result<(), CleanError> {
    check_options(options)?;
    check_strip(result, options.strip_passages)?;
    check_annotate(result, options.annotate)?;
    super::names::check_reserved(result, options.compress)
}

/// What `options` remove and cut: nothing when annotating only.
pub(super) fn decide(result: &ScanResult, options: &CleanOptions) -> Plan {
    match options.annotate {
        Annotate::Only => Plan::default(),
        Annotate::None | Annotate::Kept => plan(result, options.strip_passages),
    }
}

/// Plans the cleanup `options` describe and counts it, writing nothing. Refuses what
/// [`check`] refuses; a record that already has a field the annotation adds is only found by
/// [`run`], which reads the records.
pub fn dry_run(result: &ScanResult, options: &CleanOptions) -> Result<Cleanup, CleanError> {
    check(result, options)?;
    let plan = decide(result, options);
    let totals = totals(result, &plan);
    Ok(Cleanup { plan, totals })
}

/// Writes the cleanup `options` describe to the directory `out`: the kept corpus,
/// `manifest.jsonl` and `report.json` (the scan's report with the cleanup's totals), all
/// first in a hidden directory beside `out` (`.dupsift-clean-*`), renamed into place once
/// complete. Refuses what [`check_output`] and [`check`] refuse, and (while writing) a record
/// that already has a field the annotation adds. On error the temporary directory is removed
/// and `out` is as it was.
pub fn run(result: &ScanResult, out: &Path, options: &CleanOptions) -> Result<Cleanup, CleanError> {
    check(result, options)?;
    check_output(&options.inputs, out, options.force)?;
    let plan = decide(result, options);
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent).map_err(|source| CleanError::CreateDir {
        path: parent.to_path_buf(),
        source,
    })?;
    // Everything goes to a hidden directory beside OUT, renamed into place when complete: an
    // interrupted run leaves OUT as it was. On error the directory is removed (on drop).
    let tmp = tempfile::Builder::new()
        .prefix(".dupsift-clean-")
        .tempdir_in(parent)
        .map_err(|source| CleanError::TempDir {
            dir: parent.to_path_buf(),
            source,
        })?;
    let totals = write(result, &plan, tmp.path(), options)?;
    write_report(result, options, &totals, &tmp.path().join("report.json"))?;
    let tmp = tmp.keep();
    match place(&tmp, out, options.force) {
        Ok(()) => Ok(Cleanup { plan, totals }),
        // Someone else's files are in OUT now: they stay, and so does the finished cleanup.
        Err(e) if !options.force && taken(&e) => Err(CleanError::OutputTaken {
            path: out.to_path_buf(),
            kept: tmp,
        }),
        Err(source) => {
            // Nothing of the new output is in place: the temporary directory goes.
            let _ = std::fs::remove_dir_all(&tmp);
            Err(CleanError::Place {
                path: out.to_path_buf(),
                source,
            })
        }
    }
}

/// Writes `report.json`: the scan's report with what the cleanup did.
fn write_report(
    result: &ScanResult,
    options: &CleanOptions,
    totals: &Totals,
    path: &Path,
) -> Result<(), CleanError> {
    let mut report = Report::new(result);
    report.clean = Some(CleanReport {
        strip_passages: options.strip_passages,
        annotate: options.annotate,
        dry_run: false,
        totals: totals.clone(),
    });
    let file = std::fs::File::create(path).map_err(|source| CleanError::CreateReport {
        path: path.to_path_buf(),
        source,
    })?;
    let failed = |error| CleanError::WriteReport {
        path: path.to_path_buf(),
        error,
    };
    let mut w = io::BufWriter::new(file);
    report.write_json(&mut w).map_err(failed)?;
    let file = w.into_inner().map_err(|e| failed(e.into_error()))?;
    file.sync_all().map_err(failed)
}

/// Whether a placement failed because `out` is not empty (or not a directory) any more.
fn taken(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::DirectoryNotEmpty
            | io::ErrorKind::AlreadyExists
            | io::ErrorKind::NotADirectory
    )
}

/// Moves the finished directory `tmp` to `out`.
///
/// Without `force`, one rename: it succeeds when `out` does not exist or is an empty
/// directory (replaced as a whole), and fails when something was put in `out` since the run
/// began, which is then left alone: the placement never deletes what it did not create.
///
/// With `force` an existing `out` is replaced: on Linux both are swapped in one step
/// (`renameat2` with `RENAME_EXCHANGE`), so `out` is at every moment the old output or the new
/// one, and the old one is then removed from where the new one was. Where that is not
/// available, the old one is renamed aside and the new one in, and a failure of the second
/// rename puts the old one back.
pub fn place(tmp: &Path, out: &Path, force: bool) -> io::Result<()> {
    if !force || std::fs::symlink_metadata(out).is_err() {
        return std::fs::rename(tmp, out);
    }
    #[cfg(target_os = "linux")]
    if std::fs::metadata(out).is_ok_and(|m| m.is_dir()) {
        match exchange(tmp, out) {
            // The old output is where the new one was; removing it is tidying only.
            Ok(()) => {
                let _ = std::fs::remove_dir_all(tmp);
                return Ok(());
            }
            // File systems without the swap (some network and FUSE ones) take the two renames.
            Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) => {}
            Err(e) => return Err(e),
        }
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let old = tempfile::Builder::new()
        .prefix(".dupsift-old-")
        .tempdir_in(parent)?
        .keep();
    let aside = old.join("previous");
    std::fs::rename(out, &aside).inspect_err(|_| {
        let _ = std::fs::remove_dir(&old);
    })?;
    if let Err(e) = std::fs::rename(tmp, out) {
        // Roll back: the old output goes back where it was.
        std::fs::rename(&aside, out)?;
        let _ = std::fs::remove_dir(&old);
        return Err(e);
    }
    if std::fs::metadata(&aside)?.is_dir() {
        std::fs::remove_dir_all(&old)?;
    } else {
        std::fs::remove_file(&aside)?;
        std::fs::remove_dir(&old)?;
    }
    Ok(())
}

/// Swaps the directory entries `a` and `b` in one step.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| CString::new(p.as_os_str().as_bytes()).map_err(io::Error::other);
    let (a, b) = (c(a)?, c(b)?);
    // SAFETY: both paths are NUL-terminated C strings that live across the call; the syscall
    // only reads them.
    let r = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
