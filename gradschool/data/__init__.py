"""Data: datasets and the pieces that feed them to a model."""

from .spiral import make_spiral

__all__ = ["make_spiral"]
