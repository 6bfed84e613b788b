#!/usr/bin/env bash
# Parquet against JSONL input: the same documents scanned from a JSONL file and from a folder
# of Parquet shards laid out the way Hugging Face publishes datasets. Prints each run's wall
# time, CPU time and peak RSS, the medians, the ratio Parquet / JSONL, and whether the two
# reports' findings are equal. Exits 1 when they are not.
#
#   benches/parquet.sh [CORPUS.jsonl] [ROUNDS]      (default: medium corpus, 3 rounds)
#
# The Parquet folder (default $BENCH_DATA/parquet-NAME for CORPUS NAME.jsonl; PQ_DIR overrides)
# holds train-00000-of-0000N.parquet ... (SHARDS, default 4, contiguous runs of rows in corpus
# order), snappy, row groups of ROW_GROUP rows (default 1,000), columns id and text and any
# other JSONL fields, each with its JSONL type (ints stay int64, strings stay strings, mixed or
# nested values become JSON text). It is made with python3 + pyarrow, and remade when the
# corpus or the layout changes (a stamp file PQ_DIR.source records them).
#
# Each configuration (default flags, then --no-passages) runs JSONL and Parquet alternately,
# J P J P ..., ROUNDS times each, after both inputs are read once into the page cache; every
# run is `dupsift scan INPUT --format json -o REPORT --quiet --timings` (the stage times are
# printed with each run). Findings compared: clusters (kept id, member ids in order, and every
# other field), passages (occurrence doc ids and byte ranges, and every other field),
# self-repeating documents, skipped inputs, and the summary figures.
#
# BIN: the dupsift binary (default: target/release/dupsift, built with cargo build --release).
# Default corpus: the project's generated benchmark corpus (medium, 100k documents; a corpus
# named small/medium/large.jsonl is generated with the peer harness when missing, PEERS_DIR,
# default ../shared/bench). KEEP=1 keeps the reports (path printed).
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_DATA="${BENCH_DATA:-/tmp/benchdata}"
PEERS_DIR="${PEERS_DIR:-$(cd .. && pwd)/shared/bench}"
corpus="${1:-$BENCH_DATA/medium.jsonl}"
rounds="${2:-3}"
shards="${SHARDS:-4}"
row_group="${ROW_GROUP:-1000}"
name="$(basename "$corpus" .jsonl)"
pq="${PQ_DIR:-$(dirname "$corpus")/parquet-$name}"
if [ ! -f "$corpus" ]; then
  case "$name" in
    small|medium|large)
      BENCH_DATA="$(dirname "$corpus")" python3 "$PEERS_DIR/make_corpus.py" --size "$name" ;;
    *) echo "no corpus $corpus" >&2; exit 2 ;;
  esac
fi
if [ -n "${BIN:-}" ]; then
  bin="$BIN"
else
  cargo build --release --quiet
  bin="$PWD/target/release/dupsift"
fi
command -v /usr/bin/time > /dev/null || { echo "needs /usr/bin/time (GNU time)" >&2; exit 2; }
python3 -c 'import pyarrow' 2> /dev/null || { echo "needs pyarrow for python3 (pip install pyarrow)" >&2; exit 2; }

# --- The Parquet shards ---------------------------------------------------------------------
stamp="$(stat -c '%n %s %Y' "$corpus") shards=$shards row_group=$row_group snappy"
if [ ! -f "$pq.source" ] || [ "$(cat "$pq.source")" != "$stamp" ] || [ ! -d "$pq" ]; then
  echo "converting $corpus -> $pq/ ($shards shards, row groups of $row_group rows, snappy)"
  rm -rf "$pq" "$pq.source"
  mkdir -p "$pq"
  python3 - "$corpus" "$pq" "$shards" "$row_group" <<'PY'
import json, math, sys
import pyarrow as pa
import pyarrow.parquet as pq

corpus, out, shards, row_group = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])

# Pass 1: rows, and each field's JSON types and integer range (fields in order of first
# appearance).
kinds = {}
rows = 0
with open(corpus, encoding="utf-8") as f:
    for line in f:
        if not line.strip():
            continue
        rec = json.loads(line)
        rows += 1
        for k, v in rec.items():
            kind = kinds.setdefault(k, {"names": set(), "lo": 0, "hi": 0})
            if v is None:
                continue
            name = type(v).__name__
            kind["names"].add(name)
            if name == "int":
                kind["lo"], kind["hi"] = min(kind["lo"], v), max(kind["hi"], v)

def arrow_type(kind):
    names, lo, hi = kind["names"], kind["lo"], kind["hi"]
    if not names or names == {"str"}:
        return pa.string(), None
    if names == {"bool"}:
        return pa.bool_(), None
    if names == {"int"}:
        if -2**63 <= lo and hi < 2**63:
            return pa.int64(), None
        if 0 <= lo and hi < 2**64:
            return pa.uint64(), None
    if names <= {"int", "float"} and -2**53 < lo and hi < 2**53:
        return pa.float64(), float
    # Mixed or nested: the value as JSON writes it (a string stays itself).
    return pa.string(), lambda v: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)

if "text" in kinds:
    kinds["text"]["names"] = {"str"}  # a non-string text becomes a null: skipped either way
fields, convert = [], {}
for k, kind in kinds.items():
    t, conv = arrow_type(kind)
    fields.append(pa.field(k, t))
    if conv is not None:
        convert[k] = conv
schema = pa.schema(fields)

# Pass 2: contiguous runs of rows per shard, a row group per write.
per_shard = math.ceil(rows / shards) if rows else 0
def shard_writer(i):
    path = f"{out}/train-{i:05d}-of-{shards:05d}.parquet"
    return pq.ParquetWriter(path, schema, compression="snappy")

def flush(writer, buf):
    cols = {}
    for fl in schema:
        vals = [r.get(fl.name) for r in buf]
        conv = convert.get(fl.name)
        if conv is not None:
            vals = [None if v is None else conv(v) for v in vals]
        if fl.name == "text":
            vals = [v if isinstance(v, str) else None for v in vals]
        cols[fl.name] = pa.array(vals, type=fl.type)
    writer.write_table(pa.table(cols, schema=schema), row_group_size=row_group)

shard, in_shard, buf = 0, 0, []
writer = shard_writer(0)
with open(corpus, encoding="utf-8") as f:
    for line in f:
        if not line.strip():
            continue
        if in_shard == per_shard:
            if buf:
                flush(writer, buf)
                buf = []
            writer.close()
            shard, in_shard = shard + 1, 0
            writer = shard_writer(shard)
        buf.append(json.loads(line))
        in_shard += 1
        if len(buf) == row_group:
            flush(writer, buf)
            buf = []
if buf:
    flush(writer, buf)
writer.close()
for i in range(shard + 1, shards):  # fewer rows than shards: empty shards, as the name says
    shard_writer(i).close()
print(f"{rows} rows, {len(fields)} columns: " + ", ".join(f"{fl.name} {fl.type}" for fl in schema))
PY
  echo "$stamp" > "$pq.source"
fi

# --- The runs ------------------------------------------------------------------------------
work="$(mktemp -d)"
if [ "${KEEP:-0}" = 1 ]; then echo "reports in $work"; else trap 'rm -rf "$work"' EXIT; fi
docs=$(grep -c . "$corpus" || true)
echo "corpus: $corpus ($docs documents, $(du -h "$corpus" | cut -f1)); Parquet: $pq ($(ls "$pq" | wc -l) files, $(du -sh "$pq" | cut -f1))"
echo "binary: $bin; $rounds rounds; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
cat "$corpus" "$pq"/*.parquet > /dev/null # both in the page cache before the first timed run

# run LABEL INPUT REPORT [FLAGS...]: one timed scan; appends "label wall user+sys maxrss_kb".
run() {
  local label="$1" input="$2" report="$3"
  shift 3
  local tf="$work/time" ef="$work/stderr"
  /usr/bin/time -f '%e %U %S %M' -o "$tf" \
    "$bin" scan "$input" --format json -o "$report" --quiet --timings "$@" 2> "$ef" ||
    { echo "scan of $input failed:" >&2; cat "$ef" >&2; exit 2; }
  read -r wall user sys rss < "$tf"
  local cpu; cpu=$(echo "$user + $sys" | bc)
  printf '  %-8s %8.2f s wall %8.2f s cpu %8.0f MB peak RSS   %s\n' "$label" "$wall" "$cpu" \
    "$(echo "$rss / 1024" | bc)" "$(grep '^dupsift: reading' "$ef" | sed 's/^dupsift: //')"
  echo "$label $wall $cpu $rss" >> "$work/times"
}

status=0
for mode in default no-passages; do
  flags=()
  [ "$mode" = no-passages ] && flags=(--no-passages)
  echo
  echo "== $mode flags ${flags[*]:-} =="
  : > "$work/times"
  for ((r = 1; r <= rounds; r++)); do
    run "jsonl" "$corpus" "$work/$mode-jsonl.json" ${flags[@]+"${flags[@]}"}
    run "parquet" "$pq" "$work/$mode-parquet.json" ${flags[@]+"${flags[@]}"}
  done
  python3 - "$work/times" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
j = [r for r in rows if r[0] == "jsonl"]
p = [r for r in rows if r[0] == "parquet"]
med = lambda rs, i: statistics.median(float(r[i]) for r in rs)
for label, rs in (("jsonl", j), ("parquet", p)):
    print(f"  median {label:8} {med(rs, 1):8.2f} s wall {med(rs, 2):8.2f} s cpu "
          f"{med(rs, 3) / 1024:8.0f} MB peak RSS")
ratios = [float(b[1]) / float(a[1]) for a, b in zip(j, p)]
print("  P/J wall per round: " + " ".join(f"{x:.3f}" for x in ratios)
      + f"; median {statistics.median(ratios):.3f}; ratio of medians {med(p, 1) / med(j, 1):.3f}"
      + f"; cpu ratio of medians {med(p, 2) / med(j, 2):.3f}; RSS ratio {med(p, 3) / med(j, 3):.3f}")
PY
  python3 - "$work/$mode-jsonl.json" "$work/$mode-parquet.json" <<'PY' || status=1
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
ok = True
def check(what, x, y):
    global ok
    same = x == y
    ok &= same
    print(f"  {what}: {'equal' if same else 'DIFFERENT'}")
    return same
def first_diff(xs, ys, key=lambda v: v):
    for i, (x, y) in enumerate(zip(xs, ys)):
        if key(x) != key(y):
            return f"    first difference at {i}: {key(x)!r} vs {key(y)!r}"
    return f"    lengths {len(xs)} vs {len(ys)}"
ids = lambda c: (c["kept"], [m["doc"] for m in c["members"]])
ca, cb = a["clusters"], b["clusters"]
if not check(f"clusters ({len(ca)}; kept + member ids in order)", [ids(c) for c in ca], [ids(c) for c in cb]):
    print(first_diff(ca, cb, ids))
elif not check("clusters, every field (similarity, bytes, exact, previews, component)", ca, cb):
    print(first_diff(ca, cb))
occ = lambda p: [(o["doc"], o["start"], o["end"]) for o in p["occurrences"]]
pa_, pb = a["passages"], b["passages"]
if not check(f"passages ({len(pa_)}; occurrence docs and byte ranges)", [occ(p) for p in pa_], [occ(p) for p in pb]):
    print(first_diff(pa_, pb, occ))
elif not check("passages, every field (words, bytes, identity, count, lines)", pa_, pb):
    print(first_diff(pa_, pb))
if not check(f"self_repeating ({len(a['self_repeating'])})", a["self_repeating"], b["self_repeating"]):
    print(first_diff(a["self_repeating"], b["self_repeating"]))
check("params", a["params"], b["params"])
# Skipped entries name their file, which differs by layout: compare how many there are.
check(f"skipped count ({len(a['skipped'])})", len(a["skipped"]), len(b["skipped"]))
sa, sb = a["summary"], b["summary"]
diff = {k: (sa.get(k), sb.get(k)) for k in sorted(set(sa) | set(sb)) if sa.get(k) != sb.get(k)}
ok &= not diff
print("  summary: " + ("equal (" + ", ".join(f"{k} {v}" for k, v in sa.items()) + ")" if not diff
      else "DIFFERENT: " + ", ".join(f"{k} jsonl {x} parquet {y}" for k, (x, y) in diff.items())))
print("  findings: " + ("EQUAL" if ok else "NOT EQUAL"))
sys.exit(0 if ok else 1)
PY
done
exit "$status"
