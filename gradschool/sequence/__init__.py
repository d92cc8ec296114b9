"""Sequence models (CS231n L10, CSC321 L14-L15): the character-level language model and
many-to-one line classification (which play a line comes from)."""

from .char_lm import CELLS, CharLM, StreamLoader, batchify, bits_per_char, sample
from .play_lines import FIVE_PLAYS, BagOfWords, LineClassifier, PlayLines

__all__ = ["CELLS", "CharLM", "StreamLoader", "batchify", "bits_per_char", "sample"]
__all__ += ["FIVE_PLAYS", "BagOfWords", "LineClassifier", "PlayLines"]
