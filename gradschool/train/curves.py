"""Training curves as a PNG: loss and accuracy per epoch, train next to validation.

Reading the curves is how CS231n L6-L7 diagnoses a run: a train loss that stalls (learning
rate too low or too high), a validation accuracy that falls while train accuracy climbs
(overfitting: more regularisation or data), a gap that stays small (underfitting: a bigger
model). ``plot_curves`` draws them with matplotlib when it is installed (imported lazily,
without pyplot's global state), and otherwise rasterises a plain plot itself — coloured lines
on axes with a tiny built-in font — so ``curves.png`` always exists.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["plot_curves", "plot_runs"]

TRAIN_COLOUR = (31, 119, 180)  # matplotlib's blue and orange
VAL_COLOUR = (255, 127, 14)


def _series(history: Sequence[Mapping[str, Any]], key: str) -> tuple[list[int], list[float]]:
    xs, ys = [], []
    for row in history:
        value = row.get(key)
        if isinstance(value, int | float) and np.isfinite(value):
            xs.append(int(row.get("epoch", len(xs) + 1)))
            ys.append(float(value))
    return xs, ys


def _panels(history: Sequence[Mapping[str, Any]]) -> list[tuple[str, list[tuple[str, Any]]]]:
    panels = []
    for title, metric in (("loss", "loss"), ("accuracy", "accuracy")):
        lines = [(name, _series(history, f"{name}_{metric}")) for name in ("train", "val")]
        lines = [(name, s) for name, s in lines if s[0]]
        if lines:
            panels.append((title, lines))
    return panels


def plot_curves(
    history: Sequence[Mapping[str, Any]], path: str | os.PathLike[str], backend: str = "auto"
) -> str:
    """Write loss/accuracy curves of ``history`` (one dict per epoch with ``epoch``,
    ``train_loss``, ``val_loss``, ``train_accuracy``, ``val_accuracy``; missing keys are
    skipped) to ``path`` atomically. Returns which backend drew it: ``"matplotlib"`` or
    ``"raster"``. ``backend``: ``"auto"``, ``"matplotlib"`` or ``"raster"``.
    """
    if backend not in ("auto", "matplotlib", "raster"):
        raise ValueError(
            f"plot_curves: backend must be 'auto', 'matplotlib' or 'raster', got {backend!r}"
        )
    from ..io.png import write_png
    from ..io.safetensors import atomic_write

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    if backend != "raster":
        try:
            png = _draw_matplotlib(history)
        except ImportError:
            if backend == "matplotlib":
                raise ImportError(
                    "plot_curves needs matplotlib: pip install 'gradschool[train]'"
                ) from None
        else:
            with atomic_write(path) as f:
                f.write(png)
            return "matplotlib"
    write_png(path, _draw_raster(history))  # atomic too
    return "raster"


def _draw_matplotlib(history: Sequence[Mapping[str, Any]]) -> bytes:
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    panels = _panels(history)
    fig = Figure(figsize=(5 * max(len(panels), 1), 3.6), dpi=100, layout="tight")
    FigureCanvasAgg(fig)
    for i, (title, lines) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        for name, (xs, ys) in lines:
            colour = np.array(TRAIN_COLOUR if name == "train" else VAL_COLOUR) / 255
            ax.plot(xs, ys, marker="o", markersize=3, color=colour, label=name)
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def plot_runs(
    runs: Mapping[str, Sequence[Mapping[str, Any]]], path: str | os.PathLike[str]
) -> None:
    """Compare several runs on one figure (matplotlib needed): training error and validation
    error (``1 - accuracy``, in %) and training loss per epoch, one line colour per run.

    ``runs`` maps a label (e.g. ``"resnet20"``) to its history (the rows of ``log.csv`` or
    ``metrics.json``'s ``history``). Written atomically to ``path``. This is the figure of the
    ResNet paper's degradation experiment: a plain net that trains to a *higher training*
    error than its residual twin is harder to optimise, not overfitting.
    """
    import io

    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("plot_runs needs matplotlib: pip install 'gradschool[train]'") from None
    from ..io.safetensors import atomic_write

    fig = Figure(figsize=(15, 3.8), dpi=100, layout="tight")
    FigureCanvasAgg(fig)
    axes = [fig.add_subplot(1, 3, i + 1) for i in range(3)]
    panels = (
        ("training error (%)", "train_accuracy", True),
        ("validation error (%)", "val_accuracy", True),
        ("training loss", "train_loss", False),
    )
    for ax, (title, key, as_error) in zip(axes, panels, strict=True):
        for label, history in runs.items():
            xs, ys = _series(history, key)
            if as_error:
                ys = [100 * (1 - y) for y in ys]
            ax.plot(xs, ys, marker="o", markersize=3, label=label)
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as f:
        f.write(buf.getvalue())


# ----------------------------------------------------------------- the raster fallback
# a 3x5 pixel font for the few characters the plot needs
_GLYPHS = {
    "0": "111101101101111", "1": "010110010010111", "2": "111001111100111",
    "3": "111001111001111", "4": "101101111001001", "5": "111100111001111",
    "6": "111100111101111", "7": "111001010010010", "8": "111101111101111",
    "9": "111101111001111", ".": "000000000000010", "-": "000000111000000",
    "e": "000111111100111", "a": "000011101101011", "c": "000111100100111",
    "h": "100100111101101", "i": "010000010010010", "l": "110010010010111",
    "n": "000110101101101", "o": "000111101101111", "p": "000111101111100",
    "r": "000111100100100", "s": "000111110011111", "t": "010111010010011",
    "u": "000101101101111", "v": "000101101101010", "y": "000101111001111",
    " ": "000000000000000",
}  # fmt: skip


def _text(img: np.ndarray, x: int, y: int, text: str, colour: Any, scale: int = 2) -> None:
    """Draw ``text`` with its top-left corner at (x, y)."""
    for ch in text:
        bits = np.array([int(b) for b in _GLYPHS.get(ch, _GLYPHS[" "])], bool).reshape(5, 3)
        glyph = np.kron(bits, np.ones((scale, scale), bool))
        h, w = glyph.shape
        region = img[y : y + h, x : x + w]
        region[glyph[: region.shape[0], : region.shape[1]]] = colour
        x += (3 + 1) * scale


def _line(img: np.ndarray, x0: float, y0: float, x1: float, y1: float, colour: Any) -> None:
    """A 2-pixel-thick segment, sampled once per pixel of its longer side."""
    n = int(max(abs(x1 - x0), abs(y1 - y0))) + 2
    xs = np.rint(np.linspace(x0, x1, n)).astype(int)
    ys = np.rint(np.linspace(y0, y1, n)).astype(int)
    h, w = img.shape[:2]
    for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1)):
        img[np.clip(ys + dy, 0, h - 1), np.clip(xs + dx, 0, w - 1)] = colour


def _label(v: float) -> str:
    return f"{v:.3g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.1e}"


def _draw_raster(history: Sequence[Mapping[str, Any]]) -> np.ndarray:
    panels = _panels(history) or [("loss", [])]
    pw, ph = 420, 320
    img = np.full((ph, pw * len(panels), 3), 255, np.uint8)
    left, right, top, bottom = 60, 15, 30, 40
    for i, (title, lines) in enumerate(panels):
        ox = i * pw
        x0, x1, y0, y1 = ox + left, ox + pw - right, top, ph - bottom
        xs_all = [x for _, (xs, _) in lines for x in xs] or [1]
        ys_all = [y for _, (_, ys) in lines for y in ys] or [0.0, 1.0]
        ex_lo, ex_hi = min(xs_all), max(xs_all)
        if ex_lo == ex_hi:
            ex_lo, ex_hi = ex_lo - 0.5, ex_hi + 0.5
        lo, hi = min(ys_all), max(ys_all)
        pad = 0.05 * (hi - lo) if hi > lo else max(abs(hi) * 0.05, 0.05)
        lo, hi = lo - pad, hi + pad

        def px(
            e: float, v: float, _a=(x0, x1, y0, y1, ex_lo, ex_hi, lo, hi)
        ) -> tuple[float, float]:
            ax0, ax1, ay0, ay1, elo, ehi, vlo, vhi = _a
            return (
                ax0 + (e - elo) / (ehi - elo) * (ax1 - ax0),
                ay1 - (v - vlo) / (vhi - vlo) * (ay1 - ay0),
            )

        for frac in (0.25, 0.5, 0.75):  # light grid
            gy = int(y0 + frac * (y1 - y0))
            img[gy, x0:x1] = 225
        img[y0:y1, x0] = 0  # axes
        img[y1, x0:x1] = 0
        _text(img, x0 + 4, 8, title, (0, 0, 0))
        _text(img, x1 - 5 * 8, ph - 14, "epoch", (0, 0, 0))
        _text(img, ox + 4, y0, _label(hi), (80, 80, 80))
        _text(img, ox + 4, y1 - 10, _label(lo), (80, 80, 80))
        _text(img, x0, y1 + 6, str(int(np.ceil(ex_lo))), (80, 80, 80))
        last = str(int(ex_hi))
        _text(img, x1 - len(last) * 8, y1 + 6, last, (80, 80, 80))
        for j, (name, (xs, ys)) in enumerate(lines):
            colour = TRAIN_COLOUR if name == "train" else VAL_COLOUR
            pts = [px(e, v) for e, v in zip(xs, ys, strict=True)]
            for a, b in zip(pts[:-1], pts[1:], strict=True):
                _line(img, a[0], a[1], b[0], b[1], colour)
            for x, y in pts:  # markers
                img[int(y) - 2 : int(y) + 3, int(x) - 2 : int(x) + 3] = colour
            lx, ly = x1 - 140 + 70 * j, 8  # legend, in the title row: never over the data
            img[ly + 3 : ly + 7, lx : lx + 16] = colour
            _text(img, lx + 22, ly, name, (0, 0, 0))
    return img
