"""A rendered redaction as derived evidence: a new object in the store, linked to its original.

The original is only read (from the store, read-only). The result is stored like any object
(named by its BLAKE3, catalogued in ``objects``), recorded in ``redactions`` and in the ledger
as ``clip.redacted`` on the original's subject ``clip:<id>`` — so it travels with the clip's
custody history — naming the original's hash, the spec's hash, the redacted hash, the ffmpeg
version, the full filter graph and command line, who made it and why. The same spec on the same
clip is rendered once and then reused.

A redaction shares its original's fate: it cannot outlive it (``retention.purge`` purges it in
the original's purge transaction) and is held while it is held (hold membership is the
original's; the store-side locks follow it too, see ``retention.store_locks``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from avledger.core.app import Avledger
from avledger.core.custody.integrity import register_object
from avledger.core.redact import render
from avledger.core.redact.graph import build
from avledger.core.redact.spec import Spec, parse
from avledger.core.retention import store_locks
from avledger.errors import NotFoundError, RefusedError, StorageError
from avledger.i18n import _
from avledger.store import db
from avledger.timestamps import iso

REDACT_ROLES = ("clerk", "records_manager", "handler", "leader")
EVENT = "clip.redacted"
PREVIEW_EVENT = "clip.redaction_previewed"
ORIGINAL, REDACTED = "ORIGINAL.mp4", "REDACTED.mp4"  # placeholders in the recorded command


@dataclass(frozen=True)
class Redaction:
    id: int
    clip_id: int
    original_digest: str
    digest: str
    sha256: str
    size: int
    spec_digest: str
    spec: Spec
    spec_json: str
    filter_graph: str
    command: list[str]
    ffmpeg_version: str
    reason: str
    request_id: int | None
    made_at: str
    made_by: str
    status: str

    def as_dict(self) -> dict[str, Any]:
        return {"redaction": self.id, "clip": self.clip_id,
                "original_blake3": self.original_digest, "blake3": self.digest,
                "sha256": self.sha256, "size": self.size, "spec_blake3": self.spec_digest,
                "operations": self.spec.summary(), "filter_graph": self.filter_graph,
                "command": self.command, "ffmpeg": self.ffmpeg_version, "reason": self.reason,
                "request": self.request_id, "made_at": self.made_at, "made_by": self.made_by,
                "status": self.status}


def _from_row(row: db.Row) -> Redaction:
    return Redaction(
        int(row["id"]), int(row["clip_id"]), row["original_digest"], row["digest"],
        row["sha256"], int(row["size"]), row["spec_digest"],
        parse(json.loads(row["spec"]), f"redaction {row['id']}"), row["spec"],
        row["filter_graph"], list(json.loads(row["command"])), row["ffmpeg_version"],
        row["reason"], row["request_id"], row["made_at"], row["made_by"], row["status"])


def redactions_of(conn: db.Connection, clip_id: int, *,
                  stored_only: bool = False) -> list[Redaction]:
    where = " AND status = 'stored'" if stored_only else ""
    rows = conn.execute(f"SELECT * FROM redactions WHERE clip_id = ?{where} ORDER BY id",
                        (clip_id,))
    return [_from_row(r) for r in rows]


def get_redaction(conn: db.Connection, redaction_id: int) -> Redaction:
    row = conn.execute("SELECT * FROM redactions WHERE id = ?", (redaction_id,)).fetchone()
    if row is None:
        raise NotFoundError(_("no redaction {redaction_id}").format(redaction_id=redaction_id),
                            hint=_("see 'avledger clips show CLIP'"))
    return _from_row(row)


def _stored(conn: db.Connection, clip_id: int, spec: Spec) -> Redaction | None:
    row = conn.execute("SELECT * FROM redactions WHERE clip_id = ? AND spec_digest = ?"
                       " AND status = 'stored'", (clip_id, spec.digest)).fetchone()
    return _from_row(row) if row else None


@contextlib.contextmanager
def original_file(app: Avledger, digest: str, work: Path) -> Iterator[tuple[Path, tuple[int, ...]]]:
    """A path ffmpeg can read the original from, without a copy when the store has a file
    (``/dev/fd/N``, passed to the child), else a temporary copy (an S3 store)."""
    with app.store.open(digest) as source:
        try:
            fd = source.fileno()
        except (AttributeError, OSError, ValueError):
            copy = work / "original"
            with copy.open("wb") as out:
                shutil.copyfileobj(source, out, 4 * 1024 * 1024)
            yield copy, ()
        else:
            yield Path(f"/dev/fd/{fd}"), (fd,)


def _clip_to_redact(app: Avledger, clip_id: int) -> db.Row:
    clip: db.Row | None = app.catalog.conn.execute(
        "SELECT id, digest, status FROM clips WHERE id = ?", (clip_id,)).fetchone()
    if clip is None:
        raise NotFoundError(_("no clip {clip_id}").format(clip_id=clip_id),
                            hint=_("see 'avledger clips list'"))
    if clip["status"] == "purged":
        raise RefusedError(_("clip {clip_id} was purged; there is nothing to redact").format(
                               clip_id=clip_id))
    return clip


def plan(app: Avledger, clip_id: int, spec: Spec) -> dict[str, Any]:
    """The spec checked against the clip and the filter graph it gives (``--dry-run``)."""
    clip = _clip_to_redact(app, clip_id)
    with tempfile.TemporaryDirectory(prefix="avledger-redact-") as tmp, \
            original_file(app, clip["digest"], Path(tmp)) as (source, fds):
        media = render.probe(source, fds)
    render.check_fits(spec, media)
    return {"dry_run": True, "clip": clip_id, "original_blake3": clip["digest"],
            "spec_blake3": spec.digest, "operations": spec.summary(),
            "filter_graph": build(spec, media).text}


def make_redaction(app: Avledger, clip_id: int, spec: Spec, *, reason: str, now: datetime,
                   request_id: int | None = None, preview: Path | None = None,
                   check_role: bool = True) -> Redaction:
    """Render ``spec`` on clip ``clip_id`` and keep the result (or find it kept already).
    ``check_role`` False: fulfilling an approved request, whose fulfiller was checked."""
    if check_role:
        app.actor.require(*REDACT_ROLES, action=_("redact footage"))
    if not reason.strip():
        raise RefusedError(_("a redaction needs its reason (--reason)"))
    clip = _clip_to_redact(app, clip_id)
    found = _stored(app.catalog.conn, clip_id, spec)
    if found is not None:
        if preview is not None:
            _copy_out(app, found.digest, preview)
            _record_preview(app, found, preview)
        return found
    with tempfile.TemporaryDirectory(prefix="avledger-redact-") as tmp:
        work = Path(tmp)
        target = work / "redacted.mp4"
        with original_file(app, clip["digest"], work) as (source, fds):
            graph, _argv = render.render(source, spec, target, pass_fds=fds)
        version = render.ffmpeg_version()
        sha = _sha256(target)
        with target.open("rb") as fh:
            put = app.store.put_stream(fh, expected_size=target.stat().st_size)
        if preview is not None:
            _copy_file(target, preview)
    command = render.command(ORIGINAL, graph, REDACTED)
    spec_json = spec.canonical().decode()
    with app.transaction() as wconn:
        register_object(app, wconn, put.digest, put.size)
        cur = wconn.execute(
            "INSERT INTO redactions (clip_id, original_digest, digest, sha256, size,"
            " spec_digest, spec, filter_graph, command, ffmpeg_version, reason, request_id,"
            " made_at, made_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (clip_id, clip["digest"], put.digest, sha, put.size, spec.digest, spec_json,
             graph.text, json.dumps(command), version, reason.strip(), request_id, iso(now),
             app.actor.label))
        redaction_id = int(cur.fetchone()[0])
        app.record(wconn, EVENT, f"clip:{clip_id}", {
            "redaction": redaction_id,
            "original": {"blake3": clip["digest"]},
            "spec": {"blake3": spec.digest,
                     "sha256": hashlib.sha256(spec.canonical()).hexdigest()},
            "redacted": {"blake3": put.digest, "sha256": sha, "size": put.size},
            "operations": spec.summary(), "ffmpeg": version, "filter_graph": graph.text,
            "command": command, "reason": reason.strip(), "request": request_id,
            "by": app.actor.label})
        made = get_redaction(wconn, redaction_id)
        if preview is not None:
            _record_preview(app, made, preview, conn=wconn)
    store_locks.sync_clips(app, [clip_id], now)  # a store with locks: held as the original
    return made


def _record_preview(app: Avledger, red: Redaction, preview: Path,
                    conn: db.Connection | None = None) -> None:
    """A preview is redacted footage outside the store: who wrote it where is on record."""
    payload = {"redaction": red.id, "blake3": red.digest, "path": str(preview.resolve())}
    if conn is not None:
        app.record(conn, PREVIEW_EVENT, f"clip:{red.clip_id}", payload)
        return
    with app.transaction() as wconn:
        app.record(wconn, PREVIEW_EVENT, f"clip:{red.clip_id}", payload)


def _sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(4 * 1024 * 1024), b""):
            sha.update(chunk)
    return sha.hexdigest()


def _copy_file(source: Path, dest: Path) -> None:
    try:
        shutil.copyfile(source, dest)
    except OSError as exc:
        raise StorageError(_("cannot write the preview {dest}: {error}").format(
                               dest=dest, error=exc.strerror or exc)) from exc


def _copy_out(app: Avledger, digest: str, dest: Path) -> None:
    try:
        with app.store.open(digest) as src, dest.open("wb") as out:
            shutil.copyfileobj(src, out, 4 * 1024 * 1024)
    except OSError as exc:
        raise StorageError(_("cannot write the preview {dest}: {error}").format(
                               dest=dest, error=exc.strerror or exc)) from exc
