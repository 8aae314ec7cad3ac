"""The shape every report takes, whatever it is rendered to.

Sections compute plain data: figures (one number each), tables (rows of values) and charts
(which columns of which table to draw). Renderers only format and translate it, so a number is
the same in the HTML, the Markdown, the CSV files and the JSON: it is one value, printed four
ways. Labels are keys looked up in ``i18n``; the data itself carries no language.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

# Kinds of values, for formatting: int, num (1 decimal), hours, pct (percent, 1 decimal),
# bytes, id (a record number: no thousands separator), time (local time text), text, code
# (translated), mono (hashes, seeds).
KINDS = ("int", "num", "hours", "pct", "bytes", "id", "time", "text", "code", "mono")
NUMERIC = ("int", "num", "hours", "pct", "bytes")
# Printed editions move tables longer than this to an appendix, so a section reads as a page
# or two of figures and charts rather than pages of rows.
APPENDIX_ROWS = 40


@dataclass(frozen=True)
class Column:
    key: str
    kind: str = "text"


@dataclass(frozen=True)
class Note:
    """A sentence from the label table, with values filled in."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Table:
    key: str
    columns: list[Column]
    rows: list[list[Any]]
    total_rows: int | None = None  # when only the first rows are kept (long lists)
    note: Note | None = None

    @property
    def in_appendix(self) -> bool:
        return len(self.rows) > APPENDIX_ROWS

    def column(self, key: str) -> list[Any]:
        i = [c.key for c in self.columns].index(key)
        return [row[i] for row in self.rows]

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"columns": [c.key for c in self.columns], "rows": self.rows}
        if self.total_rows is not None:
            out["total_rows"] = self.total_rows
        return out


@dataclass(frozen=True)
class Chart:
    """Draw ``ys`` against ``x`` from one of the section's tables.

    kind: bar (vertical, grouped when several ys), hbar (horizontal, one y), line, hist (bars
    that touch: bins of a distribution). ``limit`` draws only the first rows of the table.
    """

    key: str
    kind: str
    table: str
    x: str
    ys: tuple[str, ...]
    limit: int | None = None
    percent: bool = False
    labels: tuple[str, ...] = ()  # columns shown as the category label (default: x)


@dataclass(frozen=True)
class Figure:
    key: str
    value: Any
    kind: str = "int"


@dataclass
class Section:
    key: str
    scope: str = "unit"  # unit: follows --unit; site: the whole installation
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)  # verbatim blocks (a signed note)
    available: bool = True

    def figure(self, key: str) -> Any:
        return next(f.value for f in self.figures if f.key == key)

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "scope": self.scope, "available": self.available,
            "figures": {f.key: f.value for f in self.figures},
            "tables": {t.key: t.as_dict() for t in self.tables},
            "notes": [{"key": n.key, "params": n.params} for n in self.notes],
            "texts": self.texts,
        }


@dataclass
class Report:
    kind: str  # annual | compliance | usage | clocks | custody
    meta: dict[str, Any]
    sections: list[Section]
    # What a reader checks the report against, printed whole in the JSON edition (a clip's
    # custody report: its events with their inclusion proofs and the signed checkpoint).
    evidence: dict[str, Any] | None = None

    @property
    def timezone(self) -> str:
        period = self.meta.get("period")
        return str(period["timezone"] if period else self.meta["timezone"])

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)

    def content(self) -> dict[str, Any]:
        """Everything the report says, without when or by whom it was made."""
        return {"kind": self.kind, "period": self.meta.get("period"),
                "unit": self.meta.get("unit"), "clip": self.meta.get("clip"),
                "sections": [s.as_dict() for s in self.sections]}

    def digest(self) -> str:
        """SHA-256 of the canonical content: the same catalog state gives the same digest."""
        text = json.dumps(self.content(), sort_keys=True, ensure_ascii=False,
                          separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()
