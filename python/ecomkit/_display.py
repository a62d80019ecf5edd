"""How ecomkit's objects show themselves: one ``repr`` line, and an HTML table in notebooks."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any


def text(name: str, fields: Sequence[tuple[str, Any]]) -> str:
    """``Name(field=value, ...)``."""
    return f"{name}(" + ", ".join(f"{key}={value!r}" for key, value in fields) + ")"


def table(name: str, fields: Sequence[tuple[str, Any]]) -> str:
    """A two-column HTML table of `fields` under the object's name."""
    rows = "".join(
        f"<tr><th style='text-align:left'>{html.escape(key)}</th>"
        f"<td style='text-align:left'>{html.escape(str(value))}</td></tr>"
        for key, value in fields
    )
    return f"<div><strong>{html.escape(name)}</strong><table>{rows}</table></div>"
