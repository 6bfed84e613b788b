//! Stage 6: verify candidate pairs, keeping those whose similarity reaches the threshold.
//!
//! `exact` mode computes the true Jaccard of the two documents' shingle sets (sorted, unique
//! `u64` hashes); `estimate` mode uses the agreement of their MinHash signatures. Exact
//! verification removes the estimate's ±`sqrt(J(1-J)/num_perm)` blur around the threshold.
//!
//! This stage judges pairs; it must not build clusters or read documents.

use rayon::prelude::*;

/// How candidate pairs are judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verify {
    /// True Jaccard of the shingle sets (documents are read a second time).
    Exact,
    /// MinHash signature agreement (no second read; signatures are kept in memory).
    Estimate,
}

/// Jaccard similarity of two sorted, duplicate-free slices. Two empty sets have similarity 0:
/// documents without shingles are never near-duplicates of anything (exact duplicates are
/// found by content hash instead).
pub fn jaccard_sorted(a: &[u64], b: &[u64]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 0.0;
    }
    let (mut i, mut j, mut inter) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                inter += 1;
                i += 1;
                j += 1;
            }
        }
    }
    inter as f64 / (a.len() + b.len() - inter) as f64
}

/// A pair that passed verification, with its similarity.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Verified {
    /// Smaller document index.
    pub a: u32,
    /// Larger document index.
    pub b: u32,
    /// Similarity of the pair (exact or estimated, per [`Verify`]).
    pub similarity: f64,
}

/// Scores `pairs` in parallel with `similarity(a, b)` and keeps those at or above `threshold`,
/// in the order of `pairs`.
pub fn verify_pairs(
    pairs: &[(u32, u32)],
    threshold: f64,
    similarity: impl Fn(u32, u32) -> f64 + Sync,
) -> Vec<Verified> {
    pairs
        .par_iter()
        .filter_map(|&(a, b)| {
            let s = similarity(a, b);
            (s >= threshold).then_some(Verified {
                a,
                b,
                similarity: s,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn jaccard_of_known_sets() {
        assert_eq!(jaccard_sorted(&[1, 2, 3], &[2, 3, 4]), 0.5);
        assert_eq!(jaccard_sorted(&[1], &[1]), 1.0);
        assert_eq!(jaccard_sorted(&[], &[1]), 0.0);
        assert_eq!(jaccard_sorted(&[], &[]), 0.0);
    }

    #[test]
    fn verification_keeps_pairs_at_the_threshold() {
        let sims = [0.79, 0.8, 0.95];
        let pairs = [(0, 1), (0, 2), (1, 2)];
        let kept = verify_pairs(&pairs, 0.8, |a, b| sims[(a + b - 1) as usize]);
        let kept: Vec<_> = kept.iter().map(|v| (v.a, v.b)).collect();
        assert_eq!(kept, [(0, 2), (1, 2)]);
    }

    proptest! {
        #[test]
        fn jaccard_is_symmetric_and_bounded(
            a in proptest::collection::btree_set(0u64..100, 0..40),
            b in proptest::collection::btree_set(0u64..100, 0..40),
        ) {
            let a: Vec<u64> = a.into_iter().collect();
            let b: Vec<u64> = b.into_iter().collect();
            let j = jaccard_sorted(&a, &b);
            prop_assert_eq!(j, jaccard_sorted(&b, &a));
            prop_assert!((0.0..=1.0).contains(&j));
            if !a.is_empty() {
                prop_assert_eq!(jaccard_sorted(&a, &a), 1.0);
            }
        }
    }
}
