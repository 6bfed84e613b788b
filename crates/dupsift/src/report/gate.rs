//! Output formats of `dupsift check`: a few lines for people, JSON for machines, GitHub Actions
//! workflow commands (annotations on the pull request) and SARIF 2.1.0 for code-scanning UIs.
//! All render one [`Verdict`]; none computes anything.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::json;

use crate::check::{Finding, Rule, Verdict, pct};

use super::text::human_bytes;

/// Version of the JSON check report's schema.
pub const CHECK_FORMAT_VERSION: u32 = 1;

fn describe(f: &Finding) -> String {
    let at = |p: &crate::check::Place| match p.end_line {
        Some(e) => format!("{}:{}-{}", p.path, p.line, e),
        None if p.record => format!("{}:{}", p.path, p.line),
        None => p.path.clone(),
    };
    match f.rule {
        Rule::ExactDuplicate => format!("exact duplicate of {}", at(&f.original)),
        Rule::NearDuplicate => format!(
            "near-duplicate of {} (similarity {:.3})",
            at(&f.original),
            f.similarity
        ),
        Rule::RepeatedPassage => format!(
            "repeats passage {} first seen at {} ({}, identity {:.3})",
            f.passage.unwrap_or(0),
            at(&f.original),
            human_bytes(f.bytes),
            f.similarity
        ),
    }
}

/// A few lines: the verdict, what failed, and the `worst` largest findings.
pub fn write_check_text(v: &Verdict, worst: usize, mut w: impl Write) -> io::Result<()> {
    let f = &v.figures;
    writeln!(
        w,
        "dupsift check: {} ({} documents, {} duplicates = {}, {} repeated passages = {} of bytes, {} skipped)",
        if v.passed { "pass" } else { "FAIL" },
        f.documents,
        f.duplicate_documents,
        pct(f.duplicate_ratio),
        f.passages,
        pct(f.passage_ratio),
        f.skipped
    )?;
    for why in &v.failures {
        writeln!(w, "  failed: {}", super::shown(why))?;
    }
    if f.accepted > 0 {
        writeln!(w, "  {} findings accepted by the baseline", f.accepted)?;
    }
    let mut order: Vec<&Finding> = v.findings.iter().filter(|x| !x.accepted).collect();
    order.sort_by_key(|f| std::cmp::Reverse(f.bytes));
    if !order.is_empty() {
        writeln!(w, "largest findings:")?;
    }
    for x in order.iter().take(worst) {
        let line = match x.place.end_line {
            Some(e) => format!("{}:{}-{}", x.place.path, x.place.line, e),
            None => format!("{}:{}", x.place.path, x.place.line),
        };
        writeln!(
            w,
            "  {}: {}",
            super::shown(&line),
            super::shown(&describe(x))
        )?;
    }
    if order.len() > worst {
        writeln!(
            w,
            "  ... and {} more (--format json lists all)",
            order.len() - worst
        )?;
    }
    Ok(())
}

#[derive(Serialize)]
struct CheckJson<'a> {
    tool: &'static str,
    version: &'static str,
    format_version: u32,
    #[serde(flatten)]
    verdict: &'a Verdict,
}

/// The JSON check report (docs/check.md).
pub fn write_check_json(v: &Verdict, mut w: impl Write) -> io::Result<()> {
    let doc = CheckJson {
        tool: "dupsift",
        version: env!("CARGO_PKG_VERSION"),
        format_version: CHECK_FORMAT_VERSION,
        verdict: v,
    };
    serde_json::to_writer_pretty(&mut w, &doc)?;
    w.write_all(b"\n")
}

/// Escapes the message of a workflow command (`%`, CR, LF).
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property of a workflow command (also `:` and `,`).
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// GitHub Actions workflow commands: one `::error` (or `::warning` when the check passes) per
/// finding, on its file and lines, then one summary line per failed limit.
pub fn write_check_github(v: &Verdict, mut w: impl Write) -> io::Result<()> {
    let level = if v.passed { "warning" } else { "error" };
    // Accepted findings are the baseline's business, not the pull request's.
    for f in v.findings.iter().filter(|f| !f.accepted) {
        let mut props = format!(
            "file={},line={}",
            escape_property(&f.place.path),
            f.place.line
        );
        if let Some(e) = f.place.end_line {
            props.push_str(&format!(",endLine={e}"));
        }
        props.push_str(&format!(
            ",title={}",
            escape_property(&format!("dupsift {}", f.rule.id()))
        ));
        writeln!(w, "::{level} {props}::{}", escape_data(&describe(f)))?;
    }
    for why in &v.failures {
        writeln!(
            w,
            "::error title=dupsift check failed::{}",
            escape_data(why)
        )?;
    }
    Ok(())
}

/// SARIF 2.1.0: one run, three rules, one result per finding with its physical location and a
/// partial fingerprint made of content hashes.
pub fn write_check_sarif(v: &Verdict, mut w: impl Write) -> io::Result<()> {
    let rules: Vec<serde_json::Value> = [
        (
            Rule::ExactDuplicate,
            "A document byte-identical to another document.",
        ),
        (
            Rule::NearDuplicate,
            "A document whose word-shingle Jaccard similarity to another reaches the threshold.",
        ),
        (
            Rule::RepeatedPassage,
            "A run of words that already occurs earlier in the corpus or the same document.",
        ),
    ]
    .iter()
    .map(|(r, text)| {
        json!({
            "id": r.id(),
            "name": r.id(),
            "shortDescription": { "text": text },
        })
    })
    .collect();
    let results: Vec<serde_json::Value> = v
        .findings
        .iter()
        .map(|f| {
            let mut region = json!({ "startLine": f.place.line });
            if let Some(e) = f.place.end_line {
                region["endLine"] = json!(e);
            }
            let level = match (f.accepted, v.passed) {
                (true, _) => "note",
                (false, true) => "warning",
                (false, false) => "error",
            };
            json!({
                "ruleId": f.rule.id(),
                "level": level,
                "message": { "text": describe(f) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": sarif_uri(&f.place.path) },
                        "region": region,
                    }
                }],
                "relatedLocations": [{
                    "id": 1,
                    "message": { "text": "original" },
                    "physicalLocation": {
                        "artifactLocation": { "uri": sarif_uri(&f.original.path) },
                        "region": { "startLine": f.original.line },
                    }
                }],
                "partialFingerprints": { "dupsiftContent/v1": f.fingerprint },
                "baselineState": if f.accepted { "unchanged" } else { "new" },
                "properties": { "similarity": f.similarity, "bytes": f.bytes },
            })
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "dupsift",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
            "invocations": [{ "executionSuccessful": true }],
        }]
    });
    serde_json::to_writer_pretty(&mut w, &doc)?;
    w.write_all(b"\n")
}

/// A relative URI reference for a path: `/` separators, spaces and other reserved characters
/// percent-encoded.
fn sarif_uri(path: &str) -> String {
    let path = path.strip_prefix("./").unwrap_or(path);
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_commands_are_escaped() {
        assert_eq!(escape_data("50% a\nb"), "50%25 a%0Ab");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }

    #[test]
    fn uris_are_relative_references() {
        assert_eq!(sarif_uri("./data/a b.txt"), "data/a%20b.txt");
        assert_eq!(sarif_uri("x/é.txt"), "x/%C3%A9.txt");
    }
}
