"""Checkpoints: a full round trip (model, optimiser, scheduler, random generators), the
nested-state encoding, atomic writes, and the errors for a wrong model or a broken file."""

import json
import math
import os

import numpy as np
import pytest

import gradschool as gs
import gradschool.nn as nn
from gradschool.io.safetensors import load_file, load_metadata, save_file
from gradschool.optim.adam import Adam
from gradschool.optim.lr_scheduler import ReduceLROnPlateau, StepLR
from gradschool.train import CheckpointError, load_checkpoint, load_model_weights, save_checkpoint
from gradschool.train.checkpoint import decode_state, encode_state


def _net():
    return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))


def _trained(seed=0):
    gs.manual_seed(seed)
    model = _net()
    opt = Adam(model.parameters(), lr=0.01)
    sched = StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):
        loss = nn.functional.cross_entropy(model(gs.randn(16, 4)), gs.randint(0, 3, (16,)))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return model, opt, sched


def _same(a, b):
    if isinstance(a, gs.Tensor | np.ndarray):
        return np.array_equal(np.asarray(a), np.asarray(b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def test_round_trip_restores_everything(tmp_path):
    model, opt, sched = _trained()
    loader_gen = gs.Generator().manual_seed(5)
    loader_gen.rng.random(3)
    path = tmp_path / "checkpoint.safetensors"
    save_checkpoint(
        path,
        model,
        opt,
        sched,
        epoch=3,
        generators={"loader": loader_gen},
        trainer_state={"best": 0.5, "history": [{"epoch": 1}]},
    )
    expected_default = gs.rand(4).numpy()  # what the default generator draws next
    expected_loader = loader_gen.rng.random(4)

    gs.manual_seed(123)  # different weights, state and random streams
    model2 = _net()
    opt2 = Adam(model2.parameters(), lr=0.5)
    sched2 = StepLR(opt2, step_size=1, gamma=0.5)
    gen2 = gs.Generator().manual_seed(99)
    info = load_checkpoint(path, model2, opt2, sched2, generators={"loader": gen2})
    assert info["epoch"] == 3 and info["trainer"] == {"best": 0.5, "history": [{"epoch": 1}]}
    assert _same(model.state_dict(), model2.state_dict())  # running stats of BatchNorm too
    assert _same(opt.state_dict(), opt2.state_dict())
    assert isinstance(opt2.param_groups[0]["betas"], tuple)
    assert sched.state_dict() == sched2.state_dict()
    np.testing.assert_array_equal(gs.rand(4).numpy(), expected_default)
    np.testing.assert_array_equal(gen2.rng.random(4), expected_loader)


def test_file_layout_is_readable(tmp_path):
    model, opt, sched = _trained()
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, model, opt, sched, epoch=2)
    tensors = load_file(path)
    assert "model.0.weight" in tensors and "model.1.running_mean" in tensors
    assert "optimizer.state.0.exp_avg" in tensors
    meta = load_metadata(path)
    assert meta["format"] == "gradschool-checkpoint/1" and meta["epoch"] == "2"
    assert meta["model_class"] == "Sequential"
    state = json.loads(meta["state"])  # non-tensor state is plain JSON
    assert state["scheduler"]["gamma"] == 0.5


def test_encode_decode_nested_state():
    tensors = {}
    obj = {
        "state": {0: {"step": np.float32(3), "buf": np.arange(3.0)}},
        "t": (1, 2.5),
        "best": math.inf,
        "none": None,
        "s": "x",
    }
    enc = encode_state(obj, "p", tensors)
    json.dumps(enc, allow_nan=False)  # strict JSON
    assert set(tensors) == {"p.state.0.buf"}
    dec = decode_state(json.loads(json.dumps(enc)), tensors)
    assert dec["state"][0]["step"] == 3.0 and dec["t"] == (1, 2.5) and dec["best"] == math.inf
    np.testing.assert_array_equal(dec["state"][0]["buf"], np.arange(3.0))
    with pytest.raises(TypeError, match=r"cannot store p\.f of type function"):
        encode_state({"f": lambda: 0}, "p", {})


def test_plateau_scheduler_state_with_inf_round_trips(tmp_path):
    model = _net()
    opt = Adam(model.parameters())
    sched = ReduceLROnPlateau(opt)
    save_checkpoint(tmp_path / "c.safetensors", model, opt, sched)
    sched2 = ReduceLROnPlateau(opt, patience=3)
    load_checkpoint(tmp_path / "c.safetensors", scheduler=sched2)
    assert sched2.best == math.inf and sched2.patience == 10


def test_failed_save_leaves_no_partial_file(tmp_path, monkeypatch):
    model, opt, _ = _trained()
    path = tmp_path / "checkpoint.safetensors"
    save_checkpoint(path, model, opt, epoch=1)
    before = path.read_bytes()
    # a state that cannot be stored: fails before writing
    with pytest.raises(TypeError):
        save_checkpoint(path, model, opt, epoch=2, trainer_state={"f": object()})

    # a failure in the middle of the write (here: the disk sync)
    def broken_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, model, opt, epoch=3)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.safetensors"]
    assert path.read_bytes() == before  # the previous checkpoint is intact
    assert load_checkpoint(path, restore_rng=False)["epoch"] == 1


def test_other_model_lists_missing_and_unexpected_keys(tmp_path):
    model, _, _ = _trained()
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, model)
    other = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3), nn.Linear(3, 3))
    with pytest.raises(CheckpointError) as err:
        load_model_weights(path, other)
    msg = str(err.value)
    assert "missing keys (in the model, not in the checkpoint): 2.weight, 2.bias" in msg
    assert (
        "unexpected keys (in the checkpoint, not in the model): 1.bias, 1.num_batches_tracked, 1.running_mean, 1.running_var, 1.weight;"
        in msg
    )
    assert "3.weight: checkpoint (3, 8), model (3, 3)" in msg
    wider = nn.Sequential(nn.Linear(4, 9), nn.BatchNorm1d(9), nn.ReLU(), nn.Linear(9, 3))
    with pytest.raises(
        CheckpointError, match=r"shape mismatches: 0.weight: checkpoint \(8, 4\), model \(9, 4\)"
    ):
        load_model_weights(path, wider)


def test_corrupted_and_missing_files(tmp_path):
    model, _, _ = _trained()
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, model)
    path.write_bytes(path.read_bytes()[:-10])  # truncated
    with pytest.raises(CheckpointError, match="could not read the checkpoint .*c.safetensors"):
        load_model_weights(path, _net())
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "nothing.safetensors")


def test_plain_state_dict_file_loads(tmp_path):
    model, _, _ = _trained()
    save_file(dict(model.state_dict()), tmp_path / "w.safetensors")
    fresh = _net()
    load_model_weights(tmp_path / "w.safetensors", fresh)
    assert _same(model.state_dict(), fresh.state_dict())
