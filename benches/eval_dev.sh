#!/usr/bin/env bash
# Accuracy on the project's shared development set (near-duplicate pairs and planted passages
# with exact truth), scored by its own scorer. Extra arguments go to `dupsift scan`:
#
#   benches/eval_dev.sh                    # defaults
#   benches/eval_dev.sh --scheme oph       # one-permutation hashing
#
# EVAL_DIR (default ../shared/eval beside the checkout) holds dev/ and score.py.
set -euo pipefail
cd "$(dirname "$0")/.."
EVAL_DIR="${EVAL_DIR:-$(cd .. && pwd)/shared/eval}"
[ -f "$EVAL_DIR/score.py" ] || { echo "scorer not found in $EVAL_DIR (set EVAL_DIR)" >&2; exit 2; }
cargo build --release --quiet
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# --max-occurrences high enough to list every occurrence: the scorer checks each one.
target/release/dupsift scan "$EVAL_DIR/dev/docs.jsonl" --quiet --format json \
  --max-occurrences 100000 -o "$work/report.json" "$@" || [ $? -eq 1 ]
python3 benches/report_to_eval.py "$work/report.json" "$work"
python3 "$EVAL_DIR/score.py" --truth "$EVAL_DIR/dev" --clusters "$work/clusters.tsv" \
  --passages "$work/passages.jsonl" --json "${EVAL_OUT:-$work/score.json}"
