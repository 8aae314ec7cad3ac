"""The annual footage review (rule B, Art. 17; quality per Arts. 9-11): a reproducible random
sample of the year's clips, and the findings reviewers record about them.

The sample (scheme ``avledger-review-v1``):

    population = ids of the clips recorded in the year (site time zone; by corrected start, or
                 by ingest time when the recording time is unknown) that are not purged, in the
                 unit when one is given, sorted ascending
    key        = SHA-256(canonical JSON {"scheme", "year", "seed"})   (seed: the text given)
    sample     = the first ceil(rate × population) ids of a partial Fisher-Yates shuffle of the
                 population driven by the HMAC-SHA256 stream of ``key`` labelled "clips" —
                 the same stream and shuffle as the inspection draw (``core/inspect/draw.py``)

So the same seed over the same population gives the same sample, a different seed another one,
and a higher rate with the same seed gives a superset. The seed, the population's size and its
SHA-256 (of the ids, one per line) and the chosen clips are recorded in the custody ledger
(``review.sampled``), so nobody can quietly redraw until a sample suits them: every draw shows.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from datetime import datetime
from fractions import Fraction
from typing import Any

from avledger.core.app import Avledger
from avledger.core.inspect import draw
from avledger.core.reports.calc import local
from avledger.core.reports.context import clip_time
from avledger.core.reports.period import Period
from avledger.core.reports.scope import Scope
from avledger.errors import InputError, NotFoundError, RefusedError
from avledger.i18n import _
from avledger.store import db
from avledger.timestamps import iso, utcnow

SCHEME = "avledger-review-v1"
FINDINGS = ("ok", "unclear", "incomplete", "no-announcement", "other")
REVIEW_ROLES = ("leader", "records_manager", "auditor")


def parse_rate(text: str) -> Fraction:
    try:
        return draw.parse_rate(text)
    except draw.DrawError as exc:
        raise InputError(str(exc)) from None


def population(conn: db.Connection, period: Period, scope: Scope) -> list[int]:
    rows = conn.execute(
        f"SELECT id, badge, device_id FROM clips WHERE {clip_time()} >= ? AND {clip_time()} < ?"
        " AND status != 'purged' ORDER BY id", (period.start, period.end))
    return [r[0] for r in rows if scope.has_clip(r[1], r[2])]


def population_sha256(ids: list[int]) -> str:
    return hashlib.sha256("".join(f"{i}\n" for i in ids).encode()).hexdigest()


def key_of(year: int, seed: str) -> str:
    return draw.sha256_hex(draw.canonical({"scheme": SCHEME, "year": year, "seed": seed}))


def choose(ids: list[int], rate: Fraction, year: int, seed: str) -> list[int]:
    """The sample itself (pure): the clip ids in draw order."""
    if not ids:
        return []
    count = math.ceil(rate * len(ids))
    chosen = draw.sample([str(i) for i in sorted(ids)], count,
                         draw.Stream(key_of(year, seed), "clips"))
    return [int(c) for c in chosen]


def draw_sample(app: Avledger, *, year: int, rate: Fraction, seed: str | None = None,
                unit: str | None = None, dry_run: bool = False,
                now: datetime | None = None) -> dict[str, Any]:
    """Draw (and, unless ``dry_run``, record) the review sample of ``year``."""
    app.actor.require(*REVIEW_ROLES, action=_("draw a review sample"))
    seed = seed if seed is not None else secrets.token_hex(8)
    if not seed.strip():
        raise RefusedError(_("the seed must not be empty"))
    conn = app.catalog.conn
    period = Period.year(year, app.config.timezone)
    scope = Scope.read(app.config, conn, unit)
    ids = population(conn, period, scope)
    if not ids:
        raise NotFoundError((_("no footage recorded in {year} in unit {unit} to sample") if unit
                             else _("no footage recorded in {year} to sample")).format(
                                 year=year, unit=unit))
    chosen = choose(ids, rate, year, seed)
    result: dict[str, Any] = {
        "id": None, "year": year, "unit": unit, "scheme": SCHEME, "seed": seed,
        "rate": f"{rate.numerator}/{rate.denominator}", "rate_percent": float(rate * 100),
        "population_size": len(ids), "population_sha256": population_sha256(ids),
        "clips": chosen, "dry_run": dry_run,
    }
    if dry_run:
        return result
    moment = now or utcnow()
    with app.transaction() as conn:
        event = app.record(conn, "review.sampled", f"review:{year}", {
            k: result[k] for k in ("year", "unit", "scheme", "seed", "rate", "population_size",
                                   "population_sha256", "clips")})
        cur = conn.execute(
            "INSERT INTO review_samples (year, unit, rate, seed, scheme, population_size,"
            " population_sha256, drawn_at, drawn_by, event_seq)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (year, unit, result["rate"], seed, SCHEME, len(ids), result["population_sha256"],
             iso(moment), app.actor.label, event.seq))
        sample_id = int(cur.fetchone()[0])
        conn.executemany("INSERT INTO review_items (sample_id, position, clip_id)"
                         " VALUES (?, ?, ?)",
                         [(sample_id, n, c) for n, c in enumerate(chosen, 1)])
    result.update(id=sample_id, event=event.seq, drawn_at=iso(moment),
                  drawn_by=app.actor.label)
    return result


def record_finding(app: Avledger, clip_id: int, finding: str, note: str, *,
                   now: datetime | None = None) -> dict[str, Any]:
    """A reviewer's finding about one clip; the latest finding about a clip is the one that
    counts, the earlier ones stay in the table and the ledger."""
    app.actor.require(*REVIEW_ROLES, action=_("record review findings"))
    if finding not in FINDINGS:
        raise RefusedError(_("unknown finding {finding!r} (choose from: {FINDINGS})").format(
                               finding=finding, FINDINGS=', '.join(FINDINGS)))
    note = note.strip()
    if finding != "ok" and not note:
        raise RefusedError(_("a finding of {finding!r} needs a --note saying what is wrong").format(
                               finding=finding))
    moment = now or utcnow()
    with app.transaction() as conn:
        clip = conn.execute("SELECT id, badge, status FROM clips WHERE id = ?",
                            (clip_id,)).fetchone()
        if clip is None:
            raise NotFoundError(_("no clip {clip_id}").format(clip_id=clip_id),
                                hint=_("see 'avledger review list'"))
        if clip["badge"] is not None and clip["badge"] == app.actor.badge:
            raise RefusedError(_("clip {clip_id} is your own footage; another reviewer must "
                                 "review it").format(clip_id=clip_id))
        sample = conn.execute("SELECT sample_id FROM review_items WHERE clip_id = ?"
                              " ORDER BY sample_id DESC LIMIT 1", (clip_id,)).fetchone()
        sample_id = int(sample[0]) if sample else None
        event = app.record(conn, "review.recorded", f"clip:{clip_id}", {
            "finding": finding, "note": note, "sample": sample_id})
        cur = conn.execute(
            "INSERT INTO review_findings (clip_id, sample_id, finding, note, recorded_at,"
            " recorded_by, event_seq) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (clip_id, sample_id, finding, note, iso(moment), app.actor.label, event.seq))
        finding_id = int(cur.fetchone()[0])
    return {"id": finding_id, "clip": clip_id, "finding": finding, "note": note,
            "sample": sample_id, "recorded_at": iso(moment), "recorded_by": app.actor.label,
            "event": event.seq}


def latest_sample(conn: db.Connection, year: int, unit: str | None = None
                  ) -> db.Row | None:
    row: db.Row | None = conn.execute(
        "SELECT * FROM review_samples WHERE year = ? AND unit IS ? ORDER BY id DESC LIMIT 1",
        (year, unit)).fetchone()
    return row


def samples_of(conn: db.Connection, year: int, unit: str | None = None
               ) -> list[db.Row]:
    return conn.execute("SELECT * FROM review_samples WHERE year = ? AND unit IS ?"
                        " ORDER BY id", (year, unit)).fetchall()


def sample_items(conn: db.Connection, sample_id: int) -> list[dict[str, Any]]:
    """The sample's clips in draw order, each with its latest finding (or none yet)."""
    rows = conn.execute(
        "SELECT i.position, c.id AS clip, c.corrected_start, c.ingested_at, c.device_id,"
        " d.serial AS device, c.badge, c.duration_seconds, c.status,"
        " f.finding, f.note, f.recorded_by, f.recorded_at"
        " FROM review_items i JOIN clips c ON c.id = i.clip_id"
        " JOIN devices d ON d.id = c.device_id"
        " LEFT JOIN review_findings f ON f.id = (SELECT MAX(x.id) FROM review_findings x"
        "   WHERE x.clip_id = i.clip_id)"
        " WHERE i.sample_id = ? ORDER BY i.position", (sample_id,))
    return [dict(r) for r in rows]


def listing(app: Avledger, year: int, *, unit: str | None = None,
            pending: bool = False) -> dict[str, Any]:
    """The latest sample of the year with each clip's finding (``--pending``: unreviewed)."""
    app.actor.require(action=_("see the review sample"))
    conn = app.catalog.conn
    sample = latest_sample(conn, year, unit)
    if sample is None:
        raise NotFoundError((_("no review sample for {year} in unit {unit}") if unit
                             else _("no review sample for {year}")).format(year=year, unit=unit),
                            hint=_("avledger review sample --year {year} --rate 5%").format(
                                     year=year))
    tz = app.config.timezone
    items = sample_items(conn, sample["id"])
    for item in items:
        item["recorded"] = local(item["corrected_start"] or item["ingested_at"], tz)
    if pending:
        items = [i for i in items if i["finding"] is None]
    return {"sample": dict(sample), "clips": items}
