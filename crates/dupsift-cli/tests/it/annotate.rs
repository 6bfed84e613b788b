//! `dupsift clean --annotate` and `--annotate-only` (issue 15): JSONL records written with their
//! cluster's id and size (and, annotating only, the document they duplicate) inserted before
//! the closing `}`, every other byte of the line as it was; plain text inputs, the two flags
//! together, cutting while annotating only and records that already have such a field refused
//! with exit code 2, nothing written.
//!
//! Expected lines are built from the input bytes: the original line with the fields spliced in
//! before its last `}`.

use std::io::Read;
use std::path::Path;

use serde_json::{Value, json};

use crate::util::*;

/// `dupsift clean --quiet ARGS` in `dir`.
fn clean(dir: &Path, args: &[&str]) -> Run {
    let mut all = vec!["clean", "--quiet"];
    all.extend_from_slice(args);
    run_in(dir, &all)
}

/// `line` with `fields` inserted before its last `}`.
fn with_fields(line: &[u8], fields: &str) -> Vec<u8> {
    let close = line
        .iter()
        .rposition(|&b| b == b'}')
        .expect("a closing brace");
    [&line[..close], fields.as_bytes(), &line[close..]].concat()
}

/// The fields of `--annotate`.
fn kept_fields(cluster: Option<u64>, size: u64) -> String {
    let cluster = cluster.map_or("null".to_owned(), |c| c.to_string());
    format!(",\"dupsift_cluster\":{cluster},\"dupsift_cluster_size\":{size}")
}

/// The fields of `--annotate-only`.
fn only_fields(cluster: Option<u64>, size: u64, duplicate_of: Option<&str>) -> String {
    let of = duplicate_of.map_or("null".to_owned(), |d| json!(d).to_string());
    format!(
        "{},\"dupsift_duplicate_of\":{of}",
        kept_fields(cluster, size)
    )
}

/// `OUT/report.json`, parsed and checked like every report.
#[track_caller]
fn out_report(out: &Path) -> Value {
    parse_report(&std::fs::read(out.join("report.json")).expect("read report.json"))
}

/// The cluster id of `doc` in a report.
#[track_caller]
fn cluster_id(r: &Value, doc: &str) -> u64 {
    u(
        cluster_with(r, doc).unwrap_or_else(|| panic!("{doc} is in no cluster")),
        "id",
    )
}

/// Asserts the accounting of a cleanup: every record read is kept, removed or skipped.
#[track_caller]
fn check_accounting(r: &Value, kept: u64, removed: u64, skipped: u64) {
    let t = &r["clean"]["totals"];
    assert_eq!(
        (u(t, "kept"), u(t, "removed"), u(t, "skipped")),
        (kept, removed, skipped),
        "{t}"
    );
    assert_eq!(u(t, "documents_in"), kept + removed, "{t}");
    assert_eq!(u(t, "documents_in"), summary(r, "documents"));
    assert_eq!(
        kept + removed + skipped,
        summary(r, "documents") + summary(r, "skipped")
    );
}

/// Asserts that `got` is `want`, byte for byte, showing both as text when not.
#[track_caller]
fn same(got: &[u8], want: &[u8]) {
    assert!(
        got == want,
        "got:\n{}\nwanted:\n{}",
        String::from_utf8_lossy(got).escape_debug(),
        String::from_utf8_lossy(want).escape_debug()
    );
}

#[track_caller]
fn read(path: impl AsRef<Path>) -> Vec<u8> {
    std::fs::read(path.as_ref()).unwrap_or_else(|e| panic!("{}: {e}", path.as_ref().display()))
}

/// A cluster of three (`a`, its exact copy `a-copy`, its near copy `a-near`) and a lone `b`,
/// the ids prefixed with `p`.
struct Feed {
    lines: [String; 4],
}

fn feed(seed: u64) -> Feed {
    prefixed_feed("", seed)
}

fn prefixed_feed(p: &str, seed: u64) -> Feed {
    let mut g = TextGen::new(seed);
    let a_w = g.words(300);
    let a = render(&a_w);
    let near = render(&g.edit(&a_w, 2));
    let b = g.text(250);
    Feed {
        lines: [
            jsonl_line(&[("id", json!(format!("{p}a"))), ("text", json!(a))]),
            jsonl_line(&[("id", json!(format!("{p}b"))), ("text", json!(b))]),
            jsonl_line(&[("id", json!(format!("{p}a-copy"))), ("text", json!(a))]),
            jsonl_line(&[("id", json!(format!("{p}a-near"))), ("text", json!(near))]),
        ],
    }
}

impl Feed {
    fn input(&self) -> String {
        self.lines.concat()
    }

    fn line(&self, i: usize) -> &[u8] {
        self.lines[i].as_bytes()
    }
}

#[test]
fn annotate_adds_cluster_and_size_to_the_kept_records_and_removes_the_duplicates() {
    let f = feed(701);
    let t = TempCorpus::new();
    t.file("in/feed.jsonl", f.input());
    let run = clean(t.path(), &["in", "-o", "out", "--annotate"]).success();
    assert!(
        run.stdout_str().contains(
            "annotate: every record kept gets dupsift_cluster and dupsift_cluster_size\n"
        ),
        "{}",
        run.stdout_str()
    );
    let out = t.join("out");
    let r = out_report(&out);
    assert_eq!(clusters(&r), [["a", "a-copy", "a-near"]]);
    let a = cluster_id(&r, "a");
    same(
        &read(out.join("feed.jsonl")),
        &[
            with_fields(f.line(0), &kept_fields(Some(a), 3)),
            with_fields(f.line(1), &kept_fields(None, 1)),
        ]
        .concat(),
    );
    assert_eq!(r["clean"]["annotate"], "kept");
    assert_eq!(r["clean"]["strip_passages"], "self");
    check_accounting(&r, 2, 2, 0);
    // The manifest lists the removals as without --annotate.
    let manifest = String::from_utf8(read(out.join("manifest.jsonl"))).unwrap();
    let ids: Vec<Value> = manifest
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["id"].clone())
        .collect();
    assert_eq!(ids, [json!("a-copy"), json!("a-near")]);
    // Every record written is JSON with the fields as documented.
    for line in read(out.join("feed.jsonl")).split(|&b| b == b'\n') {
        if line.is_empty() {
            continue;
        }
        let v: Value = serde_json::from_slice(line).unwrap();
        let size = u(&v, "dupsift_cluster_size");
        assert!(v["dupsift_cluster"].is_null() == (size == 1), "{v}");
        assert!(v.get("dupsift_duplicate_of").is_none(), "{v}");
    }
}

#[test]
fn annotate_only_writes_every_record_with_the_document_it_duplicates() {
    let f = feed(702);
    let t = TempCorpus::new();
    t.file("in/feed.jsonl", f.input());
    clean(t.path(), &["in", "-o", "out", "--annotate-only"]).success();
    let out = t.join("out");
    let r = out_report(&out);
    let a = cluster_id(&r, "a");
    same(
        &read(out.join("feed.jsonl")),
        &[
            with_fields(f.line(0), &only_fields(Some(a), 3, None)),
            with_fields(f.line(1), &only_fields(None, 1, None)),
            with_fields(f.line(2), &only_fields(Some(a), 3, Some("a"))),
            with_fields(f.line(3), &only_fields(Some(a), 3, Some("a"))),
        ]
        .concat(),
    );
    // Nothing removed or cut: the manifest is empty, the report says why.
    assert_eq!(read(out.join("manifest.jsonl")), b"");
    assert_eq!(r["clean"]["annotate"], "only");
    assert_eq!(r["clean"]["strip_passages"], "none");
    assert_eq!(u(&r["clean"]["totals"], "bytes_cut"), 0);
    assert_eq!(
        u(&r["clean"]["totals"], "bytes_out"),
        u(&r["clean"]["totals"], "bytes_in")
    );
    check_accounting(&r, 4, 0, 0);
    // The scan's findings are those of a plain clean.
    assert_eq!(summary(&r, "duplicate_documents"), 2);
}

/// Records that exercise every way a line can differ from what serde_json writes: a byte order
/// mark, `\r\n`, invalid UTF-8 in another field, `\u` escapes, spaces before `}` and after it,
/// nested objects, and a last line without a newline; between them a blank line, a malformed
/// one and an empty object (skipped: no text field), which are copied as they are.
fn odd_lines(seed: u64) -> Vec<Vec<u8>> {
    let mut g = TextGen::new(seed);
    let a_w = g.words(300);
    let a = render(&a_w);
    let near = render(&g.edit(&a_w, 2));
    let lone = g.text(250);
    let text = |t: &str| json!(t).to_string();
    // The same text with every `a` written as an escape.
    let escaped = text(&a).replace('a', "\\u0061");
    vec![
        format!(
            "\u{feff}{{\"id\": \"k\", \"text\": {}, \"meta\": {{\"src\": \"x\", \"tags\": [\"t\", {{\"n\": null}}]}}}}\r\n",
            text(&a)
        )
        .into_bytes(),
        [
            b"{\"id\": \"e\", \"note\": \"bad \xff\xfe byte\", \"text\": ".as_slice(),
            text(&a).as_bytes(),
            b"   }\n",
        ]
        .concat(),
        format!("{{\"id\":\"u\",\"text\":{escaped},\"x\":\"caf\\u00e9 \\ud83d\\ude00\"}}\n")
            .into_bytes(),
        b"\n".to_vec(),
        b"{\"id\": \"m\", \"text\": \"unterminated\n".to_vec(),
        b"{}\n".to_vec(),
        format!(
            "{{ \"id\" : \"lone\" , \"text\" : {} , \"deep\": {{\"a\": {{\"b\": {{}}}}}} }}\t \r\n",
            text(&lone)
        )
        .into_bytes(),
        format!("{{\"id\": \"n\", \"text\": {}}}", text(&near)).into_bytes(),
    ]
}

#[test]
fn annotated_lines_are_the_original_bytes_plus_the_fields() {
    let lines = odd_lines(703);
    let t = TempCorpus::new();
    t.file("in/odd.jsonl", lines.concat());
    let (blank, malformed, empty) = (&lines[3], &lines[4], &lines[5]);

    clean(t.path(), &["in", "-o", "only", "--annotate-only"]).success();
    let r = out_report(&t.join("only"));
    assert_eq!(clusters(&r), [["k", "e", "u", "n"]]);
    let k = cluster_id(&r, "k");
    let dup = only_fields(Some(k), 4, Some("k"));
    same(
        &read(t.join("only/odd.jsonl")),
        &[
            with_fields(&lines[0], &only_fields(Some(k), 4, None)),
            with_fields(&lines[1], &dup),
            with_fields(&lines[2], &dup),
            blank.clone(),
            malformed.clone(),
            empty.clone(),
            with_fields(&lines[6], &only_fields(None, 1, None)),
            with_fields(&lines[7], &dup),
        ]
        .concat(),
    );
    // The malformed line and the empty object are skipped, and copied.
    check_accounting(&r, 5, 0, 2);

    clean(t.path(), &["in", "-o", "kept", "--annotate"]).success();
    let r = out_report(&t.join("kept"));
    same(
        &read(t.join("kept/odd.jsonl")),
        &[
            with_fields(&lines[0], &kept_fields(Some(k), 4)),
            blank.clone(),
            malformed.clone(),
            empty.clone(),
            with_fields(&lines[6], &kept_fields(None, 1)),
        ]
        .concat(),
    );
    check_accounting(&r, 2, 3, 2);
}

#[test]
fn annotate_inserts_the_fields_after_the_cut_of_a_doubled_body() {
    let mut g = TextGen::new(704);
    let body = g.text(120);
    let doubled = format!("{body}\n{body}");
    let line = jsonl_line(&[("id", json!("d")), ("text", json!(doubled))]);
    let other = jsonl_line(&[("id", json!("o")), ("text", json!(g.text(200)))]);
    let t = TempCorpus::new();
    t.file("in/f.jsonl", [line.as_str(), other.as_str()].concat());
    clean(t.path(), &["in", "-o", "out", "--annotate"]).success();
    // The second body goes (as the manifest says), then the fields are added.
    let manifest: Value =
        serde_json::from_slice(&read(t.join("out/manifest.jsonl"))).expect("one cut");
    let (start, end) = (u(&manifest, "start") as usize, u(&manifest, "end") as usize);
    assert_eq!(start, body.len() + 1);
    let left = [&doubled[..start], &doubled[end..]].concat();
    let cut = jsonl_line(&[("id", json!("d")), ("text", json!(left))]);
    same(
        &read(t.join("out/f.jsonl")),
        &[
            with_fields(cut.as_bytes(), &kept_fields(None, 1)),
            with_fields(other.as_bytes(), &kept_fields(None, 1)),
        ]
        .concat(),
    );
    let r = out_report(&t.join("out"));
    assert_eq!(u(&r["clean"]["totals"], "cut_documents"), 1);
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    assert_eq!(bytes[..2], [0x1f, 0x8b], "not a gzip stream");
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("gunzip");
    out
}

fn unzstd(bytes: &[u8]) -> Vec<u8> {
    assert_eq!(bytes[..4], [0x28, 0xb5, 0x2f, 0xfd], "not a zstd stream");
    zstd::decode_all(bytes).expect("unzstd")
}

#[test]
fn compressed_jsonl_is_annotated_and_written_in_its_input_codec() {
    let (gz, zst) = (prefixed_feed("g", 705), prefixed_feed("z", 706));
    let t = TempCorpus::new();
    t.file("in/g.jsonl.gz", gzip(gz.input().as_bytes()))
        .file("in/z.jsonl.zst", zstd(zst.input().as_bytes()));
    clean(t.path(), &["in", "-o", "out", "--annotate-only"]).success();
    let r = out_report(&t.join("out"));
    for (f, name, p, decode) in [
        (&gz, "g.jsonl.gz", "g", gunzip as fn(&[u8]) -> Vec<u8>),
        (&zst, "z.jsonl.zst", "z", unzstd),
    ] {
        let kept = format!("{p}a");
        let cluster = cluster_id(&r, &kept);
        let expected = [
            with_fields(f.line(0), &only_fields(Some(cluster), 3, None)),
            with_fields(f.line(1), &only_fields(None, 1, None)),
            with_fields(f.line(2), &only_fields(Some(cluster), 3, Some(&kept))),
            with_fields(f.line(3), &only_fields(Some(cluster), 3, Some(&kept))),
        ]
        .concat();
        assert!(
            decode(&read(t.join("out").join(name))) == expected,
            "{name}"
        );
    }
    check_accounting(&r, 8, 0, 0);

    // --compress still applies.
    clean(
        t.path(),
        &["in", "-o", "plain", "--annotate", "--compress", "none"],
    )
    .success();
    let plain = read(t.join("plain/g.jsonl"));
    assert_eq!(
        plain,
        [
            with_fields(gz.line(0), &kept_fields(Some(cluster_id(&r, "ga")), 3)),
            with_fields(gz.line(1), &kept_fields(None, 1)),
        ]
        .concat()
    );
}

#[test]
fn standard_input_is_annotated_when_it_holds_json_lines_and_refused_when_text() {
    let f = feed(707);
    let t = TempCorpus::new();
    run_with_stdin(
        t.path(),
        &["clean", "-q", "-", "-o", "out", "--annotate"],
        Some(f.input().as_bytes()),
    )
    .success();
    same(
        &read(t.join("out/stdin.jsonl")),
        &[
            with_fields(f.line(0), &kept_fields(Some(0), 3)),
            with_fields(f.line(1), &kept_fields(None, 1)),
        ]
        .concat(),
    );
    let run = run_with_stdin(
        t.path(),
        &["clean", "-q", "-", "-o", "text-out", "--annotate-only"],
        Some(TextGen::new(708).text(100).as_bytes()),
    )
    .usage_error();
    assert!(
        run.stderr
            .contains("<stdin>: --annotate-only adds fields to JSONL records"),
        "{}",
        run.stderr
    );
    assert!(!t.join("text-out").exists());
}

/// Runs a cleanup that must be refused: exit 2, `message` on stderr, nothing changed in the
/// directory.
#[track_caller]
fn refused(t: &TempCorpus, args: &[&str], message: &str) {
    let before = snapshot(t.path());
    let run = clean(t.path(), args).usage_error();
    assert!(
        run.stderr.contains(message),
        "expected {message:?} in:\n{}",
        run.stderr
    );
    assert_eq!(
        snapshot(t.path()),
        before,
        "a refused run changed something"
    );
}

#[test]
fn plain_text_inputs_have_no_records_to_annotate() {
    let mut g = TextGen::new(709);
    let t = TempCorpus::new();
    let text = g.text(200);
    t.file("texts/a.txt", &text)
        .file("texts/b.txt", &text)
        .file("notes.md", g.text(100))
        .file("mixed/feed.jsonl", feed(710).input())
        .file("mixed/readme.txt", g.text(100));
    let plain = "adds fields to JSONL records, and this input is read as plain text";
    // A text tree: seen once walked, before anything is written.
    refused(
        &t,
        &["texts", "-o", "out", "--annotate"],
        &format!("a.txt: --annotate {plain}"),
    );
    refused(
        &t,
        &["texts", "--dry-run", "--annotate-only"],
        &format!("a.txt: --annotate-only {plain}"),
    );
    // A named text file: before the scan.
    refused(
        &t,
        &["mixed/feed.jsonl", "notes.md", "-o", "out", "--annotate"],
        &format!("notes.md: --annotate {plain}"),
    );
    // One text file among JSONL.
    refused(
        &t,
        &["mixed", "-o", "out", "--annotate-only"],
        &format!("readme.txt: --annotate-only {plain}"),
    );
    // Without annotation the same inputs clean.
    clean(t.path(), &["mixed", "-o", "out"]).success();
}

#[test]
fn contradictory_flags_are_refused() {
    let t = TempCorpus::new();
    t.file("in/feed.jsonl", feed(711).input());
    refused(
        &t,
        &["in", "-o", "out", "--annotate", "--annotate-only"],
        "cannot be used with",
    );
    for strip in ["self", "all"] {
        refused(
            &t,
            &[
                "in",
                "-o",
                "out",
                "--annotate-only",
                "--strip-passages",
                strip,
            ],
            "--annotate-only removes and cuts nothing: drop --strip-passages",
        );
    }
    // `none` says what --annotate-only does anyway.
    clean(
        t.path(),
        &[
            "in",
            "-o",
            "out",
            "--annotate-only",
            "--strip-passages",
            "none",
        ],
    )
    .success();
    assert_eq!(out_report(&t.join("out"))["clean"]["annotate"], "only");
}

#[test]
fn a_record_that_already_has_an_annotation_field_stops_the_run() {
    let f = feed(712);
    let t = TempCorpus::new();
    let tagged = String::from_utf8(with_fields(f.line(1), ",\"dupsift_cluster_size\": 7")).unwrap();
    let lines = [
        f.lines[0].as_str(),
        tagged.as_str(),
        &f.lines[2],
        &f.lines[3],
    ];
    t.file("in/feed.jsonl", lines.concat());
    let message = "feed.jsonl:2: the record already has a \"dupsift_cluster_size\" field; --annotate neither overwrites nor repeats it";
    refused(&t, &["in", "-o", "out", "--annotate"], message);
    // However the key is spelled, and on a record that --annotate would remove.
    let escaped = String::from_utf8(with_fields(
        f.line(3),
        ",\"dupsift\\u005fduplicate_of\": null",
    ))
    .unwrap();
    let lines = [f.lines[0].as_str(), &f.lines[1], &f.lines[2], &escaped];
    t.file("in/feed.jsonl", lines.concat());
    refused(
        &t,
        &["in", "-o", "out", "--annotate-only"],
        "feed.jsonl:4: the record already has a \"dupsift_duplicate_of\" field; --annotate-only",
    );
    // --annotate adds no dupsift_duplicate_of, so that record is no conflict (it is removed).
    clean(t.path(), &["in", "-o", "out", "--annotate"]).success();
    // An existing OUT is left as it was by a refused --force run.
    let before = snapshot(&t.join("out"));
    t.file("in/feed.jsonl", [f.lines[0].as_str(), &tagged].concat());
    clean(t.path(), &["in", "-o", "out", "--annotate", "--force"]).usage_error();
    assert_eq!(snapshot(&t.join("out")), before);
    let leftovers: Vec<_> = std::fs::read_dir(t.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".dupsift-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn dry_run_with_annotation_prints_the_plan_and_writes_nothing() {
    let t = TempCorpus::new();
    t.file("in/feed.jsonl", feed(713).input());
    let before = snapshot(t.path());
    let run = clean(t.path(), &["in", "--dry-run", "--annotate-only"]).success();
    let stdout = run.stdout_str();
    assert!(
        stdout.starts_with(
            "annotate: every record, nothing removed or cut, would get dupsift_cluster, dupsift_cluster_size and dupsift_duplicate_of\ndocuments: 4 in, 4 kept, 0 would be removed"
        ),
        "{stdout}"
    );
    assert!(stdout.ends_with("dry run: nothing written\n"), "{stdout}");
    let run = clean(t.path(), &["in", "-o", "out", "--dry-run", "--annotate"]).success();
    let stdout = run.stdout_str();
    assert!(stdout.starts_with("remove  a-copy  "), "{stdout}");
    assert!(
        stdout.contains(
            "\nannotate: every record kept would get dupsift_cluster and dupsift_cluster_size\ndocuments: 4 in, 2 kept, 2 would be removed"
        ),
        "{stdout}"
    );
    assert_eq!(snapshot(t.path()), before, "a dry run wrote something");
}
