"""Find template notebooks by name.

``notebooks/`` at the top of the repository is the single source of the templates: nothing
is copied into the package. The runner looks in, in order:

1. the folders passed as ``templates=`` (a user's own templates),
2. ``notebooks/`` beside ``src/`` in a source checkout (``pip install -e .``),
3. ``notebooks/`` in the current working directory.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

__all__ = ["find_template", "list_templates", "template_dirs"]

_REPO_NOTEBOOKS = Path(__file__).resolve().parents[3] / "notebooks"


def template_dirs(templates: str | Path | Sequence[str | Path] | None = None) -> list[Path]:
    """The folders searched for template notebooks, in order."""
    extra: list[Path] = []
    if isinstance(templates, str | Path):
        extra = [Path(templates)]
    elif templates is not None:
        extra = [Path(t) for t in templates]
    dirs = [*extra, _REPO_NOTEBOOKS, Path.cwd() / "notebooks"]
    out: list[Path] = []
    for d in dirs:
        d = d.resolve()
        if d.is_dir() and d not in out:
            out.append(d)
    return out


def list_templates(templates: str | Path | Sequence[str | Path] | None = None) -> list[str]:
    """Names of the template notebooks found on the search path.

    Examples
    --------
    >>> from closedloop_kit.report import list_templates
    >>> "campaign_review" in list_templates()
    True
    """
    names: list[str] = []
    for d in template_dirs(templates):
        for nb in sorted(d.glob("*.ipynb")):
            if nb.stem not in names:
                names.append(nb.stem)
    return names


def find_template(
    name: str | Path, templates: str | Path | Sequence[str | Path] | None = None
) -> Path:
    """Path of the template notebook ``name`` (a file path, or a name like ``campaign-review``).

    Raises
    ------
    FileNotFoundError
        When no folder on the search path holds the template; the message lists what exists.
    """
    path = Path(name)
    if path.suffix == ".ipynb" and path.is_file():
        return path.resolve()
    stem = path.stem.replace("-", "_")
    for d in template_dirs(templates):
        candidate = d / f"{stem}.ipynb"
        if candidate.is_file():
            return candidate
    known = ", ".join(repr(n) for n in list_templates(templates)) or "none"
    searched = ", ".join(str(d) for d in template_dirs(templates)) or "no folder found"
    msg = (
        f"`template` {str(name)!r} was not found; templates available: {known} "
        f"(searched: {searched}; pass `templates=` or --templates a folder of your own notebooks)"
    )
    raise FileNotFoundError(msg)
