//! Stage 5: locality-sensitive hashing. Cuts signatures into `bands` bands of `rows` values,
//! hashes each band to a key, and turns documents that share a key in some band into candidate
//! pairs.
//!
//! Two documents with Jaccard `s` become candidates with probability `1 - (1 - s^rows)^bands`
//! (the S-curve). [`optimal_banding`] chooses `(bands, rows)` as datasketch does, by minimising
//! the weighted areas of false positives below the threshold and false negatives above it, but
//! only among bandings that make a pair *at* the threshold a candidate with probability at least
//! [`DEFAULT_MIN_RECALL`]. The unconstrained optimum (datasketch's default) is steep around the
//! threshold and misses pairs just above it (at 0.8 with 128 permutations it picks 9 x 13,
//! which catches a pair at J = 0.8 with probability 0.40); dupsift verifies every candidate, so
//! a false candidate costs one verification while a missed pair is lost for good.
//!
//! This stage proposes pairs; it must not decide what is a duplicate.

use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// Least probability that a pair at exactly the threshold becomes a candidate, for the default
/// banding.
pub const DEFAULT_MIN_RECALL: f64 = 0.995;

/// A bucket with more members than this contributes a star and a chain (each member paired
/// with the bucket's first document and with its predecessor) instead of every pair, so that
/// boilerplate shared by thousands of documents does not make candidate generation quadratic.
pub const MAX_FULL_BUCKET: usize = 64;

fn integrate(f: impl Fn(f64) -> f64, a: f64, b: f64) -> f64 {
    // Midpoint rule; the S-curve is smooth and this only ranks candidates.
    const STEPS: usize = 200;
    let h = (b - a) / STEPS as f64;
    (0..STEPS).map(|i| f(a + (i as f64 + 0.5) * h)).sum::<f64>() * h
}

/// Probability that two documents with Jaccard `s` share at least one band.
pub fn candidate_probability(s: f64, bands: usize, rows: usize) -> f64 {
    1.0 - (1.0 - s.powi(rows as i32)).powi(bands as i32)
}

/// Chooses `(bands, rows)` with `bands * rows <= num_perm` minimising
/// `fp_weight * FP + (1 - fp_weight) * FN`, where FP is the area under the S-curve below
/// `threshold` and FN the area above it under `1 - S`, among the bandings whose candidate
/// probability at `threshold` is at least `min_recall` (0 for datasketch's unconstrained choice).
/// When none reaches `min_recall`, the banding with the highest probability at the threshold.
/// Ties go to the first found (fewer bands).
pub fn optimal_banding(
    threshold: f64,
    num_perm: usize,
    fp_weight: f64,
    min_recall: f64,
) -> (usize, usize) {
    let mut best = None;
    let mut best_err = f64::INFINITY;
    let mut most_recall = ((1, 1), -1.0);
    for bands in 1..=num_perm {
        for rows in 1..=num_perm / bands {
            let at_threshold = candidate_probability(threshold, bands, rows);
            if at_threshold > most_recall.1 {
                most_recall = ((bands, rows), at_threshold);
            }
            if at_threshold < min_recall {
                continue;
            }
            let fp = integrate(|s| candidate_probability(s, bands, rows), 0.0, threshold);
            let fneg = integrate(
                |s| 1.0 - candidate_probability(s, bands, rows),
                threshold,
                1.0,
            );
            let err = fp_weight * fp + (1.0 - fp_weight) * fneg;
            if err < best_err - 1e-12 {
                best_err = err;
                best = Some((bands, rows));
            }
        }
    }
    best.unwrap_or(most_recall.0)
}

/// Writes one key per band of `sig` into `out` (`bands` values). A key hashes the band's values
/// with the band number as seed, so equal rows in different bands never collide.
pub fn band_keys(sig: &[u32], bands: usize, rows: usize, out: &mut [u64]) {
    debug_assert!(bands * rows <= sig.len());
    let mut buf = [0u8; 4 * 64];
    for (band, key) in out.iter_mut().enumerate().take(bands) {
        let vals = &sig[band * rows..(band + 1) * rows];
        // Bands wider than 64 rows are never optimal; fall back to a heap buffer if configured.
        if rows <= 64 {
            for (i, v) in vals.iter().enumerate() {
                buf[4 * i..4 * i + 4].copy_from_slice(&v.to_le_bytes());
            }
            *key = xxh3_64_with_seed(&buf[..4 * rows], band as u64);
        } else {
            let bytes: Vec<u8> = vals.iter().flat_map(|v| v.to_le_bytes()).collect();
            *key = xxh3_64_with_seed(&bytes, band as u64);
        }
    }
}

/// Candidate pairs `(a, b)` with `a < b`, sorted and unique, from band keys stored document-major
/// (`keys[doc * bands + band]`). Documents with `eligible[doc] == false` take no part (empty
/// documents, exact duplicates already represented by another document).
pub fn candidate_pairs(keys: &[u64], bands: usize, eligible: &[bool]) -> Vec<(u32, u32)> {
    let n = eligible.len();
    debug_assert_eq!(keys.len(), n * bands);
    let docs: Vec<u32> = (0..n as u32).filter(|&d| eligible[d as usize]).collect();
    let mut pairs: Vec<(u32, u32)> = (0..bands)
        .into_par_iter()
        .flat_map_iter(|band| {
            let mut order: Vec<(u64, u32)> = docs
                .iter()
                .map(|&d| (keys[d as usize * bands + band], d))
                .collect();
            order.sort_unstable();
            let mut out = Vec::new();
            for bucket in order.chunk_by(|x, y| x.0 == y.0) {
                bucket_pairs(bucket, &mut out);
            }
            out
        })
        .collect();
    pairs.par_sort_unstable();
    pairs.dedup();
    pairs
}

fn bucket_pairs(bucket: &[(u64, u32)], out: &mut Vec<(u32, u32)>) {
    if bucket.len() <= MAX_FULL_BUCKET {
        for (i, x) in bucket.iter().enumerate() {
            for y in &bucket[i + 1..] {
                out.push((x.1, y.1));
            }
        }
    } else {
        let first = bucket[0].1;
        for w in bucket.windows(2) {
            out.push((first, w[1].1));
            if w[0].1 != first {
                out.push((w[0].1, w[1].1));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banding_for_recall_at_the_default_threshold() {
        let (b, r) = optimal_banding(0.8, 128, 0.5, DEFAULT_MIN_RECALL);
        assert_eq!((b, r), (18, 6));
        // Pairs right at the threshold must almost surely become candidates.
        assert!(candidate_probability(0.8, b, r) > 0.995, "{b}x{r}");
        // ... while unrelated documents almost never do.
        assert!(candidate_probability(0.2, b, r) < 0.01, "{b}x{r}");
        // Every supported threshold gets the same guarantee.
        for t in [0.5, 0.7, 0.9, 0.95] {
            let (b, r) = optimal_banding(t, 128, 0.5, DEFAULT_MIN_RECALL);
            assert!(
                candidate_probability(t, b, r) >= DEFAULT_MIN_RECALL,
                "{t}: {b}x{r}"
            );
        }
    }

    #[test]
    fn an_unreachable_recall_floor_falls_back_to_the_most_sensitive_banding() {
        // No banding of 8 permutations catches J = 0.1 with probability 0.999.
        assert_eq!(optimal_banding(0.1, 8, 0.5, 0.999), (8, 1));
    }

    #[test]
    fn equal_weights_reproduce_the_classic_trade_off() {
        // With equal weights the curve's steep part sits near the threshold.
        let (b, r) = optimal_banding(0.5, 128, 0.5, 0.0);
        let mid = (1.0 / b as f64).powf(1.0 / r as f64);
        assert!((mid - 0.5).abs() < 0.1, "{b}x{r}: {mid}");
    }

    #[test]
    fn band_keys_differ_per_band_for_equal_rows() {
        let sig = vec![5u32; 8];
        let mut keys = [0u64; 4];
        band_keys(&sig, 4, 2, &mut keys);
        assert_ne!(keys[0], keys[1]);
    }

    #[test]
    fn shared_band_makes_a_candidate() {
        // Three docs, two bands: docs 0 and 2 share band 1.
        let keys = vec![1, 10, 2, 20, 3, 10];
        let pairs = candidate_pairs(&keys, 2, &[true, true, true]);
        assert_eq!(pairs, [(0, 2)]);
        assert!(candidate_pairs(&keys, 2, &[true, true, false]).is_empty());
    }

    #[test]
    fn huge_buckets_stay_linear_and_connected() {
        let n = 1000;
        let keys = vec![7u64; n];
        let pairs = candidate_pairs(&keys, 1, &vec![true; n]);
        assert!(pairs.len() < 2 * n);
        // Every document is paired with the first one.
        for d in 1..n as u32 {
            assert!(pairs.binary_search(&(0, d)).is_ok());
        }
    }
}
