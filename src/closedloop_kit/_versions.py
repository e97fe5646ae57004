"""``show_versions``: what an analyst pastes into a bug report or a report footer."""

from __future__ import annotations

import platform
import sys
from importlib import metadata

__all__ = ["show_versions", "versions"]

_DEPENDENCIES = (
    "polars",
    "pyarrow",
    "pandera",
    "numpy",
    "scipy",
    "statsmodels",
    "altair",
    "vl-convert-python",
    "ipywidgets",
    "papermill",
    "nbconvert",
    "pyyaml",
    "rapidfuzz",
)


def versions() -> dict[str, str]:
    """Versions of Python, the platform, closedloop_kit and its dependencies.

    Uses package metadata only, so nothing heavy is imported.
    """
    from closedloop_kit._version import __version__

    out = {
        "closedloop_kit": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }
    for dist in _DEPENDENCIES:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def show_versions() -> None:
    """Print the versions of closedloop_kit, Python and every dependency.

    Examples
    --------
    >>> import closedloop_kit as clk
    >>> clk.show_versions()  # doctest: +ELLIPSIS
    --------Version info---------
    closedloop_kit: ...
    """
    print("--------Version info---------")
    for name, version in versions().items():
        print(f"{name + ':':<19} {version}")
