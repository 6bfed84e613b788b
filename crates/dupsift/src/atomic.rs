//! Writing an output file so that a reader never sees half of it: the bytes go to a temporary
//! file in the target's directory, renamed over the target once complete.
//!
//! What is not a plain file is respected: a device or a pipe (`/dev/null`, `/dev/stdout`, a
//! FIFO) is written in place, since renaming a file over it would replace the node itself; a
//! symbolic link keeps pointing where it did and its target is replaced (a dangling link's
//! target is created). A replaced file keeps its permission bits; a new one gets 0644.
//!
//! This module writes only the one path it is given (and its temporary file beside it); it must
//! not decide what goes into the file, create directories, or print.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Why an output file could not be written. Each variant names the path at fault; the
/// messages are those the `dupsift` binary prints.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// A device or a pipe could not be opened for writing.
    #[error("opening {}", path.display())]
    Open {
        /// The device or pipe.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// A symbolic link could not be read.
    #[error("reading the link {}", path.display())]
    ReadLink {
        /// The link.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// No temporary file could be created beside the target.
    #[error("creating a temporary file in {}", dir.display())]
    CreateTemp {
        /// The target's directory.
        dir: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// Rendering into the file, or setting its permissions, failed.
    #[error("writing {}", path.display())]
    Write {
        /// The target.
        path: PathBuf,
        /// The error (for a render that failed, the renderer's own).
        source: io::Error,
    },
    /// The last buffered bytes could not be written to the temporary file. Shown as the bare
    /// I/O error: that is the message the binary has always printed here.
    #[error("{error}")]
    Flush {
        /// The target.
        path: PathBuf,
        /// The error.
        error: io::Error,
    },
    /// The complete temporary file could not be renamed over the target (e.g. it is a
    /// directory).
    #[error("writing {}", path.display())]
    Rename {
        /// The target.
        path: PathBuf,
        /// Why.
        source: RenameError,
    },
}

/// A finished temporary file that could not take the target's place.
#[derive(Debug, thiserror::Error)]
#[error("failed to persist temporary file: {source}")]
pub struct RenameError {
    /// The error of the rename.
    pub source: io::Error,
}

impl WriteError {
    /// The underlying I/O error.
    pub fn io_error(&self) -> &io::Error {
        match self {
            WriteError::Open { source, .. }
            | WriteError::ReadLink { source, .. }
            | WriteError::CreateTemp { source, .. }
            | WriteError::Write { source, .. } => source,
            WriteError::Flush { error, .. } => error,
            WriteError::Rename { source, .. } => &source.source,
        }
    }
}

/// Writes what `render` produces to `path`, atomically for a plain file (see the module
/// documentation for devices, pipes and links). On error a plain target is left as it was.
pub fn write(
    path: &Path,
    render: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), WriteError> {
    let writing = |source| WriteError::Write {
        path: path.to_path_buf(),
        source,
    };
    // A device or a pipe (`-o /dev/null`, `-o /dev/stdout`, a FIFO) is written in place:
    // renaming a file over it would replace the device node itself.
    if let Ok(m) = std::fs::metadata(path)
        && !m.is_file()
        && !m.is_dir()
    {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|source| WriteError::Open {
                path: path.to_path_buf(),
                source,
            })?;
        let mut w = io::BufWriter::new(f);
        render(&mut w).map_err(writing)?;
        return w.flush().map_err(writing);
    }
    let target = resolve_link(path)?;
    let path = target.as_path();
    let writing = |source| WriteError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".dupsift-")
        .tempfile_in(dir)
        .map_err(|source| WriteError::CreateTemp {
            dir: dir.to_path_buf(),
            source,
        })?;
    {
        let mut w = io::BufWriter::new(tmp.as_file_mut());
        render(&mut w).map_err(writing)?;
        w.flush().map_err(|error| WriteError::Flush {
            path: path.to_path_buf(),
            error,
        })?;
    }
    // A temporary file is private (0600); the result gets the mode of the file it replaces, or
    // the usual 0644 for a new one.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).map_or(0o644, |m| m.permissions().mode() & 0o7777);
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(writing)?;
    }
    // Durability is best effort: a file system that cannot sync still gets the file.
    tmp.as_file().sync_all().ok();
    tmp.persist(path).map_err(|e| WriteError::Rename {
        path: path.to_path_buf(),
        source: RenameError { source: e.error },
    })?;
    Ok(())
}

/// The file to replace for `path`: the target of a symbolic link (a dangling link's target
/// resolved beside the link), so that the link keeps pointing where it did; `path` otherwise.
fn resolve_link(path: &Path) -> Result<PathBuf, WriteError> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => match std::fs::canonicalize(path) {
            Ok(target) => Ok(target),
            Err(_) => {
                let target = std::fs::read_link(path).map_err(|source| WriteError::ReadLink {
                    path: path.to_path_buf(),
                    source,
                })?;
                Ok(path.parent().unwrap_or(Path::new(".")).join(target))
            }
        },
        _ => Ok(path.to_path_buf()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_file_appears_whole_and_a_failed_render_leaves_the_old_one() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.txt");
        write(&p, |w| w.write_all(b"first")).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"first");
        let e = write(&p, |w| {
            w.write_all(b"half")?;
            Err(io::Error::other("render failed"))
        })
        .unwrap_err();
        assert!(matches!(&e, WriteError::Write { path, .. } if path == &p));
        assert_eq!(e.io_error().to_string(), "render failed");
        assert_eq!(std::fs::read(&p).unwrap(), b"first");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "the temporary file was removed");
    }

    #[test]
    fn a_directory_is_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let e = write(dir.path(), |w| w.write_all(b"x")).unwrap_err();
        assert!(matches!(e, WriteError::Rename { .. }), "{e:?}");
        assert!(dir.path().is_dir());
    }

    #[cfg(unix)]
    #[test]
    fn links_keep_pointing_at_their_target_and_modes_are_kept() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        std::fs::write(&real, "old").unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink("real", &link).unwrap();
        write(&link, |w| w.write_all(b"new")).unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(std::fs::read(&real).unwrap(), b"new");
        let mode = std::fs::metadata(&real).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink("created", &dangling).unwrap();
        write(&dangling, |w| w.write_all(b"made")).unwrap();
        assert_eq!(std::fs::read(dir.path().join("created")).unwrap(), b"made");
    }
}
