#!/usr/bin/env python3
"""One run of the Python package on a JSONL corpus, for the peer harness (benches/python.sh):
loads the file into a pyarrow table (timed apart, its memory peak apart too), scans the table with `dupsift.scan` at
document level, writes the pairs its clusters imply (every two members of a cluster, "id_a
id_b" per line, as benches/pairs_from_report.py does for the binary), and appends one JSON line
of timings and memory to --log.

    python_scan.py CORPUS.jsonl --threads N --pairs OUT [--log FILE] [--passages]
"""
import argparse
import json
import resource
import time

import pyarrow as pa
import pyarrow.json as pj

import dupsift


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def status_mb(field: str) -> float:
    """VmRSS (resident now) or VmHWM (peak since the last reset) of this process."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def reset_peak() -> None:
    """Starts a new peak RSS (VmHWM) from what is resident now (Linux: clear_refs 5)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--pairs", required=True)
    ap.add_argument("--log")
    ap.add_argument("--passages", action="store_true")
    a = ap.parse_args()
    t0 = time.perf_counter()
    table = pj.read_json(a.corpus)
    t1 = time.perf_counter()
    loaded = rss_mb()
    # The JSON reader's buffers go back to the system, so that the scan's peak counts the
    # table and what the scan itself takes, not the loading.
    pa.default_memory_pool().release_unused()
    reset_peak()
    resident = status_mb("VmRSS")
    res = dupsift.scan(table, passages=a.passages, threads=a.threads)
    clusters = res.clusters
    t2 = time.perf_counter()
    scan_peak = status_mb("VmHWM")
    ids = clusters.column("id").to_pylist()
    cl = clusters.column("cluster").to_pylist()
    groups: dict = {}
    for c, i in zip(cl, ids):
        groups.setdefault(c, []).append(i)
    with open(a.pairs, "w") as f:
        for members in groups.values():
            for k, x in enumerate(members):
                f.writelines(f"{x} {y}\n" for y in members[k + 1:])
    row = {
        "documents": res.summary["documents"],
        "clusters": res.summary["clusters"],
        "duplicates": res.summary["duplicate_documents"],
        "load_s": round(t1 - t0, 3),
        "scan_s": round(t2 - t1, 3),
        "table_mb": round(table.nbytes / 2**20, 1),
        "peak_rss_loading_mb": round(loaded, 1),
        "rss_before_scan_mb": round(resident, 1),
        "peak_rss_scan_mb": round(scan_peak, 1),
        "scan_over_resident_mb": round(scan_peak - resident, 1),
        "passages": a.passages,
    }
    if a.log:
        with open(a.log, "a") as f:
            f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
