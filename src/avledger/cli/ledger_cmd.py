"""``avledger ledger verify|show|export|checkpoint|public-key``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from avledger.cli.common import (
    JsonOpt,
    console,
    emit,
    err_console,
    new_app,
    print_json,
    session,
    table,
)
from avledger.core.custody import ledger as ledger_core
from avledger.core.custody import receipts
from avledger.core.witness import client as witness_client
from avledger.errors import AvledgerError
from avledger.i18n import _
from avledger.store import ledger as ledger_store
from avledger.timestamps import display, iso, utcnow

app = new_app("The tamper-evident custody ledger.")


AgainstOpt = Annotated[list[str] | None, typer.Option(
    "--against", metavar="ARTIFACT", help="A receipt the ledger must extend: a copy package or "
    "archive-disc folder, a disc image, a ledger export, a report, an inspection bundle, a "
    "checkpoint file, or a configured witness's URL (every configured witness is asked "
    "anyway). Repeatable.")]


@app.command("verify")
def verify(against: AgainstOpt = None, as_json: JsonOpt = False) -> None:
    """Check the hash chain, every checkpoint signature, the checkpoint file, and receipts.

    Names the first bad sequence number. With --against, also proves the ledger still extends
    each checkpoint handed out (a rollback or fork below one is named with its size and the
    first differing seq). Exits 6 when anything is wrong. The result is kept for 'avledger
    status' and the reports, a clean one also as a ledger.verified event; a ledger with a
    problem is never written to (no event, no checkpoint).

    Examples:

      avledger ledger verify

      avledger ledger verify --against /media/usb/ACC0007 --against disc-3.iso
    """
    targets = against or []
    held = receipts.read_all(t for t in targets if not ledger_core.is_url(t))
    with session() as app_:
        started = utcnow()
        witnessed, unasked = ledger_core.witness_receipts(
            app_.config, app_.origin, [t for t in targets if ledger_core.is_url(t)])
        report = ledger_core.verify(app_.catalog, app_.public_key(), app_.origin,
                                    app_.checkpoint_file,
                                    held + witnessed + ledger_core.bucket_receipt(app_.store))
        report.notes += unasked
        if not report.ok:
            app_.refuse_signing("the ledger failed verification")
        recorded = False
        try:
            recorded = ledger_core.record_verification(app_, report, started)
        except AvledgerError as exc:  # the verification itself stands; say it was not kept
            err_console.print(_("avledger: warning: the result was not recorded: {error}")
                              .format(error=exc.one_line()), markup=False, highlight=False)

    def render() -> None:
        console.print(_("events: {size}   head: {head}…   checkpoints: {in_catalog} in catalog, "
                        "{in_file} in file (latest at {latest})").format(
                            size=report.size, head=report.head[:16],
                            in_catalog=report.checkpoints_db, in_file=report.checkpoints_file,
                            latest=report.latest_checkpoint))
        for p in report.problems:
            console.print("[red]" + _("FAILED") + f"[/] {escape(str(p))}", highlight=False)
        for note in report.notes:
            console.print(_("note: {note}").format(note=escape(note)), highlight=False)
        if report.ok:
            console.print("[green]" + _("ledger OK") + "[/]"
                          + _(": chain intact, checkpoints signed and consistent"))
        else:
            console.print(_("nothing was written to this ledger (no event, no checkpoint): "
                            "keep it as it is for inspection"))

    emit(report.as_dict() | {"event_recorded": recorded}, as_json, render)
    ledger_core.require_ok(report)


def _time(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        from zoneinfo import ZoneInfo

        from avledger.cli.common import load_config

        value = value.replace(tzinfo=ZoneInfo(load_config().timezone))
    return iso(value)


def _filters(subject: str | None, type_: str | None, actor: str | None,
             since: datetime | None, until: datetime | None) -> tuple[str, tuple[Any, ...]]:
    clauses: list[str] = []
    params: list[Any] = []
    if subject:
        clauses.append("(subject = ? OR subject LIKE ?)")
        params += [subject, subject.rstrip("*") + "%" if subject.endswith("*") else subject]
    if type_:
        clauses.append("(type = ? OR type LIKE ?)")
        params += [type_, type_.rstrip("*") + "%" if type_.endswith("*") else type_]
    if actor:
        clauses.append("(actor = ? OR actor LIKE ? OR actor LIKE ?)")
        params += [actor, f"{actor}:%", f"%:{actor}"]
    if since:
        clauses.append("ts >= ?")
        params.append(_time(since))
    if until:
        clauses.append("ts < ?")
        params.append(_time(until))
    return " AND ".join(clauses), tuple(params)


SubjectOpt = Annotated[str | None, typer.Option("--subject", help="Subject, e.g. clip:42; "
                                                "a trailing * matches a prefix.")]
TypeOpt = Annotated[str | None, typer.Option("--type", help="Event type, e.g. clip.ingested "
                                             "or clip.*.")]
ActorOpt = Annotated[str | None, typer.Option("--actor", help="Badge number or login.")]
SinceOpt = Annotated[datetime | None, typer.Option("--since", help="From this time (site zone "
                                                   "unless an offset is given).")]
UntilOpt = Annotated[datetime | None, typer.Option("--until", help="Before this time.")]


@app.command("show")
def show(
    subject: SubjectOpt = None, type_: TypeOpt = None, actor: ActorOpt = None,
    since: SinceOpt = None, until: UntilOpt = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many, newest "
                                       "first.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """List custody events, newest first.

    Examples:

      avledger ledger show --subject 'clip:*' --since 2026-11-01

      avledger ledger show --type store.verified --json
    """
    where, params = _filters(subject, type_, actor, since, until)
    with session() as app_:
        events = list(ledger_store.iter_events(app_.catalog.conn, where=where, params=params,
                                               order="seq DESC", limit=limit))
        tz = app_.config.timezone
    if as_json:
        print_json([e.as_dict() for e in events])
        return
    rows = [(e.seq, display(e.ts, tz), e.actor, e.type, e.subject,
             _short(e.payload)) for e in events]
    console.print(table(_("custody ledger ({count} shown, times in {tz})").format(
        count=len(rows), tz=tz), [_("seq"), _("time"), _("actor"), _("type"), _("subject"),
                                  _("details")], rows))


def _short(payload: dict[str, Any], width: int = 80) -> str:
    text = ", ".join(f"{k}={v}" for k, v in payload.items())
    return text if len(text) <= width else text[: width - 1] + "…"


@app.command("export")
def export(
    out: Annotated[Path, typer.Argument(help="Directory to create (must be empty or absent).")],
    subject: SubjectOpt = None, type_: TypeOpt = None, actor: ActorOpt = None,
    since: SinceOpt = None, until: UntilOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Export events (JSON Lines), checkpoints, public key and the standalone verifier.

    Without filters the export verifies on its own: python3 verify_ledger.py OUT --key KEY

    Example: avledger ledger export /media/usb/ledger-2026
    """
    where, params = _filters(subject, type_, actor, since, until)
    with session() as app_:
        app_.actor.require(action=_("export the ledger"))
        ledger_core.prepare_export_dir(out)
        with app_.transaction() as conn:
            app_.record(conn, "ledger.exported", "ledger",
                        {"directory": str(out.resolve()), "filtered": bool(where)})
        app_.checkpoint()
        result = ledger_core.export(app_.catalog, app_.public_key(), out, where=where,
                                    params=params, config=app_.config)
    emit(result, as_json, lambda: console.print(
        _("exported {events} events and {checkpoints} checkpoints to {out}").format(
            events=result["events"], checkpoints=result["checkpoints"], out=out) + "\n"
        + (_("verify with: {command}").format(
            command=f"python3 verify_ledger.py {out} --fingerprint \"{result['fingerprint']}\"")
           if result["complete"] else
           _("filtered: readable, but only a complete export verifies as a chain"))))


@app.command("checkpoint")
def checkpoint(as_json: JsonOpt = False) -> None:
    """Sign a checkpoint over the ledger now (normally automatic).

    Example: avledger ledger checkpoint --json
    """
    with session() as app_:
        app_.actor.require(action=_("sign a ledger checkpoint"))
        cp = app_.checkpoint()
    data = {"size": cp.size, "head": cp.head, "root": cp.root.hex()} if cp else None
    emit(data, as_json, lambda: console.print(
        _("signed checkpoint at size {size}").format(size=cp.size) if cp
        else _("ledger already covered by a checkpoint")))


@app.command("witness")
def witness(as_json: JsonOpt = False) -> None:
    """Submit the newest checkpoint to every configured witness now (normally automatic).

    A witness that was unreachable is brought up to date; each answer is shown. Exits 1 when
    a witness refused (a refusal after a rollback or fork is a finding: run 'ledger verify').

    Example: avledger ledger witness
    """
    with session() as app_:
        if app_.config.get("custody.witnesses"):
            app_.checkpoint()
        outcomes = [o.as_dict() for o in witness_client.submit_all(app_.config,
                                                                   app_.catalog.conn)]

    def render() -> None:
        if not outcomes:
            console.print(_("no witnesses configured (custody.witnesses)"))
        for o in outcomes:
            console.print(_("{name} ({witness}): {status} at size {size}").format(**o)
                          + (f" — {escape(o['detail'])}" if o["detail"] else ""),
                          highlight=False)

    emit(outcomes, as_json, render)
    if any(o["status"] == "refused" for o in outcomes):
        raise typer.Exit(1)


@app.command("public-key")
def public_key() -> None:
    """Print the ledger's public key (publish it so others can verify exports).

    Example: avledger ledger public-key > /media/usb/avledger-ledger.pub
    """
    with session() as app_:
        typer.echo(app_.public_key())
