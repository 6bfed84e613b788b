//! Which documents' text the HTML report shows: the documents of its first [`TEXT_ITEMS`]
//! clusters and passages (as many occurrences per passage as the report lists), each read back
//! up to 1 MiB through [`crate::scan::excerpts`].
//!
//! This module chooses documents and keys their text by id; the reading itself is the scan's,
//! and it must not render anything.

use super::html::{TEXT_ITEMS, Texts};
use crate::ScanError;
use crate::corpus::ReadOptions;
use crate::result::ScanResult;
use crate::scan;

/// Bytes of each document read back for the page (it shows less: see [`super::SIDE_BYTES`]).
const EXCERPT_BYTES: usize = 1 << 20;

/// The texts [`super::write_html`] shows for `result`, read with `read` (the options the scan
/// read with). Documents from an index have no text and are left out.
pub fn html_texts(result: &ScanResult, read: &ReadOptions) -> Result<Texts, ScanError> {
    let mut want: Vec<u32> = result
        .clusters
        .iter()
        .take(TEXT_ITEMS)
        .flat_map(|c| std::iter::once(c.kept).chain(c.members.iter().map(|m| m.0)))
        .collect();
    let max_occ = result
        .params
        .passages
        .as_ref()
        .map_or(0, |p| p.max_occurrences);
    want.extend(
        result
            .passages
            .iter()
            .take(TEXT_ITEMS)
            .flat_map(|p| p.occurrences.iter().take(max_occ).map(|o| o.doc)),
    );
    let texts = scan::excerpts(result, &want, read, EXCERPT_BYTES)?;
    Ok(texts
        .into_iter()
        .map(|(d, t)| (result.docs.id(d).to_string(), t))
        .collect())
}
