"""Report tables: :func:`table` formats a frame or a result for people.

It is the one table formatter of the toolkit (:func:`closedloop_kit._core.display.format_table`,
also behind every result's ``_repr_html_``) plus what only the present layer knows: the
names of campaigns and accounts in a :class:`~closedloop_kit.ClosedLoopData`, and its
corporate currency.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

from closedloop_kit._core.display import format_table

if TYPE_CHECKING:
    from closedloop_kit.store import ClosedLoopData

__all__ = ["conversion_names", "id_names", "table"]

# columns holding ids of a table that has a `name`: table, id column, columns to rename
_NAMED_IDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("campaigns", "campaign_id", ("campaign", "campaign_id", "parent_campaign_id")),
    ("accounts", "account_id", ("account", "account_id", "parent_account_id")),
)


def id_names(data: ClosedLoopData) -> dict[str, dict[str, str]]:
    """``column -> {id: name}`` for every id column that has a name in ``data``.

    Campaign ids (``campaign``, ``campaign_id``) map to the campaign's ``name``, account
    ids to the account's ``name``. Ids without a name are left out (they stay ids).
    """
    out: dict[str, dict[str, str]] = {}
    for table_name, key, columns in _NAMED_IDS:
        frame = data.lazy(table_name)
        if not {key, "name"} <= set(frame.collect_schema().names()):
            continue
        pairs = (
            frame.select(key, "name")
            .filter(pl.col(key).is_not_null() & pl.col("name").is_not_null())
            .unique(subset=key, keep="first", maintain_order=True)
            .collect()
        )
        mapping = dict(zip(pairs[key].to_list(), pairs["name"].to_list(), strict=True))
        for column in columns:
            out[column] = mapping
    return out


_KIND_LABELS: Mapping[str, str] = {
    "stage_to_stage": "Stage to next stage",
    "overall": "From the first stage",
}


def conversion_names(labels: Mapping[str, str] | None = None) -> dict[str, Mapping[str, str]]:
    """``names`` for :func:`table` of a conversion table (``clk.funnel.conversion``).

    The ``kind`` of a rate and the stage ids of ``from_stage`` / ``to_stage`` as people
    read them: ``labels`` (the taxonomy's, e.g. ``prepared.taxonomy.labels``), else
    :func:`closedloop_kit.config.stage_label`'s defaults.

    Examples
    --------
    >>> names = conversion_names({"sales_ready": "SAL"})
    >>> names["kind"]["overall"], names["from_stage"]["raw_lead"], names["to_stage"]["sales_ready"]
    ('From the first stage', 'Raw lead', 'SAL')
    """
    from closedloop_kit.config import STAGE_LABELS, stage_label

    ids = dict.fromkeys([*STAGE_LABELS, *(labels or {})])
    stages = {s: stage_label(s, labels) for s in ids}
    return {"kind": _KIND_LABELS, "from_stage": stages, "to_stage": stages}


def _as_table(obj: Any) -> pl.DataFrame:
    if isinstance(obj, pl.LazyFrame):
        return obj.collect()
    if isinstance(obj, pl.DataFrame):
        return obj
    summary = getattr(obj, "summary", None)
    if callable(summary):
        found = summary()
        if isinstance(found, pl.DataFrame | pl.LazyFrame):
            return _as_table(found)
    value = getattr(obj, "table", None)
    if isinstance(value, pl.DataFrame | pl.LazyFrame):
        return _as_table(value)
    msg = f"`table` needs a polars frame or a result with `.summary()`, got {type(obj).__name__!r}"
    raise TypeError(msg)


def table(
    obj: Any,
    *,
    data: ClosedLoopData | None = None,
    title: str | None = None,
    subtitle: str | None = None,
    source: str | None = None,
    columns: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    names: Mapping[str, Mapping[str, str]] | None = None,
    currency: str | None = None,
    currency_columns: Sequence[str] = (),
    percent_columns: Sequence[str] = (),
    max_rows: int = 100,
) -> Any:
    """A table formatted for people (a great_tables ``GT``; notebooks display it).

    Money reads ``$12,345`` (the currency in the header), rates, shares and ROI read as
    percentages, counts as integers with thousands separators; headers are words with
    units; campaign and account ids are replaced by their names when ``data`` is given,
    attribution model ids in a ``model`` column by the models' names ("First touch",
    "Markov chain"); there is no dtype row and no truncation up to ``max_rows`` rows.

    Parameters
    ----------
    obj
        A polars frame, or a result (its ``.summary()``, else its ``.table``).
    data
        The company's data: names of campaigns and accounts, and the corporate currency.
    title, subtitle, source
        Heading and source note.
    columns
        Columns to show, in order (default: all).
    labels
        Headers chosen by the caller, ``column -> header``.
    names
        Extra ``column -> {id: name}`` mappings (on top of those from ``data``).
    currency
        Currency code of money columns (default: ``data.corporate_currency``, else the
        frame's single ``currency`` value, else USD).
    currency_columns, percent_columns
        Columns forced to read as money or as percentages.
    max_rows
        Rows shown before the table says how many more it has.

    Examples
    --------
    >>> import polars as pl
    >>> import closedloop_kit as clk
    >>> frame = pl.DataFrame({"campaign": ["c1"], "cost": [1200.0], "roi": [0.25]})
    >>> html = clk.viz.table(frame, names={"campaign": {"c1": "Spring webinar"}}).as_raw_html()
    >>> "Spring webinar" in html and "$1,200" in html and "25.0%" in html and "ROI (%)" in html
    True
    """
    frame = _as_table(obj)
    if columns is not None:
        frame = frame.select(list(columns))
    mapping: dict[str, Mapping[str, str]] = {}
    if "model" in frame.columns:
        from closedloop_kit.attribution import MODEL_LABELS

        mapping["model"] = MODEL_LABELS
    if data is not None:
        mapping.update(id_names(data))
        currency = currency or data.corporate_currency
    mapping.update(names or {})
    renamed = {c: c.removesuffix("_id") for c in mapping if c in frame.columns}
    header = {c: renamed[c].replace("_", " ").capitalize() for c in renamed}
    return format_table(
        frame,
        title=title,
        subtitle=subtitle,
        source=source,
        names=mapping,
        labels={**header, **(labels or {})},
        currency=currency,
        currency_columns=currency_columns,
        percent_columns=percent_columns,
        max_rows=max_rows,
    )
