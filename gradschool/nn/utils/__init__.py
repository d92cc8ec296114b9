"""``gradschool.nn.utils``: gradient clipping and flat parameter vectors (``clip_grad``), and
the packing of variable-length sequences for the recurrent layers (``rnn``)."""

from . import rnn
from .clip_grad import *
