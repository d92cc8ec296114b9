"""Transfer learning: reuse a network trained on one task as the starting point of another
(CS231n L7 "Training Neural Networks II" and L9 "CNN Architectures", "transfer learning";
CSC321 L12; Yosinski et al. 2014, "How transferable are features in deep neural networks?").

A classifier is a *backbone* (the layers that turn pixels into features) and a *head* (the last
layer, features -> class scores). The early layers learn edges, colours and textures that
almost any image task needs; only the head is tied to the label set. So instead of starting
from random weights:

1. train (or download) a network on a large dataset;
2. replace its head by a freshly initialised layer with one output per *new* class;
3. train on the new data:

   ==================  ===============================  ==================================
                       similar data to the original     very different data
   ==================  ===============================  ==================================
   very little data    freeze the backbone, train only  trouble: try a linear classifier on
                       the head (a linear classifier    features from an earlier layer
                       on the backbone's features)
   quite a lot         fine-tune more layers (or all),  fine-tune a large number of layers
                       with a lower learning rate
   ==================  ===============================  ==================================

   (the table of CS231n L7). Fine-tuning uses a learning rate about 1/10 of the original one:
   the pretrained weights are already good, and large steps would wash them out before the
   new head has learned anything useful.

Freezing in gradschool is PyTorch's: a parameter with ``requires_grad=False`` gets no gradient
(autograd does not even record the ops that only involve frozen weights and inputs), and the
optimiser is given only ``trainable_parameters(model)``.

Batch norm in a frozen backbone. ``requires_grad=False`` freezes BN's scale and shift, but not
its *running statistics*: in training mode BN normalises with the batch's mean and variance and
keeps updating ``running_mean``/``running_var``. That defeats the freezing: the features the
head learns from would change from batch to batch (each normalised by its own statistics), and
the statistics estimated on the large original dataset would be overwritten by those of the
small new one, under scales and shifts learned for the old. So ``freeze`` (and
``freeze_backbone``) keep every batch-norm layer whose parameters they freeze in eval mode
(running statistics used and left alone) even when ``model.train()`` is called, as Keras does
for ``trainable=False`` BN layers and as PyTorch users do by hand (``bn.eval()`` after
``model.train()``, or torchvision's ``FrozenBatchNorm2d`` in its detection backbones). A
forward pre-hook does it; ``unfreeze`` removes it. Pass ``bn_eval=False`` to keep PyTorch's
bare behaviour (statistics still adapt to the new data).

The canonical experiment, with the ``gradschool`` command (Fashion-MNIST: classes 0-4 are
T-shirt, trouser, pullover, dress, coat; 5-9 sandal, shirt, sneaker, bag, ankle boot)::

    gradschool train --classes 0-4 --out runs/fm-0to4
    gradschool train --init-from runs/fm-0to4 --classes 5-9 --freeze backbone --out runs/fm-5to9
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..nn import Conv2d, Linear, Module, Parameter
from ..nn.modules.normalization import _BatchNorm

__all__ = [
    "freeze",
    "unfreeze",
    "head_name",
    "replace_head",
    "freeze_backbone",
    "trainable_parameters",
    "load_backbone",
]

_HOOK = "_frozen_bn_hook"  # the attribute holding a frozen BN layer's pre-hook handle


def _keep_eval(module: Module, inputs: Any) -> None:
    # runs before every forward: whatever model.train() said, a frozen BN layer evaluates
    object.__setattr__(module, "training", False)


def _split(module_or_params: Any, fn: str) -> tuple[list[Module], list[Parameter]]:
    items = [module_or_params] if isinstance(module_or_params, Module | Parameter) else None
    if items is None:
        try:
            items = list(module_or_params)
        except TypeError:
            raise TypeError(
                f"{fn}: expected a Module, a Parameter or an iterable of them, got "
                f"{type(module_or_params).__name__}"
            ) from None
    modules, params = [], []
    for item in items:
        if isinstance(item, Module):
            modules.append(item)
            params.extend(item.parameters())
        elif isinstance(item, Parameter):
            params.append(item)
        else:
            raise TypeError(
                f"{fn}: expected Modules or Parameters, got an item of type {type(item).__name__}"
            )
    return modules, params


def freeze(module_or_params: Any, bn_eval: bool = True) -> list[Parameter]:
    """Stop training ``module_or_params`` (a Module, a Parameter, or an iterable of them): every
    parameter gets ``requires_grad=False``; returns those parameters.

    With ``bn_eval=True`` (default) every batch-norm layer inside the given modules stays in eval
    mode from now on, even under ``model.train()``: it normalises with its running statistics
    and does not update them (see the module docstring for why).
    """
    modules, params = _split(module_or_params, "freeze")
    for p in params:
        p.requires_grad_(False)
    if bn_eval:
        for m in (m for module in modules for m in module.modules()):
            if isinstance(m, _BatchNorm) and getattr(m, _HOOK, None) is None:
                object.__setattr__(m, _HOOK, m.register_forward_pre_hook(_keep_eval))
    return params


def unfreeze(module_or_params: Any) -> list[Parameter]:
    """Train ``module_or_params`` again: ``requires_grad=True`` for every parameter, and the
    batch-norm layers inside follow ``train()``/``eval()`` again (from the next
    ``model.train()`` on). Returns the parameters."""
    modules, params = _split(module_or_params, "unfreeze")
    for p in params:
        p.requires_grad_(True)
    for m in (m for module in modules for m in module.modules()):
        handle = getattr(m, _HOOK, None)
        if handle is not None:
            handle.remove()
            object.__setattr__(m, _HOOK, None)
    return params


def _is_head_layer(m: Module) -> bool:
    if isinstance(m, Linear):
        return True
    return isinstance(m, Conv2d) and tuple(m.kernel_size) == (1, 1) and m.groups == 1


def head_name(model: Module) -> str:
    """The dotted name of ``model``'s final classifier layer (its head), e.g. ``"fc"``
    (ResNet, GoogLeNet), ``"classifier.6"`` (AlexNet, VGG), ``"classifier.4"`` (LeNet-5),
    ``"layers.4"`` (the MLP).

    The rule: a Linear named ``fc``, else ``classifier`` itself if it is a Linear (DenseNet),
    else the last Linear or 1x1 convolution inside ``classifier`` (SqueezeNet's final conv),
    else the last Linear or 1x1 convolution registered anywhere in the model.
    """
    if not isinstance(model, Module):
        raise TypeError(f"head_name: expected a Module, got {type(model).__name__}")
    children = dict(model.named_children())
    if isinstance(children.get("fc"), Linear):
        return "fc"
    classifier = children.get("classifier")
    if isinstance(classifier, Module):
        if _is_head_layer(classifier):
            return "classifier"
        inside = [n for n, m in classifier.named_modules() if n and _is_head_layer(m)]
        if inside:
            return f"classifier.{inside[-1]}"
    found = [n for n, m in model.named_modules() if n and _is_head_layer(m)]
    if not found:
        raise ValueError(
            f"head_name: {type(model).__name__} has no Linear or 1x1 Conv2d layer to act as its "
            "classifier head"
        )
    return found[-1]


def _parent(model: Module, name: str) -> tuple[Module, str]:
    path, _, last = name.rpartition(".")
    return (model.get_submodule(path) if path else model), last


def replace_head(model: Module, num_classes: int) -> Module:
    """Put a freshly initialised head with ``num_classes`` outputs in place of ``model``'s head
    (``head_name(model)``); returns the new layer.

    The new layer takes the same input width: a ``Linear(in_features, num_classes)`` for a
    Linear head, a ``Conv2d(in_channels, num_classes, 1)`` for a 1x1-conv head, with a bias if
    the old one had one, on the old one's device and dtype. E.g. ResNet-20's ``fc``:
    ``Linear(64, 10)`` (650 parameters) becomes ``Linear(64, 5)`` (325). ``model.num_classes``
    is updated when the model has that attribute.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(
            f"replace_head: num_classes must be a positive int, got {num_classes!r} "
            f"(for {type(model).__name__})"
        )
    name = head_name(model)
    parent, last = _parent(model, name)
    old = parent._modules[last]
    bias = getattr(old, "bias", None) is not None
    if isinstance(old, Linear):
        new: Module = Linear(old.in_features, num_classes, bias=bias)
    else:
        new = Conv2d(old.in_channels, num_classes, 1, bias=bias)
    new.to(device=old.weight.device, dtype=old.weight.dtype)
    new.train(old.training)
    # assign in place: re-registering the name would move it to the end of the parent's
    # children, which changes a Sequential's order (and the state_dict's key order)
    parent._modules[last] = new
    if isinstance(getattr(model, "num_classes", None), int):
        object.__setattr__(model, "num_classes", num_classes)
    return new


def freeze_backbone(model: Module, bn_eval: bool = True) -> list[Parameter]:
    """Freeze every parameter of ``model`` except its head's (``head_name``); returns the
    parameters still trainable (the head's). Batch-norm layers of the backbone stay in eval
    mode unless ``bn_eval=False`` (see ``freeze``).

    For LeNet-5 on 5 classes that leaves 84*5 + 5 = 425 of 61,281 parameters to train; for
    ResNet-20, 64*5 + 5 = 325 of 269,397.
    """
    head = model.get_submodule(head_name(model))
    freeze(model, bn_eval=bn_eval)
    return unfreeze(head)


def trainable_parameters(model: Module) -> list[Parameter]:
    """The parameters of ``model`` with ``requires_grad=True``, in ``model.parameters()``
    order: what the optimiser should get (``Adam(trainable_parameters(model), lr=...)``)."""
    return [p for p in model.parameters() if p.requires_grad]


def load_backbone(
    model: Module,
    state_dict: Mapping[str, Any],
    *,
    include_head: bool | None = None,
    strict: bool = True,
) -> list[str]:
    """Copy the pretrained weights of ``state_dict`` into ``model``, the head aside; returns the
    keys of ``model`` left as they were (sorted).

    ``state_dict`` maps names to arrays or tensors (``other.state_dict()``, a PyTorch model's
    too). The head's keys (``head_name(model) + ".weight"``, ``".bias"``) load only when
    ``include_head`` is True, or None (default) and their shapes fit: a source trained on 10
    classes gives a 5-class model a backbone and leaves its fresh head alone. With ``strict``
    (default) every other key of ``model`` must be present with the same shape, else ``ValueError`` naming
    them (the weights come from another architecture); ``strict=False`` loads what fits.
    """
    if not isinstance(state_dict, Mapping):  # a path: "key in 'runs/x.safetensors'" is no lookup
        raise TypeError(
            f"load_backbone: expected a state_dict (names -> tensors), got "
            f"{type(state_dict).__name__} {str(state_dict)[:60]!r}; read a file first with "
            "gradschool.io.safetensors.load_file"
        )
    head = head_name(model)
    own = model.state_dict()

    def is_head(key: str) -> bool:
        return key.startswith(head + ".")

    def fits(key: str) -> bool:
        return key in state_dict and tuple(state_dict[key].shape) == tuple(own[key].shape)

    if include_head is True:
        bad_head = [k for k in own if is_head(k) and not fits(k)]
        if bad_head:
            raise ValueError(
                f"load_backbone: include_head=True, but the head {head!r} of "
                f"{type(model).__name__} does not fit the weights given: {', '.join(bad_head)}"
            )
    skip_head = include_head is False or (
        include_head is None and not all(fits(k) for k in own if is_head(k))
    )
    load = {k: state_dict[k] for k in own if fits(k) and not (skip_head and is_head(k))}
    if strict:
        bad = [
            f"{k} (shape {tuple(state_dict[k].shape)}, model {tuple(own[k].shape)})"
            if k in state_dict
            else f"{k} (missing)"
            for k in own
            if not is_head(k) and not fits(k)
        ]
        if bad:
            raise ValueError(
                f"load_backbone: the weights do not fit the backbone of {type(model).__name__} "
                f"(were they saved from another model?): {'; '.join(bad)}"
            )
    model.load_state_dict(load, strict=False)
    return sorted(k for k in own if k not in load)
