//! End-to-end throughput of `scan` on a generated JSONL corpus of at least 100 MB (110,000
//! documents of ~1 KB, 10% planted near-duplicates), through the library with default
//! parameters, at 1 thread and at every core. Prints documents/s and MB/s.
//!
//! Then times what `clean` adds: planning and writing the kept corpus.
//!
//! `cargo bench --bench e2e` (DUPSIFT_BENCH_DOCS overrides the document count). The corpus is
//! written once to `target/bench-data/` and reused.

#[path = "support/synth.rs"]
mod synth;

use std::time::Instant;

use dupsift::report::Report;
use dupsift::scan::scan;
use dupsift::{Progress, ScanOptions};

fn main() {
    let docs: usize = std::env::var("DUPSIFT_BENCH_DOCS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(110_000);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-data");
    std::fs::create_dir_all(&dir).expect("bench data dir");
    let path = dir.join(format!("synthetic-{docs}.jsonl"));
    if !path.exists() {
        let tmp = path.with_extension("tmp");
        synth::write_jsonl(&tmp, docs, 170, 2024);
        std::fs::rename(&tmp, &path).expect("rename corpus");
    }
    let size = std::fs::metadata(&path).expect("corpus").len();
    println!(
        "corpus: {} ({docs} documents, {:.1} MB of JSONL)",
        path.display(),
        size as f64 / 1e6
    );
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut counts = vec![1];
    if cores > 1 {
        counts.push(cores);
    }
    for threads in counts {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool");
        let start = Instant::now();
        let result = pool
            .install(|| {
                scan(
                    std::slice::from_ref(&path),
                    &ScanOptions::default(),
                    &Progress::default(),
                )
            })
            .expect("scan");
        let secs = start.elapsed().as_secs_f64();
        let report = Report::new(&result);
        println!(
            "threads {threads}: {secs:.2} s, {:.0} documents/s, {:.1} MB/s; {} clusters, {} duplicates, {} candidate pairs",
            report.summary.documents as f64 / secs,
            size as f64 / 1e6 / secs,
            report.summary.clusters,
            report.summary.duplicate_documents,
            report.summary.candidate_pairs,
        );
        println!(
            "  per-document state after pass 1: {:.0} bytes in the document table + {} bytes of band keys",
            result.docs.heap_bytes() as f64 / result.docs.len() as f64,
            result.params.bands * 8
        );
        // `clean` is the same scan plus planning and writing the kept corpus.
        let out = tempfile::tempdir_in(&dir).expect("temp dir");
        let write_start = Instant::now();
        let plan =
            pool.install(|| dupsift::clean::plan(&result, dupsift::clean::StripPassages::None));
        let totals =
            dupsift::clean::write(&result, &plan, out.path(), &Default::default()).expect("clean");
        let write_secs = write_start.elapsed().as_secs_f64();
        println!(
            "  clean: scan + {write_secs:.2} s to plan and write {:.1} MB ({} documents kept) = {:.2}x the scan",
            totals.bytes_out as f64 / 1e6,
            totals.kept,
            (secs + write_secs) / secs
        );
    }
}
