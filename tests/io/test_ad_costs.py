"""Ad-cost reports: each vendor's real shape, one quirk per test."""

from __future__ import annotations

import codecs
import datetime as dt

import polars as pl
import pytest

from closedloop_kit.errors import SourceFormatError
from closedloop_kit.io.ad_costs import read_ad_costs

GOOGLE_UI = (
    "Campaign report\n"
    '"November 1, 2023 - November 30, 2023"\n'
    "Day,Campaign,Campaign ID,Campaign type,Currency code,Cost,Impr.,Clicks\n"
    '2023-11-01,brand_search,123-456,Search,USD,"1,020.50",12000,--\n'
    "2023-11-02,brand_search,123-456,Search,USD,5.00,--,3\n"
    "2023-11-02,yt_awareness,789,Video,USD,0.00,10,0\n"
    'Total: Account,,,,,"1,025.50",12010,3\n'
    'Total: Search,,,,,"1,025.50",12000,3\n'
)


def test_google_ads_ui_preamble_total_footer_quoted_thousands_and_dashes(tmp_path):
    p = tmp_path / "Campaign report.csv"
    p.write_text(GOOGLE_UI, encoding="utf-8")
    res = read_ad_costs(p)
    s = res["spend"].sort("date", "ad_campaign_name")
    assert s["cost"].to_list() == [1020.5, 5.0, 0.0]
    assert s["clicks"].to_list() == [None, 3, 0]  # "--" is null, not zero
    assert s["impressions"].to_list() == [12000, None, 10]
    assert s["ad_campaign_id"].to_list() == ["gads:123456", "gads:123456", "gads:789"]
    assert s["channel"].to_list() == ["Paid Search", "Paid Search", "Paid Video"]
    assert s["platform"].unique().to_list() == ["google_ads"]
    assert s["date"].to_list()[0] == dt.date(2023, 11, 1)
    rep = res.report.row(0, named=True)
    assert rep["header_line"] == 3
    assert (rep["rows_read"], rep["rows_kept"]) == (3, 3)  # Total rows are not data
    assert res.reconciles


def test_google_ads_csv_excel_variant_is_utf16_tab_separated(tmp_path):
    p = tmp_path / "report.csv"
    text = GOOGLE_UI.replace(",", "\t").replace('"1\t020.50"', "1,020.50")
    p.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    res = read_ad_costs(p, platform="google_ads")
    assert sorted(res["spend"]["cost"].to_list()) == [0.0, 5.0, 1020.5]
    rep = res.report.row(0, named=True)
    assert rep["encoding"].startswith("utf-16")
    assert rep["delimiter"] == "\t"


def test_google_ads_api_cost_micros(tmp_path):
    p = tmp_path / "api.csv"
    p.write_text(
        "segments.date,customer.id,campaign.id,campaign.name,campaign.advertising_channel_type,"
        "customer.currency_code,metrics.cost_micros,metrics.impressions,metrics.clicks\n"
        "2023-11-01,1234567890,111,brand,SEARCH,EUR,1020500000,100,7\n"
        "2023-11-01,1234567890,222,pmax,PERFORMANCE_MAX,EUR,3500000,50,1\n"
    )
    s = read_ad_costs(p)["spend"].sort("ad_campaign_id")
    # 1,020,500,000 micros / 1e6 = 1020.50
    assert s["cost"].to_list() == [1020.5, 3.5]
    assert s["currency"].to_list() == ["EUR", "EUR"]
    assert s["ad_account_id"].to_list() == ["gads:1234567890"] * 2


def test_linkedin_preamble_and_month_first_utc_dates(tmp_path):
    p = tmp_path / "campaign_performance_report.csv"
    p.write_text(
        "Campaign Performance Report (in UTC)\n"
        "Report Start: 11/1/2023 12:00 AM\n"
        "Report End: 11/30/2023 11:59 PM\n"
        "Date Generated: 12/1/2023 9:14 AM\n"
        "\n"
        "Start Date (in UTC),Account Name,Campaign Group Name,Campaign Name,Campaign ID,"
        "Total Spent,Currency,Impressions,Clicks\n"
        "11/2/2023,Acme,Q4,abm_q4,5551,250.10,USD,1000,12\n"
        "11/3/2023,Acme,Q4,abm_q4,5551,99.90,USD,800,9\n"
    )
    res = read_ad_costs(p)
    s = res["spend"].sort("date")
    # M/D/YYYY: 11/2/2023 is November 2nd, not February 11th
    assert s["date"].to_list() == [dt.date(2023, 11, 2), dt.date(2023, 11, 3)]
    assert s["platform"].unique().to_list() == ["linkedin_ads"]
    assert s["channel"].unique().to_list() == ["Paid Social"]
    assert s["ad_campaign_id"].to_list() == ["li:5551", "li:5551"]


def test_meta_currency_in_the_header(tmp_path):
    p = tmp_path / "meta.csv"
    p.write_text(
        "Reporting starts,Reporting ends,Campaign name,Day,Amount spent (EUR),Impressions,"
        "Link clicks\n"
        '2023-11-01,2023-11-30,retargeting,2023-11-01,"1.234,50",1000,\n'
        '2023-11-01,2023-11-30,retargeting,2023-11-02,"10,00",10,1\n'
    )
    s = read_ad_costs(p)["spend"].sort("date")
    assert s["currency"].to_list() == ["EUR", "EUR"]
    assert s["cost"].to_list() == [1234.5, 10.0]  # decimal comma decided from the data
    assert s["platform"].unique().to_list() == ["meta_ads"]


def test_microsoft_ads_report(tmp_path):
    p = tmp_path / "msads.csv"
    p.write_text(
        '"Report Name: Campaign performance"\n'
        '"Report Time: 11/1/2023 - 11/2/2023"\n'
        '"Time Zone: (GMT-08:00) Pacific Time (US & Canada); Tijuana"\n'
        "\n"
        '"Gregorian date","Account number","Campaign name","Campaign ID","Impressions",'
        '"Clicks","Spend","Currency code"\n'
        '"2023-11-01","F123","bing_brand","42","100","5","12.34","USD"\n'
        '"2023-11-01","F123","bing_brand","42","50","1","0.66","USD"\n'
        '"©2023 Microsoft Corporation. All rights reserved. "\n'
    )
    res = read_ad_costs(p)
    s = res["spend"]
    # two device rows of one day and campaign are summed; one is counted as merged
    assert s["cost"].to_list() == [13.0]
    assert s["impressions"].to_list() == [150]
    rep = res.report.row(0, named=True)
    assert (rep["rows_read"], rep["rows_kept"], rep["rows_merged"]) == (2, 1, 1)


def test_spend_without_currency_is_rejected_unless_stated(tmp_path):
    p = tmp_path / "li.csv"
    p.write_text(
        "Start Date (in UTC),Campaign Name,Campaign ID,Total Spent,Impressions,Clicks\n"
        "11/2/2023,abm,1,250.10,1000,12\n"
    )
    res = read_ad_costs(p)
    assert res["spend"].height == 0
    assert res.rejected["reason"].to_list() == ["no currency: state `currency=`"]
    assert res.rejected["source_row"].to_list() == [2]
    stated = read_ad_costs(p, currency="usd")
    assert stated["spend"]["currency"].to_list() == ["USD"]


def test_bad_row_is_rejected_not_fatal(tmp_path):
    p = tmp_path / "api.csv"
    p.write_text(
        "segments.date,campaign.id,campaign.name,customer.currency_code,metrics.cost_micros\n"
        "2023-11-01,1,a,USD,1000000\n"
        "not a date,2,b,USD,abc\n"
    )
    res = read_ad_costs(p)
    assert res["spend"].height == 1
    reason = res.rejected["reason"].item()
    assert "not a date" in reason
    assert "abc" in reason
    assert res.reconciles


def test_wrong_file_and_missing_column(tmp_path):
    p = tmp_path / "leads.csv"
    p.write_text("Id,Email,Company\n00Q1,a@x.com,Acme\n")
    with pytest.raises(SourceFormatError, match="not a known ad-cost report"):
        read_ad_costs(p)
    q = tmp_path / "meta.csv"
    q.write_text("Campaign name,Impressions\nx,1\n")
    with pytest.raises(SourceFormatError, match=r"needs the column"):
        read_ad_costs(q, platform="meta_ads")
    x = tmp_path / "renamed.csv"
    x.write_bytes(b"PK\x03\x04" + b"[Content_Types].xml" + b"\0" * 50)
    with pytest.raises(SourceFormatError, match="xlsx"):
        read_ad_costs(x)


def test_frame_types(tmp_path):
    p = tmp_path / "api.csv"
    p.write_text(
        "segments.date,campaign.id,campaign.name,customer.currency_code,metrics.cost_micros\n"
        "2023-11-01,1,a,USD,1000000\n"
    )
    s = read_ad_costs(p)["spend"]
    assert s.schema["cost"] == pl.Float64
    assert s.schema["date"] == pl.Date
    assert s["campaign_id"].to_list() == [None]


def test_doc_lists_every_mapped_column():
    from pathlib import Path

    from closedloop_kit.io.ad_costs import PLATFORMS

    doc = (Path(__file__).parents[2] / "docs" / "howto-ad-costs.md").read_text()
    for spec in PLATFORMS.values():
        for names in spec.columns.values():
            for name in names:
                if "(*)" not in name and not name.startswith("__"):  # __ = from a lookup
                    assert f"`{name}`" in doc, name


def test_api_channel_types(tmp_path):
    p = tmp_path / "api.csv"
    p.write_text(
        "segments.date,campaign.id,campaign.name,campaign.advertising_channel_type,"
        "customer.currency_code,metrics.cost_micros\n"
        "2023-11-01,1,a,PERFORMANCE_MAX,USD,1000000\n"
        "2023-11-01,2,b,DISPLAY,USD,1000000\n"
    )
    s = read_ad_costs(p)["spend"].sort("ad_campaign_id")
    assert s["channel"].to_list() == ["Cross-network", "Display"]


def test_windows_1252_report_and_ga4_file_suggests_read_ga4(tmp_path):
    p = tmp_path / "msads.csv"
    text = (
        "Gregorian date,Campaign name,Spend,Currency code\n"
        "2023-11-01,Caf\u00e9 \u2013 brand,\u20ac12.00,EUR\n"
    )
    p.write_bytes(text.encode("cp1252"))
    res = read_ad_costs(p)
    assert res["spend"]["ad_campaign_name"].to_list() == ["Caf\u00e9 \u2013 brand"]
    assert res.report["encoding"].to_list() == ["windows-1252"]
    g = tmp_path / "events_20231101.json"
    g.write_text(
        '{"event_timestamp": "1", "event_name": "page_view", "user_pseudo_id": "1.2"}\n'
        '{"event_timestamp": "2", "event_name": "page_view", "user_pseudo_id": "1.2"}\n'
    )
    with pytest.raises(SourceFormatError, match="read_ga4") as info:
        read_ad_costs(g)
    assert info.value.suggestion == "clk.io.read_ga4"


def test_ambiguous_day_month_dates_refused_then_read_with_dayfirst(tmp_path):
    # a report from a UK account: 05/11/2023 and 06/11/2023 read both ways
    p = tmp_path / "uk.csv"
    p.write_text(
        "Day,Campaign,Campaign ID,Currency code,Cost,Impr.,Clicks\n"
        "05/11/2023,brand,1,GBP,10.00,100,1\n"
        "06/11/2023,brand,1,GBP,12.00,120,2\n",
        encoding="utf-8",
    )
    with pytest.raises(SourceFormatError, match=r"uk\.csv: `Day`.*dayfirst"):
        read_ad_costs(p)
    res = read_ad_costs(p, dayfirst=True)
    assert sorted(res["spend"]["date"].to_list()) == [dt.date(2023, 11, 5), dt.date(2023, 11, 6)]


def test_german_locale_report_counts_read_with_the_file_decimal_comma(tmp_path):
    # Google Ads in a German locale: ";" separated, "1.234,50" costs; the impressions
    # "12.000" alone could be 12.0, but the file's decimal comma makes it 12000
    p = tmp_path / "de.csv"
    p.write_text(
        "Kampagnenbericht\n"
        "Day;Campaign;Campaign ID;Currency code;Cost;Impr.;Clicks\n"
        "2023-11-01;brand;1;EUR;1.234,50;12.000;1.001\n"
        "2023-11-02;brand;1;EUR;7,00;800;3\n",
        encoding="utf-8",
    )
    res = read_ad_costs(p)
    s = res["spend"].sort("date")
    assert s["cost"].to_list() == [1234.5, 7.0]
    assert s["impressions"].to_list() == [12000, 800]
    assert s["clicks"].to_list() == [1001, 3]
    assert "decimal comma" in res.report["notes"][0]


def test_campaign_ids_saved_through_excel(tmp_path):
    p = tmp_path / "gads.csv"
    p.write_text(
        "Day,Campaign,Campaign ID,Currency code,Cost,Impr.,Clicks\n"
        "2023-11-01,brand,12345678901.0,USD,10.00,100,1\n"
        "2023-11-01,generic,1.23457E+10,USD,5.00,50,1\n",
        encoding="utf-8",
    )
    res = read_ad_costs(p)
    s = res["spend"].sort("ad_campaign_name")
    # the spend is kept (it counts), the lost id is null and noted
    assert s["ad_campaign_id"].to_list() == ["gads:12345678901", None]
    assert s["cost"].to_list() == [10.0, 5.0]
    assert "1 id(s) in scientific notation" in res.report["notes"][0]


def test_date_range_rejects_days_outside_and_keeps_the_bounds(tmp_path):
    p = tmp_path / "gads.csv"
    p.write_text(
        "segments.date,campaign.id,campaign.name,customer.currency_code,metrics.cost_micros\n"
        "2023-10-31,111,brand,USD,1000000\n"
        "2023-11-01,111,brand,USD,2000000\n"
        "2023-11-30,111,brand,USD,3000000\n"
        "2023-12-01,111,brand,USD,4000000\n"
    )
    res = read_ad_costs(p, date_range=("2023-11-01", "2023-11-30"))
    assert res["spend"].sort("date")["cost"].to_list() == [2.0, 3.0]
    rej = res.rejected.sort("source_row")
    assert rej["source_row"].to_list() == [2, 5]
    assert rej["reason"].str.contains("outside the plausible dates 2023-11-01..2023-11-30").all()
    rep = res.report.row(0, named=True)
    assert (rep["rows_read"], rep["rows_kept"], rep["rows_rejected"]) == (4, 2, 2)
    assert res.reconciles


def test_date_range_from_a_load_config(tmp_path):
    import closedloop_kit as clk

    (tmp_path / "gads.csv").write_text(
        "segments.date,campaign.id,campaign.name,customer.currency_code,metrics.cost_micros\n"
        "2023-11-30,111,brand,USD,3000000\n"
        "2023-12-01,111,brand,USD,4000000\n"
    )
    cfg = tmp_path / "load.yaml"
    cfg.write_text(
        "sources:\n"
        "  - path: gads.csv\n"
        "    reader: ad_costs\n"
        "    options: {date_range: [2023-11-01, 2023-11-30]}\n"
    )
    data = clk.load(cfg, progress=False)
    assert data.spend["date"].to_list() == [dt.date(2023, 11, 30)]
    assert data.load_report["rows_rejected"].to_list() == [1]
