"""The usage ledger export for a month of generated activity matches the checkouts one for one.

A month of desk work is generated through the core API over simulated dates (several devices
and officers, two checkouts a day on some devices, remote work, forced checkouts, gaps, some
approved), with footage attributed to the checkouts as ingest would. One recorder's clips
are then really recorded (simulated, with their durations in the MP4 headers) and ingested,
so that ingest's own attribution and the container durations add to the clips and hours.
The CSV and JSON exports of that month must list exactly those checkouts — and none from the
days either side, judged in the site's time zone.
"""

from __future__ import annotations

import csv
import io
import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from avledger.core.desk import checkouts, gaps
from avledger.core.simulate.recorder import record
from avledger.timestamps import iso, parse_iso
from tests.desk.conftest import acting_as, out, register
from tests.recorder_tools import make_recorder, profile

TZ = ZoneInfo("Asia/Shanghai")
OFFICERS = {"0003": "Li Na", "0004": "Wang Fang", "0008": "Field Leader", "0001": "Desk Clerk"}
DEVICES = {"SN-1": "body_recorder", "SN-2": "body_recorder", "SN-3": "body_recorder",
           "CAM-1": "camera"}


@dataclass
class Expected:
    id: int
    device: str
    badge: str
    out_at: datetime
    in_at: datetime
    task: str
    task_id: str | None
    remote: bool
    battery: float
    forced: str | None
    clips: int = 0
    seconds: float = 0.0
    gaps: int = 0
    approved: int = 0
    gap_reasons: list[str] = field(default_factory=list)


def add_clips(app: Any, co: Expected, rng: random.Random) -> None:
    """Footage attributed to the checkout, as ingest records it."""
    with app.transaction() as conn:
        device_id = conn.execute("SELECT id FROM devices WHERE serial = ?",
                                 (co.device,)).fetchone()[0]
        for n in range(rng.randint(0, 4)):
            seconds = rng.randint(30, 3600)
            digest = f"{co.id:04d}{n:02d}" + "0" * 58
            start = co.out_at + timedelta(minutes=10 + 50 * n)
            conn.execute("INSERT INTO objects (digest, size, stored_at) VALUES (?, ?, ?)",
                         (digest, seconds * 1000, iso(co.in_at)))
            conn.execute(
                "INSERT INTO clips (device_id, digest, size, source_path, source_mtime,"
                " device_start, duration_seconds, corrected_start, ingested_at, checkout_id,"
                " badge, attribution) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'checkout')",
                (device_id, digest, seconds * 1000, f"DCIM/{co.id}_{n}.MP4", iso(start),
                 iso(start), seconds, iso(start), iso(co.in_at), co.id, co.badge))
            co.clips += 1
            co.seconds += seconds


def generate(desk: Any, leader: Any, first_day: datetime, days: int,
             rng: random.Random) -> list[Expected]:
    made: list[Expected] = []
    for day in range(days):
        base = first_day + timedelta(days=day)
        for serial in DEVICES:
            if rng.random() < 0.3:
                continue
            shifts = [(8, 12), (13, 18)] if rng.random() < 0.4 else [(8, 17)]
            for start_h, end_h in shifts:
                out_at = base.replace(hour=start_h, minute=rng.randint(0, 59)).astimezone(TZ)
                in_at = base.replace(hour=end_h, minute=rng.randint(0, 59))
                badge = rng.choice(list(OFFICERS))
                forced = rng.random() < 0.1
                battery = float(rng.randint(20, 45) if forced else rng.randint(60, 100))
                task = f"inspection {day + 1}/{serial}/{start_h}"
                task_id = f"2026-{rng.randint(100, 999)}" if rng.random() < 0.5 else None
                remote = rng.random() < 0.15
                co = out(desk, serial, badge, now=out_at, task=task, task_id=task_id,
                         remote=remote, battery_percent=battery,
                         force_reason="no charged unit left" if forced else None)
                checkouts.check_in(desk, serial, now=in_at)
                exp = Expected(co["id"], serial, badge, out_at, in_at, task, task_id, remote,
                               battery, "no charged unit left" if forced else None)
                add_clips(desk, exp, rng)
                if rng.random() < 0.2:
                    gap = gaps.add(desk, exp.id, out_at + timedelta(minutes=30),
                                   out_at + timedelta(minutes=75),
                                   rng.choice(gaps.REASONS), "recorded at the desk", now=in_at)
                    exp.gaps += 1
                    exp.gap_reasons.append(gap["reason"])
                    if rng.random() < 0.6:
                        gaps.approve(leader, gap["id"], now=in_at + timedelta(hours=1))
                        exp.approved += 1
                made.append(exp)
    return made


def record_and_ingest(dcli: Any, root: Path, serial: str, month: list[Expected]) -> int:
    """Real footage on ``serial`` during some of its checkouts (and once outside any),
    ingested through the installed command; the expectations grow by what was recorded."""
    make_recorder(root, serial=serial, badge=None, clips=0)
    chosen = [e for e in month if e.device == serial][::3][:6]
    for n, e in enumerate(chosen):
        seconds = 450.0 * (n + 1)
        record(root, profile(), clips=1, seconds=seconds, size=24_000,
               start=e.out_at + timedelta(minutes=20))
        e.clips += 1
        e.seconds += seconds
    night = chosen[0].out_at.replace(hour=3, minute=0)  # 03:00 local: no checkout then
    record(root, profile(), clips=1, seconds=300, size=24_000, start=night)
    res = dcli("ingest", str(root), "--json")
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["totals"]["new"] == len(chosen) + 1
    assert report["totals"]["unattributed"] == 1
    return len(chosen)


def test_a_month_of_activity_exports_one_for_one(desk, dcli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for serial, kind in DEVICES.items():
        register(desk, serial, kind=kind)
    rng = random.Random(20261101)
    with acting_as("leader") as leader:
        # the edges: 31 Oct 23:30 and 1 Dec 00:10 local are outside November; 1 Nov 00:30
        # local (still 31 Oct in UTC) is inside
        edge_before = generate(desk, leader, datetime(2026, 10, 31, tzinfo=TZ), 1, rng)
        month = generate(desk, leader, datetime(2026, 11, 1, tzinfo=TZ), 30, rng)
        edge_after = generate(desk, leader, datetime(2026, 12, 1, tzinfo=TZ), 1, rng)
    late = out(desk, "SN-1", "0003", now=datetime(2026, 10, 31, 23, 30, tzinfo=TZ))
    checkouts.check_in(desk, "SN-1", now=datetime(2026, 11, 1, 0, 20, tzinfo=TZ))
    early = out(desk, "SN-1", "0004", now=datetime(2026, 11, 1, 0, 30, tzinfo=TZ),
                task="night call")
    checkouts.check_in(desk, "SN-1", now=datetime(2026, 11, 1, 2, 0, tzinfo=TZ))
    month.append(Expected(early["id"], "SN-1", "0004",
                          datetime(2026, 11, 1, 0, 30, tzinfo=TZ),
                          datetime(2026, 11, 1, 2, 0, tzinfo=TZ), "night call", None, False,
                          90.0, None))
    after = out(desk, "SN-1", "0003", now=datetime(2026, 12, 1, 0, 10, tzinfo=TZ))
    assert record_and_ingest(dcli, tmp_path / "SN-2", "SN-2", month) == 6
    assert len(month) > 80 and sum(e.gaps for e in month) > 5
    assert sum(1 for e in month if e.forced) > 3 and sum(1 for e in month if e.remote) > 3
    outside = {e.id for e in edge_before + edge_after} | {late["id"], after["id"]}

    out_csv = tmp_path / "ledger.csv"
    res = dcli("checkout", "export", "--month", "2026-11", "--out", str(out_csv), "--bom")
    assert res.returncode == 0, res.stderr
    assert f"wrote {len(month)} checkouts" in res.stdout
    text = out_csv.read_text(encoding="utf-8")
    assert text.startswith("\ufeffcheckout,device,kind,badge,name,")
    rows = {int(r["checkout"]): r for r in csv.DictReader(io.StringIO(text.lstrip("\ufeff")))}
    assert set(rows) == {e.id for e in month}
    assert not set(rows) & outside
    for e in month:
        r = rows[e.id]
        assert (r["device"], r["kind"], r["badge"], r["name"]) == (
            e.device, DEVICES[e.device], e.badge, OFFICERS[e.badge])
        assert parse_iso(r["out"]) == e.out_at and parse_iso(r["in"]) == e.in_at
        assert r["out"].endswith("+08:00")
        assert (r["task"], r["task_id"] or None) == (e.task, e.task_id)
        assert r["remote"] == ("yes" if e.remote else "no")
        assert r["battery"] == (f"{e.battery:g}% (low)" if e.forced else f"{e.battery:g}%")
        assert (r["forced_reason"] or None) == e.forced
        assert (int(r["clips"]), float(r["hours"])) == (e.clips, round(e.seconds / 3600, 3))
        assert (int(r["gaps"]), int(r["gaps_approved"])) == (e.gaps, e.approved)
        assert [d.split(" ")[0] for d in r["gap_details"].split("; ") if d] == e.gap_reasons
        assert r["out_by"] == r["in_by"] == f"0001:{desk.actor.login}"

    # JSON, by an explicit range in the site zone: the same checkouts, with the nested detail
    res = dcli("checkout", "export", "--format", "json", "--from", "2026-11-01",
               "--to", "2026-12-01")
    assert res.returncode == 0, res.stderr
    data = {d["checkout"]: d for d in json.loads(res.stdout)}
    assert set(data) == set(rows)
    for e in month:
        d = data[e.id]
        assert parse_iso(d["out"]) == e.out_at and d["remote"] is e.remote
        assert d["precheck"]["battery"]["value"] == e.battery
        assert ("forced" in d["precheck"]) is bool(e.forced)
        assert [g["reason"] for g in d["gaps"]] == e.gap_reasons
        assert sum(g["approved"] for g in d["gaps"]) == e.approved
        assert d["hours"] == round(e.seconds / 3600, 3)

    everything = json.loads(dcli("checkout", "export", "--format", "json").stdout)
    assert len(everything) == len(month) + len(outside)


def test_bad_month(dcli) -> None:  # type: ignore[no-untyped-def]
    res = dcli("checkout", "export", "--month", "November")
    assert res.returncode == 2 and "must be YYYY-MM" in res.stderr
