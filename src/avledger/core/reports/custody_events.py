"""Every ledger event that touched one clip, found by what the events say, not by their type.

A clip is related to other records: its stored object, its docking and checkout, the clock
measurements its times were corrected with, its cases (and their decisions and legal
reviews), the holds covering it, the access requests and copy packages naming it, the
archive sets holding it. An event belongs to the clip's history when its subject is one of
those, or when its payload names one of them (``"clip": 7``, ``"clips": [7, …]``,
``"case": 3``, ``"package": "ACC0002"``, the object's BLAKE3 …). Event types added later
are found the same way, without a change here.

Two rules keep other footage's history out: an event about another clip or object belongs
only when it names this clip too, and an event listing its clips (``"clips": […]``) belongs
only when this clip is among them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from avledger.core.retention.holds import holds_for_clip
from avledger.store import db
from avledger.store import ledger as ledger_store
from avledger.store.ledger import Event

# payload key -> the kind of record its value names
PAYLOAD_KEYS = {
    "clip": "clip", "clip_id": "clip", "clips": "clip",
    "digest": "object", "object": "object", "blake3": "object",
    "case": "case", "case_id": "case", "number": "case",
    "hold": "hold", "hold_id": "hold",
    "request": "access", "request_id": "access", "package": "package",
    "set": "archive", "set_id": "archive",
    "dock_id": "dock", "checkout_id": "checkout", "clock_measurement": "measurement",
    "decision": "decision", "review": "review",
}
# within the events of a subject kind, payload keys that name something else
SUBJECT_KEYS = {"device": {"id": "measurement"}}
# subject kinds whose events are the clip's own history (not another record's)
OWN_KINDS = ("clip", "object")


@dataclass
class Related:
    """The records one clip is related to: kind -> the ids (and numbers) that name them."""

    clip: int
    refs: dict[str, set[Any]] = field(default_factory=dict)

    def add(self, kind: str, values: Iterable[Any]) -> None:
        self.refs.setdefault(kind, set()).update(v for v in values if v is not None)

    def subjects(self) -> list[str]:
        """Ledger subjects of the related records (``case:3``, ``hold:2`` …)."""
        kinds = ("clip", "object", "case", "hold", "access", "archive", "dock", "checkout",
                 "decision", "review")
        return sorted({f"{k}:{v}" for k in kinds for v in self.refs.get(k, ())
                       if not (k == "case" and isinstance(v, str))})

    def patterns(self) -> list[str]:
        """LIKE patterns one of which any payload naming a related record matches (a
        pre-filter over the canonical JSON: no spaces, so a number stands between one of
        ``:[,`` and one of ``,]}``, a string between quotes)."""
        out: set[str] = set()
        for values in self.refs.values():
            for v in values:
                if isinstance(v, int):
                    out |= {f"%{a}{v}{b}%" for a in ":[," for b in ",]}"}
                out.add(f'%"{v}"%')
        out |= {f'%"{kind}:{v}"%' for kind in OWN_KINDS for v in self.refs.get(kind, ())}
        return sorted(out)

    def names(self, value: Any, kind: str) -> bool:
        values = self.refs.get(kind, set())
        items = value if isinstance(value, list) else [value]
        return any(not isinstance(v, dict | list) and (v in values or str(v) in
                                                       {str(x) for x in values})
                   for v in items)

    def belongs(self, event: Event) -> bool:
        """Is ``event`` part of this clip's history?"""
        kind, _, ident = event.subject.partition(":")
        if kind in self.refs and ident in {str(v) for v in self.refs[kind]}:
            return True
        clip_listed, clip_named, other_named = self._scan(event.payload, SUBJECT_KEYS.get(
            kind, {}))
        if clip_listed is False:
            return False  # the event lists its clips, and this is not one of them
        if kind in OWN_KINDS:
            return clip_named  # another clip's or object's event: only if it names this one
        return clip_named or other_named

    def _scan(self, payload: Any, extra: dict[str, str]) -> tuple[bool | None, bool, bool]:
        """(clip listed in a ``clips`` list: None when there is none, clip or its object named,
        another related record named), over the whole payload."""
        listed: bool | None = None
        clip_named = other_named = False
        stack = [payload]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack += [v for v in item if isinstance(v, dict | list)]
                clip_named = clip_named or any(self._names_own(v) for v in item)
                continue
            if not isinstance(item, dict):
                continue
            for key, value in item.items():
                kind = extra.get(key) or PAYLOAD_KEYS.get(key)
                if kind is not None and not isinstance(value, dict):
                    hit = self.names(value, kind) or (
                        isinstance(value, list) and any(
                            isinstance(v, dict) and self.names(v.get("clip"), "clip")
                            for v in value))
                    if key == "clips" and isinstance(value, list):
                        listed = bool(listed) or hit
                    if hit:
                        if kind in OWN_KINDS:
                            clip_named = True
                        else:
                            other_named = True
                if isinstance(value, dict | list):
                    stack.append(value)
                elif self._names_own(value):
                    clip_named = True
        return listed, clip_named, other_named

    def _names_own(self, value: Any) -> bool:
        """A text naming the clip or its object as a ledger subject does (``clip:7``)."""
        if not isinstance(value, str) or ":" not in value:
            return False
        kind, _, ident = value.partition(":")
        return kind in OWN_KINDS and self.names(ident, kind)


def related(conn: db.Connection, clip: dict[str, Any],
            measurements: Iterable[int]) -> Related:
    """What the catalog relates ``clip`` (a ``clips`` row) to."""
    n = int(clip["id"])
    rel = Related(n)
    rel.add("clip", [n])
    rel.add("object", [clip["digest"]])
    rel.add("dock", [clip.get("dock_id")])
    rel.add("checkout", [clip.get("checkout_id")])
    rel.add("measurement", measurements)
    cases = conn.execute("SELECT k.id, k.number FROM clip_cases cc JOIN cases k ON"
                         " k.id = cc.case_id WHERE cc.clip_id = ?", (n,)).fetchall()
    unlinked = [e.payload.get("case") for e in ledger_store.iter_events(
        conn, where="subject = ? AND type = 'clip.unlinked'", params=(f"clip:{n}",))]
    case_ids = {int(r[0]) for r in cases} | {int(c) for c in unlinked if isinstance(c, int)}
    rel.add("case", case_ids)
    for cid in case_ids:
        row = conn.execute("SELECT number FROM cases WHERE id = ?", (cid,)).fetchone()
        rel.add("case", [row[0]] if row else [])
    marks = ",".join("?" * len(case_ids)) or "NULL"
    decisions = [int(r[0]) for r in conn.execute(
        f"SELECT id FROM case_decisions WHERE case_id IN ({marks})", tuple(case_ids))]
    rel.add("decision", decisions)
    marks_d = ",".join("?" * len(decisions)) or "NULL"
    rel.add("review", [int(r[0]) for r in conn.execute(
        f"SELECT id FROM legal_reviews WHERE decision_id IN ({marks_d})", tuple(decisions))])
    rel.add("hold", [h["id"] for h in holds_for_clip(conn, n, include_released=True)])
    requests = [int(r["id"]) for r in conn.execute("SELECT id, clips FROM access_requests")
                if n in json.loads(r["clips"] or "[]")]
    rel.add("access", requests)
    marks_r = ",".join("?" * len(requests)) or "NULL"
    rel.add("package", [r[0] for r in conn.execute(
        f"SELECT id FROM access_packages WHERE request_id IN ({marks_r})", tuple(requests))])
    rel.add("archive", [int(r[0]) for r in conn.execute(
        "SELECT set_id FROM archive_items WHERE clip_id = ?", (n,))])
    return rel


def history(conn: db.Connection, rel: Related, upto: int) -> list[Event]:
    """The events (up to seq ``upto``) that belong to the clip's history, in order."""
    subjects = rel.subjects()
    patterns = rel.patterns()
    clauses = [f"subject IN ({','.join('?' * len(subjects))})"] if subjects else []
    clauses += ["payload LIKE ?"] * len(patterns)
    params: tuple[Any, ...] = (*subjects, *patterns, upto)
    where = f"({' OR '.join(clauses) or '0 = 1'}) AND seq <= ?"
    return [e for e in ledger_store.iter_events(conn, where=where, params=params)
            if rel.belongs(e)]
