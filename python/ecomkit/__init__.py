"""ecomkit: fast, exact Rust kernels for e-commerce ML pipelines.

Modules: :mod:`ecomkit.abtest` (traffic splitting, uplift statistics), :mod:`ecomkit.metrics`
(ranking, classification and calibration metrics), :mod:`ecomkit.features` (rolling
time-window features, ASIN features, click-stream sessions),
:mod:`ecomkit.score` (robust z-scores, explosive score), :mod:`ecomkit.datasets`
(seeded synthetic data), :mod:`ecomkit.errors` (exceptions), :mod:`ecomkit.demo` and the
``ecomkit`` command line (:mod:`ecomkit.cli`).
"""

from . import abtest, datasets, errors, features, metrics, score
from ._ecomkit import __version__
from .errors import EcomkitError

__all__ = [
    "EcomkitError",
    "__version__",
    "abtest",
    "datasets",
    "errors",
    "features",
    "metrics",
    "score",
]
