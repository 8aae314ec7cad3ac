"""Integrity (rule B, Arts. 9 and 18): the last store and ledger verifications, the runs in the
period, and the latest signed checkpoint, printed in full so that a reader can check it
against the public key without the catalog."""

from __future__ import annotations

import json

from avledger.core.reports.calc import local
from avledger.core.reports.context import Context
from avledger.core.reports.model import Column, Figure, Note, Section, Table
from avledger.store import ledger as ledger_store

KINDS = ("store", "ledger")


def build(ctx: Context) -> Section:
    conn = ctx.conn
    last = {r["kind"]: r for r in conn.execute(
        "SELECT * FROM verify_runs WHERE id IN (SELECT MAX(id) FROM verify_runs GROUP BY kind)")}
    in_period = {r[0]: (r[1], r[2]) for r in conn.execute(
        "SELECT kind, COUNT(*), SUM(problems > 0) FROM verify_runs"
        " WHERE finished_at >= ? AND finished_at < ? GROUP BY kind",
        (ctx.period.start, ctx.period.end))}
    state = ledger_store.state(conn)
    cp = conn.execute("SELECT * FROM checkpoints ORDER BY size DESC LIMIT 1").fetchone()
    section = Section("integrity", scope="site")
    figures = [Figure("ledger_events", state.size)]
    for kind in KINDS:
        run = last.get(kind)
        figures += [Figure(f"last_{kind}_verify", local(run["finished_at"], ctx.tz) if run
                           else "", "time"),
                    Figure(f"last_{kind}_result", _result(run), "code")]
    figures += [Figure("checkpoint_size", int(cp["size"]) if cp else 0),
                Figure("checkpoint_time", local(cp["ts"], ctx.tz) if cp else "", "time"),
                Figure("events_unsigned", state.size - (int(cp["size"]) if cp else 0))]
    section.figures = figures
    section.tables = [
        Table("last_runs", [Column("kind", "code"), Column("finished", "time"),
                            Column("actor"), Column("checked", "int"), Column("problems", "int"),
                            Column("result", "code"), Column("mode", "code")],
              [[kind, local(run["finished_at"], ctx.tz), run["actor"], run["checked"],
                run["problems"], _result(run), _mode(run["summary"])]
               for kind in KINDS if (run := last.get(kind)) is not None]),
        Table("runs_in_period", [Column("kind", "code"), Column("runs", "int"),
                                 Column("with_problems", "int")],
              [[kind, *in_period.get(kind, (0, 0))] for kind in KINDS]),
    ]
    if cp is not None:
        section.texts["checkpoint"] = str(cp["note"])
        section.notes.append(Note("note.checkpoint", {"size": int(cp["size"]),
                                                      "root": str(cp["root"])}))
    else:
        section.notes.append(Note("note.no_checkpoint"))
    for kind in KINDS:
        if kind not in last:
            section.notes.append(Note(f"note.never_{kind}_verified"))
    return section


def _result(run: object) -> str:
    if run is None:
        return "never"
    return "ok" if run["problems"] == 0 else "problems"  # type: ignore[index]


def _mode(summary: str) -> str:
    """full | sample | budget, from the run's JSON summary (a ledger run is always full)."""
    try:
        return str(json.loads(summary or "{}").get("mode", "full"))
    except (json.JSONDecodeError, AttributeError):
        return "full"
