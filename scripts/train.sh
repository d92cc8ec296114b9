#!/usr/bin/env bash
# The main job: set up, then train a model on real data with a progress bar and save the result.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python examples/spiral.py "$@"
