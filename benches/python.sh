#!/usr/bin/env bash
# The Python package against the binary and rensa's Python pipeline, timed in the same run by
# the shared peer harness (interleaved): `dupsift.scan(table)` on the bench corpus loaded as a
# pyarrow table (benches/python_scan.py; its load and scan times and memory are logged apart),
# `dupsift scan` on the JSONL file, both at document level, and rensa.
#
#   benches/python.sh [large|medium|small] [runs]
#
# Builds the release wheel (`pip install .`) into $PY_BENCH_VENV (default /tmp/py-bench-venv).
# Needs the harness (PEERS_DIR, default ../shared/bench) with its venv (setup_peers.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
size="${1:-large}"
runs="${2:-3}"
PEERS_DIR="${PEERS_DIR:-$(cd .. && pwd)/shared/bench}"
BENCH_DATA="${BENCH_DATA:-/tmp/benchdata}"
VENV="${PEERS_VENV:-/tmp/peers-venv}"
PYV="${PY_BENCH_VENV:-/tmp/py-bench-venv}"
[ -f "$PEERS_DIR/peers.py" ] || { echo "peer harness not found in $PEERS_DIR (set PEERS_DIR)" >&2; exit 2; }
[ -x "$VENV/bin/python" ] || bash "$PEERS_DIR/setup_peers.sh"
corpus="$BENCH_DATA/$size.jsonl"
[ -f "$corpus" ] || BENCH_DATA="$BENCH_DATA" python3 "$PEERS_DIR/make_corpus.py" --size "$size"
if [ ! -x "$PYV/bin/python" ]; then
  python3 -m venv "$PYV"
  "$PYV/bin/pip" install -q "maturin>=1.9.4,<2" "pyarrow<27" "numpy<3"
fi
cargo build --release --quiet -p dupsift-cli
PATH="$PYV/bin:$PATH" MATURIN_NO_INSTALL_RUST=1 \
  "$PYV/bin/pip" install -q --no-build-isolation --no-deps --force-reinstall .
bin="$PWD/target/release/dupsift"
conv="$PWD/benches/pairs_from_report.py"
log="${PY_BENCH_LOG:-/tmp/dupsift-python-$size.jsonl}"
: > "$log"
results="${BENCH_OUT:-/tmp/dupsift-python-peers-$size.json}"
"$VENV/bin/python" "$PEERS_DIR/peers.py" --corpus "$corpus" --runs "$runs" --peers rensa-r \
  --out "$results" \
  --cmd "dupsift-cli=sh -c '$bin scan {corpus} --no-passages --threads {threads} --quiet --format tsv -o {out_dir}/dups.tsv && python3 $conv {out_dir}/dups.tsv > {pairs_out}'" \
  --cmd "dupsift-python=$PYV/bin/python $PWD/benches/python_scan.py {corpus} --threads {threads} --pairs {pairs_out} --log $log"
echo "== dupsift.scan(table): load and scan apart, per run ($log)"
cat "$log"
