"""Recorder clock checks (rule B, Art. 7): read the device clock, measure drift, classify.

A measurement compares the recorder's clock with the host's at the moment it is read, and
records the host's own synchronisation state, because a drift figure is only as good as the
host clock it was measured against. Every measurement is a catalog row and a ledger event.
``drift_at`` estimates the drift at a past moment (a clip's recording time) by interpolating
between the device's last sync and this measurement.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from avledger.config.profiles import Profile
from avledger.core.app import Avledger
from avledger.store import db
from avledger.timestamps import iso, parse_iso, utcnow

MAX_CLOCK_BYTES = 4096
COMMAND_TIMEOUT = 15


@dataclass(frozen=True)
class DeviceClock:
    time: datetime | None  # UTC; None when it could not be read
    detail: str


@dataclass(frozen=True)
class HostSync:
    synced: bool | None  # None: could not tell
    how: str


@dataclass(frozen=True)
class Measurement:
    id: int | None
    device_id: int
    measured_at: datetime
    device_time: datetime | None
    drift_seconds: float | None
    status: str  # ok | drifted | reset | unknown
    host: HostSync
    source: str
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "device_id": self.device_id, "measured_at": iso(self.measured_at),
            "device_time": iso(self.device_time) if self.device_time else None,
            "drift_seconds": self.drift_seconds, "status": self.status,
            "host_synced": self.host.synced, "host_sync": self.host.how,
            "source": self.source, "detail": self.detail,
        }


# ---- reading the device clock ------------------------------------------------------------------


def parse_clock_text(text: str, fmt: str, tz: str) -> datetime:
    """The first non-empty line of ``text`` in ``fmt`` (device local time) as UTC."""
    text = text.lstrip("\ufeff")
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    if not line:
        raise ValueError("empty")
    naive = datetime.strptime(line, fmt)
    return naive.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)


def expand(args: list[str], values: dict[str, str]) -> list[str]:
    """A profile command with ``{name}`` placeholders filled in."""
    out = []
    for arg in args:
        for key, value in values.items():
            arg = arg.replace("{" + key + "}", value)
        out.append(arg)
    return out


def read_device_clock(root: Path, profile: Profile, device_node: str | None = None) -> DeviceClock:
    spec = profile.get("clock.read")
    method = spec["method"]
    if method == "none":
        return DeviceClock(None, "profile has no way to read the clock")
    if method == "file":
        try:
            with open(root / spec["path"], "rb") as fh:
                text = fh.read(MAX_CLOCK_BYTES).decode("utf-8", errors="replace")
        except OSError as exc:
            return DeviceClock(None, f"clock file {spec['path']} unreadable: "
                                     f"{exc.strerror or exc}")
        origin = f"clock file {spec['path']}"
    else:
        argv = expand(spec["command"], {"root": str(root), "device": device_node or ""})
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return DeviceClock(None, f"clock command failed: {exc}")
        if done.returncode != 0:
            return DeviceClock(None, f"clock command exited {done.returncode}: "
                                     f"{done.stderr.strip()[:200]}")
        text = done.stdout
        origin = "clock command"
    try:
        return DeviceClock(parse_clock_text(text, spec["format"], profile.clock_timezone),
                           origin)
    except ValueError as exc:
        shown = text.strip()[:40].encode("unicode_escape").decode()
        return DeviceClock(None, f"{origin} does not parse as {spec['format']!r}: "
                                 f"{shown!r} ({exc})")


# ---- the host's own state ----------------------------------------------------------------------


class _Timex(ctypes.Structure):
    _fields_ = [("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
                ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long),
                ("status", ctypes.c_int), ("_rest", ctypes.c_byte * 256)]


STA_UNSYNC = 0x0040
TIME_ERROR = 5


def _adjtimex() -> HostSync:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        tx = _Timex()  # modes = 0: read only
        state = libc.adjtimex(ctypes.byref(tx))
    except (OSError, AttributeError) as exc:
        return HostSync(None, f"adjtimex unavailable: {exc}")
    if state < 0:
        return HostSync(None, f"adjtimex failed: errno {ctypes.get_errno()}")
    synced = state != TIME_ERROR and not tx.status & STA_UNSYNC
    return HostSync(synced, f"adjtimex (state {state}, maxerror {tx.maxerror} us)")


def host_sync_state() -> HostSync:
    """Is the host clock synchronised? timedatectl when systemd runs, else the kernel's view."""
    if shutil.which("timedatectl"):
        try:
            done = subprocess.run(["timedatectl", "show", "-p", "NTPSynchronized", "--value"],
                                  capture_output=True, text=True, timeout=5)
            value = done.stdout.strip()
            if done.returncode == 0 and value in ("yes", "no"):
                return HostSync(value == "yes", "timedatectl NTPSynchronized")
        except (OSError, subprocess.TimeoutExpired):
            pass
    return _adjtimex()


# ---- classification and interpolation ----------------------------------------------------------


def classify(device_time: datetime | None, drift: float | None, *, tolerance: float,
             reset_before_year: int) -> str:
    if device_time is None or drift is None:
        return "unknown"
    if device_time.year < reset_before_year:
        return "reset"
    return "ok" if abs(drift) <= tolerance else "drifted"


@dataclass(frozen=True)
class Anchor:
    """A moment (host time) at which the device drift was known."""

    at: datetime
    drift: float


def drift_at(device_time: datetime, now: Anchor, since: Anchor | None) -> float:
    """Drift at a moment given in device time, linear between ``since`` (last sync) and
    ``now`` (this measurement); constant when the device was never synced."""
    if since is None or now.at <= since.at:
        return now.drift
    span = (now.at - since.at).total_seconds()
    drift = now.drift
    for _ in range(2):  # host time = device time − drift; refine once
        host_time = device_time - timedelta(seconds=drift)
        frac = min(1.0, max(0.0, (host_time - since.at).total_seconds() / span))
        drift = since.drift + frac * (now.drift - since.drift)
    return drift


def last_sync(conn: db.Connection, device_id: int, before: datetime) -> Anchor | None:
    """The device's last clock sync before ``before``: a 'sync' measurement or last_synced_at."""
    best: Anchor | None = None
    row = conn.execute(
        "SELECT measured_at, drift_seconds FROM clock_measurements WHERE device_id = ?"
        " AND kind = 'sync' AND measured_at <= ? ORDER BY measured_at DESC LIMIT 1",
        (device_id, iso(before))).fetchone()
    if row:
        best = Anchor(parse_iso(row[0]), float(row[1] or 0.0))
    dev = conn.execute("SELECT last_synced_at FROM devices WHERE id = ?", (device_id,)).fetchone()
    if dev and dev[0]:
        synced = parse_iso(dev[0])
        if synced <= before and (best is None or synced > best.at):
            best = Anchor(synced, 0.0)
    return best


# ---- a measurement -----------------------------------------------------------------------------


def take(app: Avledger, device_id: int, root: Path, profile: Profile, *,
         source: str = "dock", device_node: str | None = None,
         now: datetime | None = None) -> Measurement:
    """Read and classify without recording (``record`` writes it)."""
    clock = read_device_clock(root, profile, device_node)
    measured_at = now or utcnow()
    host = host_sync_state()
    drift = (clock.time - measured_at).total_seconds() if clock.time else None
    status = classify(clock.time, drift,
                      tolerance=float(app.config.get("clock.tolerance_seconds")),
                      reset_before_year=int(app.config.get("clock.reset_before_year")))
    return Measurement(None, device_id, measured_at, clock.time,
                       None if drift is None else round(drift, 3), status, host, source,
                       clock.detail)


def record(app: Avledger, conn: db.Connection, m: Measurement, *,
           serial: str | None = None, kind: str = "check") -> Measurement:
    """Store a measurement and its ledger event inside the caller's transaction.

    ``kind`` 'sync' marks the first reading after a clock setting took effect: the anchor
    ``last_sync`` interpolates drift from."""
    cur = conn.execute(
        "INSERT INTO clock_measurements (device_id, kind, measured_at, device_time,"
        " drift_seconds, status, host_synced, host_sync, source, detail)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (m.device_id, kind, iso(m.measured_at), iso(m.device_time) if m.device_time else None,
         m.drift_seconds, m.status, None if m.host.synced is None else int(m.host.synced),
         m.host.how, m.source, m.detail))
    stored = Measurement(int(cur.fetchone()[0]), m.device_id, m.measured_at, m.device_time,
                         m.drift_seconds, m.status, m.host, m.source, m.detail)
    payload = stored.as_dict() | {"kind": kind} | ({"serial": serial} if serial else {})
    app.record(conn, "clock.measured", f"device:{m.device_id}", payload)
    return stored


def measure(app: Avledger, device_id: int, volume_root: Path, profile: Profile, *,
            source: str = "desk", device_node: str | None = None) -> Measurement:
    """Read the clock, classify, and record the row and its ledger event (one transaction)."""
    m = take(app, device_id, volume_root, profile, source=source, device_node=device_node)
    with app.transaction() as conn:
        return record(app, conn, m)
