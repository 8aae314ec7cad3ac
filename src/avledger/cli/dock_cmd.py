"""``avledger dock status``."""

from __future__ import annotations

from typing import Annotated

import typer

from avledger.cli.common import JsonOpt, console, emit, new_app, session, table
from avledger.core.dock.status import dock_status
from avledger.i18n import _, translate_stored
from avledger.timestamps import display

app = new_app("The dock: what is docked and how ingest is going.")


@app.command("status")
def status(
    recent: Annotated[int, typer.Option("--recent", min=0, help="How many finished dockings "
                                        "to list.")] = 10,
    as_json: JsonOpt = False,
) -> None:
    """Show docked recorders, ingest progress, and recent results (from any terminal).

    Example: watch -n1 avledger dock status
    """
    with session() as app_:
        data = dock_status(app_, recent)
        tz = app_.config.timezone

    def render() -> None:
        rows = [(d["id"], d["serial"] or "?", d["source"], d["state"],
                 f"{d['files_done']}/{d['files_total']}",
                 f"{d['percent']}%" if d["percent"] is not None else "",
                 display(d["started_at"], tz)) for d in data["docked"]]
        console.print(table(_("docked at {station}").format(station=data["station"]),
                            [_("docking"), _("serial"), _("source"), _("state"), _("files"),
                             _("bytes"), _("since")], rows)
                      if rows else _("nothing docked at {station}").format(
                          station=data["station"]))
        done = [(d["id"], d["serial"] or d["source"] or "?", d["state"],
                 display(d["finished_at"], tz), d["result"].get("new", ""),
                 d["result"].get("skipped", ""), d["result"].get("failed", ""),
                 translate_stored(d["result"].get("error", "")))
                for d in data["recent"]]
        if done:
            console.print(table(_("recent"), [_("docking"), _("serial (or source)"), _("result"),
                                              _("finished"), _("new"), _("skipped"),
                                              _("failed"), _("error")], done))

    emit(data, as_json, render)
