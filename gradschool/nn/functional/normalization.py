"""Normalisation layers as functions (CS231n L6-L7, "Training neural networks"; CSC321 L9).

Batch normalisation (Ioffe & Szegedy 2015; CS231n assignment 2) makes each feature of a
layer's input zero-mean and unit-variance over the mini-batch, then lets the network undo
that with a learnt scale ``gamma`` (``weight``) and shift ``beta`` (``bias``):

    xhat = (x - mean) / sqrt(var + eps),        y = gamma * xhat + beta

For an ``(N, C)`` input the statistics are taken over N; for images ``(N, C, H, W)`` over
``N, H, W`` per channel ("spatial batch norm": every position of a feature map is one more
sample of that channel's feature). In training the batch statistics are used (the *biased*
variance) and the running averages are updated in place with the *unbiased* variance
(``momentum`` weighs the new batch, as in PyTorch); in evaluation the running averages are
used, so the layer becomes a fixed affine map.

The backward is the course's simplified closed form. With ``M`` values per channel and
``dxhat = gamma * dy``:

    dx = (1/M) * inv_std * (M * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat))

``batch_norm_graph`` computes the same output from primitive ops (mean, subtract, square,
sqrt, divide), so autograd derives the backward through the computational graph instead;
the tests check that both give the same gradients (the assignment's "backward through the
graph vs simplified" comparison).

The other normalisers use the same formula over other groups of values:

- ``layer_norm`` (Ba et al. 2016): over the trailing ``normalized_shape`` dims of each sample,
  so it does not depend on the batch; it behaves the same in training and evaluation.
- ``group_norm`` (Wu & He 2018): over groups of ``C / num_groups`` channels (and all spatial
  positions) of each sample; one group is layer norm over (C, H, W), C groups is instance norm.
- ``instance_norm`` (Ulyanov et al. 2016, style transfer): over the spatial positions of each
  channel of each sample.
- ``local_response_norm`` (AlexNet, CS231n L9): each activation divided by
  ``(k + alpha/size * sum of squares over `size` neighbouring channels) ** beta``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ...autograd.function import Function
from ...autograd.grad_mode import no_grad
from ...backend import jit
from ...backend.device import get_array_module
from ...tensor import Tensor
from . import _norm_kernels as _nk

__all__ = [
    "batch_norm",
    "batch_norm_graph",
    "layer_norm",
    "group_norm",
    "instance_norm",
    "local_response_norm",
]


# ---------------------------------------------------------------- checks
def _check_input(input: Any, op: str, min_dim: int = 2) -> Any:  # noqa: A002
    """The array of ``input``, or an error naming ``op`` when it is not a float tensor of at
    least ``min_dim`` dims."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected input to be a Tensor, got {type(input).__name__}")
    x = input.data
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point input, got {input.dtype}")
    if x.ndim < min_dim:
        layout = "(N, C, *)" if min_dim == 2 else "(N, C, L) or (N, C, H, W)"
        raise ValueError(
            f"{op}: expected an input of shape {layout} with at least {min_dim} dims, "
            f"got shape {tuple(x.shape)}"
        )
    return x


def _check_vector(t: Any, name: str, shape: tuple[int, ...], op: str) -> None:
    """``t`` is None or a tensor of ``shape`` (weight, bias, running statistics)."""
    if t is None:
        return
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: expected {name} to be a Tensor or None, got {type(t).__name__}")
    if tuple(t.shape) != shape:
        raise ValueError(
            f"{op}: expected {name} of shape {shape} (one per normalised feature), "
            f"got {tuple(t.shape)}"
        )


def _check_eps_momentum(eps: float, momentum: float | None, op: str) -> None:
    if not eps >= 0:  # also catches NaN
        raise ValueError(f"{op}: eps must be non-negative, got {eps}")
    if momentum is not None and not 0 <= momentum <= 1:
        raise ValueError(f"{op}: momentum must be in [0, 1], got {momentum}")


def _data(t: Any) -> Any:
    return None if t is None else t.data


def _cast(a: Any, dtype: Any) -> Any:
    """``a`` in the compute dtype: float32 inputs stay float32 even with float64 weights."""
    return a if a is None or a.dtype == dtype else a.astype(dtype)


def _update_running(
    running_mean: Any, running_var: Any, mean: Any, var: Any, n: int, momentum: float
) -> None:
    """Exponential moving averages of the statistics, in place (the buffers are shared with
    the module): ``running = (1 - momentum) * running + momentum * batch_stat``. The variance
    stored is the unbiased one, ``var * n / (n - 1)``, as PyTorch does."""
    c = running_mean.size
    # per-sample statistics (instance norm) are averaged over the batch first
    mean = mean.reshape(-1, c).mean(axis=0)
    var = var.reshape(-1, c).mean(axis=0) * (n / (n - 1))
    running_mean *= 1 - momentum
    running_mean += momentum * mean.astype(running_mean.dtype, copy=False)
    running_var *= 1 - momentum
    running_var += momentum * var.astype(running_var.dtype, copy=False)


def _dtypes(weight: Any, bias: Any) -> tuple[Any, Any]:
    return (None if weight is None else weight.dtype, None if bias is None else bias.dtype)


def _as(g: Any, dtype: Any) -> Any:
    """A parameter's gradient in the parameter's dtype (None passes through)."""
    return g if g is None or g.dtype == dtype else g.astype(dtype)


def _param_shape(ndim: int, c: int) -> tuple[int, ...]:
    """Shape that broadcasts a per-channel vector over ``(N, C, *)``: ``(1, C, 1, 1)``."""
    return (1, c) + (1,) * (ndim - 2)


# ---------------------------------------------------------------- batch norm
def _eval_affine(
    running_mean: Any, running_var: Any, gamma: Any, eps: float, dt: Any
) -> tuple[Any, Any, Any]:
    """Evaluation mode's ``(mean, 1/std, scale)`` from the running statistics, each shaped
    ``(1, C, 1)``; ``gamma`` is ``(1, C, 1)`` or None. Then ``y = (x - mean) * scale + beta``."""
    xp = get_array_module(running_mean)
    c = running_mean.size
    mean = _cast(running_mean, dt).reshape(1, c, 1)
    inv_std = 1 / xp.sqrt(_cast(running_var, dt).reshape(1, c, 1) + dt.type(eps))
    return mean, inv_std, (inv_std if gamma is None else gamma * inv_std)


class BatchNormFunction(Function):
    """Batch norm of ``(N, C, *)`` input per channel; the closed-form backward.

    With numba (``backend/jit.py``) a large float32/float64 NumPy input that is
    channels-last or C-contiguous takes the compiled loops of ``_norm_kernels.py`` (two
    passes over memory each way instead of six); the code below is the
    fallback and the reference they are tested against."""

    op_name = "batch_norm"
    compiled = False  # whether the forward took the compiled path (and saved x, not xhat)

    def forward(
        self,
        x: Any,
        weight: Any,
        bias: Any,
        *,
        training: bool,
        eps: float,
        momentum: float = 0.1,
        running_mean: Any = None,
        running_var: Any = None,
    ) -> Any:
        if x.size >= _nk.MIN_SIZE and jit.enabled():
            lay = _nk.layout(x)
            if lay is not None:
                return self._forward_jit(
                    lay, x, weight, bias, training, eps, momentum, running_mean, running_var
                )
        xp = get_array_module(x)
        dt = x.dtype
        n, c = x.shape[:2]
        # (N, C, S): every statistic is a reduction over axes 0 and 2, done by einsum, which
        # also sums products without a temporary array
        x3 = x.reshape(n, c, math.prod(x.shape[2:]))
        self.m = m = x3.shape[0] * x3.shape[2]  # values per channel
        self.training, self.dtypes = training, _dtypes(weight, bias)
        gamma = None if weight is None else _cast(weight, dt).reshape(1, c, 1)
        beta = None if bias is None else _cast(bias, dt).reshape(1, c, 1)
        if training:
            mean = xp.einsum("ncs->c", x3) / dt.type(max(m, 1))
            xhat = x3 - mean.reshape(1, c, 1)
            var = xp.einsum("ncs,ncs->c", xhat, xhat) / dt.type(max(m, 1))  # biased
            if running_mean is not None and m:  # an empty batch leaves them alone
                _update_running(running_mean, running_var, mean, var, m, momentum)
            inv_std = (1 / xp.sqrt(var + dt.type(eps))).reshape(1, c, 1)
            xhat *= inv_std  # in place: x - mean becomes xhat, no second full-size array
            self.saved = (xhat, inv_std, gamma)
            out = xhat * gamma if gamma is not None else xhat.copy()
            if beta is not None:
                out += beta
        else:
            # evaluation: a fixed affine map y = x * scale + shift with the running stats
            mean, inv_std, scale = _eval_affine(running_mean, running_var, gamma, eps, dt)
            shift = -mean * scale if beta is None else beta - mean * scale
            self.saved = (x3, mean, inv_std, scale)
            out = x3 * scale
            out += shift
        return out.reshape(x.shape)

    def _forward_jit(
        self,
        lay: tuple[str, Any],
        x: Any,
        weight: Any,
        bias: Any,
        training: bool,
        eps: float,
        momentum: float,
        running_mean: Any,
        running_var: Any,
    ) -> Any:
        """``forward`` on the compiled loops: the same results (statistics in float64), the
        output in the input's layout. Training saves x itself, not xhat (one full-size write
        fewer); the backward recomputes xhat on the fly."""
        kind, xv = lay
        dt = x.dtype
        c = x.shape[1]
        self.m = m = x.size // c
        self.training, self.dtypes = training, _dtypes(weight, bias)
        f64 = np.float64
        gamma = None if weight is None else _cast(weight, dt)
        beta = np.zeros(c) if bias is None else _cast(bias, dt).astype(f64)
        out, ov = _nk.new_like(kind, x.shape, dt)
        if training:
            mean, var = _nk.stats(kind, xv)
            if running_mean is not None:
                _update_running(
                    running_mean, running_var, mean.astype(dt), var.astype(dt), m, momentum
                )
            inv_std = 1 / np.sqrt(var + eps)
            scale = inv_std if gamma is None else gamma.astype(f64) * inv_std
            self.compiled = True
            self.saved = (kind, xv, mean, inv_std, scale)
            _nk.affine(kind, xv, mean, scale, beta, ov)
        else:
            # the NumPy path's arrays for its backward; the output in one fused pass
            g3 = None if gamma is None else gamma.reshape(1, c, 1)
            mean, inv_std, scale = _eval_affine(running_mean, running_var, g3, eps, dt)
            self.saved = (x.reshape(x.shape[0], c, math.prod(x.shape[2:])), mean, inv_std, scale)
            _nk.affine(
                kind, xv, mean.reshape(c).astype(f64), scale.reshape(c).astype(f64), beta, ov
            )
        return out

    def _backward_jit(self, g: Any) -> tuple[Any, Any, Any]:
        """``backward`` after ``_forward_jit`` in training: both sums and dx from the saved
        x, dx in x's layout."""
        need_x, need_w, need_b = self.needs_input_grad[:3]
        kind, xv, mean, inv_std, scale = self.saved
        lay = _nk.layout(g)
        if lay is not None and lay[0] == kind and g.dtype == xv.dtype:
            gv = lay[1]
        else:  # another layout (or a broadcast gradient): one copy into x's
            full, gv = _nk.new_like(kind, g.shape, xv.dtype)
            full[...] = g
        gx = dv = None
        if need_x:
            gx, dv = _nk.new_like(kind, g.shape, xv.dtype)
        gb, gw = _nk.backward(kind, gv, xv, mean, inv_std, scale, dv)
        dt = xv.dtype
        return (
            gx,
            _as(gw.astype(dt), self.dtypes[0]) if need_w else None,
            _as(gb.astype(dt), self.dtypes[1]) if need_b else None,
        )

    def backward(self, g: Any) -> tuple[Any, Any, Any]:
        if self.compiled:
            return self._backward_jit(g)
        need_x, need_w, need_b = self.needs_input_grad[:3]
        xp = get_array_module(g)
        g3 = g.reshape(self.saved[0].shape)
        gx = gw = gb = None
        if self.training:
            xhat, inv_std, gamma = self.saved
            c = xhat.shape[1]
            if need_b or need_x:
                gb = xp.einsum("ncs->c", g3)
            if need_w or need_x:
                gw = xp.einsum("ncs,ncs->c", g3, xhat)
            if need_x:
                m = max(self.m, 1)
                scale = inv_std if gamma is None else gamma * inv_std
                # dx = scale * (dy - mean(dy) - xhat * mean(dy * xhat)), one temporary array
                gx = xhat * (gw / m).reshape(1, c, 1)
                gx += (gb / m).reshape(1, c, 1)
                xp.subtract(g3, gx, out=gx)
                gx *= scale
        else:
            x3, mean, inv_std, scale = self.saved
            if need_x:
                gx = g3 * scale
            if need_w:
                gw = xp.einsum("ncs,ncs->c", g3, x3 - mean) * inv_std.reshape(-1)
            if need_b:
                gb = xp.einsum("ncs->c", g3)
        return (
            None if gx is None else gx.reshape(g.shape),
            _as(gw, self.dtypes[0]) if need_w else None,
            _as(gb, self.dtypes[1]) if need_b else None,
        )


def _batch_norm_checks(
    input: Any,  # noqa: A002
    running_mean: Any,
    running_var: Any,
    weight: Any,
    bias: Any,
    training: bool,
    momentum: float | None,
    eps: float,
    op: str,
) -> Any:
    x = _check_input(input, op)
    c = (x.shape[1],)
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{op}: pass both running_mean and running_var, or neither")
    _check_vector(running_mean, "running_mean", c, op)
    _check_vector(running_var, "running_var", c, op)
    _check_vector(weight, "weight", c, op)
    _check_vector(bias, "bias", c, op)
    _check_eps_momentum(eps, momentum, op)
    if training:
        if x.shape[1] and x.size // x.shape[1] == 1:  # PyTorch's check: empty batches pass
            raise ValueError(
                f"{op}: Expected more than 1 value per channel when training, "
                f"got input size {tuple(x.shape)}"
            )
    elif running_mean is None:
        raise ValueError(
            f"{op}: running_mean and running_var must be given in evaluation mode "
            "(training=False): there are no batch statistics to fall back on"
        )
    return x


def batch_norm(
    input: Tensor,  # noqa: A002
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalisation of ``(N, C)``, ``(N, C, L)`` or ``(N, C, H, W)`` input, per channel C.

    In training (``training=True``) each channel is normalised with the mean and biased
    variance of its ``N * L`` (or ``N * H * W``) values, and ``running_mean`` /
    ``running_var`` (shape ``(C,)``, if given) are updated in place:
    ``running = (1 - momentum) * running + momentum * batch`` with the unbiased batch
    variance. In evaluation the running statistics normalise instead. ``weight`` and
    ``bias`` (shape ``(C,)``) are gamma and beta. The output has the input's shape.

    >>> import gradschool as gs
    >>> import gradschool.nn.functional as F
    >>> x = gs.tensor([[1.0, 10.0], [3.0, 30.0]])
    >>> F.batch_norm(x, None, None, training=True)
    tensor([[-1.0000, -1.0000],
            [1.0000, 1.0000]])
    """
    _batch_norm_checks(
        input, running_mean, running_var, weight, bias, training, momentum, eps, "batch_norm"
    )
    return BatchNormFunction.apply(
        input,
        weight,
        bias,
        training=bool(training),
        eps=float(eps),
        momentum=0.0 if momentum is None else float(momentum),
        running_mean=_data(running_mean) if training else running_mean.data,
        running_var=_data(running_var) if training else running_var.data,
    )


def batch_norm_graph(
    input: Tensor,  # noqa: A002
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """``batch_norm`` composed from primitive ops, so autograd backpropagates through the
    graph (mean -> subtract -> square -> mean -> add eps -> sqrt -> divide -> scale -> shift)
    rather than through the closed form. Same arguments, same result; slower, for learning
    and for checking the closed form (CS231n assignment 2, ``batchnorm_backward`` vs
    ``batchnorm_backward_alt``)."""
    x = _batch_norm_checks(
        input, running_mean, running_var, weight, bias, training, momentum, eps, "batch_norm"
    )
    axes = (0,) + tuple(range(2, x.ndim))
    shape = _param_shape(x.ndim, x.shape[1])
    if training:
        mean = input.mean(dim=axes, keepdim=True)
        centred = input - mean
        var = (centred * centred).mean(dim=axes, keepdim=True)
        if running_mean is not None:
            with no_grad():
                _update_running(
                    running_mean.data,
                    running_var.data,
                    mean.data,
                    var.data,
                    x.size // x.shape[1],
                    momentum,
                )
    else:
        centred = input - running_mean.to(input.dtype).reshape(shape)
        var = running_var.to(input.dtype).reshape(shape)
    out = centred / (var + eps).sqrt()
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


# ---------------------------------------------------------------- layer, group, instance norm
class RowNormFunction(Function):
    """Normalise each row of ``x`` viewed as ``(rows, cols)``; then scale and shift with
    per-feature parameters, ``x`` viewed as ``(A, P, B)`` with the P features in the middle.

    Layer norm: rows are samples, ``(A, P, B) = (rows, cols, 1)``. Group norm: rows are
    (sample, group) pairs, ``(A, P, B) = (N, C, H*W)``. Instance norm: rows are (sample,
    channel) pairs, same view. The backward is batch norm's closed form applied to each row.
    """

    op_name = "normalization"

    def forward(
        self,
        x: Any,
        weight: Any,
        bias: Any,
        *,
        rows: int,
        cols: int,
        view: tuple[int, int, int],
        eps: float,
        momentum: float = 0.1,
        running_mean: Any = None,
        running_var: Any = None,
    ) -> Any:
        xp = get_array_module(x)
        dt = x.dtype
        self.view, self.dtypes = view, _dtypes(weight, bias)
        self.shapes = (getattr(weight, "shape", None), getattr(bias, "shape", None))
        xs = x.reshape(rows, cols)  # a view for a contiguous input
        d = dt.type(max(cols, 1))
        mean = (xp.einsum("ij->i", xs) / d).reshape(rows, 1)
        xhat = xs - mean
        var = (xp.einsum("ij,ij->i", xhat, xhat) / d).reshape(rows, 1)
        if running_mean is not None and xs.size:
            _update_running(running_mean, running_var, mean, var, cols, momentum)
        inv_std = 1 / xp.sqrt(var + dt.type(eps))
        xhat *= inv_std
        xv = xhat.reshape(view)
        p = view[1]
        gamma = None if weight is None else _cast(weight, dt).reshape(1, p, 1)
        self.saved = (xhat, inv_std, gamma)
        out = xv * gamma if gamma is not None else xv.copy()
        if bias is not None:
            out += _cast(bias, dt).reshape(1, p, 1)
        return out.reshape(x.shape)

    def backward(self, g: Any) -> tuple[Any, Any, Any]:
        need_x, need_w, need_b = self.needs_input_grad[:3]
        xp = get_array_module(g)
        xhat, inv_std, gamma = self.saved
        g3 = g.reshape(self.view)
        gx = gw = gb = None
        if need_x:
            gxhat = (g3 if gamma is None else g3 * gamma).reshape(xhat.shape)
            cols = max(xhat.shape[1], 1)
            # per row: dx = inv_std * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
            proj = xp.einsum("ij,ij->i", gxhat, xhat) / cols
            gx = xhat * proj.reshape(-1, 1)
            gx += (xp.einsum("ij->i", gxhat) / cols).reshape(-1, 1)
            xp.subtract(gxhat, gx, out=gx)
            gx *= inv_std
            gx = gx.reshape(g.shape)
        if need_w:
            gw = xp.einsum("apb,apb->p", g3, xhat.reshape(self.view)).reshape(self.shapes[0])
        if need_b:
            gb = xp.einsum("apb->p", g3).reshape(self.shapes[1])
        return gx, _as(gw, self.dtypes[0]), _as(gb, self.dtypes[1])


def _as_shape(normalized_shape: Any) -> tuple[int, ...]:
    if isinstance(normalized_shape, int):
        return (normalized_shape,)
    if isinstance(normalized_shape, Sequence) and all(isinstance(s, int) for s in normalized_shape):
        return tuple(normalized_shape)
    raise TypeError(
        f"layer_norm: normalized_shape must be an int or a sequence of ints, got {normalized_shape!r}"
    )


def layer_norm(
    input: Tensor,  # noqa: A002
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Layer normalisation over the trailing dims ``normalized_shape`` of each sample.

    ``input`` is ``(*, *normalized_shape)``, e.g. ``(N, D)`` with ``normalized_shape=D`` or
    ``(N, C, H, W)`` with ``(C, H, W)``; ``weight`` and ``bias`` have shape
    ``normalized_shape`` (one per element, unlike batch norm). Statistics are per sample, so
    training and evaluation behave the same. Output has the input's shape.
    """
    shape = _as_shape(normalized_shape)
    x = _check_input(input, "layer_norm", min_dim=1)
    k = len(shape)
    if k == 0 or x.ndim < k or tuple(x.shape[x.ndim - k :]) != shape:
        raise ValueError(
            f"layer_norm: given normalized_shape={list(shape)}, expected input with shape "
            f"[*, {', '.join(map(str, shape))}], but got input of size {tuple(x.shape)}"
        )
    _check_vector(weight, "weight", shape, "layer_norm")
    _check_vector(bias, "bias", shape, "layer_norm")
    _check_eps_momentum(eps, None, "layer_norm")
    cols = math.prod(shape)
    rows = math.prod(x.shape[: x.ndim - k])
    return RowNormFunction.apply(
        input, weight, bias, rows=rows, cols=cols, view=(rows, cols, 1), eps=float(eps)
    )


def group_norm(
    input: Tensor,  # noqa: A002
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Group normalisation of ``(N, C, *)`` input: the C channels of each sample are split
    into ``num_groups`` groups of ``C / num_groups`` channels, each normalised over its
    channels and all spatial positions; ``weight``/``bias`` are per channel, shape ``(C,)``.
    Independent of the batch size (it works for N = 1), which is why detection models with
    small batches use it.
    """
    x = _check_input(input, "group_norm")
    if isinstance(num_groups, bool) or not isinstance(num_groups, int) or num_groups <= 0:
        raise ValueError(f"group_norm: num_groups must be a positive int, got {num_groups!r}")
    n, c = x.shape[:2]
    if c % num_groups:
        raise ValueError(
            f"group_norm: expected the number of channels to be divisible by num_groups, "
            f"got input of shape {tuple(x.shape)} and num_groups={num_groups}"
        )
    if n * (c // num_groups) * math.prod(x.shape[2:]) == 1:
        # PyTorch's check (it counts N * C/G * spatial values, as batch norm would)
        raise ValueError(
            "group_norm: Expected more than 1 value per channel when training, "
            f"got input size {tuple(x.shape)} with num_groups={num_groups}"
        )
    _check_vector(weight, "weight", (c,), "group_norm")
    _check_vector(bias, "bias", (c,), "group_norm")
    _check_eps_momentum(eps, None, "group_norm")
    return RowNormFunction.apply(
        input,
        weight,
        bias,
        rows=n * num_groups,
        cols=(c // num_groups) * math.prod(x.shape[2:]),
        view=(n, c, math.prod(x.shape[2:])),
        eps=float(eps),
    )


def instance_norm(
    input: Tensor,  # noqa: A002
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Instance normalisation of ``(N, C, L)`` or ``(N, C, H, W)`` input: each channel of
    each sample normalised over its own spatial positions (style transfer's "contrast
    normalisation"). With ``use_input_stats`` the per-instance statistics are used and the
    running statistics (if given, shape ``(C,)``) are updated with their batch average;
    otherwise the running statistics normalise, as batch norm in evaluation.
    """
    op = "instance_norm"
    x = _check_input(input, op)
    c = x.shape[1]
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{op}: pass both running_mean and running_var, or neither")
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        _check_vector(t, name, (c,), op)
    _check_vector(weight, "weight", (c,), op)
    _check_vector(bias, "bias", (c,), op)
    _check_eps_momentum(eps, momentum, op)
    if not use_input_stats:
        if running_mean is None:
            raise ValueError(f"{op}: use_input_stats=False needs running_mean and running_var")
        return BatchNormFunction.apply(
            input,
            weight,
            bias,
            training=False,
            eps=float(eps),
            running_mean=running_mean.data,
            running_var=running_var.data,
        )
    if math.prod(x.shape[2:]) == 1:
        raise ValueError(
            f"{op}: Expected more than 1 spatial element when training, "
            f"got input size {tuple(x.shape)}"
        )
    return RowNormFunction.apply(
        input,
        weight,
        bias,
        rows=x.shape[0] * c,
        cols=math.prod(x.shape[2:]),
        view=(x.shape[0], c, math.prod(x.shape[2:])),
        eps=float(eps),
        momentum=float(momentum),
        running_mean=_data(running_mean),
        running_var=_data(running_var),
    )


# ---------------------------------------------------------------- local response norm
def _window_sum(a: Any, before: int, after: int) -> Any:
    """``out[:, c] = a[:, c - before] + ... + a[:, c + after]`` along the channel axis, with
    zeros outside (a loop over the window's few offsets, not over positions)."""
    xp = get_array_module(a)
    c = a.shape[1]
    padded = xp.zeros((a.shape[0], c + before + after) + a.shape[2:], dtype=a.dtype)
    padded[:, before : before + c] = a
    out = padded[:, :c].copy()
    for o in range(1, before + after + 1):
        out += padded[:, o : o + c]
    return out


class LocalResponseNormFunction(Function):
    """``y = x * scale ** -beta`` with ``scale = k + alpha/size * window_sum(x^2)``."""

    op_name = "local_response_norm"

    def forward(self, x: Any, *, size: int, alpha: float, beta: float, k: float) -> Any:
        self.size, self.alpha, self.beta = size, alpha, beta
        # PyTorch pads size//2 channels before and (size-1)//2 after, and averages over size
        scale = _window_sum(x * x, size // 2, (size - 1) // 2)
        scale *= alpha / size
        scale += k
        power = scale ** (-beta)
        self.saved = (x, scale, power)
        return x * power

    def backward(self, g: Any) -> tuple[Any]:
        x, scale, power = self.saved
        size = self.size
        # y_i = x_i s_i^-beta, s_i = k + alpha/size sum_{j in win(i)} x_j^2, so
        # dx_j = g_j s_j^-beta - 2 alpha beta / size * x_j * sum_{i: j in win(i)} g_i y_i / s_i
        t = g * x
        t *= power
        t /= scale
        back = _window_sum(t, (size - 1) // 2, size // 2)  # the window, transposed
        back *= x * (-2.0 * self.alpha * self.beta / size)
        back += g * power
        return (back,)


def local_response_norm(
    input: Tensor,  # noqa: A002
    size: int,
    alpha: float = 1e-4,
    beta: float = 0.75,
    k: float = 1.0,
) -> Tensor:
    """Local response normalisation across channels (AlexNet; CS231n L9), PyTorch's formula:

        y[:, c] = x[:, c] / (k + alpha / size * sum_{c'} x[:, c']^2) ** beta

    where ``c'`` runs over ``c - size//2 .. c + (size-1)//2`` (channels outside count as 0).
    ``input`` is ``(N, C, *)`` with at least 3 dims; output has the same shape.
    """
    op = "local_response_norm"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected input to be a Tensor, got {type(input).__name__}")
    if input.ndim < 3:
        raise ValueError(
            f"{op}: expected 3D or higher dimensionality input (N, C, *), got shape "
            f"{tuple(input.shape)}"
        )
    _check_input(input, op, min_dim=3)
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise ValueError(f"{op}: size must be a positive int, got {size!r}")
    if input.data.size == 0:
        return input
    return LocalResponseNormFunction.apply(
        input, size=size, alpha=float(alpha), beta=float(beta), k=float(k)
    )
