"""CIFAR-10: 60,000 32x32 colour images in 10 classes, 50,000 for training and 10,000 for
testing (CS231n's dataset of record: kNN, linear classifiers, ConvNets, ResNets).

Read from the *binary* version (``cifar-10-binary.tar.gz``, extracted to
``cifar-10-batches-bin/``), never from the pickled "python version": loading a pickle can run
code. Each ``data_batch_{1..5}.bin`` / ``test_batch.bin`` is a run of 3073-byte records: one
label byte, then 1024 red, 1024 green and 1024 blue bytes (each a 32x32 image, row-major).

As torchvision: ``data`` is uint8 ``(N, 32, 32, 3)`` (HWC), ``targets`` int64 ``(N,)``;
``ds[i]`` is ``(image, label)`` with ``image = transform(data[i])`` (a uint8 HWC array goes
in) or, with no transform, the raw uint8 ``(32, 32, 3)`` Tensor.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from . import _files
from ._files import ArrayDataset, candidate_dirs, download_base, md5sum, not_found

__all__ = ["CIFAR10", "read_cifar_binary"]

RECORD = 1 + 3 * 32 * 32


def read_cifar_binary(
    path: str | os.PathLike[str], n_classes: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """The images (uint8 ``(N, 32, 32, 3)``, a HWC view of the file's CHW records) and labels
    (int64 ``(N,)``) of one CIFAR-10 binary batch file, checked: whole records, labels in
    range."""
    path = Path(path)
    size = path.stat().st_size  # checked before anything is read or allocated
    if size == 0 or size % RECORD:
        raise ValueError(
            f"{path}: {size} bytes is not a whole number of {RECORD}-byte records (1 label "
            "byte + 3072 pixel bytes); the file is truncated or corrupted — delete it and "
            "download again"
        )
    records = np.fromfile(path, dtype=np.uint8).reshape(-1, RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.max() >= n_classes:
        bad = int(np.argmax(labels >= n_classes))
        raise ValueError(
            f"{path}: label {labels[bad]} in record {bad} is outside 0..{n_classes - 1}; "
            "the file is corrupted or is not a CIFAR-10 batch (CIFAR-100 records have 2 label "
            "bytes)"
        )
    # planes (C, H, W) per record -> HWC, as torchvision stores CIFAR
    images = records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return images, labels


class CIFAR10(ArrayDataset):
    """Krizhevsky's CIFAR-10 (``torchvision.datasets.CIFAR10``), from the binary files.

    Args:
        root: a folder holding ``cifar-10-batches-bin/`` (or the ``.bin`` files directly); when
            None, ``$GRADSCHOOL_DATA`` and ``~/.cache/gradschool`` are searched.
        train: the 50,000 training images (True) or the 10,000 test images (False).
        transform: applied to each uint8 ``(32, 32, 3)`` image array.
        target_transform: applied to each int label.
        download: fetch ``cifar-10-binary.tar.gz`` (MD5-checked) and extract the batch files.
    """

    base_folder = "cifar-10-batches-bin"
    mirrors = ["https://www.cs.toronto.edu/~kriz/"]
    filename = "cifar-10-binary.tar.gz"
    tgz_md5 = "c32a1d4ab5d03f1284b67883e8d87530"
    train_list = [f"data_batch_{i}.bin" for i in range(1, 6)]
    test_list = ["test_batch.bin"]
    classes = [
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ]
    how_to_get = (
        "download cifar-10-binary.tar.gz (https://www.cs.toronto.edu/~kriz/cifar.html) and "
        "extract it into a folder passed as root= (or --data-dir)"
    )

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        train: bool = True,
        transform: Callable[[Any], Any] | None = None,
        target_transform: Callable[[Any], Any] | None = None,
        download: bool = False,
    ) -> None:
        self.root = None if root is None else os.path.expanduser(os.fspath(root))
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        files = self.train_list if train else self.test_list
        name = type(self).__name__
        searched = candidate_dirs(self.root, [self.base_folder])
        folder = next((d for d in searched if all((d / f).is_file() for f in files)), None)
        if folder is None:
            if not download:
                raise FileNotFoundError(
                    not_found(name, files, searched, f"{self.how_to_get}, or pass download=True")
                )
            folder = self._download()
        self.raw_folder = str(folder)
        try:
            parts = [read_cifar_binary(folder / f, len(self.classes)) for f in files]
        except ValueError as err:
            raise ValueError(f"{name}: {err}\nTo get good files: {self.how_to_get}") from None
        # one copy from the files' CHW planes into a contiguous HWC array
        self.data = np.empty((sum(len(p[1]) for p in parts), 32, 32, 3), np.uint8)
        np.concatenate([p[0] for p in parts], out=self.data)
        self.targets = np.concatenate([p[1] for p in parts])

    def _download(self) -> Path:
        """Fetch the archive into the download base (unless a good copy is there) and extract
        the batch files into ``<base>/cifar-10-batches-bin``."""
        base = download_base(self.root)
        archive = base / self.filename
        if not (archive.is_file() and md5sum(archive) == self.tgz_md5):
            _files.download(
                self.filename, self.mirrors, self.tgz_md5, base, "CIFAR10", self.how_to_get
            )
        dest = base / self.base_folder
        _extract_members(archive, self.base_folder, [*self.train_list, *self.test_list], dest)
        return dest


def _extract_members(archive: Path, folder: str, names: list[str], dest: Path) -> None:
    """Copy ``folder/<name>`` out of a ``.tar.gz`` into ``dest``: only those regular files,
    by name, each written atomically (never ``tar.extractall``: a crafted archive could write
    outside ``dest``)."""
    import tarfile  # lazily: only downloads need it

    wanted = {f"{folder}/{n}": n for n in names}
    dest.mkdir(parents=True, exist_ok=True)
    found = set()
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            if member.isfile() and member.name in wanted:
                src = tar.extractfile(member)
                assert src is not None
                fd, tmp = tempfile.mkstemp(prefix=".extract.", dir=dest)
                try:
                    with os.fdopen(fd, "wb") as out:
                        while block := src.read(1 << 20):
                            out.write(block)
                    os.replace(tmp, dest / wanted[member.name])
                finally:
                    Path(tmp).unlink(missing_ok=True)
                found.add(wanted[member.name])
    missing = sorted(set(names) - found)
    if missing:
        raise ValueError(f"{archive.name}: the archive lacks {', '.join(missing)}")
