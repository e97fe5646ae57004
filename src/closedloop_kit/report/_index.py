"""The index of rendered reports: what ``closedloop serve`` and ``closedloop review`` list."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

__all__ = ["ReportsIndex", "list_reports", "reports_index"]

_TITLE = re.compile(r"<title>(.*?)</title>", re.DOTALL)
_SCHEMA = {
    "name": pl.String,
    "title": pl.String,
    "template": pl.String,
    "parameters": pl.String,
    "finished_at": pl.String,
    "html": pl.String,
}


def list_reports(folder: str | Path) -> pl.DataFrame:
    """One row per report in ``folder`` (and its sub-folders), newest first.

    A report is an ``<name>.html`` beside its ``<name>.manifest.json``. Columns: ``name``,
    ``title``, ``template``, ``parameters`` (``key=value, …``), ``finished_at`` (ISO),
    ``html`` (path relative to ``folder``).
    """
    root = Path(folder)
    rows = []
    for manifest_path in sorted(root.rglob("*.manifest.json")):
        page = manifest_path.with_name(manifest_path.name.removesuffix(".manifest.json") + ".html")
        if not page.is_file():
            continue
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        head = page.read_text(encoding="utf-8", errors="replace")[:4000]
        found = _TITLE.search(head)
        params = manifest.get("parameters", {})
        rows.append(
            {
                "name": manifest.get("name", page.stem),
                "title": html.unescape(found.group(1).strip()) if found else page.stem,
                "template": manifest.get("template", ""),
                "parameters": ", ".join(
                    f"{k}={v}" for k, v in sorted(params.items()) if k != "include_pii"
                ),
                "finished_at": manifest.get("finished_at", ""),
                "html": page.relative_to(root).as_posix(),
            }
        )
    frame = pl.DataFrame(rows, schema=_SCHEMA)
    return frame.sort("finished_at", descending=True)


@dataclass(frozen=True)
class ReportsIndex:
    """The HTML list of reports (``.html``; notebooks and Voilà display it)."""

    html: str
    table: pl.DataFrame

    def _repr_html_(self) -> str:
        return self.html


def reports_index(
    folder: str | Path | None, *, link_prefix: str = "", links: bool = True
) -> ReportsIndex:
    """An HTML index of the reports in ``folder`` (links are ``link_prefix`` + file path).

    Review indexes written by ``closedloop review`` (``index.html`` in a folder) are
    listed first. ``links=False`` lists the reports without links (the server does that
    when it cannot serve the files, on a non-loopback address).
    """
    if folder is None or not Path(folder).is_dir():
        text = "<p><i>No reports folder: render reports with <code>closedloop report</code> "
        text += "or <code>closedloop review</code>, then serve with <code>--reports</code>.</i></p>"
        return ReportsIndex(html=text, table=pl.DataFrame(schema=_SCHEMA))
    root = Path(folder)
    frame = list_reports(root)
    items = []
    for review in sorted(root.rglob("index.html")):
        rel = review.relative_to(root).as_posix()
        label = f"Review index: {review.parent.name if review.parent != root else root.name}"
        items.append(_item(label, rel, "", link_prefix, links))
    for row in frame.iter_rows(named=True):
        detail = f"{row['template']} · {row['parameters'] or 'default parameters'}"
        detail += f" · {row['finished_at'].replace('T', ' ')[:16]}"
        items.append(_item(row["title"], row["html"], detail, link_prefix, links))
    if not items:
        body = "<p><i>No rendered reports yet.</i></p>"
    else:
        body = f'<ul class="clk-reports">{"".join(items)}</ul>'
    note = "" if links else "<p><i>Report files are served on 127.0.0.1 only.</i></p>"
    return ReportsIndex(html=f"<div>{body}{note}</div>", table=frame)


def _item(label: str, rel: str, detail: str, prefix: str, links: bool) -> str:
    text = html.escape(label)
    shown = f'<a href="{html.escape(prefix + rel)}" target="_blank">{text}</a>' if links else text
    small = f" <small>{html.escape(detail)}</small>" if detail else ""
    return f"<li>{shown}{small}</li>"
