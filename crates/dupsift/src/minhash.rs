//! Stage 4: MinHash signatures from shingle hashes.
//!
//! Permutation `i` maps a shingle hash `x` to `(a_i * x + b_i) >> 32` (64-bit wrapping
//! multiply-add, odd `a_i`; Dietzfelbinger's multiply-add-shift), and the signature keeps the
//! minimum per permutation. The `a_i, b_i` come from SplitMix64 of the user's seed, so a signature
//! depends only on (shingles, num_perm, seed).
//!
//! The kernel is the hot loop of the whole tool: it walks the permutations in blocks of
//! [`LANES`], keeping a block's minima in registers while it streams the shingles, in
//! straight-line code that LLVM vectorises. On x86-64 the same code is compiled again for
//! AVX-512 (F + DQ, for 64-bit lane multiplies) and for AVX2, and the best one the CPU has is
//! chosen at run time, so the release binary is fast without `-C target-cpu`; the portable
//! build is the fallback (and is tested: [`MinHasher::sign_portable`]).
//!
//! With [`Scheme::Oph`] (opt-in), one hash per shingle replaces the `num_perm` permutations:
//! one-permutation hashing (Li, Owen and Zhang, 2012) sends each shingle to one of `num_perm`
//! bins by its mixed hash and keeps the minimum per bin; empty bins are then filled by optimal
//! densification (Shrivastava, 2017): bin `i` copies the first non-empty bin of a probe
//! sequence seeded by `(seed, i)`, the same sequence in every document, so two signatures still
//! agree in a position with probability equal to the Jaccard similarity. It costs a few
//! nanoseconds per shingle instead of one multiply per permutation; its estimates are noisier
//! for documents with fewer shingles than bins.
//!
//! This stage must not allocate per call, do I/O, or depend on rayon: callers parallelise
//! over documents.

/// Permutations are processed in blocks of this many; `num_perm` must be a multiple of it.
pub const LANES: usize = 8;

/// How a signature is computed from shingle hashes.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// `num_perm` independent multiply-add-shift permutations, the minimum of each.
    #[default]
    Classic,
    /// One-permutation hashing into `num_perm` bins with optimal densification.
    Oph,
}

impl Scheme {
    /// True for the default scheme (reports leave it out).
    pub fn is_classic(&self) -> bool {
        *self == Scheme::Classic
    }
}

impl std::fmt::Display for Scheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Scheme::Classic => "classic",
            Scheme::Oph => "oph",
        })
    }
}

/// A seeded family of `num_perm` hash permutations.
#[derive(Clone, Debug)]
pub struct MinHasher {
    a: Vec<[u64; LANES]>,
    b: Vec<[u64; LANES]>,
    num_perm: usize,
    scheme: Scheme,
    /// Seeds of the one-permutation scheme: the shingle mix and the densification probes.
    oph_seeds: (u64, u64),
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl MinHasher {
    /// Builds the permutations. Panics unless `num_perm` is a positive multiple of [`LANES`]
    /// (the configuration layer validates user input before this).
    pub fn new(num_perm: usize, seed: u64) -> MinHasher {
        assert!(
            num_perm > 0 && num_perm.is_multiple_of(LANES),
            "num_perm must be a positive multiple of {LANES}"
        );
        let mut state = seed;
        let blocks = num_perm / LANES;
        let mut a = vec![[0u64; LANES]; blocks];
        let mut b = vec![[0u64; LANES]; blocks];
        for blk in 0..blocks {
            for l in 0..LANES {
                a[blk][l] = splitmix64(&mut state) | 1;
                b[blk][l] = splitmix64(&mut state);
            }
        }
        // Drawn after the permutations, so classic signatures keep their pinned values.
        let oph_seeds = (splitmix64(&mut state), splitmix64(&mut state));
        MinHasher {
            a,
            b,
            num_perm,
            scheme: Scheme::Classic,
            oph_seeds,
        }
    }

    /// [`MinHasher::new`] computing signatures with `scheme`.
    pub fn with_scheme(num_perm: usize, seed: u64, scheme: Scheme) -> MinHasher {
        MinHasher {
            scheme,
            ..MinHasher::new(num_perm, seed)
        }
    }

    /// Number of permutations (signature length).
    pub fn num_perm(&self) -> usize {
        self.num_perm
    }

    /// Writes the signature of `shingles` (any order, repeats allowed) into `out`, which must
    /// hold `num_perm` values. An empty input gives all `u32::MAX`.
    pub fn sign(&self, shingles: &[u64], out: &mut [u32]) {
        if self.scheme == Scheme::Oph {
            self.sign_oph(shingles, out);
            return;
        }
        #[cfg(target_arch = "x86_64")]
        {
            match kernel() {
                // SAFETY: `kernel` chose it because the CPU supports AVX-512F and DQ.
                Kernel::Avx512 => return unsafe { self.sign_avx512(shingles, out) },
                // SAFETY: as above, for AVX2.
                Kernel::Avx2 => return unsafe { self.sign_avx2(shingles, out) },
                Kernel::Portable => {}
            }
        }
        self.sign_portable(shingles, out);
    }

    /// The one-permutation signature (see the module documentation), whatever the scheme of
    /// this hasher.
    pub fn sign_oph(&self, shingles: &[u64], out: &mut [u32]) {
        let k = self.num_perm;
        assert_eq!(out.len(), k, "signature buffer has the wrong length");
        out.fill(u32::MAX);
        if shingles.is_empty() {
            return;
        }
        let (mix_seed, probe_seed) = self.oph_seeds;
        // Bit i of `filled` marks bin i non-empty; num_perm <= 4096 is checked by Params.
        let mut filled = [0u64; 64];
        for &x in shingles {
            let z = mix64(x ^ mix_seed);
            let bin = reduce(z >> 32, k);
            out[bin] = out[bin].min(z as u32);
            filled[bin / 64] |= 1 << (bin % 64);
        }
        let is_filled = |i: usize| filled[i / 64] >> (i % 64) & 1 == 1;
        for i in 0..k {
            if is_filled(i) {
                continue;
            }
            // Probe bins in a sequence fixed by (seed, i) until one that was filled by a shingle
            // (never one filled here: that would make the copy depend on the order of bins).
            let mut state = probe_seed ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            loop {
                let j = reduce(splitmix64(&mut state) >> 32, k);
                if is_filled(j) {
                    out[i] = out[j];
                    break;
                }
            }
        }
    }

    /// The kernel compiled for the baseline target, whatever the CPU offers.
    pub fn sign_portable(&self, shingles: &[u64], out: &mut [u32]) {
        sign_kernel(&self.a, &self.b, shingles, out);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn sign_avx2(&self, shingles: &[u64], out: &mut [u32]) {
        sign_kernel(&self.a, &self.b, shingles, out);
    }

    /// AVX-512DQ multiplies eight 64-bit lanes in one instruction, where AVX2 needs three
    /// 32-bit multiplies and shifts per lane pair.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512dq")]
    unsafe fn sign_avx512(&self, shingles: &[u64], out: &mut [u32]) {
        sign_kernel(&self.a, &self.b, shingles, out);
    }

    /// Which kernel [`MinHasher::sign`] runs on this machine: `"avx512"`, `"avx2"` or
    /// `"portable"`.
    pub fn kernel_name() -> &'static str {
        #[cfg(target_arch = "x86_64")]
        {
            match kernel() {
                Kernel::Avx512 => return "avx512",
                Kernel::Avx2 => return "avx2",
                Kernel::Portable => {}
            }
        }
        "portable"
    }
}

#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kernel {
    Avx512,
    Avx2,
    Portable,
}

/// The best kernel the CPU supports, detected once. `DUPSIFT_PORTABLE=1` forces the portable
/// one; `DUPSIFT_PORTABLE=avx2` stops at AVX2 (so CI can test every kernel on one machine).
#[cfg(target_arch = "x86_64")]
fn kernel() -> Kernel {
    use std::sync::OnceLock;
    static KERNEL: OnceLock<Kernel> = OnceLock::new();
    *KERNEL.get_or_init(|| {
        let force = std::env::var("DUPSIFT_PORTABLE").unwrap_or_default();
        let avx512 =
            std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512dq");
        let avx2 = std::is_x86_feature_detected!("avx2");
        match force.as_str() {
            "" | "0" if avx512 => Kernel::Avx512,
            "" | "0" | "avx2" if avx2 => Kernel::Avx2,
            _ => Kernel::Portable,
        }
    })
}

/// A 64-bit finaliser (SplitMix64's): every output bit depends on every input bit.
#[inline(always)]
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Maps a 32-bit value uniformly onto `0..k` (Lemire's multiply-shift reduction).
#[inline(always)]
fn reduce(x: u64, k: usize) -> usize {
    (((x & 0xffff_ffff) * k as u64) >> 32) as usize
}

#[inline(always)]
fn sign_kernel(a: &[[u64; LANES]], b: &[[u64; LANES]], shingles: &[u64], out: &mut [u32]) {
    assert_eq!(
        out.len(),
        a.len() * LANES,
        "signature buffer has the wrong length"
    );
    for ((a, b), out) in a.iter().zip(b).zip(out.chunks_exact_mut(LANES)) {
        let mut min = [u32::MAX; LANES];
        for &x in shingles {
            for l in 0..LANES {
                let h = (a[l].wrapping_mul(x).wrapping_add(b[l]) >> 32) as u32;
                min[l] = min[l].min(h);
            }
        }
        out.copy_from_slice(&min);
    }
}

/// Fraction of positions where two signatures agree: an unbiased estimate of the Jaccard
/// similarity of the underlying sets (standard error `sqrt(J(1-J)/num_perm)`).
pub fn estimate_jaccard(x: &[u32], y: &[u32]) -> f64 {
    debug_assert_eq!(x.len(), y.len());
    if x.is_empty() {
        return 0.0;
    }
    let same = x.iter().zip(y).filter(|(a, b)| a == b).count();
    same as f64 / x.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn exact(a: &[u64], b: &[u64]) -> f64 {
        let sa: std::collections::BTreeSet<_> = a.iter().collect();
        let sb: std::collections::BTreeSet<_> = b.iter().collect();
        sa.intersection(&sb).count() as f64 / sa.union(&sb).count() as f64
    }

    fn sig(m: &MinHasher, s: &[u64]) -> Vec<u32> {
        let mut out = vec![0; m.num_perm()];
        m.sign(s, &mut out);
        out
    }

    #[test]
    fn identical_sets_have_identical_signatures_in_any_order() {
        let m = MinHasher::new(64, 7);
        let a: Vec<u64> = (0..100).map(|i| i * 0x9e37_79b9).collect();
        let mut b = a.clone();
        b.reverse();
        b.extend_from_slice(&a[..10]);
        assert_eq!(sig(&m, &a), sig(&m, &b));
    }

    #[test]
    fn empty_input_is_all_max() {
        let m = MinHasher::new(16, 1);
        assert!(sig(&m, &[]).iter().all(|&v| v == u32::MAX));
    }

    #[test]
    fn signatures_are_a_stable_format() {
        // Pinned: indexes store signatures, so permutations may only change with a format version.
        let m = MinHasher::new(8, 42);
        assert_eq!(
            sig(&m, &[0x3d73_3a0d_d076_6d7a]),
            [
                1515375548, 2821624953, 3886278191, 2931553025, 250296866, 149705720, 2707981874,
                3652602211
            ]
        );
    }

    #[test]
    fn seed_changes_the_permutations() {
        let s: Vec<u64> = (0..50).collect();
        assert_ne!(
            sig(&MinHasher::new(32, 1), &s),
            sig(&MinHasher::new(32, 2), &s)
        );
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn every_kernel_the_cpu_has_agrees_with_the_portable_one() {
        let m = MinHasher::new(128, 42);
        let s: Vec<u64> = (0..1000u64)
            .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ i)
            .collect();
        let mut p = vec![0; 128];
        m.sign_portable(&s, &mut p);
        let mut v = vec![0; 128];
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: checked just above.
            unsafe { m.sign_avx2(&s, &mut v) };
            assert_eq!(v, p);
        }
        if std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512dq") {
            // SAFETY: checked just above.
            unsafe { m.sign_avx512(&s, &mut v) };
            assert_eq!(v, p);
        }
    }

    #[test]
    fn dispatched_and_portable_kernels_agree() {
        let m = MinHasher::new(128, 42);
        let s: Vec<u64> = (0..1000u64)
            .map(|i| i.wrapping_mul(0x2545_f491_4f6c_dd1d))
            .collect();
        let mut p = vec![0; 128];
        m.sign_portable(&s, &mut p);
        assert_eq!(sig(&m, &s), p);
    }

    #[test]
    fn oph_signatures_are_order_free_dense_and_pinned() {
        let m = MinHasher::with_scheme(16, 42, Scheme::Oph);
        let a: Vec<u64> = (0..5).map(|i| i * 0x9e37_79b9).collect();
        let mut b = a.clone();
        b.reverse();
        b.push(a[0]);
        assert_eq!(sig(&m, &a), sig(&m, &b));
        let mut direct = vec![0; 16];
        MinHasher::new(16, 42).sign_oph(&a, &mut direct);
        assert_eq!(
            sig(&m, &a),
            direct,
            "sign_oph works whatever the hasher's scheme"
        );
        // Five shingles fill at most five of 16 bins; densification fills the rest from them.
        let s = sig(&m, &a);
        assert!(s.iter().all(|&v| v != u32::MAX));
        let mut distinct = s.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert!(distinct.len() <= 5);
        assert!(sig(&m, &[]).iter().all(|&v| v == u32::MAX));
        // Pinned: a change is a change of what an index built with --scheme oph means.
        assert_eq!(
            sig(
                &MinHasher::with_scheme(8, 42, Scheme::Oph),
                &[0x3d73_3a0d_d076_6d7a, 7]
            ),
            [
                460826562, 460826562, 460826562, 460826562, 3403770178, 3403770178, 3403770178,
                3403770178
            ]
        );
    }

    #[test]
    fn classic_signatures_ignore_the_oph_seeds() {
        let s: Vec<u64> = (0..50).collect();
        let m = MinHasher::new(32, 9);
        assert_eq!(
            sig(&m, &s),
            sig(&MinHasher::with_scheme(32, 9, Scheme::Classic), &s)
        );
        assert_ne!(
            sig(&m, &s),
            sig(&MinHasher::with_scheme(32, 9, Scheme::Oph), &s)
        );
    }

    #[test]
    #[should_panic(expected = "multiple")]
    fn num_perm_must_fill_whole_blocks() {
        MinHasher::new(12, 0);
    }

    /// Two sets of random hashes sharing `common` of them, with `only_a` and `only_b` more.
    fn overlapping_sets(
        common: usize,
        only_a: usize,
        only_b: usize,
        seed: u64,
    ) -> (Vec<u64>, Vec<u64>) {
        let mut st = seed;
        let c: Vec<u64> = (0..common).map(|_| splitmix64(&mut st)).collect();
        let mut a = c.clone();
        a.extend((0..only_a).map(|_| splitmix64(&mut st)));
        let mut b = c;
        b.extend((0..only_b).map(|_| splitmix64(&mut st)));
        (a, b)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// The estimate stays within 4.5 standard errors (plus a small slack) of the exact value.
        #[test]
        fn estimate_is_within_its_error_of_exact_jaccard(
            common in 0usize..300, only_a in 0usize..300, only_b in 0usize..300, seed in any::<u64>()
        ) {
            prop_assume!(common + only_a + only_b > 0);
            let (a, b) = overlapping_sets(common, only_a, only_b, seed);
            let m = MinHasher::new(256, seed ^ 0x55);
            let j = exact(&a, &b);
            let est = estimate_jaccard(&sig(&m, &a), &sig(&m, &b));
            let se = (j * (1.0 - j) / 256.0).sqrt();
            prop_assert!((est - j).abs() <= 4.5 * se + 0.02, "exact {j} estimate {est}");
        }

        /// One-permutation hashing with densification is unbiased too, with more variance
        /// for sets that leave bins empty; the bound is looser by that much.
        #[test]
        fn oph_estimate_is_within_its_error_of_exact_jaccard(
            common in 0usize..300, only_a in 0usize..300, only_b in 0usize..300, seed in any::<u64>()
        ) {
            prop_assume!(common + only_a + only_b > 0);
            prop_assume!(common + only_a.min(only_b) >= 20);
            let (a, b) = overlapping_sets(common, only_a, only_b, seed);
            let m = MinHasher::with_scheme(256, seed ^ 0x55, Scheme::Oph);
            let j = exact(&a, &b);
            let est = estimate_jaccard(&sig(&m, &a), &sig(&m, &b));
            let se = (j * (1.0 - j) / 256.0).sqrt();
            prop_assert!((est - j).abs() <= 6.0 * se + 0.04, "exact {j} estimate {est}");
        }

        #[test]
        fn estimate_is_symmetric(a in proptest::collection::vec(any::<u64>(), 0..50),
                                 b in proptest::collection::vec(any::<u64>(), 0..50)) {
            let m = MinHasher::new(32, 3);
            let (sa, sb) = (sig(&m, &a), sig(&m, &b));
            prop_assert_eq!(estimate_jaccard(&sa, &sb), estimate_jaccard(&sb, &sa));
        }
    }
}
