#!/usr/bin/env bash
# The main job: get Fashion-MNIST, set up .venv, then train LeNet-5 on it with a progress bar
# and save the run (config, checkpoints, logs, curves, test accuracy) in runs/lenet5-fashion-mnist.
#   bash scripts/train.sh                     the defaults
#   bash scripts/train.sh --epochs 3 --lr 3e-3   any `gradschool train` option
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=/usr/share/datasets/fashion-mnist
# Debian packages the data set; install it when we can (root with apt). If we cannot, training
# still starts and the dataset loader explains the other ways to get the files.
if [ ! -e "$DATA/train-images-idx3-ubyte.gz" ] && [ ! -e "$DATA/train-images-idx3-ubyte" ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist; } ||
      echo "note: apt-get could not install dataset-fashion-mnist; see the message below for other ways" >&2
  else
    echo "note: $DATA is missing and apt-get is unavailable (or we are not root)" >&2
  fi
fi
bash scripts/setup.sh train
exec .venv/bin/gradschool train "$@"
