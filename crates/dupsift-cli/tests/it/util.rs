//! Shared helpers: running the binary, reading its JSON report, temporary corpora, a seeded text
//! generator and a small reference implementation of shingling and Jaccard similarity.
//!
//! Helpers panic with a descriptive message: a failing helper is a failing test.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

/// The repository root, where `corpus/` lives.
pub fn crate_root() -> &'static Path {
    static ROOT: std::sync::LazyLock<PathBuf> = std::sync::LazyLock::new(|| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .canonicalize()
            .expect("the repository root")
    });
    &ROOT
}

/// This crate's directory, where `tests/fixtures/` lives.
pub fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The `dupsift` binary, with a generous timeout so that a hang fails the test instead of CI.
pub fn dupsift() -> Command {
    let mut cmd = Command::cargo_bin("dupsift").expect("the dupsift binary is built");
    cmd.timeout(Duration::from_secs(120));
    cmd
}

/// What one run of the binary produced.
#[derive(Debug)]
pub struct Run {
    /// Exit code; `None` when the process was killed (e.g. by the timeout).
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Run {
    pub fn stdout_str(&self) -> String {
        String::from_utf8(self.stdout.clone()).expect("stdout is UTF-8")
    }

    /// Asserts exit code 0 and returns self.
    #[track_caller]
    pub fn success(self) -> Run {
        assert_eq!(
            self.code,
            Some(0),
            "dupsift failed\nstderr:\n{}\nstdout:\n{}",
            self.stderr,
            String::from_utf8_lossy(&self.stdout)
        );
        self
    }

    /// Asserts exit code 2 (usage or input error) with a message on stderr and nothing on stdout.
    #[track_caller]
    pub fn usage_error(self) -> Run {
        assert_eq!(
            self.code,
            Some(2),
            "expected exit code 2\nstderr:\n{}\nstdout:\n{}",
            self.stderr,
            String::from_utf8_lossy(&self.stdout)
        );
        assert!(!self.stderr.trim().is_empty(), "exit 2 without a message");
        assert!(
            self.stdout.is_empty(),
            "a failed run printed a report:\n{}",
            String::from_utf8_lossy(&self.stdout)
        );
        self
    }
}

/// Runs `dupsift ARGS` in `dir` with `stdin` as standard input (empty when `None`).
pub fn run_with_stdin(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut cmd = dupsift();
    cmd.current_dir(dir).args(args);
    cmd.write_stdin(stdin.unwrap_or_default().to_vec());
    let out = cmd.output().expect("run dupsift");
    Run {
        code: out.status.code(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `dupsift ARGS` in `dir`.
pub fn run_in(dir: &Path, args: &[&str]) -> Run {
    run_with_stdin(dir, args, None)
}

/// `scan --format json --quiet` followed by `args`.
pub fn json_args<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["scan", "--format", "json", "--quiet"];
    all.extend_from_slice(args);
    all
}

/// Parses a JSON report and checks its internal consistency (see [`check_report`]).
#[track_caller]
pub fn parse_report(stdout: &[u8]) -> Value {
    let v: Value = serde_json::from_slice(stdout).unwrap_or_else(|e| {
        panic!(
            "the report is not JSON ({e}):\n{}",
            String::from_utf8_lossy(stdout)
        )
    });
    check_report(&v);
    v
}

/// Runs `dupsift scan --format json --quiet ARGS` in `dir`, asserts success, and returns the
/// checked report.
#[track_caller]
pub fn scan_json_in(dir: &Path, args: &[&str]) -> Value {
    let run = run_in(dir, &json_args(args)).success();
    parse_report(&run.stdout)
}

/// Like [`scan_json_in`], with `stdin` fed to the process.
#[track_caller]
pub fn scan_json_stdin(dir: &Path, args: &[&str], stdin: &[u8]) -> Value {
    let run = run_with_stdin(dir, &json_args(args), Some(stdin)).success();
    parse_report(&run.stdout)
}

/// [`scan_json_in`] from the crate root.
#[track_caller]
pub fn scan_json(args: &[&str]) -> Value {
    scan_json_in(crate_root(), args)
}

// ---------------------------------------------------------------------------------------------
// Reading reports.

#[track_caller]
pub fn u(v: &Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} is not an unsigned integer in {v}"))
}

#[track_caller]
pub fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string in {v}"))
}

#[track_caller]
pub fn arr<'a>(v: &'a Value, key: &str) -> &'a Vec<Value> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} is not an array in {v}"))
}

/// `summary[key]`.
#[track_caller]
pub fn summary(r: &Value, key: &str) -> u64 {
    u(&r["summary"], key)
}

/// Every cluster as its document ids, the kept one first.
pub fn clusters(r: &Value) -> Vec<Vec<String>> {
    arr(r, "clusters")
        .iter()
        .map(|c| {
            std::iter::once(s(c, "kept").to_owned())
                .chain(arr(c, "members").iter().map(|m| s(m, "doc").to_owned()))
                .collect()
        })
        .collect()
}

/// Document id → index of its cluster.
pub fn cluster_index(r: &Value) -> HashMap<String, usize> {
    let mut index = HashMap::new();
    for (i, c) in clusters(r).into_iter().enumerate() {
        for d in c {
            index.insert(d, i);
        }
    }
    index
}

/// True when `a` and `b` are in the same cluster.
pub fn same_cluster(r: &Value, a: &str, b: &str) -> bool {
    let index = cluster_index(r);
    matches!((index.get(a), index.get(b)), (Some(x), Some(y)) if x == y)
}

/// The cluster holding `doc`, if any.
pub fn cluster_with<'a>(r: &'a Value, doc: &str) -> Option<&'a Value> {
    arr(r, "clusters")
        .iter()
        .find(|c| s(c, "kept") == doc || arr(c, "members").iter().any(|m| s(m, "doc") == doc))
}

/// The member entry of `doc` (absent for kept documents and unclustered ones).
pub fn member<'a>(r: &'a Value, doc: &str) -> Option<&'a Value> {
    arr(r, "clusters")
        .iter()
        .flat_map(|c| arr(c, "members"))
        .find(|m| s(m, "doc") == doc)
}

/// A `skipped` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skip {
    pub path: String,
    pub line: Option<u64>,
    pub reason: String,
}

pub fn skipped(r: &Value) -> Vec<Skip> {
    arr(r, "skipped")
        .iter()
        .map(|k| Skip {
            path: s(k, "path").to_owned(),
            line: match &k["line"] {
                Value::Null => None,
                l => Some(l.as_u64().unwrap_or_else(|| panic!("bad line in {k}"))),
            },
            reason: s(k, "reason").to_owned(),
        })
        .collect()
}

/// The skipped entries for `path` (any line).
pub fn skips_of(r: &Value, path: &str) -> Vec<Skip> {
    skipped(r).into_iter().filter(|k| k.path == path).collect()
}

/// Checks what must hold of every report: the schema's fields and types, and that the summary
/// agrees with the clusters and skipped lists.
#[track_caller]
pub fn check_report(r: &Value) {
    assert_eq!(r["tool"], "dupsift", "{r}");
    assert_eq!(r["format_version"], 2, "{r}");
    assert!(!s(r, "version").is_empty());
    let p = &r["params"];
    let whole_components = match s(p, "clusters") {
        "threshold" => false,
        "components" => true,
        other => panic!("params.clusters is {other:?}"),
    };
    assert!(matches!(s(p, "unit"), "word" | "char"), "{p}");
    assert!(matches!(s(p, "verify"), "exact" | "estimate"), "{p}");
    assert!(
        matches!(s(p, "keep"), "first" | "last" | "longest" | "shortest")
            || ["newest:", "oldest:"]
                .iter()
                .any(|k| s(p, "keep").len() > k.len() && s(p, "keep").starts_with(k)),
        "{p}"
    );
    let (bands, rows, num_perm) = (u(p, "bands"), u(p, "rows"), u(p, "num_perm"));
    assert!(bands >= 1 && rows >= 1 && bands * rows <= num_perm, "{p}");
    assert!(u(p, "ngram") >= 1);
    u(p, "seed");
    let t = p["threshold"].as_f64().expect("threshold");
    assert!(t > 0.0 && t <= 1.0);

    let sm = &r["summary"];
    let cl = arr(r, "clusters");
    let mut seen = HashMap::new();
    let (mut members, mut member_bytes, mut exact) = (0u64, 0u64, 0u64);
    // Documents per component, in the order components are listed.
    let mut component_sizes: Vec<usize> = Vec::new();
    for (i, c) in cl.iter().enumerate() {
        assert_eq!(u(c, "id"), i as u64, "cluster ids are positions");
        let ms = arr(c, "members");
        assert!(!ms.is_empty(), "a cluster has at least two documents: {c}");
        let component = u(c, "component") as usize;
        if component == component_sizes.len() {
            component_sizes.push(0);
        } else {
            assert_eq!(
                component + 1,
                component_sizes.len(),
                "clusters are listed by component, numbered from 0: {c}"
            );
            assert!(!whole_components, "a component is one cluster: {c}");
        }
        component_sizes[component] += ms.len() + 1;
        u(c, "kept_bytes");
        s(c, "kept_preview");
        for d in std::iter::once(s(c, "kept")).chain(ms.iter().map(|m| s(m, "doc"))) {
            if let Some(j) = seen.insert(d.to_owned(), i) {
                panic!("{d} is in clusters {j} and {i}");
            }
        }
        for m in ms {
            let sim = m["similarity"].as_f64().expect("similarity is a number");
            assert!((0.0..=1.0).contains(&sim), "similarity out of range: {m}");
            let is_exact = m["exact"].as_bool().expect("exact is a bool");
            assert!(
                whole_components || sim >= (t * 1e4).floor() / 1e4,
                "a member is within the threshold of the kept document: {m}"
            );
            if is_exact {
                assert_eq!(sim, 1.0, "an exact duplicate has similarity 1: {m}");
                assert_eq!(
                    u(m, "bytes"),
                    u(c, "kept_bytes"),
                    "exact copies have equal sizes"
                );
                exact += 1;
            }
            s(m, "preview");
            members += 1;
            member_bytes += u(m, "bytes");
        }
    }
    // Components are ordered by their size, which counts the documents a split leaves alone
    // (in no cluster): only whole components show it.
    assert!(
        !whole_components || component_sizes.windows(2).all(|w| w[0] >= w[1]),
        "components are listed largest first: {component_sizes:?}"
    );
    assert_eq!(u(sm, "clusters"), cl.len() as u64, "summary.clusters");
    assert_eq!(
        u(sm, "duplicate_documents"),
        members,
        "summary.duplicate_documents"
    );
    assert_eq!(
        u(sm, "duplicate_bytes"),
        member_bytes,
        "summary.duplicate_bytes"
    );
    assert_eq!(
        u(sm, "exact_duplicate_documents"),
        exact,
        "summary.exact_duplicate_documents"
    );
    assert_eq!(
        u(sm, "skipped"),
        arr(r, "skipped").len() as u64 + r["skipped_unlisted"]["records"].as_u64().unwrap_or(0),
        "summary.skipped"
    );
    assert!(u(sm, "documents") >= members + cl.len() as u64);
    assert!(u(sm, "invalid_utf8_documents") <= u(sm, "documents"));
    assert!(u(sm, "empty_documents") <= u(sm, "documents"));
    assert!(u(sm, "verified_pairs") <= u(sm, "candidate_pairs"));
    u(sm, "bytes");
    for k in arr(r, "skipped") {
        assert!(!s(k, "path").is_empty(), "{k}");
        assert!(!s(k, "reason").is_empty(), "{k}");
        assert!(k["line"].is_null() || k["line"].as_u64().is_some(), "{k}");
    }
}

// ---------------------------------------------------------------------------------------------
// Temporary corpora.

/// A temporary directory that tests fill with files.
pub struct TempCorpus {
    dir: TempDir,
}

impl TempCorpus {
    pub fn new() -> TempCorpus {
        TempCorpus {
            dir: TempDir::new().expect("create a temporary directory"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes `bytes` at `rel`, creating parent directories.
    pub fn file(&self, rel: &str, bytes: impl AsRef<[u8]>) -> &TempCorpus {
        let path = self.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create directories");
        }
        std::fs::write(&path, bytes).expect("write a file");
        self
    }

    /// Creates an (empty) directory at `rel`.
    pub fn dir(&self, rel: &str) -> &TempCorpus {
        std::fs::create_dir_all(self.join(rel)).expect("create a directory");
        self
    }

    /// `dupsift scan --format json --quiet ARGS`, run in this directory; asserts success.
    #[track_caller]
    pub fn scan(&self, args: &[&str]) -> Value {
        scan_json_in(self.path(), args)
    }

    /// `dupsift ARGS`, run in this directory, without assertions.
    pub fn run(&self, args: &[&str]) -> Run {
        run_in(self.path(), args)
    }
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).expect("gzip");
    e.finish().expect("gzip")
}

pub fn zstd(bytes: &[u8]) -> Vec<u8> {
    zstd::encode_all(bytes, 3).expect("zstd")
}

/// One JSONL line (with its newline) from `(key, value)` pairs, values given as JSON.
pub fn jsonl_line(fields: &[(&str, Value)]) -> String {
    let map: serde_json::Map<String, Value> = fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    let mut line = serde_json::to_string(&Value::Object(map)).expect("serialise");
    line.push('\n');
    line
}

/// What a file tree looks like: every entry (not following symlinks) with its modification time
/// and content (file bytes, or a symlink's target).
pub type Snapshot = BTreeMap<PathBuf, (Option<SystemTime>, Vec<u8>)>;

pub fn snapshot(root: &Path) -> Snapshot {
    fn walk(root: &Path, dir: &Path, out: &mut Snapshot) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("read_dir")
            .map(|e| e.expect("dir entry").path())
            .collect();
        entries.sort();
        for path in entries {
            let meta = std::fs::symlink_metadata(&path).expect("metadata");
            let rel = path.strip_prefix(root).expect("under root").to_path_buf();
            let mtime = meta.modified().ok();
            if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&path).expect("read_link");
                out.insert(rel, (mtime, target.into_os_string().into_encoded_bytes()));
            } else if meta.is_dir() {
                out.insert(rel, (mtime, Vec::new()));
                walk(root, &path, out);
            } else {
                // Unreadable files (chmod 000 as non-root) are recorded by metadata only.
                let bytes = std::fs::read(&path).unwrap_or_default();
                out.insert(rel, (mtime, bytes));
            }
        }
    }
    let mut out = Snapshot::new();
    walk(root, root, &mut out);
    out
}

// ---------------------------------------------------------------------------------------------
// Seeded text generation.

/// SplitMix64: a tiny deterministic generator, so generated corpora are the same on every run.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// `n` distinct pronounceable lowercase ASCII words ("kavoru", "temi", ...).
pub fn vocabulary(seed: u64, n: usize) -> Vec<String> {
    const ONSETS: &[&str] = &[
        "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z",
        "br", "ch", "dr", "gl", "pl", "sh", "st", "tr", "th",
    ];
    const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "ai", "ou", "ea"];
    const CODAS: &[&str] = &["", "", "", "n", "r", "s", "l", "m", "nd", "st"];
    let mut rng = Rng::new(seed);
    let mut seen = std::collections::HashSet::new();
    let mut words = Vec::with_capacity(n);
    while words.len() < n {
        let syllables = 1 + rng.below(3);
        let mut w = String::new();
        for _ in 0..syllables {
            w.push_str(rng.pick::<&str>(ONSETS));
            w.push_str(rng.pick::<&str>(VOWELS));
        }
        w.push_str(rng.pick::<&str>(CODAS));
        if seen.insert(w.clone()) {
            words.push(w);
        }
    }
    words
}

/// `n` words drawn uniformly from `vocab`.
pub fn random_words(rng: &mut Rng, vocab: &[String], n: usize) -> Vec<String> {
    (0..n).map(|_| rng.pick(vocab).clone()).collect()
}

/// Renders words as prose: sentences of 12 words (capitalised, ending with a period; a comma
/// after the 6th word), paragraphs of 5 sentences. The layout depends only on word positions,
/// so editing a word changes nothing else.
pub fn render(words: &[String]) -> String {
    let mut out = String::new();
    for (i, w) in words.iter().enumerate() {
        let pos = i % 12;
        if pos == 0 {
            if i > 0 {
                out.push_str(if i % 60 == 0 { "\n\n" } else { " " });
            }
            let mut cs = w.chars();
            if let Some(c) = cs.next() {
                out.extend(c.to_uppercase());
                out.push_str(cs.as_str());
            }
        } else {
            out.push(' ');
            out.push_str(w);
        }
        if pos == 5 {
            out.push(',');
        }
        if pos == 11 || i + 1 == words.len() {
            out.push('.');
        }
    }
    out.push('\n');
    out
}

/// The same words laid out differently: upper case, wrapped at 40 columns and indented, other
/// punctuation. Same words, different bytes.
pub fn render_reformatted(words: &[String]) -> String {
    let mut out = String::from("    ");
    let mut col = 0;
    for (i, w) in words.iter().enumerate() {
        if col > 40 {
            out.push_str("\n    ");
            col = 0;
        } else if i > 0 {
            out.push(' ');
        }
        let w = w.to_uppercase();
        col += w.len() + 1;
        out.push_str(&w);
        if i % 9 == 8 {
            out.push(';');
        }
    }
    out.push_str(" --\n");
    out
}

/// `words` with `k` distinct positions replaced by a different word of `vocab`.
pub fn replace_words(rng: &mut Rng, words: &[String], vocab: &[String], k: usize) -> Vec<String> {
    let mut out = words.to_vec();
    let mut positions: Vec<usize> = (0..words.len()).collect();
    for i in 0..k.min(words.len()) {
        let j = i + rng.below(positions.len() - i);
        positions.swap(i, j);
        let p = positions[i];
        loop {
            let w = rng.pick(vocab);
            if *w != words[p] {
                out[p] = w.clone();
                break;
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Reference shingling: the figures the tests expect, computed independently of dupsift.

fn is_single_char_word(c: char) -> bool {
    // dupsift (UAX #29) makes each ideograph and each hiragana a word of its own.
    matches!(c as u32, 0x3040..=0x309f | 0x3400..=0x4dbf | 0x4e00..=0x9fff)
}

/// Words for the reference: lowercased runs of alphanumeric characters, each ideograph or
/// hiragana a word of its own. Agrees with dupsift's tokenizer on the texts the tests generate
/// (ASCII words separated by spaces and punctuation other than `'`, `.`, `:` inside words; CJK).
pub fn ref_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    for c in text.chars() {
        if is_single_char_word(c) {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            words.push(c.to_string());
        } else if c.is_alphanumeric() {
            cur.extend(c.to_lowercase());
        } else if !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn sorted_set(mut v: Vec<u64>) -> Vec<u64> {
    v.sort_unstable();
    v.dedup();
    v
}

/// The set (sorted hashes) of word `n`-grams; a text with fewer than `n` words (but some) has one
/// shingle of all its words, as in dupsift.
pub fn word_shingles(text: &str, n: usize) -> Vec<u64> {
    let words = ref_words(text);
    if words.is_empty() {
        return Vec::new();
    }
    let n = n.min(words.len());
    sorted_set(
        words
            .windows(n)
            .map(|w| fnv1a(w.iter().flat_map(|x| x.bytes().chain([0xff]))))
            .collect(),
    )
}

/// The set of character `n`-grams of the words joined by single spaces.
pub fn char_shingles(text: &str, n: usize) -> Vec<u64> {
    let joined: Vec<char> = ref_words(text).join(" ").chars().collect();
    if joined.is_empty() {
        return Vec::new();
    }
    let n = n.min(joined.len());
    sorted_set(
        joined
            .windows(n)
            .map(|w| fnv1a(w.iter().collect::<String>().into_bytes()))
            .collect(),
    )
}

/// Jaccard similarity of two sorted sets (0 when both are empty).
pub fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    let (mut i, mut j, mut both) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                both += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - both;
    if union == 0 {
        0.0
    } else {
        both as f64 / union as f64
    }
}

/// Exact word-5-gram Jaccard of two texts.
pub fn jaccard5(a: &str, b: &str) -> f64 {
    jaccard(&word_shingles(a, 5), &word_shingles(b, 5))
}

/// Seeded generator of unrelated texts and their edited variants.
pub struct TextGen {
    pub vocab: Vec<String>,
    pub rng: Rng,
}

impl TextGen {
    pub fn new(seed: u64) -> TextGen {
        TextGen {
            vocab: vocabulary(seed ^ 0x5eed, 2000),
            rng: Rng::new(seed),
        }
    }

    /// `n` random words.
    pub fn words(&mut self, n: usize) -> Vec<String> {
        random_words(&mut self.rng, &self.vocab, n)
    }

    /// A text of `n` random words (see [`render`]).
    pub fn text(&mut self, n: usize) -> String {
        render(&self.words(n))
    }

    /// `words` with `k` of them replaced by other words.
    pub fn edit(&mut self, words: &[String], k: usize) -> Vec<String> {
        replace_words(&mut self.rng, words, &self.vocab, k)
    }
}

/// Seeded texts whose first and last words are unique tags, so that an alignment can never run
/// on past a planted copy by chance.
pub struct Gen {
    /// The untagged generator underneath.
    pub g: TextGen,
    tags: usize,
}

impl Gen {
    pub fn new(seed: u64) -> Gen {
        Gen {
            g: TextGen::new(seed),
            tags: 0,
        }
    }

    fn tag(&mut self) -> String {
        self.tags += 1;
        format!("qzx{}", self.tags)
    }

    /// `n` (>= 2) random words bracketed by tags.
    pub fn words(&mut self, n: usize) -> Vec<String> {
        let mut w = self.g.words(n);
        w[0] = self.tag();
        w[n - 1] = self.tag();
        w
    }

    /// A text of `n` random words (see [`render`]), ending with a newline.
    pub fn text(&mut self, n: usize) -> String {
        let w = self.words(n);
        render(&w)
    }

    /// `words` with `k` words changed, all at least 10 words from either end.
    pub fn edit(&mut self, words: &[String], k: usize) -> Vec<String> {
        let n = words.len();
        let mut out = words[..10].to_vec();
        out.extend(self.g.edit(&words[10..n - 10], k));
        out.extend_from_slice(&words[n - 10..]);
        out
    }

    /// A passage of `lines` lines of 10 bare words (no punctuation), without a final newline.
    pub fn passage(&mut self, lines: usize) -> String {
        let w = self.g.words(10 * lines);
        w.chunks(10)
            .map(|l| l.join(" "))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// `before` random words, `passage` on its own lines, `after` random words.
    pub fn around(&mut self, before: usize, passage: &str, after: usize) -> String {
        let mut text = self.text(before);
        plant(&mut text, passage);
        text.push_str(&self.text(after));
        text
    }
}

/// `text` with `passage` planted after it on its own lines; returns where it is.
pub fn plant(text: &mut String, passage: &str) -> Range<usize> {
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    let start = text.len();
    text.push_str(passage);
    text.push('\n');
    start..start + passage.len()
}
