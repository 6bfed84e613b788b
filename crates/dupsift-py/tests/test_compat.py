"""Tests of ``dupsift.compat.datasketch``: ``MinHash`` and ``MinHashLSH`` with datasketch's
names and semantics, checked against true set statistics and against datasketch itself where
the two must agree (the LSH banding). Signature values are dupsift's (seeded xxh3 and its own
permutations), so only estimates are compared with datasketch's, never digests."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from dupsift.compat.datasketch import MinHash, MinHashLSH


def _items(s) -> list:
    return [str(x).encode() for x in s]


def _mh(s, **kw) -> MinHash:
    m = MinHash(**kw)
    for b in _items(s):
        m.update(b)
    return m


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b)


# Two sets of Jaccard ~0.8 (1000 items each, 889 shared) and an unrelated one.
A = set(range(1000))
B = set(range(111, 1111))
UNRELATED = set(range(50_000, 51_000))


def test_true_jaccard_of_the_sets():
    assert _jaccard(A, B) == pytest.approx(0.8, abs=0.001)


def test_jaccard_estimate():
    m1, m2 = _mh(A), _mh(B)
    assert abs(m1.jaccard(m2) - _jaccard(A, B)) < 0.1
    assert m1.jaccard(m1.copy()) == 1.0
    assert m1.jaccard(_mh(UNRELATED)) < 0.1
    # Signatures are numpy uint64, one value per permutation.
    d = m1.digest()
    assert d.dtype == np.uint64 and d.shape == (128,)
    assert len(m1) == m1.num_perm == 128 and m1.seed == 1


def test_str_items_hash_as_utf8():
    a, b = MinHash(), MinHash()
    a.update("Straße")
    b.update("Straße".encode("utf-8"))
    assert a == b
    c = MinHash()
    c.update(b"Strasse")
    assert c != a


def test_lsh_finds_near_set_not_unrelated():
    lsh = MinHashLSH(threshold=0.7, num_perm=128)
    lsh.insert("base", _mh(A))
    lsh.insert("unrelated", _mh(UNRELATED))
    # 20 different sets, each at Jaccard ~0.8 of A: at 0.8 the banding makes each a
    # candidate with probability ~0.87, so nearly all are found (>= 12 of 20 is certain
    # in practice); the unrelated set never is.
    found = 0
    for k in range(20):
        rng = np.random.default_rng(k)
        drop = set(rng.choice(sorted(A), size=111, replace=False).tolist())
        near = (A - drop) | set(range(10_000 + 1000 * k, 10_000 + 1000 * k + 111))
        assert _jaccard(A, near) == pytest.approx(0.8, abs=0.01)
        q = lsh.query(_mh(near))
        assert "unrelated" not in q
        found += q == ["base"]
    assert found >= 12
    assert lsh.query(_mh(A)) == ["base"]
    assert lsh.query(_mh(UNRELATED)) == ["unrelated"]


def test_lsh_query_is_banding_exact():
    """A key is returned exactly when one band of its signature equals the query's."""
    lsh = MinHashLSH(threshold=0.7, num_perm=128)
    b, r = lsh.params
    base = _mh(A)
    lsh.insert("base", base)
    d0 = base.digest()
    hits = misses = 0
    for k in range(30):
        near = (A - set(range(k * 30, k * 30 + 150))) | set(range(20_000 + k * 200, 20_000 + k * 200 + 150))
        m = _mh(near)
        d = m.digest()
        shares = any((d0[i * r : (i + 1) * r] == d[i * r : (i + 1) * r]).all() for i in range(b))
        assert (lsh.query(m) == ["base"]) == shares, k
        hits += shares
        misses += not shares
    assert hits > 0 and misses > 0  # both branches are exercised


def test_pickle_round_trip():
    m1, m2 = _mh(A), _mh(B)
    p1 = pickle.loads(pickle.dumps(m1))
    assert type(p1) is MinHash
    assert p1 == m1 and p1 != m2
    assert np.array_equal(p1.digest(), m1.digest())
    assert p1.jaccard(m2) == m1.jaccard(m2)

    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    keys = ["a", ("tuple", 1), 7]
    for key, s in zip(keys, (A, B, UNRELATED)):
        lsh.insert(key, _mh(s))
    lsh.remove(7)
    again = pickle.loads(pickle.dumps(lsh))
    assert type(again) is MinHashLSH
    assert again.params == lsh.params and len(again) == len(lsh) == 2
    for s in (A, B, UNRELATED):
        assert again.query(_mh(s)) == lsh.query(_mh(s))
    assert again.query(m1) == ["a", ("tuple", 1)]
    assert 7 not in again and "a" in again
    # The copy is independent.
    again.remove("a")
    assert "a" in lsh


def test_remove_and_contains():
    lsh = MinHashLSH(threshold=0.5)
    m = _mh(A)
    lsh.insert("x", m)
    lsh.insert("y", _mh(B))
    assert "x" in lsh and len(lsh) == 2
    lsh.remove("x")
    assert "x" not in lsh and len(lsh) == 1
    assert lsh.query(m) == ["y"]
    lsh.remove("y")
    assert lsh.is_empty() and lsh.query(m) == []
    with pytest.raises(ValueError):
        lsh.remove("x")


def test_duplicate_insert_and_missing_remove():
    lsh = MinHashLSH(threshold=0.5)
    m = _mh(A)
    lsh.insert("k", m)
    with pytest.raises(ValueError):
        lsh.insert("k", _mh(B))
    assert len(lsh) == 1 and lsh.query(m) == ["k"]
    with pytest.raises(ValueError):
        lsh.remove("nope")


def test_reinsert_without_check_duplication():
    lsh = MinHashLSH(threshold=0.5)
    m = _mh(A)
    lsh.insert("k", m)
    lsh.insert("k", m, check_duplication=False)
    assert lsh.query(m) == ["k"]
    # As in datasketch, a key inserted again holds both signatures' bands.
    other = _mh(UNRELATED)
    lsh.insert("k", other, check_duplication=False)
    assert lsh.query(other) == ["k"] and lsh.query(m) == ["k"] and len(lsh) == 1
    again = pickle.loads(pickle.dumps(lsh))
    assert again.query(other) == ["k"] and again.query(m) == ["k"]
    lsh.remove("k")
    assert "k" not in lsh
    assert lsh.query(m) == [] and lsh.query(other) == []


def test_insertion_session():
    lsh = MinHashLSH(threshold=0.5)
    assert lsh.is_empty()
    with lsh.insertion_session() as s:
        for k, s_ in enumerate((A, B, UNRELATED)):
            s.insert(k, _mh(s_))
    assert len(lsh) == 3 and not lsh.is_empty()
    assert lsh.query(_mh(A)) == [0, 1]  # insertion order


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.7, 0.8, 0.9, 0.95])
@pytest.mark.parametrize("num_perm", [16, 64, 128, 256])
@pytest.mark.parametrize("weights", [(0.5, 0.5), (0.3, 0.7), (0.8, 0.2)])
def test_banding_equals_datasketch(threshold, num_perm, weights):
    import datasketch.lsh as lsh_mod  # installed by test.sh: a comparison, never skipped
    want = lsh_mod._optimal_param(threshold, num_perm, *weights)
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, weights=weights)
    assert lsh.params == want
    assert (lsh.b, lsh.r) == want


def test_explicit_params():
    lsh = MinHashLSH(threshold=0.5, num_perm=128, params=(16, 8))
    assert lsh.params == (16, 8)
    with pytest.raises(ValueError):
        MinHashLSH(num_perm=128, params=(20, 8))
    with pytest.raises(ValueError):
        MinHashLSH(threshold=0.5, weights=(0.5, 0.6))
    with pytest.raises(ValueError):
        MinHashLSH(threshold=0.5, num_perm=64).insert("k", _mh(A))


def test_bulk_equals_per_item_updates():
    sets = [A, B, UNRELATED, set()]
    bulk = MinHash.bulk([_items(s) for s in sets])
    assert len(bulk) == 4
    for m, s in zip(bulk, sets):
        assert m == _mh(s)
    assert bulk[3].is_empty()
    bulk64 = MinHash.bulk([_items(A)], num_perm=64, seed=3)
    assert bulk64[0] == _mh(A, num_perm=64, seed=3)
    assert bulk64[0].num_perm == 64 and bulk64[0].seed == 3


def test_update_batch_equals_repeated_update():
    m = MinHash()
    m.update_batch(_items(A))
    assert m == _mh(A)
    m.update_batch(_items(B))
    assert m == _mh(A | B)


def test_merge_is_the_union():
    m1, m2 = _mh(A), _mh(B)
    u = _mh(A | B)
    merged = m1.copy()
    merged.merge(m2)
    assert merged == u
    assert m1 == _mh(A)  # copy is independent
    assert MinHash.union(m1, m2) == u
    with pytest.raises(ValueError):
        MinHash.union(m1)


def test_copy_clear_is_empty():
    m = _mh(A)
    c = m.copy()
    assert c == m
    c.clear()
    assert c.is_empty() and not m.is_empty()
    assert c == MinHash()
    assert MinHash().is_empty()


def test_different_seeds_or_lengths_refused():
    m1 = _mh(A)
    with pytest.raises(ValueError):
        m1.jaccard(_mh(A, seed=2))
    with pytest.raises(ValueError):
        m1.jaccard(_mh(A, num_perm=64))
    with pytest.raises(ValueError):
        m1.merge(_mh(B, seed=2))
    assert _mh(A, seed=2) != m1


@pytest.mark.parametrize("num_perm", [100, 0, 7, 130])
def test_num_perm_must_be_multiple_of_8(num_perm):
    with pytest.raises(ValueError, match="multiple of 8"):
        MinHash(num_perm=num_perm)
    with pytest.raises(ValueError):
        MinHash.bulk([[b"a"]], num_perm=num_perm)


def test_unsupported_arguments():
    with pytest.raises(ValueError):
        MinHash(hashfunc=hash)
    with pytest.raises(ValueError):
        MinHashLSH(storage_config={"type": "redis"})


def test_count_estimate():
    items = set(range(1000))
    m = _mh(items)
    assert abs(m.count() - 1000) < 0.2 * 1000
    assert MinHash().count() < 1.0


def test_estimates_close_to_datasketch_values_differ():
    """The same items through ``datasketch.MinHash``: similar estimates, different signature
    values (dupsift hashes with seeded xxh3 and its own permutations, so digests are not
    interchangeable)."""
    import datasketch  # installed by test.sh: a comparison, never skipped
    ours1, ours2 = _mh(A), _mh(B)
    theirs1, theirs2 = datasketch.MinHash(num_perm=128), datasketch.MinHash(num_perm=128)
    theirs1.update_batch(_items(A))
    theirs2.update_batch(_items(B))
    assert abs(ours1.count() - theirs1.count()) < 0.25 * 1000
    assert abs(theirs1.count() - 1000) < 0.2 * 1000
    assert abs(ours1.jaccard(ours2) - theirs1.jaccard(theirs2)) < 0.1
    assert not np.array_equal(ours1.digest(), theirs1.digest())
    # A datasketch signature (64-bit values from a Mersenne prime field) cannot be loaded.
    big = [int(v) for v in theirs1.hashvalues]
    if max(big) >= 2**32:
        with pytest.raises(ValueError):
            MinHash(hashvalues=big)
