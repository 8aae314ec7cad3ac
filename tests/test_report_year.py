"""A generated year (50,000+ clips, 40 recorders, 120 officers) through every report format.

The year is generated once for the module. The reports are made by the installed command, as
a supervisor would make them; the numbers in the HTML, the CSV files and the JSON are compared
with each other cell by cell, and the headline numbers with this test's own SQL.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from avledger.core.install.setup import initialise
from tests.conftest import IN_CI, run_cli
from tests.factories_year import configure, generate_busy_year, roster

pytestmark = pytest.mark.slow

YEAR = 2025
TZ = "Asia/Shanghai"
SEED = "leadership-meeting-2026-01-15"


def _ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stderr
    return result


def _bounds(year: int) -> tuple[str, str]:
    zone = ZoneInfo(TZ)

    def utc(d: date) -> str:
        return datetime(d.year, d.month, d.day, tzinfo=zone).astimezone(UTC).isoformat(
            timespec="microseconds")
    return utc(date(year, 1, 1)), utc(date(year + 1, 1, 1))


@pytest.fixture(scope="module")
def year_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    base = tmp_path_factory.mktemp("year")
    home = base / "home"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AVLEDGER_HOME", str(home))
        for var in ("AVLEDGER_CONFIG", "AVLEDGER_ACTOR"):
            mp.delenv(var, raising=False)
        initialise(None)
        people = roster(120, seed=3)
        configure(home, people, site_unit="平顶山市生态环境局")
        generate_busy_year(home / "data" / "catalog.db", year=YEAR, clips=52_000, devices=40,
                           people=people, seed=3)
        _ok(run_cli("review", "sample", "--year", str(YEAR), "--rate", "5%", "--seed", SEED))
        listing = json.loads(_ok(run_cli("review", "list", "--year", str(YEAR), "--json")).stdout)
        for n, item in enumerate(listing["clips"][:60]):
            finding = ("ok", "ok", "ok", "unclear", "no-announcement", "incomplete")[n % 6]
            args = ["review", "record", str(item["clip"]), "--finding", finding]
            _ok(run_cli(*args, *(["--note", "开始录制时未告知当事人"] if finding != "ok" else [])))
        _ok(run_cli("ledger", "verify"))
        out = base / "out"
        out.mkdir()
        for lang in ("en", "zh"):
            for fmt in ("html", "md", "json"):
                _ok(run_cli("report", "annual", "--year", str(YEAR), "--lang", lang, "--format",
                            fmt, "--out", str(out / f"annual-{lang}.{fmt}")))
            _ok(run_cli("report", "annual", "--year", str(YEAR), "--lang", lang, "--format",
                        "csv", "--out", str(out / f"csv-{lang}")))
        yield home


@pytest.fixture(scope="module")
def out(year_home: Path) -> Path:
    return year_home.parent / "out"


@pytest.fixture(scope="module")
def db(year_home: Path) -> Iterator[Any]:
    import sqlite3

    conn = sqlite3.connect(year_home / "data" / "catalog.db")
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def data(out: Path) -> dict[str, Any]:
    doc = json.loads((out / "annual-en.json").read_text(encoding="utf-8"))
    return {s["key"]: s for s in doc["sections"]}


# -- reading the HTML back ------------------------------------------------------------------

class ReportPage(HTMLParser):
    """Every figure (data-figure) and every table (data-table → rows of {col: text})."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, str] = {}
        self.tables: dict[str, list[dict[str, str]]] = {}
        self.pre: list[str] = []
        self._figure: str | None = None
        self._table: str | None = None
        self._col: str | None = None
        self._in_pre = False
        self._buf = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("data-figure"):
            self._figure, self._buf = a["data-figure"], ""
        elif tag == "table" and a.get("data-table"):
            self._table = str(a["data-table"])
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append({})
        elif tag == "td" and self._table:
            self._col, self._buf = a.get("data-col"), ""
        elif tag == "pre":
            self._in_pre, self._buf = True, ""

    def handle_endtag(self, tag: str) -> None:
        if self._figure and tag == "dd":
            self.figures[self._figure] = self._buf.strip()
            self._figure = None
        elif tag == "td" and self._table and self._col:
            self.tables[self._table][-1][self._col] = self._buf.strip()
            self._col = None
        elif tag == "table":
            if self._table:
                self.tables[self._table] = [r for r in self.tables[self._table] if r]
            self._table = None
        elif tag == "pre":
            self.pre.append(self._buf)
            self._in_pre = False

    def handle_data(self, text: str) -> None:
        self._buf += text


def _page(path: Path) -> ReportPage:
    page = ReportPage()
    page.feed(path.read_text(encoding="utf-8"))
    return page


UNITS = {"B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}


def _same(shown: str, value: Any) -> bool:
    """Does the text a reader sees say ``value``? (Formatting undone here, independently.)"""
    if value is None:
        return shown in ("", "–")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return True  # text: compared where it matters, translated codes differ by design
    m = re.fullmatch(r"([\d,.\-]+)\s*(%|B|KB|MB|GB|TB)?", shown)
    assert m, f"not a number: {shown!r}"
    number = float(m.group(1).replace(",", ""))
    if m.group(2) in UNITS:
        size = number * UNITS[m.group(2)]
        return abs(size - value) <= 0.05 * UNITS[m.group(2)] + 0.5
    return abs(number - value) < 1e-6


def _numbers_agree(rows_shown: list[dict[str, str]], columns: list[str],
                   rows: list[list[Any]]) -> None:
    assert len(rows_shown) == len(rows)
    for shown, row in zip(rows_shown, rows, strict=True):
        for col, value in zip(columns, row, strict=True):
            assert _same(shown[col], value), (col, shown[col], value)


# -- the year is what it should be ----------------------------------------------------------

def test_the_year_is_big_enough(db: Any, year_home: Path) -> None:
    start, end = _bounds(YEAR)
    clips = db.execute("SELECT COUNT(*) FROM clips WHERE COALESCE(corrected_start, ingested_at)"
                       " >= ? AND COALESCE(corrected_start, ingested_at) < ?",
                       (start, end)).fetchone()[0]
    assert clips >= 50_000
    assert db.execute("SELECT COUNT(*) FROM devices").fetchone()[0] == 40
    badges = {r[0] for r in db.execute("SELECT DISTINCT badge FROM checkouts")}
    assert len(badges) == 120
    late = db.execute("SELECT AVG(on_time = 0) FROM clips WHERE on_time IS NOT NULL").fetchone()[0]
    assert 0.01 < late < 0.10  # realistic lateness
    assert db.execute("SELECT COUNT(*) FROM tombstones").fetchone()[0] > 1000
    assert db.execute("SELECT COUNT(*) FROM holds WHERE released_at IS NULL").fetchone()[0] > 5


# -- every format, and they agree -----------------------------------------------------------

def test_every_format_is_written(out: Path) -> None:
    for lang in ("en", "zh"):
        for fmt in ("html", "md", "json"):
            assert (out / f"annual-{lang}.{fmt}").stat().st_size > 10_000
        assert len(list((out / f"csv-{lang}").glob("*.csv"))) >= 25
    html = (out / "annual-en.html").read_text(encoding="utf-8")
    assert "<svg" in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "<script" not in html and "https://" not in html  # self-contained, no network
    assert "@media print" in html


def test_html_figures_and_tables_agree_with_json(out: Path, data: dict[str, Any]) -> None:
    for lang in ("en", "zh"):
        page = _page(out / f"annual-{lang}.html")
        doc = json.loads((out / f"annual-{lang}.json").read_text(encoding="utf-8"))
        compared = 0
        for s in doc["sections"]:
            for key, value in s["figures"].items():
                assert _same(page.figures[f"{s['key']}.{key}"], value), (s["key"], key)
                compared += 1
            for key, table in s["tables"].items():
                _numbers_agree(page.tables.get(f"{s['key']}.{key}", []), table["columns"],
                               table["rows"])
                compared += len(table["rows"]) * len(table["columns"])
        assert compared > 3000


def test_csv_agrees_with_json(out: Path) -> None:
    for lang in ("en", "zh"):
        doc = json.loads((out / f"annual-{lang}.json").read_text(encoding="utf-8"))
        folder = out / f"csv-{lang}"
        summary = list(csv.reader((folder / "summary.csv").open(encoding="utf-8-sig")))[1:]
        figures = {(r[0], r[1]): r[3] for r in summary}
        for s in doc["sections"]:
            for key, value in s["figures"].items():
                written = figures[(s["key"], key)]
                if isinstance(value, int | float) and not isinstance(value, bool):
                    assert float(written) == value, (s["key"], key)
            for key, table in s["tables"].items():
                rows = list(csv.reader((folder / f"{s['key']}.{key}.csv").open(
                    encoding="utf-8-sig")))
                assert len(rows) == len(table["rows"]) + 1
                for got, want in zip(rows[1:], table["rows"], strict=True):
                    for cell, value in zip(got, want, strict=True):
                        if isinstance(value, int | float) and not isinstance(value, bool):
                            assert float(cell) == value
                        elif value is None:
                            assert cell == ""


def test_the_languages_say_the_same(out: Path) -> None:
    en = json.loads((out / "annual-en.json").read_text(encoding="utf-8"))
    zh = json.loads((out / "annual-zh.json").read_text(encoding="utf-8"))
    assert [s["figures"] for s in en["sections"]] == [s["figures"] for s in zh["sections"]]
    assert [s["tables"] for s in en["sections"]] == [s["tables"] for s in zh["sections"]]
    assert en["meta"]["digest"] == zh["meta"]["digest"]
    text = (out / "annual-zh.html").read_text(encoding="utf-8")
    for term in ("执法记录仪", "使用情况台账", "查阅登记簿", "24小时", "刻录光盘", "长期保存"):
        assert term in text, term


# -- and they agree with the catalog --------------------------------------------------------

def test_footage_matches_sql(db: Any, data: dict[str, Any]) -> None:
    start, end = _bounds(YEAR)
    rows = db.execute("SELECT COALESCE(corrected_start, ingested_at), duration_seconds, badge,"
                      " size FROM clips WHERE COALESCE(corrected_start, ingested_at) >= ? AND"
                      " COALESCE(corrected_start, ingested_at) < ?", (start, end)).fetchall()
    f = data["footage"]["figures"]
    assert f["clips"] == len(rows)
    assert f["hours"] == round(sum(r[1] or 0 for r in rows) / 3600, 1)
    assert f["bytes"] == sum(r[3] for r in rows)
    assert f["officers"] == len({r[2] for r in rows if r[2]})
    zone = ZoneInfo(TZ)
    per_month = Counter(datetime.fromisoformat(r[0]).astimezone(zone).strftime("%Y-%m")
                        for r in rows)
    table = data["footage"]["tables"]["by_month"]
    assert {r[0]: r[1] for r in table["rows"]} == dict(per_month)
    per_badge = Counter(r[2] or "-" for r in rows)
    officers = data["footage"]["tables"]["by_officer"]
    assert {r[0]: r[3] for r in officers["rows"]} == dict(per_badge)


def test_handin_matches_sql(db: Any, data: dict[str, Any]) -> None:
    start, end = _bounds(YEAR)
    period = ("COALESCE(corrected_start, ingested_at) >= ? AND "
              "COALESCE(corrected_start, ingested_at) < ?")
    judged, late, explained = db.execute(
        f"SELECT SUM(on_time IS NOT NULL), SUM(on_time = 0), SUM(on_time = 0 AND late_reason"
        f" IS NOT NULL) FROM clips WHERE {period}", (start, end)).fetchone()
    f = data["handin"]["figures"]
    assert (f["judged"], f["late"], f["late_explained"]) == (judged, late, explained)
    assert f["late_unexplained"] == late - explained
    assert f["on_time_rate"] == round(100 * (judged - late) / judged, 1)
    # Own reading of 'overdue': a non-remote checkout whose recorder first docked (or came
    # back) more than 24 h after it went out, with the 24 h running out in the year.
    overdue = 0
    for out_at, in_at, first_dock in db.execute(
            "SELECT c.out_at, c.in_at, (SELECT MIN(started_at) FROM docks k WHERE"
            " k.device_id = c.device_id AND k.started_at > c.out_at) FROM checkouts c"
            " WHERE c.remote = 0"):
        due = datetime.fromisoformat(out_at) + timedelta(hours=24)
        back = min([datetime.fromisoformat(t) for t in (in_at, first_dock) if t],
                   default=None)
        if start <= due.isoformat(timespec="microseconds") < end and (back is None or back
                                                                      > due):
            overdue += 1
    assert f["overdue_checkouts"] == overdue > 0
    # Out at the year's end, not remote, and not docked in the last 24 h of the year.
    at_end = 0
    for out_at, dock in db.execute(
            "SELECT c.out_at, (SELECT MAX(started_at) FROM docks k WHERE k.device_id ="
            " c.device_id AND k.started_at > c.out_at AND k.started_at <= :e) FROM checkouts c"
            " WHERE c.remote = 0 AND c.out_at < :e AND (c.in_at IS NULL OR c.in_at > :e)",
            {"e": end}):
        since = datetime.fromisoformat(dock or out_at)
        at_end += datetime.fromisoformat(end) - since > timedelta(hours=24)
    assert f["overdue_at_end"] == at_end >= 1  # at least the recorder out since 30 December


def test_clocks_usage_retention_match_sql(db: Any, data: dict[str, Any]) -> None:
    start, end = _bounds(YEAR)
    span = (start, end)
    c = data["clocks"]["figures"]
    assert c["measurements"] == db.execute(
        "SELECT COUNT(*) FROM clock_measurements WHERE kind = 'check' AND measured_at >= ?"
        " AND measured_at < ?", span).fetchone()[0]
    for status, key in (("drifted", "drifted"), ("reset", "resets")):
        assert c[key] == db.execute(
            "SELECT COUNT(*) FROM clock_measurements WHERE status = ? AND kind = 'check' AND"
            " measured_at >= ? AND measured_at < ?", (status, *span)).fetchone()[0]
    assert c["resets"] == 3
    assert c["syncs"] == db.execute(
        "SELECT COUNT(*) FROM clock_measurements WHERE kind = 'sync' AND measured_at >= ?"
        " AND measured_at < ?", span).fetchone()[0]
    u = data["usage"]["figures"]
    assert u["checkouts"] == db.execute("SELECT COUNT(*) FROM checkouts WHERE out_at >= ? AND"
                                        " out_at < ?", span).fetchone()[0]
    approved, pending = db.execute("SELECT SUM(approved_at IS NOT NULL), SUM(approved_at IS"
                                   " NULL) FROM gaps WHERE from_at >= ? AND from_at < ?",
                                   span).fetchone()
    assert (u["gaps_approved"], u["gaps_pending"]) == (approved, pending)
    gaps = data["usage"]["tables"]["gaps_by_reason"]
    assert sum(r[3] for r in gaps["rows"]) == approved + pending
    assert u["clips_unattributed"] == db.execute(
        "SELECT COUNT(*) FROM clips WHERE attribution = 'unattributed' AND"
        " COALESCE(corrected_start, ingested_at) >= ? AND"
        " COALESCE(corrected_start, ingested_at) < ?", span).fetchone()[0]
    r = data["retention"]["figures"]
    assert r["purged"] == db.execute("SELECT COUNT(*) FROM tombstones WHERE purged_at >= ?"
                                     " AND purged_at < ?", span).fetchone()[0]
    assert r["pending_now"] == db.execute("SELECT COUNT(*) FROM clips WHERE status ="
                                          " 'pending_purge'").fetchone()[0]
    assert r["holds_active_now"] == db.execute("SELECT COUNT(*) FROM holds WHERE released_at"
                                               " IS NULL").fetchone()[0]
    active = dict(db.execute("SELECT reason, COUNT(*) FROM holds WHERE released_at IS NULL"
                             " GROUP BY reason").fetchall())
    table = data["retention"]["tables"]["holds_by_reason"]
    assert {row[0]: row[3] for row in table["rows"] if row[3]} == active
    assert r["archive_discs"] == db.execute("SELECT COUNT(*) FROM archive_discs").fetchone()[0]
    assert r["discs_verify_failed"] == db.execute(
        "SELECT COUNT(*) FROM archive_discs WHERE last_verify_ok = 0").fetchone()[0]


def test_integrity_and_review_match_the_ledger(db: Any, data: dict[str, Any],
                                               out: Path) -> None:
    i = data["integrity"]["figures"]
    last = db.execute("SELECT checked, problems FROM verify_runs WHERE kind = 'ledger'"
                      " ORDER BY id DESC LIMIT 1").fetchone()
    assert last[1] == 0 and i["last_ledger_result"] == "ok"
    runs = data["integrity"]["tables"]["last_runs"]["rows"]
    assert [r for r in runs if r[0] == "ledger"][0][3] == last[0]
    note = db.execute("SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1").fetchone()[0]
    assert data["integrity"]["texts"]["checkpoint"] == note
    assert note in _page(out / "annual-en.html").pre
    events = db.execute("SELECT COUNT(*) FROM ledger WHERE type = 'ledger.verified'").fetchone()
    assert events[0] == 1
    v = data["review"]["figures"]
    sample_id, seed = db.execute("SELECT id, seed FROM review_samples").fetchone()
    assert v["sample_seed"] == seed == SEED
    assert v["sampled"] == db.execute("SELECT COUNT(*) FROM review_items WHERE sample_id = ?",
                                      (sample_id,)).fetchone()[0]
    assert v["reviewed"] == 60 and v["review_problems"] == 30
    findings = {row[0]: row[1] for row in data["review"]["tables"]["findings"]["rows"]}
    assert findings["ok"] == 30 and findings["unclear"] == 10
    assert findings["not-reviewed"] == v["sampled"] - 60


# -- printed --------------------------------------------------------------------------------

def _chromium() -> str:
    path = shutil.which("chromium")
    if path is None or shutil.which("pdftotext") is None:
        reason = "needs chromium and poppler-utils (run 'make test' as root to install them)"
        if IN_CI:
            pytest.fail(f"CI must run this test, but it {reason}")
        pytest.skip(reason)
    return path


def test_pdf_and_png_from_headless_chromium(year_home: Path, out: Path) -> None:
    _chromium()
    from avledger.core.reports import chromium

    for lang in ("en", "zh"):
        pdf = out / f"annual-{lang}.pdf"
        _ok(run_cli("report", "annual", "--year", str(YEAR), "--lang", lang, "--format", "pdf",
                    "--out", str(pdf)))
        assert pdf.read_bytes().startswith(b"%PDF")
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
        assert int(re.search(r"Pages:\s+(\d+)", info).group(1)) > 10  # type: ignore[union-attr]
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True,
                              text=True).stdout
        if lang == "zh":
            assert "执法音像记录年度检查报告" in text and "查阅登记簿" in text
        png = out / f"annual-{lang}.png"
        chromium.screenshot(out / f"annual-{lang}.html", png, width=1100, height=2400)
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_chinese_has_glyphs_not_tofu(tmp_path: Path) -> None:
    """Chinese in the report's font stack draws differently from characters no font has
    (which all draw as the same empty box): so the glyphs are really there."""
    _chromium()
    from avledger.core.reports import chromium
    from avledger.core.reports.render_html import FONTS_CJK

    def shot(text: str, name: str) -> bytes:
        page = tmp_path / f"{name}.html"
        page.write_text(f'<html><body style="margin:0;font: 40px {FONTS_CJK}">{text}'
                        "</body></html>", encoding="utf-8")
        chromium.screenshot(page, tmp_path / f"{name}.png", width=400, height=80)
        return (tmp_path / f"{name}.png").read_bytes()

    missing_a = shot("\U0010fffd\U0010fffd\U0010fffd\U0010fffd", "missing-a")
    missing_b = shot("\U0010fff0\U0010fff1\U0010fff2\U0010fff3", "missing-b")
    assert missing_a == missing_b  # the check can see tofu: missing glyphs all look alike
    for text in ("执法记录仪", "查阅登记簿", "刻录光盘"):
        assert shot(text[:4], "cjk") != missing_a, text
