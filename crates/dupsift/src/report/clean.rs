//! What `dupsift clean` prints: the plan of a dry run (one line per removed document and per
//! cut), what the records are annotated with, and the totals of a cleanup.
//!
//! This module renders a cleanup already decided; it must not plan, write files or print.

use std::io::{self, Write};
use std::path::Path;

use super::shown;
use super::text::human_bytes;
use crate::plan::{Annotate, Plan, Reason, Totals};
use crate::result::ScanResult;

/// Writes one line per document `plan` removes, then one per range it cuts.
pub fn write_plan(result: &ScanResult, plan: &Plan, mut w: impl Write) -> io::Result<()> {
    let docs = &result.docs;
    for (&d, r) in &plan.removed {
        writeln!(
            w,
            "remove  {}  ({}, {} of {}, similarity {:.3})",
            shown(docs.id(d)),
            human_bytes(docs.bytes[d as usize]),
            match r.reason {
                Reason::ExactDuplicate => "exact duplicate",
                _ => "near-duplicate",
            },
            shown(docs.id(r.kept)),
            r.similarity
        )?;
    }
    for (&d, cuts) in &plan.cuts {
        for c in cuts {
            writeln!(
                w,
                "cut     {}  bytes {}..{}  ({}, passage {} kept in {})",
                shown(docs.id(d)),
                c.bytes.start,
                c.bytes.end,
                human_bytes(c.bytes.end - c.bytes.start),
                c.passage,
                shown(docs.id(c.kept_in))
            )?;
        }
    }
    Ok(())
}

/// Writes one line saying which fields the JSONL records written get (nothing without
/// annotation).
pub fn write_annotate(annotate: Annotate, dry_run: bool, mut w: impl Write) -> io::Result<()> {
    let get = if dry_run { "would get" } else { "gets" };
    match annotate {
        Annotate::None => Ok(()),
        Annotate::Kept => writeln!(w, "annotate: every record kept {get} {}", fields(annotate)),
        Annotate::Only => writeln!(
            w,
            "annotate: every record, nothing removed or cut, {get} {}",
            fields(annotate)
        ),
    }
}

/// `a, b and c`.
fn fields(annotate: Annotate) -> String {
    match annotate.fields() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Writes the totals of a cleanup: documents, bytes, and what was written (`out`), or that a
/// dry run wrote nothing.
pub fn write_totals(
    t: &Totals,
    dry_run: bool,
    out: Option<&Path>,
    mut w: impl Write,
) -> io::Result<()> {
    let would = if dry_run { "would be " } else { "" };
    writeln!(
        w,
        "documents: {} in, {} kept, {} {}removed, {} with passages {}cut; {} {} skipped by the scan (those that could be read are copied as they were)",
        t.documents_in,
        t.kept,
        t.removed,
        would,
        t.cut_documents,
        would,
        t.skipped,
        if t.skipped == 1 { "input" } else { "inputs" }
    )?;
    writeln!(
        w,
        "bytes: {} in, {} out, {} in removed documents, {} cut",
        human_bytes(t.bytes_in),
        human_bytes(t.bytes_out),
        human_bytes(t.bytes_removed),
        human_bytes(t.bytes_cut)
    )?;
    match (dry_run, out) {
        (true, _) => writeln!(w, "dry run: nothing written"),
        (false, Some(out)) => writeln!(
            w,
            "wrote {} (with manifest.jsonl and report.json)",
            shown(&out.to_string_lossy())
        ),
        (false, None) => Ok(()),
    }
}
