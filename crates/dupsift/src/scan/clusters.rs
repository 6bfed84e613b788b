//! Clusters: connected components of exact duplication and verified pairs, each with the
//! member a cleanup keeps and every other member's similarity to it.
//!
//! This module must not read documents itself: similarities it lacks come from
//! [`Similarity`], computed as the candidates' were.

use rustc_hash::FxHashMap;

use super::pairs::Similarity;
use crate::cluster::{KeepPolicy, UnionFind, choose_kept};
use crate::error::ScanError;
use crate::progress::Progress;
use crate::result::{Cluster, DocTable, Pair};

/// The clusters of `docs` joined by `pairs` (and by exact duplication), in canonical order.
pub(super) fn clusters(
    docs: &DocTable,
    pairs: &[Pair],
    keep: KeepPolicy,
    similarity: &Similarity<'_>,
    progress: &Progress,
) -> Result<Vec<Cluster>, ScanError> {
    let mut uf = UnionFind::new(docs.len());
    for d in 0..docs.len() as u32 {
        uf.union(d, docs.original[d as usize]);
    }
    for p in pairs {
        uf.union(p.a, p.b);
    }
    let components = uf.components();
    let kept_of: Vec<u32> = components
        .iter()
        .map(|members| choose_kept(members, &docs.bytes, keep))
        .collect();
    // Each member's similarity to its kept document: known for exact duplicates and verified
    // pairs; the others are computed like the candidates were.
    let key = |a: u32, b: u32| {
        let (oa, ob) = (docs.original[a as usize], docs.original[b as usize]);
        (oa.min(ob), oa.max(ob))
    };
    let mut known: FxHashMap<(u32, u32), f64> =
        pairs.iter().map(|p| ((p.a, p.b), p.similarity)).collect();
    let mut missing: Vec<(u32, u32)> = components
        .iter()
        .zip(&kept_of)
        .flat_map(|(members, &kept)| members.iter().map(move |&m| key(kept, m)))
        .filter(|(a, b)| a != b && !known.contains_key(&(*a, *b)))
        .collect();
    missing.sort_unstable();
    missing.dedup();
    let sims = similarity.of(&missing, progress)?;
    known.extend(missing.into_iter().zip(sims));
    Ok(components
        .into_iter()
        .zip(kept_of)
        .map(|(members, kept)| {
            let members = members
                .into_iter()
                .filter(|&m| m != kept)
                .map(|m| {
                    let (a, b) = key(kept, m);
                    (m, if a == b { 1.0 } else { known[&(a, b)] })
                })
                .collect();
            Cluster { kept, members }
        })
        .collect())
}
