"""The ``closedloop`` command line.

::

    closedloop demo --data sample_data --out reports
    closedloop load DATA --store warehouse/
    closedloop report campaign-review --data sample_data --param period=2026Q2 --out reports
    closedloop report rerun reports/campaign_review__2026q2.html
    closedloop report batch reports.yaml
    closedloop store history warehouse/
    closedloop store changes warehouse/ 3 5
    closedloop store vacuum warehouse/ --retain 30d
    closedloop review --every month --data sample_data --out reports/reviews
    closedloop serve --data sample_data --reports reports

Errors the user can fix (an unknown template, a missing folder, a bad ``--param``) print
one line saying what is wrong and how to fix it, and exit with code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["main"]


def _parse_value(text: str) -> Any:
    """``key=value`` values are YAML scalars: ``2026Q2`` stays a string, ``3`` an int."""
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def _params(items: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            msg = f"--param must look like key=value (e.g. --param period=2026Q2), got {item!r}"
            raise ValueError(msg)
        out[key.strip().replace("-", "_")] = _parse_value(value)
    return out


def _print_summary(data: Any) -> None:
    import polars as pl

    with pl.Config(tbl_rows=50, tbl_hide_dataframe_shape=True):
        print(data.summary())


def _load(path: str) -> Any:
    from closedloop_kit.report import open_data

    return open_data(path)


def _cmd_demo(args: argparse.Namespace) -> int:
    from closedloop_kit.report import run

    print(f"loading {args.data} ...")
    data = _load(args.data)
    _print_summary(data)
    try:
        rep = run("campaign_review", data=args.data, params={}, out=args.out)
    except Exception as exc:  # the demo degrades to the load summary, loudly
        print(
            f"closedloop demo: the campaign review report could not be rendered: "
            f"{type(exc).__name__}: {exc}",
            file=sys.stderr,
        )
        return 1 if args.strict else 0
    print(f"campaign review written: {rep.summary()}")
    return 0


def _cmd_load(args: argparse.Namespace) -> int:
    data = _load(args.data)
    _print_summary(data)
    if args.store:
        path = data.save(args.store)
        print(f"store written: {path}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from closedloop_kit.report import run

    _check_data(args.data)
    rep = run(
        args.template,
        data=args.data,
        params=_params(args.param),
        out=args.out,
        name=args.name,
        show_input=args.show_input,
        include_pii=args.include_pii,
        templates=args.templates,
    )
    print(rep.summary())
    return 0


def _cmd_rerun(args: argparse.Namespace) -> int:
    from closedloop_kit.report import rerun

    rep = rerun(args.report, out=args.out, data=args.data)
    if rep.changed_inputs:
        print(
            f"warning: {len(rep.changed_inputs)} input file(s) changed since the original run: "
            + ", ".join(rep.changed_inputs[:5]),
            file=sys.stderr,
        )
    print(rep.summary())
    return 0 if rep.matches_original in (True, None) else 2


def _check_data(path: str | None) -> None:
    if path is None or path == "sample" or Path(path).exists():
        return
    msg = (
        f"--data {path!r} does not exist: pass a folder of exports, a store folder, "
        "or `sample` for the bundled sample company"
    )
    raise FileNotFoundError(msg)


def _cmd_serve(args: argparse.Namespace) -> int:
    from closedloop_kit.report._serve import serve

    data = args.store or args.data
    _check_data(data)
    return serve(
        data=data,
        root=args.root,
        reports=args.reports,
        host=args.host,
        port=args.port,
        token=args.token,
        include_pii=args.include_pii,
    )


def _cmd_review(args: argparse.Namespace) -> int:
    import datetime as dt

    from closedloop_kit.report._review import review

    _check_data(args.data)
    until = dt.date.fromisoformat(args.until) if args.until else None
    result = review(
        args.data,
        every=args.every,
        out=args.out,
        last=args.last,
        until=until,
        include_pii=args.include_pii,
        force=args.force,
    )
    print(result.summary())
    return 0


def _add_serve(sub: Any) -> None:
    srv = sub.add_parser("serve", help="serve the dashboard and the rendered reports (Voilà)")
    src = srv.add_mutually_exclusive_group()
    src.add_argument("--store", default=None, help="a store folder (closedloop load --store)")
    src.add_argument("--data", default="sample_data", help="a folder of exports, or `sample`")
    srv.add_argument("--reports", default="reports", help="folder of rendered reports to list")
    srv.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    srv.add_argument("--port", type=int, default=8866, help="port (default 8866)")
    srv.add_argument("--token", default=None, help="access token (required off 127.0.0.1)")
    srv.add_argument(
        "--root", default=None, help="working folder (default: a temporary one, removed on stop)"
    )
    srv.add_argument(
        "--include-pii", action="store_true", help="let people's e-mail addresses through"
    )
    srv.set_defaults(func=_cmd_serve)


def _add_review(sub: Any) -> None:
    rev = sub.add_parser("review", help="a dated review per week or month, and their index")
    rev.add_argument("--every", choices=("week", "month"), default="month", help="period")
    rev.add_argument("--data", default="sample_data", help="folder of exports or a store")
    rev.add_argument("--out", default="reports/reviews", help="output folder")
    rev.add_argument("--last", type=int, default=3, help="how many periods (default 3)")
    rev.add_argument("--until", default=None, help="YYYY-MM-DD (default: latest data)")
    rev.add_argument("--force", action="store_true", help="render existing periods again")
    rev.add_argument(
        "--include-pii", action="store_true", help="let people's e-mail addresses through"
    )
    rev.set_defaults(func=_cmd_review)


def _cmd_batch(args: argparse.Namespace) -> int:
    from closedloop_kit.report import batch

    reports = batch(args.config, progress=not args.no_progress)
    for rep in reports:
        print(rep.summary())
    return 0


def _cmd_store(args: argparse.Namespace) -> int:
    import polars as pl

    from closedloop_kit import store

    with pl.Config(tbl_rows=100, tbl_cols=12, tbl_hide_dataframe_shape=True):
        if args.store_command == "history":
            print(store.history(args.path).select(pl.exclude("^rows_.*$")))
        elif args.store_command == "changes":
            res = store.changes(args.path, args.from_version, args.to_version)
            print(res.table)
            print(res.stage_moves)
        elif args.store_command == "vacuum":
            vac = store.vacuum(args.path, retain=args.retain, dry_run=args.dry_run)
            verb = "would remove" if args.dry_run else "removed"
            kept = list(vac.kept_versions)
            print(f"{verb} store versions {list(vac.removed_versions)}; kept {kept}")
            print(vac.table)
        else:
            print(f"store version {store.compact(args.path)} reads the compacted files")
    return 0


def _add_store_commands(sub: Any) -> None:
    st = sub.add_parser("store", help="versioned store: history, changes, vacuum, compact")
    st.set_defaults(func=_cmd_store)
    cmds = st.add_subparsers(dest="store_command", required=True)
    cmds.add_parser("history", help="one line per store version").add_argument("path")
    ch = cmds.add_parser("changes", help="rows new/changed/removed between two versions")
    ch.add_argument("path")
    ch.add_argument("from_version", type=int)
    ch.add_argument("to_version", type=int, nargs="?", default=None, help="default: latest")
    vac = cmds.add_parser("vacuum", help="remove versions older than a retention period")
    vac.add_argument("path")
    vac.add_argument("--retain", default="30d", help="e.g. 30d, 12h, 4w (default 30d)")
    vac.add_argument("--dry-run", action="store_true", help="only list what would go")
    cmds.add_parser("compact", help="rewrite small files into larger ones").add_argument("path")


def _parser() -> argparse.ArgumentParser:
    from closedloop_kit import __version__

    p = argparse.ArgumentParser(
        prog="closedloop", description="closedloop_kit: closed-loop B2B marketing analytics."
    )
    p.add_argument("--version", action="version", version=f"closedloop_kit {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="render the campaign review of the sample company")
    demo.add_argument("--data", default="sample_data", help="folder of exports or a store")
    demo.add_argument("--out", default="reports", help="output folder")
    demo.add_argument("--strict", action="store_true", help="fail when the report fails")
    demo.set_defaults(func=_cmd_demo)

    load = sub.add_parser("load", help="load exports, print a summary, optionally save a store")
    load.add_argument("data", help="folder of exports or a YAML load config")
    load.add_argument("--store", default=None, help="write the canonical tables here")
    load.set_defaults(func=_cmd_load)

    rep = sub.add_parser(
        "report",
        help="render a template report (also: `report rerun FILE`, `report batch CONFIG`)",
    )
    rep.add_argument("template", help="template name, e.g. campaign-review")
    rep.add_argument("--data", default=None, help="folder of exports or a store")
    rep.add_argument(
        "--param", action="append", default=[], metavar="KEY=VALUE", help="notebook parameter"
    )
    rep.add_argument("--out", default="reports", help="output folder")
    rep.add_argument("--name", default=None, help="file stem of the report")
    rep.add_argument("--show-input", action="store_true", help="keep the code cells")
    rep.add_argument(
        "--include-pii", action="store_true", help="let people's e-mail addresses through"
    )
    rep.add_argument("--templates", default=None, help="extra folder of template notebooks")
    rep.set_defaults(func=_cmd_report)
    _add_store_commands(sub)
    _add_serve(sub)
    _add_review(sub)
    return p


def _rerun_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="closedloop report rerun", description="reproduce a report from its manifest"
    )
    p.add_argument("report", help="report .html, executed .ipynb or .manifest.json")
    p.add_argument("--out", default=None, help="output folder (default: the report's)")
    p.add_argument("--data", default=None, help="data folder (default: from the manifest)")
    p.set_defaults(func=_cmd_rerun)
    return p


def _batch_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="closedloop report batch", description="render the reports listed in a YAML file"
    )
    p.add_argument("config", type=Path, help="YAML batch config (see docs/reports.md)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_batch)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``closedloop`` console script; returns the exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if len(args_list) >= 2 and args_list[0] == "report" and args_list[1] in {"rerun", "batch"}:
        parser = _rerun_parser() if args_list[1] == "rerun" else _batch_parser()
        args = parser.parse_args(args_list[2:])
    else:
        args = _parser().parse_args(args_list)
    try:
        code: int = args.func(args)
    except _user_errors() as exc:
        print(f"closedloop: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    return code


def _one_line(exc: BaseException) -> str:
    """The message of an error the user can fix, on one line, with the notebook's cell."""
    name = type(exc).__name__
    if name == "PapermillExecutionError":
        ename, evalue = getattr(exc, "ename", "Error"), getattr(exc, "evalue", str(exc))
        cell = getattr(exc, "exec_count", None)
        return f"the report failed in cell {cell}: {ename}: {evalue}".replace("\n", " ")
    text = str(exc.args[0]) if exc.args else str(exc)
    return " ".join(text.split())


def _user_errors() -> tuple[type[BaseException], ...]:
    from closedloop_kit.errors import ClosedLoopError

    found: list[type[BaseException]] = [FileNotFoundError, ValueError, KeyError, ClosedLoopError]
    try:
        from papermill.exceptions import PapermillExecutionError
    except ImportError:  # pragma: no cover - papermill is a dependency
        pass
    else:
        found.append(PapermillExecutionError)
    return tuple(found)


if __name__ == "__main__":
    raise SystemExit(main())
