"""Time two or more builds of the extension against each other, alternating them run by run
in fresh interpreters, so that a code change is judged on the same machine state as the
build it replaces (on a shared VM, timings drift by ±20% over minutes).

    cp python/ecomkit/_ecomkit.abi3.so /tmp/before.so
    # ... change the code, then `maturin develop --release` ...
    cp python/ecomkit/_ecomkit.abi3.so /tmp/after.so
    python benches/ab_builds.py --case rolling /tmp/before.so /tmp/after.so

Each round runs every build once, in order; a run generates the case's data, makes one
warm-up call, then times `--calls` calls back to back. Per build the table gives the
median over all its calls of the wall time, the user CPU time (the steadiest measure of
the work done) and the system time (mostly the kernel zeroing fresh memory), and the
median wall time of each run. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "python" / "ecomkit"

# Each case: the code that sets up one run and defines `call`, the call to time.
CASES = {
    "rolling": """
from ecomkit import datasets
from ecomkit.features import rolling
df = datasets.asin_daily(5000, 730, backend="pyarrow").to_pandas(date_as_object=False)
def call():
    return rolling(df, "asin", "date", ["bsr", "price", "review_count"], ["7d", "30d"],
                   ["mean", "std", "slope"])
""",
    "asin_features": """
from ecomkit import datasets
from ecomkit.features import asin_daily_features
df = datasets.asin_daily(5000, 730, backend="pyarrow").to_pandas(date_as_object=False)
def call():
    return asin_daily_features(df)
""",
    "uplift": """
import numpy as np, pandas as pd
from ecomkit.abtest import evaluate_experiment
rng = np.random.default_rng(1)
rows = 20_000_000
codes = rng.integers(0, 3, rows).astype(np.int8)
df = pd.DataFrame({"variant": pd.Categorical.from_codes(codes, ["control", "a", "b"]),
                   "converted": (rng.random(rows) < 0.05).astype(np.int8),
                   "clicks": rng.poisson(2.0, rows).astype(np.float64),
                   "gmv": rng.exponential(3.0, rows)})
def call():
    return evaluate_experiment(df, "variant", ["converted", "clicks", "gmv"], "control")
""",
    "sessions": """
from ecomkit import datasets
from ecomkit.features import session_features
events = datasets.clickstream(300000, 30, backend="pyarrow")
df = events.select(["timestamp", "visitorid", "event", "itemid"]).to_pandas()
def call():
    return session_features(df)
""",
}

TIMER = """
import resource, time
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime
out = call()
for _ in range({calls}):
    out = None
    (user, system), start = cpu(), time.perf_counter()
    out = call()
    wall, (user2, system2) = time.perf_counter() - start, cpu()
    print(f"{{wall:.5f}} {{user2 - user:.5f}} {{system2 - system:.5f}}")
"""


def package_with(build: Path, root: Path) -> Path:
    """A copy of the Python package (linked) whose extension is `build`."""
    target = root / build.stem / "ecomkit"
    target.mkdir(parents=True)
    for item in PACKAGE.iterdir():
        if item.suffix != ".so":
            (target / item.name).symlink_to(item)
    (target / "_ecomkit.abi3.so").write_bytes(build.read_bytes())
    return target.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("builds", nargs="+", type=Path, help="extension files (.so) to compare")
    parser.add_argument("--case", choices=sorted(CASES), default="rolling")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=6)
    args = parser.parse_args()
    names = [b.stem for b in args.builds]
    if len(set(names)) != len(names):
        parser.error("builds: expected distinct file names")
    code = CASES[args.case] + TIMER.format(calls=args.calls)
    calls: dict[str, list[list[float]]] = {name: [] for name in names}
    run_medians: dict[str, list[float]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory() as tmp:
        paths = [package_with(build, Path(tmp)) for build in args.builds]
        for _ in range(args.rounds):
            for name, path in zip(names, paths, strict=True):
                run = subprocess.run(
                    [sys.executable, "-c", code],
                    env={**os.environ, "PYTHONPATH": str(path)},
                    capture_output=True,
                    text=True,
                    check=True,
                )
                rows = [[float(v) for v in line.split()] for line in run.stdout.splitlines()]
                calls[name] += rows
                run_medians[name].append(statistics.median(row[0] for row in rows))
    print(f"{args.case}: medians per call over {args.rounds} alternated runs of {args.calls}")
    print(f"{'build':>12}  {'wall s':>7}  {'user s':>7}  {'system s':>8}   wall of each run")
    for name in names:
        wall, user, system = (statistics.median(row[k] for row in calls[name]) for k in range(3))
        runs = " ".join(f"{v:.4f}" for v in run_medians[name])
        print(f"{name:>12}  {wall:7.4f}  {user:7.4f}  {system:8.4f}   {runs}")


if __name__ == "__main__":
    main()
