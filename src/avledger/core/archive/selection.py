"""Which clips an archive set holds: a case's, a hold's, or named clips; and its title."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from avledger.core.caseref import case_by_id, clips_of_case, get_case
from avledger.core.clipref import fetch_clips, unique_ids
from avledger.core.retention.held import clips_under_hold
from avledger.core.retention.holds import get_hold, holds_for_clip
from avledger.errors import RefusedError
from avledger.i18n import _
from avledger.store import db

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class ArchiveClip:
    id: int
    digest: str
    size: int
    serial: str
    source_path: str
    recorded_at: str | None
    ingested_at: str
    cases: tuple[str, ...]
    holds: tuple[int, ...]

    @property
    def path(self) -> str:
        """Its name on the disc: clip number, recorder, original file name (ASCII, ≤ 64)."""
        base = _UNSAFE.sub("_", self.source_path.rsplit("/", 1)[-1]) or "clip"
        name = f"{self.id:06d}_{_UNSAFE.sub('_', self.serial)}_{base}"
        if len(name) > 64:
            stem, dot, ext = name.rpartition(".")
            name = (stem[:63 - len(ext)] + "." + ext) if dot and len(ext) <= 5 else name[:64]
        return f"clips/{name}"


@dataclass
class Selection:
    title: str
    scope: dict[str, Any]
    case_id: int | None = None
    hold_id: int | None = None
    reasons: list[str] = field(default_factory=list)  # hold reasons that apply (label)
    clips: list[ArchiveClip] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # purged: only a tombstone is left

    @property
    def bytes(self) -> int:
        return sum(c.size for c in self.clips)

    def subjects(self) -> list[str]:
        """Ledger subjects whose events belong in the set's ledger excerpt."""
        cases = {f"case:{self.case_id}"} if self.case_id else set()
        holds = {f"hold:{h}" for c in self.clips for h in c.holds}
        if self.hold_id:
            holds.add(f"hold:{self.hold_id}")
        return [f"clip:{c.id}" for c in self.clips] + sorted(cases) + sorted(holds)


def select(conn: db.Connection, *, case: str | None = None, hold: int | None = None,
           clips: list[int] | None = None, title: str | None = None) -> Selection:
    if sum([case is not None, hold is not None, bool(clips)]) != 1:
        raise RefusedError(_("name exactly one of: --case, --hold, or --clip"))
    if case is not None:
        k = get_case(conn, case)
        ids = clips_of_case(conn, k.id)
        sel = Selection(title or f"{k.name}（{k.number}）", {"case": k.number}, case_id=k.id)
    elif hold is not None:
        h = get_hold(conn, hold)
        ids = clips_under_hold(conn, hold)
        default = h["note"]
        if h["scope"] == "case":
            k = case_by_id(conn, h["case_id"])
            default = f"{k.name}（{k.number}）"
        sel = Selection(title or default, {"hold": hold}, hold_id=hold,
                        case_id=h["case_id"] if h["scope"] == "case" else None)
    else:
        if not title:
            raise RefusedError(_("archiving named clips needs --title: the enforcement activity "
                                 "or case name and number printed on the label"))
        ids = unique_ids(clips or [])
        sel = Selection(title, {"clips": ids})
    rows = fetch_clips(conn, ids)
    for clip_id, row in rows.items():
        if row["status"] == "purged":
            sel.skipped.append(clip_id)
            continue
        serial = conn.execute("SELECT serial FROM devices WHERE id = ?",
                              (row["device_id"],)).fetchone()[0]
        numbers = tuple(r[0] for r in conn.execute(
            "SELECT k.number FROM clip_cases cc JOIN cases k ON k.id = cc.case_id"
            " WHERE cc.clip_id = ? ORDER BY k.id", (clip_id,)))
        held = holds_for_clip(conn, clip_id)
        sel.reasons += [h["reason"] for h in held if h["reason"] not in sel.reasons]
        sel.clips.append(ArchiveClip(clip_id, row["digest"], int(row["size"]), serial,
                                     row["source_path"], row["corrected_start"],
                                     row["ingested_at"], numbers,
                                     tuple(int(h["id"]) for h in held)))
    if not sel.clips:
        raise RefusedError(_("nothing to archive: every clip was purged") if sel.skipped
                           else _("nothing to archive: no clips selected"))
    sel.clips.sort(key=lambda c: (c.recorded_at or c.ingested_at, c.id))
    return sel
