"""``avledger report``: periods in the site's time zone, units, every refusal in one line, and
``ledger verify`` keeping its result for the integrity section."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from avledger.core.app import Avledger
from avledger.core.reports.period import Period
from tests.factories import ClipSpec, insert_clips
from tests.factories_inspect import add_people

PEOPLE = [{"badge": "0401", "name": "Team One", "unit": "Team A", "os_user": None,
           "roles": ["handler"]},
          {"badge": "0402", "name": "Team Two", "unit": "Team B", "os_user": None,
           "roles": ["handler"]}]


def _json(result: Any) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _section(doc: dict[str, Any], key: str) -> dict[str, Any]:
    return next(s for s in doc["sections"] if s["key"] == key)


@pytest.fixture
def march(home: Path, app: Avledger) -> list[int]:
    """Clips around March 2025 in Shanghai (UTC+8), for officers of two units."""
    add_people(home, PEOPLE)
    times = [datetime(2025, 2, 28, 15, 59, tzinfo=UTC),  # 23:59 on 28 Feb: February
             datetime(2025, 2, 28, 16, 30, tzinfo=UTC),  # 00:30 on 1 March
             datetime(2025, 3, 15, 2, 0, tzinfo=UTC),
             datetime(2025, 3, 31, 15, 0, tzinfo=UTC),  # 23:00 on 31 March
             datetime(2025, 3, 31, 16, 0, tzinfo=UTC)]  # 00:00 on 1 April: April
    specs = [ClipSpec(device="TC0001", source_path=f"DCIM/{n}.MP4", content=f"m{n}".encode(),
                      recorded=t, ingested=t + timedelta(hours=40 if n == 2 else 2),
                      late=n == 2, duration=600, badge="0401" if n % 2 else "0402")
             for n, t in enumerate(times)]
    return insert_clips(app, specs)


def test_a_period_is_cut_at_local_midnight(cli, march: list[int]) -> None:  # type: ignore[no-untyped-def]
    doc = _json(cli("report", "usage", "--from", "2025-03-01", "--to", "2025-03-31",
                    "--format", "json"))
    footage = _section(doc, "footage")
    assert footage["figures"]["clips"] == 3
    assert footage["tables"]["by_month"]["rows"] == [["2025-03", 3, 0.5]]
    assert doc["meta"]["period"]["start_utc"] == "2025-02-28T16:00:00.000000+00:00"
    assert doc["meta"]["period"]["end_utc"] == "2025-03-31T16:00:00.000000+00:00"
    assert [s["key"] for s in doc["sections"]] == ["footage", "usage"]


def test_a_fresh_installation_reports_nothing_gracefully(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for fmt in ("html", "md", "json"):
        result = cli("report", "annual", "--year", "2025", "--format", fmt)
        assert result.returncode == 0, result.stderr
    doc = _json(cli("report", "annual", "--year", "2025", "--format", "json"))
    assert _section(doc, "footage")["figures"]["clips"] == 0
    assert _section(doc, "handin")["figures"]["on_time_rate"] is None
    csv_dir = cli("report", "annual", "--year", "2025", "--format", "csv", "--out",
                  str(tmp_path / "csv"))
    assert csv_dir.returncode == 0 and (tmp_path / "csv" / "summary.csv").exists()


def test_months_of_a_period() -> None:
    p = Period.span(date(2025, 1, 20), date(2025, 3, 5), "Asia/Shanghai")
    assert [m.label for m in p.months()] == ["2025-01", "2025-02", "2025-03"]
    assert p.months()[0].start == p.start and p.months()[-1].end == p.end
    assert p.months()[1].start == "2025-01-31T16:00:00.000000+00:00"
    assert Period.previous_month(date(2026, 1, 10), "UTC").label == "2025-12-01 – 2025-12-31"
    assert Period.year(2025, "UTC").label == "2025"


def test_default_period_is_last_month(cli, march: list[int]) -> None:  # type: ignore[no-untyped-def]
    doc = _json(cli("report", "clocks", "--format", "json"))
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    last = today.replace(day=1) - timedelta(days=1)
    assert doc["meta"]["period"]["first_day"] == last.replace(day=1).isoformat()
    assert doc["meta"]["period"]["last_day"] == last.isoformat()
    assert [s["key"] for s in doc["sections"]] == ["clocks"]


def test_unit_scope(cli, march: list[int]) -> None:  # type: ignore[no-untyped-def]
    both = _json(cli("report", "compliance", "--from", "2025-03-01", "--to", "2025-03-31",
                     "--format", "json"))
    team_a = _json(cli("report", "compliance", "--from", "2025-03-01", "--to", "2025-03-31",
                       "--unit", "Team A", "--format", "json"))
    assert _section(both, "handin")["figures"]["judged"] == 3
    handin = _section(team_a, "handin")
    assert handin["figures"]["judged"] == 2  # 0401's clips: 00:30 on 1 March and 31 March
    assert [r[1] for r in handin["tables"]["by_month"]["rows"]] == [2]  # the month read agrees
    assert handin["figures"]["late"] == 0
    assert _section(both, "handin")["figures"]["late"] == 1
    assert _section(team_a, "retention")["scope"] == "site"
    html = cli("report", "compliance", "--from", "2025-03-01", "--to", "2025-03-31", "--unit",
               "Team A")
    assert "Whole agency (not limited to the unit)" in html.stdout
    unknown = cli("report", "annual", "--year", "2025", "--unit", "Team Z")
    assert unknown.returncode == 4
    assert "Team A" in unknown.stderr and len(unknown.stderr.strip().splitlines()) == 1


def test_refusals_are_one_line_and_write_nothing(cli, home: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                 march: list[int]) -> None:
    csv_out = cli("report", "annual", "--year", "2025", "--format", "csv")
    assert csv_out.returncode == 2 and "--out DIRECTORY" in csv_out.stderr
    backwards = cli("report", "usage", "--from", "2025-03-10", "--to", "2025-03-01")
    assert backwards.returncode == 5 and "ends (2025-03-01) before it starts" in backwards.stderr
    blocked = tmp_path / "a-file"
    blocked.write_text("x")
    nowhere = cli("report", "annual", "--year", "2025", "--out", str(blocked / "r.html"))
    assert nowhere.returncode == 7 and "cannot write" in nowhere.stderr
    extra = tmp_path / "no-browser.yaml"
    extra.write_text(yaml.safe_dump({"reports": {"chromium": "no-such-browser"}}))
    pdf = tmp_path / "r.pdf"
    no_pdf = cli("report", "annual", "--year", "2025", "--format", "pdf", "--out", str(pdf),
                 env={"AVLEDGER_CONFIG": str(extra)})
    assert no_pdf.returncode == 7
    assert len(no_pdf.stderr.strip().splitlines()) == 1
    assert "not installed" in no_pdf.stderr and "apt-get install chromium" in no_pdf.stderr
    assert not pdf.exists()
    for result in (csv_out, backwards, nowhere, no_pdf):
        assert "Traceback" not in result.stderr


def test_a_report_changes_nothing_and_says_so_twice(cli, app: Avledger, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                    march: list[int]) -> None:
    before = app.catalog.conn.execute("SELECT COUNT(*) FROM ledger").fetchone()[0]
    first = _json(cli("report", "annual", "--year", "2025", "--format", "json"))
    second = _json(cli("report", "annual", "--year", "2025", "--format", "json",
                       "--lang", "zh"))
    assert first["meta"]["digest"] == second["meta"]["digest"]
    assert app.catalog.conn.execute("SELECT COUNT(*) FROM ledger").fetchone()[0] == before
    html = cli("report", "annual", "--year", "2025", "--out", str(tmp_path / "r.html"))
    assert html.returncode == 0 and "written to" in html.stderr
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    for anchor in ("footage", "handin", "clocks", "usage", "retention", "access", "integrity",
                   "review"):
        assert f'href="#s-{anchor}"' in page and f'id="s-{anchor}"' in page
    assert first["meta"]["digest"] in page


def test_ledger_verify_keeps_its_result(cli, home: Path, app: Avledger,  # type: ignore[no-untyped-def]
                                        march: list[int]) -> None:
    assert cli("ledger", "verify").returncode == 0
    runs = app.catalog.conn.execute("SELECT kind, checked, problems FROM verify_runs").fetchall()
    events = app.catalog.conn.execute("SELECT COUNT(*) FROM ledger").fetchone()[0]
    assert [tuple(r) for r in runs] == [("ledger", events - 1, 0)]
    last = app.catalog.conn.execute("SELECT type, payload FROM ledger ORDER BY seq DESC"
                                    " LIMIT 1").fetchone()
    assert last["type"] == "ledger.verified" and json.loads(last["payload"])["ok"] is True
    assert _json(cli("status", "--json"))["last_verify"]["ledger"]["problems"] == 0
    # Someone edits an event: the verification fails, and the failure is what is kept.
    raw = sqlite3.connect(home / "data" / "catalog.db")
    raw.execute("DROP TRIGGER ledger_no_update")
    raw.execute("UPDATE ledger SET payload = '{\"edited\": true}' WHERE seq = 2")
    raw.commit()
    raw.close()
    bad = cli("ledger", "verify")
    assert bad.returncode == 6 and "seq 2" in bad.stderr
    doc = _json(cli("report", "compliance", "--from", "2025-03-01", "--to", "2025-03-31",
                    "--format", "json"))
    integrity = _section(doc, "integrity")
    assert integrity["figures"]["last_ledger_result"] == "problems"
    row = next(r for r in integrity["tables"]["last_runs"]["rows"] if r[0] == "ledger")
    assert row[4] >= 1


def test_a_report_carries_its_checkpoint_and_fingerprint(cli, app: Avledger,  # type: ignore[no-untyped-def]
                                                         tmp_path: Path) -> None:
    """The footer names the signed checkpoint the report was made under and the key's
    fingerprint; the report file is a receipt 'ledger verify --against' checks."""
    from avledger import verifier

    app.checkpoint()
    fp = verifier.grouped(verifier.fingerprint(app.public_key()))
    for fmt, name in (("html", "r.html"), ("md", "r.md")):
        out = cli("report", "annual", "--year", "2025", "--format", fmt, "--out",
                  str(tmp_path / name))
        assert out.returncode == 0, out.stderr
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert fp in text and "-----BEGIN AVLEDGER CHECKPOINT-----" in text
        check = cli("ledger", "verify", "--against", str(tmp_path / name), "--json")
        assert check.returncode == 0, check.stdout + check.stderr
