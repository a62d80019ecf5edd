"""Type stubs of the compiled core; use the wrappers in ecomkit.score, .abtest, .datasets."""

from collections.abc import Callable
from typing import Any, final

import numpy as np
import numpy.typing as npt
from typing_extensions import Self

__version__: str

# An Arrow table (arro3), readable by pyarrow.table(): the shape frame results cross in.
_Table = Any

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
) -> tuple[_Table, npt.NDArray[np.int64] | None]: ...
def group_stats(
    frame: Any, features: list[str], by: list[str], *, zero_mad: str = "mean_ad"
) -> Any: ...
def asin_daily(n_asins: int, n_days: int, seed: int, start: int) -> Any: ...
def exploding_asins(n_asins: int, n_days: int, seed: int) -> list[tuple[str, int]]: ...
def _panic_for_tests() -> None: ...
def require_columns(available: list[str], wanted: list[str], argument: str) -> None: ...
def experiment_units(n_users: int, seed: int, lift: float) -> Any: ...

# ecomkit.abtest

_MetricTuple = tuple[str, str, str, str | None]
_CellTuple = tuple[float, tuple[float, float, float], list[tuple[float, float, float]], bool, float]

def hash_ids(seed: str, values: Any, version: int, encoding: str) -> npt.NDArray[np.float64]: ...
def hash_one(seed: str, value: str, version: int, encoding: str) -> float: ...
def bucket_ranges(
    num_variations: int, coverage: float, weights: list[float] | None
) -> list[tuple[float, float]]: ...
def choose_variation(
    buckets: npt.NDArray[np.float64], ranges: list[tuple[float, float]]
) -> npt.NDArray[np.int32]: ...
def namespace_membership(
    ids: Any, namespace_id: str, start: float, end: float, encoding: str
) -> npt.NDArray[np.bool_]: ...
def assign_variations(
    ids: Any,
    categories: Any | None,
    *,
    seed: str,
    num_variations: int,
    coverage: float,
    weights: list[float] | None,
    hash_version: int,
    encoding: str,
    namespace: tuple[str, float, float] | None,
    per_category: list[tuple[str, list[float]]],
) -> npt.NDArray[np.int32]: ...

@final
class Aggregates:
    variants: list[str]
    segments: list[str]
    metrics: list[_MetricTuple]
    units: list[list[float]]
    def merge(self, other: Aggregates) -> Aggregates: ...
    def total(self) -> Aggregates: ...
    def to_state(self) -> dict[str, Any]: ...
    @staticmethod
    def from_state(
        metrics: list[_MetricTuple],
        segments: list[str],
        variants: list[str],
        units: list[list[float]],
        cells: list[list[list[_CellTuple]]],
        notes: list[tuple[str, str]],
    ) -> Aggregates: ...

def aggregate_units(
    frame: Any, variant: str, segment: str | None, metrics: list[_MetricTuple]
) -> Aggregates: ...
def aggregate_summary(frame: Any, variant: str) -> Aggregates: ...
def evaluate_aggregates(
    aggregates: Aggregates,
    control: str,
    alpha: float,
    correction: str | None,
    expected_weights: list[float] | None,
) -> tuple[_Table, list[tuple[str, list[float], list[float], float, float]]]: ...
def adjust_p_values(p_values: list[float], correction: str | None) -> list[float]: ...
def chi_square_gof(observed: list[float], weights: list[float]) -> tuple[float, float]: ...
def normal_power(effect: float, n1: float, alpha: float, ratio: float) -> float: ...
def sample_size(effect: float, alpha: float, power: float, ratio: float) -> float: ...
def minimum_detectable_effect(n1: float, alpha: float, power: float, ratio: float) -> float: ...

# ecomkit.metrics

def ranking_metrics(
    metrics: list[str],
    labels: npt.NDArray[np.float64],
    scores: npt.NDArray[np.float64],
    groups: Any,
    cuts: list[int | None],
    gain: str,
    ties: str,
    no_relevant: str,
    ap_denominator: str,
) -> tuple[npt.NDArray[np.float64], list[int]]: ...
def roc_auc(
    y_true: npt.NDArray[np.float64],
    y_score: npt.NDArray[np.float64],
    sample_weight: npt.NDArray[np.float64] | None = None,
) -> float: ...
def average_precision_score(
    y_true: npt.NDArray[np.float64],
    y_score: npt.NDArray[np.float64],
    sample_weight: npt.NDArray[np.float64] | None = None,
) -> float: ...
def log_loss(
    y_true: npt.NDArray[np.float64],
    y_score: npt.NDArray[np.float64],
    sample_weight: npt.NDArray[np.float64] | None = None,
) -> float: ...
def brier_score(
    y_true: npt.NDArray[np.float64],
    y_score: npt.NDArray[np.float64],
    sample_weight: npt.NDArray[np.float64] | None = None,
) -> float: ...
def precision_recall_at(
    y_true: npt.NDArray[np.float64],
    y_score: npt.NDArray[np.float64],
    threshold: float,
    sample_weight: npt.NDArray[np.float64] | None = None,
) -> tuple[float, float]: ...
def calibration_curve(
    y_true: npt.NDArray[np.float64], y_prob: npt.NDArray[np.float64], n_bins: int, strategy: str
) -> tuple[list[float], list[float], list[int]]: ...
def isotonic_fit(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    sample_weight: npt.NDArray[np.float64] | None = None,
) -> tuple[list[float], list[float]]: ...
def isotonic_transform(
    x_fit: list[float], y_fit: list[float], values: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]: ...

# A CSR matrix as (indptr, indices, values, n_features).
_Csr = tuple[npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.float64], int]

def load_svmlight(
    path: Any, sparse: bool
) -> tuple[
    _Csr | tuple[npt.NDArray[np.float64], int], npt.NDArray[np.float64], list[int] | None
]: ...

# ecomkit.rank (built with the cargo feature `lightgbm`)

def lgbm_available() -> bool: ...
def lgbm_load(path: str) -> None: ...
def lgbm_query_groups(
    ids: Any, n_rows: int, argument: str
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int64]]: ...
def lgbm_train(
    x: npt.NDArray[np.float64] | _Csr,
    y: npt.NDArray[np.float64],
    group: npt.NDArray[np.int32] | None,
    params: str,
    num_boost_round: int,
    valid: tuple[
        npt.NDArray[np.float64] | _Csr, npt.NDArray[np.float64], npt.NDArray[np.int32] | None
    ]
    | None,
    early_stopping_rounds: int | None,
    progress: Callable[[int], object] | None = None,
) -> tuple[str, int, list[str], list[list[float]]]: ...

@final
class Booster:
    def __new__(cls, model: str) -> Self: ...
    def predict(
        self, x: npt.NDArray[np.float64] | _Csr, contrib: bool
    ) -> npt.NDArray[np.float64]: ...
    def importance(self, gain: bool) -> list[float]: ...
    @property
    def num_features(self) -> int: ...

# ecomkit.features
ROLLING_STATS: list[str]

def rolling(
    frame: Any,
    by: list[str],
    time: str,
    columns: list[str],
    windows: list[str],
    stats: list[str],
    min_periods: int,
) -> _Table: ...
def asin_daily_features(
    frame: Any,
    by: list[str],
    time: str,
    bsr: str,
    price: str,
    review_count: str,
    rating: str,
    windows: list[str],
    min_periods: int,
) -> _Table: ...
def sessionize(
    frame: Any, user: str, time: str, timeout: str, max_duration: str | None
) -> np.ndarray: ...
def session_features(
    frame: Any,
    user: str,
    time: str,
    event: str,
    item: str | None,
    timeout: str,
    max_duration: str | None,
    time_zone: str,
    event_names: list[str],
    transitions: bool,
) -> tuple[_Table, _Table]: ...
def clickstream(n_users: int, n_days: int, seed: int, start: int) -> Any: ...

@final
class SessionState:
    def __new__(
        cls, timeout: str, max_duration: str | None, time_zone: str, event_names: list[str]
    ) -> Self: ...
    def update(self, time: int, event: str | None, item: str | None) -> tuple[int, int, float]: ...
    def current(self) -> dict[str, Any] | None: ...

_AsOfSpec = tuple[str, str, str, str | None, str | None, list[str]]

def user_features(events: Any, as_of: Any, spec: _AsOfSpec) -> _Table: ...
def item_features(events: Any, as_of: Any, spec: _AsOfSpec) -> _Table: ...
def interaction_scores(
    frame: Any,
    user: str,
    item: str,
    time: str,
    event: str,
    weights: list[tuple[str, float]],
    half_life: str,
    as_of: int | None,
) -> Any: ...

# ecomkit.monitor
@final
class DriftResult:
    @property
    def statistic(self) -> float: ...
    @property
    def pvalue(self) -> float: ...
    @property
    def method(self) -> str: ...
    @property
    def threshold(self) -> float: ...
    @property
    def drifted(self) -> bool: ...
    @property
    def n_reference(self) -> int: ...
    @property
    def n_current(self) -> int: ...
    @property
    def n_missing_reference(self) -> int: ...
    @property
    def n_missing_current(self) -> int: ...

def drift_test(
    method: str,
    reference: Any,
    current: Any,
    bins: int,
    binning: str,
    threshold: float | None,
    categorical: bool,
) -> DriftResult: ...
def drift_columns(reference: Any, columns: list[str]) -> list[str]: ...
def drift_report(
    reference: Any,
    current: Any,
    columns: list[str],
    methods: list[str | None],
    thresholds: list[float | None],
    by: list[str],
    bins: int,
    binning: str,
    drift_share: float,
) -> tuple[Any, float, bool]: ...
def validate(
    frame: Any,
    rules: Any,
    references: list[tuple[str, Any]],
    as_of: int,
) -> tuple[Any, bool, list[npt.NDArray[np.uint64]], list[Any | None]]: ...
def clean_events(
    frame: Any,
    user: str,
    time: str,
    duplicates: bool,
    max_events_per_minute: float | None,
    time_zone: str,
) -> tuple[Any, Any]: ...

_ColumnSpec = tuple[str, str, list[float], list[str], list[int], int]

def profile_reference(reference: Any, columns: list[str], bins: int) -> list[_ColumnSpec]: ...
def profile_count(piece: Any, profile: list[_ColumnSpec]) -> list[tuple[list[int], int]]: ...
def profile_drift(
    profile: list[_ColumnSpec],
    counts: list[tuple[list[int], int]],
    methods: list[str | None],
    thresholds: list[float | None],
    drift_share: float,
) -> tuple[Any, float, bool]: ...
