"""The differentiable primitives, one module per family; everything else is built from them."""

from . import arithmetic, convert, index, linalg, methods, reduce, shape, softmax
from .arithmetic import *  # noqa: F403
from .convert import clone, contiguous, to, type_as
from .index import *  # noqa: F403
from .linalg import *  # noqa: F403
from .reduce import *  # noqa: F403
from .shape import *  # noqa: F403
from .softmax import *  # noqa: F403

methods.bind(arithmetic, convert, shape, reduce, softmax, index, linalg)
