//! Regression tests for the defects a hostile or unlucky user found (one test per defect,
//! named after it): outputs that destroyed inputs, files of dupsift's own colliding with the
//! corpus in a cleanup, renamings nobody recorded, ids rewritten, and the like. Each test
//! states what the user did and what must hold afterwards.

use crate::util::*;

/// Two near-duplicate JSONL records and an unrelated one: enough for every command to have
/// something to write.
fn corpus() -> TempCorpus {
    let t = TempCorpus::new();
    let mut g = Gen::new(18);
    let a = g.text(80);
    let b = g.text(80);
    let lines = [
        jsonl_line(&[("id", "a".into()), ("text", a.clone().into())]),
        jsonl_line(&[("id", "a2".into()), ("text", format!("{a} again").into())]),
        jsonl_line(&[("id", "b".into()), ("text", b.into())]),
    ];
    t.file("data/a.jsonl", lines.concat());
    t.file("notes.txt", g.text(40));
    t
}

/// Runs `args` in `t`, asserts exit 2 with a message containing `says`, and that nothing under
/// `t` changed.
#[track_caller]
fn refused(t: &TempCorpus, args: &[&str], says: &str) {
    let before = snapshot(t.path());
    let run = t.run(args).usage_error();
    assert!(
        run.stderr.contains(says),
        "{args:?}: expected {says:?} in\n{}",
        run.stderr
    );
    assert_eq!(
        snapshot(t.path()),
        before,
        "{args:?} changed files although refused"
    );
}

#[test]
fn outputs_that_are_inputs_are_refused_and_nothing_is_written() {
    let t = corpus();
    let is_input = "is also an input";
    let inside = "is inside the input data";
    refused(
        &t,
        &["scan", "data/a.jsonl", "-o", "data/a.jsonl"],
        is_input,
    );
    refused(
        &t,
        &["scan", "data/a.jsonl", "notes.txt", "-o", "notes.txt"],
        is_input,
    );
    // Through a different spelling of the same path, and inside a directory being read.
    refused(&t, &["scan", "data", "-o", "data/../data/a.jsonl"], inside);
    refused(&t, &["scan", "data", "-o", "data/report.json"], inside);
    refused(
        &t,
        &["check", "data/a.jsonl", "-o", "data/a.jsonl"],
        is_input,
    );
    refused(
        &t,
        &["index", "build", "data", "-o", "data/a.jsonl"],
        inside,
    );
    refused(
        &t,
        &["index", "build", "data/a.jsonl", "-o", "data/a.jsonl"],
        is_input,
    );
    refused(
        &t,
        &[
            "clean",
            "data",
            "--dry-run",
            "--report-html",
            "data/a.jsonl",
        ],
        inside,
    );
    refused(
        &t,
        &[
            "clean",
            "data/a.jsonl",
            "-o",
            "out",
            "--report-html",
            "data/a.jsonl",
        ],
        is_input,
    );
    // The baseline read by a check is an input too.
    t.run(&[
        "check",
        "data",
        "--baseline",
        "base.json",
        "--update-baseline",
    ])
    .success();
    refused(
        &t,
        &[
            "check",
            "data",
            "--baseline",
            "base.json",
            "-o",
            "base.json",
        ],
        is_input,
    );
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("data/a.jsonl", t.join("link.jsonl")).unwrap();
        refused(&t, &["scan", "data/a.jsonl", "-o", "link.jsonl"], is_input);
    }
}

#[test]
fn update_baseline_onto_a_file_that_is_not_a_baseline_is_refused() {
    let t = corpus();
    refused(
        &t,
        &[
            "check",
            "data",
            "--baseline",
            "notes.txt",
            "--update-baseline",
        ],
        "notes.txt exists and is not a dupsift baseline",
    );
    refused(
        &t,
        &[
            "check",
            "data",
            "--baseline",
            "data/a.jsonl",
            "--update-baseline",
        ],
        "is inside the input data",
    );
    // Nothing yet, then a baseline: written, then replaced as before.
    for _ in 0..2 {
        t.run(&[
            "check",
            "data",
            "--baseline",
            "base.json",
            "--update-baseline",
        ])
        .success();
    }
    // Hidden inside the data directory: the walk does not read it, so it may live there.
    t.run(&[
        "check",
        "data",
        "--baseline",
        "data/.dupsift-baseline.json",
        "--update-baseline",
    ])
    .success();
}

#[test]
fn index_build_onto_a_file_that_is_not_an_index_is_refused() {
    let t = corpus();
    refused(
        &t,
        &["index", "build", "data", "-o", "notes.txt"],
        "notes.txt exists and is not a dupsift index",
    );
    t.run(&["index", "build", "data", "-o", "i.dsx"]).success();
    t.run(&["index", "build", "data", "-o", "i.dsx"]).success();
}

#[test]
fn clean_report_html_inside_the_output_is_refused() {
    let t = corpus();
    refused(
        &t,
        &[
            "clean",
            "data",
            "-o",
            "out",
            "--report-html",
            "out/review.html",
        ],
        "is inside the output out",
    );
    // Beside it, it is written with the cleanup.
    t.run(&["clean", "data", "-o", "out", "--report-html", "review.html"])
        .success();
    assert!(t.join("review.html").is_file());
    assert!(t.join("out/manifest.jsonl").is_file());
}

#[test]
fn devices_stay_valid_outputs() {
    let t = corpus();
    t.run(&["scan", "data", "-o", "/dev/null"]).success();
    t.run(&["check", "data", "-o", "/dev/null"]);
}

/// Every file under `root` with its bytes, by `/`-separated relative path.
fn tree_files(root: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    snapshot(root)
        .into_iter()
        .filter(|(p, _)| root.join(p).is_file())
        .map(|(p, (_, bytes))| (p.to_string_lossy().into_owned(), bytes))
        .collect()
}

#[test]
fn clean_never_writes_its_manifest_or_report_over_a_mirrored_input() {
    let mut g = Gen::new(2);
    let t = TempCorpus::new();
    t.file(
        "in/manifest.jsonl",
        jsonl_line(&[("id", "m".into()), ("text", g.text(60).into())]),
    )
    .file("in/docs.txt", g.text(60));
    refused(
        &t,
        &["clean", "in", "-o", "out"],
        "manifest.jsonl would be written as manifest.jsonl at the top of the output",
    );
    let t = TempCorpus::new();
    t.file("in/report.json", g.text(60));
    refused(&t, &["clean", "in", "-o", "out"], "its own report.json");
    refused(
        &t,
        &["clean", "in", "-o", "out", "--dry-run"],
        "its own report.json",
    );
    // Compressed, it would land there once decompressed.
    let t = TempCorpus::new();
    t.file("in/manifest.jsonl.gz", gzip(g.text(60).as_bytes()));
    refused(
        &t,
        &["clean", "in", "-o", "out", "--compress", "none"],
        "its own manifest.jsonl",
    );
    // Below the top (or given with its parent), the names are free and the file is mirrored.
    let t = TempCorpus::new();
    let theirs = jsonl_line(&[("id", "m".into()), ("text", g.text(60).into())]);
    t.file("in/sub/manifest.jsonl", &theirs);
    t.run(&["clean", "-q", "in", "-o", "out"]).success();
    assert_eq!(
        tree_files(&t.join("out"))["sub/manifest.jsonl"],
        theirs.as_bytes()
    );
}

#[test]
fn clean_sanitised_name_collisions_keep_each_file_its_own_name_and_record_renamings() {
    let mut g = Gen::new(3);
    let (slash, under) = (g.text(70), g.text(70));
    let t = TempCorpus::new();
    // `\` sorts before `_`: the sanitised `back\slash.txt` used to take `back_slash.txt` first.
    t.file("in/back\\slash.txt", &slash)
        .file("in/back_slash.txt", &under)
        .file("in/tab\there.txt", g.text(70));
    t.run(&["clean", "-q", "in", "-o", "out"]).success();
    let out = tree_files(&t.join("out"));
    assert_eq!(
        out["back_slash.txt"],
        under.as_bytes(),
        "the real back_slash.txt"
    );
    assert_eq!(out["back_slash~2.txt"], slash.as_bytes());
    assert!(out.contains_key("tab_here.txt"));
    let manifest = String::from_utf8(out["manifest.jsonl"].clone()).unwrap();
    let renamed: Vec<serde_json::Value> = manifest
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v["reason"] == "renamed")
        .collect();
    assert_eq!(
        renamed,
        [
            serde_json::json!({"source": "back\\slash.txt", "reason": "renamed", "output": "back_slash~2.txt"}),
            serde_json::json!({"source": "tab\there.txt", "reason": "renamed", "output": "tab_here.txt"}),
        ]
    );
}

/// No control character but the line ends, and no text-reordering control, in `out`.
#[track_caller]
fn assert_terminal_safe(what: &str, out: &[u8]) {
    let text = String::from_utf8_lossy(out);
    let bad: Vec<char> = text
        .chars()
        .filter(|&c| (c.is_control() && c != '\n') || ('\u{202a}'..='\u{202e}').contains(&c))
        .collect();
    assert!(bad.is_empty(), "{what} printed {bad:?} raw:\n{text}");
    assert!(
        !text.lines().any(|l| l.starts_with("FORGED")),
        "{what} let an id forge a line:\n{text}"
    );
}

#[test]
fn text_outputs_escape_control_characters_from_ids_and_file_names() {
    let mut g = Gen::new(14);
    let body = g.text(90);
    let t = TempCorpus::new();
    let ids = [
        "\u{1b}]0;retitled\u{7}",
        "x\nFORGED line",
        "\u{202e}desrever\r",
    ];
    let lines: String = ids
        .iter()
        .map(|id| jsonl_line(&[("id", (*id).into()), ("text", body.clone().into())]))
        .collect();
    t.file("in/ids.jsonl", lines)
        .file("in/name\u{1b}[2J.txt", &body)
        .file("in/bad\nFORGED.jsonl", "{not json\n");
    let scan = t.run(&["scan", "in"]).success();
    assert_terminal_safe("scan", &scan.stdout);
    assert!(
        scan.stdout_str().contains("\\x1b]0;retitled\\x07"),
        "{}",
        scan.stdout_str()
    );
    assert_terminal_safe("scan's notes", scan.stderr.as_bytes());
    let check = t.run(&["check", "in", "--max-duplicate-ratio", "0"]);
    assert_eq!(check.code, Some(1));
    assert_terminal_safe("check", &check.stdout);
    let dry = t.run(&["clean", "in", "--dry-run"]).success();
    assert_terminal_safe("clean --dry-run", &dry.stdout);
    assert!(
        dry.stdout_str().contains("x\\nFORGED line"),
        "{}",
        dry.stdout_str()
    );
    // The JSON report keeps them exactly.
    let r = t.scan(&["in"]);
    let all = serde_json::to_string(&r).unwrap();
    assert!(all.contains("x\\nFORGED line") && all.contains("\\u001b]0;retitled\\u0007"));
}

/// A named pipe at `rel` in `t` fed `bytes` by a thread once a reader opens it; the thread
/// gives up (returning false) when none comes within 20 s, so that a dupsift that does not
/// read the pipe fails the test instead of hanging it.
#[cfg(unix)]
fn fifo(t: &TempCorpus, rel: &str, bytes: Vec<u8>) -> std::thread::JoinHandle<bool> {
    use std::os::unix::fs::OpenOptionsExt;
    let path = t.join(rel);
    let made = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    std::thread::spawn(move || {
        use std::io::Write;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            // O_NONBLOCK (Linux's value): opening the write end fails until a reader is there.
            match std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(0o4000)
                .open(&path)
            {
                Ok(mut w) => return w.write_all(&bytes).is_ok(),
                Err(_) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(20))
                }
                Err(_) => return false,
            }
        }
    })
}

#[cfg(unix)]
#[test]
fn check_of_a_named_pipe_reads_it_and_a_check_that_read_nothing_fails() {
    let t = corpus();
    let data = std::fs::read(t.join("data/a.jsonl")).unwrap();
    // As `check <(cat data/a.jsonl)` hands it: a pipe without an extension, sniffed as JSONL.
    let writer = fifo(&t, "pipe", data.clone());
    let run = t.run(&["check", "-q", "--format", "json", "pipe"]);
    assert!(writer.join().unwrap(), "dupsift never opened the pipe");
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(v["figures"]["documents"], 3, "{v}");
    assert_eq!(v["figures"]["duplicate_documents"], 1);
    // Named by its extension.
    let writer = fifo(&t, "pipe.jsonl", data);
    let r = t.scan(&["pipe.jsonl"]);
    assert!(writer.join().unwrap(), "dupsift never opened the pipe");
    assert_eq!(summary(&r, "documents"), 3);

    // Nothing read: loudly for a scan, an error for a check unless allowed.
    t.dir("empty").file("blank.jsonl", "\n\n");
    let scan = t.run(&["scan", "empty"]).success();
    assert!(
        scan.stderr
            .contains("warning: no document was read from the inputs (0 skipped)"),
        "{}",
        scan.stderr
    );
    let run = t.run(&["check", "empty"]).usage_error();
    assert!(
        run.stderr.contains("no document was read from the inputs"),
        "{}",
        run.stderr
    );
    t.run(&["check", "-q", "empty", "--allow-empty"]).success();
    t.run(&["check", "-q", "missing", "--allow-empty"])
        .usage_error();
}

/// `bytes` as one zstd frame declaring a window of 2^`log` bytes, as `zstd --long=LOG` makes.
fn zstd_long(bytes: &[u8], log: u32) -> Vec<u8> {
    use std::io::Write;
    let mut e = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
    e.window_log(log).unwrap();
    e.long_distance_matching(true).unwrap();
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// The lines of `OUT/manifest.jsonl` about whole files (renamed, damaged).
fn file_lines(out: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(out.join("manifest.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v.get("output").is_some())
        .collect()
}

#[test]
fn clean_of_a_zstd_long_window_stream_loses_no_record() {
    let t = corpus();
    let records = std::fs::read(t.join("data/a.jsonl")).unwrap();
    let packed = zstd_long(&records, 28);
    t.file("in/a.jsonl.zst", &packed);
    // The default limit (zstd's own) reports the stream, naming the flag that reads it.
    let r = t.scan(&["in"]);
    assert_eq!(summary(&r, "documents"), 0);
    let why = &skipped(&r)[0].reason;
    assert!(
        why.contains("window above the limit of 128 MiB") && why.contains("--zstd-window-log"),
        "{why}"
    );
    // A cleanup copies it through whole and says so; it never writes the empty mirror.
    t.run(&["clean", "-q", "in", "-o", "out"]).success();
    assert_eq!(std::fs::read(t.join("out/a.jsonl.zst")).unwrap(), packed);
    let lines = file_lines(&t.join("out"));
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(
        (
            &lines[0]["source"],
            &lines[0]["reason"],
            &lines[0]["output"]
        ),
        (
            &"a.jsonl.zst".into(),
            &"damaged".into(),
            &"a.jsonl.zst".into()
        )
    );
    // Raised, it is read and cleaned as any stream: the near-duplicate goes.
    let r = t.scan(&["in", "--zstd-window-log", "28"]);
    assert_eq!(summary(&r, "documents"), 3);
    assert_eq!(summary(&r, "duplicate_documents"), 1);
    t.run(&["clean", "-q", "in", "-o", "out2", "--zstd-window-log", "28"])
        .success();
    let cleaned =
        zstd::decode_all(&std::fs::read(t.join("out2/a.jsonl.zst")).unwrap()[..]).unwrap();
    assert_eq!(String::from_utf8(cleaned).unwrap().lines().count(), 2);
    assert!(file_lines(&t.join("out2")).is_empty());
    t.run(&["scan", "in", "--zstd-window-log", "32"])
        .usage_error();
}

#[test]
fn clean_of_a_truncated_gzip_copies_it_whole_and_removes_none_of_its_records() {
    let t = corpus();
    let mut g = Gen::new(4);
    let mut many = Vec::new();
    for k in 0..50 {
        let text = g.text(80);
        many.extend_from_slice(
            jsonl_line(&[
                ("id", format!("x{k}").into()),
                ("text", text.clone().into()),
            ])
            .as_bytes(),
        );
        many.extend_from_slice(
            jsonl_line(&[("id", format!("y{k}").into()), ("text", text.into())]).as_bytes(),
        );
    }
    let packed = gzip(&many);
    let cut = &packed[..packed.len() * 2 / 3];
    t.file("in/a.jsonl.gz", cut);
    let r = t.scan(&["in"]);
    assert!(
        summary(&r, "documents") > 0,
        "records before the damage are read"
    );
    assert!(summary(&r, "duplicate_documents") > 0);
    t.run(&["clean", "-q", "in", "-o", "out"]).success();
    assert_eq!(std::fs::read(t.join("out/a.jsonl.gz")).unwrap(), cut);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.join("out/report.json")).unwrap()).unwrap();
    let totals = &report["clean"]["totals"];
    assert_eq!(totals["removed"], 0, "{totals}");
    assert_eq!(totals["kept"], totals["documents_in"]);
    assert_eq!(file_lines(&t.join("out"))[0]["reason"], "damaged");
}

#[test]
fn malformed_lines_beyond_the_listed_ones_are_counted_not_held() {
    let t = TempCorpus::new();
    let mut lines = "{}\n".repeat(25_000);
    lines.push_str(&jsonl_line(&[
        ("id", "ok".into()),
        ("text", Gen::new(9).text(40).into()),
    ]));
    t.file("in/bad.jsonl.zst", zstd(lines.as_bytes()));
    let r = t.scan(&["in"]);
    assert_eq!(summary(&r, "documents"), 1);
    assert_eq!(summary(&r, "skipped"), 25_000, "the total stays exact");
    let listed = arr(&r, "skipped");
    assert_eq!(listed.len(), 10_000);
    assert_eq!(
        (listed[0]["line"].as_u64(), listed[9_999]["line"].as_u64()),
        (Some(1), Some(10_000))
    );
    let u = &r["skipped_unlisted"];
    assert_eq!(u["records"], 15_000, "{u}");
    assert_eq!(
        u["by_reason"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum::<u64>(),
        15_000
    );
    // The same at one thread and two: which are listed does not depend on the reading order.
    let one = t
        .run(&["scan", "-q", "--format", "json", "in", "-j", "1"])
        .success();
    let two = t
        .run(&["scan", "-q", "--format", "json", "in", "-j", "2"])
        .success();
    assert_eq!(one.stdout, two.stdout);
    let text = t.run(&["scan", "-q", "in"]).success().stdout_str();
    assert!(
        text.contains("... and 15000 more records, not listed:"),
        "{text}"
    );
    // A cleanup still copies every malformed line through.
    t.run(&["clean", "-q", "in", "-o", "out"]).success();
    let out = zstd::decode_all(&std::fs::read(t.join("out/bad.jsonl.zst")).unwrap()[..]).unwrap();
    assert_eq!(out, lines.as_bytes());
}

/// The document count `dupsift index info` gives for `index` in `t`.
fn indexed(t: &TempCorpus, index: &str) -> u64 {
    let info = t.run(&["index", "info", index]).success().stdout_str();
    let line = info
        .lines()
        .find(|l| l.starts_with("documents "))
        .expect("a documents line");
    line["documents ".len()..]
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[cfg(unix)]
#[test]
fn two_concurrent_index_adds_both_land() {
    let t = corpus();
    let mut g = Gen::new(9);
    for (dir, n) in [("b1", 4), ("b2", 3)] {
        for k in 0..n {
            t.file(&format!("{dir}/d{k}.txt"), g.text(60));
        }
    }
    t.run(&["index", "build", "-q", "data", "-o", "i.dsx"])
        .success();
    assert_eq!(indexed(&t, "i.dsx"), 3);
    // The first add holds the index for a while between reading and writing it; the second
    // starts meanwhile. Without a lock both read 3 documents and the last save wins.
    let mut first = std::process::Command::new(assert_cmd::cargo::cargo_bin!("dupsift"))
        .current_dir(t.path())
        .args(["index", "add", "-q", "i.dsx", "b1"])
        .env("DUPSIFT_PAUSE_BEFORE_SAVE_MS", "1500")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the first add");
    // Once it says it is pausing, it has read the index under its lock.
    let mut note = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(first.stderr.take().unwrap()),
        &mut note,
    )
    .unwrap();
    assert!(note.contains("pausing before the save"), "{note}");
    let second = t.run(&["index", "add", "i.dsx", "b2"]).success();
    assert!(first.wait().unwrap().success());
    assert!(
        second
            .stderr
            .contains("waiting for another run to finish with i.dsx"),
        "{}",
        second.stderr
    );
    assert_eq!(indexed(&t, "i.dsx"), 3 + 4 + 3, "a batch was lost");
}
