"""Tests of ``dupsift.clean``: a table cleaned in memory against ``dupsift clean`` on the same
records as JSONL, its ``strip_passages`` and ``annotate`` options, a folder cleaned to disk
against the command's output tree, and the errors of bad calls.

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
    """``n`` pseudo-words drawn from ``random.Random(seed)`` (different seeds share no run of
    5 words in practice: ~25 million possible words)."""
    rng = random.Random(seed)
    return ["".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(n)]


def _lines(ws: list, per_line: int = 11) -> str:
    return "\n".join(" ".join(ws[i : i + per_line]) for i in range(0, len(ws), per_line)) + "\n"


def _edited(ws: list, positions, seed: int) -> list:
    ws = list(ws)
    for p, w in zip(positions, _words(seed, len(positions))):
        ws[p] = w + "x"
    return ws


def _bin() -> Path:
    env = os.environ.get("DUPSIFT_BIN")
    return Path(env) if env else _REPO / "target" / "debug" / "dupsift"


def _cli(*args, cwd=None) -> bytes:
    b = _bin()
    if not b.exists():
        pytest.fail(f"no dupsift binary at {b}")
    p = subprocess.run([str(b), *map(str, args)], capture_output=True, timeout=120, cwd=cwd)
    assert p.returncode == 0, f"dupsift {args} exited {p.returncode}:\n{p.stderr.decode()}"
    return p.stdout


_BODY = _words(3, 90)
_ORIG = _words(1, 300)
_SHARED = _words(6, 80)

# (id, text): an original, an exact copy, a near copy (2 of 300 words edited), a body pasted
# twice (a self-repeat), two documents sharing a passage, a null text, unrelated documents.
_DOCS = [
    ("orig", _lines(_ORIG)),
    ("unrelated", _lines(_words(2, 300))),
    ("copy", _lines(_ORIG)),
    ("near", _lines(_edited(_ORIG, [100, 200], seed=99))),
    ("doubled", _lines(_BODY) + _lines(_BODY)),
    ("shared_a", _lines(_words(4, 120) + _SHARED + _words(5, 120))),
    ("nulltext", None),
    ("shared_b", _lines(_words(7, 100) + _SHARED + _words(8, 140))),
    ("uni", "Café über Straße 日本語の文章です\n" + _lines(_words(9, 120))),
    ("copy2", _lines(_ORIG)),
]
_IDS = [i for i, _ in _DOCS]


def _extras(k: int) -> dict:
    """The extra columns of row ``k``: one int, one float, one list of ints, one struct."""
    return {
        "n": 10 * k - 3,
        "score": k * 0.5 + 0.25,
        "tags": [k, k * k] if k % 3 else [],
        "meta": {"a": k, "b": f"m{k}"},
    }


_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("text", pa.string()),
        ("n", pa.int64()),
        ("score", pa.float64()),
        ("tags", pa.list_(pa.int64())),
        ("meta", pa.struct([("a", pa.int64()), ("b", pa.string())])),
    ]
)


def _records() -> list:
    return [dict({"id": i, "text": t}, **_extras(k)) for k, (i, t) in enumerate(_DOCS)]


@pytest.fixture(scope="module")
def table() -> pa.Table:
    return pa.Table.from_pylist(_records(), schema=_SCHEMA)


def _write_jsonl(path: Path, records) -> Path:
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return path


def _read_jsonl(path: Path) -> list:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture(scope="module")
def cli_clean(tmp_path_factory):
    """``dupsift clean corpus.jsonl -o OUT`` on the records of ``table``: (cleaned records,
    manifest lines, report)."""
    d = tmp_path_factory.mktemp("cli_clean")
    src = d / "in"
    src.mkdir()
    _write_jsonl(src / "corpus.jsonl", _records())
    # Run from the input's folder: a file named by a relative path is written under OUT by
    # that path.
    _cli("clean", "-q", "corpus.jsonl", "-o", d / "out", cwd=src)
    return (
        _read_jsonl(d / "out" / "corpus.jsonl"),
        _read_jsonl(d / "out" / "manifest.jsonl"),
        json.loads((d / "out" / "report.json").read_text()),
    )


# -- 1. a table cleaned in memory is what the command writes for the same records -----------


def test_table_keeps_the_rows_the_cli_keeps(table, cli_clean):
    cleaned, _ = dupsift.clean(table)
    records, _, _ = cli_clean
    got = cleaned.column("id").to_pylist()
    assert got == [r["id"] for r in records]
    # What this corpus calls for, so that agreeing on nothing cannot pass.
    assert got == [i for i in _IDS if i not in ("copy", "near", "copy2")]
    assert "nulltext" in got


def test_table_cut_text_equals_the_cli_cut(table, cli_clean):
    cleaned, _ = dupsift.clean(table)
    records, _, _ = cli_clean
    texts = dict(zip(cleaned.column("id").to_pylist(), cleaned.column("text").to_pylist()))
    cli_texts = {r["id"]: r["text"] for r in records}
    doubled = dict(_DOCS)["doubled"]
    assert texts["doubled"] == cli_texts["doubled"]
    assert len(texts["doubled"]) < len(doubled)
    assert texts["doubled"].split() == _BODY  # the body pasted twice comes out once
    # Every other text is as it was, in the table and in the command's output.
    for i, t in texts.items():
        assert t == cli_texts[i]
        if i != "doubled":
            assert t == dict(_DOCS)[i]


def test_table_extra_columns_and_schema_untouched(table, cli_clean):
    cleaned, _ = dupsift.clean(table)
    assert cleaned.schema.equals(table.schema, check_metadata=True)
    rows = {r["id"]: r for r in table.to_pylist()}
    records = {r["id"]: r for r in cli_clean[0]}
    for r in cleaned.to_pylist():
        src = rows[r["id"]]
        for col in ("n", "score", "tags", "meta"):
            assert r[col] == src[col], (r["id"], col)
            assert r[col] == records[r["id"]][col], (r["id"], col)


def test_table_manifest_equals_cli_manifest(table, cli_clean):
    _, manifest = dupsift.clean(table)
    _, lines, _ = cli_clean
    assert manifest.column_names == [
        "id", "source", "line", "row", "reason", "duplicate_of", "similarity", "bytes",
        "passage", "start", "end",
    ]
    keys = ("id", "reason", "duplicate_of", "start", "end")
    got = [tuple(r[k] for k in keys) for r in manifest.to_pylist()]
    want = [tuple(m.get(k) for k in keys) for m in lines]
    assert got == want
    assert {r[1] for r in got} == {"exact-duplicate", "near-duplicate", "repeated-passage"}
    for r, m in zip(manifest.to_pylist(), lines):
        assert r["line"] == m["line"]
        assert r["row"] == _IDS.index(r["id"]) == m["line"] - 1
        assert r["similarity"] == m["similarity"]
        assert r["bytes"] == m["bytes"]
        assert r["passage"] == m.get("passage")
    near = [r for r in manifest.to_pylist() if r["id"] == "near"]
    assert near and near[0]["reason"] == "near-duplicate" and 0.8 <= near[0]["similarity"] < 1


def test_table_manifest_offsets_cut_the_text(table):
    """The start/end of a repeated-passage row are the bytes cut from the input text."""
    cleaned, manifest = dupsift.clean(table)
    cuts = [r for r in manifest.to_pylist() if r["reason"] == "repeated-passage"]
    assert [r["id"] for r in cuts] == ["doubled"]
    raw = dict(_DOCS)["doubled"].encode("utf-8")
    c = cuts[0]
    assert c["end"] - c["start"] == c["bytes"] > 0
    kept = dict(zip(cleaned.column("id").to_pylist(), cleaned.column("text").to_pylist()))
    assert kept["doubled"].encode("utf-8") == raw[: c["start"]] + raw[c["end"] :]


# -- 2. strip_passages and annotate ----------------------------------------------------------


def test_strip_passages_none_leaves_texts(table):
    cleaned, manifest = dupsift.clean(table, strip_passages="none")
    src = dict(_DOCS)
    ids = cleaned.column("id").to_pylist()
    assert ids == [i for i in _IDS if i not in ("copy", "near", "copy2")]
    for i, t in zip(ids, cleaned.column("text").to_pylist()):
        assert t == src[i]
    assert "repeated-passage" not in manifest.column("reason").to_pylist()


def test_strip_passages_all_cuts_shared_passage(table):
    """``all`` also cuts the later copy of a passage kept in an earlier document."""
    cleaned, manifest = dupsift.clean(table, strip_passages="all")
    texts = dict(zip(cleaned.column("id").to_pylist(), cleaned.column("text").to_pylist()))
    assert texts["shared_a"] == dict(_DOCS)["shared_a"]
    assert len(texts["shared_b"]) < len(dict(_DOCS)["shared_b"])
    assert "shared_b" in manifest.column("id").to_pylist()


def test_annotate_matches_scan_clusters(table):
    cleaned, _ = dupsift.clean(table, annotate=True)
    assert cleaned.column_names == table.column_names + ["dupsift_cluster", "dupsift_cluster_size"]
    assert cleaned.schema.field("dupsift_cluster").type == pa.int64()
    assert cleaned.schema.field("dupsift_cluster_size").type == pa.int64()
    # The input's columns are as without annotate.
    plain, _ = dupsift.clean(table)
    assert cleaned.select(table.column_names).equals(plain)

    clusters = dupsift.scan(table).clusters.to_pylist()
    assert clusters, "the corpus has a cluster"
    cluster_of = {c["row"]: c["cluster"] for c in clusters}
    size = {}
    for c in clusters:
        size[c["cluster"]] = size.get(c["cluster"], 0) + 1
    rows_of = {i: k for k, i in enumerate(_IDS)}
    seen = 0
    for r in cleaned.to_pylist():
        row = rows_of[r["id"]]
        if row in cluster_of:
            seen += 1
            assert r["dupsift_cluster"] == cluster_of[row]
            assert r["dupsift_cluster_size"] == size[cluster_of[row]]
        else:
            assert r["dupsift_cluster"] is None
            assert r["dupsift_cluster_size"] == 1
    assert seen >= 1
    orig = [r for r in cleaned.to_pylist() if r["id"] == "orig"][0]
    assert orig["dupsift_cluster_size"] == 4  # orig, copy, near, copy2


def test_annotate_only_keeps_every_row(table):
    cleaned, manifest = dupsift.clean(table, annotate="only")
    assert cleaned.num_rows == table.num_rows
    assert cleaned.column("id").to_pylist() == _IDS
    assert cleaned.column("text").to_pylist() == [t for _, t in _DOCS]  # nothing cut
    assert cleaned.column_names == table.column_names + [
        "dupsift_cluster", "dupsift_cluster_size", "dupsift_duplicate_of",
    ]
    assert manifest.num_rows == 0
    of = dict(zip(_IDS, cleaned.column("dupsift_duplicate_of").to_pylist()))
    assert of["copy"] == of["near"] == of["copy2"] == "orig"
    assert of["orig"] is None and of["unrelated"] is None and of["nulltext"] is None
    cl = dict(zip(_IDS, cleaned.column("dupsift_cluster").to_pylist()))
    assert cl["copy"] == cl["near"] == cl["orig"] is not None


def test_annotate_refuses_an_existing_column(table):
    t = table.append_column("dupsift_cluster", pa.array(range(table.num_rows), pa.int64()))
    with pytest.raises(ValueError, match="dupsift_cluster") as e:
        dupsift.clean(t, annotate=True)
    assert isinstance(e.value, dupsift.ColumnError)


# -- 3. paths are cleaned to disk as the command cleans them ---------------------------------


def _tree(root: Path) -> dict:
    return {
        p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.fixture
def folder(tmp_path) -> Path:
    d = tmp_path / "corpus"
    (d / "sub").mkdir(parents=True)
    for k, (i, t) in enumerate(_DOCS):
        if t is None:
            continue
        where = d if k % 2 else d / "sub"
        (where / f"{i}.txt").write_text(t, encoding="utf-8")
    _write_jsonl(
        d / "sub" / "records.jsonl",
        [{"id": "r1", "text": dict(_DOCS)["orig"]}, {"id": "r2", "text": _lines(_words(77, 200))}],
    )
    return d


def test_clean_folder_equals_cli_tree(tmp_path, folder):
    res = dupsift.clean(folder, out=tmp_path / "out")
    assert isinstance(res, dupsift.Result)
    _cli("clean", "-q", folder, "-o", tmp_path / "out2")
    mine, theirs = _tree(tmp_path / "out"), _tree(tmp_path / "out2")
    assert sorted(mine) == sorted(theirs)
    assert {"manifest.jsonl", "report.json", "sub/records.jsonl"} <= set(mine)
    for name in theirs:
        assert mine[name] == theirs[name], name
    report = json.loads(theirs["report.json"])
    assert res.cleanup == report["clean"]["totals"]
    assert res.cleanup["removed"] >= 3 and res.cleanup["cut_documents"] == 1
    # The input is not changed.
    assert (folder / "sub" / "copy.txt").read_text(encoding="utf-8") == dict(_DOCS)["copy"]


def test_clean_paths_without_out(folder):
    with pytest.raises(dupsift.ParameterError, match="out"):
        dupsift.clean(folder)
    with pytest.raises(ValueError):
        dupsift.clean([folder])


def test_clean_table_with_out(tmp_path, table):
    with pytest.raises(dupsift.ParameterError, match="out"):
        dupsift.clean(table, out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_clean_non_empty_out_needs_force(tmp_path, folder):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("keep me")
    with pytest.raises(ValueError, match="force"):
        dupsift.clean(folder, out=out)
    assert (out / "old.txt").read_text() == "keep me"
    res = dupsift.clean(folder, out=out, force=True)
    assert not (out / "old.txt").exists()
    assert (out / "report.json").exists()
    assert res.cleanup["documents_in"] == len(_DOCS) - 1 + 2


def test_strip_passages_without_passages(table, tmp_path, folder):
    with pytest.raises(ValueError, match="passage"):
        dupsift.clean(table, strip_passages="self", passages=False)
    with pytest.raises(ValueError):
        dupsift.clean(folder, out=tmp_path / "out", strip_passages="self", passages=False)
    assert not (tmp_path / "out").exists()
    # Without passages and no strip asked for, nothing is cut.
    cleaned, manifest = dupsift.clean(table, passages=False)
    assert "repeated-passage" not in manifest.column("reason").to_pylist()
    texts = dict(zip(cleaned.column("id").to_pylist(), cleaned.column("text").to_pylist()))
    assert texts["doubled"] == dict(_DOCS)["doubled"]


def test_bad_choices(table):
    with pytest.raises(dupsift.ParameterError, match="strip_passages"):
        dupsift.clean(table, strip_passages="some")
    with pytest.raises(dupsift.ParameterError, match="annotate"):
        dupsift.clean(table, annotate="yes")
