"""MNIST and Fashion-MNIST: 28x28 grey images in 10 classes, 60,000 for training and 10,000 for
testing (CS231n / CSC321's first image-classification data: the LeNet and MLP experiments).

Both ship as IDX files (LeCun's format: a 4-byte magic number — two zero bytes, a type code,
the number of dimensions — then one big-endian uint32 per dimension, then the values),
gzipped or not: ``train-images-idx3-ubyte[.gz]``, ``train-labels-idx1-ubyte[.gz]``,
``t10k-images-idx3-ubyte[.gz]``, ``t10k-labels-idx1-ubyte[.gz]``. Every file is checked as it
is read (magic number, shape, size, label range), so a truncated or corrupted download fails
with a message naming the file and the check, not with a reshape error.

The classes follow torchvision: ``data`` is uint8 ``(N, 28, 28)``, ``targets`` int64 ``(N,)``,
``ds[i]`` is ``(image, label)`` where ``image`` is ``transform(data[i])`` (a uint8 ``(28, 28)``
NumPy array goes in, as torchvision gives a PIL image) or, with no transform, the raw uint8
``(28, 28)`` Tensor; ``label`` is an int.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np

from . import _files
from ._files import ArrayDataset, candidate_dirs, download_base, find_file, not_found

__all__ = ["MNIST", "FashionMNIST", "read_idx", "read_image_file", "read_label_file"]

# IDX type codes -> element types (big-endian for the multi-byte ones)
_IDX_TYPES = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension
_DEFLATE_RATIO = 1032  # deflate's best: 258 bytes per 2-bit code, so a .gz caps what it holds


def _corrupt_gzip(name: str, err: Exception) -> ValueError:
    return ValueError(
        f"{name}: the gzip data is corrupted or truncated ({type(err).__name__}: {err}); "
        "delete the file and download it again"
    )


def _readinto(f: IO[bytes], buf: memoryview, name: str) -> int:
    """Fill ``buf`` from ``f``; the number of bytes read (fewer when the file ends early)."""
    pos = 0
    try:
        while pos < len(buf):
            n = f.readinto(buf[pos:])  # type: ignore[attr-defined]
            if not n:
                break
            pos += n
    except (EOFError, zlib.error, gzip.BadGzipFile) as err:
        raise _corrupt_gzip(name, err) from err
    return pos


def read_idx(
    path: str | os.PathLike[str],
    magic: int | None = None,
    describe: Callable[[tuple[int, ...]], str] = lambda dims: f"an array of shape {dims}",
) -> np.ndarray:
    """Read an IDX file (gzipped or not, told by its first bytes) into a NumPy array.

    ``magic`` is the expected magic number (``IMAGES_MAGIC``, ``LABELS_MAGIC``); ``describe``
    names the content in error messages. Raises ``ValueError`` naming the file and the failed
    check when the header is wrong or the data is shorter or longer than the header says.
    """
    path = Path(path)
    name = str(path)
    with open(path, "rb") as raw:
        file_size = os.fstat(raw.fileno()).st_size
        gz = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        f: IO[bytes] = gzip.GzipFile(fileobj=raw, mode="rb") if gz else raw  # type: ignore[assignment]
        unpacked = " after decompression" if gz else ""
        head = bytearray(4)
        got = _readinto(f, memoryview(head), name)
        code, ndim = head[2], head[3]
        found = int.from_bytes(head, "big")
        if got < 4:
            raise ValueError(
                f"{name}: the file is {got} bytes long{unpacked}, too short for an IDX header; "
                "the file is truncated — delete it and download again"
            )
        if head[0] or head[1] or code not in _IDX_TYPES:
            raise ValueError(
                f"{name}: not an IDX file: bad magic number 0x{found:08x}"
                + (f" (expected 0x{magic:08x})" if magic is not None else "")
                + "; the file is corrupted or is not what its name says"
            )
        if magic is not None and found != magic:
            raise ValueError(
                f"{name}: bad magic number 0x{found:08x} ({_IDX_TYPES[code]} values, {ndim} "
                f"dimensions), expected 0x{magic:08x} ({_IDX_TYPES[magic >> 8 & 0xFF]} values, "
                f"{magic & 0xFF} dimensions); is it the other file of the pair?"
            )
        dims_raw = bytearray(4 * ndim)
        if _readinto(f, memoryview(dims_raw), name) < len(dims_raw):
            raise ValueError(
                f"{name}: the header ends early: expected {ndim} dimensions; the file is "
                "truncated — delete it and download again"
            )
        dims = struct.unpack(f">{ndim}I", dims_raw)
        dtype = np.dtype(_IDX_TYPES[code])
        header = 4 + 4 * ndim
        n_bytes = math.prod(dims) * dtype.itemsize  # Python ints: no int64 wrap-around
        # Checked before the array is allocated, so a lying header cannot claim gigabytes.
        if not gz and file_size < header + n_bytes:
            raise ValueError(
                f"{name}: expected {header + n_bytes} bytes ({header}-byte header + {n_bytes} "
                f"bytes of data for {describe(dims)}), got {file_size}; the file is truncated "
                "— delete it and download again"
            )
        if not gz and file_size > header + n_bytes:
            raise ValueError(
                f"{name}: the file holds {file_size} bytes, more than the {header + n_bytes} "
                f"bytes its header announces ({describe(dims)}); the file is corrupted — delete "
                "it and download again"
            )
        if gz and n_bytes > _DEFLATE_RATIO * file_size:
            raise ValueError(
                f"{name}: the header announces {n_bytes:,} bytes of data ({describe(dims)}), "
                f"more than a {file_size:,}-byte gzip file can hold (deflate packs at most "
                f"{_DEFLATE_RATIO}:1); the file is corrupted — delete it and download again"
            )
        out = np.empty(n_bytes, np.uint8)  # read straight into the array: one copy, writable
        got = _readinto(f, memoryview(out), name)
        if got < n_bytes:
            raise ValueError(
                f"{name}: expected {header + n_bytes} bytes ({header}-byte header + {n_bytes} "
                f"bytes of data for {describe(dims)}), got {header + got}{unpacked}; the file "
                "is truncated — delete it and download again"
            )
        try:
            extra = f.read(1)
        except (EOFError, zlib.error, gzip.BadGzipFile) as err:
            raise _corrupt_gzip(name, err) from err
        if extra:
            raise ValueError(
                f"{name}: the file holds more than the {header + n_bytes} bytes{unpacked} its "
                f"header announces ({describe(dims)}); the file is corrupted — delete it and "
                "download again"
            )
    array = out.view(dtype).reshape(dims)
    return array if dtype.isnative else array.astype(dtype.newbyteorder("="))


def read_image_file(path: str | os.PathLike[str], size: int = 28) -> np.ndarray:
    """The uint8 images ``(N, size, size)`` of an ``*-images-idx3-ubyte[.gz]`` file."""
    images = read_idx(path, IMAGES_MAGIC, lambda d: f"{d[0]} {d[1]}x{d[2]} images")
    if images.shape[1:] != (size, size):
        raise ValueError(
            f"{Path(path).name}: expected {size}x{size} images, got "
            f"{images.shape[1]}x{images.shape[2]}"
        )
    return images


def read_label_file(path: str | os.PathLike[str], n_classes: int = 10) -> np.ndarray:
    """The int64 labels ``(N,)`` of an ``*-labels-idx1-ubyte[.gz]`` file, checked to lie in
    ``0 .. n_classes - 1``."""
    labels = read_idx(path, LABELS_MAGIC, lambda d: f"{d[0]} labels").astype(np.int64)
    if labels.size and labels.max() >= n_classes:
        bad = int(np.argmax(labels >= n_classes))
        raise ValueError(
            f"{Path(path).name}: label {labels[bad]} at index {bad} is outside 0..{n_classes - 1}; "
            "the file is corrupted — delete it and download again"
        )
    return labels


class MNIST(ArrayDataset):
    """LeCun's handwritten digits (``torchvision.datasets.MNIST``).

    Args:
        root: a folder holding the IDX files (directly, or in ``root/MNIST/raw`` as torchvision
            lays them out); when None, ``$GRADSCHOOL_DATA`` and ``~/.cache/gradschool`` are
            searched (see ``gradschool.data.datasets._files``).
        train: the 60,000 training images (True) or the 10,000 test images (False).
        transform: applied to each uint8 ``(28, 28)`` image array (e.g. ``ToTensor()``).
        target_transform: applied to each int label.
        download: fetch the files (MD5-checked) when they are not found.
    """

    mirrors = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ]
    resources = {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    }
    classes = [
        "0 - zero",
        "1 - one",
        "2 - two",
        "3 - three",
        "4 - four",
        "5 - five",
        "6 - six",
        "7 - seven",
        "8 - eight",
        "9 - nine",
    ]
    system_dirs: tuple[str, ...] = ()
    # how to get the files besides download=True (which the missing-files error adds)
    how_to_get = "pass root= (or --data-dir) a folder holding them"

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        train: bool = True,
        transform: Callable[[Any], Any] | None = None,
        target_transform: Callable[[Any], Any] | None = None,
        download: bool = False,
    ) -> None:
        if root is not None and not isinstance(root, str | os.PathLike):
            raise TypeError(
                f"{type(self).__name__}: expected root to be a folder path, got {root!r}"
            )
        self.root = None if root is None else os.path.expanduser(os.fspath(root))
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        prefix = "train" if train else "t10k"
        files = [f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz"]
        name = type(self).__name__
        searched = candidate_dirs(self.root, [f"{name}/raw", name], self.system_dirs)
        folder = next((d for d in searched if all(find_file(d, f) for f in files)), None)
        if folder is None:
            if not download:
                missing = [f"{f[:-3]}[.gz]" for f in files]
                raise FileNotFoundError(
                    not_found(name, missing, searched, f"{self.how_to_get}, or pass download=True")
                )
            folder = download_base(self.root) / name / "raw"
            for f in files:
                if find_file(folder, f) is None:
                    _files.download(
                        f, self.mirrors, self.resources[f], folder, name, self.how_to_get
                    )
        self.raw_folder = str(folder)
        images_path, labels_path = (find_file(folder, f) for f in files)
        try:
            self.data = read_image_file(images_path)  # type: ignore[arg-type]
            self.targets = read_label_file(labels_path, len(self.classes))  # type: ignore[arg-type]
        except ValueError as err:
            raise ValueError(f"{name}: {err}\nTo get good files: {self.how_to_get}") from None
        if len(self.data) != len(self.targets):
            raise ValueError(
                f"{name}: {images_path} holds {len(self.data)} images but {labels_path} holds "
                f"{len(self.targets)} labels; one of them is corrupted or from another set"
            )

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.classes)}


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST (``torchvision.datasets.FashionMNIST``): clothes instead of
    digits, same format and sizes, harder (a linear classifier gets ~84%, a small CNN ~91%).

    Also found where Debian's ``dataset-fashion-mnist`` package installs it,
    ``/usr/share/datasets/fashion-mnist``. Arguments as ``MNIST``.
    """

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    }
    classes = [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ]
    system_dirs = ("/usr/share/datasets/fashion-mnist",)
    how_to_get = (
        "install Debian's package (`apt-get install dataset-fashion-mnist`, which puts them in "
        "/usr/share/datasets/fashion-mnist), or pass root= (or --data-dir) a folder holding them"
    )
