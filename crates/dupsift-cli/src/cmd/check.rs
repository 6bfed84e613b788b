//! `dupsift check`: a scan (optionally against an index) judged against limits and a baseline,
//! rendered as text, JSON, GitHub workflow commands or SARIF; the exit code is the verdict.
//!
//! Flags to options, one scan, one judgement, one rendering; this module must not judge or
//! refuse anything itself (the library does, with the messages printed).

use std::io::{self, Write};

use anyhow::Result;

use dupsift::check::{self, Baseline};
use dupsift::report;

use super::{detect, write_output};
use crate::args::{CheckArgs, CheckFormatArg};
use crate::exit::Exit;

pub fn run(mut args: CheckArgs) -> Result<Exit> {
    dupsift::corpus::require_inputs(&args.common.paths)?;
    let index = match &args.against {
        Some(path) => Some(check::open_against(path, &args.common.params_builder())?),
        None => None,
    };
    args.common.default_paths()?;
    let options = args.common.scan_options(true)?;
    // Every file this check reads: none may be where it writes.
    let mut read = args.common.paths.clone();
    read.extend(args.against.iter().cloned());
    match (&args.baseline, args.update_baseline) {
        (Some(baseline), true) => {
            dupsift::guard::check_file_output(&read, baseline, &options.read)?;
            Baseline::check_replaceable(baseline)?;
        }
        (Some(baseline), false) => read.push(baseline.clone()),
        (None, _) => {}
    }
    if let Some(out) = &args.output
        && !args.update_baseline
    {
        dupsift::guard::check_file_output(&read, out, &options.read)?;
    }
    let result = detect(&args.common, &options, index.as_ref())?;
    if !args.allow_empty {
        check::require_documents(&result)?;
    }
    let baseline = match (&args.baseline, args.update_baseline) {
        (Some(path), false) => Some(Baseline::load(path)?),
        _ => None,
    };
    let verdict = check::judge(&result, &args.limits(), baseline.as_ref());
    if args.update_baseline
        && let Some(path) = &args.baseline
    {
        Baseline::of(&verdict.findings).save(path)?;
        if !args.common.quiet {
            eprintln!(
                "dupsift: baseline {} accepts {} findings",
                path.display(),
                verdict.findings.len()
            );
        }
        return Ok(Exit::Ok);
    }
    write_output(
        args.output.as_deref(),
        |w: &mut dyn Write| -> io::Result<()> {
            match args.format {
                CheckFormatArg::Text => report::write_check_text(&verdict, args.max_findings, w),
                CheckFormatArg::Json => report::write_check_json(&verdict, w),
                CheckFormatArg::Github => report::write_check_github(&verdict, w),
                CheckFormatArg::Sarif => report::write_check_sarif(&verdict, w),
            }
        },
    )?;
    Ok(if verdict.passed {
        Exit::Ok
    } else {
        Exit::Failed
    })
}
