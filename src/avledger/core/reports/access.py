"""The access register (查阅登记簿, rule A): requests by requester category and outcome, views,
copies made and copy packages prepared, as counted by the register itself
(``avledger.core.access.summary``). An installation without the register says so."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from avledger.core.reports.context import Context
from avledger.core.reports.model import Chart, Column, Figure, Note, Section, Table

MODULE = "avledger.core.access"


def load_summary() -> Callable[..., dict[str, Any]] | None:
    """The register's summary function, or None when this installation has no register."""
    try:
        module = importlib.import_module(MODULE)
    except ImportError as exc:
        if exc.name in (MODULE, "avledger.core"):  # the register itself is missing
            return None
        raise
    return getattr(module, "summary", None)


def build(ctx: Context) -> Section:
    summary = load_summary()
    if summary is None:
        return Section("access", scope="site", available=False,
                       notes=[Note("note.access_unavailable")])
    data = summary(ctx.conn, ctx.period.start, ctx.period.end)
    by_category: dict[str, dict[str, int]] = data.get("by_category") or {}
    outcomes = sorted({o for per in by_category.values() for o in per})
    rows = [[cat, *(int(per.get(o, 0)) for o in outcomes), sum(per.values())]
            for cat, per in sorted(by_category.items())]
    section = Section("access", scope="site", figures=[
        Figure("requests", int(data.get("requests", 0))),
        Figure("views", int(data.get("views", 0))),
        Figure("copies", int(data.get("copies", 0))),
        Figure("packages", int(data.get("packages", 0))),
    ])
    section.tables = [Table("by_category", [Column("category", "code"),
                                            *(Column(o, "int") for o in outcomes),
                                            Column("total", "int")], rows)]
    if rows and outcomes:
        section.charts = [Chart("requests_by_category", "bar", "by_category", "category",
                                tuple(outcomes))]
    return section
