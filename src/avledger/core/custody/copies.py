"""A second copy of every object, in another place (``store.copies: 2``, ``store.second``).

Until a clip is burned to disc, one disk would hold its only copy. With two copies configured,
each object is copied from the first store's object (just written, so read from the page
cache: the recorder is not read twice) into the second location, hashed while it is written
there and made durable before the clips' rows commit (``sync``); or, ``async``, the rows
commit at once and the second copy follows at the end of the ingest or at the next ``store
verify``. When the second location is missing (its disk gone), ``on_missing: fail`` stops an
ingest before anything is copied, and ``one_copy`` lets it go on; ``status`` counts the clips
with fewer good copies than configured either way.

``store verify`` checks both copies: a bad first copy is restored from a good second one, a
bad or missing second copy from the first, each with an ``object.restored`` event.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from avledger.core.app import Avledger
from avledger.core.custody.restore import WITHOUT_GOOD_COPY, restore_from_file
from avledger.errors import AvledgerError, IntegrityError, StorageError
from avledger.i18n import _
from avledger.store import db
from avledger.store.backend import PutResult
from avledger.store.factory import open_second_store
from avledger.store.local import LocalObjectStore
from avledger.timestamps import iso, parse_iso, utcnow

BAD = ("missing", "corrupt", "unreadable")
# Objects whose second copy is not known good: never written, or found bad since.
FIRST_GOOD = ("(quarantined_at IS NULL"
              " AND COALESCE(verify_status, '') NOT IN ('missing', 'corrupt', 'unreadable'))")
SECOND_NOT_GOOD = "(second_at IS NULL OR second_status IN ('missing', 'corrupt', 'unreadable'))"


@dataclass(frozen=True)
class Policy:
    wanted: int
    second: LocalObjectStore | None
    mode: str  # sync | async
    on_missing: str  # fail | one_copy

    @classmethod
    def of(cls, app: Avledger) -> Policy:
        return cls(int(app.config.get("store.copies")), open_second_store(app.config),
                   str(app.config.get("store.second.mode")),
                   str(app.config.get("store.second.on_missing")))

    def reachable(self) -> LocalObjectStore | None:
        """The second store when it is there; None when it is missing (and that is allowed).

        Raises the StorageError when it is missing, the mode is ``sync`` and ``on_missing``
        is ``fail``: in ``async`` mode the second copy follows whenever it can."""
        if self.second is None:
            return None
        try:
            self.second.check_ready()
        except StorageError as exc:
            if self.mode == "sync" and self.on_missing == "fail":
                raise StorageError(
                    _("the second store location {location} is missing").format(
                        location=self.second.location),
                    hint=_("reconnect its disk (nothing was copied), or set store.second."
                           "on_missing: one_copy to ingest with one copy meanwhile")) from exc
            return None
        return self.second


def check_ready(app: Avledger) -> None:
    """Before an ingest: fail now, not half-way, when the second copy cannot be made."""
    Policy.of(app).reachable()


def replicate(app: Avledger, puts: Sequence[PutResult]) -> list[str]:
    """``sync``: copy the just-published objects into the second location, verified and
    durable together; the digests that now have their second copy (none in ``async`` mode
    or when the second location is missing and that is allowed)."""
    policy = Policy.of(app)
    if policy.mode != "sync":
        return []
    second = policy.reachable()
    if second is None or not puts:
        return []
    return _copy_into(app, second, [(p.digest, p.size) for p in puts])


def _copy_into(app: Avledger, second: LocalObjectStore,
               objects: Sequence[tuple[str, int]]) -> list[str]:
    """Stage each object from the first store's copy into ``second`` (hashed as written),
    then publish them together (one durability point)."""
    staged = []
    try:
        for digest, size in objects:
            with app.store.open(digest) as src:
                item = second.stage_stream(src, expected_size=size)
            staged.append(item)
            if item.digest != digest:
                raise IntegrityError(_("object {digest} read back as {read} while being "
                                       "copied to the second store").format(
                                           digest=digest, read=item.digest),
                                     hint=_("run 'avledger store verify': the first copy may "
                                            "be damaged"))
    except BaseException:
        second.discard(staged)
        raise
    return [r.digest for r in second.publish(staged)]


def mark(conn: db.Connection, digests: Iterable[str]) -> None:
    """Record, in the clips' own transaction, that these objects have their second copy."""
    now = iso(utcnow())
    conn.executemany("UPDATE objects SET second_at = ?, second_status = 'ok' WHERE digest = ?",
                     [(now, d) for d in digests])


def catch_up(app: Avledger, limit: int | None = None) -> int:
    """Give every object with one good copy its second (``async`` mode, a disk back after
    ``one_copy``); how many. Nothing when the second location is missing."""
    policy = Policy.of(app)
    if policy.second is None:
        return 0
    second = policy.second
    try:
        second.check_ready()
    except StorageError:
        return 0
    sql = (f"SELECT digest, size FROM objects WHERE second_at IS NULL AND {FIRST_GOOD}"
           " ORDER BY stored_at")  # bad second copies: verify_second puts them right
    rows = [(r["digest"], int(r["size"])) for r in app.catalog.conn.execute(sql)]
    done = 0
    for start in range(0, len(rows) if limit is None else min(limit, len(rows)), 64):
        batch = rows[start:start + 64]
        copied = []
        for digest, size in batch:  # a bad second copy is moved aside, never overwritten
            if second.verify(digest, size).status in ("corrupt", "unreadable"):
                second.quarantine(digest, "replaced from the first copy")
            try:
                copied += _copy_into(app, second, [(digest, size)])
            except AvledgerError:
                continue  # this object's first copy is bad: store verify reports it
        with app.transaction() as conn:
            mark(conn, copied)
        done += len(copied)
    return done


@dataclass
class SecondCheck:
    """What ``store verify`` found in and did to the second location."""

    location: str
    reachable: bool = True
    checked: int = 0
    ok: int = 0
    missing: list[str] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)
    restored_first: list[str] = field(default_factory=list)  # first copy back from the second
    restored_second: list[str] = field(default_factory=list)  # second copy back from the first
    caught_up: int = 0  # objects that got their second copy

    @property
    def problems(self) -> int:
        """Bad second copies that could not be put right, or a second location missing."""
        mended = set(self.restored_second)
        return (0 if self.reachable else 1) + sum(
            1 for d in self.missing + self.corrupt if d not in mended)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__) | {"problems": self.problems}


def verify_second(app: Avledger, checked: Sequence[tuple[str, int]], *,
                  workers: int) -> SecondCheck | None:
    """Check the second copies of ``checked`` objects, restore whichever copy is bad from the
    good one, and give objects without a second copy theirs. None without a second store."""
    policy = Policy.of(app)
    if policy.second is None:
        return None
    second = policy.second
    out = SecondCheck(second.location)
    try:
        second.check_ready()
    except StorageError:
        out.reachable = False
        return out
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda o: second.verify(o[0], o[1], threads=1), checked))
    out.checked = len(results)
    now = iso(utcnow())
    with app.transaction() as conn:
        conn.executemany("UPDATE objects SET second_status = ? WHERE digest = ?",
                         [(r.status, r.digest) for r in results])
    good_second = set()
    for res in results:
        if res.status == "ok":
            out.ok += 1
            good_second.add(res.digest)
        elif res.status == "missing":
            out.missing.append(res.digest)
        else:
            out.corrupt.append(res.digest)
    _restore_first(app, second, good_second, out)
    _restore_second(app, second, dict(checked), out, now)
    out.caught_up = catch_up(app)
    return out


def _restore_first(app: Avledger, second: LocalObjectStore, good_second: set[str],
                   out: SecondCheck) -> None:
    """Objects without a good first copy whose second copy is good: restore the first."""
    bad_first = app.catalog.conn.execute(
        f"SELECT digest, size FROM objects WHERE {WITHOUT_GOOD_COPY}").fetchall()
    for row in bad_first:
        digest, size = row["digest"], int(row["size"])
        if digest not in good_second and second.verify(digest, size).status != "ok":
            continue
        restore_from_file(app, second.path_for(digest), digest, size,
                          source=f"second copy ({second.location})",
                          opener=functools.partial(second.open, digest))
        out.restored_first.append(digest)


def _restore_second(app: Avledger, second: LocalObjectStore, sizes: dict[str, int],
                    out: SecondCheck, now: str) -> None:
    """Bad or missing second copies of objects whose first copy is good: copy them again.
    (An object that never had its second copy gets it from ``catch_up``.)"""
    had = {r[0] for r in app.catalog.conn.execute(
        "SELECT digest FROM objects WHERE second_at IS NOT NULL")}
    for digest in out.corrupt + out.missing:
        if digest not in had:
            continue
        first = app.store.verify(digest, sizes[digest])
        if first.status != "ok":
            continue  # both bad: reported by both checks, restored from a disc if any
        was = "missing" if digest in out.missing else "corrupt"
        if was == "corrupt":
            second.quarantine(digest, "corrupt second copy, replaced from the first")
        _copy_into(app, second, [(digest, sizes[digest])])
        after = second.verify(digest, sizes[digest])
        if after.status != "ok":
            raise IntegrityError(_("second copy of {digest} does not verify after it was "
                                   "written again: {detail}").format(digest=digest,
                                                                     detail=after.detail),
                                 hint=_("check the second disk"))
        with app.transaction() as conn:
            conn.execute("UPDATE objects SET second_at = ?, second_status = 'ok'"
                         " WHERE digest = ?", (now, digest))
            app.record(conn, "object.restored", f"object:{digest}", {
                "size": sizes[digest], "copy": "second", "source": "first copy",
                "location": second.location, "was": was})
        out.restored_second.append(digest)


def short_of_copies(app: Avledger) -> dict[str, Any]:
    """How many clips have fewer good copies than configured, and since when the oldest."""
    wanted = int(app.config.get("store.copies"))
    short = f"({WITHOUT_GOOD_COPY})" + (f" OR {SECOND_NOT_GOOD}" if wanted > 1 else "")
    row = app.catalog.conn.execute(
        "SELECT COUNT(*), MIN(o.stored_at) FROM clips c JOIN objects o ON o.digest = c.digest"
        f" WHERE c.status != 'purged' AND ({short})").fetchone()
    oldest = row[1]
    age = None
    if oldest:
        age = round((utcnow() - parse_iso(oldest)).total_seconds() / 3600, 1)
    second = open_second_store(app.config)
    where = second.location if second else None
    missing = False
    if second is not None:
        try:
            second.check_ready()
        except StorageError:
            missing = True
    return {"wanted": wanted, "clips_short": int(row[0] or 0), "oldest_since": oldest,
            "oldest_age_hours": age, "second": where, "second_missing": missing}
