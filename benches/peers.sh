#!/usr/bin/env bash
# End-to-end comparison with the peers a user would pick instead (rensa, gaoya, datasketch, ...),
# timed in the same run on the same JSONL corpus by the project's shared peer harness.
#
#   benches/peers.sh [medium|large|small] [peer,list] [runs]
#
# Needs the harness directory (PEERS_DIR, default ../shared/bench beside the checkout) with its
# venv set up (bash $PEERS_DIR/setup_peers.sh). The corpus is generated once into
# $BENCH_DATA (default /tmp/benchdata). dupsift runs with default parameters (exact
# verification, banding chosen for recall, repeated passages on), with --no-passages
# (document level only, what the peers do) and with --scheme oph --no-passages
# (one-permutation hashing), writing `--format tsv`; its pairs are the pairs its clusters imply. The results table
# is written into BENCHMARKS.md (benches/peers_table.py).
set -euo pipefail
cd "$(dirname "$0")/.."
size="${1:-medium}"
peers="${2:-rensa-r,gaoya}"
runs="${3:-3}"
PEERS_DIR="${PEERS_DIR:-$(cd .. && pwd)/shared/bench}"
BENCH_DATA="${BENCH_DATA:-/tmp/benchdata}"
VENV="${PEERS_VENV:-/tmp/peers-venv}"
[ -f "$PEERS_DIR/peers.py" ] || { echo "peer harness not found in $PEERS_DIR (set PEERS_DIR)" >&2; exit 2; }
[ -x "$VENV/bin/python" ] || bash "$PEERS_DIR/setup_peers.sh"
corpus="$BENCH_DATA/$size.jsonl"
[ -f "$corpus" ] || BENCH_DATA="$BENCH_DATA" python3 "$PEERS_DIR/make_corpus.py" --size "$size"
# The commit measured, taken before building ("-dirty" if files other than BENCHMARKS.md differ).
BENCH_COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
git diff --quiet HEAD -- . ':!BENCHMARKS.md' 2>/dev/null || BENCH_COMMIT="$BENCH_COMMIT-dirty"
export BENCH_COMMIT
cargo build --release --quiet
bin="$PWD/target/release/dupsift"
conv="$PWD/benches/pairs_from_report.py"
results="${BENCH_OUT:-/tmp/dupsift-peers-$size.json}"
"$VENV/bin/python" "$PEERS_DIR/peers.py" --corpus "$corpus" --runs "$runs" --peers "$peers" \
  --out "$results" \
  --cmd "dupsift=sh -c '$bin scan {corpus} --threads {threads} --quiet --format tsv -o {out_dir}/dups.tsv && python3 $conv {out_dir}/dups.tsv > {pairs_out}'" \
  --cmd "dupsift-no-passages=sh -c '$bin scan {corpus} --no-passages --threads {threads} --quiet --format tsv -o {out_dir}/dups.tsv && python3 $conv {out_dir}/dups.tsv > {pairs_out}'" \
  --cmd "dupsift-oph-no-passages=sh -c '$bin scan {corpus} --scheme oph --no-passages --threads {threads} --quiet --format tsv -o {out_dir}/dups.tsv && python3 $conv {out_dir}/dups.tsv > {pairs_out}'"
# The table of wall time, MB/s, peak RSS and recall, with machine and commit, into BENCHMARKS.md.
python3 benches/peers_table.py "$results" "${BENCH_TABLE:-$size}"
