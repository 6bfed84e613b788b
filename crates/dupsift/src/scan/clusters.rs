//! Clusters: connected components of exact duplication and verified pairs, split into the
//! clusters a cleanup removes, each with the member it keeps and every other member's
//! similarity to it.
//!
//! Components come first ([`components`]); the kept members are chosen once passages are
//! located ([`clusters`]), so that a policy by length compares documents after their repeats
//! of their own passages are cut: a body pasted twice does not make a document "longest".
//! By default a component is split around kept documents ([`crate::cluster::split`]); with
//! [`Clustering::Components`] each component is one cluster.
//!
//! This module must not read documents itself: similarities it lacks come from
//! [`Similarity`], computed as the candidates' were.

use rustc_hash::{FxHashMap, FxHashSet};

use super::pairs::Similarity;
use crate::cluster::{Clustering, KeepPolicy, UnionFind, keep_key, split};
use crate::corpus::Corpus;
use crate::error::ScanError;
use crate::params::{Params, preference};
use crate::progress::Progress;
use crate::result::{Cluster, DocTable, Pair};

/// The components of `docs` joined by `pairs` and by exact duplication, in canonical order
/// (largest first, then by first member), each sorted.
pub(super) fn components(docs: &DocTable, pairs: &[Pair]) -> Vec<Vec<u32>> {
    let mut uf = UnionFind::new(docs.len());
    for d in 0..docs.len() as u32 {
        uf.union(d, docs.original[d as usize]);
    }
    for p in pairs {
        uf.union(p.a, p.b);
    }
    uf.components()
}

/// How a cluster's kept member is chosen: among the members of the best `--prefer` rank, by
/// the keep policy, ranking lengths after each document's self-repeats are cut.
pub(super) struct Keep<'a> {
    policy: KeepPolicy,
    /// Each document's source rank; `None` without `--prefer`.
    ranks: Option<Vec<u32>>,
    /// What `longest`/`shortest` compare; `None`: the bytes (no policy by length, or nothing
    /// to subtract).
    sizes: Option<Vec<u64>>,
    bytes: &'a [u64],
    /// Each document's value of the policy's field (empty without one).
    values: &'a [f64],
    /// Documents `0..prior` come from an index: always kept, never removed.
    prior: u32,
}

impl<'a> Keep<'a> {
    /// The choice for a scan with `params`, given its self-repeats (see
    /// [`crate::result::ScanResult::self_repeating`]) and how many documents come from an
    /// index.
    pub fn new(
        docs: &'a DocTable,
        corpus: &Corpus,
        params: &Params,
        self_repeating: &[(u32, u64)],
        prior: u32,
    ) -> Keep<'a> {
        let by_length = matches!(params.keep, KeepPolicy::Longest | KeepPolicy::Shortest);
        Keep {
            policy: params.keep.clone(),
            ranks: preference_ranks(docs, corpus, &params.prefer),
            sizes: (by_length && !self_repeating.is_empty())
                .then(|| sizes_after_self_cuts(docs, self_repeating)),
            bytes: &docs.bytes,
            values: &docs.rank,
            prior,
        }
    }

    /// How worth keeping document `d` is: the smallest key is kept. Indexed documents come
    /// before all others: they are in the corpus already.
    fn key(&self, d: u32) -> (bool, u32, u64, u64) {
        let sizes = self.sizes.as_deref().unwrap_or(self.bytes);
        let rank = self.ranks.as_ref().map_or(0, |r| r[d as usize]);
        let value = self.values.get(d as usize).copied().unwrap_or(f64::NAN);
        let (primary, tie) = keep_key(&self.policy, d, sizes[d as usize], value);
        (d >= self.prior, rank, primary, tie)
    }

    /// The kept member of `members` (non-empty).
    fn of(&self, members: &[u32]) -> u32 {
        *members
            .iter()
            .min_by_key(|&&d| self.key(d))
            .expect("non-empty")
    }

    /// `members`, most worth keeping first.
    fn order(&self, members: &[u32]) -> Vec<u32> {
        let mut order = members.to_vec();
        order.sort_by_cached_key(|&d| self.key(d));
        order
    }
}

/// The clusters of `components` (see [`Clustering`]): the kept member of each (see [`Keep`])
/// and every other member's similarity to it.
pub(super) fn clusters(
    components: Vec<Vec<u32>>,
    docs: &DocTable,
    pairs: &[Pair],
    keep: &Keep<'_>,
    similarity: &Similarity<'_>,
    progress: &Progress,
) -> Result<Vec<Cluster>, ScanError> {
    match similarity.params.clusters {
        Clustering::Threshold => Ok(split_components(components, docs, pairs, keep)),
        Clustering::Components => {
            whole_components(components, docs, pairs, keep, similarity, progress)
        }
    }
}

/// Each component split around kept documents: every member within the threshold of its
/// kept document, its similarity the verified pair's.
fn split_components(
    components: Vec<Vec<u32>>,
    docs: &DocTable,
    pairs: &[Pair],
    keep: &Keep<'_>,
) -> Vec<Cluster> {
    // Both directions of each pair, by document: `near(o)` is a slice of it.
    let mut near: Vec<(u32, u32, f64)> = pairs
        .iter()
        .flat_map(|p| {
            let (a, b) = (docs.original[p.a as usize], docs.original[p.b as usize]);
            [(a, b, p.similarity), (b, a, p.similarity)]
        })
        .collect();
    near.sort_unstable_by_key(|e| (e.0, e.1));
    let (from, to): (Vec<u32>, Vec<(u32, f64)>) =
        near.into_iter().map(|(a, b, s)| (a, (b, s))).unzip();
    let near = |o: u32| equal_run(&from, &to, o);
    let mut out = Vec::new();
    let mut taken = FxHashSet::default();
    for (c, members) in components.into_iter().enumerate() {
        // The exact-duplicate classes of this component, by original.
        let mut by_original: Vec<(u32, u32)> = members
            .iter()
            .map(|&d| (docs.original[d as usize], d))
            .collect();
        by_original.sort_unstable();
        let (originals, copies): (Vec<u32>, Vec<u32>) = by_original.into_iter().unzip();
        let class = |o: u32| equal_run(&originals, &copies, o);
        taken.clear();
        let order = keep.order(&members);
        let pinned = |d: u32| d < keep.prior;
        let original = |d: u32| docs.original[d as usize];
        for (kept, members) in split(&order, class, original, near, pinned, &mut taken) {
            out.push(Cluster {
                kept,
                members,
                component: c as u32,
            });
        }
    }
    out
}

/// The values whose key is `k`, `keys` sorted and aligned with `values`.
fn equal_run<'v, T>(keys: &[u32], values: &'v [T], k: u32) -> &'v [T] {
    let lo = keys.partition_point(|&x| x < k);
    let hi = lo + keys[lo..].partition_point(|&x| x == k);
    &values[lo..hi]
}

/// Each component one cluster: members may be far from the kept document, their
/// similarities computed like the candidates' were when no verified pair gives them.
fn whole_components(
    components: Vec<Vec<u32>>,
    docs: &DocTable,
    pairs: &[Pair],
    keep: &Keep<'_>,
    similarity: &Similarity<'_>,
    progress: &Progress,
) -> Result<Vec<Cluster>, ScanError> {
    let kept_of: Vec<u32> = components.iter().map(|members| keep.of(members)).collect();
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
        .enumerate()
        .map(|(c, (members, kept))| {
            let members = members
                .into_iter()
                .filter(|&m| m != kept)
                .map(|m| {
                    let (a, b) = key(kept, m);
                    (m, if a == b { 1.0 } else { known[&(a, b)] })
                })
                .collect();
            Cluster {
                kept,
                members,
                component: c as u32,
            }
        })
        .collect())
}

/// Each document's source rank for `--prefer`: the index of the first pattern its id or its
/// file's name matches, `patterns.len()` when none does. `None` without patterns.
fn preference_ranks(docs: &DocTable, corpus: &Corpus, patterns: &[String]) -> Option<Vec<u32>> {
    if patterns.is_empty() {
        return None;
    }
    let set = preference(patterns).expect("patterns are checked when the parameters are built");
    let first = |name: &str| set.matches(name).first().copied();
    Some(
        (0..docs.len() as u32)
            .map(|d| {
                let source = corpus
                    .sources
                    .get(docs.locs[d as usize].source as usize)
                    .map(|s| s.name.as_str());
                let by_id = first(docs.id(d));
                let by_file = source.and_then(first);
                by_id
                    .into_iter()
                    .chain(by_file)
                    .min()
                    .unwrap_or(patterns.len()) as u32
            })
            .collect(),
    )
}

/// What the keep policy ranks: each document's bytes less the bytes a cleanup of its
/// self-repeats cuts (`self_repeating`: originals, in document order; an exact copy has its
/// original's).
fn sizes_after_self_cuts(docs: &DocTable, self_repeating: &[(u32, u64)]) -> Vec<u64> {
    let mut cut = vec![0u64; docs.len()];
    for &(d, n) in self_repeating {
        cut[d as usize] = n;
    }
    (0..docs.len())
        .map(|d| docs.bytes[d].saturating_sub(cut[docs.original[d] as usize]))
        .collect()
}

/// The signatures of the documents in `components` only (`--verify estimate` keeps one per
/// document until clusters are built; the passes between need only these), with each
/// document's row (`u32::MAX`: not kept).
pub(super) fn clustered_signatures(
    sigs: &[u32],
    num_perm: usize,
    components: &[Vec<u32>],
    docs: usize,
) -> (Vec<u32>, Vec<u32>) {
    let mut rows = vec![u32::MAX; docs];
    let mut kept = Vec::with_capacity(components.iter().map(Vec::len).sum::<usize>() * num_perm);
    for &d in components.iter().flatten() {
        rows[d as usize] = (kept.len() / num_perm) as u32;
        let d = d as usize;
        kept.extend_from_slice(&sigs[d * num_perm..(d + 1) * num_perm]);
    }
    (kept, rows)
}
