"""``LBFGS``: limited-memory BFGS, a quasi-Newton method (CS231n L7, "second-order
optimisation"; Nocedal & Wright, *Numerical Optimization*, ch. 6-7).

A Newton step ``theta <- theta - H^-1 g`` jumps straight to the minimum of the local
quadratic model of the loss, with no learning rate to tune; but the Hessian ``H`` of ``N``
parameters has ``N**2`` entries and inverting it costs ``N**3``. BFGS instead builds an
approximation of ``H^-1`` from how the gradient changed between steps: moving by
``s = theta_new - theta`` changed the gradient by ``y = g_new - g``, and ``H^-1 y ~ s``.
L-BFGS keeps only the last ``history_size`` pairs ``(s, y)`` and applies the approximate
inverse Hessian to the gradient by the *two-loop recursion*, in ``O(history_size * N)``.

It suits full-batch, deterministic problems (mini-batch noise spoils the curvature pairs),
so ``step`` takes a closure that re-evaluates the loss and its gradient: one ``step`` runs up
to ``max_iter`` iterations, each moving along the quasi-Newton direction by a fixed step
``lr`` or by a step found by a strong-Wolfe line search.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..backend.device import get_array_module
from ..tensor import Tensor
from .optimizer import Optimizer, check_non_negative

__all__ = ["LBFGS"]

# Scalars below (dot products, step lengths) stay NumPy scalars of the parameters' dtype, so
# that float32 problems are solved in float32 arithmetic, exactly as PyTorch's 0-d tensors do.


def _cubic_interpolate(
    x1: Any, f1: Any, g1: Any, x2: Any, f2: Any, g2: Any, bounds: tuple[Any, Any] | None = None
) -> Any:
    """The minimiser of the cubic through ``(x1, f1)`` and ``(x2, f2)`` with slopes ``g1``,
    ``g2``, clamped to ``bounds`` (by default the interval between the two points);
    the middle of the bounds when the cubic has no minimum (Nocedal & Wright, eq. 3.59)."""
    if bounds is None:
        bounds = (x1, x2) if x1 <= x2 else (x2, x1)
    lo, hi = bounds
    # a degenerate cubic divides by zero; the inf or NaN it gives is clamped or caught below,
    # as with PyTorch's tensors, so NumPy's warning about it would only be noise
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
        d2_square = d1**2 - g1 * g2
        if not d2_square >= 0:  # also catches NaN
            return (lo + hi) / 2.0
        d2 = d2_square**0.5
        if x1 <= x2:
            x = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            x = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(x, lo), hi)


def _strong_wolfe(
    obj_func: Callable[[list[Any], Any, Any], tuple[float, Any]],
    x: list[Any],
    t: Any,
    d: Any,
    f: float,
    g: Any,
    gtd: Any,
    c1: float = 1e-4,
    c2: float = 0.9,
    tolerance_change: float = 1e-9,
    max_ls: int = 25,
) -> tuple[float, Any, Any, int]:
    """A step length ``t`` along ``d`` that meets the strong Wolfe conditions

        sufficient decrease:  f(x + t d) <= f + c1 * t * g.d
        curvature:           |g(x + t d).d| <= c2 * |g.d|

    found by first *bracketing* an interval that must contain such a ``t`` (extrapolating by
    cubic interpolation while the loss keeps falling), then *zooming* into it (Nocedal &
    Wright, Algorithms 3.5 and 3.6). ``obj_func(x, t, d)`` returns the loss and flat gradient
    at ``x + t d``. Returns ``(loss, flat gradient, t, evaluations)`` at the chosen step.
    """
    d_norm = abs(d).max()
    f_new, g_new = obj_func(x, t, d)
    evals = 1
    gtd_new = g_new.dot(d)

    # Phase 1, bracketing. A point is [t, loss, gradient, directional derivative].
    prev = [0, f, g, gtd]
    bracket: list[list[Any]] = []
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        new = [t, f_new, g_new, gtd_new]
        if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= prev[1]):
            bracket = [prev, new]  # the loss rose: a minimum lies between
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, done = [new], True  # both conditions hold already
            break
        if gtd_new >= 0:
            bracket = [prev, new]  # the slope turned upwards: a minimum lies between
            break
        # still going downhill: extrapolate further, at least 1% and at most 10x beyond t
        t_next = _cubic_interpolate(
            prev[0], prev[1], prev[3], t, f_new, gtd_new, bounds=(t + 0.01 * (t - prev[0]), t * 10)
        )
        prev, t = new, t_next
        f_new, g_new = obj_func(x, t, d)
        evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
    if ls_iter >= max_ls:  # out of evaluations: between the start and the last point
        bracket = [[0, f, g, None], [t, f_new, g_new, gtd_new]]

    # Phase 2, zoom: shrink the bracket around a point that satisfies both conditions.
    # ``low`` is the end with the lower loss, ``high`` the other.
    low, high = (0, 1) if bracket[0][1] <= bracket[-1][1] else (1, 0)
    insufficient_progress = False
    while not done and ls_iter < max_ls:
        (a, fa, _, gtda), (b, fb, _, gtdb) = bracket
        if abs(b - a) * d_norm < tolerance_change:
            break  # the bracket is too small to matter
        t = _cubic_interpolate(a, fa, gtda, b, fb, gtdb)
        left, right = min(a, b), max(a, b)
        margin = 0.1 * (right - left)
        if min(right - t, t - left) < margin:
            # near an end of the bracket: if that happened last time too (or t is outside),
            # move to 10% of the bracket away from the nearer end, so the bracket shrinks
            if insufficient_progress or t >= right or t <= left:
                t = right - margin if abs(t - right) < abs(t - left) else left + margin
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False

        f_new, g_new = obj_func(x, t, d)
        evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
        new = [t, f_new, g_new, gtd_new]
        if f_new > f + c1 * t * gtd or f_new >= bracket[low][1]:
            bracket[high] = new  # not low enough: the new point closes the bracket
            low, high = (0, 1) if bracket[0][1] <= bracket[1][1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True  # the strong Wolfe conditions hold
            elif gtd_new * (bracket[high][0] - bracket[low][0]) >= 0:
                bracket[high] = bracket[low]  # the minimum lies on the other side
            bracket[low] = new

    t, f_new, g_new, _ = bracket[low]
    return f_new, g_new, t, evals


class LBFGS(Optimizer):
    r"""L-BFGS with an optional strong-Wolfe line search, as ``torch.optim.LBFGS``.

    Each ``step(closure)`` runs up to ``max_iter`` iterations of::

        d = -H g            H: the inverse Hessian approximated from the last history_size
                            pairs s = t * d, y = g_new - g (kept only when y.s > 1e-10),
                            scaled by H_diag = y.s / y.y; d = -g on the very first iteration
        t = lr              (min(1, 1 / sum|g|) * lr on the very first iteration), or a
                            strong-Wolfe line search from there if line_search_fn='strong_wolfe'
        theta <- theta + t * d

    and stops early when the largest gradient entry is at most ``tolerance_grad``, when the
    step or the change of the loss is below ``tolerance_change``, or after ``max_eval``
    evaluations of the closure. All parameters form one flat vector of size ``N``; the state
    (PyTorch's keys: ``d``, ``t``, ``old_dirs``, ``old_stps``, ``ro``, ``H_diag``,
    ``prev_flat_grad``, ``prev_loss``, ``n_iter``, ``func_evals``) lives with the first
    parameter. Scalars are kept as Python numbers, vectors as tensors of shape ``(N,)``.

    Args:
        params: an iterable of parameters (a single group: no per-parameter options).
        lr: the step length (the line search's first guess when it is on).
        max_iter: iterations per ``step``.
        max_eval: evaluations of the closure per ``step`` (default ``max_iter * 5 // 4``).
        tolerance_grad: stop when ``max |g| <= tolerance_grad``.
        tolerance_change: stop when the step or the change of the loss is smaller.
        history_size: how many ``(s, y)`` pairs to remember.
        line_search_fn: ``None`` (fixed step) or ``"strong_wolfe"``.

    >>> import gradschool as gs
    >>> x = gs.tensor([-1.5, 2.0], dtype=gs.float64, requires_grad=True)
    >>> opt = LBFGS([x], line_search_fn="strong_wolfe")
    >>> def closure():
    ...     opt.zero_grad()
    ...     loss = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2  # Rosenbrock
    ...     loss.backward()
    ...     return loss
    >>> for _ in range(5):
    ...     _ = opt.step(closure)
    >>> [round(v, 4) for v in x.tolist()]
    [1.0, 1.0]
    """

    state_shaped_like_params = False  # its state holds flat vectors of all parameters

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: str | None = None,
    ) -> None:
        check_non_negative(type(self).__name__, "learning rate", lr)
        if history_size < 1:
            raise ValueError(f"Invalid history_size value: {history_size}")
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(
                f"only 'strong_wolfe' is supported as line_search_fn, got {line_search_fn!r}"
            )
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = {
            "lr": lr,
            "max_iter": max_iter,
            "max_eval": max_eval,
            "tolerance_grad": tolerance_grad,
            "tolerance_change": tolerance_change,
            "history_size": history_size,
            "line_search_fn": line_search_fn,
        }
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params: list[Tensor] = self.param_groups[0]["params"]

    # ----------------------------------------------------------------- the flat vector
    def _gather_flat_grad(self) -> Any:
        """All gradients as one new vector of shape (N,) (zeros for a parameter without)."""
        xp = get_array_module(self._params[0].data)
        return xp.concatenate(
            [
                p.grad.data.reshape(-1)
                if p.grad is not None
                else xp.zeros(p.data.size, dtype=p.data.dtype)
                for p in self._params
            ]
        )

    def _add_grad(self, step_size: Any, update: Any) -> None:
        """``theta += step_size * update`` for the flat vector ``update`` of shape (N,)."""
        offset = 0
        for p in self._params:
            n = p.data.size
            p.data += step_size * update[offset : offset + n].reshape(p.data.shape)
            offset += n

    def _directional_evaluate(
        self, closure: Callable[[], Any], x: list[Any], t: Any, d: Any
    ) -> tuple[float, Any]:
        """Loss and flat gradient at ``x + t d``; the parameters are put back to ``x``."""
        self._add_grad(t, d)
        loss = float(self._evaluate(closure))
        flat_grad = self._gather_flat_grad()
        for p, saved in zip(self._params, x, strict=True):
            p.data[...] = saved
        return loss, flat_grad

    @staticmethod
    def _two_loop(
        flat_grad: Any, old_dirs: list[Any], old_stps: list[Any], ro: list[Any], h_diag: Any
    ) -> Any:
        """The quasi-Newton direction ``-H g`` by the two-loop recursion (Nocedal & Wright,
        Algorithm 7.4), with ``H_diag * I`` as the initial inverse Hessian."""
        q = -flat_grad
        alphas = [None] * len(old_dirs)
        for i in range(len(old_dirs) - 1, -1, -1):
            alphas[i] = old_stps[i].dot(q) * ro[i]
            q -= alphas[i] * old_dirs[i]
        r = q * h_diag
        for i in range(len(old_dirs)):
            beta = old_dirs[i].dot(r) * ro[i]
            r += (alphas[i] - beta) * old_stps[i]
        return r

    # ----------------------------------------------------------------- the step
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Run up to ``max_iter`` L-BFGS iterations; returns the loss from the first call of
        ``closure`` (a function that zeroes the gradients, computes the loss, calls
        ``backward`` and returns the loss)."""
        if closure is None:
            raise TypeError(
                "LBFGS.step needs a closure: a function that zeroes the gradients, computes "
                "the loss, calls loss.backward() and returns the loss"
            )
        group = self.param_groups[0]
        lr = float(group["lr"])
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad = group["tolerance_grad"]
        tolerance_change = group["tolerance_change"]
        history_size = group["history_size"]
        line_search_fn = group["line_search_fn"]

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = self._evaluate(closure)
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if abs(flat_grad).max() <= tolerance_grad:
            return orig_loss  # already at a stationary point
        opt_cond = False

        # the memory carried over from earlier steps, as raw arrays
        d = state["d"].data if state.get("d") is not None else None
        t = state.get("t")
        old_dirs = [v.data for v in state.get("old_dirs") or []]
        old_stps = [v.data for v in state.get("old_stps") or []]
        ro = list(state.get("ro") or [])
        h_diag = state.get("H_diag")
        prev_flat_grad = (
            state["prev_flat_grad"].data if state.get("prev_flat_grad") is not None else None
        )
        prev_loss = state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1

            # ---- the direction
            if state["n_iter"] == 1:
                d = -flat_grad  # no curvature known yet: steepest descent
                old_dirs, old_stps, ro, h_diag = [], [], [], 1
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = y.dot(s)
                if ys > 1e-10:  # keep the pair only if it shows positive curvature
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    h_diag = ys / y.dot(y)
                d = self._two_loop(flat_grad, old_dirs, old_stps, ro, h_diag)
            # flat_grad is a fresh array that nothing writes into, so no copy is needed
            prev_flat_grad = flat_grad
            prev_loss = loss

            # ---- the step length
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / abs(flat_grad).sum()) * lr
            else:
                t = lr
            gtd = flat_grad.dot(d)  # the slope along d
            if gtd > -tolerance_change:
                break  # d is not a descent direction any more

            ls_func_evals = 0
            if line_search_fn is not None:
                x_init = [p.data.copy() for p in self._params]

                def obj_func(x: list[Any], t: Any, d: Any) -> tuple[float, Any]:
                    return self._directional_evaluate(closure, x, t, d)

                loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                    obj_func, x_init, t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals
                )
                self._add_grad(t, d)
                opt_cond = abs(flat_grad).max() <= tolerance_grad
            else:
                self._add_grad(t, d)
                if n_iter != max_iter:
                    # the last iteration skips this evaluation: the next step makes it anyway
                    loss = float(self._evaluate(closure))
                    flat_grad = self._gather_flat_grad()
                    opt_cond = abs(flat_grad).max() <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            # ---- stopping tests
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if abs(d * t).max() <= tolerance_change:
                break  # the step is negligible
            if abs(loss - prev_loss) < tolerance_change:
                break  # the loss no longer changes

        if d is not None:
            state["d"] = Tensor._make(d)
            state["t"] = float(t)
            state["old_dirs"] = [Tensor._make(v) for v in old_dirs]
            state["old_stps"] = [Tensor._make(v) for v in old_stps]
            state["ro"] = [float(v) for v in ro]
            state["H_diag"] = float(h_diag)
            state["prev_flat_grad"] = Tensor._make(prev_flat_grad)
            state["prev_loss"] = prev_loss
        return orig_loss

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a saved state (ours or PyTorch's): ``Optimizer`` converts arrays (the
        history lists included); here PyTorch's 0-d tensors become Python numbers."""
        super().load_state_dict(state_dict)
        p = self._params[0]
        state = self.state.get(p)
        if not state:
            return
        state.pop("al", None)  # PyTorch's scratch space for the two-loop recursion
        for key in ("t", "H_diag", "prev_loss"):
            if state.get(key) is not None:
                state[key] = float(state[key])
        if state.get("ro") is not None:
            state["ro"] = [float(v) for v in state["ro"]]
