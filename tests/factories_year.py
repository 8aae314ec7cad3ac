"""A busy year at a bureau, written straight into the catalog with SQL, for reports.

``generate_busy_year`` fills a catalog with what a year of real work leaves behind: a roster
of officers in several units, recorders checked out on working days (some remote, some kept
overnight, a few handed back days late), clips with corrected times and the 24-hour
judgement worked out per clip, dockings with clock measurements (drift growing at each
recorder's own rate, syncs when it grows too large, a few clock resets), gap records with
approvals, cases with linked footage, holds of every kind, last year's footage purged during
this year (tombstones) and some pending, archive sets with discs in several verification
states, and verification runs. Objects are catalogued rows without bytes: reports never read
content. ``executemany`` in month batches: 50,000 clips take a few seconds, 1,000,000 under a
minute.

Nothing here decides what a report should say: tests count with their own SQL.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

UNITS = ("环境监察支队一大队", "环境监察支队二大队", "环境监察支队三大队", "环境监察支队四大队")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = ("伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "艳", "杰", "军", "涛", "明", "超", "霞",
         "平", "刚", "辉", "鹏", "华", "建国", "志强", "海燕", "晓东", "文博", "子涵", "思远",
         "国庆", "春梅", "立新")
LATE_REASONS = ("在外地执法，返回后次日移交", "采集站故障，次日补交", "夜间执法结束后未及时接入",
                "节假日值班，返岗后移交", "执法记录仪遗留在执法车内")
GAP_REASONS = (("battery", 35), ("storage", 15), ("device-fault", 15), ("weather", 10),
               ("obstruction", 10), ("force-majeure", 5), ("other", 10))
GAP_NOTES = {"battery": "电池电量耗尽，更换备用电池后继续录制",
             "storage": "存储空间已满，清理前无法继续录制",
             "device-fault": "设备死机，重启后恢复",
             "weather": "暴雨，设备无法正常使用",
             "obstruction": "当事人阻挠，设备被遮挡",
             "force-majeure": "突发情况，无法录制",
             "other": "其他原因中断录制"}
HOLD_REASONS = (("complaint", 40), ("obstruction", 25), ("major-sensitive", 20),
                ("litigation", 10), ("other", 5))
CASE_TYPES = (("inspection", 50), ("penalty", 30), ("compulsion", 12), ("licensing", 8))
TOLERANCE = 3.0
SYNC_ABOVE = 1.5  # the desk resets a clock found this far off
MEAN_CLIPS = 6.5  # per checkout day


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([w[0] for w in weighted], [w[1] for w in weighted])[0]


def roster(officers: int, *, seed: int = 1) -> list[dict[str, Any]]:
    """``officers`` roster entries (badges 4104001…), spread over the units, all handlers."""
    rng = random.Random(seed)
    people = []
    names: set[str] = set()
    for n in range(officers):
        while True:
            name = rng.choice(SURNAMES) + rng.choice(GIVEN)
            if name not in names or len(names) > 900:
                break
        names.add(name)
        people.append({"badge": f"4104{n + 1:03d}", "name": name, "unit": UNITS[n % len(UNITS)],
                       "os_user": None, "roles": ["handler"]})
    return people


def configure(home: Path, people: list[dict[str, Any]], *, site_unit: str) -> None:
    """Add ``people`` to the development config in ``home`` and name the agency."""
    cfg = home / "avledger.yaml"
    doc = yaml.safe_load(cfg.read_text(encoding="utf-8"))
    doc["personnel"].extend(people)
    doc.setdefault("site", {})["unit"] = site_unit
    cfg.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


@dataclass
class Device:
    id: int
    serial: str
    unit: str
    rate: float  # drift seconds per day
    synced_at: datetime
    drift_at_sync: float = 0.0

    def drift(self, at: datetime, rng: random.Random) -> float:
        days = (at - self.synced_at).total_seconds() / 86400
        return round(self.drift_at_sync + self.rate * days + rng.gauss(0, 0.15), 3)


@dataclass
class Rows:
    """Rows waiting for the next batch insert."""

    objects: list[tuple[Any, ...]] = field(default_factory=list)
    clips: list[tuple[Any, ...]] = field(default_factory=list)
    checkouts: list[tuple[Any, ...]] = field(default_factory=list)
    docks: list[tuple[Any, ...]] = field(default_factory=list)
    clocks: list[tuple[Any, ...]] = field(default_factory=list)
    gaps: list[tuple[Any, ...]] = field(default_factory=list)

    def flush(self, conn: sqlite3.Connection) -> None:
        conn.executemany("INSERT INTO checkouts (id, device_id, badge, task, remote, out_at,"
                         " in_at, out_by, in_by, precheck) VALUES (?,?,?,?,?,?,?,?,?,?)",
                         self.checkouts)
        conn.executemany("INSERT INTO docks (id, device_id, station, source, started_at,"
                         " updated_at, finished_at, state, files_total, files_done, bytes_total,"
                         " bytes_done) VALUES (?,?,'dock-1','/dev/sdb1',?,?,?,'done',?,?,?,?)",
                         self.docks)
        conn.executemany("INSERT INTO clock_measurements (device_id, kind, measured_at,"
                         " device_time, drift_seconds, status, host_synced, host_sync, source,"
                         " detail) VALUES (?,?,?,?,?,?,?,'timedatectl NTPSynchronized',?,?)",
                         self.clocks)
        conn.executemany("INSERT INTO objects (digest, size, stored_at) VALUES (?,?,?)",
                         self.objects)
        conn.executemany(
            "INSERT INTO clips (id, device_id, digest, size, source_path, source_mtime,"
            " device_start, device_end, duration_seconds, duration_source, drift_seconds,"
            " corrected_start, corrected_end, ingested_at, deadline, on_time, late_reason,"
            " checkout_id, badge, attribution, flags, dock_id, status)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", self.clips)
        conn.executemany("INSERT INTO gaps (checkout_id, from_at, to_at, reason, note,"
                         " created_at, created_by, author_badge, approved_at, approved_by,"
                         " approver_badge) VALUES (?,?,?,?,?,?,?,?,?,?,?)", self.gaps)
        for part in (self.objects, self.clips, self.checkouts, self.docks, self.clocks,
                     self.gaps):
            part.clear()


@dataclass
class BusyYear:
    """What was generated, for tests that need ids (not for expected report numbers)."""

    year: int
    tz: str
    devices: int
    officers: list[dict[str, Any]]
    clips: int = 0
    checkouts: int = 0
    reset_devices: list[str] = field(default_factory=list)

    def local(self, y: int, m: int, d: int, h: int = 0, mi: int = 0) -> datetime:
        return datetime(y, m, d, h, mi, tzinfo=ZoneInfo(self.tz))


class Generator:
    def __init__(self, conn: sqlite3.Connection, year: int, tz: str, devices: int,
                 people: list[dict[str, Any]], clips: int, seed: int) -> None:
        self.conn = conn
        self.year = year
        self.zone = ZoneInfo(tz)
        self.rng = random.Random(seed)
        self.people = people
        self.target = clips
        self.rows = Rows()
        self.clip_id = self._next("clips")
        self.checkout_id = self._next("checkouts")
        self.dock_id = self._next("docks")
        self.devices = self._devices(devices)
        by_unit: dict[str, list[str]] = {}
        for p in people:
            by_unit.setdefault(p["unit"], []).append(p["badge"])
        self.by_unit = by_unit
        self.activity = {p["badge"]: self.rng.lognormvariate(0, 0.5) for p in people}
        self.clips_made = 0
        self.checkouts_made = 0

    def _next(self, table: str) -> int:
        return int(self.conn.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}").fetchone()[0]) + 1

    def at(self, day: date, hour: float) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.zone) + timedelta(hours=hour)

    def _devices(self, n: int) -> list[Device]:
        start = self.at(date(self.year - 1, 1, 1), 9)
        out = []
        for i in range(n):
            serial = f"ZFY-{i + 1:04d}"
            unit = UNITS[i % len(UNITS)]
            roll = self.rng.random()
            speed = (self.rng.uniform(2.0, 4.0) if i in (3, 17) else
                     self.rng.uniform(0.2, 0.5) if roll < 0.18 else self.rng.uniform(0.02, 0.2))
            cur = self.conn.execute(
                "INSERT INTO devices (serial, profile, model, kind, unit, registration,"
                " first_seen_at, registered_at) VALUES (?, 'generic', 'DSJ-V9',"
                " 'body_recorder', ?, 'registered', ?, ?)",
                (serial, unit, _iso(start), _iso(start)))
            synced = self.at(date(self.year - 1, 12, 31), 9) - timedelta(
                days=self.rng.uniform(0, 10))
            out.append(Device(int(cur.lastrowid or 0), serial, unit,
                              speed * self.rng.choice((-1, 1)), synced))
        return out

    # -- clips ------------------------------------------------------------------------------
    def clip(self, dev: Device, start: datetime | None, seconds: float, *, ingested: datetime,
             dock: int | None, checkout: int | None, badge: str | None, attribution: str,
             deadline_floor: datetime | None = None, late_reason: str | None = None,
             status: str = "stored", flags: tuple[str, ...] = ()) -> int:
        cid = self.clip_id
        self.clip_id += 1
        digest = f"{self.rng.getrandbits(256):064x}"
        size = int(seconds * self.rng.uniform(1.0e6, 1.6e6))
        self.rows.objects.append((digest, size, _iso(ingested)))
        if start is None:
            reset_time = datetime(2000, 1, 1, 8, tzinfo=UTC) + timedelta(
                seconds=self.rng.randrange(0, 86400 * 3))
            device_start, corrected, end, deadline, on_time, drift = (
                _iso(reset_time), None, None, None, None, None)
            device_end = _iso(reset_time + timedelta(seconds=seconds))
            late_reason = None
        else:
            drift = dev.drift(start, self.rng)
            real_end = start + timedelta(seconds=seconds)
            due = real_end + timedelta(hours=24)
            if deadline_floor is not None:
                due = max(due, deadline_floor)
            late = ingested > due
            corrected, end, deadline = _iso(start), _iso(real_end), _iso(due)
            device_start = _iso(start + timedelta(seconds=drift))
            device_end = _iso(real_end + timedelta(seconds=drift))
            on_time = 0 if late else 1
            late_reason = late_reason if late else None
        name = f"DCIM/100MEDIA/{dev.serial}_{cid:08d}.MP4"
        self.rows.clips.append((
            cid, dev.id, digest, size, name, _iso(ingested - timedelta(minutes=3)),
            device_start, device_end, round(seconds, 1), "container", drift, corrected, end,
            _iso(ingested), deadline, on_time, late_reason, checkout, badge, attribution,
            json.dumps(list(flags)), dock, status))
        self.clips_made += 1
        return cid

    def dock(self, dev: Device, at: datetime, files: int) -> int:
        did = self.dock_id
        self.dock_id += 1
        self.rows.docks.append((did, dev.id, _iso(at), _iso(at + timedelta(minutes=4)),
                                _iso(at + timedelta(minutes=4)), files, files, files * 10**8,
                                files * 10**8))
        return did

    def measure(self, dev: Device, at: datetime, *, reset: bool = False) -> None:
        host = 0 if self.rng.random() < 0.02 else 1
        if reset:
            device_time = datetime(2000, 1, 1, 8, tzinfo=UTC)
            drift = round((device_time - at).total_seconds(), 3)
            self.rows.clocks.append((dev.id, "check", _iso(at), _iso(device_time), drift,
                                     "reset", host, "dock", "clock file"))
        else:
            drift = dev.drift(at, self.rng)
            status = "ok" if abs(drift) <= TOLERANCE else "drifted"
            self.rows.clocks.append((dev.id, "check", _iso(at), _iso(at + timedelta(
                seconds=drift)), drift, status, host, "dock", "clock file"))
            if abs(drift) < SYNC_ABOVE:
                return
        synced = at + timedelta(seconds=40)
        after = round(self.rng.gauss(0, 0.05), 3)
        self.rows.clocks.append((dev.id, "sync", _iso(synced), _iso(synced), after, "ok", host,
                                 "desk", "clock set by the desk"))
        dev.synced_at, dev.drift_at_sync = synced, after

    # -- a working year ---------------------------------------------------------------------
    def days(self) -> Iterator[date]:
        day = date(self.year, 1, 1)
        while day.year == self.year:
            yield day
            day += timedelta(days=1)

    def run(self) -> None:
        workdays = sum(1 for d in self.days() if d.weekday() < 5)
        weekend_days = sum(1 for _ in self.days()) - workdays
        # A recorder goes out on a working day with p_work, on a weekend day a fifth as often.
        days_out = len(self.devices) * (workdays + 0.2 * weekend_days)
        # (Remote, overnight and late-docked checkouts keep a recorder busy for days: + 7 %.)
        self.p_work = min(0.98, 1.07 * self.target / (days_out * MEAN_CLIPS))
        self.p_weekend = self.p_work * 0.2
        busy_until: dict[int, date] = {}
        reset_days = {self.devices[i].id: date(self.year, 3 + 3 * n, 10 + n)
                      for n, i in enumerate((5, 22, 31)) if i < len(self.devices)}
        self.resets = [d.serial for d in self.devices if d.id in reset_days]
        month = 1
        for day in self.days():
            if day.month != month:
                self.rows.flush(self.conn)
                month = day.month
            working = day.weekday() < 5
            for dev in self.devices:
                if busy_until.get(dev.id, day) > day:
                    continue
                if dev is self.devices[0] and day == date(self.year, 12, 30):
                    self.checkout(dev, day, reset=False, kind="lost")  # never comes back
                    continue
                if self.rng.random() >= (self.p_work if working else self.p_weekend):
                    if self.rng.random() < 0.04:
                        self.stray_clip(dev, day)
                    continue
                reset = dev.id in reset_days and day >= reset_days[dev.id]
                if reset:
                    del reset_days[dev.id]
                busy_until[dev.id] = self.checkout(dev, day, reset=reset)
        self.rows.flush(self.conn)

    def checkout(self, dev: Device, day: date, *, reset: bool, kind: str | None = None) -> date:
        """One checkout starting ``day``; returns the first day the recorder is free again."""
        rng = self.rng
        badges = self.by_unit.get(dev.unit) or [p["badge"] for p in self.people]
        badge = rng.choices(badges, [self.activity[b] for b in badges])[0]
        out_at = self.at(day, rng.uniform(8.0, 9.5))
        roll = rng.random()
        if kind is None:
            kind = ("remote" if roll < 0.04 else "overnight" if roll < 0.055 else
                    "late-dock" if roll < 0.095 else "normal")
            if dev is self.devices[0] and day >= date(self.year, 12, 20):
                kind = "normal"  # free on 30 December, when it goes out for good
        days = rng.randint(2, 4) if kind == "remote" else 1
        if kind == "remote":
            in_at = self.at(day + timedelta(days=days - 1), rng.uniform(17, 20))
        elif kind == "overnight":
            in_at = out_at + timedelta(hours=rng.uniform(26, 60))
        else:
            in_at = self.at(day, rng.uniform(16.5, 18.5))
        dock_at = in_at + timedelta(minutes=rng.uniform(2, 25))
        if kind == "late-dock":
            dock_at = in_at + timedelta(hours=rng.uniform(26, 130))
        cid = self.checkout_id
        self.checkout_id += 1
        forced = rng.random() < 0.01
        precheck = {"battery": {"result": "ok", "value": rng.randint(60, 100)},
                    "clock": {"result": "ok"}}
        if forced:
            precheck["forced"] = {"reason": "急需出勤，电量不足仍领用"}
        open_ = kind == "lost"
        self.rows.checkouts.append((
            cid, dev.id, badge, rng.choice(("现场检查", "污染源巡查", "信访调查", "专项执法")),
            int(kind == "remote"), _iso(out_at), None if open_ else _iso(in_at), "4104900:clerk",
            None if open_ else "4104900:clerk", json.dumps(precheck, ensure_ascii=False)))
        self.checkouts_made += 1
        n = max(1, round(rng.gauss(MEAN_CLIPS * days, 2.0 * days)))
        starts = sorted(rng.uniform(out_at.timestamp() + 600, in_at.timestamp() - 1800)
                        for _ in range(n)) if in_at - out_at > timedelta(hours=1) else []
        if open_:
            return day + timedelta(days=400)
        dock = self.dock(dev, dock_at, len(starts))
        reason = (rng.choice(LATE_REASONS) if rng.random() < 0.65 else None)
        floor = in_at + timedelta(hours=24) if kind == "remote" else None
        for ts in starts:
            start = datetime.fromtimestamp(ts, UTC)
            seconds = min(2400.0, max(8.0, rng.lognormvariate(5.4, 0.8)))
            unknown = reset or rng.random() < 0.0005
            self.clip(dev, None if unknown else start, seconds, ingested=dock_at + timedelta(
                seconds=30), dock=dock, checkout=cid, badge=badge, attribution="checkout",
                deadline_floor=floor, late_reason=reason,
                flags=("clock-reset",) if unknown else ())
        self.measure(dev, dock_at + timedelta(seconds=5), reset=reset)
        if rng.random() < 0.03 and starts:
            self.gap(cid, badge, out_at, in_at)
        return (dock_at + timedelta(hours=1)).astimezone(self.zone).date() + timedelta(days=1) \
            if kind in ("remote", "overnight", "late-dock") else day + timedelta(days=1)

    def stray_clip(self, dev: Device, day: date) -> None:
        """Footage recorded while the recorder was not checked out (rule B, Art. 5)."""
        rng = self.rng
        start = self.at(day, rng.uniform(9, 18))
        dock_at = start + timedelta(hours=rng.uniform(1, 20))
        dock = self.dock(dev, dock_at, 1)
        roll = rng.random()
        attribution = ("between-checkouts" if roll < 0.5 else "unattributed" if roll < 0.8
                       else "device-info")
        badge = (rng.choice(self.by_unit.get(dev.unit, [""])) if attribution == "device-info"
                 else None)
        self.clip(dev, start, rng.uniform(5, 90), ingested=dock_at, dock=dock, checkout=None,
                  badge=badge, attribution=attribution, flags=(
                      (attribution,) if attribution != "device-info" else ()))
        self.measure(dev, dock_at + timedelta(seconds=5))

    def gap(self, checkout: int, badge: str, out_at: datetime, in_at: datetime) -> None:
        rng = self.rng
        reason = _pick(rng, GAP_REASONS)
        start = out_at + timedelta(seconds=rng.uniform(1800, max(1801, (in_at - out_at)
                                                                 .total_seconds() - 7200)))
        end = start + timedelta(minutes=rng.uniform(8, 70))
        written = in_at + timedelta(minutes=30)
        approved = rng.random() < 0.85
        self.rows.gaps.append((checkout, _iso(start), _iso(end), reason, GAP_NOTES[reason],
                               _iso(written), f"{badge}:?", badge,
                               _iso(written + timedelta(days=rng.uniform(0.5, 6)))
                               if approved else None, "0002:leader" if approved else None,
                               "0002" if approved else None))


def _prior_year_purges(g: Generator, share: float, as_of: datetime) -> None:
    """Last year's footage: cleared during this year (tombstones), a little of it still
    pending at ``as_of``; this year's first weeks purged or pending by ``as_of`` too."""
    rng = g.rng
    zone = g.zone
    keep = timedelta(days=365)
    wait = timedelta(days=7)
    n = int(g.target * share)
    start = datetime(g.year - 1, 1, 1, tzinfo=zone)
    tombstones, pending = [], []
    for _ in range(n):
        dev = rng.choice(g.devices)
        recorded = start + timedelta(seconds=rng.uniform(0, 365 * 86400))
        ingested = recorded + timedelta(hours=rng.uniform(1, 20))
        badge = rng.choice(g.by_unit[dev.unit])
        expiry = recorded + keep
        purge_at = datetime.combine((expiry + wait).astimezone(zone).date() + timedelta(days=1),
                                    time(2, 30), tzinfo=zone)
        status = "purged" if purge_at <= as_of else "pending_purge" if expiry <= as_of \
            else "stored"
        cid = g.clip(dev, recorded, rng.uniform(20, 900), ingested=ingested, dock=None,
                     checkout=None, badge=badge, attribution="checkout", status=status)
        if status == "purged":
            manual = rng.random() < 0.01
            tombstones.append((cid, g.rows.clips[-1][2], g.rows.clips[-1][3], "{}",
                               _iso(purge_at), "system" if not manual else "4104900:records",
                               "retention expired" if not manual else "无执法内容的测试录像",
                               "manual" if manual else "sweep", 1))
        elif status == "pending_purge":
            pending.append((cid, _iso(expiry + timedelta(days=1)), _iso(expiry), "default",
                            "system"))
    g.rows.flush(g.conn)
    # This year's own oldest footage, expired by as_of.
    for cid, start_text in g.conn.execute(
            "SELECT id, corrected_start FROM clips WHERE corrected_start < ? AND status ="
            " 'stored' AND checkout_id IS NOT NULL", (_iso(as_of - keep),)).fetchall():
        recorded = datetime.fromisoformat(start_text)
        expiry = recorded + keep
        purge_at = datetime.combine((expiry + wait).astimezone(zone).date() + timedelta(days=1),
                                    time(2, 30), tzinfo=zone)
        if purge_at <= as_of:
            row = g.conn.execute("SELECT digest, size FROM clips WHERE id = ?", (cid,)).fetchone()
            g.conn.execute("UPDATE clips SET status = 'purged' WHERE id = ?", (cid,))
            tombstones.append((cid, row[0], row[1], "{}", _iso(purge_at), "system",
                               "retention expired", "sweep", 1))
        else:
            g.conn.execute("UPDATE clips SET status = 'pending_purge' WHERE id = ?", (cid,))
            pending.append((cid, _iso(expiry + timedelta(days=1)), _iso(expiry), "default",
                            "system"))
    g.conn.executemany("INSERT INTO tombstones (clip_id, digest, size, metadata, purged_at,"
                       " purged_by, reason, how, content_deleted) VALUES (?,?,?,?,?,?,?,?,?)",
                       tombstones)
    g.conn.executemany("INSERT INTO retention_pending (clip_id, since, expired_at, basis,"
                       " marked_by) VALUES (?,?,?,?,?)", pending)


def _cases_and_holds(g: Generator) -> None:
    rng, conn = g.rng, g.conn
    checkouts = [r[0] for r in conn.execute(
        "SELECT c.id FROM checkouts c WHERE c.out_at >= ? AND c.in_at IS NOT NULL",
        (_iso(datetime(g.year, 1, 1, tzinfo=g.zone)),))]
    chosen = rng.sample(checkouts, min(len(checkouts), max(4, len(checkouts) // 45)))
    for n, co in enumerate(chosen):
        etype = _pick(rng, CASE_TYPES)
        opened = conn.execute("SELECT out_at, badge FROM checkouts WHERE id = ?",
                              (co,)).fetchone()
        closed = rng.random() < 0.55
        cur = conn.execute(
            "INSERT INTO cases (number, name, enforcement_type, status, opened_at, opened_by,"
            " closed_at, closed_by, close_note) VALUES (?, ?, ?, ?, ?, '4104900:records', ?,"
            " ?, ?)",
            (f"平环{'罚' if etype == 'penalty' else '查'}〔{g.year}〕{n + 1}号",
             f"某企业环境违法案 {n + 1}", etype, "closed" if closed else "open", opened[0],
             opened[0] if closed else None, "4104900:records" if closed else None,
             "结案" if closed else None))
        case_id = int(cur.lastrowid or 0)
        conn.execute("INSERT INTO case_handlers (case_id, badge) VALUES (?, ?)",
                     (case_id, opened[1]))
        conn.execute("INSERT INTO clip_cases (clip_id, case_id, linked_at, linked_by)"
                     " SELECT id, ?, ingested_at, '4104900:records' FROM clips"
                     " WHERE checkout_id = ?", (case_id, co))
        if rng.random() < 0.2:
            conn.execute("INSERT INTO holds (scope, case_id, reason, note, placed_at, placed_by)"
                         " VALUES ('case', ?, ?, '重大案件，长期保存', ?, '4104900:records')",
                         (case_id, _pick(rng, HOLD_REASONS), opened[0]))
    for n in range(max(6, g.target // 2500)):
        co = rng.choice(checkouts)
        row = conn.execute("SELECT out_at, in_at, device_id FROM checkouts WHERE id = ?",
                           (co,)).fetchone()
        reason = _pick(rng, HOLD_REASONS)
        placed = datetime.fromisoformat(row[1]) + timedelta(days=rng.uniform(1, 20))
        released = placed + timedelta(days=rng.uniform(20, 90)) if n % 6 == 5 else None
        scope = "device" if n % 5 == 4 else "clips"
        cur = conn.execute(
            "INSERT INTO holds (scope, device_id, from_ts, to_ts, reason, note, placed_at,"
            " placed_by, released_at, released_by, release_note)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, '4104900:records', ?, ?, ?)",
            (scope, row[2] if scope == "device" else None, row[0] if scope == "device" else None,
             row[1] if scope == "device" else None, reason, "当事人对执法过程有异议",
             _iso(placed), _iso(released) if released else None,
             "0002:leader" if released else None, "投诉已撤回" if released else None))
        if scope == "clips":
            conn.execute("INSERT INTO hold_clips (hold_id, clip_id) SELECT ?, id FROM clips"
                         " WHERE checkout_id = ? LIMIT ?", (cur.lastrowid, co, rng.randint(1, 8)))


def _archive_and_verification(g: Generator, as_of: datetime) -> None:
    rng, conn = g.rng, g.conn
    for n in range(5):
        made = datetime(g.year, 2 + 2 * n, 12, 10, tzinfo=g.zone)
        discs = 1 + (n % 2)
        cur = conn.execute(
            "INSERT INTO archive_sets (title, scope, media, capacity, copies, discs, clips, bytes,"
            " manifest_sha256, out_dir, status, created_at, created_by)"
            " VALUES (?, '{\"clips\": []}', 'dvd', 4700000000, 2, ?, ?, ?, ?, '/srv/archive',"
            " 'complete', ?, '4104900:records')",
            (f"某企业环境违法案 {n + 1} 现场检查", discs, 10 + n, (10 + n) * 10**8,
             f"{rng.getrandbits(256):064x}", _iso(made)))
        for copy in (1, 2):
            for disc in range(1, discs + 1):
                state = ("never" if (n == 1 and copy == 2) or n == 4 else
                         "failed" if (n == 2 and copy == 1 and disc == 1) else "ok")
                verified = made + timedelta(hours=2) if state != "never" else None
                conn.execute(
                    "INSERT INTO archive_discs (set_id, copy_no, disc_no, volume_id, location,"
                    " created_at, last_verified_at, last_verify_ok, last_verify_detail)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (cur.lastrowid, copy, disc, f"AVL{cur.lastrowid:04d}C{copy}D{disc}",
                     f"档案室 {copy} 号柜", _iso(made), _iso(verified) if verified else None,
                     None if verified is None else int(state == "ok"),
                     '["clips/3_ZFY-0001.MP4: wrong SHA-256"]' if state == "failed" else None))
    week = datetime(g.year, 1, 5, 2, tzinfo=g.zone)
    runs = []
    while week < as_of:
        bad = 1 if week.month == 6 and week.day <= 7 else 0
        summary = {"mode": "budget", "checked": 6000, "missing": [], "orphans": [],
                   "corrupt": [{"object": "ab" * 32, "detail": "hash mismatch"}] if bad else []}
        runs.append(("store", _iso(week), _iso(week + timedelta(minutes=50)), "system", 6000,
                     bad, json.dumps(summary)))
        if week.day <= 7:
            runs.append(("ledger", _iso(week), _iso(week + timedelta(minutes=2)),
                         "4104900:records", 1, 0, json.dumps({"ok": True, "mode": "full"})))
        week += timedelta(days=7)
    conn.executemany("INSERT INTO verify_runs (kind, started_at, finished_at, actor, checked,"
                     " problems, summary) VALUES (?, ?, ?, ?, ?, ?, ?)", runs)


def generate_busy_year(catalog: Path, *, year: int, tz: str = "Asia/Shanghai",
                       clips: int = 50_000, devices: int = 40,
                       people: list[dict[str, Any]] | None = None, seed: int = 1,
                       prior_share: float = 0.25) -> BusyYear:
    """Fill ``catalog`` with a year of work (see the module docstring); about ``clips`` clips
    recorded in ``year``, plus ``prior_share`` of that from the year before (mostly purged).
    The state is as of 20 January of the following year."""
    people = people if people is not None else roster(120, seed=seed)
    conn = sqlite3.connect(catalog, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA foreign_keys = OFF")  # purged clips keep their digest, as in purge.py
    try:
        conn.execute("BEGIN IMMEDIATE")
        g = Generator(conn, year, tz, devices, people, clips, seed)
        as_of = datetime(year + 1, 1, 20, 9, tzinfo=ZoneInfo(tz))
        g.run()
        _prior_year_purges(g, prior_share, as_of)
        _cases_and_holds(g)
        _archive_and_verification(g, as_of)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    finally:
        conn.close()
    return BusyYear(year, tz, devices, people, g.clips_made, g.checkouts_made, g.resets)
