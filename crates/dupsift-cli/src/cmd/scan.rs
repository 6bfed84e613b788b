//! `dupsift scan`: a scan rendered as a report (text, JSON, HTML or the duplicates table).
//!
//! Flags to options, one scan, one report; this module must not compute or refuse anything.

use std::io::{self, Write};

use anyhow::Result;

use dupsift::report::{self, Report, Texts};

use super::{detect, write_output};
use crate::args::{FormatArg, ScanArgs};
use crate::exit::Exit;

pub fn run(mut args: ScanArgs) -> Result<Exit> {
    args.common.default_paths()?;
    // The duplicates table shows no previews, so the last read of the clusters is skipped.
    let options = args.common.scan_options(args.format != FormatArg::Tsv)?;
    if let Some(out) = &args.output {
        dupsift::guard::check_file_output(&args.common.paths, out, &options.read)?;
    }
    let result = detect(&args.common, &options, None)?;
    let report = Report::new(&result);
    let texts = if args.format == FormatArg::Html {
        report::html_texts(&result, &options.read)?
    } else {
        Texts::new()
    };
    write_output(
        args.output.as_deref(),
        |w: &mut dyn Write| -> io::Result<()> {
            match args.format {
                FormatArg::Json => report.write_json(w),
                FormatArg::Text => {
                    report::write_text(&report, args.max_clusters, args.max_passages, w)
                }
                FormatArg::Html => report::write_html(&report, &texts, w),
                FormatArg::Tsv => report::write_tsv(&report, w),
            }
        },
    )?;
    if !args.common.quiet && (args.output.is_some() || args.format != FormatArg::Text) {
        let s = &report.summary;
        eprintln!(
            "dupsift: {} documents, {} clusters, {} duplicates, {} skipped",
            s.documents, s.clusters, s.duplicate_documents, s.skipped
        );
    }
    Ok(Exit::Ok)
}
