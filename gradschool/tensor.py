"""The Tensor: an array, plus what autograd needs to send gradients back through it.

A Tensor holds ``data`` (a NumPy array on the CPU, a CuPy array on a GPU), ``requires_grad``,
``grad`` (filled by ``backward``) and ``grad_fn`` (the graph node of the op that made it;
``None`` for a leaf). Ops live in ``gradschool.ops`` and are bound to Tensor as methods and
operators there, so this file holds only the state and the non-differentiable accessors.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .autograd import engine
from .backend.device import device, device_of, get_array_module, to_device
from .backend.dtype import dtype, from_numpy_dtype, get_default_dtype


class Tensor:
    """A multi-dimensional array that records the ops applied to it for backpropagation.

    Shape conventions follow PyTorch (images are ``(N, C, H, W)``). Build tensors with
    ``gradschool.tensor``, ``zeros``, ``randn`` and friends rather than this constructor.
    """

    __slots__ = ("data", "grad", "grad_fn", "_requires_grad", "__weakref__")
    __array_priority__ = 1000  # make ``ndarray + Tensor`` defer to Tensor.__radd__

    def __init__(self, data: Any, requires_grad: bool = False) -> None:
        if isinstance(data, Tensor):
            data = data.data
        if not hasattr(data, "__array_interface__") and not hasattr(
            data, "__cuda_array_interface__"
        ):
            data = np.asarray(data)
            if data.dtype == np.float64:
                data = data.astype(get_default_dtype().np)
        self.data = data
        self.grad: Tensor | None = None
        self.grad_fn: engine.Node | None = None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _make(cls, data: Any, grad_fn: engine.Node | None = None) -> Tensor:
        """Wrap an array without checks or copies (the ops' fast path)."""
        t = object.__new__(cls)
        t.data = data
        t.grad = None
        t.grad_fn = grad_fn
        t._requires_grad = grad_fn is not None
        return t

    def _wrap_grad(self, array: Any) -> Tensor:
        return Tensor._make(array)

    # ----------------------------------------------------------------- autograd state
    @property
    def requires_grad(self) -> bool:
        """Whether ops on this tensor are recorded so that gradients can flow back to it."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        if self.grad_fn is not None and not flag:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use "
                "a computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        if flag and self.data.dtype.kind not in "fc":
            raise RuntimeError(
                f"only Tensors of floating point dtype can require gradients, got {self.dtype!r}"
            )
        self._requires_grad = bool(flag)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return self."""
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user rather than by a recorded op."""
        return self.grad_fn is None

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after ``backward`` (leaves always keep it)."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is not None:
            engine.retain(self.grad_fn, self)

    def detach(self) -> Tensor:
        """The same data, cut from the graph (shares memory, as in PyTorch)."""
        return Tensor._make(self.data)

    def detach_(self) -> Tensor:
        self.grad_fn = None
        self._requires_grad = False
        return self

    def backward(self, gradient: Any = None, retain_graph: bool = False) -> None:
        """Backpropagate from this tensor: fill ``.grad`` of every leaf it depends on.

        ``gradient`` is d(something)/d(self), needed when self is not a scalar.
        """
        if not self._requires_grad:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn"
            )
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            grad = get_array_module(self.data).ones_like(self.data)
        else:
            grad = gradient.data if isinstance(gradient, Tensor) else gradient
            xp = get_array_module(self.data)
            grad = xp.asarray(grad, dtype=self.data.dtype)
            if grad.shape != self.data.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[0] has a shape of {tuple(grad.shape)} and "
                    f"output[0] has a shape of {tuple(self.data.shape)}."
                )
        if self.grad_fn is None:
            engine._accumulate_leaf(self, grad)
        else:
            engine.run_backward(self.grad_fn, grad, retain_graph=retain_graph)

    # ----------------------------------------------------------------- description
    @property
    def shape(self) -> tuple[int, ...]:
        """The size of each dimension (a tuple, like ``torch.Size``)."""
        return self.data.shape

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        """The shape, or the size of one dimension."""
        return self.data.shape if dim is None else self.data.shape[dim]

    @property
    def dtype(self) -> dtype:
        return from_numpy_dtype(self.data.dtype)

    @property
    def device(self) -> device:
        return device_of(self.data)

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    @property
    def ndim(self) -> int:
        return self.data.ndim

    def dim(self) -> int:
        return self.data.ndim

    def numel(self) -> int:
        return int(self.data.size)

    def element_size(self) -> int:
        return self.data.itemsize

    def is_floating_point(self) -> bool:
        return self.data.dtype.kind == "f"

    def is_contiguous(self) -> bool:
        return bool(self.data.flags.c_contiguous)

    def data_ptr(self) -> int:
        return (
            int(self.data.__array_interface__["data"][0])
            if isinstance(self.data, np.ndarray)
            else int(self.data.data.ptr)
        )

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __hash__(self) -> int:
        return id(self)

    # ----------------------------------------------------------------- leaving gradschool
    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (shares memory on the CPU, like PyTorch)."""
        if self._requires_grad:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."
            )
        return to_device(self.data, "cpu") if not isinstance(self.data, np.ndarray) else self.data

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        a = to_device(self.data, "cpu")
        return a if dtype is None else a.astype(dtype)

    def item(self) -> float | int | bool:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self.data.size} elements cannot be converted to Scalar"
            )
        return (
            self.data.reshape(()).item() if isinstance(self.data, np.ndarray) else self.data.item()
        )

    def tolist(self) -> Any:
        """The data as (nested) Python lists."""
        return to_device(self.data, "cpu").tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iub" or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with more than one value is ambiguous (shape {tuple(self.shape)})"
            )
        return bool(self.item())

    def __iter__(self) -> Iterator[Tensor]:
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.data.shape[0]))

    # ----------------------------------------------------------------- printing
    def __repr__(self) -> str:
        return format_tensor(self)

    def __str__(self) -> str:
        return format_tensor(self)


def _format_data(data: np.ndarray) -> str:
    if data.size == 0:
        return "[]"
    if data.dtype.kind == "f":
        finite = data[np.isfinite(data)]
        integral = finite.size == 0 or bool(np.all(finite == np.round(finite)))
        big = finite.size and (
            np.abs(finite).max() >= 1e8 or (0 < np.abs(finite[finite != 0]).min(initial=1) < 1e-4)
        )
        if big:
            fmt = {"float_kind": lambda v: f"{v:.4e}"}
        elif integral:
            fmt = {"float_kind": lambda v: f"{v:.0f}." if np.isfinite(v) else str(v)}
        else:
            fmt = {"float_kind": lambda v: f"{v:.4f}"}
        return np.array2string(
            data, separator=", ", formatter=fmt, prefix="tensor(", threshold=1000, edgeitems=3
        )
    if data.dtype.kind == "b":
        return np.array2string(
            data,
            separator=", ",
            prefix="tensor(",
            formatter={"bool": lambda v: "True" if v else "False"},
        )
    return np.array2string(data, separator=", ", prefix="tensor(", threshold=1000, edgeitems=3)


_SHOWN_DTYPES = {np.dtype(np.float32), np.dtype(np.int64), np.dtype(np.bool_)}


def format_tensor(t: Tensor) -> str:
    """``tensor([...], dtype=..., grad_fn=<...>)`` in PyTorch's layout."""
    data = np.asarray(to_device(t.data, "cpu"))
    body = _format_data(data)
    extras = []
    if data.size == 0 and data.shape != (0,):
        extras.append(f"size={tuple(data.shape)}")
    if t.device.type != "cpu":
        extras.append(f"device='{t.device}'")
    if data.dtype not in _SHOWN_DTYPES or (
        data.dtype == np.float32 and get_default_dtype().np != np.float32
    ):
        extras.append(f"dtype={from_numpy_dtype(data.dtype)!r}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._requires_grad:
        extras.append("requires_grad=True")
    return "tensor(" + ", ".join([body, *extras]) + ")"
