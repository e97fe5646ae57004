"""Per-file facts computed once per load: a memo that lives only inside one ``load()``.

:func:`closedloop_kit.io.load` looks at every file (sniff, detection) and then hands it
to a reader that looks at it again. Within :func:`file_memo` those facts (the
:class:`~closedloop_kit.io._text.FileSniff`, a GA4 file's first line, the record-id
evidence of a sniff) are computed once; outside it, as when a reader is called on its
own, nothing is kept. The memo is scoped to the call (a context variable), so a file
rewritten between two loads is always looked at afresh.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

__all__ = ["file_memo", "memoized"]

T = TypeVar("T")

_MEMO: ContextVar[dict[Hashable, Any] | None] = ContextVar("closedloop_kit_file_memo", default=None)


@contextmanager
def file_memo() -> Iterator[None]:
    """Keep per-file facts for the duration of the block (nested blocks share one memo).

    Examples
    --------
    >>> calls = []
    >>> def compute():
    ...     calls.append(1)
    ...     return 42
    >>> with file_memo():
    ...     memoized(("answer",), compute), memoized(("answer",), compute)
    (42, 42)
    >>> len(calls)
    1
    """
    if _MEMO.get() is not None:
        yield
        return
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def memoized(key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, remembered under ``key`` inside :func:`file_memo` (else not kept)."""
    memo = _MEMO.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]  # type: ignore[no-any-return]
