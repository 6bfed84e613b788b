"""Tests of ``dupsift.scan`` and its ``Result``, against the ``dupsift`` command where the two
must agree (the JSON report, ``dupsift clean``)."""

from __future__ import annotations

import gzip
import json
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import dupsift
from conftest import CORPUS, lines, norm_words, words, write_jsonl

# Python parameters and the CLI flags they stand for.
PARAM_SETS = [
    pytest.param({}, [], id="defaults"),
    pytest.param(
        {"threshold": 0.7, "passages": False, "keep": "longest"},
        ["--threshold", "0.7", "--no-passages", "--keep", "longest"],
        id="threshold-nopassages-longest",
    ),
    pytest.param(
        {"ngram": 3, "num_perm": 64, "seed": 7, "min_passage": 20, "keep": "last"},
        ["--ngram", "3", "--num-perm", "64", "--seed", "7", "--min-passage", "20", "--keep", "last"],
        id="ngram-numperm-seed-minpassage-last",
    ),
    pytest.param(
        {"scheme": "oph", "verify": "estimate", "clusters": "components", "prefer": ["*near*"]},
        ["--scheme", "oph", "--verify", "estimate", "--clusters", "components", "--prefer", "*near*"],
        id="oph-estimate-components-prefer",
    ),
]


def cli_json(cli, paths, flags=()) -> str:
    return cli("scan", "--format", "json", "-q", *flags, *paths).decode("utf-8")


def cluster_sets(clusters: pa.Table, key: str = "id") -> dict:
    """{kept: {member: similarity}} of a Result's clusters table."""
    out: dict = {}
    kept = None
    for r in clusters.to_pylist():
        if r["kept"]:
            kept = r[key]
            assert r["similarity"] is None
            out[kept] = {}
        else:
            assert kept is not None and r["cluster"] == list(out).index(kept)
            out[kept][r[key]] = r["similarity"]
    return out


def json_cluster_sets(report: dict) -> dict:
    return {
        c["kept"]: {m["doc"]: m["similarity"] for m in c["members"]} for c in report["clusters"]
    }


def occurrences(passages: pa.Table) -> list:
    """[(passage, id, start, end, line_start, line_end)] of a passages table."""
    return [
        (r["passage"], r["id"], r["start"], r["end"], r["line_start"], r["line_end"])
        for r in passages.to_pylist()
    ]


def json_occurrences(report: dict) -> list:
    return [
        (i, o["doc"], o["start"], o["end"], o["line_start"], o["line_end"])
        for i, p in enumerate(report["passages"])
        for o in p["occurrences"]
    ]


def without_skipped_paths(report_json: str) -> dict:
    j = json.loads(report_json)
    for s in j["skipped"]:
        s["path"] = "<normalised>"
    return j


@pytest.fixture(scope="module")
def res(table):
    """The scan of the corpus table, default parameters."""
    return dupsift.scan(table)


# --- the generator the other tests rely on -------------------------------------------------


def test_generator_has_no_shared_runs():
    """Texts of different seeds share no 5-word run; the same seed gives the same words."""
    seeds = list(range(0, 14)) + [99]
    seen: dict = {}
    for s in seeds:
        ws = words(s, 300)
        assert ws == words(s, 300)
        for i in range(len(ws) - 4):
            g = tuple(ws[i : i + 5])
            assert seen.setdefault(g, s) == s, f"seeds {seen[g]} and {s} share {g}"


# --- 1. path scans: to_json() is the command's report ---------------------------------------


@pytest.mark.parametrize("params,flags", PARAM_SETS)
def test_to_json_folder_equals_cli(cli, txt_folder, params, flags):
    got = dupsift.scan(txt_folder, **params).to_json()
    assert got == cli_json(cli, [txt_folder], flags)
    # the parameters did reach the engine
    report = json.loads(got)
    if params.get("passages") is False:
        assert report["params"]["passages"] is None
    if "keep" in params:
        assert report["params"]["keep"] == params["keep"]
    assert report["summary"]["documents"] == 9


@pytest.mark.parametrize("params,flags", PARAM_SETS)
def test_to_json_jsonl_equals_cli(cli, jsonl_file, params, flags):
    got = dupsift.scan(str(jsonl_file), **params).to_json()
    assert got == cli_json(cli, [jsonl_file], flags)
    assert json.loads(got)["summary"]["skipped"] == 1  # the null text


def test_to_json_parquet_and_gzip_and_several_paths_equal_cli(cli, tmp_path, jsonl_file, parquet_file, txt_folder):
    gz = tmp_path / "corpus.jsonl.gz"
    gz.write_bytes(gzip.compress(jsonl_file.read_bytes()))
    assert dupsift.scan(parquet_file).to_json() == cli_json(cli, [parquet_file])
    assert dupsift.scan(gz).to_json() == cli_json(cli, [gz])
    paths = [txt_folder, jsonl_file, parquet_file]
    got = dupsift.scan([str(p) for p in paths], threshold=0.75)
    assert got.to_json() == cli_json(cli, paths, ["--threshold", "0.75"])
    # a list of pathlib.Path is paths as well
    assert dupsift.scan(paths, threshold=0.75).to_json() == got.to_json()
    # three copies of everything: every document of the folder is in a cluster
    assert got.summary["documents"] == 27


def test_text_and_id_fields(cli, tmp_path, corpus):
    p = tmp_path / "fields.jsonl"
    with open(p, "w", encoding="utf-8") as f:
        for i, t in corpus:
            f.write(json.dumps({"key": "k-" + i, "body": t, "text": "decoy"}) + "\n")
    res = dupsift.scan(p, text="body", id="key")
    assert res.to_json() == cli_json(cli, [p], ["--text-field", "body", "--id-field", "key"])
    assert set(cluster_sets(res.clusters)) == {"k-orig"}
    t = pa.table({"key": ["k-" + i for i, _ in corpus], "body": [t for _, t in corpus]})
    assert cluster_sets(dupsift.scan(t, text="body", id="key").clusters) == cluster_sets(res.clusters)


def test_path_ids_and_documents(txt_folder, jsonl_file):
    res = dupsift.scan(txt_folder)
    docs = res.documents.to_pylist()
    # ids relative to the folder, in reading (name) order
    assert [d["id"] for d in docs] == sorted(f"{i}.txt" for i, t in CORPUS if t is not None)
    assert all(d["row"] is None for d in docs)
    assert res.keep_mask.shape == (len(docs),)
    assert {d["id"]: d["bytes"] for d in docs} == {
        f"{i}.txt": len(t.encode()) for i, t in CORPUS if t is not None
    }
    assert res.clusters.column("row").null_count == res.clusters.num_rows
    # JSONL: the id field; lines are 1-based
    res = dupsift.scan(jsonl_file)
    docs = res.documents.to_pylist()
    # per document for paths: the skipped null text has no entry
    assert res.keep_mask.tolist() == [d["id"] not in ("copy", "near") for d in docs]
    assert [(s["line"], s["row"]) for s in res.skipped] == [(7, None)]
    ids = [i for i, t in CORPUS if t is not None]
    assert [d["id"] for d in docs] == ids
    assert [d["line"] for d in docs] == [n + 1 for n, (i, t) in enumerate(CORPUS) if t is not None]
    assert [d["bytes"] for d in docs] == [len(t.encode()) for i, t in CORPUS if t is not None]


def test_jsonl_without_ids_is_file_line(tmp_path, cli):
    p = tmp_path / "noid.jsonl"
    with open(p, "w") as f:
        for _, t in CORPUS:
            f.write(json.dumps({"text": t}) + "\n")
    res = dupsift.scan(p)
    assert res.to_json() == cli_json(cli, [p])
    kept, members = next(iter(cluster_sets(res.clusters).items()))
    assert kept.endswith("noid.jsonl:1")
    assert sorted(m.rsplit(":", 1)[1] for m in members) == ["3", "4"]


# --- 2. a pyarrow table agrees with the command on the same rows ---------------------------


def test_table_agrees_with_cli_jsonl(cli, res, jsonl_file, table):
    report = json.loads(cli_json(cli, [jsonl_file]))
    assert res.summary == report["summary"]
    assert res.params == report["params"]
    assert cluster_sets(res.clusters) == json_cluster_sets(report)
    assert cluster_sets(res.clusters) == {"orig": {"copy": 1.0, "near": pytest.approx(0.9346, abs=1e-4)}}
    assert occurrences(res.passages) == json_occurrences(report)
    # rows name the table's rows
    ids = table.column("id").to_pylist()
    for r in res.clusters.to_pylist() + res.passages.to_pylist():
        assert ids[r["row"]] == r["id"]
    # exact is true for the byte-identical copy only
    exact = {r["id"]: r["exact"] for r in res.clusters.to_pylist()}
    assert exact == {"orig": False, "copy": True, "near": False}
    assert {r["id"]: r["component"] for r in res.clusters.to_pylist()} == {"orig": 0, "copy": 0, "near": 0}


def test_table_to_json_equals_cli_parquet_but_skipped_names(cli, res, parquet_file):
    got = res.to_json()
    want = cli_json(cli, [parquet_file])
    assert without_skipped_paths(got) == without_skipped_paths(want)
    # the text differs only by the names in skipped
    assert got.replace('"path": "<table>"', '"path": "X"') == want.replace(
        json.dumps(json.loads(want)["skipped"][0]["path"]), '"X"'
    )
    assert [s["path"] for s in json.loads(got)["skipped"]] == ["<table>"]
    assert json.loads(got)["skipped"][0]["line"] == 7  # 1-based, as the Parquet row


@pytest.mark.parametrize("params,flags", PARAM_SETS)
def test_table_with_params_equals_cli_parquet(cli, table, parquet_file, params, flags):
    got = dupsift.scan(table, **params).to_json()
    assert without_skipped_paths(got) == without_skipped_paths(cli_json(cli, [parquet_file], flags))


def test_table_documents(res, table):
    docs = res.documents.to_pylist()
    want = [(n, i, t) for n, (i, t) in enumerate(CORPUS) if t is not None]
    assert [(d["row"], d["id"]) for d in docs] == [(n, i) for n, i, _ in want]
    assert [d["line"] for d in docs] == [n + 1 for n, _, _ in want]
    assert [d["bytes"] for d in docs] == [len(t.encode()) for _, _, t in want]
    assert {d["source"] for d in docs} == {"<table>"}


def test_table_without_ids_or_with_null_ids(table):
    no_ids = dupsift.scan(table.drop_columns(["id"]))
    assert cluster_sets(no_ids.clusters) == {"0": {"2": 1.0, "3": pytest.approx(0.9346, abs=1e-4)}}
    ids = table.column("id").to_pylist()
    ids[2] = None  # the copy
    ids[0] = None  # the original
    t = pa.table({"id": pa.array(ids, pa.string()), "text": table.column("text")})
    got = cluster_sets(dupsift.scan(t).clusters)
    assert got == {"0": {"2": 1.0, "near": pytest.approx(0.9346, abs=1e-4)}}


# --- 3. every other kind of table source -----------------------------------------------------


def by_row(result) -> dict:
    return cluster_sets(result.clusters, key="row")


def passages_by_row(result) -> list:
    return [(r["passage"], r["row"], r["start"], r["end"]) for r in result.passages.to_pylist()]


def test_other_sources_same_as_table(res, table, corpus):
    import datasets
    import pandas as pd
    import polars as pl

    want, want_p = by_row(res), passages_by_row(res)
    want_ids = cluster_sets(res.clusters)
    data = {"id": [i for i, _ in corpus], "text": [t for _, t in corpus]}
    sources = {
        "polars": pl.DataFrame(data),
        "pandas": pd.DataFrame(data),
        "dataset": datasets.Dataset.from_dict(data),
        "reader": pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=3)),
        "batch": table.combine_chunks().to_batches()[0],
        "chunked": pa.concat_tables([table.slice(0, 4), table.slice(4, 3), table.slice(7)]),
        "large_string": table.cast(pa.schema([("id", pa.large_string()), ("text", pa.large_string())])),
        "string_view": table.cast(pa.schema([("id", pa.string()), ("text", pa.string_view())])),
    }
    assert isinstance(sources["batch"], pa.RecordBatch)
    for name, src in sources.items():
        got = dupsift.scan(src)
        assert by_row(got) == want, name
        assert cluster_sets(got.clusters) == want_ids, name
        assert passages_by_row(got) == want_p, name
        assert got.keep_mask.tolist() == res.keep_mask.tolist(), name
        assert got.summary == res.summary, name
        assert got.skipped == res.skipped, name
    # a list of texts: ids are rows
    listed = dupsift.scan([t for _, t in corpus])
    assert by_row(listed) == want
    assert cluster_sets(listed.clusters) == {"0": {"2": 1.0, "3": pytest.approx(0.9346, abs=1e-4)}}
    assert passages_by_row(listed) == want_p
    assert listed.keep_mask.tolist() == res.keep_mask.tolist()
    assert [s["row"] for s in listed.skipped] == [6]


@pytest.mark.parametrize("how", ["select", "shuffle", "filter"])
def test_dataset_with_indices_mapping(corpus, how):
    """After select/shuffle/filter, rows are the selected dataset's rows."""
    import datasets

    ds = datasets.Dataset.from_dict({"id": [i for i, _ in corpus], "text": [t for _, t in corpus]})
    if how == "select":
        sub = ds.select([9, 3, 1, 0, 6, 7, 5, 2])  # uni_b, near, unrelated, orig, null, shared_b, shared_a, copy
    elif how == "shuffle":
        sub = ds.shuffle(seed=0)
    else:
        sub = ds.filter(lambda r: r["id"] != "orig")
    assert sub._indices is not None
    res = dupsift.scan(sub)
    ids = sub["id"]
    assert res.keep_mask.shape == (len(sub),)
    for r in res.clusters.to_pylist() + res.passages.to_pylist() + res.documents.to_pylist():
        assert ids[r["row"]] == r["id"]
    # same clusters as the selected rows as a plain table
    plain = dupsift.scan(pa.table({"id": ids, "text": sub["text"]}))
    assert by_row(res) == by_row(plain)
    assert passages_by_row(res) == passages_by_row(plain)
    assert res.to_json() == plain.to_json()
    members = {m for c in cluster_sets(res.clusters).values() for m in c} | set(cluster_sets(res.clusters))
    if how == "filter":
        assert members == {"copy", "near"}
    else:
        assert members == {"orig", "copy", "near"}
        assert len(sub) == (8 if how == "select" else 10)
    null_row = ids.index("nulltext")
    assert [s["row"] for s in res.skipped] == [null_row]
    assert res.keep_mask[null_row]


# --- 4. keep_mask is what dupsift clean keeps ------------------------------------------------


def test_keep_mask_agrees_with_clean(cli, res, tmp_path, jsonl_file, table):
    out = tmp_path / "out"
    cli("clean", jsonl_file.name, "-o", out, "--strip-passages", "none", "-q", cwd=jsonl_file.parent)
    kept_ids = [json.loads(line)["id"] for line in (out / jsonl_file.name).read_text().splitlines()]
    ids = table.column("id").to_pylist()
    mask = res.keep_mask
    assert mask.dtype == np.bool_ and mask.shape == (table.num_rows,)
    assert kept_ids == [i for i, k in zip(ids, mask) if k]
    assert kept_ids == [i for i, _ in CORPUS if i not in ("copy", "near")]
    # filtering the table with the mask gives the same rows
    assert table.filter(pa.array(mask)).column("id").to_pylist() == kept_ids


def test_keep_mask_with_keep_last_agrees_with_clean(cli, table, tmp_path, jsonl_file):
    out = tmp_path / "out"
    cli("clean", jsonl_file.name, "-o", out, "--strip-passages", "none", "--keep", "last", "-q", cwd=jsonl_file.parent)
    kept_ids = [json.loads(line)["id"] for line in (out / jsonl_file.name).read_text().splitlines()]
    mask = dupsift.scan(table, keep="last").keep_mask
    assert kept_ids == [i for i, k in zip(table.column("id").to_pylist(), mask) if k]
    assert "near" in kept_ids and "orig" not in kept_ids


def test_keep_mask_of_paths_agrees_with_clean(cli, tmp_path, txt_folder):
    res = dupsift.scan(txt_folder)
    docs = res.documents.column("id").to_pylist()
    assert res.keep_mask.shape == (len(docs),)
    out = tmp_path / "out"
    cli("clean", txt_folder.name, "-o", out, "--strip-passages", "none", "-q", cwd=txt_folder.parent)
    written = sorted(p.name for p in out.iterdir() if p.suffix == ".txt")
    assert written == sorted(d for d, k in zip(docs, res.keep_mask) if k)
    assert len(written) == 7


def test_dataset_select_keep_mask(res, corpus):
    import datasets

    ds = datasets.Dataset.from_dict({"id": [i for i, _ in corpus], "text": [t for _, t in corpus]})
    r = dupsift.scan(ds)
    assert r.keep_mask.tolist() == res.keep_mask.tolist()
    deduped = ds.select(np.flatnonzero(r.keep_mask))
    assert deduped["id"] == [i for i, _ in corpus if i not in ("copy", "near")]
    assert dupsift.scan(deduped).summary["duplicate_documents"] == 0


# --- 5. passages: byte offsets into the UTF-8 text -------------------------------------------


def test_passage_offsets_slice_the_text(res, texts):
    rows = res.passages.to_pylist()
    assert rows, "no passages found"
    by_passage: dict = {}
    for r in rows:
        b = texts[r["id"]].encode("utf-8")
        piece = b[r["start"] : r["end"]].decode("utf-8")  # on character boundaries
        ws = norm_words(piece)
        assert len(ws) == r["words"]
        # lines are 1-based, of the start and end bytes
        assert r["line_start"] == b[: r["start"]].count(b"\n") + 1
        assert r["line_end"] == b[: r["end"]].count(b"\n") + 1
        by_passage.setdefault(r["passage"], []).append((r["id"], ws))
    got = {}
    for p, occ in by_passage.items():
        first = occ[0][1]
        for _, ws in occ[1:]:
            # the near copy's passage holds its 2 edited words; every other one is exact
            assert len(ws) == len(first)
            diff = sum(a != b for a, b in zip(first, ws))
            assert diff == (2 if {"orig", "near"} == {i for i, _ in occ} else 0)
        got[p] = sorted(i for i, _ in occ)
    assert sorted(got.values()) == [
        ["doubled", "doubled"],
        ["near", "orig"],
        ["shared_a", "shared_b"],
        ["uni_a", "uni_b"],
    ]
    # the shared passage is exactly the shared 80 words
    shared = [ws for p, occ in by_passage.items() for i, ws in occ if i == "shared_a"]
    assert shared == [words(6, 80)]


def test_non_ascii_passage_offsets_are_bytes(res, texts):
    occ = [r for r in res.passages.to_pylist() if r["id"] in ("uni_a", "uni_b")]
    assert len(occ) == 2 and len({r["passage"] for r in occ}) == 1
    for r in occ:
        text = texts[r["id"]]
        b = text.encode("utf-8")
        assert norm_words(b[r["start"] : r["end"]].decode("utf-8")) == words(10, 70)
        # non-ASCII text comes before: character offsets would be wrong
        assert len(b[: r["start"]].decode("utf-8")) < r["start"]
        assert norm_words(text[r["start"] : r["end"]]) != words(10, 70)


def test_self_repeating_document(res, texts):
    occ = [r for r in res.passages.to_pylist() if r["id"] == "doubled"]
    assert len(occ) == 2 and occ[0]["passage"] == occ[1]["passage"] and occ[0]["words"] == 90
    assert occ[0]["end"] <= occ[1]["start"]
    e = res.explain("doubled")
    assert e["self_repeat_bytes"] > 0
    report = json.loads(res.to_json())
    assert report["self_repeating"] == [
        {"doc": "doubled", "bytes": len(texts["doubled"].encode()), "cut_bytes": e["self_repeat_bytes"], "share": pytest.approx(0.4992, abs=1e-3)}
    ]
    assert [(p["start"], p["end"], p["occurrences"], p["in_this_document"]) for p in e["passages"]] == [
        (o["start"], o["end"], 2, 2) for o in occ
    ]
    assert e["cluster"] is None and not e["removed"]
    assert res.explain("shared_a")["self_repeat_bytes"] == 0


def test_min_passage_and_no_passages(table):
    # the 70-word passage is shorter than 75 words, the 80-word one is not
    got = dupsift.scan(table, min_passage=75).passages
    assert set(got.column("id").to_pylist()) == {"orig", "near", "doubled", "shared_a", "shared_b"}
    none = dupsift.scan(table, passages=False)
    assert none.passages.num_rows == 0
    assert none.summary["passages"] == 0
    assert none.explain("doubled")["passages"] == []
    assert none.explain("doubled")["self_repeat_bytes"] == 0
    assert cluster_sets(none.clusters) == cluster_sets(dupsift.scan(table).clusters)


# --- 6. explain -----------------------------------------------------------------------------


def test_explain_removed_near_copy(res):
    e = res.explain("near")
    assert e["removed"] is True
    assert e["kept"] == "orig" and e["kept_row"] == 0
    assert 0.8 <= e["similarity"] < 1
    assert e["similarity"] == pytest.approx(0.9346, abs=1e-4)
    assert e["exact"] is False
    assert e["cluster_size"] == 3 and e["cluster"] == 0 and e["component"] == 0
    assert e["id"] == "near" and e["row"] == 3
    assert e["bytes"] == len(dict(CORPUS)["near"].encode())
    # the near copy shares a passage with the original
    assert [(p["occurrences"], p["in_this_document"]) for p in e["passages"]] == [(2, 1)]
    c = res.explain("copy")
    assert c["removed"] and c["exact"] and c["similarity"] == 1.0 and c["kept"] == "orig"
    o = res.explain("orig")
    assert o["removed"] is False and o["kept"] == "orig" and o["similarity"] is None
    assert o["cluster"] == 0 and o["cluster_size"] == 3


def test_explain_unrelated_and_by_row(res):
    u = res.explain("unrelated")
    assert u["cluster"] is None and u["kept"] is None and u["removed"] is False
    assert u["cluster_size"] == 1 and u["passages"] == [] and u["self_repeat_bytes"] == 0
    assert res.explain(1) == u
    assert res.explain(3) == res.explain("near")
    assert res.explain(7)["id"] == "shared_b"
    sb = res.explain(7)["passages"]
    assert len(sb) == 1 and sb[0]["words"] == 80 and sb[0]["occurrences"] == 2
    occ = [r for r in res.passages.to_pylist() if r["id"] == "shared_b"][0]
    assert (sb[0]["start"], sb[0]["end"], sb[0]["line_start"], sb[0]["line_end"]) == (
        occ["start"], occ["end"], occ["line_start"], occ["line_end"]
    )


@pytest.mark.parametrize("key", ["nope", 6, 10, -1, "0"])
def test_explain_unknown_is_keyerror(res, key):
    # 6 is the null text's row: not a document; "0" is a row's name only without an id column
    with pytest.raises(KeyError):
        res.explain(key)


def test_explain_paths(txt_folder):
    res = dupsift.scan(txt_folder)
    e = res.explain("near.txt")
    assert e["removed"] and e["kept"] == "copy.txt" and e["row"] is None and e["kept_row"] is None
    with pytest.raises(KeyError):
        res.explain(0)  # no rows in a path scan


# --- 7. errors ------------------------------------------------------------------------------


def test_column_errors(table):
    with pytest.raises(dupsift.ColumnError) as e:
        dupsift.scan(table.drop_columns(["text"]))
    assert isinstance(e.value, ValueError) and isinstance(e.value, dupsift.Error)
    with pytest.raises(dupsift.ColumnError) as e:
        dupsift.scan(pa.table({"id": ["a", "b"], "text": [1, 2]}))
    assert isinstance(e.value, ValueError)
    with pytest.raises(dupsift.ColumnError):
        dupsift.scan(table, text="body")


@pytest.mark.parametrize(
    "params",
    [
        {"foo": 1},
        {"threshold": "x"},
        {"threshold": 1.5},
        {"threshold": 0},
        {"min_passage": 3},
        {"keep": "newest"},
        {"keep": "biggest"},
        {"unit": "syllable"},
        {"num_perm": 100},
        {"bands": 100, "rows": 100},
        {"passages": "yes"},
        {"threads": -1},
        {"prefer": [1, 2]},
        {"zstd_window_log": 32},
        {"zstd_window_log": "big"},
    ],
    ids=lambda p: ",".join(f"{k}={v!r}" for k, v in p.items()),
)
def test_parameter_errors(table, params):
    with pytest.raises(dupsift.ParameterError) as e:
        dupsift.scan(table, **params)
    assert isinstance(e.value, ValueError) and isinstance(e.value, dupsift.Error)
    # the message names the parameter (as the CLI's flag, or its value for keep)
    name = next(iter(params))
    msg = str(e.value)
    assert name in msg or name.replace("_", "-") in msg or str(params[name]) in msg, msg


def test_parameters_are_checked_before_reading(tmp_path):
    missing = tmp_path / "missing"
    with pytest.raises(dupsift.ParameterError):
        dupsift.scan(missing, threshold=2)
    with pytest.raises(dupsift.ParameterError):
        dupsift.scan(missing, colour="blue")


def test_unknown_parameter_is_named(table):
    with pytest.raises(dupsift.ParameterError, match="thresold"):
        dupsift.scan(table, thresold=0.9)
    with pytest.raises(dupsift.ParameterError, match="threshold"):
        dupsift.scan(table, threshold="x")


def test_input_errors(tmp_path, txt_folder):
    missing = tmp_path / "missing.jsonl"
    with pytest.raises(dupsift.InputError) as e:
        dupsift.scan(missing)
    assert isinstance(e.value, OSError) and isinstance(e.value, dupsift.Error)
    with pytest.raises(dupsift.InputError):
        dupsift.scan([txt_folder, missing])
    with pytest.raises(dupsift.InputError):
        dupsift.scan(str(missing))
    # strings that all look like paths, none existing: refused rather than scanned as texts
    with pytest.raises(dupsift.InputError):
        dupsift.scan([str(missing), str(tmp_path / "other.txt")])


def test_strict(tmp_path, corpus):
    p = tmp_path / "bad.jsonl"
    rows = [json.dumps({"id": i, "text": t}) for i, t in corpus if t is not None]
    rows.insert(3, '{"id": "broken", "text": ')
    p.write_text("\n".join(rows) + "\n")
    res = dupsift.scan(p)
    assert [(s["line"], s["row"]) for s in res.skipped] == [(4, None)]
    assert "malformed" in res.skipped[0]["reason"]
    assert res.skipped[0]["path"].endswith("bad.jsonl")
    with pytest.raises(dupsift.StrictError) as e:
        dupsift.scan(p, strict=True)
    assert isinstance(e.value, ValueError) and isinstance(e.value, dupsift.Error)
    # a null text in a table under strict
    with pytest.raises(dupsift.StrictError):
        dupsift.scan(pa.table({"text": ["a b c", None]}), strict=True)


def test_null_texts_are_skipped_with_their_row(table):
    texts = table.column("text").to_pylist()
    texts[0] = None  # the original: now the copy is kept
    res = dupsift.scan(pa.table({"id": table.column("id"), "text": pa.array(texts, pa.string())}))
    assert [(s["path"], s["line"], s["row"]) for s in res.skipped] == [("<table>", 1, 0), ("<table>", 7, 6)]
    assert all("null" in s["reason"] for s in res.skipped)
    assert res.summary["skipped"] == 2 and res.summary["documents"] == 8
    assert cluster_sets(res.clusters) == {"copy": {"near": pytest.approx(0.9346, abs=1e-4)}}
    assert res.keep_mask.tolist() == [True, True, True, False] + [True] * 6


@pytest.mark.parametrize("source", [42, 4.2, None, {"text": ["a"]}, [], [1, 2], object()])
def test_unscannable_sources(source):
    with pytest.raises((dupsift.ParameterError, TypeError)) as e:
        dupsift.scan(source)
    assert isinstance(e.value, dupsift.Error)


# --- 8. determinism -------------------------------------------------------------------------


def test_threads_do_not_change_the_result(table, txt_folder):
    assert dupsift.scan(table, threads=1).to_json() == dupsift.scan(table, threads=2).to_json()
    one = dupsift.scan(txt_folder, threads=1, min_passage=20)
    assert one.to_json() == dupsift.scan(txt_folder, threads=2, min_passage=20).to_json()
    assert one.to_json() == dupsift.scan(txt_folder, threads=0, min_passage=20).to_json()


def test_repr_and_summary(res):
    s = res.summary
    assert (s["documents"], s["clusters"], s["duplicate_documents"], s["exact_duplicate_documents"]) == (9, 1, 2, 1)
    assert (s["passages"], s["self_repeating_documents"], s["skipped"]) == (4, 1, 1)
    assert repr(res) == "<dupsift.Result: 9 documents, 1 clusters, 2 duplicates, 4 passages, 1 skipped>"


# --- more sources and reading options --------------------------------------------------------


def test_walk_options_equal_cli(cli, tmp_path, texts):
    root = tmp_path / "walk"
    d = root / "data"
    d.mkdir(parents=True)
    for i in ("orig", "unrelated", "shared_a", "shared_b"):
        (d / f"{i}.txt").write_text(texts[i], encoding="utf-8")
    (d / ".hidden.txt").write_text(texts["orig"], encoding="utf-8")
    (d / ".gitignore").write_text("ignored.txt\n")
    (d / "ignored.txt").write_text(texts["unrelated"], encoding="utf-8")
    other = root / "other"
    other.mkdir()
    (other / "linked.txt").write_text(texts["shared_a"], encoding="utf-8")
    (d / "link").symlink_to(other, target_is_directory=True)
    counts = {}
    for params, flags in [
        ({}, []),
        ({"hidden": True}, ["--hidden"]),
        ({"gitignore": True}, ["--gitignore"]),
        ({"follow": True}, ["-L"]),
        ({"hidden": True, "gitignore": True, "follow": True}, ["--hidden", "--gitignore", "-L"]),
    ]:
        got = dupsift.scan(d, **params)
        assert got.to_json() == cli_json(cli, [d], flags), params
        counts[tuple(params)] = (got.summary["documents"], got.summary["clusters"])
    # each option changed what was read: a hidden copy, one file fewer, a linked copy
    assert counts[()] == (5, 1)
    assert counts[("hidden",)][0] > 5 and counts[("hidden",)][1] == 2
    assert counts[("gitignore",)] == (4, 0)
    assert counts[("follow",)] == (6, 2)


def test_list_of_strings_paths_or_texts(tmp_path, txt_folder, corpus):
    files = [txt_folder / "orig.txt", txt_folder / "near.txt", txt_folder / "unrelated.txt"]
    as_paths = dupsift.scan([str(f) for f in files])
    assert as_paths.summary["documents"] == 3 and as_paths.summary["clusters"] == 1
    assert all(r is None for r in as_paths.documents.column("row").to_pylist())
    # one item is not a file: every item is a text (the paths too)
    mixed = dupsift.scan([str(files[0]), dict(corpus)["orig"], dict(corpus)["orig"]])
    assert mixed.documents.column("id").to_pylist() == ["0", "1", "2"]
    assert mixed.documents.column("bytes").to_pylist()[0] == len(str(files[0]).encode())
    assert cluster_sets(mixed.clusters) == {"1": {"2": 1.0}}
    # a tuple of texts works as a list does
    assert cluster_sets(dupsift.scan(tuple(t for _, t in corpus)).clusters) == {
        "0": {"2": 1.0, "3": pytest.approx(0.9346, abs=1e-4)}
    }


def test_sliced_and_empty_tables(table):
    s = dupsift.scan(table.slice(2, 6))  # copy, near, doubled, shared_a, null, shared_b
    assert cluster_sets(s.clusters, key="row") == {0: {1: pytest.approx(0.9346, abs=1e-4)}}
    assert [x["row"] for x in s.skipped] == [4]
    assert s.keep_mask.tolist() == [True, False, True, True, True, True]
    e = dupsift.scan(pa.table({"text": pa.array([], pa.string())}))
    assert e.summary["documents"] == 0 and e.keep_mask.shape == (0,)
    assert e.clusters.num_rows == 0 and e.passages.num_rows == 0


def test_parquet_without_ids_is_file_row(tmp_path, table):
    p = tmp_path / "noid.parquet"
    pq.write_table(table.drop_columns(["id"]), p)
    res = dupsift.scan(p)
    kept, members = next(iter(cluster_sets(res.clusters).items()))
    assert kept.endswith("noid.parquet:1")
    assert sorted(m.rsplit(":", 1)[1] for m in members) == ["3", "4"]
    assert [s["line"] for s in res.skipped] == [7] and res.skipped[0]["row"] is None


@pytest.mark.parametrize("kind", ["iso", "timestamp", "number"])
def test_keep_newest_field_table_equals_cli_parquet(cli, tmp_path, table, kind):
    import datetime

    days = [datetime.date(2020, 1, d + 1) for d in range(table.num_rows)]
    days[0], days[3] = datetime.date(2021, 5, 5), datetime.date(2019, 1, 1)  # orig newest, near oldest
    days[2] = None
    col = {
        "iso": pa.array([d and d.isoformat() for d in days]),
        "timestamp": pa.array([d and datetime.datetime(d.year, d.month, d.day) for d in days], pa.timestamp("us")),
        "number": pa.array([d and d.year * 10000 + d.month * 100 + d.day for d in days]),
    }[kind]
    t = table.append_column("when", col)
    p = tmp_path / "when.parquet"
    pq.write_table(t, p)
    for keep, kept in [("newest:when", "orig"), ("oldest:when", "near")]:
        got = dupsift.scan(t, keep=keep)
        assert without_skipped_paths(got.to_json()) == without_skipped_paths(
            cli_json(cli, [p], ["--keep", keep])
        )
        assert list(cluster_sets(got.clusters)) == [kept]


def test_max_doc_bytes_and_max_occurrences(cli, table, parquet_file):
    got = dupsift.scan(table, max_doc_bytes=2000, max_occurrences=1)
    want = cli_json(cli, [parquet_file], ["--max-doc-bytes", "2000", "--max-occurrences", "1"])
    assert without_skipped_paths(got.to_json()) == without_skipped_paths(want)
    big = {i for i, t in CORPUS if t is not None and len(t.encode()) > 2000}
    assert {s["row"] for s in got.skipped if "too long" in s["reason"]} == {
        n for n, (i, _) in enumerate(CORPUS) if i in big
    }
    assert set(got.documents.column("id").to_pylist()).isdisjoint(big)
    report = json.loads(got.to_json())
    assert all(len(p["occurrences"]) == 1 and p["count"] == 2 for p in report["passages"])


def _variants(n_bases=30, per=8):
    """n_bases random texts, each with `per` variants of a few random edits: many overlapping
    near-duplicate pairs, for the thread-count comparison."""
    import random

    rng = random.Random(5)
    out = []
    for b in range(n_bases):
        base = words(1000 + b, 200)
        for v in range(per):
            ws = list(base)
            for _ in range(rng.randint(0, 5)):
                ws[rng.randrange(len(ws))] = rng.choice(base)
            out.append((f"b{b}v{v}", lines(ws)))
    rng.shuffle(out)
    return out


def test_threads_on_many_clusters_equal_cli(cli, tmp_path):
    rows = _variants()
    p = write_jsonl(tmp_path / "variants.jsonl", rows)
    t = pa.table({"id": [i for i, _ in rows], "text": [x for _, x in rows]})
    one = dupsift.scan(t, threads=1, threshold=0.8)
    two = dupsift.scan(t, threads=2, threshold=0.8)
    assert one.to_json() == two.to_json()
    assert one.summary["clusters"] > 30 and one.summary["duplicate_documents"] >= 100
    assert len(set(one.clusters.column("component").to_pylist())) < one.summary["clusters"]
    c1 = dupsift.scan(t, threads=1, clusters="components", scheme="oph")
    assert c1.to_json() == dupsift.scan(t, threads=2, clusters="components", scheme="oph").to_json()
    # nothing skipped: the table's report is the JSONL file's
    assert one.to_json() == dupsift.scan(p, threads=2, threshold=0.8).to_json()
    assert one.to_json() == cli_json(cli, [p], ["-j", "1", "--threshold", "0.8"])


def test_struct_text_field_equals_cli_parquet(cli, tmp_path, corpus):
    t = pa.table(
        {
            "doc": pa.StructArray.from_arrays(
                [pa.array([x for _, x in corpus], pa.string()), pa.array([i for i, _ in corpus])],
                names=["text", "id"],
            )
        }
    )
    p = tmp_path / "struct.parquet"
    pq.write_table(t, p)
    got = dupsift.scan(t, text="doc.text", id="doc.id")
    want = cli_json(cli, [p], ["--text-field", "doc.text", "--id-field", "doc.id"])
    assert without_skipped_paths(got.to_json()) == without_skipped_paths(want)
    assert list(cluster_sets(got.clusters)) == ["orig"]


def test_frame_rows_are_positions(res, corpus):
    import pandas as pd
    import polars as pl

    data = {"id": [i for i, _ in corpus], "text": [t for _, t in corpus]}
    # a pandas index that is not 0..n-1: rows are still positions
    rev = pd.DataFrame(data, index=[100 + 7 * i for i in range(len(corpus))]).iloc[::-1]
    got = dupsift.scan(rev)
    n = len(corpus)
    assert {(r["id"], r["row"]) for r in got.clusters.to_pylist()} == {
        ("orig", n - 1), ("copy", n - 3), ("near", n - 4)
    }
    # the near copy comes first now: it is kept
    sim = pytest.approx(0.9346, abs=1e-4)
    assert cluster_sets(got.clusters, key="row") == {n - 4: {n - 3: sim, n - 1: sim}}
    assert [s["row"] for s in got.skipped] == [n - 7]
    assert got.keep_mask.tolist() == [r not in (n - 3, n - 1) for r in range(n)]
    # a polars frame of several chunks is read across them
    parts = pl.concat([pl.DataFrame(data)[:4], pl.DataFrame(data)[4:7], pl.DataFrame(data)[7:]], rechunk=False)
    assert parts.n_chunks() == 3
    assert dupsift.scan(parts).to_json() == res.to_json()


def test_empty_crlf_and_invalid_utf8_equal_cli(cli, tmp_path, texts):
    orig = texts["orig"].replace("\n", "\r\n")
    rows = [
        ("e1", ""),
        ("e2", ""),
        ("crlf", orig),
        ("crlf_near", orig[:-12] + " tail words\r\n"),
        ("accents", "é" * 3),
    ]
    p = write_jsonl(tmp_path / "e.jsonl", rows)
    t = pa.table({"id": [i for i, _ in rows], "text": [x for _, x in rows]})
    got = dupsift.scan(t)
    assert got.to_json() == cli_json(cli, [p])  # nothing skipped: the same report
    assert got.summary["empty_documents"] == 2
    assert {r["id"] for r in got.clusters.to_pylist()} == {"e1", "e2", "crlf", "crlf_near"}
    for r in got.passages.to_pylist():
        b = dict(rows)[r["id"]].encode()
        assert r["line_start"] == b[: r["start"]].count(b"\n") + 1
        assert r["line_end"] == b[: r["end"]].count(b"\n") + 1
    # a binary text column: invalid UTF-8 is read, as the command reads it from Parquet
    tb = pa.table(
        {"id": ["a", "b", "c"], "text": pa.array([b"abc \xff\xfe def", b"abc \xff\xfe def", b"\xc3"], pa.binary())}
    )
    pb = tmp_path / "b.parquet"
    pq.write_table(tb, pb)
    gb = dupsift.scan(tb)
    assert gb.to_json() == cli_json(cli, [pb])
    assert gb.summary["invalid_utf8_documents"] == 3
    assert cluster_sets(gb.clusters) == {"a": {"b": 1.0}}


def test_all_null_texts(table):
    r = dupsift.scan(pa.table({"text": pa.array([None, None, None], pa.string())}))
    assert r.summary["documents"] == 0 and r.summary["skipped"] == 3
    assert [s["row"] for s in r.skipped] == [0, 1, 2]
    assert r.keep_mask.tolist() == [True, True, True]


# --- 9. Ctrl-C ------------------------------------------------------------------------------

CHILD = textwrap.dedent(
    r"""
    import signal, sys, time
    import numpy as np, pyarrow as pa
    import dupsift

    signal.signal(signal.SIGINT, signal.default_int_handler)

    def table(n, words=300, wlen=6):
        # n documents of `words` random 6-letter words, built from one buffer (no Python loop)
        rng = np.random.default_rng(0)
        per = words * (wlen + 1)
        data = rng.integers(97, 123, size=n * per, dtype=np.uint8).reshape(-1, wlen + 1)
        data[:, wlen] = 32
        offsets = np.arange(n + 1, dtype=np.int64) * per
        text = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data.ravel()))
        return pa.table({"text": text})

    N, PART, SOURCE = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    t = table(N)
    if SOURCE != "table":  # a Parquet file: the path scan's reading loop
        import pyarrow.parquet as pq
        pq.write_table(t.slice(0, N // PART), SOURCE + ".part.parquet", compression="none")
        pq.write_table(t, SOURCE, compression="none")
        part, whole = SOURCE + ".part.parquet", SOURCE
    else:
        part, whole = t.slice(0, N // PART), t
    t0 = time.perf_counter()
    dupsift.scan(part)
    print("PART", time.perf_counter() - t0, flush=True)
    print("SCANNING", flush=True)
    try:
        dupsift.scan(whole)
    except KeyboardInterrupt:
        # the interpreter and the engine are still usable
        r = dupsift.scan(["one two three four five six", "one two three four five six"])
        print("AFTER", r.summary["duplicate_documents"], flush=True)
        raise
    print("FINISHED", flush=True)
    """
)


@pytest.mark.parametrize("source", ["table", "parquet"])
def test_ctrl_c_interrupts_a_scan(tmp_path, source):
    n, part = 60_000, 20
    where = "table" if source == "table" else str(tmp_path / "big.parquet")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(n), str(part), where],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = child.stdout.readline().split()
        assert first and first[0] == "PART", first
        part_seconds = float(first[1])
        assert child.stdout.readline().strip() == "SCANNING"
        time.sleep(1.5)
        assert child.poll() is None, "the scan finished before the signal"
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=20)
        took = time.monotonic() - sent
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    print(f"1/{part} scan: {part_seconds:.2f} s; SIGINT to exit: {took:.2f} s")
    assert "KeyboardInterrupt" in err, err
    assert "FINISHED" not in out
    assert "AFTER 1" in out, (out, err)
    assert child.returncode != 0
    # Generous: the engine stops at its next checkpoint (a batch), slower on a loaded machine.
    assert took < 8.0, f"{took:.1f} s from SIGINT to exit"
    # a 1/20 slice took part_seconds: the whole scan would have taken far longer than the
    # 1.5 s before the signal and the time to stop
    assert part_seconds * part > 1.5 + took + 5, (part_seconds, took)


def test_thread_counts_far_above_the_cores_are_refused(table):
    # (The limit is 8 per core, or 64: the engine counts the cores as Rust sees them.)
    with pytest.raises(dupsift.ParameterError, match=r"threads=100000: 100000 threads on \d+ cores"):
        dupsift.scan(table, threads=100_000)
    assert dupsift.scan(table, threads=64).to_json() == dupsift.scan(table, threads=1).to_json()
