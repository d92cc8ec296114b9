"""The PyTorch-twin check every model test uses: the same weights in both networks, then
equal outputs, input and parameter gradients, and batch-norm running statistics."""

from __future__ import annotations

import numpy as np
import torch

import gradschool as gs


def close(actual, expected, tol, name=""):
    """rtol/atol ``tol``, the atol scaled by the array's largest magnitude: through a deep
    stack of train-mode batch norms float32 rounding grows with the gradients' scale."""
    atol = tol * max(1.0, float(np.abs(expected).max(initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=atol, err_msg=name)


def compare_with_twin(ours, theirs, x_np, train=False, tol=1e-4, backward=True, tol64=1e-9):
    """Load the twin's weights into ours (the state_dict keys must be equal); compare the
    float32 outputs (each of a tuple); then, with ``backward``, convert both networks to
    float64 and compare outputs, the input and parameter gradients of a random projection of
    them, and every state_dict entry (BN running statistics) at ``tol64``. Returns our outputs.

    Why the gradients in float64: a deep net's float32 gradient depends on knife-edges. A
    pre-activation within float32 rounding of zero takes its ReLU's mask one way or the other
    depending on the order of a GEMM's sums, which PyTorch's kernels choose per CPU (oneDNN's
    AVX2 and AVX-512 paths differ). ZFNet's second convolution on the test image has a
    pre-activation of 1.8e-7 in channel 246: on an AVX2 EPYC the mask flipped and 506 weight
    gradients differed by 2e-4. PyTorch promises values within rounding, not which side of a
    kink a value rounds to; float64 puts the rounding 1e9 times closer, and the twins then agree
    to 1e-9. Per-op float32 gradients are compared in tests/parity and tests/fuzz, whose
    samplers keep inputs away from kinks.

    ``backward=False`` compares the float32 outputs only (the ImageNet heads' 54M gradients
    are slow to compare). Both networks are handed back in the input's dtype.
    """
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(theirs.state_dict())
    ours.train(train)
    theirs.train(train)
    with gs.no_grad(), torch.no_grad():
        out, out_t = ours(gs.tensor(x_np)), theirs(torch.tensor(x_np))
    outs = tuple(out) if isinstance(out, tuple) else (out,)
    outs_t = tuple(out_t) if isinstance(out_t, tuple) else (out_t,)
    assert len(outs) == len(outs_t)
    for o, ot in zip(outs, outs_t, strict=True):
        close(o.numpy(), ot.numpy(), tol)
    if not backward:
        return outs
    dtype, tol = x_np.dtype, tol64
    ours, theirs, x_np = ours.double(), theirs.double(), x_np.astype(np.float64)
    ours.load_state_dict(theirs.state_dict())  # train mode: the same running statistics again
    x, xt = gs.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    out, out_t = ours(x), theirs(xt)
    outs = tuple(out) if isinstance(out, tuple) else (out,)
    outs_t = tuple(out_t) if isinstance(out_t, tuple) else (out_t,)
    assert len(outs) == len(outs_t)
    for o, ot in zip(outs, outs_t, strict=True):
        close(o.detach().numpy(), ot.detach().numpy(), tol)
    rng = np.random.default_rng(1)
    loss, loss_t = 0, 0
    for o, ot in zip(outs, outs_t, strict=True):
        g = rng.standard_normal(tuple(ot.shape)).astype(x_np.dtype)
        loss = loss + (o * gs.tensor(g)).sum()
        loss_t = loss_t + (ot * torch.tensor(g)).sum()
    loss.backward()
    loss_t.backward()
    close(x.grad.numpy(), xt.grad.numpy(), tol, "input")
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        close(p.grad.numpy(), theirs_params[name].grad.numpy(), tol, name)
    theirs_state = theirs.state_dict()
    for name, value in ours.state_dict().items():
        close(np.asarray(value.numpy()), theirs_state[name].numpy(), tol, name)
    if dtype == np.float32:
        ours.float(), theirs.float()
    return outs


def randomize_bn(net, seed=0):
    """BN scales, shifts and running statistics of a torch net away from their defaults, so
    that eval mode and the affine parameters are really exercised."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.copy_(0.5 + torch.rand(m.weight.shape, generator=g))
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=g))
                m.running_mean.copy_(0.1 * torch.randn(m.running_mean.shape, generator=g))
                m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=g))
    return net


def n_params(net):
    return sum(p.numel() for p in net.parameters())


def image(*shape, seed=0):
    """A float32 standard-normal array of ``shape``."""
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
