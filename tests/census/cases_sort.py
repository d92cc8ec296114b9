"""Census rows for sorting and sampling: sort, argsort, topk and multinomial. PyTorch raises
RuntimeError for a k out of range and for every bad multinomial distribution; gradschool
raises ValueError with PyTorch's words in the message, plus what it expected and got."""

from __future__ import annotations

import math

import gradschool as gs

from .rows import INDEX, table

t = gs.tensor


def x23() -> gs.Tensor:
    return gs.randn(2, 3)


CASES = table(
    "tensor: sorting and sampling",
    ("sort of a list", lambda: gs.sort([3.0, 1.0]), ("sort", "Tensor", "list")),
    ("sort dim out of range", lambda: x23().sort(2), ("sort", "[-2, 1]", "got 2"), INDEX),
    ("sort dim float", lambda: x23().sort(1.0), ("sort", "'dim'", "int", "float")),
    ("sort descending string", lambda: x23().sort(descending="no"), ("sort", "bool", "str")),
    ("sort stable int", lambda: x23().sort(stable=1), ("sort", "'stable'", "bool", "int")),
    ("argsort dim out of range", lambda: x23().argsort(-3), ("argsort", "got -3"), INDEX),
    ("argsort of a list", lambda: gs.argsort([1, 2]), ("argsort", "Tensor", "list")),
    ("topk k above the size", lambda: x23().topk(4), ("topk", "k out of range", "[0, 3]", "4")),
    ("topk negative k", lambda: x23().topk(-1), ("topk", "[0, 3]", "got -1")),
    ("topk float k", lambda: x23().topk(1.5), ("topk", "'k'", "int", "float")),
    ("topk dim out of range", lambda: x23().topk(1, dim=2), ("topk", "got 2"), INDEX),
    ("topk of bools", lambda: t([True, False]).topk(1), ("topk", "bool")),
    ("topk largest string", lambda: x23().topk(1, largest="yes"), ("topk", "'largest'", "str")),
    ("topk k of a 0-d", lambda: t(1.0).topk(2), ("topk", "[0, 1]", "got 2")),
    ("multinomial of a list", lambda: gs.multinomial([0.5, 0.5], 1), ("multinomial", "list")),
    (
        "multinomial of ints",
        lambda: gs.multinomial(t([1, 2]), 1),
        ("multinomial", "floating point", "int64"),
    ),
    (
        "multinomial of a 3-D tensor",
        lambda: gs.multinomial(gs.ones(2, 2, 2), 1),
        ("multinomial", "1 or 2 dim", "(2, 2, 2)"),
    ),
    ("multinomial of a 0-d", lambda: gs.multinomial(t(1.0), 1), ("multinomial", "0-D")),
    (
        "multinomial of no categories",
        lambda: gs.multinomial(gs.ones(2, 0), 1, True),
        ("multinomial", "at least one category", "(2, 0)"),
    ),
    (
        "multinomial more than n without replacement",
        lambda: gs.multinomial(gs.ones(3), 4),
        ("multinomial", "without replacement", "3 categories", "got 4"),
    ),
    (
        "multinomial zero samples",
        lambda: gs.multinomial(gs.ones(3), 0, True),
        ("multinomial", "n_sample <= 0", "num_samples=0"),
    ),
    (
        "multinomial float num_samples",
        lambda: gs.multinomial(gs.ones(3), 2.0),
        ("multinomial", "'num_samples'", "int", "float"),
    ),
    (
        "multinomial negative weight",
        lambda: gs.multinomial(t([0.5, -0.1]), 1),
        ("multinomial", "element < 0", "-0.1", "(1,)"),
    ),
    (
        "multinomial infinite weight",
        lambda: gs.multinomial(t([[1.0, math.inf]]), 1),
        ("multinomial", "`inf`", "got inf", "(0, 1)"),
    ),
    (
        "multinomial NaN weight",
        lambda: gs.multinomial(t([math.nan, 1.0]), 1, True),
        ("multinomial", "`nan`", "got nan"),
    ),
    (
        "multinomial all-zero row",
        lambda: gs.multinomial(t([[1.0, 0.0], [0.0, 0.0]]), 1),
        ("multinomial", "sum of probabilities <= 0", "row 1"),
    ),
    (
        "multinomial replacement string",
        lambda: gs.multinomial(gs.ones(3), 1, "yes"),
        ("multinomial", "'replacement'", "bool", "str"),
    ),
    (
        "multinomial foreign generator",
        lambda: gs.multinomial(gs.ones(3), 1, generator=object()),
        ("multinomial", "gradschool.Generator", "object"),
    ),
)
