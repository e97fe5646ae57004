"""Attribution at scale: 1M journeys, exact Markov, rule models, Shapley, logistic, streaming.

Usage: ``python benchmarks/bench_attribution.py [--quick] [--full]``

Data: :func:`closedloop_kit.datasets._worlds.make_attribution_world` (seed 2026, 10
channels, order effects, mean 4.3 touches): 1M journeys, about 200k distinct paths
(``--quick``: 100k journeys). Timed:

- exact Markov order 1 on the aggregated paths (``attribute_paths``), against
  ChannelAttribution's simulated ``markov_model`` when the ``ChannelAttribution`` package
  is importable;
- every rule model on the touch-level journeys (``attribute``), against DP6
  ``marketing_attribution_models`` (``MAM``) when importable;
- coalition Shapley and the default logistic model on the paths;
- a rule model over touches stored as Parquet and scanned lazily, in streaming mode, in a
  child process whose peak RSS is reported: 10M touches by default, 100M with ``--full``
  (1M with ``--quick``).

ChannelAttribution (GPL-3) and DP6's package are never dependencies of closedloop_kit.
To get the reference timings install them in a separate benchmark environment::

    python -m venv .venv-bench && .venv-bench/bin/pip install -e . ChannelAttribution \\
        marketing-attribution-models
    .venv-bench/bin/python benchmarks/bench_attribution.py
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

RULES = ("first_touch", "last_touch", "linear", "time_decay", "position_based")
DP6_METHODS = {
    "first_touch": "run_first_click",
    "last_touch": "run_last_click",
    "linear": "run_linear",
    "time_decay": "run_time_decay",
    "position_based": "run_position_based",
}


def _row(
    name: str,
    seconds: float,
    *,
    reference: str | None = None,
    reference_seconds: float | None = None,
    peak_rss_mb: float | None = None,
    notes: str = "",
) -> dict[str, Any]:
    ratio = seconds / reference_seconds if reference_seconds and seconds else None
    return {
        "benchmark": name,
        "seconds": round(seconds, 4),
        "reference": reference,
        "reference_seconds": None if reference_seconds is None else round(reference_seconds, 4),
        "ratio": None if ratio is None else round(ratio, 2),
        "peak_rss_mb": peak_rss_mb,
        "notes": notes,
    }


def _best(fn: Callable[[], object], repeat: int = 2) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def ca_markov(ca: Any, paths: pl.DataFrame, order: int, seed: int, **extra: Any) -> Any:
    """``ChannelAttribution.markov_model`` on a path table (its defaults but ``extra``)."""
    return ca.markov_model(
        paths.to_pandas(),
        var_path="path",
        var_conv="conversions",
        var_value="value",
        var_null="nulls",
        order=order,
        sep=">",
        seed=seed,
        verbose=False,
        flg_pro=False,
        **extra,
    )


def _channelattribution(
    paths: pl.DataFrame, order: int = 1, seed: int = 0
) -> tuple[str | None, float | None, str, pl.DataFrame | None]:
    """ChannelAttribution's simulated ``markov_model`` (defaults but ``order``, ``seed``)."""
    try:
        import ChannelAttribution as ca  # type: ignore[import-not-found]
    except ImportError:
        return None, None, "ChannelAttribution not installed (GPL; benchmark venv only)", None
    t = time.perf_counter()
    res = ca_markov(ca, paths, order, seed)
    seconds = time.perf_counter() - t
    table = pl.from_pandas(res).select(
        pl.col("channel_name").alias("channel"),
        pl.col("total_conversions").alias("ca_conversions"),
        pl.col("total_conversion_value").alias("ca_value"),
    )
    return "ChannelAttribution markov_model (simulated, defaults)", seconds, "", table


CA_SEEDS = (0, 1000, 2000, 3000, 4000)


def _ca_agreement(ours: pl.DataFrame, runs: list[pl.DataFrame]) -> str:
    """How the exact answer sits in ChannelAttribution's sampling distribution.

    Per channel, over the ``k`` simulated runs: their mean ``m`` and standard deviation
    ``sd``; ``z = (exact − m) / (sd / √k)`` is how many standard errors of CA's mean the
    exact answer lies from it. With ~10 channels, every ``|z|`` below ~3 is what an exact
    answer of the same chain gives; a systematic difference grows ``|z|`` without bound
    as runs are added.
    """
    k = len(runs)
    both = ours.select("channel", "conversions", "value")
    for i, r in enumerate(runs):
        both = both.join(
            r.rename({"ca_conversions": f"c{i}", "ca_value": f"v{i}"}),
            on="channel",
            how="full",
            coalesce=True,
        )
    both = both.fill_null(0.0)
    out = []
    for col, pre in (("conversions", "c"), ("value", "v")):
        cols = [pl.col(f"{pre}{i}") for i in range(k)]
        stats = both.select(
            pl.col(col),
            pl.mean_horizontal(cols).alias("m"),
            pl.concat_list(cols).list.std().alias("sd"),
        )
        total = float(stats[col].sum())
        gap = float((stats[col] - stats["m"]).abs().max()) / total
        sd = float(stats["sd"].max()) / total
        z = stats.select(((pl.col(col) - pl.col("m")) / (pl.col("sd") / k**0.5)).abs().max()).item()
        out.append((gap, sd, float(z)))
    (gc, sc, zc), (gv, sv, zv) = out
    return (
        f"exact vs the mean of CA over {k} seeds: max channel gap {100 * gc:.2f}% of "
        f"conversions, {100 * gv:.2f}% of value; CA's run-to-run sd (largest channel) "
        f"{100 * sc:.2f}% / {100 * sv:.2f}%; largest |z| = |exact − CA mean| / (sd/√{k}) "
        f"over channels {zc:.1f} (conversions) / {zv:.1f} (value)"
    )


def _markov_vs_channelattribution(path_frame: pl.DataFrame, size: str) -> list[dict[str, Any]]:
    """Exact orders 1-4 on the paths, beside ChannelAttribution's simulation (5 seeds).

    The exact answer agrees with CA when it lies within CA's sampling noise around CA's
    mean over the seeds (:func:`_ca_agreement`); the time is CA's seed-0 run.
    """
    from closedloop_kit.attribution import attribute_paths

    rows = []
    for order in (1, 2, 3, 4):
        ours_s = _best(lambda o=order: attribute_paths(path_frame, model="markov", order=o), 1)
        ours = attribute_paths(path_frame, model="markov", order=order)
        ref, ref_s, note, ca0 = _channelattribution(path_frame, order, seed=CA_SEEDS[0])
        if ca0 is not None:
            runs = [ca0]
            for seed in CA_SEEDS[1:]:
                runs.append(_channelattribution(path_frame, order, seed=seed)[3])  # type: ignore[arg-type]
            note = _ca_agreement(ours, runs)
        rows.append(
            _row(
                f"markov order {order}, exact ({size})",
                ours_s,
                reference=ref,
                reference_seconds=ref_s,
                notes=note or "sparse LU solve of the absorbing chain",
            )
        )
    return rows


def _dp6(journeys: pl.DataFrame, model: str) -> tuple[str | None, float | None, str]:
    try:
        from mam import MAM  # type: ignore[import-not-found]  # marketing-attribution-models
    except ImportError:
        return None, None, "DP6 marketing-attribution-models not installed"
    # DP6's "session" format: one row per touch (user, time, channel, conversion flag)
    per = journeys.select(
        pl.col("journey_id").cast(pl.String),
        "occurred_at",
        "channel",
        "converted",
    )
    t = time.perf_counter()
    mam = MAM(
        per,
        format_type="session",
        channels_colname="channel",
        journey_with_conv_colname="converted",
        datetime_colname="occurred_at",
        user_id_colname="journey_id",
    )
    getattr(mam, DP6_METHODS[model])()
    return f"DP6 MAM.{DP6_METHODS[model]}", time.perf_counter() - t, ""


def _write_touches(folder: Path, n_touches: int, chunk: int = 10_000_000) -> int:
    """Deterministic touch-level journeys as Parquet chunks (about 4 touches a journey)."""
    rng = np.random.default_rng(7)
    names = np.array(["Organic Search", "Paid Search", "Email", "Direct", "Display", "Webinar"])
    written = 0
    part = 0
    next_id = 0
    while written < n_touches:
        size = min(chunk, n_touches - written)
        lengths = 1 + rng.poisson(3.0, size // 4 + 1)
        lengths = lengths[np.cumsum(lengths) <= size]
        lengths = np.append(lengths, size - lengths.sum()) if lengths.sum() < size else lengths
        lengths = lengths[lengths > 0]
        jid = np.repeat(np.arange(next_id, next_id + lengths.size, dtype=np.int64), lengths)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        pos = np.arange(jid.size, dtype=np.int64) - np.repeat(starts, lengths)
        conv = np.repeat(rng.random(lengths.size) < 0.1, lengths)
        pl.DataFrame(
            {
                "journey_id": jid,
                "channel": names[rng.integers(0, names.size, jid.size)],
                "position": pos,
                "converted": conv,
                "value": np.where(conv, 1000.0, 0.0),
            }
        ).write_parquet(folder / f"part-{part:04d}.parquet")
        next_id += lengths.size
        written += jid.size
        part += 1
    return written


def _stream_child(folder: str, model: str, order: int = 1) -> None:
    from closedloop_kit.attribution import attribute

    scan = pl.scan_parquet(f"{folder}/*.parquet")
    t = time.perf_counter()
    if model == "floor":  # the bare polars floor: one group_by per journey
        rows = (
            scan.group_by("journey_id")
            .agg(pl.len(), pl.col("converted").first())
            .select(pl.len())
            .collect(engine="streaming")
            .item()
        )
    else:
        params = {"order": order} if model == "markov" else {}
        rows = attribute(scan, model=model, **params).channels.height
    seconds = time.perf_counter() - t
    print(json.dumps({"seconds": seconds, "peak_rss_mb": _peak_rss_mb(), "rows": rows}))


def _peak_rss_mb() -> float:
    """This process's peak RSS: VmHWM (ru_maxrss keeps the parent's peak across exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(folder: str, model: str, order: int = 1) -> dict[str, Any]:
    args = [sys.executable, __file__, "--stream-child", folder, "--model", model]
    out = subprocess.run([*args, "--order", str(order)], check=True, capture_output=True, text=True)
    got: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return got


def _streaming(n_touches: int, model: str = "linear") -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        written = _write_touches(Path(tmp), n_touches)
        got = _child(tmp, model)
    return _row(
        f"{model} streaming over {written / 1e6:.0f}M touches (Parquet scan)",
        got["seconds"],
        peak_rss_mb=round(got["peak_rss_mb"], 1),
        notes="lazy plan collected with the streaming engine; channel totals",
    )


def logistic_rows(
    journeys: pl.DataFrame, path_frame: pl.DataFrame, size: str
) -> list[dict[str, Any]]:
    """The default logistic model against the bare polars floor, in the same run.

    The floor is the least work any exposure model does: one polars ``group_by`` of the
    touches into per-(journey, channel) counts. The logistic is timed on the aggregated
    paths (``attribute_paths``) and from the touch-level journeys (``attribute``);
    ``ratio`` is floor / model (below 1: slower than the floor).
    """
    from closedloop_kit.attribution import attribute, attribute_paths

    floor = _best(
        lambda: journeys.group_by("journey_id", "channel").agg(
            pl.len(), pl.col("converted").first()
        )
    )
    floor_note = "bare polars floor: group_by(journey, channel) counts of the touches"
    rows = [_row(f"polars floor ({size})", floor, notes=floor_note)]
    for label, fn in (
        (
            "logistic, features=main, paths",
            lambda: attribute_paths(path_frame, model="logistic", features="main"),
        ),
        (
            "logistic (default, features=auto), paths",
            lambda: attribute_paths(path_frame, model="logistic"),
        ),
        (
            "logistic (default, features=auto), touch-level journeys",
            lambda: attribute(journeys, model="logistic"),
        ),
    ):
        t = _best(fn, 2)
        rows.append(
            _row(
                f"{label} ({size})",
                t,
                reference="polars floor",
                reference_seconds=floor,
                notes="target ≤ 2 s; fitted on distinct exposure patterns",
            )
        )
    return rows


def _markov_touches(n_touches: int, orders: tuple[int, ...] = (1, 4)) -> list[dict[str, Any]]:
    """Markov from touch-level Parquet (child processes, peak RSS) vs the group_by floor."""
    with tempfile.TemporaryDirectory() as tmp:
        written = _write_touches(Path(tmp), n_touches)
        floor = _child(tmp, "floor")
        got = {k: _child(tmp, "markov", k) for k in orders}
    size = f"{written / 1e6:.1f}M touches, {floor['rows'] / 1e6:.1f}M journeys"
    floor_note = (
        f"floor: scan_parquet → group_by(journey_id) → len, first(converted), streaming; "
        f"{floor['peak_rss_mb']:,.0f} MB peak RSS"
    )
    return [
        _row(
            f"markov order {k} from touch-level Parquet ({size})",
            got[k]["seconds"],
            reference="bare polars group_by per journey (floor)",
            reference_seconds=floor["seconds"],
            peak_rss_mb=round(got[k]["peak_rss_mb"], 1),
            notes=(
                "attribute(scan_parquet(...), model='markov'): one streaming collect of "
                "coded columns, one sort, transition counts, exact solve; touches written "
                f"in journey order; {floor_note}"
            ),
        )
        for k in orders
    ]


def run_markov(
    quick: bool = False, n_touches: int | None = None, journeys: pl.DataFrame | None = None
) -> list[dict[str, Any]]:
    """The Markov rows: exact orders 1-4 vs ChannelAttribution, and from touches at scale.

    ``n_touches`` defaults to 38M (1M with ``quick``); on a loaded machine pass a smaller
    size (``--markov-touches``) and the row says which size ran.
    """
    from closedloop_kit.attribution import attribute, paths
    from closedloop_kit.datasets._worlds import make_attribution_world

    n = 100_000 if quick else 1_000_000
    if journeys is None:
        journeys = make_attribution_world(
            2026, n_journeys=n, channels=10, kind="order", mean_touches=4.3
        ).journeys
    path_frame = paths(journeys)
    size = f"{n / 1e6:g}M journeys, {path_frame.height:,} paths"
    rows = _markov_vs_channelattribution(path_frame, size)
    j = journeys
    t = _best(lambda: attribute(j, model="markov"), 1)
    rows.append(_row(f"markov order 1 from touch-level journeys ({size})", t))
    touches = n_touches or (1_000_000 if quick else 38_000_000)
    return rows + _markov_touches(touches)


def run(quick: bool = False, full: bool = False) -> list[dict[str, Any]]:
    """Run the attribution benchmarks; ``quick`` shrinks every size by 10x or more."""
    from closedloop_kit.attribution import attribute, attribute_paths, paths
    from closedloop_kit.datasets._worlds import make_attribution_world

    n = 100_000 if quick else 1_000_000
    world = make_attribution_world(2026, n_journeys=n, channels=10, kind="order", mean_touches=4.3)
    journeys = world.journeys
    path_frame = paths(journeys)
    size = f"{n / 1e6:g}M journeys, {path_frame.height:,} paths"
    rows: list[dict[str, Any]] = run_markov(quick, journeys=journeys)

    for model in RULES:
        t = _best(lambda m=model: attribute(journeys, model=m))
        ref, ref_s, note = _dp6(journeys, model)
        rows.append(
            _row(f"{model} ({size})", t, reference=ref, reference_seconds=ref_s, notes=note)
        )

    t = _best(lambda: attribute_paths(path_frame, model="shapley"))
    rows.append(_row(f"shapley, exact coalitions ({size})", t, notes="target < 1 s"))
    rows += logistic_rows(journeys, path_frame, size)

    n_touches = 1_000_000 if quick else (100_000_000 if full else 10_000_000)
    rows.append(_streaming(n_touches))
    return rows


SCORED_MODELS: list[tuple[str, dict[str, Any]]] = [
    ("first_touch", {}),
    ("last_touch", {}),
    ("last_non_direct", {}),
    ("linear", {}),
    ("time_decay", {}),
    ("position_based", {}),
    ("markov", {"order": 1}),
    ("markov", {"order": 2}),
    ("markov", {"order": 3}),
    ("shapley", {}),
    ("ordered_shapley", {}),
    ("fractribution", {}),
    ("logistic", {"allocation": "journey"}),
    ("logistic", {"features": "main"}),
    ("logistic", {}),
]
WORLDS = [
    ("additive", 5, 11),
    ("additive", 8, 12),
    ("order", 8, 13),
    ("order", 12, 14),
    ("interaction", 8, 15),
    ("mixed", 10, 16),
    ("order", 6, 17),
]


def _label(name: str, params: dict[str, Any]) -> str:
    inner = ", ".join(f"{k}={v}" for k, v in params.items())
    return f"{name}({inner})" if inner else name


def score_worlds(n_journeys: int = 30_000) -> pl.DataFrame:
    """Misallocation of every model on the simulated worlds and the simulated company."""
    from closedloop_kit.attribution import attribute, journeys
    from closedloop_kit.datasets import make_b2b
    from closedloop_kit.datasets._truth import misallocation
    from closedloop_kit.datasets._worlds import make_attribution_world
    from closedloop_kit.identity import resolve

    cases: list[tuple[str, pl.DataFrame, pl.DataFrame]] = []
    for kind, channels, seed in WORLDS:
        w = make_attribution_world(seed, n_journeys=n_journeys, channels=channels, kind=kind)
        cases.append((f"{kind}, {channels} ch, seed {seed}", w.journeys, w.true_shares()))
    company = make_b2b(0)
    true = company.truth.true_shares()
    data = resolve(company.data).data
    j = journeys(data, conversion="sales_ready", touch_filter=pl.col("is_marketing"))
    cases.append(("company: pipeline journeys (sales_ready)", j, true))
    cases.append(("company: true journeys", company.truth.journeys, true))
    rows = []
    for label, jr, truth in cases:
        row: dict[str, Any] = {"world": label, "journeys": jr["journey_id"].n_unique()}
        for name, params in SCORED_MODELS:
            res = attribute(jr, model=name, **params)
            row[_label(name, params)] = round(misallocation(res.shares(), truth), 3)
            if name == "logistic" and not params:
                coef = res.tables["coefficients"].filter(
                    pl.col("term").is_in(truth["channel"].to_list())
                )
                direct = coef.select(
                    pl.col("term").alias("channel"),
                    pl.col("coef").clip(lower_bound=0).alias("share"),
                )
                row["logit coefficients as shares"] = round(misallocation(direct, truth), 3)
        rows.append(row)
        print(json.dumps(row), flush=True)
    return pl.DataFrame(rows)


def _record_markov(rows: list[dict[str, Any]]) -> None:
    """Replace the Markov rows of results/attribution.json and regenerate the page."""
    import datetime as dt

    here = Path(__file__).resolve().parent
    sys.path.insert(0, str(here))
    import run as bench_run  # benchmarks/run.py: machine() and render()

    file = here / "results" / "attribution.json"
    rec = json.loads(file.read_text())
    kept = [r for r in rec["rows"] if not str(r["benchmark"]).startswith("markov")]
    rec["rows"] = rows + kept
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    rec["markov_run_at"] = stamp
    rec["markov_machine"] = bench_run.machine()
    for row in rows:
        row["notes"] = f"{row['notes']} (Markov rows re-run {stamp})".lstrip()
    file.write_text(json.dumps(rec, indent=2, default=str) + "\n")
    bench_run.PAGE.write_text(bench_run.render() + "\n", encoding="utf-8")
    for row in rows:
        print(json.dumps(row))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--full", action="store_true", help="stream 100M touches")
    parser.add_argument("--scores", action="store_true", help="score models on worlds")
    parser.add_argument("--stream-child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--model", default="linear", help=argparse.SUPPRESS)
    parser.add_argument("--order", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument(
        "--markov",
        action="store_true",
        help="run only the Markov rows and record them in results/attribution.json",
    )
    parser.add_argument(
        "--markov-touches", type=float, default=None, help="touches for Markov (default 38M)"
    )
    args = parser.parse_args()
    if args.stream_child:
        _stream_child(args.stream_child, args.model, args.order)
        return
    if args.markov:
        n_touches = None if args.markov_touches is None else int(args.markov_touches)
        _record_markov(run_markov(quick=args.quick, n_touches=n_touches))
        return
    if args.scores:
        table = score_worlds()
        with pl.Config(
            tbl_formatting="MARKDOWN",
            tbl_hide_column_data_types=True,
            tbl_hide_dataframe_shape=True,
            tbl_rows=100,
            tbl_cols=100,
            tbl_width_chars=10_000,
            fmt_str_lengths=100,
        ):
            print(table.transpose(include_header=True, column_names="world"))
        return
    for row in run(quick=args.quick, full=args.full):
        print(json.dumps(row))


if __name__ == "__main__":
    main()
