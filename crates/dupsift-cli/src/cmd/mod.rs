//! One module per subcommand, each the same shape: flags → validated library options → one
//! library call → rendering → exit code. What they share is here: the scan run under the pool
//! and the progress bar with its notes, and where an output goes (a file written atomically,
//! or standard output).
//!
//! These modules must not process text, decide findings or refuse inputs themselves: the
//! library does all of that and says why in its errors.

mod check;
mod clean;
mod index;
mod scan;
mod worker;

use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;

use anyhow::Result;

use dupsift::corpus::{Skipped, Unlisted};
use dupsift::index::Index;
use dupsift::report::shown;
use dupsift::{Progress, ScanOptions, ScanResult};

use crate::args::{Cli, Command, CommonArgs, IndexCommand, WorkerCommand};
use crate::exit::Exit;
use crate::progress::{print_timings, with_pool_and_bar};

/// Runs the subcommand of `cli`.
pub fn run(cli: Cli) -> Result<Exit> {
    match cli.command {
        Command::Scan(args) => scan::run(args),
        Command::Clean(args) => clean::run(args),
        Command::Check(args) => check::run(args),
        Command::Index(IndexCommand::Build(args)) => index::build(args),
        Command::Index(IndexCommand::Add(args)) => index::add(args),
        Command::Index(IndexCommand::Info(args)) => index::info(args),
        Command::Worker(WorkerCommand::Sign(args)) => worker::run(args, worker::Task::Sign),
        Command::Worker(WorkerCommand::Verify(args)) => worker::run(args, worker::Task::Verify),
        Command::Worker(WorkerCommand::Components(args)) => {
            worker::run(args, worker::Task::Components)
        }
        Command::Worker(WorkerCommand::Report(args)) => worker::run(args, worker::Task::Report),
    }
}

/// Scans the inputs of `args` (after the documents of `prior`, an index) with `options`, then
/// prints the scan's warnings and, with `--timings`, its stage times.
fn detect(args: &CommonArgs, options: &ScanOptions, prior: Option<&Index>) -> Result<ScanResult> {
    let progress = Arc::new(Progress::default());
    let result = with_pool_and_bar(args.threads, args.quiet, &progress, |progress| {
        dupsift::scan::scan_against(&args.paths, prior, options, progress)
    })??;
    if !args.quiet {
        for w in &result.warnings {
            eprintln!("dupsift: warning: {}", shown(&w.to_string()));
        }
    }
    if args.timings {
        print_timings(&progress);
    }
    Ok(result)
}

/// Writes what `render` produces to `path` (atomically) or, without one, to standard output.
fn write_output(
    path: Option<&Path>,
    render: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    match path {
        Some(path) => dupsift::atomic::write(path, render)?,
        None => {
            let stdout = io::stdout();
            let mut w = io::BufWriter::new(stdout.lock());
            render(&mut w)?;
            w.flush()?;
        }
    }
    Ok(())
}

/// Notes each input skipped, and how many records went unlisted (unless `--quiet`).
fn print_skipped(args: &CommonArgs, skipped: &[Skipped], unlisted: &Unlisted) {
    if args.quiet {
        return;
    }
    for k in skipped {
        match k.line {
            Some(l) => eprintln!(
                "dupsift: skipped {}:{l}: {}",
                shown(&k.path),
                shown(&k.reason)
            ),
            None => eprintln!("dupsift: skipped {}: {}", shown(&k.path), shown(&k.reason)),
        }
    }
    if unlisted.records > 0 {
        eprintln!(
            "dupsift: skipped {} more records, not listed",
            unlisted.records
        );
    }
}
