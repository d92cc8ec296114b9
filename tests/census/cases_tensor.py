"""Census rows for tensors: creation, dtypes and devices, arithmetic, shape ops, reductions,
indexing, linear algebra and autograd misuse."""

from __future__ import annotations

import numpy as np

import gradschool as gs

from .rows import INDEX, RUNTIME, needs_gpu_free, table

t = gs.tensor


def x23() -> gs.Tensor:
    return gs.randn(2, 3)


def leaf(*shape: int) -> gs.Tensor:
    return gs.randn(*shape, requires_grad=True)


def backward_twice() -> None:
    y = leaf(2).exp().sum()
    y.backward()
    y.backward()


CREATION = table(
    "tensor: creation",
    ("ragged nested list", lambda: t([[1, 2], [3]]), ("tensor", "same length")),
    ("string data", lambda: t("abc"), ("tensor", "numeric dtype", "str")),
    ("list of strings", lambda: t(["a", "b"]), ("tensor", "numeric dtype")),
    ("dict data", lambda: t({1: 2}), ("tensor", "dict")),
    ("None data", lambda: t(None), ("tensor", "NoneType")),
    ("complex data", lambda: t([1 + 2j]), ("tensor", "complex")),
    ("zeros negative size", lambda: gs.zeros(-1, 2), ("zeros", "negative dimension -1")),
    ("zeros float size", lambda: gs.zeros(2.5), ("zeros", "ints", "float")),
    ("zeros string size", lambda: gs.zeros("a"), ("zeros", "str")),
    ("ones negative in tuple", lambda: gs.ones((2, -3)), ("ones", "-3")),
    ("empty negative size", lambda: gs.empty(-2), ("empty", "-2")),
    ("full non-numeric fill", lambda: gs.full((2,), "x"), ("full", "fill_value", "'x'")),
    ("full negative size", lambda: gs.full((-2,), 1.0), ("full", "-2")),
    ("eye negative n", lambda: gs.eye(-1), ("eye", "negative dimension -1")),
    ("eye float n", lambda: gs.eye(2.5), ("eye", "float")),
    ("arange step zero", lambda: gs.arange(0, 5, 0), ("arange", "step must be nonzero")),
    ("arange step against the bounds", lambda: gs.arange(5, 0, 1), ("arange", "step sign")),
    ("arange NaN end", lambda: gs.arange(0, float("nan")), ("arange", "finite", "nan")),
    ("arange infinite end", lambda: gs.arange(0, float("inf")), ("arange", "finite", "inf")),
    ("linspace negative steps", lambda: gs.linspace(0, 1, -1), ("linspace", "-1")),
    ("linspace float steps", lambda: gs.linspace(0, 1, 2.5), ("linspace", "int", "2.5")),
    ("randn negative size", lambda: gs.randn(-1), ("randn", "-1")),
    ("rand negative size", lambda: gs.rand(2, -1), ("rand", "-1")),
    ("rand integer dtype", lambda: gs.rand(2, dtype=gs.int64), ("rand", "floating", "int64")),
    ("randn integer dtype", lambda: gs.randn(2, dtype=gs.int32), ("randn", "floating", "int32")),
    ("randint low >= high", lambda: gs.randint(5, 5, (2,)), ("randint", "low=5", "high=5")),
    ("randint int size", lambda: gs.randint(0, 10, 3), ("randint", "size must be a tuple")),
    ("randperm negative n", lambda: gs.randperm(-1), ("randperm", "non-negative", "-1")),
    ("normal negative std", lambda: gs.normal(0.0, -1.0, (2,)), ("normal", "std", "-1")),
    ("from_numpy of a list", lambda: gs.from_numpy([1, 2]), ("from_numpy", "list")),
    ("from_numpy object array", lambda: gs.from_numpy(np.array([object()])), "dtype"),
    ("from_numpy string array", lambda: gs.from_numpy(np.array(["a"])), "unsupported dtype"),
    ("as_tensor of a string", lambda: gs.as_tensor("a"), ("tensor", "str")),
    ("zeros_like of a list", lambda: gs.zeros_like([1, 2]), ("zeros_like", "Tensor", "list")),
    ("full_like non-numeric fill", lambda: gs.full_like(x23(), "a"), ("full", "fill_value")),
    ("rand_like of an int tensor", lambda: gs.rand_like(t([1, 2])), ("rand", "floating")),
    ("randint_like without high", lambda: gs.randint_like(x23(), 0), ("randint", "low < high")),
    ("manual_seed string", lambda: gs.manual_seed("a"), ("manual_seed", "int", "str")),
    ("manual_seed float", lambda: gs.manual_seed(1.5), ("manual_seed", "float")),
    (
        "manual_seed beyond 64 bits",
        lambda: gs.manual_seed(2**64),
        ("manual_seed", "2**64", str(2**64)),
    ),
    ("set_rng_state tensor", lambda: gs.set_rng_state(t([1, 2])), ("set_rng_state", "Tensor")),
    ("set_rng_state foreign dict", lambda: gs.set_rng_state({"a": 1}), ("set_rng_state",)),
    ("set_num_threads zero", lambda: gs.set_num_threads(0), ("set_num_threads", "got 0")),
    ("set_num_threads string", lambda: gs.set_num_threads("2"), ("set_num_threads", "str")),
)

DEVICES = table(
    "tensor: dtypes and devices",
    ("unknown dtype name", lambda: t([1.0], dtype="float99"), ("float99", "supports")),
    ("complex NumPy dtype", lambda: t([1.0], dtype=np.complex64), ("complex64", "supports")),
    ("device tpu", lambda: t([1.0], device="tpu"), ("device", "'tpu'")),
    ("device gpu", lambda: gs.device("gpu"), ("device", "'gpu'")),
    ("device bad index", lambda: gs.device("cuda:x"), ("device", "'cuda:x'")),
    ("device negative index", lambda: gs.device("cuda:-1"), ("device", "'cuda:-1'", "index")),
    ("device float", lambda: t([1.0], device=3.5), ("device", "3.5")),
    (".to(tpu)", lambda: x23().to("tpu"), ("device", "'tpu'")),
    (".to(3)", lambda: x23().to(3), ("to", "device", "dtype")),
    (".to complex dtype", lambda: x23().to(dtype=np.complex64), ("complex64",)),
    ("set_default_dtype int", lambda: gs.set_default_dtype(gs.int64), ("floating", "int64")),
    ("set_default_dtype string", lambda: gs.set_default_dtype("float32"), ("set_default_dtype",)),
    ("sum with a bad dtype", lambda: x23().sum(dtype="bad"), ("unsupported dtype", "'bad'")),
    ("requires_grad on int", lambda: t([1, 2], requires_grad=True), "floating point", RUNTIME),
    ("requires_grad_ on int", lambda: t([1, 2]).requires_grad_(), ("floating point",), RUNTIME),
    ("Parameter of int", lambda: gs.nn.Parameter(t([1, 2])), ("floating point",), RUNTIME),
)
DEVICES += table(
    "tensor: dtypes and devices",
    ("device cuda without a GPU", needs_gpu_free(lambda: t([1.0], device="cuda")), "CuPy", RUNTIME),
    (".cuda() without a GPU", needs_gpu_free(lambda: x23().cuda()), ("cuda", "CuPy"), RUNTIME),
)

ARITHMETIC = table(
    "tensor: arithmetic",
    ("add unbroadcastable", lambda: x23() + gs.randn(4, 5), ("add", "(2, 3)", "(4, 5)")),
    ("sub transposed shapes", lambda: x23() - gs.randn(3, 2), ("sub", "(3, 2)")),
    ("mul wrong last dim", lambda: x23() * gs.randn(4), ("mul", "(4,)")),
    ("div wrong last dim", lambda: x23() / gs.randn(2), ("div", "(2,)")),
    ("pow unbroadcastable", lambda: x23() ** gs.randn(4), ("pow", "(4,)")),
    ("add a string", lambda: x23() + "a", ("add", "string", "'a'")),
    ("mul by a string", lambda: x23() * "a", ("mul", "string")),
    ("maximum unbroadcastable", lambda: gs.maximum(x23(), gs.randn(4, 5)), ("maximum", "(4, 5)")),
    ("where unbroadcastable", lambda: gs.where(x23() > 0, x23(), gs.randn(4, 5)), "where"),
    ("where float condition", lambda: gs.where(x23(), x23(), x23()), ("where", "bool")),
    ("eq unbroadcastable", lambda: x23() == gs.randn(4, 5), ("equal", "(4, 5)")),
    ("lt unbroadcastable", lambda: x23() < gs.randn(4, 5), ("less", "(4, 5)")),
    ("logical_and shapes", lambda: gs.logical_and(x23() > 0, gs.randn(4) > 0), "logical_and"),
    ("add_ unbroadcastable", lambda: x23().add_(gs.randn(3, 3)), ("add", "(3, 3)")),
    ("add_ would grow self", lambda: gs.randn(3).add_(x23()), ("in-place", "(3,)")),
    ("add_ float into int", lambda: t([1, 2]).add_(t([0.5, 0.5])), ("float32", "int64"), RUNTIME),
    ("clamp without bounds", lambda: gs.clamp(x23()), ("clamp", "min", "max")),
    ("clamp string bound", lambda: gs.clamp(x23(), min="a"), ("clamp", "'a'")),
    ("allclose shapes", lambda: gs.allclose(x23(), gs.randn(4, 5)), ("allclose", "(4, 5)")),
    ("equal with a number", lambda: gs.equal(x23(), 3), ("equal", "Tensor", "int")),
    ("type_as a number", lambda: x23().type_as(3), ("type_as", "Tensor", "int")),
    ("matmul with a string", lambda: x23() @ "a", ("matmul", "str", "'a'")),
)

SHAPES = table(
    "tensor: shape ops",
    ("reshape wrong size", lambda: x23().reshape(4, 2), ("reshape", "[4, 2]", "size 6")),
    ("reshape two -1", lambda: x23().reshape(-1, -1), ("reshape", "[-1, -1]")),
    ("reshape -1 not dividing", lambda: x23().reshape(4, -1), ("reshape", "[4, -1]")),
    ("reshape -2", lambda: x23().reshape(-2, 3), ("reshape", "invalid shape dimension -2")),
    ("view wrong size", lambda: x23().view(5), ("reshape", "[5]")),
    ("view_as other size", lambda: x23().view_as(gs.randn(4, 5)), ("reshape", "[4, 5]")),
    ("permute duplicate dims", lambda: x23().permute(0, 0), ("permute", "duplicate")),
    ("permute too few dims", lambda: x23().permute(0), ("permute", "expected 2 dims")),
    ("permute dim out of range", lambda: x23().permute(0, 2), ("permute", "range"), INDEX),
    ("transpose dim out of range", lambda: x23().transpose(0, 2), "transpose", INDEX),
    ("t of a 3-d tensor", lambda: gs.randn(2, 2, 2).t(), ("t", "<= 2", "3D")),
    ("squeeze dim out of range", lambda: x23().squeeze(3), ("squeeze", "got 3"), INDEX),
    ("unsqueeze dim out of range", lambda: x23().unsqueeze(4), ("unsqueeze", "got 4"), INDEX),
    ("unsqueeze dim None", lambda: x23().unsqueeze(None), ("unsqueeze", "dim", "None")),
    ("flatten start after end", lambda: x23().flatten(1, 0), ("flatten", "start_dim")),
    ("flatten dim out of range", lambda: x23().flatten(3), ("flatten", "got 3"), INDEX),
    ("unflatten wrong sizes", lambda: x23().unflatten(1, (2, 2)), ("reshape", "size 6")),
    ("expand non-singleton", lambda: x23().expand(4, 3), ("expand", "(4)", "(2)")),
    ("expand fewer dims", lambda: x23().expand(3), ("expand", "number of sizes")),
    ("expand negative", lambda: x23().expand(-2, 3), ("expand", "-2")),
    ("broadcast_to wrong shape", lambda: gs.broadcast_to(x23(), (3, 3)), ("expand", "[3, 3]")),
    ("broadcast_tensors", lambda: gs.broadcast_tensors(x23(), gs.randn(4, 5)), "(4, 5)"),
    ("repeat fewer dims", lambda: x23().repeat(2), ("repeat", "(1)", "(2)")),
    ("repeat negative", lambda: x23().repeat(-1, 1), ("repeat", "negative")),
    ("cat empty list", lambda: gs.cat([]), ("cat", "non-empty")),
    ("cat mismatched shapes", lambda: gs.cat([x23(), gs.randn(4, 5)]), ("cat", "(4, 5)")),
    ("cat mixed ranks", lambda: gs.cat([x23(), gs.randn(3)]), ("cat", "(3,)")),
    ("cat dim out of range", lambda: gs.cat([x23(), x23()], dim=2), ("cat", "got 2"), INDEX),
    ("cat of a tensor", lambda: gs.cat(x23()), ("cat", "sequence of Tensors")),
    ("cat with a number", lambda: gs.cat([x23(), 1]), ("cat", "int", "position 1")),
    ("stack unequal shapes", lambda: gs.stack([x23(), gs.randn(4, 5)]), ("stack", "(4, 5)")),
    ("stack empty list", lambda: gs.stack([]), ("stack", "non-empty")),
    ("stack dim out of range", lambda: gs.stack([x23(), x23()], dim=4), "stack", INDEX),
    ("split sizes not summing", lambda: x23().split([1, 1], dim=1), ("split", "sum exactly")),
    ("split size zero", lambda: x23().split(0), ("split", "positive", "0")),
    ("chunk zero chunks", lambda: x23().chunk(0), ("chunk", "greater than 0")),
    ("narrow past the end", lambda: x23().narrow(1, 2, 5), ("narrow", "exceeds", "(3)")),
    ("narrow negative length", lambda: x23().narrow(1, 0, -1), ("narrow", "-1")),
    ("swapaxes out of range", lambda: x23().swapaxes(0, 5), ("transpose", "got 5"), INDEX),
    ("unbind dim out of range", lambda: gs.unbind(x23(), 3), ("unbind", "got 3"), INDEX),
)

REDUCTIONS = table(
    "tensor: reductions",
    ("sum dim out of range", lambda: x23().sum(2), ("sum", "[-2, 1]", "got 2"), INDEX),
    ("sum repeated dims", lambda: x23().sum((0, 0)), ("sum", "multiple times"), RUNTIME),
    ("sum dim string", lambda: x23().sum("a"), ("sum", "dim", "'a'")),
    ("sum keepdim string", lambda: x23().sum(keepdim="yes"), ("sum", "keepdim", "'yes'")),
    ("amax keepdim float", lambda: x23().amax(0, keepdim=0.5), ("amax", "keepdim", "0.5")),
    ("var correction string", lambda: x23().var(correction="a"), ("var", "correction", "'a'")),
    ("mean of ints", lambda: t([1, 2]).mean(), ("mean", "floating point", "int64")),
    ("mean dim out of range", lambda: x23().mean(-3), ("mean", "got -3"), INDEX),
    ("max dim out of range", lambda: x23().max(5), ("max", "got 5"), INDEX),
    ("max of empty", lambda: gs.zeros(0).max(), ("max", "numel() == 0"), RUNTIME),
    ("argmax of empty", lambda: gs.zeros(0).argmax(), ("argmax", "numel() == 0"), RUNTIME),
    ("min over empty dim", lambda: gs.zeros(0, 3).min(0), ("min", "non-zero size"), INDEX),
    ("prod dim out of range", lambda: x23().prod(3), ("prod", "got 3"), INDEX),
    ("std dim out of range", lambda: x23().std(3), ("std", "got 3"), INDEX),
    ("norm with unknown p", lambda: gs.norm(x23(), p="bad"), ("norm", "'bad'")),
    ("norm dim out of range", lambda: gs.norm(x23(), dim=4), ("norm", "got 4"), INDEX),
    ("logsumexp dim", lambda: gs.logsumexp(x23(), 5), ("logsumexp", "got 5"), INDEX),
    ("softmax dim out of range", lambda: gs.softmax(x23(), 2), ("softmax", "got 2"), INDEX),
    ("softmax of ints", lambda: gs.softmax(t([1, 2]), 0), ("softmax", "floating point")),
    ("log_softmax of ints", lambda: gs.log_softmax(t([1, 2]), 0), ("log_softmax", "int64")),
    ("cumsum dim out of range", lambda: gs.cumsum(x23(), 2), ("cumsum", "got 2"), INDEX),
    ("all dim out of range", lambda: x23().all(3), ("all", "got 3"), INDEX),
)

INDEXING = table(
    "tensor: indexing",
    ("index out of range", lambda: x23()[5], ("index 5", "size 2"), INDEX),
    ("negative index out of range", lambda: gs.zeros(3)[-4], ("index -4", "size 3"), INDEX),
    ("too many indices", lambda: x23()[0, 0, 0], ("too many indices", "2-dimensional"), INDEX),
    ("index a 0-d tensor", lambda: t(1.0)[0], ("too many indices", "0-dimensional"), INDEX),
    ("float index", lambda: x23()[1.5], ("only integers", "float"), INDEX),
    ("string index", lambda: x23()["a"], ("only integers", "str"), INDEX),
    ("float index tensor", lambda: x23()[t([0.5])], ("long, int, byte or bool", "float32"), INDEX),
    ("mask of the wrong length", lambda: x23()[t([True, False, True])], "boolean index", INDEX),
    ("index tensor out of range", lambda: x23()[t([0, 7])], ("index 7", "size 2"), INDEX),
    ("index list out of range", lambda: x23()[[0, 9]], ("index 9",), INDEX),
    ("two ellipses", lambda: x23()[..., ...], ("single ellipsis",), INDEX),
    ("slice step zero", lambda: x23()[::0], ("index", "step cannot be zero")),
    ("setitem wrong shape", lambda: x23().__setitem__(0, gs.ones(4)), ("setitem", "(4,)")),
    ("setitem out of range", lambda: x23().__setitem__(5, 1.0), ("setitem", "index 5"), INDEX),
    ("setitem a string", lambda: x23().__setitem__(0, "a"), ("setitem", "'a'")),
    ("setitem on a grad leaf", lambda: leaf(2).__setitem__(0, 1.0), "leaf Variable", RUNTIME),
    ("gather out of range", lambda: gs.gather(x23(), 1, t([[0, 3], [0, 0]])), "index 3", INDEX),
    ("gather float index", lambda: gs.gather(x23(), 1, t([[0.0]])), ("gather", "float32")),
    ("gather rank mismatch", lambda: gs.gather(x23(), 1, t([0])), ("gather", "(1 vs 2)")),
    ("gather index too big", lambda: gs.gather(x23(), 1, t([[0]] * 3)), ("gather", "[3, 1]")),
    ("index_select 2-d index", lambda: gs.index_select(x23(), 0, t([[0]])), "index_select"),
    ("index_select float", lambda: gs.index_select(x23(), 0, t([0.0])), ("index_select", "int64")),
    ("index_select out of range", lambda: gs.index_select(x23(), 0, t([9])), "index 9", INDEX),
    (
        "scatter_add ranks",
        lambda: gs.scatter_add(x23(), 0, t([[0] * 3]), gs.ones(2)),
        "scatter_add",
    ),
    (
        "scatter_add dtypes",
        lambda: gs.scatter_add(x23(), 0, t([[0] * 3]), gs.ones(1, 3, dtype=gs.float64)),
        ("scatter_add", "float64"),
        RUNTIME,
    ),
    ("masked_fill float mask", lambda: gs.masked_fill(x23(), gs.ones(2, 3), 0.0), "boolean masks"),
    ("masked_fill mask shape", lambda: gs.masked_fill(x23(), t([True, False]), 0.0), "masked_fill"),
    ("masked_select mask shape", lambda: gs.masked_select(x23(), t([True, False])), "(2,)"),
    ("masked_select float mask", lambda: gs.masked_select(x23(), x23()), ("masked_select", "bool")),
    ("take_along_dim range", lambda: gs.take_along_dim(x23(), t([[5]]), 1), "index 5", INDEX),
    ("take_along_dim float", lambda: gs.take_along_dim(x23(), t([[0.5]]), 1), "take_along_dim"),
)

LINALG = table(
    "tensor: linalg",
    ("matmul inner sizes", lambda: gs.matmul(x23(), x23()), ("matmul", "(3 != 2)")),
    ("matmul of a 0-d", lambda: gs.matmul(t(1.0), x23()), ("matmul", "at least 1D", "0D")),
    ("matmul batch dims", lambda: gs.matmul(gs.randn(2, 2, 3), gs.randn(3, 3, 2)), "batch"),
    ("matmul int and float", lambda: gs.matmul(t([[1, 2]]), gs.randn(2, 2)), "dtype", RUNTIME),
    ("mm of a vector", lambda: gs.mm(gs.randn(3), gs.randn(3, 2)), ("mm", "2-D", "(3,)")),
    ("mm inner sizes", lambda: gs.mm(x23(), x23()), ("mm", "(3 != 2)")),
    ("bmm of matrices", lambda: gs.bmm(x23(), x23().t()), ("bmm", "3-D", "2-D")),
    ("bmm batch sizes", lambda: gs.bmm(gs.randn(2, 2, 3), gs.randn(3, 3, 2)), ("bmm", "2 != 3")),
    ("bmm inner sizes", lambda: gs.bmm(gs.randn(2, 2, 3), gs.randn(2, 2, 2)), ("bmm", "3 != 2")),
    ("mv inner sizes", lambda: gs.mv(x23(), gs.randn(2)), ("mv", "(3 != 2)")),
    ("mv of two vectors", lambda: gs.mv(gs.randn(3), gs.randn(3)), ("mv", "2-D matrix")),
    ("dot sizes", lambda: gs.dot(gs.randn(3), gs.randn(2)), ("dot", "3 and 2")),
    ("dot of matrices", lambda: gs.dot(x23(), x23()), ("dot", "1-D", "2-D")),
    ("outer of matrices", lambda: gs.outer(x23(), x23()), ("outer", "1-D", "(2, 3)")),
    ("einsum size clash", lambda: gs.einsum("ij,jk->ik", x23(), x23()), ("einsum", "'j'")),
    ("einsum operand count", lambda: gs.einsum("ij,jk->ik", x23()), ("einsum", "2 operand")),
    ("einsum bad subscript", lambda: gs.einsum("i1->i", x23()), ("einsum", "'i1'")),
)

AUTOGRAD = table(
    "autograd",
    ("backward of a vector", lambda: (leaf(2) * 2).backward(), "scalar outputs", RUNTIME),
    (
        "backward without grad",
        lambda: gs.randn(2).sum().backward(),
        "does not require grad",
        RUNTIME,
    ),
    ("backward twice", backward_twice, ("second time", "retain_graph=True"), RUNTIME),
    ("backward grad shape", lambda: (leaf(2) * 2).backward(gs.ones(3)), ("(3,)", "(2,)"), RUNTIME),
    (
        "requires_grad off a non-leaf",
        lambda: setattr(leaf(2) * 2, "requires_grad", False),
        ("leaf variables", "detach"),
        RUNTIME,
    ),
    ("numpy() of a grad leaf", lambda: leaf(2).numpy(), ("numpy()", "detach"), RUNTIME),
    ("item of many", lambda: x23().item(), ("6 elements", "Scalar"), RUNTIME),
    ("float() of many", lambda: float(x23()), ("6 elements",), RUNTIME),
    ("bool of many", lambda: bool(x23()), ("ambiguous", "(2, 3)"), RUNTIME),
    ("len of 0-d", lambda: len(t(1.0)), ("len()", "0-d")),
    ("iter of 0-d", lambda: iter(t(1.0)), ("iteration", "0-d")),
)

CASES = CREATION + DEVICES + ARITHMETIC + SHAPES + REDUCTIONS + INDEXING + LINALG + AUTOGRAD
