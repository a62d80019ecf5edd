"""Signs of life for long work (LightGBM rounds, large inputs and outputs).

On a terminal or in a notebook: one bar, redrawn in place on stderr. Elsewhere (Airflow
task logs, cron): a line every ~10%. Nothing with ``verbose=False``, with ``--quiet`` on
the command line, or when the environment variable ``ECOMKIT_QUIET`` is set to 1.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, TextIO

#: Set by the command line's ``--quiet``; ``verbose=None`` arguments follow it.
QUIET = False
#: Seconds of work before the first sign of life: quick work stays silent (as tqdm's delay).
DELAY = 1.0


def enabled(verbose: bool | None) -> bool:
    if verbose is not None:
        return bool(verbose)
    return not (QUIET or os.environ.get("ECOMKIT_QUIET", "") not in ("", "0"))


def _interactive(stream: TextIO) -> bool:
    if getattr(stream, "isatty", lambda: False)():
        return True
    shell = sys.modules.get("IPython")
    return shell is not None and getattr(shell, "get_ipython", lambda: None)() is not None


class Progress:
    """``Progress(total, "training LambdaRank")``; call it with the count done so far."""

    def __init__(self, total: int, what: str, *, verbose: bool | None = None,
                 stream: TextIO | None = None, delay: float | None = None) -> None:  # fmt: skip
        self.total, self.what = max(int(total), 1), what
        self.stream = stream if stream is not None else sys.stderr
        self.on = enabled(verbose)
        self.bar = self.on and _interactive(self.stream)
        self.started = time.perf_counter()
        self.delay = DELAY if delay is None else delay
        self.next_tenth = 1
        self.shown = False
        self.done = 0

    def __call__(self, done: int) -> None:
        self.done = done
        if not self.on:
            return
        fraction = min(done / self.total, 1.0)
        seconds = time.perf_counter() - self.started
        if seconds < self.delay and not self.shown:
            self.next_tenth = int(fraction * 10) + 1
            return
        self.shown = True
        if self.bar:
            filled = int(30 * fraction)
            self.stream.write(f"\r{self.what}: [{'#' * filled}{'.' * (30 - filled)}] "
                              f"{done}/{self.total} {seconds:.1f} s")  # fmt: skip
            if done >= self.total:
                self.stream.write("\n")
            self.stream.flush()
        elif fraction * 10 >= self.next_tenth or done >= self.total:
            self.next_tenth = int(fraction * 10) + 1
            print(f"ecomkit: {self.what}: {done}/{self.total} ({fraction:.0%}) "
                  f"after {seconds:.1f} s", file=self.stream, flush=True)  # fmt: skip

    def finish(self) -> None:
        """End the bar's line when the work ended before `total` (early stopping)."""
        if self.shown and self.bar and self.done < self.total:
            self.stream.write("\n")
            self.stream.flush()


def note(message: str, *, verbose: bool | None = None, stream: Any = None) -> None:
    """One line of progress (``ecomkit: …``) on stderr, unless quiet."""
    if enabled(verbose):
        print(f"ecomkit: {message}", file=stream if stream is not None else sys.stderr, flush=True)
