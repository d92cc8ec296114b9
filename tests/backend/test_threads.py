"""Intra-op threads (``backend/threads.py``): the split ops give the one-thread results, on
more than one thread, and the BLAS pool is held at one thread only while they run."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest
import torch

import gradschool as gs
import gradschool.nn.functional as F
from gradschool.backend import jit, threads
from gradschool.nn.functional import _norm_kernels

threadpoolctl = pytest.importorskip("threadpoolctl")


@pytest.fixture
def two_threads():
    """Run the test with two intra-op threads; restore the count (and BLAS's) after."""
    before = threads.get_num_threads()
    threads.set_num_threads(2)
    yield
    threads.set_num_threads(before)


def finishes(fn, timeout: float = 30.0) -> bool:
    """Whether ``fn()`` returns within ``timeout`` seconds; it runs on a daemon thread, so a
    lost wake-up or a BLAS job never run hangs that thread, not pytest."""
    thread = threading.Thread(target=fn, daemon=True)
    thread.start()
    thread.join(timeout=timeout)
    return not thread.is_alive()


def blas_threads() -> int:
    """NumPy's BLAS pool size (the library gradschool holds)."""
    return min(lib.num_threads for lib in threads._blas_controller().lib_controllers)


def test_only_numpys_blas_is_held():
    paths = [lib.filepath for lib in threads._blas_controller().lib_controllers]
    assert len(paths) >= 1
    if any("numpy" in p for p in paths):
        assert all("numpy" in p for p in paths)


def test_set_num_threads_checks_its_argument():
    for bad in (0, -1):
        with pytest.raises(ValueError, match=f"set_num_threads: expected a positive .* got {bad}"):
            threads.set_num_threads(bad)
    for bad in (1.5, True, "2"):
        with pytest.raises(TypeError, match="set_num_threads: expected an int, got"):
            threads.set_num_threads(bad)


def test_set_num_threads_sets_blas_too(two_threads):
    assert threads.get_num_threads() == 2
    assert blas_threads() == 2
    threads.set_num_threads(1)
    assert blas_threads() == 1


def test_ranges_cover_in_order(two_threads):
    assert threads.ranges(10) == [(0, 5), (5, 10)]
    assert threads.ranges(10, min_values=6) == [(0, 10)]  # too short to split
    assert threads.ranges(10, min_values=60, item_size=6) == [(0, 10)]
    assert threads.ranges(10, min_values=30, item_size=6) == [(0, 5), (5, 10)]
    assert threads.ranges(1, min_values=1, item_size=100) == [(0, 1)]  # never more than n
    assert threads.ranges(0) == [(0, 0)]


def test_parallel_map_keeps_order_and_uses_two_threads(two_threads):
    seen = set()
    blas = []

    def work(i):
        seen.add(threading.get_ident())
        blas.append(blas_threads())
        return i * i

    assert threads.parallel_map(work, list(range(7))) == [i * i for i in range(7)]
    assert len(seen) == 2, "both threads took items"
    assert set(blas) == {1}, "BLAS is held at one thread while the items run"
    assert blas_threads() == 2, "and restored after"


def test_nested_split_runs_serially(two_threads):
    def inner(i):
        return threading.get_ident()

    def outer(i):
        return set(threads.parallel_map(inner, [0, 1, 2]))

    for idents in threads.parallel_map(outer, [0, 1]):
        assert len(idents) == 1


def test_errors_reach_the_caller_after_every_worker_is_done(two_threads):
    finished = []

    def work(i):
        if i == 3:
            raise KeyError("item 3")
        finished.append(i)
        return i

    with pytest.raises(KeyError, match="item 3"):
        threads.parallel_map(work, list(range(4)))
    assert sorted(finished) == [0, 1, 2]
    assert threads.parallel_map(lambda i: i, [1, 2]) == [1, 2], "the workers still run"
    assert blas_threads() == 2


def test_spin_until_sees_a_flag_set_by_another_thread():
    spin = pytest.importorskip("gradschool.backend._spin").spin_until
    flags = np.zeros(2, dtype=np.int64)
    assert spin(flags, 0, 0, 0)
    assert not spin(flags, 1, 5, 100), "gives up after its looks"
    timer = threading.Timer(0.01, flags.__setitem__, (1, 5))
    timer.start()
    assert spin(flags, 1, 5, 10**9), "the write made while it spins is seen"
    timer.join()


@pytest.mark.parametrize(
    ("idle_looks", "wait_looks", "mailbox", "spinner"),
    [
        (0, 0, None, None),  # the spin gives up at once: both sides sleep (futex) and are woken
        (10**5, 10**5, None, None),  # both sides find the other by spinning
        (0, 0, False, None),  # no mailbox (not Linux): the worker sleeps on a lock at once
        (10**5, 10**5, False, None),  # no mailbox: the worker spins on its _Signal
        (10**5, 10**5, False, False),  # no compiled spin (no numba): the locks alone
    ],
)
def test_hand_offs_by_spinning_or_sleeping(
    two_threads, monkeypatch, idle_looks, wait_looks, mailbox, spinner
):
    monkeypatch.setattr(threads, "_IDLE_LOOKS", idle_looks)
    monkeypatch.setattr(threads, "_WAIT_LOOKS", wait_looks)
    if spinner is False:
        monkeypatch.setattr(threads, "_spinner", False)
    if mailbox is False:
        monkeypatch.setattr(threads, "_box_module", False)
    monkeypatch.setattr(threads, "_workers", [])  # a fresh worker, made with these settings
    seen = []

    def ops():
        for pause in (0.0, 0.02):

            def work(i, pause=pause):
                if i == 1:
                    time.sleep(pause)  # the caller waits on an unfinished worker
                return threading.get_ident()

            for _ in range(20):
                seen.append(len(set(threads.parallel_map(work, [0, 1]))))
                time.sleep(pause)  # the worker runs out of looks between ops

    assert finishes(ops, timeout=10), "a hand-off was never answered"
    assert seen == [2] * 40, "every op ran on both threads"
    box = threads._workers[0]._box
    assert (box is None) == (mailbox is False or threads._mailbox() is False)


def blas_callback_or_skip():
    """The mailbox module once OpenBLAS hands its jobs to the workers; skip where it cannot
    (no numba, not Linux, an OpenBLAS without the thread callback)."""
    threads.parallel_map(lambda i: i, [0, 1])  # starts the worker, installs the callback
    if not threads._installed:
        pytest.skip("OpenBLAS's jobs stay on its own threads here")
    return threads._callback_box


def jobs_run(box):
    """BLAS jobs the workers with a mailbox have run so far."""
    return sum(int(w._box[1][box.JOB_DONE]) for w in threads._workers if w._box is not None)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_blas_jobs_run_on_the_workers_and_give_blas_results(two_threads, dtype):
    box = blas_callback_or_skip()
    rng = np.random.default_rng(0)
    pairs = [((300, 400), (400, 500)), ((128, 784), (784, 512)), ((1, 999), (999, 300))]
    operands = [
        (rng.standard_normal(a).astype(dtype), rng.standard_normal(b).astype(dtype))
        for a, b in pairs
    ]
    before = jobs_run(box)
    products = []

    def run():
        products.extend([a @ b for a, b in operands] + [operands[0][1].T @ operands[0][0].T])

    assert finishes(run), "a BLAS call never returned"
    assert jobs_run(box) > before, "the multi-threaded products ran jobs on the worker"
    with threadpoolctl.threadpool_limits(1, user_api="blas"):  # OpenBLAS alone, no jobs
        expected = [a @ b for a, b in operands] + [operands[0][1].T @ operands[0][0].T]
    tol = 1e-4 if dtype == np.float32 else 1e-11  # the blocking may differ: rounding only
    for got, want in zip(products, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_blas_jobs_the_workers_cannot_take_run_on_threads_of_their_own(two_threads):
    box = blas_callback_or_skip()
    rng = np.random.default_rng(2)
    a = rng.standard_normal((300, 400)).astype(np.float32)
    b = rng.standard_normal((400, 500)).astype(np.float32)
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        want = a @ b
    got = []

    def product():
        threads._local.inside = True  # as if inside a split op: the workers are busy
        got.append(a @ b)

    before = jobs_run(box)
    assert finishes(product), "a BLAS call never returned"
    assert jobs_run(box) == before, "no job went to the workers"
    np.testing.assert_allclose(got[0], want, rtol=1e-4, atol=1e-4)


def test_blas_calls_from_two_threads_at_once(two_threads):
    blas_callback_or_skip()
    rng = np.random.default_rng(1)
    a = rng.standard_normal((400, 300)).astype(np.float32)
    b = rng.standard_normal((300, 200)).astype(np.float32)
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        want = a @ b
    bad = []

    def products():
        for _ in range(50):
            if not np.allclose(a @ b, want, rtol=1e-5, atol=1e-5):
                bad.append(1)

    callers = [threading.Thread(target=products, daemon=True) for _ in range(2)]  # and a third:
    for t in callers:
        t.start()
    assert finishes(products), "a BLAS call never returned"
    assert all(finishes(t.join) for t in callers), "a BLAS call never returned"
    assert not bad


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="needs CPU affinity")
def test_a_worker_leaves_the_callers_cpu():
    box = pytest.importorskip("gradschool.backend._mailbox")
    allowed = threads._affinity_mask()
    if len(os.sched_getaffinity(0)) < 2 or threads._mailbox() is False:
        pytest.skip("needs two CPUs and the mailbox")
    seen = []

    def hop():
        mine = os.sched_getaffinity(0)
        cpu = box.current_cpu()
        # where it ran while its CPU was barred: read after the move, the scheduler of a
        # loaded machine may already have put it back
        landed = box._leave_cpu(cpu, allowed, allowed.copy())
        seen.append((cpu, landed, os.sched_getaffinity(0) == mine))

    t = threading.Thread(target=hop)
    t.start()
    t.join()
    (before, after, restored) = seen[0]
    assert before != after, "it moved off the CPU it was on"
    assert restored, "and may run anywhere again"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_gets_fresh_workers(two_threads):
    threads.parallel_map(lambda i: i, [0, 1])  # the parent's worker exists
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its copy of the worker list names a thread it does not have
        try:
            ok = threads.parallel_map(lambda i: i + 1, [0, 1]) == [1, 2]
            a = np.arange(300 * 300, dtype=np.float64).reshape(300, 300) % 7
            ok = ok and np.array_equal(a @ a, np.einsum("ij,jk->ik", a, a))  # BLAS works
            os.write(write, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(write)
    assert os.read(read, 1) == b"1"
    os.waitpid(pid, 0)


def conv_step(x, w, **kwargs):
    """Output and gradients of a conv2d with a fixed upstream gradient."""
    xt = gs.tensor(x, requires_grad=True)
    wt = gs.tensor(w, requires_grad=True)
    y = F.conv2d(xt, wt, **kwargs)
    y.backward(gs.tensor(np.cos(np.arange(y.numel()).reshape(y.shape)).astype(x.dtype)))
    return y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "kwargs"),
    [
        ((9, 16, 12, 12), (16, 16, 3, 3), {"padding": 1}),  # dx and dW from dy's columns
        ((9, 16, 12, 12), (32, 16, 3, 3), {"stride": 2, "padding": 1}),  # col2im
        ((7, 3, 10, 10), (8, 3, 5, 5), {"padding": 2}),  # few channels: k-major columns
        ((5, 8, 6, 6), (8, 4, 3, 3), {"groups": 2}),  # grouped: the NumPy path
    ],
)
@pytest.mark.parametrize("compiled", [True, False])
def test_conv_on_two_threads_matches_one_and_torch(x_shape, w_shape, kwargs, compiled):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal(w_shape).astype(np.float32)
    before = threads.get_num_threads()
    results = []
    try:
        for n in (1, 2):
            threads.set_num_threads(n)
            if compiled:
                results.append(conv_step(x, w, **kwargs))
            else:
                with jit.disabled():
                    results.append(conv_step(x, w, **kwargs))
    finally:
        threads.set_num_threads(before)
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    yt = torch.nn.functional.conv2d(xt, wt, **kwargs)
    yt.backward(torch.tensor(np.cos(np.arange(yt.numel()).reshape(yt.shape)).astype(np.float32)))
    reference = (yt.detach().numpy(), xt.grad.numpy(), wt.grad.numpy())
    for one, two, ref, what in zip(*results, reference, ("y", "dx", "dW"), strict=True):
        np.testing.assert_allclose(two, one, rtol=1e-4, atol=1e-4, err_msg=what)  # float32 sums
        np.testing.assert_allclose(two, ref, rtol=1e-4, atol=1e-4, err_msg=what)


@pytest.mark.skipif(not jit.available(), reason="the batch-norm kernels need numba")
@pytest.mark.parametrize("layout", ["channels_last", "contiguous"])
def test_batch_norm_split_over_threads_matches_one_thread(two_threads, monkeypatch, layout):
    """Each thread takes a range of rows; the statistics are merged (Chan et al.) and the
    backward's sums added up before dx. Small split sizes force the split here."""
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((6, 5, 7, 8)) * 3 + 10).astype(np.float64)
    g = rng.standard_normal(x.shape)
    if layout == "channels_last":
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
        g = np.ascontiguousarray(g.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    monkeypatch.setattr(_norm_kernels, "MIN_SIZE", 1)

    def run():
        xt = gs.tensor(x, requires_grad=True)
        wt = gs.tensor(np.linspace(0.5, 2, 5), requires_grad=True)
        bt = gs.tensor(np.linspace(-1, 1, 5), requires_grad=True)
        y = F.batch_norm(xt, None, None, wt, bt, training=True)
        y.backward(gs.tensor(g))
        return y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()

    one = run()
    monkeypatch.setattr(_norm_kernels, "_SPLIT_SIZE", 16)
    assert len(_norm_kernels._chunks(x.transpose(0, 2, 3, 1).reshape(-1, 5))) == 2
    two = run()
    for a, b in zip(one, two, strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("channels", [8, 6])  # 8: the compiled path; 6: the NumPy path
@pytest.mark.parametrize(
    "kwargs", [{"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1}]
)
def test_max_pool_split_over_threads_matches_one_thread(two_threads, monkeypatch, kwargs, channels):
    """Each thread pools its own samples (forward and backward); small split sizes force
    the split here."""
    from gradschool.nn.functional import pooling

    rng = np.random.default_rng(2)
    x = np.ascontiguousarray(rng.standard_normal((5, 9, 10, channels)).astype(np.float32))
    x = x.transpose(0, 3, 1, 2)  # channels-last (N, C, H, W)
    x[1, 2, 3, :4] = 7.0  # a tie: the first maximum wins

    def run():
        xt = gs.tensor(x, requires_grad=True)
        y = F.max_pool2d(xt, **kwargs)
        y.backward(gs.tensor(np.cos(np.arange(y.numel())).reshape(y.shape).astype(np.float32)))
        return y.detach().numpy(), xt.grad.numpy()

    one = run()
    monkeypatch.setattr(pooling, "_SPLIT_SIZE", 16)
    assert len(pooling._sample_ranges(x)) == 2
    two = run()
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.max_pool2d(xt, **kwargs)
    yt.backward(torch.tensor(np.cos(np.arange(yt.numel())).reshape(yt.shape).astype(np.float32)))
    for a, b, ref in zip(one, two, (yt.detach().numpy(), xt.grad.numpy()), strict=True):
        np.testing.assert_array_equal(b, a)
        np.testing.assert_allclose(b, ref, rtol=1e-6, atol=1e-6)
