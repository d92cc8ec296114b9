"""Parity rows for matrix products and einsum (gradschool/ops/linalg.py)."""

from __future__ import annotations

import torch
from hypothesis import strategies as st

import gradschool as gs

from .harness import OpSpec, Sample, broadcastable, values

side = st.integers(0, 4)


def matmul_sample(rank_a: int, rank_b: int):
    """Operands of the given ranks (2 means "2 or more": broadcast batch dims go in front)."""

    def sample(draw):
        m, k, n = draw(side), draw(side), draw(side)
        (ba, bb), _ = draw(broadcastable(2, max_dims=2, max_side=3))
        sa = {1: (k,), 2: (m, k), 3: (*ba, m, k)}[rank_a]
        sb = {1: (k,), 2: (k, n), 3: (*bb, k, n)}[rank_b]
        return Sample([values(draw, sa), values(draw, sb)])

    return sample


def bmm_sample(draw):
    b, m, k, n = draw(side), draw(side), draw(side), draw(side)
    return Sample([values(draw, (b, m, k)), values(draw, (b, k, n))])


def vectors(draw):
    k = draw(side)
    return Sample([values(draw, (k,)), values(draw, (k,))])


def outer_sample(draw):
    return Sample([values(draw, (draw(side),)), values(draw, (draw(side),))])


def mv_sample(draw):
    m, k = draw(side), draw(side)
    return Sample([values(draw, (m, k)), values(draw, (k,))])


def einsum_sample(equation: str, *letters: str):
    """Operands for ``equation``: ``letters`` spell each operand's dims; a letter's size is
    drawn once (0 to 4), so repeated letters agree; ``...`` gets broadcast batch dims."""

    def sample(draw):
        size = {c: draw(side) for c in sorted(set("".join(letters).replace(".", "")))}
        batch = draw(broadcastable(len(letters), max_dims=2, max_side=3))[0]
        ops = []
        for i, t in enumerate(letters):
            pre, _, post = t.partition("...")
            mid = batch[i] if "..." in t else ()
            shape = (*(size[c] for c in pre), *mid, *(size[c] for c in post))
            ops.append(values(draw, shape))
        return Sample([equation, *ops])

    return sample


def einsum_broadcast_sample(draw):
    """Explicit letters of size 1 in one operand broadcast against the other."""
    i, j = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    return Sample(["ij,ij->ij", values(draw, (i, 1)), values(draw, (i, j))])


def einsum_list(equation, *ops):
    return gs.einsum(equation, list(ops))


def einsum_list_torch(equation, *ops):
    return torch.einsum(equation, list(ops))


EINSUMS = [
    ("matmul", "ij,jk->ik", "ij", "jk"),
    ("bmm", "bij,bjk->bik", "bij", "bjk"),
    ("diag", "ii->i", "ii"),
    ("trace", "ii->", "ii"),
    ("sum_all", "ij->", "ij"),
    ("outer", "i,j->ij", "i", "j"),
    ("rowdot", "ij,ij->i", "ij", "ij"),
    ("transpose", "ij->ji", "ij"),
    ("implicit", "ij,jk", "ij", "jk"),
    ("implicit_transpose", "ba", "ba"),
    ("attention", "bhqd,bhkd->bhqk", "bhqd", "bhkd"),
    ("chain3", "ij,jk,kl->il", "ij", "jk", "kl"),
    ("diag_mixed", "iij,jk->ik", "iij", "jk"),
    ("drop_dim", "ijk,k->i", "ijk", "k"),
    ("dot", "i,i->", "i", "i"),
    ("hadamard", "ij,ij->ij", "ij", "ij"),
]

SPECS = [
    OpSpec("matmul_2d", lambda a, b: a @ b, lambda a, b: a @ b, matmul_sample(2, 2)),
    OpSpec("matmul_1d_1d", gs.matmul, torch.matmul, matmul_sample(1, 1)),
    OpSpec("matmul_1d_2d", gs.matmul, torch.matmul, matmul_sample(1, 2)),
    OpSpec("matmul_2d_1d", gs.matmul, torch.matmul, matmul_sample(2, 1)),
    OpSpec("matmul_nd_1d", gs.matmul, torch.matmul, matmul_sample(3, 1)),
    OpSpec("matmul_1d_nd", gs.matmul, torch.matmul, matmul_sample(1, 3)),
    OpSpec("matmul_nd_2d", lambda a, b: a @ b, lambda a, b: a @ b, matmul_sample(3, 2)),
    OpSpec("matmul_2d_nd", lambda a, b: a @ b, lambda a, b: a @ b, matmul_sample(2, 3)),
    OpSpec("matmul_nd_nd", lambda a, b: a.matmul(b), lambda a, b: a.matmul(b), matmul_sample(3, 3)),
    OpSpec("mm", gs.mm, torch.mm, matmul_sample(2, 2)),
    OpSpec("mm_method", lambda a, b: a.mm(b), lambda a, b: a.mm(b), matmul_sample(2, 2)),
    OpSpec("bmm", gs.bmm, torch.bmm, bmm_sample),
    OpSpec("mv", gs.mv, torch.mv, mv_sample),
    OpSpec("dot", gs.dot, torch.dot, vectors),
    OpSpec("outer", gs.outer, torch.outer, outer_sample),
    *(
        OpSpec(f"einsum_{name}", gs.einsum, torch.einsum, einsum_sample(eq, *ops))
        for name, eq, *ops in EINSUMS
    ),
    OpSpec(
        "einsum_ellipsis_matmul",
        gs.einsum,
        torch.einsum,
        einsum_sample("...ij,...jk->...ik", "...ij", "...jk"),
    ),
    OpSpec(
        "einsum_ellipsis_implicit",
        gs.einsum,
        torch.einsum,
        einsum_sample("...i,...i", "...i", "...i"),
    ),
    OpSpec("einsum_broadcast", gs.einsum, torch.einsum, einsum_broadcast_sample),
    OpSpec("einsum_list", einsum_list, einsum_list_torch, einsum_sample("ij,jk->ik", "ij", "jk")),
    OpSpec(
        "einsum_sum_middle",
        gs.einsum,
        torch.einsum,
        einsum_sample("i...->i", "i..."),
    ),
]
