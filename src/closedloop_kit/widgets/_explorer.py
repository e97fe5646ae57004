"""``explorer(prepared)``: controls, a chart and tables that update when a control changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from closedloop_kit.attribution import MODEL_LABELS
from closedloop_kit.config import Taxonomy
from closedloop_kit.widgets._state import ExplorerState, ExplorerView, compute_view, options

if TYPE_CHECKING:
    from closedloop_kit.prepared import Prepared

__all__ = ["CONVERSIONS", "Explorer", "dashboard", "explorer"]

CONVERSIONS = Taxonomy.default().stages
"""Stages the conversion control offers (read as the prepared model's taxonomy names them)."""
_MODELS = (
    "first_touch",
    "last_touch",
    "linear",
    "time_decay",
    "position_based",
    "w_shaped",
    "markov",
    "shapley",
)
"""Models the model control offers (named by :data:`closedloop_kit.attribution.MODEL_LABELS`)."""
_WIDE = {"description_width": "initial"}  # labels in full ("Lookback (d)", "Product line")


class Explorer:
    """An interactive view of attribution and conversion for a :class:`Prepared`.

    ``controls`` maps a name to its ipywidget (``conversion``, ``level``, ``model``,
    ``lookback``, ``dates``, ``product_lines``, ``divisions``, ``channels``,
    ``campaigns``); setting a control's ``.value`` recomputes :attr:`view` (the frames
    shown) and redraws. Works without a browser: tests set ``.value`` and read :attr:`view`.

    With ``kpis=True`` (the dashboard) a ``period`` dropdown (quarters and months)
    replaces the month slider, and KPI tiles for the period against the one before
    (:func:`closedloop_kit.widgets.kpis`) sit on top; :attr:`kpis` holds their frame.
    Tables are formatted for people with :func:`closedloop_kit.viz.table`.
    """

    def __init__(
        self,
        prepared: Prepared,
        *,
        state: ExplorerState | None = None,
        compute: Callable[[Prepared, ExplorerState], ExplorerView] = compute_view,
        chart: Callable[..., Any] | None = None,
        kpis: bool = False,
    ) -> None:
        import ipywidgets as w

        self.prepared = prepared
        self._compute = compute
        self._chart_fn = chart
        opts = options(prepared)
        self.months: list[dt.date] = list(opts["months"])
        s = state or ExplorerState()
        self.controls: dict[str, Any] = {
            "conversion": w.Dropdown(
                options=[(prepared.taxonomy.label(c), c) for c in CONVERSIONS],
                value=s.conversion,
                description="Conversion",
                style=_WIDE,
            ),
            "level": w.ToggleButtons(
                options=("person", "account"), value=s.level, description="Level"
            ),
            "model": w.Dropdown(
                options=[(MODEL_LABELS[m], m) for m in _MODELS],
                value=s.model,
                description="Model",
                style=_WIDE,
            ),
            "lookback": w.IntSlider(
                value=s.lookback_days,
                min=7,
                max=730,
                step=1,
                description="Lookback (d)",
                style=_WIDE,
            ),
            "product_lines": w.SelectMultiple(
                options=opts["product_lines"], value=s.product_lines, description="Product line"
            ),
            "divisions": w.SelectMultiple(
                options=opts["divisions"], value=s.divisions, description="Division"
            ),
            "channels": w.SelectMultiple(
                options=opts["channels"], value=s.channels, description="Channel"
            ),
            "campaigns": w.SelectMultiple(
                options=opts["campaigns"], value=s.campaigns, description="Campaign"
            ),
        }
        self.show_kpis = kpis
        if kpis:
            choices = [("All time", None), *opts["periods"]]
            self.controls["period"] = w.Dropdown(
                options=choices,
                value=choices[1][1] if len(choices) > 1 else None,
                description="Period",
            )
        elif len(self.months) >= 2:
            labels = [(m.strftime("%Y-%m"), m) for m in self.months]
            self.controls["dates"] = w.SelectionRangeSlider(
                options=labels, index=(0, len(labels) - 1), description="Months"
            )
        self.chart_out = w.Output()
        self.table_out = w.Output()
        self.chart_out.add_class("clk-chart-out")  # stable hooks for pages and browser tests
        self.table_out.add_class("clk-tables-out")
        self.status = w.HTML()
        self.tiles = w.HTML()
        self.view: ExplorerView | None = None
        self.kpis: Any = None
        self.chart: Any = None
        for ctl in self.controls.values():
            ctl.observe(self._on_change, names="value")
        period = [self.controls[k] for k in ("period", "dates") if k in self.controls]
        self.widget = w.VBox(
            [
                *([self.tiles] if kpis else []),
                w.HBox([*period[:1], self.controls["conversion"], self.controls["model"]]),
                w.HBox([self.controls["level"], self.controls["lookback"]]),
                *period[1:],
                w.HBox(
                    [
                        self.controls["product_lines"],
                        self.controls["divisions"],
                        self.controls["channels"],
                        self.controls["campaigns"],
                    ]
                ),
                self.status,
                self.chart_out,
                self.table_out,
            ]
        )
        self.refresh()

    @property
    def state(self) -> ExplorerState:
        """The choices currently set in the controls."""
        c = self.controls
        start = end = None
        if "period" in c and c["period"].value is not None:
            start, end = c["period"].value
        elif "dates" in c:
            lo, hi = c["dates"].value
            start = lo
            end = (hi.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        return ExplorerState(
            conversion=c["conversion"].value,
            level=c["level"].value,
            model=c["model"].value,
            lookback_days=int(c["lookback"].value),
            start=start,
            end=end,
            product_lines=tuple(c["product_lines"].value),
            divisions=tuple(c["divisions"].value),
            channels=tuple(c["channels"].value),
            campaigns=tuple(c["campaigns"].value),
        )

    def _on_change(self, _change: Any) -> None:
        self.refresh()

    def refresh(self) -> ExplorerView:
        """Recompute the view from the controls and redraw the chart and tables."""
        from IPython.display import HTML, display

        from closedloop_kit import viz

        state = self.state
        view = self._compute(self.prepared, state)
        self.view = view
        if self.show_kpis:
            self._refresh_kpis(state)
        title = f"Credit by channel ({MODEL_LABELS.get(view.state.model, view.state.model)})"
        if not view.credit.height:
            self.chart = None
        elif self._chart_fn is not None:
            self.chart = self._chart_fn(view.credit, title=title)
        else:
            self.chart = _bars_html(view.credit, title)
        self.status.value = (
            f"<b>{view.n_converting:,}</b> converting of <b>{view.n_journeys:,}</b> journeys"
            + "".join(f"<br><i>{n}</i>" for n in view.notes)
        )
        self.chart_out.clear_output(wait=True)
        self.table_out.clear_output(wait=True)
        with self.chart_out:
            if isinstance(self.chart, str):
                display(HTML(self.chart))
            elif self.chart is not None:
                display(self.chart)
        with self.table_out:
            credit = view.credit.rename({"value": "credited_amount"}, strict=False)
            display(viz.table(credit, data=self.prepared.data, title=title, source=_source(state)))
            if view.rates.height:
                names = viz.conversion_names(self.prepared.taxonomy.labels)
                display(
                    viz.table(
                        view.rates, title="Funnel conversion", source=_source(state), names=names
                    )
                )
        return view

    def _refresh_kpis(self, state: ExplorerState) -> None:
        from closedloop_kit import viz
        from closedloop_kit.widgets._kpis import kpis

        if state.start is None or state.end is None:
            self.kpis = None
            self.tiles.value = "<p><i>Choose a period to see the headline numbers.</i></p>"
            return
        self.kpis = kpis(
            self.prepared,
            start=state.start,
            end=state.end,
            product_lines=state.product_lines,
            divisions=state.divisions,
            channels=state.channels,
        )
        row = self.kpis.row(0, named=True)
        title = (
            f"{state.start:%Y-%m-%d} to {state.end:%Y-%m-%d} "
            f"(vs {row['previous_start']:%Y-%m-%d} to {row['previous_end']:%Y-%m-%d})"
        )
        self.tiles.value = viz.kpi_tiles(
            self.kpis, currency=self.prepared.currency, title=title
        ).html

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


def _bars_html(credit: Any, title: str) -> str:
    """A dependency-free horizontal bar chart of ``share`` by ``channel`` (HTML)."""
    import html

    rows = []
    for r in credit.iter_rows(named=True):
        pct = max(0.0, float(r["share"] or 0.0)) * 100
        rows.append(
            f'<div style="display:flex;align-items:center;gap:.5rem;font-size:12px">'
            f'<span style="width:160px;text-align:right">{html.escape(str(r["channel"]))}</span>'
            f'<span style="display:inline-block;height:12px;width:{pct * 3:.1f}px;'
            f'background:#0072B2"></span><span>{pct:.1f}%</span></div>'
        )
    return f"<div><b>{html.escape(title)}</b>{''.join(rows)}</div>"


def _source(state: ExplorerState) -> str:
    model = MODEL_LABELS.get(state.model, state.model)
    parts = [f"{model} attribution", f"{state.lookback_days}-day lookback"]
    if state.start is not None and state.end is not None:
        parts.append(f"{state.start:%Y-%m-%d} to {state.end:%Y-%m-%d}")
    for label, chosen in (
        ("product lines", state.product_lines),
        ("divisions", state.divisions),
        ("channels", state.channels),
        ("campaigns", state.campaigns),
    ):
        if chosen:
            parts.append(f"{label}: {len(chosen)} chosen")
    return "Filters: " + "; ".join(parts)


def dashboard(prepared: Prepared, **kwargs: Any) -> Explorer:
    """The review dashboard: KPI tiles, filters, the credit chart and tables, updated in place.

    The :class:`Explorer` with ``kpis=True`` and altair charts
    (:func:`closedloop_kit.viz.attribution_chart`): filters for period, product line,
    division, channel, campaign and attribution model, all read from the prepared model
    (its channels and campaigns). ``closedloop serve`` shows it.
    """
    from closedloop_kit import viz

    kwargs.setdefault("chart", viz.attribution_chart)
    return Explorer(prepared, kpis=True, **kwargs)


def explorer(prepared: Prepared, **kwargs: Any) -> Explorer:
    """Explore attribution and conversion interactively (in Jupyter).

    Pick the conversion, the level (person/account), the attribution model, the lookback,
    the date range, and product line, division and channel filters; the credit chart and
    the tables update. See :class:`Explorer` for the controls. Pass
    ``chart=clk.viz.attribution_chart`` for the altair chart (widgets do not import altair;
    the default is a plain HTML bar chart).
    """
    return Explorer(prepared, **kwargs)
