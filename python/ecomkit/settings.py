"""Pipeline settings from a TOML or YAML file.

One file holds a section per pipeline step, for example::

    [score]
    weights = { bsr_trend_7d = -1.0, review_velocity_7d = 1.0, listing_quality = 0.25 }
    by = ["site", "category"]
    top_n = 20
    clip = 6.0

Command-line flags and ``run(...)`` arguments override the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import InvalidTypeError, InvalidValueError


def load(path: str | Path) -> dict[str, Any]:
    """The whole settings file as a dict (``.toml``, ``.yaml`` or ``.yml``)."""
    path = Path(path)
    if not path.is_file():
        raise InvalidValueError(f"config: no such file '{path}'")
    suffix = path.suffix.lower()
    text = path.read_text(encoding="utf-8")
    if suffix == ".toml":
        try:
            import tomllib
        except ModuleNotFoundError:  # Python 3.10
            try:
                import tomli as tomllib
            except ModuleNotFoundError:
                raise InvalidValueError(
                    "config: reading TOML on Python 3.10 needs tomli (pip install tomli)"
                ) from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InvalidValueError(f"config: '{path}' is not valid TOML: {exc}") from None
    elif suffix in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise InvalidValueError(
                "config: reading YAML needs PyYAML (pip install 'ecomkit[yaml]')"
            ) from None
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise InvalidValueError(f"config: '{path}' is not valid YAML: {exc}") from None
    else:
        raise InvalidValueError(f"config: expected a .toml, .yaml or .yml file, got '{path}'")
    if not isinstance(data, dict):
        raise InvalidTypeError(f"config: '{path}' must hold a mapping of sections")
    return data


def load_section(path: str | Path | None, section: str) -> dict[str, Any]:
    """One section of the settings file; empty when there is no file or no such section."""
    if path is None:
        return {}
    value = load(path).get(section, {})
    if not isinstance(value, dict):
        raise InvalidTypeError(f"config: section [{section}] must be a table of settings")
    return value
