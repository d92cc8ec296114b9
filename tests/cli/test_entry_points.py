"""``python -m gradschool`` and ``python -m gradschool.cli`` (the ``__main__`` modules) reach
the same command as the ``gradschool`` script."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["gradschool", "gradschool.cli"])
def test_python_dash_m_runs_the_command(module):
    out = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    for sub in ("train", "evaluate", "predict", "tune"):
        assert sub in out.stdout
