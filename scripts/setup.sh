#!/usr/bin/env bash
# Make .venv with gradschool installed in editable mode (and the `gradschool` command).
#   bash scripts/setup.sh          runtime only (NumPy)
#   bash scripts/setup.sh train    plus what the main job shows with (tqdm progress bars, matplotlib
#                                  curves), numba, which compiles gradschool's fused kernels, and
#                                  threadpoolctl, which lets gradschool split ops over its own threads
#   bash scripts/setup.sh test     plus the test and lint tools (pytest, hypothesis, torch 2.13.0 CPU,
#                                  ruff), numba and threadpoolctl (the tests run the kernels, their
#                                  fallbacks and the split ops)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
fi
extras=""
case "${1:-}" in
  test) extras="[test,dev]" ;;
  train) extras="[train]" ;;
esac
# torch is pinned to 2.13.0: its CPU build installs from local disk (see README)
.venv/bin/python -m pip install --quiet -e ".${extras}"
