"""``summary(model, input_size)``: the course's conv-net size arithmetic, done for you.

For every layer it reports the output shape ((N - F + 2P) / S + 1 per spatial dim), the
parameter count ((F*F*C_in/groups + 1) * K for a conv), the multiply-adds of one forward
pass, and the receptive field: how many input pixels (along one side) can influence one
output unit. Receptive fields grow by (F - 1) * dilation * jump at each conv or pool, where
the jump (the product of earlier strides) is how far apart neighbouring units' windows sit.
Three stacked 3x3 convs therefore see 7x7, like one 7x7 conv, with 27C^2 instead of 49C^2
weights (CS231n L9, VGG).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ..autograd.grad_mode import no_grad
from ..creation import zeros
from ..tensor import Tensor
from .module import Module

__all__ = ["ModelSummary", "summary"]


@dataclass
class LayerRow:
    name: str
    kind: str
    output_shape: tuple[int, ...]
    params: int
    mult_adds: int
    receptive_field: int | None


@dataclass
class ModelSummary:
    """The rows of the table plus totals; ``print(summary)`` shows the table."""

    rows: list[LayerRow] = field(default_factory=list)
    input_size: tuple[int, ...] = ()
    total_params: int = 0
    trainable_params: int = 0

    @property
    def total_mult_adds(self) -> int:
        return sum(r.mult_adds for r in self.rows)

    def __str__(self) -> str:
        head = ("Layer (type)", "Output shape", "Param #", "Mult-adds", "RF")
        body = [
            (
                f"{r.name} ({r.kind})",
                str(list(r.output_shape)),
                f"{r.params:,}",
                f"{r.mult_adds:,}",
                "-" if r.receptive_field is None else str(r.receptive_field),
            )
            for r in self.rows
        ]
        widths = [max(len(row[i]) for row in [head, *body]) for i in range(5)]
        line = "=" * (sum(widths) + 3 * 4)

        def fmt(row: tuple[str, ...]) -> str:
            first = row[0].ljust(widths[0])
            rest = [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
            return "   ".join([first, *rest])

        lines = [line, fmt(head), line, *map(fmt, body), line]
        lines += [
            f"Input size: {list(self.input_size)}",
            f"Total params: {self.total_params:,}",
            f"Trainable params: {self.trainable_params:,}",
            f"Non-trainable params: {self.total_params - self.trainable_params:,}",
            f"Total mult-adds: {self.total_mult_adds:,} ({self.total_mult_adds / 1e6:.2f} M)",
            line,
        ]
        return "\n".join(lines)

    __repr__ = __str__


def _pair(v: Any) -> int:
    return int(v[0] if isinstance(v, (tuple, list)) else v)


def _mult_adds(module: Module, inputs: tuple[Any, ...], out: Tensor) -> int:
    """Multiply-adds of the layers that do GEMM work (conv, linear); others count 0."""
    if hasattr(module, "in_features") and hasattr(module, "out_features"):
        return int(out.numel() * module.in_features)
    if (
        hasattr(module, "in_channels")
        and hasattr(module, "kernel_size")
        and hasattr(module, "weight")
    ):
        k = math.prod(module.weight.shape[2:])
        if "Transpose" in type(module).__name__:
            x = inputs[0]
            return int(x.numel() * (module.out_channels // module.groups) * k)
        return int(out.numel() * (module.in_channels // module.groups) * k)
    return 0


def _grows_receptive_field(module: Module) -> bool:
    return (
        hasattr(module, "kernel_size")
        and hasattr(module, "stride")
        and "Adaptive" not in type(module).__name__
    )


def summary(model: Module, input_size: tuple[int, ...], dtype: Any = None) -> ModelSummary:
    """Run one forward pass on zeros of ``input_size`` (batch dim included, e.g.
    ``(1, 1, 28, 28)``) and tabulate every leaf layer; returns a ``ModelSummary``.

    The model runs in eval mode under ``no_grad`` (batch-norm statistics are not touched) and
    is returned to its previous mode afterwards.
    """
    if not isinstance(model, Module):
        raise TypeError(f"summary: expected a gradschool.nn.Module, got {type(model).__name__}")
    input_size = tuple(int(s) for s in input_size)
    result = ModelSummary(input_size=input_size)
    seen: dict[int, tuple[int, int]] = {}  # id(output tensor) -> (receptive field, jump)
    keep: list[Any] = []  # keeps outputs alive so their ids stay unique
    handles = []
    x = zeros(*input_size, dtype=dtype)
    seen[id(x)] = (1, 1)

    def hook(name: str) -> Any:
        def record(module: Module, inputs: tuple[Any, ...], out: Any) -> None:
            src = inputs[0] if inputs else None
            rf, jump = seen.get(id(src), max(seen.values(), default=(1, 1)))
            if _grows_receptive_field(module):
                k = _pair(module.kernel_size)
                d = _pair(getattr(module, "dilation", 1))
                rf, jump = (
                    rf + (k - 1) * d * jump,
                    jump * _pair(module.stride or module.kernel_size),
                )
            outs = out if isinstance(out, (tuple, list)) else (out,)
            for o in outs:
                if isinstance(o, Tensor):
                    seen[id(o)] = (rf, jump)
                    keep.append(o)
            first = outs[0]
            spatial = isinstance(first, Tensor) and first.ndim >= 3
            result.rows.append(
                LayerRow(
                    name=name,
                    kind=type(module).__name__,
                    output_shape=tuple(first.shape) if isinstance(first, Tensor) else (),
                    params=sum(p.numel() for p in module.parameters(recurse=False)),
                    mult_adds=_mult_adds(module, inputs, first),
                    receptive_field=rf if spatial else None,
                )
            )

        return record

    for name, module in model.named_modules():
        if not module._modules:  # leaf layers (the model itself when it is a single layer)
            handles.append(module.register_forward_hook(hook(name or type(module).__name__)))
    was_training = model.training
    try:
        model.eval()
        with no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    params = list(model.parameters())
    result.total_params = sum(p.numel() for p in params)
    result.trainable_params = sum(p.numel() for p in params if p.requires_grad)
    return result
