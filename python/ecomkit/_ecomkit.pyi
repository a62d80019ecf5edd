"""Type stubs of the compiled core. Use the wrappers in ecomkit.score / ecomkit.datasets."""

from typing import Any

import numpy as np
import numpy.typing as npt

__version__: str

def robust_zscore(
    values: npt.NDArray[np.float64],
    groups: Any | None = None,
    *,
    clip: float | None = None,
    zero_mad: str = "mean_ad",
) -> npt.NDArray[np.float64]: ...
def explosive_score(
    frame: Any,
    weights: list[tuple[str, float]],
    by: list[str],
    *,
    top_n: int | None = None,
    clip: float | None = None,
    zero_mad: str = "mean_ad",
) -> dict[str, Any]: ...
def group_stats(
    frame: Any, features: list[str], by: list[str], *, zero_mad: str = "mean_ad"
) -> Any: ...
def asin_daily(n_asins: int, n_days: int, seed: int, start: int) -> Any: ...
def exploding_asins(n_asins: int, n_days: int, seed: int) -> list[tuple[str, int]]: ...
def _panic_for_tests() -> None: ...
