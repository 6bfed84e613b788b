//! `dupsift worker sign|verify|components|report`: per-partition work for Apache Spark, Arrow
//! IPC on standard input and output (the adapter is `crate::worker`, built with the `spark`
//! feature).
//!
//! Flags to options, one adapter call, a note of rows in error; this module must not read or
//! write Arrow itself.

#[cfg(feature = "spark")]
use std::io;

#[cfg(feature = "spark")]
use anyhow::Context;
use anyhow::Result;

use crate::args::WorkerArgs;
use crate::exit::Exit;

/// Which worker subcommand.
#[cfg_attr(not(feature = "spark"), allow(dead_code))]
#[derive(Clone, Copy, Debug)]
pub enum Task {
    Sign,
    Verify,
    Components,
    Report,
}

#[cfg(not(feature = "spark"))]
pub fn run(_: WorkerArgs, _: Task) -> Result<Exit> {
    anyhow::bail!(
        "this dupsift was built without Spark support; build it with \
         `cargo build --release --features spark`"
    )
}

#[cfg(feature = "spark")]
pub fn run(args: WorkerArgs, task: Task) -> Result<Exit> {
    use crate::worker;
    let jsonl_lines = args.jsonl_lines;
    let totals: worker::Totals = match (&args.totals, task) {
        (Some(path), Task::Report) => {
            let text =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            serde_json::from_slice(&text)
                .with_context(|| format!("{} is not a totals file", path.display()))?
        }
        (None, Task::Report) => anyhow::bail!("worker report needs --totals FILE"),
        (Some(_), _) => anyhow::bail!("--totals is for worker report only"),
        (None, _) => worker::Totals::default(),
    };
    let args = args.common;
    if let Some(p) = args.paths.first() {
        anyhow::bail!(
            "the worker reads Arrow IPC on standard input and takes no paths (got {})",
            p.display()
        );
    }
    let params = args.params()?;
    let opts = worker::Options {
        text_field: args.text_field.clone(),
        max_doc_bytes: args.max_doc_bytes,
        jsonl_lines,
        id_field: args.id_field.clone(),
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads)
        .build()
        .context("starting the thread pool")?;
    let stats = pool.install(|| {
        let stdin = io::BufReader::with_capacity(1 << 20, io::stdin());
        let stdout = io::BufWriter::with_capacity(1 << 20, io::stdout());
        match task {
            Task::Sign => worker::sign(stdin, stdout, &params, &opts),
            Task::Verify => worker::verify(stdin, stdout, &params, &opts),
            Task::Components => worker::components(stdin, stdout),
            Task::Report => worker::report(stdin, stdout, &params, totals),
        }
    })?;
    if !args.quiet && stats.errors > 0 {
        match task {
            Task::Components => eprintln!(
                "dupsift worker: {} of {} edges have a null end and were left out",
                stats.errors, stats.rows
            ),
            // A member row it cannot use stops the report instead.
            Task::Report => {}
            _ => eprintln!(
                "dupsift worker: {} of {} rows have an error (see the error column)",
                stats.errors, stats.rows
            ),
        }
    }
    Ok(Exit::Ok)
}
