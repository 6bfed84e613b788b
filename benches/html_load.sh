#!/usr/bin/env bash
# Load time of a large HTML report in headless Chromium: 10,000 clusters (20,000 short JSONL
# documents, each pair differing in its last word), rendered by the release binary with
# --no-passages, the same shape as the test html::a_report_with_10000_clusters_loads.
#
#   benches/html_load.sh [runs]        (default 3)
#
# The load time is the wall time of `chromium --headless --dump-dom` on the report (start,
# parse, run the page's script, serialise the DOM, exit) minus that of a trivial page (start
# and exit alone); each is the median of `runs` runs, alternated, after one warm-up of each.
# Needs Chromium (CHROMIUM, default /usr/bin/chromium or chromium on PATH) and python3. The
# corpus and report are written to $BENCH_DATA (default /tmp/dupsift-html-load).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
chromium="${CHROMIUM:-}"
if [ -z "$chromium" ]; then
  if [ -x /usr/bin/chromium ]; then chromium=/usr/bin/chromium; else chromium="$(command -v chromium || true)"; fi
fi
[ -n "$chromium" ] && [ -x "$chromium" ] || { echo "chromium not found (set CHROMIUM)" >&2; exit 2; }
work="${BENCH_DATA:-/tmp/dupsift-html-load}"
mkdir -p "$work"
corpus="$work/pairs-10000.jsonl"

if [ ! -f "$corpus" ]; then
  python3 - "$corpus" <<'PY'
import json, random, sys
rng = random.Random(10000)
onsets = "b c d f g h j k l m n p r s t v w z br ch dr gl pl sh st tr th".split()
vowels = "a e i o u ai ou ea".split()
codas = ["", "", "", "n", "r", "s", "l", "m", "nd", "st"]
vocab = set()
while len(vocab) < 2000:
    vocab.add("".join(rng.choice(onsets) + rng.choice(vowels) for _ in range(rng.randint(1, 3)))
              + rng.choice(codas))
vocab = sorted(vocab)

def render(words):
    out = []
    for i, w in enumerate(words):
        if i % 12 == 0:
            w = w.capitalize()
        if i % 12 == 5:
            w += ","
        if i % 12 == 11 or i + 1 == len(words):
            w += "."
        out.append(w)
    return " ".join(out) + "\n"

with open(sys.argv[1], "w") as f:
    for i in range(10000):
        words = [rng.choice(vocab) for _ in range(rng.randint(40, 60))]
        copy = list(words)
        while copy[-1] == words[-1]:
            copy[-1] = rng.choice(vocab)
        f.write(json.dumps({"id": f"doc-{i:05}-a", "text": render(words)}) + "\n")
        f.write(json.dumps({"id": f"doc-{i:05}-b", "text": render(copy)}) + "\n")
PY
fi

cargo build --release --quiet
bin="$PWD/target/release/dupsift"
report="$work/report.html"
t0=$(date +%s%N)
"$bin" scan --quiet --no-passages --format html -o "$report" "$corpus"
t1=$(date +%s%N)
printf '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>empty</title></head><body><p>empty</p></body></html>\n' > "$work/empty.html"

# Prints the wall time in ms of dumping $1; checks that the page's script ran when $2 is set.
# A browser killed by a signal (seen rarely at start-up, whatever the page) is run once more.
dump() {
  local profile start end rc try
  for try in 1 2; do
    profile="$(mktemp -d)"
    rc=0
    start=$(date +%s%N)
    timeout -k 5 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
      --disable-background-networking --disable-component-update --disable-sync \
      --user-data-dir="$profile" --dump-dom "file://$1" > "$work/dom.html" 2>"$work/chromium.log" || rc=$?
    end=$(date +%s%N)
    rm -rf "$profile"
    if [ "$rc" -eq 0 ]; then break; fi
    if [ "$rc" -le 128 ] || [ "$try" -eq 2 ]; then
      echo "chromium failed (exit $rc) on $1; log in $work/chromium.log" >&2
      exit 1
    fi
    echo "chromium was killed by signal $((rc - 128)) on $1; running it again" >&2
  done
  if [ -n "${2:-}" ] && ! grep -q '<html[^>]*data-ready="1"' "$work/dom.html"; then
    echo "the report's script did not run to the end" >&2
    exit 1
  fi
  echo $(( (end - start) / 1000000 ))
}
median() { tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

dump "$work/empty.html" > /dev/null
dump "$report" check > /dev/null
empty=() full=()
for _ in $(seq "$runs"); do
  empty+=("$(dump "$work/empty.html")")
  full+=("$(dump "$report" check)")
done
me=$(echo "${empty[@]}" | median)
mf=$(echo "${full[@]}" | median)

echo "chromium:        $("$chromium" --version 2>/dev/null)"
echo "corpus:          $(wc -l < "$corpus") JSONL documents, $(du -k "$corpus" | cut -f1) KiB"
echo "report:          $(wc -c < "$report") bytes, $(grep -o 'class="item cluster"' "$report" | wc -l) clusters, $(grep -o 'class="compare"' "$report" | wc -l) comparisons"
echo "scan + render:   $(( (t1 - t0) / 1000000 )) ms (release binary)"
echo "trivial page:    ${empty[*]} ms -> median $me ms"
echo "report page:     ${full[*]} ms -> median $mf ms"
echo "load time:       $(( mf - me )) ms (median report - median trivial page)"
