"""Census rows for ``gradschool.data``: DataLoader and sampler arguments, datasets and
splits, collation, transforms, and datasets whose files are not there (the message must say
how to get them)."""

from __future__ import annotations

import numpy as np

import gradschool as gs
from gradschool import data as D
from gradschool.data import datasets as DS
from gradschool.data import transforms as T
from gradschool.data.transforms import functional as TF

from .rows import INDEX, table, without_data

t = gs.tensor


def ds() -> D.TensorDataset:
    return D.TensorDataset(gs.randn(10, 3), gs.arange(10))


def seq() -> D.SequentialSampler:
    return D.SequentialSampler(ds())


def rgb() -> np.ndarray:
    return np.zeros((8, 8, 3), np.uint8)


def chw() -> gs.Tensor:
    return gs.rand(3, 8, 8)


class Stream(D.IterableDataset):
    def __iter__(self):  # noqa: ANN204
        return iter([1, 2])


LOADING = table(
    "data: loaders, samplers, datasets",
    ("batch_size 0", lambda: D.DataLoader(ds(), batch_size=0), ("batch_size", "got batch_size=0")),
    ("batch_size -1", lambda: D.DataLoader(ds(), batch_size=-1), ("batch_size", "-1")),
    ("batch_size 2.5", lambda: D.DataLoader(ds(), batch_size=2.5), ("batch_size", "2.5")),
    ("shuffle and sampler", lambda: D.DataLoader(ds(), shuffle=True, sampler=seq()), "shuffle"),
    (
        "batch_sampler and batch_size",
        lambda: D.DataLoader(ds(), batch_size=2, batch_sampler=D.BatchSampler(seq(), 2, False)),
        ("batch_sampler", "mutually exclusive"),
    ),
    ("num_workers -1", lambda: D.DataLoader(ds(), num_workers=-1), ("num_workers", "-1")),
    ("shuffled stream", lambda: D.DataLoader(Stream(), shuffle=True), ("IterableDataset", "True")),
    ("prefetch without workers", lambda: D.DataLoader(ds(), prefetch_factor=0), "prefetch_factor"),
    ("timeout < 0", lambda: D.DataLoader(ds(), timeout=-1), ("timeout", "-1")),
    (
        "TensorDataset lengths",
        lambda: D.TensorDataset(gs.randn(10, 3), gs.arange(9)),
        ("TensorDataset", "[10, 9]"),
    ),
    ("TensorDataset of nothing", lambda: D.TensorDataset(), ("TensorDataset", "at least one")),
    ("TensorDataset of a list", lambda: D.TensorDataset([1, 2, 3]), ("TensorDataset", "list")),
    ("TensorDataset of a 0-d", lambda: D.TensorDataset(t(1.0)), ("TensorDataset", "0-d")),
    ("TensorDataset index 10 of 10", lambda: ds()[10], ("index 10", "size 10"), INDEX),
    ("Subset float indices", lambda: D.Subset(ds(), [0.5])[0], ("integer indices", "float64")),
    ("Subset index out of range", lambda: D.Subset(ds(), [0, 20])[1], "index 20", INDEX),
    ("ConcatDataset of nothing", lambda: D.ConcatDataset([]), ("ConcatDataset", "empty")),
    ("ConcatDataset index 25 of 20", lambda: D.ConcatDataset([ds(), ds()])[25], "25", INDEX),
    ("random_split sum", lambda: D.random_split(ds(), [3, 3]), ("random_split", "(6)", "(10)")),
    ("random_split negative", lambda: D.random_split(ds(), [12, -2]), ("random_split", "-2")),
    ("random_split fractions", lambda: D.random_split(ds(), [0.5, 0.6]), ("random_split", "0.5")),
    ("random_split fraction 1.5", lambda: D.random_split(ds(), [1.5, -0.5]), ("fraction", "1.5")),
    ("random_split letters", lambda: D.random_split(ds(), "ab"), ("random_split", "'a'")),
    ("random_split nothing", lambda: D.random_split(ds(), []), ("random_split", "(0)", "(10)")),
    ("RandomSampler 0 samples", lambda: D.RandomSampler(ds(), num_samples=0), "num_samples=0"),
    ("RandomSampler replacement", lambda: D.RandomSampler(ds(), replacement="yes"), "'yes'"),
    ("RandomSampler 5.5 samples", lambda: D.RandomSampler(ds(), num_samples=5.5), "5.5"),
    ("weights < 0", lambda: D.WeightedRandomSampler([1, -1], 2), ("weights", "non-negative")),
    ("weighted 0 samples", lambda: D.WeightedRandomSampler([1, 1], 0), "num_samples=0"),
    ("weights NaN", lambda: D.WeightedRandomSampler([1, float("nan")], 2), ("weights", "finite")),
    ("weights all 0", lambda: D.WeightedRandomSampler([0, 0], 2), ("weights", "all zero")),
    ("weights 2-d", lambda: D.WeightedRandomSampler([[1, 1]], 2), ("1d", "(1, 2)")),
    (
        "weighted draw without replacement",
        lambda: D.WeightedRandomSampler([1, 1], 5, replacement=False),
        ("num_samples=5", "2 indices"),
    ),
    ("BatchSampler size 0", lambda: D.BatchSampler(seq(), 0, False), ("BatchSampler", "0")),
    ("BatchSampler drop_last", lambda: D.BatchSampler(seq(), 2, "no"), ("drop_last", "'no'")),
    ("collate numbers and text", lambda: D.default_collate([1, "a"]), ("default_collate", "str")),
    (
        "collate arrays of two sizes",
        lambda: D.default_collate([np.zeros(2), np.zeros(3)]),
        ("default_collate", "(2,)", "(3,)"),
    ),
    ("collate an empty batch", lambda: D.default_collate([]), ("default_collate", "empty")),
    ("collate objects", lambda: D.default_collate([object()]), ("default_collate", "object")),
    ("make_spiral 0 points", lambda: D.make_spiral(0), ("make_spiral", "got 0")),
    ("make_spiral 0 classes", lambda: D.make_spiral(10, 0), ("make_spiral", "10, 0")),
    ("Spiral -1 points", lambda: DS.Spiral(-1), ("make_spiral", "-1")),
    ("FashionMNIST root 3", lambda: DS.FashionMNIST(3), ("FashionMNIST", "root", "got 3")),
)

DATASETS = table(
    "data: missing datasets",
    (
        "MNIST nowhere",
        without_data(lambda home: DS.MNIST(f"{home}/mnist")),
        ("MNIST", "not found", "To get them", "download=True"),
        (FileNotFoundError,),
    ),
    (
        "FashionMNIST nowhere",
        without_data(lambda home: DS.FashionMNIST(f"{home}/fashion")),
        ("FashionMNIST", "not found", "download"),
        (FileNotFoundError,),
    ),
    (
        "FashionMNIST test split nowhere",
        without_data(lambda home: DS.FashionMNIST(f"{home}/fashion", train=False)),
        ("FashionMNIST", "t10k"),
        (FileNotFoundError,),
    ),
    (
        "CIFAR10 nowhere",
        without_data(lambda home: DS.CIFAR10(f"{home}/cifar")),
        ("CIFAR10", "not found", "To get them"),
        (FileNotFoundError,),
    ),
    (
        "MNIST root is a file",
        without_data(lambda home: DS.MNIST("/etc/hostname")),
        ("MNIST", "/etc/hostname"),
        (FileNotFoundError,),
    ),
)

TRANSFORMS = table(
    "data: transforms",
    ("Normalize std 0", lambda: T.Normalize((0.5,), (0.0,)), ("Normalize", "std", "0.0")),
    ("Normalize 2 means for RGB", lambda: T.Normalize((0.5, 0.5), (0.5,))(chw()), "3 channels"),
    ("Normalize a NumPy image", lambda: T.Normalize((0.5,), (0.5,))(rgb()), "ToTensor"),
    (
        "Normalize a uint8 tensor",
        lambda: T.Normalize((0.5,), (0.5,))(gs.ones(1, 2, 2, dtype=gs.uint8)),
        ("Normalize", "uint8"),
    ),
    ("ToTensor of 5-d", lambda: T.ToTensor()(np.zeros((1, 2, 2, 2, 2), np.uint8)), "(H, W, C)"),
    ("ToTensor of a list", lambda: T.ToTensor()([1, 2]), ("ToTensor", "list")),
    ("ToTensor of a path", lambda: T.ToTensor()("img.png"), ("ToTensor", "str")),
    ("RandomCrop > image", lambda: T.RandomCrop(10)(rgb()), ("(10, 10)", "(8, 8)")),
    ("RandomCrop 0", lambda: T.RandomCrop(0), ("RandomCrop", "got 0")),
    ("RandomCrop padding_mode", lambda: T.RandomCrop(8, padding=1, padding_mode="x"), "'x'"),
    ("CenterCrop -1", lambda: T.CenterCrop(-1), ("CenterCrop", "-1")),
    ("CenterCrop 3 sizes", lambda: T.CenterCrop((1, 2, 3)), ("CenterCrop", "(1, 2, 3)")),
    ("Resize 0", lambda: T.Resize(0), ("Resize", "got 0")),
    ("Resize 'big'", lambda: T.Resize("big"), ("Resize", "'big'")),
    ("Resize interpolation", lambda: T.Resize(4, interpolation="x"), ("interpolation", "'x'")),
    ("RandomResizedCrop scale < 0", lambda: T.RandomResizedCrop(4, scale=(-0.5, 1.0)), "-0.5"),
    ("RandomHorizontalFlip p 2", lambda: T.RandomHorizontalFlip(p=2), ("[0, 1]", "got 2")),
    ("RandomVerticalFlip p -1", lambda: T.RandomVerticalFlip(p=-1), ("RandomVerticalFlip", "-1")),
    ("flip a 1-d array", lambda: T.RandomHorizontalFlip(p=1)(np.zeros(5)), "(5,)"),
    ("RandomRotation -5", lambda: T.RandomRotation(-5), ("RandomRotation", "-5")),
    ("RandomRotation (10, -10)", lambda: T.RandomRotation((10, -10)), "(10, -10)"),
    ("RandomRotation 3 numbers", lambda: T.RandomRotation((1, 2, 3)), ("degrees", "(1, 2, 3)")),
    ("Pad -1", lambda: T.Pad(-1), ("Pad", "-1")),
    ("Pad mode wrap", lambda: T.Pad(1, padding_mode="wrap"), ("Pad", "'wrap'")),
    ("Pad 3 numbers", lambda: T.Pad((1, 2, 3)), ("Pad", "(1, 2, 3)")),
    ("ColorJitter brightness -1", lambda: T.ColorJitter(brightness=-1), ("brightness", "-1")),
    ("ColorJitter hue 0.8", lambda: T.ColorJitter(hue=0.8), ("hue", "0.8")),
    ("ColorJitter contrast (2, 1)", lambda: T.ColorJitter(contrast=(2, 1)), ("contrast", "(2, 1)")),
    ("Grayscale 2 channels", lambda: T.Grayscale(2), ("Grayscale", "got 2")),
    ("Grayscale of 2 channels", lambda: T.Grayscale()(np.zeros((4, 4, 2), np.uint8)), "got 2"),
    ("RandomGrayscale p 3", lambda: T.RandomGrayscale(p=3), ("RandomGrayscale", "3")),
    ("GaussianBlur even kernel", lambda: T.GaussianBlur(4), ("GaussianBlur", "odd", "4")),
    ("GaussianBlur kernel 0", lambda: T.GaussianBlur(0), ("GaussianBlur", "0")),
    ("GaussianBlur sigma -1", lambda: T.GaussianBlur(3, sigma=-1), ("sigma", "-1")),
    ("GaussianBlur sigma (2, 1)", lambda: T.GaussianBlur(3, sigma=(2, 1)), ("sigma", "(2, 1)")),
    ("Compose of a number", lambda: T.Compose([3]), ("Compose", "callable", "3")),
    ("RandomApply p 2", lambda: T.RandomApply([T.ToTensor()], p=2), ("RandomApply", "2")),
    ("Lambda of a number", lambda: T.Lambda(3), ("Lambda", "callable", "'int'")),
    ("hflip of 1-d", lambda: TF.hflip(np.zeros(4)), ("hflip", "(4,)")),
    ("resize to 0", lambda: TF.resize(rgb(), 0), ("resize", "got 0")),
    ("normalize std 0", lambda: TF.normalize(chw(), [0.5] * 3, [0.0] * 3), ("normalize", "zero")),
    ("brightness -1", lambda: TF.adjust_brightness(rgb(), -1), ("brightness_factor", "-1")),
    (
        "to_tensor of 4-d",
        lambda: TF.to_tensor(np.zeros((2, 2, 2, 2))),
        ("to_tensor", "(2, 2, 2, 2)"),
    ),
)

CASES = LOADING + DATASETS + TRANSFORMS
