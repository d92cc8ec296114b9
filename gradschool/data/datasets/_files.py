"""What the file-backed datasets share: where their files are looked for, how a download is
fetched and checked, and the base class of datasets held as arrays.

Lookup order: the bases ``root`` (the argument), ``$GRADSCHOOL_DATA``, ``~/.cache/gradschool``,
each tried as ``<base>/<sub>`` for the dataset's sub-folders (``FashionMNIST/raw`` as
torchvision lays it out, then ``FashionMNIST``; ``cifar-10-batches-bin``) and then as
``<base>`` itself; then any system folder the dataset names (Debian's
``/usr/share/datasets/fashion-mnist``). Downloads go under ``root`` when given, else under
``$GRADSCHOOL_DATA`` or ``~/.cache/gradschool``.

Downloads use ``urllib`` only, are written to a temporary file, checked against the MD5 the
dataset's authors publish, and renamed into place only when they match (atomic: an interrupted
download never leaves a file that looks complete).
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ...tensor import Tensor
from ..dataloader import default_collate
from ..dataset import Dataset, _index_array

ENV_VAR = "GRADSCHOOL_DATA"


def cache_root() -> Path:
    """Where downloads go by default: ``$GRADSCHOOL_DATA``, else ``~/.cache/gradschool``."""
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else Path("~/.cache/gradschool").expanduser()


def _bases(root: str | os.PathLike[str] | None) -> list[Path]:
    bases = [] if root is None else [Path(root).expanduser()]
    if os.environ.get(ENV_VAR):
        bases.append(Path(os.environ[ENV_VAR]).expanduser())
    bases.append(Path("~/.cache/gradschool").expanduser())
    return bases


def candidate_dirs(
    root: str | os.PathLike[str] | None, subdirs: Sequence[str], system_dirs: Sequence[str] = ()
) -> list[Path]:
    """The folders searched for a dataset's files, in order: each base (``root``,
    ``$GRADSCHOOL_DATA``, ``~/.cache/gradschool``) joined with each of ``subdirs`` then the
    base itself, then ``system_dirs``."""
    dirs = [base / sub for base in _bases(root) for sub in [*subdirs, "."]]
    dirs += [Path(d) for d in system_dirs]
    out: list[Path] = []
    for d in dirs:
        d = Path(os.path.normpath(d))
        if d not in out:
            out.append(d)
    return out


def download_base(root: str | os.PathLike[str] | None) -> Path:
    """The base folder of downloads: ``root`` when given, else ``cache_root()``."""
    return Path(root).expanduser() if root is not None else cache_root()


def find_file(folder: Path, filename: str) -> Path | None:
    """``folder/filename`` or its uncompressed twin (``filename`` without ``.gz``); the
    uncompressed one first, since it reads faster."""
    names = [filename[: -len(".gz")], filename] if filename.endswith(".gz") else [filename]
    for n in names:
        p = folder / n
        if p.is_file():
            return p
    return None


def md5sum(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def fetch(url: str, dest: Path, timeout: float = 60.0) -> None:
    """Stream ``url`` into the file ``dest`` (tests replace this function to stay offline)."""
    import urllib.request  # lazily: it pulls in http and ssl

    request = urllib.request.Request(url, headers={"User-Agent": "gradschool"})
    with urllib.request.urlopen(request, timeout=timeout) as response, open(dest, "wb") as out:
        while block := response.read(1 << 20):
            out.write(block)


def download(
    filename: str, mirrors: Sequence[str], md5: str, folder: Path, dataset: str, how: str
) -> Path:
    """Fetch ``filename`` from the first mirror that serves it with the right MD5 into
    ``folder``; raise ``RuntimeError`` naming every mirror tried and why it failed."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise RuntimeError(
            f"{dataset}: cannot create the download folder {folder} ({err}); pass root= a "
            f"writable folder or set ${ENV_VAR}"
        ) from err
    dest = folder / filename
    failures = []
    for mirror in mirrors:
        url = mirror + filename
        print(f"{dataset}: downloading {url} -> {dest}", file=sys.stderr)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{filename}.", suffix=".part", dir=folder)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            fetch(url, tmp)
            got = md5sum(tmp)
            if got != md5:
                failures.append(
                    f"{url}: MD5 mismatch: expected {md5}, got {got} (the download is "
                    f"corrupted or the mirror serves a different file)"
                )
                continue
            os.replace(tmp, dest)  # atomic: the file appears whole or not at all
            return dest
        except Exception as err:  # URLError, timeouts, HTTP errors, a connection cut mid-read
            failures.append(f"{url}: {type(err).__name__}: {err}")
        finally:
            tmp.unlink(missing_ok=True)
    raise RuntimeError(
        f"{dataset}: could not download {filename}:\n  "
        + "\n  ".join(failures)
        + f"\nIf this machine is offline, get the files another way: {how}"
    )


def not_found(dataset: str, files: Iterable[str], searched: Sequence[Path], how: str) -> str:
    """The message of a missing-files error: what is missing, where we looked, how to get it."""
    return (
        f"{dataset}: dataset files not found ({', '.join(files)}). Searched:\n  "
        + "\n  ".join(str(d) for d in searched)
        + f"\nTo get them: {how}"
    )


class ArrayDataset(Dataset):
    """A labelled dataset held as two arrays, ``data`` (N, ...) and int64 ``targets`` (N,).

    ``ds[i]`` is ``(transform(data[i]) or the raw sample as a Tensor, target_transform(label)
    or the label as an int)``; ``ds.__getitems__(indices)`` makes the same batch with one
    fancy-index per array (``DataLoader``'s fast path), calling ``transform.apply_batch(array)``
    when the transform has it (``ToTensor``, ``Normalize``, ``Compose``), else the transform
    per sample.
    """

    data: np.ndarray
    targets: np.ndarray
    transform: Callable[[Any], Any] | None = None
    target_transform: Callable[[Any], Any] | None = None

    def _raw(self, x: np.ndarray) -> Tensor:
        """The sample when there is no transform (a batch too: leading axis added)."""
        return Tensor._make(x)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        x, y = self.data[index], int(self.targets[index])
        x = self._raw(x) if self.transform is None else self.transform(x)
        if self.target_transform is not None:
            y = self.target_transform(y)
        return x, y

    def __getitems__(self, indices: Sequence[int]) -> list[Any]:
        idx = _index_array(indices)
        xs, ys = self.data[idx], self.targets[idx]
        return [
            _apply_batch(self.transform, xs, self._raw, lambda a: a),
            _apply_batch(self.target_transform, ys, Tensor._make, int),
        ]

    def __repr__(self) -> str:
        lines = [f"Dataset {type(self).__name__}", f"    Number of datapoints: {len(self)}"]
        if getattr(self, "root", None) is not None:
            lines.append(f"    Root location: {self.root}")  # type: ignore[attr-defined]
        if getattr(self, "train", None) is not None:
            lines.append(f"    Split: {'Train' if self.train else 'Test'}")  # type: ignore[attr-defined]
        for label, t in (
            ("Transform", self.transform),
            ("Target transform", self.target_transform),
        ):
            if t is not None:
                lines.append(f"    {label}: " + repr(t).replace("\n", "\n    "))
        return "\n".join(lines)


def _apply_batch(
    fn: Callable[[Any], Any] | None,
    batch: np.ndarray,
    raw: Callable[[np.ndarray], Any],
    item: Callable[[Any], Any],
) -> Any:
    """``fn`` applied to a whole batch: vectorised through ``fn.apply_batch`` when it has one,
    else per sample and collated (as the slow path would)."""
    if fn is None:
        return raw(batch)
    apply_batch = getattr(fn, "apply_batch", None)
    if callable(apply_batch):
        out = apply_batch(batch)
        return Tensor._make(out) if isinstance(out, np.ndarray) else out
    return default_collate([fn(item(x)) for x in batch])
