"""``Function``: one differentiable op, written as a forward and a backward on raw arrays.

A subclass implements ``forward(*arrays, **options) -> array`` and
``backward(grad) -> tuple`` (one gradient per positional input, ``None`` where an input
needs none). Arrays needed by ``backward`` go in ``self.saved`` (freed after the backward
runs); small facts such as shapes go in ordinary attributes. ``Function.apply`` unwraps
Tensors, runs ``forward`` and, when some input requires a gradient and grad mode is on,
records the call as a node of the graph. Backward works on arrays, not Tensors, so the
gradient computation itself builds no graph and costs no Tensor overhead.
"""

from __future__ import annotations

from typing import Any

from numpy import asarray, ndarray

from ..tensor import Tensor
from .engine import Node
from .grad_mode import state as _grad_state


def _edge(x: Any) -> Any:
    """Where the gradient for input ``x`` goes: its node, the leaf itself, or nowhere."""
    if x.__class__ is not Tensor and not isinstance(x, Tensor):
        return None
    if x.grad_fn is not None:
        return x.grad_fn
    return x if x._requires_grad else None


class Function(Node):
    """Base class of differentiable ops (``torch.autograd.Function`` without ``ctx``)."""

    #: the op's name in error messages; defaults to the lower-cased class name
    op_name: str = ""

    def forward(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover - abstract
        raise TypeError(f"{type(self).__name__} defines no forward")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # a plain function (not a classmethod) so it can also be bound as a Tensor method
        cls.apply = staticmethod(_make_apply(cls))

    @staticmethod
    def apply(*args: Any, **kwargs: Any) -> Tensor:  # replaced per subclass
        """Run the op on Tensors (or constants) and record it when gradients are needed."""
        raise TypeError("Function.apply is called on a subclass, e.g. Add.apply(a, b)")


def _make_apply(cls: type) -> Any:
    new = cls.__new__
    forward = cls.forward

    def apply(*args: Any, **kwargs: Any) -> Tensor:
        fn = new(cls)
        fn.saved = None
        # one pass over the inputs: unwrap Tensors and note whether any needs a gradient
        arrays = []
        record = False
        for a in args:
            if isinstance(a, Tensor):
                arrays.append(a.data)
                if a._requires_grad:
                    record = True
            else:
                arrays.append(a)
        try:
            out = forward(fn, *arrays, **kwargs)
        except ValueError as err:
            raise _shape_error(cls, err, arrays) from None
        if out.__class__ is not ndarray and not hasattr(out, "__cuda_array_interface__"):
            out = asarray(out)  # ufuncs on 0-d arrays return NumPy scalars
        if record and _grad_state.enabled:
            edges = tuple(map(_edge, args))
            fn.next = edges
            fn.needs_input_grad = tuple(e is not None for e in edges)
            fn.released = False
            fn._retained = None
            return Tensor._make(out, fn)
        return Tensor._make(out)

    apply.__name__ = f"{cls.__name__}.apply"
    apply.__qualname__ = apply.__name__
    apply.__doc__ = f"Apply ``{cls.__name__}`` to tensors, recording it for backward when needed."
    return apply


def op_name(cls: type) -> str:
    return cls.op_name or cls.__name__.lower()


def _shape_error(cls: type, err: ValueError, arrays: list[Any]) -> ValueError | TypeError:
    """Name the op and the input shapes in errors that NumPy raises from deep inside."""
    name = op_name(cls)
    msg = str(err)
    if msg.startswith(name + ":"):
        return err
    text = next((a for a in arrays if isinstance(a, str)), None)
    if text is not None:  # NumPy's "could not convert string to float" is no shape problem
        return TypeError(f"{name}: expected Tensors or numbers, got the string {text!r}")
    shapes = ", ".join(str(tuple(a.shape)) for a in arrays if hasattr(a, "shape"))
    return ValueError(f"{name}: invalid input shapes {shapes}: {msg}")
