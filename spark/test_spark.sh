#!/usr/bin/env bash
# The Spark path must find the clusters of `dupsift scan`, document for document: generates a
# 20,000-document corpus (with bad records), runs `dupsift scan` and the PySpark job in
# local[2], then on a standalone master with two workers on 127.0.0.1, and compares. Installs
# pyspark into a venv ($SPARK_VENV, default target/spark-venv) when missing; needs Java 17.
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

python3 spark/make_test_corpus.py --docs 20000 --out "$work/corpus.jsonl"
"$bin" scan "$work/corpus.jsonl" --no-passages --max-doc-bytes 100K --format json -q \
  -o "$work/scan.json"

submit() { # MASTER OUT
  spark-submit --master "$1" --conf spark.ui.enabled=false --files "$bin" \
    spark/dupsift_spark.py --binary "$(basename "$bin")" --input "$work/corpus.jsonl" \
    --max-doc-bytes 100K --output "$2" 2> "$2.log" || { tail -40 "$2.log"; return 1; }
}

compare() { # OUT
  python3 - "$work/scan.json" "$1" "$work/corpus.jsonl" <<'PY'
import json, sys
scan = json.load(open(sys.argv[1]))
want = {frozenset([c["kept"]] + [m["doc"] for m in c["members"]]) for c in scan["clusters"]}
got = set()
for line in open(sys.argv[2] + "/clusters.jsonl"):
    c = json.loads(line)
    got.add(frozenset([c["kept"]] + c["members"]))
summary = json.load(open(sys.argv[2] + "/summary.json"))
skipped = [json.loads(l) for l in open(sys.argv[2] + "/skipped.jsonl")]
assert len(want) > 2000, len(want)
assert got == want, f"{len(got ^ want)} clusters differ, e.g. {sorted(map(sorted, got ^ want))[:2]}"
for key in ("documents", "skipped", "clusters", "duplicate_documents",
            "exact_duplicate_documents", "invalid_utf8_documents", "empty_documents"):
    assert summary[key] == scan["summary"][key], (key, summary[key], scan["summary"][key])
assert len(skipped) == scan["summary"]["skipped"] == summary["skipped"] == 13, (skipped, summary)
assert sorted(k["reason"] for k in skipped) == sorted(k["reason"] for k in scan["skipped"])
removed = {json.loads(l)["id"] for l in open(sys.argv[2] + "/removed.jsonl")}
assert removed == {m["doc"] for c in scan["clusters"] for m in c["members"]}, "removed lists differ"
import glob
# Every input line but the removed documents' (skipped lines too), byte for byte.
clean = [l for f in sorted(glob.glob(sys.argv[2] + "/clean/part-*")) for l in open(f, "rb")]
lines = open(sys.argv[3], "rb").read().splitlines(keepends=True)
removed_lines = sum(1 for l in lines if l.startswith(b'{"id": "') and
                    l[8:].split(b'"', 1)[0].decode("utf-8", "replace") in removed)
assert sorted(clean) == sorted(l for l in lines if not (l.startswith(b'{"id": "') and
                    l[8:].split(b'"', 1)[0].decode("utf-8", "replace") in removed))
assert len(clean) == len(lines) - len(removed) == len(lines) - removed_lines, len(clean)
print(f"same {len(got)} clusters and {len(removed)} removals as dupsift scan, "
      f"{len(clean)} lines in clean/, {len(skipped)} bad records reported as scan reports them")
PY
}

echo "== local[2]"
start=$(date +%s)
submit "local[2]" "$work/local"
echo "spark local[2]: $(( $(date +%s) - start )) s"
compare "$work/local"

echo "== local[2], Parquet input"
python - "$work/corpus.jsonl" "$work/corpus.parquet" <<'PY'
import json, sys
import pyarrow as pa, pyarrow.parquet as pq
ids, texts = [], []
for line in open(sys.argv[1], "rb"):
    try:
        r = json.loads(line.decode("utf-8", "replace"))  # as scan reads invalid UTF-8
    except ValueError:
        continue
    if isinstance(r.get("text"), str) and len(line) <= 100 * 1024:
        ids.append(r["id"])
        texts.append(r["text"])
pq.write_table(pa.table({"id": ids, "text": texts}), sys.argv[2])
PY
spark-submit --master "local[2]" --conf spark.ui.enabled=false --files "$bin" \
  spark/dupsift_spark.py --binary "$(basename "$bin")" --format parquet \
  --input "$work/corpus.parquet" --max-doc-bytes 100K --output "$work/parquet" \
  2> "$work/parquet.log" || { tail -40 "$work/parquet.log"; exit 1; }
python - "$work/scan.json" "$work/parquet" <<'PY'
import glob, json, sys
import pyarrow.parquet as pq
scan = json.load(open(sys.argv[1]))
want = {frozenset([c["kept"]] + [m["doc"] for m in c["members"]]) for c in scan["clusters"]}
got = {frozenset([json.loads(l)["kept"]] + json.loads(l)["members"])
       for l in open(sys.argv[2] + "/clusters.jsonl")}
assert got == want, f"{len(got ^ want)} clusters differ"
removed = {json.loads(l)["id"] for l in open(sys.argv[2] + "/removed.jsonl")}
clean = [i for f in glob.glob(sys.argv[2] + "/clean/*.parquet")
         for i in pq.read_table(f).column("id").to_pylist()]
assert len(clean) == scan["summary"]["documents"] - len(removed) and not removed & set(clean)
print(f"Parquet: same {len(got)} clusters as dupsift scan, {len(clean)} rows in clean/")
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
