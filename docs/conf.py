"""Sphinx configuration: MyST pages, the template notebooks, API pages from docstrings.

Built offline (`make docs`): no intersphinx, no remote assets fetched at build time or
loaded by the pages (MathJax is served from ``_static/mathjax``; `make docs` fails when a
built page names a CDN), notebooks rendered without execution (their executed form is what `make demo` and
`closedloop report` produce).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT / "src"))

import closedloop_kit  # noqa: E402

project = "closedloop_kit"
author = "closedloop_kit developers"
copyright = "closedloop_kit developers"
release = closedloop_kit.__version__
version = release

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    # MathJax 3 shipped in a PyPI package, copied into _static/: no CDN (mathjax_path below)
    "sphinx-mathjax-offline",
    "sphinx.ext.viewcode",
]

# -- MyST / notebooks -----------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist", "attrs_inline"]
myst_heading_anchors = 3
nb_execution_mode = "off"
nb_merge_streams = True
# widget outputs would load require.js and the widget manager from CDNs: never embed them
nb_ipywidgets_js: dict[str, dict[str, str]] = {}
mathjax_path = "mathjax/tex-chtml.js"  # copied in by sphinx-mathjax-offline
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}

# The template notebooks live in ../notebooks (the single source); copy them in so
# Sphinx can render them. The copies are removed when the build finishes.
_NB_DEST = DOCS / "_notebooks"
if _NB_DEST.exists():
    shutil.rmtree(_NB_DEST)
_NB_DEST.mkdir()
for _nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
    shutil.copy2(_nb, _NB_DEST / _nb.name)

# -- API pages ------------------------------------------------------------------------
autodoc_default_options = {"show-inheritance": False}
autodoc_typehints = "description"
autodoc_member_order = "bysource"
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False

# -- Build hygiene --------------------------------------------------------------------
exclude_patterns = [
    "_build",
    "api/generated",
    "Thumbs.db",
    ".DS_Store",
    "**.ipynb_checkpoints",
    "jupyter_execute",
]
templates_path: list[str] = []
suppress_warnings = [
    "myst.header",
    "mystnb.unknown_mime_type",
]
nitpicky = False

# -- HTML -----------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"closedloop_kit {release}"
html_static_path: list[str] = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_end": ["theme-switcher"],
    "footer_start": ["copyright"],
    "footer_end": [],
    "secondary_sidebar_items": ["page-toc"],
}
html_show_sourcelink = False


def _skip_member(app: Any, what: str, name: str, obj: Any, skip: bool, options: Any) -> Any:
    # the nested ``Config`` classes of the Pandera schema models are pandera's, not ours
    if what == "class" and name == "Config":
        return True
    return None


def _remove_notebook_copies(app: Any, exception: Exception | None) -> None:
    # the copies are only needed while Sphinx reads them; keep the work tree clean
    shutil.rmtree(_NB_DEST, ignore_errors=True)


def setup(app: Any) -> None:
    app.connect("build-finished", _remove_notebook_copies)
    app.connect("autodoc-skip-member", _skip_member)
