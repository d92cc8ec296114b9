"""Helpers the ``cases_*.py`` tables share: a compact way to write rows, the error kinds that
stand in for PyTorch's, and a context that hides every dataset on disk."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from .harness import CLEAR_ERRORS, BadInput

# PyTorch raises IndexError for an index (or dim) out of range, and gradschool follows it
INDEX = (IndexError,)
# where PyTorch raises RuntimeError (autograd misuse, device and state_dict errors) gradschool
# raises the same, with PyTorch's wording
RUNTIME = (RuntimeError,)
Row = tuple[Any, ...]  # (name, call, mentions) or (name, call, mentions, errors)


def table(family: str, *rows: Row) -> list[BadInput]:
    """``BadInput``s of one family from ``(name, call, mentions[, errors])`` tuples."""
    out = []
    for name, call, mentions, *errors in rows:
        mentions = (mentions,) if isinstance(mentions, str) else tuple(mentions)
        out.append(BadInput(family, name, call, mentions, errors[0] if errors else CLEAR_ERRORS))
    return out


def skip_if(
    condition: Callable[[], bool], reason: str, call: Callable[[], Any]
) -> Callable[[], Any]:
    """A row's call that is skipped where ``condition()`` holds (a GPU makes ``device="cuda"``
    fine; no scikit-learn means no digits run). The row stays in the table either way, so
    the counts of docs/errors.md are the same on every machine."""

    def wrapped() -> Any:
        if condition():
            pytest.skip(reason)
        return call()

    return wrapped


def has_gpu() -> bool:
    import gradschool

    return gradschool.cuda_is_available()


def needs_gpu_free(call: Callable[[], Any]) -> Callable[[], Any]:
    """``call`` is a bad input only on a machine without a usable GPU."""
    return skip_if(has_gpu, "a GPU is available here, so device='cuda' is no bad input", call)


@contextmanager
def no_data_anywhere() -> Iterator[str]:
    """A fresh empty HOME and no ``$GRADSCHOOL_DATA``, so no dataset is found in the usual
    places (``~/.cache/gradschool``, the system folders such as Debian's) whatever this machine
    holds; yields the empty folder."""
    from gradschool.data import datasets

    saved = {k: os.environ.get(k) for k in ("HOME", "GRADSCHOOL_DATA")}
    # the system folders a dataset also searches (Debian's /usr/share/datasets/...)
    classes = [
        c for c in vars(datasets).values() if isinstance(c, type) and "system_dirs" in vars(c)
    ]
    system = {c: c.system_dirs for c in classes}
    with tempfile.TemporaryDirectory(prefix="gs-census-home-") as home:
        os.environ["HOME"] = home
        os.environ.pop("GRADSCHOOL_DATA", None)
        for c in classes:
            c.system_dirs = ()
        try:
            yield home
        finally:
            for c, dirs in system.items():
                c.system_dirs = dirs
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def without_data(fn: Callable[[str], Any]) -> Callable[[], Any]:
    """A row's call that runs ``fn(empty_folder)`` with no dataset to be found anywhere."""

    def call() -> Any:
        with no_data_anywhere() as home:
            return fn(home)

    return call
