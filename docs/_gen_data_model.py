"""Regenerate the column tables of docs/data-model.md from the Pandera models.

Run ``python docs/_gen_data_model.py``; tests/schema/test_docs.py fails when the page
and the schema disagree.
"""

from __future__ import annotations

import re
from pathlib import Path

from closedloop_kit.schema import TABLES

PAGE = Path(__file__).with_name("data-model.md")
START, END = "<!-- tables:start -->", "<!-- tables:end -->"


def render() -> str:
    out = [START, ""]
    for name, spec in TABLES.items():
        schema = spec.model.to_schema()
        out += [
            f"### `{name}`",
            "",
            f"{spec.model.__doc__.strip().splitlines()[0]} Primary key: "
            + ", ".join(f"`{k}`" for k in spec.key)
            + ".",
            "",
            "| column | dtype | required | meaning |",
            "|---|---|---|---|",
        ]
        for col, dtype in spec.columns.items():
            c = schema.columns[col]
            required = "yes" if not c.nullable else ""
            out.append(f"| `{col}` | {dtype} | {required} | {c.description} |")
        out.append("")
    out.append(END)
    return "\n".join(out)


def main() -> None:
    text = PAGE.read_text(encoding="utf-8")
    new = re.sub(re.escape(START) + ".*?" + re.escape(END), render(), text, flags=re.S)
    PAGE.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    main()
