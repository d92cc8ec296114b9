"""The differentiable primitives, one module per family; everything else is built from them."""

from . import arithmetic, convert, index, inplace, linalg, methods, reduce, shape, softmax, sort

# bind before the star imports below shadow module names (``softmax``, ``sort``: functions)
methods.bind(arithmetic, convert, shape, reduce, softmax, index, linalg, inplace, sort)

from .arithmetic import *  # noqa: E402, F403
from .convert import clone, contiguous, to, type_as  # noqa: E402
from .index import *  # noqa: E402, F403
from .linalg import *  # noqa: E402, F403
from .reduce import *  # noqa: E402, F403
from .shape import *  # noqa: E402, F403
from .softmax import *  # noqa: E402, F403
from .sort import *  # noqa: E402, F403
