"""The store's commit log: one JSON record per store version, created atomically.

A store version maps every table to one Delta table version. ``save`` writes its Delta
commits first and then creates ``_store/versions/<N>.json`` in one step (written to a
temporary file, flushed, then hard-linked to its final name, which fails if the name
exists). A reader takes the highest complete record, so a save that stopped half-way
(killed, disk full, Ctrl-C) is invisible: its Delta commits are newer than any record
and the next writer rolls them back.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import uuid
from pathlib import Path
from typing import Any

from closedloop_kit.errors import SourceFormatError

__all__ = [
    "LOG_DIR",
    "MANIFEST",
    "SCHEMA_VERSION",
    "STORE_FORMAT",
    "as_of_cutoff",
    "is_store",
    "list_versions",
    "read_record",
    "resolve",
    "write_record",
]

SCHEMA_VERSION = 1
"""Version of the canonical data model written into every manifest."""

STORE_FORMAT = 2
"""Layout of the store: 1 = Parquet files + manifest.json, 2 = Delta tables + commit log."""

LOG_DIR = "_store"
MANIFEST = "manifest.json"
_RECORD = re.compile(r"^(\d{20})\.json$")


def _versions_dir(root: Path) -> Path:
    return root / LOG_DIR / "versions"


def is_store(root: Path) -> bool:
    """Whether ``root`` holds a versioned (Delta) store."""
    return _versions_dir(root).is_dir()


def list_versions(root: Path) -> list[int]:
    """Store versions whose record is complete, oldest first."""
    folder = _versions_dir(root)
    if not folder.is_dir():
        return []
    found = (_RECORD.match(p.name) for p in folder.iterdir())
    return sorted(int(m.group(1)) for m in found if m)


def _record_path(root: Path, version: int) -> Path:
    return _versions_dir(root) / f"{version:020d}.json"


def read_record(root: Path, version: int) -> dict[str, Any]:
    """The record of store version ``version``."""
    path = _record_path(root, version)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        kept = list_versions(root)
        if kept and version < kept[0]:
            why = f"it was removed by `vacuum` (oldest version kept: {kept[0]})"
        else:
            why = f"versions are {kept[0]}..{kept[-1]}" if kept else "the store has no versions"
        msg = f"store {root} has no version {version}: {why}"
        raise ValueError(msg) from None
    except json.JSONDecodeError as exc:
        msg = f"{path}: line {exc.lineno}: not valid JSON ({exc.msg})"
        raise SourceFormatError(msg, path=str(path), line=exc.lineno) from None
    version_found = record.get("schema_version")
    if isinstance(version_found, int) and version_found > SCHEMA_VERSION:
        msg = (
            f"{path}: store written with schema version {version_found}, newer than this "
            f"closedloop_kit understands ({SCHEMA_VERSION}); upgrade the package"
        )
        raise SourceFormatError(msg, path=str(path))
    return dict(record)


def as_of_cutoff(as_of: str | dt.date | dt.datetime) -> dt.datetime:
    """The instant ``as_of`` means: a date is the end of that day, a naive time is UTC.

    Examples
    --------
    >>> as_of_cutoff("2026-03-31").isoformat()
    '2026-04-01T00:00:00+00:00'
    >>> as_of_cutoff("2026-03-31T12:00").isoformat()
    '2026-03-31T12:00:00.000001+00:00'
    """
    if isinstance(as_of, str):
        text = as_of.strip()
        try:
            value: dt.date | dt.datetime = (
                dt.date.fromisoformat(text) if len(text) == 10 else dt.datetime.fromisoformat(text)
            )
        except ValueError:
            msg = f"`as_of` must be an ISO date or date-time such as '2026-03-31', got {as_of!r}"
            raise ValueError(msg) from None
    else:
        value = as_of
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC) + dt.timedelta(microseconds=1)
    return dt.datetime.combine(value + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


def resolve(
    root: Path, *, version: int | None = None, as_of: str | dt.date | dt.datetime | None = None
) -> dict[str, Any]:
    """The record of the store version to read.

    That is ``version``, else the last version saved before ``as_of``, else the latest.
    """
    if version is not None and as_of is not None:
        msg = "pass `version` or `as_of`, not both"
        raise ValueError(msg)
    kept = list_versions(root)
    if not kept:
        msg = f"{root} is not a closedloop_kit store: it has no store versions"
        raise SourceFormatError(msg, path=str(root))
    if version is not None:
        return read_record(root, int(version))
    if as_of is None:
        return read_record(root, kept[-1])
    cutoff = as_of_cutoff(as_of)
    chosen = None
    for v in kept:
        record = read_record(root, v)
        if dt.datetime.fromisoformat(record["created_at"]) < cutoff:
            chosen = record
        else:
            break
    if chosen is None:
        first = read_record(root, kept[0])["created_at"]
        msg = f"store {root} has no version saved by {as_of!s} (the oldest kept is from {first})"
        raise ValueError(msg)
    return chosen


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a folder be opened
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_durable(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def write_record(root: Path, record: dict[str, Any]) -> Path:
    """Create the record of ``record['store_version']`` atomically; refresh manifest.json.

    The record is complete the moment its name appears (hard link of a flushed temporary
    file; the link fails if another writer created the same version). ``manifest.json``
    is then replaced (``os.replace``) by a copy, for people and tools browsing the folder.
    """
    folder = _versions_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(record, indent=2, sort_keys=False, default=str) + "\n"
    tmp = folder / f".tmp-{uuid.uuid4().hex}"
    final = _record_path(root, int(record["store_version"]))
    _write_durable(tmp, text)
    try:
        os.link(tmp, final)
    except FileExistsError:
        msg = f"store {root}: version {record['store_version']} was written by another writer"
        raise RuntimeError(msg) from None
    except OSError:  # no hard links here (some network shares): the writer lock guards
        if final.exists():
            msg = f"store {root}: version {record['store_version']} was written by another writer"
            raise RuntimeError(msg) from None
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(folder)
    manifest_tmp = root / f".{MANIFEST}.{uuid.uuid4().hex}"
    _write_durable(manifest_tmp, text)
    os.replace(manifest_tmp, root / MANIFEST)
    return final
