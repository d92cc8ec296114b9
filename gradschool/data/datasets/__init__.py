"""Datasets with torchvision's interface: ``(image, label)`` samples, ``data`` / ``targets``
arrays, ``transform`` / ``target_transform``, files looked up on disk (``root=``,
``$GRADSCHOOL_DATA``, ``~/.cache/gradschool``) and ``download=True`` with MD5 checks; and
``Shakespeare``, the plays as character windows for a language model."""

from .cifar import CIFAR10
from .digits import Digits
from .mnist import MNIST, FashionMNIST
from .shakespeare import Shakespeare
from .spiral import Spiral

__all__ = ["MNIST", "FashionMNIST", "CIFAR10", "Digits", "Spiral", "Shakespeare"]
