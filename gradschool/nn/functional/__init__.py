"""``gradschool.nn.functional``: the stateless layer ops, PyTorch's names and signatures.

One file per family, each with a docstring that says which lecture it belongs to; the naive
loop versions the course teaches sit beside the fast ones (``conv_naive``, ``pooling_naive``).
"""

from .activation import *
from .conv import *
from .conv_naive import *
from .distance import *
from .dropout import *
from .linear import *
from .loss import *
from .normalization import *
from .padding import *
from .pooling import *
from .pooling_naive import *
from .rnn import *
from .rnn_naive import *
from .sparse import *
from .upsampling import *
