"""Doctests write their example files into pytest's temporary folders.

The docstring examples create files with ``tempfile.mkdtemp()`` (as a reader of the docs
would); here that folder is the doctest's own ``tmp_path``, which pytest prunes, so a
test run leaves nothing in the system's temporary directory.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _doctest_tempdir(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if isinstance(request.node, pytest.DoctestItem):
        folder: Path = request.getfixturevalue("tmp_path")
        monkeypatch.setattr(tempfile, "tempdir", str(folder))
