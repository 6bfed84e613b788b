#!/usr/bin/env bash
# Builds the Python package with `pip install .` (maturin) into a venv and runs its pytest
# suite (crates/dupsift-py/tests), which compares it with the `dupsift` binary
# (target/debug/dupsift, built here when missing). The venv ($DUPSIFT_PY_VENV, default
# target/py-venv) is made and filled when missing; CI starts from a clean checkout, so there
# it is fresh. The extension is built with cargo's dev profile (its dependencies optimised):
# a release build of the engine takes minutes on two cores, and the tests' corpora are small.
# `DUPSIFT_PY_PROFILE=release` builds what `pip install .` builds for users.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
venv="${DUPSIFT_PY_VENV:-$root/target/py-venv}"
if [ ! -x "$venv/bin/pytest" ] || ! "$venv/bin/python" -c "import polars, datasets, datasketch" 2>/dev/null; then
  echo "== installing maturin, pytest and the test suite's libraries into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "maturin>=1.9.4,<2" "pytest<10" "pyarrow<27" "numpy<3" \
    "polars<3" "pandas<4" "datasets<6" "datasketch<2"
fi
export PATH="$venv/bin:$PATH" MATURIN_NO_INSTALL_RUST=1
if [ ! -x target/debug/dupsift ]; then
  cargo build -q -p dupsift-cli
fi
echo "== pip install . (the dupsift package, profile ${DUPSIFT_PY_PROFILE:-dev})"
MATURIN_PEP517_ARGS="--profile ${DUPSIFT_PY_PROFILE:-dev}" \
  pip install -q --no-build-isolation --no-deps --force-reinstall .
echo "== pytest crates/dupsift-py/tests"
# Run from outside the checkout, so that `import dupsift` is the installed package.
cd "$root/target"
DUPSIFT_BIN="$root/target/debug/dupsift" pytest -q -p no:cacheprovider "$root/crates/dupsift-py/tests"
