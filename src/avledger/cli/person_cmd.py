"""``avledger person list|show|import`` — the roster lives in the config (``personnel``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from avledger.cli.common import JsonOpt, console, emit, load_config, new_app, session, table
from avledger.core.desk import roster
from avledger.errors import ConfigError, RefusedError
from avledger.i18n import _
from avledger.timestamps import display

app = new_app("The roster: who may act, who may be handed a device (config 'personnel').")


@app.command("list")
def list_(
    active: Annotated[bool, typer.Option("--active", help="Leave out inactive people.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List the roster with each person's roles and the devices they have now.

    Example: avledger person list --json
    """
    with session() as app_:
        app_.actor.require(action=_("list the roster"))
        people = roster.people(app_.config, app_.catalog.conn, include_inactive=not active)
        tz = app_.config.timezone

    def render() -> None:
        rows = [(p["badge"], p["name"], p["unit"], p["os_user"], ", ".join(p["roles"]),
                 _("yes") if p["active"] else "[red]" + _("no") + "[/]",
                 ", ".join(_("{serial} since {time}").format(serial=c["serial"],
                                                             time=display(c["out_at"], tz))
                           for c in p["open_checkouts"])) for p in people]
        console.print(table(_("roster ({count})").format(count=len(rows)),
                            [_("badge"), _("name"), _("unit"), _("login"), _("roles"),
                             _("active"), _("has now")], rows))

    emit(people, as_json, render)


@app.command("show")
def show(badge: Annotated[str, typer.Argument(help="Badge number.")],
         as_json: JsonOpt = False) -> None:
    """One person: roles, open and recent checkouts, footage attributed to them.

    Example: avledger person show 0003
    """
    with session() as app_:
        app_.actor.require(action=_("look at the roster"))
        data = roster.person_details(app_.config, app_.catalog.conn, badge)
        tz = app_.config.timezone

    def render() -> None:
        console.print(_("{badge}  {name}  ({unit})  login {login}  roles {roles}").format(
            badge=data["badge"], name=data["name"], unit=data["unit"],
            login=data["os_user"] or "-", roles=", ".join(data["roles"]))
            + ("" if data["active"] else "  [red]" + _("INACTIVE") + "[/]"))
        console.print(_("footage: {clips} clips, {hours} h").format(**data["footage"]))
        rows = [(c["id"], c["serial"], c["task"], display(c["out_at"], tz),
                 display(c["in_at"], tz) or "[bold]" + _("out") + "[/]")
                for c in data["recent_checkouts"]]
        console.print(table(_("recent checkouts"), [_("checkout"), _("device"), _("task"),
                                                    _("checked out"), _("checked in")], rows)
                      if rows else _("no checkouts"))

    emit(data, as_json, render)


@app.command("import")
def import_(
    csv_file: Annotated[Path, typer.Argument(help="CSV with columns badge,name,unit,os_user,"
                                             "roles[,active]; roles separated by ';'.",
                                             exists=True, dir_okay=False, readable=True)],
    write: Annotated[Path | None, typer.Option("--write", help="Write a config fragment file "
                                               "(use it with --config) instead of printing.")]
    = None,
    merge: Annotated[bool, typer.Option("--merge", help="Start from the current roster: same "
                                        "badge replaced, new badges added, others kept.")]
    = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing --write "
                                        "file.")] = False,
) -> None:
    """Check a roster CSV and turn it into the config's 'personnel:' block.

    Every problem is listed with its CSV line, and nothing is written unless the whole file is
    valid. The catalog is not touched: the roster is configuration. Paste the output into
    avledger.yaml, or write a fragment and pass it with --config (it replaces the roster).

    Examples:

      avledger person import staff.csv > roster.yaml

      avledger person import staff.csv --merge --write /etc/avledger/roster.yaml
    """
    try:
        text = csv_file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError([_("not UTF-8 text (byte {byte}); save the CSV as UTF-8").format(
            byte=exc.start)],
                          source=str(csv_file)) from None
    entries = roster.parse_csv(text)
    if merge:
        entries = roster.merge(load_config().roster, entries)
    document = roster.to_yaml(entries)
    if write is None:
        typer.echo(document, nl=False)
        return
    if write.exists() and not force:
        raise RefusedError(_("{file} exists; not overwriting it").format(file=write),
                           hint=_("add --force"))
    write.write_text(document, encoding="utf-8")
    console.print(_("wrote {count} people to {file}; use it with 'avledger --config {file} …' "
                    "or paste it into avledger.yaml").format(count=len(entries), file=write))
