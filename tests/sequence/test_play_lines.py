"""Line -> play classification on a tiny sdist-shaped archive made here (three fake plays
under real file names): the by-line split, the classifier's final state at each line's true
length, and ``gradschool classify-lines`` writing both accuracies."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import gradschool as gs
from gradschool.cli.main import main
from gradschool.sequence.play_lines import (
    PAD,
    BagOfWords,
    LineClassifier,
    PlayLines,
    play_lines,
)
from tests.data.test_shakespeare import fake_sdist

PLAYS = ("hamlet", "macbeth", "tempest")
WORDS = {
    "hamlet": "denmark ghost father rotten skull player mother",
    "macbeth": "witch dagger blood thane crown night raven",
    "tempest": "island storm spirit magic sea monster wand",
}
SHARED = "This very line is spoken in two plays at once"


def _play(name: str, lines: int = 60) -> str:
    words = WORDS[name].split()
    body = []
    for i in range(lines):
        speech = " ".join(words[(i + j) % len(words)] for j in range(4 + i % 3))
        body.append(f"{name.upper()}.\n{speech} number {i} here\nand {name} again\n")
        if i % 10 == 0:
            body.append("[Enter a Messenger, running.]\n")
        if i % 15 == 0:
            body.append(f"SCENE {i}. A room.\n")
    head = f"{name.upper()}\n\nPersons Represented\n\nSOMEBODY, a person of the play.\n\nACT I.\n\n"
    extra = f"\nGHOST.\n{SHARED}\n" if name != "tempest" else ""
    repeat = f"\nFOOL.\nA line said twice in {name}\n\nFOOL.\nA line said twice in {name}\n"
    return head + "\n".join(body) + extra + repeat


TEXTS = {p: _play(p) for p in PLAYS}


@pytest.fixture
def archive(tmp_path, monkeypatch) -> Path:
    """The fake sdist (trusted by its SHA-256); no real data anywhere."""
    return fake_sdist(tmp_path, monkeypatch, TEXTS, held_out=((), ()))


def test_play_lines_strips_speakers_directions_and_headings():
    lines = play_lines(TEXTS["macbeth"], min_chars=10)
    assert "witch dagger blood thane number 0 here" in lines
    assert "and macbeth again" in lines
    assert not any(ln.isupper() or "[" in ln or "Messenger" in ln for ln in lines)
    assert not any("SOMEBODY" in ln or ln.startswith("SCENE") for ln in lines)
    assert all(len(ln) >= 10 for ln in lines)


def test_split_sizes_disjoint_and_every_play_everywhere(archive):
    splits = {s: PlayLines(archive, s, plays=PLAYS, min_chars=10) for s in ("train", "val", "test")}
    sizes = {s: len(d) for s, d in splits.items()}
    total = sum(sizes.values())
    # 60 speeches of 2 lines per play (the 'and <play> again' line once), + the repeat once
    per_play = {p: set(play_lines(TEXTS[p], 10)) - {SHARED} for p in PLAYS}
    assert total == sum(len(v) for v in per_play.values())
    assert sizes["train"] == round(0.8 * total) and sizes["val"] == round(0.1 * total)
    texts = {s: set(d.lines) for s, d in splits.items()}
    assert all(len(texts[s]) == sizes[s] for s in texts)  # no duplicate inside a split
    assert not texts["train"] & texts["val"] and not texts["train"] & texts["test"]
    assert not texts["val"] & texts["test"]
    assert SHARED not in texts["train"] | texts["val"] | texts["test"]
    for s, d in splits.items():
        assert set(d.labels.tolist()) == {0, 1, 2}, s
        for line, label in zip(d.lines, d.labels, strict=True):
            assert line in per_play[PLAYS[label]]
    again = PlayLines(archive, "test", plays=PLAYS, min_chars=10)
    assert again.lines == splits["test"].lines  # the split is fixed by the seed
    other = PlayLines(archive, "test", plays=PLAYS, min_chars=10, seed=1)
    assert other.lines != splits["test"].lines


def test_encoding_and_batches(archive):
    ds = PlayLines(archive, "train", plays=PLAYS, min_chars=10, max_len=30)
    assert ds.vocab_size == len(ds.vocab) + 1 and ds.data.shape == (len(ds), 30)
    x, y = ds.__getitems__([0, 1, 2])
    assert x.shape == (3, 30) and y.shape == (3,)
    for row, line, n in zip(x.data, ds.lines[:3], ds.lengths[:3], strict=True):
        assert n == min(len(line), 30) and (row[n:] == PAD).all() and (row[:n] != PAD).all()
        assert ds.vocab.decode(row[:n] - 1) == line[:30]


def test_classifier_shape_and_final_state_at_true_length():
    gs.manual_seed(0)
    for cell in ("lstm", "gru", "rnn"):
        model = LineClassifier(12, 5, hidden_size=8, num_layers=2, cell=cell, embedding_dim=6)
        rng = np.random.default_rng(0)
        lengths = [7, 3, 5, 1]
        x = np.zeros((4, 9), dtype=np.int64)
        for i, n in enumerate(lengths):
            x[i, :n] = rng.integers(1, 12, n)
        out = model(gs.tensor(x))
        assert out.shape == (4, 5)
        wider = np.concatenate([x, np.zeros((4, 6), dtype=np.int64)], axis=1)
        np.testing.assert_allclose(model(gs.tensor(wider)).data, out.data, rtol=1e-5, atol=1e-6)
        for i, n in enumerate(lengths):  # each line alone, no padding at all
            alone = model(gs.tensor(x[i : i + 1, :n]))
            np.testing.assert_allclose(alone.data[0], out.data[i], rtol=1e-5, atol=1e-6)
        out.sum().backward()
        assert model.embedding.weight.grad is not None


def test_classifier_errors():
    with pytest.raises(ValueError, match="cell"):
        LineClassifier(10, 5, cell="transformer")
    model = LineClassifier(10, 3, hidden_size=4, embedding_dim=4)
    with pytest.raises(ValueError, match=r"\(B, T\)"):
        model(gs.tensor(np.ones(5, dtype=np.int64)))
    with pytest.raises(ValueError, match="all padding"):
        model(gs.tensor(np.array([[1, 2], [0, 0]])))


def test_bag_of_words_tfidf():
    bow = BagOfWords(max_features=3).fit(["the cat the dog", "the bird", "a cat"])
    assert sorted(bow.vocabulary_) == ["a", "cat", "the"]  # ties broken alphabetically
    X = bow.transform(["the cat", "zebra"])
    np.testing.assert_allclose(np.linalg.norm(X[0]), 1.0)
    assert (X[1] == 0).all()


def test_cli_tiny_run_writes_both_accuracies(archive, tmp_path):
    run = tmp_path / "run"
    argv = ["classify-lines", "--data-dir", str(archive.parent), "--epochs", "2", "--plays", *PLAYS]
    argv += ["--hidden", "8", "--embedding", "4", "--min-chars", "10", "--batch-size", "16"]
    assert main([*argv, "--out", str(run), "--no-progress"]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    for key in ("test_accuracy", "baseline_test_accuracy", "majority_test_accuracy"):
        assert 0.0 <= metrics[key] <= 1.0
    assert metrics["baseline_test_accuracy"] > 0.9  # the fake plays' words never overlap
    assert metrics["epochs_completed"] == 2
    config = json.loads((run / "config.json").read_text())
    assert config["plays"] == list(PLAYS) and config["task"] == "play-lines"
    for name in ("checkpoint.safetensors", "best.safetensors", "log.csv", "curves.png"):
        assert (run / name).exists()
