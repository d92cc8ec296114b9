"""Convolution written with loops, the way the course first teaches it (CS231n L5 and
assignment 2's ``conv_forward_naive``; CSC321 L11; CS231n L11 for the transposed one).

These are the references that ``conv.py``'s fast im2col + GEMM versions are tested against:
read them first. They are built from ordinary differentiable Tensor ops (indexing, ``@``,
``stack``, writes into a zero tensor), so autograd gives their gradients too — slowly, but
with nothing hand-written to get wrong. Inputs may be Tensors or arrays; outputs are Tensors.
"""

from __future__ import annotations

from typing import Any

from ...creation import as_tensor, zeros
from ...ops.shape import cat, stack
from ...tensor import Tensor
from .conv import _conv_args, _conv_transpose_args

__all__ = ["conv2d_naive", "conv_transpose2d_naive"]


def _tensor(x: Any) -> Any:
    return x if x is None or isinstance(x, Tensor) else as_tensor(x)


def conv2d_naive(
    x: Any,
    w: Any,
    b: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """``conv2d`` as loops over output positions: at each one, a dot product of the filters
    with the window of the (zero-padded) input under them.

    Shapes as ``conv2d``: x ``(N, C, H, W)``, w ``(O, C/groups, KH, KW)``, b ``(O,)``; returns
    ``(N, O, OH, OW)``. The batch and the filters are done at once by one small matrix product
    per position and group, so the loop is over what the course loops over: positions.
    """
    x, w, b = _tensor(x), _tensor(w), _tensor(b)
    args = _conv_args("conv2d_naive", x, w, b, stride, padding, dilation, groups, 2)
    (sh, sw), (dh, dw) = args["stride"], args["dilation"]
    top, bottom, left, right = args["pads"]
    unbatched = x.ndim == 3
    if unbatched:
        x = x.unsqueeze(0)
    n, c, h, w_in = x.shape
    o, cg, kh, kw = w.shape
    og = o // groups

    # 1. zero-pad the input (np.pad in the assignment)
    xpad = zeros(n, c, h + top + bottom, w_in + left + right, dtype=x.dtype)
    xpad[:, :, top : top + h, left : left + w_in] = x
    oh = (xpad.shape[2] - dh * (kh - 1) - 1) // sh + 1
    ow = (xpad.shape[3] - dw * (kw - 1) - 1) // sw + 1

    # 2. slide the filters: one output position at a time
    rows = []
    for i in range(oh):
        row = []
        for j in range(ow):
            per_group = []
            for g in range(groups):
                # the window under the filter at (i, j): (N, C/G, KH, KW), dilation spreads it
                window = xpad[
                    :,
                    g * cg : (g + 1) * cg,
                    i * sh : i * sh + dh * (kh - 1) + 1 : dh,
                    j * sw : j * sw + dw * (kw - 1) + 1 : dw,
                ]
                filters = w[g * og : (g + 1) * og]  # (O/G, C/G, KH, KW)
                # the dot product of every window with every filter: (N, O/G)
                per_group.append(window.reshape(n, cg * kh * kw) @ filters.reshape(og, -1).T)
            row.append(cat(per_group, dim=1))  # (N, O)
        rows.append(stack(row, dim=-1) if row else zeros(n, o, 0, dtype=x.dtype))
    out = stack(rows, dim=-2) if rows else zeros(n, o, 0, ow, dtype=x.dtype)
    if b is not None:
        out = out + b.reshape(1, o, 1, 1)
    return out.squeeze(0) if unbatched else out


def conv_transpose2d_naive(
    x: Any,
    w: Any,
    b: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Tensor:
    """``conv_transpose2d`` as loops over input positions: each input pixel "stamps" the
    filters, scaled by its values, onto the output at ``stride`` times its position; where
    stamps overlap they add up (CS231n L11, "learnable upsampling"). ``padding`` then crops
    that many rows/columns from each border; ``output_padding`` adds rows at the bottom/right.

    Shapes as ``conv_transpose2d``: x ``(N, C_in, H, W)``, w ``(C_in, C_out/groups, KH, KW)``,
    b ``(C_out,)``; returns ``(N, C_out, (H-1)*stride - 2*padding + dilation*(KH-1) +
    output_padding + 1, ...)``.
    """
    x, w, b = _tensor(x), _tensor(w), _tensor(b)
    args = _conv_transpose_args(
        "conv_transpose2d_naive", x, w, b, stride, padding, output_padding, groups, dilation, 2
    )
    (sh, sw), (dh, dw) = args["stride"], args["dilation"]
    ph, pw = args["pads"][0], args["pads"][2]
    oph, opw = args["output_padding"]
    unbatched = x.ndim == 3
    if unbatched:
        x = x.unsqueeze(0)
    n, c_in, h, w_in = x.shape
    _, og, kh, kw = w.shape
    cg = c_in // groups

    # the full output before cropping the padding
    full_h = (h - 1) * sh + dh * (kh - 1) + 1 + oph
    full_w = (w_in - 1) * sw + dw * (kw - 1) + 1 + opw
    out = zeros(n, og * groups, full_h, full_w, dtype=x.dtype)
    for i in range(h):
        for j in range(w_in):
            for g in range(groups):
                # this pixel's stamp: its C_in/G values times the filters, (N, C_out/G, KH, KW)
                pixel = x[:, g * cg : (g + 1) * cg, i, j]  # (N, C_in/G)
                stamp = pixel @ w[g * cg : (g + 1) * cg].reshape(cg, og * kh * kw)
                region = (
                    slice(None),
                    slice(g * og, (g + 1) * og),
                    slice(i * sh, i * sh + dh * (kh - 1) + 1, dh),
                    slice(j * sw, j * sw + dw * (kw - 1) + 1, dw),
                )
                out[region] = out[region] + stamp.reshape(n, og, kh, kw)
    out = out[:, :, ph : full_h - ph, pw : full_w - pw]
    if b is not None:
        out = out + b.reshape(1, -1, 1, 1)
    return out.squeeze(0) if unbatched else out
