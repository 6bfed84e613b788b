"""Tests of ``dupsift.Index``: an index built in Python answers a batch's query as one built
by ``dupsift index build`` does, and as ``dupsift check --against`` sees it; ``open``,
``add`` and the errors of bad calls.

The helpers are private to this file (prefixed with ``_``) so that it does not depend on what
``conftest.py`` provides."""

from __future__ import annotations

import json
import os
import random
import subprocess
from pathlib import Path

import pyarrow as pa
import pytest

import dupsift

_TESTS = Path(__file__).resolve().parent
_REPO = _TESTS.parents[2]
_SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]


def _words(seed: int, n: int) -> list:
    rng = random.Random(seed)
    return ["".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(n)]


def _lines(ws: list, per_line: int = 11) -> str:
    return "\n".join(" ".join(ws[i : i + per_line]) for i in range(0, len(ws), per_line)) + "\n"


def _bin() -> Path:
    env = os.environ.get("DUPSIFT_BIN")
    return Path(env) if env else _REPO / "target" / "debug" / "dupsift"


def _run(*args, cwd=None) -> subprocess.CompletedProcess:
    b = _bin()
    if not b.exists():
        pytest.fail(f"no dupsift binary at {b}")
    return subprocess.run([str(b), *map(str, args)], capture_output=True, timeout=120, cwd=cwd)


def _cli(*args, cwd=None) -> bytes:
    p = _run(*args, cwd=cwd)
    assert p.returncode == 0, f"dupsift {args} exited {p.returncode}:\n{p.stderr.decode()}"
    return p.stdout


def _table(docs) -> pa.Table:
    return pa.table(
        {
            "id": pa.array([i for i, _ in docs], pa.string()),
            "text": pa.array([t for _, t in docs], pa.string()),
        }
    )


def _write_jsonl(path: Path, docs) -> Path:
    with open(path, "w", encoding="utf-8") as f:
        for i, t in docs:
            f.write(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n")
    return path


N = 12
_CORPUS_WORDS = [_words(1000 + k, 300) for k in range(N)]
CORPUS = [(f"doc{k}", _lines(ws)) for k, ws in enumerate(_CORPUS_WORDS)]


def _near(ws: list) -> list:
    """``ws`` with 2 of its 300 words replaced."""
    ws = list(ws)
    ws[90] = "qqqzzz"
    ws[210] = "zzzqqq"
    return ws


_FRESH = _lines(_words(5000, 300))
# The batch: an exact copy of doc3, a near copy of doc7, a fresh document and a copy of it
# (a duplicate inside the batch), an unrelated document.
BATCH = [
    ("b_copy", CORPUS[3][1]),
    ("b_near", _lines(_near(_CORPUS_WORDS[7]))),
    ("b_fresh", _FRESH),
    ("b_unrelated", _lines(_words(6000, 300))),
    ("b_fresh_again", _FRESH),
]
# What the query must say: id -> (row, indexed_id, duplicate_of, exact).
EXPECTED = {
    "b_copy": (0, "doc3", "doc3", True),
    "b_near": (1, "doc7", "doc7", False),
    "b_fresh_again": (4, None, "b_fresh", True),
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(Index built by Python, its path, the CLI-built index path, the batch as JSONL, dir)."""
    d = tmp_path_factory.mktemp("index")
    py_path = d / "py.dsx"
    idx = dupsift.Index.build(_table(CORPUS), py_path)
    corpus = _write_jsonl(d / "corpus.jsonl", CORPUS)
    cli_path = d / "cli.dsx"
    _cli("index", "build", "-q", corpus, "-o", cli_path)
    batch = _write_jsonl(d / "batch.jsonl", BATCH)
    return idx, py_path, cli_path, batch, d


def _answers(t: pa.Table) -> dict:
    return {
        r["id"]: (r["row"], r["indexed_id"], r["duplicate_of"], r["exact"])
        for r in t.to_pylist()
    }


def test_build_writes_the_file(built):
    idx, py_path, _, _, _ = built
    assert py_path.is_file() and py_path.stat().st_size > 0
    assert len(idx) == N
    assert os.path.samefile(idx.path, py_path)
    p = idx.params
    assert (p["threshold"], p["ngram"], p["num_perm"], p["seed"]) == (0.8, 5, 128, 42)


def test_query_finds_copy_near_copy_and_batch_duplicate(built):
    idx, *_ = built
    t = idx.query(_table(BATCH))
    assert t.column_names == ["id", "row", "indexed_id", "duplicate_of", "similarity", "exact"]
    assert _answers(t) == EXPECTED
    sim = {r["id"]: r["similarity"] for r in t.to_pylist()}
    assert sim["b_copy"] == 1.0
    assert 0.8 < sim["b_near"] < 1.0
    assert sim["b_fresh_again"] == 1.0
    assert "b_unrelated" not in sim and "b_fresh" not in sim
    assert len(idx) == N  # a query does not change the index


def test_query_result(built):
    idx, *_ = built
    res, t = idx.query_result(_table(BATCH))
    assert isinstance(res, dupsift.Result)
    assert _answers(t) == EXPECTED
    # The report sees the indexed documents and the batch together.
    assert res.summary["duplicate_documents"] == 3


def test_python_and_cli_indexes_answer_alike(built):
    idx, _, cli_path, batch, _ = built
    cli_idx = dupsift.Index.open(cli_path)
    assert len(cli_idx) == N
    assert cli_idx.params == idx.params
    batch_table = _table(BATCH)
    mine, theirs = idx.query(batch_table), cli_idx.query(batch_table)
    assert mine.equals(theirs)
    # A path source gives the same answers (rows are null for paths).
    from_path = idx.query(batch)
    assert from_path.column("id").to_pylist() == mine.column("id").to_pylist()
    assert from_path.column("duplicate_of").equals(mine.column("duplicate_of"))
    assert from_path.column("similarity").equals(mine.column("similarity"))


def test_cli_check_against_python_index(built):
    idx, py_path, _, batch, d = built
    p = _run("check", "-q", "--against", py_path, batch.name, "--format", "json", cwd=d)
    assert p.returncode == 1, p.stderr.decode()  # duplicates fail the check
    verdict = json.loads(p.stdout)
    assert verdict["passed"] is False
    found = {
        f["place"]["doc"]: (f["original"]["doc"], f["similarity"], f["rule"])
        for f in verdict["findings"]
        if f["rule"] in ("exact-duplicate", "near-duplicate")
    }
    t = idx.query(_table(BATCH))
    want = {
        r["id"]: (r["duplicate_of"], r["similarity"], "exact-duplicate" if r["exact"] else "near-duplicate")
        for r in t.to_pylist()
    }
    assert found == want
    assert set(found) == set(EXPECTED)


def test_open_round_trip(built):
    idx, py_path, *_ = built
    again = dupsift.Index.open(py_path)
    assert len(again) == len(idx)
    assert again.params == idx.params
    assert again.query(_table(BATCH)).equals(idx.query(_table(BATCH)))


def test_add_then_query(tmp_path):
    path = tmp_path / "grow.dsx"
    idx = dupsift.Index.build(_table(CORPUS[:6]), path)
    assert len(idx) == 6
    before = path.read_bytes()
    later = CORPUS[6:]
    skipped = idx.add(_table(later + [("nulltext", None)]))
    assert len(idx) == N
    assert len(skipped) == 1 and skipped[0]["row"] == len(later)
    assert path.read_bytes() != before
    reopened = dupsift.Index.open(path)
    assert len(reopened) == N
    # The documents added are found by a later query, in the reopened file too.
    probe = [("p_copy", CORPUS[9][1]), ("p_near", _lines(_near(_CORPUS_WORDS[11])))]
    for i in (idx, reopened):
        a = _answers(i.query(_table(probe)))
        assert a == {"p_copy": (0, "doc9", "doc9", True), "p_near": (1, "doc11", "doc11", False)}
    # And the CLI reads the file Python extended.
    info = _cli("index", "info", path).decode()
    assert f"documents {N}," in info, info


def test_add_from_cli_then_python(tmp_path):
    """A file extended by ``dupsift index add`` is opened and queried from Python."""
    path = tmp_path / "c.dsx"
    dupsift.Index.build(_table(CORPUS[:4]), path)
    more = _write_jsonl(tmp_path / "more.jsonl", CORPUS[4:8])
    _cli("index", "add", "-q", path, more)
    idx = dupsift.Index.open(path)
    assert len(idx) == 8
    a = _answers(idx.query(_table([("x", CORPUS[5][1])])))
    assert a == {"x": (0, "doc5", "doc5", True)}


def test_add_with_other_params_is_refused(tmp_path):
    path = tmp_path / "p.dsx"
    idx = dupsift.Index.build(_table(CORPUS[:3]), path)
    before = path.read_bytes()
    with pytest.raises(ValueError):
        idx.add(_table(CORPUS[3:5]), ngram=3)
    assert len(idx) == 3
    assert path.read_bytes() == before


def test_query_refuses_keep_and_other_detection_params(built):
    idx, *_ = built
    with pytest.raises(ValueError):
        idx.query(_table(BATCH), keep="longest")
    with pytest.raises(ValueError):
        idx.query(_table(BATCH), ngram=3)


def test_open_missing(tmp_path):
    with pytest.raises(OSError):
        dupsift.Index.open(tmp_path / "missing.dsx")
    with pytest.raises(OSError):
        dupsift.Index.open("missing.dsx")


def test_open_not_an_index(tmp_path):
    bad = tmp_path / "bad.dsx"
    bad.write_bytes(b"this is not an index\n")
    with pytest.raises(dupsift.Error):
        dupsift.Index.open(bad)


def test_build_never_replaces_an_input_or_a_foreign_file(tmp_path):
    corpus = _write_jsonl(tmp_path / "corpus.jsonl", CORPUS[:3])
    before = corpus.read_bytes()
    with pytest.raises(ValueError, match="is also an input"):
        dupsift.Index.build(corpus, corpus)
    assert corpus.read_bytes() == before
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    with pytest.raises(ValueError, match="is not a dupsift index"):
        dupsift.Index.build(_table(CORPUS[:3]), notes)
    assert notes.read_text() == "my notes\n"


def test_add_refuses_a_file_written_since_it_was_opened(tmp_path):
    # Issue 18, item 9: saving would drop what the other process added.
    path = tmp_path / "s.dsx"
    idx = dupsift.Index.build(_table(CORPUS[:4]), path)
    more = _write_jsonl(tmp_path / "more.jsonl", CORPUS[4:6])
    _cli("index", "add", "-q", path, more)
    before = path.read_bytes()
    with pytest.raises(dupsift.InputError, match="changed since it was opened"):
        idx.add(_table(CORPUS[6:8]))
    assert path.read_bytes() == before
    fresh = dupsift.Index.open(path)
    fresh.add(_table(CORPUS[6:8]))
    assert len(dupsift.Index.open(path)) == 8
