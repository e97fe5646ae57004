"""GA4 sessions checked against an independent, event-by-event Python reading.

The reader parses only what every event needs and finishes the traffic source and
click id on the one event a session takes them from (see docs/howto-ga4.md). This
oracle does the opposite: ``json.loads`` of every line, every field of every event
built by the documented rules, then the session picked in plain Python. Random exports
(seeded) exercise what the split must not change: blank and ``(not set)`` values,
parameters with all four value fields (nulls first), numbers, JSON escapes (quotes,
backslashes, newlines, tabs, ``\\u00e9``), UTM and
click ids in URLs, first-session fallbacks, the last click, events without a visitor,
timestamp or session.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from closedloop_kit.io.ga4 import read_ga4

_CLICK = re.compile(r"[?&#](gclid|dclid|wbraid|gbraid|msclkid|fbclid|li_fat_id)=([^&#]+)")
_FIELDS = {  # field: collected manual field, parameter, URL parameter, last click, first touch
    "source": ("manual_source", "source", "utm_source", "source", "source"),
    "medium": ("manual_medium", "medium", "utm_medium", "medium", "medium"),
    "campaign_name": ("manual_campaign_name", "campaign", "utm_campaign", "campaign_name", "name"),
    "term": ("manual_term", "term", "utm_term", "term", None),
    "content": ("manual_content", "content", "utm_content", "content", None),
}


def _blank(v: Any) -> str | None:
    if v is None:
        return None
    s = str(v).strip()
    return None if s in ("", "(not set)") else s


def _param(params: list[dict[str, Any]], key: str) -> str | None:
    """The first parameter named ``key``: its first non-null value field, as text."""
    for p in params:
        if p.get("key") == key:
            for v in (p.get("value") or {}).values():
                if v is not None:
                    return v if isinstance(v, str) else json.dumps(v)
            return None
    return None


def _url(url: str | None, name: str) -> str | None:
    if url is None:
        return None
    m = re.search(rf"[?&#]{name}=([^&#]*)", url)
    if m is None:
        return None
    value = m.group(1).replace("+", " ").replace("%20", " ")
    return value or None


def _event(e: dict[str, Any]) -> dict[str, Any] | None:
    """One event as the reader should see it; None when it cannot be in a session."""
    params = e.get("event_params") or []
    upid = _blank(e.get("user_pseudo_id"))
    ts = str(e.get("event_timestamp", "")).strip()
    sid = _param(params, "ga_session_id")
    if upid is None or not re.fullmatch(r"-?\d+", ts) or sid is None:
        return None
    page = _param(params, "page_location")
    collected = e.get("collected_traffic_source") or {}
    last = (e.get("session_traffic_source_last_click") or {}).get("manual_campaign") or {}
    first = e.get("traffic_source") or {}
    first_session = _param(params, "ga_session_number") == "1"
    src = {}
    for field, (manual, key, utm, last_key, first_key) in _FIELDS.items():
        candidates = [collected.get(manual), _param(params, key), _url(page, utm)]
        candidates.append(last.get(last_key))
        if first_session and first_key is not None:
            candidates.append(first.get(first_key))
        src[field] = next((b for c in candidates if (b := _blank(c)) is not None), None)
    click = None
    if (g := _blank(collected.get("gclid"))) is not None:
        click = f"gclid:{g}"
    elif (d := _blank(collected.get("dclid"))) is not None:
        click = f"dclid:{d}"
    elif page is not None and (m := _CLICK.search(page)):
        click = f"{m.group(1)}:{m.group(2)}"
    return {
        "session_id": f"ga4:{upid}:{sid}",
        "ts": int(ts),
        "page": page,
        "referrer": _param(params, "page_referrer"),
        "src": src,
        "click": click,
        "user_id": _blank(e.get("user_id")),
    }


def oracle_sessions(lines: list[str]) -> dict[str, dict[str, Any]]:
    """Session id → the touchpoint's columns, by the documented rules, in Python."""
    events: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        if line.strip() and (e := _event(json.loads(line))) is not None:
            events.setdefault(e["session_id"], []).append(e)
    out = {}
    for sid, evs in events.items():
        evs.sort(key=lambda e: e["ts"])

        def first_of(test: Any, evs: list[dict[str, Any]] = evs) -> dict[str, Any] | None:
            return next((e for e in evs if test(e)), None)

        with_src = first_of(lambda e: e["src"]["source"] or e["src"]["medium"])
        src = with_src["src"] if with_src else dict.fromkeys(_FIELDS)
        click = first_of(lambda e: e["click"] is not None)
        page = first_of(lambda e: e["page"] is not None)
        user = first_of(lambda e: e["user_id"] is not None)
        row = {
            **src,
            "click_id": click["click"] if click else None,
            "landing_page": re.sub(r"[?#].*$", "", page["page"]) if page else None,
            "referrer": evs[0]["referrer"],
            "user_id": user["user_id"] if user else None,
            "events": len(evs),
        }
        if all(row[c] is None for c in ("source", "medium", "referrer", "click_id")):
            row["source"], row["medium"] = "(direct)", "(none)"
        if row["campaign_name"] in ("(direct)", "(organic)", "(referral)", "(none)"):
            row["campaign_name"] = None
        out[sid] = row
    return out


def random_export(seed: int, n: int = 2500) -> list[str]:
    """``n`` random events as NDJSON lines (timestamps unique: no ties to break)."""
    rnd = random.Random(seed)
    values = [
        "google",
        "",
        "(not set)",
        " linkedin ",
        'news"letter',
        "bing",
        "a\\b",
        "Café",
        "a\nb\tc",
        None,
    ]

    def chance(p: float) -> bool:
        return rnd.random() < p

    def value(v: Any) -> dict[str, Any]:
        if chance(0.3):  # all four value fields, the unused ones null (as some tools write)
            return {"string_value": v, "int_value": None, "float_value": None, "double_value": None}
        return {"string_value": v}

    stamps = rnd.sample(range(86_400_000_000), n)
    lines = []
    for ts in sorted(stamps):
        u = rnd.randrange(60)
        params: list[dict[str, Any]] = []
        if not chance(0.03):
            sid = 1_698_800_000 + (u % 5) * 1000 + rnd.randrange(2)
            params.append(
                {"key": "ga_session_id", "value": {"int_value": rnd.choice([sid, str(sid)])}}
            )
        if chance(0.6):
            params.append(
                {"key": "ga_session_number", "value": {"int_value": rnd.choice(["1", "2", 1])}}
            )
        if chance(0.85):
            url = f"https://example.com/p/{rnd.randrange(4)}"
            if chance(0.3):
                url += "?utm_source=" + rnd.choice(["google", "", "li+nk", "%20x"])
                url += "&utm_medium=" + rnd.choice(["cpc", "", "(not set)"])
                url += "&utm_campaign=" + rnd.choice(["spring%20sale", "brand", ""])
                url += "&utm_term=t&utm_content=" + rnd.choice(["c", ""])
            if chance(0.2):
                url += ("&" if "?" in url else "?") + rnd.choice(["gclid", "fbclid", "msclkid"])
                url += "=" + rnd.choice(["abc", "", "X9"])
            if chance(0.05):
                url += "#frag"
            params.append({"key": "page_location", "value": value(url)})
        if chance(0.4):
            ref = rnd.choice(["https://google.com/", 'https://x.com/?q="a"', ""])
            params.append({"key": "page_referrer", "value": value(ref)})
        for key in ("source", "medium", "campaign", "term", "content"):
            if chance(0.08):
                params.append({"key": key, "value": value(rnd.choice(values[:-1]))})
        if chance(0.05):
            params.append({"key": "value", "value": {"double_value": rnd.choice([1.5, 2.0])}})
        if chance(0.03):  # a value that spells a source parameter: not a parameter
            fake = '"key":"source","value":{"string_value":"evil"}'
            params.append({"key": "note", "value": {"string_value": fake}})
        rnd.shuffle(params)
        e: dict[str, Any] = {
            "event_date": "20231101",
            "event_timestamp": rnd.choice([str(T0 + ts), T0 + ts]) if not chance(0.01) else "x",
            "event_name": rnd.choice(["page_view", "page_view", "scroll", "session_start"]),
            "event_params": params,
            "user_pseudo_id": f"{u}.169{u:04d}" if not chance(0.01) else rnd.choice([None, " "]),
        }
        if chance(0.1):
            e["user_id"] = rnd.choice(["U1", " u2 ", " ", "(not set)"])
        if chance(0.3):
            manual = ["manual_source", "manual_medium", "manual_campaign_name", "manual_term"]
            e["collected_traffic_source"] = {k: rnd.choice(values) for k in manual if chance(0.6)}
            if chance(0.3):
                e["collected_traffic_source"]["gclid"] = rnd.choice(["G1", "", None])
            if chance(0.1):
                e["collected_traffic_source"]["dclid"] = rnd.choice(["D1", ""])
        if chance(0.4):
            keys = ["campaign_name", "source", "medium", "term", "content"]
            e["session_traffic_source_last_click"] = {
                "manual_campaign": {k: rnd.choice(values) for k in keys if chance(0.7)}
            }
        if chance(0.5):
            e["traffic_source"] = {
                "name": rnd.choice(["(direct)", "brand", "(organic)", ""]),
                "medium": rnd.choice(["organic", "(none)", "cpc"]),
                "source": rnd.choice(["google", "(direct)"]),
            }
        if chance(0.1):  # a user property with a parameter's shape: not a parameter
            e["user_properties"] = [{"key": "source", "value": {"string_value": "prop"}}]
        lines.append(json.dumps(e, ensure_ascii=chance(0.5)))  # "é" or "\\u00e9"
    return lines


T0 = 1_698_796_800_000_000  # 2023-11-01T00:00:00Z in µs


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sessions_equal_an_event_by_event_reading(tmp_path: Path, seed: int) -> None:
    lines = random_export(seed)
    path = tmp_path / "events_20231101.json"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    want = oracle_sessions(lines)
    got = (
        read_ga4(path)["touchpoints"]
        .filter(pl.col("touch_type") == "web_session", pl.col("touchpoint_id").is_not_null())
        .rows(named=True)
    )
    assert len(want) > 100
    assert {r["touchpoint_id"] for r in got} == set(want)
    columns = [*_FIELDS, "click_id", "landing_page", "referrer", "user_id"]
    for r in got:
        expected = want[r["touchpoint_id"]]
        assert {c: r[c] for c in columns} == {c: expected[c] for c in columns}, r["touchpoint_id"]
