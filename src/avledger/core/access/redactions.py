"""Redaction specs attached to access requests (rule A, Art. 10): a clip with a spec attached
is disclosed only redacted — the viewing plays, and the copy package holds, the redacted
version, rendered (or reused) at fulfilment from the original in the store.

Attaching is a ledger event on ``access:<id>`` naming the clip and the spec's hashes and
ranges; the approval of the request covers the spec (who approves: the policy's
``redaction.approval``, see ``policy.redaction_needs_leader``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from avledger.core.app import Avledger
from avledger.core.redact.derived import Redaction, make_redaction
from avledger.core.redact.spec import Spec, parse
from avledger.errors import RefusedError
from avledger.i18n import _
from avledger.store import db
from avledger.timestamps import iso

ATTACHED = "access.redaction_attached"


@dataclass(frozen=True)
class Attached:
    clip_id: int
    spec: Spec
    redaction_id: int | None


def clip_for(clips: list[int], clip: int | None) -> int:
    """The clip a spec is for: named, or the request's only clip."""
    if clip is None:
        if len(clips) != 1:
            raise RefusedError(_("the request covers {count} clips; name the one the spec is for "
                                 "(CLIP=SPEC)").format(count=len(clips)))
        return clips[0]
    if clip not in clips:
        raise RefusedError(_("clip {clip} is not part of the request (its clips: {clips})").format(
                               clip=clip, clips=', '.join(map(str, clips))))
    return clip


def attach(app: Avledger, conn: db.Connection, request_id: int, clip_id: int, spec: Spec,
           now: datetime, *, note: str | None = None) -> None:
    """Attach (or replace) the spec for one clip of a request, in the caller's transaction."""
    replaced = conn.execute("DELETE FROM access_redactions WHERE request_id = ? AND clip_id = ?"
                            " RETURNING spec_digest", (request_id, clip_id)).fetchone()
    conn.execute("INSERT INTO access_redactions (request_id, clip_id, spec_digest, spec,"
                 " attached_at, attached_by) VALUES (?, ?, ?, ?, ?, ?)",
                 (request_id, clip_id, spec.digest, spec.canonical().decode(), iso(now),
                  app.actor.label))
    app.record(conn, ATTACHED, f"access:{request_id}", {
        "clip": clip_id, "spec": {"blake3": spec.digest,
                                  "sha256": hashlib.sha256(spec.canonical()).hexdigest()},
        "operations": spec.summary(), "replaces": replaced[0] if replaced else None,
        "note": note})


def attached(conn: db.Connection, request_id: int) -> dict[int, Attached]:
    rows = conn.execute("SELECT clip_id, spec, redaction_id FROM access_redactions"
                        " WHERE request_id = ? ORDER BY clip_id", (request_id,))
    return {int(r["clip_id"]): Attached(int(r["clip_id"]), parse(json.loads(r["spec"])),
                                        r["redaction_id"]) for r in rows}


def summary(conn: db.Connection, request_id: int) -> list[dict[str, Any]]:
    return [{"clip": a.clip_id, "spec_blake3": a.spec.digest, "redaction": a.redaction_id,
             "operations": a.spec.summary()} for a in attached(conn, request_id).values()]


def redacted_versions(app: Avledger, item: dict[str, Any], now: datetime) -> dict[int, Redaction]:
    """The redacted version of every clip of the request that has a spec, rendered now if it
    was not before; the original of such a clip is never handed out."""
    request_id = int(item["id"])
    out: dict[int, Redaction] = {}
    for clip_id, att in attached(app.catalog.conn, request_id).items():
        red = make_redaction(app, clip_id, att.spec, reason=f"access request {request_id}",
                             now=now, request_id=request_id, check_role=False)
        out[clip_id] = red
        if att.redaction_id != red.id:
            with app.transaction() as conn:
                conn.execute("UPDATE access_redactions SET redaction_id = ? WHERE request_id = ?"
                             " AND clip_id = ?", (red.id, request_id, clip_id))
    return out
