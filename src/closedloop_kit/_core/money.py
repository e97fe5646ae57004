"""Money: dated currency conversion into the corporate currency (one rule for every layer).

``amount_corporate = amount × rate_to_corporate`` where the rate is the one of the
amount's ``currency`` whose ``valid_from <= date < valid_to`` (``valid_to`` null = open);
an amount already in the corporate currency has rate 1. A foreign amount with no rate
for its date is never converted with a guessed rate: the reason is returned instead.
Loading (:mod:`closedloop_kit.io`) and ROI both convert through :func:`convert_to_corporate`.
"""

from __future__ import annotations

import polars as pl

__all__ = ["convert_to_corporate"]


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
