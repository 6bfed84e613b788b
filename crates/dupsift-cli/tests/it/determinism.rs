//! Determinism: the JSON report is byte-identical whatever the thread count, and from one run to
//! the next.

use crate::util::*;

/// Runs `dupsift scan --format json ARGS` in `dir` and returns the raw report.
fn report_bytes(dir: &std::path::Path, args: &[&str]) -> Vec<u8> {
    let run = run_in(dir, &json_args(args)).success();
    parse_report(&run.stdout);
    run.stdout
}

#[track_caller]
fn assert_same(a: &[u8], b: &[u8], what: &str) {
    assert!(
        a == b,
        "{what}: reports differ\n--- first\n{}\n--- second\n{}",
        String::from_utf8_lossy(a),
        String::from_utf8_lossy(b)
    );
}

#[test]
fn sample_corpus_report_is_identical_across_thread_counts_and_runs() {
    let root = crate_root();
    let one = report_bytes(root, &["corpus", "--threads", "1"]);
    let two = report_bytes(root, &["corpus", "--threads", "2"]);
    let again = report_bytes(root, &["corpus", "-j", "2"]);
    let all = report_bytes(root, &["corpus"]);
    assert_same(&one, &two, "--threads 1 vs 2");
    assert_same(&two, &again, "two runs with --threads 2");
    assert_same(&one, &all, "--threads 1 vs one per core");
    let est1 = report_bytes(root, &["corpus", "--verify", "estimate", "-j", "1"]);
    let est2 = report_bytes(root, &["corpus", "--verify", "estimate", "-j", "2"]);
    assert_same(&est1, &est2, "--verify estimate, --threads 1 vs 2");
}

/// A generated corpus larger than one read batch (4 MiB), with many clusters and a JSONL file,
/// so that batching and parallel collection are exercised.
#[test]
fn generated_corpus_report_is_identical_across_thread_counts_and_runs() {
    let mut g = TextGen::new(31);
    let t = TempCorpus::new();
    let mut total = 0;
    let mut i = 0;
    let mut jsonl = String::new();
    let mut families = 0;
    while total < 5 << 20 {
        let words = g.words(400);
        let text = render(&words);
        total += text.len();
        t.file(&format!("d/{:02}/{i:05}.txt", i % 37), &text);
        if i % 5 == 0 {
            let edited = render(&g.edit(&words, 2));
            total += edited.len();
            t.file(&format!("d/{:02}/{i:05}-v.txt", (i * 7) % 37), &edited);
        }
        if i % 11 == 0 {
            let edited = render(&g.edit(&words, 1));
            jsonl.push_str(&jsonl_line(&[
                ("id", serde_json::json!(format!("r{i}"))),
                ("text", serde_json::json!(edited)),
            ]));
        }
        families += usize::from(i % 5 == 0 || i % 11 == 0);
        i += 1;
    }
    t.file("d/records.jsonl", &jsonl);
    let one = report_bytes(t.path(), &["d", "-j", "1"]);
    let two = report_bytes(t.path(), &["d", "-j", "2"]);
    let again = report_bytes(t.path(), &["d", "-j", "2"]);
    assert_same(&one, &two, "--threads 1 vs 2");
    assert_same(&two, &again, "two runs with --threads 2");
    // Verification in many small blocks (a tiny memory budget) must change nothing.
    let with_env = |key: &str, value: &str| {
        let out = dupsift()
            .current_dir(t.path())
            .env(key, value)
            .args(json_args(&["d", "-j", "2"]))
            .output()
            .expect("run dupsift");
        assert!(out.status.success());
        out
    };
    let blocked = with_env("DUPSIFT_VERIFY_BLOCK_SHINGLES", "3000");
    assert_same(&one, &blocked.stdout, "default vs tiny verification blocks");
    // Later passes read word hashes from a temporary file by default; reading the text again
    // (turned off, or no temporary directory) finds the same, and says why it is slower.
    let reread = with_env("DUPSIFT_SPILL", "0");
    assert_same(
        &one,
        &reread.stdout,
        "word hashes from the spill vs from the text",
    );
    assert!(
        reread.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&reread.stderr)
    );
    let no_tmp = dupsift()
        .current_dir(t.path())
        .env("TMPDIR", t.path().join("no-such-dir"))
        .args(["scan", "d", "-j", "2", "--format", "json"])
        .output()
        .expect("run dupsift");
    assert!(no_tmp.status.success());
    assert_same(&one, &no_tmp.stdout, "no temporary directory");
    let err = String::from_utf8_lossy(&no_tmp.stderr);
    assert!(
        err.starts_with("dupsift: warning: no temporary file for word hashes (")
            && err.contains("set TMPDIR to a writable directory"),
        "{err}"
    );
    let r = parse_report(&one);
    assert!(
        summary(&r, "documents") > 1500,
        "{}",
        summary(&r, "documents")
    );
    // Every base with a variant (two words of 400 changed) or a record (one word) is a cluster.
    assert_eq!(summary(&r, "clusters"), families as u64);
    // The variants also share long runs of words with their bases: passages exercise the
    // spilled word hashes as much as verification does.
    assert!(summary(&r, "passages") > 100, "{}", summary(&r, "passages"));
}

/// A thread count far above the machine's cores is refused before anything is read (5,000
/// threads took a minute on a megabyte; 100,000 never finished), for every command that takes
/// the flag; counts up to 64 run as usual.
#[test]
fn thread_counts_far_above_the_cores_are_refused() {
    let root = crate_root();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let too_many = (cores * 8).max(64) + 1;
    let n = too_many.to_string();
    for cmd in [
        &["scan", "corpus", "--threads", n.as_str()][..],
        &["check", "corpus", "-j", n.as_str()],
        &[
            "index",
            "build",
            "corpus",
            "-o",
            "never.dsx",
            "-j",
            n.as_str(),
        ],
    ] {
        let run = run_in(root, cmd).usage_error();
        assert!(
            run.stderr
                .contains(&format!("{too_many} threads on {cores} cores")),
            "{cmd:?}: {}",
            run.stderr
        );
    }
    assert!(!root.join("never.dsx").exists());
    let at_limit = report_bytes(root, &["corpus", "--threads", "64"]);
    let one = report_bytes(root, &["corpus", "--threads", "1"]);
    assert_same(&at_limit, &one, "--threads 64 vs 1");
}
