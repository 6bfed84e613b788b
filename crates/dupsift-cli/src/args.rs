//! The command line: clap's definitions of every subcommand and flag, and their conversion into
//! the library's options (with the tuning and test hooks the environment asks for). Flags,
//! defaults and help texts are a contract (the README documents them).
//!
//! This module parses and converts; it must not run anything, print, or judge what a library
//! call should refuse (the library's own validation does that).

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Parser, Subcommand, ValueEnum};

use dupsift::check::Limits;
use dupsift::clean::{Annotate, StripPassages};
use dupsift::cluster::{Clustering, KeepPolicy};
use dupsift::corpus::{Compression, ReadOptions};
use dupsift::minhash::Scheme;
use dupsift::passages::PassageParams;
use dupsift::shingle::Unit;
use dupsift::verify::Verify;
use dupsift::{Params, ParamsBuilder, ParamsError, ScanOptions, Tuning};

#[derive(Parser, Debug)]
#[command(
    name = "dupsift",
    version,
    about = "Find near-duplicate documents in a corpus (shingling + MinHash + LSH, verified).",
    after_help = "Exit codes: 0 success, 1 check failed (limits exceeded), 2 usage or input error (with --strict: any bad input)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
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
pub enum WorkerCommand {
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
pub struct WorkerArgs {
    /// The detection flags of `scan` (they must be the same as the single-node run's for the
    /// same answer); input and output are the standard streams, so no paths.
    #[command(flatten)]
    pub common: CommonArgs,

    /// sign: the input is raw JSONL lines (a `line` column, binary), decoded as scan decodes
    /// a JSONL file (--text-field, --id-field); adds the columns id, text and blank.
    #[arg(long, help_heading = "Worker")]
    pub jsonl_lines: bool,

    /// report: a JSON file of the figures the driver counted (documents, bytes,
    /// invalid_utf8_documents, empty_documents, candidate_pairs, verified_pairs) and the
    /// records it skipped (skipped: [{path, line, reason}]).
    #[arg(long, value_name = "FILE", help_heading = "Worker")]
    pub totals: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum IndexCommand {
    /// Index the documents of PATHS into FILE (same detection flags as scan).
    Build(IndexBuildArgs),
    /// Append the documents of PATHS to an index (flags must agree with the index's).
    Add(IndexAddArgs),
    /// Show an index's parameters, document count, size and format version.
    Info(IndexInfoArgs),
}

#[derive(Args, Debug)]
pub struct IndexBuildArgs {
    #[command(flatten)]
    pub common: CommonArgs,

    /// The index file to write (atomically).
    #[arg(short, long, value_name = "FILE", help_heading = "Index")]
    pub output: PathBuf,
}

#[derive(Args, Debug)]
pub struct IndexAddArgs {
    /// The index to extend (rewritten atomically).
    #[arg(value_name = "INDEX")]
    pub index: PathBuf,

    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Args, Debug)]
pub struct IndexInfoArgs {
    /// The index to describe.
    #[arg(value_name = "INDEX")]
    pub index: PathBuf,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum UnitArg {
    /// Words (Unicode word boundaries; each CJK or Thai character is a word).
    Word,
    /// Characters of the normalised text.
    Char,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum SchemeArg {
    /// One permutation per signature value (--num-perm multiply-shift hashes per shingle).
    Classic,
    /// One-permutation hashing with optimal densification: one hash per shingle, several times
    /// faster to sign; noisier for documents with fewer shingles than --num-perm.
    Oph,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum VerifyArg {
    /// True Jaccard of the candidates' shingle sets (reads candidate documents twice).
    Exact,
    /// MinHash estimate (one read; ±0.035 at 128 permutations near J = 0.8).
    Estimate,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ClustersArg {
    /// Every member is within --threshold of its cluster's kept document (or a copy of it):
    /// nothing is removed without a near-duplicate that stays.
    Threshold,
    /// Connected components: a member may be removed for being near another removed member.
    Components,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum FormatArg {
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
pub struct CommonArgs {
    /// Files or directories to scan (directories recursively); `-` reads standard input
    /// (JSONL, Parquet or plain text). JSONL is recognised by the extension .jsonl or .ndjson,
    /// Parquet (one document per row) by .parquet or .parq; gzip and zstd (.gz, .zst) by content
    /// or extension. Without paths: `corpus` in the current
    /// directory (the bundled sample, when run from a checkout).
    pub paths: Vec<PathBuf>,

    /// Similarity (Jaccard of shingle sets) at or above which two documents are near-duplicates.
    /// 0.8 is the customary cut for near-duplicate text (scrapes, light edits, reformatting).
    #[arg(long, default_value_t = 0.8, help_heading = "Detection")]
    pub threshold: f64,

    /// Units per shingle.
    #[arg(long, default_value_t = 5, help_heading = "Detection")]
    pub ngram: usize,

    /// What a shingle is made of.
    #[arg(long, value_enum, default_value_t = UnitArg::Word, help_heading = "Detection")]
    pub unit: UnitArg,

    /// MinHash permutations (signature length); a multiple of 8.
    #[arg(long, default_value_t = 128, help_heading = "Detection")]
    pub num_perm: usize,

    /// LSH bands. Default: chosen with --rows from --threshold and --num-perm, minimising the
    /// S-curve's false-positive and false-negative areas (as datasketch does) among bandings
    /// that catch a pair at the threshold with probability >= 0.995 (18 x 6 at 0.8 and 128).
    #[arg(long, help_heading = "Detection")]
    pub bands: Option<usize>,

    /// Signature values per LSH band. Default: see --bands. bands x rows <= num-perm.
    #[arg(long, help_heading = "Detection")]
    pub rows: Option<usize>,

    /// Seed of the MinHash permutations. Results are reproducible for a given seed.
    #[arg(long, default_value_t = 42, help_heading = "Detection")]
    pub seed: u64,

    /// How signatures are computed.
    #[arg(long, value_enum, default_value_t = SchemeArg::Classic, help_heading = "Detection")]
    pub scheme: SchemeArg,

    /// How candidate pairs are confirmed.
    #[arg(long, value_enum, default_value_t = VerifyArg::Exact, help_heading = "Detection")]
    pub verify: VerifyArg,

    /// Which document of a cluster a cleanup keeps (after --prefer): first or last in input
    /// order; longest or shortest once a document's repeats of its own passages are cut (ties:
    /// the first); newest:FIELD or oldest:FIELD, by a JSONL field (Parquet column) holding an
    /// ISO-8601 date or time (UTC without an offset), a number, or a Parquet date or timestamp,
    /// records without it last (ties: the first).
    #[arg(
        long,
        value_name = "POLICY",
        default_value = "first",
        value_parser = clap::value_parser!(KeepPolicy),
        help_heading = "Detection"
    )]
    pub keep: KeepPolicy,

    /// Keep a document whose id or file matches PATTERN over later or unmatched ones
    /// (repeatable, most preferred first: --prefer 'curated/**' --prefer 'web/**'); --keep
    /// breaks ties. Globs: `*` stays within a path component, `**` crosses them.
    #[arg(long, value_name = "PATTERN", help_heading = "Detection")]
    pub prefer: Vec<String>,

    /// What a cluster is. Documents joined only through a removed member get a cluster (and a
    /// kept document) of their own; each cluster names its connected component.
    #[arg(long, value_enum, default_value_t = ClustersArg::Threshold, help_heading = "Detection")]
    pub clusters: ClustersArg,

    /// Do not look for repeated passages (runs of words that occur more than once, inside one
    /// document or across documents).
    #[arg(long, help_heading = "Passages")]
    pub no_passages: bool,

    /// Shortest repeated passage reported, in words. 50 follows the usual cut for exact
    /// repeated substrings in training-data deduplication (50 tokens); shared runs of half that
    /// length are always seen, so passages copied with small edits are found whole.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(16..=100_000), help_heading = "Passages")]
    pub min_passage: u64,

    /// Occurrences listed per passage in the report (all are counted).
    #[arg(long, default_value_t = 100, help_heading = "Passages")]
    pub max_occurrences: usize,

    /// Include hidden files and directories (names starting with '.').
    #[arg(long, help_heading = "Input")]
    pub hidden: bool,

    /// Honour .gitignore files while walking directories (off by default: data folders are
    /// often git-ignored).
    #[arg(long, help_heading = "Input")]
    pub gitignore: bool,

    /// Follow symbolic links while walking (loops are detected and skipped).
    #[arg(short = 'L', long, help_heading = "Input")]
    pub follow: bool,

    /// JSONL field (Parquet column) holding the document text. For Parquet, `a.b` is field b of
    /// a struct column a, unless a column is named `a.b`.
    #[arg(long, default_value = "text", help_heading = "Input")]
    pub text_field: String,

    /// JSONL field (Parquet column) holding the document id; a record without it is named
    /// FILE:LINE (a Parquet row: FILE:ROW, rows numbered from 1).
    #[arg(long, default_value = "id", help_heading = "Input")]
    pub id_field: String,

    /// Skip documents larger than this many bytes (files, JSONL lines, or Parquet text values),
    /// with a reason.
    /// Accepts K, M, G suffixes (powers of 1024).
    #[arg(long, default_value = "64M", value_parser = parse_size, help_heading = "Input")]
    pub max_doc_bytes: u64,

    /// Read zstd streams made with a window of up to 2^N bytes (`zstd --long=28` makes 28).
    /// Decoding holds up to a window of memory per file read at once; 27 (128 MiB) is zstd's
    /// own limit, 31 the format's largest. A stream above the limit is skipped with a reason.
    #[arg(long, value_name = "N", default_value_t = dupsift::corpus::ZSTD_WINDOW_LOG,
          value_parser = clap::value_parser!(u32).range(10..=dupsift::corpus::ZSTD_WINDOW_LOG_MAX as i64),
          help_heading = "Input")]
    pub zstd_window_log: u32,

    /// Stop with exit code 2 at the first bad input (unreadable, binary, empty, malformed,
    /// corrupt, invalid UTF-8) instead of skipping it.
    #[arg(long, help_heading = "Input")]
    pub strict: bool,

    /// Worker threads (0: one per core; at most 8 per core, or 64). Output is identical
    /// whatever the count.
    #[arg(short = 'j', long, default_value_t = 0, value_parser = parse_threads, help_heading = "Output")]
    pub threads: usize,

    /// Print how long each stage took, and how many cores it kept busy, on standard error.
    #[arg(long, help_heading = "Output")]
    pub timings: bool,

    /// No progress bar and no notes on standard error.
    #[arg(short, long, help_heading = "Output")]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct ScanArgs {
    #[command(flatten)]
    pub common: CommonArgs,

    /// Report format.
    #[arg(long, value_enum, default_value_t = FormatArg::Text, help_heading = "Output")]
    pub format: FormatArg,

    /// Write the report to FILE (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,

    /// Clusters listed in the text report (all are counted; JSON lists all).
    #[arg(long, default_value_t = 50, help_heading = "Output")]
    pub max_clusters: usize,

    /// Passages (and self-repeating documents) listed in the text report (all are counted;
    /// JSON lists all).
    #[arg(long, default_value_t = 20, help_heading = "Output")]
    pub max_passages: usize,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum CheckFormatArg {
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
pub struct CheckArgs {
    #[command(flatten)]
    pub common: CommonArgs,

    /// Fail when duplicate documents (cluster members a cleanup would remove) exceed this share
    /// of documents, e.g. 0.01. Without any limit, any duplicate or repeated passage fails.
    #[arg(long, value_name = "R", value_parser = parse_ratio, help_heading = "Limits")]
    pub max_duplicate_ratio: Option<f64>,

    /// Fail when the bytes in repeated passages (beyond each passage's first occurrence) exceed
    /// this share of all bytes.
    #[arg(long, value_name = "R", value_parser = parse_ratio, help_heading = "Limits")]
    pub max_passage_ratio: Option<f64>,

    /// Fail on any duplicate document or repeated passage, whatever the ratios.
    #[arg(long, help_heading = "Limits")]
    pub fail_on_any: bool,

    /// Pass a check that read no document (every input empty, missing or skipped). Without it
    /// such a check is an error (exit 2): a gate that read nothing has proved nothing.
    #[arg(long, help_heading = "Limits")]
    pub allow_empty: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormatArg::Text, help_heading = "Output")]
    pub format: CheckFormatArg,

    /// Write the output to FILE (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,

    /// Findings listed in the text output (largest first).
    #[arg(long, default_value_t = 10, help_heading = "Output")]
    pub max_findings: usize,

    /// Accept the findings recorded in FILE (by content fingerprint, so renames do not matter):
    /// they are reported but do not count against the limits; a further copy of an accepted
    /// duplicate is new.
    #[arg(long, value_name = "FILE", help_heading = "Limits")]
    pub baseline: Option<PathBuf>,

    /// Write every current finding to the --baseline FILE (atomically) and exit 0.
    #[arg(long, requires = "baseline", help_heading = "Limits")]
    pub update_baseline: bool,

    /// Check PATHS against an index built with `dupsift index build`: report the documents and
    /// passages of PATHS that duplicate the indexed corpus or each other, without reading the
    /// corpus again. The detection flags must agree with the index's.
    #[arg(long, value_name = "INDEX", help_heading = "Limits")]
    pub against: Option<PathBuf>,
}

fn parse_ratio(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err(format!("not a ratio between 0 and 1: {s:?}")),
    }
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum StripArg {
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
pub enum CompressArg {
    /// Uncompressed.
    None,
    /// gzip.
    Gz,
    /// Zstandard.
    Zst,
}

#[derive(Args, Debug)]
pub struct CleanArgs {
    #[command(flatten)]
    pub common: CommonArgs,

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
    pub output: Option<PathBuf>,

    /// Which repeated passages to cut from the documents that stay. Default: self (a document's
    /// repeats of its own passages: a body pasted twice comes out once), or none with
    /// --no-passages or --annotate-only.
    #[arg(long, value_enum, help_heading = "Cleanup")]
    pub strip_passages: Option<StripArg>,

    /// Clean PATHS against an index of a corpus built with `dupsift index build`: remove from
    /// PATHS every document that duplicates an indexed document (or another document of
    /// PATHS); indexed documents are never written or removed, and the manifest names the
    /// indexed document each removal matched. The detection flags must agree with the index's.
    #[arg(long, value_name = "INDEX", help_heading = "Cleanup")]
    pub against: Option<PathBuf>,

    /// Also add to each JSONL record kept the fields "dupsift_cluster" (its cluster's id in
    /// report.json, or null) and "dupsift_cluster_size" (documents in the cluster, the kept one
    /// included; 1 when alone), just before the record's closing brace: the rest of the line is
    /// as it was, byte for byte (after any cut of the text field). Parquet outputs get them as
    /// columns (64-bit integers) after the input's. JSONL and Parquet inputs only: a file read
    /// as plain text, given or in a directory, is refused. A record (or table) that already has
    /// one of these fields stops the run (exit 2, OUT left as it was; --dry-run does not read the
    /// records): remove the field first.
    #[arg(long, conflicts_with = "annotate_only", help_heading = "Cleanup")]
    pub annotate: bool,

    /// Remove and cut nothing: write every JSONL record with "dupsift_cluster",
    /// "dupsift_cluster_size" and "dupsift_duplicate_of" (the id of the document its cluster
    /// keeps; null for that document and for records in no cluster). manifest.jsonl is then
    /// empty. As --annotate otherwise; --strip-passages other than none is refused.
    #[arg(long, help_heading = "Cleanup")]
    pub annotate_only: bool,

    /// Compression of the JSONL and text files written. Default: as each input. (Parquet files
    /// are written with the codecs of their input.)
    #[arg(long, value_enum, help_heading = "Cleanup")]
    pub compress: Option<CompressArg>,

    /// Print what would be removed and cut, and the totals; write nothing.
    #[arg(long, help_heading = "Cleanup")]
    pub dry_run: bool,

    /// Replace an existing non-empty OUT (still atomically: the old one is removed only once
    /// the new one is in place).
    #[arg(long, help_heading = "Cleanup")]
    pub force: bool,

    /// Also write the HTML report of the run to FILE (with --dry-run too: review before
    /// cleaning).
    #[arg(long, value_name = "FILE", help_heading = "Cleanup")]
    pub report_html: Option<PathBuf>,
}

/// A thread count, refused when far above this machine's cores.
fn parse_threads(s: &str) -> Result<usize, String> {
    let threads: usize = s
        .trim()
        .parse()
        .map_err(|_| format!("not a thread count: {s:?}"))?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    dupsift::options::check_threads(threads, cores).map_err(|e| e.to_string())?;
    Ok(threads)
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

impl From<UnitArg> for Unit {
    fn from(u: UnitArg) -> Unit {
        match u {
            UnitArg::Word => Unit::Word,
            UnitArg::Char => Unit::Char,
        }
    }
}

impl From<SchemeArg> for Scheme {
    fn from(s: SchemeArg) -> Scheme {
        match s {
            SchemeArg::Classic => Scheme::Classic,
            SchemeArg::Oph => Scheme::Oph,
        }
    }
}

impl From<VerifyArg> for Verify {
    fn from(v: VerifyArg) -> Verify {
        match v {
            VerifyArg::Exact => Verify::Exact,
            VerifyArg::Estimate => Verify::Estimate,
        }
    }
}

impl From<ClustersArg> for Clustering {
    fn from(c: ClustersArg) -> Clustering {
        match c {
            ClustersArg::Threshold => Clustering::Threshold,
            ClustersArg::Components => Clustering::Components,
        }
    }
}

impl From<StripArg> for StripPassages {
    fn from(s: StripArg) -> StripPassages {
        match s {
            StripArg::None => StripPassages::None,
            StripArg::SelfRepeats => StripPassages::SelfRepeats,
            StripArg::All => StripPassages::All,
        }
    }
}

impl From<CompressArg> for Compression {
    fn from(c: CompressArg) -> Compression {
        match c {
            CompressArg::None => Compression::None,
            CompressArg::Gz => Compression::Gzip,
            CompressArg::Zst => Compression::Zstd,
        }
    }
}

impl CommonArgs {
    /// Without paths, `corpus` in the current directory (the bundled sample, in a checkout).
    pub fn default_paths(&mut self) -> Result<()> {
        if self.paths.is_empty() {
            let default = PathBuf::from("corpus");
            if !default.is_dir() {
                anyhow::bail!("nothing to scan: give a path (or `-` for standard input)");
            }
            self.paths.push(default);
        }
        Ok(())
    }

    /// The detection parameters as given, before validation.
    pub fn params_builder(&self) -> ParamsBuilder {
        ParamsBuilder {
            unit: self.unit.into(),
            ngram: self.ngram,
            num_perm: self.num_perm,
            bands: self.bands,
            rows: self.rows,
            threshold: self.threshold,
            seed: self.seed,
            scheme: self.scheme.into(),
            verify: self.verify.into(),
            keep: self.keep.clone(),
            prefer: self.prefer.clone(),
            clusters: self.clusters.into(),
            passages: (!self.no_passages).then_some(PassageParams {
                min_words: self.min_passage as usize,
                max_occurrences: self.max_occurrences,
            }),
        }
    }

    /// The detection parameters, validated.
    pub fn params(&self) -> Result<Params, ParamsError> {
        self.params_builder().build()
    }

    /// How inputs are read; `previews`: read cluster members back for their previews.
    pub fn read_options(&self, previews: bool) -> ReadOptions {
        ReadOptions {
            hidden: self.hidden,
            gitignore: self.gitignore,
            follow_links: self.follow,
            text_field: self.text_field.clone(),
            id_field: self.id_field.clone(),
            max_doc_bytes: self.max_doc_bytes,
            zstd_window_log: self.zstd_window_log,
            previews,
            ..ReadOptions::default()
        }
    }

    /// The options of a scan of these flags, with the tuning the environment asks for.
    pub fn scan_options(&self, previews: bool) -> Result<ScanOptions, ParamsError> {
        Ok(ScanOptions {
            params: self.params()?,
            read: self.read_options(previews),
            strict: self.strict,
            tuning: tuning_from_env(),
        })
    }
}

impl CleanArgs {
    /// What the records written are annotated with.
    pub fn annotate(&self) -> Annotate {
        match (self.annotate, self.annotate_only) {
            (_, true) => Annotate::Only,
            (true, false) => Annotate::Kept,
            (false, false) => Annotate::None,
        }
    }

    /// Which passages are cut: as given, else self-repeats when passages are searched, and
    /// nothing when annotating only (which cuts nothing).
    pub fn strip_passages(&self) -> StripPassages {
        match self.strip_passages {
            Some(s) => s.into(),
            None if self.annotate_only => StripPassages::None,
            None => StripPassages::default_for(!self.common.no_passages),
        }
    }
}

impl CheckArgs {
    /// The limits of the check.
    pub fn limits(&self) -> Limits {
        Limits {
            max_duplicate_ratio: self.max_duplicate_ratio,
            max_passage_ratio: self.max_passage_ratio,
            fail_on_any: self.fail_on_any,
        }
    }
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

/// Test hook: `index add` waits this many milliseconds between reading the index and writing
/// it (`DUPSIFT_PAUSE_BEFORE_SAVE_MS`), so that a concurrency test can overlap a second run.
pub fn pause_before_save_from_env() -> Option<std::time::Duration> {
    std::env::var("DUPSIFT_PAUSE_BEFORE_SAVE_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map(std::time::Duration::from_millis)
}

/// Test hook: `DUPSIFT_ABORT_AFTER_FILES=N` makes `clean` abort the process (as a crash or
/// `kill -9` would) once N output files are written, so tests can check that an interrupted
/// cleanup leaves no output behind.
pub fn abort_after_files_from_env() -> Option<u64> {
    std::env::var("DUPSIFT_ABORT_AFTER_FILES")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
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

    #[test]
    fn default_flags_give_the_library_defaults() {
        let cli = Cli::try_parse_from(["dupsift", "scan", "x"]).unwrap();
        let Command::Scan(args) = cli.command else {
            panic!("not scan")
        };
        assert_eq!(args.common.params_builder(), ParamsBuilder::default());
        assert_eq!(
            format!("{:?}", args.common.read_options(true)),
            format!("{:?}", ReadOptions::default())
        );
    }
}
