//! The duplicates as a table: one tab-separated line per document a cleanup would remove, with
//! the document it duplicates — what a data pipeline joins against (a removal list with its
//! reasons) without parsing the JSON report.

use std::io::{self, Write};

use super::Report;

/// The header line of [`write_tsv`].
pub const TSV_HEADER: &str = "cluster\tkept\tdoc\tsimilarity\texact\tbytes\tcomponent";

/// Writes the header, then for every cluster (in the report's order) and every member other
/// than the kept document (in input order): cluster id, kept id, member id, similarity to the
/// kept document (4 decimals), `true`/`false` for a byte-identical copy, member size in bytes,
/// the cluster's component. Ids are escaped so that each record stays one line of seven fields: backslash, tab, line feed
/// and carriage return become `\\`, `\t`, `\n` and `\r`.
pub fn write_tsv(report: &Report, mut w: impl Write) -> io::Result<()> {
    writeln!(w, "{TSV_HEADER}")?;
    for c in &report.clusters {
        let kept = escape(&c.kept);
        for m in &c.members {
            writeln!(
                w,
                "{}\t{kept}\t{}\t{:.4}\t{}\t{}\t{}",
                c.id,
                escape(&m.doc),
                m.similarity,
                m.exact,
                m.bytes,
                c.component
            )?;
        }
    }
    Ok(())
}

fn escape(id: &str) -> std::borrow::Cow<'_, str> {
    if !id.contains(['\\', '\t', '\n', '\r']) {
        return id.into();
    }
    let mut out = String::with_capacity(id.len() + 2);
    for c in id.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_stay_on_one_line_of_six_fields() {
        assert_eq!(escape("plain id"), "plain id");
        assert_eq!(escape("a\tb\nc\r\\d"), "a\\tb\\nc\\r\\\\d");
    }
}
