"""The character-level language model trained by gradschool and by PyTorch, side by side.

    .venv/bin/python benchmarks/char_lm_torch.py [--steps 200] [--hidden 256] [--layers 2]
        [--batch-size 64] [--seq-len 100] [--lr 2e-3] [--clip 5] [--val-batches 0]

The same network (embedding + LSTM + linear, ``gradschool.sequence.CharLM``; its PyTorch twin
has the same module and parameter names), gradschool's initial weights copied into the twin,
the same stream of batches (the Shakespeare training plays, ``StreamLoader``: truncated BPTT,
hidden state carried and detached), Adam and gradient clipping at the same settings, for the
same number of steps. Prints each library's validation loss (nats/char, on the held-out plays;
``--val-batches N`` uses only the first N batches of them) and seconds per step.
Both use the same number of threads (all cores unless ``--threads``).
"""

from __future__ import annotations

import argparse
import math
import os
import time

import numpy as np


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--seq-len", type=int, default=100)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--clip", type=float, default=5.0)
    p.add_argument("--val-batches", type=int, default=0, help="0: the whole validation split")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()

    import torch

    import gradschool as gs
    from gradschool.data.datasets import Shakespeare
    from gradschool.nn.functional import cross_entropy
    from gradschool.nn.utils import clip_grad_norm_
    from gradschool.optim import Adam
    from gradschool.sequence import CharLM, StreamLoader

    torch.set_num_threads(args.threads)
    gs.set_num_threads(args.threads)
    train, val = Shakespeare(split="train"), Shakespeare(split="val")
    v = train.vocab_size
    gs.manual_seed(args.seed)
    model = CharLM(v, args.hidden, args.layers)

    class TorchCharLM(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embedding = torch.nn.Embedding(v, args.hidden)
            self.rnn = torch.nn.LSTM(args.hidden, args.hidden, args.layers, batch_first=True)
            self.decoder = torch.nn.Linear(args.hidden, v)

        def forward(self, x: torch.Tensor, state: object) -> tuple[torch.Tensor, object]:
            out, state = self.rnn(self.embedding(x), state)
            return self.decoder(out.reshape(-1, out.shape[-1])), state

    twin = TorchCharLM()
    weights = {
        k: torch.from_numpy(t.detach().numpy().copy()) for k, t in model.state_dict().items()
    }
    twin.load_state_dict(weights)

    def batches(data: np.ndarray, limit: int) -> list[tuple[np.ndarray, np.ndarray]]:
        out = []
        for x, y in StreamLoader(data, args.batch_size, args.seq_len):
            out.append((x.numpy(), y.numpy()))
            if len(out) == limit:
                break
        return out

    train_batches = batches(train.data, args.steps)
    val_batches = batches(val.data, args.val_batches or 10**9)

    # gradschool
    opt = Adam(model.parameters(), lr=args.lr)
    model.reset_state()
    started = time.perf_counter()
    for x, y in train_batches:
        loss = cross_entropy(model(gs.tensor(x)), gs.tensor(y))
        opt.zero_grad()
        loss.backward()
        clip_grad_norm_(model.parameters(), args.clip)
        opt.step()
    gs_step = (time.perf_counter() - started) / len(train_batches)
    model.eval()
    model.reset_state()
    total = n = 0
    with gs.no_grad():
        for x, y in val_batches:
            total += float(cross_entropy(model(gs.tensor(x)), gs.tensor(y)).item()) * y.size
            n += y.size
    gs_val = total / n

    # PyTorch
    topt = torch.optim.Adam(twin.parameters(), lr=args.lr)
    state = None
    started = time.perf_counter()
    for x, y in train_batches:
        logits, state = twin(torch.from_numpy(x), state)
        state = tuple(s.detach() for s in state)
        loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(y))
        topt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(twin.parameters(), args.clip)
        topt.step()
    torch_step = (time.perf_counter() - started) / len(train_batches)
    twin.eval()
    state, total, n = None, 0.0, 0
    with torch.no_grad():
        for x, y in val_batches:
            logits, state = twin(torch.from_numpy(x), state)
            total += float(torch.nn.functional.cross_entropy(logits, torch.from_numpy(y))) * y.size
            n += y.size
    torch_val = total / n

    print(
        f"{args.layers}-layer LSTM {args.hidden}, batch {args.batch_size} x {args.seq_len}, "
        f"Adam {args.lr:g}, clip {args.clip:g}, {len(train_batches)} steps, "
        f"{len(val_batches)} validation batches, {args.threads} threads"
    )
    for name, val_loss, step in (
        ("gradschool", gs_val, gs_step),
        ("pytorch", torch_val, torch_step),
    ):
        print(
            f"{name:>10}: val {val_loss:.4f} nats/char ({val_loss / math.log(2):.4f} bits/char), "
            f"{step:.3f} s/step"
        )
    print(
        f"difference: {gs_val - torch_val:+.4f} nats/char; speed ratio {torch_step / gs_step:.2f}"
    )


if __name__ == "__main__":
    main()
