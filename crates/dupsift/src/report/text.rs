//! The human report: a summary a person can read at a glance, then the clusters with each
//! member's similarity and a preview, the repeated passages with where they occur, the
//! documents that repeat themselves, and what was skipped and why.

use std::io::{self, Write};

use super::{Report, component_parts, part_note, percent, shown, similarity};

/// Human-readable size: `512 B`, `3.9 KB`, `1.2 MB` (powers of 1000, one decimal).
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KB", "MB", "GB", "TB", "PB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1000.0;
    let mut unit = 0;
    while v >= 999.95 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Writes the text report. `max_clusters` and `max_passages` limit how many clusters and
/// passages are listed in full (the summary always counts all of them).
pub fn write_text(
    report: &Report,
    max_clusters: usize,
    max_passages: usize,
    mut w: impl Write,
) -> io::Result<()> {
    write_heading(report, &mut w)?;
    write_totals(report, &mut w)?;
    write_clusters(report, max_clusters, &mut w)?;
    write_passages(report, max_passages, &mut w)?;
    write_self_repeating(report, max_passages, &mut w)?;
    write_skipped(report, &mut w)
}

/// What was read and with which parameters, then a blank line.
fn write_heading(report: &Report, w: &mut impl Write) -> io::Result<()> {
    let s = &report.summary;
    let p = &report.params;
    writeln!(
        w,
        "dupsift {}: {} read, {}, {} skipped",
        report.version,
        plural(s.documents, "document", "documents"),
        human_bytes(s.bytes),
        s.skipped
    )?;
    writeln!(
        w,
        "{} {}-grams, {} {} ({} bands x {} rows), threshold {}, {} verification",
        p.unit,
        p.ngram,
        p.num_perm,
        match p.scheme {
            crate::minhash::Scheme::Classic => "permutations",
            crate::minhash::Scheme::Oph => "one-permutation bins",
        },
        p.bands,
        p.rows,
        p.threshold,
        match p.verify {
            crate::verify::Verify::Exact => "exact",
            crate::verify::Verify::Estimate => "estimated",
        }
    )?;
    writeln!(w)
}

/// The totals, in sentences: clusters and what a cleanup would remove, passages and what a
/// passage cleanup would cut, invalid UTF-8.
fn write_totals(report: &Report, w: &mut impl Write) -> io::Result<()> {
    let s = &report.summary;
    let p = &report.params;
    let in_clusters = s.clusters + s.duplicate_documents;
    writeln!(
        w,
        "{} holding {} ({} exact copies of a kept document).",
        plural(s.clusters, "cluster", "clusters"),
        plural(in_clusters, "document", "documents"),
        s.exact_duplicate_documents
    )?;
    writeln!(
        w,
        "A cleanup keeping the {} of each cluster would remove {} ({} of documents), {} ({} of bytes).",
        match &p.keep {
            crate::cluster::KeepPolicy::Newest(f) => format!("newest (by {f})"),
            crate::cluster::KeepPolicy::Oldest(f) => format!("oldest (by {f})"),
            other => other.to_string(),
        },
        plural(s.duplicate_documents, "document", "documents"),
        percent(s.duplicate_documents, s.documents),
        human_bytes(s.duplicate_bytes),
        percent(s.duplicate_bytes, s.bytes)
    )?;
    if p.passages.is_some() {
        writeln!(
            w,
            "{} repeated {} in {}; {} {}. A passage cleanup would cut {} ({} of bytes).",
            s.passages,
            if s.passages == 1 {
                "passage"
            } else {
                "passages"
            },
            plural(s.passage_documents, "document", "documents"),
            plural(s.self_repeating_documents, "document", "documents"),
            if s.self_repeating_documents == 1 {
                "repeats itself"
            } else {
                "repeat themselves"
            },
            human_bytes(s.passage_cut_bytes),
            percent(s.passage_cut_bytes, s.bytes)
        )?;
    }
    if s.invalid_utf8_documents > 0 {
        writeln!(
            w,
            "{} had invalid UTF-8 (read lossily).",
            plural(s.invalid_utf8_documents, "document", "documents")
        )?;
    }
    Ok(())
}

/// The first `max` clusters, each member with its similarity and (unless an exact copy) a
/// preview.
fn write_clusters(report: &Report, max: usize, w: &mut impl Write) -> io::Result<()> {
    let parts = component_parts(&report.clusters);
    for (c, &part) in report.clusters.iter().zip(&parts).take(max) {
        writeln!(w)?;
        writeln!(
            w,
            "Cluster {}: {} documents{}",
            c.id,
            c.members.len() + 1,
            part_note(c, part)
        )?;
        writeln!(
            w,
            "  keep    {}  ({})",
            shown(&c.kept),
            human_bytes(c.kept_bytes)
        )?;
        writeln!(w, "          \"{}\"", c.kept_preview)?;
        for m in &c.members {
            writeln!(
                w,
                "  {}   {}  ({})",
                similarity(m),
                shown(&m.doc),
                human_bytes(m.bytes)
            )?;
            if !m.exact {
                writeln!(w, "          \"{}\"", m.preview)?;
            }
        }
    }
    write_not_listed(
        w,
        report.clusters.len(),
        max,
        "more cluster",
        "more clusters",
    )
}

/// The first `max` passages, each with its first occurrences.
fn write_passages(report: &Report, max: usize, w: &mut impl Write) -> io::Result<()> {
    // A few occurrences keep a passage to a glance; the JSON report lists --max-occurrences.
    const SHOWN: usize = 10;
    for p in report.passages.iter().take(max) {
        writeln!(w)?;
        writeln!(
            w,
            "Passage {}: {} words, {}, {} occurrences, identity {:.3}",
            p.id,
            p.words,
            human_bytes(p.bytes),
            p.count,
            p.identity
        )?;
        writeln!(w, "          \"{}\"", p.preview)?;
        for o in p.occurrences.iter().take(SHOWN) {
            writeln!(
                w,
                "  {}  lines {}-{}  bytes {}..{}",
                shown(&o.doc),
                o.line_start,
                o.line_end,
                o.start,
                o.end
            )?;
        }
        if p.count > SHOWN.min(p.occurrences.len()) {
            writeln!(
                w,
                "  ... and {} more",
                p.count - SHOWN.min(p.occurrences.len())
            )?;
        }
    }
    write_not_listed(
        w,
        report.passages.len(),
        max,
        "more passage",
        "more passages",
    )
}

/// The line after a list cut to its first `max` items, when it was cut.
fn write_not_listed(
    w: &mut impl Write,
    items: usize,
    max: usize,
    one: &str,
    many: &str,
) -> io::Result<()> {
    if items > max {
        writeln!(w)?;
        writeln!(
            w,
            "... and {} (all of them are in --format json).",
            plural((items - max) as u64, one, many)
        )?;
    }
    Ok(())
}

/// The first `max` documents that repeat themselves, with how much of each is repeated.
fn write_self_repeating(report: &Report, max: usize, w: &mut impl Write) -> io::Result<()> {
    if report.self_repeating.is_empty() {
        return Ok(());
    }
    writeln!(w)?;
    writeln!(w, "Documents that repeat themselves:")?;
    for d in report.self_repeating.iter().take(max) {
        writeln!(
            w,
            "  {}  {} of {} repeated ({})",
            shown(&d.doc),
            human_bytes(d.cut_bytes),
            human_bytes(d.bytes),
            percent(d.cut_bytes, d.bytes)
        )?;
    }
    if report.self_repeating.len() > max {
        writeln!(w, "  ... and {} more", report.self_repeating.len() - max)?;
    }
    Ok(())
}

fn write_skipped(report: &Report, w: &mut impl Write) -> io::Result<()> {
    if report.skipped.is_empty() {
        return Ok(());
    }
    writeln!(w)?;
    writeln!(
        w,
        "Skipped {}:",
        plural(report.summary.skipped, "input", "inputs")
    )?;
    for k in &report.skipped {
        match k.line {
            Some(l) => writeln!(w, "  {}:{l}: {}", shown(&k.path), shown(&k.reason))?,
            None => writeln!(w, "  {}: {}", shown(&k.path), shown(&k.reason))?,
        }
    }
    if let Some(u) = &report.skipped_unlisted {
        writeln!(w, "  ... and {} more records, not listed:", u.records)?;
        for (why, n) in &u.by_reason {
            writeln!(w, "    {n}  {}", shown(why))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(3_879), "3.9 KB");
        assert_eq!(human_bytes(999_999), "1.0 MB");
        assert_eq!(human_bytes(978_000_000), "978.0 MB");
    }
}
