"""The fuzz driver in-process: a short clean run, and proof that it bites — a wrong gradient
injected into one op (and one layer) is reported with a reproducer line that, run again,
fails the same way."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

import gradschool.nn.functional as F
from gradschool.ops import arithmetic
from tests.fuzz import run


def _main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str]]:
    status = run.main(list(argv))
    return status, capsys.readouterr().out.strip().splitlines()


def test_fifty_cases_pass(capsys: pytest.CaptureFixture[str]) -> None:
    status, lines = _main(capsys, "--cases", "50", "--seed", "20260101")
    assert lines[0] == "fuzz seed 20260101"
    assert lines[-1] == "50 cases, 0 failures", "\n".join(lines)
    assert status == 0


def test_every_target_is_listed(capsys: pytest.CaptureFixture[str]) -> None:
    status, names = _main(capsys, "--list")
    assert status == 0 and len(names) == len(set(names)) > 450
    for name in ("conv2d", "nn.BatchNorm2d", "extreme_exp", "ties.max_pool2d", "law.dropout"):
        assert name in names


def _double_exp_grad(self: Any, g: Any) -> tuple[Any]:
    return (2 * g * self.saved[0],)


def _linear_grad_of_bias_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """nn.Linear's bias gets half its gradient (the functional linear is reused by the
    layer, so the layer row must catch it too)."""
    real = F.linear

    def linear(x: Any, w: Any, b: Any = None) -> Any:
        y = real(x, w, None)
        return y if b is None else y + 0.5 * b + (0.5 * b).detach()

    monkeypatch.setattr("gradschool.nn.modules.linear.F.linear", linear)


@pytest.mark.parametrize(
    ("only", "inject"),
    [
        ("extreme_exp", lambda mp: mp.setattr(arithmetic.Exp, "backward", _double_exp_grad)),
        ("nn.Linear", _linear_grad_of_bias_off),
    ],
)
def test_an_injected_wrong_gradient_is_caught_and_replays(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    only: str,
    inject: Callable[[pytest.MonkeyPatch], None],
) -> None:
    inject(monkeypatch)
    status, lines = _main(capsys, "--cases", "20", "--seed", "3", "--only", only)
    _, repeat = _main(capsys, "--cases", "20", "--seed", "3", "--only", only)
    assert lines[:-2] == repeat[:-2], "the same seed must give the same cases"
    last = re.fullmatch(r"20 cases, (\d+) failures", lines[-1])
    assert last and int(last.group(1)) > 0, "\n".join(lines)
    assert status == 1
    assert any("grad of" in line for line in lines)
    replays = [line.split("--replay ")[1] for line in lines if "reproduce:" in line]
    assert len(replays) == int(last.group(1))
    case = replays[0].strip("'")
    assert re.fullmatch(r"[\w.]+:\d+", case)
    status, again = _main(capsys, "--replay", case)
    assert status == 1 and again[-1] == "1 cases, 1 failures"
    monkeypatch.undo()  # with the bug gone, the same case passes
    status, fixed = _main(capsys, "--replay", case)
    assert status == 0 and fixed[-1] == "1 cases, 0 failures"


def test_a_bad_replay_line_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    status, lines = _main(capsys, "--replay", "no_such_op:12")
    assert status == 2 and "NAME:SEED" in lines[-1]
