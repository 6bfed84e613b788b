//! Command-line layer: clap definitions, their validation into library types, the thread pool,
//! the progress bar, output files and exit codes. No text processing happens here.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};

use dupsift::check;
use dupsift::clean::{self, StripPassages};
use dupsift::cluster::KeepPolicy;
use dupsift::corpus::Compression;
use dupsift::corpus::ReadOptions;
use dupsift::index::{Index, IndexParams};
use dupsift::minhash::Scheme;
use dupsift::passages::PassageParams;
use dupsift::report::{
    CleanReport, Report, TEXT_ITEMS, Texts, human_bytes, write_check_github, write_check_json,
    write_check_sarif, write_check_text, write_html, write_text, write_tsv,
};
use dupsift::scan;
use dupsift::shingle::Unit;
use dupsift::verify::Verify;
use dupsift::{Params, ParamsBuilder, Progress, ScanError, ScanOptions, ScanResult, Stage, Tuning};

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

#[derive(Parser, Debug)]
#[command(
    name = "dupsift",
    version,
    about = "Find near-duplicate documents in a corpus (shingling + MinHash + LSH, verified).",
    after_help = "Exit codes: 0 success, 1 check failed (limits exceeded), 2 usage or input error (with --strict: any bad input)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Find clusters of near-duplicate and exactly duplicated documents and repeated passages,
    /// and report them.
    Scan(ScanArgs),
    /// Write a deduplicated copy of the corpus, with a manifest of what was removed or cut.
    Clean(CleanArgs),
    /// Gate a dataset in CI: exit 1 when duplicates exceed the limits (default: any duplicate).
    Check(CheckArgs),
    /// Build, extend or describe an index file, for checking batches against a corpus without
    /// reading it again.
    #[command(subcommand)]
    Index(IndexCommand),
    /// Per-partition work for Apache Spark: Arrow IPC record batches on standard input, results
    /// on standard output (needs a build with `--features spark`).
    #[command(subcommand)]
    Worker(WorkerCommand),
}

#[derive(Subcommand, Debug)]
enum WorkerCommand {
    /// Documents (a text column, --text-field) → band keys, content hash and counts per row.
    Sign(WorkerArgs),
    /// Candidate pairs (columns a_text, b_text) → their exact similarity per row.
    Verify(WorkerArgs),
    /// An edge list (int64 columns a, b) → each document's connected component (doc,
    /// component), with the union-find of a scan; run once, on the driver.
    Components(WorkerArgs),
    /// Cluster members (cluster, doc, id, bytes, head, kept, exact, similarity) and the run's
    /// totals (--totals) → the JSON report `scan --no-passages` writes; run once, on the driver.
    Report(WorkerArgs),
}

#[derive(Args, Debug)]
struct WorkerArgs {
    /// The detection flags of `scan` (they must be the same as the single-node run's for the
    /// same answer); input and output are the standard streams, so no paths.
    #[command(flatten)]
    common: CommonArgs,

    /// sign: the input is raw JSONL lines (a `line` column, binary), decoded as scan decodes
    /// a JSONL file (--text-field, --id-field); adds the columns id, text and blank.
    #[arg(long, help_heading = "Worker")]
    jsonl_lines: bool,

    /// report: a JSON file of the figures the driver counted (documents, bytes,
    /// invalid_utf8_documents, empty_documents, candidate_pairs, verified_pairs) and the
    /// records it skipped (skipped: [{path, line, reason}]).
    #[arg(long, value_name = "FILE", help_heading = "Worker")]
    totals: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum IndexCommand {
    /// Index the documents of PATHS into FILE (same detection flags as scan).
    Build(IndexBuildArgs),
    /// Append the documents of PATHS to an index (flags must agree with the index's).
    Add(IndexAddArgs),
    /// Show an index's parameters, document count, size and format version.
    Info(IndexInfoArgs),
}

#[derive(Args, Debug)]
struct IndexBuildArgs {
    #[command(flatten)]
    common: CommonArgs,

    /// The index file to write (atomically).
    #[arg(short, long, value_name = "FILE", help_heading = "Index")]
    output: PathBuf,
}

#[derive(Args, Debug)]
struct IndexAddArgs {
    /// The index to extend (rewritten atomically).
    #[arg(value_name = "INDEX")]
    index: PathBuf,

    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Args, Debug)]
struct IndexInfoArgs {
    /// The index to describe.
    #[arg(value_name = "INDEX")]
    index: PathBuf,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum UnitArg {
    /// Words (Unicode word boundaries; each CJK or Thai character is a word).
    Word,
    /// Characters of the normalised text.
    Char,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum SchemeArg {
    /// One permutation per signature value (--num-perm multiply-shift hashes per shingle).
    Classic,
    /// One-permutation hashing with optimal densification: one hash per shingle, several times
    /// faster to sign; noisier for documents with fewer shingles than --num-perm.
    Oph,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum VerifyArg {
    /// True Jaccard of the candidates' shingle sets (reads candidate documents twice).
    Exact,
    /// MinHash estimate (one read; ±0.035 at 128 permutations near J = 0.8).
    Estimate,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum KeepArg {
    /// The first document in input order.
    First,
    /// The largest document (ties: the first).
    Longest,
    /// The smallest document (ties: the first).
    Shortest,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum FormatArg {
    /// A report for people.
    Text,
    /// The machine report (schema in docs/report.md).
    Json,
    /// One self-contained HTML page: summary, chart, clusters compared side by side, passages
    /// in context.
    Html,
    /// One tab-separated line per duplicate document: cluster, kept, doc, similarity, exact,
    /// bytes (with a header; ids escaped as \t \n \r \\).
    Tsv,
}

/// What `scan` and `clean` share: inputs, detection parameters, and how to run.
#[derive(Args, Debug)]
struct CommonArgs {
    /// Files or directories to scan (directories recursively); `-` reads standard input
    /// (JSONL or plain text). JSONL is recognised by the extension .jsonl or .ndjson; gzip and
    /// zstd (.gz, .zst) by content or extension. Without paths: `corpus` in the current
    /// directory (the bundled sample, when run from a checkout).
    paths: Vec<PathBuf>,

    /// Similarity (Jaccard of shingle sets) at or above which two documents are near-duplicates.
    /// 0.8 is the customary cut for near-duplicate text (scrapes, light edits, reformatting).
    #[arg(long, default_value_t = 0.8, help_heading = "Detection")]
    threshold: f64,

    /// Units per shingle.
    #[arg(long, default_value_t = 5, help_heading = "Detection")]
    ngram: usize,

    /// What a shingle is made of.
    #[arg(long, value_enum, default_value_t = UnitArg::Word, help_heading = "Detection")]
    unit: UnitArg,

    /// MinHash permutations (signature length); a multiple of 8.
    #[arg(long, default_value_t = 128, help_heading = "Detection")]
    num_perm: usize,

    /// LSH bands. Default: chosen with --rows from --threshold and --num-perm, minimising the
    /// S-curve's false-positive and false-negative areas (as datasketch does) among bandings
    /// that catch a pair at the threshold with probability >= 0.995 (18 x 6 at 0.8 and 128).
    #[arg(long, help_heading = "Detection")]
    bands: Option<usize>,

    /// Signature values per LSH band. Default: see --bands. bands x rows <= num-perm.
    #[arg(long, help_heading = "Detection")]
    rows: Option<usize>,

    /// Seed of the MinHash permutations. Results are reproducible for a given seed.
    #[arg(long, default_value_t = 42, help_heading = "Detection")]
    seed: u64,

    /// How signatures are computed.
    #[arg(long, value_enum, default_value_t = SchemeArg::Classic, help_heading = "Detection")]
    scheme: SchemeArg,

    /// How candidate pairs are confirmed.
    #[arg(long, value_enum, default_value_t = VerifyArg::Exact, help_heading = "Detection")]
    verify: VerifyArg,

    /// Which document of a cluster a cleanup keeps.
    #[arg(long, value_enum, default_value_t = KeepArg::First, help_heading = "Detection")]
    keep: KeepArg,

    /// Do not look for repeated passages (runs of words that occur more than once, inside one
    /// document or across documents).
    #[arg(long, help_heading = "Passages")]
    no_passages: bool,

    /// Shortest repeated passage reported, in words. 50 follows the usual cut for exact
    /// repeated substrings in training-data deduplication (50 tokens); shared runs of half that
    /// length are always seen, so passages copied with small edits are found whole.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(16..=100_000), help_heading = "Passages")]
    min_passage: u64,

    /// Occurrences listed per passage in the report (all are counted).
    #[arg(long, default_value_t = 100, help_heading = "Passages")]
    max_occurrences: usize,

    /// Include hidden files and directories (names starting with '.').
    #[arg(long, help_heading = "Input")]
    hidden: bool,

    /// Honour .gitignore files while walking directories (off by default: data folders are
    /// often git-ignored).
    #[arg(long, help_heading = "Input")]
    gitignore: bool,

    /// Follow symbolic links while walking (loops are detected and skipped).
    #[arg(short = 'L', long, help_heading = "Input")]
    follow: bool,

    /// JSONL field holding the document text.
    #[arg(long, default_value = "text", help_heading = "Input")]
    text_field: String,

    /// JSONL field holding the document id; a record without it is named FILE:LINE.
    #[arg(long, default_value = "id", help_heading = "Input")]
    id_field: String,

    /// Skip documents larger than this many bytes (files, or JSONL lines), with a reason.
    /// Accepts K, M, G suffixes (powers of 1024).
    #[arg(long, default_value = "64M", value_parser = parse_size, help_heading = "Input")]
    max_doc_bytes: u64,

    /// Stop with exit code 2 at the first bad input (unreadable, binary, empty, malformed,
    /// corrupt, invalid UTF-8) instead of skipping it.
    #[arg(long, help_heading = "Input")]
    strict: bool,

    /// Worker threads (0: one per core). Output is identical whatever the count.
    #[arg(short = 'j', long, default_value_t = 0, help_heading = "Output")]
    threads: usize,

    /// Print how long each stage took, and how many cores it kept busy, on standard error.
    #[arg(long, help_heading = "Output")]
    timings: bool,

    /// No progress bar and no notes on standard error.
    #[arg(short, long, help_heading = "Output")]
    quiet: bool,
}

#[derive(Args, Debug)]
struct ScanArgs {
    #[command(flatten)]
    common: CommonArgs,

    /// Report format.
    #[arg(long, value_enum, default_value_t = FormatArg::Text, help_heading = "Output")]
    format: FormatArg,

    /// Write the report to FILE (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE", help_heading = "Output")]
    output: Option<PathBuf>,

    /// Clusters listed in the text report (all are counted; JSON lists all).
    #[arg(long, default_value_t = 50, help_heading = "Output")]
    max_clusters: usize,

    /// Passages (and self-repeating documents) listed in the text report (all are counted;
    /// JSON lists all).
    #[arg(long, default_value_t = 20, help_heading = "Output")]
    max_passages: usize,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum CheckFormatArg {
    /// A few lines: the verdict, what failed, the largest findings.
    Text,
    /// The machine verdict with every finding (docs/check.md).
    Json,
    /// GitHub Actions workflow commands: an annotation per finding on its file and line.
    Github,
    /// SARIF 2.1.0 for code-scanning UIs.
    Sarif,
}

#[derive(Args, Debug)]
struct CheckArgs {
    #[command(flatten)]
    common: CommonArgs,

    /// Fail when duplicate documents (cluster members a cleanup would remove) exceed this share
    /// of documents, e.g. 0.01. Without any limit, any duplicate or repeated passage fails.
    #[arg(long, value_name = "R", value_parser = parse_ratio, help_heading = "Limits")]
    max_duplicate_ratio: Option<f64>,

    /// Fail when the bytes in repeated passages (beyond each passage's first occurrence) exceed
    /// this share of all bytes.
    #[arg(long, value_name = "R", value_parser = parse_ratio, help_heading = "Limits")]
    max_passage_ratio: Option<f64>,

    /// Fail on any duplicate document or repeated passage, whatever the ratios.
    #[arg(long, help_heading = "Limits")]
    fail_on_any: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormatArg::Text, help_heading = "Output")]
    format: CheckFormatArg,

    /// Write the output to FILE (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE", help_heading = "Output")]
    output: Option<PathBuf>,

    /// Findings listed in the text output (largest first).
    #[arg(long, default_value_t = 10, help_heading = "Output")]
    max_findings: usize,

    /// Accept the findings recorded in FILE (by content fingerprint, so renames do not matter):
    /// they are reported but do not count against the limits; a further copy of an accepted
    /// duplicate is new.
    #[arg(long, value_name = "FILE", help_heading = "Limits")]
    baseline: Option<PathBuf>,

    /// Write every current finding to the --baseline FILE (atomically) and exit 0.
    #[arg(long, requires = "baseline", help_heading = "Limits")]
    update_baseline: bool,

    /// Check PATHS against an index built with `dupsift index build`: report the documents and
    /// passages of PATHS that duplicate the indexed corpus or each other, without reading the
    /// corpus again. The detection flags must agree with the index's.
    #[arg(long, value_name = "INDEX", help_heading = "Limits")]
    against: Option<PathBuf>,
}

fn parse_ratio(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err(format!("not a ratio between 0 and 1: {s:?}")),
    }
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum StripArg {
    /// Keep or remove documents whole.
    None,
    /// Cut repeats of a passage inside one document beyond its first copy (a body pasted twice
    /// comes out once).
    #[value(name = "self")]
    SelfRepeats,
    /// Also cut every occurrence of a passage already kept in an earlier document
    /// (boilerplate).
    All,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum CompressArg {
    /// Uncompressed.
    None,
    /// gzip.
    Gz,
    /// Zstandard.
    Zst,
}

#[derive(Args, Debug)]
struct CleanArgs {
    #[command(flatten)]
    common: CommonArgs,

    /// Directory to write the cleaned corpus to, with manifest.jsonl and report.json. Written
    /// beside it first and renamed into place when complete. Must not be inside an input, nor
    /// an input inside it; an existing non-empty directory is refused without --force.
    #[arg(
        short,
        long,
        value_name = "OUT",
        required_unless_present = "dry_run",
        help_heading = "Cleanup"
    )]
    output: Option<PathBuf>,

    /// Which repeated passages to cut from the documents that stay.
    #[arg(long, value_enum, default_value_t = StripArg::None, help_heading = "Cleanup")]
    strip_passages: StripArg,

    /// Compression of the JSONL and text files written. Default: as each input.
    #[arg(long, value_enum, help_heading = "Cleanup")]
    compress: Option<CompressArg>,

    /// Print what would be removed and cut, and the totals; write nothing.
    #[arg(long, help_heading = "Cleanup")]
    dry_run: bool,

    /// Replace an existing non-empty OUT (still atomically: the old one is removed only once
    /// the new one is in place).
    #[arg(long, help_heading = "Cleanup")]
    force: bool,

    /// Also write the HTML report of the run to FILE (with --dry-run too: review before
    /// cleaning).
    #[arg(long, value_name = "FILE", help_heading = "Cleanup")]
    report_html: Option<PathBuf>,
}

fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m = match c.to_ascii_uppercase() {
                'K' => 1u64 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                _ => return Err(format!("unknown size suffix {c:?} (use K, M or G)")),
            };
            (&s[..i], m)
        }
        _ => (s, 1),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("not a size: {s:?}"))
}

/// Runs the command line; errors are printed here and turned into exit codes.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Error.into()
            } else {
                Exit::Ok.into()
            };
        }
    };
    match run(cli) {
        Ok(code) => code.into(),
        Err(e) => {
            if is_broken_pipe(&e) {
                return Exit::Ok.into();
            }
            eprintln!("dupsift: error: {e:#}");
            Exit::Error.into()
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

fn run(cli: Cli) -> Result<Exit> {
    match cli.command {
        Command::Scan(args) => run_scan(args),
        Command::Clean(args) => run_clean(args),
        Command::Check(args) => run_check(args),
        Command::Index(IndexCommand::Build(args)) => run_index_build(args),
        Command::Index(IndexCommand::Add(args)) => run_index_add(args),
        Command::Index(IndexCommand::Info(args)) => run_index_info(args),
        Command::Worker(WorkerCommand::Sign(args)) => run_worker(args, WorkerTask::Sign),
        Command::Worker(WorkerCommand::Verify(args)) => run_worker(args, WorkerTask::Verify),
        Command::Worker(WorkerCommand::Components(args)) => {
            run_worker(args, WorkerTask::Components)
        }
        Command::Worker(WorkerCommand::Report(args)) => run_worker(args, WorkerTask::Report),
    }
}

#[cfg_attr(not(feature = "spark"), allow(dead_code))]
#[derive(Clone, Copy, Debug)]
enum WorkerTask {
    Sign,
    Verify,
    Components,
    Report,
}

#[cfg(not(feature = "spark"))]
fn run_worker(_: WorkerArgs, _: WorkerTask) -> Result<Exit> {
    anyhow::bail!(
        "this dupsift was built without Spark support; build it with \
         `cargo build --release --features spark`"
    )
}

#[cfg(feature = "spark")]
fn run_worker(args: WorkerArgs, task: WorkerTask) -> Result<Exit> {
    use crate::worker;
    let jsonl_lines = args.jsonl_lines;
    let totals: worker::Totals = match (&args.totals, task) {
        (Some(path), WorkerTask::Report) => {
            let text =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            serde_json::from_slice(&text)
                .with_context(|| format!("{} is not a totals file", path.display()))?
        }
        (None, WorkerTask::Report) => anyhow::bail!("worker report needs --totals FILE"),
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
    let params = params_of(&args)?;
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
            WorkerTask::Sign => worker::sign(stdin, stdout, &params, &opts),
            WorkerTask::Verify => worker::verify(stdin, stdout, &params, &opts),
            WorkerTask::Components => worker::components(stdin, stdout),
            WorkerTask::Report => worker::report(stdin, stdout, &params, totals),
        }
    })?;
    if !args.quiet && stats.errors > 0 {
        match task {
            WorkerTask::Components => eprintln!(
                "dupsift worker: {} of {} edges have a null end and were left out",
                stats.errors, stats.rows
            ),
            // A member row it cannot use stops the report instead.
            WorkerTask::Report => {}
            _ => eprintln!(
                "dupsift worker: {} of {} rows have an error (see the error column)",
                stats.errors, stats.rows
            ),
        }
    }
    Ok(Exit::Ok)
}

/// Without paths, `corpus` in the current directory.
fn default_paths(args: &mut CommonArgs) -> Result<()> {
    if args.paths.is_empty() {
        let default = PathBuf::from("corpus");
        if !default.is_dir() {
            anyhow::bail!("nothing to scan: give a path (or `-` for standard input)");
        }
        args.paths.push(default);
    }
    Ok(())
}

/// Runs the detection `scan` and `clean` share. `Ok(None)`: stopped by `--strict` (reported).
fn detect(args: &mut CommonArgs, previews: bool) -> Result<Option<ScanResult>> {
    detect_against(args, None, previews)
}

/// The scan parameters of the common flags.
fn params_of(args: &CommonArgs) -> Result<Params> {
    let params = ParamsBuilder {
        unit: match args.unit {
            UnitArg::Word => Unit::Word,
            UnitArg::Char => Unit::Char,
        },
        ngram: args.ngram,
        num_perm: args.num_perm,
        bands: args.bands,
        rows: args.rows,
        threshold: args.threshold,
        seed: args.seed,
        scheme: match args.scheme {
            SchemeArg::Classic => Scheme::Classic,
            SchemeArg::Oph => Scheme::Oph,
        },
        verify: match args.verify {
            VerifyArg::Exact => Verify::Exact,
            VerifyArg::Estimate => Verify::Estimate,
        },
        keep: match args.keep {
            KeepArg::First => KeepPolicy::First,
            KeepArg::Longest => KeepPolicy::Longest,
            KeepArg::Shortest => KeepPolicy::Shortest,
        },
        passages: (!args.no_passages).then_some(PassageParams {
            min_words: args.min_passage as usize,
            max_occurrences: args.max_occurrences,
        }),
    }
    .build()?;
    Ok(params)
}

/// The scan options of the common flags, with the tuning the environment asks for.
fn scan_options(args: &CommonArgs, read: ReadOptions) -> Result<ScanOptions> {
    Ok(ScanOptions {
        params: params_of(args)?,
        read,
        strict: args.strict,
        tuning: tuning_from_env(),
    })
}

/// `DUPSIFT_SPILL=0` turns the temporary file of word hashes off (the later passes then read
/// and tokenise the text again, with the same results: a test compares the two);
/// `DUPSIFT_VERIFY_BLOCK_SHINGLES=N` sets the verification memory budget (same results with
/// any budget; tests use tiny ones).
fn tuning_from_env() -> Tuning {
    let mut tuning = Tuning::default();
    if std::env::var_os("DUPSIFT_SPILL").is_some_and(|v| v == "0") {
        tuning.spill = false;
    }
    if let Some(n) = std::env::var("DUPSIFT_VERIFY_BLOCK_SHINGLES")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        tuning.verify_block_shingles = n;
    }
    tuning
}

fn read_options(args: &CommonArgs) -> ReadOptions {
    ReadOptions {
        hidden: args.hidden,
        gitignore: args.gitignore,
        follow_links: args.follow,
        text_field: args.text_field.clone(),
        id_field: args.id_field.clone(),
        max_doc_bytes: args.max_doc_bytes,
        ..ReadOptions::default()
    }
}

/// Loads an index, printing why it cannot be used.
fn load_index(path: &Path) -> Result<Option<Index>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    match Index::from_bytes(&bytes) {
        Ok(i) => Ok(Some(i)),
        Err(e) => {
            eprintln!("dupsift: error: {}: {e}", path.display());
            Ok(None)
        }
    }
}

/// Refuses flags that disagree with an index (printed); true when they agree.
fn agrees_with(index: &Index, params: &Params, path: &Path) -> bool {
    let conflicts = index.params.conflicts(&IndexParams::of(params));
    for c in &conflicts {
        eprintln!(
            "dupsift: error: {}: {c}; rerun with the index's parameters (see `dupsift index info`)",
            path.display()
        );
    }
    conflicts.is_empty()
}

fn detect_against(
    args: &mut CommonArgs,
    prior: Option<&Index>,
    previews: bool,
) -> Result<Option<ScanResult>> {
    default_paths(args)?;
    let options = scan_options(
        args,
        ReadOptions {
            previews,
            ..read_options(args)
        },
    )?;
    let progress = Arc::new(Progress::default());
    let result = with_pool_and_bar(args, &progress, |progress| {
        scan::scan_against(&args.paths, prior, &options, progress)
    })?;
    let result = match result {
        Ok(r) => r,
        Err(e @ ScanError::Strict(_)) => {
            eprintln!("dupsift: error: {e}");
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    };
    if !args.quiet {
        for w in &result.warnings {
            eprintln!("dupsift: warning: {w}");
        }
    }
    if args.timings {
        let times: Vec<String> = progress
            .stage_times()
            .iter()
            .map(|t| {
                let wall = t.wall.as_secs_f64();
                match t.cpu {
                    // Cores kept busy: what a stage gains from more threads.
                    Some(cpu) if wall >= 0.05 => format!(
                        "{} {wall:.2} s ({:.1} cores)",
                        stage_name(t.stage),
                        cpu.as_secs_f64() / wall
                    ),
                    _ => format!("{} {wall:.2} s", stage_name(t.stage)),
                }
            })
            .collect();
        eprintln!(
            "dupsift: {} (MinHash kernel {})",
            times.join(", "),
            dupsift::minhash::MinHasher::kernel_name()
        );
    }
    Ok(Some(result))
}

fn run_scan(mut args: ScanArgs) -> Result<Exit> {
    // The duplicates table shows no previews, so the last read of the clusters is skipped.
    let previews = args.format != FormatArg::Tsv;
    let Some(result) = detect(&mut args.common, previews)? else {
        return Ok(Exit::Error);
    };
    let report = Report::new(&result);
    let texts = if args.format == FormatArg::Html {
        html_texts(&result, &args.common)?
    } else {
        Texts::new()
    };
    let render = |w: &mut dyn Write| -> io::Result<()> {
        match args.format {
            FormatArg::Json => report.write_json(w),
            FormatArg::Text => write_text(&report, args.max_clusters, args.max_passages, w),
            FormatArg::Html => write_html(&report, &texts, w),
            FormatArg::Tsv => write_tsv(&report, w),
        }
    };
    match &args.output {
        Some(path) => write_atomically(path, render)?,
        None => {
            let stdout = io::stdout();
            let mut w = io::BufWriter::new(stdout.lock());
            render(&mut w)?;
            w.flush()?;
        }
    }
    if !args.common.quiet && (args.output.is_some() || args.format != FormatArg::Text) {
        let s = &report.summary;
        eprintln!(
            "dupsift: {} documents, {} clusters, {} duplicates, {} skipped",
            s.documents, s.clusters, s.duplicate_documents, s.skipped
        );
    }
    Ok(Exit::Ok)
}

fn run_clean(mut args: CleanArgs) -> Result<Exit> {
    // The inputs must be known before the output is checked against them.
    default_paths(&mut args.common)?;
    if let Some(out) = &args.output
        && let Err(why) = clean::check_output(&args.common.paths, out, args.force)
    {
        eprintln!("dupsift: error: {why}");
        return Ok(Exit::Error);
    }
    let Some(result) = detect(&mut args.common, true)? else {
        return Ok(Exit::Error);
    };
    let strip = match args.strip_passages {
        StripArg::None => StripPassages::None,
        StripArg::SelfRepeats => StripPassages::SelfRepeats,
        StripArg::All => StripPassages::All,
    };
    if strip != StripPassages::None && result.params.passages.is_none() {
        anyhow::bail!("--strip-passages needs passage detection: drop --no-passages");
    }
    if let Some(path) = &args.report_html {
        let report = Report::new(&result);
        let texts = html_texts(&result, &args.common)?;
        write_atomically(path, |w| write_html(&report, &texts, w))?;
    }
    let plan = clean::plan(&result, strip);
    let compress = args.compress.map(|c| match c {
        CompressArg::None => Compression::None,
        CompressArg::Gz => Compression::Gzip,
        CompressArg::Zst => Compression::Zstd,
    });
    let mut report = Report::new(&result);
    let stdout = io::stdout();
    let mut w = io::BufWriter::new(stdout.lock());
    let totals = if args.dry_run {
        write_plan(&result, &plan, &mut w)?;
        clean::totals(&result, &plan)
    } else {
        let out = args
            .output
            .as_deref()
            .expect("clap requires OUT without --dry-run");
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
        // Everything goes to a hidden directory beside OUT, renamed into place when complete:
        // an interrupted run leaves OUT as it was. On error the directory is removed.
        let tmp = tempfile::Builder::new()
            .prefix(".dupsift-clean-")
            .tempdir_in(parent)
            .with_context(|| format!("creating a temporary directory in {}", parent.display()))?;
        let totals = clean::write(
            &result,
            &plan,
            tmp.path(),
            &args.common.text_field,
            compress,
        )?;
        report.clean = Some(CleanReport {
            strip_passages: strip,
            dry_run: false,
            totals: totals.clone(),
        });
        let file =
            std::fs::File::create(tmp.path().join("report.json")).context("writing report.json")?;
        let mut rw = io::BufWriter::new(file);
        report.write_json(&mut rw)?;
        rw.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        clean::place(&tmp.keep(), out)
            .with_context(|| format!("moving the output to {}", out.display()))?;
        totals
    };
    write_totals(&totals, args.dry_run, args.output.as_deref(), &mut w)?;
    w.flush()?;
    Ok(Exit::Ok)
}

fn run_check(mut args: CheckArgs) -> Result<Exit> {
    if refuse_missing(&args.common.paths) {
        return Ok(Exit::Error);
    }
    let index = match &args.against {
        Some(path) => {
            let Some(index) = load_index(path)? else {
                return Ok(Exit::Error);
            };
            // The indexed documents come first, so the first of a cluster is an indexed one.
            if !matches!(args.common.keep, KeepArg::First) {
                eprintln!("dupsift: error: --against keeps the indexed document: drop --keep");
                return Ok(Exit::Error);
            }
            // The index keeps word hashes, not signatures: candidates are verified exactly.
            if matches!(args.common.verify, VerifyArg::Estimate) {
                eprintln!(
                    "dupsift: error: --against verifies candidates exactly: drop --verify estimate"
                );
                return Ok(Exit::Error);
            }
            if !agrees_with(&index, &params_of(&args.common)?, path) {
                return Ok(Exit::Error);
            }
            Some(index)
        }
        None => None,
    };
    let Some(result) = detect_against(&mut args.common, index.as_ref(), true)? else {
        return Ok(Exit::Error);
    };
    let limits = check::Limits {
        max_duplicate_ratio: args.max_duplicate_ratio,
        max_passage_ratio: args.max_passage_ratio,
        fail_on_any: args.fail_on_any,
    };
    let baseline = match (&args.baseline, args.update_baseline) {
        (Some(path), false) => {
            let bytes = std::fs::read(path)
                .with_context(|| format!("reading the baseline {}", path.display()))?;
            match check::Baseline::parse(&bytes) {
                Ok(b) => Some(b),
                Err(why) => {
                    eprintln!("dupsift: error: {}: {why}", path.display());
                    return Ok(Exit::Error);
                }
            }
        }
        _ => None,
    };
    let verdict = check::judge(&result, &limits, baseline.as_ref());
    if args.update_baseline
        && let Some(path) = &args.baseline
    {
        let b = check::Baseline::of(&verdict.findings);
        write_atomically(path, |w| {
            serde_json::to_writer_pretty(&mut *w, &b)?;
            w.write_all(b"\n")
        })?;
        if !args.common.quiet {
            eprintln!(
                "dupsift: baseline {} accepts {} findings",
                path.display(),
                verdict.findings.len()
            );
        }
        return Ok(Exit::Ok);
    }
    let render = |w: &mut dyn Write| -> io::Result<()> {
        match args.format {
            CheckFormatArg::Text => write_check_text(&verdict, args.max_findings, w),
            CheckFormatArg::Json => write_check_json(&verdict, w),
            CheckFormatArg::Github => write_check_github(&verdict, w),
            CheckFormatArg::Sarif => write_check_sarif(&verdict, w),
        }
    };
    match &args.output {
        Some(path) => write_atomically(path, render)?,
        None => {
            let stdout = io::stdout();
            let mut w = io::BufWriter::new(stdout.lock());
            render(&mut w)?;
            w.flush()?;
        }
    }
    Ok(if verdict.passed {
        Exit::Ok
    } else {
        Exit::Failed
    })
}

fn run_index_build(mut args: IndexBuildArgs) -> Result<Exit> {
    default_paths(&mut args.common)?;
    if refuse_missing(&args.common.paths) {
        return Ok(Exit::Error);
    }
    let params = params_of(&args.common)?;
    let mut index = match Index::new(IndexParams::of(&params)) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("dupsift: error: {e}");
            return Ok(Exit::Error);
        }
    };
    if !index_paths(&args.common, &mut index)? {
        return Ok(Exit::Error);
    }
    write_atomically(&args.output, |w| index.write(w))?;
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

fn run_index_add(mut args: IndexAddArgs) -> Result<Exit> {
    default_paths(&mut args.common)?;
    if refuse_missing(&args.common.paths) {
        return Ok(Exit::Error);
    }
    let Some(mut index) = load_index(&args.index)? else {
        return Ok(Exit::Error);
    };
    let params = params_of(&args.common)?;
    if !agrees_with(&index, &params, &args.index) {
        return Ok(Exit::Error);
    }
    let before = index.docs.len();
    if !index_paths(&args.common, &mut index)? {
        return Ok(Exit::Error);
    }
    write_atomically(&args.index, |w| index.write(w))?;
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

/// Runs `work` in a thread pool of `--threads` threads, with the progress bar on a terminal.
fn with_pool_and_bar<T: Send>(
    args: &CommonArgs,
    progress: &Arc<Progress>,
    work: impl FnOnce(&Progress) -> T + Send,
) -> Result<T> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads)
        .build()
        .context("starting the thread pool")?;
    let bar = ProgressThread::start(progress.clone(), !args.quiet && io::stderr().is_terminal());
    let result = pool.install(|| work(progress));
    bar.finish();
    Ok(result)
}

/// Indexes the paths of `args` into `index`; false when stopped by --strict (reported).
fn index_paths(args: &CommonArgs, index: &mut Index) -> Result<bool> {
    let options = scan_options(args, read_options(args))?;
    let progress = Arc::new(Progress::default());
    let result = with_pool_and_bar(args, &progress, |progress| {
        scan::index_documents(&args.paths, &options, progress, index)
    })?;
    match result {
        Ok(skipped) => {
            if !args.quiet {
                for k in &skipped {
                    match k.line {
                        Some(l) => eprintln!("dupsift: skipped {}:{l}: {}", k.path, k.reason),
                        None => eprintln!("dupsift: skipped {}: {}", k.path, k.reason),
                    }
                }
            }
            Ok(true)
        }
        Err(e @ ScanError::Strict(_)) => {
            eprintln!("dupsift: error: {e}");
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}

fn run_index_info(args: IndexInfoArgs) -> Result<Exit> {
    let started = Instant::now();
    let Some(index) = load_index(&args.index)? else {
        return Ok(Exit::Error);
    };
    let loaded = started.elapsed();
    let size = std::fs::metadata(&args.index)?.len();
    let p = &index.params;
    let words: u64 = index.docs.iter().map(|d| d.words.len() as u64).sum();
    let mut w = io::stdout().lock();
    writeln!(w, "index {}", args.index.display())?;
    writeln!(
        w,
        "format version {}, hash format {}",
        dupsift::index::FORMAT_VERSION,
        p.hash_format
    )?;
    writeln!(
        w,
        "documents {}, words {}, size {} ({} per document), loaded in {:.3} s",
        index.docs.len(),
        words,
        human_bytes(size),
        human_bytes(size / (index.docs.len() as u64).max(1)),
        loaded.as_secs_f64()
    )?;
    writeln!(
        w,
        "parameters: --unit {} --ngram {} --num-perm {} --bands {} --rows {} --threshold {} --seed {} --scheme {} {}",
        p.unit,
        p.ngram,
        p.num_perm,
        p.bands,
        p.rows,
        p.threshold,
        p.seed,
        p.scheme,
        match p.min_passage {
            Some(m) => format!("--min-passage {m}"),
            None => "--no-passages".to_string(),
        }
    )?;
    Ok(Exit::Ok)
}

/// The texts the HTML report shows: the documents of the first clusters and passages.
fn html_texts(result: &ScanResult, args: &CommonArgs) -> Result<Texts> {
    let mut want: Vec<u32> = result
        .clusters
        .iter()
        .take(TEXT_ITEMS)
        .flat_map(|c| std::iter::once(c.kept).chain(c.members.iter().map(|m| m.0)))
        .collect();
    let max_occ = result
        .params
        .passages
        .as_ref()
        .map_or(0, |p| p.max_occurrences);
    want.extend(
        result
            .passages
            .iter()
            .take(TEXT_ITEMS)
            .flat_map(|p| p.occurrences.iter().take(max_occ).map(|o| o.doc)),
    );
    let texts = scan::excerpts(result, &want, &read_options(args), 1 << 20)?;
    Ok(texts
        .into_iter()
        .map(|(d, t)| (result.docs.id(d).to_string(), t))
        .collect())
}

fn write_plan(result: &ScanResult, plan: &clean::Plan, w: &mut impl Write) -> io::Result<()> {
    let docs = &result.docs;
    for (&d, r) in &plan.removed {
        writeln!(
            w,
            "remove  {}  ({}, {} of {}, similarity {:.3})",
            docs.id(d),
            human_bytes(docs.bytes[d as usize]),
            match r.reason {
                clean::Reason::ExactDuplicate => "exact duplicate",
                _ => "near-duplicate",
            },
            docs.id(r.kept),
            r.similarity
        )?;
    }
    for (&d, cuts) in &plan.cuts {
        for c in cuts {
            writeln!(
                w,
                "cut     {}  bytes {}..{}  ({}, passage {} kept in {})",
                docs.id(d),
                c.bytes.start,
                c.bytes.end,
                human_bytes(c.bytes.end - c.bytes.start),
                c.passage,
                docs.id(c.kept_in)
            )?;
        }
    }
    Ok(())
}

fn write_totals(
    t: &clean::Totals,
    dry_run: bool,
    out: Option<&Path>,
    w: &mut impl Write,
) -> io::Result<()> {
    let would = if dry_run { "would be " } else { "" };
    writeln!(
        w,
        "documents: {} in, {} kept, {} {}removed, {} with passages {}cut; {} {} skipped by the scan (those that could be read are copied as they were)",
        t.documents_in,
        t.kept,
        t.removed,
        would,
        t.cut_documents,
        would,
        t.skipped,
        if t.skipped == 1 { "input" } else { "inputs" }
    )?;
    writeln!(
        w,
        "bytes: {} in, {} out, {} in removed documents, {} cut",
        human_bytes(t.bytes_in),
        human_bytes(t.bytes_out),
        human_bytes(t.bytes_removed),
        human_bytes(t.bytes_cut)
    )?;
    match (dry_run, out) {
        (true, _) => writeln!(w, "dry run: nothing written"),
        (false, Some(out)) => writeln!(
            w,
            "wrote {} (with manifest.jsonl and report.json)",
            out.display()
        ),
        (false, None) => Ok(()),
    }
}

/// Writes through a temporary file in the target's directory, renamed into place when
/// complete, so a reader never sees half a report.
fn write_atomically(
    path: &Path,
    render: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    // A device or a pipe (`-o /dev/null`, `-o /dev/stdout`, a FIFO) is written in place:
    // renaming a file over it would replace the device node itself.
    if let Ok(m) = std::fs::metadata(path)
        && !m.is_file()
        && !m.is_dir()
    {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        let mut w = io::BufWriter::new(f);
        render(&mut w).with_context(|| format!("writing {}", path.display()))?;
        w.flush()
            .with_context(|| format!("writing {}", path.display()))?;
        return Ok(());
    }
    // A symbolic link keeps pointing where it did: its target is replaced, not the link.
    let resolved;
    let path = match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            resolved = match std::fs::canonicalize(path) {
                Ok(target) => target,
                // A dangling link: create the file it names.
                Err(_) => {
                    let target = std::fs::read_link(path)
                        .with_context(|| format!("reading the link {}", path.display()))?;
                    path.parent().unwrap_or(Path::new(".")).join(target)
                }
            };
            resolved.as_path()
        }
        _ => path,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".dupsift-")
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    {
        let mut w = io::BufWriter::new(tmp.as_file_mut());
        render(&mut w).with_context(|| format!("writing {}", path.display()))?;
        w.flush()?;
    }
    // A temporary file is private (0600); the result gets the mode of the file it replaces, or
    // the usual 0644 for a new one.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).map_or(0o644, |m| m.permissions().mode() & 0o7777);
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    tmp.as_file().sync_all().ok();
    tmp.persist(path)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Reports the first command-line input that does not exist, if any: a gate or an index given
/// a typo must not pass on an empty corpus. True when one is missing.
fn refuse_missing(paths: &[PathBuf]) -> bool {
    let missing = paths
        .iter()
        .find(|p| p.as_os_str() != "-" && std::fs::symlink_metadata(p).is_err());
    if let Some(p) = missing {
        eprintln!("dupsift: error: {}: no such file or directory", p.display());
    }
    missing.is_some()
}

fn stage_name(stage: Stage) -> &'static str {
    match stage {
        Stage::Reading => "reading",
        Stage::Verifying => "verifying",
        Stage::Clustering => "clustering",
        Stage::Passages => "passages",
        Stage::Finishing => "finishing",
    }
}

/// Draws a progress bar on stderr for runs that last more than a second.
struct ProgressThread {
    done: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl ProgressThread {
    fn start(progress: Arc<Progress>, enabled: bool) -> ProgressThread {
        let done = Arc::new(AtomicBool::new(false));
        if !enabled {
            return ProgressThread { done, handle: None };
        }
        let flag = done.clone();
        let handle = std::thread::spawn(move || {
            let started = Instant::now();
            let mut bar: Option<indicatif::ProgressBar> = None;
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                if started.elapsed() < Duration::from_secs(1) {
                    continue;
                }
                let b = bar.get_or_insert_with(|| {
                    let b = indicatif::ProgressBar::new(0).with_elapsed(started.elapsed());
                    b.set_style(
                        indicatif::ProgressStyle::with_template(
                            "{prefix:>10} [{bar:30}] {decimal_bytes}/{decimal_total_bytes} {msg} ({elapsed})",
                        )
                        .expect("valid template")
                        .progress_chars("=> "),
                    );
                    b
                });
                let stage = progress.stage();
                match progress.total.load(Ordering::Relaxed) {
                    0 => b.unset_length(),
                    total => b.set_length(total),
                }
                b.set_position(progress.bytes.load(Ordering::Relaxed));
                // The prefix last: each setter may redraw, and the stage must match the figures.
                b.set_message(format!("{} docs", progress.docs.load(Ordering::Relaxed)));
                b.set_prefix(stage_name(stage));
            }
            if let Some(b) = bar {
                b.finish_and_clear();
            }
        });
        ProgressThread {
            done,
            handle: Some(handle),
        }
    }

    fn finish(mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_suffixes() {
        assert_eq!(parse_size("100"), Ok(100));
        assert_eq!(parse_size("4K"), Ok(4096));
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert!(parse_size("12X").is_err());
        assert!(parse_size("").is_err());
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
