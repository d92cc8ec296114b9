"""Progress bars: tqdm when it is installed, a plain text bar otherwise.

``progress_bar(total, desc)`` returns an object with ``update(n=1, postfix="")``,
``write(message)`` and ``close()``. tqdm is imported lazily here, never at ``import
gradschool`` (install it with ``pip install 'gradschool[train]'``). The fallback redraws one
line in place on a terminal and prints a line every 20% otherwise (a log file stays short).
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

__all__ = ["progress_bar", "TextBar", "format_rate"]


def format_rate(n: float, seconds: float, unit: str = "img") -> str:
    """``"6,412 img/s"``: throughput in whole units per second."""
    return f"{n / max(seconds, 1e-9):,.0f} {unit}/s"


def _format_time(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds >= 60 else f"{seconds}s"


class TextBar:
    """A dependency-free progress bar with tqdm's ``update``/``write``/``close``."""

    def __init__(self, total: int, desc: str = "", file: TextIO | None = None) -> None:
        self.total = max(int(total), 0)
        self.desc = desc
        self.file = file if file is not None else sys.stderr
        self.tty = bool(getattr(self.file, "isatty", lambda: False)())
        self.n = 0
        self.postfix = ""
        self.start = time.perf_counter()
        self._last_draw = 0.0
        self._next_mark = 0.2
        self._drawn = False

    def update(self, n: int = 1, postfix: str = "") -> None:
        self.n += n
        if postfix:
            self.postfix = postfix
        now = time.perf_counter()
        done = self.total and self.n >= self.total
        if self.tty:
            if done or now - self._last_draw > 0.2:  # redraw at most 5 times a second
                self._draw(end="")
                self._last_draw = now
        elif done or (self.total and self.n / self.total >= self._next_mark):
            while self.total and self.n / self.total >= self._next_mark:
                self._next_mark += 0.2
            self._draw(end="\n")

    def _line(self) -> str:
        width = 25
        frac = self.n / self.total if self.total else 0.0
        filled = int(width * min(frac, 1.0))
        bar = "=" * filled + (">" if filled < width else "") + " " * max(width - filled - 1, 0)
        elapsed = time.perf_counter() - self.start
        eta = elapsed / frac - elapsed if frac > 0 else 0.0
        timing = f"{_format_time(elapsed)}<{_format_time(eta)}"
        parts = [self.desc, f"[{bar}]", f"{self.n}/{self.total}", timing, self.postfix]
        return "  ".join(p for p in parts if p)

    def _draw(self, end: str) -> None:
        prefix = "\r\033[K" if self.tty else ""
        self.file.write(prefix + self._line() + end)
        self.file.flush()
        self._drawn = True

    def write(self, message: str) -> None:
        """Print a line without breaking the bar (stdout, like ``tqdm.write``)."""
        if self.tty and self._drawn:
            self.file.write("\r\033[K")
            self.file.flush()
        print(message, flush=True)
        if self.tty and self._drawn:
            self._draw(end="")

    def close(self) -> None:
        if self.tty and self._drawn:  # clear the bar: the epoch's summary line replaces it
            self.file.write("\r\033[K")
            self.file.flush()
        self._drawn = False


class _NullBar:
    """No bar at all (``progress=False``); ``write`` still prints."""

    def update(self, n: int = 1, postfix: str = "") -> None:
        pass

    def write(self, message: str) -> None:
        print(message, flush=True)

    def close(self) -> None:
        pass


class _TqdmBar:
    def __init__(self, total: int, desc: str) -> None:
        from tqdm.auto import tqdm

        self._tqdm = tqdm
        tty = sys.stderr.isatty()
        # off a terminal tqdm would print a line per refresh: refresh seldom
        self.bar = tqdm(
            total=total,
            desc=desc,
            unit="batch",
            leave=not tty,  # on a terminal the epoch's summary line replaces the bar
            dynamic_ncols=True,
            mininterval=0.2 if tty else 10,
        )

    def update(self, n: int = 1, postfix: str = "") -> None:
        if postfix:
            self.bar.set_postfix_str(postfix, refresh=False)
        self.bar.update(n)

    def write(self, message: str) -> None:
        self._tqdm.write(message, file=sys.stdout)

    def close(self) -> None:
        self.bar.close()


def progress_bar(total: int, desc: str = "", enabled: bool = True, backend: str = "auto") -> Any:
    """A bar over ``total`` steps: tqdm if installed (``backend="auto"``), else ``TextBar``.

    ``backend``: ``"auto"``, ``"tqdm"`` (fails with a message if tqdm is missing) or
    ``"text"``. ``enabled=False`` gives a bar that draws nothing.
    """
    if not enabled:
        return _NullBar()
    if backend in ("auto", "tqdm"):
        try:
            return _TqdmBar(total, desc)
        except ImportError:
            if backend == "tqdm":
                raise ImportError(
                    "progress bars with tqdm need the 'tqdm' package: pip install 'gradschool[train]'"
                ) from None
    elif backend != "text":
        raise ValueError(f"progress_bar: backend must be 'auto', 'tqdm' or 'text', got {backend!r}")
    return TextBar(total, desc)
