"""Normalisation layers (CS231n L6-L7 "Training neural networks", L9 AlexNet's LRN; CSC321 L9).

Each class holds the learnt scale and shift (``weight`` = gamma, ``bias`` = beta, initialised
to 1 and 0 so the layer starts as a pure normaliser) and, for batch norm, the running
statistics used at test time as buffers, under PyTorch's names: ``running_mean``,
``running_var`` and ``num_batches_tracked`` appear in ``state_dict()`` but are not
parameters. ``train()`` / ``eval()`` switch batch norm between batch statistics (updating the
running ones) and the running statistics. The maths lives in ``nn.functional.normalization``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from ...creation import empty, ones, tensor, zeros
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..module import Module, Parameter

__all__ = [
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNorm3d",
    "InstanceNorm1d",
    "InstanceNorm2d",
    "InstanceNorm3d",
    "LayerNorm",
    "GroupNorm",
    "LocalResponseNorm",
]


def _check_tensor(input: Any, layer: str) -> None:  # noqa: A002
    if not isinstance(input, Tensor):
        raise TypeError(f"{layer} expected a Tensor as input, got {type(input).__name__}")


class _NormBase(Module):
    """What batch and instance norm share: gamma/beta and the running-statistics buffers."""

    #: the input ranks the layer accepts, and how it names them in errors
    _dims: tuple[int, ...] = ()
    _layout: str = ""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if isinstance(num_features, bool) or not isinstance(num_features, (int, np.integer)):
            raise TypeError(f"{name}: num_features must be an int, got {num_features!r}")
        if num_features <= 0:
            raise ValueError(f"{name}: num_features must be positive, got {num_features}")
        self.num_features = int(num_features)
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        kw = {"dtype": dtype, "device": device}
        if affine:
            self.weight = Parameter(empty(self.num_features, **kw))
            if bias:
                self.bias = Parameter(empty(self.num_features, **kw))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(self.num_features, **kw))
            self.register_buffer("running_var", ones(self.num_features, **kw))
            self.register_buffer("num_batches_tracked", tensor(0, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches seen."""
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    def reset_parameters(self) -> None:
        """gamma = 1 and beta = 0 (the identity after normalising), and fresh running stats."""
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _name(self) -> str:
        return f"{type(self).__name__}({self.num_features})"

    def _check_input_dim(self, input: Any) -> None:  # noqa: A002
        _check_tensor(input, self._name())
        if input.ndim not in self._dims:
            raise ValueError(
                f"{self._name()} expected {self._layout} input, "
                f"got {input.ndim}D input of shape {tuple(input.shape)}"
            )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class _BatchNorm(_NormBase):
    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        self._check_input_dim(input)
        if input.shape[1] != self.num_features:
            raise ValueError(
                f"{self._name()} expected {self.num_features} channels, got {input.shape[1]} "
                f"(input of shape {tuple(input.shape)})"
            )
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            if self.momentum is None:  # a cumulative average of every batch seen so far
                factor = 1.0 / float(self.num_batches_tracked.data)
        # batch statistics in training, and in evaluation when nothing was tracked
        bn_training = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if track else None,
            self.running_var if track else None,
            self.weight,
            self.bias,
            bn_training,
            factor,
            self.eps,
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of ``(N, C)`` or ``(N, C, L)`` input over the batch (and L), per
    feature C. In training it normalises with the batch statistics and updates the running
    ones (``momentum`` weighs the new batch; ``None`` keeps a cumulative average); in
    evaluation it uses the running statistics. CS231n L6, assignment 2.

    >>> import gradschool as gs
    >>> import gradschool.nn as nn
    >>> bn = nn.BatchNorm1d(3)
    >>> bn(gs.randn(8, 3)).shape
    (8, 3)
    >>> list(bn.state_dict())
    ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']
    """

    _dims, _layout = (2, 3), "2D (N, C) or 3D (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Spatial batch normalisation of ``(N, C, H, W)`` input: per channel C, statistics over
    N, H and W (every position of a feature map is a sample of its channel). CS231n L6-L7."""

    _dims, _layout = (4,), "4D (N, C, H, W)"


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of ``(N, C, D, H, W)`` input (video, volumes), per channel C."""

    _dims, _layout = (5,), "5D (N, C, D, H, W)"


class _InstanceNorm(_NormBase):
    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = False,
        track_running_stats: bool = False,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__(
            num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias
        )

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        self._check_input_dim(input)
        unbatched = input.ndim == self._dims[0]
        c = input.shape[0 if unbatched else 1]
        if c != self.num_features:
            msg = f"{self._name()} expected {self.num_features} channels, got {c}"
            if self.affine or self.track_running_stats:
                raise ValueError(msg + f" (input of shape {tuple(input.shape)})")
            # as PyTorch: num_features is unused without affine parameters or running stats
            warnings.warn(msg + "; num_features is unused (affine=False)", stacklevel=2)
        x = input.unsqueeze(0) if unbatched else input
        out = F.instance_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            self.training or not self.track_running_stats,
            0.0 if self.momentum is None else self.momentum,
            self.eps,
        )
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of ``(N, C, L)`` (or unbatched ``(C, L)``) input: each channel
    of each sample normalised over L. No affine parameters or running statistics by default."""

    _dims, _layout = (2, 3), "2D (C, L) or 3D (N, C, L)"


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of ``(N, C, H, W)`` (or unbatched ``(C, H, W)``) input: each
    channel of each image normalised over its H x W positions (style transfer). No affine
    parameters or running statistics by default."""

    _dims, _layout = (3, 4), "3D (C, H, W) or 4D (N, C, H, W)"


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation of ``(N, C, D, H, W)`` (or unbatched ``(C, D, H, W)``) input."""

    _dims, _layout = (4, 5), "4D (C, D, H, W) or 5D (N, C, D, H, W)"


class LayerNorm(Module):
    """Layer normalisation over the trailing ``normalized_shape`` dims of each sample, with an
    elementwise ``weight`` and ``bias`` of that shape. The same in training and evaluation;
    the normaliser of RNNs and transformers. CS231n L7.

    >>> import gradschool as gs
    >>> import gradschool.nn as nn
    >>> nn.LayerNorm(4)(gs.randn(2, 3, 4)).shape
    (2, 3, 4)
    """

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if isinstance(normalized_shape, (int, np.integer)):
            normalized_shape = (int(normalized_shape),)
        self.normalized_shape = tuple(int(s) for s in normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        kw = {"dtype": dtype, "device": device}
        if elementwise_affine:
            self.weight = Parameter(empty(self.normalized_shape, **kw))
            if bias:
                self.bias = Parameter(empty(self.normalized_shape, **kw))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.elementwise_affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        _check_tensor(input, f"LayerNorm({self.normalized_shape})")
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )


class GroupNorm(Module):
    """Group normalisation of ``(N, C, *)`` input: the C channels are split into
    ``num_groups`` groups, each normalised over its channels and positions per sample, then
    scaled and shifted per channel. Independent of the batch size. CS231n L7 (Wu & He 2018)."""

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        if num_groups <= 0 or num_channels % num_groups != 0:
            raise ValueError(
                f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                f"num_groups ({num_groups})"
            )
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        kw = {"dtype": dtype, "device": device}
        if affine:
            self.weight = Parameter(empty(num_channels, **kw))
            if bias:
                self.bias = Parameter(empty(num_channels, **kw))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        name = f"GroupNorm({self.num_groups}, {self.num_channels})"
        _check_tensor(input, name)
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            got = input.shape[1] if input.ndim >= 2 else None
            raise ValueError(
                f"{name} expected an (N, {self.num_channels}, *) input with "
                f"{self.num_channels} channels, got {got} (input of shape {tuple(input.shape)})"
            )
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.bias is not None}"
        )


class LocalResponseNorm(Module):
    """Local response normalisation across ``size`` neighbouring channels (AlexNet; CS231n
    L9): ``b_c = a_c (k + alpha/size * sum_{c'} a_{c'}^2) ** -beta``. Input ``(N, C, *)``."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        super().__init__()
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size <= 0:
            raise ValueError(f"LocalResponseNorm: size must be a positive int, got {size!r}")
        self.size = int(size)
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
