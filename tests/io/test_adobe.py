"""Adobe Analytics data feed: headerless hits, escapes, exclusions, visits, archives."""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path

import polars as pl
import pytest

from closedloop_kit.errors import SourceFormatError
from closedloop_kit.io.adobe import read_adobe_feed

COLUMNS = [
    "hitid_high",
    "hitid_low",
    "post_visid_high",
    "post_visid_low",
    "visit_num",
    "visit_start_time_gmt",
    "visit_page_num",
    "hit_time_gmt",
    "date_time",
    "exclude_hit",
    "hit_source",
    "post_page_url",
    "post_referrer",
    "post_campaign",
    "ref_type",
    "post_search_engine",
    "paid_search",
    "post_evar1",
]
T = 1698800000  # 2023-11-01 00:53:20 UTC


def hit(**kw: object) -> str:
    base = {
        "hitid_high": "1",
        "hitid_low": "1",
        "post_visid_high": "3000",
        "post_visid_low": "4000",
        "visit_num": "1",
        "visit_start_time_gmt": str(T),
        "visit_page_num": "1",
        "hit_time_gmt": str(T),
        "date_time": "2023-10-31 17:53:20",
        "exclude_hit": "0",
        "hit_source": "1",
        "post_page_url": "https://x.com/",
        "post_referrer": "",
        "post_campaign": "",
        "ref_type": "",
        "post_search_engine": "",
        "paid_search": "0",
        "post_evar1": "",
    }
    base.update({k: str(v) for k, v in kw.items()})
    return "\t".join(base[c] for c in COLUMNS) + "\n"


def feed(folder: Path, hits: list[str], *, lookups: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "column_headers.tsv").write_bytes(("\t".join(COLUMNS) + "\n").encode("latin-1"))
    (folder / "hit_data.tsv").write_bytes("".join(hits).encode("iso-8859-1"))
    if lookups:
        (folder / "search_engines.tsv").write_text("1\tGoogle\n2\tBing\n")
        (folder / "browser.tsv").write_text("1\tChrome\n")
    return folder


def test_visits_from_first_hit_with_escapes_and_latin1(tmp_path):
    hits = [
        # a later hit of the visit comes first in the file
        hit(visit_page_num=2, hit_time_gmt=T + 60, post_page_url="https://x.com/b"),
        hit(
            post_page_url="https://x.com/caf\u00e9?utm_source=news&utm_medium=email&gclid=G1",
            post_referrer="https://mail.example/",
            post_campaign="em:nov",
            # an escaped tab, an escaped newline and an escaped backslash in one field
            post_evar1="a\\\tb\\\nc\\\\d",
        ),
        hit(
            hitid_low=9,
            post_visid_low="4001",
            post_page_url="https://x.com/p",
            ref_type=3,
            post_search_engine=1,
        ),
    ]
    res = read_adobe_feed(feed(tmp_path / "feed", hits))
    tp = res["touchpoints"].sort("anonymous_id")
    assert tp["touchpoint_id"].to_list() == [f"adobe:3000:4000:1:{T}", f"adobe:3000:4001:1:{T}"]
    first = tp.row(0, named=True)
    assert first["landing_page"] == "https://x.com/caf\u00e9"  # query string dropped
    assert (first["source"], first["medium"]) == ("news", "email")
    assert first["click_id"] == "gclid:G1"
    assert first["campaign_name"] == "em:nov"  # the tracking code when no utm_campaign
    assert str(first["occurred_at"]) == "2023-11-01 00:53:20+00:00"
    second = tp.row(1, named=True)
    assert (second["source"], second["medium"]) == ("Google", "organic")  # lookup + ref_type
    rep = res.report.filter(res.report["object"] == "hit_data").row(0, named=True)
    # 3 hits = 2 visits kept + 1 merged; the escaped newline does not add a record
    assert (rep["rows_read"], rep["rows_kept"], rep["rows_merged"]) == (3, 2, 1)
    assert res.reconciles
    # companions are listed (rows_read 0) so clk.load does not read them again
    assert set(res.report["object"]) == {"hit_data", "column headers", "lookup"}


def test_excluded_hits_and_hit_sources_are_dropped_with_reasons(tmp_path):
    hits = [
        hit(),
        hit(hitid_low=2, exclude_hit=3, post_visid_low="5"),
        hit(hitid_low=3, hit_source=5, post_visid_low="6"),
        hit(hitid_low=4, hit_source=9, post_visid_low="7"),
        hit(hitid_low=5, hit_source=8, post_visid_low="8"),
        hit(hitid_low=6, hit_source=7, post_visid_low="9"),
    ]
    res = read_adobe_feed(feed(tmp_path / "f", hits, lookups=False))
    assert res["touchpoints"].height == 1
    reasons = res.rejected.sort("source_row")["reason"].to_list()
    assert reasons[0] == "excluded hit (exclude_hit = 3)"
    assert all("is not a visitor hit" in r for r in reasons[1:])
    assert res.rejected["source_row"].sort().to_list() == [2, 3, 4, 5, 6]
    assert res.reconciles


def test_source_row_counts_escaped_newlines(tmp_path):
    hits = [hit(post_evar1="line1\\\nline2"), hit(exclude_hit=1, post_visid_low="77")]
    res = read_adobe_feed(feed(tmp_path / "f", hits, lookups=False))
    # the first record spans lines 1-2, so the excluded hit starts on line 3
    assert res.rejected["source_row"].to_list() == [3]


def test_zip_and_tar_deliveries(tmp_path):
    folder = feed(tmp_path / "f", [hit()])
    z = tmp_path / "feed.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for p in folder.iterdir():
            zf.write(p, p.name)
    assert read_adobe_feed(z)["touchpoints"].height == 1
    t = tmp_path / "feed.tar.gz"
    with tarfile.open(t, "w:gz") as tf:
        for p in folder.iterdir():
            tf.add(p, p.name)
    assert read_adobe_feed(t)["touchpoints"].height == 1


def test_ragged_line_names_the_line(tmp_path):
    hits = [hit(), "3000\t4000\t1\n"]
    with pytest.raises(SourceFormatError, match="line 2") as info:
        read_adobe_feed(feed(tmp_path / "f", hits))
    assert info.value.line == 2


def test_missing_columns_and_missing_headers(tmp_path):
    folder = feed(tmp_path / "f", [hit()])
    (folder / "column_headers.tsv").write_text("\t".join(c for c in COLUMNS if c != "visit_num"))
    with pytest.raises(SourceFormatError, match="visit_num"):
        read_adobe_feed(folder)
    (folder / "column_headers.tsv").unlink()
    with pytest.raises(SourceFormatError, match=r"column_headers\.tsv"):
        read_adobe_feed(folder / "hit_data.tsv")


def test_doc_lists_every_mapping():
    from closedloop_kit.io.adobe import SESSION_COLUMNS

    doc = (Path(__file__).parents[2] / "docs" / "howto-adobe.md").read_text()
    for names in SESSION_COLUMNS.values():
        for name in names:
            assert f"`{name}`" in doc, name


def test_clk_load_reads_the_feed_once_and_reports_companions(tmp_path):
    import closedloop_kit as clk

    feed(tmp_path / "adobe", [hit(), hit(visit_page_num=2, hit_time_gmt=T + 5)])
    data = clk.load(tmp_path)
    rep = data.load_report
    assert set(rep["reader"]) == {"adobe"}
    assert sorted(rep["object"]) == ["column headers", "hit_data", "lookup", "lookup"]
    assert data.frame("touchpoints").height == 1


def delivery(folder: Path, hits: list[str], *, rsid: str = "acmeprod", day: str = "2023-11-01"):
    """A data feed delivery as Adobe uploads it: gzipped hits, lookup archive, manifest."""
    import gzip
    import hashlib
    import io

    folder.mkdir(parents=True, exist_ok=True)
    data = folder / f"01-{rsid}_{day}.tsv.gz"
    data.write_bytes(gzip.compress("".join(hits).encode("iso-8859-1")))
    lookup = folder / f"{rsid}_{day}-lookup_data.tar.gz"
    with tarfile.open(lookup, "w:gz") as tf:
        for name, text in [
            ("column_headers.tsv", "\t".join(COLUMNS) + "\n"),
            ("search_engines.tsv", "1\tGoogle\n2\tBing\n"),
            ("browser.tsv", "1\tChrome\n"),
        ]:
            raw = text.encode("latin-1")
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            tf.addfile(info, io.BytesIO(raw))
    md5 = hashlib.md5(data.read_bytes(), usedforsecurity=False).hexdigest()
    manifest = folder / f"{rsid}_{day}.txt"
    manifest.write_text(
        "Datafeed-Manifest-Version: 1.0\n"
        "Lookup-Files: 1\n"
        "Data-Files: 1\n"
        f"Total-Records: {len(hits)}\n\n"
        f"Lookup-File: {lookup.name}\n"
        f"MD5-Digest: {hashlib.md5(lookup.read_bytes(), usedforsecurity=False).hexdigest()}\n"
        f"File-Size: {lookup.stat().st_size}\n\n"
        f"Data-File: {data.name}\n"
        f"MD5-Digest: {md5}\n"
        f"File-Size: {data.stat().st_size}\n"
        f"Record-Count: {len(hits)}\n"
    )
    return data, lookup, manifest


def test_clk_load_reads_a_delivery_beside_other_exports(tmp_path):
    import closedloop_kit as clk

    hits = [
        hit(),
        hit(visit_page_num=2, hit_time_gmt=T + 5),
        hit(hitid_low=3, post_visid_low="4001", ref_type=3, post_search_engine=1),
        hit(hitid_low=4, post_visid_low="4002", exclude_hit=1),
    ]
    data, lookup, manifest = delivery(tmp_path, hits)
    (tmp_path / "Opportunity.csv").write_text(
        "Id,Name,StageName,Amount,CloseDate\n0065e00000AbCdEAAV,A,Closed Won,100,2026-01-15\n"
    )
    # read from any of its files, the delivery is read whole
    for part in (data, lookup, manifest):
        res = read_adobe_feed(part)
        assert res["touchpoints"].height == 2
    loaded = clk.load(tmp_path, progress=False)
    rep = loaded.load_report.sort("path")
    by_path = {Path(p).name: (r, o) for p, r, o in rep.select("path", "reader", "object").rows()}
    assert by_path == {
        data.name: ("adobe", "hit_data"),
        lookup.name: ("adobe", "lookup archive"),
        manifest.name: ("adobe", "manifest"),
        "Opportunity.csv": ("salesforce", "Opportunity"),
    }
    hit_row = rep.filter(pl.col("object") == "hit_data").row(0, named=True)
    # 4 hits = 2 visits kept + 1 merged + 1 excluded; the manifest's count checked
    assert (hit_row["rows_read"], hit_row["rows_kept"], hit_row["rows_merged"]) == (4, 2, 1)
    assert hit_row["rows_rejected"] == 1
    assert f"4 hits = Record-Count in {manifest.name}" in hit_row["notes"]
    tp = loaded.frame("touchpoints").filter(pl.col("source_system") == "adobe").sort("anonymous_id")
    assert tp["source"].to_list() == [None, "Google"]  # lookup from the archive
    assert loaded.rejected.filter(pl.col("source_system") == "adobe")["source_row"].to_list() == [4]


def test_delivery_manifest_mismatch_and_missing_lookup(tmp_path):
    data, lookup, manifest = delivery(tmp_path, [hit(), hit(post_visid_low="9")])
    manifest.write_text(manifest.read_text().replace("Record-Count: 2", "Record-Count: 3"))
    rep = read_adobe_feed(data).report
    notes = rep.filter(pl.col("object") == "hit_data")["notes"].item()
    assert "2 hits read but" in notes
    assert "Record-Count 3" in notes
    lookup.unlink()
    with pytest.raises(SourceFormatError, match=r"lookup_data\.tar\.gz"):
        read_adobe_feed(data)
