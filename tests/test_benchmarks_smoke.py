"""The benchmark's plumbing, not its timings: the gradschool / PyTorch twins that
``benchmarks/run.py`` times get equal weights and give equal outputs, a wrong weight is
caught, and the markdown report replaces only its own block. (No timing is asserted.)"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))  # the scripts import their helpers by plain name

import _common  # noqa: E402
import _twins  # noqa: E402


def _load_run():
    spec = importlib.util.spec_from_file_location("benchmarks_run", BENCH / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", list(_twins.MODELS))
def test_twins_share_weights_and_outputs(name):
    ours, theirs = _twins.make_pair(name)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in ours.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), theirs.state_dict()[key].numpy(), key)
    x = np.random.default_rng(0).standard_normal((2, *_twins.MODELS[name].input_chw))
    assert _twins.check_agreement(ours, theirs, x.astype(np.float32)) < 1e-3


def test_a_different_weight_is_caught():
    ours, theirs = _twins.make_pair("mlp")
    with torch.no_grad():
        theirs.layers[0].weight[0, 0] += 1.0
    x = np.ones((2, 1, 28, 28), np.float32)
    with pytest.raises(AssertionError):
        _twins.check_agreement(ours, theirs, x)


def test_vgg_style_layout():
    net = _twins.vgg_style(torch.nn)
    assert sum(p.numel() for p in net.parameters()) == 2_147_402
    assert list(net.state_dict())[:3] == [
        "features.0.weight",
        "features.1.weight",
        "features.1.bias",
    ]
    assert tuple(net(torch.zeros(1, 3, 32, 32)).shape) == (1, 10)


def test_markdown_block_is_replaced_in_place(tmp_path):
    run = _load_run()
    path = tmp_path / "bench.md"
    path.write_text(f"intro\n{run.START}\nold table\n{run.END}\noutro\n")
    run.write_markdown(path, "new table")
    assert path.read_text() == f"intro\n{run.START}\nnew table\n{run.END}\noutro\n"
    other = tmp_path / "other.md"  # no markers: the block is appended, nothing is lost
    other.write_text("notes\n")
    run.write_markdown(other, "table")
    assert other.read_text() == f"notes\n\n{run.START}\ntable\n{run.END}\n"
    fresh = tmp_path / "fresh.md"
    run.write_markdown(fresh, "table")
    assert fresh.read_text().endswith(f"{run.START}\ntable\n{run.END}\n")


def test_table_and_flop_count():
    table = _common.format_table(["a", "b"], [["section"], ["x", "1.0"]], right="1")
    lines = table.splitlines()
    assert lines[1] == "|-------------|----:|" and "**section**" in lines[2]
    assert len({len(line) for line in lines}) == 1  # every row padded to the same width
    # 3x3 conv, 16 -> 16 channels on 32x32 with padding 1: 2*16*9*16*1024 FLOPs forward, x3
    assert _common.conv_flops(1, 16, 32, 32, 16, 3, 3, 1, 1) == 3 * 2 * 16 * 9 * 16 * 1024
