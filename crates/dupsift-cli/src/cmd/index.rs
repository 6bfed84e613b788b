//! `dupsift index build|add|info`: an index file made from a corpus, extended with more
//! documents, or described.
//!
//! Flags to options, one library call per step (load, index the documents, save), the notes
//! rendered; this module must not encode, decode or validate indexes itself.

use std::io;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;

use dupsift::index::{Index, IndexParams};
use dupsift::report::{human_bytes, shown, write_index_info};
use dupsift::{Progress, scan};

use super::print_skipped;
use crate::args::{
    CommonArgs, IndexAddArgs, IndexBuildArgs, IndexInfoArgs, pause_before_save_from_env,
};
use crate::exit::Exit;
use crate::progress::with_pool_and_bar;

pub fn build(mut args: IndexBuildArgs) -> Result<Exit> {
    args.common.default_paths()?;
    dupsift::corpus::require_inputs(&args.common.paths)?;
    let read = args.common.read_options(true);
    dupsift::guard::check_file_output(&args.common.paths, &args.output, &read)?;
    Index::check_replaceable(&args.output)?;
    let mut index = Index::new(IndexParams::of(&args.common.params()?))?;
    index_paths(&args.common, &mut index)?;
    index.save(&args.output)?;
    if !args.common.quiet {
        eprintln!(
            "dupsift: indexed {} documents into {} ({})",
            index.docs.len(),
            args.output.display(),
            human_bytes(index.encoded_len() as u64)
        );
    }
    Ok(Exit::Ok)
}

pub fn add(mut args: IndexAddArgs) -> Result<Exit> {
    args.common.default_paths()?;
    dupsift::corpus::require_inputs(&args.common.paths)?;
    // Held from the load to the save: a second `index add` waits, then adds to this one's.
    let quiet = args.common.quiet;
    let _lock = Index::lock(&args.index, || {
        if !quiet {
            eprintln!(
                "dupsift: waiting for another run to finish with {}",
                shown(&args.index.to_string_lossy())
            );
        }
    })?;
    let mut index = Index::load(&args.index)?;
    index.check_params(&args.common.params()?, &args.index)?;
    let before = index.docs.len();
    index_paths(&args.common, &mut index)?;
    if let Some(pause) = pause_before_save_from_env() {
        // Said even with --quiet: the test waits for it to start the second run.
        eprintln!("dupsift: pausing before the save (test hook)");
        std::thread::sleep(pause);
    }
    index.save(&args.index)?;
    if !args.common.quiet {
        eprintln!(
            "dupsift: added {} documents to {} ({} in all)",
            index.docs.len() - before,
            args.index.display(),
            index.docs.len()
        );
    }
    Ok(Exit::Ok)
}

pub fn info(args: IndexInfoArgs) -> Result<Exit> {
    let started = Instant::now();
    let index = Index::load(&args.index)?;
    let loaded = started.elapsed();
    let size = std::fs::metadata(&args.index)?.len();
    write_index_info(&index, &args.index, size, loaded, io::stdout().lock())?;
    Ok(Exit::Ok)
}

/// Appends the documents of the paths of `args` to `index`, noting what was skipped.
fn index_paths(args: &CommonArgs, index: &mut Index) -> Result<()> {
    let options = args.scan_options(true)?;
    let progress = Arc::new(Progress::default());
    let (skipped, unlisted) =
        with_pool_and_bar(args.threads, args.quiet, &progress, |progress| {
            scan::index_documents(&args.paths, &options, progress, index)
        })??;
    print_skipped(args, &skipped, &unlisted);
    Ok(())
}
