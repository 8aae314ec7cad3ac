"""Reading the enterprise population file that a draw chooses from.

The file is whatever the district's enterprise register exports: a CSV with an id column and a
name column (other columns are ignored), and optionally a ``conflicts`` column listing the badges
of inspectors who must not inspect that enterprise. Every problem is reported with its line; the
draw only ever sees the canonical form (``draw.population_csv``), so re-saving the file in another
order or with other columns does not change the draw.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from avledger.core.inspect import draw
from avledger.errors import InputError, NotFoundError
from avledger.i18n import _

ID_COLUMNS = ("id", "enterprise_id", "统一社会信用代码")
NAME_COLUMNS = ("name", "enterprise_name", "企业名称")
CONFLICT_COLUMNS = ("conflicts", "回避")
_BADGE_SPLIT = re.compile(r"[\s,;，；、]+")


@dataclass
class Population:
    rows: list[tuple[str, str]]
    conflicts: list[tuple[str, str]] = field(default_factory=list)  # (enterprise id, badge)
    source: str = ""
    source_sha256: str = ""

    @property
    def canonical(self) -> str:
        return draw.population_csv(self.rows)


def _clean(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    lowered = [_clean(h).lower() for h in header]
    for name in names:
        if name in lowered:
            return lowered.index(name)
    return None


def _numbered_rows(text: str) -> list[tuple[int, list[str]]]:
    """CSV rows with the line each starts on (quoted fields may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    out: list[tuple[int, list[str]]] = []
    start = 1
    for row in reader:
        out.append((start, row))
        start = reader.line_num + 1
    return out


def read_population(path: Path, *, encoding: str = "utf-8") -> Population:
    """Parse and check the population file; raise InputError naming the line of any problem."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise NotFoundError(_("population file {path} does not exist").format(path=path)) from None
    except OSError as exc:
        raise InputError(_("cannot read population file {path}: {strerror}").format(
                             path=path, strerror=exc.strerror)) from None
    codec = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        text = raw.decode(codec)
    except LookupError:
        raise InputError(_("unknown encoding {encoding!r}").format(encoding=encoding)) from None
    except UnicodeDecodeError as exc:
        raise InputError(_("{path}: not valid {encoding} at byte {start}").format(
                             path=path, encoding=encoding, start=exc.start),
                         hint=_("save it as UTF-8 CSV, or give --encoding gb18030")) from None
    try:
        rows = _numbered_rows(text)
    except csv.Error as exc:
        raise InputError(_("{path}: not a readable CSV file: {exc}").format(path=path,
                                                                                 exc=exc)) from None
    while rows and not any(c.strip() for c in rows[0][1]):
        rows.pop(0)
    if not rows:
        raise InputError(_("{path}: the file is empty").format(path=path))
    header_line, header = rows[0]
    id_col, name_col = _column(header, ID_COLUMNS), _column(header, NAME_COLUMNS)
    if id_col is None or name_col is None:
        raise InputError(_("{path} line {header_line}: needs an 'id' and a 'name' column (found: "
                           "{items})").format(
                             path=path, header_line=header_line,
                             items=', '.join(h.strip() for h in header)))
    conflict_col = _column(header, CONFLICT_COLUMNS)
    pop = Population([], [], str(path), hashlib.sha256(raw).hexdigest())
    seen: dict[str, int] = {}
    for n, row in rows[1:]:
        if not any(c.strip() for c in row):
            continue
        if any("\n" in c or "\r" in c or "\x00" in c for c in row):
            raise InputError(_("{path} line {n}: a field contains a line break or NUL").format(
                                 path=path, n=n))
        if len(row) > len(header):
            raise InputError(_("{path} line {n}: {count} fields "
                               "but the header has {columns}").format(
                                 path=path, n=n, count=len(row), columns=len(header)))
        row = row + [""] * (len(header) - len(row))
        eid, name = _clean(row[id_col]), _clean(row[name_col])
        if not eid:
            raise InputError(_("{path} line {n}: the enterprise id is empty").format(
                                 path=path, n=n))
        if not name:
            raise InputError(_("{path} line {n}: enterprise {eid} has no name").format(
                                 path=path, n=n, eid=eid))
        if eid in seen:
            raise InputError(_("{path} line {n}: enterprise id {eid} appears twice (also on line "
                               "{seen})").format(path=path, n=n, eid=eid, seen=seen[eid]))
        seen[eid] = n
        pop.rows.append((eid, name))
        if conflict_col is not None:
            for badge in _BADGE_SPLIT.split(_clean(row[conflict_col])):
                if badge:
                    pop.conflicts.append((eid, badge))
    if not pop.rows:
        raise InputError(_("{path}: no enterprises after the header line").format(path=path))
    return pop
