"""LeNet-5 (LeCun, Bottou, Bengio & Haffner, 1998): the first convolutional network of the
course (CS231n L5 "Convolutional Neural Networks", L9 "CNN Architectures"; CSC321 L11).

The pattern every later architecture refines: CONV-POOL-CONV-POOL, then fully connected
layers. On a 28x28 input (MNIST, Fashion-MNIST) the first convolution pads by 2, so the
shapes are those of the original 32x32 network::

    input                  (N, 1, 28, 28)
    conv 5x5 -> 6, pad 2   (N, 6, 28, 28)     6 * (1*5*5 + 1)     =    156 params
    pool 2x2               (N, 6, 14, 14)
    conv 5x5 -> 16         (N, 16, 10, 10)   16 * (6*5*5 + 1)     =  2,416
    pool 2x2               (N, 16, 5, 5)
    flatten                (N, 400)
    fc -> 120              (N, 120)          400*120 + 120        = 48,120
    fc -> 84               (N, 84)           120*84 + 84          = 10,164
    fc -> 10               (N, 10)           84*10 + 10           =    850
                                                          total     61,706

Almost all parameters sit in the fully connected layers, almost all the compute in the
convolutions: the observation behind AlexNet, VGG and the global-average-pooled heads of
GoogLeNet and ResNet (CS231n L9). The 1998 network used tanh and average ("subsampling")
pooling (``activation="tanh"``); the course's modern default is ReLU with max pooling.
"""

from __future__ import annotations

from ..nn import AvgPool2d, Conv2d, Linear, MaxPool2d, Module, ReLU, Sequential, Tanh
from ..tensor import Tensor

__all__ = ["LeNet5", "lenet5"]

_ACTIVATIONS = {"relu": (ReLU, MaxPool2d), "tanh": (Tanh, AvgPool2d)}


class LeNet5(Module):
    """LeNet-5: ``features`` (conv, act, pool, conv, act, pool) then ``classifier``
    (fc 120, act, fc 84, act, fc ``num_classes``).

    Input ``(N, in_channels, input_size, input_size)``, output ``(N, num_classes)`` logits.
    state_dict keys: ``features.0.weight``, ``features.3.weight``, ``classifier.0.weight``,
    ``classifier.2.weight``, ``classifier.4.weight`` (and the biases), as in a PyTorch
    LeNet written with two ``nn.Sequential`` blocks.

    >>> import gradschool as gs
    >>> net = LeNet5()
    >>> tuple(net(gs.randn(2, 1, 28, 28)).shape)
    (2, 10)
    >>> sum(p.numel() for p in net.parameters())
    61706
    """

    def __init__(
        self,
        num_classes: int = 10,
        in_channels: int = 1,
        input_size: int = 28,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        for name, value in (
            ("num_classes", num_classes),
            ("in_channels", in_channels),
            ("input_size", input_size),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"LeNet5: {name} must be a positive int, got {value!r}")
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"LeNet5: unknown activation {activation!r}; expected 'relu' or 'tanh'"
            )
        # 28x28 is padded to behave as the original 32x32: both give 5x5 maps before the fc
        padding = 2 if input_size == 28 else 0
        side = ((input_size + 2 * padding - 4) // 2 - 4) // 2
        if side < 1:
            raise ValueError(
                f"LeNet5: input_size {input_size} is too small; two 5x5 convolutions and two "
                "2x2 poolings need at least 16 pixels"
            )
        self.num_classes, self.in_channels = num_classes, in_channels
        self.input_size, self.activation = input_size, activation
        act, pool = _ACTIVATIONS[activation]
        self.features = Sequential(
            Conv2d(in_channels, 6, kernel_size=5, padding=padding),
            act(),
            pool(2),
            Conv2d(6, 16, kernel_size=5),
            act(),
            pool(2),
        )
        self.classifier = Sequential(
            Linear(16 * side * side, 120),
            act(),
            Linear(120, 84),
            act(),
            Linear(84, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        """``(N, in_channels, input_size, input_size)`` -> ``(N, num_classes)`` logits."""
        expected = (self.in_channels, self.input_size, self.input_size)
        if x.ndim != 4 or tuple(x.shape[1:]) != expected:
            raise ValueError(
                f"LeNet5: expected input of shape (N, {', '.join(map(str, expected))}), "
                f"got {tuple(x.shape)}"
            )
        return self.classifier(self.features(x).flatten(1))

    def extra_repr(self) -> str:
        return (
            f"num_classes={self.num_classes}, in_channels={self.in_channels}, "
            f"input_size={self.input_size}, activation={self.activation!r}"
        )


def lenet5(
    num_classes: int = 10,
    in_channels: int = 1,
    input_size: int = 28,
    activation: str = "relu",
) -> LeNet5:
    """LeNet-5 for ``(N, in_channels, input_size, input_size)`` images (61,706 parameters
    for the default 28x28, ten-class model). ``activation="tanh"`` gives the 1998 original
    (tanh with average pooling); ``"relu"`` (default) uses max pooling. See ``LeNet5``."""
    return LeNet5(num_classes, in_channels, input_size, activation)
