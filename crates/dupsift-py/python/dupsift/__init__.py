"""dupsift: near-duplicate documents and repeated passages in a corpus.

Shingling, MinHash and LSH find candidate pairs; every candidate is verified with the exact
Jaccard similarity of its shingle sets, so the clusters reported are exact at the threshold. The
engine is Rust; it runs with the GIL released and stops on Ctrl-C.

    >>> import dupsift
    >>> res = dupsift.scan(table)              # a pyarrow.Table with a "text" column
    >>> res.clusters                           # pyarrow.Table: cluster, id, row, kept, ...
    >>> deduped = table.filter(res.keep_mask)  # what a cleanup keeps

Sources: a path or a list of paths (everything the ``dupsift`` command reads: folders, text,
JSONL, Parquet, gzip/zstd), a ``pyarrow.Table``, ``RecordBatch`` or ``RecordBatchReader``,
anything exposing the Arrow C stream interface (polars and pandas frames, DuckDB results), a
``datasets.Dataset``, or a list of texts. Parameters have the names and defaults of the
command's flags (``threshold=0.8``, ``ngram=5``, ``num_perm=128``, ``keep="first"``,
``passages=True``, ``min_passage=50``, ``threads=0``...).
"""

from __future__ import annotations

import json
import os
from functools import cached_property
from typing import Any, Optional, Sequence, Tuple, Union

import numpy as np
import pyarrow as pa

from . import _dupsift
from ._errors import ColumnError, Error, InputError, ParameterError, StrictError

__version__: str = _dupsift.__version__

__all__ = [
    "scan",
    "clean",
    "Index",
    "Result",
    "Error",
    "ParameterError",
    "ColumnError",
    "InputError",
    "StrictError",
]

PathLike = Union[str, "os.PathLike[str]"]


def scan(source: Any, *, text: str = "text", id: str = "id", **params: Any) -> "Result":
    """Finds the near-duplicate documents and repeated passages of ``source``.

    ``text`` and ``id`` name the column (JSONL field) holding a document's text and its id; a
    row without an id is named by its 0-based row (a file's line: ``FILE:LINE``, as the
    command does). ``params`` are the detection and keep parameters of ``dupsift scan``, with
    ``_`` for ``-`` (``num_perm``, ``min_passage``), ``passages=False`` for
    ``--no-passages``, and ``threads`` (0: one per core).

    Raises :class:`ParameterError` for unknown or invalid parameters, :class:`ColumnError`
    when a table has no usable text column, :class:`InputError` when a path does not exist.
    Null texts and unreadable files are not errors: they are listed in ``Result.skipped``.
    """
    paths, table = _input(source, text)
    params = dict(params, text=text, id=id)
    return Result(_dupsift.scan(paths, table, params))


def clean(
    source: Any,
    out: Optional[PathLike] = None,
    *,
    text: str = "text",
    id: str = "id",
    **params: Any,
) -> Any:
    """Scans ``source`` and removes what a cleanup removes: every cluster member but the kept
    one, and (by default, when passages are searched) a document's repeats of its own passages
    (a body pasted twice comes out once).

    For a table source (anything :func:`scan` takes but paths), returns
    ``(cleaned_table, manifest_table)``: the rows that stay, in order, every column untouched
    but the text of rows that were cut; and one row per removal or cut (``id``, ``source``,
    ``line``, ``row``, ``reason``, ``duplicate_of``, ``similarity``, ``bytes``, ``passage``,
    ``start``, ``end``). For paths, writes the cleaned corpus under ``out`` exactly as
    ``dupsift clean PATHS -o OUT`` does (``manifest.jsonl`` and ``report.json`` beside it,
    placed atomically) and returns the scan's :class:`Result`, whose ``cleanup`` holds the
    totals.

    Besides the parameters of :func:`scan`: ``strip_passages`` (``"none"``, ``"self"``,
    ``"all"``), ``annotate`` (``True`` adds ``dupsift_cluster`` and ``dupsift_cluster_size``
    columns to what stays; ``"only"`` removes nothing and adds ``dupsift_duplicate_of`` too),
    ``compress`` (``"none"``, ``"gz"``, ``"zst"``, for paths) and ``force`` (replace a
    non-empty ``out``).
    """
    paths, table = _input(source, text)
    params = dict(params, text=text, id=id)
    target = os.fspath(out) if out is not None else None
    scan, cleaned, manifest, totals = _dupsift.clean(paths, table, target, params)
    result = Result(scan)
    result.cleanup = json.loads(totals)
    if paths is not None:
        return result
    return cleaned, manifest


class Result:
    """What a scan found. Tables are ``pyarrow.Table``; rows name the input row (0-based) they
    come from when the source was a table."""

    #: The totals of the cleanup (documents and bytes in, kept, removed, cut) after
    #: :func:`clean`; ``None`` after :func:`scan`.
    cleanup: Optional[dict] = None

    def __init__(self, scan: "_dupsift.Scan") -> None:
        self._scan = scan

    @cached_property
    def summary(self) -> dict:
        """The report's summary (documents, clusters, duplicate documents and bytes, passages,
        ...), as in the JSON report."""
        return json.loads(self._scan.summary_json())

    @cached_property
    def params(self) -> dict:
        """The parameters the scan ran with, as the JSON report's ``params``."""
        return json.loads(self._scan.params_json())

    @cached_property
    def clusters(self) -> pa.Table:
        """One row per member of a cluster, the kept document first: ``cluster``,
        ``component``, ``id``, ``row`` (input row of a table source, else null), ``kept``,
        ``similarity`` (to the kept document; null for it), ``exact``."""
        return self._scan.clusters()

    @cached_property
    def passages(self) -> pa.Table:
        """One row per occurrence of a repeated passage: ``passage``, ``id``, ``row``,
        ``start``, ``end`` (byte offsets in the document's UTF-8 text), ``line_start``,
        ``line_end``, ``words`` (the passage's length)."""
        return self._scan.passages()

    @cached_property
    def documents(self) -> pa.Table:
        """One row per document, in reading order: ``id``, ``row``, ``source``, ``line``,
        ``bytes``."""
        return self._scan.documents()

    @cached_property
    def keep_mask(self) -> np.ndarray:
        """What a cleanup keeps, as a boolean array: one entry per input row of a table source
        (rows that are not documents, such as null texts, are kept), or per document (in the
        order of :attr:`documents`) for paths.
        ``ds.select(np.flatnonzero(res.keep_mask))`` deduplicates a Dataset."""
        return np.frombuffer(self._scan.keep_mask(), dtype=np.uint8).astype(bool)

    @cached_property
    def skipped(self) -> list:
        """Inputs that were not documents, and why: dicts of ``path``, ``line`` (1-based line
        or row), ``row`` (0-based row of a table source) and ``reason``."""
        return self._scan.skipped()

    def explain(self, doc: Union[str, int]) -> dict:
        """Why document ``doc`` (an id, or the 0-based row of a table source) is kept or
        removed: its cluster, the document kept there, its similarity to it, and the repeated
        passages it holds (with their byte offsets). ``KeyError`` if there is no such
        document."""
        return self._scan.explain(doc)

    def to_json(self) -> str:
        """The report ``dupsift scan --format json`` writes for the same inputs and
        parameters, byte for byte."""
        return self._scan.to_json()

    def __repr__(self) -> str:
        s = self.summary
        return (
            f"<dupsift.Result: {s['documents']} documents, {s['clusters']} clusters, "
            f"{s['duplicate_documents']} duplicates, {s['passages']} passages, "
            f"{s['skipped']} skipped>"
        )


class Index:
    """The index of a corpus (a ``.dsx`` file, the same as ``dupsift index build`` writes): new
    batches are checked against it without reading the indexed corpus again.

        >>> idx = dupsift.Index.build(corpus_table, "corpus.dsx")
        >>> idx.query(new_batch)        # pyarrow.Table: id, row, indexed_id, similarity, ...
        >>> idx.add(new_batch)          # the batch joins the index (the file is rewritten)
    """

    def __init__(self, handle: "_dupsift.IndexHandle") -> None:
        self._handle = handle

    @classmethod
    def build(
        cls, source: Any, path: PathLike, *, text: str = "text", id: str = "id", **params: Any
    ) -> "Index":
        """Indexes ``source`` (anything :func:`scan` takes) with the detection parameters in
        ``params`` and writes the index to ``path`` (atomically)."""
        paths, table = _input(source, text)
        params = dict(params, text=text, id=id)
        return cls(_dupsift.index_build(paths, table, os.fspath(path), params))

    @classmethod
    def open(cls, path: PathLike) -> "Index":
        """The index at ``path``. :class:`InputError` when it is missing or not an index."""
        return cls(_dupsift.index_open(os.fspath(path)))

    @property
    def path(self) -> str:
        """The file the index is kept in."""
        return os.fspath(self._handle.path)

    @cached_property
    def params(self) -> dict:
        """The parameters the index was built with."""
        return json.loads(self._handle.params_json())

    def __len__(self) -> int:
        return len(self._handle)

    def __repr__(self) -> str:
        return f"<dupsift.Index: {len(self)} documents in {self.path}>"

    def _params(self, params: dict, text: str, id: str) -> dict:
        """``params`` with the index's detection parameters for those not given."""
        p = self.params
        defaults = {
            "unit": p["unit"],
            "ngram": p["ngram"],
            "num_perm": p["num_perm"],
            "bands": p["bands"],
            "rows": p["rows"],
            "threshold": p["threshold"],
            "seed": p["seed"],
            "scheme": p.get("scheme", "classic"),
            "passages": p.get("min_passage") is not None,
        }
        if p.get("min_passage") is not None:
            defaults["min_passage"] = p["min_passage"]
        return dict(defaults, **params, text=text, id=id)

    def add(self, source: Any, *, text: str = "text", id: str = "id", **params: Any) -> list:
        """Appends the documents of ``source`` and rewrites the file atomically. The detection
        parameters are the index's (any given must agree). Returns the inputs skipped."""
        paths, table = _input(source, text)
        return self._handle.add(paths, table, self._params(params, text, id))

    def query(
        self, source: Any, *, text: str = "text", id: str = "id", **params: Any
    ) -> pa.Table:
        """Checks the batch ``source`` against the index: one row per document of the batch
        that duplicates an indexed document (``indexed_id``) or an earlier one of the batch
        (``indexed_id`` null): ``id``, ``row``, ``indexed_id``, ``duplicate_of``,
        ``similarity``, ``exact``. The index is not changed. The full :class:`Result` of the
        scan is :meth:`query_result`'s."""
        return self.query_result(source, text=text, id=id, **params)[1]

    def query_result(
        self, source: Any, *, text: str = "text", id: str = "id", **params: Any
    ) -> Tuple["Result", pa.Table]:
        """:meth:`query`, with the scan's :class:`Result` (whose report lists indexed and
        new documents together, as ``dupsift check --against`` sees them)."""
        paths, table = _input(source, text)
        scan, matches = self._handle.query(paths, table, self._params(params, text, id))
        return Result(scan), matches


def _input(source: Any, text: str) -> Tuple[Optional[list], Any]:
    """``source`` as the engine takes it: a list of paths, or an object exposing the Arrow C
    stream interface."""
    if isinstance(source, (str, os.PathLike)):
        return [os.fspath(source)], None
    if isinstance(source, pa.Table) or isinstance(source, pa.RecordBatchReader):
        return None, source
    if isinstance(source, pa.RecordBatch):
        return None, pa.Table.from_batches([source])
    module = type(source).__module__ or ""
    if module.startswith("datasets"):
        return None, _dataset_table(source)
    if hasattr(source, "__arrow_c_stream__"):
        return None, source
    if module.startswith("pandas"):
        return None, pa.Table.from_pandas(source, preserve_index=False)
    if module.startswith("polars") and hasattr(source, "to_arrow"):
        return None, source.to_arrow()
    if isinstance(source, (list, tuple)):
        return _list(source, text)
    raise ParameterError(
        f"cannot scan {source!r:.40} (of type {type(source).__name__}): give a path, a list of "
        "paths, an Arrow table or stream, a datasets.Dataset, a pandas or polars frame, or a "
        "list of texts"
    )


def _dataset_table(ds: Any) -> pa.Table:
    """The Arrow table of a Hugging Face ``datasets.Dataset``, without turning rows into
    Python objects: its table itself when it has no indices mapping (after ``select``,
    ``shuffle``...), else the selected rows."""
    if not hasattr(ds, "with_format") or not hasattr(ds, "data"):
        raise ParameterError(
            f"cannot scan a {type(ds).__name__}: give a datasets.Dataset (one split: ds['train'])"
        )
    if getattr(ds, "_indices", None) is None:
        table = ds.data
        return getattr(table, "table", table)
    return ds.with_format("arrow")[:]


def _list(items: Sequence[Any], text: str) -> Tuple[Optional[list], Any]:
    """A list of paths, or of texts. ``pathlib.Path`` items make it paths; a list of strings is
    paths when every one names an existing file or folder, texts otherwise — unless every one
    looks like a path and none exists, which is refused rather than scanned as texts."""
    if not items:
        raise ParameterError("nothing to scan: the list is empty")
    if any(isinstance(i, os.PathLike) for i in items):
        if not all(isinstance(i, (str, os.PathLike)) for i in items):
            raise ParameterError("a list of paths holds only str and os.PathLike items")
        return [os.fspath(i) for i in items], None
    if not all(i is None or isinstance(i, str) for i in items):
        raise ParameterError("a list of texts holds only str (or None) items")
    strings = [i for i in items if i is not None]
    if strings and all(os.path.exists(i) for i in strings) and len(strings) == len(items):
        return list(items), None
    if strings and all(_looks_like_path(i) for i in strings) and not any(
        os.path.exists(i) for i in strings
    ):
        raise InputError(
            f"{strings[0]}: no such file or directory (to scan these strings as texts, pass "
            f"pyarrow.table({{'{text}': [...]}}))"
        )
    return None, pa.table({text: pa.array(items, type=pa.large_string())})


def _looks_like_path(s: str) -> bool:
    """A single token with a folder separator or a file extension."""
    if not s or any(c.isspace() for c in s):
        return False
    base = os.path.basename(s)
    return os.sep in s or "/" in s or ("." in base.strip(".") and len(base) < 256)
