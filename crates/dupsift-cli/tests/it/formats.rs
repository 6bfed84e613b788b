//! Input formats and options: JSONL ids and fields, gzip/zstd, standard input, document naming,
//! the output file, hidden and ignored files, symlinks, CJK text, character shingles, parameter
//! validation and the keep policies.

use std::time::Duration;

use serde_json::json;

use crate::util::*;

/// A base text and near-duplicates of it (a few words changed each, J >= 0.85).
fn family(seed: u64, n: usize) -> Vec<String> {
    let mut g = TextGen::new(seed);
    let base = g.words(200);
    let mut out = vec![render(&base)];
    for _ in 1..n {
        let w = g.edit(&base, 1);
        out.push(render(&w));
    }
    for t in &out[1..] {
        let j = jaccard5(&out[0], t);
        assert!(j >= 0.85, "generator: J = {j}");
    }
    out
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn ids(c: &[&str]) -> Vec<String> {
    c.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn jsonl_ids_string_numeric_and_positional() {
    let f = family(1, 6);
    let other = TextGen::new(99).text(200);
    let t = TempCorpus::new();
    t.file(
        "d/data.jsonl",
        [
            jsonl_line(&[("id", json!("a1")), ("text", json!(f[0]))]),
            jsonl_line(&[("text", json!(f[1])), ("id", json!(42))]),
            jsonl_line(&[("text", json!(f[0]))]),
            jsonl_line(&[("id", json!("x")), ("text", json!(other))]),
            jsonl_line(&[("id", json!(1.5)), ("text", json!(f[2]))]),
            jsonl_line(&[("id", json!(null)), ("text", json!(f[3]))]),
            jsonl_line(&[
                ("id", json!(-7)),
                ("text", json!(f[4])),
                ("extra", json!({"a": [1]})),
            ]),
        ]
        .concat(),
    );
    let r = t.scan(&["d"]);
    assert_eq!(summary(&r, "documents"), 7);
    assert_eq!(
        clusters(&r),
        vec![ids(&[
            "a1",
            "42",
            "data.jsonl:3",
            "1.5",
            "data.jsonl:6",
            "-7"
        ])]
    );
    let m = member(&r, "data.jsonl:3").expect("member");
    assert_eq!(
        (m["exact"].as_bool(), m["similarity"].as_f64()),
        (Some(true), Some(1.0))
    );
    assert_eq!(u(m, "bytes"), f[0].len() as u64, "bytes of the text field");
    let expected_bytes =
        f[0].len() * 2 + f[1].len() + other.len() + f[2].len() + f[3].len() + f[4].len();
    assert_eq!(summary(&r, "bytes"), expected_bytes as u64);
}

#[test]
fn jsonl_custom_text_and_id_fields() {
    let f = family(2, 2);
    let g = TextGen::new(3).text(200);
    let x = TextGen::new(4).text(200);
    let y = TextGen::new(5).text(200);
    let t = TempCorpus::new();
    // "body"/"key" pair k1 and k2; "text" pairs lines 1 and 3.
    t.file(
        "d/r.jsonl",
        [
            jsonl_line(&[
                ("key", json!("k1")),
                ("body", json!(f[0])),
                ("text", json!(x)),
            ]),
            jsonl_line(&[
                ("key", json!("k2")),
                ("body", json!(f[1])),
                ("text", json!(y)),
            ]),
            jsonl_line(&[("key", json!("k3")), ("body", json!(g)), ("text", json!(x))]),
        ]
        .concat(),
    );
    let r = t.scan(&["d", "--text-field", "body", "--id-field", "key"]);
    assert_eq!(clusters(&r), vec![ids(&["k1", "k2"])]);
    let r = t.scan(&["d"]);
    assert_eq!(clusters(&r), vec![ids(&["r.jsonl:1", "r.jsonl:3"])]);
    // A text field that no record has: every line is skipped, with its number.
    let r = t.scan(&["d", "--text-field", "content"]);
    assert_eq!(summary(&r, "documents"), 0);
    let lines: Vec<Option<u64>> = skipped(&r).iter().map(|k| k.line).collect();
    assert_eq!(lines, [Some(1), Some(2), Some(3)]);
    assert!(
        skipped(&r)[0].reason.contains("content"),
        "{:?}",
        skipped(&r)
    );
}

#[test]
fn jsonl_with_bom_and_crlf_line_ends() {
    let text = TextGen::new(6).text(100);
    let t = TempCorpus::new();
    let body = format!(
        "\u{feff}{}\r\n{}\r\n\r\n",
        jsonl_line(&[("id", json!("c1")), ("text", json!(text))]).trim_end(),
        jsonl_line(&[("id", json!("c2")), ("text", json!(text))]).trim_end()
    );
    t.file("d/crlf.jsonl", body);
    let r = t.scan(&["d"]);
    assert_eq!(summary(&r, "skipped"), 0, "{:?}", skipped(&r));
    assert_eq!(summary(&r, "bytes"), 2 * text.len() as u64);
    assert_eq!(clusters(&r), vec![ids(&["c1", "c2"])]);
    assert_eq!(
        member(&r, "c2").map(|m| m["exact"].clone()),
        Some(json!(true))
    );
}

/// gzip and zstd, recognised by extension or by content, for text and JSONL; multi-member gzip.
#[test]
fn compressed_inputs_are_read_by_extension_and_by_content() {
    let f = family(7, 8);
    let whole = TextGen::new(8).text(150);
    let (first, second) = whole.split_at(whole.len() / 2);
    let rec = |id: &str, text: &str| jsonl_line(&[("id", json!(id)), ("text", json!(text))]);
    let mut multi = gzip(first.as_bytes());
    multi.extend(gzip(second.as_bytes()));
    let t = TempCorpus::new();
    t.file("d/plain.txt", &f[0])
        .file("d/a.txt.gz", gzip(f[1].as_bytes()))
        .file("d/b.txt.zst", zstd(f[2].as_bytes()))
        .file("d/c.jsonl.gz", gzip(rec("gz1", &f[3]).as_bytes()))
        .file("d/d.ndjson.zst", zstd(rec("zst1", &f[4]).as_bytes()))
        .file("d/nogz", gzip(f[5].as_bytes()))
        .file("d/nozst.dat", zstd(f[6].as_bytes()))
        .file("d/magic.jsonl", gzip(rec("magic1", &f[7]).as_bytes()))
        .file("d/whole.txt", &whole)
        .file("d/multi.txt.gz", multi);
    let r = t.scan(&["d"]);
    assert_eq!(summary(&r, "skipped"), 0, "{:?}", skipped(&r));
    assert_eq!(summary(&r, "documents"), 10);
    let total: usize = f.iter().map(String::len).sum::<usize>() + 2 * whole.len();
    assert_eq!(
        summary(&r, "bytes"),
        total as u64,
        "decompressed text bytes"
    );
    let cl = clusters(&r);
    assert_eq!(cl.len(), 2, "{cl:?}");
    assert_eq!(
        sorted(cl[0].clone()),
        sorted(ids(&[
            "plain.txt",
            "a.txt.gz",
            "b.txt.zst",
            "gz1",
            "zst1",
            "nogz",
            "nozst.dat",
            "magic1"
        ]))
    );
    let m = member(&r, "nozst.dat").expect("member");
    assert_eq!(u(m, "bytes"), f[6].len() as u64);
    assert_eq!(cl[1], ids(&["multi.txt.gz", "whole.txt"]));
    assert_eq!(
        member(&r, "whole.txt").map(|m| m["exact"].clone()),
        Some(json!(true))
    );
}

#[test]
fn stdin_jsonl_is_read_with_ids() {
    let f = family(9, 3);
    let t = TempCorpus::new();
    let input = [
        jsonl_line(&[("id", json!("s1")), ("text", json!(f[0]))]),
        jsonl_line(&[("id", json!("s2")), ("text", json!(f[1]))]),
        jsonl_line(&[("text", json!(f[2]))]),
    ]
    .concat();
    let r = scan_json_stdin(t.path(), &["-"], input.as_bytes());
    assert_eq!(summary(&r, "documents"), 3);
    assert_eq!(clusters(&r), vec![ids(&["s1", "s2", "<stdin>:3"])]);
    // Compressed on standard input too.
    let r = scan_json_stdin(t.path(), &["-"], &zstd(input.as_bytes()));
    assert_eq!(clusters(&r), vec![ids(&["s1", "s2", "<stdin>:3"])]);
}

#[test]
fn stdin_plain_text_is_one_document_named_stdin() {
    let f = family(10, 2);
    let t = TempCorpus::new();
    t.file("d/x.txt", &f[1]);
    let r = scan_json_stdin(t.path(), &["-", "d"], f[0].as_bytes());
    assert_eq!(summary(&r, "documents"), 2);
    assert_eq!(clusters(&r), vec![ids(&["<stdin>", "d/x.txt"])]);
    assert_eq!(u(&arr(&r, "clusters")[0], "kept_bytes"), f[0].len() as u64);
    let r = scan_json_stdin(t.path(), &["-", "d"], &gzip(f[0].as_bytes()));
    assert_eq!(clusters(&r), vec![ids(&["<stdin>", "d/x.txt"])]);
    // Standard input can only be read once.
    let r = scan_json_stdin(t.path(), &["-", "-"], f[0].as_bytes());
    assert_eq!(summary(&r, "documents"), 1);
    assert_eq!(skips_of(&r, "<stdin>").len(), 1, "{:?}", skipped(&r));
    // Empty standard input is an empty input, reported as such.
    let r = scan_json_stdin(t.path(), &["-"], b"");
    assert_eq!(summary(&r, "documents"), 0);
    assert_eq!(skipped(&r).len(), 1);
    assert_eq!(skipped(&r)[0].path, "<stdin>");
}

/// One directory argument: ids relative to it. Several arguments: each id starts with its
/// argument as given. A file argument: named as given.
#[test]
fn document_ids_follow_the_arguments() {
    let f = family(11, 3);
    let t = TempCorpus::new();
    t.file("a/sub/x.txt", &f[0])
        .file("b/y.txt", &f[1])
        .file("c.txt", &f[2]);
    let r = t.scan(&["a"]);
    assert_eq!(summary(&r, "documents"), 1);
    let r = t.scan(&["a", "b/", "c.txt"]);
    assert_eq!(
        clusters(&r),
        vec![ids(&["a/sub/x.txt", "b/y.txt", "c.txt"])]
    );
    let r = t.scan(&["c.txt", "a"]);
    assert_eq!(clusters(&r), vec![ids(&["c.txt", "a/sub/x.txt"])]);
    let r = t.scan(&["."]);
    assert_eq!(
        clusters(&r),
        vec![ids(&["a/sub/x.txt", "b/y.txt", "c.txt"])]
    );
}

#[test]
fn output_file_is_written_atomically() {
    let f = family(12, 2);
    let t = TempCorpus::new();
    t.file("d/a.txt", &f[0]).file("d/b.txt", &f[1]).dir("out");
    let stdout = t.run(&["scan", "--format", "json", "d"]).success().stdout;
    // Replaces an existing file.
    t.file("out/report.json", "old contents");
    let run = t
        .run(&["scan", "--format", "json", "-o", "out/report.json", "d"])
        .success();
    assert!(run.stdout.is_empty(), "the report goes to the file only");
    assert!(
        run.stderr
            .contains("dupsift: 2 documents, 1 clusters, 1 duplicates, 0 skipped"),
        "{}",
        run.stderr
    );
    let written = std::fs::read(t.join("out/report.json")).expect("report written");
    assert_eq!(
        String::from_utf8_lossy(&written),
        String::from_utf8_lossy(&stdout)
    );
    assert!(written.ends_with(b"}\n"));
    parse_report(&written);
    let text = t
        .run(&["scan", "-q", "--output", "out/report.txt", "d"])
        .success();
    assert!(text.stdout.is_empty() && text.stderr.is_empty(), "{text:?}");
    let report = std::fs::read_to_string(t.join("out/report.txt")).expect("text report");
    assert!(report.contains("Cluster 0: 2 documents"), "{report}");
    let mut names: Vec<String> = std::fs::read_dir(t.join("out"))
        .expect("read out/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["report.json", "report.txt"],
        "no temporary files left"
    );
    // A directory that does not exist: an error, and nothing written.
    let run = t.run(&["scan", "-o", "missing/report.json", "d"]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("missing"), "{}", run.stderr);
    assert!(!t.join("missing").exists());
}

#[test]
fn hidden_files_are_skipped_unless_hidden() {
    let f = family(13, 3);
    let t = TempCorpus::new();
    t.file("d/visible.txt", &f[0])
        .file("d/.hidden.txt", &f[1])
        .file("d/.hdir/x.txt", &f[2]);
    let r = t.scan(&["d"]);
    assert_eq!((summary(&r, "documents"), summary(&r, "clusters")), (1, 0));
    assert_eq!(
        summary(&r, "skipped"),
        0,
        "hidden files are not 'skipped' inputs"
    );
    let r = t.scan(&["--hidden", "d"]);
    assert_eq!(
        clusters(&r),
        vec![ids(&[".hdir/x.txt", ".hidden.txt", "visible.txt"])]
    );
    // Named explicitly, a hidden file is read.
    let r = t.scan(&["d/.hidden.txt", "d/visible.txt"]);
    assert_eq!(clusters(&r), vec![ids(&["d/.hidden.txt", "d/visible.txt"])]);
}

#[test]
fn gitignore_is_ignored_by_default_and_honoured_with_gitignore() {
    let f = family(14, 3);
    let other = TextGen::new(15).text(100);
    let t = TempCorpus::new();
    t.file("d/.gitignore", "*.log\nbuild/\n")
        .file("d/a.txt", &f[0])
        .file("d/b.log", &f[1])
        .file("d/build/c.txt", &f[2])
        .file("d/keep.txt", &other);
    let r = t.scan(&["d"]);
    assert_eq!(summary(&r, "documents"), 4);
    assert_eq!(clusters(&r), vec![ids(&["a.txt", "b.log", "build/c.txt"])]);
    let r = t.scan(&["--gitignore", "d"]);
    assert_eq!(summary(&r, "documents"), 2);
    assert_eq!(summary(&r, "clusters"), 0);
    let r = t.scan(&["--gitignore", "--hidden", "d"]);
    assert_eq!(
        summary(&r, "documents"),
        3,
        ".gitignore itself is a hidden text file"
    );
}

#[cfg(unix)]
#[test]
fn symlink_loop_with_follow_terminates_and_is_reported() {
    use std::os::unix::fs::symlink;
    let f = family(16, 3);
    let t = TempCorpus::new();
    t.file("d/a.txt", &f[0])
        .file("d/sub/b.txt", &f[1])
        .file("outside.txt", &f[0]);
    symlink(t.join("d"), t.join("d/sub/loop")).expect("symlink");
    symlink(t.join("outside.txt"), t.join("d/link.txt")).expect("symlink");

    let run_follow = |args: &[&str]| {
        let mut cmd = dupsift();
        cmd.current_dir(t.path())
            .args(json_args(args))
            .timeout(Duration::from_secs(60));
        let out = cmd.output().expect("run dupsift");
        assert_eq!(
            out.status.code(),
            Some(0),
            "did not finish cleanly: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        parse_report(&out.stdout)
    };
    let r = run_follow(&["-L", "d"]);
    assert_eq!(summary(&r, "documents"), 3, "{:?}", skipped(&r));
    let loops: Vec<Skip> = skipped(&r)
        .into_iter()
        .filter(|k| k.reason.starts_with("symlink loop"))
        .collect();
    assert_eq!(loops.len(), 1, "{:?}", skipped(&r));
    assert_eq!(loops[0].path, "sub/loop");
    assert_eq!(clusters(&r), vec![ids(&["a.txt", "link.txt", "sub/b.txt"])]);
    assert_eq!(
        member(&r, "link.txt").map(|m| m["exact"].clone()),
        Some(json!(true))
    );

    // Without -L, symbolic links are not followed (nor reported).
    let r = run_follow(&["d"]);
    assert_eq!(summary(&r, "documents"), 2);
    assert_eq!(summary(&r, "skipped"), 0, "{:?}", skipped(&r));
}

/// Random text of `n` characters drawn from `chars`, with CJK punctuation every so often.
fn cjk_text(rng: &mut Rng, chars: &[char], n: usize) -> Vec<char> {
    (0..n)
        .map(|i| match i % 23 {
            11 => '，',
            22 => '。',
            _ => *rng.pick(chars),
        })
        .collect()
}

fn change_chars(rng: &mut Rng, text: &[char], chars: &[char], k: usize) -> String {
    let mut out = text.to_vec();
    let mut changed = 0;
    while changed < k {
        let p = rng.below(out.len());
        if out[p] == '，' || out[p] == '。' || out[p] != text[p] {
            continue;
        }
        let c = *rng.pick(chars);
        if c != out[p] {
            out[p] = c;
            changed += 1;
        }
    }
    out.into_iter().collect()
}

/// Chinese and Japanese text has no spaces: each ideograph (and kana) is a word, so one or two
/// changed characters in ~200 leave a near-duplicate, while unrelated texts share nothing.
#[test]
fn cjk_near_duplicates_are_found_without_spaces() {
    let mut rng = Rng::new(17);
    let hanzi: Vec<char> = (0x4e00u32..0x4e00 + 1500)
        .filter_map(char::from_u32)
        .collect();
    let kana_kanji: Vec<char> = (0x3041u32..=0x3093)
        .chain(0x6c00..0x6c00 + 300)
        .filter_map(char::from_u32)
        .collect();
    let zh = cjk_text(&mut rng, &hanzi, 200);
    let zh_other = cjk_text(&mut rng, &hanzi, 200);
    let ja = cjk_text(&mut rng, &kana_kanji, 200);
    let ja_other = cjk_text(&mut rng, &kana_kanji, 200);
    let docs: Vec<(&str, String)> = vec![
        ("zh.txt", zh.iter().collect()),
        ("zh-1.txt", change_chars(&mut rng, &zh, &hanzi, 1)),
        ("zh-2.txt", change_chars(&mut rng, &zh, &hanzi, 2)),
        ("zh-other.txt", zh_other.iter().collect()),
        ("ja.txt", ja.iter().collect()),
        ("ja-2.txt", change_chars(&mut rng, &ja, &kana_kanji, 2)),
        ("ja-other.txt", ja_other.iter().collect()),
    ];
    let t = TempCorpus::new();
    for (name, text) in &docs {
        t.file(&format!("d/{name}"), text);
    }
    let text = |name: &str| &docs.iter().find(|d| d.0 == name).expect("doc").1;
    assert!(jaccard5(text("ja.txt"), text("ja-2.txt")) >= 0.85);
    assert!(jaccard5(text("zh.txt"), text("zh-other.txt")) < 0.05);
    let r = t.scan(&["d"]);
    assert_eq!(summary(&r, "documents"), 7);
    let cl: Vec<Vec<String>> = clusters(&r).into_iter().map(sorted).collect();
    assert_eq!(cl.len(), 2, "{cl:?}");
    assert!(
        cl.contains(&ids(&["zh-1.txt", "zh-2.txt", "zh.txt"])),
        "{cl:?}"
    );
    assert!(cl.contains(&ids(&["ja-2.txt", "ja.txt"])), "{cl:?}");
    // Similarities are the exact per-character 5-gram Jaccard.
    for c in arr(&r, "clusters") {
        let kept = text(s(c, "kept"));
        for m in arr(c, "members") {
            let j = jaccard5(kept, text(s(m, "doc")));
            let sim = m["similarity"].as_f64().expect("f64");
            assert!((sim - j).abs() < 2e-4, "{m}: expected {j}");
        }
    }
}

/// With `--unit char`, a text with a typo in every 15th word is a near-duplicate (its word
/// 5-grams mostly differ, its character 5-grams mostly do not).
#[test]
fn unit_char_finds_near_duplicates_that_word_shingles_miss() {
    let mut g = TextGen::new(18);
    let words = g.words(300);
    let mut typos = words.clone();
    for w in typos.iter_mut().step_by(15) {
        let mut cs: Vec<char> = w.chars().collect();
        let p = g.rng.below(cs.len());
        cs[p] = if cs[p] == 'x' { 'q' } else { 'x' };
        *w = cs.into_iter().collect();
    }
    let (a, b) = (render(&words), render(&typos));
    let other = g.text(300);
    let jw = jaccard5(&a, &b);
    let jc = jaccard(&char_shingles(&a, 5), &char_shingles(&b, 5));
    assert!(
        jw < 0.7 && jc >= 0.85,
        "generator: word J {jw}, char J {jc}"
    );
    let t = TempCorpus::new();
    t.file("d/a.txt", &a)
        .file("d/b.txt", &b)
        .file("d/c.txt", &other);
    let r = t.scan(&["d"]);
    assert_eq!(summary(&r, "clusters"), 0, "word 5-grams: J = {jw}");
    let r = t.scan(&["d", "--unit", "char"]);
    assert_eq!(s(&r["params"], "unit"), "char");
    assert_eq!(clusters(&r), vec![ids(&["a.txt", "b.txt"])]);
    let sim = member(&r, "b.txt").expect("member")["similarity"]
        .as_f64()
        .expect("f64");
    assert!((sim - jc).abs() < 2e-4, "reported {sim}, exact char J {jc}");
}

#[test]
fn threshold_and_banding_flags_change_the_result_and_are_reported() {
    let mut g = TextGen::new(19);
    let base = g.words(300);
    let edited = g.edit(&base, 15);
    let (a, b) = (render(&base), render(&edited));
    let j = jaccard5(&a, &b);
    assert!((0.55..0.72).contains(&j), "generator: J = {j}");
    let t = TempCorpus::new();
    t.file("d/a.txt", &a).file("d/b.txt", &b);
    let r = t.scan(&["d"]);
    assert_eq!(summary(&r, "clusters"), 0);
    let r = t.scan(&["d", "--threshold", "0.5"]);
    assert_eq!(clusters(&r), vec![ids(&["a.txt", "b.txt"])]);
    assert_eq!(r["params"]["threshold"].as_f64(), Some(0.5));
    let sim = member(&r, "b.txt").expect("member")["similarity"].as_f64();
    assert!((sim.expect("f64") - j).abs() < 2e-4);

    let r = t.scan(&[
        "d", "--bands", "16", "--rows", "8", "--seed", "7", "--ngram", "3",
    ]);
    let p = &r["params"];
    assert_eq!(
        (u(p, "bands"), u(p, "rows"), u(p, "seed"), u(p, "ngram")),
        (16, 8, 7, 3)
    );
    let r = t.scan(&["d", "--num-perm", "64", "--bands", "32"]);
    let p = &r["params"];
    assert_eq!((u(p, "num_perm"), u(p, "bands"), u(p, "rows")), (64, 32, 2));
}

#[test]
fn invalid_flags_exit_2_with_a_message() {
    let t = TempCorpus::new();
    t.file("d/a.txt", "some text");
    for (args, needle) in [
        (vec!["--bands", "100", "--rows", "100"], "--bands"),
        (vec!["--bands", "0"], "--bands"),
        (vec!["--threshold", "1.5"], "--threshold"),
        (vec!["--threshold", "0"], "--threshold"),
        (vec!["--threshold", "NaN"], "--threshold"),
        (vec!["--num-perm", "100"], "--num-perm"),
        (vec!["--num-perm", "0"], "--num-perm"),
        (vec!["--ngram", "0"], "--ngram"),
        (vec!["--unit", "syllable"], "--unit"),
        (vec!["--verify", "maybe"], "--verify"),
        (vec!["--keep", "middle"], "--keep"),
        (vec!["--format", "xml"], "--format"),
        (vec!["--max-doc-bytes", "12X"], "--max-doc-bytes"),
        (vec!["--frobnicate"], "--frobnicate"),
    ] {
        let mut all = vec!["scan"];
        all.extend(&args);
        all.push("d");
        let run = t.run(&all).usage_error();
        assert!(
            run.stderr.contains(needle),
            "{args:?}: stderr does not mention {needle}: {}",
            run.stderr
        );
    }
    t.run(&[]).usage_error();
    t.run(&["rescan"]).usage_error();
    let v = t.run(&["--version"]).success().stdout_str();
    assert!(v.contains(env!("CARGO_PKG_VERSION")), "{v}");
    let help = t.run(&["scan", "--help"]).success().stdout_str();
    assert!(
        help.contains("--threshold") && help.contains("--keep"),
        "{help}"
    );
}

#[test]
fn keep_policy_chooses_the_kept_document() {
    let mut g = TextGen::new(20);
    let base = g.words(300);
    let mut longer = base.clone();
    longer.extend(g.words(20));
    let shorter = base[..280].to_vec();
    let docs = [
        ("a.txt", render(&base)),
        ("b.txt", render(&longer)),
        ("c.txt", render(&shorter)),
    ];
    let t = TempCorpus::new();
    for (n, text) in &docs {
        t.file(&format!("d/{n}"), text);
    }
    // Ties go to the first document in input order.
    t.file("e/x1.txt", &docs[0].1).file("e/x2.txt", &docs[0].1);
    for (policy, kept) in [
        ("first", "a.txt"),
        ("longest", "b.txt"),
        ("shortest", "c.txt"),
    ] {
        let r = t.scan(&["d", "--keep", policy]);
        assert_eq!(s(&r["params"], "keep"), policy);
        let cl = arr(&r, "clusters");
        assert_eq!(cl.len(), 1, "{cl:?}");
        assert_eq!(s(&cl[0], "kept"), kept, "--keep {policy}");
        let text = |n: &str| &docs.iter().find(|d| d.0 == n).expect("doc").1;
        assert_eq!(u(&cl[0], "kept_bytes"), text(kept).len() as u64);
        let members: Vec<&str> = arr(&cl[0], "members").iter().map(|m| s(m, "doc")).collect();
        let expected: Vec<&str> = ["a.txt", "b.txt", "c.txt"]
            .into_iter()
            .filter(|&n| n != kept)
            .collect();
        assert_eq!(members, expected, "members in input order");
        for m in arr(&cl[0], "members") {
            let j = jaccard5(text(kept), text(s(m, "doc")));
            let sim = m["similarity"].as_f64().expect("f64");
            assert!((sim - j).abs() < 2e-4, "--keep {policy}: {m}: expected {j}");
        }
        let r = t.scan(&["e", "--keep", policy]);
        assert_eq!(
            s(&arr(&r, "clusters")[0], "kept"),
            "x1.txt",
            "--keep {policy} tie"
        );
    }
    let text = t
        .run(&["scan", "--keep", "longest", "d"])
        .success()
        .stdout_str();
    assert!(
        text.contains("A cleanup keeping the longest of each cluster"),
        "{text}"
    );
}

/// An empty corpus is a valid, empty report.
#[test]
fn empty_directory_gives_an_empty_report() {
    let t = TempCorpus::new();
    t.dir("d");
    let r = t.scan(&["d"]);
    assert_eq!(summary(&r, "documents"), 0);
    assert_eq!(summary(&r, "bytes"), 0);
    assert!(arr(&r, "clusters").is_empty() && arr(&r, "skipped").is_empty());
    let text = t.run(&["scan", "d"]).success().stdout_str();
    assert!(text.contains("0 documents read"), "{text}");
}

/// The Spark worker is an opt-in build; the default binary says how to get it.
#[cfg(not(feature = "spark"))]
#[test]
fn worker_without_the_spark_feature_says_how_to_build_it() {
    let run = run_in(crate_root(), &["worker", "sign"]).usage_error();
    assert_eq!(
        run.stderr,
        "dupsift: error: this dupsift was built without Spark support; build it with \
         `cargo build --release --features spark`\n"
    );
}

/// `--format tsv` lists every duplicate once, in the JSON report's order and with its values;
/// ids with tabs or line breaks stay on one line of six fields.
#[test]
fn tsv_lists_each_duplicate_with_its_kept_document() {
    let f = family(5, 4);
    let t = TempCorpus::new();
    let mut jsonl = String::new();
    for (i, text) in f.iter().enumerate() {
        let id = if i == 2 {
            "tab\there\nand line".to_owned()
        } else {
            format!("f{i}")
        };
        jsonl.push_str(&jsonl_line(&[("id", json!(id)), ("text", json!(text))]));
    }
    jsonl.push_str(&jsonl_line(&[("id", json!("copy")), ("text", json!(f[0]))]));
    jsonl.push_str(&jsonl_line(&[
        ("id", json!("other")),
        ("text", json!(TextGen::new(77).text(200))),
    ]));
    t.file("docs.jsonl", &jsonl);
    let report = scan_json_in(t.path(), &["docs.jsonl"]);
    let tsv = run_in(t.path(), &["scan", "docs.jsonl", "--format", "tsv", "-q"]).success();
    let text = tsv.stdout_str();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "cluster\tkept\tdoc\tsimilarity\texact\tbytes\tcomponent"
    );
    let mut want = Vec::new();
    for c in arr(&report, "clusters") {
        for m in arr(c, "members") {
            want.push(format!(
                "{}\t{}\t{}\t{:.4}\t{}\t{}\t{}",
                u(c, "id"),
                s(c, "kept").replace('\t', "\\t").replace('\n', "\\n"),
                s(m, "doc").replace('\t', "\\t").replace('\n', "\\n"),
                m["similarity"].as_f64().unwrap(),
                m["exact"].as_bool().unwrap(),
                u(m, "bytes"),
                u(c, "component")
            ));
        }
    }
    assert_eq!(lines[1..], want);
    assert_eq!(
        lines.len() - 1,
        summary(&report, "duplicate_documents") as usize
    );
    assert!(text.contains("\tf0\tcopy\t1.0000\ttrue\t"), "{text}");
    assert!(text.contains("tab\\there\\nand line"), "{text}");
    assert!(lines.iter().all(|l| l.split('\t').count() == 7));
}

/// `-o` onto something that is not a plain file: a named pipe (as `/dev/null` or
/// `/dev/stdout`) is written through, never replaced by a file renamed over it; a symbolic
/// link keeps pointing at its target, which gets the report.
#[cfg(unix)]
#[test]
fn output_to_a_pipe_or_a_link_keeps_it() {
    use std::os::unix::fs::FileTypeExt;
    let f = family(13, 2);
    let t = TempCorpus::new();
    t.file("d/a.txt", &f[0]).file("d/b.txt", &f[1]).dir("out");
    let expected = t.run(&["scan", "--format", "json", "d"]).success().stdout;

    let fifo = t.join("out/pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).expect("read the pipe"))
    };
    t.run(&["scan", "--format", "json", "-q", "-o", "out/pipe", "d"])
        .success();
    // Checked before waiting for the reader, which a replaced pipe would leave blocked.
    let kind = std::fs::symlink_metadata(&fifo).expect("pipe").file_type();
    assert!(kind.is_fifo(), "the pipe was replaced: {kind:?}");
    assert_eq!(reader.join().expect("reader"), expected);

    t.file("out/real.json", "old");
    std::os::unix::fs::symlink("real.json", t.join("out/link.json")).expect("symlink");
    t.run(&["scan", "--format", "json", "-q", "-o", "out/link.json", "d"])
        .success();
    let link = std::fs::symlink_metadata(t.join("out/link.json")).expect("link");
    assert!(link.file_type().is_symlink(), "the link was replaced");
    assert_eq!(std::fs::read(t.join("out/real.json")).unwrap(), expected);
    // A dangling link: its target is created.
    std::os::unix::fs::symlink("new.json", t.join("out/dangling.json")).expect("symlink");
    t.run(&[
        "scan",
        "--format",
        "json",
        "-q",
        "-o",
        "out/dangling.json",
        "d",
    ])
    .success();
    assert!(
        std::fs::symlink_metadata(t.join("out/dangling.json"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read(t.join("out/new.json")).unwrap(), expected);
}
