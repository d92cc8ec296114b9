"""``gradschool.nn``: Module, Parameter, layers, losses, initialisers, gradient utilities.

Layer classes hold parameters and call ``gradschool.nn.functional``; names, arguments,
defaults, initialisation and state_dict keys are PyTorch's.
"""

from . import functional, init, utils
from .module import Module
from .modules.activation import *
from .modules.container import *
from .modules.conv import *
from .modules.distance import *
from .modules.dropout import *
from .modules.flatten import *
from .modules.linear import *
from .modules.loss import *
from .modules.normalization import *
from .modules.padding import *
from .modules.pooling import *
from .modules.rnn import *
from .modules.rnn_cell import *
from .modules.sparse import *
from .modules.upsampling import *
from .parameter import Parameter
