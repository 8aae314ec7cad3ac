"""``avledger migrate``: move a single-machine installation into the shared backends.

A city bureau starts on one machine (local store + SQLite). When more dock stations join, its
footage and its custody record move into the S3 store and the PostgreSQL catalog that all
stations share. Nothing may be lost or changed on the way, so the move is checked at every
step rather than trusted:

1. the source ledger must verify (chain, Merkle roots, signed checkpoints) before anything
   is copied, and the target must be empty or hold exactly this ledger already;
2. every object is streamed into the target store, hashed on the way; its content must hash
   to its name, or the move stops;
3. every catalog row is copied in one target transaction (all or nothing), ids kept, tables
   in reference order;
4. the target ledger is verified with the same key: same size, same head, same signatures;
   every target object is read back and re-hashed;
5. only then both ledgers record the move (``installation.migrated`` in the target,
   ``installation.moved`` in the source).

A move stopped at any point can be run again: objects already in the target are deduplicated,
and a target that already holds this very ledger goes straight to verification.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from avledger.config.loader import Config
from avledger.core.app import Avledger
from avledger.core.custody import ledger as ledger_core
from avledger.core.retention import store_locks
from avledger.errors import ConfigError, IntegrityError, RefusedError
from avledger.i18n import _
from avledger.store import db
from avledger.store import ledger as ledger_store
from avledger.store.backend import ObjectStore
from avledger.store.catalog import Catalog, index_tables
from avledger.store.catalogs import open_catalog
from avledger.store.factory import open_store
from avledger.store.keys import public_key_path
from avledger.timestamps import utcnow

BATCH = 1000
# Tables the target's own migrations fill (schema versions, the empty ledger's state row):
# replaced by the source's rows, never merged with them.
SEEDED_BY_MIGRATIONS = ("ledger_state",)
NOT_COPIED = ("schema_migrations",)


@dataclass
class MoveReport:
    source: dict[str, str]
    target: dict[str, str]
    dry_run: bool
    objects: int = 0
    bytes: int = 0
    objects_copied: int = 0
    objects_present: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    events: int = 0
    head: str = ""
    resumed: bool = False
    verified_objects: int = 0
    locked: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "target": self.target, "dry_run": self.dry_run,
                "objects": self.objects, "bytes": self.bytes,
                "objects_copied": self.objects_copied, "objects_present": self.objects_present,
                "rows": self.rows, "events": self.events, "head": self.head,
                "resumed": self.resumed, "verified_objects": self.verified_objects,
                "locked": self.locked}


Progress = Callable[[int], None]


def _describe(catalog: Catalog, store: ObjectStore) -> dict[str, str]:
    return {"catalog": catalog.describe(), "store": store.location}


def _check_target_config(source: Avledger, target: Config) -> None:
    """The target must be another place, under the same ledger origin and key."""
    problems = []
    if str(target.get("ledger.origin")) != source.origin:
        problems.append(_("ledger.origin: the target says {target_origin!r} "
                          "but this ledger is {origin!r}; "
                          "checkpoints name their origin").format(
                            target_origin=target.get('ledger.origin'), origin=source.origin))
    same_catalog = (target.get("catalog.backend") == source.config.get("catalog.backend")
                    and open_catalog(target).describe() == source.catalog.describe())
    same_store = (target.get("store.backend") == source.config.get("store.backend")
                  and open_store(target).location == source.store.location)
    if same_catalog or same_store:
        problems.append(_("catalog/store: the target names this installation's own {backend}; give "
                          "the shared backends").format(
                            backend='catalog' if same_catalog else 'store'))
    if problems:
        raise ConfigError(problems, source="target configuration")
    if db.is_postgres(source.catalog.conn):
        raise RefusedError(_("this installation already uses a PostgreSQL catalog; 'avledger "
                             "migrate' moves a single-machine (SQLite) installation"))


def _bring_key(source: Avledger, target: Config) -> None:
    """The target signs with the same key; copy it (0600) when its path is elsewhere."""
    src, dst = source.config.key_path, target.key_path
    if dst.exists():
        if dst.read_bytes() != src.read_bytes():
            raise RefusedError(_("the target signing key {dst} is not this ledger's key; its "
                                 "checkpoints would not verify").format(dst=dst),
                               hint=_("point ledger.key_path "
                                                                          "at this "
                                                                          "installation's key, "
                                                                          "or remove the other "
                                                                          "key"))
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    dst.chmod(0o600)
    shutil.copyfile(public_key_path(src), public_key_path(dst))


def _bring_checkpoints(source: Avledger, target: Config) -> None:
    """The checkpoint file outside the database travels too (it detects a rewritten tail)."""
    src, dst = source.config.checkpoint_file, target.checkpoint_file
    if dst.resolve() == src.resolve():
        return
    if dst.exists() and dst.stat().st_size and (
            dst.read_bytes() != src.read_bytes()[:dst.stat().st_size]):
        raise RefusedError(_("the target checkpoint file {dst} belongs to another ledger").format(
                               dst=dst),
                           hint=_("give ledger.checkpoint_file a new file for the target"))
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)


def table_order(conn: db.Connection) -> list[str]:
    """SQLite tables, each after every table it references (so foreign keys hold); not the
    full-text indexes, which the target's own triggers build as the rows arrive."""
    derived = index_tables(conn)
    names = [str(r[0]) for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " ORDER BY name") if str(r[0]) not in derived]
    refs = {n: {str(r[2]) for r in conn.execute(f'PRAGMA foreign_key_list("{n}")')} - {n}
            for n in names}
    ordered: list[str] = []
    while len(ordered) < len(names):
        ready = [n for n in names if n not in ordered and refs[n] <= set(ordered)]
        if not ready:
            raise IntegrityError(_("catalog tables reference each "
                                   "other in a cycle: {tables}").format(
                                     tables=sorted(set(names) - set(ordered))))
        ordered += ready
    return [n for n in ordered if n not in NOT_COPIED]


def _columns(conn: db.Connection, table: str) -> list[str]:
    return [str(r[1]) for r in conn.execute(f'PRAGMA table_info("{table}")')]


def _continues(conn: db.Connection, size: int, head: str) -> bool:
    """The target's ledger is this one, possibly with the move's own events after it."""
    row = conn.execute("SELECT hash FROM ledger WHERE seq = ?", (size,)).fetchone()
    return row is not None and str(row[0]) == head


def _without_rowid(conn: db.Connection, table: str) -> bool:
    sql = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                       (table,)).fetchone()[0]
    return bool(re.search(r"\)\s*WITHOUT\s+ROWID\s*;?\s*$", str(sql), re.I))


def _require_verified(app: Avledger, which: str) -> ledger_core.LedgerVerifyReport:
    report = ledger_core.verify(app.catalog, app.public_key(), app.origin, app.checkpoint_file)
    if not report.ok:
        raise IntegrityError(_("the {which} ledger does not verify ({problems}); nothing was "
                               "changed by this step").format(
                                 which=which, problems=report.problems[0]),
                             hint=_("run 'avledger ledger verify' and resolve it first"))
    return report


def _copy_objects(source: Avledger, store: ObjectStore, report: MoveReport,
                  on_progress: Progress | None) -> None:
    rows = source.catalog.conn.execute(
        "SELECT digest, size FROM objects WHERE quarantined_at IS NULL ORDER BY digest"
    ).fetchall()
    for row in rows:
        digest, size = str(row["digest"]), int(row["size"])
        if store.exists(digest) and store.stat(digest).size == size:
            report.objects_present += 1
            if on_progress:
                on_progress(size)
            continue
        with source.store.open(digest) as fh:
            put = store.put_stream(fh, expected_size=size, progress=on_progress)
        if put.digest != digest:
            raise IntegrityError(_("source object {digest} hashes to {actual}: it is corrupt; "
                                   "the target keeps it under its true name only").format(
                                     digest=digest, actual=put.digest),
                                 hint=_("run 'avledger store verify' here, restore the object "
                                        "from another copy, then run 'avledger migrate' again"))
        report.objects_copied += 1


def _copy_rows(source: Avledger, target: Catalog, report: MoveReport) -> None:
    """Every row in one target transaction: the target has all of the catalog or none."""
    src = source.catalog.conn
    tables = table_order(src)
    with target.write() as conn:
        for table in tables:
            cols = _columns(src, table)
            quoted = ", ".join(f'"{c}"' for c in cols)
            marks = ", ".join("?" for _ in cols)
            if table in SEEDED_BY_MIGRATIONS:
                conn.execute(f'DELETE FROM "{table}"')
            order = "" if _without_rowid(src, table) else " ORDER BY rowid"
            cursor = src.execute(f'SELECT {quoted} FROM "{table}"{order}')
            count = 0
            while batch := cursor.fetchmany(BATCH):
                conn.executemany(f'INSERT INTO "{table}" ({quoted}) VALUES ({marks})',
                                 [tuple(r) for r in batch])
                count += len(batch)
            report.rows[table] = count
        if db.is_postgres(conn):
            _advance_identities(conn)


def _advance_identities(conn: db.Connection) -> None:
    """Rows came with their ids: move each identity past the highest one copied."""
    for row in conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND is_identity = 'YES'").fetchall():
        table, column = str(row[0]), str(row[1])
        conn.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{column}'),"
                     f' COALESCE((SELECT MAX("{column}") FROM "{table}"), 0) + 1, false)')


def _verify_objects(source: Avledger, store: ObjectStore, report: MoveReport,
                    on_progress: Progress | None) -> None:
    bad = []
    for row in source.catalog.conn.execute(
            "SELECT digest, size FROM objects WHERE quarantined_at IS NULL ORDER BY digest"):
        result = store.verify(str(row["digest"]), int(row["size"]))
        if result.status != "ok":
            bad.append(f"{row['digest'][:16]}… {result.status}")
        report.verified_objects += 1
        if on_progress:
            on_progress(int(row["size"]))
    if bad:
        raise IntegrityError(_("{count} object(s) did not read back intact from the target "
                               "store: {bad}; the move is not complete").format(
                                 count=len(bad), bad=', '.join(bad[:3])),
                             hint=_("run 'avledger migrate' again to copy them anew"))


def migrate(source: Avledger, target_config: Config, *, dry_run: bool = False,
            on_total: Callable[[int], None] | None = None,
            on_progress: Progress | None = None) -> MoveReport:
    """Copy, verify, then record the move in both ledgers (see the module docstring)."""
    source.actor.require("records_manager", action=_("move the installation"))
    _check_target_config(source, target_config)
    store = open_store(target_config)
    target = open_catalog(target_config)
    report = MoveReport(_describe(source.catalog, source.store), _describe(target, store),
                        dry_run)
    total = source.catalog.conn.execute(
        "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM objects WHERE quarantined_at IS NULL"
    ).fetchone()
    report.objects, report.bytes = int(total[0]), int(total[1])
    verified = _require_verified(source, _("source"))
    report.events, report.head = verified.size, verified.head
    moved_to = source.catalog.conn.execute(
        "SELECT ts, payload FROM ledger WHERE type = 'installation.moved'"
        " ORDER BY seq DESC LIMIT 1").fetchone()
    if moved_to is not None:
        raise RefusedError(_("this installation was already moved ({ts}: {catalog})").format(
                               ts=moved_to['ts'],
                               catalog=json.loads(moved_to['payload'])['to']['catalog']),
                           hint=_("its ledger records the move; work on the shared backends"))
    present = target.exists()
    if present:
        size = ledger_store.state(target.conn).size
        if size and not _continues(target.conn, report.events, report.head):
            raise RefusedError(_("the target catalog ({describe}) already holds a ledger of "
                                 "{size} events that is not this one; nothing was copied").format(
                                   describe=target.describe(),
                                            size=size),
                               hint=_("give 'avledger migrate' an empty database"))
        report.resumed = size > 0
    if dry_run:
        for table in table_order(source.catalog.conn):
            report.rows[table] = int(source.catalog.conn.execute(
                f'SELECT COUNT(*) FROM "{table}"').fetchone()[0])
        target.close()
        return report

    _bring_key(source, target_config)
    store.create()
    if not present:
        target.create()
    elif target.pending():
        target.migrate()
    if on_total:
        on_total(report.bytes * 2)  # copied once, read back once
    _copy_objects(source, store, report, on_progress)
    if not report.resumed:
        _copy_rows(source, target, report)
    target.close()
    _bring_checkpoints(source, target_config)  # after the rows: it must not outrun them

    with Avledger.open(target_config) as moved:
        _require_verified(moved, _("target"))
        if not _continues(moved.catalog.conn, report.events, report.head):
            raise IntegrityError(_("the target ledger does not hold this ledger's {events} "
                                   "events ending in {head}…").format(
                                     events=report.events, head=report.head[:12]))
        _verify_objects(source, moved.store, report, on_progress)
        locks = store_locks.sync_all(moved, utcnow())  # an S3 store now enforces retention
        report.locked = locks.objects
        already = moved.catalog.conn.execute(
            "SELECT 1 FROM ledger WHERE type = 'installation.migrated' AND seq > ?",
            (report.events,)).fetchone()
        if already is None:
            with moved.transaction() as conn:
                moved.record(conn, "installation.migrated", "installation", {
                    "from": report.source, "events": report.events, "head": report.head,
                    "objects": report.objects, "bytes": report.bytes})
    with source.transaction() as conn:
        source.record(conn, "installation.moved", "installation", {
            "to": report.target, "events": report.events, "head": report.head,
            "objects": report.objects, "bytes": report.bytes})
    return report

