"""The closedloop_kit exception and warning tree.

Every error the package raises on purpose derives from :class:`ClosedLoopError`, so
``except clk.errors.ClosedLoopError`` catches all of them; the data errors also derive
from the built-in exception an analyst would expect (``ValueError``, ``RuntimeError``,
``ImportError``).

::

    ClosedLoopError
    ├─ DataContractError (also ValueError)      a frame breaks a canonical table's contract
    ├─ SourceFormatError (also ValueError)      a file is not the export it claims to be
    ├─ IdentityResolutionError
    ├─ ModelFitError (also RuntimeError)        a statistical model did not converge
    ├─ MissingDependencyError (also ImportError)
    └─ StoreLockedError (also TimeoutError)     another process is writing the store
    ClosedLoopWarning
    ├─ DataQualityWarning
    └─ StatisticalWarning
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ClosedLoopError",
    "ClosedLoopWarning",
    "DataContractError",
    "DataQualityWarning",
    "IdentityResolutionError",
    "MissingDependencyError",
    "ModelFitError",
    "SourceFormatError",
    "StatisticalWarning",
    "StoreLockedError",
]


class ClosedLoopError(Exception):
    """Base class of every error raised by closedloop_kit."""


class DataContractError(ClosedLoopError, ValueError):
    """A frame does not meet the contract of a canonical table or of a function.

    Parameters
    ----------
    message
        What is wrong, naming the table, the columns and example values.
    schema_name
        The canonical table or function whose contract was broken.
    failure_cases
        A polars frame of the failing values (column, check, value, row), when known.
    """

    def __init__(
        self, message: str, *, schema_name: str | None = None, failure_cases: Any = None
    ) -> None:
        super().__init__(message)
        self.schema_name = schema_name
        self.failure_cases = failure_cases


class SourceFormatError(ClosedLoopError, ValueError):
    """A file cannot be read as the export it is said to be.

    The message names the file, the line or column, what was expected and, when the
    package can tell, the reader that fits the file instead.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        column: str | None = None,
        suggestion: str | None = None,
    ) -> None:
        super().__init__(message)
        self.path = path
        self.line = line
        self.column = column
        self.suggestion = suggestion


class IdentityResolutionError(ClosedLoopError):
    """Identity resolution cannot proceed (contradictory or circular merge records)."""


class ModelFitError(ClosedLoopError, RuntimeError):
    """A statistical model did not fit; the message lists what to check."""


class MissingDependencyError(ClosedLoopError, ImportError):
    """An optional dependency needed by the called function is not installed."""


class StoreLockedError(ClosedLoopError, TimeoutError):
    """Another process holds the store's writer lock (``.holder``: its pid, host, since)."""

    def __init__(self, message: str, *, path: str, holder: dict[str, Any]) -> None:
        super().__init__(message)
        self.path = path
        self.holder = holder


class ClosedLoopWarning(UserWarning):
    """Base class of every warning issued by closedloop_kit."""


class DataQualityWarning(ClosedLoopWarning):
    """The data is usable but something in it deserves the analyst's attention."""


class StatisticalWarning(ClosedLoopWarning):
    """A statistical result is valid but fragile (small samples, separation, ...)."""
