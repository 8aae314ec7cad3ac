"""Whose footage a report covers: the whole site, or one unit.

A unit is what the roster says (``personnel[].unit``, defaulting to ``site.unit``) for officers
and what the registry says (``devices.unit``, defaulting to ``site.unit``) for recorders. A clip
belongs to the unit of the officer it is attributed to; a clip attributed to nobody belongs to
the unit of the recorder that made it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from avledger.config.loader import Config
from avledger.errors import NotFoundError
from avledger.i18n import _
from avledger.store import db


@dataclass
class Scope:
    unit: str | None
    site_unit: str
    people: dict[str, dict[str, str]] = field(default_factory=dict)  # badge -> name, unit
    devices: dict[int, tuple[str, str]] = field(default_factory=dict)  # id -> serial, unit

    @classmethod
    def read(cls, config: Config, conn: db.Connection, unit: str | None) -> Scope:
        site_unit = str(config.get("site.unit"))
        people = {str(p["badge"]): {"name": str(p["name"]), "unit": str(p.get("unit")
                                                                        or site_unit)}
                  for p in config.roster}
        devices = {int(r[0]): (str(r[1]), str(r[2] or site_unit))
                   for r in conn.execute("SELECT id, serial, unit FROM devices")}
        scope = cls(unit, site_unit, people, devices)
        if unit is not None and unit not in scope.units():
            known = ", ".join(sorted(scope.units())) or "none"
            raise NotFoundError(_("no officer or recorder belongs to unit {unit!r} (units: "
                                  "{known})").format(unit=unit, known=known))
        return scope

    def units(self) -> set[str]:
        return {p["unit"] for p in self.people.values()} | {u for _, u in self.devices.values()}

    def name(self, badge: str | None) -> str:
        if badge is None:
            return ""
        person = self.people.get(badge)
        return person["name"] if person else ""

    def serial(self, device_id: int) -> str:
        return self.devices.get(device_id, (f"#{device_id}", ""))[0]

    def device_unit(self, device_id: int) -> str:
        return self.devices.get(device_id, ("", self.site_unit))[1]

    def officer_unit(self, badge: str) -> str | None:
        person = self.people.get(badge)
        return person["unit"] if person else None

    def clip_unit(self, badge: str | None, device_id: int) -> str:
        return (self.officer_unit(badge) if badge else None) or self.device_unit(device_id)

    def has_clip(self, badge: str | None, device_id: int) -> bool:
        return self.unit is None or self.clip_unit(badge, device_id) == self.unit

    def has_officer(self, badge: str, device_id: int | None = None) -> bool:
        if self.unit is None:
            return True
        unit = self.officer_unit(badge)
        if unit is None and device_id is not None:
            unit = self.device_unit(device_id)
        return unit == self.unit

    def clip_filter(self) -> tuple[str, list[Any]]:
        """``has_clip`` as SQL to append to a WHERE clause over clips (empty for the site)."""
        if self.unit is None:
            return "", []
        badges = [b for b, p in self.people.items() if p["unit"] == self.unit]
        devices = [d for d, (_, u) in self.devices.items() if u == self.unit]
        known = list(self.people)
        unknown_badge = f"badge NOT IN ({_marks(known)})" if known else "1"
        sql = (f" AND (badge IN ({_marks(badges)}) OR ((badge IS NULL OR {unknown_badge})"
               f" AND device_id IN ({_marks(devices)})))")
        return sql, [*badges, *known, *devices]

    def device_filter(self, column: str = "device_id") -> tuple[str, list[Any]]:
        """``has_device`` as SQL to append to a WHERE clause (empty for the site)."""
        if self.unit is None:
            return "", []
        devices = [d for d, (_, u) in self.devices.items() if u == self.unit]
        return f" AND {column} IN ({_marks(devices)})", devices

    def has_device(self, device_id: int) -> bool:
        return self.unit is None or self.device_unit(device_id) == self.unit


def _marks(values: list[Any]) -> str:
    return ",".join("?" * len(values)) or "NULL"
