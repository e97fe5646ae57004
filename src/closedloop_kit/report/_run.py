"""Run a template notebook with papermill and export the offline HTML report."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from closedloop_kit._core.progress import progress as progress_bar
from closedloop_kit.report._export import offline_html, prepare_outputs, report_tables
from closedloop_kit.report._manifest import build_manifest, manifest_script, read_manifest
from closedloop_kit.report._templates import find_template

if TYPE_CHECKING:
    import polars as pl

    from closedloop_kit.store import ClosedLoopData

__all__ = ["Report", "batch", "open_data", "report_name", "rerun", "run"]

KERNEL = "python3"
"""Kernel used by papermill: ipykernel's native kernel, i.e. the current interpreter."""

KERNEL_ARGS = ("--IPKernelApp.log_level=ERROR",)
"""Arguments of the kernel launch: the kernel application logs errors only, so its start-up
notice (``Kernel is running over TCP without encryption``, about the loopback sockets
papermill connects through) does not reach the report's console output."""


@dataclass(frozen=True)
class Report:
    """The files one report run wrote, and its manifest.

    ``matches_original`` is set by :func:`rerun`: whether every table of the new report
    equals the original's (``None`` when there was nothing to compare).
    """

    html: Path
    notebook: Path
    manifest_path: Path
    manifest: dict[str, Any]
    n_charts: int
    matches_original: bool | None = None
    changed_inputs: tuple[str, ...] = field(default=())

    def summary(self) -> str:
        """One line: where the report is and how long it took."""
        line = f"{self.html} ({self.n_charts} charts, {self.manifest['run_seconds']} s)"
        if self.matches_original is not None:
            line += (
                "; tables identical to the original"
                if self.matches_original
                else ("; tables DIFFER from the original")
            )
        return line

    def _repr_html_(self) -> str:
        return f"<p>Report <code>{self.html}</code>: {self.n_charts} charts</p>"


SAMPLE = "sample"
"""``data`` value meaning the bundled sample company (``clk.datasets.load_sample()``)."""


def open_data(path: str | Path) -> ClosedLoopData:
    """Open report input data through :func:`closedloop_kit.load`.

    A store (at its latest version, or the one a ``@v<N>`` suffix pins: ``"warehouse@v3"``;
    :func:`run` passes templates the store version it read that way), a folder of exports
    or a YAML config. ``"sample"`` (when no such folder exists) is the simulated sample
    company of :func:`closedloop_kit.datasets.load_sample` (its exports, read by the same
    loader).
    """
    from closedloop_kit.io import load
    from closedloop_kit.store import store_ref

    p = Path(path)
    if str(path) == SAMPLE and not p.exists():
        from closedloop_kit.datasets import load_sample

        return load_sample()
    if store_ref(path) is None and not p.exists():
        msg = f"`data` {str(path)!r} does not exist"
        raise FileNotFoundError(msg)
    return load(path, progress=False)


def data_label(path: str | Path) -> str:
    """How a report names its input data: the folder, file or store name, not its path.

    A store keeps the version it was read at (``crm@v3``); a warehouse URI is shown with
    its password and secret query values hidden. The page a report writes is shared, so
    it does not show the folders of the machine that ran it: the manifest embedded in
    the report keeps the full path and the SHA-256 of every input file.

    Examples
    --------
    >>> from closedloop_kit.report import data_label
    >>> data_label("/home/ana/exports/2026-q2/")
    '2026-q2'
    >>> data_label("../stores/crm@v3")
    'crm@v3'
    >>> data_label("postgresql://ana:s3cr3t@db.internal/crm")
    'postgresql://ana:***@db.internal/crm'
    """
    from closedloop_kit.io.warehouse import is_warehouse, redact_uri

    text = str(path)
    if is_warehouse(text):
        return redact_uri(text)
    return Path(text).name or text


def file_labels(frame: pl.DataFrame, column: str = "path") -> pl.DataFrame:
    """``frame`` with the file paths in ``column`` relative to the folder holding them all.

    For a shared page, as :func:`data_label`: a load report lists
    ``salesforce/Lead.csv``, not the folders of the machine that loaded it. Values that
    are not absolute paths (a warehouse table, already redacted) are kept as they are;
    a single file keeps its name.

    Examples
    --------
    >>> import polars as pl
    >>> from closedloop_kit.report import file_labels
    >>> f = pl.DataFrame({"path": ["/home/ana/q2/sf/Lead.csv", "/home/ana/q2/ga4/e.json",
    ...                            "duckdb:///crm.db#lead"]})
    >>> file_labels(f)["path"].to_list()
    ['sf/Lead.csv', 'ga4/e.json', 'duckdb:///crm.db#lead']
    """
    import os

    import polars as pl

    if column not in frame.columns:
        return frame
    paths = [p for p in frame[column].drop_nulls().unique().to_list() if os.path.isabs(p)]
    if not paths:
        return frame
    root = os.path.commonpath(paths)
    if len(paths) == 1:  # one file: its name
        root = os.path.dirname(root)
    mapping = {p: Path(os.path.relpath(p, root)).as_posix() for p in paths}  # as the manifest
    return frame.with_columns(pl.col(column).replace(mapping))


_SLUG = re.compile(r"[^A-Za-z0-9]+")


def report_name(template: str, params: Mapping[str, Any]) -> str:
    """File stem of a report: the template plus its parameter values (data path excluded).

    Examples
    --------
    >>> from closedloop_kit.report import report_name
    >>> report_name("campaign_review", {"campaign": "Spring Webinar", "period": "2026Q2"})
    'campaign_review__spring_webinar__2026q2'
    """
    parts = [template]
    for key in sorted(params):
        value = params[key]
        if key in {"data_path", "include_pii"} or value is None or isinstance(value, bool):
            continue
        slug = _SLUG.sub("_", str(value)).strip("_").lower()[:40]
        if slug:
            parts.append(slug)
    return "__".join(parts)


def _nb_param_names(template: Path) -> set[str]:
    import papermill as pm

    info = pm.inspect_notebook(str(template))
    return set(info)


def run(
    template: str | Path,
    *,
    data: str | Path | None = None,
    params: Mapping[str, Any] | None = None,
    out: str | Path = "reports",
    name: str | None = None,
    show_input: bool = False,
    include_pii: bool = False,
    templates: str | Path | Sequence[str | Path] | None = None,
    timeout: int = 900,
) -> Report:
    """Execute a template notebook and write ``<name>.html``, ``.ipynb`` and ``.manifest.json``.

    Parameters
    ----------
    template
        Template name (``"campaign_review"`` or ``"campaign-review"``) or a notebook path.
    data
        Input data folder (exports or a store); passed to the notebook as ``data_path``.
        A store is read at its latest version, or at the one a ``@v<N>`` suffix names;
        the manifest records that ``store_version`` and the notebook gets
        ``"<store>@v<N>"``, so :func:`rerun` reads the same version later.
    params
        Notebook parameters (see the template's ``parameters`` cell).
    out
        Output folder (created).
    name
        File stem; default :func:`report_name` of the template and parameters.
    show_input
        Keep the code cells in the HTML (hidden by default).
    include_pii
        Let people's e-mail addresses through; otherwise every e-mail in an output is hidden.
    templates
        Extra folders to search for templates (see :func:`find_template`).
    timeout
        Seconds allowed per cell.

    Returns
    -------
    Report
        Paths of the files written and the manifest (parameters, SHA-256 of every input
        file, package and dependency versions, run time).
    """
    import nbformat
    import papermill as pm

    from closedloop_kit.store import store_ref

    nb_path = find_template(template, templates)
    all_params: dict[str, Any] = dict(params or {})
    data_path = None if data is None else Path(data)
    ref = None if data is None else store_ref(data)
    if ref is not None:
        data_path = ref[0].resolve()
        all_params["data_path"] = f"{data_path}@v{ref[1]}"
    elif data_path is not None:
        if data_path.exists():
            data_path = data_path.resolve()
        all_params["data_path"] = str(data_path)
    known = _nb_param_names(nb_path)
    if "include_pii" in known:
        all_params["include_pii"] = include_pii
    unknown = sorted(set(all_params) - known)
    if unknown:
        msg = (
            f"`params` {unknown!r} are not parameters of template {nb_path.stem!r}; "
            f"valid: {sorted(known)!r}"
        )
        raise ValueError(msg)
    stem = name or report_name(nb_path.stem, all_params)
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    nb_out = out_dir / f"{stem}.ipynb"

    started = dt.datetime.now(dt.UTC)
    pm.execute_notebook(
        str(nb_path),
        str(nb_out),
        parameters=all_params,
        kernel_name=KERNEL,
        cwd=str(nb_path.parent),
        progress_bar=False,
        execution_timeout=timeout,
        extra_arguments=list(KERNEL_ARGS),
    )
    finished = dt.datetime.now(dt.UTC)
    manifest = build_manifest(
        template=nb_path,
        data=data_path,
        params={k: v for k, v in all_params.items() if k != "data_path"},
        started=started,
        finished=finished,
        name=stem,
        store_version=None if ref is None else ref[1],
    )
    manifest["show_input"] = show_input
    manifest["include_pii"] = include_pii

    nb = nbformat.read(nb_out, as_version=4)
    n_charts = prepare_outputs(nb, include_pii=include_pii)
    nb.metadata["closedloop_kit"] = {"manifest": manifest}
    nbformat.write(nb, nb_out)
    title = _notebook_title(nb) or stem
    html_path = out_dir / f"{stem}.html"
    html_path.write_text(
        offline_html(
            nb, title=title, manifest_tag=manifest_script(manifest), show_input=show_input
        ),
        encoding="utf-8",
    )
    manifest_path = out_dir / f"{stem}.manifest.json"
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True, default=str) + "\n")
    return Report(
        html=html_path,
        notebook=nb_out,
        manifest_path=manifest_path,
        manifest=manifest,
        n_charts=n_charts,
    )


def _notebook_title(nb: Any) -> str | None:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in str(cell.source).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return None


def rerun(
    report: str | Path,
    *,
    out: str | Path | None = None,
    data: str | Path | None = None,
    templates: str | Path | Sequence[str | Path] | None = None,
) -> Report:
    """Reproduce a report from its HTML, notebook or manifest, and compare the tables.

    The template, parameters and data folder come from the manifest; a report that read
    a store reads the same store version again (``store_version`` in the manifest), so it
    re-runs identically after later saves (until :func:`closedloop_kit.store.vacuum`
    removes that version). Input files (for a store: the files of that version) are
    hashed again; any whose SHA-256 changed is listed in ``Report.changed_inputs``.
    ``data`` overrides the manifest's data folder (a store then at its latest version,
    or ``"<store>@v<N>"``).
    ``out`` defaults to the original report's folder (the report is overwritten); the
    returned ``Report.matches_original`` says whether every table is identical.
    """
    path = Path(report)
    manifest = read_manifest(path)
    original_html = path.with_suffix(".html") if path.suffix != ".html" else path
    if path.name.endswith(".manifest.json"):
        original_html = path.with_name(path.name.removesuffix(".manifest.json") + ".html")
    before = (
        report_tables(original_html.read_text(encoding="utf-8"))
        if original_html.is_file()
        else None
    )
    from closedloop_kit.report._manifest import hash_inputs
    from closedloop_kit.store import store_ref

    data_arg: str | Path | None = data
    if data is None and manifest.get("data"):
        version = manifest.get("store_version")
        data_arg = manifest["data"] if version is None else f"{manifest['data']}@v{version}"
    ref = None if data_arg is None else store_ref(data_arg)
    data_dir = ref[0] if ref is not None else (None if data_arg is None else Path(data_arg))
    changed: tuple[str, ...] = ()
    if data_dir is not None:
        now = hash_inputs(data_dir, store_version=None if ref is None else ref[1])
        old = manifest.get("inputs", {})
        changed = tuple(sorted(k for k in set(now) | set(old) if now.get(k) != old.get(k)))
    template: str | Path = manifest["template"]
    if templates is None and Path(manifest.get("template_path", "")).is_file():
        template = Path(manifest["template_path"])
    params = dict(manifest.get("parameters", {}))
    include_pii = bool(params.pop("include_pii", manifest.get("include_pii", False)))
    new = run(
        template,
        data=data_arg,
        params=params,
        out=out if out is not None else original_html.parent,
        name=manifest.get("name"),
        show_input=bool(manifest.get("show_input", False)),
        include_pii=include_pii,
        templates=templates,
    )
    after = report_tables(new.html.read_text(encoding="utf-8"))
    matches = None if before is None else before == after
    return Report(
        html=new.html,
        notebook=new.notebook,
        manifest_path=new.manifest_path,
        manifest=new.manifest,
        n_charts=new.n_charts,
        matches_original=matches,
        changed_inputs=changed,
    )


def _expand(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    base = dict(config.get("params") or {})
    jobs = [dict(base, **(item.get("params", item) or {})) for item in config.get("reports") or []]
    for_each = config.get("for_each") or {}
    if for_each:
        import itertools

        keys = sorted(for_each)
        for values in itertools.product(*(for_each[k] for k in keys)):
            jobs.append(dict(base, **dict(zip(keys, values, strict=True))))
    return jobs or [base]


def batch(
    config: str | Path | Mapping[str, Any],
    *,
    progress: bool = True,
    on_report: Callable[[Report], None] | None = None,
) -> list[Report]:
    """Render a set of reports described by a YAML file (or a mapping).

    The config names one ``template``, the ``data`` folder, the ``out`` folder, shared
    ``params``, and either a list ``reports`` of parameter sets or ``for_each`` (a
    parameter → list of values; every combination is rendered). Relative paths are
    relative to the YAML file. A progress bar shows the reports done (in a notebook or a
    terminal; not when the output goes to a file or a CI log).

    Example config::

        template: campaign_review
        data: ../sample_data
        out: ../reports/campaigns
        params: {period: 2026Q2}
        for_each:
          campaign: ["Spring Webinar", "Trade Show Berlin"]
    """
    base_dir = Path.cwd()
    if isinstance(config, str | Path):
        import yaml

        base_dir = Path(config).resolve().parent
        cfg: Mapping[str, Any] = yaml.safe_load(Path(config).read_text(encoding="utf-8"))
    else:
        cfg = config
    if "template" not in cfg:
        msg = "batch config needs a `template` key (e.g. template: campaign_review)"
        raise ValueError(msg)

    def _path(key: str, default: str | None) -> Path | None:
        value = cfg.get(key, default)
        return None if value is None else (base_dir / str(value)).resolve()

    data = _path("data", None)
    out = _path("out", "reports") or Path("reports")
    jobs = _expand(cfg)
    reports: list[Report] = []
    iterator: Iterable[dict[str, Any]] = progress_bar(
        jobs, desc=f"reports ({cfg['template']})", unit="report", enabled=progress
    )
    for params in iterator:
        rep = run(
            str(cfg["template"]),
            data=data,
            params=params,
            out=out,
            include_pii=bool(cfg.get("include_pii", False)),
            show_input=bool(cfg.get("show_input", False)),
        )
        reports.append(rep)
        if on_report is not None:
            on_report(rep)
    return reports
