"""PNG read and written from scratch: round trips, a hand-made file for each scanline
filter (built here by a separate, loop-by-loop encoder), files made by Pillow, and clear
errors for corrupt or unsupported files. Pillow/matplotlib cross-checks run when installed."""

from __future__ import annotations

import base64
import os
import struct
import zlib

import numpy as np
import pytest

import gradschool as gs
from gradschool.io import read_png, write_png

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


def ihdr(w: int, h: int, depth: int = 8, colour: int = 0, interlace: int = 0) -> bytes:
    return chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, interlace))


def paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def encode_rows(image: np.ndarray, filters: list[int]) -> bytes:
    """The PNG spec's filters, written as plain loops, independently of gradschool.io."""
    h, w = image.shape[:2]
    bpp = 1 if image.ndim == 2 else image.shape[2]
    rows = image.reshape(h, -1).astype(int).tolist()
    out = bytearray()
    for y, ft in enumerate(filters):
        row, prior = rows[y], rows[y - 1] if y else [0] * (w * bpp)
        out.append(ft)
        for x, v in enumerate(row):
            a = row[x - bpp] if x >= bpp else 0
            b = prior[x]
            c = prior[x - bpp] if x >= bpp else 0
            pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][ft]
            out.append((v - pred) % 256)
    return bytes(out)


def handmade_png(image: np.ndarray, filters: list[int], pieces: int = 1) -> bytes:
    colour = {2: 0, 3: {2: 4, 3: 2, 4: 6}.get(image.shape[-1])}[image.ndim]
    data = zlib.compress(encode_rows(image, filters))
    cuts = np.linspace(0, len(data), pieces + 1).astype(int)
    idats = b"".join(chunk(b"IDAT", data[i:j]) for i, j in zip(cuts[:-1], cuts[1:], strict=True))
    text = chunk(b"tEXt", b"Comment\x00made by hand")  # an ancillary chunk, to be skipped
    return (
        SIGNATURE
        + ihdr(image.shape[1], image.shape[0], 8, colour)
        + text
        + idats
        + chunk(b"IEND", b"")
    )


def smooth_image(h: int, w: int, channels: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w]
    planes = [
        (xx * 5 + yy * 3 + 40 * c + rng.integers(0, 4, (h, w))) % 256 for c in range(channels)
    ]
    image = np.stack(planes, axis=-1).astype(np.uint8)
    return image[..., 0] if channels == 1 else image


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_each_filter_type_by_hand(tmp_path, channels):
    image = smooth_image(11, 9, channels, seed=channels)
    image[3, 4] = 255  # a sharp pixel so Paeth picks each of its three predictors somewhere
    filters = [0, 1, 2, 3, 4, 4, 3, 2, 1, 0, 4]
    path = tmp_path / "hand.png"
    path.write_bytes(handmade_png(image, filters, pieces=3))
    out = read_png(path)
    assert out.dtype == np.uint8 and out.shape == image.shape
    np.testing.assert_array_equal(out, image)


@pytest.mark.parametrize("ft", [0, 1, 2, 3, 4])
def test_a_whole_image_in_one_filter(tmp_path, ft):
    image = np.random.default_rng(ft).integers(0, 256, (6, 5, 3), dtype=np.uint8)
    path = tmp_path / "one.png"
    path.write_bytes(handmade_png(image, [ft] * 6))
    np.testing.assert_array_equal(read_png(path), image)


@pytest.mark.parametrize(
    "shape", [(1, 1), (1, 7), (7, 1), (13, 17), (13, 17, 1), (9, 4, 2), (20, 31, 3), (5, 8, 4)]
)
def test_round_trip(tmp_path, shape):
    rng = np.random.default_rng(0)
    channels = shape[2] if len(shape) == 3 else 1
    for image in (rng.integers(0, 256, shape, dtype=np.uint8), smooth_image(*shape[:2], channels)):
        image = image.reshape(shape)
        path = tmp_path / "r.png"
        write_png(path, image)
        out = read_png(path)
        expected = image[..., 0] if image.ndim == 3 and image.shape[2] == 1 else image
        assert out.dtype == np.uint8
        np.testing.assert_array_equal(out, expected)
    assert os.listdir(tmp_path) == ["r.png"]  # atomic: no temporary file left behind


def test_writer_picks_filters_per_row(tmp_path):
    """A smooth image compresses better with prediction: the writer uses several filters."""
    path = tmp_path / "f.png"
    image = smooth_image(40, 40, 3)
    image[::7] = np.random.default_rng(1).integers(0, 256, image[::7].shape, dtype=np.uint8)
    write_png(path, image)
    blob = path.read_bytes()
    assert blob[:8] == SIGNATURE and blob[12:16] == b"IHDR"
    assert struct.unpack(">IIBBBBB", blob[16:29]) == (40, 40, 8, 2, 0, 0, 0)
    raw = zlib.decompress(blob[41 : 41 + struct.unpack(">I", blob[33:37])[0]])
    used = set(np.frombuffer(raw, np.uint8).reshape(40, -1)[:, 0].tolist())
    assert len(used) >= 2 and used <= {0, 1, 2, 3, 4}
    np.testing.assert_array_equal(read_png(path), image)


def test_write_accepts_a_tensor(tmp_path):
    image = gs.tensor(np.arange(12, dtype=np.uint8).reshape(3, 4))
    write_png(tmp_path / "t.png", image)
    np.testing.assert_array_equal(read_png(tmp_path / "t.png"), image.numpy())


# Files written by Pillow 13 (its own encoder, not ours), with the pixels they hold.
PILLOW_RGB = "iVBORw0KGgoAAAANSUhEUgAAAAcAAAAFCAIAAAAG+GGPAAAAJElEQVR4nGNkYGBQwUAsDDYMDAycaAguKoSMkEWl4QhNFGoyAMB3A5xU9J7VAAAAAElFTkSuQmCC"
PILLOW_PALETTE_4BIT_TRNS = "iVBORw0KGgoAAAANSUhEUgAAAAcAAAAFBAMAAAB7tOvrAAAAD1BMVEUAAAD/AAAA/wAAAP////+B57DtAAAAAnRSTlMAgJsrThgAAAAhSURBVHicY2RUkr3AqCx7SY7BQciEgUHIhFGBRemskiwAOLYEYtHCseMAAAAASUVORK5CYII="
PILLOW_1BIT = "iVBORw0KGgoAAAANSUhEUgAAAAcAAAAFAQAAAACh4ct1AAAAEklEQVR4nGMIYVjFEMKwiiEEAAuaAlHdroItAAAAAElFTkSuQmCC"


def test_files_made_by_pillow(tmp_path):
    yy, xx = np.mgrid[:5, :7]
    path = tmp_path / "p.png"
    path.write_bytes(base64.b64decode(PILLOW_RGB))
    rgb = np.stack([xx * 36, yy * 60, (xx * yy * 9) % 256], -1).astype(np.uint8)
    np.testing.assert_array_equal(read_png(path), rgb)

    path.write_bytes(base64.b64decode(PILLOW_PALETTE_4BIT_TRNS))
    palette = np.array([[0, 0, 0, 0], [255, 0, 0, 128], [0, 255, 0, 255], [0, 0, 255, 255],
                        [255, 255, 255, 255]], dtype=np.uint8)  # fmt: skip
    np.testing.assert_array_equal(read_png(path), palette[(xx + 2 * yy) % 5])

    path.write_bytes(base64.b64decode(PILLOW_1BIT))
    np.testing.assert_array_equal(read_png(path), ((xx + yy) % 2 * 255).astype(np.uint8))


def _packed(values: np.ndarray, depth: int) -> bytes:
    """Pack samples of ``depth`` bits, most significant first, each row padded to a byte."""
    bits = (values[..., None] >> np.arange(depth - 1, -1, -1)) & 1
    rows = bits.reshape(values.shape[0], -1)
    rows = np.pad(rows, ((0, 0), (0, -rows.shape[1] % 8)))
    return b"".join(b"\x00" + np.packbits(r).tobytes() for r in rows)


@pytest.mark.parametrize("depth", [1, 2, 4])
def test_low_bit_depth_grey_and_palette(tmp_path, depth):
    rng = np.random.default_rng(depth)
    values = rng.integers(0, 1 << depth, (4, 11)).astype(np.uint8)
    data = zlib.compress(_packed(values, depth))
    path = tmp_path / "low.png"
    path.write_bytes(SIGNATURE + ihdr(11, 4, depth, 0) + chunk(b"IDAT", data) + chunk(b"IEND", b""))
    np.testing.assert_array_equal(read_png(path), values * (255 // ((1 << depth) - 1)))
    palette = rng.integers(0, 256, (1 << depth, 3)).astype(np.uint8)
    path.write_bytes(
        SIGNATURE + ihdr(11, 4, depth, 3) + chunk(b"PLTE", palette.tobytes())
        + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )  # fmt: skip
    np.testing.assert_array_equal(read_png(path), palette[values])


def _valid() -> bytes:
    return handmade_png(smooth_image(4, 5, 3), [0, 1, 2, 3])


@pytest.mark.parametrize(
    ("blob", "match"),
    [
        (b"GIF89a" + b"\x00" * 40, "not a PNG file"),
        (_valid()[:-20], "truncated"),
        (_valid()[:40] + bytes([_valid()[40] ^ 0xFF]) + _valid()[41:], "CRC mismatch"),
        (SIGNATURE + ihdr(4, 4, 16, 2) + chunk(b"IEND", b""), "16-bit RGB"),
        (SIGNATURE + ihdr(4, 4, 8, 2, interlace=1) + chunk(b"IEND", b""), "interlaced"),
        (SIGNATURE + ihdr(4, 4, 8, 5) + chunk(b"IEND", b""), "colour type 5"),
        (SIGNATURE + ihdr(1, 1) + chunk(b"ABCD", b"") + chunk(b"IEND", b""), "critical chunk"),
        (SIGNATURE + ihdr(1, 1) + chunk(b"IEND", b""), "no IDAT"),
        (SIGNATURE + ihdr(1, 1) + chunk(b"IDAT", b"xyz") + chunk(b"IEND", b""), "corrupt"),
        (SIGNATURE + ihdr(2, 1) + chunk(b"IDAT", zlib.compress(b"\x07ab")) + chunk(b"IEND", b""),
         "unknown filter type 7"),
        (SIGNATURE + ihdr(2, 2) + chunk(b"IDAT", zlib.compress(b"\x00ab")) + chunk(b"IEND", b""),
         "expected 6"),
        (SIGNATURE + ihdr(1, 1, 8, 3) + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
         + chunk(b"IEND", b""), "without a PLTE"),
    ],
)  # fmt: skip
def test_corrupt_or_unsupported_files(tmp_path, blob, match):
    path = tmp_path / "bad.png"
    path.write_bytes(blob)
    with pytest.raises(ValueError, match=match) as info:
        read_png(path)
    assert str(path) in str(info.value)


def test_write_errors(tmp_path):
    path = tmp_path / "e.png"
    with pytest.raises(TypeError, match="uint8.*float32"):
        write_png(path, np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match=r"got \(2, 2, 5\)"):
        write_png(path, np.zeros((2, 2, 5), np.uint8))
    with pytest.raises(ValueError, match="at least one pixel"):
        write_png(path, np.zeros((0, 3), np.uint8))
    with pytest.raises(ValueError, match="compress_level"):
        write_png(path, np.zeros((1, 1), np.uint8), compress_level=10)
    assert os.listdir(tmp_path) == []


def test_pillow_agrees(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    for shape, mode in [
        ((13, 17), "L"),
        ((9, 4, 2), "LA"),
        ((20, 31, 3), "RGB"),
        ((5, 8, 4), "RGBA"),
    ]:
        image = smooth_image(*shape[:2], 1 if len(shape) == 2 else shape[2])
        write_png(tmp_path / "ours.png", image)
        with Image.open(tmp_path / "ours.png") as im:
            assert im.mode == mode
            np.testing.assert_array_equal(np.asarray(im), image)
        Image.fromarray(image, mode).save(tmp_path / "theirs.png")
        np.testing.assert_array_equal(read_png(tmp_path / "theirs.png"), image)


def test_matplotlib_agrees(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib.image as mpimg

    image = smooth_image(12, 10, 3)
    write_png(tmp_path / "ours.png", image)
    np.testing.assert_array_equal((mpimg.imread(tmp_path / "ours.png") * 255).round(), image)
