"""L5 present: run template notebooks into offline HTML reports, rerun them, batch them.

:func:`run` executes a template from ``notebooks/`` with papermill and writes a
self-contained HTML file (charts inlined with the Vega JavaScript, a manifest embedded),
the executed notebook and the manifest; :func:`rerun` reproduces a report from its
manifest; :func:`batch` renders many from a YAML file; :func:`review` renders a dated
review per week or month with an index of headline deltas; :func:`prepare_serve` lays out
the Voilà dashboard that ``closedloop serve`` runs; :func:`table_problems` checks a
report's tables for people (no dtype row, names not ids) and :func:`report_kpis` reads
its KPI tiles back with their exact values. The ``closedloop`` command line
lives in :mod:`closedloop_kit.report.cli`. papermill, nbconvert and voila load on first use.
"""

from closedloop_kit.report._export import redact_emails, report_tables
from closedloop_kit.report._index import ReportsIndex, list_reports, reports_index
from closedloop_kit.report._manifest import read_manifest
from closedloop_kit.report._review import Review, data_end, review, review_periods
from closedloop_kit.report._run import (
    Report,
    batch,
    data_label,
    file_labels,
    open_data,
    report_name,
    rerun,
    run,
)
from closedloop_kit.report._serve import is_loopback, prepare_serve, voila_command
from closedloop_kit.report._tables import report_kpis, table_problems
from closedloop_kit.report._templates import find_template, list_templates

__all__ = [
    "Report",
    "ReportsIndex",
    "Review",
    "batch",
    "data_end",
    "data_label",
    "file_labels",
    "find_template",
    "is_loopback",
    "list_reports",
    "list_templates",
    "open_data",
    "prepare_serve",
    "read_manifest",
    "redact_emails",
    "report_kpis",
    "report_name",
    "report_tables",
    "reports_index",
    "rerun",
    "review",
    "review_periods",
    "run",
    "table_problems",
    "voila_command",
]
