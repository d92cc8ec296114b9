"""Sequence models (CS231n L10, CSC321 L14-L15): the character-level language model."""

from .char_lm import CELLS, CharLM, StreamLoader, batchify, bits_per_char, sample

__all__ = ["CELLS", "CharLM", "StreamLoader", "batchify", "bits_per_char", "sample"]
