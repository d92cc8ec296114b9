"""nn.utils.rnn against torch.nn.utils.rnn: pad_sequence, pack_padded_sequence,
pad_packed_sequence, pack_sequence and PackedSequence (values, batch sizes, permutations,
gradients through pack -> pad), every recurrent layer given a PackedSequence, and the errors.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.utils.rnn as TR

import gradschool as gs
import gradschool.nn as nn
import gradschool.nn.utils.rnn as R

torch.set_num_threads(1)


def same(ours, theirs, what="", exact=False):
    a = ours.detach().numpy() if hasattr(ours, "detach") else np.asarray(ours)
    b = theirs.detach().numpy()
    assert a.shape == b.shape, f"{what}: shape {a.shape} != {b.shape}"
    assert a.dtype == b.dtype, f"{what}: dtype {a.dtype} != {b.dtype}"
    if exact:
        np.testing.assert_array_equal(a, b, err_msg=what)
    else:
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=what)


def same_packed(ours, theirs, what=""):
    assert isinstance(ours, R.PackedSequence)
    same(ours.data, theirs.data, f"{what} data")
    same(ours.batch_sizes, theirs.batch_sizes, f"{what} batch_sizes", exact=True)
    for field in ("sorted_indices", "unsorted_indices"):
        a, b = getattr(ours, field), getattr(theirs, field)
        assert (a is None) == (b is None), field
        if a is not None:
            same(a, b, f"{what} {field}", exact=True)


def sequences(lengths, trailing=(3,), seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal((n, *trailing)) for n in lengths]
    ours = [gs.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    return ours, theirs


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("trailing", [(), (3,), (2, 2)])
def test_pad_sequence(batch_first, side, trailing):
    ours, theirs = sequences([3, 5, 1, 5], trailing)
    kw = {"batch_first": batch_first, "padding_value": -2.5, "padding_side": side}
    pg, pt = R.pad_sequence(ours, **kw), TR.pad_sequence(theirs, **kw)
    same(pg, pt, "padded")
    w = np.random.default_rng(1).standard_normal(tuple(pt.shape))
    (pg * gs.tensor(w)).sum().backward()
    (pt * torch.tensor(w)).sum().backward()
    for a, b in zip(ours, theirs, strict=True):
        same(a.grad, b.grad, "sequence grad")


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths", [[5, 5, 3, 1], [2, 5, 1, 4], [4, 4, 4, 4], [3, 1, 2, 2]])
def test_pack_then_pad_round_trip(lengths, batch_first):
    """pack_padded_sequence and pad_packed_sequence, sorted or not, and the gradient of the
    padded input through both."""
    ours, theirs = sequences(lengths, (2,), seed=sum(lengths))
    xg = R.pad_sequence(ours, batch_first=batch_first)
    xt = TR.pad_sequence(theirs, batch_first=batch_first)
    is_sorted = lengths == sorted(lengths, reverse=True)
    for enforce_sorted in (True, False) if is_sorted else (False,):
        kg = R.pack_padded_sequence(xg, lengths, batch_first, enforce_sorted)
        kt = TR.pack_padded_sequence(xt, lengths, batch_first, enforce_sorted)
        same_packed(kg, kt, f"enforce_sorted={enforce_sorted}")
    for total_length in (None, 7):
        kw = {"batch_first": batch_first, "padding_value": 0.5, "total_length": total_length}
        ug, lg = R.pad_packed_sequence(kg, **kw)
        ut, lt = TR.pad_packed_sequence(kt, **kw)
        same(ug, ut, "unpacked")
        same(lg, lt, "lengths", exact=True)
    w = np.random.default_rng(2).standard_normal(tuple(ut.shape))
    (ug * gs.tensor(w)).sum().backward()
    (ut * torch.tensor(w)).sum().backward()
    for a, b in zip(ours, theirs, strict=True):
        same(a.grad, b.grad, "sequence grad")


def test_pack_sequence_and_unpack():
    ours, theirs = sequences([2, 4, 3])
    kg, kt = (
        R.pack_sequence(ours, enforce_sorted=False),
        TR.pack_sequence(theirs, enforce_sorted=False),
    )
    same_packed(kg, kt)
    for a, b in zip(R.unpack_sequence(kg), TR.unpack_sequence(kt), strict=True):
        same(a, b, "unpacked sequence")
    padded, lengths = R.pad_packed_sequence(kg, batch_first=True)
    for a, b in zip(R.unpad_sequence(padded, lengths, batch_first=True), ours, strict=True):
        same(a, torch.tensor(b.detach().numpy()), "unpadded")
    sorted_g, sorted_t = sequences([4, 3, 3, 1])
    same_packed(R.pack_sequence(sorted_g), TR.pack_sequence(sorted_t))
    assert R.pack_sequence(sorted_g).sorted_indices is None
    perm = gs.tensor([2, 0, 3, 1])
    np.testing.assert_array_equal(R.invert_permutation(perm).numpy(), [1, 3, 0, 2])
    assert R.invert_permutation(None) is None
    assert R.PackedSequence(kg.data, kg.batch_sizes, kg.sorted_indices).unsorted_indices is not None
    assert kg.double().data.dtype == gs.float64 and kg.float().data.dtype == gs.float32


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_layers_take_packed_sequences(kind, batch_first):
    """A PackedSequence in, a PackedSequence out (PyTorch's data, batch sizes and
    permutations), each sequence's final state taken at its own last step and returned in
    the caller's order; gradients reach the padded input and h0."""
    torch.manual_seed(0)
    kw = {"num_layers": 2, "bidirectional": True, "batch_first": batch_first}
    theirs = getattr(torch.nn, kind)(3, 4, **kw).double()
    ours = getattr(nn, kind)(3, 4, **kw).double()
    ours.load_state_dict(theirs.state_dict())
    lengths = [3, 6, 1, 4]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 6, 3) if batch_first else (6, 4, 3))
    h = [rng.standard_normal((4, 4, 4)) for _ in range(2 if kind == "LSTM" else 1)]
    xg, xt = gs.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    hg = [gs.tensor(a, requires_grad=True) for a in h]
    ht = [torch.tensor(a, requires_grad=True) for a in h]
    kg = R.pack_padded_sequence(xg, lengths, batch_first, enforce_sorted=False)
    kt = TR.pack_padded_sequence(xt, lengths, batch_first, enforce_sorted=False)
    og, sg = ours(kg, tuple(hg) if kind == "LSTM" else hg[0])
    ot, st = theirs(kt, tuple(ht) if kind == "LSTM" else ht[0])
    same_packed(og, ot, "output")
    sg, st = (sg, st) if kind == "LSTM" else ((sg,), (st,))
    for a, b in zip(sg, st, strict=True):
        same(a, b, "final state")
    # a final state is the state at the sequence's own last step: the padded output there
    ug, _ = R.pad_packed_sequence(og)
    for b, n in enumerate(lengths):
        np.testing.assert_allclose(sg[0].detach().numpy()[2, b], ug.detach().numpy()[n - 1, b, :4])
        np.testing.assert_allclose(sg[0].detach().numpy()[3, b], ug.detach().numpy()[0, b, 4:])
    w = [rng.standard_normal(tuple(t.shape)) for t in (ot.data, *st)]
    sum((a * gs.tensor(v)).sum() for a, v in zip((og.data, *sg), w, strict=True)).backward()
    sum((a * torch.tensor(v)).sum() for a, v in zip((ot.data, *st), w, strict=True)).backward()
    same(xg.grad, xt.grad, "input grad")
    for a, b in zip(hg, ht, strict=True):
        same(a.grad, b.grad, "h0/c0 grad")
    for (n, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
        same(p.grad, q.grad, f"grad of {n}")


def test_errors():
    x = gs.randn(5, 3, 2)

    def err(fn, match):
        with pytest.raises(ValueError, match=match):
            fn()

    err(
        lambda: R.pack_padded_sequence(x, [2, 5, 3]),
        r"pack_padded_sequence: `lengths` array must be sorted in decreasing order .* got lengths \[2, 5, 3\]",
    )
    err(
        lambda: R.pack_sequence([gs.randn(2, 1), gs.randn(3, 1)]),
        "must be sorted in decreasing order",
    )
    err(
        lambda: R.pack_padded_sequence(x, [5, 3, 0]),
        r"Length of all samples has to be greater than 0.* got lengths \[5, 3, 0\]",
    )
    err(lambda: R.pack_padded_sequence(x, [5, -1, 2], enforce_sorted=False), "greater than 0")
    err(
        lambda: R.pack_padded_sequence(x, [7, 3, 2]),
        r"lengths must be at most the padded length 5 .* got a length of 7",
    )
    err(
        lambda: R.pack_padded_sequence(x, [3, 4, 2, 1, 1], batch_first=True, enforce_sorted=False),
        r"at most the padded length 3 \(dim 1 .* got a length of 4",
    )
    err(
        lambda: R.pack_padded_sequence(x, [5, 3]),
        r"Expected `len\(lengths\)` to be equal to batch_size, but got 2 \(batch_size=3\)",
    )
    err(lambda: R.pack_padded_sequence(gs.randn(4), [4]), "at least 2 dims")
    packed = R.pack_padded_sequence(x, [5, 3, 2])
    err(
        lambda: R.pad_packed_sequence(packed, total_length=4),
        "Expected total_length to be at least the length of the longest sequence in input, but got total_length=4 and max sequence length being 5",
    )
    err(
        lambda: R.pad_sequence([gs.randn(3, 2), gs.randn(2, 3)]),
        r"pad_sequence: every sequence must have the trailing dims .* sequence 1 has shape \(2, 3\)",
    )
    err(lambda: R.pad_sequence([]), "empty list")
    err(lambda: R.pad_sequence([gs.randn(2)], padding_side="middle"), "padding_side")
    err(lambda: R.pack_padded_sequence(x, [[5, 3, 2]]), "1-D list or tensor of ints")
