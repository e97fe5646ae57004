"""Warehouse-synced ad tables (Fivetran connectors), in the column names of the public
dbt_google_ads_source, dbt_facebook_ads_source and dbt_linkedin_source seed files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

import closedloop_kit as clk
from closedloop_kit.io import read_ad_costs


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / name
    p.write_text(text)
    return p


def _google(folder: Path) -> Path:
    stats = _write(
        folder,
        "campaign_stats.csv",
        "_fivetran_id,customer_id,date,_fivetran_synced,ad_network_type,base_campaign,"
        "clicks,conversions,conversions_value,cost_micros,device,id,impressions,"
        "interaction_event_types,interactions,view_through_conversions\n"
        # one campaign-day in three device segments: 0.10 + 0.20 + 36.15 USD
        "a1,2121450128,2021-02-01,2021-06-29 17:10:11,SEARCH,"
        "customers/2121450128/campaigns/9935249409,1,0,0,100000,DESKTOP,9935249409,10,"
        "[CLICK],1,0\n"
        "a2,2121450128,2021-02-01,2021-06-29 17:10:11,SEARCH,"
        "customers/2121450128/campaigns/9935249409,2,0,0,200000,TABLET,9935249409,20,"
        "[CLICK],2,0\n"
        "a3,2121450128,2021-02-01,2021-06-29 17:10:11,SEARCH,"
        "customers/2121450128/campaigns/9935249409,49,0,0,36150000,MOBILE,9935249409,166,"
        "[CLICK],49,0\n",
    )
    _write(
        folder,
        "campaign_history.csv",
        "id,updated_at,name,customer_id,advertising_channel_type,advertising_channel_subtype,"
        "start_date,end_date,serving_status,status,tracking_url_template\n"
        "9935249409,2021-06-29T17:19:05.102,old name,2121450128,SEARCH,UNSPECIFIED,"
        "2020-04-22,2037-12-30,SERVING,PAUSED,\n"
        "9935249409,2021-08-25T20:21:09.602,brand_search,2121450128,SEARCH,UNSPECIFIED,"
        "2020-04-22,2037-12-30,SERVING,PAUSED,\n",
    )
    _write(
        folder,
        "account_history.csv",
        "id,updated_at,_fivetran_synced,auto_tagging_enabled,currency_code,descriptive_name,"
        "final_url_suffix,hidden,manager,manager_customer_id,optimization_score,"
        "pay_per_conversion_eligibility_failure_reasons,test_account,time_zone,"
        "tracking_url_template\n"
        "2121450128,2022-02-01 2:20:51,2022-02-01 2:20:52,TRUE,EUR,,FALSE,FALSE,,0.5,[],"
        "FALSE,America/Los_Angeles,,\n",
    )
    return stats


def test_google_ads_campaign_stats_micros_exact_to_the_cent(tmp_path: Path) -> None:
    stats = _google(tmp_path)
    res = read_ad_costs(stats)
    spend = res["spend"].row(0, named=True)
    # 100000 + 200000 + 36150000 micros = 36450000 micros = 36.45 (summed as integers)
    assert spend["cost"] == 36.45
    assert spend["impressions"] == 196
    assert spend["currency"] == "EUR"  # account_history.currency_code
    assert spend["ad_campaign_name"] == "brand_search"  # latest campaign_history version
    assert spend["ad_campaign_id"] == "gads:9935249409"
    assert spend["channel"] == "Paid Search"
    rep = res.report.row(0, named=True)
    assert (rep["rows_read"], rep["rows_kept"], rep["rows_merged"]) == (3, 1, 2)
    assert rep["format"] == "google_ads_warehouse table"


def test_google_ads_ad_stats_summed_to_the_campaign_day(tmp_path: Path) -> None:
    _google(tmp_path)
    (tmp_path / "campaign_stats.csv").unlink()
    _write(
        tmp_path,
        "ad_stats.csv",
        "customer_id,date,ad_group_id,ad_group,keyword_ad_group_criterion,ad_network_type,"
        "device,ad_id,campaign_id,clicks,cost_micros,impressions\n"
        "2121450128,2021-05-19,,customers/2121450128/adGroups/1,,SEARCH,DESKTOP,5148,"
        "9935249409,1,1010000,3\n"
        "2121450128,2021-05-19,,customers/2121450128/adGroups/1,,SEARCH,DESKTOP,5149,"
        "9935249409,2,2020000,4\n",
    )
    spend = read_ad_costs(tmp_path / "ad_stats.csv")["spend"]
    assert spend.select("date", "cost", "clicks").rows() == [(dt.date(2021, 5, 19), 3.03, 3)]


def test_folder_load_lists_the_dimension_tables(tmp_path: Path) -> None:
    _google(tmp_path)
    data = clk.load(tmp_path, progress=False, corporate_currency="EUR")
    rep = data.load_report.sort("path")
    assert rep["reader"].to_list() == ["ad_costs"] * 3
    dims = rep.filter(pl.col("object").is_in(["campaign_history", "account_history"]))
    assert dims.height == 2
    assert dims["notes"].str.contains("a dimension table, read as a lookup").all()
    assert (dims["rows_read"] == dims["rows_merged"]).all()
    assert data["spend"].height == 1


def _meta(folder: Path, *, with_ads: bool = True) -> Path:
    stats = _write(
        folder,
        "basic_ad.csv",
        "ad_id,date,account_id,impressions,inline_link_clicks,spend\n"
        "6215293456071,2020-12-10,1700252260223815,4233,10,76.53\n"
        "6215304566671,2020-12-10,1700252260223815,2575,10,55.26\n",
    )
    if with_ads:
        _write(
            folder,
            "ad_history.csv",
            "id,account_id,ad_set_id,campaign_id,creative_id,name,_fivetran_synced,"
            "updated_time\n"
            "6215293456071,1700252260223815,62157627,6215293444271,62157,v1,"
            "2021-06-29T14:22:06.401,2020-12-31T15:30:04\n"
            "6215304566671,1700252260223815,62157628,6215293444271,62158,v1,"
            "2021-06-29T14:22:06.401,2020-12-31T15:30:04\n",
        )
    _write(
        folder,
        "campaign_history.csv",
        "id,account_id,name,_fivetran_synced,updated_time\n"
        "6215293444271,1700252260223815,retargeting_q4,2021-03-04T14:20:41.962,"
        "2020-11-23T16:27:51\n",
    )
    return stats


def test_meta_basic_ad_rows_become_campaign_days(tmp_path: Path) -> None:
    res = read_ad_costs(_meta(tmp_path), currency="USD")
    row = res["spend"].row(0, named=True)
    # two ads of one campaign on one day: 76.53 + 55.26 = 131.79 (not 131.79000000000002)
    assert row["cost"] == 131.79
    assert row["ad_campaign_id"] == "meta:6215293444271"
    assert row["ad_campaign_name"] == "retargeting_q4"
    assert row["clicks"] == 20
    assert row["channel"] == "Paid Social"


def test_meta_basic_ad_without_ad_history_is_refused(tmp_path: Path) -> None:
    with pytest.raises(clk.errors.SourceFormatError, match="`ad_history` table"):
        read_ad_costs(_meta(tmp_path, with_ads=False), currency="USD")


def _linkedin(folder: Path, *, with_account: bool) -> Path:
    stats = _write(
        folder,
        "ad_analytics_by_campaign.csv",
        "campaign_id,day,clicks,conversion_value_in_local_currency,cost_in_local_currency,"
        "cost_in_usd,impressions,landing_page_clicks\n"
        "148633856,2020-04-06 00:00:00,18,0,90.10,100.25,700,12\n",
    )
    _write(
        folder,
        "campaign_history.csv",
        "id,last_modified_time,account_id,campaign_group_id,created_time,name,version_tag\n"
        "148633856,2019-09-14 17:53:17.393,507515057,600268686,2018-07-25 14:59:12,"
        "abm_tier1,33\n",
    )
    if with_account:
        _write(
            folder,
            "account_history.csv",
            "id,last_modified_time,created_time,name,currency,version_tag\n"
            "507515057,2020-10-12 19:05:20.398,2017-06-07 22:44:32,Acme,EUR,55\n",
        )
    return stats


def test_linkedin_local_cost_when_the_account_currency_is_known(tmp_path: Path) -> None:
    res = read_ad_costs(_linkedin(tmp_path, with_account=True))
    row = res["spend"].row(0, named=True)
    assert (row["cost"], row["currency"]) == (90.10, "EUR")
    assert row["ad_account_id"] == "li:507515057"
    assert row["ad_campaign_name"] == "abm_tier1"
    assert "cost from `cost_in_local_currency` in the account currency" in res.report["notes"][0]


def test_linkedin_usd_cost_without_account_history(tmp_path: Path) -> None:
    res = read_ad_costs(_linkedin(tmp_path, with_account=False))
    row = res["spend"].row(0, named=True)
    assert (row["cost"], row["currency"]) == (100.25, "USD")
    assert "cost from `cost_in_usd`" in res.report["notes"][0]


def test_marketo_warehouse_activity_table(tmp_path: Path) -> None:
    # dbt_marketo_source `activity_click_email`: the activity id in `id`, attributes
    # flattened into columns (`link`, `email_template_id`...), no marketoGUID
    p = _write(
        tmp_path,
        "activity_click_email.csv",
        "\ufeffactivity_date,activity_type_id,campaign_id,campaign_run_id,choice_number,device,"
        "email_template_id,id,is_mobile_device,lead_id,link,platform,primary_attribute_value,"
        "primary_attribute_value_id,step_id,user_agent\n"
        "2020-04-30 08:05:11.000,11,2522,758,0,,1810,58851192,,1124755,"
        "https://example.com/elt?utm_source=mkto&utm_campaign=elt,,Webinar Invite 3,1810,"
        "5436,\n",
    )
    res = clk.io.read_marketo(p)
    tp = res["touchpoints"].row(0, named=True)
    assert tp["touchpoint_id"] == "mkto:58851192"
    assert tp["person_id"] == "mkto:1124755"
    assert tp["touch_type"] == "email_click"
    assert tp["campaign_name"] == "Webinar Invite 3"
    assert tp["content"] == "https://example.com/elt?utm_source=mkto&utm_campaign=elt"  # `link`
    assert tp["occurred_at"] == dt.datetime(2020, 4, 30, 8, 5, 11, tzinfo=dt.UTC)
    assert res.reconciles


def test_pardot_warehouse_campaign_table(tmp_path: Path) -> None:
    # dbt_pardot_source `campaign` seed shape
    p = _write(
        tmp_path,
        "pardot_campaign.csv",
        "id,_fivetran_deleted,_fivetran_synced,cost,name\n"
        "87939,true,2019-10-24 22:07:56.311 UTC,,Old webinar\n"
        "66341,false,2020-11-30 18:08:06.120 UTC,1200.50,Trade show 2020\n",
    )
    res = clk.io.read_pardot(p)
    camp = res["campaigns"].sort("campaign_id")
    assert camp.select("campaign_id", "name", "actual_cost").rows() == [
        ("pardot:66341", "Trade show 2020", None),  # a cost without a currency: not kept
        ("pardot:87939", "Old webinar", None),
    ]
    notes = res.report["notes"][0]
    assert "1 campaign(s) deleted in Pardot" in notes
    assert "`cost` of 1 campaign(s) not kept" in notes
    data = clk.load(tmp_path, progress=False)
    assert data.load_report["reader"].to_list() == ["pardot"]
