"""Random number generation: one seedable generator, as ``torch.manual_seed`` gives.

``gradschool.manual_seed(s)`` makes every random op (``rand``, ``randn``, dropout, data
shuffling, initialisation) repeat bit for bit on the CPU.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class Generator:
    """A seedable source of random numbers (PyTorch's ``torch.Generator``), on NumPy's PCG64."""

    def __init__(self, device: str = "cpu") -> None:
        self.device = device
        self._seed = int(np.random.SeedSequence().entropy % (2**63))
        self.rng = np.random.default_rng(self._seed)

    def manual_seed(self, seed: int) -> Generator:
        """Reset the generator to a known state; returns itself."""
        if not isinstance(seed, int | np.integer):
            raise TypeError(f"manual_seed: expected an int seed, got {type(seed).__name__}")
        seed = int(seed)
        if not -(2**63) <= seed < 2**64:  # PyTorch's range: what fits in 64 bits
            raise ValueError(f"manual_seed: expected a seed in [-2**63, 2**64), got {seed}")
        self._seed = seed % 2**64  # a negative seed wraps to 64 bits, as PyTorch's does
        self.rng = np.random.default_rng(self._seed)
        return self

    def seed(self) -> int:
        """Seed from fresh entropy and return the seed used."""
        self.manual_seed(int(np.random.SeedSequence().entropy % (2**63)))
        return self._seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict[str, Any]:
        """The generator's state as a plain dict (what checkpoints store)."""
        return self.rng.bit_generator.state

    def set_state(self, state: dict[str, Any]) -> None:
        if not isinstance(state, dict):
            raise TypeError(
                "set_rng_state: expected a state dict from get_rng_state(), "
                f"got {type(state).__name__}"
            )
        try:
            self.rng.bit_generator.state = state
        except (TypeError, ValueError, KeyError) as err:  # NumPy's checks, with its wording
            raise ValueError(
                f"set_rng_state: not a state of this generator ({type(err).__name__}: {err}); "
                "pass what get_rng_state() returned"
            ) from None


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator so that a run repeats exactly (``torch.manual_seed``)."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> dict[str, Any]:
    return default_generator.get_state()


def set_rng_state(state: dict[str, Any]) -> None:
    default_generator.set_state(state)


def rng_of(generator: Generator | None) -> np.random.Generator:
    """The NumPy generator behind ``generator`` (the default one when None)."""
    return (generator or default_generator).rng
