#!/usr/bin/env bash
# The Spark path must find the clusters of `dupsift scan`, document for document: generates a
# 20,000-document corpus (with bad records, and chains of near duplicates that a scan splits
# into several clusters), runs `dupsift scan` and the PySpark job in local[2] (also with
# `--clusters components --keep last`, and on the corpus as a Parquet table), then on a
# standalone master with two workers on 127.0.0.1, and compares. Installs pyspark into a venv ($SPARK_VENV, default
# target/spark-venv) when missing; needs Java 17.
#
#   spark/test_spark.sh            # uses target/debug/dupsift built with --features spark
#   DUPSIFT_BIN=target/release/dupsift spark/test_spark.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
venv="${SPARK_VENV:-$root/target/spark-venv}"
if [ ! -x "$venv/bin/spark-submit" ]; then
  echo "== installing pyspark into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "pyspark==4.0.1" "pandas<3" "pyarrow<27"
fi
export PATH="$venv/bin:$PATH" PYSPARK_PYTHON="$venv/bin/python" SPARK_LOCAL_IP=127.0.0.1
bin="${DUPSIFT_BIN:-$root/target/debug/dupsift}"
if [ -z "${DUPSIFT_BIN:-}" ]; then
  cargo build --features spark --quiet
fi

work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

python3 spark/make_test_corpus.py --docs 20000 --out "$work/all.jsonl"
# Three files, named so that scan's order (by path) is not the order they were cut in, one of
# them gzip-compressed in a subdirectory.
python3 - "$work/all.jsonl" "$work/corpus" <<'PY'
import gzip, os, sys
lines = open(sys.argv[1], "rb").read().splitlines(keepends=True)
out = sys.argv[2]
os.makedirs(out + "/sub")
open(out + "/b.jsonl", "wb").writelines(lines[:7000])
open(out + "/a.jsonl", "wb").writelines(lines[7000:14000])
with gzip.open(out + "/sub/c.jsonl.gz", "wb") as f:
    f.writelines(lines[14000:])
PY
"$bin" scan "$work/corpus" --no-passages --max-doc-bytes 100K --format json -q \
  -o "$work/scan.json"
"$bin" scan "$work/corpus" --no-passages --max-doc-bytes 100K --format json -q \
  --clusters components --keep last -o "$work/scan-components.json"

submit() { # MASTER OUT [FLAG...]
  spark-submit --master "$1" --conf spark.ui.enabled=false --files "$bin" \
    spark/dupsift_spark.py --binary "$(basename "$bin")" --input "$work/corpus" \
    --max-doc-bytes 100K --output "$2" "${@:3}" 2> "$2.log" || { tail -40 "$2.log"; return 1; }
}

compare() { # OUT [SCAN_JSON]
  local scan="${2:-$work/scan.json}"
  cmp "$scan" "$1/report.json" || {
    diff <(head -c 3000 "$scan") <(head -c 3000 "$1/report.json") | head -40
    echo "report.json differs from dupsift scan's report"; return 1; }
  python3 - "$scan" "$1" "$work/corpus" <<'PY'
import collections, glob, gzip, json, sys
scan = json.load(open(sys.argv[1]))
assert len(scan["clusters"]) > 2000, len(scan["clusters"])
assert len(scan["skipped"]) == 13, scan["skipped"]
assert sum(k["doc"].count(":") for c in scan["clusters"] for k in c["members"]) > 0, \
    "some id-less record should be a duplicate"
parts = collections.Counter(c["component"] for c in scan["clusters"])
split = sum(n > 1 for n in parts.values())
if scan["params"]["clusters"] == "threshold":
    # The chains: components split into clusters, every member near its kept document.
    assert split > 0, "no component was split into more than one cluster"
    assert all(m["similarity"] >= scan["params"]["threshold"]
               for c in scan["clusters"] for m in c["members"])
else:
    assert split == 0, f"{split} components have more than one cluster"
got = [json.loads(l) for l in open(sys.argv[2] + "/clusters.jsonl")]
assert [(c["cluster"], c["component"], c["kept"], c["members"]) for c in got] == \
    [(c["id"], c["component"], c["kept"], [m["doc"] for m in c["members"]])
     for c in scan["clusters"]]
removed = [json.loads(l)["id"] for l in open(sys.argv[2] + "/removed.jsonl")]
want_removed = {m["doc"] for c in scan["clusters"] for m in c["members"]}
assert set(removed) == want_removed and len(removed) == len(want_removed)
skipped = [json.loads(l) for l in open(sys.argv[2] + "/skipped.jsonl")]
assert sorted(skipped, key=lambda k: (k["path"], k["line"])) == scan["skipped"]
# Every input line but the removed documents' (skipped lines too), byte for byte, in order.
lines = []
for name in ["a.jsonl", "b.jsonl", "sub/c.jsonl.gz"]:
    path = sys.argv[3] + "/" + name
    raw = (gzip.open if name.endswith(".gz") else open)(path, "rb").read()
    for n, line in enumerate(raw.splitlines(keepends=True), 1):
        try:
            ident = json.loads(line.decode("utf-8", "replace")).get("id")
        except ValueError:
            ident = None
        lines.append((ident if isinstance(ident, str) else f"{name}:{n}", line))
want = [l for ident, l in lines if ident not in want_removed]
clean = [l for f in sorted(glob.glob(sys.argv[2] + "/clean/part-*")) for l in open(f, "rb")]
assert clean == want, (len(clean), len(want))
summary = json.load(open(sys.argv[2] + "/summary.json"))
assert summary == dict(scan["summary"], removed=len(want_removed)), summary
print(f"report.json byte-identical to dupsift scan's ({len(got)} clusters in {len(parts)} "
      f"components, {split} split; {len(removed)} removals, {len(skipped)} bad records); "
      f"{len(clean)} lines in clean/")
PY
}

echo "== local[2]"
start=$(date +%s)
submit "local[2]" "$work/local"
echo "spark local[2]: $(( $(date +%s) - start )) s"
compare "$work/local"

echo "== local[2], --clusters components --keep last"
start=$(date +%s)
submit "local[2]" "$work/components" --clusters components --keep last
echo "spark local[2], components: $(( $(date +%s) - start )) s"
compare "$work/components" "$work/scan-components.json"

echo "== local[2], Parquet input"
# The corpus as one Parquet table, with an extra column and row groups of 1,000 rows; records
# without an id get a null one, so both name those rows FILE:ROW.
python - "$work/corpus" "$work/corpus.parquet" <<'PY'
import gzip, json, sys
import pyarrow as pa, pyarrow.parquet as pq
ids, texts = [], []
for name in ["a.jsonl", "b.jsonl", "sub/c.jsonl.gz"]:
    path = sys.argv[1] + "/" + name
    raw = (gzip.open if name.endswith(".gz") else open)(path, "rb").read()
    for n, line in enumerate(raw.splitlines(keepends=True), 1):
        try:
            r = json.loads(line.decode("utf-8", "replace"))  # as scan reads invalid UTF-8
        except ValueError:
            continue
        if isinstance(r.get("text"), str) and len(line) <= 100 * 1024:
            ids.append(r["id"] if isinstance(r.get("id"), str) else None)
            texts.append(r["text"])
table = pa.table({"id": ids, "text": texts, "n": list(range(len(ids)))})
pq.write_table(table, sys.argv[2], row_group_size=1000)
PY
"$bin" scan "$work/corpus.parquet" --no-passages --max-doc-bytes 100K --format json -q \
  -o "$work/scan-parquet.json"
spark-submit --master "local[2]" --conf spark.ui.enabled=false --files "$bin" \
  spark/dupsift_spark.py --binary "$(basename "$bin")" --format parquet \
  --input "$work/corpus.parquet" --max-doc-bytes 100K --output "$work/parquet" \
  2> "$work/parquet.log" || { tail -40 "$work/parquet.log"; exit 1; }
cmp "$work/scan-parquet.json" "$work/parquet/report.json" || {
  diff <(head -c 3000 "$work/scan-parquet.json") <(head -c 3000 "$work/parquet/report.json") \
    | head -40
  echo "report.json differs from dupsift scan's report of the Parquet table"; exit 1; }
python - "$work/scan-parquet.json" "$work/parquet" "$work/corpus.parquet" <<'PY'
import glob, json, re, sys
import pyarrow.parquet as pq
scan = json.load(open(sys.argv[1]))
assert len(scan["clusters"]) > 2000, len(scan["clusters"])
named = [d for c in scan["clusters"] for d in [c["kept"]] + [m["doc"] for m in c["members"]]
         if re.search(r"\.parquet:[0-9]+$", d)]
assert named, "some row without an id should be in a cluster, named FILE:ROW"
removed = {json.loads(l)["id"] for l in open(sys.argv[2] + "/removed.jsonl")}
assert removed == {m["doc"] for c in scan["clusters"] for m in c["members"]}
# The kept rows, every column, in input order.
table = pq.read_table(sys.argv[3])
name = sys.argv[3]
want = [(i, n) for row, (i, n) in enumerate(zip(table.column("id").to_pylist(),
                                                 table.column("n").to_pylist()), 1)
        if (i if i is not None else f"{name}:{row}") not in removed]
parts = [pq.read_table(f) for f in sorted(glob.glob(sys.argv[2] + "/clean/*.parquet"))]
assert all(p.schema.names == table.schema.names for p in parts), parts[0].schema
clean = [(i, n) for p in parts
         for i, n in zip(p.column("id").to_pylist(), p.column("n").to_pylist())]
assert clean == want, (len(clean), len(want))
print(f"Parquet: report.json byte-identical to dupsift scan's of the table "
      f"({len(scan['clusters'])} clusters, {len(named)} rows named FILE:ROW among them), "
      f"{len(clean)} rows in clean/")
PY

echo "== standalone master and two workers on 127.0.0.1"
export SPARK_WORKER_DIR="$work/spark-work" SPARK_LOG_DIR="$work/spark-logs"
spark-class org.apache.spark.deploy.master.Master --host 127.0.0.1 --port 17077 \
  --webui-port 18080 > "$work/master.log" 2>&1 &
pids+=($!)
for i in 1 2; do
  spark-class org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --cores 1 --memory 1g \
    --webui-port $((18080 + i)) spark://127.0.0.1:17077 > "$work/worker$i.log" 2>&1 &
  pids+=($!)
done
for _ in $(seq 60); do
  alive=$(python3 -c "import json,urllib.request
try:
    print(json.load(urllib.request.urlopen('http://127.0.0.1:18080/json/'))['aliveworkers'])
except Exception:
    print(0)")
  [ "$alive" = 2 ] && break
  sleep 1
done
[ "$alive" = 2 ] || { tail -20 "$work"/*.log; echo "the standalone cluster did not come up"; exit 1; }
start=$(date +%s)
submit spark://127.0.0.1:17077 "$work/standalone"
echo "spark standalone (2 workers): $(( $(date +%s) - start )) s"
compare "$work/standalone"
