"""Dated currency conversion of amounts into the corporate currency.

``amount_corporate = amount × rate_to_corporate`` where the rate is the one of the
amount's ``currency`` whose ``valid_from <= date < valid_to`` (``valid_to`` null = open);
an amount already in the corporate currency has rate 1. A foreign amount with no rate
for its date is rejected with the reason (never converted with a guessed rate).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from closedloop_kit._core.money import convert_to_corporate

if TYPE_CHECKING:
    from closedloop_kit.io._result import LoadResult

__all__ = ["apply_corporate_currency"]

# table -> (amount column, output column, date expression)
MONEY_COLUMNS: dict[str, tuple[str, str, pl.Expr]] = {
    "opportunities": (
        "amount",
        "amount_corporate",
        pl.coalesce(pl.col("close_date"), pl.col("created_at").dt.date()),
    ),
    "spend": ("cost", "cost_corporate", pl.col("date")),
    "opportunity_products": (
        "total_amount",
        "total_amount_corporate",
        pl.coalesce(pl.col("service_date"), pl.col("created_at").dt.date()),
    ),
}
"""Amounts converted by :func:`apply_corporate_currency`."""


def _corporate_from(fx: pl.DataFrame | None) -> str | None:
    if fx is None or fx.height == 0 or "corporate_currency" not in fx.columns:
        return None
    mode = fx["corporate_currency"].drop_nulls().mode()
    return str(mode.sort()[0]) if mode.len() else None


def apply_corporate_currency(
    result: LoadResult,
    *,
    corporate_currency: str | None = None,
    fx_rates: pl.DataFrame | None = None,
) -> tuple[LoadResult, str]:
    """Fill ``amount_corporate``/``cost_corporate`` of a LoadResult; reject unconvertible rows.

    The corporate currency is ``corporate_currency`` if given, else the one the loaded
    ``fx_rates`` convert to, else USD. Rejected rows leave their table, join
    ``rejected`` and move from ``rows_kept`` to ``rows_rejected`` in the report.
    """
    from closedloop_kit.io._result import LoadResult

    fx = fx_rates if fx_rates is not None else result.tables.get("fx_rates")
    currency = corporate_currency or _corporate_from(fx) or "USD"
    if fx is None:
        fx = pl.DataFrame(
            schema={
                "currency": pl.String,
                "valid_from": pl.Date,
                "valid_to": pl.Date,
                "rate_to_corporate": pl.Float64,
            }
        )
    tables = dict(result.tables)
    rejects = [result.rejected]
    report = result.report
    for name, (amount, out, date) in MONEY_COLUMNS.items():
        frame = tables.get(name)
        if frame is None or frame.height == 0 or amount not in frame.columns:
            continue
        converted, problem = convert_to_corporate(
            frame, fx, amount=amount, out=out, date=date, corporate_currency=currency
        )
        bad = problem.is_not_null()
        if bool(bad.any()):
            gone = converted.filter(bad).with_columns(problem.filter(bad).alias("__reason"))
            raw_cols = [c for c in frame.columns if c not in ("source_file", "source_row")]
            rejects.append(
                gone.select(
                    pl.lit(name).alias("table"),
                    pl.col("__reason").alias("reason"),
                    pl.col("source_system").cast(pl.String),
                    pl.col("source_file").cast(pl.String),
                    pl.col("source_row").cast(pl.Int64),
                    pl.struct([pl.col(c).cast(pl.String) for c in raw_cols])
                    .struct.json_encode()
                    .alias("raw"),
                )
            )
            counts = gone.group_by("source_file").agg(pl.len().cast(pl.Int64).alias("d"))
            report = (
                report.join(
                    counts.with_columns(pl.lit(name).alias("table")),
                    left_on=["path", "table"],
                    right_on=["source_file", "table"],
                    how="left",
                )
                .with_columns(
                    (pl.col("rows_kept") - pl.col("d").fill_null(0)).alias("rows_kept"),
                    (pl.col("rows_rejected") + pl.col("d").fill_null(0)).alias("rows_rejected"),
                )
                .drop("d")
            )
            converted = converted.filter(~bad)
        tables[name] = converted
    return (
        LoadResult(tables=tables, rejected=pl.concat(rejects), report=report),
        currency,
    )
