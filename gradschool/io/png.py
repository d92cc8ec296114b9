"""PNG images read and written from scratch with NumPy and zlib (no Pillow): how the sample
grids, filters and reconstructions of the lectures get onto disk, and how images get in.

A PNG file is an 8-byte signature, then chunks ``length | type | data | CRC-32``:
``IHDR`` (width, height, bit depth, colour type, interlace), optionally ``PLTE`` (a palette)
and ``tRNS`` (palette transparency), one or more ``IDAT`` (the zlib-compressed image) and
``IEND``. Before compression every scanline is *filtered*: its first byte names how each
byte was predicted from its neighbours — 0 None, 1 Sub (the byte one pixel to the left),
2 Up (the byte above), 3 Average (of left and above), 4 Paeth (whichever of left, above and
upper-left is closest to left + above - upper-left) — and the file stores the prediction
error, which compresses well on smooth images. Reading undoes the filters row by row.

Supported on reading: colour types 0 (grey), 2 (RGB), 3 (palette), 4 (grey + alpha) and
6 (RGBA) at 8 bits per sample, and grey and palette at 1, 2 or 4 bits; non-interlaced.
Arrays are ``uint8``: ``(H, W)`` grey, ``(H, W, 2)`` grey + alpha, ``(H, W, 3)`` RGB,
``(H, W, 4)`` RGBA (a palette image becomes RGB, or RGBA when it has a ``tRNS`` chunk).

Files from outside are read defensively. A few hundred kilobytes of zlib can declare and
inflate to gigabytes (a *decompression bomb*: 0.9 MB of PNG holding 30000x30000 black
pixels inflates to 900 MB), so the size in IHDR is checked against ``MAX_IMAGE_PIXELS``
(Pillow's number; set it to None to lift the limit, for files you trust) before any image
data is read, the data is inflated at most one byte past the size IHDR declares, and every
chunk length is checked against what is left of the file before its body is read.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from typing import Any, BinaryIO

import numpy as np

from ..backend.device import to_device
from ..tensor import Tensor
from .safetensors import PathLike, atomic_write

__all__ = ["MAX_IMAGE_PIXELS", "read_png", "write_png"]

# Pillow's limit (``PIL.Image.MAX_IMAGE_PIXELS``): about 0.25 GB of RGBA. read_png refuses
# a larger image before it reads the image data; None lifts the limit.
MAX_IMAGE_PIXELS: int | None = 89_478_485

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # colour type -> samples per pixel
_COLOUR_NAMES = {0: "greyscale", 2: "RGB", 3: "palette", 4: "greyscale+alpha", 6: "RGBA"}
_DEPTHS = {0: (1, 2, 4, 8), 3: (1, 2, 4, 8), 2: (8,), 4: (8,), 6: (8,)}  # the ones read here
_BLOCK = 1 << 20  # chunk bodies are read (and inflated) a MiB at a time


def _fail(path: PathLike, what: str) -> ValueError:
    return ValueError(f"{os.fspath(path)!s}: {what}")


# ----------------------------------------------------------------------------- reading
class _Chunks:
    """The chunks of an open PNG file, one at a time. Every length is checked against what
    is left of the file before anything is read, and a body comes in blocks, its CRC
    checked at its end, so a hostile file never makes the reader hold more than it holds."""

    def __init__(self, f: BinaryIO, path: PathLike) -> None:
        self.f, self.path = f, path
        self.left = os.fstat(f.fileno()).st_size
        if self.left < 8 or f.read(8) != _SIGNATURE:
            raise _fail(path, "not a PNG file (the 8-byte PNG signature is missing)")
        self.left -= 8
        self.pos = 8

    def next(self) -> tuple[bytes, int]:
        """The next chunk's type and length (its body is read by ``body``)."""
        if self.left < 12:
            raise _fail(self.path, "truncated PNG: the file ends before the IEND chunk")
        length, ctype = struct.unpack(">I4s", self.f.read(8))
        if 12 + length > self.left:
            raise _fail(
                self.path,
                f"truncated PNG: chunk {ctype!r} at byte {self.pos} declares {length} bytes, "
                f"but only {self.left - 12} are left in the file",
            )
        self.left -= 12 + length
        self.pos += 12 + length
        return ctype, length

    def body(self, ctype: bytes, length: int) -> Iterator[bytes]:
        """The chunk's body in blocks of at most 1 MiB; raises on a CRC mismatch at its end."""
        crc = zlib.crc32(ctype)
        while length:
            block = self.f.read(min(length, _BLOCK))
            if not block:  # only if the file shrank while being read
                raise _fail(self.path, f"truncated PNG: the file ends inside chunk {ctype!r}")
            crc = zlib.crc32(block, crc)
            length -= len(block)
            yield block
        if self.f.read(4) != struct.pack(">I", crc):
            raise _fail(self.path, f"CRC mismatch in chunk {ctype!r}: the file is corrupt")

    def whole(self, ctype: bytes, length: int) -> bytes:
        return b"".join(self.body(ctype, length))


def _header(path: PathLike, chunks: _Chunks) -> tuple[int, int, int, int]:
    """Read and check IHDR: ``(width, height, bit depth, colour type)``. The image's size is
    checked against ``MAX_IMAGE_PIXELS`` here, before any image data is read."""
    ctype, length = chunks.next()
    if ctype != b"IHDR" or length != 13:
        raise _fail(path, f"the first chunk must be a 13-byte IHDR, got {length}-byte {ctype!r}")
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(
        ">IIBBBBB", chunks.whole(ctype, length)
    )
    if colour not in _CHANNELS:
        raise _fail(path, f"invalid colour type {colour} (PNG defines 0, 2, 3, 4, 6)")
    if depth not in _DEPTHS[colour]:
        raise _fail(
            path,
            f"unsupported PNG: {depth}-bit {_COLOUR_NAMES[colour]} (read_png supports bit "
            f"depths {', '.join(map(str, _DEPTHS[colour]))} for this colour type)",
        )
    if compression != 0 or filtering != 0:
        raise _fail(path, f"invalid compression method {compression} / filter method {filtering}")
    if interlace != 0:
        raise _fail(path, "unsupported PNG: interlaced (Adam7); save it non-interlaced")
    if not 0 < width < 2**31 or not 0 < height < 2**31:
        raise _fail(path, f"invalid image size {width}x{height} (PNG allows 1 to 2^31-1 a side)")
    limit = MAX_IMAGE_PIXELS
    if limit is not None and width * height > limit:
        raise _fail(
            path,
            f"the image declares {width}x{height} = {width * height:,} pixels, more than "
            f"gradschool.io.png.MAX_IMAGE_PIXELS = {limit:,} (a decompression bomb?); raise "
            "the limit only for files you trust",
        )
    return width, height, depth, colour


def _inflate(inflater: Any, block: bytes, out: bytearray, expected: int, path: PathLike) -> None:
    """Decompress ``block`` onto ``out``, never past one byte more than ``expected``: a
    stream that inflates beyond the size its IHDR declares is refused as soon as it does."""
    try:
        out += inflater.decompress(block, expected - len(out) + 1)
    except zlib.error as err:
        raise _fail(path, f"the compressed image data is corrupt ({err})") from None
    if len(out) > expected:
        raise _fail(
            path,
            f"the image data inflates past the {expected} bytes its header declares "
            "(a decompression bomb, or a corrupt file)",
        )


def _unfilter(rows: np.ndarray, bpp: int, path: PathLike) -> np.ndarray:
    """Undo the scanline filters. ``rows`` is ``(H, 1 + rowbytes)``, filter byte first;
    ``bpp`` is bytes per complete pixel (1 for depths below 8). Returns ``(H, rowbytes)``."""
    height, n = rows.shape[0], rows.shape[1] - 1
    filters = rows[:, 0]
    if height and filters.max() > 4:
        y = int(np.argmax(filters > 4))
        raise _fail(path, f"row {y} has unknown filter type {filters[y]} (expected 0-4)")
    out = np.empty((height, n), dtype=np.uint8)
    prev = np.zeros(n, dtype=np.uint8)
    for y in range(height):
        line, ft = rows[y, 1:], filters[y]
        if ft == 0:  # None
            out[y] = line
        elif ft == 1:  # Sub: a running sum along the row per channel, wrapping mod 256
            np.cumsum(line.reshape(-1, bpp), axis=0, dtype=np.uint8, out=out[y].reshape(-1, bpp))
        elif ft == 2:  # Up
            np.add(line, prev, out=out[y])
        else:
            # Average and Paeth predict from the byte just reconstructed to the left, so they
            # are sequential along the row: plain Python ints beat tiny NumPy ops here.
            cur, up = bytearray(line.tobytes()), prev.tobytes()
            if ft == 3:  # Average
                for x in range(min(bpp, n)):
                    cur[x] = (cur[x] + (up[x] >> 1)) & 255
                for x in range(bpp, n):
                    cur[x] = (cur[x] + ((cur[x - bpp] + up[x]) >> 1)) & 255
            else:  # Paeth
                for x in range(min(bpp, n)):
                    cur[x] = (cur[x] + up[x]) & 255  # left and upper-left are 0: predicts up
                for x in range(bpp, n):
                    a, b, c = cur[x - bpp], up[x], up[x - bpp]
                    pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                    pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                    cur[x] = (cur[x] + pred) & 255
            out[y] = np.frombuffer(cur, dtype=np.uint8)
        prev = out[y]
    return out


def _unpack_samples(lines: np.ndarray, depth: int, width: int) -> np.ndarray:
    """Depths 1, 2, 4 pack several samples per byte, most significant bits first."""
    bits = np.unpackbits(lines, axis=1).reshape(lines.shape[0], -1, depth)
    weights = (1 << np.arange(depth - 1, -1, -1)).astype(np.uint8)
    return (bits * weights).sum(axis=2, dtype=np.uint8)[:, :width]


def read_png(path: PathLike) -> np.ndarray:
    """Read a PNG file into a ``uint8`` array: ``(H, W)`` grey, ``(H, W, 2)`` grey + alpha,
    ``(H, W, 3)`` RGB or ``(H, W, 4)`` RGBA (see the module docstring for what is supported).

    Raises ``ValueError`` naming the file and the problem for a corrupt file (bad signature,
    CRC mismatch, truncation, bad zlib stream, image data longer or shorter than declared),
    an unsupported one (16-bit, interlaced) or one larger than ``MAX_IMAGE_PIXELS``.
    """
    with open(path, "rb") as f:
        chunks = _Chunks(f, path)
        width, height, depth, colour = _header(path, chunks)
        channels = _CHANNELS[colour]
        rowbytes = (width * channels * depth + 7) // 8
        expected = height * (1 + rowbytes)
        inflater, raw = zlib.decompressobj(), bytearray()
        palette = transparency = None
        seen_idat = False
        while True:
            ctype, length = chunks.next()
            if ctype == b"IEND":
                break
            if ctype == b"IDAT":
                seen_idat = True
                for block in chunks.body(ctype, length):
                    _inflate(inflater, block, raw, expected, path)
            elif ctype == b"PLTE":
                if length % 3 or not 3 <= length <= 768:
                    raise _fail(path, f"PLTE chunk of {length} bytes is not 1-256 RGB entries")
                palette = np.frombuffer(chunks.whole(ctype, length), dtype=np.uint8).reshape(-1, 3)
            elif ctype == b"tRNS":
                if length > 256 * 6:  # a palette's 256 alphas, or one RGB colour key
                    raise _fail(path, f"tRNS chunk of {length} bytes (at most 256 expected)")
                transparency = chunks.whole(ctype, length)
            elif ctype == b"IHDR":
                raise _fail(path, "more than one IHDR chunk")
            elif not ctype[0] & 0x20:  # an unknown chunk that is critical (upper-case first letter)
                raise _fail(path, f"unsupported PNG: unknown critical chunk {ctype!r}")
            else:  # an ancillary chunk (text, colour profile ...): CRC-checked, then dropped
                for _ in chunks.body(ctype, length):
                    pass
    if not seen_idat:
        raise _fail(path, "no IDAT chunk: the file holds no image data")
    if len(raw) != expected:
        raise _fail(
            path,
            f"the image data holds {len(raw)} bytes, expected {expected} for "
            f"{width}x{height} {depth}-bit {_COLOUR_NAMES[colour]} (the file is truncated or "
            "corrupt)",
        )
    rows = np.frombuffer(raw, dtype=np.uint8).reshape(height, 1 + rowbytes)
    lines = _unfilter(rows, max(1, channels * depth // 8), path)
    if depth == 8:
        samples = lines.reshape(height, width, channels)
    else:
        samples = _unpack_samples(lines, depth, width)[:, :, None]
        if colour == 0:  # scale 0..2^d-1 to 0..255, as image viewers show it
            samples *= 255 // ((1 << depth) - 1)
    if colour != 3:
        return samples[:, :, 0] if channels == 1 else samples
    if palette is None:
        raise _fail(path, "palette image (colour type 3) without a PLTE chunk")
    index = samples[:, :, 0]
    if index.max() >= len(palette):
        raise _fail(path, f"palette index {index.max()} beyond the {len(palette)}-entry palette")
    if transparency is None:
        return palette[index]
    alpha = np.full(len(palette), 255, dtype=np.uint8)
    alpha[: len(transparency)] = np.frombuffer(transparency, dtype=np.uint8)[: len(palette)]
    return np.concatenate([palette, alpha[:, None]], axis=1)[index]


# ----------------------------------------------------------------------------- writing
def _filter_rows(raw: np.ndarray, bpp: int) -> np.ndarray:
    """Filter every row five ways at once and keep, per row, the one whose bytes (read as
    signed) have the smallest absolute sum: libpng's heuristic, fully vectorised because
    encoding predicts from the original bytes. Returns ``(H, 1 + rowbytes)``."""
    h = raw.shape[0]
    left = np.zeros_like(raw)
    left[:, bpp:] = raw[:, :-bpp]
    up = np.zeros_like(raw)
    up[1:] = raw[:-1]
    upleft = np.zeros_like(raw)
    upleft[1:, bpp:] = raw[:-1, :-bpp]
    a, b, c = left.astype(np.int16), up.astype(np.int16), upleft.astype(np.int16)
    pa, pb, pc = np.abs(b - c), np.abs(a - c), np.abs(a + b - 2 * c)
    paeth = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, upleft))
    average = ((a + b) >> 1).astype(np.uint8)
    candidates = np.stack([raw, raw - left, raw - up, raw - average, raw - paeth])
    cost = np.abs(candidates.view(np.int8).astype(np.int32)).sum(axis=2)  # (5, H)
    best = cost.argmin(axis=0).astype(np.uint8)
    out = np.empty((h, raw.shape[1] + 1), dtype=np.uint8)
    out[:, 0] = best
    out[:, 1:] = candidates[best, np.arange(h)]
    return out


def _chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


def write_png(path: PathLike, array: Any, compress_level: int = 6) -> None:
    """Write a ``uint8`` image to ``path`` as an 8-bit PNG, atomically.

    ``array``: ``(H, W)`` or ``(H, W, 1)`` grey, ``(H, W, 2)`` grey + alpha, ``(H, W, 3)``
    RGB or ``(H, W, 4)`` RGBA (a NumPy array or a gradschool Tensor). ``compress_level``
    0-9 is zlib's (Pillow's argument name and default).
    """
    if isinstance(array, Tensor):
        array = to_device(array.data, "cpu")
    a = np.asarray(array)
    if a.dtype != np.uint8:
        raise TypeError(
            f"write_png: expected a uint8 array, got {a.dtype} "
            "(scale to 0..255, then .astype(np.uint8))"
        )
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in (1, 2, 3, 4):
        raise ValueError(
            f"write_png: expected shape (H, W), (H, W, 1), (H, W, 2), (H, W, 3) or (H, W, 4), "
            f"got {tuple(a.shape)}"
        )
    h, w, channels = a.shape
    if h == 0 or w == 0:
        raise ValueError(f"write_png: a PNG needs at least one pixel, got shape {tuple(a.shape)}")
    if not 0 <= compress_level <= 9:
        raise ValueError(f"write_png: compress_level must be 0-9, got {compress_level}")
    colour = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    raw = np.ascontiguousarray(a).reshape(h, w * channels)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, colour, 0, 0, 0)
    idat = zlib.compress(_filter_rows(raw, channels).tobytes(), compress_level)
    with atomic_write(path) as f:
        f.write(_SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b""))
