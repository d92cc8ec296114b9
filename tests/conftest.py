import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=int(os.environ.get("GRADSCHOOL_EXAMPLES", "12")),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("ci")


@pytest.fixture
def record_calls(monkeypatch):
    """``record_calls(module, *names)``: wrap those functions of ``module`` so that each call
    appends its name to the list returned (the wrappers are undone after the test)."""

    def record(module, *names):
        calls = []
        for name in names:
            real = getattr(module, name)
            monkeypatch.setattr(
                module, name, lambda *a, _r=real, _n=name: calls.append(_n) or _r(*a)
            )
        return calls

    return record
