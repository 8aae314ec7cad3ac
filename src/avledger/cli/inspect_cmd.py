"""``avledger inspect draw|void|verify|export|list|show|status|conflict``."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from avledger.cli.common import DryRunOpt, JsonOpt, console, emit, new_app, session, table
from avledger.core.inspect import conflicts, inspections
from avledger.core.inspect import export as drawexport
from avledger.core.inspect import status as inspectstatus
from avledger.core.inspect import verify as drawverify
from avledger.errors import IntegrityError, StorageError
from avledger.i18n import N_, _
from avledger.timestamps import display

app = new_app("Random inspections of enterprises (Annex 3, 'double random'), verifiable.")
conflict_app = new_app("Declared conflicts of interest: inspectors who must not be drawn.")
app.add_typer(conflict_app, name="conflict")

DrawArg = Annotated[str, typer.Argument(
    help="Draw number (see 'inspect list') or a period, meaning its live draw.")]


class ExportFormat(StrEnum):
    csv = "csv"
    json = "json"
    bundle = "bundle"


# An inspection's footage state (core.inspect.status).
INSPECTION_STATES = {"ingested": N_("ingested"), "late": N_("late"), "none": N_("none")}


def _draw_table(d: dict[str, Any], tz: str) -> None:
    console.print(_("draw {id}  period {period}  round {round}  {status}  drawn {time} by {who}  "
                    "(ledger event {event})").format(
                        id=d["id"], period=d["period"], round=d["round"],
                        status=f"[bold]{d['status']}[/]", time=display(d["drawn_at"], tz),
                        who=d["drawn_by"], event=d["event_seq"]))
    console.print(_("{drawn} of {population} enterprises (rate {rate}), {each} inspectors each; "
                    "seed {seed}").format(drawn=d["drawn"], population=d["population"],
                                          rate=d["rate"], each=d["inspectors_per_enterprise"],
                                          seed=d["seed"]))
    if d.get("beacon"):
        console.print(_("public beacon: {beacon}").format(beacon=d["beacon"]))
    if d["status"] == "void":
        console.print(_("voided {time} by {who}: {reason}").format(
            time=display(d["voided_at"], tz), who=d["voided_by"], reason=d["void_reason"]))
    rows = [(i["task_id"], i["enterprise_id"], i["enterprise_name"],
             ", ".join(f"{p['badge']} {p['name']}" for p in i["inspectors"]))
            for i in d.get("inspections", [])]
    if rows:
        console.print(table(None, [_("task"), _("enterprise"), _("name"), _("inspectors")],
                            rows))


@app.command("draw")
def draw_cmd(
    population: Annotated[Path, typer.Option(
        "--population", help="CSV of the enterprises: columns id and name (others ignored), "
                             "optional 'conflicts' column of badges.")],
    period: Annotated[str, typer.Option("--period", help="The period drawn for, e.g. 2026Q4.")],
    rate: Annotated[str | None, typer.Option(
        "--rate", help="Share to draw: 20%, 0.2 or 1/5 (default: inspections.rate_percent).")
    ] = None,
    inspectors: Annotated[int | None, typer.Option(
        "--inspectors", min=1, max=1000, help="Inspectors per enterprise (default: "
                                    "inspections.inspectors).")] = None,
    beacon: Annotated[str | None, typer.Option(
        "--beacon", help="Public randomness, its source named in advance (e.g. the lottery "
                         "result of a stated date); becomes part of the seed.")] = None,
    encoding: Annotated[str, typer.Option(
        "--encoding", help="Text encoding of the population file (e.g. gb18030).")] = "utf-8",
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Draw the enterprises to inspect this period, and inspectors for each.

    Draws ceil(rate × population) enterprises and, for each, inspectors from the people with
    role 'handler', leaving out anyone with a declared conflict. The seed comes from the custody
    ledger's latest signed checkpoint, the period and the digests of the inputs; the draw is a
    ledger event and cannot be re-rolled. Needs role leader or records_manager.

    --dry-run checks the inputs and shows what would be used, never the outcome.

    Examples:

      avledger inspect draw --population enterprises.csv --period 2026Q4 --rate 20% --inspectors 2

      avledger inspect draw --population qiye.csv --encoding gb18030 --period 2026Q4 --dry-run
    """
    req = inspections.DrawRequest(population, period, rate, inspectors, beacon, encoding)
    with session() as app_:
        tz = app_.config.timezone
        data = inspections.plan(app_, req) if dry_run else inspections.make(app_, req)

    def render() -> None:
        if dry_run:
            console.print(_("would draw {count} of {population} enterprises for {period} (round "
                            "{round}, rate {rate}), {each} of {eligible} inspectors each, "
                            "{conflicts} conflict(s) applied").format(
                                count=data["to_draw"], population=data["population"],
                                period=data["period"], round=data["round"], rate=data["rate"],
                                each=data["inspectors_per_enterprise"],
                                eligible=data["eligible_inspectors"],
                                conflicts=data["conflicts"]))
            console.print(_("population sha256 {digest}").format(
                digest=data["population_sha256"]))
            console.print(data["note"])
        else:
            _draw_table(data, tz)

    emit(data, as_json, render)


@app.command("void")
def void_cmd(
    draw: DrawArg,
    reason: Annotated[str, typer.Option("--reason", help="Why the draw is void (ledgered).")],
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Void a draw so its period can be drawn again. The void and its reason are ledgered.

    Needs role leader or records_manager.

    Example: avledger inspect void 3 --reason "population file omitted the industrial park"
    """
    with session() as app_:
        data = inspections.void(app_, draw, reason, dry_run=dry_run)

    def render() -> None:
        said = (_("would void draw {draw} ({period}, round {round}): {reason}") if dry_run
                else _("voided draw {draw} ({period}, round {round}): {reason}"))
        console.print(said.format(draw=data["draw"], period=data["period"],
                                  round=data["round"], reason=data["reason"]))
        if data["checkouts_naming_its_tasks"]:
            console.print("[yellow]" + _("note") + "[/]"
                          + _(": {count} checkout(s) already name its task ids").format(
                              count=data["checkouts_naming_its_tasks"]))

    emit(data, as_json, render)


@app.command("verify")
def verify_cmd(
    draw: Annotated[str | None, typer.Argument(
        help="Draw number or period; all draws when omitted.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Recompute a draw from its recorded inputs and compare it with what is stored.

    Checks the ledger event, the seed, the checkpoint signature, the input digests, the result
    and the void state. Exits 6 if anything differs.

    Examples:

      avledger inspect verify 2026Q4

      avledger inspect verify          # every draw, and draws missing from the tables
    """
    with session() as app_:
        if draw is None:
            reports, missing = drawverify.verify_all(app_)
        else:
            reports, missing = [drawverify.verify(app_, draw)], []
    data = {"ok": all(r.ok for r in reports) and not missing,
            "draws": [r.as_dict() for r in reports], "missing": missing}

    def render() -> None:
        for r in reports:
            console.print(_("draw {draw} ({period}, round {round}, {status})").format(
                draw=r.draw_id, period=r.period, round=r.round, status=r.status))
            for c in r.checks:
                mark = "[green]" + _("ok") + "[/]" if c.ok else "[red]" + _("FAILED") + "[/]"
                console.print(f"  {mark} {c.name}: {c.detail}", highlight=False)
        for m in missing:
            console.print("[red]" + _("FAILED") + f"[/] {m}", highlight=False)
        if data["ok"]:
            console.print("[green]" + _("{count} draw(s) verified").format(count=len(reports))
                          + "[/]")

    emit(data, as_json, render)
    if not data["ok"]:
        bad = [r for r in reports if not r.ok]
        what = _("draw {draw}: {check}: {detail}").format(
            draw=bad[0].draw_id, check=bad[0].failures[0].name,
            detail=bad[0].failures[0].detail) if bad else missing[0]
        raise IntegrityError(_("inspection draw verification failed ({what})").format(what=what))


@app.command("export")
def export_cmd(
    draw: DrawArg,
    fmt: Annotated[ExportFormat, typer.Option(
        "--format", help="csv (result, for publication), json, or bundle (everything needed to "
                         "re-run it; needs --out).")] = ExportFormat.csv,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Write here instead of standard output (a new directory for bundle).")
    ] = None,
) -> None:
    """Export a draw for publication; it is verified first and never exported if tampered.

    Examples:

      avledger inspect export 2026Q4 --format csv > 2026Q4-inspections.csv

      avledger inspect export 2026Q4 --format bundle --out 2026Q4-draw/
    """
    with session() as app_:
        if fmt is ExportFormat.bundle:
            if out is None:
                raise typer.BadParameter(_("--format bundle needs --out DIR"),
                                         param_hint="--out")
            data = drawexport.bundle(app_, draw, out)
            console.print(_("wrote {count} files to {directory}; re-run with: {command}").format(
                count=len(data["files"]), directory=data["directory"],
                command=f"python3 {data['directory']}/rerun_draw.py {data['directory']}"))
            return
        text = drawexport.as_text(app_, draw, fmt.value)
    if out is None:
        sys.stdout.write(text)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise StorageError(_("cannot write {file}: {error}").format(
            file=out, error=exc.strerror)) from exc


@app.command("list")
def list_cmd(
    period: Annotated[str | None, typer.Option("--period", help="Only this period.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List draws, live and void.

    Example: avledger inspect list --period 2026Q4
    """
    with session() as app_:
        tz = app_.config.timezone
        data = inspections.listing(app_, period)

    def render() -> None:
        rows = [(d["id"], d["period"], d["round"], d["status"], display(d["drawn_at"], tz),
                 d["drawn_by"], f"{d['drawn']}/{d['population']}",
                 d["inspectors_per_enterprise"], d["seed"][:16] + "…", d["void_reason"])
                for d in data]
        console.print(table(_("inspection draws"),
                            [_("draw"), _("period"), _("round"), _("status"), _("drawn"), _("by"),
                             _("enterprises"), _("insp."), _("seed"), _("void reason")], rows)
                      if rows else _("no draws"))

    emit(data, as_json, render)


@app.command("show")
def show_cmd(draw: DrawArg, as_json: JsonOpt = False) -> None:
    """Show a draw: its inputs, seed and every inspection with its inspectors.

    Example: avledger inspect show 2026Q4
    """
    with session() as app_:
        tz = app_.config.timezone
        data = inspections.show(app_, draw)
    emit(data, as_json, lambda: _draw_table(data, tz))


@app.command("status")
def status_cmd(
    period: Annotated[str, typer.Option("--period", help="The period, e.g. 2026Q4.")],
    as_json: JsonOpt = False,
) -> None:
    """Which inspections of a period have footage ingested, which are late, which have none.

    Footage of an inspection = clips from checkouts that name its task id
    ('avledger checkout … --task-id 2026Q4-007').

    Example: avledger inspect status --period 2026Q4
    """
    with session() as app_:
        data = inspectstatus.period_status(app_, period)

    def render() -> None:
        colour = {"ingested": "green", "late": "red", "none": "yellow"}
        rows = [(r["task_id"], r["enterprise_id"], r["enterprise_name"],
                 f"[{colour[r['state']]}]{_(INSPECTION_STATES[r['state']])}[/]",
                 r["checkouts"], r["clips"],
                 f"{r['hours']:.2f}", r["late_clips"], ", ".join(r["inspectors"]),
                 ", ".join(r["not_drawn"])) for r in data["inspections"]]
        console.print(table(_("inspections {period} (draw {draw})").format(
            period=data["period"], draw=data["draw"]),
            [_("task"), _("enterprise"), _("name"), _("footage"), _("checkouts"), _("clips"),
             _("hours"), _("late"), _("drawn inspectors"), _("recorded by others")], rows))
        t = data["totals"]
        console.print(_("{all} inspections: {ingested} ingested, {late} late, {none} without "
                        "footage; {clips} clips, {hours} h").format(
                            all=t["all"], ingested=t["ingested"], late=t["late"],
                            none=t["none"], clips=t["clips"], hours=f"{t['hours']:.2f}"))
        for u in data["unmatched_task_ids"]:
            why = (_("a task of void draw {draw}").format(draw=u["void_draw"]) if u["void_draw"]
                   else _("not a task of this draw"))
            console.print("[yellow]" + _("warning") + "[/]"
                          + _(": checkout {checkout} ({badge}) names {task}: {why}").format(
                              checkout=u["checkout"], badge=u["badge"], task=u["task_id"],
                              why=why), highlight=False)

    emit(data, as_json, render)


# ---- conflicts ----------------------------------------------------------------------------

BadgeArg = Annotated[str, typer.Argument(help="Badge number of the inspector.")]
EnterpriseArg = Annotated[str, typer.Argument(help="Enterprise id, as in the population file.")]


@conflict_app.command("add")
def conflict_add(
    badge: BadgeArg, enterprise: EnterpriseArg,
    note: Annotated[str, typer.Option("--note", help="The relationship that makes it a "
                                                     "conflict.")],
    as_json: JsonOpt = False,
) -> None:
    """Declare that an inspector must not be drawn for an enterprise (ledgered).

    Anyone may declare their own conflict; for someone else it needs role leader or
    records_manager.

    Example: avledger inspect conflict add 0107 91410400MA3X --note "spouse works there"
    """
    with session() as app_:
        data = conflicts.add(app_, badge, enterprise, note)
    emit(data, as_json, lambda: console.print(
        _("conflict {id}: {badge} will not be drawn for {enterprise}").format(
            id=data["id"], badge=data["badge"], enterprise=data["enterprise_id"])))


@conflict_app.command("remove")
def conflict_remove(
    badge: BadgeArg, enterprise: EnterpriseArg,
    note: Annotated[str, typer.Option("--note", help="Why it no longer applies.")],
    as_json: JsonOpt = False,
) -> None:
    """Withdraw a declared conflict (ledgered). Needs role leader or records_manager.

    Example: avledger inspect conflict remove 0107 91410400MA3X --note "spouse left in 2026"
    """
    with session() as app_:
        data = conflicts.remove(app_, badge, enterprise, note)
    emit(data, as_json, lambda: console.print(
        _("conflict {id} withdrawn: {badge} / {enterprise}").format(
            id=data["id"], badge=data["badge"], enterprise=data["enterprise_id"])))


@conflict_app.command("list")
def conflict_list(
    include_withdrawn: Annotated[bool, typer.Option(
        "--all", help="Include withdrawn conflicts.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List declared conflicts of interest.

    Example: avledger inspect conflict list --json
    """
    with session() as app_:
        tz = app_.config.timezone
        data = conflicts.listing(app_, include_withdrawn=include_withdrawn)

    def render() -> None:
        rows = [(c["id"], c["badge"], c["enterprise_id"], c["note"], display(c["added_at"], tz),
                 c["added_by"], display(c["removed_at"], tz)) for c in data]
        console.print(table(_("declared conflicts"),
                            [_("id"), _("badge"), _("enterprise"), _("note"), _("added"),
                             _("by"), _("withdrawn")], rows)
                      if rows else _("no declared conflicts"))

    emit(data, as_json, render)
