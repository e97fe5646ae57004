"""Dated currency conversion of amounts into the corporate currency.

``amount_corporate = amount × rate_to_corporate`` where the rate is the one of the
amount's ``currency`` whose ``valid_from <= date < valid_to`` (``valid_to`` null = open);
an amount already in the corporate currency has rate 1. A foreign amount with no rate
for its date is rejected with the reason (never converted with a guessed rate).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from closedloop_kit.io._result import LoadResult

__all__ = ["apply_corporate_currency", "convert_to_corporate"]

# table -> (amount column, output column, date expression)
MONEY_COLUMNS: dict[str, tuple[str, str, pl.Expr]] = {
    "opportunities": (
        "amount",
        "amount_corporate",
        pl.coalesce(pl.col("close_date"), pl.col("created_at").dt.date()),
    ),
    "spend": ("cost", "cost_corporate", pl.col("date")),
}
"""Amounts converted by :func:`apply_corporate_currency`."""


def convert_to_corporate(
    frame: pl.DataFrame,
    fx_rates: pl.DataFrame,
    *,
    amount: str,
    out: str,
    date: pl.Expr,
    corporate_currency: str,
    currency: str = "currency",
) -> tuple[pl.DataFrame, pl.Series]:
    """Convert ``amount`` to ``corporate_currency`` at the rate valid on ``date``.

    Returns the frame with ``out`` filled and, per row, why no rate was found (null
    when converted, or when the amount is empty).

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> fx = pl.DataFrame({"currency": ["EUR", "EUR"],
    ...     "valid_from": [dt.date(2026, 1, 1), dt.date(2026, 2, 1)],
    ...     "valid_to": [dt.date(2026, 2, 1), None], "rate_to_corporate": [1.1, 1.2]})
    >>> opp = pl.DataFrame({"amount": [100.0, 100.0, 50.0, 10.0],
    ...     "currency": ["EUR", "EUR", "USD", "EUR"],
    ...     "d": [dt.date(2026, 1, 15), dt.date(2026, 3, 1), dt.date(2026, 1, 1),
    ...           dt.date(2025, 12, 1)]})
    >>> out, problem = convert_to_corporate(opp, fx, amount="amount", out="usd",
    ...     date=pl.col("d"), corporate_currency="USD")
    >>> out["usd"].to_list()
    [110.00000000000001, 120.0, 50.0, None]
    >>> problem.to_list()[3]
    'no fx rate EUR→USD on 2025-12-01'
    """
    idx = "__fx_row"
    left = frame.with_row_index(idx).with_columns(
        date.cast(pl.Date).alias("__fx_date"), pl.col(currency).alias("__fx_ccy")
    )
    rates = fx_rates
    if "corporate_currency" in rates.columns:
        rates = rates.filter(
            pl.col("corporate_currency").is_null()
            | (pl.col("corporate_currency") == corporate_currency)
        )
    if "valid_to" not in rates.columns:
        rates = rates.with_columns(pl.lit(None, dtype=pl.Date).alias("valid_to"))
    rates = (
        rates.select(
            pl.col("currency").alias("__fx_ccy"),
            pl.col("valid_from").cast(pl.Date).alias("__fx_date"),
            pl.col("valid_to").cast(pl.Date).alias("__fx_to"),
            pl.col("rate_to_corporate").cast(pl.Float64).alias("__fx_rate"),
        )
        .drop_nulls(["__fx_ccy", "__fx_date"])
        .sort("__fx_ccy", "__fx_date")
    )
    has_date = left.filter(pl.col("__fx_date").is_not_null() & pl.col("__fx_ccy").is_not_null())
    joined = has_date.sort("__fx_ccy", "__fx_date").join_asof(
        rates, on="__fx_date", by="__fx_ccy", strategy="backward", check_sortedness=False
    )
    joined = joined.select(
        idx,
        pl.when(pl.col("__fx_to").is_null() | (pl.col("__fx_date") < pl.col("__fx_to")))
        .then(pl.col("__fx_rate"))
        .otherwise(None)
        .alias("__fx_rate"),
    )
    merged = left.join(joined, on=idx, how="left").sort(idx)
    rate = (
        pl.when(pl.col(currency) == corporate_currency)
        .then(pl.lit(1.0))
        .otherwise(pl.col("__fx_rate"))
    )
    merged = merged.with_columns((pl.col(amount) * rate).alias(out))
    problem = merged.select(
        pl.when(pl.col(amount).is_not_null() & pl.col(out).is_null())
        .then(
            pl.when(pl.col(currency).is_null())
            .then(pl.lit(f"`{amount}` has no currency to convert to {corporate_currency}"))
            .when(pl.col("__fx_date").is_null())
            .then(pl.lit(f"`{amount}` has no date to pick a {corporate_currency} rate"))
            .otherwise(
                pl.format(
                    f"no fx rate {{}}→{corporate_currency} on {{}}",
                    pl.col(currency),
                    pl.col("__fx_date"),
                )
            )
        )
        .otherwise(pl.lit(None, dtype=pl.String))
        .alias("problem")
    ).to_series()
    return merged.drop(idx, "__fx_date", "__fx_ccy", "__fx_rate"), problem


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
