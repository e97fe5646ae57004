"""Read an Adobe Analytics data feed into one ``web_session`` touchpoint per visit.

A data feed delivery is a headerless ``hit_data.tsv`` (ISO-8859-1, tab-separated, no
quoting: a tab, newline or backslash inside a field is escaped with a backslash), a
``column_headers.tsv`` naming its columns, and lookup files (``browser.tsv``,
``event.tsv``, ``search_engines.tsv``, ...), in a folder or a ``.zip`` / ``.tar.gz``.
A delivery as Adobe uploads it is read too: ``01-<rsid>_<YYYY-MM-DD>.tsv.gz`` (the hits;
``02-``, ... when split), ``<rsid>_<YYYY-MM-DD>-lookup_data.tar.gz`` (column headers and
lookups) and the manifest ``<rsid>_<YYYY-MM-DD>.txt`` (record counts and MD5 digests,
checked), beside other exports in the same folder.

Hits with ``exclude_hit > 0`` and ``hit_source`` 5, 7, 8 or 9 (data sources, summary
data, ...) are not page views of a visitor and are dropped (reported as rejected, with
the reason). Visitor = ``post_visid_high:post_visid_low``; visit = visitor +
``visit_num`` + ``visit_start_time_gmt``; the visit's first hit (``visit_page_num``,
then ``hit_time_gmt``) gives the landing page, referrer and tracking code.
See ``docs/howto-adobe.md``.
"""

from __future__ import annotations

import hashlib
import re
import tarfile
import tempfile
import zipfile
from dataclasses import asdict
from pathlib import Path
from typing import Any, Final

import polars as pl

from closedloop_kit.errors import SourceFormatError
from closedloop_kit.io._parse import parse_datetime
from closedloop_kit.io._result import (
    REJECT_REASON,
    REPORT_SCHEMA,
    FileReport,
    LoadResult,
    combine_results,
    finish,
)
from closedloop_kit.io._text import FileSniff

__all__ = ["EXCLUDED_HIT_SOURCES", "REFERRER_TYPES", "SESSION_COLUMNS", "read_adobe_feed"]

EXCLUDED_HIT_SOURCES: Final[dict[str, str]] = {
    "5": "data source / summary data",
    "7": "transaction ID data source",
    "8": "Adjust / data processing reprocessing",
    "9": "summary data",
}
"""``hit_source`` values that are not visitor hits (Adobe's data feed reference)."""

REFERRER_TYPES: Final[dict[str, str]] = {
    "1": "internal",
    "2": "referral",
    "3": "organic",
    "4": "(none)",
    "5": "referral",
    "6": "(none)",
    "7": "email",
    "8": "(none)",
    "9": "social",
}
"""``ref_type`` → medium used when the URL carries no ``utm_medium``."""

SESSION_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "landing_page": ("post_page_url", "page_url"),
    "referrer": ("post_referrer", "referrer"),
    "campaign_name": ("post_campaign", "campaign"),
    "user_id": ("post_cust_visid", "cust_visid"),
}
"""Canonical touchpoint column → data-feed columns (first present wins)."""

_REQUIRED: Final[tuple[str, ...]] = ("post_visid_high", "post_visid_low", "visit_num")
_RAW: Final[tuple[str, ...]] = (
    "hitid_high",
    "hitid_low",
    "post_visid_high",
    "post_visid_low",
    "visit_num",
    "visit_page_num",
    "hit_time_gmt",
    "date_time",
    "exclude_hit",
    "hit_source",
    "post_page_url",
)
_BS, _TAB, _NL = "\x00", "\x01", "\x02"


def _unescape(text: str) -> str:
    """Protect Adobe's backslash escapes so fields split on plain tabs and newlines."""
    return (
        text.replace("\\\\", _BS).replace("\\\t", _TAB).replace("\\\r\n", _NL).replace("\\\n", _NL)
    )


def _restore(col: str) -> pl.Expr:
    return (
        pl.col(col)
        .str.replace_all(_TAB, "\t", literal=True)
        .str.replace_all(_NL, "\n", literal=True)
        .str.replace_all(_BS, "\\", literal=True)
    )


def _read_hits(path: Path, names: list[str], encoding: str) -> pl.DataFrame:
    raw = path.read_bytes()
    if path.suffix == ".gz":
        import gzip

        raw = gzip.decompress(raw)
    text = _unescape(raw.decode(encoding))
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    ncols = len(names)
    counts = [ln.count("\t") + 1 for ln in lines]
    for i, c in enumerate(counts):
        if c != ncols:
            line = i + 1 + sum(ln.count(_NL) for ln in lines[:i])
            msg = (
                f"{path.name}: line {line}: {c} tab-separated fields where "
                f"column_headers.tsv names {ncols}; the feed is truncated or its "
                f"column_headers.tsv belongs to another report suite"
            )
            raise SourceFormatError(msg, path=str(path), line=line)
    body = "\n".join(ln.rstrip("\r") for ln in lines).encode("utf-8")
    frame = pl.read_csv(
        body,
        separator="\t",
        has_header=False,
        new_columns=names,
        quote_char=None,
        infer_schema=False,
        raise_if_empty=False,
    )
    inner = pl.Series([ln.count(_NL) for ln in lines], dtype=pl.Int64)
    row = pl.int_range(1, frame.height + 1, dtype=pl.Int64, eager=True) + inner.cum_sum().shift(
        1, fill_value=0
    )
    return frame.with_columns([_restore(c) for c in names]).with_columns(row.alias("source_row"))


def _companions(folder: Path) -> tuple[Path, Path | None, list[Path]]:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    headers = [p for p in files if p.name == "column_headers.tsv"]
    hits = [p for p in files if p.name.startswith("hit_data") and ".tsv" in p.name]
    if not hits:
        hits = [
            p
            for p in files
            if p.name.endswith((".tsv", ".tsv.gz"))
            and p.name != "column_headers.tsv"
            and "lookup" not in p.name
            and p.stat().st_size > 0
            and p.parent == (headers[0].parent if headers else folder)
            and p.stem not in _LOOKUP_NAMES
        ]
    if not hits:
        msg = f"{folder}: no hit_data.tsv found (expected an Adobe Analytics data feed)"
        raise SourceFormatError(msg, path=str(folder), suggestion="clk.io.read_mapped")
    lookups = [
        p for p in files if p.suffix == ".tsv" and p not in hits and p.name != "column_headers.tsv"
    ]
    return hits[0], headers[0] if headers else None, lookups


_LOOKUP_NAMES = {
    "browser",
    "browser_type",
    "color_depth",
    "connection_type",
    "country",
    "event",
    "javascript_version",
    "languages",
    "operating_systems",
    "plugins",
    "referrer_type",
    "resolution",
    "search_engines",
}


def _unpack(path: Path, tmp: Path) -> Path:
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            zf.extractall(tmp)
        return tmp
    if tarfile.is_tarfile(path):
        with tarfile.open(path) as tf:
            tf.extractall(tmp, filter="data")
        return tmp
    return path


def _lookup(path: Path, encoding: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in path.read_bytes().decode(encoding).splitlines():
        key, _, value = line.partition("\t")
        if key:
            out[key.strip()] = value.strip()
    return out


_STAMP = r"(?P<rsid>[A-Za-z0-9._-]+?)_(?P<date>\d{4}-\d{2}-\d{2}(?:-\d{2,6})?)"
_DELIVERY_DATA = re.compile(rf"^(?P<part>\d+)-{_STAMP}\.tsv(?:\.gz)?$")
_DELIVERY_LOOKUP = re.compile(rf"^{_STAMP}-lookup_data\.tar\.gz$")
_DELIVERY_MANIFEST = re.compile(rf"^{_STAMP}\.txt$")
_MANIFEST_FIRST = "Datafeed-Manifest-Version"


def _delivery_key(p: Path) -> tuple[str, str] | None:
    """``(rsid, date)`` of a file named as a part of an Adobe data feed delivery."""
    for pattern in (_DELIVERY_DATA, _DELIVERY_LOOKUP, _DELIVERY_MANIFEST):
        m = pattern.match(p.name)
        if m:
            return m["rsid"], m["date"]
    return None


def _delivery(p: Path) -> tuple[list[Path], Path | None, Path | None] | None:
    """A delivery's data files, lookup archive and manifest, given any one of them.

    None unless ``p`` is named as a part and a data file sits beside a lookup archive or
    a manifest of the same report suite and date (a lone ``.txt`` is not a delivery).
    """
    key = _delivery_key(p) if p.is_file() else None
    if key is None:
        return None
    data, lookup, manifest = [], None, None
    for f in sorted(p.parent.iterdir()):
        if not f.is_file() or _delivery_key(f) != key:
            continue
        if _DELIVERY_DATA.match(f.name):
            data.append(f)
        elif _DELIVERY_LOOKUP.match(f.name):
            lookup = f
        elif _is_manifest(f):
            manifest = f
    if not data or (lookup is None and manifest is None):
        return None
    return data, lookup, manifest


def _is_manifest(p: Path) -> bool:
    if not _DELIVERY_MANIFEST.match(p.name):
        return False
    with p.open("rb") as fh:
        return fh.read(len(_MANIFEST_FIRST)).decode("ascii", "replace") == _MANIFEST_FIRST


def _manifest(p: Path) -> dict[str, dict[str, str]]:
    """Manifest entries by file name: ``{"01-x.tsv.gz": {"MD5-Digest": ..., ...}}``."""
    out: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in p.read_text(encoding="utf-8", errors="replace").splitlines():
        name, _, value = line.partition(":")
        name, value = name.strip(), value.strip()
        if name in ("Data-File", "Lookup-File"):
            current = out.setdefault(value, {"kind": name})
        elif current is not None and name:
            current[name] = value
    return out


def _md5(p: Path) -> str:
    h = hashlib.md5(usedforsecurity=False)
    with p.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _manifest_notes(manifest: Path | None, data: Path, rows: int) -> list[str]:
    """What the manifest says about ``data``: record count and digest checked."""
    if manifest is None:
        return ["no manifest beside the delivery: record count and digest not checked"]
    entry = _manifest(manifest).get(data.name)
    if entry is None:
        return [f"{manifest.name} does not list {data.name}"]
    notes = []
    want = entry.get("Record-Count")
    if want is not None and want.isdigit():
        if int(want) == rows:
            notes.append(f"{rows} hits = Record-Count in {manifest.name}")
        else:
            notes.append(
                f"{rows} hits read but {manifest.name} says Record-Count {want}: "
                f"the delivery is incomplete or was altered"
            )
    digest = entry.get("MD5-Digest", "").lower()
    if digest and _md5(data) != digest:
        notes.append(f"MD5 digest differs from {manifest.name}: the file is damaged")
    return notes


def _read_delivery(
    data: list[Path], lookup: Path | None, manifest: Path | None, encoding: str, tz: str
) -> LoadResult:
    """Read a delivery: each data file's hits with the headers in the lookup archive."""
    if lookup is None:
        rsid, date = _delivery_key(data[0]) or ("?", "?")
        msg = (
            f"{data[0].name}: an Adobe data feed delivery needs its lookup archive "
            f"{rsid}_{date}-lookup_data.tar.gz (it holds column_headers.tsv) beside it"
        )
        raise SourceFormatError(msg, path=str(data[0]), column="column_headers.tsv")
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(lookup) as tf:
            tf.extractall(tmp, filter="data")
        headers = next(iter(sorted(Path(tmp).rglob("column_headers.tsv"))), None)
        if headers is None:
            msg = f"{lookup.name}: the lookup archive holds no column_headers.tsv"
            raise SourceFormatError(msg, path=str(lookup), column="column_headers.tsv")
        names = _header_names(headers, encoding)
        lookups = sorted(f for f in Path(tmp).rglob("*.tsv") if f.name != "column_headers.tsv")
        engines = next((_lookup(lk, encoding) for lk in lookups if lk.stem == "search_engines"), {})
    results = []
    for f in data:
        frame = _read_hits(f, names, encoding)
        notes = _manifest_notes(manifest, f, frame.height)
        results.append(_sessions(f, frame, engines, tz, extra_notes=notes))
    companions = [c for c in (lookup, manifest) if c is not None]
    return combine_results([*results, _companion_report(companions, data[0])])


def _header_names(headers: Path, encoding: str) -> list[str]:
    """Column names from ``column_headers.tsv``; refuse a feed without the required ones."""
    names = headers.read_bytes().decode(encoding).strip("\r\n").split("\t")
    names = [n.strip() for n in names]
    missing = [c for c in _REQUIRED if c not in names]
    if missing or not ({"hit_time_gmt", "date_time"} & set(names)):
        need = missing or ["hit_time_gmt or date_time"]
        msg = (
            f"{headers.name}: an Adobe data feed needs column(s) {need}; "
            f"column_headers.tsv names {names[:15]}{'...' if len(names) > 15 else ''}"
        )
        raise SourceFormatError(msg, path=str(headers), column=need[0])
    return names


def read_adobe_feed(
    path: str | Path, *, encoding: str = "iso-8859-1", tz: str = "UTC"
) -> LoadResult:
    r"""Read an Adobe Analytics data feed into ``touchpoints`` (one per visit).

    Parameters
    ----------
    path
        A folder holding ``hit_data.tsv`` and ``column_headers.tsv`` (+ lookups), a
        ``.zip`` / ``.tar.gz`` of them, the ``hit_data.tsv`` file itself (its
        companions beside it; extra ``*lookup_data.tar.gz`` archives are unpacked), or
        any file of a delivery as Adobe uploads it (``01-<rsid>_<date>.tsv.gz``, its
        ``<rsid>_<date>-lookup_data.tar.gz`` and manifest ``<rsid>_<date>.txt``): the
        whole delivery is read, the manifest's record counts and digests checked.
    encoding
        Text encoding of the feed files (Adobe writes ISO-8859-1 unless UTF-8 was
        chosen).
    tz
        Report-suite zone of ``date_time``, used only when ``hit_time_gmt`` is absent.

    Returns
    -------
    LoadResult
        ``touchpoints``: ``touchpoint_id`` = ``session_id`` =
        ``"adobe:<visid_high>:<visid_low>:<visit_num>:<visit_start_time_gmt>"``,
        ``anonymous_id`` ``"adobe:<visid_high>:<visid_low>"``. Report: rows read = hits;
        kept = visits; merged = the other hits of visits; rejected = excluded hits.
        ``column_headers.tsv`` and the lookups get report rows with no rows read (given
        ``hit_data.tsv`` itself, they are left to be reported when they are read).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> cols = ["post_visid_high", "post_visid_low", "visit_num", "visit_start_time_gmt",
    ...         "visit_page_num", "hit_time_gmt", "exclude_hit", "hit_source", "post_page_url"]
    >>> _ = (d / "column_headers.tsv").write_text("\t".join(cols) + "\n")
    >>> _ = (d / "hit_data.tsv").write_text(
    ...     "1\t2\t1\t1698800000\t1\t1698800000\t0\t1\thttps://x.com/\n"
    ...     "1\t2\t1\t1698800000\t2\t1698800060\t0\t1\thttps://x.com/b\n")
    >>> tp = read_adobe_feed(d)["touchpoints"]
    >>> tp.select("touchpoint_id", "landing_page").rows()
    [('adobe:1:2:1:1698800000', 'https://x.com/')]
    """
    p = Path(path)
    if not p.exists():
        msg = f"`path` {str(path)!r} does not exist"
        raise FileNotFoundError(msg)
    delivery = _delivery(p)
    if delivery is not None:
        return _read_delivery(*delivery, encoding, tz)
    if p.is_file() and _is_companion(p):
        # clk.load() hands over each file: a companion is read with its hit_data file
        return _companion_report([p], _hit_file_beside(p) or p)
    with tempfile.TemporaryDirectory() as tmp:
        folder = p
        is_archive = False
        if p.is_file():
            unpacked = _unpack(p, Path(tmp))
            is_archive = unpacked != p
            folder = unpacked if is_archive else p.parent
        for archive in list(folder.glob("*lookup_data.tar.gz")):
            with tarfile.open(archive) as tf:
                tf.extractall(Path(tmp) / "lookups", filter="data")
        hits, headers, lookups = _companions(folder)
        if headers is None and (Path(tmp) / "lookups").is_dir():
            extra = Path(tmp) / "lookups"
            headers = next(iter(extra.rglob("column_headers.tsv")), None)
            lookups += sorted(extra.rglob("*.tsv"))
        if p.is_file() and not is_archive and p.name != hits.name:
            hits = p
        if headers is None:
            msg = (
                f"{hits.name}: an Adobe hit_data file has no header line; its columns are "
                f"in column_headers.tsv, which is not beside it"
            )
            raise SourceFormatError(msg, path=str(hits), column="column_headers.tsv")
        names = _header_names(headers, encoding)
        frame = _read_hits(hits, names, encoding)
        engines = next((_lookup(lk, encoding) for lk in lookups if lk.stem == "search_engines"), {})
        result = _sessions(hits, frame, engines, tz)
        companions = [headers, *lookups]
    if p.is_file() and not is_archive:
        return result  # companions beside a hit_data file report themselves
    return combine_results([result, _companion_report(companions, hits)])


def _hit_file_beside(p: Path) -> Path | None:
    return next(
        (f for f in sorted(p.parent.iterdir()) if f.name.startswith("hit_data") and f.is_file()),
        None,
    )


def _is_companion(p: Path) -> bool:
    named = p.name == "column_headers.tsv" or (p.suffix == ".tsv" and p.stem in _LOOKUP_NAMES)
    return named and _hit_file_beside(p) is not None


def _companion_report(files: list[Path], hits: Path) -> LoadResult:
    rows = [
        asdict(
            FileReport(
                path=str(f),
                reader="adobe",
                source_system="adobe",
                object=_companion_object(f),
                format="adobe data feed companion",
                notes=(f"read with {hits.name}",),
            )
        )
        for f in files
    ]
    for r in rows:
        r["notes"] = "; ".join(r["notes"])
    return LoadResult(report=pl.DataFrame(rows, schema=REPORT_SCHEMA))


def _companion_object(f: Path) -> str:
    if f.name == "column_headers.tsv":
        return "column headers"
    if _DELIVERY_LOOKUP.match(f.name):
        return "lookup archive"
    if _DELIVERY_MANIFEST.match(f.name):
        return "manifest"
    return "lookup"


def _sessions(
    hits: Path,
    frame: pl.DataFrame,
    engines: dict[str, str],
    time_zone: str,
    *,
    extra_notes: list[str] | None = None,
) -> LoadResult:
    def col(name: str, default: Any = None) -> pl.Expr:
        if name in frame.columns:
            c = pl.col(name).str.strip_chars()
            return pl.when(c != "").then(c)
        return pl.lit(default, dtype=pl.String)

    def first_of(names: tuple[str, ...]) -> pl.Expr:
        return pl.coalesce([col(n) for n in names])

    notes: list[str] = list(extra_notes or [])
    assumed: str | None = None
    if "hit_time_gmt" in frame.columns:
        ts = pl.from_epoch(col("hit_time_gmt").cast(pl.Int64, strict=False), time_unit="s")
        at = ts.dt.replace_time_zone("UTC")
        hit_at = frame.select(at.alias("a"))["a"]
    else:
        parsed = parse_datetime(frame["date_time"], tz=time_zone, column="date_time", path=hits)
        hit_at = parsed.value
        assumed = parsed.assumed_time_zone
        notes.append("no hit_time_gmt: date_time read in the report-suite zone")
    if "date_time" in frame.columns and "hit_time_gmt" in frame.columns:
        fallback = parse_datetime(frame["date_time"], tz=time_zone, column="date_time", path=hits)
        if bool((hit_at.is_null() & fallback.value.is_not_null()).any()):
            hit_at = hit_at.fill_null(fallback.value)
            assumed = fallback.assumed_time_zone
    reason = (
        pl.when(col("exclude_hit", "0").cast(pl.Int64, strict=False).fill_null(0) > 0)
        .then(pl.format("excluded hit (exclude_hit = {})", col("exclude_hit")))
        .when(col("hit_source").is_in(list(EXCLUDED_HIT_SOURCES)))
        .then(
            pl.format(
                "hit_source {} ({}) is not a visitor hit",
                col("hit_source"),
                col("hit_source").replace_strict(EXCLUDED_HIT_SOURCES, default="?"),
            )
        )
        .when(col("post_visid_high").is_null() | col("post_visid_low").is_null())
        .then(pl.lit("no post_visid_high / post_visid_low"))
        .when(col("visit_num").is_null())
        .then(pl.lit("no visit_num"))
        .otherwise(None)
    )
    visitor = pl.concat_str(
        [pl.lit("adobe:"), col("post_visid_high"), pl.lit(":"), col("post_visid_low")]
    )
    visit = pl.concat_str(
        [visitor, pl.lit(":"), col("visit_num"), pl.lit(":"), col("visit_start_time_gmt", "")]
    )
    url = first_of(SESSION_COLUMNS["landing_page"])
    hits_f = frame.with_columns(
        hit_at.alias("__at"),
        reason.alias(REJECT_REASON),
        visitor.alias("anonymous_id"),
        visit.alias("session_id"),
        col("visit_page_num", "0").cast(pl.Int64, strict=False).fill_null(0).alias("__page"),
        url.str.replace(r"[?#].*$", "").alias("landing_page"),
        first_of(SESSION_COLUMNS["referrer"]).alias("referrer"),
        first_of(SESSION_COLUMNS["campaign_name"]).alias("__tracking"),
        first_of(SESSION_COLUMNS["user_id"]).alias("user_id"),
        url.str.extract(r"[?&]utm_source=([^&#]*)", 1).alias("__utm_source"),
        url.str.extract(r"[?&]utm_medium=([^&#]*)", 1).alias("__utm_medium"),
        url.str.extract(r"[?&]utm_campaign=([^&#]*)", 1).alias("__utm_campaign"),
        pl.concat_str(
            url.str.extract(r"[?&](gclid|msclkid|fbclid|li_fat_id)=([^&#]+)", 1),
            pl.lit(":"),
            url.str.extract(r"[?&](gclid|msclkid|fbclid|li_fat_id)=([^&#]+)", 2),
        ).alias("click_id"),
        col("ref_type").replace_strict(REFERRER_TYPES, default=None).alias("__ref_medium"),
        col("paid_search").alias("__paid"),
        col("post_search_engine").replace_strict(engines, default=None).alias("__engine"),
        col("ref_domain").alias("__ref_domain"),
    )
    hits_f = hits_f.with_columns(
        pl.when(pl.col(REJECT_REASON).is_null() & pl.col("__at").is_null())
        .then(pl.lit("no hit time (hit_time_gmt / date_time)"))
        .otherwise(pl.col(REJECT_REASON))
        .alias(REJECT_REASON)
    )
    good = hits_f.filter(pl.col(REJECT_REASON).is_null())
    first = good.sort("session_id", "__page", "__at", "source_row").unique(
        "session_id", keep="first", maintain_order=True
    )
    touches = first.select(
        pl.col("session_id").alias("touchpoint_id"),
        "anonymous_id",
        pl.col("__at").alias("occurred_at"),
        pl.lit("web_session").alias("touch_type"),
        pl.lit(True).alias("is_marketing"),
        pl.coalesce("__utm_source", "__engine", "__ref_domain").alias("source"),
        pl.coalesce(
            "__utm_medium",
            pl.when(pl.col("__paid") == "1").then(pl.lit("cpc")),
            "__ref_medium",
        ).alias("medium"),
        pl.coalesce("__utm_campaign", "__tracking").alias("campaign_name"),
        "referrer",
        "click_id",
        "session_id",
        "landing_page",
        "user_id",
        pl.lit("adobe").alias("source_system"),
        pl.col("session_id").str.strip_prefix("adobe:").alias("source_id"),
        "source_row",
    )
    bad = hits_f.filter(pl.col(REJECT_REASON).is_not_null()).select(
        "anonymous_id",
        pl.lit("web_session").alias("touch_type"),
        pl.lit("adobe").alias("source_system"),
        "source_row",
        REJECT_REASON,
    )
    touches = pl.concat(
        [touches.with_columns(pl.lit(None, pl.String).alias(REJECT_REASON)), bad],
        how="diagonal_relaxed",
    )
    raw = frame.select([c for c in (*_RAW, "source_row") if c in frame.columns])
    n_excluded = bad.height
    return finish(
        path=hits,
        reader="adobe",
        source_system="adobe",
        object="hit_data",
        primary="touchpoints",
        tables={"touchpoints": touches},
        rows_read=frame.height,
        raw=raw,
        rows_merged=good.height - first.height,
        format="adobe analytics data feed",
        time_zone_assumed=assumed,
        notes=[
            *notes,
            f"{n_excluded} hit(s) excluded (exclude_hit, hit_source 5/7/8/9, no visitor)",
            "one web_session per visitor + visit_num + visit_start_time_gmt",
        ],
    )


def _detect(fs: FileSniff) -> float:
    if _delivery_key(fs.path) is not None:
        return 0.95 if _delivery(fs.path) is not None else 0.0
    if fs.name.startswith("hit_data") and fs.name.endswith((".tsv", ".tsv.gz")):
        return 0.95
    if fs.kind == "zip":
        try:
            with zipfile.ZipFile(fs.path) as zf:
                names = [Path(n).name for n in zf.namelist()]
        except (OSError, zipfile.BadZipFile):
            return 0.0
        return 0.9 if "column_headers.tsv" in names and any("hit_data" in n for n in names) else 0.0
    return 0.9 if _is_companion(fs.path) else 0.0


def _register() -> None:
    from closedloop_kit.io._registry import register

    register(
        "adobe",
        source_system="adobe",
        detect=_detect,
        read=read_adobe_feed,
        kinds=("text", "zip", "binary"),
        function="clk.io.read_adobe_feed",
    )


_register()
