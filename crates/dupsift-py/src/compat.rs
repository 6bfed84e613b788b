//! The engine's MinHash and LSH behind datasketch's `MinHash` and `MinHashLSH` names and
//! semantics (`dupsift.compat.datasketch` subclasses these to add numpy views and pickling).
//! An item given to `update` is hashed with seeded xxh3 and signed with the engine's
//! permutations, so signature values are dupsift's, not datasketch's; batch calls run here,
//! in parallel, with the GIL released.

use std::sync::Arc;

use dupsift::lsh::{band_keys, optimal_banding};
use dupsift::minhash::{LANES, MinHasher, estimate_jaccard};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple};
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::errors::{Kind, error};

/// Seed of the hash of the items given to `update` (xxh3 of their bytes).
const ITEM_SEED: u64 = 0x6475_7073_6966_7464; // "dupsiftd"

/// The permutations of `(num_perm, seed)`, refusing a length the engine cannot sign.
fn hasher(num_perm: usize, seed: u64) -> PyResult<Arc<MinHasher>> {
    if num_perm == 0 || !num_perm.is_multiple_of(LANES) {
        return Err(error(
            Kind::Parameter,
            format!(
                "num_perm={num_perm}: dupsift signs in blocks of {LANES}: use a positive multiple of {LANES} (128 is datasketch's default)"
            ),
        ));
    }
    Ok(Arc::new(MinHasher::new(num_perm, seed)))
}

/// The bytes of an item: `bytes`, `bytearray`, `memoryview`, or `str` (its UTF-8, where
/// datasketch would raise).
fn item_bytes(item: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(s) = item.extract::<String>() {
        return Ok(s.into_bytes());
    }
    item.extract::<Vec<u8>>().map_err(|_| {
        error(
            Kind::Parameter,
            "update takes bytes (or str, hashed as its UTF-8)",
        )
    })
}

/// A MinHash signature (datasketch's `MinHash`).
#[pyclass(module = "dupsift._dupsift", subclass)]
pub struct MinHash {
    hasher: Arc<MinHasher>,
    seed: u64,
    values: Vec<u32>,
}

impl MinHash {
    fn signed(&mut self, hashes: &[u64]) {
        let mut fresh = vec![0u32; self.values.len()];
        self.hasher.sign(hashes, &mut fresh);
        for (v, f) in self.values.iter_mut().zip(fresh) {
            *v = (*v).min(f);
        }
    }

    fn same_family(&self, other: &MinHash, what: &str) -> PyResult<()> {
        if self.seed != other.seed || self.values.len() != other.values.len() {
            return Err(error(
                Kind::Parameter,
                format!(
                    "cannot {what} MinHash with different seeds or numbers of permutation functions"
                ),
            ));
        }
        Ok(())
    }
}

#[pymethods]
impl MinHash {
    #[new]
    #[pyo3(signature = (num_perm = 128, seed = 1, hashvalues = None))]
    fn new(num_perm: usize, seed: u64, hashvalues: Option<Vec<u64>>) -> PyResult<Self> {
        let (num_perm, values) = match hashvalues {
            Some(h) => {
                let values: Option<Vec<u32>> = h.iter().map(|&v| u32::try_from(v).ok()).collect();
                let values = values.ok_or_else(|| {
                    error(
                        Kind::Parameter,
                        "hashvalues: dupsift's signature values are 32-bit (a datasketch MinHash's hash values cannot be reused)",
                    )
                })?;
                (values.len(), values)
            }
            None => (num_perm, vec![u32::MAX; num_perm]),
        };
        Ok(MinHash {
            hasher: hasher(num_perm, seed)?,
            seed,
            values,
        })
    }

    /// Adds one item (bytes).
    fn update(&mut self, b: &Bound<'_, PyAny>) -> PyResult<()> {
        let h = xxh3_64_with_seed(&item_bytes(b)?, ITEM_SEED);
        self.signed(&[h]);
        Ok(())
    }

    /// Adds every item of `b` (an iterable of bytes) at once.
    fn update_batch(&mut self, py: Python<'_>, b: &Bound<'_, PyAny>) -> PyResult<()> {
        let mut hashes = Vec::new();
        for item in b.try_iter()? {
            hashes.push(xxh3_64_with_seed(&item_bytes(&item?)?, ITEM_SEED));
        }
        py.detach(|| self.signed(&hashes));
        Ok(())
    }

    /// The estimated Jaccard similarity with `other`.
    fn jaccard(&self, other: PyRef<'_, MinHash>) -> PyResult<f64> {
        self.same_family(&other, "compute Jaccard similarity of")?;
        Ok(estimate_jaccard(&self.values, &other.values))
    }

    /// The estimated number of distinct items added.
    fn count(&self) -> f64 {
        let k = self.values.len() as f64;
        let sum: f64 = self
            .values
            .iter()
            .map(|&v| f64::from(v) / f64::from(u32::MAX))
            .sum();
        if sum == 0.0 { 0.0 } else { k / sum - 1.0 }
    }

    /// Makes this the MinHash of the union with `other`.
    fn merge(&mut self, other: PyRef<'_, MinHash>) -> PyResult<()> {
        self.same_family(&other, "merge")?;
        for (v, o) in self.values.iter_mut().zip(&other.values) {
            *v = (*v).min(*o);
        }
        Ok(())
    }

    /// No item added yet.
    fn is_empty(&self) -> bool {
        self.values.iter().all(|&v| v == u32::MAX)
    }

    /// Forgets every item.
    fn clear(&mut self) {
        self.values.fill(u32::MAX);
    }

    /// The signature as little-endian 32-bit values.
    fn _digest_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let bytes: Vec<u8> = self.values.iter().flat_map(|v| v.to_le_bytes()).collect();
        PyBytes::new(py, &bytes)
    }

    /// Sets the signature from `_digest_bytes` (unpickling).
    fn _set_digest_bytes(&mut self, b: &[u8]) -> PyResult<()> {
        if b.len() != self.values.len() * 4 {
            return Err(error(Kind::Parameter, "a signature of another length"));
        }
        for (v, c) in self.values.iter_mut().zip(b.chunks_exact(4)) {
            *v = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        }
        Ok(())
    }

    #[getter]
    fn seed(&self) -> u64 {
        self.seed
    }

    #[getter]
    fn num_perm(&self) -> usize {
        self.values.len()
    }

    fn __len__(&self) -> usize {
        self.values.len()
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        match other.cast::<MinHash>() {
            Ok(o) => {
                let o = o.borrow();
                o.seed == self.seed && o.values == self.values
            }
            Err(_) => false,
        }
    }
}

/// The signatures of many sets at once (datasketch's `MinHash.bulk`): each set an iterable
/// of bytes; signed in parallel with the GIL released. Returns each as `_digest_bytes`.
#[pyfunction]
#[pyo3(signature = (sets, num_perm = 128, seed = 1))]
pub fn minhash_bulk<'py>(
    py: Python<'py>,
    sets: &Bound<'py, PyAny>,
    num_perm: usize,
    seed: u64,
) -> PyResult<Bound<'py, PyList>> {
    let h = hasher(num_perm, seed)?;
    let mut all: Vec<Vec<u64>> = Vec::new();
    for set in sets.try_iter()? {
        let mut hashes = Vec::new();
        for item in set?.try_iter()? {
            hashes.push(xxh3_64_with_seed(&item_bytes(&item?)?, ITEM_SEED));
        }
        all.push(hashes);
    }
    let signed: Vec<Vec<u8>> = py.detach(|| {
        all.par_iter()
            .map(|hashes| {
                let mut out = vec![0u32; num_perm];
                h.sign(hashes, &mut out);
                out.iter().flat_map(|v| v.to_le_bytes()).collect()
            })
            .collect()
    });
    PyList::new(py, signed.iter().map(|b| PyBytes::new(py, b)))
}

/// Banded LSH over MinHash signatures (datasketch's `MinHashLSH`): keys are any hashable
/// Python objects; a query returns the keys sharing a band with the signature, in insertion
/// order.
#[pyclass(module = "dupsift._dupsift", subclass)]
pub struct MinHashLSH {
    threshold: f64,
    num_perm: usize,
    weights: (f64, f64),
    bands: usize,
    rows: usize,
    /// Per band: band key → slots of the keys holding it, in insertion order.
    tables: Vec<FxHashMap<u64, Vec<u32>>>,
    /// Per slot: the key and the band keys of every signature inserted under it (a key
    /// inserted again with `check_duplication=False` holds both, as in datasketch), `None`
    /// once removed.
    slots: Vec<Option<(Py<PyAny>, Vec<u64>)>>,
    /// Key → slot.
    index: Py<PyDict>,
}

impl MinHashLSH {
    /// Lists `slot` under each band key of `keys` (one signature's, or several one after
    /// another), once.
    fn add_keys(&mut self, slot: u32, keys: &[u64]) {
        let bands = self.bands;
        for (i, k) in keys.iter().enumerate() {
            let held = self.tables[i % bands].entry(*k).or_default();
            if held.last() != Some(&slot) {
                held.push(slot);
            }
        }
    }

    fn keys_of(&self, m: &MinHash) -> PyResult<Vec<u64>> {
        if m.values.len() != self.num_perm {
            return Err(error(
                Kind::Parameter,
                format!(
                    "expecting a MinHash with num_perm {}, got {}",
                    self.num_perm,
                    m.values.len()
                ),
            ));
        }
        let mut keys = vec![0u64; self.bands];
        band_keys(&m.values, self.bands, self.rows, &mut keys);
        Ok(keys)
    }
}

#[pymethods]
impl MinHashLSH {
    #[new]
    #[pyo3(signature = (threshold = 0.9, num_perm = 128, weights = (0.5, 0.5), params = None))]
    fn new(
        py: Python<'_>,
        threshold: f64,
        num_perm: usize,
        weights: (f64, f64),
        params: Option<(usize, usize)>,
    ) -> PyResult<Self> {
        if !(0.0..=1.0).contains(&threshold) {
            return Err(error(Kind::Parameter, "threshold must be in [0.0, 1.0]"));
        }
        if num_perm < 2 {
            return Err(error(Kind::Parameter, "too few permutation functions"));
        }
        if weights.0 < 0.0 || weights.1 < 0.0 || (weights.0 + weights.1 - 1.0).abs() > 1e-9 {
            return Err(error(
                Kind::Parameter,
                "weights must be two non-negative numbers that sum to 1.0",
            ));
        }
        let (bands, rows) = match params {
            Some((b, r)) => {
                if b * r > num_perm || b == 0 || r == 0 {
                    return Err(error(
                        Kind::Parameter,
                        format!(
                            "the product of b and r in params is {} > num_perm {num_perm} (or zero)",
                            b * r
                        ),
                    ));
                }
                (b, r)
            }
            None => optimal_banding(threshold, num_perm, weights.0, 0.0),
        };
        Ok(MinHashLSH {
            threshold,
            num_perm,
            weights,
            bands,
            rows,
            tables: vec![FxHashMap::default(); bands],
            slots: Vec::new(),
            index: PyDict::new(py).unbind(),
        })
    }

    /// Adds `minhash` under `key`; with `check_duplication`, a key already there is a
    /// `ValueError`.
    #[pyo3(signature = (key, minhash, check_duplication = true))]
    fn insert(
        &mut self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        minhash: PyRef<'_, MinHash>,
        check_duplication: bool,
    ) -> PyResult<()> {
        let keys = self.keys_of(&minhash)?;
        let index = self.index.clone_ref(py).into_bound(py);
        if let Some(slot) = index.get_item(key)? {
            if check_duplication {
                return Err(error(Kind::Parameter, "the given key already exists"));
            }
            let slot: u32 = slot.extract()?;
            self.add_keys(slot, &keys);
            if let Some(Some((_, held))) = self.slots.get_mut(slot as usize) {
                held.extend_from_slice(&keys);
            }
            return Ok(());
        }
        let slot = self.slots.len() as u32;
        self.add_keys(slot, &keys);
        index.set_item(key, slot)?;
        self.slots.push(Some((key.clone().unbind(), keys)));
        Ok(())
    }

    /// The keys of the signatures sharing at least one band with `minhash`, in insertion
    /// order.
    fn query<'py>(
        &self,
        py: Python<'py>,
        minhash: PyRef<'_, MinHash>,
    ) -> PyResult<Bound<'py, PyList>> {
        let keys = self.keys_of(&minhash)?;
        let mut found: Vec<u32> = self
            .tables
            .iter()
            .zip(&keys)
            .filter_map(|(t, k)| t.get(k))
            .flatten()
            .copied()
            .collect();
        found.sort_unstable();
        found.dedup();
        let out = PyList::empty(py);
        for s in found {
            if let Some(Some((key, _))) = self.slots.get(s as usize) {
                out.append(key.bind(py))?;
            }
        }
        Ok(out)
    }

    /// Removes `key`; a key not there is a `ValueError`.
    fn remove(&mut self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<()> {
        let index = self.index.bind(py);
        let Some(slot) = index.get_item(key)? else {
            return Err(error(Kind::Parameter, "the given key does not exist"));
        };
        let slot: u32 = slot.extract()?;
        index.del_item(key)?;
        if let Some(Some((_, keys))) = self.slots.get(slot as usize) {
            let bands = self.bands;
            for (i, k) in keys.iter().enumerate() {
                let table = &mut self.tables[i % bands];
                if let Some(v) = table.get_mut(k) {
                    v.retain(|&s| s != slot);
                    if v.is_empty() {
                        table.remove(k);
                    }
                }
            }
        }
        if let Some(s) = self.slots.get_mut(slot as usize) {
            *s = None;
        }
        Ok(())
    }

    fn __contains__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        self.index.bind(py).contains(key)
    }

    fn __len__(&self, py: Python<'_>) -> usize {
        self.index.bind(py).len()
    }

    /// No key inserted (or all removed).
    fn is_empty(&self, py: Python<'_>) -> bool {
        self.index.bind(py).is_empty()
    }

    /// `(b, r)`: bands and rows per band.
    #[getter]
    fn params(&self) -> (usize, usize) {
        (self.bands, self.rows)
    }

    #[getter]
    fn b(&self) -> usize {
        self.bands
    }

    #[getter]
    fn r(&self) -> usize {
        self.rows
    }

    #[getter]
    fn threshold(&self) -> f64 {
        self.threshold
    }

    #[getter]
    fn num_perm(&self) -> usize {
        self.num_perm
    }

    #[getter]
    fn weights(&self) -> (f64, f64) {
        self.weights
    }

    /// Every key with its band keys, in insertion order (pickling).
    fn _entries<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let out = PyList::empty(py);
        for (key, keys) in self.slots.iter().flatten() {
            let bytes: Vec<u8> = keys.iter().flat_map(|k| k.to_le_bytes()).collect();
            out.append(PyTuple::new(
                py,
                [key.bind(py).clone(), PyBytes::new(py, &bytes).into_any()],
            )?)?;
        }
        Ok(out)
    }

    /// Restores the entries `_entries` gave (unpickling).
    fn _restore(&mut self, py: Python<'_>, entries: &Bound<'_, PyList>) -> PyResult<()> {
        for e in entries.iter() {
            let (key, bytes): (Bound<'_, PyAny>, Vec<u8>) = e.extract()?;
            if bytes.is_empty() || bytes.len() % (self.bands * 8) != 0 {
                return Err(error(Kind::Parameter, "band keys of another banding"));
            }
            let keys: Vec<u64> = bytes
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
                .collect();
            let slot = self.slots.len() as u32;
            self.add_keys(slot, &keys);
            self.index.bind(py).set_item(&key, slot)?;
            self.slots.push(Some((key.unbind(), keys)));
        }
        Ok(())
    }
}
