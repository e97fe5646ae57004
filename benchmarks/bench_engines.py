"""The heavy steps on polars, DuckDB and Spark; 100M touches on DuckDB; identity components.

Usage: ``python benchmarks/bench_engines.py [--quick] [--journeys N] [--touches N]
[--cc-people N] [--spark]``

Every measurement runs in a fresh child process whose peak RSS (``getrusage``) is
reported. The data are Parquet files written first (numpy, seed 0):

- *engines*: ``N`` journeys (people) with 1–8 touches each over 6 channels, 30 % of
  them converting; touchpoints → :func:`closedloop_kit.engine.journey_touches` →
  :func:`~closedloop_kit.engine.path_counts` + order-1
  :func:`~closedloop_kit.engine.transition_counts` on polars (streaming), DuckDB and
  (``--spark``) PySpark local[2].
- *warehouse scale*: ``--touches`` touchpoints (default 100M) → path counts on DuckDB
  → exact Markov and Shapley (:func:`closedloop_kit.attribution.attribute_paths`),
  against a bare DuckDB ``string_agg`` + ``GROUP BY`` of the same file as the limit.
- *identity*: ``--cc-people`` people (default 1M) with 10 sessions each; 25 % of
  visitors identified by a form fill, 6 % duplicate person records by email: the
  connected components on DuckDB (:func:`closedloop_kit.engine.connected_components`)
  against scipy on the same edges in memory.

The full sizes take long on a shared 2-core box: ``run()`` records the sizes it ran.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

FULL = {"journeys": 1_000_000, "touches": 100_000_000, "cc_people": 1_000_000}
QUICK = {"journeys": 100_000, "touches": 2_000_000, "cc_people": 100_000}
CHANNELS = ["Search", "Social", "Email", "Direct", "Events", "Display"]
_BASE_US = np.datetime64("2025-01-01T00:00:00", "us").astype(np.int64)
_YEAR_US = 365 * 86_400_000_000


def write_touches(folder: Path, n_journeys: int, *, seed: int = 0, chunk: int = 2_000_000) -> int:
    """touchpoints/*.parquet and conversions.parquet; returns the number of touches."""
    rng = np.random.default_rng(seed)
    (folder / "touchpoints").mkdir(parents=True, exist_ok=True)
    total, part, start = 0, 0, 0
    conv_parts = []
    while start < n_journeys:
        n = min(chunk, n_journeys - start)
        per = rng.integers(1, 9, n)
        pid = np.repeat(np.arange(start, start + n), per)
        m = pid.size
        at = _BASE_US + rng.integers(0, _YEAR_US, m)
        frame = pl.DataFrame(
            {
                "touchpoint_id": pl.int_range(total, total + m, eager=True),
                "person_id": pid,
                "occurred_at": pl.Series(at).cast(pl.Datetime("us", "UTC")),
                "channel": pl.Series(np.array(CHANNELS)[rng.integers(0, len(CHANNELS), m)]),
            }
        ).with_columns(pl.col("touchpoint_id").cast(pl.String), pl.col("person_id").cast(pl.String))
        frame.write_parquet(folder / "touchpoints" / f"part-{part:04d}.parquet")
        conv = rng.random(n) < 0.3
        ids = np.arange(start, start + n)[conv]
        conv_parts.append(
            pl.DataFrame(
                {
                    "person_id": ids.astype(str),
                    "conversion_at": pl.Series(
                        _BASE_US + rng.integers(_YEAR_US // 2, _YEAR_US, ids.size)
                    ).cast(pl.Datetime("us", "UTC")),
                    "value": np.round(rng.lognormal(9, 1, ids.size), 2),
                }
            )
        )
        total += m
        part += 1
        start += n
    pl.concat(conv_parts).write_parquet(folder / "conversions.parquet")
    return total


def journeys_for_touches(n_touches: int) -> int:
    """Journeys giving about ``n_touches`` touches (4.5 per journey on average)."""
    return max(1, int(n_touches / 4.5))


def write_identity_edges(folder: Path, n_people: int, *, seed: int = 0) -> int:
    """Edges of the identity graph: visitor→person form fills, duplicate records by email."""
    rng = np.random.default_rng(seed)
    n_visitors = 2 * n_people
    visitor_of = rng.integers(0, n_people, n_visitors)
    identified = rng.random(n_visitors) < 0.25
    v = np.flatnonzero(identified)
    dup = rng.random(n_people) < 0.06
    d = np.flatnonzero(dup)
    edges = pl.concat(
        [
            pl.DataFrame({"src": [f"ga4:{i}" for i in v], "dst": [f"p{i}" for i in visitor_of[v]]}),
            pl.DataFrame({"src": [f"p{i}" for i in d], "dst": [f"dup{i}" for i in d]}),
        ]
    )
    # every session's visitor is a node too (isolated when never identified)
    nodes = pl.DataFrame({"node": [f"ga4:{i}" for i in range(n_visitors)]})
    edges.write_parquet(folder / "edges.parquet")
    nodes.write_parquet(folder / "nodes.parquet")
    # 10 sessions per person, each from one of the visitors
    n_sessions = 10 * n_people
    pl.DataFrame(
        {
            "touchpoint_id": pl.int_range(n_sessions, eager=True).cast(pl.String),
            "anonymous_id": pl.Series(rng.integers(0, n_visitors, n_sessions)).cast(pl.String),
            "person_id": pl.Series([None] * n_sessions, dtype=pl.String),
        }
    ).with_columns(
        pl.concat_str(pl.lit("ga4:"), "anonymous_id").alias("anonymous_id")
    ).write_parquet(folder / "sessions.parquet")
    return edges.height


def _rss_mb() -> float:
    """Peak RSS of this process since its exec (VmHWM; getrusage would include the
    parent's RSS at fork time, which holds the generated data)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _spark():
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.log.structuredLogging.enabled", "false")
        .config("spark.driver.memory", "6g")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _child(task: str, folder: str) -> dict[str, object]:
    from closedloop_kit import engine

    f = Path(folder)
    touches_glob = str(f / "touchpoints" / "*.parquet")
    conv_path = str(f / "conversions.parquet")
    out: dict[str, object] = {}
    t0 = time.perf_counter()
    if task in ("polars", "duckdb", "spark", "duckdb_models"):
        if task == "polars":
            t, c = pl.scan_parquet(touches_glob), pl.scan_parquet(conv_path)
        elif task == "spark":
            spark = _spark()
            out["startup_seconds"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            t, c = spark.read.parquet(str(f / "touchpoints")), spark.read.parquet(conv_path)
        else:
            import duckdb

            con = duckdb.connect()
            con.execute("set TimeZone = 'UTC'")
            t, c = con.read_parquet(touches_glob), con.read_parquet(conv_path)
        jt = engine.journey_touches(t, c, lookback="365d")
        paths = engine.path_counts(jt)
        out["paths_seconds"] = time.perf_counter() - t0
        out["paths"] = paths.height
        out["journeys"] = int(paths["journeys"].sum())
        out["checksum"] = float(paths["value"].sum())
        paths.write_parquet(f / f"paths-{task}.parquet")  # for the parity check
        if task != "duckdb_models":
            t1 = time.perf_counter()
            tr = engine.transition_counts(jt, order=1)
            out["transitions_seconds"] = time.perf_counter() - t1
            out["transitions"] = tr.height
        else:
            from closedloop_kit.attribution import attribute_paths

            t1 = time.perf_counter()
            attribute_paths(paths, model="markov", order=1)
            out["markov_seconds"] = time.perf_counter() - t1
            t1 = time.perf_counter()
            attribute_paths(paths, model="shapley")
            out["shapley_seconds"] = time.perf_counter() - t1
    elif task == "duckdb_bare":
        import duckdb

        con = duckdb.connect()
        sql = f"""
            with c as (select * from read_parquet('{conv_path}')),
            t as (
              select t.person_id, t.occurred_at, t.touchpoint_id, t.channel,
                     coalesce(c.conversion_at, m.end_at) as e, c.conversion_at is not null as conv,
                     coalesce(c.value, 0) as value
              from read_parquet('{touches_glob}') t
              left join c using (person_id)
              cross join (select max(occurred_at) as end_at from read_parquet('{touches_glob}')) m
            ),
            j as (
              select person_id, string_agg(channel, '>' order by occurred_at, touchpoint_id) p,
                     any_value(conv) conv, any_value(value) value
              from t where occurred_at <= e and occurred_at >= e - interval 365 day
              group by person_id
            )
            select p, sum(conv::int) conversions, sum(value) value, count(*) n from j group by p
        """
        res = con.sql(sql).pl()
        out["paths_seconds"] = time.perf_counter() - t0
        out["paths"] = res.height
        out["journeys"] = int(res["n"].sum())
        out["checksum"] = float(res["value"].sum())
    elif task in ("cc_duckdb", "cc_scipy"):
        if task == "cc_duckdb":
            import duckdb

            con = duckdb.connect()
            con.execute("set preserve_insertion_order = false")
            labels = engine.connected_components(
                con.read_parquet(str(f / "edges.parquet")),
                nodes=con.read_parquet(str(f / "nodes.parquet")),
            )
            summary = labels.aggregate("count(*) n, count(distinct component) k").fetchall()[0]
            out["cc_only_seconds"] = time.perf_counter() - t0
            # resolve the sessions: visitor → the smallest person id of its component
            sessions = f / "sessions.parquet"
            if sessions.exists():
                links = labels.query(
                    "l",
                    "select v.node as anonymous_id, p.person_id from l v join "
                    "(select component, min(node) person_id from l where node like 'p%' "
                    "group by component) p using (component) where v.node like 'ga4:%'",
                )
                touched = engine.apply_identity(con.read_parquet(str(sessions)), links)
                res = touched.aggregate("count(*) n, count(person_id) linked").fetchall()[0]
                out["sessions"], out["sessions_linked"] = int(res[0]), int(res[1])
        else:
            from scipy.sparse import coo_matrix
            from scipy.sparse.csgraph import connected_components

            e = pl.read_parquet(f / "edges.parquet")
            n = pl.read_parquet(f / "nodes.parquet")
            names = pl.concat([n["node"], e["src"], e["dst"]]).unique().sort()
            idx = pl.DataFrame({"node": names, "i": pl.int_range(names.len(), eager=True)})
            ij = e.join(idx, left_on="src", right_on="node").join(
                idx, left_on="dst", right_on="node", suffix="_b"
            )
            g = coo_matrix(
                (np.ones(ij.height, dtype=np.int8), (ij["i"].to_numpy(), ij["i_b"].to_numpy())),
                shape=(names.len(), names.len()),
            )
            k, _ = connected_components(g, directed=False)
            summary = (names.len(), k)
        out["cc_seconds"] = time.perf_counter() - t0
        out["nodes"], out["components"] = int(summary[0]), int(summary[1])
    out["peak_rss_mb"] = _rss_mb()
    return out


def parity(folder: Path, tasks: list[str]) -> str:
    """Path tables and attribution credits of every engine against polars'.

    The path tables must be identical (same paths, journeys and conversions; value to
    1e-9 relative, the order of a float sum differs between engines); the credits of
    the exact Markov (order 1), Shapley and linear models are compared as the largest
    relative difference (``|a − b| / max(|a|, 1)``) in conversions and value over all
    channels.
    """
    from polars.testing import assert_frame_equal

    from closedloop_kit.attribution import attribute_paths

    tables = {
        t: pl.read_parquet(folder / f"paths-{t}.parquet").sort("path")
        for t in tasks
        if (folder / f"paths-{t}.parquet").exists()
    }
    if "polars" not in tables or len(tables) < 2:
        return "parity not checked (an engine failed)"
    ref = tables.pop("polars")
    worst = 0.0
    for other in tables.values():
        assert_frame_equal(other, ref, check_dtypes=False, rel_tol=1e-9, abs_tol=1e-9)
        for model in ("markov", "shapley", "linear"):
            a = attribute_paths(ref, model=model).sort("channel")
            b = attribute_paths(other, model=model).sort("channel")
            for col in ("conversions", "value"):
                gap = ((a[col] - b[col]).abs() / a[col].abs().clip(lower_bound=1.0)).max()
                worst = max(worst, float(gap))  # type: ignore[arg-type]
    return (
        f"path tables of {', '.join(tables)} identical to polars' ({ref.height:,} paths); "
        f"Markov/Shapley/linear channel credits (conversions and value) within {worst:.1e} "
        "relative of polars'"
    )


def _run_child(task: str, folder: Path) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", task, str(folder)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"},
    )
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1:] or ["failed"]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _row(name: str, got: dict[str, object], key: str, **extra: object) -> dict[str, object]:
    print(f"{name}: {got}", file=sys.stderr, flush=True)  # progress of a long run
    return {
        "benchmark": name,
        "seconds": None if "error" in got else round(float(got[key]), 2),  # type: ignore[arg-type]
        "reference": extra.get("reference"),
        "reference_seconds": extra.get("reference_seconds"),
        "ratio": extra.get("ratio"),
        "peak_rss_mb": None if "error" in got else round(float(got["peak_rss_mb"])),  # type: ignore[arg-type]
        "notes": extra.get("notes") or (f"failed: {got['error']}" if "error" in got else ""),
    }


def run(
    quick: bool = False,
    *,
    journeys: int | None = None,
    touches: int | None = None,
    cc_people: int | None = None,
    spark: bool | None = None,
) -> list[dict[str, object]]:
    """Rows for benchmarks/run.py (Spark runs when PySpark is installed, or as told)."""
    if spark is None:
        import importlib.util

        spark = importlib.util.find_spec("pyspark") is not None
    size = dict(QUICK if quick else FULL)
    size.update(
        {
            k: v
            for k, v in (("journeys", journeys), ("touches", touches), ("cc_people", cc_people))
            if v
        }
    )
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="clk-bench-engines-") as tmp:
        folder = Path(tmp) / "engines"
        n_t = write_touches(folder, size["journeys"])
        label = f"{size['journeys']:,} journeys, {n_t:,} touches"
        tasks = ["polars", "duckdb", *(["spark"] if spark else [])]
        results = {task: _run_child(task, folder) for task in tasks}
        try:
            same = parity(folder, tasks)
        except AssertionError as exc:  # recorded, never hidden
            same = f"PATH TABLES DIFFER: {str(exc).splitlines()[0]}"
        for task, got in results.items():
            notes = ""
            if "error" not in got:
                notes = (
                    f"{got['paths']:,} paths from {got['journeys']:,} journeys; order-1 "
                    f"transitions {got['transitions_seconds']:.1f} s more"
                )
                if task == "spark":
                    notes += f"; Spark start-up {got['startup_seconds']:.1f} s not included"
                notes += f"; {same}"
            rows.append(
                _row(f"engine path_counts on {task} ({label})", got, "paths_seconds", notes=notes)
            )
        # warehouse scale on DuckDB
        big = Path(tmp) / "big"
        n_big = write_touches(big, journeys_for_touches(size["touches"]))
        blabel = f"{n_big:,} touches (Parquet)"
        bare = _run_child("duckdb_bare", big)
        models = _run_child("duckdb_models", big)
        ratio = None
        if "error" not in bare and "error" not in models:
            ratio = round(float(models["paths_seconds"]) / float(bare["paths_seconds"]), 2)  # type: ignore[arg-type]
        notes = ""
        if "error" not in models:
            notes = (
                f"{models['paths']:,} paths; then exact Markov {models['markov_seconds']:.1f} s "
                f"and Shapley {models['shapley_seconds']:.1f} s on the path table; "
                f"peak RSS of the whole process"
            )
        rows.append(
            _row(
                f"engine path_counts on DuckDB → exact Markov + Shapley ({blabel})",
                models,
                "paths_seconds",
                reference="bare DuckDB string_agg + GROUP BY",
                reference_seconds=None
                if "error" in bare
                else round(float(bare["paths_seconds"]), 2),  # type: ignore[arg-type]
                ratio=ratio,
                notes=notes,
            )
        )
        rows.append(
            _row(
                f"bare DuckDB string_agg + GROUP BY ({blabel})",
                bare,
                "paths_seconds",
                notes="the limit",
            )
        )
        # identity components
        idf = Path(tmp) / "identity"
        idf.mkdir()
        n_edges = write_identity_edges(idf, size["cc_people"])
        ilabel = (
            f"{size['cc_people']:,} people, {2 * size['cc_people']:,} visitors, "
            f"{10 * size['cc_people']:,} sessions, {n_edges:,} edges"
        )
        cc = _run_child("cc_duckdb", idf)
        sc = _run_child("cc_scipy", idf)
        same = "error" not in cc and "error" not in sc and cc["components"] == sc["components"]
        rows.append(
            _row(
                f"identity on DuckDB: components + sessions resolved ({ilabel})",
                cc,
                "cc_seconds",
                reference="scipy connected_components in memory",
                reference_seconds=None if "error" in sc else round(float(sc["cc_seconds"]), 2),  # type: ignore[arg-type]
                notes=(
                    f"components {cc.get('cc_only_seconds', 0):.1f} s, then sessions resolved: "
                    f"{cc.get('sessions_linked', 0):,} of {cc.get('sessions', 0):,} linked; "
                    f"{cc.get('nodes', 0):,} nodes → {cc.get('components', 0):,} components"
                    + ("; same count as scipy" if same else "; DIFFERENT from scipy")
                    + (f"; scipy peak RSS {sc['peak_rss_mb']:.0f} MB" if "error" not in sc else "")
                ),
            )
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--journeys", type=int)
    ap.add_argument("--touches", type=int)
    ap.add_argument("--cc-people", type=int)
    ap.add_argument("--spark", action=argparse.BooleanOptionalAction, default=None)
    ap.add_argument("--child", nargs=2)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(_child(*args.child)))
        return
    for row in run(
        quick=args.quick,
        journeys=args.journeys,
        touches=args.touches,
        cc_people=args.cc_people,
        spark=args.spark,
    ):
        print(json.dumps(row))


if __name__ == "__main__":
    main()
