"""Run every row of the census (the ``CASES`` of each ``cases_*.py`` in this folder): each bad
input must be refused with one of the row's errors, a message that mentions what the row
says it must, raised by gradschool's own code (a NumPy error re-raised with a clear message is
fine, one escaping from inside NumPy is not)."""

from __future__ import annotations

import importlib
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import gradschool

from .cases_cli import CliRefused
from .harness import CLEAR_ERRORS, BadInput

HERE = Path(__file__).parent
GRADSCHOOL_DIR = Path(gradschool.__file__).resolve().parent
NUMPY_DIR = Path(np.__file__).resolve().parent
MIN_ROWS = 300

# errors that say nothing to a learner about what was wrong, whatever the message (a
# deliberate subclass that is also a ValueError, such as scikit-learn's NotFittedError, is
# not raw)
NEVER = (KeyError, AttributeError, ZeroDivisionError, AssertionError, UnboundLocalError)


def collect() -> list[BadInput]:
    """The rows of every ``cases_*.py`` module here (new modules are picked up unnamed)."""
    rows: list[BadInput] = []
    for path in sorted(HERE.glob("cases_*.py")):
        module = importlib.import_module(f"{__package__}.{path.stem}")
        rows.extend(module.CASES)
    return rows


CASES = collect()


def raising_file(err: BaseException) -> Path:
    """The file of the innermost Python frame of ``err``'s traceback: the code that raised."""
    tb = err.__traceback__
    assert tb is not None
    while tb.tb_next is not None:
        tb = tb.tb_next
    return Path(tb.tb_frame.f_code.co_filename).resolve()


def run_row(row: BadInput) -> BaseException:
    """Call the row and return what it raised (``pytest.fail`` when it raised nothing)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a row may warn before it refuses; the error counts
        try:
            row.call()
        except Exception as err:  # noqa: BLE001 - every kind is judged below
            return err
    pytest.fail(f"{row.id}: no error raised")


@pytest.mark.parametrize("row", CASES, ids=[row.id for row in CASES])
def test_bad_input_is_refused_clearly(row: BadInput) -> None:
    err = run_row(row)
    kind = type(err)
    described = f"{kind.__module__}.{kind.__qualname__}: {err}"
    raw = isinstance(err, NEVER) and not isinstance(err, CLEAR_ERRORS)
    assert not raw, f"a raw {kind.__name__} leaked: {described}"
    assert not kind.__module__.startswith("numpy"), f"a NumPy error leaked: {described}"
    if isinstance(err, IndexError):  # only where PyTorch raises it for an index out of range
        assert IndexError in row.errors, f"an IndexError leaked: {described}"
    assert isinstance(err, row.errors), f"expected one of {row.errors}, got {described}"
    message = str(err)
    for word in row.mentions:
        assert word.lower() in message.lower(), f"{word!r} not in the message: {message!r}"
    where = raising_file(err)
    assert not where.is_relative_to(NUMPY_DIR), f"raised from inside NumPy ({where}): {message}"
    # a CLI row raises CliRefused itself once the command has exited cleanly with an error
    assert where.is_relative_to(GRADSCHOOL_DIR) or isinstance(err, CliRefused), (
        f"raised outside gradschool ({where}): {described}"
    )


def test_census_is_large_and_ids_are_unique() -> None:
    ids = [row.id for row in CASES]
    assert len(ids) >= MIN_ROWS, f"only {len(ids)} rows"
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    assert not dupes, f"duplicate row ids: {dupes}"


def test_errors_doc_is_up_to_date() -> None:
    from .make_docs import DOC, counts

    text = DOC.read_text()
    total, per_family = counts(CASES)
    assert re.search(rf"\b{total} bad inputs\b", text), (
        "docs/errors.md is stale: run `python -m tests.census.make_docs`"
    )
    for family, n in per_family.items():
        assert f"| {family} | {n} |" in text, (
            f"docs/errors.md is stale for {family!r}: run `python -m tests.census.make_docs`"
        )
