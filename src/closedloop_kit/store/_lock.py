"""One writer at a time: an exclusive lock file naming the process that holds it.

``_store/writer.lock`` is created with ``O_CREAT | O_EXCL`` (atomic on local and network
file systems) and holds the writer's pid, host and start time as JSON. A second writer
polls until the lock is free or ``timeout`` runs out, then raises
:class:`~closedloop_kit.errors.StoreLockedError` naming the holder. A lock whose holder
is a dead process on this host is stale and is removed; a short-lived guard file
(``writer.lock.break``, also ``O_EXCL``) makes sure only one waiter removes it, so a
fresh lock taken meanwhile is never removed by mistake.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from closedloop_kit.errors import StoreLockedError

__all__ = ["LOCK_NAME", "writer_lock"]

LOCK_NAME = "writer.lock"
_POLL_SECONDS = 0.1
_GUARD_STALE_SECONDS = 30.0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _read(path: Path) -> dict[str, Any] | None:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}  # being written right now, or garbage: judged by its age below
    return info if isinstance(info, dict) else {}


def _is_stale(path: Path, info: dict[str, Any]) -> bool:
    if info.get("host") == socket.gethostname() and isinstance(info.get("pid"), int):
        return not _pid_alive(int(info["pid"]))
    if not info:  # unreadable for longer than a write takes
        with contextlib.suppress(FileNotFoundError):
            return time.time() - path.stat().st_mtime > _GUARD_STALE_SECONDS
    return False


def _create(path: Path, info: dict[str, Any]) -> bool:
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(info, fh)
        fh.flush()
        os.fsync(fh.fileno())
    return True


def _break_stale(path: Path, seen: dict[str, Any]) -> None:
    guard = path.with_name(path.name + ".break")
    if not _create(guard, {"pid": os.getpid(), "host": socket.gethostname()}):
        with contextlib.suppress(FileNotFoundError):
            if time.time() - guard.stat().st_mtime > _GUARD_STALE_SECONDS:
                guard.unlink()
        return
    try:
        if _read(path) == seen:  # nobody replaced it: only a guard holder may remove it
            path.unlink(missing_ok=True)
    finally:
        guard.unlink(missing_ok=True)


def _holder(info: dict[str, Any] | None) -> str:
    if not info:
        return "another process"
    return (
        f"pid {info.get('pid')} on host {info.get('host')!r} "
        f"(since {info.get('since')}, {info.get('purpose', 'save')})"
    )


@contextlib.contextmanager
def writer_lock(folder: Path, *, timeout: float, purpose: str = "save") -> Iterator[None]:
    """Hold the store's writer lock in ``folder`` for the ``with`` block.

    Parameters
    ----------
    folder
        The store's ``_store`` folder (created if absent).
    timeout
        Seconds to wait for another writer; ``0`` fails at once.
    purpose
        Written into the lock so a waiting writer can say what it waits for.

    Raises
    ------
    StoreLockedError
        Another live writer held the lock for longer than ``timeout``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    me = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "purpose": purpose,
        "token": uuid.uuid4().hex,
    }
    deadline = time.monotonic() + max(timeout, 0.0)
    while not _create(path, me):
        info = _read(path)
        if info is not None and _is_stale(path, info):
            _break_stale(path, info)
            continue
        if time.monotonic() >= deadline:
            msg = (
                f"store {folder.parent} is being written by {_holder(info)}; waited "
                f"{timeout:g} s. Try again later or pass a longer `timeout`; if that "
                f"process is gone (another host), delete {path}"
            )
            raise StoreLockedError(msg, path=str(path), holder=info or {})
        time.sleep(_POLL_SECONDS)
    try:
        yield
    finally:
        if (_read(path) or {}).get("token") == me["token"]:
            path.unlink(missing_ok=True)
