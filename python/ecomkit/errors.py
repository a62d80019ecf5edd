"""Exceptions raised by ecomkit.

Every error is an :class:`EcomkitError`. Bad input also subclasses the built-in exception a
Python user already catches (``ValueError`` or ``TypeError``), and its message names the
argument or column at fault and what was expected.
"""

from __future__ import annotations

__all__ = [
    "EcomkitError",
    "InvalidValueError",
    "InvalidTypeError",
    "ColumnNotFoundError",
    "LengthMismatchError",
    "EmptyInputError",
    "DatabaseError",
    "InternalError",
    "ValidationFailed",
    "DriftDetected",
]


class EcomkitError(Exception):
    """Base class of every exception raised by ecomkit.

    ``argument`` is the argument at fault (``"weights"``, ``"time"``) and ``column`` the
    column of it (``"bsr"``), where the error names them, else None: code can react to
    the field without parsing the message.
    """

    argument: str | None = None
    column: str | None = None


class InvalidValueError(EcomkitError, ValueError):
    """An argument has the right type but a value outside what is accepted."""


class InvalidTypeError(EcomkitError, TypeError):
    """An argument or column has a type ecomkit cannot use."""


class ColumnNotFoundError(InvalidValueError):
    """A column named in an argument is not in the frame."""


class LengthMismatchError(InvalidValueError):
    """Two inputs that must line up row by row have different lengths."""


class EmptyInputError(InvalidValueError):
    """An input that must hold rows holds none."""


class DatabaseError(InvalidValueError):
    """A database input or output could not be read or written (bad URI, credentials,
    missing table); the message names the argument and the URI, without its password."""


class InternalError(EcomkitError, RuntimeError):
    """A bug in ecomkit (a Rust panic caught at the boundary); please report it."""


class ValidationFailed(EcomkitError):
    """Data failed its quality rules (``QualityReport.raise_for_failures()``, ``ecomkit
    validate``). ``report`` is the :class:`ecomkit.monitor.QualityReport`; the message is
    its summary and the failing rules' messages."""

    def __init__(self, report: object) -> None:
        self.report = report
        lines = [report.summary()]  # type: ignore[attr-defined]
        table = report.to_arrow()  # type: ignore[attr-defined]
        for row in table.to_pylist():
            if not row["passed"]:
                where = f" {row['column']}" if row["column"] else ""
                lines.append(f"  {row['rule']}{where}: {row['message']}")
        super().__init__("\n".join(lines))


class DriftDetected(EcomkitError):
    """A dataset drift where the caller asked to fail on one (``ecomkit drift
    --fail-on-drift``). ``report`` is the :class:`ecomkit.monitor.DriftReport`."""

    def __init__(self, report: object) -> None:
        self.report = report
        super().__init__(report.summary())  # type: ignore[attr-defined]
