#!/usr/bin/env python3
"""Write the peer comparison measured by benches/peers.sh into BENCHMARKS.md.

    peers_table.py RESULTS.json NAME [BENCHMARKS.md]

RESULTS.json is the shared harness's output. The table replaces what stands between
`<!-- peers:NAME:begin -->` and `<!-- peers:NAME:end -->` (appended at the end when the markers
are missing), with the machine, the commit (`$BENCH_COMMIT`, which peers.sh sets before it
builds, or else the checkout's) and the date it was measured at. peers.sh passes the corpus size
as NAME (or `$BENCH_TABLE`)."""
import json
import os
import platform
import re
import subprocess
import sys

results, size = sys.argv[1], sys.argv[2]
target = sys.argv[3] if len(sys.argv) > 3 else os.path.join(os.path.dirname(__file__), "..", "BENCHMARKS.md")
data = json.load(open(results))
meta, agg = data["meta"], data["aggregate"]
stats = meta["corpus_stats"]
meta_size = os.path.basename(meta["corpus"]).split(".")[0]


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def mem_gib():
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 2**20:.0f} GiB"
    except OSError:
        pass
    return "?"


def commit():
    """The commit measured; "-dirty" when files other than BENCHMARKS.md (which this script
    writes) differ from it."""
    root = os.path.join(os.path.dirname(__file__), "..")
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root,
                              capture_output=True, text=True, check=True).stdout.strip()
        clean = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", ".", ":!BENCHMARKS.md"],
                               cwd=root).returncode == 0
        return head if clean else head + "-dirty"
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def label(name):
    versions = meta.get("versions", {})
    if name.startswith("cmd:"):
        name = name[4:]
        extra = {"dupsift": " (defaults: documents + repeated passages)",
                 "dupsift-no-passages": " `--no-passages` (documents, as the peers)",
                 "dupsift-oph-no-passages": " `--scheme oph --no-passages`"}
        base = name.split("-")[0]
        return f"**{base}**{extra.get(name, ' ' + name)}"
    base = name.split("-")[0]
    # A peer with several paths names the path (the harness's own names, described there).
    paths = {"rensa-r": "RMinHash + LSH + verification",
             "rensa-r-flags": "RMinHash one-shot duplicate flags, no pairs",
             "rensa-rho": "Rho sketch, not classic MinHash; one-shot flags, no pairs"}
    path = f" ({paths[name]})" if name in paths and len(
        [n for n in agg if n.startswith(base + "-") or n == base]) > 1 else ""
    return f"{base} {versions.get(base, '')}".strip() + path


rensa = agg.get("rensa-r", {}).get("proc_wall")
rows = []
for name, a in agg.items():
    if not a.get("ok_runs"):
        continue
    wall = a["proc_wall"]
    mbs = stats["text_bytes"] / 1e6 / wall
    rss = a.get("proc_maxrss_mb")
    recall = a.get("recall_verified")
    vs = f"{rensa / wall:.1f}x" if rensa else "-"
    rows.append(f"| {label(name)} | {wall:.1f} s | {mbs:.1f} | {rss:,.0f} MB | "
                f"{'-' if recall is None else f'{recall:.3f}'} | {vs} |")

runs = meta["runs"]
lines = [
    f"<!-- peers:{size}:begin -->",
    f"{stats['docs']:,} documents, {stats['file_bytes'] / 1e6:,.0f} MB of JSONL "
    f"({stats['text_bytes'] / 1e6:,.0f} MB of text); {meta['threads']} threads, "
    f"{'median of ' + str(runs) + ' runs' if runs > 1 else 'one run'}, interleaved. "
    f"Measured {meta['started'][:10]} at commit `{os.environ.get('BENCH_COMMIT') or commit()}` on "
    f"{cpu_model()}, {os.cpu_count()} cores, {mem_gib()} "
    f"(`benches/peers.sh {meta_size}`; written by `benches/peers_table.py`).",
    "",
    "| tool | wall | MB/s of text | peak RSS | recall at J ≥ 0.8 | speed vs rensa |",
    "|---|---|---|---|---|---|",
    *rows,
    f"<!-- peers:{size}:end -->",
]
block = "\n".join(lines)
doc = open(target).read() if os.path.exists(target) else "# Benchmarks\n"
pattern = re.compile(rf"<!-- peers:{size}:begin -->.*?<!-- peers:{size}:end -->", re.S)
doc = pattern.sub(lambda _: block, doc) if pattern.search(doc) else doc.rstrip("\n") + "\n\n" + block + "\n"
with open(target + ".tmp", "w") as f:
    f.write(doc)
os.replace(target + ".tmp", target)
print(block)
