"""datasketch's ``MinHash`` and ``MinHashLSH``, with its names and semantics, on dupsift's
engine: switch with one import line::

    from dupsift.compat.datasketch import MinHash, MinHashLSH

Signature values are dupsift's, not datasketch's: items are hashed with seeded xxh3 (``str``
items as their UTF-8, where datasketch raises) and signed with dupsift's permutations, so a
signature made here and one made by datasketch are not comparable, and ``hashvalues`` from
datasketch cannot be loaded. Estimates have the same statistics (the fraction of equal values
estimates the Jaccard similarity). ``num_perm`` must be a multiple of 8. ``update_batch`` and
``bulk`` run in Rust (``bulk`` in parallel, with the GIL released). ``MinHashLSH`` keeps its
tables in memory (no ``storage_config``); ``query`` returns keys in insertion order.
"""

from __future__ import annotations

from typing import Any, Hashable, Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from .. import _dupsift

__all__ = ["MinHash", "MinHashLSH"]


class MinHash(_dupsift.MinHash):
    """A MinHash signature of a set of items (bytes).

    ``MinHash(num_perm=128, seed=1, hashvalues=None)``; ``update(b)``, ``update_batch(bs)``,
    ``jaccard(other)``, ``count()``, ``merge(other)``, ``digest()``, ``copy()``,
    ``is_empty()``, ``clear()``, ``MinHash.bulk(sets)``, ``MinHash.union(*mhs)``; picklable.
    """

    def __new__(
        cls,
        num_perm: int = 128,
        seed: int = 1,
        hashfunc: Any = None,
        hashobj: Any = None,
        hashvalues: Optional[Sequence[int]] = None,
        permutations: Any = None,
    ) -> "MinHash":
        if hashfunc is not None or hashobj is not None or permutations is not None:
            raise ValueError(
                "dupsift.compat.datasketch.MinHash hashes items with xxh3 and its own "
                "permutations: hashfunc, hashobj and permutations are not supported"
            )
        values = None if hashvalues is None else [int(v) for v in hashvalues]
        return super().__new__(cls, num_perm, seed, values)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    @property
    def hashvalues(self) -> np.ndarray:
        """The signature (a copy), as datasketch's ``hashvalues`` (``uint64``)."""
        return self.digest()

    def digest(self) -> np.ndarray:
        """The signature values, a ``uint64`` array (a copy)."""
        return np.frombuffer(self._digest_bytes(), dtype="<u4").astype(np.uint64)

    def copy(self) -> "MinHash":
        """An independent copy."""
        out = type(self)(num_perm=self.num_perm, seed=self.seed)
        out._set_digest_bytes(self._digest_bytes())
        return out

    def __reduce__(self) -> Tuple[Any, ...]:
        return (_restore_minhash, (type(self), self.num_perm, self.seed, self._digest_bytes()))

    def __repr__(self) -> str:
        return f"MinHash(num_perm={self.num_perm}, seed={self.seed})"

    @classmethod
    def union(cls, *mhs: "MinHash") -> "MinHash":
        """The MinHash of the union of the sets of ``mhs`` (same seed and ``num_perm``)."""
        if len(mhs) < 2:
            raise ValueError("cannot union less than 2 MinHash")
        out = mhs[0].copy()
        for m in mhs[1:]:
            out.merge(m)
        return out

    @classmethod
    def bulk(cls, b: Iterable[Iterable[bytes]], **minhash_kwargs: Any) -> List["MinHash"]:
        """The MinHash of each set of ``b``, computed in parallel."""
        num_perm = minhash_kwargs.pop("num_perm", 128)
        seed = minhash_kwargs.pop("seed", 1)
        if minhash_kwargs:
            raise ValueError(f"unsupported MinHash arguments: {sorted(minhash_kwargs)}")
        out = []
        for digest in _dupsift.minhash_bulk(b, num_perm, seed):
            m = cls(num_perm=num_perm, seed=seed)
            m._set_digest_bytes(digest)
            out.append(m)
        return out

    @classmethod
    def generator(cls, b: Iterable[Iterable[bytes]], **minhash_kwargs: Any) -> Iterator["MinHash"]:
        """:meth:`bulk`, yielding."""
        yield from cls.bulk(b, **minhash_kwargs)


def _restore_minhash(cls: type, num_perm: int, seed: int, digest: bytes) -> MinHash:
    m = cls(num_perm=num_perm, seed=seed)
    m._set_digest_bytes(digest)
    return m


class MinHashLSH(_dupsift.MinHashLSH):
    """LSH over MinHash signatures: ``MinHashLSH(threshold=0.9, num_perm=128,
    weights=(0.5, 0.5), params=None)``; ``insert(key, minhash)``, ``query(minhash)``,
    ``remove(key)``, ``key in lsh``, ``insertion_session()``, ``is_empty()``; picklable. The
    banding minimises the weighted false-positive and false-negative areas of the S-curve, as
    datasketch does, unless ``params=(b, r)`` gives it."""

    def __new__(
        cls,
        threshold: float = 0.9,
        num_perm: int = 128,
        weights: Tuple[float, float] = (0.5, 0.5),
        params: Optional[Tuple[int, int]] = None,
        storage_config: Optional[dict] = None,
        prepickle: Optional[bool] = None,
        hashfunc: Any = None,
    ) -> "MinHashLSH":
        if storage_config is not None and storage_config.get("type", "dict") != "dict":
            raise ValueError("dupsift.compat.datasketch.MinHashLSH keeps its tables in memory")
        if hashfunc is not None:
            raise ValueError("hashfunc is not supported: band keys are hashed with xxh3")
        return super().__new__(cls, threshold, num_perm, tuple(weights), params)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def insertion_session(self, buffer_size: int = 50000) -> "_InsertionSession":
        """A context for many inserts (datasketch's bulk-insert session)."""
        return _InsertionSession(self)

    def __reduce__(self) -> Tuple[Any, ...]:
        state = (self.threshold, self.num_perm, self.weights, self.params, self._entries())
        return (_restore_lsh, (type(self),) + state)

    def __repr__(self) -> str:
        return (
            f"MinHashLSH(threshold={self.threshold}, num_perm={self.num_perm}, "
            f"params={self.params}, keys={len(self)})"
        )


def _restore_lsh(
    cls: type, threshold: float, num_perm: int, weights: Any, params: Any, entries: list
) -> MinHashLSH:
    lsh = cls(threshold=threshold, num_perm=num_perm, weights=weights, params=params)
    lsh._restore(entries)
    return lsh


class _InsertionSession:
    """``with lsh.insertion_session() as s: s.insert(key, m)``."""

    def __init__(self, lsh: MinHashLSH) -> None:
        self._lsh = lsh

    def insert(self, key: Hashable, minhash: MinHash, check_duplication: bool = True) -> None:
        self._lsh.insert(key, minhash, check_duplication=check_duplication)

    def __enter__(self) -> "_InsertionSession":
        return self

    def __exit__(self, *exc: Any) -> None:
        return None
