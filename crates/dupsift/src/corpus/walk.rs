//! Discovery: turns command-line inputs into an ordered list of [`Source`]s and [`Skipped`]
//! entries.
//!
//! Invariants:
//! - Order is inputs in command-line order, and within a directory a depth-first walk with
//!   entries sorted by file name, so runs over the same tree yield the same order.
//! - A bad path never fails discovery; it becomes a [`Skipped`] entry at its place in the order.
//! - Only regular files become sources; fifos, sockets and devices are never opened (opening a
//!   fifo would block).
//! - Names use `/` separators and are relative to the single directory argument, or prefixed with
//!   the argument as given when there are several arguments.

use std::cell::RefCell;
use std::ffi::OsStr;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use rayon::prelude::*;
use walkdir::{DirEntry, WalkDir};

use super::open::{io_reason, probe_file, spool as spool_pipe, spool_stdin};
use super::{Corpus, CorpusError, ReadOptions, STDIN_NAME, Skipped, Source};

/// An input found by the walk, before its file has been probed.
enum Item {
    Probe { path: PathBuf, name: String },
    Ready(Source),
    Skip(Skipped),
}

#[cfg(unix)]
fn is_fifo(m: &fs::Metadata) -> bool {
    std::os::unix::fs::FileTypeExt::is_fifo(&m.file_type())
}

#[cfg(not(unix))]
fn is_fifo(_: &fs::Metadata) -> bool {
    false
}

fn is_stdin(arg: &Path) -> bool {
    arg.as_os_str() == "-"
}

/// See [`Corpus::discover`]. `stdin` is only called if `-` is among the inputs.
pub(super) fn discover<R: Read>(
    inputs: &[PathBuf],
    opts: &ReadOptions,
    stdin: impl FnOnce() -> R,
) -> Result<Corpus, CorpusError> {
    let mut stdin = Some(stdin);
    let mut spool = Vec::new();
    let single_dir = match inputs {
        [one] => !is_stdin(one) && fs::metadata(one).is_ok_and(|m| m.is_dir()),
        _ => false,
    };
    let mut items = Vec::new();
    for arg in inputs {
        if is_stdin(arg) {
            match stdin.take() {
                Some(open) => {
                    let (tmp, src) = spool_stdin(&mut open(), opts.zstd_window_log)?;
                    spool.push(tmp);
                    items.push(Item::Ready(src));
                }
                // The stream is consumed by the first `-`; a second one would be silently empty.
                None => items.push(Item::Skip(Skipped::file(
                    STDIN_NAME.to_owned(),
                    "standard input given more than once".to_owned(),
                ))),
            }
            continue;
        }
        let display = arg.to_string_lossy().into_owned();
        // `metadata` follows symlinks: a link given on the command line is taken at its word.
        match fs::metadata(arg) {
            Err(e) => items.push(Item::Skip(Skipped::file(display, io_reason(&e)))),
            Ok(m) if m.is_dir() => {
                let naming = Naming {
                    root: arg,
                    root_display: &display,
                    prefix: (!single_dir).then_some(display.as_str()),
                };
                walk_dir(&naming, opts, &mut items);
            }
            Ok(m) if m.is_file() => items.push(Item::Probe {
                path: arg.clone(),
                name: display,
            }),
            // A pipe named on the command line (`check <(zcat data.jsonl.gz)`) is read as `-`
            // is: a gate that read nothing must not pass. Pipes found by a walk are not
            // opened (opening one blocks until a writer comes).
            Ok(m) if is_fifo(&m) => {
                // Named by its extension (`mkfifo data.jsonl`), or sniffed as standard input
                // is when it has none (`/dev/fd/63`).
                let sniff = arg.extension().is_none();
                match fs::File::open(arg).and_then(|mut f| {
                    spool_pipe(&mut f, display.clone(), sniff, opts.zstd_window_log)
                }) {
                    Ok((tmp, src)) => {
                        spool.push(tmp);
                        items.push(Item::Ready(src));
                    }
                    Err(e) => items.push(Item::Skip(Skipped::file(
                        display,
                        format!(
                            "cannot copy the pipe to a temporary file: {}",
                            io_reason(&e)
                        ),
                    ))),
                }
            }
            Ok(_) => items.push(Item::Skip(Skipped::file(
                display,
                "not a regular file".to_owned(),
            ))),
        }
    }

    // Probing opens every file; done in parallel it costs little even for millions of small
    // files, and `collect` keeps the order.
    let resolved: Vec<Result<Source, (Skipped, Option<PathBuf>)>> = items
        .into_par_iter()
        .map(|item| match item {
            Item::Probe { path, name } => probe_file(&path, name).map_err(|s| (s, Some(path))),
            Item::Ready(src) => Ok(src),
            Item::Skip(s) => Err((s, None)),
        })
        .collect();

    let mut sources = Vec::new();
    let mut skipped = Vec::new();
    let mut rejected = Vec::new();
    for r in resolved {
        match r {
            // DocLoc::source is a u32; past that, sources cannot be addressed.
            Ok(src) if u32::try_from(sources.len()).is_ok() => sources.push(src),
            Ok(src) => skipped.push(Skipped::file(src.name, "too many input files".to_owned())),
            Err((s, path)) => {
                if let Some(path) = path {
                    rejected.push((path, s.path.clone()));
                }
                skipped.push(s)
            }
        }
    }
    Ok(Corpus {
        sources,
        skipped,
        rejected,
        _spool: spool,
        zstd_window_log: opts.zstd_window_log,
    })
}

/// How paths under one directory argument are named.
struct Naming<'a> {
    root: &'a Path,
    root_display: &'a str,
    /// `None` when this is the only input: names are then relative to it.
    prefix: Option<&'a str>,
}

impl Naming<'_> {
    fn name(&self, path: &Path) -> String {
        let Ok(rel) = path.strip_prefix(self.root) else {
            return path.to_string_lossy().into_owned();
        };
        let mut rel_name = String::new();
        for c in rel.components() {
            if !rel_name.is_empty() {
                rel_name.push('/');
            }
            rel_name.push_str(&c.as_os_str().to_string_lossy());
        }
        if rel_name.is_empty() {
            return self.root_display.to_owned();
        }
        match self.prefix {
            None => rel_name,
            Some(p) if p.ends_with('/') => format!("{p}{rel_name}"),
            Some(p) => format!("{p}/{rel_name}"),
        }
    }
}

fn is_hidden(name: &OsStr) -> bool {
    name.as_encoded_bytes().first() == Some(&b'.')
}

fn walk_dir(naming: &Naming, opts: &ReadOptions, items: &mut Vec<Item>) {
    // Filled by the filter (which cannot reach `items` while the walk borrows it) and drained
    // after each step so problems keep their place in the walk order.
    let problems = RefCell::new(Vec::new());
    let mut ignores: Vec<(usize, Gitignore)> = Vec::new();
    let walker = WalkDir::new(naming.root)
        .follow_links(opts.follow_links)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| keep(e, opts, &mut ignores, naming, &problems));
    for res in walker {
        items.extend(problems.borrow_mut().drain(..).map(Item::Skip));
        match res {
            Ok(e) => {
                let ft = e.file_type();
                // Without follow_links a symlink is neither file nor directory to us; not
                // following it is the point of the option.
                if e.depth() == 0 || ft.is_dir() || ft.is_symlink() {
                    continue;
                }
                let name = naming.name(e.path());
                if ft.is_file() {
                    items.push(Item::Probe {
                        path: e.into_path(),
                        name,
                    });
                } else {
                    items.push(Item::Skip(Skipped::file(
                        name,
                        "not a regular file".to_owned(),
                    )));
                }
            }
            Err(err) => {
                let name = err
                    .path()
                    .map_or_else(|| naming.root_display.to_owned(), |p| naming.name(p));
                let reason = if let Some(ancestor) = err.loop_ancestor() {
                    format!("symlink loop: leads back to {}", naming.name(ancestor))
                } else if let Some(io) = err.io_error() {
                    io_reason(io)
                } else {
                    err.to_string()
                };
                items.push(Item::Skip(Skipped::file(name, reason)));
            }
        }
    }
    items.extend(problems.into_inner().into_iter().map(Item::Skip));
}

/// Walk filter: hidden entries and `.gitignore` matching. `ignores` holds the matchers of the
/// directories on the current path, tagged with their depth; walkdir visits depth-first in order,
/// so matchers at the entry's depth or deeper belong to finished subtrees.
fn keep(
    e: &DirEntry,
    opts: &ReadOptions,
    ignores: &mut Vec<(usize, Gitignore)>,
    naming: &Naming,
    problems: &RefCell<Vec<Skipped>>,
) -> bool {
    let depth = e.depth();
    // The root was named explicitly, so it is never filtered.
    if depth > 0 && !opts.hidden && is_hidden(e.file_name()) {
        return false;
    }
    if !opts.gitignore {
        return true;
    }
    while ignores.last().is_some_and(|(d, _)| *d >= depth) {
        ignores.pop();
    }
    let is_dir = e.file_type().is_dir();
    if depth > 0 {
        // The deepest .gitignore with an opinion wins, as in git.
        for (_, gi) in ignores.iter().rev() {
            match gi.matched(e.path(), is_dir) {
                Match::Ignore(_) => return false,
                Match::Whitelist(_) => break,
                Match::None => {}
            }
        }
    }
    if is_dir {
        let file = e.path().join(".gitignore");
        if file.is_file() {
            let mut builder = GitignoreBuilder::new(e.path());
            let name = naming.name(&file);
            // Partial errors: the valid patterns are still added.
            if let Some(err) = builder.add(&file) {
                gitignore_problems(&name, None, &err, &mut problems.borrow_mut());
            }
            match builder.build() {
                Ok(gi) => ignores.push((depth, gi)),
                Err(err) => gitignore_problems(&name, None, &err, &mut problems.borrow_mut()),
            }
        }
    }
    true
}

/// One [`Skipped`] per problem in a `.gitignore`, with its line when known. `ignore` nests its
/// errors (several per file, each wrapped with the file's full path and the line); unwrapping
/// them keeps reasons short and puts the line where the report expects it.
fn gitignore_problems(name: &str, line: Option<u64>, err: &ignore::Error, out: &mut Vec<Skipped>) {
    match err {
        ignore::Error::Partial(errs) => {
            for e in errs {
                gitignore_problems(name, line, e, out);
            }
        }
        ignore::Error::WithLineNumber { line, err } => {
            gitignore_problems(name, Some(*line), err, out);
        }
        ignore::Error::WithPath { err, .. } | ignore::Error::WithDepth { err, .. } => {
            gitignore_problems(name, line, err, out);
        }
        ignore::Error::Io(e) => out.push(Skipped {
            path: name.to_owned(),
            line,
            reason: format!("cannot read .gitignore: {}", io_reason(e)),
        }),
        other => out.push(Skipped {
            path: name.to_owned(),
            line,
            reason: format!("invalid .gitignore pattern: {other}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::testutil::write_tree;
    use tempfile::TempDir;

    fn names(c: &Corpus) -> Vec<&str> {
        c.sources.iter().map(|s| s.name.as_str()).collect()
    }

    fn discover_in(dir: &Path, inputs: &[&str], opts: &ReadOptions) -> Corpus {
        let inputs: Vec<PathBuf> = inputs.iter().map(|i| dir.join(i)).collect();
        discover(&inputs, opts, std::io::empty).expect("discover")
    }

    /// Names with the temporary directory prefix removed, to compare against short literals.
    fn names_under<'a>(c: &'a Corpus, dir: &Path) -> Vec<&'a str> {
        let prefix = format!("{}/", dir.display());
        c.sources
            .iter()
            .map(|s| s.name.strip_prefix(&prefix).unwrap_or(&s.name))
            .collect()
    }

    fn tree() -> TempDir {
        write_tree(&[
            ("corpus/news/b.txt", "b"),
            ("corpus/news/a.txt", "a"),
            ("corpus/Z.txt", "z"),
            ("corpus/m/x.jsonl", "{}"),
            ("corpus/n.txt", "n"),
            ("extra.txt", "e"),
        ])
    }

    #[test]
    fn one_directory_names_are_relative_and_sorted() {
        let t = tree();
        let c = discover_in(t.path(), &["corpus"], &ReadOptions::default());
        assert_eq!(
            names(&c),
            ["Z.txt", "m/x.jsonl", "n.txt", "news/a.txt", "news/b.txt"]
        );
        assert!(c.skipped.is_empty());
        assert_eq!(c.sources[1].format, super::super::Format::Jsonl);
        assert_eq!(c.sources[0].size, 1);
        assert_eq!(c.total_size(), 6);
    }

    #[test]
    fn several_arguments_are_prefixed() {
        let t = tree();
        let c = discover_in(
            t.path(),
            &["corpus/news/", "extra.txt", "corpus/m", "./corpus/news"],
            &ReadOptions::default(),
        );
        assert_eq!(
            names_under(&c, t.path()),
            [
                "corpus/news/a.txt",
                "corpus/news/b.txt",
                "extra.txt",
                "corpus/m/x.jsonl",
                "./corpus/news/a.txt",
                "./corpus/news/b.txt",
            ]
        );
        // A single file argument is named as given.
        let c = discover_in(t.path(), &["corpus/n.txt"], &ReadOptions::default());
        assert_eq!(names_under(&c, t.path()), ["corpus/n.txt"]);
    }

    #[test]
    fn hidden_entries() {
        let t = write_tree(&[
            ("d/.hidden.txt", "h"),
            ("d/.dir/a.txt", "a"),
            ("d/b.txt", "b"),
            (".root/c.txt", "c"),
        ]);
        let c = discover_in(t.path(), &["d"], &ReadOptions::default());
        assert_eq!(names(&c), ["b.txt"]);
        let all = ReadOptions {
            hidden: true,
            ..ReadOptions::default()
        };
        let c = discover_in(t.path(), &["d"], &all);
        assert_eq!(names(&c), [".dir/a.txt", ".hidden.txt", "b.txt"]);
        // Named explicitly: included even though hidden.
        let c = discover_in(
            t.path(),
            &[".root", "d/.hidden.txt"],
            &ReadOptions::default(),
        );
        assert_eq!(c.sources.len(), 2, "{:?}", names(&c));
    }

    #[test]
    fn gitignore_only_with_the_flag() {
        let t = write_tree(&[
            ("d/.gitignore", "*.log\nbuild/\n!keep.log\n"),
            ("d/a.txt", "a"),
            ("d/a.log", "l"),
            ("d/keep.log", "k"),
            ("d/build/out.txt", "o"),
            ("d/sub/.gitignore", "*.md\n!a.log\n"),
            ("d/sub/a.log", "l"),
            ("d/sub/b.log", "l"),
            ("d/sub/r.md", "r"),
            ("d/sub/s.txt", "s"),
            ("d/other/r.md", "r"),
        ]);
        let c = discover_in(t.path(), &["d"], &ReadOptions::default());
        assert_eq!(c.sources.len(), 9, "{:?}", names(&c));
        let gi = ReadOptions {
            gitignore: true,
            ..ReadOptions::default()
        };
        let c = discover_in(t.path(), &["d"], &gi);
        assert_eq!(
            names(&c),
            ["a.txt", "keep.log", "other/r.md", "sub/a.log", "sub/s.txt"]
        );
        assert!(c.skipped.is_empty(), "{:?}", c.skipped);
    }

    #[test]
    fn bad_gitignore_pattern_is_reported_and_the_rest_applies() {
        let t = write_tree(&[
            ("d/.gitignore", "*.log\n{a\n"),
            ("d/a.log", "l"),
            ("d/b.txt", "b"),
        ]);
        let gi = ReadOptions {
            gitignore: true,
            ..ReadOptions::default()
        };
        let c = discover_in(t.path(), &["d"], &gi);
        assert_eq!(names(&c), ["b.txt"]);
        assert_eq!(c.skipped.len(), 1, "{:?}", c.skipped);
        assert_eq!(
            (c.skipped[0].path.as_str(), c.skipped[0].line),
            (".gitignore", Some(2))
        );
        assert!(
            c.skipped[0]
                .reason
                .starts_with("invalid .gitignore pattern: error parsing glob '{a'"),
            "{:?}",
            c.skipped
        );
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_and_loops() {
        use std::os::unix::fs::symlink;
        let t = write_tree(&[("d/a.txt", "a"), ("target.txt", "t")]);
        let d = t.path().join("d");
        symlink(&d, d.join("loop")).expect("symlink");
        symlink(t.path().join("target.txt"), d.join("link.txt")).expect("symlink");
        symlink(t.path().join("missing"), d.join("dangling")).expect("symlink");

        let c = discover_in(t.path(), &["d"], &ReadOptions::default());
        assert_eq!(names(&c), ["a.txt"]);
        assert!(c.skipped.is_empty());

        let follow = ReadOptions {
            follow_links: true,
            ..ReadOptions::default()
        };
        let c = discover_in(t.path(), &["d"], &follow);
        assert_eq!(names(&c), ["a.txt", "link.txt"]);
        let reasons: Vec<(&str, &str)> = c
            .skipped
            .iter()
            .map(|s| (s.path.as_str(), s.reason.as_str()))
            .collect();
        assert_eq!(reasons.len(), 2, "{reasons:?}");
        assert_eq!(reasons[0].0, "dangling");
        assert_eq!(reasons[1].0, "loop");
        assert!(reasons[1].1.starts_with("symlink loop"), "{reasons:?}");
    }

    #[test]
    fn bad_paths_become_skipped() {
        let t = tree();
        let c = discover_in(
            t.path(),
            &["missing", "extra.txt", "missing/too"],
            &ReadOptions::default(),
        );
        assert_eq!(c.sources.len(), 1);
        assert_eq!(c.skipped.len(), 2);
        assert_eq!(c.skipped[0].reason, "no such file or directory");
        assert!(c.skipped[0].path.ends_with("missing"));
        assert_eq!(c.skipped[0].line, None);
    }

    #[cfg(unix)]
    #[test]
    fn special_files_are_not_opened() {
        // /dev/null is a character device: reported, never read.
        let c = discover(
            &[PathBuf::from("/dev/null")],
            &ReadOptions::default(),
            std::io::empty,
        )
        .expect("discover");
        assert!(c.sources.is_empty());
        assert_eq!(c.skipped[0].reason, "not a regular file");
    }

    /// chmod 000 does not stop root (tests often run as root in containers), so the assertion
    /// only runs when the file really is unreadable; either way discovery must not fail.
    #[cfg(unix)]
    #[test]
    fn unreadable_file() {
        use std::os::unix::fs::PermissionsExt;
        let t = write_tree(&[("d/a.txt", "a"), ("d/secret.txt", "s")]);
        let secret = t.path().join("d/secret.txt");
        fs::set_permissions(&secret, fs::Permissions::from_mode(0o000)).expect("chmod");
        let readable_anyway = fs::File::open(&secret).is_ok();
        let c = discover_in(t.path(), &["d"], &ReadOptions::default());
        if readable_anyway {
            assert_eq!(c.sources.len(), 2);
        } else {
            assert_eq!(names(&c), ["a.txt"]);
            assert_eq!(
                c.skipped,
                [Skipped::file(
                    "secret.txt".into(),
                    "permission denied".into()
                )]
            );
        }
        fs::set_permissions(&secret, fs::Permissions::from_mode(0o644)).expect("chmod back");
    }

    #[test]
    fn stdin_is_spooled_once() {
        let t = tree();
        let inputs = [
            PathBuf::from("-"),
            t.path().join("extra.txt"),
            PathBuf::from("-"),
        ];
        let c = discover(&inputs, &ReadOptions::default(), || {
            &b"{\"text\":\"x\"}\n"[..]
        })
        .expect("discover");
        assert_eq!(c.sources[0].name, "<stdin>");
        assert_eq!(c.sources[0].format, super::super::Format::Jsonl);
        assert_eq!(
            fs::read(&c.sources[0].path).expect("spool"),
            b"{\"text\":\"x\"}\n"
        );
        assert_eq!(c.sources.len(), 2);
        assert_eq!(c.skipped[0].reason, "standard input given more than once");
        let spool = c.sources[0].path.clone();
        drop(c);
        assert!(
            !spool.exists(),
            "spool file must be deleted with the corpus"
        );
    }

    #[test]
    fn compression_mismatch_is_skipped() {
        let t = write_tree(&[
            ("d/fake.gz", "plain text"),
            ("d/fake.zst", "plain"),
            ("d/empty.gz", ""),
        ]);
        let c = discover_in(t.path(), &["d"], &ReadOptions::default());
        assert!(c.sources.is_empty());
        let got: Vec<_> = c
            .skipped
            .iter()
            .map(|s| (s.path.as_str(), s.reason.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("empty.gz", "not a gzip stream"),
                ("fake.gz", "not a gzip stream"),
                ("fake.zst", "not a zstd stream")
            ]
        );
    }
}
