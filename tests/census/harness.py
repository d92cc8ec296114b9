"""The census of bad inputs: one row per bad input to the public API, each of which must be
refused with a clear error -- a ``ValueError`` or ``TypeError`` (``IndexError`` only where
PyTorch raises it for an index out of range) whose message names the op or file, what was
expected and what was got -- or, for the ``gradschool`` command, a non-zero exit with a short
message on stderr and no traceback.

A row is a ``BadInput``; the tables are the ``CASES`` lists of the ``cases_*.py`` modules in
this folder, collected by ``test_census.py``; ``docs/errors.md`` is generated from the same
tables by ``python -m tests.census.make_docs``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

CLEAR_ERRORS: tuple[type[BaseException], ...] = (ValueError, TypeError)


@dataclass(frozen=True)
class BadInput:
    """``call`` makes the bad call; it must raise one of ``errors`` whose message contains
    every string in ``mentions`` (case-insensitive): the op or file named, and the expected
    and actual values where the message can state them."""

    family: str  # the table's heading in docs/errors.md, e.g. "losses", "files: PNG", "CLI"
    name: str  # short and unique within the family, e.g. "cross_entropy target out of range"
    call: Callable[[], Any]
    mentions: tuple[str, ...] = ()
    errors: tuple[type[BaseException], ...] = CLEAR_ERRORS

    @property
    def id(self) -> str:
        return f"{self.family}: {self.name}"
