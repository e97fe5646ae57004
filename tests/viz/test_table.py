"""The one table formatter: known values for every column kind, names for ids, no dtype row."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import polars as pl
import pytest

import closedloop_kit as clk
from closedloop_kit._core.display import column_kinds, column_label, format_value, table_html
from closedloop_kit._core.result import Result
from closedloop_kit.report import table_problems


def _cells(html: str) -> list[str]:
    body = html[html.index("<tbody") : html.index("</tbody>")]
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", body)]


def test_known_values_per_kind():
    frame = pl.DataFrame(
        {
            "campaign": ["c1", "c2"],
            "attributed_revenue": [235553.434752, 0.0],
            "leads": [901.0, 12.0],
            "n_from": [1234, 5],
            "conversion_rate": [0.550226, None],
            "roas": [3.2, 0.5],
            "conversions": [0.527778, 4.259402],
            "day": [dt.date(2026, 3, 1), dt.date(2026, 3, 2)],
        }
    )
    kinds = column_kinds(frame)
    assert kinds == {
        "campaign": "text",
        "attributed_revenue": "currency",
        "leads": "integer",
        "n_from": "integer",
        "conversion_rate": "percent",
        "roas": "ratio",
        "conversions": "number",
        "day": "date",
    }
    # a funding schedule's money reads as money
    assert column_kinds(pl.DataFrame({"funding": [485642.51]})) == {"funding": "currency"}
    # a null row label is the group with no value (people no marketing touch reached);
    # a null elsewhere is a missing value
    labelled = pl.DataFrame({"channel": [None, "Email"], "note": ["x", None], "cost": [None, 2.0]})
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", table_html(labelled))
    assert cells == ["(none)", "x", "—", "Email", "—", "$2"]
    # attribution models by their names
    models = clk.viz.table(pl.DataFrame({"model": ["first_touch", "markov"], "roi": [0.1, 0.2]}))
    assert re.findall(r"<td[^>]*>([^<]*)</td>", models.as_raw_html())[::2] == [
        "First touch",
        "Markov chain",
    ]
    # cost_per_sales_ready's average deal (bookings / won deals) is money
    assert column_kinds(pl.DataFrame({"average_deal_size": [31200.0]})) == {
        "average_deal_size": "currency"
    }
    html = table_html(frame)
    # $235,553: rounded to whole currency units with a thousands separator;
    # 901.0 is a count -> "901"; 0.550226 -> 55.0 %; a missing rate reads "—"
    assert _cells(html)[:8] == [
        "c1",
        "$235,553",
        "901",
        "1,234",
        "55.0%",
        "3.20×",
        "0.53",
        "2026-03-01",
    ]
    assert _cells(html)[8:] == ["c2", "$0", "12", "5", "—", "0.50×", "4.26", "2026-03-02"]
    for header in [
        "Attributed revenue ($)",
        "Leads",
        "From (n)",
        "Conversion rate (%)",
        "ROAS (×)",
    ]:
        assert header in html
    assert "i64" not in html
    assert "f64" not in html
    assert "shape:" not in html
    assert table_problems(html) == []


def test_polars_html_has_the_problems_the_checker_finds():
    frame = pl.DataFrame({"campaign": [f"sf:{i}" for i in range(30)], "n": list(range(30))})
    raw = frame._repr_html_()
    problems = table_problems(raw, ids=["sf:1"])
    assert any("dtype row" in p for p in problems)
    assert any("'…'" in p for p in problems)
    assert any("raw id 'sf:1'" in p for p in problems)


def test_currency_from_frame_and_metric_value_rows():
    frame = pl.DataFrame({"cost": [1200.0], "currency": ["EUR"]})
    html = table_html(frame)
    assert "Cost (€)" in html
    assert "€1,200" in html
    assert ">Currency<" not in html
    summary = pl.DataFrame(
        {"metric": ["people after de-duplication", "share of web sessions linked"],
         "value": [901.0, 0.550226]}
    )  # fmt: skip
    assert _cells(table_html(summary)) == [
        "people after de-duplication", "901", "share of web sessions linked", "55.0%",
    ]  # fmt: skip


def test_no_truncation_of_short_tables_and_a_note_for_long_ones():
    short = pl.DataFrame({"i": list(range(11))})
    assert len(_cells(table_html(short))) == 11
    long = pl.DataFrame({"i": list(range(130))})
    html = table_html(long, max_rows=100)
    assert len(_cells(html)) == 100
    assert "Showing the first 100 of 130 rows." in html


def test_html_is_identical_on_a_rerun():
    frame = pl.DataFrame({"a": ["x"], "share": [0.5]})
    assert table_html(frame, title="t") == table_html(frame, title="t")


def test_viz_table_names_campaigns_from_the_data():
    data = clk.ClosedLoopData(
        tables={
            "campaigns": pl.DataFrame(
                {"campaign_id": ["sf:701A", "sf:701B"], "name": ["Spring webinar", "Berlin fair"]}
            )
        },
        corporate_currency="EUR",
    )
    frame = pl.DataFrame({"campaign": ["sf:701A", "sf:701B", "(direct)"], "cost": [1.0, 2.0, 0.0]})
    html = clk.viz.table(frame, data=data, title="Programs", source="Salesforce").as_raw_html()
    assert _cells(html) == ["Spring webinar", "€1", "Berlin fair", "€2", "(direct)", "€0"]
    assert table_problems(html, ids=["sf:701A", "sf:701B"]) == []
    assert ">Campaign<" in html
    assert "Programs" in html
    assert "Salesforce" in html


def test_labels():
    assert column_label("cost_per_sales_ready", "currency") == "Cost per sales-ready ($)"
    assert column_label("roi", "percent") == "ROI (%)"
    assert column_label("mqls", "integer") == "MQLs"
    assert format_value(float("nan"), "number") == "—"
    assert format_value(True, "text") == "yes"


@dataclass(frozen=True)
class _Toy(Result):
    table: pl.DataFrame
    detail: pl.DataFrame
    params: dict


@pytest.fixture
def toy():
    return _Toy(
        table=pl.DataFrame({"channel": ["Email"], "revenue": [1234.6], "share": [0.25]}),
        detail=pl.DataFrame({"n": [3]}),
        params={"model": "linear"},
    )


def test_result_html_is_people_formatted(toy):
    html = toy._repr_html_()
    assert "$1,235" in html
    assert "25.0%" in html
    assert "Revenue ($)" in html
    assert "model=linear" in html
    assert "detail (1 rows)" in html
    assert table_problems(html) == []


def test_result_write_excel_round_trip(toy, tmp_path):
    path = toy.write_excel(tmp_path / "toy.xlsx")
    sheets = pl.read_excel(path, sheet_id=0)
    assert set(sheets) == {"summary", "detail"}
    assert sheets["summary"]["revenue"].to_list() == [1234.6]
    assert sheets["detail"]["n"].to_list() == [3]
    assert toy.to_pandas()["share"].tolist() == [0.25]
