"""Smoke test of an installed ecomkit wheel: every module, one call each, and LightGBM.

Run by .ci/smoke-wheel in a fresh virtualenv that has the wheel and its declared
dependencies only (no pandas, no polars, no Rust toolchain), from a folder outside the
checkout, so that it exercises what `pip install ecomkit-*.whl` gives a user.
"""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

started = time.perf_counter()
import ecomkit  # noqa: E402

import_seconds = time.perf_counter() - started
for name in (
    "abtest",
    "datasets",
    "errors",
    "features",
    "metrics",
    "monitor",
    "rank",
    "score",
    "cli",
):
    assert hasattr(ecomkit, name), f"ecomkit.{name} is not exposed"
for optional in ("pandas", "polars"):
    assert optional not in sys.modules, f"import ecomkit imported {optional}"

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402

from ecomkit import abtest, datasets, features, metrics, monitor, rank, score  # noqa: E402

z = score.robust_zscore([1.0, 2.0, 3.0, 10.0])
assert np.isfinite(z).all()
table = pa.table({"g": ["a", "a", "b", "b"], "x": [1.0, 2.0, 3.0, 5.0]})
assert score.explosive_score(table, {"x": 1.0}, by="g").num_rows == 4
daily = datasets.asin_daily(20, 40, backend="pyarrow")
assert isinstance(daily, pa.Table), type(daily)
rolled = features.rolling(daily, "asin", "date", ["price"], windows=["7d"], stats=["mean"])
assert "price_mean_7d" in rolled.column_names
splitter = abtest.TrafficSplitter("smoke", ["control", "treatment"])
assert len(splitter.assign(["u1", "u2", "u3"])) == 3
assert metrics.roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
assert monitor.chi2_test(["a", "b", "b"], ["a", "a", "b"]).method == "chisquare"

rng = np.random.default_rng(0)
x = rng.normal(size=(400, 5))
y = (x[:, 0] + rng.normal(scale=0.5, size=400) > 0).astype(float) + (x[:, 1] > 1)
group = np.full(40, 10, dtype=np.int32)
model = rank.train_lambdarank(x, y, group=group, num_boost_round=5)
predictions = model.predict(x)
assert predictions.shape == (400,) and np.isfinite(predictions).all()

with tempfile.TemporaryDirectory() as folder:
    out = subprocess.run(
        [sys.executable, "-m", "ecomkit.cli", "--help"], capture_output=True, text=True,
        cwd=folder, check=True,
    )  # fmt: skip
    assert "train-rank" in out.stdout
    data = Path(folder) / "daily.parquet"
    subprocess.run(["ecomkit", "generate", str(data), "--n-asins", "30", "--n-days", "20"],
                   check=True, cwd=folder)  # fmt: skip
    assert data.stat().st_size > 0

print(f"smoke: ecomkit {ecomkit.__version__} imported in {import_seconds:.2f} s; "
      f"every module called, LambdaRank trained 5 rounds; 1 passed, 0 failed")  # fmt: skip
