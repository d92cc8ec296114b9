"""A seeded ``draw``: the parity samplers' hypothesis strategies, evaluated outside ``@given``.

The samplers of ``tests/parity/specs_*.py`` take hypothesis' ``draw``. Under ``@given`` each
test starts with hypothesis' simplest example and then shrinks, which a fuzzer does not
want; here one ``ConjectureData`` fed by ``random.Random(seed)`` evaluates the strategies,
so a case is a pure function of its seed: a replay draws exactly the same arguments.

Hypothesis mixes into its random choices "constants" collected from every local module in
``sys.modules``. That pool grows as gradschool imports its kernels lazily, so a case drawn
in a long run and the same case replayed alone would differ; the provider below never draws
from it. ``ConjectureData`` and ``BuildContext`` are internal API: if a hypothesis release changes
them, the smoke test (``test_fuzz_smoke.py``) fails here first.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from hypothesis.control import BuildContext
from hypothesis.errors import StopTest, UnsatisfiedAssumption
from hypothesis.internal.conjecture.data import ConjectureData

try:
    from hypothesis.internal.conjecture.providers import HypothesisProvider

    class _PlainProvider(HypothesisProvider):  # type: ignore[misc]
        """Hypothesis' random provider without the module-constant pool (see above)."""

        def _maybe_draw_constant(self, *args: Any, **kwargs: Any) -> None:
            return None

except ImportError:  # an older hypothesis: no providers, no constant pool
    _PlainProvider = None  # type: ignore[assignment,misc]


class Rejected(Exception):
    """The sampler gave up on this seed (a filter or an assumption failed)."""


def _data(seed: int) -> ConjectureData:
    rnd = random.Random(seed)
    if _PlainProvider is not None:
        return ConjectureData(random=rnd, provider=_PlainProvider)
    return ConjectureData(random=rnd)  # pragma: no cover


def sample_with(sampler: Callable[[Any], Any], seed: int) -> Any:
    """``sampler(draw)`` with a draw seeded by ``seed``; ``Rejected`` if hypothesis stops."""
    data = _data(seed)
    try:
        # some strategies (hypothesis.extra.numpy's) record their calls in the build context
        # that ``@given`` would set up
        try:
            context = BuildContext(data, is_final=False, wrapped_test=sampler)
        except TypeError:  # pragma: no cover - an older hypothesis
            context = BuildContext(data, is_final=False)
        with context:
            return sampler(data.draw)
    except (StopTest, UnsatisfiedAssumption) as e:
        raise Rejected(f"sampler rejected seed {seed}") from e
