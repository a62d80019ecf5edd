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
