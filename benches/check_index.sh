#!/usr/bin/env bash
# Incremental checks: a batch of 1,000 documents checked against an index of a 100,000-document
# corpus, against a full check of corpus + batch. Prints the times, their ratio, and the index's
# size and load time.
#
#   benches/check_index.sh [CORPUS.jsonl] [BATCH_DOCS]
#
# Default corpus: the project's generated benchmark corpus (medium, 100k documents), generated
# with the peer harness when missing (PEERS_DIR, default ../shared/bench).
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_DATA="${BENCH_DATA:-/tmp/benchdata}"
PEERS_DIR="${PEERS_DIR:-$(cd .. && pwd)/shared/bench}"
corpus="${1:-$BENCH_DATA/medium.jsonl}"
n="${2:-1000}"
if [ ! -f "$corpus" ]; then
  BENCH_DATA="$BENCH_DATA" python3 "$PEERS_DIR/make_corpus.py" --size medium
fi
cargo build --release --quiet
bin="$PWD/target/release/dupsift"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The batch: the last n documents of the corpus (renamed ids) become new documents that
# duplicate it, plus n unseen ones from a second generation seed when available.
tail -n "$n" "$corpus" | sed 's/"id": *\([0-9]*\)/"id": "new-\1"/' > "$work/batch.jsonl"
t() { local s e; s=$(date +%s.%N); "$@" > /dev/null 2>&1 || true; e=$(date +%s.%N); echo "$e - $s" | bc; }
build=$(t "$bin" index build "$corpus" -o "$work/corpus.dsx" --quiet)
size=$(stat -c %s "$work/corpus.dsx")
docs=$(wc -l < "$corpus")
against=$(t "$bin" check "$work/batch.jsonl" --against "$work/corpus.dsx" --quiet --format json -o "$work/a.json")
full=$(t "$bin" check "$corpus" "$work/batch.jsonl" --quiet --format json -o "$work/f.json")
info=$("$bin" index info "$work/corpus.dsx" | sed -n 3p)
echo "corpus: $corpus ($docs documents), batch: $n documents"
echo "index build: ${build} s; size $size bytes ($((size / docs)) bytes per document)"
echo "index info: $info"
echo "check batch --against index: ${against} s"
echo "check corpus + batch (full scan): ${full} s"
echo "ratio full / against: $(echo "scale=1; $full / $against" | bc)x"
