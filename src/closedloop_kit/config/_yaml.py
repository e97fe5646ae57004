"""One way to read configuration YAML: a file path or the YAML text itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["load_yaml"]


def load_yaml(source: str | Path, *, what: str = "configuration") -> Any:
    """Parse ``source``, a YAML file or YAML text.

    A :class:`~pathlib.Path`, or a one-line string naming an existing file, is read as a
    file; anything else is parsed as YAML text.

    Parameters
    ----------
    source
        Path of a ``.yaml`` file, or the YAML text.
    what
        What the YAML describes, for error messages (``"taxonomy"``, ``"channel rules"``).

    Raises
    ------
    FileNotFoundError
        ``source`` is a Path that does not exist.
    ValueError
        The text is not valid YAML; the message names the file (if any), line and column.

    Examples
    --------
    >>> load_yaml("stages: [lead, deal]")
    {'stages': ['lead', 'deal']}
    >>> load_yaml("stages: [lead", what="taxonomy")
    Traceback (most recent call last):
    ...
    ValueError: taxonomy YAML (text) is not valid YAML at line 1, column 14: ...
    """
    import yaml

    origin = "text"
    text: str
    if isinstance(source, Path):
        origin, text = str(source), source.read_text(encoding="utf-8")
    elif "\n" not in source and ": " not in source and Path(source).is_file():
        origin, text = source, Path(source).read_text(encoding="utf-8")
    else:
        text = source
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        msg = f"{what} YAML ({origin}) is not valid YAML{where}: {problem}"
        raise ValueError(msg) from None
