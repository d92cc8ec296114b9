"""A character-level language model (CS231n L10, Karpathy's char-rnn; CSC321 L14).

The network reads one character id per time step and predicts the next one:

    ids (B, T) -> Embedding -> LSTM / GRU / RNN (layers, hidden) -> Linear -> logits (B*T, V)

Training is *truncated backpropagation through time*. The text of a split is one long stream
of ids; ``batchify`` cuts it into ``B`` parallel rows (row ``b`` is the ``b``-th contiguous
``1/B`` of the text), and ``StreamLoader`` walks along all rows ``T`` characters at a time,
so batch ``k + 1`` continues batch ``k`` in every row. The model carries its hidden state
from one batch to the next (the network sees the whole text, in order), but detaches it, so
gradients flow back at most ``T`` steps. The state is reset when a loader starts a pass.

The loss is the mean cross-entropy per character in nats; ``bits_per_char`` divides by
``ln 2``. ``sample`` generates text from a prime with a temperature (softmax of
``logits / temperature``; small temperatures approach the greedy argmax).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..autograd.grad_mode import no_grad
from ..nn import GRU, LSTM, RNN, Embedding, Linear, Module
from ..ops.sort import multinomial
from ..tensor import Tensor

__all__ = ["CharLM", "StreamLoader", "batchify", "bits_per_char", "sample", "CELLS"]

CELLS: dict[str, type] = {"lstm": LSTM, "gru": GRU, "rnn": RNN}


def bits_per_char(nats: float) -> float:
    """A loss in nats per character as bits per character: ``nats / ln 2``."""
    return float(nats) / math.log(2.0)


# ----------------------------------------------------------------- data
def batchify(data: np.ndarray, batch_size: int) -> np.ndarray:
    """The stream ``data`` (N,) as ``batch_size`` contiguous rows (B, N // B); the tail
    that does not fill a row is dropped (PyTorch's word_language_model ``batchify``)."""
    data = np.asarray(data)
    if data.ndim != 1:
        raise ValueError(f"batchify: expected a 1-D stream of ids, got shape {data.shape}")
    if batch_size < 1 or len(data) // batch_size < 2:
        raise ValueError(
            f"batchify: {len(data)} ids cannot fill {batch_size} rows of at least 2 ids"
        )
    n = len(data) // batch_size
    return np.ascontiguousarray(data[: n * batch_size].reshape(batch_size, n))


class StreamLoader:
    """Consecutive ``(x, y)`` windows along the rows of ``batchify(data, batch_size)``.

    Batch ``k`` is ``x = rows[:, kT:(k+1)T]`` (B, T) and ``y`` the next characters,
    flattened to (B*T,) to match the model's (B*T, V) logits; the last window may be
    shorter. ``reset`` (e.g. ``model.reset_state``) is called at the start of every pass.
    """

    def __init__(
        self,
        data: np.ndarray,
        batch_size: int,
        seq_len: int,
        reset: Callable[[], None] | None = None,
    ) -> None:
        if seq_len < 1:
            raise ValueError(f"StreamLoader: seq_len must be at least 1, got {seq_len}")
        self.rows = batchify(data, batch_size)
        self.batch_size, self.seq_len, self.reset = batch_size, seq_len, reset

    def __len__(self) -> int:
        return math.ceil((self.rows.shape[1] - 1) / self.seq_len)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        if self.reset is not None:
            self.reset()
        n = self.rows.shape[1]
        for start in range(0, n - 1, self.seq_len):
            stop = min(start + self.seq_len, n - 1)
            x = self.rows[:, start:stop]
            y = self.rows[:, start + 1 : stop + 1]
            yield Tensor(np.ascontiguousarray(x)), Tensor(np.ascontiguousarray(y).reshape(-1))


# ----------------------------------------------------------------- the model
def _detach(state: Any) -> Any:
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


class CharLM(Module):
    """Embedding + recurrent layers + a linear read-out over the characters.

    Args:
        vocab_size: number of characters V.
        hidden_size: width of each recurrent layer.
        num_layers: stacked recurrent layers.
        cell: ``"lstm"``, ``"gru"`` or ``"rnn"`` (tanh).
        embedding_dim: width of the character embedding (default: ``hidden_size``).
        dropout: dropout between recurrent layers (PyTorch's ``dropout`` argument).

    ``model(x)`` takes ids (B, T) and returns logits (B*T, V); it starts from the state the
    previous call left (detached), so consecutive batches of a ``StreamLoader`` form one
    sequence. ``reset_state()`` forgets it; ``forward_state(x, state)`` is the stateless
    form, returning ``(logits (B, T, V), state)``.
    """

    def __init__(
        self,
        vocab_size: int,
        hidden_size: int = 256,
        num_layers: int = 2,
        cell: str = "lstm",
        embedding_dim: int | None = None,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"CharLM: cell must be one of {sorted(CELLS)}, got {cell!r}")
        if vocab_size < 1:
            raise ValueError(f"CharLM: vocab_size must be positive, got {vocab_size}")
        emb = embedding_dim or hidden_size
        self.vocab_size, self.cell = int(vocab_size), cell
        self.embedding = Embedding(vocab_size, emb)
        self.rnn = CELLS[cell](
            emb, hidden_size, num_layers=num_layers, batch_first=True, dropout=dropout
        )
        self.decoder = Linear(hidden_size, vocab_size)
        self._state: Any = None

    def reset_state(self) -> None:
        """Forget the carried hidden state (the next batch starts from zeros)."""
        self._state = None

    def forward_state(self, x: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        if x.ndim != 2:
            raise ValueError(f"CharLM: expected ids of shape (B, T), got {tuple(x.shape)}")
        out, state = self.rnn(self.embedding(x), state)
        b, t, h = out.shape
        logits = self.decoder(out.reshape(b * t, h))
        return logits.reshape(b, t, self.vocab_size), state

    def forward(self, x: Tensor) -> Tensor:
        state = self._state
        if state is not None:  # a batch of another width (e.g. validation) starts afresh
            h = state[0] if isinstance(state, tuple) else state
            if h.shape[1] != x.shape[0]:
                state = None
        logits, state = self.forward_state(x, state)
        self._state = _detach(state)  # truncated BPTT: no gradient into the previous batch
        return logits.reshape(-1, self.vocab_size)


# ----------------------------------------------------------------- sampling
def sample(
    model: CharLM,
    vocab: Any,
    prime: str = "ROMEO:",
    length: int = 500,
    temperature: float = 0.8,
    generator: Any = None,
) -> str:
    """``prime`` followed by ``length`` characters drawn from the model one at a time.

    Each character is drawn from ``softmax(logits / temperature)`` with ``gs.multinomial``
    (``generator`` or gradschool's seeded default); ``temperature=0`` takes the argmax
    (greedy). A character of ``prime`` outside ``vocab`` raises a ``ValueError`` naming it.
    """
    if not isinstance(prime, str) or not prime:
        raise ValueError(f"sample: prime must be a non-empty str, got {prime!r}")
    if not temperature >= 0:
        raise ValueError(f"sample: temperature must be >= 0, got {temperature}")
    if length < 0:
        raise ValueError(f"sample: length must be >= 0, got {length}")
    try:
        ids = vocab.encode(prime)
    except ValueError as e:
        raise ValueError(f"sample: the prime cannot be encoded: {e}") from None
    was_training = model.training
    model.eval()
    out: list[int] = []
    try:
        with no_grad():
            logits, state = model.forward_state(Tensor(ids.reshape(1, -1)))
            for _ in range(length):
                last = logits.data[0, -1].astype(np.float64)
                if temperature == 0:
                    nxt = int(np.argmax(last))
                else:
                    z = last / temperature
                    p = np.exp(z - z.max())
                    nxt = int(multinomial(Tensor(p), 1, generator=generator).item())
                out.append(nxt)
                logits, state = model.forward_state(Tensor(np.array([[nxt]])), state)
    finally:
        model.train(was_training)
    return prime + vocab.decode(np.array(out, dtype=np.int64))
