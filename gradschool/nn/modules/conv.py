"""Convolutional layers (CS231n L5 "Convolutional networks", L11 "learnable upsampling";
CSC321 L11): ``Conv1d``, ``Conv2d``, ``ConvTranspose1d``, ``ConvTranspose2d``.

Each holds a weight and an optional bias and calls ``gradschool.nn.functional``. Arguments,
attribute names (``kernel_size``, ``stride``... stored as tuples), the weight layout, the
default initialisation, ``extra_repr`` and the state_dict keys (``weight``, ``bias``) are
PyTorch's, so weights load from a PyTorch model by name.

Default initialisation (PyTorch's): ``kaiming_uniform_(weight, a=sqrt(5))``, which is
U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in_channels/groups x kernel area, and the
bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)) too: a small scale that keeps early activations
from exploding (CS231n L6 on initialisation).
"""

from __future__ import annotations

import math
from typing import Any

from ...creation import empty
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _ntuple(value: Any, n: int, name: str, layer: str) -> tuple[int, ...]:
    """PyTorch's ``_single``/``_pair``: an int repeated, or a sequence of ``n`` ints."""
    if isinstance(value, bool):
        raise TypeError(f"{layer}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    if isinstance(value, int):
        return (value,) * n
    try:
        out = tuple(int(v) for v in value)
    except TypeError:
        raise TypeError(
            f"{layer}: {name} must be an int or a tuple of {n} ints, got {value!r}"
        ) from None
    if len(out) != n:
        raise ValueError(f"{layer}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    return out


class _ConvNd(Module):
    """What the convolution layers share: arguments, parameters, initialisation, repr."""

    _nd = 2
    _transposed = False

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any,
        padding: Any,
        dilation: Any,
        output_padding: Any,
        groups: int,
        bias: bool,
        padding_mode: str,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name, nd = type(self).__name__, self._nd
        for arg, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name}: {arg} must be a non-negative int, got {value!r}")
        if isinstance(groups, bool) or not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups!r}")
        if in_channels % groups:
            raise ValueError(
                f"{name}: in_channels must be divisible by groups, got {in_channels} and {groups}"
            )
        if out_channels % groups:
            raise ValueError(
                f"{name}: out_channels must be divisible by groups, got {out_channels} and {groups}"
            )
        kernel_size = _ntuple(kernel_size, nd, "kernel_size", name)
        stride = _ntuple(stride, nd, "stride", name)
        dilation = _ntuple(dilation, nd, "dilation", name)
        for arg, value in (
            ("kernel_size", kernel_size),
            ("stride", stride),
            ("dilation", dilation),
        ):
            if any(v <= 0 for v in value):
                raise ValueError(f"{name}: {arg} must be positive, got {value}")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(
                    f"{name}: invalid padding string {padding!r}, should be one of "
                    "{'valid', 'same'}"
                )
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError(
                    f"{name}: padding='same' is not supported for strided convolutions "
                    f"(stride={stride})"
                )
        else:
            padding = _ntuple(padding, nd, "padding", name)
            if any(p < 0 for p in padding):
                raise ValueError(f"{name}: padding must be non-negative, got {padding}")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"{name}: padding_mode must be one of {list(_PADDING_MODES)}, got {padding_mode!r}"
            )
        if padding_mode != "zeros" and (self._transposed or not hasattr(F, "pad")):
            what = "ConvTranspose layers" if self._transposed else "this build (no F.pad)"
            raise ValueError(
                f"{name}: padding_mode={padding_mode!r} is not supported for {what}; only 'zeros'"
            )
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.dilation, self.transposed, self.groups = dilation, self._transposed, groups
        self.output_padding = _ntuple(output_padding, nd, "output_padding", name)
        self.padding_mode = padding_mode
        # F.pad's argument for the non-zero padding modes: last dim first, both sides
        if isinstance(padding, str):
            total = [d * (k - 1) for d, k in zip(dilation, kernel_size, strict=True)]
            pairs = [(t // 2, t - t // 2) for t in total] if padding == "same" else [(0, 0)] * nd
        else:
            pairs = [(p, p) for p in padding]
        self._reversed_padding_repeated_twice = [v for pair in reversed(pairs) for v in pair]
        # the weight is (out, in/groups, *kernel); transposed: (in, out/groups, *kernel)
        shape = (
            (in_channels, out_channels // groups)
            if self._transposed
            else (out_channels, in_channels // groups)
        )
        self.weight = Parameter(empty(*shape, *kernel_size, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: weight and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
        # kaiming_uniform_ with a=sqrt(5): gain sqrt(2/6), bound gain*sqrt(3/fan_in) = 1/sqrt(fan_in)
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        s = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
            f", stride={self.stride}"
        )
        nd = self._nd
        if self.padding != (0,) * nd:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * nd:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * nd:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    def _check_input(self, input: Any) -> None:  # noqa: A002
        """A clear error naming the layer before any computation (CS231n: shapes first)."""
        layer = f"{type(self).__name__}({self.extra_repr()})"
        if not isinstance(input, Tensor):
            raise TypeError(f"{layer} expected a Tensor input, got {type(input).__name__}")
        nd = self._nd
        if input.ndim not in (nd + 1, nd + 2):
            dims = "(N, C, L)" if nd == 1 else "(N, C, H, W)"
            raise ValueError(
                f"{layer} expected a {nd + 1}-D (unbatched) or {nd + 2}-D (batched) input "
                f"{dims}, got shape {tuple(input.shape)}"
            )
        c = input.shape[-nd - 1]
        if c != self.in_channels:
            raise ValueError(f"{layer} expected {self.in_channels} input channels, got {c}")


class _Conv(_ConvNd):
    """What Conv1d and Conv2d share: PyTorch's constructor and the forward."""

    _conv: Any = None  # the functional op, set by each subclass

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            0,
            groups,
            bias,
            padding_mode,
            device,
            dtype,
        )

    def _conv_forward(self, input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:  # noqa: A002
        """The convolution with a given weight (PyTorch's hook for layers that transform
        their weight first, e.g. weight standardisation)."""
        self._check_input(input)
        if self.padding_mode != "zeros":
            input = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return self._conv(input, weight, bias, self.stride, 0, self.dilation, self.groups)
        return self._conv(
            input, weight, bias, self.stride, self.padding, self.dilation, self.groups
        )

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_Conv):
    """1-D convolution over ``(N, C_in, L)`` (or unbatched ``(C_in, L)``) -> ``(N, C_out,
    L_out)``, ``L_out = (L + 2*padding - dilation*(kernel_size-1) - 1) // stride + 1``.

    Weight ``(C_out, C_in/groups, kernel_size)``, bias ``(C_out,)``. Lecture: CS231n L5 (on
    sequences: CS231n L10, audio and text convnets).
    """

    _nd = 1
    _conv = staticmethod(F.conv1d)


class Conv2d(_Conv):
    """2-D convolution over images ``(N, C_in, H, W)`` (or ``(C_in, H, W)``) ->
    ``(N, C_out, H_out, W_out)``, ``H_out = (H + 2*padding - dilation*(kH-1) - 1) // stride + 1``.

    Weight ``(C_out, C_in/groups, kH, kW)``, bias ``(C_out,)``. ``padding`` may be an int, a
    pair, ``'valid'`` or ``'same'``. Lecture: CS231n L5, CSC321 L11.

    >>> import gradschool as gs
    >>> from gradschool import nn
    >>> conv = nn.Conv2d(3, 16, kernel_size=3, padding=1)
    >>> conv
    Conv2d(3, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
    >>> tuple(conv(gs.randn(8, 3, 32, 32)).shape)
    (8, 16, 32, 32)
    """

    _nd = 2
    _conv = staticmethod(F.conv2d)


class _ConvTransposeNd(_ConvNd):
    """What ConvTranspose1d and ConvTranspose2d share: PyTorch's constructor and forward."""

    _transposed = True
    _conv: Any = None  # the functional op, set by each subclass

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        output_padding: Any = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: Any = 1,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            output_padding,
            groups,
            bias,
            padding_mode,
            device,
            dtype,
        )

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:  # noqa: A002
        self._check_input(input)
        output_padding = self._output_padding(input, output_size)
        return self._conv(
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            output_padding,
            self.groups,
            self.dilation,
        )

    def _output_padding(self, input: Tensor, output_size: Any) -> tuple[int, ...]:
        """The output_padding that makes the output ``output_size`` (PyTorch's rule: a
        strided convolution maps several input sizes to one output size, so its transpose
        needs telling which one to produce)."""
        if output_size is None:
            return self.output_padding
        nd, name = self._nd, type(self).__name__
        size = [int(s) for s in output_size]
        if len(size) == nd + 2 or (len(size) == nd + 1 and input.ndim == nd + 1):
            size = size[-nd:]
        if len(size) != nd:
            raise ValueError(
                f"{name}: output_size must have {nd} or {nd + 2} elements (got {len(size)})"
            )
        out = []
        for d in range(nd):
            in_size = input.shape[input.ndim - nd + d]
            low = (
                (in_size - 1) * self.stride[d]
                - 2 * self.padding[d]
                + self.dilation[d] * (self.kernel_size[d] - 1)
                + 1
            )
            high = low + self.stride[d] - 1
            if not low <= size[d] <= high:
                raise ValueError(
                    f"{name}: requested an output size of {size}, but valid sizes range from "
                    f"{low} to {high} (for an input of {tuple(input.shape[-nd:])})"
                )
            out.append(size[d] - low)
        return tuple(out)


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution ("learnable upsampling" of sequences): ``(N, C_in, L)`` ->
    ``(N, C_out, (L-1)*stride - 2*padding + dilation*(kernel_size-1) + output_padding + 1)``.

    Weight ``(C_in, C_out/groups, kernel_size)``, bias ``(C_out,)``. Lecture: CS231n L11.
    """

    _nd = 1
    _conv = staticmethod(F.conv_transpose1d)


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed ("fractionally strided") convolution, the learnable upsampling of
    segmentation nets and GAN generators: ``(N, C_in, H, W)`` -> ``(N, C_out, H_out, W_out)``,
    ``H_out = (H-1)*stride - 2*padding + dilation*(kH-1) + output_padding + 1``.

    Weight ``(C_in, C_out/groups, kH, kW)``, bias ``(C_out,)``. ``forward(input,
    output_size=None)``: ``output_size`` picks the output_padding. Lecture: CS231n L11 (and
    L13, DCGAN), CSC321 L11.
    """

    _nd = 2
    _conv = staticmethod(F.conv_transpose2d)
