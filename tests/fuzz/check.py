"""One fuzz case of an ``OpSpec``: the same drawn arguments through gradschool and PyTorch,
in a drawn dtype and memory layout, comparing outputs, input gradients and the inputs
themselves afterwards (an op that writes into its input shows up there).

The layouts are what a network hands an op besides fresh C-ordered arrays: a transposed
view, a strided view (every other element of a wider tensor), and for 4-D tensors
channels-last memory, either as a permuted view of an NHWC tensor or as a leaf stored that
way (PyTorch's ``memory_format=torch.channels_last``; in gradschool an NCHW-shaped array
with NHWC strides, what its convolutions return). gradschool's gradients are compared on
its leaves, seen through the same view, so a view's backward is checked too.

PyTorch, the reference, always gets plain C-ordered tensors: its answer must not depend on
the layout, and its kernels are not above suspicion there (PyTorch 2.13's CPU batch_norm
backward reads a strided ``weight`` as if it were contiguous, and its instance_norm
backward is wrong for a channels-last dy — both found by this fuzzer, confirmed by
torch.autograd.gradcheck and by the same call on contiguous tensors).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

import gradschool as gs
from tests.fuzz.draw import sample_with
from tests.parity.harness import Const, OpSpec, Sample, as_numpy, outputs

_JUNK = 7.25  # what the skipped elements of a strided view hold: must never reach a result


@dataclass
class Case:
    """One case's randomness: hypothesis draws and a NumPy generator, both from ``seed``, and
    notes on what was drawn (dtype, layouts) for the failure report."""

    seed: int
    rng: np.random.Generator = field(init=False)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng([self.seed, 1])  # not the stream hypothesis reads

    def sample(self, sampler: Callable[[Any], Any]) -> Any:
        return sample_with(sampler, self.seed)

    def choice(self, options: Any) -> Any:
        options = list(options)
        return options[int(self.rng.integers(len(options)))]


@dataclass
class FuzzSpec(OpSpec):
    """An ``OpSpec`` row of the fuzzer's own, with what a row of extreme values needs.

    ``nonfinite_ok``: in float32, a position where one side is NaN and the other +-inf
    counts as equal. Which of the two an overflowing float32 transcendental returns depends
    on the vector kernel PyTorch picks for the CPU (SLEEF, AVX2 vs AVX-512), which its
    documentation does not fix; finite-vs-inf and inf-vs-(-inf) are still differences.
    """

    nonfinite_ok: bool = False
    unit_cotangent: bool = False  # dL/dy = +-[1, 2): see ``cotangent``


# ---------------------------------------------------------------- inputs in a layout
def layout_for(case: Case, shape: tuple[int, ...]) -> str:
    """Plain about 40% of the time, else one of the layouts the shape allows."""
    options = ["strided"] if len(shape) >= 1 else []
    options += ["transposed"] if len(shape) >= 2 else []
    options += ["channels_last", "channels_last_leaf"] if len(shape) == 4 else []
    if not options or case.rng.random() < 0.4:
        return "plain"
    return case.choice(options)


def make_input(arr: np.ndarray, lib: str, layout: str, requires_grad: bool) -> tuple[Any, Any]:
    """``(argument, leaf)``: a tensor holding ``arr`` in ``layout``, and the leaf tensor whose
    gradient is compared (the argument itself, or the tensor it is a view of). PyTorch's is
    always plain (see above)."""
    new = gs.tensor if lib == "gs" else torch.tensor
    if lib == "torch":
        layout = "plain"
    if layout == "transposed":
        base = np.array(arr.swapaxes(-1, -2), order="C")
    elif layout == "strided":
        base = np.full(arr.shape[:-1] + (2 * arr.shape[-1],), _JUNK, dtype=arr.dtype)
        base[..., ::2] = arr
    elif layout == "channels_last":
        base = np.ascontiguousarray(arr.transpose(0, 2, 3, 1))
    elif layout == "channels_last_leaf" and lib == "gs":
        base = np.ascontiguousarray(arr.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    else:
        base = np.array(arr, order="C")  # (ascontiguousarray makes a 0-d array 1-d)
    leaf = new(base)
    if requires_grad:
        leaf.requires_grad_(True)
    if layout == "transposed":
        return leaf.transpose(-1, -2), leaf
    if layout == "strided":
        return leaf[..., ::2], leaf
    if layout == "channels_last":
        return leaf.permute(0, 3, 1, 2), leaf
    return leaf, leaf


def convert(
    sample: Sample, lib: str, dtype: str, requires_grad: bool, layouts: list[str]
) -> tuple[list[Any], list[Any]]:
    """The sample's arguments for ``lib`` (as ``harness.to_library``, with the float arrays
    in ``layouts``, one per float array in order); returns (args, leaves): the tensors
    behind the float arguments, which require grad if ``requires_grad``."""
    leaves: list[Any] = []
    it = iter(layouts)

    def one(a: Any) -> Any:
        if isinstance(a, Const):
            return gs.tensor(a.array) if lib == "gs" else torch.tensor(a.array)
        if isinstance(a, np.ndarray):
            is_float = a.dtype.kind == "f"
            arr = a.astype(dtype) if is_float else a
            if not is_float:
                return gs.tensor(arr) if lib == "gs" else torch.tensor(arr)
            arg, leaf = make_input(arr, lib, next(it), requires_grad)
            leaves.append(leaf)
            return arg
        if (
            isinstance(a, (list, tuple))
            and a
            and all(isinstance(x, (np.ndarray, Const)) for x in a)
        ):
            return type(a)(one(x) for x in a)
        return a

    return [one(a) for a in sample.args], leaves


def unview(a: Any, layout: str) -> tuple[np.ndarray, np.ndarray | None]:
    """A leaf's array (its data or its gradient) seen as the argument made from it, and the
    elements the argument skips (a strided view's), or None."""
    a = as_numpy(a)
    if layout == "transposed":
        return a.swapaxes(-1, -2), None
    if layout == "strided":
        return a[..., ::2], a[..., 1::2]
    if layout == "channels_last":
        return a.transpose(0, 3, 1, 2), None
    return a, None


def float_arrays(sample: Sample) -> list[np.ndarray]:
    """The float arrays of a sample, in the order ``convert`` meets them."""
    found: list[np.ndarray] = []
    for a in sample.args:
        parts = a if isinstance(a, (list, tuple)) else [a]
        found += [p for p in parts if isinstance(p, np.ndarray) and p.dtype.kind == "f"]
    return found


# ---------------------------------------------------------------- comparing
def tolerance(spec: OpSpec, dtype: str) -> dict[str, float]:
    """The parity harness's tolerances: the row's own in float32, tight in float64."""
    if dtype == "float64":
        return {"rtol": 1e-7, "atol": 1e-9}
    return {"rtol": spec.rtol32, "atol": spec.atol32}


def compare(ours: Any, theirs: Any, what: str, nonfinite_ok: bool = False, **tol: float) -> str:
    """'' when gradschool's array equals PyTorch's (shape, dtype, values within ``tol``),
    else a message saying how they differ."""
    a, b = as_numpy(ours), as_numpy(theirs)
    if a.shape != b.shape:
        return f"{what}: shape {a.shape} != torch {b.shape}"
    if b.dtype.kind == "f":
        if a.dtype != b.dtype:
            return f"{what}: dtype {a.dtype} != torch {b.dtype}"
        if nonfinite_ok and a.dtype == np.float32:
            odd = (np.isnan(a) & np.isinf(b)) | (np.isinf(a) & np.isnan(b))
            a, b = np.where(odd, np.nan, a), np.where(odd, np.nan, b)
    elif a.dtype.kind != b.dtype.kind:
        return f"{what}: dtype {a.dtype} != torch {b.dtype}"
    try:
        if b.dtype.kind == "f":
            np.testing.assert_allclose(a, b, err_msg=what, equal_nan=True, **tol)
        else:
            np.testing.assert_array_equal(a, b, err_msg=what)
    except AssertionError as e:
        return str(e).strip()
    return ""


def compare_leaves(
    ours: list[Any],
    theirs: list[Any],
    layouts: list[str],
    grad: bool,
    nonfinite_ok: bool = False,
    **tol: float,
) -> list[str]:
    """The leaves after the call (``grad=False``: their values, which only an op that
    writes into its input, as PyTorch's does, may change) or their gradients (where PyTorch
    has none, gradschool's must be None or all zero; a strided view's skipped elements get
    exactly zero)."""
    found = []
    for i, (a, b, layout) in enumerate(zip(ours, theirs, layouts, strict=True)):
        what = f"{'grad of ' if grad else ''}input {i}{' after the call' if not grad else ''}"
        x, y = (a.grad, b.grad) if grad else (a.detach(), b.detach())
        if y is None:
            if x is not None and np.any(as_numpy(x)):
                found.append(f"{what}: torch has none, gradschool's is non-zero")
            continue
        if x is None:
            found.append(f"{what}: gradschool has none")
            continue
        seen, skipped = unview(x, layout)
        found.append(compare(seen, y, what, nonfinite_ok, **tol))
        if skipped is not None and np.any(skipped != (0 if grad else _JUNK)):
            found.append(f"{what}: the elements a strided view skips changed: {skipped}")
    return [f for f in found if f]


def cotangent(case: Case, like: Any, unit: bool = False) -> tuple[Any, Any]:
    """A random dL/dy for output ``like`` (a torch tensor) in its dtype, for both libraries;
    for a 4-D output gradschool's is sometimes stored channels-last (a convolution's
    backward then reads a channels-last dy, as after a following conv). PyTorch's is plain
    (see the module docstring).

    ``unit``: magnitudes in [1, 2) with random signs. With extreme inputs a normal dy of
    0.07 could bring 0.07 * 3e39 back under float32's overflow, where a formula that
    overflows in an intermediate (PyTorch's reciprocal: dy * (y * y)) and one that does
    not (dy / x**2) part ways on a knife-edge; with |dy| >= 1 an overflow stays one."""
    shape = tuple(like.shape)
    if unit:
        g = case.rng.uniform(1.0, 2.0, shape) * case.rng.choice([-1.0, 1.0], shape)
    else:
        g = case.rng.standard_normal(shape)
    g = g.astype(str(like.dtype).split(".")[-1])
    if g.ndim == 4 and case.rng.random() < 0.3:
        case.notes.append("dy channels-last")
        cl = np.ascontiguousarray(g.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
        return gs.tensor(cl), torch.tensor(g)
    return gs.tensor(g), torch.tensor(g)


def backward_both(case: Case, ours: list[Any], theirs: list[Any], unit: bool = False) -> list[str]:
    """Backpropagate one random cotangent per differentiable output through both graphs."""
    ours = [o for o in ours if getattr(o, "requires_grad", False)]
    theirs = [t for t in theirs if getattr(t, "requires_grad", False)]
    if len(ours) != len(theirs):
        return [f"{len(ours)} differentiable outputs, torch has {len(theirs)}"]
    for o, t in zip(ours, theirs, strict=True):
        g_ours, g_theirs = cotangent(case, t, unit)
        t.backward(g_theirs, retain_graph=True)
        o.backward(g_ours, retain_graph=True)
    return []


# ---------------------------------------------------------------- one case of a spec
def run_spec(spec: OpSpec, case: Case) -> list[str]:
    """Draw the spec's sample, pick dtype, layouts and whether gradients are taken; compare."""
    sample = case.sample(spec.sample)
    dtype = case.choice(spec.dtypes)
    layouts = [layout_for(case, a.shape) for a in float_arrays(sample)]
    grad = spec.grad and case.rng.random() < 0.85  # now and then the no-grad forward
    case.notes += [dtype, f"layouts={layouts}", f"grad={grad}"]
    tol = tolerance(spec, dtype)
    nonfinite = getattr(spec, "nonfinite_ok", False)
    th_args, th_leaves = convert(sample, "torch", dtype, grad, layouts)
    gs_args, gs_leaves = convert(sample, "gs", dtype, grad, layouts)
    theirs = outputs(spec.torch(*th_args, **sample.kwargs))
    ours = outputs(spec.gs(*gs_args, **sample.kwargs))
    if len(ours) != len(theirs):
        return [f"{len(ours)} outputs, torch gives {len(theirs)}"]
    found = [
        compare(o, t, f"output {i}", nonfinite, **tol)
        for i, (o, t) in enumerate(zip(ours, theirs, strict=True))
    ]
    if grad:
        found += backward_both(case, ours, theirs, getattr(spec, "unit_cotangent", False))
        found += compare_leaves(gs_leaves, th_leaves, layouts, True, nonfinite, **tol)
    found += compare_leaves(gs_leaves, th_leaves, layouts, False, nonfinite, **tol)
    return [f for f in found if f]
