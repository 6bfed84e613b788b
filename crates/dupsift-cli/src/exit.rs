//! Exit codes, and how an error that ends a command is shown: one `dupsift: error:` line with
//! its chain of causes (one per parameter that disagrees with an index), nothing for a closed
//! standard output (`dupsift scan | head` succeeds).
//!
//! This module maps outcomes to codes and messages; it must not decide whether a command
//! failed.

use std::io;
use std::process::ExitCode;

use dupsift::check::AgainstError;
use dupsift::index::Disagreement;

/// Exit codes, documented in the README.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// The command did its job (finding duplicates is not a failure for `scan`).
    Ok = 0,
    /// `check`: the limits are exceeded.
    Failed = 1,
    /// Bad usage, an input error under `--strict`, or a failure to read or write.
    Error = 2,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

/// Prints the error that ended a command on standard error; returns the exit code it means.
pub fn report(e: &anyhow::Error) -> Exit {
    if is_broken_pipe(e) {
        return Exit::Ok;
    }
    match disagreement(e) {
        Some(d) => {
            for m in d.messages() {
                eprintln!("dupsift: error: {m}");
            }
        }
        // Messages name inputs, whose names may hold control characters.
        None => eprintln!(
            "dupsift: error: {}",
            dupsift::report::shown(&format!("{e:#}"))
        ),
    }
    Exit::Error
}

/// The reader of standard output went away: not an error of ours.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Parameters that disagree with an index, from `index add` or `check --against`.
fn disagreement(e: &anyhow::Error) -> Option<&Disagreement> {
    e.downcast_ref::<Disagreement>()
        .or_else(|| match e.downcast_ref::<AgainstError>() {
            Some(AgainstError::Disagree(d)) => Some(d),
            _ => None,
        })
}
