"""Hostile files are refused before the reader allocates what they claim: a decompression
bomb (a 0.9 MB PNG declaring 30000x30000 pixels) before any decompression, through
``read_png`` and through ``gradschool predict``; a zlib stream inflating past its declared
size after a few bytes; headers declaring gigabytes (IDX, safetensors) before the array or
buffer exists. Speed is never asserted: "before" is proven by a decompressor that fails if
it is called, and by tracemalloc's peak."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gradschool.cli.main import main
from gradschool.data.datasets.mnist import read_image_file
from gradschool.io import load_file, png, read_png
from tests.census.cases_files import (
    idx,
    ihdr,
    png_bomb,
    png_chunk,
    safetensors_blob,
    zeros_zlib,
)
from tests.census.cases_files import png as make_png
from tests.cli.bars import error, install_bars, train

MB = 1 << 20


def peak_while(call: Callable[[], Any]) -> tuple[BaseException, int]:
    """What ``call`` raised and the peak of Python and NumPy allocations meanwhile."""
    tracemalloc.start()
    try:
        call()
    except Exception as err:  # noqa: BLE001 - returned for the caller to check
        raised = err
    else:
        raise AssertionError("no error raised")
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return raised, peak


@pytest.fixture
def no_inflating(monkeypatch):
    """Any attempt to decompress fails the test."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the bomb reached the decompressor")

    monkeypatch.setattr(zlib, "decompressobj", refuse)
    monkeypatch.setattr(zlib, "decompress", refuse)


@pytest.fixture(scope="module")
def bomb() -> bytes:
    blob = png_bomb(30000)
    assert 0.8 * MB < len(blob) < 1.0 * MB
    return blob


def test_the_bomb_is_a_real_one(tmp_path):
    """The bomb's stream is valid zlib (Adler-32 included) and inflates to every row: checked
    on a 3000x3000 one (9 MB, same construction) to keep the test short."""
    small = png_bomb(3000)
    inflater = zlib.decompressobj()
    assert len(inflater.decompress(small[41:-16])) == 3000 * 3001 and inflater.eof
    (tmp_path / "small-bomb.png").write_bytes(small)
    assert not read_png(tmp_path / "small-bomb.png").any()  # under the limit: it reads


def test_bomb_refused_before_decompression(tmp_path, bomb, no_inflating):
    path = tmp_path / "bomb.png"
    path.write_bytes(bomb)
    err, peak = peak_while(lambda: read_png(path))
    assert isinstance(err, ValueError)
    assert str(path) in str(err) and "30000x30000" in str(err)
    assert "MAX_IMAGE_PIXELS" in str(err)
    assert peak < 1 * MB  # only the 33 bytes up to IHDR were read


def test_bomb_refused_by_gradschool_predict(monkeypatch, tmp_path, bomb, capsys, no_inflating):
    install_bars(monkeypatch, tmp_path, 120, 30)
    assert train(tmp_path / "run", "--epochs", "1") == 0
    capsys.readouterr()
    (tmp_path / "bomb.png").write_bytes(bomb)
    tracemalloc.start()
    try:
        code = main(["predict", str(tmp_path / "run"), str(tmp_path / "bomb.png")])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = error(capsys, code)
    assert "bomb.png" in message and "MAX_IMAGE_PIXELS" in message
    assert peak < 100 * MB


def test_stream_inflating_past_its_declared_size_stops_early(tmp_path):
    path = tmp_path / "long.png"  # a 4x4 image (20 bytes of data) whose stream holds 64 MB
    path.write_bytes(make_png(png_chunk(b"IDAT", zeros_zlib(64 * MB))))
    err, peak = peak_while(lambda: read_png(path))
    assert "inflates past the 20 bytes" in str(err)
    assert peak < 4 * MB  # a MiB-block of the file at a time, 21 bytes inflated at most


def test_pixel_limit_is_a_setting(tmp_path, monkeypatch):
    path = tmp_path / "small.png"
    path.write_bytes(make_png(png_chunk(b"IDAT", zlib.compress(bytes(20)))))
    assert read_png(path).shape == (4, 4)
    monkeypatch.setattr(png, "MAX_IMAGE_PIXELS", 15)
    with pytest.raises(ValueError, match="4x4 = 16 pixels, more than .* = 15"):
        read_png(path)
    monkeypatch.setattr(png, "MAX_IMAGE_PIXELS", None)  # no limit: for files you trust
    path.write_bytes(make_png(png_chunk(b"IDAT", zeros_zlib(1001 * 1000)), header=ihdr(1000, 1000)))
    assert read_png(path).shape == (1000, 1000)


def test_idx_header_claiming_gigabytes_allocates_nothing(tmp_path):
    # 2 GB would be a lazy np.empty that succeeds: only the check against the file stops it
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx(np.zeros((1, 28, 28), np.uint8), (2_000_000, 28, 28))))
    err, peak = peak_while(lambda: read_image_file(path))
    assert "more than a" in str(err) and "gzip file can hold" in str(err)
    assert peak < 1 * MB
    raw = tmp_path / "train-images-idx3-ubyte"
    raw.write_bytes(idx(np.zeros((1, 28, 28), np.uint8), (2_000_000, 28, 28)))
    err, peak = peak_while(lambda: read_image_file(raw))
    assert "expected 1568000016 bytes" in str(err) and "got 800" in str(err)
    assert peak < 1 * MB


def test_safetensors_header_length_beyond_the_file_reads_nothing(tmp_path: Path):
    path = tmp_path / "w.safetensors"  # 50 MB: under the 100 MB cap, beyond the 10-byte file
    path.write_bytes(safetensors_blob(b"{}", n=50 * MB))
    err, peak = peak_while(lambda: load_file(path))
    assert "goes beyond the end of the 10-byte file" in str(err)
    assert peak < 1 * MB
