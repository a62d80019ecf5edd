"""LambdaRank and binary training through LightGBM 4.7, driven from Rust.

:func:`train_lambdarank` (query groups) and :func:`train_binary` (propensity) return a
:class:`Model` with ``predict``, ``predict_contrib`` (SHAP), ``feature_importance``,
``save`` / ``load`` (LightGBM's text format, readable by the ``lightgbm`` Python package).
:func:`run` is the ``ecomkit train-rank`` pipeline step. Conventions: docs/rank.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import _check, _display, _ecomkit, _frames, _io, _progress
from .errors import InvalidTypeError, InvalidValueError

__all__ = ["Model", "run", "train_binary", "train_lambdarank"]

LAMBDARANK_DEFAULTS: dict[str, Any] = {"objective": "lambdarank", "verbosity": -1}
BINARY_DEFAULTS: dict[str, Any] = {"objective": "binary", "verbosity": -1}


def _params_string(params: Mapping[str, Any]) -> str:
    """LightGBM's ``key=value`` form; lists become comma-separated, booleans lower case."""
    parts = []
    for key, value in params.items():
        if not isinstance(key, str) or not key or any(c.isspace() or c == "=" for c in key):
            raise InvalidValueError(f"params: bad parameter name {key!r}")
        if isinstance(value, bool):
            text = str(value).lower()
        elif isinstance(value, (list, tuple)):
            text = ",".join(str(v) for v in value)
        else:
            text = str(value)
        if any(c.isspace() for c in text):
            raise InvalidValueError(f"params: value of {key!r} must not contain spaces")
        parts.append(f"{key}={text}")
    return " ".join(parts)


def _is_sparse(x: Any) -> bool:
    return type(x).__module__.startswith("scipy.sparse")


def _matrix(x: Any, argument: str) -> Any:
    """A C-contiguous float64 2-D array, or a canonical float64 ``scipy.sparse`` CSR matrix
    (sorted indices, no duplicates) for a sparse one of any format."""
    if _is_sparse(x):
        if x.ndim != 2:
            raise InvalidValueError(f"{argument}: expected a 2-D matrix, got shape {x.shape}")
        x = x.tocsr().astype(np.float64)
        if not x.has_canonical_format:
            x = x.copy()
            x.sum_duplicates()
        return x
    if hasattr(x, "to_numpy") and not isinstance(x, np.ndarray):
        x = x.to_numpy()
    try:
        x = np.ascontiguousarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidTypeError(f"{argument}: expected a 2-D array of numbers ({exc})") from None
    if x.ndim != 2:
        raise InvalidValueError(f"{argument}: expected a 2-D array, got shape {x.shape}")
    return x


def _native(x: Any) -> Any:
    """What the extension takes for a matrix from :func:`_matrix`: the array itself, or the
    CSR parts ``(indptr int64, indices int32, values float64, n_features)``."""
    if not _is_sparse(x):
        return x
    return (np.ascontiguousarray(x.indptr, np.int64), np.ascontiguousarray(x.indices, np.int32),
            np.ascontiguousarray(x.data, np.float64), x.shape[1])  # fmt: skip


def _group_sizes(group: Any, groups: Any, n_rows: int, argument: str) -> tuple[Any, Any]:
    """(int32 group sizes or None, row order or None) from `group` (LightGBM's sizes of
    consecutive queries) or `groups` (one query id per row); Rust checks the values."""
    if group is not None and groups is not None:
        raise InvalidValueError(f"{argument}: give group (sizes) or groups (ids), not both")
    if group is not None:
        sizes = np.asarray(group)
        if sizes.ndim != 1 or sizes.dtype.kind not in "iu":
            raise InvalidTypeError(f"{argument}: expected a 1-D array of integer group sizes")
        return np.ascontiguousarray(sizes, dtype=np.int32), None
    if groups is not None:
        name = argument.replace("group", "groups")
        return _ecomkit.lgbm_query_groups(_frames.to_arrow_array(groups, name), n_rows, name)
    return None, None


def _lightgbm() -> Any:
    """The extension, with LightGBM's C API ready: the ``lib_lightgbm`` shipped in LightGBM's
    own wheel (the ``lightgbm`` package, found without importing it), loaded on first use,
    unless ``ECOMKIT_LIGHTGBM_LIB`` names another or LightGBM is compiled in."""
    if not _ecomkit.lgbm_available():
        import importlib.util

        spec = importlib.util.find_spec("lightgbm")
        if spec is None or not spec.submodule_search_locations:
            raise ImportError(
                "LightGBM training needs the lightgbm package (pip install lightgbm), "
                "or ECOMKIT_LIGHTGBM_LIB set to the path of a lib_lightgbm shared library"
            )
        names = ("lib_lightgbm.so", "lib_lightgbm.dylib", "lib_lightgbm.dll")
        folder = Path(spec.submodule_search_locations[0])
        found = [p for d in (folder / "lib", folder / "bin", folder) for n in names
                 if (p := d / n).is_file()]  # fmt: skip
        if not found:
            raise ImportError(f"no lib_lightgbm shared library in {folder}")
        _ecomkit.lgbm_load(str(found[0]))
    return _ecomkit


class Model:
    """A trained LightGBM model (LightGBM's text format inside)."""

    def __init__(self, model_text: str, *, best_iteration: int | None = None,
                 eval_history: Any = None) -> None:  # fmt: skip
        self.model_text = model_text
        self.best_iteration = best_iteration
        self.eval_history = eval_history
        self._loaded: tuple[str, Any] | None = None

    def _booster(self) -> Any:
        """LightGBM's booster for ``model_text``, checked and parsed on first use only."""
        if self._loaded is None or self._loaded[0] is not self.model_text:
            self._loaded = (self.model_text, _lightgbm().Booster(self.model_text))
        return self._loaded[1]

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (for Spark, joblib) as its text: the booster is parsed again on use."""
        return {**self.__dict__, "_loaded": None}

    def predict(self, X: Any) -> np.ndarray:
        """Scores (LambdaRank) or probabilities (binary), one per row."""
        return self._booster().predict(_native(_matrix(X, "X")), False)

    def predict_contrib(self, X: Any) -> np.ndarray:
        """SHAP values: ``(n_rows, n_features + 1)``, the last column the expected value."""
        x = _matrix(X, "X")
        return self._booster().predict(_native(x), True).reshape(x.shape[0], -1)

    def feature_importance(self, importance_type: str = "split") -> np.ndarray:
        """Splits per feature (``"split"``) or their total gain (``"gain"``)."""
        _check.choice(importance_type, "importance_type", ("split", "gain"))
        return np.array(self._booster().importance(importance_type == "gain"))

    def save(self, path: str | Path) -> Path:
        """Write the model in LightGBM's text format, atomically."""
        return _io.write_text(self.model_text, path)

    @classmethod
    def load(cls, path: str | Path) -> Model:
        path = Path(path)
        if not path.is_file():
            raise InvalidValueError(f"path: no such file '{path}'")
        return cls(path.read_text())

    def _fields(self) -> list[tuple[str, Any]]:
        head = self.model_text[:4000].splitlines()
        pairs = (line.partition("=") for line in head)
        info = {key: value for key, sep, value in pairs if sep and " " not in key}
        return [("objective", info.get("objective")),
                ("num_features", int(info["max_feature_idx"]) + 1
                 if "max_feature_idx" in info else None),
                ("trees", self.model_text.count("\nTree=")),
                ("best_iteration", self.best_iteration)]  # fmt: skip

    def __repr__(self) -> str:
        return _display.text("Model", self._fields())

    def _repr_html_(self) -> str:
        return _display.table("LightGBM model", self._fields())


def _train(
    defaults: Mapping[str, Any],
    X: Any,
    y: Any,
    group: Any,
    groups: Any,
    params: Mapping[str, Any] | None,
    num_boost_round: int,
    valid: Any,
    early_stopping_rounds: int | None,
    verbose: bool | None,
    what: str,
) -> Model:
    x = _matrix(X, "X")
    labels = _frames.to_float64(y, "y")
    if len(labels) != x.shape[0]:
        raise InvalidValueError(
            f"y: expected length {x.shape[0]} (the rows of X), got {len(labels)}"
        )
    sizes, order = _group_sizes(group, groups, x.shape[0], "group")
    if order is not None:
        x, labels = _matrix(x[order], "X"), np.ascontiguousarray(labels[order])
    merged = {**defaults, **(params or {})}
    num_boost_round = _check.positive_int(num_boost_round, "num_boost_round")
    if early_stopping_rounds is not None:
        early_stopping_rounds = _check.positive_int(early_stopping_rounds, "early_stopping_rounds")
    valid_args = None
    if valid is not None:
        if isinstance(valid, Mapping):
            vx, vy = valid.get("X"), valid.get("y")
            vg = valid.get("group")
            vids = _check.setting(valid, "groups", "group_ids", argument="valid")
        elif isinstance(valid, Sequence) and len(valid) in (2, 3):
            vx, vy, vg, vids = valid[0], valid[1], (valid[2] if len(valid) == 3 else None), None
        else:
            raise InvalidTypeError(
                "valid: expected (X, y[, group]) or a dict with X, y and group or groups"
            )
        vx = _matrix(vx, "valid X")
        vy = _frames.to_float64(vy, "valid y")
        vsizes, vorder = _group_sizes(vg, vids, vx.shape[0], "valid group")
        if vorder is not None:
            vx, vy = _matrix(vx[vorder], "valid X"), np.ascontiguousarray(vy[vorder])
        valid_args = (_native(vx), vy, vsizes)
    progress = _progress.Progress(num_boost_round, f"training {what}", verbose=verbose)
    text, best, names, history = _lightgbm().lgbm_train(
        _native(x), labels, sizes, _params_string(merged), num_boost_round, valid_args,
        early_stopping_rounds, progress if progress.on else None,
    )  # fmt: skip
    progress.finish()
    eval_history = {name: [row[i] for row in history] for i, name in enumerate(names)}
    return Model(text, best_iteration=best, eval_history=eval_history or None)


@_check.renamed(group_ids="groups")
def train_lambdarank(
    X: Any,
    y: Any,
    group: Any = None,
    params: Mapping[str, Any] | None = None,
    num_boost_round: int = 100,
    *,
    groups: Any = None,
    valid: Any = None,
    early_stopping_rounds: int | None = None,
    verbose: bool | None = None,
) -> Model:
    """Train a LambdaRank model, as ``lightgbm.train({"objective": "lambdarank", ...},
    lightgbm.Dataset(X, y, group=group), num_boost_round)``.

    ``group`` holds the sizes of consecutive queries (LightGBM's convention);
    ``groups=`` (one query id per row, rows in any order, as scikit-learn's ``groups``) is
    the alternative; ``group_ids=`` is its deprecated old name. ``params`` are
    LightGBM parameters (defaults: ``objective="lambdarank"``, ``verbosity=-1``); the same
    data, parameters and seed give the same model and predictions as LightGBM's Python
    package. ``valid=(X, y, group)`` adds validation data; with ``early_stopping_rounds``,
    training stops when the first validation metric has not improved for that many rounds
    and the model keeps the best iteration. Progress of the rounds goes to stderr (a bar on a
    terminal or in a notebook, a line every ~10% in logs); ``verbose=False`` silences it.
    """
    if group is None and groups is None:
        raise InvalidValueError("group: LambdaRank needs query groups (group sizes or groups)")
    return _train(LAMBDARANK_DEFAULTS, X, y, group, groups, params, num_boost_round, valid,
                  early_stopping_rounds, verbose, "LambdaRank")  # fmt: skip


def train_binary(
    X: Any,
    y: Any,
    params: Mapping[str, Any] | None = None,
    num_boost_round: int = 100,
    *,
    valid: Any = None,
    early_stopping_rounds: int | None = None,
    verbose: bool | None = None,
) -> Model:
    """Train a binary classifier (propensity); ``predict`` gives probabilities. Progress as
    :func:`train_lambdarank`."""
    return _train(BINARY_DEFAULTS, X, y, None, None, params, num_boost_round, valid,
                  early_stopping_rounds, verbose, "binary LightGBM")  # fmt: skip


run = _check.moved("ecomkit.rank.run", "train_rank")
