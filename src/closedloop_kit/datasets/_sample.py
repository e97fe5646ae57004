"""The bundled small company: :func:`load_sample` for doctests and quick starts.

:func:`load_sample` is the sample company's *written exports* read by
:func:`closedloop_kit.load` — the path every user's data takes — not the simulator's
tables handed over directly. The exports are written once per package version into a
cache folder (``$XDG_CACHE_HOME/closedloop_kit``, else ``~/.cache/closedloop_kit``) and
the loaded tables are saved beside them, so later calls (and other processes) open the
saved tables instead of re-reading every export.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from closedloop_kit.datasets._b2b import B2BWorld, make_b2b

if TYPE_CHECKING:
    from closedloop_kit.store import ClosedLoopData

__all__ = ["SAMPLE_CONFIG", "load_sample", "load_sample_world", "sample_exports"]

SAMPLE_CONFIG = {"seed": 7, "accounts": 60, "months": 12, "start": "2025-01-01"}
"""Parameters of the sample world."""


@lru_cache(maxsize=1)
def load_sample_world() -> B2BWorld:
    """The sample company with its truth (60 accounts, 12 months, seed 7; cached).

    Examples
    --------
    >>> world = load_sample_world()
    >>> world.params.accounts, world.params.months
    (60, 12)
    """
    return make_b2b(
        SAMPLE_CONFIG["seed"],  # type: ignore[arg-type]
        accounts=SAMPLE_CONFIG["accounts"],  # type: ignore[arg-type]
        months=SAMPLE_CONFIG["months"],  # type: ignore[arg-type]
        start=SAMPLE_CONFIG["start"],  # type: ignore[arg-type]
    )


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "closedloop_kit"


def _key() -> str:
    """The cache key of the sample (a changed simulator or reader never serves a stale one).

    It hashes the sample's parameters, the package version and the code that simulates,
    writes and reads the exports.
    """
    from closedloop_kit import __version__

    h = hashlib.sha256()
    h.update(json.dumps({"config": SAMPLE_CONFIG, "version": __version__}).encode())
    package = Path(__file__).resolve().parents[1]
    for sub in ("datasets", "io", "schema", "store"):
        for f in sorted((package / sub).rglob("*.py")):
            h.update(f.read_bytes())
    return h.hexdigest()[:12]


def _publish(tmp: Path, final: Path) -> None:
    """Move a finished folder into place; another process may have won the race."""
    try:
        tmp.rename(final)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not final.exists():
            raise


def sample_exports() -> Path:
    """The folder of the sample company's vendor exports (written on first use)."""
    from closedloop_kit.datasets._exports import write_exports

    root = _cache_root()
    final = root / f"sample-{_key()}" / "exports"
    if final.is_dir():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".exports-", dir=final.parent))
    write_exports(load_sample_world(), tmp)
    _publish(tmp, final)
    return final


@lru_cache(maxsize=1)
def _load_cached() -> ClosedLoopData:
    from closedloop_kit.io import load

    exports = sample_exports()
    stored = exports.parent / "loaded"
    if not stored.is_dir():
        data = load(exports, progress=False)
        tmp = Path(tempfile.mkdtemp(prefix=".loaded-", dir=exports.parent))
        data.save(tmp / "store")
        _publish(tmp / "store", stored)
        shutil.rmtree(tmp, ignore_errors=True)
    return load(stored, progress=False).collect()


def load_sample() -> ClosedLoopData:
    """The small sample company, read from its written exports by :func:`closedloop_kit.load`.

    60 accounts over 12 months (seed 7): Salesforce, HubSpot, GA4 and ad-platform exports
    with the dirt real exports have. Cached on disk and in the process (see the module
    docstring); :func:`load_sample_world` has the simulator's truth.

    Examples
    --------
    >>> data = load_sample()
    >>> sorted(data.tables)[:3]
    ['accounts', 'activities', 'campaign_members']
    >>> data.load_report.height > 0 and data.opportunities.height > 0
    True
    """
    return _load_cached()
