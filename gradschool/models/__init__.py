"""The classification ladder of the course (CS231n L9 "CNN Architectures", CSC321 L12), one
file per architecture, each a function returning an ``nn.Module`` (torchvision's style:
``resnet18()``, ``vgg11_bn()``) and the class behind it. ``get_model(name, **kwargs)`` builds
one by name (what ``gradschool train --model`` uses); ``MODELS`` is the registry it reads.

Every image model takes ``num_classes``, ``in_channels`` and ``input_size``; the ImageNet
networks also ``small_input`` (default: chosen from ``input_size``), a gentler stem so that
they train on 28x28 Fashion-MNIST and 32x32 CIFAR. Parameter counts and state_dict keys
equal torchvision's for the ImageNet configurations. The ladder, in the lecture's order:

==============================  ====================================================
``lenet5``                      LeNet-5 (1998): conv-pool-conv-pool-fc
``alexnet``, ``zfnet``          AlexNet (2012, LRN, optional 2-group split), ZFNet (2013)
``vgg11`` ... ``vgg19_bn``      VGG (2014): stacks of 3x3 convs, with or without BN
``googlenet``                   GoogLeNet / Inception v1 (2014), auxiliary classifiers
``resnet18`` ... ``resnet152``  ResNet (2015), basic and bottleneck blocks; ``plain*``
                                twins without shortcuts; stochastic depth
``resnet20`` ... ``resnet110``  the CIFAR ResNets of the paper (6n+2), ``plain*`` twins
``resnext50_32x4d``             ResNeXt (2017): grouped-conv bottlenecks
``wide_resnet50_2``             Wide ResNet (2016)
``densenet121``                 DenseNet (2017): every layer sees all earlier maps
``squeezenet1_0``, ``1_1``      SqueezeNet (2016): AlexNet accuracy, 50x fewer parameters
``mlp``                         the fully connected baseline
==============================  ====================================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..nn import Module
from . import alexnet as _alexnet
from . import densenet as _densenet
from . import googlenet as _googlenet
from . import lenet as _lenet
from . import mlp as _mlp
from . import resnet as _resnet
from . import resnet_cifar as _resnet_cifar
from . import squeezenet as _squeezenet
from . import vgg as _vgg
from ._base import ImageClassifier
from .alexnet import AlexNet, alexnet, zfnet
from .densenet import DenseNet, densenet121
from .googlenet import GoogLeNet, Inception, InceptionNaive, googlenet, googlenet_loss
from .lenet import LeNet5, lenet5
from .mlp import MLP, mlp
from .resnet import (
    ResNet,
    plain18,
    plain34,
    plain50,
    plain101,
    plain152,
    resnet18,
    resnet34,
    resnet50,
    resnet101,
    resnet152,
    resnext50_32x4d,
    wide_resnet50_2,
)
from .resnet_cifar import (
    CifarResNet,
    plain20,
    plain32,
    plain44,
    plain56,
    plain110,
    resnet20,
    resnet32,
    resnet44,
    resnet56,
    resnet110,
)
from .squeezenet import SqueezeNet, squeezenet1_0, squeezenet1_1
from .vgg import VGG, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn

_FILES = (
    _lenet,
    _alexnet,
    _vgg,
    _googlenet,
    _resnet,
    _resnet_cifar,
    _densenet,
    _squeezenet,
    _mlp,
)
_NOT_MODELS = {"googlenet_loss", "inception_costs"}

MODELS: dict[str, Callable[..., Module]] = {
    name: getattr(f, name)
    for f in _FILES
    for name in f.__all__
    if name[0].islower() and name not in _NOT_MODELS
}

__all__ = [
    "AlexNet",
    "CifarResNet",
    "DenseNet",
    "GoogLeNet",
    "ImageClassifier",
    "Inception",
    "InceptionNaive",
    "LeNet5",
    "MLP",
    "MODELS",
    "ResNet",
    "SqueezeNet",
    "VGG",
    "get_model",
    "googlenet_loss",
    *sorted(MODELS),
]


def get_model(name: str, **kwargs: Any) -> Module:
    """Build the model registered as ``name`` with ``kwargs`` (e.g.
    ``get_model("resnet20", num_classes=10, in_channels=1, input_size=28)``); raises
    ``ValueError`` listing the known names."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(sorted(MODELS))}")
    return MODELS[name](**kwargs)
