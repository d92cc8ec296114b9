"""Batches of sequences of different lengths for the recurrent layers (CS231n L10; PyTorch's
``torch.nn.utils.rnn``).

A batch of sentences is ragged. ``pad_sequence`` stacks them into one (T, B, *) tensor,
padding the short ones; an RNN run over that padded tensor would also step through the
padding, and its final state would be the state after the padding, not after the sentence.
*Packing* fixes that: ``pack_padded_sequence`` sorts the sequences longest first and keeps,
for each time step t, only the ``batch_sizes[t]`` sequences still running, as consecutive
rows of one (N, *) tensor. A recurrent layer given a ``PackedSequence`` runs step t on those
rows only, so every sequence stops at its own last element; ``pad_packed_sequence`` turns its
output back into a padded tensor (and the original batch order).

    sequences  a b c      packed rows  a x b c       (batch_sizes [2, 1, 1])
               x                       t=0 t=1 t=2

Packing and unpacking move rows around and are differentiable: their backward moves the
gradient rows back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from ...autograd.function import Function
from ...backend.device import get_array_module, to_device
from ...ops.index import index_select
from ...ops.shape import unbind
from ...tensor import Tensor

__all__ = [
    "PackedSequence",
    "invert_permutation",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpad_sequence",
    "pack_sequence",
    "unpack_sequence",
]


class _PackedSequenceBase(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(_PackedSequenceBase):
    """Packed rows of a batch of sequences: ``data`` (N, *), ``batch_sizes`` (how many
    sequences take each step; int64, CPU), and the permutations between the caller's batch
    order and the longest-first order (``sorted_indices``, ``unsorted_indices``; None when
    the batch was already sorted). Made by ``pack_padded_sequence`` / ``pack_sequence``."""

    def __new__(
        cls,
        data: Tensor,
        batch_sizes: Tensor | None = None,
        sorted_indices: Tensor | None = None,
        unsorted_indices: Tensor | None = None,
    ) -> PackedSequence:
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """The same sequences with ``data`` converted (``batch_sizes`` stays on the CPU)."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        dev = data.device
        perm = [
            None if p is None else p.to(dev) for p in (self.sorted_indices, self.unsorted_indices)
        ]
        return type(self)(data, self.batch_sizes, *perm)

    def double(self) -> PackedSequence:
        return self.to(dtype=np.float64)

    def float(self) -> PackedSequence:
        return self.to(dtype=np.float32)

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse of a permutation of ``0 .. n-1`` (None stays None)."""
    if permutation is None:
        return None
    p = np.asarray(permutation.data.get() if hasattr(permutation.data, "get") else permutation.data)
    inverse = np.empty_like(p)
    inverse[p] = np.arange(p.size, dtype=p.dtype)
    return Tensor(to_device(inverse, permutation.device))


def _ints(values: Any, op: str, what: str) -> np.ndarray:
    data = getattr(values, "data", values)
    data = data.get() if hasattr(data, "get") else data  # CuPy -> NumPy
    a = np.asarray(data)
    if a.ndim != 1 or (a.size and a.dtype.kind not in "iu"):
        raise ValueError(f"{op}: {what} must be a 1-D list or tensor of ints, got {a.tolist()!r}")
    return a.astype(np.int64)


class _PackRows(Function):
    """The rows ``x[t, b]`` with ``mask[t, b]`` (time-major): step 0's, then step 1's, ..."""

    op_name = "pack_padded_sequence"

    def forward(self, x: Any, *, mask: Any) -> Any:
        self.mask, self.shape = mask, x.shape
        return x[mask]

    def backward(self, g: Any) -> tuple[Any]:
        out = get_array_module(g).zeros(self.shape, g.dtype)
        out[self.mask] = g
        return (out,)


class _PadRows(Function):
    """Packed rows written back into a (T, B, *) tensor filled with ``padding_value``."""

    op_name = "pad_packed_sequence"

    def forward(self, data: Any, *, mask: Any, padding_value: float) -> Any:
        self.mask = mask
        out = get_array_module(data).full(mask.shape + data.shape[1:], padding_value, data.dtype)
        out[mask] = data
        return out

    def backward(self, g: Any) -> tuple[Any]:
        return (g[self.mask],)


class _PadSequence(Function):
    """Sequences (L_i, *) stacked into (T, B, *) (or (B, T, *)) with padding."""

    op_name = "pad_sequence"

    def forward(self, *xs: Any, batch_first: bool, padding_value: float, left: bool) -> Any:
        xp, longest = get_array_module(xs[0]), max(x.shape[0] for x in xs)
        dims = (len(xs), longest) if batch_first else (longest, len(xs))
        out = xp.full(dims + xs[0].shape[1:], padding_value, xs[0].dtype)
        self.keys = []
        for i, x in enumerate(xs):
            steps = slice(longest - len(x), longest) if left else slice(0, len(x))
            self.keys.append((i, steps) if batch_first else (steps, i))
            out[self.keys[-1]] = x
        return out

    def backward(self, g: Any) -> tuple[Any, ...]:
        return tuple(g[key] for key in self.keys)


def pack_padded_sequence(
    input: Tensor,  # noqa: A002
    lengths: Tensor | Sequence[int],
    batch_first: bool = False,
    enforce_sorted: bool = True,
) -> PackedSequence:
    """Pack a padded batch (T, B, *) (or (B, T, *) with ``batch_first``) of sequences with
    the given ``lengths``. With ``enforce_sorted`` the lengths must be decreasing; otherwise
    the batch is sorted here and the permutation kept in the result."""
    op = "pack_padded_sequence"
    if not isinstance(input, Tensor) or input.ndim < 2:
        got = f"shape {input.shape}" if isinstance(input, Tensor) else type(input).__name__
        raise ValueError(f"{op}: expected a padded Tensor of at least 2 dims, got {got}")
    lens = _ints(lengths, op, "lengths")
    t_dim, b_dim = (1, 0) if batch_first else (0, 1)
    steps, batch = input.shape[t_dim], input.shape[b_dim]
    if lens.size != batch:
        raise ValueError(
            f"{op}: Expected `len(lengths)` to be equal to batch_size, but got {lens.size} "
            f"(batch_size={batch})"
        )
    sorted_indices = None
    if enforce_sorted:
        if np.any(np.diff(lens) > 0):
            raise ValueError(
                f"{op}: `lengths` array must be sorted in decreasing order when "
                "`enforce_sorted` is True, got lengths "
                f"{lens.tolist()}. You can pass `enforce_sorted=False` to pack_padded_sequence "
                "and/or pack_sequence to sidestep this requirement if you do not need ONNX "
                "exportability."
            )
    if lens.size and lens.min() <= 0:
        raise ValueError(
            f"{op}: Length of all samples has to be greater than 0, but found an element in "
            f"'lengths' that is <= 0: got lengths {lens.tolist()}"
        )
    if lens.size and lens.max() > steps:
        raise ValueError(
            f"{op}: lengths must be at most the padded length {steps} (dim {t_dim} of the "
            f"input of shape {input.shape}, batch_first={batch_first}), got a length of "
            f"{lens.max()}"
        )
    if not enforce_sorted:
        order = np.argsort(-lens, kind="stable")  # longest first; ties keep their order
        lens = lens[order]
        sorted_indices = Tensor(to_device(order, input.device))
        input = index_select(input, b_dim, sorted_indices)  # noqa: A001
    if batch_first:
        input = input.transpose(0, 1)  # noqa: A001
    mask = np.arange(steps)[:, None] < lens[None, :]  # (T, B): step t of sequence b exists
    batch_sizes = mask.sum(axis=1)[: lens.max() if lens.size else 0]
    data = _PackRows.apply(input, mask=to_device(mask, input.device))
    return PackedSequence(data, Tensor(batch_sizes.astype(np.int64)), sorted_indices, None)


def pad_packed_sequence(
    sequence: PackedSequence,
    batch_first: bool = False,
    padding_value: float = 0.0,
    total_length: int | None = None,
) -> tuple[Tensor, Tensor]:
    """The inverse of ``pack_padded_sequence``: ``(padded, lengths)``, the padded tensor
    (T, B, *) (or (B, T, *)) in the original batch order, and each sequence's length. T is
    the longest length, or ``total_length`` if given."""
    op = "pad_packed_sequence"
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"{op}: expected a PackedSequence, got {type(sequence).__name__}")
    sizes = _ints(sequence.batch_sizes, op, "batch_sizes")
    steps = sizes.size
    if total_length is not None:
        if total_length < steps:
            raise ValueError(
                f"{op}: Expected total_length to be at least the length of the longest "
                f"sequence in input, but got total_length={total_length} and max sequence "
                f"length being {steps}"
            )
        steps = total_length
    batch = int(sizes[0]) if sizes.size else 0
    padded_sizes = np.zeros(steps, np.int64)
    padded_sizes[: sizes.size] = sizes
    mask = np.arange(batch)[None, :] < padded_sizes[:, None]
    lengths = mask.sum(axis=0)  # sequence b runs while batch_sizes[t] > b
    data = sequence.data
    padded = _PadRows.apply(data, mask=to_device(mask, data.device), padding_value=padding_value)
    if sequence.unsorted_indices is not None:
        padded = index_select(padded, 1, sequence.unsorted_indices)
        lengths = lengths[_ints(sequence.unsorted_indices, op, "unsorted_indices")]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, Tensor(lengths.astype(np.int64))


def pad_sequence(
    sequences: Tensor | Sequence[Tensor],
    batch_first: bool = False,
    padding_value: float = 0.0,
    padding_side: str = "right",
) -> Tensor:
    """Stack sequences of shapes (L_i, *) into (T, B, *) (or (B, T, *) with
    ``batch_first``), T the longest L_i, padding with ``padding_value`` on ``padding_side``."""
    op = "pad_sequence"
    if isinstance(sequences, Tensor):
        sequences = unbind(sequences, 0)
    seqs = list(sequences)
    if padding_side not in ("right", "left"):
        raise ValueError(f"{op}: padding_side must be 'left' or 'right', got {padding_side!r}")
    if not seqs:
        raise ValueError(f"{op}: received an empty list of sequences")
    for i, s in enumerate(seqs):
        if not isinstance(s, Tensor) or s.ndim == 0:
            got = "a 0-d tensor" if isinstance(s, Tensor) else type(s).__name__
            raise ValueError(f"{op}: sequence {i} must be a Tensor of shape (L, *), got {got}")
        if s.shape[1:] != seqs[0].shape[1:] or s.dtype != seqs[0].dtype:
            raise ValueError(
                f"{op}: every sequence must have the trailing dims and dtype of sequence 0 "
                f"({seqs[0].shape[1:]}, {seqs[0].dtype}); sequence {i} has shape {s.shape} "
                f"and dtype {s.dtype}"
            )
    return _PadSequence.apply(
        *seqs, batch_first=batch_first, padding_value=padding_value, left=padding_side == "left"
    )


def unpad_sequence(
    padded_sequences: Tensor, lengths: Tensor | Sequence[int], batch_first: bool = False
) -> list[Tensor]:
    """The sequences of a padded batch, each cut to its length (the inverse of
    ``pad_sequence``)."""
    lens = _ints(lengths, "unpad_sequence", "lengths")
    batch = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [batch[b, : int(n)] for b, n in enumerate(lens)]


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences (L_i, *): ``pad_sequence`` then ``pack_padded_sequence``."""
    lengths = [s.shape[0] if isinstance(s, Tensor) and s.ndim else 0 for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The list of sequences in a ``PackedSequence``, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
