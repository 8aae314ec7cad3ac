"""The roster: people who act in avledger or are handed devices.

One source of truth: the ``personnel`` list of the configuration — the same list that decides
who is acting (``identity``). It is reviewed like any other config change and needs no second
copy in the catalog. A CSV from the personnel office is validated here and turned into the YAML
block to paste in (or a config fragment file), never written into the catalog.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

import yaml

from avledger.config import schema
from avledger.config.loader import Config
from avledger.core.identity import find_person
from avledger.errors import ConfigError, NotFoundError, RefusedError
from avledger.i18n import _, english

CSV_COLUMNS = ("badge", "name", "unit", "os_user", "roles")
OPTIONAL_COLUMNS = ("active",)


def is_active(person: dict[str, Any]) -> bool:
    return bool(person.get("active", True))


def require_active(config: Config, badge: str) -> dict[str, Any]:
    """The roster person with ``badge``; refused when unknown or no longer active."""
    person = find_person(config, badge)
    if person is None:
        raise NotFoundError(_("no person with badge {badge!r} on the roster").format(badge=badge),
                            hint=_("see 'avledger person list'; the roster is 'personnel' in the "
                                   "config"))
    if not is_active(person):
        raise RefusedError(_("{name} ({badge}) is inactive on the roster and may not be handed a "
                             "device").format(name=person['name'], badge=badge))
    return person


def name_of(config: Config, badge: str | None) -> str | None:
    person = find_person(config, badge) if badge else None
    return str(person["name"]) if person else None


def people(config: Config, conn: Any, *, include_inactive: bool = True) -> list[dict[str, Any]]:
    """The roster with each person's open checkouts."""
    out_now: dict[str, list[dict[str, Any]]] = {}
    for r in conn.execute(
            "SELECT c.id, c.badge, c.out_at, c.task, d.serial FROM checkouts c"
            " JOIN devices d ON d.id = c.device_id WHERE c.in_at IS NULL ORDER BY c.out_at"):
        out_now.setdefault(r["badge"], []).append(
            {"checkout": r["id"], "serial": r["serial"], "out_at": r["out_at"],
             "task": r["task"]})
    result = []
    for person in config.roster:
        if not include_inactive and not is_active(person):
            continue
        entry = _public(person)
        entry["open_checkouts"] = out_now.get(entry["badge"], [])
        result.append(entry)
    return result


def person_details(config: Config, conn: Any, badge: str, *, history: int = 10
                   ) -> dict[str, Any]:
    person = find_person(config, badge)
    if person is None:
        raise NotFoundError(_("no person with badge {badge!r} on the roster").format(badge=badge))
    entry = _public(person)
    rows = [dict(r) for r in conn.execute(
        "SELECT c.id, d.serial, c.task, c.task_id, c.remote, c.out_at, c.in_at FROM checkouts c"
        " JOIN devices d ON d.id = c.device_id WHERE c.badge = ? ORDER BY c.out_at DESC"
        " LIMIT ?", (entry["badge"], history))]
    entry["open_checkouts"] = [r for r in rows if r["in_at"] is None]
    entry["recent_checkouts"] = rows
    clips = conn.execute("SELECT COUNT(*), COALESCE(SUM(duration_seconds), 0) FROM clips"
                         " WHERE badge = ? AND status != 'purged'", (entry["badge"],)).fetchone()
    entry["footage"] = {"clips": clips[0], "hours": round(clips[1] / 3600, 2)}
    return entry


def _public(person: dict[str, Any]) -> dict[str, Any]:
    return {"badge": str(person["badge"]), "name": person["name"], "unit": person.get("unit"),
            "os_user": person.get("os_user"), "roles": list(person.get("roles", [])),
            "active": is_active(person)}


# ---- CSV import ------------------------------------------------------------------------------


def _roles(text: str) -> list[str]:
    return [r for r in text.replace(";", " ").replace("|", " ").replace(",", " ").split() if r]


def _active(text: str) -> bool | str:
    lowered = text.strip().lower()
    if lowered in ("", "yes", "true", "1", "y"):
        return True
    if lowered in ("no", "false", "0", "n"):
        return False
    return text  # left for the schema to report


def parse_csv(text: str) -> list[dict[str, Any]]:
    """Roster entries from CSV (columns badge,name,unit,os_user,roles[,active]).

    Roles are separated by ``;``, ``|`` or spaces. Raises ConfigError naming every problem by
    CSV line, so a whole file can be corrected in one pass.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in CSV_COLUMNS if c not in header]
    unknown = [c for c in header if c not in CSV_COLUMNS + OPTIONAL_COLUMNS]
    if missing or unknown:
        header_problems = (
            ([f"header: missing column(s) {', '.join(missing)}"] if missing else [])
            + ([f"header: unknown column(s) {', '.join(unknown)}"] if unknown else [])
            + [f"expected columns: {','.join(CSV_COLUMNS)}[,active]"])
        raise _csv_error(header_problems)
    entries: list[dict[str, Any]] = []
    places: list[str] = []
    problems: list[str] = []
    for row in reader:
        values = {(k or "").strip(): (v or "").strip() if isinstance(v, str) else v
                  for k, v in row.items()}
        if None in row:
            problems.append(_("line {line_num}: more fields than columns").format(
                                line_num=reader.line_num))
            continue
        if not any(values.values()):
            continue
        entry: dict[str, Any] = {"badge": values["badge"], "name": values["name"]}
        if values["unit"]:
            entry["unit"] = values["unit"]
        entry["os_user"] = values["os_user"] or None
        entry["roles"] = _roles(values["roles"])
        if "active" in values:
            active = _active(values["active"] or "")
            if active is not True:
                entry["active"] = active
        entries.append(entry)
        places.append(_("line {line_num}").format(line_num=reader.line_num))
    problems += _validate(entries, places)
    if problems:
        raise _csv_error(problems)
    return entries


def _csv_error(problems: list[str], source: str = "CSV") -> ConfigError:
    error = ConfigError(problems, source=source)
    error.hint = _("correct the CSV and import it again; nothing was written")
    return error


def _validate(entries: list[dict[str, Any]], places: list[str]) -> list[str]:
    """Schema problems (and logins used twice), each named by where the entry came from."""
    problems = []
    for problem in schema.validate({"personnel": entries}):
        # "personnel[3].roles: msg (also at [1])" -> "line 5: roles: msg (also at line 3)";
        # the path is read from the English original, the message kept in the chosen language
        path = str(english(problem)).partition(": ")[0]
        index = int(path.split("[", 1)[1].split("]", 1)[0])
        field = path.split("].", 1)[1] if "]." in path else ""
        message = problem[len(path):].lstrip(":： ") if problem.startswith(path) \
            else problem
        if "(also at [" in str(english(problem)):
            start, end = message.rfind("["), message.rfind("]")
            other = int(message[start + 1:end])
            message = message[:start] + places[other] + message[end + 1:]
        problems.append(_("{place}: {field}: {problem}").format(
            place=places[index], field=field, problem=message) if field else
            _("{place}: {problem}").format(place=places[index], problem=message))
    seen: dict[str, str] = {}
    for entry, place in zip(entries, places, strict=True):
        login = entry.get("os_user")
        if login and login in seen:
            problems.append(_("{place}: os_user: {login!r} is already used at {seen} (one login "
                              "acts as one person)").format(
                                place=place, login=login, seen=seen[login]))
        elif login:
            seen[login] = place
    return problems


def merge(current: Iterable[dict[str, Any]], imported: list[dict[str, Any]]
          ) -> list[dict[str, Any]]:
    """The current roster updated by ``imported`` (same badge replaced, new ones appended)."""
    by_badge = {str(p["badge"]): p for p in imported}
    merged = [by_badge.pop(str(p["badge"]), _config_entry(p)) for p in current]
    merged += [p for p in imported if str(p["badge"]) in by_badge]
    problems = _validate(merged, [f"badge {p['badge']}" for p in merged])
    if problems:
        raise _csv_error(problems, "merged roster")
    return merged


def _config_entry(person: dict[str, Any]) -> dict[str, Any]:
    entry = _public(person)
    if entry["active"]:
        del entry["active"]
    return entry


def to_yaml(entries: list[dict[str, Any]]) -> str:
    """The ``personnel:`` block, ready to paste into avledger.yaml or use with --config."""
    header = ("# The avledger roster. Paste into avledger.yaml (replacing 'personnel:'), or use\n"
              "# this file with 'avledger --config FILE' (it replaces the whole roster).\n")
    return header + yaml.safe_dump({"personnel": entries}, allow_unicode=True, sort_keys=False)
