"""Transforms: turn dataset images into network inputs and augment them (torchvision's API).

CS231n lecture 7 ("Training neural networks II", data augmentation) and CSC321's lecture on
generalization: random, label-preserving changes of each training image -- flips, crops,
rescales, colour jitter, rotations -- act as a regulariser; ``ToTensor`` and ``Normalize``
do the preprocessing of lecture 6. The names, arguments, defaults and maths are
torchvision's, so ``import torchvision.transforms as T`` becomes
``import gradschool.data.transforms as T``::

    train_tf = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.ToTensor(),
                          T.Normalize((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))])

Inputs are what datasets give -- NumPy ``(H, W)`` / ``(H, W, C)`` arrays, usually uint8 -- or
gradschool Tensors ``(C, H, W)`` after ``ToTensor``; each transform returns the kind it got.
Randomness comes from gradschool's generator: ``gradschool.manual_seed`` repeats it. Many
transforms also offer ``apply_batch`` for a whole ``(N, ...)`` batch at once (a DataLoader
uses it when the whole pipeline has one); ``functional`` holds the deterministic operations.
"""

from . import functional
from ._image import InterpolationMode
from .color import ColorJitter, GaussianBlur, Grayscale, RandomGrayscale
from .containers import Compose, Lambda, RandomApply
from .conversion import Normalize, ToTensor
from .geometric import (
    CenterCrop,
    Pad,
    RandomCrop,
    RandomHorizontalFlip,
    RandomResizedCrop,
    RandomRotation,
    RandomVerticalFlip,
    Resize,
)

__all__ = [
    "CenterCrop",
    "ColorJitter",
    "Compose",
    "GaussianBlur",
    "Grayscale",
    "InterpolationMode",
    "Lambda",
    "Normalize",
    "Pad",
    "RandomApply",
    "RandomCrop",
    "RandomGrayscale",
    "RandomHorizontalFlip",
    "RandomResizedCrop",
    "RandomRotation",
    "RandomVerticalFlip",
    "Resize",
    "ToTensor",
    "functional",
]
