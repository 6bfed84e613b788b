//! `dupsift clean`: a deduplicated copy of the corpus under OUT (or, with `--dry-run`, the
//! plan), with the totals on standard output.
//!
//! Flags to options, the output refused early, one scan, one cleanup, the totals rendered; this
//! module must not plan, write the corpus or place the output itself (the library does).

use std::io::{self, Write};

use anyhow::Result;

use dupsift::check;
use dupsift::clean::{self, CleanOptions};
use dupsift::report::{self, Report};

use super::detect;
use crate::args::{CleanArgs, abort_after_files_from_env};
use crate::exit::Exit;

pub fn run(mut args: CleanArgs) -> Result<Exit> {
    // The inputs must be known before the output is checked against them, and a refused output
    // must not cost a scan.
    args.common.default_paths()?;
    let scan = args.common.scan_options(true)?;
    // The index is read too: no output may hold it or be it.
    let read: Vec<_> = args
        .common
        .paths
        .iter()
        .chain(&args.against)
        .cloned()
        .collect();
    if let Some(out) = &args.output {
        clean::check_output(&read, out, args.force)?;
    }
    if let Some(html) = &args.report_html {
        dupsift::guard::check_file_output(&read, html, &scan.read)?;
        if let Some(out) = args.output.as_ref().filter(|_| !args.dry_run) {
            dupsift::guard::check_outside(html, out)?;
        }
    }
    let index = match &args.against {
        Some(path) => Some(check::open_against(path, &args.common.params_builder())?),
        None => None,
    };
    let abort_after = abort_after_files_from_env();
    let abort = |n: u64| {
        if abort_after.is_some_and(|limit| n >= limit) {
            std::process::abort();
        }
    };
    let options = CleanOptions {
        strip_passages: args.strip_passages(),
        annotate: args.annotate(),
        compress: args.compress.map(Into::into),
        force: args.force,
        on_file_written: abort_after
            .is_some()
            .then_some(&abort as &(dyn Fn(u64) + Sync)),
        ..CleanOptions::new(&args.common.paths, &scan)
    };
    // What the flags and the named inputs alone show cannot work must not cost a scan.
    clean::check_options(&options)?;
    let result = detect(&args.common, &scan, index.as_ref())?;
    // Refused before the HTML report is written: a refused cleanup writes nothing.
    clean::check(&result, &options)?;
    if let Some(path) = &args.report_html {
        let report = Report::new(&result);
        let texts = report::html_texts(&result, &scan.read)?;
        dupsift::atomic::write(path, |w| report::write_html(&report, &texts, w))?;
    }
    let stdout = io::stdout();
    let mut w = io::BufWriter::new(stdout.lock());
    let cleanup = match &args.output {
        Some(out) if !args.dry_run => clean::run(&result, out, &options)?,
        _ => {
            let cleanup = clean::dry_run(&result, &options)?;
            report::write_plan(&result, &cleanup.plan, &mut w)?;
            cleanup
        }
    };
    report::write_annotate(options.annotate, args.dry_run, &mut w)?;
    report::write_totals(
        &cleanup.totals,
        args.dry_run,
        args.output.as_deref(),
        &mut w,
    )?;
    w.flush()?;
    Ok(Exit::Ok)
}
