"""Save a chart to PNG, SVG or offline HTML with vl-convert (no browser, no network)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["save"]

_FORMATS = ("png", "svg", "html")


def save(chart: Any, path: str | Path, *, scale: float = 2.0) -> Path:
    """Write ``chart`` to ``path``; the format comes from the suffix (.png, .svg, .html).

    HTML files are self-contained: the Vega JavaScript is inlined, so they render offline.

    Examples
    --------
    >>> import tempfile, pathlib, polars as pl
    >>> import closedloop_kit as clk
    >>> frame = pl.DataFrame({"channel": ["Email", "Paid Search"], "share": [0.4, 0.6]})
    >>> chart = clk.viz.attribution_chart(frame)
    >>> out = clk.viz.save(chart, pathlib.Path(tempfile.mkdtemp()) / "c.svg")
    >>> out.read_text().startswith("<svg")
    True
    """
    import vl_convert as vlc

    p = Path(path)
    fmt = p.suffix.lower().lstrip(".")
    if fmt not in _FORMATS:
        msg = f"`path` must end in one of {_FORMATS!r}, got {p.suffix!r}"
        raise ValueError(msg)
    spec = chart.to_dict() if hasattr(chart, "to_dict") else dict(chart)
    vl_version = _vl_version(spec)
    p.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "png":
        p.write_bytes(vlc.vegalite_to_png(spec, vl_version=vl_version, scale=scale))
    elif fmt == "svg":
        p.write_text(vlc.vegalite_to_svg(spec, vl_version=vl_version), encoding="utf-8")
    else:
        html = vlc.vegalite_to_html(spec, vl_version=vl_version, bundle=True)
        p.write_text(html, encoding="utf-8")
    return p


def _vl_version(spec: dict[str, Any]) -> str | None:
    import re

    import vl_convert as vlc

    m = re.search(r"/v(\d+)\.(\d+)", str(spec.get("$schema", "")))
    if m is None:
        return None
    wanted = f"{m.group(1)}.{m.group(2)}"
    known = list(vlc.get_vegalite_versions())
    if wanted in known:
        return wanted
    same_major = [v for v in known if v.split(".")[0] == m.group(1)]
    return same_major[-1] if same_major else None
