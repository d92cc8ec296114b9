"""Reverse-mode automatic differentiation: grad mode, graph nodes, the reverse walk."""

from .engine import Node, run_backward
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled

__all__ = ["Node", "enable_grad", "is_grad_enabled", "no_grad", "run_backward", "set_grad_enabled"]
