"""Threads: the GIL is released while kernels run, and results do not depend on the number of
threads."""

from __future__ import annotations

import threading
import time

import numpy as np
from conftest import outputs_for_thread_counts

from ecomkit.score import robust_zscore

SCRIPT = """
import hashlib, numpy as np
from ecomkit.datasets import asin_daily
from ecomkit.score import explosive_score
df = asin_daily(3000, 40, seed=4, backend="pyarrow")
out = explosive_score(df, {"bsr": -1.0, "review_count": 1.0, "price": 0.1}, ["site", "category"])
digest = hashlib.sha256()
for name in ["z_bsr", "z_review_count", "z_price", "explosive_score", "rank"]:
    digest.update(out[name].to_numpy().tobytes())
print(digest.hexdigest())
"""


def test_results_are_identical_for_any_thread_count():
    assert len(outputs_for_thread_counts(SCRIPT)) == 1


def test_gil_is_released_while_a_kernel_runs():
    values = np.random.default_rng(0).normal(size=4_000_000)
    groups = np.random.default_rng(1).integers(0, 1000, size=len(values))
    ticks: list[float] = []
    stop = threading.Event()

    def count() -> None:
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    worker = threading.Thread(target=count)
    worker.start()
    time.sleep(0.01)
    calls = []
    for _ in range(3):
        start = time.perf_counter()
        robust_zscore(values, groups)
        calls.append((start, time.perf_counter()))
    stop.set()
    worker.join()
    # Grouping the keys happens in Rust too; with the GIL held no tick could fall inside.
    inside = sum(1 for t in ticks for a, b in calls if a < t < b)
    assert inside >= 3
