"""The multi-layer perceptron: fully connected layers with nonlinearities between them
(CS231n L4 "Neural Networks", assignment 2's ``FullyConnectedNet``; CSC321 L5-L7).

Each hidden layer is ``affine - [batch norm] - activation - [dropout]``, the order of
CS231n's assignment 2, then a final affine layer gives the class scores::

    input (N, *) --flatten--> (N, in_features)
        -> [Linear -> BatchNorm1d? -> activation -> Dropout?] per hidden width
        -> Linear -> (N, num_classes) logits

The input is flattened first, so an image batch ``(N, 1, 28, 28)`` goes straight in: the
baseline that shows what convolutions add (it ignores where pixels are; shuffle every
image's pixels the same way and it trains exactly as well).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..nn import (
    ELU,
    GELU,
    BatchNorm1d,
    Dropout,
    LeakyReLU,
    Linear,
    Module,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
)
from ..tensor import Tensor

__all__ = ["MLP", "mlp"]

ACTIVATIONS: dict[str, type[Module]] = {
    "relu": ReLU,
    "tanh": Tanh,
    "sigmoid": Sigmoid,
    "leaky_relu": LeakyReLU,
    "elu": ELU,
    "gelu": GELU,
}


class MLP(Module):
    """A fully connected classifier over flattened inputs.

    Input ``(N, *)`` with ``in_features`` values per example (e.g. ``(N, 1, 28, 28)`` for
    784), output ``(N, num_classes)`` logits. The layers live in one ``Sequential`` named
    ``layers``: with ``hidden=(256, 128)`` and no batch norm or dropout the state_dict keys
    are ``layers.0.*``, ``layers.2.*``, ``layers.4.*``.

    >>> import gradschool as gs
    >>> net = MLP()
    >>> tuple(net(gs.randn(2, 1, 28, 28)).shape)
    (2, 10)
    >>> sum(p.numel() for p in net.parameters())  # 784*256+256 + 256*128+128 + 128*10+10
    235146
    """

    def __init__(
        self,
        in_features: int = 784,
        hidden: Sequence[int] = (256, 128),
        num_classes: int = 10,
        activation: str = "relu",
        dropout: float = 0.0,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        if isinstance(hidden, int):
            hidden = (hidden,)
        widths = [in_features, *hidden, num_classes]
        for w in widths:
            if isinstance(w, bool) or not isinstance(w, int) or w < 1:
                raise ValueError(
                    f"MLP: in_features, hidden widths and num_classes must be positive ints, "
                    f"got in_features={in_features!r}, hidden={tuple(hidden)!r}, "
                    f"num_classes={num_classes!r}"
                )
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"MLP: unknown activation {activation!r}; known: {', '.join(sorted(ACTIVATIONS))}"
            )
        if (
            isinstance(dropout, bool)
            or not isinstance(dropout, int | float)
            or not 0 <= dropout < 1
        ):
            raise ValueError(f"MLP: dropout must be a probability in [0, 1), got {dropout!r}")
        self.in_features, self.hidden, self.num_classes = in_features, tuple(hidden), num_classes
        self.activation, self.dropout, self.batch_norm = activation, dropout, batch_norm
        layers: list[Module] = []
        for fan_in, fan_out in zip(widths[:-2], widths[1:-1], strict=True):
            layers.append(Linear(fan_in, fan_out))
            if batch_norm:
                layers.append(BatchNorm1d(fan_out))
            layers.append(ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(Dropout(dropout))
        layers.append(Linear(widths[-2], num_classes))
        self.layers = Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """``(N, *)`` -> ``(N, num_classes)``: flatten everything after the batch dimension."""
        features = 1
        for s in x.shape[1:]:
            features *= s
        if x.ndim < 2 or features != self.in_features:
            raise ValueError(
                f"MLP: expected input (N, ...) with {self.in_features} values per example, "
                f"got shape {tuple(x.shape)}"
            )
        return self.layers(x.flatten(1) if x.ndim > 2 else x)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, hidden={self.hidden}, "
            f"num_classes={self.num_classes}, activation={self.activation!r}, "
            f"dropout={self.dropout}, batch_norm={self.batch_norm}"
        )


def mlp(
    in_features: int = 784,
    hidden: Sequence[int] = (256, 128),
    num_classes: int = 10,
    activation: str = "relu",
    dropout: float = 0.0,
    batch_norm: bool = False,
) -> MLP:
    """A multi-layer perceptron that flattens its input first (see ``MLP``); the default is
    784-256-128-10 with ReLU (235,146 parameters)."""
    return MLP(in_features, hidden, num_classes, activation, dropout, batch_norm)
