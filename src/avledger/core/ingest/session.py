"""Ingest: copy a docked recorder's clips into the store, with a complete custody trail.

One ``IngestSession`` per docking. Its steps — recognise, identify, check the clock, plan,
copy, record — are the same at the desk and in the daemon; where they differ (which profile
when several match, whether to go on, how to show progress) the session asks its ``hooks``,
as beets' importer asks its session: an interactive front end overrides them, the daemon
uses the unattended defaults.

Durability per clip: a clip counts as ingested only when its object is durable (the store
fsyncs it) and a transaction has committed its catalog row, the object record, the dock's
progress and the ``clip.ingested`` ledger event. Clips are committed in groups (``batch``):
their objects flushed together, then one transaction for all their rows. Re-running after
any interruption skips what is already there (serial + path + size + mtime, and the content
hash when those differ) and does the rest, so resume is simply running it
again. Nothing is ever written to the recorder.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from avledger.config.profiles import Match, Profile, Seen
from avledger.core.app import Avledger
from avledger.core.clock import check as clockcheck
from avledger.core.clock import setter as clockset
from avledger.core.clock import settle as clocksettle
from avledger.core.custody import copies
from avledger.core.custody.integrity import ObjectVanished, register_objects
from avledger.core.custody.restore import copy_state, restore_from_file
from avledger.core.dock import media, readahead, recorders
from avledger.core.dock.ingested import clip_key, not_ingested
from avledger.core.dock.leftout import media_left_out
from avledger.core.dock.media import Duration, duration
from avledger.core.dock.recognition import profile_for_device, recognise
from avledger.core.dock.status import INTERRUPTED
from avledger.core.dock.volume import (
    RecorderIdentity,
    Refused,
    SourceClip,
    read_identity,
    survey,
)
from avledger.core.dock.volume_root import RefusedFile, VolumeRoot
from avledger.core.ingest import batch, prefetch
from avledger.core.ingest.attribution import (
    UNATTRIBUTED,
    Attribution,
    Checkout,
    attribute,
    device_checkouts,
)
from avledger.core.ingest.readback import hash_uncached
from avledger.core.ingest.window import judge
from avledger.errors import AvledgerError, DeviceError, StorageError, english_of
from avledger.i18n import N_, _
from avledger.phases import mark
from avledger.store import db
from avledger.store import ledger as ledger_store
from avledger.store.backend import Progress, Staged
from avledger.store.local import SourceReadError
from avledger.timestamps import iso, utcnow

SEQUENTIAL_HINT_FROM = 1 << 20  # read-ahead hint for big clips; small ones are one read
WARM_BYTES = 512 << 20  # of the next big clip, read while the one before it is copied

GONE_ERRNOS = {errno.ENOTCONN, errno.ENODEV, errno.ENXIO, errno.ENOENT, errno.EIO,
               errno.ESHUTDOWN}


# ---- results -------------------------------------------------------------------------------------


@dataclass
class ClipOutcome:
    rel: str
    size: int
    status: str  # new | skipped | failed | planned | refused
    clip_id: int | None = None
    digest: str | None = None
    error: str | None = None
    reason: str | None = None  # why skipped or refused
    on_time: bool | None = None
    deadline: str | None = None
    device_start: str | None = None
    corrected_start: str | None = None
    drift_seconds: float | None = None
    badge: str | None = None
    attribution: str | None = None
    flags: list[str] = field(default_factory=list)
    verified: bool | None = None
    restored: bool | None = None  # its quarantined or missing stored copy came back from here
    kind: str = "video"  # video | photo | audio
    mark: str | None = None  # marked important on the recorder (name, flag, sidecar)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


@dataclass
class IngestReport:
    source: str
    profile: str
    serial: str
    device_id: int | None
    device_new: bool
    badge_hint: str | None
    dock_id: int | None
    clock: dict[str, Any]
    dry_run: bool
    verify: bool
    outcomes: list[ClipOutcome] = field(default_factory=list)
    bytes_copied: int = 0
    seconds: float = 0.0
    stopped: str | None = None  # why the run stopped early (store full, recorder removed)
    left_out: list[str] = field(default_factory=list)  # media files no profile glob matched

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def late(self) -> int:
        return sum(1 for o in self.outcomes if o.status in ("new", "planned")
                   and o.on_time is False)

    @property
    def failed(self) -> int:
        return self.count("failed")

    def totals(self) -> dict[str, Any]:
        return {"clips": len(self.outcomes), "new": self.count("new"),
                "skipped": self.count("skipped"), "planned": self.count("planned"),
                "restored": sum(1 for o in self.outcomes if o.restored),
                "failed": self.failed, "refused": self.count("refused"), "late": self.late,
                "unattributed": sum(1 for o in self.outcomes if o.status in ("new", "planned")
                                    and o.attribution in UNATTRIBUTED),
                "marked": sum(1 for o in self.outcomes if o.status in ("new", "planned")
                              and o.mark),
                "bytes_copied": self.bytes_copied, "seconds": round(self.seconds, 3),
                "drift_seconds": self.clock.get("drift_seconds"),
                "clock_status": self.clock.get("status")}

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "profile": self.profile, "serial": self.serial,
                "device_id": self.device_id, "device_new": self.device_new,
                "badge_hint": self.badge_hint, "dock_id": self.dock_id, "clock": self.clock,
                "dry_run": self.dry_run, "verify": self.verify, "stopped": self.stopped,
                "totals": self.totals(), "clips": [o.as_dict() for o in self.outcomes],
                "left_out": self.left_out}


# ---- hooks ---------------------------------------------------------------------------------------


class IngestHooks:
    """Decisions and notifications; the defaults are the unattended (daemon) behaviour."""

    def choose_profile(self, matches: list[Match]) -> Match:
        return matches[0]  # most tests passed

    def proceed(self, report: IngestReport, todo: list[SourceClip]) -> bool:
        return True

    def clip_started(self, clip: SourceClip) -> None: ...

    def bytes_copied(self, n: int) -> None: ...

    def clip_finished(self, outcome: ClipOutcome) -> None: ...

    def planned(self, total_files: int, total_bytes: int) -> None: ...

    def stop_requested(self) -> str | None:
        """A reason to stop now (daemon shutting down, recorder reported gone), or None.

        Checked before each clip and while copying: the clip being copied is abandoned
        safely (the store never shows a partial object) and picked up by the next run."""
        return None


@dataclass(frozen=True)
class Copied:
    """A clip copied into a staged object, with the duration read from that copy."""

    staged: Staged
    duration: Duration


class IngestStopped(Exception):
    """Raised inside a copy when ``stop_requested`` says so; never escapes the session."""


# ---- derived times -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ClipTimes:
    device_start: datetime | None
    device_end: datetime | None
    duration: float | None
    duration_source: str
    drift: float | None
    corrected_start: datetime | None
    corrected_end: datetime | None
    flags: tuple[str, ...]


def clip_times(clip: SourceClip, dur: float | None, dur_source: str,
               measurement: clockcheck.Measurement, since: clockcheck.Anchor | None,
               reset_before_year: int) -> ClipTimes:
    """Device times and corrected times for one clip (drift interpolated since the last sync)."""
    flags: list[str] = list(clip.flags)
    start = clip.device_start
    if start is None:
        return ClipTimes(None, None, dur, dur_source, None, None, None, tuple(flags))
    end = start + timedelta(seconds=dur) if dur is not None else None
    if dur_source == "file-times":
        flags.append("duration-from-file-times")
    elif dur is None and dur_source != "still":
        flags.append("duration-unknown")
    drift: float | None = None
    if measurement.drift_seconds is None:
        flags.append("drift-unknown")
        if measurement.detail == clockcheck.NOT_READ_AT_DOCK:
            flags.append("clock-not-read-at-dock")
    elif measurement.status == "reset" and start.year >= reset_before_year:
        flags.append("recorded-before-clock-reset")  # the reset came later; times are as shown
    else:
        now = clockcheck.Anchor(measurement.anchor_at, clockcheck.telling(measurement))
        drift = round(clockcheck.drift_at(start, now, since), 3)
    if measurement.status == "reset":
        flags.append("clock-reset")
    shift = timedelta(seconds=drift or 0.0)
    return ClipTimes(start, end, dur, dur_source, drift, start - shift,
                     end - shift if end else None, tuple(flags))


# ---- what is already in ----------------------------------------------------------------------


# ---- the session ---------------------------------------------------------------------------------


def _gone(root: Path) -> bool:
    """Has the volume disappeared (unplugged, FUSE helper gone)?"""
    try:
        os.stat(root)
        os.listdir(root)
    except OSError as exc:
        return exc.errno in GONE_ERRNOS
    return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class IngestSession:
    """One docking of one recorder: ``run()`` it and read the report."""

    vol: VolumeRoot  # the volume root, open while ``run`` runs
    _open: contextlib.ExitStack  # what uses ``vol`` on other threads, closed before it

    def __init__(self, app: Avledger, root: Path, *, profile: str | None = None,
                 source: str | None = None, device_node: str | None = None,
                 udev: dict[str, str] | None = None, label: str | None = None,
                 hooks: IngestHooks | None = None, verify: bool = False,
                 dry_run: bool = False, docked: clockcheck.Reference | None = None) -> None:
        self.app = app
        self.docked = docked
        self.root = Path(root)
        self.profile_name = profile
        self.source = source or str(self.root)
        self.device_node = device_node
        self.seen = Seen(self.root, udev, label)
        self.hooks = hooks or IngestHooks()
        self.verify = verify
        self.dry_run = dry_run
        self.dock_id: int | None = None  # once the docking is recorded
        self.serial: str | None = None  # once the recorder has said who it is
        self.window_hours = int(app.config.get("window.hours"))
        self.reset_year = int(app.config.get("clock.reset_before_year"))

    # -- steps ------------------------------------------------------------------------------
    def recognise(self) -> Profile:
        return recognise(self.app, self.seen, self.profile_name, self.source,
                         self.hooks.choose_profile)

    def run(self) -> IngestReport:
        """Every file is read through one descriptor of the volume root (``VolumeRoot``);
        what copies from it on other threads stops before it closes (``_open``)."""
        with VolumeRoot(self.root) as self.vol, contextlib.ExitStack() as self._open:
            return self._run()

    def _run(self) -> IngestReport:
        started = utcnow()
        mark("before the session")
        profile = self.recognise()
        try:
            who = read_identity(self.vol, profile)
        except RefusedFile as exc:
            if not self.dry_run:
                self._record_refused(None, [Refused(exc.rel, exc.reason)], profile)
            raise
        self.serial = who.serial
        found = survey(self.vol, profile)
        clips = found.clips
        mark("recognition + survey")
        device = recorders.find(self.app.catalog.conn, who.serial)
        device_id = int(device["id"]) if device else 0
        measurement = clockcheck.take(self.app, device_id, self.vol, profile,
                                      source="dock", device_node=self.device_node,
                                      docked=self.docked)
        mark("clock read")
        report = IngestReport(self.source, profile.name, who.serial,
                              device_id or None, device is None, who.badge, None,
                              measurement.as_dict(), self.dry_run, self.verify)
        report.outcomes += [ClipOutcome(r.rel, 0, "refused", reason=r.reason)
                            for r in found.refused]
        report.left_out = media_left_out(self.vol, [c.rel for c in clips]
                                         + [r.rel for r in found.refused])
        todo = not_ingested(self.app.catalog.conn, device_id or None, clips)
        copying = set(todo)
        for c in clips:
            if c not in copying:
                report.outcomes.append(self._skip(c, device_id))
        mark("plan (what is already in)")
        if self.dry_run:
            self._plan_only(report, todo, who, measurement)
        elif self.hooks.proceed(report, todo):
            self._ingest(report, profile, who, measurement, todo, started, found.refused)
        report.outcomes.sort(key=lambda o: o.rel)
        report.seconds = (utcnow() - started).total_seconds()
        return report

    def _record_refused(self, dock_id: int | None, refused: list[Refused], profile: Profile,
                        conn: db.Connection | None = None) -> None:
        """One ``media.refused`` event per file not read (a link, FIFO, device node ...)."""
        if not refused:
            return
        subject = f"dock:{dock_id}" if dock_id else f"source:{self.source}"
        with contextlib.ExitStack() as stack:
            if conn is None:
                conn = stack.enter_context(self.app.transaction())
            for r in refused:
                self.app.record(conn, "media.refused", subject, {
                    "source": self.source, "profile": profile.name, "path": r.rel,
                    "reason": r.reason, "dock_id": dock_id})

    # -- helpers ----------------------------------------------------------------------------
    def _skip(self, clip: SourceClip, device_id: int) -> ClipOutcome:
        """A clip already ingested; with --verify its content is confirmed by hash. When the
        store has no good copy of it (quarantined, missing), this one restores it."""
        outcome = ClipOutcome(clip.rel, clip.size, "skipped", reason=N_("already ingested"))
        row = self.app.catalog.conn.execute(
            "SELECT id, digest FROM clips WHERE device_id = ? AND source_path = ? AND size = ?"
            " AND source_mtime = ?", (device_id, *clip_key(clip))).fetchone()
        if row is not None:
            self._restore_if_needed(clip, row["digest"], outcome)
        if not self.verify or self.dry_run or row is None or outcome.restored:
            return outcome
        outcome.clip_id, outcome.digest = int(row["id"]), row["digest"]
        try:
            with self.vol.open(clip.raw) as fh:
                digest, _ = hash_uncached(fh)
        except (OSError, RefusedFile) as exc:
            outcome.status, outcome.error = "failed", N_("{rel}: cannot re-read: {error}").format(
                rel=clip.rel, error=english_of(exc))
            return outcome
        if digest != row["digest"]:
            outcome.status = "failed"
            outcome.error = N_("{rel}: content differs from clip {clip_id} ingested before with "
                               "the same name, size and time").format(rel=clip.rel,
                                                                      clip_id=row["id"])
        else:
            outcome.verified = True
        return outcome

    def _restore_if_needed(self, clip: SourceClip, digest: str, outcome: ClipOutcome) -> None:
        """Re-docking the recorder is a copy of a clip whose stored object went bad."""
        obj = self.app.catalog.conn.execute(
            "SELECT size, quarantined_at, verify_status FROM objects WHERE digest = ?",
            (digest,)).fetchone()
        if obj is None or copy_state(obj) in ("verified", "unverified"):
            return
        state = copy_state(obj)
        if self.dry_run:
            outcome.reason = f"already ingested; would restore its {state} stored copy"
            return
        try:
            with self.vol.open(clip.raw) as fh:
                actual, _ = hash_uncached(fh)
        except (OSError, RefusedFile) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            outcome.reason = (f"already ingested; its stored copy is {state} and this file "
                              f"cannot be read: {why}")
            return
        if actual != digest:
            outcome.reason = (f"already ingested; its stored copy is {state} and this file "
                              "holds other bytes: not restored")
            return
        restore_from_file(self.app, self.root / clip.raw, digest, int(obj["size"]),
                          source=f"{self.source}:{clip.rel}",
                          opener=lambda: self.vol.open(clip.raw))
        outcome.restored, outcome.digest = True, digest
        outcome.reason = f"already ingested; restored its {state} stored copy from here"

    def _decide(self, clip: SourceClip, dur: float | None, dur_source: str,
                measurement: clockcheck.Measurement, since: clockcheck.Anchor | None,
                checkouts: list[Checkout], badge_hint: str | None,
                now: datetime) -> tuple[ClipTimes, Attribution, Any]:
        times = clip_times(clip, dur, dur_source, measurement, since, self.reset_year)
        who = attribute(times.corrected_start, checkouts, badge_hint)
        timeliness = judge(times.corrected_end or times.corrected_start, who.checkout, now,
                           self.window_hours)
        return times, who, timeliness

    def _plan_only(self, report: IngestReport, todo: list[SourceClip], who: RecorderIdentity,
                   measurement: clockcheck.Measurement) -> None:
        conn = self.app.catalog.conn
        checkouts = device_checkouts(conn, report.device_id) if report.device_id else []
        since = (clockcheck.last_sync(conn, report.device_id, measurement.anchor_at)
                 if report.device_id else None)
        self.hooks.planned(len(todo), sum(c.size for c in todo))
        for clip in todo:
            try:
                with self.vol.open(clip.raw) as fh:
                    dur = duration(fh, clip.device_start, clip.mtime, clip.kind)
            except (OSError, RefusedFile) as exc:
                report.outcomes.append(ClipOutcome(clip.rel, clip.size, "failed",
                                                   error=N_("{rel}: {error}").format(
                                                       rel=clip.rel, error=english_of(exc))))
                continue
            times, att, tl = self._decide(clip, dur.seconds, dur.source, measurement, since,
                                          checkouts, who.badge, utcnow())
            report.outcomes.append(self._outcome(clip, "planned", times, att, tl))

    def _outcome(self, clip: SourceClip, status: str, times: ClipTimes, att: Attribution,
                 tl: Any, **extra: Any) -> ClipOutcome:
        flags = list(times.flags)
        if att.kind in ("between-checkouts", "unattributed"):
            flags.append(att.kind)
        if tl.on_time is False:
            flags.append("late")
        return ClipOutcome(
            clip.rel, clip.size, status, on_time=tl.on_time,
            deadline=iso(tl.deadline) if tl.deadline else None,
            device_start=iso(times.device_start) if times.device_start else None,
            corrected_start=iso(times.corrected_start) if times.corrected_start else None,
            drift_seconds=times.drift, badge=att.badge, attribution=att.kind, flags=flags,
            kind=clip.kind, mark=clip.mark, **extra)

    def _start_dock(self, profile: Profile, who: RecorderIdentity,
                    measurement: clockcheck.Measurement, todo: list[SourceClip],
                    started: datetime, refused: list[Refused]
                    ) -> tuple[recorders.DeviceRow, clockcheck.Measurement, int]:
        app = self.app
        with app.transaction() as conn:
            self._close_interrupted(conn)
            dev = recorders.ensure(app, conn, who, profile, started)
            m = replace(measurement, device_id=dev.id)
            m, _ = clocksettle.record_measurement(
                app, conn, m, waiting=clockset.setting_waiting(self.vol, profile),
                serial=who.serial)
            cur = conn.execute(
                "INSERT INTO docks (device_id, station, source, started_at, updated_at, state,"
                " files_total, bytes_total, pid, profile) VALUES (?, ?, ?, ?, ?, 'ingesting',"
                " ?, ?, ?, ?) RETURNING id",
                (dev.id, app.config.get("site.station"), self.source, iso(started),
                 iso(started), len(todo), sum(c.size for c in todo), os.getpid(),
                 profile.name))
            dock_id = int(cur.fetchone()[0])
            app.record(conn, "dock.started", f"dock:{dock_id}", {
                "device_id": dev.id, "serial": who.serial, "source": self.source,
                "profile": profile.name, "station": app.config.get("site.station"),
                "files": len(todo), "bytes": sum(c.size for c in todo),
                "clock_measurement": m.id, "refused": len(refused),
                **({"firmware": who.firmware} if who.firmware else {})})
            self._record_refused(dock_id, refused, profile, conn)
        return dev, m, dock_id

    def _close_interrupted(self, conn: db.Connection) -> None:
        """Docks left 'ingesting' by a process that no longer runs were interrupted."""
        station = self.app.config.get("site.station")
        for row in conn.execute("SELECT id, pid FROM docks WHERE state = 'ingesting'"
                                " AND station = ?", (station,)).fetchall():
            if row["pid"] is None or _pid_alive(int(row["pid"])):
                continue
            now = iso(utcnow())
            conn.execute("UPDATE docks SET state = 'interrupted', finished_at = ?,"
                         " updated_at = ?, result = ? WHERE id = ?",
                         (now, now, json.dumps({"interrupted": True, "error": INTERRUPTED}),
                          row["id"]))
            self.app.record(conn, "dock.interrupted", f"dock:{row['id']}",
                            {"pid": row["pid"], "detail": INTERRUPTED})

    def _ingest(self, report: IngestReport, profile: Profile, who: RecorderIdentity,
                measurement: clockcheck.Measurement, todo: list[SourceClip],
                started: datetime, refused: list[Refused]) -> None:
        app = self.app
        app.store.check_ready()
        copies.check_ready(app)
        app.store.sweep_abandoned()
        dev, m, dock_id = self._start_dock(profile, who, measurement, todo, started, refused)
        report.device_id, report.device_new, report.dock_id = dev.id, dev.new, dock_id
        self.dock_id = dock_id
        report.badge_hint = dev.badge_hint
        report.clock = m.as_dict()
        conn = app.catalog.conn
        checkouts = device_checkouts(conn, dev.id)
        since = clockcheck.last_sync(conn, dev.id, m.anchor_at)
        self.hooks.planned(len(todo), sum(c.size for c in todo))
        mark("dock start (store ready, rows)")
        # the copying starts: what later steps need is imported on threads meanwhile
        if len(todo) > 1:  # enough events that a checkpoint may come due on the way
            app.prepare_to_sign()
        if any(clip.kind == "audio" for clip in todo):  # their durations: read by mutagen
            threading.Thread(target=media.preload, name="avledger-preload-media").start()
        state = "done"
        error: Exception | None = None
        group = batch.Group(clips=int(app.config.get("ingest.group_clips")),
                            bytes=int(app.config.get("ingest.group_mib")) << 20,
                            seconds=float(app.config.get("ingest.group_seconds")))
        closed: batch.Group | None = None  # full, published once the next clip is staged
        self._locking: list[Future[Any]] = []  # store locks of committed groups, being set
        self._locker: ThreadPoolExecutor | None = None

        def finished(outcome: ClipOutcome) -> None:
            report.outcomes.append(outcome)
            if outcome.status == "new":
                report.bytes_copied += outcome.size
            self.hooks.clip_finished(outcome)

        ahead = self._open.enter_context(prefetch.Prefetch(  # closed below, or by run()
            todo, lambda c: c.size, self._copy_ahead,
            lambda left: app.store.discard([c.staged for c in left]),
            small=-1 if self.verify else prefetch.SMALL,  # --verify: one clip at a time
            warm=None if self.verify or readahead.on_fuse(self.root) else self._warm))
        for i, (clip, take) in enumerate(ahead):
            reason = self.hooks.stop_requested()
            if reason:
                state, report.stopped = "cancelled", reason
                break
            self.hooks.clip_started(clip)
            try:
                if self.verify:  # re-reads the published copy: one clip at a time
                    outcome = self._one(clip, dev, m, since, checkouts, dock_id)
                    if outcome.status == "new" and outcome.clip_id and app.store.locks:
                        from avledger.core.retention import store_locks

                        store_locks.sync_clips(app, [outcome.clip_id], utcnow())
                    finished(outcome)
                    continue
                item = self._stage_one(clip, dev, m, since, checkouts, dock_id, take)
                mark("copy + hash (per clip)")
                if closed is not None:  # its uploads ran on while this clip was named
                    try:
                        self._flush(closed, dock_id, finished)
                    except BaseException:
                        app.store.discard([item.staged])
                        raise
                    closed = None
                group.add(item)
                if group.full():
                    if app.store.stages_in_background:
                        closed, group = group, group.fresh()
                    else:
                        self._flush(group, dock_id, finished)
            except IngestStopped as exc:
                state = "removed" if _gone(self.root) else "cancelled"
                report.stopped = str(exc)
                break
            except SourceReadError as exc:
                outcome = ClipOutcome(clip.rel, clip.size, "failed", error=exc.english)
                if _gone(self.root):
                    finished(outcome)
                    state, report.stopped = "removed", N_("the recorder was removed")
                    for rest in todo[i + 1:]:
                        report.outcomes.append(ClipOutcome(rest.rel, rest.size, "failed",
                                                           error=N_("recorder removed")))
                    break
                if self.verify:
                    self._progress(dock_id, files=1, nbytes=0)
                else:
                    group.failed()
                finished(outcome)
            except StorageError as exc:
                state, report.stopped, error = "failed", exc.english, exc
                report.outcomes.append(ClipOutcome(clip.rel, clip.size, "failed",
                                                   error=exc.english))
                break
        ahead.close()  # copies made ahead and not taken are discarded
        try:  # what was staged before a stop or a failure is still committed
            if closed is not None:
                try:
                    self._flush(closed, dock_id, finished)
                except BaseException:
                    app.store.discard([p.staged for p in group.pending])
                    raise
            self._flush(group, dock_id, finished)
        except StorageError as exc:
            if error is None:
                state, report.stopped, error = "failed", exc.english, exc
        mark("flush + commit (last group)")
        for locking in self._locking:  # the store's locks of every committed clip, set
            try:
                locking.result()
            except StorageError as exc:
                if error is None:
                    state, report.stopped, error = "failed", exc.english, exc
        mark("store locks")
        with contextlib.suppress(AvledgerError):  # async: the second copies follow now
            copies.catch_up(app)
        report.seconds = (utcnow() - started).total_seconds()
        mark("flush + commit (last group)")
        try:
            self._finish_dock(report, dock_id, state)
            mark("finish dock")
        except StorageError:
            if error is None:
                raise
        if error is not None:
            raise error

    def _progress(self, dock_id: int, *, files: int, nbytes: int) -> None:
        with self.app.transaction() as conn:
            self._bump(conn, dock_id, files, nbytes)

    @staticmethod
    def _bump(conn: db.Connection, dock_id: int, files: int, nbytes: int) -> None:
        conn.execute("UPDATE docks SET files_done = files_done + ?, bytes_done = bytes_done + ?,"
                     " updated_at = ? WHERE id = ?", (files, nbytes, iso(utcnow()), dock_id))

    def _finish_dock(self, report: IngestReport, dock_id: int, state: str) -> None:
        totals = report.totals()
        now = iso(utcnow())
        with self.app.transaction() as conn:
            conn.execute("UPDATE docks SET state = ?, finished_at = ?, updated_at = ?,"
                         " result = ? WHERE id = ?",
                         (state, now, now, json.dumps(totals | {"stopped": report.stopped}),
                          dock_id))
            self.app.record(conn, "dock.finished", f"dock:{dock_id}", totals | {
                "state": state, "serial": report.serial, "stopped": report.stopped,
                "failed_clips": [o.rel for o in report.outcomes if o.status == "failed"][:200]})

    def _copied(self, n: int) -> None:
        self.hooks.bytes_copied(n)
        reason = self.hooks.stop_requested()
        if reason:
            raise IngestStopped(reason)

    def _copy_staged(self, clip: SourceClip,
                     progress: Progress | None | Literal["hooks"] = "hooks") -> Copied:
        """One clip staged for its group, and its duration read from the staged copy."""
        staged: Staged = self._copy(clip, stage=True, progress=progress)
        try:
            if staged.content is not None:  # a small copy: parsed from the bytes just copied
                return Copied(staged.without_content(),
                              duration(io.BytesIO(staged.content), clip.device_start,
                                       clip.mtime, clip.kind))
            with self.app.store.open_staged(staged) as fh:
                # a small copy is parsed from memory: one read, not a seek and a read per box
                source = io.BytesIO(fh.read()) if staged.size <= prefetch.SMALL else fh
                return Copied(staged, duration(source, clip.device_start, clip.mtime,
                                               clip.kind))
        except BaseException:
            self.app.store.discard([staged])
            raise

    def _copy_ahead(self, clip: SourceClip) -> Copied:
        """A small clip staged on a prefetch thread: its bytes are reported when the
        session takes it (``_stage_one``), and a stop is seen before the next clip."""
        return self._copy_staged(clip, progress=None)

    def _warm(self, clip: SourceClip, stop: threading.Event) -> None:
        """Read a big clip into the page cache while the one before it is copied, through the
        same safe open as its copy (``VolumeRoot``); never on FUSE, which would drop the pages
        when the copy opens the clip again. At most ``WARM_BYTES`` of it (and no more than a
        quarter of the memory available); a failure is left for the copy to meet and report."""
        try:
            fh = self.vol.open(clip.raw)
        except (RefusedFile, OSError):
            return
        try:
            readahead.warm_open_file(fh.fileno(),
                                     min(clip.size, readahead.budget_for(WARM_BYTES)), stop)
        finally:
            with contextlib.suppress(OSError):  # a vanished FUSE volume fails even close()
                fh.close()

    def _copy(self, clip: SourceClip, *, stage: bool = False,
              progress: Progress | None | Literal["hooks"] = "hooks") -> Any:
        """Copy one clip — published at once (a PutResult), or staged for its group — read,
        hashed and stored in one pass from one descriptor opened through the volume root:
        what was checked (a regular file of the volume) is what is copied."""
        try:
            fh = self.vol.open(clip.raw)
        except RefusedFile as exc:
            raise SourceReadError(exc.message) from exc
        except OSError as exc:
            raise SourceReadError(_("{rel}: cannot open: {error}").format(
                                      rel=clip.rel, error=exc.strerror or exc)) from exc
        try:
            if os.fstat(fh.fileno()).st_size == 0:
                raise SourceReadError(_("{rel}: empty file (0 bytes): "
                                        "nothing was recorded in it").format(
                                          rel=clip.rel))
            if clip.size >= SEQUENTIAL_HINT_FROM:
                with contextlib.suppress(OSError):
                    os.posix_fadvise(fh.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
            write = self.app.store.stage_stream if stage else self.app.store.put_stream
            try:
                return write(fh, expected_size=clip.size,
                             progress=self._copied if progress == "hooks" else progress)
            except SourceReadError as exc:
                raise SourceReadError(_("{rel}: {error}").format(rel=clip.rel, error=exc.message)
                                      ) from exc
        finally:
            with contextlib.suppress(OSError):  # a vanished FUSE volume fails even close()
                fh.close()

    def _verify(self, clip: SourceClip, digest: str) -> str | None:
        """Re-read source and stored copy past the page cache; a problem, or None."""
        try:
            with self.vol.open(clip.raw) as fh:
                src, _ = hash_uncached(fh)
        except RefusedFile as exc:
            return f"source refused on re-read: {exc.reason}"
        except OSError as exc:
            return f"source unreadable on re-read: {exc.strerror or exc}"
        with self.app.store.open(digest) as fh:
            stored, _ = hash_uncached(fh)
        if stored != digest:
            self.app.store.quarantine(digest, f"ingest --verify: content hashes to {stored}")
            return "stored copy differs from what was read (quarantined)"
        if src != digest:
            return "the recorder returned different bytes on a second read"
        return None

    def _one(self, clip: SourceClip, dev: recorders.DeviceRow, m: clockcheck.Measurement,
             since: clockcheck.Anchor | None, checkouts: list[Checkout],
             dock_id: int) -> ClipOutcome:
        app = self.app
        put = self._copy(clip)
        conn = app.catalog.conn
        same = conn.execute(
            "SELECT id FROM clips WHERE device_id = ? AND source_path = ? AND digest = ?",
            (dev.id, clip.rel, put.digest)).fetchone()
        if same:  # file times differ (another mount, another time zone) but content is known
            skipped = ClipOutcome(clip.rel, clip.size, "skipped", clip_id=int(same[0]),
                                  digest=put.digest, reason=N_("same content already ingested"),
                                  verified=True if self.verify else None)
            self._restore_if_needed(clip, put.digest, skipped)
            if self.verify:
                problem = self._verify(clip, put.digest)
                if problem:
                    raise SourceReadError(_("{rel}: verify failed: {problem}").format(
                                              rel=clip.rel, problem=problem))
            self._progress(dock_id, files=1, nbytes=clip.size)
            return skipped
        verified = None
        if self.verify:
            problem = self._verify(clip, put.digest)
            if problem:
                if put.created and "different bytes" in problem:
                    app.store.delete(put.digest)
                raise SourceReadError(_("{rel}: verify failed: {problem}").format(
                                          rel=clip.rel, problem=problem))
            verified = True
        with app.store.open(put.digest) as fh:
            dur = duration(fh, clip.device_start, clip.mtime, clip.kind)
        now = utcnow()
        times, att, tl = self._decide(clip, dur.seconds, dur.source, m, since, checkouts,
                                      dev.badge_hint, now)
        outcome = self._outcome(clip, "new", times, att, tl, digest=put.digest,
                                verified=verified)
        for attempt in range(3):
            try:
                return self._commit(clip, put, dev, m, times, att, tl, outcome, now, dock_id,
                                    verified)
            except ObjectVanished:  # a purge removed identical content meanwhile: store again
                if attempt == 2:
                    raise
                put = self._copy(clip)
        return outcome

    def _stage_one(self, clip: SourceClip, dev: recorders.DeviceRow,
                   m: clockcheck.Measurement, since: clockcheck.Anchor | None,
                   checkouts: list[Checkout], dock_id: int,
                   copied_ahead: Callable[[], Copied] | None = None) -> batch.Pending:
        """Copy one clip into a staged object (or take the copy made ahead of it) and decide
        its rows; they commit with the rest of its group (``_flush``), unless the group finds
        its content already in (``_known_content``)."""
        if copied_ahead is None:
            copied = self._copy_staged(clip)
        else:
            copied = copied_ahead()  # raises what its copy raised
            self.hooks.bytes_copied(copied.staged.size)
        staged, dur = copied.staged, copied.duration
        now = utcnow()
        times, att, tl = self._decide(clip, dur.seconds, dur.source, m, since, checkouts,
                                      dev.badge_hint, now)
        outcome = self._outcome(clip, "new", times, att, tl, digest=staged.digest)
        return batch.Pending(clip, staged, outcome,
                             ClipRows(clip, dev, m, times, att, tl, outcome, now, dock_id, None))

    def _flush(self, group: batch.Group, dock_id: int,
               finished: Callable[[ClipOutcome], None]) -> None:
        """Publish the group's objects (durable together), then commit all their rows in
        one transaction; then report them."""
        items, failed = group.take()
        if not items and not failed:
            return
        app = self.app
        self._known_content(items)
        try:
            puts = app.store.publish([p.staged for p in items])
        except SourceReadError as exc:  # a source failed under a background upload (S3)
            app.store.discard([p.staged for p in items])
            self._group_failed(items, failed, dock_id, exc, finished)
            return
        except BaseException:
            app.store.discard([p.staged for p in items])
            raise
        mark("flush (objects durable)")
        second = copies.replicate(app, puts)
        try:
            with app.transaction() as conn, ledger_store.batched(conn):
                self._rows_many(conn, [(item.rows, put) for item, put
                                       in zip(items, puts, strict=True) if item.rows])
                copies.mark(conn, second)
                self._bump(conn, dock_id, len(items) + failed,
                           sum(p.clip.size for p in items))
        except ObjectVanished:  # a purge removed identical content meanwhile: one by one
            self._commit_each(items, puts, failed, dock_id)
        mark("commit (rows + ledger)")
        new = [p.outcome.clip_id for p in items if p.outcome.status == "new"]
        if new and app.store.locks:  # decided now, set on a thread of their own while the
            from avledger.core.retention import store_locks  # next uploads run

            wanted = store_locks.wanted_locks(app, new, utcnow())
            if wanted:
                self._locking.append(self._lock_thread().submit(
                    store_locks.apply_locks, app.store, wanted))
        mark("store locks (decided)")
        for item in items:
            finished(item.outcome)

    def _known_content(self, items: list[batch.Pending]) -> None:
        """Clips of the group whose content this recorder already gave under the same name
        (its file times differ: another mount, another time zone) are skipped, not recorded
        again: one query for the whole group."""
        waiting = {(p.clip.rel, p.staged.digest): p for p in items if p.rows is not None}
        if not waiting:
            return
        device_id = next(p.rows.dev.id for p in items if p.rows is not None)  # one recorder
        conn = self.app.catalog.conn
        digests = sorted({digest for _, digest in waiting})
        for part in db.chunks(digests):
            marks = ",".join("?" * len(part))
            for clip_id, rel, digest in conn.execute(
                    f"SELECT id, source_path, digest FROM clips WHERE device_id = ?"
                    f" AND digest IN ({marks})", (device_id, *part)).fetchall():
                item = waiting.get((rel, digest))
                if item is not None:
                    item.outcome = ClipOutcome(
                        item.clip.rel, item.clip.size, "skipped", clip_id=int(clip_id),
                        digest=digest, reason=N_("same content already ingested"))
                    item.rows = None

    def _lock_thread(self) -> ThreadPoolExecutor:
        """The thread that sets the store's locks of committed groups, one group after the
        other (each sets several objects at once); ended with the session."""
        if self._locker is None:
            self._locker = self._open.enter_context(
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="avledger-locks"))
        return self._locker

    def _group_failed(self, items: list[batch.Pending], failed: int, dock_id: int,
                      exc: SourceReadError, finished: Callable[[ClipOutcome], None]) -> None:
        """None of the group is recorded: each of its clips is reported failed with the
        error, and a re-run copies them again."""
        self._progress(dock_id, files=len(items) + failed, nbytes=0)
        for item in items:
            finished(ClipOutcome(item.clip.rel, item.clip.size, "failed", error=exc.english))

    def _commit_each(self, items: list[batch.Pending], puts: list[Any], failed: int,
                     dock_id: int) -> None:
        if failed:
            self._progress(dock_id, files=failed, nbytes=0)
        for item, put in zip(items, puts, strict=True):
            if item.rows is None:
                self._progress(dock_id, files=1, nbytes=item.clip.size)
                continue
            for attempt in range(3):
                try:
                    with self.app.transaction() as conn:
                        self._rows_many(conn, [(item.rows, put)])
                        self._bump(conn, dock_id, 1, item.clip.size)
                    break
                except ObjectVanished:
                    if attempt == 2:
                        raise
                    put = self._copy(item.clip)

    def _commit(self, clip: SourceClip, put: Any, dev: recorders.DeviceRow,
                m: clockcheck.Measurement, times: ClipTimes, att: Attribution, tl: Any,
                outcome: ClipOutcome, now: datetime, dock_id: int,
                verified: bool | None) -> ClipOutcome:
        """One transaction: object record, clip row, dock progress, ``clip.ingested``."""
        second = copies.replicate(self.app, [put])
        with self.app.transaction() as conn:
            self._rows(conn, clip, put, dev, m, times, att, tl, outcome, now, dock_id,
                       verified)
            copies.mark(conn, second)
            self._bump(conn, dock_id, 1, clip.size)
        return outcome

    def _rows(self, conn: db.Connection, clip: SourceClip, put: Any, dev: recorders.DeviceRow,
              m: clockcheck.Measurement, times: ClipTimes, att: Attribution, tl: Any,
              outcome: ClipOutcome, now: datetime, dock_id: int,
              verified: bool | None) -> None:
        """One clip's rows and event (``_rows_many``)."""
        self._rows_many(conn, [(ClipRows(clip, dev, m, times, att, tl, outcome, now, dock_id,
                                         verified), put)])

    def _rows_many(self, conn: db.Connection, items: list[tuple[ClipRows, Any]]) -> None:
        """The object records, the clip rows and their ``clip.ingested`` events, in a few
        multi-row statements for a whole group (or, for a clip a concurrent ingest of the same
        recorder got in first, the outcome says so)."""
        app = self.app
        register_objects(app, conn, [(put.digest, put.size) for _, put in items])
        ids: dict[str, int] = {}
        for values, params in db.value_lists([rows.values(put) for rows, put in items],
                                             CLIPS_PER_INSERT):
            ids.update((rel, int(clip_id)) for clip_id, rel in conn.execute(
                _INSERT_CLIPS + values + _ON_CONFLICT, params).fetchall())
        events: list[tuple[str, str, dict[str, Any]]] = []
        for rows, put in items:
            outcome, clip = rows.outcome, rows.clip
            clip_id = ids.get(clip.rel)
            if clip_id is None:
                outcome.status, outcome.reason = "skipped", "ingested concurrently"
                continue
            outcome.clip_id = clip_id
            events.append(("clip.ingested", f"clip:{clip_id}", rows.payload(put)))
            if clip.mark:  # its proposal's event follows its own, as one by one
                app.record_many(conn, events)
                events = []
                from avledger.core.retention import proposals  # loaded for a marked clip only

                proposals.propose(app, conn, clip_id, mark=clip.mark, now=rows.now)
        app.record_many(conn, events)


_INSERT_CLIPS = (
    "INSERT INTO clips (device_id, digest, size, source_path, source_mtime,"
    " device_start, device_end, duration_seconds, duration_source, drift_seconds,"
    " corrected_start, corrected_end, ingested_at, deadline, on_time, checkout_id,"
    " badge, attribution, flags, dock_id, clock_measurement_id, kind, mark) VALUES ")
_ON_CONFLICT = (" ON CONFLICT (device_id, source_path, size, source_mtime) DO NOTHING"
                " RETURNING id, source_path")
CLIPS_PER_INSERT = 100  # rows in one INSERT (23 values each)


@dataclass(frozen=True)
class ClipRows:
    """What one new clip's catalog row and ``clip.ingested`` event are made of."""

    clip: SourceClip
    dev: recorders.DeviceRow
    m: clockcheck.Measurement
    times: ClipTimes
    att: Attribution
    tl: Any
    outcome: ClipOutcome
    now: datetime
    dock_id: int
    verified: bool | None

    def values(self, put: Any) -> tuple[Any, ...]:
        clip, times, att, tl = self.clip, self.times, self.att, self.tl
        return (self.dev.id, put.digest, put.size, clip.rel, iso(clip.mtime),
                _iso(times.device_start), _iso(times.device_end), times.duration,
                times.duration_source, times.drift, _iso(times.corrected_start),
                _iso(times.corrected_end), iso(self.now), self.outcome.deadline,
                None if tl.on_time is None else int(tl.on_time),
                att.checkout.id if att.checkout else None, att.badge, att.kind,
                json.dumps(self.outcome.flags), self.dock_id, self.m.id, clip.kind, clip.mark)

    def payload(self, put: Any) -> dict[str, Any]:
        clip, times, att, outcome = self.clip, self.times, self.att, self.outcome
        return {
            "digest": put.digest, "size": put.size, "serial": self.dev.serial,
            "source_path": clip.rel, "source_mtime": iso(clip.mtime),
            "device_start": outcome.device_start, "corrected_start": outcome.corrected_start,
            "duration_seconds": times.duration, "duration_source": times.duration_source,
            "drift_seconds": times.drift, "clock_measurement": self.m.id,
            "deadline": outcome.deadline, "on_time": self.tl.on_time, "badge": att.badge,
            "attribution": att.kind, "checkout_id": att.checkout.id if att.checkout else None,
            "flags": outcome.flags, "dock_id": self.dock_id, "verified": self.verified,
            "kind": clip.kind, "mark": clip.mark}


def _iso(dt: datetime | None) -> str | None:
    return iso(dt) if dt else None


def ingest(app: Avledger, root: Path, **kwargs: Any) -> IngestReport:
    """Convenience: one session, run."""
    return IngestSession(app, root, **kwargs).run()


def ingest_device(app: Avledger, device: str, *, profile: str | None = None,
                  hooks: IngestHooks | None = None, verify: bool = False,
                  dry_run: bool = False, mount_dir: Path | None = None,
                  docked_at: datetime | None = None) -> IngestReport:
    """Mount a recorder's block device read-only, ingest it, unmount it.

    Its clock file is measured against ``docked_at`` (the docking's udev event, as the daemon
    saw it arrive), else the moment udev says the device was docked."""
    from avledger.core.dock import mounting

    if not Path(device).exists():
        raise DeviceError(_("{device} does not exist").format(device=device),
                          hint=_("was the recorder unplugged?"))
    udev = mounting.udev_properties(device)
    label = mounting.fs_label(device, udev)
    session: IngestSession | None = None
    mount_as: Profile | None = None
    try:
        mount_as = profile_for_device(app, device, udev, label, profile)
        moment = docked_at or mounting.docked_at(device, udev)
        with mounting.mounted(device, mount_as, mount_dir) as root:
            session = IngestSession(app, root, profile=profile, source=device,
                                    device_node=device, udev=udev or None, label=label,
                                    hooks=hooks, verify=verify, dry_run=dry_run,
                                    docked=clockcheck.Reference.dock_event(moment) if moment
                                    else None)
            return session.run()
    except AvledgerError as exc:
        # Failed before its docking was recorded (cannot mount, recognise or read it): record
        # it now, so the failure is in dock status and the ledger, not only in a log.
        if not dry_run and (session is None or session.dock_id is None) \
                and Path(device).exists():
            from avledger.core.dock.failed import record_failed_docking

            record_failed_docking(app, device, exc.stored_line(), label=label,
                                  profile=mount_as.name if mount_as else profile,
                                  serial=session.serial if session else None)
        raise


def ingest_target(app: Avledger, target: str, *, profile: str | None = None,
                  hooks: IngestHooks | None = None,
                  docked: clockcheck.Reference | None = None) -> IngestReport:
    """Ingest the recorder at ``target`` (a block device is mounted read-only for it)."""
    from avledger.core.dock.recorder_volume import is_block_device

    if is_block_device(target):
        return ingest_device(app, target, profile=profile, hooks=hooks,
                             docked_at=docked.at if docked else None)
    return IngestSession(app, Path(target), profile=profile, hooks=hooks, docked=docked).run()
