"""Switching graph building on and off: ``no_grad``, ``enable_grad``, ``set_grad_enabled``.

Inside ``no_grad`` ops record nothing, so evaluation and parameter updates cost no memory for
a graph (CS231n L8: the framework builds the graph only when you ask for gradients).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _State:
    __slots__ = ("enabled",)

    def __init__(self) -> None:
        self.enabled = True


state = _State()


def is_grad_enabled() -> bool:
    """True when ops record the graph for backward."""
    return state.enabled


class _GradMode:
    """A context manager that is also a decorator, like PyTorch's grad-mode guards."""

    mode = True

    def __init__(self) -> None:
        self._prev: list[bool] = []

    def __enter__(self) -> None:
        self._prev.append(state.enabled)
        state.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        state.enabled = self._prev.pop()

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_GradMode):  # noqa: N801 - PyTorch's name
    """Do not record the graph: ``with gradschool.no_grad(): ...`` or ``@gradschool.no_grad()``."""

    mode = False


class enable_grad(_GradMode):  # noqa: N801
    """Record the graph again inside a ``no_grad`` region."""

    mode = True


class set_grad_enabled(_GradMode):  # noqa: N801
    """Set graph recording on or off; works as a call, a context manager or a decorator."""

    def __init__(self, mode: bool) -> None:
        super().__init__()
        self.mode = bool(mode)
        self._prev.append(state.enabled)
        state.enabled = self.mode  # takes effect at once, as torch.set_grad_enabled(False) does

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        state.enabled = self._prev.pop()

    def __call__(self, fn: F) -> F:
        state.enabled = self._prev.pop()  # used as a decorator: undo the immediate effect
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            prev = state.enabled
            state.enabled = mode
            try:
                return fn(*args, **kwargs)
            finally:
                state.enabled = prev

        return wrapper  # type: ignore[return-value]
