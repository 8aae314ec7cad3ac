"""Recorder clock checks (rule B, Art. 7): read the device clock, measure drift, classify.

A measurement is a pair — what the recorder said, and the true (host) time at which it said
it, its *reference* — with an uncertainty. How the recorder tells its time is the profile's
``clock.read.written_at``: ``connect`` (a file written when it is plugged in: said at the
moment of docking, the udev event, however long avledger takes to read it), ``live`` (reports
the current time when read: said between two host readings that bracket the read) or ``none``.
A clock file with no known docking moment (a folder copied off a recorder) has no reference:
its drift is unknown, never latency taken for drift. The host's own synchronisation state is
recorded too, because a drift figure is only as good as the host clock it was measured
against. Every measurement is a catalog row and a ledger event. ``drift_at`` estimates the
drift at a past moment (a clip's recording time) by interpolating between the device's last
sync and this measurement.
"""

from __future__ import annotations

import ctypes
import subprocess
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from avledger.config.profiles import Profile
from avledger.core.app import Avledger
from avledger.core.dock.volume_root import RefusedFile, VolumeRoot, excerpt, reached
from avledger.i18n import N_, _, translate_stored
from avledger.store import db
from avledger.store.libc import libc_function
from avledger.timestamps import display, iso, parse_iso, utcnow, zoned_to_utc

MAX_CLOCK_BYTES = 4096
COMMAND_TIMEOUT = 15
# A recorder writes its clock file as it is plugged in, before the host has enumerated it: the
# udev event comes up to this long after the moment the file was written.
DOCK_EVENT_LATENCY = 2.0
# A docking moment typed by a person (``--docked-at``) is good to about this.
GIVEN_MOMENT_UNCERTAINTY = 1.0
# Why a clock could not be read is stored with the measurement, in English (N_ marks it for
# the catalog); it is translated when shown (describe, i18n.translate_stored).
NOT_READ_AT_DOCK = N_("not read at dock")


@dataclass(frozen=True)
class Reference:
    """The true (host) time at which the recorder told the time it shows, and how well known.

    ``how``: dock-event (the udev event of the docking), read (a live reading, bracketed),
    given (a docking time given with ``--docked-at``) or simulated (the simulator's docking)."""

    at: datetime  # UTC
    uncertainty: float  # seconds either side
    how: str

    @classmethod
    def given(cls, at: datetime) -> Reference:
        return cls(at.astimezone(UTC), GIVEN_MOMENT_UNCERTAINTY, "given")

    @classmethod
    def dock_event(cls, at: datetime) -> Reference:
        return cls(at.astimezone(UTC), DOCK_EVENT_LATENCY, "dock-event")


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
    said_at: datetime | None = None  # the reference: when the recorder told that time
    uncertainty_seconds: float | None = None  # ± on drift_seconds
    reference: str | None = None  # how said_at is known (Reference.how)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "device_id": self.device_id, "measured_at": iso(self.measured_at),
            "device_time": iso(self.device_time) if self.device_time else None,
            "said_at": iso(self.said_at) if self.said_at else None,
            "drift_seconds": self.drift_seconds,
            "uncertainty_seconds": self.uncertainty_seconds, "reference": self.reference,
            "status": self.status, "host_synced": self.host.synced, "host_sync": self.host.how,
            "source": self.source, "detail": self.detail,
        }

    @property
    def anchor_at(self) -> datetime:
        """The host moment the drift figure belongs to."""
        return self.said_at or self.measured_at


# ---- reading the device clock ------------------------------------------------------------------


def parse_clock_text(text: str, fmt: str, tz: str) -> datetime:
    """The first non-empty line of ``text`` in ``fmt`` (device local time) as UTC;
    ValueError when it does not parse or is an impossible date (year 1 or 9999)."""
    text = text.lstrip("\ufeff")
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    if not line:
        raise ValueError("empty")
    try:
        naive = datetime.strptime(line, fmt)
    except ValueError:
        raise ValueError("not in that format") from None  # strptime's message repeats the line
    return zoned_to_utc(naive, tz)


def expand(args: list[str], values: dict[str, str]) -> list[str]:
    """A profile command with ``{name}`` placeholders filled in."""
    out = []
    for arg in args:
        for key, value in values.items():
            arg = arg.replace("{" + key + "}", value)
        out.append(arg)
    return out


def read_device_clock(root: VolumeRoot | Path, profile: Profile,
                      device_node: str | None = None) -> DeviceClock:
    """The recorder's clock; a clock file that is a link, FIFO or device node is not read
    (the clock is then unknown, and the measurement says why)."""
    spec = profile.get("clock.read")
    method = spec["method"]
    if method == "none":
        return DeviceClock(None, N_("profile has no way to read the clock"))
    if method == "file":
        try:
            with reached(root) as vol:
                raw = vol.read_small(spec["path"], MAX_CLOCK_BYTES)
        except RefusedFile as exc:
            return DeviceClock(None, N_("clock file {error}").format(error=exc.english))
        except OSError as exc:
            return DeviceClock(None, N_("clock file {path} unreadable: {error}").format(
                path=spec["path"], error=exc.strerror or exc))
        text = raw.decode("utf-8", errors="replace")
        origin = N_("clock file {path}").format(path=spec["path"])
    else:
        where = root.path if isinstance(root, VolumeRoot) else root
        argv = expand(spec["command"], {"root": str(where), "device": device_node or ""})
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return DeviceClock(None, N_("clock command failed: {error}").format(error=exc))
        if done.returncode != 0:
            return DeviceClock(None, N_("clock command exited {code}: {stderr}").format(
                code=done.returncode, stderr=done.stderr.strip()[:200]))
        text = done.stdout
        origin = N_("clock command")
    try:
        return DeviceClock(parse_clock_text(text, spec["format"], profile.clock_timezone),
                           origin)
    except ValueError as exc:
        return DeviceClock(None, N_("{origin} does not parse as {format!r}: '{text}' ({error})"
                                    ).format(origin=origin, format=spec["format"],
                                             text=excerpt(text), error=exc))


# ---- the host's own state ----------------------------------------------------------------------


class _Timex(ctypes.Structure):
    _fields_ = [("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
                ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long),
                ("status", ctypes.c_int), ("_rest", ctypes.c_byte * 256)]


STA_UNSYNC = 0x0040


MAX_ERROR_SYNCED_US = 16_000_000  # below this the kernel's clock counts as synchronised


def host_sync_state() -> HostSync:
    """Is the host clock synchronised? The kernel's view (``adjtimex``), judged as systemd's
    ``timedatectl`` judges ``NTPSynchronized``: a maximum error under 16 s. Asked directly,
    not through ``timedatectl``: that is a program and a D-Bus call (often starting
    ``systemd-timedated``) on every docking, for the same answer."""
    adjtimex = libc_function("adjtimex", [ctypes.c_void_p])
    if adjtimex is None:
        return HostSync(None, "adjtimex unavailable")
    tx = _Timex()  # modes = 0: read only
    state = adjtimex(ctypes.byref(tx))
    if state < 0:
        return HostSync(None, f"adjtimex failed: errno {ctypes.get_errno()}")
    synced = tx.maxerror < MAX_ERROR_SYNCED_US
    return HostSync(synced, f"adjtimex (state {state}, maxerror {tx.maxerror} us, "
                            f"{'unsync flag' if tx.status & STA_UNSYNC else 'sync flag'})")


# ---- classification and interpolation ----------------------------------------------------------


def classify(device_time: datetime | None, drift: float | None, *, tolerance: float,
             reset_before_year: int, uncertainty: float = 0.0) -> str:
    """ok | drifted | reset | unknown: drifted only when the drift exceeds the tolerance by
    more than its uncertainty (what the measurement cannot tell apart is not held against the
    recorder)."""
    if device_time is None:
        return "unknown"
    if device_time.year < reset_before_year:
        return "reset"
    if drift is None:
        return "unknown"
    return "ok" if abs(drift) - uncertainty <= tolerance else "drifted"


def describe(drift: float | None, uncertainty: float | None, status: str,
             device_time: datetime | str | None, detail: str | None, tz: str) -> str:
    """A drift figure in words, the same everywhere: ``+95.0 ± 1.0 s (drifted)``,
    ``reset (recorder clock read 2000-01-01 00:02)``, ``unknown (not read at dock)``."""
    if status == "reset" and device_time is not None:
        return _("reset (recorder clock read {time})").format(time=display(device_time, tz)[:16])
    if drift is None:
        return _("unknown ({detail})").format(detail=translate_stored(detail)) if detail \
            else _("unknown")
    figure = f"{drift:+.1f}"
    if uncertainty is not None:
        figure += f" ± {uncertainty:.1f}"
    return _("{figure} s ({status})").format(figure=figure, status=status)


def telling(m: Measurement) -> float:
    """The drift to correct clip times by: a figure the measurement cannot tell from zero
    (within its uncertainty) is no correction — clips are never shifted by noise."""
    drift = m.drift_seconds or 0.0
    if m.uncertainty_seconds is not None and abs(drift) <= m.uncertainty_seconds:
        return 0.0
    return drift


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
    for _refinement in range(2):  # host time = device time − drift; refine once
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


def written_at(profile: Profile) -> str:
    """connect | live | none: how the profile's recorder tells its time (see module doc)."""
    spec = profile.get("clock.read")
    if spec["method"] == "none":
        return "none"
    declared = spec.get("written_at")
    if declared:
        return str(declared)
    return "connect" if spec["method"] == "file" else "live"


def resolution(profile: Profile) -> float:
    """How finely the recorder's time is written: whole seconds unless the format has %f
    (a clock showing 12:00:00 may be anywhere up to 12:00:01)."""
    fmt = profile.get("clock.read.format") or ""
    return 0.0 if "%f" in fmt else 1.0


def take(app: Avledger, device_id: int, root: VolumeRoot | Path, profile: Profile, *,
         source: str = "dock", device_node: str | None = None,
         docked: Reference | None = None, now: datetime | None = None) -> Measurement:
    """Read and classify without recording (``record`` writes it).

    ``docked``: when the recorder was docked (a ``connect`` clock file was written then);
    without it such a file gives no drift (unknown, not read at dock)."""
    how = written_at(profile)
    before = utcnow()
    clock = read_device_clock(root, profile, device_node)
    after = utcnow()
    measured_at = now or after
    host = host_sync_state()
    ref: Reference | None = None
    detail = clock.detail
    if how == "live":
        half = (after - before).total_seconds() / 2
        ref = Reference(before + timedelta(seconds=half), half, "read")
    elif how == "connect":
        ref = docked
        if ref is None and clock.time is not None:
            detail = NOT_READ_AT_DOCK
    drift = uncertainty = None
    if clock.time is not None and ref is not None:
        drift = round((clock.time - ref.at).total_seconds(), 3)
        uncertainty = round(ref.uncertainty + resolution(profile), 3)
    status = classify(clock.time, drift,
                      tolerance=float(app.config.get("clock.tolerance_seconds")),
                      reset_before_year=int(app.config.get("clock.reset_before_year")),
                      uncertainty=uncertainty or 0.0)
    return Measurement(None, device_id, measured_at, clock.time, drift, status, host, source,
                       detail, ref.at if ref and drift is not None else None, uncertainty,
                       ref.how if ref and drift is not None else None)


def record(app: Avledger, conn: db.Connection, m: Measurement, *,
           serial: str | None = None, kind: str = "check") -> Measurement:
    """Store a measurement and its ledger event inside the caller's transaction.

    ``kind`` 'sync' marks the first reading after a clock setting took effect: the anchor
    ``last_sync`` interpolates drift from."""
    cur = conn.execute(
        "INSERT INTO clock_measurements (device_id, kind, measured_at, device_time,"
        " drift_seconds, status, host_synced, host_sync, source, detail, said_at,"
        " uncertainty_seconds, reference)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (m.device_id, kind, iso(m.measured_at), iso(m.device_time) if m.device_time else None,
         m.drift_seconds, m.status, None if m.host.synced is None else int(m.host.synced),
         m.host.how, m.source, m.detail, iso(m.said_at) if m.said_at else None,
         m.uncertainty_seconds, m.reference))
    stored = replace(m, id=int(cur.fetchone()[0]))
    payload = stored.as_dict() | {"kind": kind} | ({"serial": serial} if serial else {})
    app.record(conn, "clock.measured", f"device:{m.device_id}", payload)
    return stored


def measure(app: Avledger, device_id: int, volume_root: Path, profile: Profile, *,
            source: str = "desk", device_node: str | None = None,
            docked: Reference | None = None) -> Measurement:
    """Read the clock, classify, and record the row and its ledger event (one transaction)."""
    m = take(app, device_id, volume_root, profile, source=source, device_node=device_node,
             docked=docked)
    with app.transaction() as conn:
        return record(app, conn, m)
