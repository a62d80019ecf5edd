"""ecomkit: fast, exact Rust kernels for e-commerce ML pipelines.

Modules: :mod:`ecomkit.abtest` (traffic splitting, uplift statistics), :mod:`ecomkit.metrics`
(ranking, classification and calibration metrics), :mod:`ecomkit.monitor` (drift
statistics), :mod:`ecomkit.rank` (LambdaRank and
binary training through LightGBM), :mod:`ecomkit.features` (rolling time-window features,
ASIN features, click-stream sessions), :mod:`ecomkit.score` (robust z-scores, explosive
score), :mod:`ecomkit.datasets` (seeded synthetic data), :mod:`ecomkit.pipeline` (the
pipeline steps: read, run one job, write atomically), :mod:`ecomkit.errors`
(exceptions), :mod:`ecomkit.demo` and the ``ecomkit`` command line (:mod:`ecomkit.cli`).

pandas and polars are optional: they are imported only when a frame of theirs is passed in
or a pandas result is asked for.
"""

from ._ecomkit import __version__  # noqa: I001  (first: the modules below read it)
from . import abtest, cli, datasets, errors, features, metrics, monitor, pipeline, rank, score
from .errors import EcomkitError

__all__ = [
    "EcomkitError",
    "__version__",
    "abtest",
    "cli",
    "datasets",
    "errors",
    "features",
    "metrics",
    "monitor",
    "pipeline",
    "rank",
    "score",
]
