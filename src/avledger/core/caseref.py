"""Looking up cases: by number, by id, and the links between cases and clips.

Read-only, below every concern that reads cases (retention, access, archive, the case register
itself), so that those concerns never import the register's write paths or each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from avledger.errors import NotFoundError
from avledger.i18n import _
from avledger.store import db


@dataclass(frozen=True)
class Case:
    id: int
    number: str
    name: str
    enforcement_type: str
    confidentiality: str
    status: str
    handlers: tuple[str, ...]
    opened_at: str
    opened_by: str
    closed_at: str | None
    closed_by: str | None
    close_note: str | None

    @property
    def subject(self) -> str:
        return f"case:{self.id}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "number": self.number, "name": self.name,
            "enforcement_type": self.enforcement_type, "confidentiality": self.confidentiality,
            "status": self.status, "handlers": list(self.handlers), "opened_at": self.opened_at,
            "opened_by": self.opened_by, "closed_at": self.closed_at,
            "closed_by": self.closed_by, "close_note": self.close_note,
        }


def case_from_row(conn: db.Connection, row: db.Row) -> Case:
    handlers = tuple(r[0] for r in conn.execute(
        "SELECT badge FROM case_handlers WHERE case_id = ? ORDER BY badge", (row["id"],)))
    return Case(row["id"], row["number"], row["name"], row["enforcement_type"],
                row["confidentiality"], row["status"], handlers, row["opened_at"],
                row["opened_by"], row["closed_at"], row["closed_by"], row["close_note"])


def get_case(conn: db.Connection, number: str) -> Case:
    row = conn.execute("SELECT * FROM cases WHERE number = ?", (number,)).fetchone()
    if row is None:
        raise NotFoundError(_("no case numbered {number!r}").format(number=number),
                            hint=_("see 'avledger case list'"))
    return case_from_row(conn, row)


def case_by_id(conn: db.Connection, case_id: int) -> Case:
    row = conn.execute("SELECT * FROM cases WHERE id = ?", (case_id,)).fetchone()
    if row is None:
        raise NotFoundError(_("no case with id {case_id}").format(case_id=case_id))
    return case_from_row(conn, row)


def cases_for_clip(conn: db.Connection, clip_id: int) -> list[dict[str, Any]]:
    """The cases a clip is linked to (for 'clips show' and the retention explanation)."""
    rows = conn.execute(
        "SELECT k.id, k.number, k.name, k.enforcement_type, k.status, k.closed_at"
        " FROM clip_cases cc JOIN cases k ON k.id = cc.case_id WHERE cc.clip_id = ?"
        " ORDER BY k.id", (clip_id,))
    return [dict(r) for r in rows]


def clips_of_case(conn: db.Connection, case_id: int) -> list[int]:
    return [int(r[0]) for r in conn.execute(
        "SELECT clip_id FROM clip_cases WHERE case_id = ? ORDER BY clip_id", (case_id,))]
