"""Fixtures of the dupsift pytest suite: the CLI, a deterministic text generator and a small
corpus holding one of each thing dupsift finds (an exact copy, a near copy, a body pasted
twice, a passage shared by two otherwise unrelated documents, non-ASCII text before a shared
passage, a null text)."""

from __future__ import annotations

import json
import os
import random
import subprocess
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parents[2]

_SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]  # 70 syllables


def words(seed: int, n: int) -> list[str]:
    """``n`` lowercase pseudo-words (2 to 4 syllables, ~25 million possible words) drawn from
    ``random.Random(seed)``: texts of different seeds share no run of 5 words (checked by
    ``test_generator_has_no_shared_runs``)."""
    rng = random.Random(seed)
    return [
        "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(n)
    ]


def lines(ws: list[str], per_line: int = 11) -> str:
    """Words ``ws`` as text: ``per_line`` words a line, the first word of each line
    capitalised (folded away by the engine's normalisation)."""
    out = []
    for i in range(0, len(ws), per_line):
        chunk = list(ws[i : i + per_line])
        chunk[0] = chunk[0].capitalize()
        out.append(" ".join(chunk))
    return "\n".join(out) + "\n"


def norm_words(s: str) -> list[str]:
    """The lowercased, whitespace-split words of ``s``."""
    return s.lower().split()


def _edit(ws: list[str], positions, seed: int) -> list[str]:
    ws = list(ws)
    for p, w in zip(positions, words(seed, len(positions))):
        ws[p] = w
    return ws


def build_corpus() -> list[tuple[str, str | None]]:
    """The test corpus: (id, text) in input order; text None is a null text."""
    orig = words(1, 300)
    shared = words(6, 80)  # in shared_a and shared_b
    shared_uni = words(10, 70)  # in uni_a and uni_b, after non-ASCII text
    body = words(3, 90)  # pasted twice in doubled
    return [
        ("orig", lines(orig)),
        ("unrelated", lines(words(2, 300))),
        ("copy", lines(orig)),
        ("near", lines(_edit(orig, [100, 200], seed=99))),
        ("doubled", lines(body) + lines(body)),
        ("shared_a", lines(words(4, 120) + shared + words(5, 120))),
        ("nulltext", None),
        ("shared_b", lines(words(7, 100) + shared + words(8, 140))),
        (
            "uni_a",
            "Café über Straße naïve 日本語の文章です\n"
            + lines(words(9, 40))
            + "Ça coûte cher — ünïcødé 中文字符\n"
            + lines(shared_uni)
            + lines(words(11, 40)),
        ),
        (
            "uni_b",
            lines(words(12, 60)) + "Ελληνικά κείμενο 한국어 文字 ñandú\n" + lines(shared_uni) + lines(words(13, 30)),
        ),
    ]


CORPUS = build_corpus()


@pytest.fixture(scope="session")
def corpus() -> list[tuple[str, str | None]]:
    """(id, text) pairs, text None for the null text."""
    return list(CORPUS)


@pytest.fixture(scope="session")
def docs() -> list[tuple[str, str]]:
    """The corpus without its null text."""
    return [(i, t) for i, t in CORPUS if t is not None]


@pytest.fixture(scope="session")
def texts() -> dict:
    """Text of each id (None for the null text)."""
    return dict(CORPUS)


def _bin() -> Path:
    env = os.environ.get("DUPSIFT_BIN")
    return Path(env) if env else REPO / "target" / "debug" / "dupsift"


@pytest.fixture(scope="session")
def dupsift_bin() -> Path:
    b = _bin()
    if not b.exists():
        pytest.fail(f"no dupsift binary at {b} (set DUPSIFT_BIN or cargo build -p dupsift-cli)")
    return b


@pytest.fixture(scope="session")
def cli(dupsift_bin):
    """``cli(*args, cwd=None) -> bytes``: runs the dupsift command, returns its standard
    output; fails the test on a non-zero exit."""

    def run(*args, cwd=None, check=True) -> bytes:
        p = subprocess.run(
            [str(dupsift_bin), *map(str, args)],
            cwd=cwd,
            capture_output=True,
            timeout=120,
        )
        if check and p.returncode != 0:
            raise AssertionError(
                f"dupsift {' '.join(map(str, args))} exited {p.returncode}:\n"
                + p.stderr.decode(errors="replace")
            )
        return p.stdout

    return run


@pytest.fixture(scope="session")
def table(corpus):
    """The corpus as a pyarrow table of ``id`` and ``text`` (the null text included)."""
    import pyarrow as pa

    return pa.table(
        {
            "id": pa.array([i for i, _ in corpus], type=pa.string()),
            "text": pa.array([t for _, t in corpus], type=pa.string()),
        }
    )


def write_jsonl(path: Path, rows) -> Path:
    """``rows`` (id, text) as JSONL (``"text": null`` for a null text)."""
    with open(path, "w", encoding="utf-8") as f:
        for i, t in rows:
            f.write(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n")
    return path


@pytest.fixture
def jsonl_file(tmp_path, corpus) -> Path:
    """The corpus (null text included) as ``corpus.jsonl``."""
    d = tmp_path / "jsonl"
    d.mkdir()
    return write_jsonl(d / "corpus.jsonl", corpus)


@pytest.fixture
def txt_folder(tmp_path, docs) -> Path:
    """The corpus (without its null text) as a folder of ``ID.txt`` files."""
    d = tmp_path / "txt"
    d.mkdir()
    for i, t in docs:
        (d / f"{i}.txt").write_bytes(t.encode("utf-8"))
    return d


@pytest.fixture
def parquet_file(tmp_path, table) -> Path:
    """The corpus table (null text included) as ``corpus.parquet``."""
    import pyarrow.parquet as pq

    d = tmp_path / "parquet"
    d.mkdir()
    p = d / "corpus.parquet"
    pq.write_table(table, p)
    return p
