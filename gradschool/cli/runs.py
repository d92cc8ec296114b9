"""What a run of ``gradschool train`` is made of: the datasets it knows, and how a model, an
optimiser and the data loaders are built from its options (and rebuilt from a run folder's
``config.json`` by ``evaluate``, ``predict`` and ``--resume``).

Each dataset is described by a ``DataSpec``: how to load its train and test splits, the
input shape the model gets, the per-channel mean and standard deviation that ``Normalize``
subtracts and divides by (computed on the training set, CS231n L6 "data preprocessing"), and
the defaults that make ``gradschool train --dataset NAME`` work well without more options.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CLIError",
    "ClassSubset",
    "DataSpec",
    "DATASETS",
    "OPTIMIZERS",
    "build_model",
    "build_optimizer",
    "parse_classes",
]


class CLIError(Exception):
    """An error of the user's making (bad option, missing file): printed without traceback."""


@dataclass(frozen=True)
class DataSpec:
    """How to get a dataset and feed it to a model.

    ``load(root, train, download, transform)`` returns a ``Dataset`` of ``(input, label)``.
    ``kind``: ``"image"`` (inputs ``(C, H, W)``, images as uint8 ``(H, W[, C])`` arrays before
    the transform) or ``"points"`` (feature vectors ``(in_features,)``).
    """

    name: str
    load: Callable[..., Any]
    kind: str
    num_classes: int
    in_channels: int = 1
    input_size: int = 28
    in_features: int = 0
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()
    default_model: str = "lenet5"
    default_epochs: int = 10
    default_batch_size: int = 128
    # learning rates that beat the optimiser's default on this data (measured), by optimiser
    lrs: Mapping[str, float] = field(default_factory=dict)
    dark_background: bool = False  # light objects on black (MNIST-like): predict may invert
    classes: tuple[str, ...] = field(default_factory=tuple)


def _torchvision_style(cls_name: str) -> Callable[..., Any]:
    def load(root: Any, train: bool, download: bool, transform: Any) -> Any:
        from ..data import datasets

        cls = getattr(datasets, cls_name)
        return cls(root=root, train=train, transform=transform, download=download)

    return load


def _digits(root: Any, train: bool, download: bool, transform: Any) -> Any:
    """scikit-learn's 1,797 8x8 digits, split by a fixed permutation: 1,437 train / 360 test."""
    import numpy as np

    from ..data import datasets
    from ..data.dataset import Subset

    full = datasets.Digits(transform=transform)
    order = np.random.default_rng(0).permutation(len(full))  # fixed: the same test set always
    n_test = len(full) // 5
    subset = Subset(full, order[n_test:] if train else order[:n_test])
    subset.classes = full.classes  # type: ignore[attr-defined]
    return subset


def _spiral(root: Any, train: bool, download: bool, transform: Any) -> Any:
    """Three spiral arms: 300 points per arm to train on, 100 fresh ones per arm to test."""
    from ..data import datasets

    return datasets.Spiral(n_per_class=300 if train else 100, seed=0 if train else 1)


DATASETS: dict[str, DataSpec] = {
    "fashion-mnist": DataSpec(
        "fashion-mnist",
        _torchvision_style("FashionMNIST"),
        "image",
        10,
        mean=(0.2860,),
        std=(0.3530,),
        default_epochs=10,
        lrs={"adam": 3e-3, "adamw": 3e-3},
        dark_background=True,
    ),
    "mnist": DataSpec(
        "mnist",
        _torchvision_style("MNIST"),
        "image",
        10,
        mean=(0.1307,),
        std=(0.3081,),
        default_epochs=5,
        dark_background=True,
    ),
    "cifar10": DataSpec(
        "cifar10",
        _torchvision_style("CIFAR10"),
        "image",
        10,
        in_channels=3,
        input_size=32,
        mean=(0.4914, 0.4822, 0.4465),
        std=(0.2470, 0.2435, 0.2616),
        default_epochs=15,
    ),
    "digits": DataSpec(
        "digits",
        _digits,
        "image",
        10,
        input_size=8,
        mean=(0.305,),
        std=(0.375,),
        default_model="mlp",
        default_epochs=30,
        default_batch_size=64,
        dark_background=True,
    ),
    "spiral": DataSpec(
        "spiral",
        _spiral,
        "points",
        3,
        in_features=2,
        default_model="mlp",
        default_epochs=100,
        default_batch_size=64,
        lrs={"adam": 1e-2, "adamw": 1e-2, "rmsprop": 1e-2},
    ),
}


def dataset_spec(name: str) -> DataSpec:
    if name not in DATASETS:
        raise CLIError(f"unknown dataset {name!r}; known datasets: {', '.join(DATASETS)}")
    return DATASETS[name]


# ----------------------------------------------------------------- label subsets
def parse_classes(text: str, num_classes: int, dataset: str = "the dataset") -> list[int]:
    """``--classes`` as a list of class indices: ``"0,1,2"``, ``"5-9"`` or a mix (``"0,2,5-7"``),
    in the order given, each in ``[0, num_classes)``, no repeats, at least two."""
    out: list[int] = []
    for part in str(text).split(","):
        part = part.strip()
        try:
            if "-" in part[1:]:
                lo, hi = (int(v) for v in part.split("-", 1))
                if hi < lo:
                    raise ValueError
                out.extend(range(lo, hi + 1))
            else:
                out.append(int(part))
        except ValueError:
            raise CLIError(
                f"--classes takes class indices like 0,1,2 or 5-9, got {text!r}"
            ) from None
    bad = [c for c in out if not 0 <= c < num_classes]
    if bad:
        raise CLIError(f"--classes {text}: {dataset} has classes 0-{num_classes - 1}, got {bad[0]}")
    if len(set(out)) != len(out):
        raise CLIError(f"--classes {text} names a class twice")
    if len(out) < 2:
        raise CLIError(
            f"--classes {text}: a classifier needs at least two classes (one class is always right)"
        )
    return out


def _labels(dataset: Any) -> Any:
    import numpy as np

    targets = getattr(dataset, "targets", None)
    if targets is not None:
        return np.asarray(targets).reshape(-1)
    if hasattr(dataset, "dataset") and hasattr(dataset, "indices"):  # a Subset
        return _labels(dataset.dataset)[np.asarray(dataset.indices, dtype=np.int64)]
    return np.asarray([int(dataset[i][1]) for i in range(len(dataset))])  # the slow way


class ClassSubset:
    """The examples of ``dataset`` whose label is in ``classes``, relabelled ``0..K-1`` in the
    order of ``classes`` (``ClassSubset(fashion_train, [5, 6, 7, 8, 9])``: sandals become 0 ...
    ankle boots 4). ``classes`` (the attribute) holds the kept classes' names; batches come
    whole through ``__getitems__``, as from the dataset itself."""

    def __init__(self, dataset: Any, classes: list[int]) -> None:
        import numpy as np

        from ..data.dataset import Subset

        labels = _labels(dataset)
        self.class_indices = list(classes)
        self.remap = np.full(max(int(labels.max(initial=0)), *classes) + 1, -1, np.int64)
        self.remap[np.asarray(classes)] = np.arange(len(classes))
        self.subset = Subset(dataset, np.flatnonzero(np.isin(labels, classes)).tolist())
        names = getattr(dataset, "classes", None) or [str(c) for c in range(len(self.remap))]
        self.classes = [str(names[c]) for c in classes]

    def __len__(self) -> int:
        return len(self.subset)

    def __getitem__(self, index: int) -> tuple[Any, int]:
        x, y = self.subset[index]
        return x, int(self.remap[int(y)])

    def __getitems__(self, indices: Any) -> list[Any]:
        from ..tensor import Tensor

        x, y = self.subset.__getitems__(indices)
        labels = y.data if isinstance(y, Tensor) else y
        return [x, Tensor._make(self.remap[labels])]


# ----------------------------------------------------------------- models
def known_models() -> list[str]:
    from ..models import MODELS

    return sorted(MODELS)


def model_kwargs(model: str, spec: DataSpec) -> dict[str, Any]:
    """The constructor arguments of ``model`` that ``spec`` fixes (num_classes, in_channels,
    input_size, in_features), keeping only those the constructor accepts."""
    from ..models import MODELS

    candidates: dict[str, Any] = {"num_classes": spec.num_classes}
    if spec.kind == "image":
        candidates.update(
            in_channels=spec.in_channels,
            input_size=spec.input_size,
            in_features=spec.in_channels * spec.input_size**2,
        )
    else:
        candidates["in_features"] = spec.in_features
    try:
        params = inspect.signature(MODELS[model]).parameters
    except (TypeError, ValueError):
        return {"num_classes": spec.num_classes}
    return {k: v for k, v in candidates.items() if k in params}


def build_model(model: str, kwargs: dict[str, Any]) -> Any:
    from ..models import get_model

    if model not in known_models():
        raise CLIError(f"unknown model {model!r}; known models: {', '.join(known_models())}")
    try:
        return get_model(model, **kwargs)
    except (TypeError, ValueError) as e:
        raise CLIError(f"cannot build the model {model!r} with {kwargs}: {e}") from None


# ----------------------------------------------------------------- optimisers
# name -> (module, class, default lr, extra keyword arguments)
OPTIMIZERS: dict[str, tuple[str, str, float, dict[str, Any]]] = {
    "sgd": ("sgd", "SGD", 0.05, {"momentum": 0.9}),
    "adam": ("adam", "Adam", 1e-3, {}),
    "adamw": ("adamw", "AdamW", 1e-3, {}),
    "rmsprop": ("rmsprop", "RMSprop", 1e-3, {}),
    "adagrad": ("adagrad", "Adagrad", 1e-2, {}),
}


def build_optimizer(name: str, params: Any, lr: float | None, weight_decay: float | None) -> Any:
    import importlib

    if name not in OPTIMIZERS:
        raise CLIError(f"unknown optimizer {name!r}; known optimizers: {', '.join(OPTIMIZERS)}")
    module, cls_name, default_lr, extra = OPTIMIZERS[name]
    cls = getattr(importlib.import_module(f"gradschool.optim.{module}"), cls_name)
    kwargs = dict(extra, lr=default_lr if lr is None else lr)
    if weight_decay is not None:
        kwargs["weight_decay"] = weight_decay
    if not (
        isinstance(kwargs["lr"], float | int) and kwargs["lr"] > 0 and math.isfinite(kwargs["lr"])
    ):
        raise CLIError(f"--lr must be a positive number, got {kwargs['lr']}")
    return cls(params, **kwargs)


def default_lr(name: str, spec: DataSpec | None = None) -> float:
    """The learning rate ``--optimizer name`` gets without ``--lr``: the dataset's own choice
    for that optimiser if it has one, else the optimiser's default."""
    if spec is not None and name in spec.lrs:
        return spec.lrs[name]
    return OPTIMIZERS[name][2]


def build_transform(spec: DataSpec) -> Any:
    """``Compose([ToTensor(), Normalize(mean, std)])`` for images (``None`` for points)."""
    if spec.kind != "image":
        return None
    from ..data.transforms import Compose, Normalize, ToTensor

    return Compose([ToTensor(), Normalize(spec.mean, spec.std)])
