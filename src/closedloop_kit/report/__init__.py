"""L5 present: run template notebooks into offline HTML reports, rerun them, batch them.

:func:`run` executes a template from ``notebooks/`` with papermill and writes a
self-contained HTML file (charts inlined with the Vega JavaScript, a manifest embedded),
the executed notebook and the manifest; :func:`rerun` reproduces a report from its
manifest; :func:`batch` renders many from a YAML file. The ``closedloop`` command line
lives in :mod:`closedloop_kit.report.cli`. papermill and nbconvert load on first use.
"""

from closedloop_kit.report._export import redact_emails, report_tables
from closedloop_kit.report._manifest import read_manifest
from closedloop_kit.report._run import Report, batch, open_data, report_name, rerun, run
from closedloop_kit.report._templates import find_template, list_templates

__all__ = [
    "Report",
    "batch",
    "find_template",
    "list_templates",
    "open_data",
    "read_manifest",
    "redact_emails",
    "report_name",
    "report_tables",
    "rerun",
    "run",
]
