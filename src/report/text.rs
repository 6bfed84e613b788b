//! The human report: a summary a person can read at a glance, then the clusters with each
//! member's similarity and a preview, then what was skipped and why.

use std::io::{self, Write};

use super::Report;

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

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "0%".into()
    } else {
        format!("{:.1}%", part as f64 * 100.0 / whole as f64)
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Writes the text report. `max_clusters` limits how many clusters are listed in full (the
/// summary always counts all of them).
pub fn write_text(report: &Report, max_clusters: usize, mut w: impl Write) -> io::Result<()> {
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
        "{} {}-grams, {} permutations ({} bands x {} rows), threshold {}, {} verification",
        p.unit,
        p.ngram,
        p.num_perm,
        p.bands,
        p.rows,
        p.threshold,
        match p.verify {
            crate::verify::Verify::Exact => "exact",
            crate::verify::Verify::Estimate => "estimated",
        }
    )?;
    writeln!(w)?;
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
        match p.keep {
            crate::cluster::KeepPolicy::First => "first",
            crate::cluster::KeepPolicy::Longest => "longest",
            crate::cluster::KeepPolicy::Shortest => "shortest",
        },
        plural(s.duplicate_documents, "document", "documents"),
        percent(s.duplicate_documents, s.documents),
        human_bytes(s.duplicate_bytes),
        percent(s.duplicate_bytes, s.bytes)
    )?;
    if s.invalid_utf8_documents > 0 {
        writeln!(
            w,
            "{} had invalid UTF-8 (read lossily).",
            plural(s.invalid_utf8_documents, "document", "documents")
        )?;
    }

    for c in report.clusters.iter().take(max_clusters) {
        writeln!(w)?;
        writeln!(w, "Cluster {}: {} documents", c.id, c.members.len() + 1)?;
        writeln!(w, "  keep    {}  ({})", c.kept, human_bytes(c.kept_bytes))?;
        writeln!(w, "          \"{}\"", c.kept_preview)?;
        for m in &c.members {
            let sim = if m.exact {
                "exact ".to_string()
            } else {
                format!("{:.3} ", m.similarity)
            };
            writeln!(w, "  {sim}  {}  ({})", m.doc, human_bytes(m.bytes))?;
            if !m.exact {
                writeln!(w, "          \"{}\"", m.preview)?;
            }
        }
    }
    if report.clusters.len() > max_clusters {
        writeln!(w)?;
        writeln!(
            w,
            "... and {} more clusters (all of them are in --format json).",
            report.clusters.len() - max_clusters
        )?;
    }
    if !report.skipped.is_empty() {
        writeln!(w)?;
        writeln!(w, "Skipped {}:", plural(s.skipped, "input", "inputs"))?;
        for k in &report.skipped {
            match k.line {
                Some(l) => writeln!(w, "  {}:{l}: {}", k.path, k.reason)?,
                None => writeln!(w, "  {}: {}", k.path, k.reason)?,
            }
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

    #[test]
    fn percentages_survive_empty_corpora() {
        assert_eq!(percent(1, 0), "0%");
        assert_eq!(percent(1, 8), "12.5%");
    }
}
