"""``Parameter``: a Tensor that a Module registers as something to learn."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor, format_tensor


class Parameter(Tensor):
    """A leaf tensor that requires grad and is registered by the Module it is assigned to.

    ``Parameter(gradschool.randn(3, 4))`` shares the tensor's array.
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            from ..creation import empty

            data = empty(0)
        super().__init__(data.data if isinstance(data, Tensor) else data)
        if requires_grad:
            self.requires_grad = True

    def __repr__(self) -> str:
        return "Parameter containing:\n" + format_tensor(self)

    __str__ = __repr__
