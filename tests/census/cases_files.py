"""Census rows for the files gradschool reads from outside: PNG images, safetensors files,
checkpoints, IDX (MNIST / Fashion-MNIST) and CIFAR-10 binary batches. Each row builds its
hostile or corrupt file at run time in a fresh temporary folder, then reads it; the reader
must refuse it before allocating what the file claims (a decompression bomb, a header that
declares 10^15 bytes), naming the file, what was expected and what was found."""

from __future__ import annotations

import gzip
import json
import struct
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import gradschool as gs
from gradschool import nn
from gradschool.data.datasets import CIFAR10, FashionMNIST
from gradschool.data.datasets.cifar import read_cifar_binary
from gradschool.data.datasets.mnist import read_image_file, read_label_file
from gradschool.io import load, load_file, read_png, save_file
from gradschool.optim.adam import Adam
from gradschool.train import load_checkpoint, load_model_weights, save_checkpoint

from .harness import BadInput

Build = Callable[[Path], None]  # writes the hostile file(s) into a folder


def _reading(name: str, build: Build, read: Callable[[Path], Any]) -> Callable[[], Any]:
    """A row's call: make a temporary folder, ``build`` the files in it, ``read`` ``name``."""

    def call() -> Any:
        with tempfile.TemporaryDirectory(prefix="gs-census-") as folder:
            build(Path(folder))
            return read(Path(folder) / name)

    return call


def _bytes(name: str, blob: Callable[[], bytes]) -> Build:
    return lambda folder: (folder / name).write_bytes(blob())


# ----------------------------------------------------------------------------- PNG
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_chunk(ctype: bytes, body: bytes, crc: int | None = None) -> bytes:
    crc = zlib.crc32(ctype + body) if crc is None else crc
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", crc)


def ihdr(w: int, h: int, depth: int = 8, colour: int = 0, lace: int = 0) -> bytes:
    return png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, lace))


def png(*chunks: bytes, header: bytes | None = None) -> bytes:
    """A PNG of ``chunks`` after a 4x4 grey IHDR (or ``header``), ending with IEND."""
    return PNG_SIGNATURE + (header or ihdr(4, 4)) + b"".join(chunks) + png_chunk(b"IEND", b"")


def zeros_zlib(n_bytes: int) -> bytes:
    """A zlib stream of ``n_bytes`` zero bytes, made without holding them: one compressed
    segment of a MB of zeros, ended by a full flush (byte-aligned, no reference back across
    it), repeated; then the rest and the Adler-32 of n zeros (A = 1, B = n mod 65521)."""
    segment = 1 << 20
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = c.compress(bytes(segment)) + c.flush(zlib.Z_FULL_FLUSH)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    tail = c.compress(bytes(n_bytes % segment)) + c.flush()
    adler = (n_bytes % 65521) << 16 | 1
    return b"\x78\xda" + piece * (n_bytes // segment) + tail + struct.pack(">I", adler)


def png_bomb(side: int = 30000) -> bytes:
    """A ~0.9 MB PNG of ``side`` x ``side`` black grey pixels: 900 MB once inflated."""
    idat = png_chunk(b"IDAT", zeros_zlib(side * (side + 1)))
    return png(idat, header=ihdr(side, side))


def _grey_rows(filter_byte: int = 0, rows: int = 4, pixels: bytes = bytes(4)) -> bytes:
    """The zlib data of ``rows`` rows of a 4-pixel-wide 8-bit grey image."""
    return zlib.compress((bytes([filter_byte]) + pixels) * rows)


def _good_idat() -> bytes:
    return png_chunk(b"IDAT", _grey_rows())


def _zero_ihdr_crc(blob: bytes) -> bytes:
    return blob[:29] + bytes(4) + blob[33:]  # IHDR's CRC: bytes 29-32, after 8 + 8 + 13


def _png_row(name: str, blob: Callable[[], bytes], *mentions: str) -> BadInput:
    file = name.replace(" ", "-").replace("/", "-")[:40] + ".png"
    return BadInput(
        "files: PNG", name, _reading(file, _bytes(file, blob), read_png), (file, *mentions)
    )


# One row per line: name, the file's bytes, what the message must mention besides the file.
# fmt: off
PNG_CASES = [_png_row(*row) for row in [
    ("decompression bomb 30000x30000", png_bomb, "30000x30000", "MAX_IMAGE_PIXELS"),
    ("10000x10000 RGBA over the pixel limit",
     lambda: png(_good_idat(), header=ihdr(10000, 10000, 8, 6)), "100,000,000 pixels"),
    ("data inflating past the declared size",
     lambda: png(png_chunk(b"IDAT", zeros_zlib(1 << 24))), "inflates past the 20 bytes"),
    ("width 2^31", lambda: png(_good_idat(), header=ihdr(2**31, 1)), "2147483648x1"),
    ("not a PNG (GIF)", lambda: b"GIF89a" + bytes(40), "PNG signature"),
    ("truncated in IDAT", lambda: png(_good_idat())[:-20], "truncated"),
    ("chunk length past the end of the file",
     lambda: PNG_SIGNATURE + ihdr(4, 4) + struct.pack(">I4s", 2**31 - 1, b"IDAT") + bytes(30),
     "declares 2147483647 bytes", "only 26"),
    ("bad CRC in IHDR", lambda: _zero_ihdr_crc(png(_good_idat())), "CRC", "b'IHDR'"),
    ("bad CRC in IDAT", lambda: png(png_chunk(b"IDAT", _grey_rows(), crc=12345)),
     "CRC mismatch in chunk b'IDAT'"),
    ("missing IHDR", lambda: PNG_SIGNATURE + _good_idat() + png_chunk(b"IEND", b""),
     "13-byte IHDR", "b'IDAT'"),
    ("missing IDAT", lambda: png(), "no IDAT"),
    ("16-bit RGB", lambda: png(header=ihdr(4, 4, 16, 2)), "16-bit RGB", "bit depths 8"),
    ("colour type 5", lambda: png(header=ihdr(4, 4, 8, 5)), "colour type 5"),
    ("interlaced", lambda: png(header=ihdr(4, 4, lace=1)), "interlaced"),
    ("filter byte 9", lambda: png(png_chunk(b"IDAT", _grey_rows(9))),
     "unknown filter type 9", "0-4"),
    ("corrupt zlib stream", lambda: png(png_chunk(b"IDAT", b"xyz!")), "corrupt"),
    ("image data short of the declared size",
     lambda: png(png_chunk(b"IDAT", _grey_rows(rows=3))), "holds 15 bytes, expected 20"),
    ("palette image without PLTE", lambda: png(_good_idat(), header=ihdr(4, 4, 8, 3)), "PLTE"),
    ("PLTE of 1000 bytes",
     lambda: png(png_chunk(b"PLTE", bytes(1000)), _good_idat(), header=ihdr(4, 4, 8, 3)),
     "PLTE chunk of 1000 bytes"),
    ("palette index beyond the palette",
     lambda: png(png_chunk(b"PLTE", bytes(6)), png_chunk(b"IDAT", _grey_rows(pixels=b"\0\1\2\3")),
                 header=ihdr(4, 4, 8, 3)),
     "palette index 3", "2-entry palette"),
    ("unknown critical chunk", lambda: png(png_chunk(b"ABCD", b""), _good_idat()), "b'ABCD'"),
    ("tRNS of 5000 bytes", lambda: png(png_chunk(b"tRNS", bytes(5000)), _good_idat()), "tRNS"),
]]
# fmt: on


# ----------------------------------------------------------------------------- safetensors
def safetensors_blob(
    header: bytes | dict[str, Any], data: bytes = b"", n: int | None = None
) -> bytes:
    """A safetensors file: the 8-byte header length (``n``, else the true one), header, data."""
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(text) if n is None else n) + text + data


def _tensor(dtype: str, shape: list[int], begin: int, end: int) -> dict[str, Any]:
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


def _st_row(name: str, blob: Callable[[], bytes], *mentions: str) -> BadInput:
    file = name.replace(" ", "-")[:40] + ".safetensors"
    return BadInput(
        "files: safetensors",
        name,
        _reading(file, _bytes(file, blob), load_file),
        (file, "not a valid safetensors file", *mentions),
    )


_F32x4 = {"w": _tensor("F32", [4], 0, 16)}

# fmt: off
SAFETENSORS_CASES = [_st_row(*row) for row in [
    ("header length 10^15", lambda: safetensors_blob(b"{}", n=10**15), "1000000000000000"),
    ("header length past the end of the file",
     lambda: safetensors_blob(b"{}" + bytes(30), n=4096), "header length 4096", "40-byte file"),
    ("header not JSON", lambda: safetensors_blob(b"{not json"), "not valid JSON"),
    ("header nested 100000 deep", lambda: safetensors_blob(b"[" * 100_000 + b"]" * 100_000),
     "not valid JSON"),
    ("header a JSON list", lambda: safetensors_blob(b"[1, 2]"), "expected an object"),
    ("truncated data section", lambda: safetensors_blob(_F32x4, bytes(10)),
     "beyond the data section (10 bytes"),
    ("shape inconsistent with the bytes",
     lambda: safetensors_blob({"w": _tensor("F32", [2, 3], 0, 16)}, bytes(16)),
     "needs 24 bytes", "hold 16"),
    ("shape of 2^64 elements",
     lambda: safetensors_blob({"w": _tensor("U8", [2**32, 2**32], 0, 0)}),
     "needs 18446744073709551616 bytes"),
    ("dtype F8_E4M3", lambda: safetensors_blob({"w": _tensor("F8_E4M3", [4], 0, 4)}, bytes(4)),
     "'F8_E4M3'", "known: BOOL"),
    ("overlapping tensors",
     lambda: safetensors_blob({"a": _tensor("F32", [4], 0, 16), "b": _tensor("F32", [2], 8, 16)},
                              bytes(16)),
     "overlaps"),
    ("trailing bytes", lambda: safetensors_blob(_F32x4, bytes(24)), "8 more bytes"),
    ("metadata not strings", lambda: safetensors_blob({"__metadata__": {"epoch": 3}}),
     "__metadata__"),
]]
# fmt: on


# ----------------------------------------------------------------------------- checkpoints
def _model() -> nn.Module:
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def _checkpoint(edit: Callable[[dict[str, np.ndarray], dict[str, str]], None]) -> Build:
    """A real checkpoint (model, Adam, random states) of ``_model()``, then ``edit`` applied
    to its tensors and metadata and the file rewritten: valid safetensors, a bad checkpoint."""

    def build(folder: Path) -> None:
        model = _model()
        optimizer = Adam(model.parameters())
        model(gs.ones(2, 3)).sum().backward()
        optimizer.step()  # so that the optimizer has state (exp_avg ...) to save
        path = folder / "ckpt.safetensors"
        save_checkpoint(path, model, optimizer, epoch=2, trainer_state={"a": 1})
        tensors, meta = load(path)
        edit(tensors, meta)
        save_file(tensors, path, metadata=meta)

    return build


def _state(
    edit: Callable[[dict[str, Any]], Any],
) -> Callable[[dict[str, Any], dict[str, str]], None]:
    """An edit of the checkpoint's JSON state (``edit`` may change it in place or return one)."""

    def apply(tensors: dict[str, Any], meta: dict[str, str]) -> None:
        state = json.loads(meta["state"])
        new = edit(state)
        meta["state"] = json.dumps(state if new is None else new)

    return apply


def _resume(path: Path) -> Any:
    model = _model()
    return load_checkpoint(path, model, Adam(model.parameters()))


def _ck_row(
    name: str, build: Build, *mentions: str, read: Callable[[Path], Any] = _resume
) -> BadInput:
    return BadInput(
        "files: checkpoints",
        name,
        _reading("ckpt.safetensors", build, read),
        ("ckpt.safetensors", *mentions),
    )


def _weights_into(model: nn.Module) -> Callable[[Path], Any]:
    return lambda path: load_model_weights(path, model)


def _truncated_checkpoint(folder: Path) -> None:
    _checkpoint(lambda tensors, meta: None)(folder)
    path = folder / "ckpt.safetensors"
    path.write_bytes(path.read_bytes()[:-7])


_ZEROS_5x3 = np.zeros((5, 3), np.float32)

# fmt: off
CHECKPOINT_CASES = [
    _ck_row("truncated checkpoint", _truncated_checkpoint, "could not read the checkpoint",
            "truncated"),
    _ck_row("header length 10^15",
            _bytes("ckpt.safetensors", lambda: safetensors_blob(b"{}", n=10**15)),
            "header length 1000000000000000"),
    _ck_row("state metadata not JSON", _checkpoint(lambda t, m: m.update(state="{epoch: 2")),
            "corrupted metadata"),
    _ck_row("state a JSON list", _checkpoint(_state(lambda s: [1, 2])), "'epoch'", "[1, 2]"),
    _ck_row("negative epoch", _checkpoint(_state(lambda s: s.update(epoch=-1))), "'epoch'"),
    _ck_row("weights missing a key", _checkpoint(lambda t, m: t.pop("model.2.bias")),
            "missing keys", "2.bias"),
    _ck_row("weights of another shape",
            _checkpoint(lambda t, m: t.update({"model.0.weight": _ZEROS_5x3})),
            "shape mismatches", "(5, 3)", "(4, 3)"),
    _ck_row("another model's checkpoint", _checkpoint(lambda t, m: None), "does not fit",
            "unexpected keys", read=_weights_into(nn.Sequential(nn.Linear(3, 2)))),
    _ck_row("optimizer state naming a missing tensor",
            _checkpoint(lambda t, m: t.pop("optimizer.state.0.exp_avg")),
            "optimizer state", "optimizer.state.0.exp_avg"),
    _ck_row("no optimizer state", _checkpoint(_state(lambda s: s.pop("optimizer"))),
            "holds no optimizer state"),
    _ck_row("random state garbage",
            _checkpoint(_state(lambda s: s.update(rng={"default": {"bit_generator": "MT"}}))),
            "random generators' states"),
    _ck_row("trainer state a list", _checkpoint(_state(lambda s: s.update(trainer=[1]))),
            "trainer state"),
]
# fmt: on


# ----------------------------------------------------------------------------- IDX
def idx(array: np.ndarray, dims: tuple[int, ...] | None = None) -> bytes:
    """An IDX file of uint8 ``array`` (its header claiming ``dims`` when given)."""
    dims = array.shape if dims is None else dims
    return bytes([0, 0, 0x08, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + array.tobytes()


_IMAGES = np.zeros((3, 28, 28), np.uint8)


def _idx_row(
    name: str, file: str, blob: Callable[[], bytes], read: Callable[[Path], Any], *mentions: str
) -> BadInput:
    return BadInput("files: IDX", name, _reading(file, _bytes(file, blob), read), (file, *mentions))


def _images(path: Path) -> Any:
    return read_image_file(path)


def _zero_gzip_crc(blob: bytes) -> bytes:
    return blob[:-8] + bytes(4) + blob[-4:]  # the trailer: CRC-32, then the size


def _fashion_test_split(root: Path) -> None:
    """Fashion-MNIST's test files in ``root``: the images' .gz cut short, the labels fine."""
    (root / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx(_IMAGES))[:-40])
    (root / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx(np.zeros(3, np.uint8))))


_LABELS = np.zeros(3, np.uint8)

# fmt: off
IDX_CASES = [_idx_row(*row) for row in [
    ("header claiming 60000 x 2^32 x 2^32 images", "huge-images-idx3-ubyte",
     lambda: idx(_IMAGES, (60000, 2**32 - 1, 2**32 - 1)), _images,
     "expected 1106804643907177021500016 bytes", "got 2368", "truncated"),
    ("gzip header claiming a terabyte", "huge-images-idx3-ubyte.gz",
     lambda: gzip.compress(idx(_IMAGES, (10**6, 1000, 1000))), _images,
     "1,000,000,000,000 bytes", "1032:1"),
    ("truncated raw images", "cut-images-idx3-ubyte", lambda: idx(_IMAGES)[:-100], _images,
     "expected 2368 bytes", "truncated"),
    ("truncated gzip stream", "cut-images-idx3-ubyte.gz",
     lambda: gzip.compress(idx(_IMAGES))[:-30], _images, "gzip data is corrupted or truncated"),
    ("gzip with a bad CRC", "crc-images-idx3-ubyte.gz",
     lambda: _zero_gzip_crc(gzip.compress(idx(_IMAGES))), _images, "gzip data is corrupted"),
    ("gzip holding more than the header says", "long-images-idx3-ubyte.gz",
     lambda: gzip.compress(idx(_IMAGES) + bytes(10**6)), _images, "more than the 2368 bytes"),
    ("not IDX (a zip file)", "zip-images-idx3-ubyte", lambda: b"PK\x03\x04" + bytes(100),
     _images, "not an IDX file"),
    ("labels where images belong", "swap-images-idx3-ubyte", lambda: idx(_LABELS), _images,
     "bad magic number 0x00000801", "expected 0x00000803"),
    ("trailing bytes", "long-labels-idx1-ubyte", lambda: idx(_LABELS) + b"\0", read_label_file,
     "12 bytes, more than the 11 bytes"),
    ("label 200", "bad-labels-idx1-ubyte", lambda: idx(np.array([1, 200, 3], np.uint8)),
     read_label_file, "label 200", "0..9"),
]] + [
    BadInput("files: IDX", "FashionMNIST with a truncated .gz",
             _reading(".", _fashion_test_split, lambda root: FashionMNIST(root, train=False)),
             ("t10k-images-idx3-ubyte.gz", "truncated", "apt-get install dataset-fashion-mnist")),
]
# fmt: on


# ----------------------------------------------------------------------------- CIFAR-10
def _cifar_row(name: str, blob: Callable[[], bytes], *mentions: str) -> BadInput:
    file = name.replace(" ", "-")[:40] + ".bin"
    return BadInput(
        "files: CIFAR-10 binary",
        name,
        _reading(file, _bytes(file, blob), read_cifar_binary),
        (file, *mentions),
    )


def _cifar_folder(folder: Path) -> None:
    batches = folder / "cifar-10-batches-bin"
    batches.mkdir()
    (batches / "test_batch.bin").write_bytes(bytes(3073 * 2 - 1))


# fmt: off
CIFAR_CASES = [
    _cifar_row("a record cut short", lambda: bytes(3073 * 2 - 5), "6141 bytes", "3073-byte"),
    _cifar_row("label 17", lambda: bytes(3073) + bytes([17]) + bytes(3072), "label 17 in record 1",
               "0..9"),
    BadInput("files: CIFAR-10 binary", "CIFAR10 with a truncated batch",
             _reading(".", _cifar_folder, lambda root: CIFAR10(root, train=False)),
             ("test_batch.bin", "6145 bytes", "cifar-10-binary.tar.gz")),
]
# fmt: on

CASES: list[BadInput] = [
    *PNG_CASES,
    *SAFETENSORS_CASES,
    *CHECKPOINT_CASES,
    *IDX_CASES,
    *CIFAR_CASES,
]
