"""The manifest embedded in every report: what is needed to reproduce it."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path
from typing import Any

__all__ = [
    "MANIFEST_ID",
    "build_manifest",
    "file_sha256",
    "hash_inputs",
    "manifest_script",
    "read_manifest",
]

MANIFEST_ID = "closedloop-manifest"
"""``id`` of the ``<script type="application/json">`` tag holding the manifest."""

_SCRIPT_RE = re.compile(
    r'<script type="application/json" id="' + MANIFEST_ID + r'">(.*?)</script>', re.DOTALL
)


def file_sha256(path: Path) -> str:
    """SHA-256 hex digest of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def hash_inputs(data: Path, *, store_version: int | None = None) -> dict[str, str]:
    """SHA-256 of every file under ``data`` (or of ``data`` itself), by relative path.

    For a store read at ``store_version``: the files that version reads (its record and
    Delta data files), which later saves never change.
    """
    if store_version is not None:
        from closedloop_kit.store import version_files

        files = version_files(data, store_version)
        return {p.relative_to(data).as_posix(): file_sha256(p) for p in files}
    if data.is_file():
        return {data.name: file_sha256(data)}
    if not data.is_dir():
        return {}
    files = sorted(p for p in data.rglob("*") if p.is_file() and not p.name.startswith("."))
    return {p.relative_to(data).as_posix(): file_sha256(p) for p in files}


def build_manifest(
    *,
    template: Path,
    data: Path | None,
    params: dict[str, Any],
    started: dt.datetime,
    finished: dt.datetime,
    name: str,
    store_version: int | None = None,
) -> dict[str, Any]:
    """The manifest of one report run (JSON-serialisable).

    ``store_version`` is the version of the store ``data`` that the run read (``None``
    when ``data`` is not a versioned store).
    """
    from closedloop_kit._versions import versions

    return {
        "kind": "closedloop_kit report",
        "name": name,
        "template": template.stem,
        "template_path": str(template),
        "template_sha256": file_sha256(template),
        "parameters": params,
        "data": None if data is None else str(data),
        "store_version": store_version,
        "inputs": {} if data is None else hash_inputs(data, store_version=store_version),
        "versions": versions(),
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": finished.isoformat(timespec="seconds"),
        "run_seconds": round((finished - started).total_seconds(), 3),
    }


def manifest_script(manifest: dict[str, Any]) -> str:
    """The manifest as a ``<script type="application/json">`` tag (safe inside HTML)."""
    text = json.dumps(manifest, indent=1, sort_keys=True, default=str)
    text = text.replace("</", "<\\/")  # never close the script tag early
    return f'<script type="application/json" id="{MANIFEST_ID}">{text}</script>'


def read_manifest(path: str | Path) -> dict[str, Any]:
    """Read the manifest of a report from its HTML file, its notebook or a manifest JSON.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from closedloop_kit.report import read_manifest
    >>> from closedloop_kit.report._manifest import manifest_script
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "r.html"
    >>> _ = p.write_text("<html>" + manifest_script({"template": "t"}) + "</html>")
    >>> read_manifest(p)["template"]
    't'
    """
    p = Path(path)
    text = p.read_text(encoding="utf-8")
    if p.suffix == ".ipynb":
        meta = json.loads(text).get("metadata", {}).get("closedloop_kit", {})
        if "manifest" in meta:
            return dict(meta["manifest"])
        msg = f"notebook {str(p)!r} has no closedloop_kit manifest in its metadata"
        raise ValueError(msg)
    if p.suffix in {".html", ".htm"}:
        m = _SCRIPT_RE.search(text)
        if m is None:
            msg = f"report {str(p)!r} has no embedded manifest (script id {MANIFEST_ID!r})"
            raise ValueError(msg)
        return dict(json.loads(m.group(1)))
    return dict(json.loads(text))
