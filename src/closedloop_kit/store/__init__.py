"""The target datastore: ``ClosedLoopData`` and a folder of Parquet tables + manifest."""

from closedloop_kit.store._data import ClosedLoopData
from closedloop_kit.store._parquet import SCHEMA_VERSION, SaveMode, open_store, read_manifest, save

__all__ = ["SCHEMA_VERSION", "ClosedLoopData", "SaveMode", "open_store", "read_manifest", "save"]
