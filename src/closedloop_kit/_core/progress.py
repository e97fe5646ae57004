"""Progress bars where a person watches: a notebook or a terminal, never a log file."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

__all__ = ["interactive", "progress"]


def interactive() -> bool:
    """Whether a person is likely watching: a Jupyter kernel, or stderr is a terminal.

    A script whose output goes to a file or a CI log is not interactive: a progress bar
    there writes one line per update.
    """
    if "ipykernel" in sys.modules:
        return True
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


def progress(
    iterable: Iterable[Any] | None = None,
    *,
    total: int | None = None,
    desc: str,
    unit: str,
    enabled: bool = True,
) -> Any:
    """A tqdm bar (a notebook widget in Jupyter), silent unless :func:`interactive`.

    ``enabled=False`` (the caller's ``progress=False``) silences it too. A silent bar
    still iterates and accepts ``update``, ``set_postfix_str`` and ``close``.

    Examples
    --------
    >>> bar = progress(total=3, desc="loading", unit="file", enabled=False)
    >>> bar.update(3); bar.close()
    >>> list(progress(range(2), desc="x", unit="item", enabled=False))
    [0, 1]
    """
    from tqdm.auto import tqdm

    return tqdm(
        iterable, total=total, desc=desc, unit=unit, disable=not (enabled and interactive())
    )
