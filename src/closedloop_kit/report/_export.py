"""Executed notebook → one self-contained offline HTML file.

Altair's HTML output loads Vega from a CDN and renders blank offline. Here every chart
output (the Vega-Lite mimetype, or altair's HTML with its embedded spec) is replaced by a
``<div>`` plus its spec as JSON, and the page carries one inlined copy of the Vega,
Vega-Lite and vega-embed JavaScript from ``vl_convert.javascript_bundle()`` and one small
script that embeds every chart as SVG. No ``<script src=...>`` remains.
"""

from __future__ import annotations

import functools
import html
import json
import re
from typing import Any

__all__ = ["chart_specs", "offline_html", "redact_emails", "report_tables"]

_VL_MIME = re.compile(r"application/vnd\.vegalite\.v\d+\+json")
_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_TABLE = re.compile(r"<table.*?</table>", re.DOTALL)
REDACTED = "[email hidden]"

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
color:#1f2328;max-width:1100px;margin:2rem auto;padding:0 1rem;line-height:1.5}
h1,h2,h3{line-height:1.25}h1{border-bottom:2px solid #0072B2;padding-bottom:.3rem}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0 1rem}
th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:right}
th{background:#f6f8fa}td:first-child,th:first-child{text-align:left}
pre{background:#f6f8fa;padding:.5rem;overflow-x:auto;font-size:.8rem}
.clk-chart{margin:1rem 0}.anchor-link{display:none}
.jp-InputPrompt,.jp-OutputPrompt,.prompt{display:none}
footer{margin-top:3rem;font-size:.8rem;color:#57606a;border-top:1px solid #d0d7de}
"""

_EMBED_JS = """
(function () {
  var charts = document.querySelectorAll("div.clk-chart");
  charts.forEach(function (el) {
    var spec = JSON.parse(document.getElementById(el.id + "-spec").textContent);
    vegaEmbed(el, spec, {actions: false, renderer: "svg"}).catch(function (err) {
      el.textContent = "chart failed to render: " + err;
    });
  });
})();
"""


@functools.lru_cache(maxsize=1)
def _vega_bundle() -> str:
    import vl_convert as vlc

    # "</script" cannot appear inside an inline script element
    bundle = str(vlc.javascript_bundle())  # type: ignore[call-arg]
    return bundle.replace("</script", "<\\/script")


def _spec_from_html(text: str) -> dict[str, Any] | None:
    """The Vega-Lite spec inside altair's HTML renderer output, if it is one."""
    if "vegaEmbed" not in text or "altair-viz" not in text:
        return None
    start = text.rfind("})(")
    if start < 0:
        return None
    try:
        spec, _ = json.JSONDecoder().raw_decode(text, start + 3)
    except json.JSONDecodeError:
        return None
    return spec if isinstance(spec, dict) else None


def chart_specs(nb: Any) -> list[dict[str, Any]]:
    """Vega-Lite specs of the chart outputs of a notebook, in order."""
    specs: list[dict[str, Any]] = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            spec = _output_spec(out)
            if spec is not None:
                specs.append(spec)
    return specs


def _output_spec(out: Any) -> dict[str, Any] | None:
    data = out.get("data", {})
    for key, value in data.items():
        if _VL_MIME.fullmatch(key):
            return dict(value) if isinstance(value, dict) else dict(json.loads(value))
    if "text/html" in data:
        return _spec_from_html(str(data["text/html"]))
    return None


def _chart_html(index: int, spec: dict[str, Any]) -> str:
    spec_json = json.dumps(spec, sort_keys=True).replace("</", "<\\/")
    return (
        f'<div class="clk-chart" id="clk-chart-{index}" role="img" '
        f'aria-label="{html.escape(_title(spec))}"></div>'
        f'<script type="application/json" id="clk-chart-{index}-spec">{spec_json}</script>'
    )


def _title(spec: dict[str, Any]) -> str:
    title = spec.get("title", "chart")
    if isinstance(title, dict):
        title = title.get("text", "chart")
    if isinstance(title, list):
        title = " ".join(str(t) for t in title)
    return str(title)


def redact_emails(text: str) -> str:
    """Replace every e-mail address in ``text`` by a marker.

    Examples
    --------
    >>> from closedloop_kit.report import redact_emails
    >>> redact_emails("owner: ana.lee+x@acme.example.com (won)")
    'owner: [email hidden] (won)'
    """
    return _EMAIL.sub(REDACTED, text)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact_emails(value)
    if isinstance(value, list):
        return [_redact_value(v) for v in value]
    return value


def prepare_outputs(nb: Any, *, include_pii: bool) -> int:
    """Rewrite chart outputs to offline placeholders (and hide e-mails); returns the count.

    Works in place on an executed notebook (``nbformat.NotebookNode``).
    """
    n = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                continue  # warnings and progress bars are not part of a report
            spec = _output_spec(out)
            if spec is not None:
                out["data"] = {"text/html": _chart_html(n, spec)}
                n += 1
            elif not include_pii:
                if "text" in out:
                    out["text"] = _redact_value(out["text"])
                for key in list(out.get("data", {})):
                    if key.startswith("text/"):
                        out["data"][key] = _redact_value(out["data"][key])
            kept.append(out)
        cell["outputs"] = kept
    return n


def offline_html(nb: Any, *, title: str, manifest_tag: str, show_input: bool = False) -> str:
    """One self-contained HTML page from a notebook prepared by :func:`prepare_outputs`."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="basic")
    exporter.exclude_input = not show_input
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(nb)
    footer = "<footer><p>Generated by closedloop_kit. Manifest: see the JSON script tag "
    footer += "<code>closedloop-manifest</code> in this file.</p></footer>"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n"
        f"<script>{_vega_bundle()}</script>\n{manifest_tag}\n</head>\n<body>\n<main>\n"
        f"{body}\n</main>\n{footer}\n<script>{_EMBED_JS}</script>\n</body>\n</html>\n"
    )


def report_tables(text: str) -> list[str]:
    """The ``<table>`` elements of a report's HTML, in order (what ``rerun`` compares)."""
    return _TABLE.findall(text)
