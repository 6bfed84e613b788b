//! The HTML report: one self-contained page (no network, no external fonts or scripts) showing
//! the summary with a chart of similarities, the clusters with a side-by-side comparison of each
//! member with the kept document, and the repeated passages in their context.
//!
//! Document text is untrusted: everything that comes from the corpus goes through [`escape`]
//! and is only ever placed in element content or quoted attributes, never in the script, which
//! only shows, hides and filters elements that are already there.
//!
//! Large reports stay usable: items are paginated by the script, and text is shown for the
//! first [`TEXT_ITEMS`] clusters and passages only, cut to [`SIDE_BYTES`] per side of a
//! comparison and to a window around each occurrence; the page says what was cut.

use std::collections::HashMap;
use std::io::{self, Write};

use super::text::human_bytes;
use super::{
    ClusterReport, PassageReport, Report, component_parts, part_note, percent, similarity,
};
use crate::tokenize::{Tokens, tokenize};

/// Clusters and passages (each) whose text is shown.
pub const TEXT_ITEMS: usize = 100;
/// Bytes of each document shown in a comparison.
pub const SIDE_BYTES: usize = 4000;
/// Bytes of context shown around an occurrence, on each side.
const CONTEXT: usize = 240;
/// Longest stretch of an occurrence shown before its middle is elided.
const LONG: usize = 1600;

/// The texts a report shows, by document id: the bytes (possibly a prefix) and whether they
/// were cut.
pub type Texts = HashMap<String, (Vec<u8>, bool)>;

/// Escapes text for element content and quoted attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Bidirectional overrides and other controls could disguise text: shown, not obeyed.
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
                out.push_str(&format!("&lt;U+{:04X}&gt;", c as u32))
            }
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

fn esc_bytes(b: &[u8]) -> String {
    escape(&String::from_utf8_lossy(b))
}

/// Renders `a` and `b` with the words they share marked `same` and the others `diff`, from a
/// word-level longest common subsequence.
fn compare(a: &[u8], b: &[u8]) -> (String, String) {
    let (mut ta, mut tb) = (Tokens::default(), Tokens::default());
    tokenize(a, &mut ta);
    tokenize(b, &mut tb);
    let (n, m) = (ta.len(), tb.len());
    // dp[i][j]: LCS length of the suffixes a[i..], b[j..].
    let mut dp = vec![0u16; (n + 1) * (m + 1)];
    let at = |i: usize, j: usize| i * (m + 1) + j;
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            dp[at(i, j)] = if ta.word(i) == tb.word(j) {
                dp[at(i + 1, j + 1)] + 1
            } else {
                dp[at(i + 1, j)].max(dp[at(i, j + 1)])
            };
        }
    }
    let (mut same_a, mut same_b) = (vec![false; n], vec![false; m]);
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        if ta.word(i) == tb.word(j) {
            same_a[i] = true;
            same_b[j] = true;
            i += 1;
            j += 1;
        } else if dp[at(i + 1, j)] >= dp[at(i, j + 1)] {
            i += 1;
        } else {
            j += 1;
        }
    }
    (paint(a, &ta, &same_a), paint(b, &tb, &same_b))
}

fn paint(text: &[u8], t: &Tokens, same: &[bool]) -> String {
    let mut out = String::new();
    let mut at = 0;
    for (k, tok) in t.tokens.iter().enumerate() {
        out.push_str(&esc_bytes(&text[at..tok.span.start]));
        let class = if same[k] { "same" } else { "diff" };
        out.push_str(&format!(
            "<span class=\"{class}\">{}</span>",
            esc_bytes(&text[tok.span.clone()])
        ));
        at = tok.span.end;
    }
    out.push_str(&esc_bytes(&text[at..]));
    out
}

/// An occurrence in its context: a window of text before and after, the occurrence marked, its
/// middle elided when long.
fn in_context(text: &[u8], start: usize, end: usize) -> String {
    let start = start.min(text.len());
    let end = end.clamp(start, text.len());
    let before = floor_char(text, start.saturating_sub(CONTEXT));
    let after = ceil_char(text, (end + CONTEXT).min(text.len()));
    let mut out = String::new();
    if before > 0 {
        out.push('…');
    }
    out.push_str(&esc_bytes(&text[before..start]));
    out.push_str("<mark>");
    if end - start > LONG {
        let head = ceil_char(text, start + LONG / 2);
        let tail = floor_char(text, end - LONG / 2);
        out.push_str(&esc_bytes(&text[start..head]));
        out.push_str(&format!(
            "</mark><span class=\"cut\">[… {} not shown …]</span><mark>",
            human_bytes((tail - head) as u64)
        ));
        out.push_str(&esc_bytes(&text[tail..end]));
    } else {
        out.push_str(&esc_bytes(&text[start..end]));
    }
    out.push_str("</mark>");
    out.push_str(&esc_bytes(&text[end..after]));
    if after < text.len() {
        out.push('…');
    }
    out
}

fn floor_char(t: &[u8], mut i: usize) -> usize {
    while i > 0 && i < t.len() && (t[i] & 0xC0) == 0x80 {
        i -= 1;
    }
    i
}

fn ceil_char(t: &[u8], mut i: usize) -> usize {
    while i < t.len() && (t[i] & 0xC0) == 0x80 {
        i += 1;
    }
    i
}

const STYLE: &str = r#"
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
header{background:#22313f;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}
main{padding:16px 24px;max-width:1400px}
table.summary td{padding:2px 14px 2px 0}table.summary td.n{text-align:right;font-variant-numeric:tabular-nums}
h2{margin-top:28px;border-bottom:1px solid #ccc}
details.item{background:#fff;border:1px solid #ddd;border-radius:6px;margin:6px 0;padding:6px 10px}
details.item>summary{cursor:pointer}
.sides{display:grid;grid-template-columns:1fr 1fr;gap:12px}
pre{white-space:pre-wrap;word-wrap:break-word;background:#f4f4f4;padding:8px;border-radius:4px;max-height:480px;overflow:auto;font:12px/1.4 ui-monospace,monospace}
.same{background:#fff3b0}.diff{background:#ffd0d0;text-decoration:underline wavy #c00}
mark{background:#b6e3ff}.cut{color:#777;font-style:italic}
.note{color:#666}.pager button{margin:0 4px}
#filter{padding:6px;width:340px;margin:8px 0}
"#;

/// Page controls of a paginated section (driven by [`SCRIPT`]).
const PAGER: &str = r#"<div class="pager"><button class="prev">previous</button><span class="pos"></span><button class="next">next</button></div>"#;

const SCRIPT: &str = r#"
window.addEventListener('error',function(){
  var n=+(document.documentElement.getAttribute('data-errors')||0);
  document.documentElement.setAttribute('data-errors',String(n+1));
});
(function(){
  var PAGE=50;
  function pager(section){
    var items=[].slice.call(section.querySelectorAll('.item'));
    var nav=section.querySelector('.pager');
    var state={page:0};
    function shown(){return items.filter(function(x){return !x.classList.contains('filtered');});}
    function draw(){
      var vis=shown();var pages=Math.max(1,Math.ceil(vis.length/PAGE));
      if(state.page>=pages){state.page=pages-1;}
      items.forEach(function(x){x.hidden=true;});
      vis.slice(state.page*PAGE,(state.page+1)*PAGE).forEach(function(x){x.hidden=false;});
      nav.querySelector('.pos').textContent='page '+(state.page+1)+' of '+pages+' ('+vis.length+' shown)';
    }
    nav.querySelector('.prev').addEventListener('click',function(){if(state.page>0){state.page--;draw();}});
    nav.querySelector('.next').addEventListener('click',function(){state.page++;draw();});
    draw();
    return draw;
  }
  var redraws=[].slice.call(document.querySelectorAll('section.paged')).map(pager);
  var box=document.getElementById('filter');
  box.addEventListener('input',function(){
    var q=box.value.toLowerCase();
    [].slice.call(document.querySelectorAll('.item')).forEach(function(x){
      var hit=!q||x.getAttribute('data-docs').toLowerCase().indexOf(q)>=0;
      x.classList.toggle('filtered',!hit);
    });
    redraws.forEach(function(f){f();});
  });
  // A link to #cluster-N or #passage-N opens that item (and its first comparison).
  var target=location.hash&&document.getElementById(location.hash.slice(1));
  if(target&&target.tagName==='DETAILS'){
    target.hidden=false;target.open=true;
    var inner=target.querySelector('details.compare');if(inner){inner.open=true;}
    target.scrollIntoView();
  }
  // Lets a reader (or a headless browser) see that the page's script ran to the end.
  document.documentElement.setAttribute('data-ready','1');
})();
"#;

fn chart(report: &Report) -> String {
    // Similarity of each member to its kept document, in bins of 0.05 from 0.5 (below: one bin).
    let mut bins = [0u64; 11];
    for m in report.clusters.iter().flat_map(|c| &c.members) {
        let b = if m.similarity < 0.5 {
            0
        } else {
            (((m.similarity - 0.5) / 0.05).floor() as usize + 1).min(10)
        };
        bins[b] += 1;
    }
    let max = bins.iter().copied().max().unwrap_or(0).max(1);
    let (w, h, bar) = (470, 150, 40);
    let mut svg = format!(
        "<svg id=\"chart\" role=\"img\" aria-label=\"similarity of cluster members to their kept document\" width=\"{w}\" height=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">",
        h + 30
    );
    for (k, &n) in bins.iter().enumerate() {
        let bh = (n as f64 / max as f64 * h as f64).round() as i64;
        let x = 10 + k * (bar + 2);
        let label = if k == 0 {
            "<.5".to_string()
        } else {
            format!("{:.2}", 0.5 + 0.05 * (k - 1) as f64)
        };
        svg.push_str(&format!(
            "<rect x=\"{x}\" y=\"{}\" width=\"{bar}\" height=\"{bh}\" fill=\"#4a7db3\"><title>{label}: {n}</title></rect>\
             <text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\">{label}</text>\
             <text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\">{n}</text>",
            h as i64 - bh + 12,
            x + bar / 2,
            h + 26,
            x + bar / 2,
            (h as i64 - bh + 9).max(9)
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// Writes the HTML report. `texts` holds the text of the documents to show (see
/// [`TEXT_ITEMS`]); documents without text are listed without it.
pub fn write_html(report: &Report, texts: &Texts, mut w: impl Write) -> io::Result<()> {
    write_head(report, &mut w)?;
    write_summary(report, &mut w)?;
    writeln!(
        w,
        "<div><input id=\"filter\" type=\"search\" placeholder=\"Filter by document id\" aria-label=\"filter by document id\"></div>"
    )?;
    write_clusters(report, texts, &mut w)?;
    write_passages(report, texts, &mut w)?;
    write_skipped(report, &mut w)?;
    writeln!(w, "</main><script>{SCRIPT}</script></body></html>")
}

/// The page up to its main content: head with the style, and a header naming the parameters.
fn write_head(report: &Report, w: &mut impl Write) -> io::Result<()> {
    let p = &report.params;
    write!(
        w,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>dupsift report</title><style>{STYLE}</style></head><body>\
         <header><h1>dupsift report</h1><div>dupsift {} · {} {}-grams · threshold {} · {} permutations ({} x {})</div></header><main>",
        escape(report.version),
        p.unit,
        p.ngram,
        p.threshold,
        p.num_perm,
        p.bands,
        p.rows
    )
}

/// The summary table (each value tagged with its JSON key) and the chart of similarities.
fn write_summary(report: &Report, w: &mut impl Write) -> io::Result<()> {
    let s = &report.summary;
    writeln!(
        w,
        "<h2>Summary</h2><table class=\"summary\" id=\"summary\">"
    )?;
    let rows: Vec<(&str, &str, String)> = vec![
        ("documents", "Documents read", s.documents.to_string()),
        ("bytes", "Bytes read", s.bytes.to_string()),
        ("skipped", "Inputs skipped", s.skipped.to_string()),
        ("clusters", "Clusters", s.clusters.to_string()),
        (
            "duplicate_documents",
            "Documents a cleanup would remove",
            s.duplicate_documents.to_string(),
        ),
        (
            "duplicate_bytes",
            "Their bytes",
            format!(
                "{} ({})",
                s.duplicate_bytes,
                percent(s.duplicate_bytes, s.bytes)
            ),
        ),
        (
            "exact_duplicate_documents",
            "Exact copies of a kept document",
            s.exact_duplicate_documents.to_string(),
        ),
        ("passages", "Repeated passages", s.passages.to_string()),
        (
            "passage_documents",
            "Documents holding one",
            s.passage_documents.to_string(),
        ),
        (
            "self_repeating_documents",
            "Documents repeating themselves",
            s.self_repeating_documents.to_string(),
        ),
        (
            "passage_cut_bytes",
            "Bytes a passage cleanup would cut",
            format!(
                "{} ({})",
                s.passage_cut_bytes,
                percent(s.passage_cut_bytes, s.bytes)
            ),
        ),
    ];
    for (key, label, value) in rows {
        writeln!(
            w,
            "<tr><td>{label}</td><td class=\"n\" data-key=\"{key}\">{}</td></tr>",
            escape(&value)
        )?;
    }
    writeln!(w, "</table>")?;
    writeln!(
        w,
        "<h3>Similarity of cluster members to their kept document</h3>{}",
        chart(report)
    )
}

/// Opens a section that [`SCRIPT`] paginates: its heading with the number of items, a note when
/// text is shown for the first [`TEXT_ITEMS`] items only, and the page controls.
fn open_paged_section(
    w: &mut impl Write,
    id: &str,
    title: &str,
    items: usize,
    note: &str,
) -> io::Result<()> {
    writeln!(
        w,
        "<section class=\"paged\" id=\"{id}\"><h2>{title} ({items})</h2>"
    )?;
    if items > TEXT_ITEMS {
        writeln!(w, "<p class=\"note\">{note}</p>")?;
    }
    writeln!(w, "{PAGER}")
}

fn write_clusters(report: &Report, texts: &Texts, w: &mut impl Write) -> io::Result<()> {
    open_paged_section(
        w,
        "clusters",
        "Clusters",
        report.clusters.len(),
        &format!(
            "Comparisons are shown for the first {TEXT_ITEMS} clusters; the others list their members."
        ),
    )?;
    let parts = component_parts(&report.clusters);
    for (k, (c, &part)) in report.clusters.iter().zip(&parts).enumerate() {
        write_cluster(c, part, (k < TEXT_ITEMS).then_some(texts), w)?;
    }
    writeln!(w, "</section>")
}

/// One cluster: its members in a table, then (when `texts` is given and holds the kept
/// document) a comparison of each member with the kept document.
fn write_cluster(
    c: &ClusterReport,
    part: (usize, usize),
    texts: Option<&Texts>,
    w: &mut impl Write,
) -> io::Result<()> {
    let ids: Vec<&str> = std::iter::once(c.kept.as_str())
        .chain(c.members.iter().map(|m| m.doc.as_str()))
        .collect();
    writeln!(
        w,
        "<details class=\"item cluster\" id=\"cluster-{}\" data-docs=\"{}\"><summary>Cluster {}: {} documents{} — keep <b>{}</b></summary>",
        c.id,
        escape(&ids.join(" ")),
        c.id,
        c.members.len() + 1,
        escape(&part_note(c, part)),
        escape(&c.kept)
    )?;
    writeln!(
        w,
        "<table><tr><th>document</th><th>similarity</th><th>bytes</th></tr><tr><td>{} (kept)</td><td></td><td>{}</td></tr>",
        escape(&c.kept),
        c.kept_bytes
    )?;
    for m in &c.members {
        writeln!(
            w,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&m.doc),
            similarity(m),
            m.bytes
        )?;
    }
    writeln!(w, "</table>")?;
    if let Some(texts) = texts
        && let Some((kept, kept_cut)) = texts.get(&c.kept)
    {
        for m in &c.members {
            if let Some((member, member_cut)) = texts.get(&m.doc) {
                write_comparison(
                    &c.kept,
                    side(kept, *kept_cut),
                    &m.doc,
                    side(member, *member_cut),
                    w,
                )?;
            }
        }
    }
    writeln!(w, "</details>")
}

/// A member beside the kept document, the words they share and the others marked; each side is
/// the text shown and whether it was cut.
fn write_comparison(
    kept_id: &str,
    (a, a_cut): (&[u8], bool),
    member_id: &str,
    (b, b_cut): (&[u8], bool),
    w: &mut impl Write,
) -> io::Result<()> {
    let (pa, pb) = compare(a, b);
    writeln!(
        w,
        "<details class=\"compare\"><summary>compare {} with the kept document</summary>\
         <p class=\"note\">Words in both are <span class=\"same\">highlighted</span>; words in one only are <span class=\"diff\">marked</span>.{}</p>\
         <div class=\"sides\"><div><b>{}</b> (kept)<pre class=\"kept\">{pa}</pre></div><div><b>{}</b><pre class=\"member\">{pb}</pre></div></div></details>",
        escape(member_id),
        if a_cut || b_cut {
            format!(
                " Only the first {} bytes of each document are shown.",
                SIDE_BYTES
            )
        } else {
            String::new()
        },
        escape(kept_id),
        escape(member_id)
    )
}

fn write_passages(report: &Report, texts: &Texts, w: &mut impl Write) -> io::Result<()> {
    open_paged_section(
        w,
        "passages",
        "Repeated passages",
        report.passages.len(),
        &format!("Occurrences are shown in context for the first {TEXT_ITEMS} passages."),
    )?;
    for (k, ps) in report.passages.iter().enumerate() {
        write_passage(ps, (k < TEXT_ITEMS).then_some(texts), w)?;
    }
    writeln!(w, "</section>")
}

/// One passage: its listed occurrences, each in its context when `texts` is given and holds
/// its document.
fn write_passage(ps: &PassageReport, texts: Option<&Texts>, w: &mut impl Write) -> io::Result<()> {
    let mut ids: Vec<&str> = ps.occurrences.iter().map(|o| o.doc.as_str()).collect();
    ids.dedup();
    writeln!(
        w,
        "<details class=\"item passage\" id=\"passage-{}\" data-docs=\"{}\"><summary>Passage {}: {} words, {}, {} occurrences, identity {:.3} — “{}”</summary>",
        ps.id,
        escape(&ids.join(" ")),
        ps.id,
        ps.words,
        human_bytes(ps.bytes),
        ps.count,
        ps.identity,
        escape(&ps.preview)
    )?;
    if ps.count > ps.occurrences.len() {
        writeln!(
            w,
            "<p class=\"note\">{} of {} occurrences are listed (--max-occurrences).</p>",
            ps.occurrences.len(),
            ps.count
        )?;
    }
    for o in &ps.occurrences {
        writeln!(
            w,
            "<div class=\"occurrence\"><b>{}</b> lines {}–{}, bytes {}..{}",
            escape(&o.doc),
            o.line_start,
            o.line_end,
            o.start,
            o.end
        )?;
        if let Some(texts) = texts
            && let Some((text, _)) = texts.get(&o.doc)
            && (o.end as usize) <= text.len()
        {
            writeln!(
                w,
                "<pre class=\"context\">{}</pre>",
                in_context(text, o.start as usize, o.end as usize)
            )?;
        }
        writeln!(w, "</div>")?;
    }
    writeln!(w, "</details>")
}

fn write_skipped(report: &Report, w: &mut impl Write) -> io::Result<()> {
    if report.skipped.is_empty() {
        return Ok(());
    }
    writeln!(
        w,
        "<h2>Skipped inputs ({})</h2><ul>",
        report.summary.skipped
    )?;
    for k in &report.skipped {
        writeln!(
            w,
            "<li>{}{}: {}</li>",
            escape(&k.path),
            k.line.map(|l| format!(":{l}")).unwrap_or_default(),
            escape(&k.reason)
        )?;
    }
    if let Some(u) = &report.skipped_unlisted {
        writeln!(w, "<li>… and {} more records, not listed:<ul>", u.records)?;
        for (why, n) in &u.by_reason {
            writeln!(w, "<li>{n} {}</li>", escape(why))?;
        }
        writeln!(w, "</ul></li>")?;
    }
    writeln!(w, "</ul>")
}

fn side(text: &[u8], cut: bool) -> (&[u8], bool) {
    if text.len() > SIDE_BYTES {
        (&text[..floor_char(text, SIDE_BYTES)], true)
    } else {
        (text, cut)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untrusted_text_is_escaped() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert_eq!(escape("a\u{202e}b"), "a&lt;U+202E&gt;b");
        assert_eq!(escape("a\u{7}b\nc"), "a\u{fffd}b\nc");
    }

    #[test]
    fn comparisons_mark_shared_and_different_words() {
        let (a, b) = compare(b"the cat sat", b"the dog sat");
        assert!(a.contains("<span class=\"same\">the</span>"));
        assert!(a.contains("<span class=\"diff\">cat</span>"));
        assert!(b.contains("<span class=\"diff\">dog</span>"));
        assert!(b.contains("<span class=\"same\">sat</span>"));
    }

    #[test]
    fn occurrences_are_marked_in_their_context() {
        let text = b"before <b> passage text after";
        let html = in_context(text, 11, 23);
        assert_eq!(html, "before &lt;b&gt; <mark>passage text</mark> after");
        let long = vec![b'x'; 5000];
        let html = in_context(&long, 0, 5000);
        assert!(html.contains("not shown"));
        assert!(html.len() < 2500);
    }
}
