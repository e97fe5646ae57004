"""Fail when a page of the built site loads anything from another host (`make docs` runs it).

Links to other sites (``<a href="https://…">``) are fine; what a page *loads* is not:
``<script src>``, ``<link href>`` (stylesheets, fonts, preloads), ``<img src>``,
``<iframe src>``, CSS ``url(…)`` and ``@import``, and the known CDN hosts anywhere in a
page or a static file.

Usage: ``python docs/_check_offline.py docs/_build/html``
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

LOADS = re.compile(
    r"<(?:script|img|iframe|source|embed)\b[^>]*\bsrc\s*=\s*[\"']?(?:https?:)?//"
    r"|<link\b[^>]*\bhref\s*=\s*[\"']?(?:https?:)?//"
    r"|url\(\s*[\"']?(?:https?:)?//"
    r"|@import\s+[\"'](?:https?:)?//",
    re.IGNORECASE,
)
CDNS = re.compile(
    r"cdn\.jsdelivr\.net|cdnjs\.cloudflare\.com|unpkg\.com|mathjax\.org|"
    r"fonts\.googleapis\.com|fonts\.gstatic\.com|polyfill\.io",
    re.IGNORECASE,
)


def problems(site: Path) -> list[str]:
    """``file: what`` for every remote load or CDN URL found under ``site``."""
    found: list[str] = []
    for path in sorted(site.rglob("*")):
        if path.suffix not in {".html", ".css", ".js"} or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if "_static/mathjax/" in path.as_posix():
            continue  # MathJax's own sources name its home page in comments
        for pattern in (LOADS, CDNS) if path.suffix == ".html" else (CDNS,):
            m = pattern.search(text)
            if m:
                line = text.count("\n", 0, m.start()) + 1
                found.append(f"{path.relative_to(site)}:{line}: {m.group(0)[:80]!r}")
                break
    return found


def main(argv: list[str]) -> int:
    site = Path(argv[1] if len(argv) > 1 else "docs/_build/html")
    if not site.is_dir():
        print(f"{site} is not a built site: run `make docs` first", file=sys.stderr)
        return 2
    found = problems(site)
    for line in found:
        print(line, file=sys.stderr)
    if found:
        msg = f"{len(found)} file(s) load remote assets: the docs must work offline"
        print(msg, file=sys.stderr)
        return 1
    pages = sum(1 for _ in site.rglob("*.html"))
    print(f"offline check: {pages} pages, no remote loads")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
