"""The reverse walk: backpropagation through the recorded graph (CS231n L4, CSC321 L6).

Every op that needs a gradient leaves a ``Node`` behind. A node holds its ``next`` edges, one
per input: the node that made that input, the leaf tensor itself (whose ``.grad`` receives
the gradient), or ``None`` when the input needs no gradient. ``backward`` walks the nodes in
reverse topological order with an explicit stack (no recursion, so a graph 100,000 ops deep
is fine), hands each node the sum of the gradients flowing into it (upstream gradient), gets
back one gradient per input (upstream x local gradient), and frees what the node saved once
it has run unless ``retain_graph=True``.
"""

from __future__ import annotations

import sys
import weakref
from typing import Any

import numpy as np

from ..backend.device import get_array_module
from ..backend.layout import copy_into


class Node:
    """One recorded op in the graph. Subclasses implement ``backward`` on raw arrays."""

    __slots__ = ("next", "needs_input_grad", "saved", "released", "_retained", "__weakref__")

    def backward(self, grad: Any) -> tuple[Any, ...]:  # pragma: no cover - abstract
        raise TypeError(f"{type(self).__name__} defines no backward")

    def name(self) -> str:
        return f"{type(self).__name__}Backward0"

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"

    @property
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        """PyTorch's view of the edges: (node or leaf tensor, 0) per input."""
        return tuple((e, 0) for e in self.next)


def retain(node: Node, tensor: Any) -> None:
    """Make the walk store the gradient reaching ``node`` into the non-leaf ``tensor``."""
    node._retained = weakref.ref(tensor)


def _accumulate_leaf(leaf: Any, grad: Any, owned: bool = False) -> None:
    """Add ``grad`` into ``leaf.grad``; ``owned`` says nothing else holds ``grad``, so a first
    gradient of the leaf's dtype and memory layout can be kept as it is instead of copied.

    A new ``.grad`` has the leaf's own layout (PyTorch's gradient layout contract): C order
    for a C-contiguous leaf, whatever layout the op computed it in, and channels-last for a
    channels-last input."""
    if leaf.grad is None:
        like = leaf.data
        if owned and grad.dtype == like.dtype and grad.strides == like.strides:
            leaf.grad = leaf._wrap_grad(grad)
            return
        # a backward may hand one array to several inputs, so each leaf gets its own copy
        # (which also turns NumPy scalars into arrays and casts to the leaf's dtype)
        xp = get_array_module(like)
        if like.ndim == 4 and getattr(grad, "ndim", 0) == 4:
            # an image batch: NCHW <-> channels-last by the tiled transpose
            out = xp.empty_like(like)  # the leaf's layout (order="K")
            copy_into(out, grad)
            leaf.grad = leaf._wrap_grad(out)
        elif like.flags.c_contiguous or like.ndim == 0:
            leaf.grad = leaf._wrap_grad(xp.array(grad, dtype=like.dtype, order="C"))
        else:
            out = xp.empty_like(like)  # the leaf's layout (order="K")
            out[...] = grad
            leaf.grad = leaf._wrap_grad(out)
    else:
        leaf.grad.data += grad


# References to a gradient array that ``run_backward`` holds itself when it asks: the
# backward's result tuple and its local name. Counted for CPython up to 3.13; later versions
# may borrow stack references, so there every first gradient is copied.
_OWN_REFS = 2
_CAN_STEAL = sys.implementation.name == "cpython" and sys.version_info < (3, 14)


def _sole_owner(array: Any, own_refs: int = _OWN_REFS) -> bool:
    """Whether ``array`` (a NumPy array whose only holders are ``own_refs`` references of
    ``run_backward`` and its helpers) owns its memory, or is a whole-array view of a base
    nobody else holds: then the leaf can keep it. PyTorch's AccumulateGrad "steals" a
    gradient on the same test."""
    if not _CAN_STEAL or type(array) is not np.ndarray:
        return False
    if sys.getrefcount(array) > own_refs + 2:
        return False  # +2: this function's parameter and getrefcount's argument
    if array.flags.owndata:
        return array.flags.writeable
    base = array.base
    # a reshape of a fresh product: its base is held by the view alone (+2: the local name
    # and getrefcount's argument)
    return (
        type(base) is np.ndarray
        and base.flags.owndata
        and base.flags.writeable
        and base.size == array.size
        and sys.getrefcount(base) <= 3
    )


def _adds_in_place(prev: Any, grad: Any) -> bool:
    """Whether a node's pending gradient ``prev`` can take ``grad`` in place: the same shape,
    dtype and memory layout (into a channels-last array, NumPy adds an NCHW one at half the
    speed of a new sum), and held by nobody but ``run_backward`` (its dict and one local
    name, and this function's parameter). A gradient another node's entry, a view or a
    saved array still holds is summed into a new array."""
    return (
        type(grad) is np.ndarray
        and type(prev) is np.ndarray
        and prev.shape == grad.shape
        and prev.dtype == grad.dtype
        and prev.strides == grad.strides
        and _sole_owner(prev, _OWN_REFS + 1)
    )


def _store_retained(node: Node, grad: Any) -> None:
    ref = getattr(node, "_retained", None)
    tensor = ref() if ref is not None else None
    if tensor is not None:
        _accumulate_leaf(tensor, grad)


_FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward(). Specify retain_graph=True if you need to backward through "
    "the graph a second time."
)


def run_backward(root: Node, grad: Any, retain_graph: bool = False) -> None:
    """Backpropagate ``grad`` (the gradient of the output ``root`` made) to every leaf."""
    # 1. count, for every node, how many edges inside this graph point at it
    pending: dict[Node, int] = {root: 0}
    stack = [root]
    while stack:
        node = stack.pop()
        for edge in node.next:
            if isinstance(edge, Node):
                if edge in pending:
                    pending[edge] += 1
                else:
                    pending[edge] = 1
                    stack.append(edge)
    # 2. run each node once all of its consumers have handed it their gradient
    grads: dict[Node, Any] = {root: grad}
    ready = [root]
    while ready:
        node = ready.pop()
        g = grads.pop(node, None)
        if g is None:
            in_grads: tuple[Any, ...] = (None,) * len(node.next)
        else:
            if node.released:
                raise RuntimeError(_FREED)
            if node._retained is not None:
                _store_retained(node, g)
            in_grads = node.backward(g)
            if not retain_graph and node.saved is not None:
                node.saved = None
                node.released = True
        # trailing constant (non-tensor) inputs may have no entry in in_grads; indexing, not
        # zip, so that no iterator keeps a reference to the gradient (see _sole_owner)
        for i in range(min(len(node.next), len(in_grads))):
            edge = node.next[i]
            if edge is None:
                continue
            ig = in_grads[i]
            if isinstance(edge, Node):
                if ig is not None:
                    prev = grads.get(edge)
                    if prev is None:
                        grads[edge] = ig
                    elif _adds_in_place(prev, ig):
                        prev += ig  # a residual block's two paths: no third array
                    else:
                        grads[edge] = prev + ig
                    prev = None
                pending[edge] -= 1
                if pending[edge] == 0:
                    ready.append(edge)
            elif ig is not None:
                owned = _sole_owner(ig)  # asked before the call puts ig on the stack again
                _accumulate_leaf(edge, ig, owned)
            ig = None
