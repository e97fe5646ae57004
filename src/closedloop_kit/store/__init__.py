"""The target datastore: ``ClosedLoopData`` and a versioned store of Delta Lake tables.

One Delta table per canonical table plus a store-level commit log (``_store/``): every
:func:`save` is one atomic store version across all tables; :func:`open_store` reads any
kept version (``version=``, ``as_of=``); :func:`changes` compares two versions;
:func:`vacuum` removes old versions. See docs/store.md.
"""

from closedloop_kit.store._changes import ChangesResult, changes
from closedloop_kit.store._data import ClosedLoopData
from closedloop_kit.store._log import SCHEMA_VERSION, STORE_FORMAT
from closedloop_kit.store._open import history, open_store, read_manifest, store_ref, version_files
from closedloop_kit.store._save import SaveMode, save
from closedloop_kit.store._vacuum import VacuumResult, compact, vacuum

__all__ = [
    "SCHEMA_VERSION",
    "STORE_FORMAT",
    "ChangesResult",
    "ClosedLoopData",
    "SaveMode",
    "VacuumResult",
    "changes",
    "compact",
    "history",
    "open_store",
    "read_manifest",
    "save",
    "store_ref",
    "vacuum",
    "version_files",
]
