"""The character-level language model: stream batching for truncated BPTT, the carried and
detached hidden state, training on a tiny text, bits per character, sampling, and the
``gradschool lm`` / ``gradschool sample`` commands on a small Shakespeare-shaped archive."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gradschool as gs
from gradschool.cli.main import main
from gradschool.data.datasets.shakespeare import CharVocab
from gradschool.nn.functional import cross_entropy
from gradschool.optim import Adam
from gradschool.sequence import CharLM, StreamLoader, batchify, bits_per_char, sample
from gradschool.train import fit
from tests.data.test_shakespeare import fake_sdist

TEXT = "abcab cabca bcabc " * 40


def test_batchify_rows_are_contiguous_streams():
    data = np.arange(103)
    rows = batchify(data, 4)
    assert rows.shape == (4, 25) and rows.dtype == data.dtype
    assert np.array_equal(rows.reshape(-1), data[:100])  # row b is the b-th quarter
    with pytest.raises(ValueError, match="cannot fill 60 rows"):
        batchify(data, 60)
    with pytest.raises(ValueError, match="1-D"):
        batchify(data.reshape(1, -1), 1)


def test_stream_loader_continues_each_row_across_batches():
    data = np.arange(83)
    calls = []
    loader = StreamLoader(data, 4, 6, reset=lambda: calls.append(1))
    batches = list(loader)
    assert calls == [1] and len(batches) == len(loader) == 4  # 20 per row: 6 + 6 + 6 + 1
    rows = batchify(data, 4)
    xs = np.concatenate([x.detach().numpy() for x, _ in batches], axis=1)
    ys = np.concatenate([y.detach().numpy().reshape(4, -1) for _, y in batches], axis=1)
    assert np.array_equal(xs, rows[:, :-1]) and np.array_equal(ys, rows[:, 1:])
    x0, y0 = batches[0]
    assert x0.shape == (4, 6) and y0.shape == (24,) and str(y0.dtype).endswith("int64")
    assert (
        batches[1][0].detach().numpy()[2, 0] == x0.detach().numpy()[2, -1] + 1
    )  # batch k+1 continues batch k
    list(loader)
    assert calls == [1, 1]  # reset at the start of every pass


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_hidden_state_is_carried_and_detached(cell):
    gs.manual_seed(0)
    model = CharLM(7, hidden_size=8, num_layers=2, cell=cell)
    x = gs.tensor(np.random.default_rng(0).integers(0, 7, size=(3, 5)))
    first = model(x)
    assert first.shape == (15, 7)
    state = model._state
    hs = state if isinstance(state, tuple) else (state,)
    assert all(h.shape == (2, 3, 8) and not h.requires_grad and h.grad_fn is None for h in hs)
    # the second call starts from the carried state: the stateless form with it agrees
    expected, _ = model.forward_state(x, state)
    second = model(x)
    assert np.allclose(second.detach().numpy(), expected.detach().numpy().reshape(15, 7))
    assert not np.allclose(second.detach().numpy(), first.detach().numpy())
    second.sum().backward()  # no gradient flows into the previous batch's graph
    assert all(p.grad is not None for p in model.parameters())
    model.reset_state()
    assert model._state is None and np.allclose(
        model(x).detach().numpy(), first.detach().numpy(), atol=1e-6
    )
    model(gs.tensor(np.zeros((2, 5), dtype=np.int64)))  # another batch width starts afresh
    with pytest.raises(ValueError, match=r"expected ids of shape \(B, T\)"):
        model(gs.tensor(np.zeros(5, dtype=np.int64)))
    with pytest.raises(ValueError, match="cell must be one of"):
        CharLM(7, cell="transformer")


def test_loss_decreases_on_a_tiny_text():
    vocab = CharVocab(TEXT)
    gs.manual_seed(0)
    model = CharLM(len(vocab), hidden_size=32, num_layers=1)
    loader = StreamLoader(vocab.encode(TEXT), 4, 16, reset=model.reset_state)
    optimizer = Adam(model.parameters(), lr=1e-2)
    history = fit(
        model, loader, optimizer, epochs=4, val_loader=loader, max_grad_norm=5.0,
        progress=False, verbose=False, plot=False,
    )  # fmt: skip
    losses = history["val_loss"]
    assert losses[-1] < 0.5 * losses[0] and losses[0] < math.log(len(vocab)) + 0.5
    # the loss is the mean over characters, in nats: the cross-entropy of the logits
    x, y = next(iter(loader))
    assert float(cross_entropy(model(x), y).item()) < 1.0


def test_bits_per_char():
    assert bits_per_char(math.log(2)) == pytest.approx(1.0)
    assert bits_per_char(1.55) == pytest.approx(1.55 / math.log(2))


def test_sampling_greedy_seeded_and_unknown_prime():
    vocab = CharVocab(TEXT)
    gs.manual_seed(1)
    model = CharLM(len(vocab), hidden_size=16, num_layers=2)
    greedy = sample(model, vocab, prime="ab", length=30, temperature=0)
    assert greedy.startswith("ab") and len(greedy) == 32 and set(greedy) <= set(TEXT)
    # the greedy path is the argmax at every step, and a tiny temperature approaches it
    state, text = None, "ab"
    logits, state = model.forward_state(gs.tensor(vocab.encode("ab").reshape(1, -1)))
    for _ in range(30):
        nxt = int(np.argmax(logits.detach().numpy()[0, -1]))
        text += vocab.itos[nxt]
        logits, state = model.forward_state(gs.tensor(np.array([[nxt]])), state)
    assert greedy == text
    assert sample(model, vocab, prime="ab", length=30, temperature=1e-4) == greedy
    a = sample(model, vocab, "a", 40, 1.0, generator=gs.Generator().manual_seed(5))
    b = sample(model, vocab, "a", 40, 1.0, generator=gs.Generator().manual_seed(5))
    c = sample(model, vocab, "a", 40, 1.0, generator=gs.Generator().manual_seed(6))
    assert a == b and a != c
    gs.manual_seed(3)
    d = sample(model, vocab, "a", 40, 1.0)
    gs.manual_seed(3)
    assert sample(model, vocab, "a", 40, 1.0) == d
    with pytest.raises(ValueError, match=r"character 'Z'"):
        sample(model, vocab, prime="abZ")
    with pytest.raises(ValueError, match="temperature"):
        sample(model, vocab, prime="a", temperature=-1)


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """A small sdist-shaped archive of fake plays that the Shakespeare class trusts."""
    archive = fake_sdist(tmp_path, monkeypatch)
    monkeypatch.chdir(tmp_path)
    return archive.parent


def test_cli_lm_writes_the_run_resumes_and_samples(fake, capsys):
    from gradschool.train.log import read_json

    args = ["lm", "--data-dir", str(fake), "--hidden", "16", "--layers", "1", "--seq-len", "20"]
    args += ["--batch-size", "4", "--no-progress", "--out", "r"]
    assert main([*args, "--epochs", "1"]) == 0
    out = capsys.readouterr().out
    assert "nats/char" in out and "bits/char" in out and "--- sample" in out
    for name in ("config.json", "checkpoint.safetensors", "best.safetensors", "log.csv"):
        assert (fake.parent / "r" / name).exists()
    assert (fake.parent / "r/curves.png").exists() and (fake.parent / "r/sample.txt").exists()
    assert main(["lm", "--resume", "r", "--data-dir", str(fake), "--epochs", "2"]) == 0
    assert "resumed from" in capsys.readouterr().out
    metrics = read_json("r/metrics.json")
    records = metrics["history"]
    assert [r["epoch"] for r in records] == [1, 2] and "test_bpc" in metrics
    assert records[1]["val_bpc"] == pytest.approx(records[1]["val_loss"] / math.log(2))
    assert main(["lm", "--resume", "r", "--data-dir", str(fake), "--hidden", "32"]) == 1
    assert "--hidden cannot change" in capsys.readouterr().err
    assert main(["sample", "r", "--prime", "Enter", "--length", "50", "--temperature", "0"]) == 0
    greedy = capsys.readouterr().out
    assert greedy.startswith("Enter") and len(greedy.rstrip("\n")) >= 55
    assert main(["sample", "r", "--prime", "Enter", "--length", "50", "--temperature", "0"]) == 0
    assert capsys.readouterr().out == greedy
    assert main(["sample", "r", "--prime", "\u00e6"]) == 1
    assert "'\u00e6'" in capsys.readouterr().err


def test_cli_lm_resumed_run_matches_an_uninterrupted_one(fake, capsys):
    from gradschool.train.log import read_json

    args = ["lm", "--data-dir", str(fake), "--hidden", "8", "--layers", "2", "--seq-len", "10"]
    args += ["--batch-size", "8", "--dropout", "0.2", "--no-progress"]
    assert main([*args, "--epochs", "2", "--out", "a"]) == 0
    assert main([*args, "--epochs", "1", "--out", "b"]) == 0
    assert main(["lm", "--resume", "b", "--data-dir", str(fake), "--epochs", "2"]) == 0
    capsys.readouterr()
    a, b = read_json("a/metrics.json"), read_json("b/metrics.json")
    assert [r["val_loss"] for r in a["history"]] == [r["val_loss"] for r in b["history"]]
    assert a["test_loss"] == b["test_loss"]
