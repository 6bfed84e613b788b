//! The HTML report in a real browser: each test renders a report with the binary, loads it in
//! headless Chromium (`--dump-dom`: the DOM after the page's script ran) and inspects the DOM.
//!
//! The page's script sets `data-ready="1"` on `<html>` when it ran to the end and counts uncaught
//! errors in `data-errors`; Chromium's log (stderr) shows console messages and uncaught errors.
//!
//! Chromium is `/usr/bin/chromium` or `chromium` on `PATH` (CI installs Debian's package). When
//! it is missing the tests fail under CI (env `CI` set) and are skipped with a message elsewhere,
//! so that `cargo test` still runs on a machine without a browser.
//!
//! The DOM is read with a small scanner ([`Dom`]) rather than an HTML parser: Chromium's
//! serialisation is regular (every `<` in text and every `"` in an attribute is escaped), so
//! tags, attributes and element contents can be found reliably.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::util::*;

const SEED_FILE: &str = "corpus/news/upi-article-doubled-body.txt";
/// How long one page may take to load and dump before the browser is killed.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(90);

// ---------------------------------------------------------------------------------------------
// The browser.

/// Headless Chromium, when installed.
struct Browser {
    exe: PathBuf,
}

/// What Chromium made of a page.
struct Page {
    /// The serialised DOM after the page's scripts ran.
    dom: String,
    /// Chromium's log.
    stderr: String,
    /// How long the browser ran.
    elapsed: Duration,
}

/// The browser, or `None` (with a message) when it is missing outside CI; under CI a missing
/// browser fails the test.
fn browser() -> Option<Browser> {
    let candidates = std::iter::once(PathBuf::from("/usr/bin/chromium")).chain(
        std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .map(|d| d.join("chromium")),
    );
    for exe in candidates {
        if exe.is_file() {
            return Some(Browser { exe });
        }
    }
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    assert!(
        !ci,
        "Chromium is not installed (neither /usr/bin/chromium nor chromium on PATH); CI must \
         install it (.ci/run does: apt-get install chromium)"
    );
    // Written to the process's stderr, not through the test harness's capture, so that it
    // shows in a passing run; once per run.
    static SAID: std::sync::Once = std::sync::Once::new();
    SAID.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: the HTML report's browser tests (html::*) need Chromium (/usr/bin/chromium \
             or chromium on PATH), which is not installed; install it (Debian: apt-get install \
             chromium) to run them. Under CI (env CI set) this is a failure."
        );
    });
    None
}

/// `file://` URL of an absolute path, bytes outside the unreserved set percent-encoded.
fn file_url(path: &Path) -> String {
    let abs = std::path::absolute(path).expect("absolute path");
    let mut url = String::from("file://");
    for &b in abs.as_os_str().as_encoded_bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            url.push(b as char);
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url
}

impl Browser {
    /// Loads `file` in headless Chromium with a fresh profile and returns the DOM it dumped.
    /// Panics (failing the test) when the browser fails or times out. A browser killed by a
    /// signal (this Chromium has been seen to crash at start-up, rarely, whatever the page) is
    /// run once more; a page that crashes it every time still fails.
    #[track_caller]
    fn load(&self, file: &Path) -> Page {
        assert!(file.is_file(), "{} was not written", file.display());
        match self.try_load(file) {
            Ok(page) => page,
            Err(log) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "Chromium was killed by a signal on {}; running it again. Its log:\n{log}",
                    file.display()
                );
                self.try_load(file).unwrap_or_else(|log| {
                    panic!(
                        "Chromium was killed by a signal twice on {}; its log:\n{log}",
                        file.display()
                    )
                })
            }
        }
    }

    /// One run of the browser; `Err(log)` when it was killed by a signal.
    #[track_caller]
    fn try_load(&self, file: &Path) -> Result<Page, String> {
        let tmp = TempDir::new().expect("temporary directory");
        let (out_path, err_path) = (tmp.path().join("dom.html"), tmp.path().join("log.txt"));
        let mut cmd = Command::new(&self.exe);
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!(
            "--user-data-dir={}",
            tmp.path().join("profile").display()
        ))
        .arg("--dump-dom")
        .arg(file_url(file))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("create dom.html"))
        .stderr(std::fs::File::create(&err_path).expect("create log.txt"));
        // Its own process group, so that a hung browser is killed with its helper processes.
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let start = Instant::now();
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.exe.display()));
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for chromium") {
                break status;
            }
            if start.elapsed() > BROWSER_TIMEOUT {
                #[cfg(unix)]
                let _ = Command::new("kill")
                    .args(["-KILL", "--", &format!("-{}", child.id())])
                    .status();
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "Chromium did not dump {} within {:?}; its log:\n{}",
                    file.display(),
                    BROWSER_TIMEOUT,
                    std::fs::read_to_string(&err_path).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let elapsed = start.elapsed();
        let dom = std::fs::read(&out_path).expect("read the dumped DOM");
        let stderr =
            String::from_utf8_lossy(&std::fs::read(&err_path).unwrap_or_default()).into_owned();
        if status.code().is_none() {
            return Err(format!("{status}\n{stderr}"));
        }
        assert!(
            status.success(),
            "Chromium failed ({status}) on {}; its log:\n{stderr}",
            file.display()
        );
        let dom = String::from_utf8(dom).expect("the dumped DOM is UTF-8");
        assert!(
            dom.trim_end().ends_with("</html>"),
            "Chromium dumped no page for {}; its log:\n{stderr}",
            file.display()
        );
        Ok(Page {
            dom,
            stderr,
            elapsed,
        })
    }
}

impl Page {
    /// Console messages and uncaught errors in Chromium's log. This Chromium logs every console
    /// message as `INFO:CONSOLE` whatever its level, so any console message counts: the report's
    /// script writes nothing to the console.
    fn console_errors(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| l.contains("Uncaught") || l.contains("CONSOLE"))
            .collect()
    }

    /// Asserts what every report must show in the browser: its script ran to the end
    /// (`data-ready="1"`), without an uncaught error (`data-errors` absent) and without console
    /// messages.
    #[track_caller]
    fn assert_loaded_cleanly(&self) -> Dom<'_> {
        let dom = Dom::new(&self.dom);
        let html = dom.first("html").expect("an <html> element");
        assert_eq!(
            html.attr("data-ready"),
            Some("1"),
            "the report's script did not run to the end: <html {:?}>; console: {:#?}",
            html.attrs,
            self.console_errors()
        );
        assert_eq!(
            html.attr("data-errors"),
            None,
            "uncaught errors in the page; console: {:#?}",
            self.console_errors()
        );
        assert!(
            self.console_errors().is_empty(),
            "console messages or uncaught errors:\n{}",
            self.console_errors().join("\n")
        );
        dom
    }
}

// ---------------------------------------------------------------------------------------------
// Reading the dumped DOM.

/// A start tag in the dumped DOM.
#[derive(Debug)]
struct Tag<'a> {
    name: String,
    /// Attribute values are unescaped.
    attrs: Vec<(String, String)>,
    /// Byte offsets of `<` and of just after `>`.
    start: usize,
    end: usize,
    dom: &'a str,
}

impl Tag<'_> {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn has_class(&self, class: &str) -> bool {
        self.attr("class")
            .is_some_and(|c| c.split_ascii_whitespace().any(|x| x == class))
    }

    /// The element's content as serialised (up to its matching end tag).
    fn inner_html(&self) -> &str {
        let rest = &self.dom[self.end..];
        let (open, close) = (format!("<{}", self.name), format!("</{}>", self.name));
        let mut depth = 0usize;
        let mut i = 0;
        while let Some(k) = rest[i..].find('<') {
            let at = i + k;
            if rest[at..].starts_with(&close) {
                if depth == 0 {
                    return &rest[..at];
                }
                depth -= 1;
            } else if rest[at..].starts_with(&open)
                && rest[at + open.len()..].starts_with([' ', '>', '/'])
            {
                depth += 1;
            }
            i = at + 1;
        }
        panic!("<{}> at byte {} is not closed", self.name, self.start)
    }

    /// The element's text: its content without tags, entities decoded.
    fn text(&self) -> String {
        text_of(self.inner_html())
    }
}

/// Text of serialised HTML: tags dropped, entities decoded.
fn text_of(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(k) = rest.find('<') {
        out.push_str(&unescape(&rest[..k]));
        let close = rest[k..].find('>').expect("a tag ends") + k;
        rest = &rest[close + 1..];
    }
    out.push_str(&unescape(rest));
    out
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(k) = rest.find('&') {
        out.push_str(&rest[..k]);
        rest = &rest[k..];
        let Some(semi) = rest.find(';').filter(|&p| p <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..semi];
        let c = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The start tags of a dumped DOM, in document order.
struct Dom<'a> {
    tags: Vec<Tag<'a>>,
}

impl<'a> Dom<'a> {
    fn new(dom: &'a str) -> Dom<'a> {
        let b = dom.as_bytes();
        let mut tags = Vec::new();
        let mut i = 0;
        while let Some(k) = dom[i..].find('<') {
            let start = i + k;
            i = start + 1;
            if dom[start..].starts_with("<!--") {
                i = dom[start..].find("-->").map_or(b.len(), |e| start + e + 3);
                continue;
            }
            if dom[start..].starts_with("<!") || dom[start..].starts_with("</") {
                i = dom[start..].find('>').map_or(b.len(), |e| start + e + 1);
                continue;
            }
            let name_end = dom[i..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .map_or(b.len(), |e| i + e);
            let name = dom[i..name_end].to_ascii_lowercase();
            assert!(!name.is_empty(), "a stray '<' at byte {start} of the DOM");
            let mut j = name_end;
            let mut attrs = Vec::new();
            loop {
                while j < b.len() && b[j].is_ascii_whitespace() {
                    j += 1;
                }
                if j >= b.len() {
                    panic!("<{name}> at byte {start} is not closed");
                }
                if b[j] == b'>' {
                    j += 1;
                    break;
                }
                if b[j] == b'/' {
                    j += 1;
                    continue;
                }
                let an_end = dom[j..]
                    .find(|c: char| c.is_ascii_whitespace() || c == '=' || c == '>' || c == '/')
                    .map_or(b.len(), |e| j + e);
                let an = dom[j..an_end].to_ascii_lowercase();
                j = an_end;
                let mut value = String::new();
                if j < b.len() && b[j] == b'=' {
                    j += 1;
                    let q = b[j];
                    if q == b'"' || q == b'\'' {
                        let close = dom[j + 1..].find(q as char).expect("attribute ends") + j + 1;
                        value = unescape(&dom[j + 1..close]);
                        j = close + 1;
                    } else {
                        let e = dom[j..]
                            .find(|c: char| c.is_ascii_whitespace() || c == '>')
                            .map_or(b.len(), |e| j + e);
                        value = unescape(&dom[j..e]);
                        j = e;
                    }
                }
                attrs.push((an, value));
            }
            // Raw text elements: their content is not markup.
            if name == "script" || name == "style" {
                let close = format!("</{name}");
                j = dom[j..].find(&close).map_or(b.len(), |e| j + e);
            }
            tags.push(Tag {
                name,
                attrs,
                start,
                end: j.min(b.len()),
                dom,
            });
            i = j;
        }
        Dom { tags }
    }

    fn first(&self, name: &str) -> Option<&Tag<'a>> {
        self.tags.iter().find(|t| t.name == name)
    }

    /// Elements `name` with class `class`.
    fn select(&self, name: &str, class: &str) -> Vec<&Tag<'a>> {
        self.tags
            .iter()
            .filter(|t| t.name == name && t.has_class(class))
            .collect()
    }

    /// Elements `name` with class `class` inside `outer`.
    fn select_in(&self, outer: &Tag, name: &str, class: &str) -> Vec<&Tag<'a>> {
        let end = outer.end + outer.inner_html().len();
        self.select(name, class)
            .into_iter()
            .filter(|t| t.start >= outer.end && t.start < end)
            .collect()
    }

    fn by_id(&self, id: &str) -> &Tag<'a> {
        self.tags
            .iter()
            .find(|t| t.attr("id") == Some(id))
            .unwrap_or_else(|| panic!("no element with id {id:?}"))
    }

    /// The pager's position text in section `id`, e.g. "page 1 of 3 (120 shown)".
    fn pager(&self, id: &str) -> String {
        let section = self.by_id(id);
        let pos = self.select_in(section, "span", "pos");
        assert_eq!(pos.len(), 1, "one pager position in #{id}");
        pos[0].text()
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering reports.

/// `dupsift scan --quiet --format html -o OUT ARGS` in `dir`; returns the page's path.
#[track_caller]
fn scan_html(dir: &Path, out_dir: &Path, args: &[&str]) -> PathBuf {
    let out = out_dir.join("report.html");
    let out_arg = out.to_str().expect("UTF-8 path");
    let mut all = vec!["scan", "--quiet", "--format", "html", "-o", out_arg];
    all.extend_from_slice(args);
    run_in(dir, &all).success();
    out
}

/// What the report shows of a document's text: invalid UTF-8 replaced, bidirectional
/// overrides and isolates shown as `<U+XXXX>`, other control characters (except newline and
/// tab) as U+FFFD (see `escape` in src/report/html.rs).
fn as_shown(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .map(|c| match c {
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => format!("<U+{:04X}>", c as u32),
            c if c.is_control() && c != '\n' && c != '\t' => "\u{fffd}".to_string(),
            c => c.to_string(),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// 0. The harness: it sees a script that fails.

/// Controls for the checks the other tests rely on: a report whose script throws lacks
/// `data-ready`, has `data-errors`, and the error and a console message show in the log.
#[test]
fn the_browser_harness_sees_script_errors() {
    let Some(browser) = browser() else { return };
    let out = TempDir::new().expect("temporary directory");
    let file = scan_html(crate_root(), out.path(), &[SEED_FILE]);
    let good = std::fs::read_to_string(&file).expect("read the report");
    let entry = "(function(){";
    assert!(
        good.contains(entry),
        "the report's script starts its work in {entry}"
    );
    let bad = good.replacen(
        entry,
        &format!("{entry}console.error('harness control');null.harnessControl();"),
        1,
    );
    let broken = out.path().join("broken.html");
    std::fs::write(&broken, bad).expect("write the broken page");

    let page = browser.load(&broken);
    let dom = Dom::new(&page.dom);
    let html = dom.first("html").expect("an <html> element");
    assert_eq!(
        html.attr("data-ready"),
        None,
        "the script stopped at the error"
    );
    assert_eq!(
        html.attr("data-errors"),
        Some("1"),
        "the page counted the error"
    );
    let log = page.console_errors();
    assert!(
        log.iter()
            .any(|l| l.contains("Uncaught") && l.contains("harnessControl")),
        "the uncaught error is in the log: {log:#?}\n{}",
        page.stderr
    );
    assert!(
        log.iter().any(|l| l.contains("harness control")),
        "console.error is in the log: {log:#?}\n{}",
        page.stderr
    );
    // And the unbroken page passes.
    browser.load(&file).assert_loaded_cleanly();
}

// ---------------------------------------------------------------------------------------------
// 1. The sample corpus.

#[test]
fn report_of_the_sample_corpus_loads_without_errors_and_matches_the_json() {
    let Some(browser) = browser() else { return };
    let out = TempDir::new().expect("temporary directory");
    let file = scan_html(crate_root(), out.path(), &["corpus"]);
    let json = scan_json(&["corpus"]);
    let sm = &json["summary"];

    // Self-contained: nothing is fetched from the network.
    let source = std::fs::read_to_string(&file).expect("read the report");
    let lower = source.to_ascii_lowercase();
    for external in [
        "src=\"http",
        "src='http",
        "src=\"//",
        "href=\"http",
        "href='http",
        "href=\"//",
        "@import",
        "url(http",
        "url(\"http",
        "url('http",
        "url(//",
    ] {
        assert!(
            !lower.contains(external),
            "the report loads an external resource ({external}): {}",
            &source[lower.find(external).unwrap().saturating_sub(100)..][..200]
        );
    }

    let page = browser.load(&file);
    let dom = page.assert_loaded_cleanly();

    // The summary table: every cell's leading number is the JSON summary field of its key.
    let cells: Vec<_> = dom.tags.iter().filter(|t| t.name == "td").collect();
    let keyed: Vec<_> = cells
        .iter()
        .filter(|t| t.attr("data-key").is_some())
        .collect();
    let keys: Vec<&str> = keyed.iter().map(|t| t.attr("data-key").unwrap()).collect();
    for key in [
        "documents",
        "bytes",
        "clusters",
        "duplicate_documents",
        "passages",
    ] {
        assert!(keys.contains(&key), "no summary cell for {key}: {keys:?}");
    }
    for cell in &keyed {
        let key = cell.attr("data-key").unwrap();
        let text = cell.text();
        let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
        let shown: u64 = digits.parse().unwrap_or_else(|_| {
            panic!("summary cell {key} does not start with a number: {text:?}")
        });
        let expected = sm[key]
            .as_u64()
            .unwrap_or_else(|| panic!("the HTML shows {key}, which the JSON summary lacks: {sm}"));
        assert_eq!(shown, expected, "summary cell {key}: {text:?}");
        // Byte counts carry their share of the bytes read.
        if let Some(pct) = text
            .strip_prefix(&digits)
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let bytes = summary(&json, "bytes");
            let want = format!("({:.1}%)", expected as f64 * 100.0 / bytes as f64);
            assert_eq!(pct, want, "summary cell {key}: {text:?}");
        }
    }

    // One item per cluster, in the JSON's order with the same documents.
    let items = dom.select("details", "cluster");
    assert_eq!(
        items.len() as u64,
        summary(&json, "clusters"),
        "cluster items in the page"
    );
    assert!(!items.is_empty(), "the sample corpus has clusters");
    for (item, ids) in items.iter().zip(clusters(&json)) {
        assert!(item.has_class("item"), "{:?}", item.attrs);
        assert_eq!(item.attr("data-docs"), Some(ids.join(" ").as_str()));
    }
    let passages = dom.select("details", "passage");
    assert_eq!(passages.len() as u64, summary(&json, "passages"));

    // The script paginated both lists (50 items a page) and showed the first page.
    for (id, n) in [("clusters", items.len()), ("passages", passages.len())] {
        assert_eq!(
            dom.pager(id),
            format!("page 1 of {} ({n} shown)", n.div_ceil(50).max(1)),
            "pager of #{id}"
        );
    }
    let visible = items.iter().filter(|t| t.attr("hidden").is_none()).count();
    assert_eq!(
        visible,
        items.len().min(50),
        "cluster items shown on page 1"
    );

    // The chart counts every member once.
    let chart = dom.by_id("chart");
    let bars: u64 = dom
        .tags
        .iter()
        .filter(|t| t.name == "title" && t.start > chart.start)
        .take(11)
        .map(|t| {
            let text = t.text();
            let n = text.rsplit(": ").next().unwrap_or_default();
            n.parse::<u64>()
                .unwrap_or_else(|_| panic!("chart bar title {text:?}"))
        })
        .sum();
    assert_eq!(bars, summary(&json, "duplicate_documents"), "chart total");
    eprintln!("sample corpus report: Chromium took {:?}", page.elapsed);
}

// ---------------------------------------------------------------------------------------------
// 2. The seed article's two copies in context.

#[test]
fn seed_article_copies_are_highlighted() {
    let Some(browser) = browser() else { return };
    let bytes = std::fs::read(crate_root().join(SEED_FILE)).expect("read the seed article");
    assert_eq!(bytes.len(), 7759, "the seed article changed");
    assert_eq!(bytes[..3879], bytes[3880..], "its body is doubled");
    let out = TempDir::new().expect("temporary directory");
    let file = scan_html(crate_root(), out.path(), &[SEED_FILE]);
    let page = browser.load(&file);
    let dom = page.assert_loaded_cleanly();

    let section = dom.by_id("passages");
    let passages = dom.select_in(section, "details", "passage");
    assert_eq!(passages.len(), 1, "one repeated passage");
    let occurrences = dom.select_in(passages[0], "div", "occurrence");
    assert_eq!(occurrences.len(), 2, "two occurrences");
    for (occ, (start, end)) in occurrences.iter().zip([(0, 3879), (3880, 7759)]) {
        let text = occ.text();
        let header = text.lines().next().unwrap_or_default();
        assert!(
            header.contains(SEED_FILE) && header.contains(&format!("bytes {start}..{end}")),
            "occurrence header {header:?}, expected bytes {start}..{end}"
        );
        let contexts = dom.select_in(occ, "pre", "context");
        assert_eq!(
            contexts.len(),
            1,
            "occurrence {start}..{end} has its context"
        );
        let marks: Vec<_> = dom
            .tags
            .iter()
            .filter(|t| t.name == "mark")
            .filter(|t| {
                t.start > contexts[0].start
                    && t.start < contexts[0].end + contexts[0].inner_html().len()
            })
            .collect();
        assert!(!marks.is_empty(), "occurrence {start}..{end} is marked");
        let first = marks[0].text();
        assert!(
            first.starts_with("March 31 (UPI)"),
            "the mark of occurrence {start}..{end} starts with {:?}",
            first.chars().take(40).collect::<String>()
        );
        // The marked text is the body: its start, and (the middle elided) its end.
        let body = String::from_utf8_lossy(&bytes[..3879]);
        assert!(body.starts_with(&first), "first mark is the body's start");
        let last = marks.last().unwrap().text();
        assert!(
            body.ends_with(&last),
            "last mark is the body's end: {last:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Hostile document text.

/// Markup and odd characters a document may hold; none of it may act in the page.
const HOSTILE: &str = concat!(
    "<script>document.documentElement.setAttribute('data-pwned','1')</script>\n",
    "<img src=x onerror=\"document.documentElement.setAttribute('data-pwned','2')\">\n",
    "</textarea></pre></details><b>bold</b>\n",
    "\"><svg onload=alert(1)>\n",
    "'><iframe srcdoc=\"<script>parent.document.documentElement.setAttribute('data-pwned','3')</script>\"></iframe>\n",
    "</SCRIPT ><script >document.documentElement.setAttribute('data-pwned','4')</script >\n",
    "<!-- --> ]]> <style>html{display:none}</style> &lt;i&gt;literal&lt;/i&gt; &amp; &#x3c;\n",
    "right-to-left \u{202e}txt.exe\u{202c} isolate \u{2067}abc\u{2069}\n",
    "emoji 🦀 👩\u{200d}👩\u{200d}👧 flags 🇳🇿, combining Z\u{334}\u{321}a\u{337}l\u{335}g\u{336}o e\u{301}\n",
    "zero width [\u{200b}] bom [\u{feff}] separators [\u{2028}] [\u{2029}] nbsp [\u{a0}]\n",
    "bell [\u{7}] escape [\u{1b}[31m] del [\u{7f}] c1 [\u{85}] 漢字 مرحبا\n",
);

#[test]
fn document_text_cannot_run_scripts() {
    let Some(browser) = browser() else { return };
    let mut g = TextGen::new(0x4854_4d4c);
    let shared_before = g.words(40);
    let shared_after = g.words(40);
    let a_head = g.words(150);
    let a_tail = g.words(150);
    let shared = format!(
        "{}{HOSTILE}{}",
        render(&shared_before),
        render(&shared_after)
    );
    let a = format!("{}{shared}{}", render(&a_head), render(&a_tail));
    // The near-duplicate: two words edited far from the shared passage; invalid UTF-8 too.
    let mut b = format!(
        "{}{shared}{}",
        render(&g.edit(&a_head, 1)),
        render(&g.edit(&a_tail, 1))
    )
    .into_bytes();
    b.extend_from_slice(b"invalid \xff\xfe UTF-8\n");
    // An unrelated document sharing the passage.
    let c = format!("{}{shared}{}", g.text(200), g.text(200));
    assert!(
        a.len() < 4000 && b.len() < 4000,
        "comparisons show whole documents"
    );

    let corpus = TempCorpus::new();
    corpus.file("docs/a-hostile.txt", &a);
    corpus.file("docs/c-shares-a-passage.txt", &c);
    let hostile_name = "b <b>name \"q\" 'a' & \u{202e}.txt";
    let b_name = match std::fs::write(corpus.join("docs").join(hostile_name), &b) {
        Ok(()) => hostile_name,
        Err(e) => {
            eprintln!(
                "the filesystem refuses the file name {hostile_name:?} ({e}); using a plain one"
            );
            corpus.file("docs/b-plain.txt", &b);
            "b-plain.txt"
        }
    };
    let (a_id, b_id, c_id) = (
        "a-hostile.txt".to_string(),
        b_name.to_string(),
        "c-shares-a-passage.txt".to_string(),
    );
    let json = corpus.scan(&["docs"]);
    let cl = clusters(&json);
    assert_eq!(
        cl,
        vec![vec![a_id.clone(), b_id.clone()]],
        "a and b are one cluster"
    );
    assert!(
        arr(&json, "passages")
            .iter()
            .any(|p| arr(p, "occurrences").iter().any(|o| s(o, "doc") == c_id)),
        "the shared passage is found: {}",
        json["passages"]
    );

    let out = TempDir::new().expect("temporary directory");
    let file = scan_html(corpus.path(), out.path(), &["docs"]);
    let page = browser.load(&file);
    let dom = page.assert_loaded_cleanly();
    let html = dom.first("html").unwrap();
    assert_eq!(html.attr("data-pwned"), None, "document text ran a script");

    // Only the report's own elements: one script, no images, frames, SVG but the chart, no
    // event handler attributes, the document's style sheet not applied.
    let count = |name: &str| dom.tags.iter().filter(|t| t.name == name).count();
    assert_eq!(count("script"), 1, "scripts in the page");
    assert_eq!(count("style"), 1, "style sheets in the page");
    assert_eq!(
        count("img") + count("iframe"),
        0,
        "images or frames in the page"
    );
    assert_eq!(count("svg"), 1, "only the chart is SVG");
    for t in &dom.tags {
        assert!(
            t.attrs
                .iter()
                .all(|(n, _)| !n.starts_with("on") && !n.contains("pwned")),
            "<{} {:?}> carries an attribute from a document",
            t.name,
            t.attrs
        );
    }
    for p in [
        "&lt;script&gt;document.documentElement",
        "&lt;b&gt;bold&lt;/b&gt;",
    ] {
        assert!(page.dom.contains(p), "the DOM shows {p} as text");
    }
    assert!(
        !page.dom.contains("<b>bold</b>"),
        "document markup became elements"
    );
    assert!(
        !page.dom.contains("<b>name"),
        "file name markup became elements"
    );
    assert!(
        !page.dom.contains("\u{202e}"),
        "a right-to-left override is obeyed"
    );
    assert!(
        page.dom.contains("&lt;U+202E&gt;"),
        "the override is shown as <U+202E>"
    );
    // Escaped text in a document stays escaped text (shown, not decoded).
    assert!(
        page.dom.contains("&amp;lt;i&amp;gt;literal"),
        "entities in documents are decoded"
    );

    // The comparison shows both documents whole, exactly as the report shows text.
    let cluster = dom.select("details", "cluster");
    assert_eq!(cluster.len(), 1);
    assert_eq!(
        cluster[0].attr("data-docs"),
        Some(as_shown(format!("{a_id} {b_id}").as_bytes()).as_str()),
        "document ids in attributes"
    );
    let kept = dom.select_in(cluster[0], "pre", "kept");
    let member = dom.select_in(cluster[0], "pre", "member");
    assert_eq!((kept.len(), member.len()), (1, 1), "one comparison");
    assert_eq!(
        kept[0].text(),
        as_shown(a.as_bytes()),
        "the kept document's text"
    );
    assert_eq!(member[0].text(), as_shown(&b), "the member's text");
    assert!(
        !dom.select_in(kept[0], "span", "same").is_empty()
            && !dom.select_in(member[0], "span", "diff").is_empty(),
        "shared and differing words are marked"
    );
    // The ids appear as text wherever they are shown, never as markup.
    let b_shown = as_shown(b_id.as_bytes());
    let bolds: Vec<String> = dom
        .tags
        .iter()
        .filter(|t| t.name == "b")
        .map(|t| t.text())
        .collect();
    assert!(bolds.contains(&b_shown), "b's id shown as text: {bolds:?}");
    assert!(
        !bolds.iter().any(|t| t == "name" || t == "bold"),
        "{bolds:?}"
    );

    // Every context of the passage shared with c shows the hostile text as text (the passage
    // a and b share is nearly all of them: its middle is elided).
    let c_shown = as_shown(c_id.as_bytes());
    let shared: Vec<_> = dom
        .select("details", "passage")
        .into_iter()
        .filter(|p| p.attr("data-docs").unwrap_or_default().contains(&c_shown))
        .collect();
    assert_eq!(shared.len(), 1, "one passage is in c");
    let contexts = dom.select_in(shared[0], "pre", "context");
    assert_eq!(
        contexts.len(),
        3,
        "the passage shared with c is shown in a, b and c"
    );
    for ctx in &contexts {
        let text = ctx.text();
        assert!(
            text.contains(&as_shown(HOSTILE.as_bytes())),
            "a context lacks the hostile text as text:\n{text}"
        );
        assert!(ctx.inner_html().contains("<mark>"), "the passage is marked");
    }

    // Control: the same page with the escaping undone does run the planted scripts in this
    // browser, so the checks above would see it. (`alert` is replaced: a dialog would block
    // the headless page until the timeout.)
    let raw = std::fs::read_to_string(&file)
        .unwrap()
        .replace("alert(1)", "void(1)")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    let control = out.path().join("unescaped.html");
    std::fs::write(&control, raw).unwrap();
    let unsafe_page = browser.load(&control);
    let unsafe_dom = Dom::new(&unsafe_page.dom);
    assert!(
        unsafe_dom
            .first("html")
            .unwrap()
            .attr("data-pwned")
            .is_some(),
        "control: the planted script should run when not escaped"
    );
    assert!(
        unsafe_page.dom.contains("<b>bold</b>"),
        "control: markup when not escaped"
    );
}

// ---------------------------------------------------------------------------------------------
// 4. A large report.

/// 10,000 clusters of two short documents (40–60 words, the copy's last word changed):
/// 20,000 JSONL records.
fn ten_thousand_pairs() -> String {
    let mut g = TextGen::new(10_000);
    let mut out = String::with_capacity(20_000 * 450);
    for i in 0..10_000 {
        let n = 40 + g.rng.below(21);
        let words = g.words(n);
        let mut copy = words.clone();
        let last = copy.last_mut().unwrap();
        loop {
            let w = g.rng.pick(&g.vocab).clone();
            if w != *last {
                *last = w;
                break;
            }
        }
        out.push_str(&jsonl_line(&[
            ("id", json!(format!("doc-{i:05}-a"))),
            ("text", Value::String(render(&words))),
        ]));
        out.push_str(&jsonl_line(&[
            ("id", json!(format!("doc-{i:05}-b"))),
            ("text", Value::String(render(&copy))),
        ]));
    }
    out
}

/// Bound on the 10,000-cluster page. Measured: 3,945,601 bytes, of which 370 KB are the 100
/// comparisons (two sides of 40–60 words, each word in a span) and the rest about 358 bytes a
/// cluster (the item, its table of two documents). 6 MB leaves 50% of room and catches what
/// matters: comparisons for every cluster (another ~37 MB here) or a listing grown by half.
const LARGE_REPORT_MAX_BYTES: u64 = 6_000_000;

#[test]
fn a_report_with_10000_clusters_loads() {
    let Some(browser) = browser() else { return };
    let t0 = Instant::now();
    let corpus = TempCorpus::new();
    corpus.file("pairs.jsonl", ten_thousand_pairs());
    let out = TempDir::new().expect("temporary directory");
    let file = scan_html(corpus.path(), out.path(), &["--no-passages", "pairs.jsonl"]);
    let scanned = t0.elapsed();
    let size = std::fs::metadata(&file).unwrap().len();
    assert!(
        size < LARGE_REPORT_MAX_BYTES,
        "the 10,000-cluster report is {size} bytes (bound {LARGE_REPORT_MAX_BYTES})"
    );

    let page = browser.load(&file);
    let dom = page.assert_loaded_cleanly();
    let items = dom.select("details", "cluster");
    assert_eq!(items.len(), 10_000, "cluster items");
    let note = dom
        .select("p", "note")
        .iter()
        .map(|t| t.text())
        .find(|t| t.contains("first 100 clusters"));
    assert_eq!(
        note.as_deref(),
        Some("Comparisons are shown for the first 100 clusters; the others list their members."),
        "the page says which clusters are compared"
    );
    let compared: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, t)| !dom.select_in(t, "details", "compare").is_empty())
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        compared,
        (0..100).collect::<Vec<_>>(),
        "clusters with a comparison"
    );
    assert_eq!(dom.pager("clusters"), "page 1 of 200 (10000 shown)");
    assert_eq!(dom.pager("passages"), "page 1 of 1 (0 shown)");
    let visible = items.iter().filter(|t| t.attr("hidden").is_none()).count();
    assert_eq!(visible, 50, "cluster items shown on page 1");
    eprintln!(
        "10,000 clusters: corpus and scan {scanned:?}, report {size} bytes, Chromium {:?}",
        page.elapsed
    );
}

// ---------------------------------------------------------------------------------------------
// 5. `clean --report-html` with --dry-run.

#[test]
fn clean_report_html_is_written() {
    let Some(browser) = browser() else { return };
    let mut g = TextGen::new(0xc1ea);
    let words = g.words(300);
    let work = TempCorpus::new();
    work.file("tree/a.txt", render(&words))
        .file("tree/b.txt", render(&g.edit(&words, 2)))
        .file("tree/c.txt", render(&words))
        .file("tree/d.txt", g.text(300));
    let tree_before = snapshot(&work.join("tree"));

    let run = work.run(&[
        "clean",
        "tree",
        "-o",
        "out",
        "--report-html",
        "report.html",
        "--dry-run",
    ]);
    let run = run.success();
    assert!(
        run.stdout_str().contains("remove  b.txt") && run.stdout_str().contains("remove  c.txt"),
        "the dry run lists the removals:\n{}",
        run.stdout_str()
    );

    // report.html and nothing else: no OUT, no temporary files, the tree untouched.
    let mut entries: Vec<String> = std::fs::read_dir(work.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(entries, ["report.html", "tree"], "what the dry run wrote");
    assert_eq!(
        snapshot(&work.join("tree")),
        tree_before,
        "the tree changed"
    );

    let page = browser.load(&work.join("report.html"));
    let dom = page.assert_loaded_cleanly();
    let json = work.scan(&["tree"]);
    let items = dom.select("details", "cluster");
    assert_eq!(items.len(), 1);
    assert_eq!(
        items[0].attr("data-docs"),
        Some(clusters(&json)[0].join(" ").as_str())
    );
    let mut ids = clusters(&json)[0].clone();
    assert_eq!(ids[0], "a.txt", "the first document is kept");
    ids.sort();
    assert_eq!(ids, ["a.txt", "b.txt", "c.txt"], "the cluster");
    assert_eq!(dom.select_in(items[0], "details", "compare").len(), 2);
}
