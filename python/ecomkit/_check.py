"""Argument checks shared by the public functions; each error names the argument."""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from .errors import InvalidTypeError, InvalidValueError


def names(value: Any, argument: str) -> list[str]:
    """A column name or a sequence of them, as a list."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable) and not isinstance(value, Mapping):
        out = list(value)
        if all(isinstance(v, str) for v in out):
            return out
    raise InvalidTypeError(
        f"{argument}: expected a column name or a sequence of column names, got {value!r}"
    )


def weights(value: Any, argument: str = "weights") -> list[tuple[str, float]]:
    """A mapping of column name to finite weight, as a list of pairs."""
    if not isinstance(value, Mapping):
        raise InvalidTypeError(
            f"{argument}: expected a mapping of feature column to weight, "
            f"e.g. {{'bsr': -1.0}}, got {type(value).__name__}"
        )
    pairs = []
    for name, weight in value.items():
        if not isinstance(name, str):
            raise InvalidTypeError(f"{argument}: feature names must be strings, got {name!r}")
        pairs.append((name, real(weight, f"{argument}['{name}']")))
    return pairs


def real(value: Any, argument: str) -> float:
    """A finite real number (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidTypeError(f"{argument}: expected a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise InvalidValueError(f"{argument}: expected a finite number, got {value}")
    return value


def optional_positive_real(value: Any, argument: str) -> float | None:
    """None, or a finite number > 0."""
    if value is None:
        return None
    value = real(value, argument)
    if value <= 0:
        raise InvalidValueError(f"{argument}: expected a positive number, got {value}")
    return value


#: The largest integer an argument may take: what the Rust core's counts and seeds hold
#: (a larger one was an OverflowError from the conversion, naming nothing).
LARGEST = 2**63 - 1


def integer(value: Any, argument: str, minimum: int, maximum: int = LARGEST) -> int:
    """An integer from minimum to maximum (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidTypeError(f"{argument}: expected an integer, got {value!r}")
    if value < minimum:
        raise InvalidValueError(f"{argument}: expected an integer >= {minimum}, got {value}")
    if value > maximum:
        raise InvalidValueError(f"{argument}: expected an integer <= {maximum}, got {value}")
    return int(value)


def positive_int(value: Any, argument: str) -> int:
    """An integer >= 1 (not a bool)."""
    return integer(value, argument, 1)


def optional_positive_int(value: Any, argument: str) -> int | None:
    """None, or an integer >= 1."""
    return None if value is None else positive_int(value, argument)


def non_negative_int(value: Any, argument: str) -> int:
    """An integer >= 0 (not a bool)."""
    return integer(value, argument, 0)


def choice(value: Any, argument: str, allowed: tuple[str, ...]) -> str:
    """One of a few strings."""
    if value not in allowed:
        raise InvalidValueError(f"{argument}: expected one of {list(allowed)}, got {value!r}")
    return value


def boolean(value: Any, argument: str) -> bool:
    """True or False (numpy's bool too), not a truthy stand-in such as ``"no"``."""
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidTypeError(f"{argument}: expected True or False, got {value!r}")
    return bool(value)


def renamed(**old_to_new: str) -> Any:
    """Decorator: keyword arguments under their old names (``variant_col=``) still work for
    a release, mapped to the new ones (``variant=``) with a DeprecationWarning."""
    import functools
    import inspect

    def wrap(function: Any) -> Any:
        positions = {name: i for i, name in enumerate(inspect.signature(function).parameters)}

        @functools.wraps(function)
        def call(*args: Any, **kwargs: Any) -> Any:
            for old, new in old_to_new.items():
                if old not in kwargs:
                    continue
                if new in kwargs or positions.get(new, len(args)) < len(args):
                    raise InvalidTypeError(f"{new}: given twice, also as '{old}' (its old name)")
                warnings.warn(f"{function.__name__}: '{old}' is deprecated; use '{new}'",
                              DeprecationWarning, stacklevel=2)  # fmt: skip
                kwargs[new] = kwargs.pop(old)
            return function(*args, **kwargs)

        return call

    return wrap


def setting(settings: Mapping[str, Any], name: str, old: str, default: Any = None,
            argument: str = "settings") -> Any:  # fmt: skip
    """A settings-file (or other mapping's) value under its name, or under its old name
    (deprecated)."""
    if name in settings:
        return settings[name]
    if old in settings:
        warnings.warn(f"{argument}: '{old}' is deprecated; use '{name}'", DeprecationWarning,
                      stacklevel=3)  # fmt: skip
        return settings[old]
    return default


def moved(old: str, new: str) -> Callable[..., Any]:
    """A deprecated alias of ``ecomkit.pipeline.<new>`` under its old name ``old``: it warns
    (``DeprecationWarning``, naming the new function) and calls it."""

    def alias(*args: Any, **kwargs: Any) -> Any:
        from . import pipeline

        warnings.warn(
            f"{old} is deprecated; use ecomkit.pipeline.{new}", DeprecationWarning, stacklevel=2
        )
        return getattr(pipeline, new)(*args, **kwargs)

    alias.__name__ = old.rsplit(".", 1)[-1]
    alias.__doc__ = f"Deprecated: use :func:`ecomkit.pipeline.{new}`."
    return alias
