"""Assembling a report: which sections each kind has, the period, and where it came from."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from types import ModuleType

from avledger import verifier
from avledger.core import identity
from avledger.core.app import Avledger
from avledger.core.reports import (
    access,
    clocks,
    coverage,
    footage,
    handin,
    integrity,
    retention,
    review,
    usage,
)
from avledger.core.reports.context import Context
from avledger.core.reports.model import Report, Section
from avledger.core.reports.period import Period
from avledger.core.reports.scope import Scope
from avledger.errors import RefusedError
from avledger.i18n import _
from avledger.store import db
from avledger.store import ledger as ledger_store
from avledger.timestamps import iso, utcnow

SECTIONS: dict[str, ModuleType] = {
    "footage": footage, "handin": handin, "clocks": clocks, "usage": usage,
    "retention": retention, "access": access, "integrity": integrity, "review": review,
    "coverage": coverage,
}

# The sections of each kind of report, in print order. Open legal reviews (Annex 2: major
# decisions awaiting legal review) belong in 'annual' and 'compliance' right after 'retention'
# once case decisions are recorded: a module with build(ctx) -> Section, added to SECTIONS.
KINDS: dict[str, tuple[str, ...]] = {
    "annual": ("footage", "handin", "coverage", "clocks", "usage", "retention", "access",
               "integrity", "review"),
    "compliance": ("handin", "coverage", "usage", "clocks", "retention", "access",
                   "integrity"),
    "usage": ("footage", "usage"),
    "clocks": ("clocks",),
}

Progress = Callable[[str], None]


def build_report(app: Avledger, kind: str, period: Period, *, unit: str | None = None,
                 now: datetime | None = None, progress: Progress | None = None) -> Report:
    """Compute every section of a ``kind`` report; read-only."""
    if kind not in KINDS:
        raise RefusedError(_("unknown report {kind!r} (choose from: {KINDS})").format(
                               kind=kind, KINDS=', '.join(KINDS)))
    app.actor.require(action=_("read reports"))
    conn = app.catalog.conn
    moment = now or utcnow()
    with snapshot(conn):
        scope = Scope.read(app.config, conn, unit)
        ctx = Context(conn, app.config, period, scope, moment)
        state = ledger_store.state(conn)
        latest = conn.execute("SELECT size, note FROM checkpoints ORDER BY size DESC"
                              " LIMIT 1").fetchone()
        sections: list[Section] = []
        for key in KINDS[kind]:
            if progress:
                progress(key)
            sections.append(SECTIONS[key].build(ctx))
    meta = {
        "kind": kind, "period": period.as_dict(), "period_label": period.label,
        "unit": unit, "site_unit": str(app.config.get("site.unit")),
        "generated_at": iso(moment), "generated_by": made_by(app.actor),
        "ledger": {"events": state.size, "head": state.head},
        # The receipt: the signed checkpoint the report was made under, and whose key signed it.
        "checkpoint": ({"size": int(latest["size"]), "note": str(latest["note"])}
                       if latest else None),
        "key_fingerprint": verifier.grouped(verifier.fingerprint(app.public_key())),
        "window_hours": ctx.window_hours,
    }
    report = Report(kind, meta, sections)
    report.meta["digest"] = report.digest()
    return report


@contextmanager
def snapshot(conn: db.Connection) -> Iterator[None]:
    """One read transaction, so that every section sees the same catalog state while the
    dock and the desk go on writing."""
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN")
    try:
        yield
    finally:
        conn.execute("COMMIT")


def made_by(actor: identity.Actor) -> str:
    """Who made a report, as its cover names them."""
    return f"{actor.name} ({actor.badge})" if actor.name else actor.label
