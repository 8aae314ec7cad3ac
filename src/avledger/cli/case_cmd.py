"""``avledger case add|show|list|close|link|unlink`` (and ``clips link|unlink``).

``case decide|review|reviews`` are in ``decision_cmd``."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from avledger.cli.common import JsonOpt, console, emit, new_app, session, table
from avledger.cli.decision_cmd import add_case_commands, decisions_table
from avledger.core.caseref import get_case
from avledger.core.cases import coverage
from avledger.core.cases import registry as cases_core
from avledger.core.cases.view import case_detail
from avledger.errors import ExitCode
from avledger.i18n import _
from avledger.timestamps import display, utcnow

app = new_app("Cases (行政执法案件): numbers, types, handlers, and their footage.")

NumberArg = Annotated[str, typer.Argument(help="Case number as the bureau writes it, e.g. "
                                          "平环罚〔2026〕12号.")]
CaseOpt = Annotated[str, typer.Option("--case", help="Case number.")]
ClipsArg = Annotated[list[int], typer.Argument(help="Clip numbers.")]


@app.command("add")
def add(
    number: NumberArg,
    name: Annotated[str, typer.Option("--name", help="Case or activity name.")],
    type_: Annotated[str, typer.Option("--type", help="Enforcement type: inspection, penalty, "
                                       "compulsion or licensing.")],
    handler: Annotated[list[str] | None, typer.Option(
        "--handler", help="Badge of a case handler (承办人); repeat for each.")] = None,
    confidentiality: Annotated[str, typer.Option(
        "--confidentiality", help="none, personal-privacy, commercial-secret or "
        "state-secret.")] = "none",
    as_json: JsonOpt = False,
) -> None:
    """Open a case.

    Footage linked to an open case never expires; once closed it is kept for
    retention.case_days[type] days (Annex 1: as long as the case file).

    Example:

      avledger case add 平环罚〔2026〕12号 --name "XX化工 超标排放" --type penalty --handler 0001
    """
    with session() as app_:
        case = cases_core.add_case(app_, number=number, name=name, enforcement_type=type_,
                                   handlers=handler or [], confidentiality=confidentiality,
                                   now=utcnow())
    emit(case.as_dict(), as_json,
         lambda: console.print(_("opened case {number} ({type})").format(
             number=case.number, type=case.enforcement_type)))


@app.command("close")
def close(
    number: NumberArg,
    note: Annotated[str, typer.Option("--note", help="How the case ended.")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Close a case; its footage's retention counts from today.

    Example: avledger case close 平环罚〔2026〕12号 --note "penalty paid"
    """
    with session() as app_:
        case = cases_core.close_case(app_, number, note=note, now=utcnow())
    emit(case.as_dict(), as_json, lambda: console.print(
        _("closed case {number}").format(number=case.number)))


@app.command("show")
def show(number: NumberArg, as_json: JsonOpt = False) -> None:
    """A case with its handlers, linked clips, holds, decisions and legal reviews.

    Example: avledger case show 平环罚〔2026〕12号
    """
    with session() as app_:
        data = case_detail(app_.catalog.conn, number, utcnow())
        tz = app_.config.timezone
    clips, holds = data["clips"], data["holds"]

    def render() -> None:
        console.print(f"[bold]{escape(data['number'])}[/]  {escape(data['name'])}")
        console.print(_("type {type}, confidentiality {confidentiality}, {status}; handlers "
                        "{handlers}").format(type=data["enforcement_type"],
                                             confidentiality=data["confidentiality"],
                                             status=data["status"],
                                             handlers=", ".join(data["handlers"]) or "-"))
        console.print(_("opened {time} by {who}").format(time=display(data["opened_at"], tz),
                                                         who=data["opened_by"]) +
                      (_("; closed {time} by {who}").format(
                          time=display(data["closed_at"], tz), who=data["closed_by"])
                       if data["closed_at"] else ""))
        console.print(table(_("{count} clip(s)").format(count=len(clips)),
                            [_("clip"), _("recorder"), _("recorded"), _("bytes"), _("status")],
                            [(c["id"], c["serial"], display(c["corrected_start"], tz),
                              c["size"], c["status"]) for c in clips]))
        if holds:
            console.print(table(_("holds"), [_("hold"), _("reason"), _("covers"), _("note"),
                                             _("active")],
                                [(h["id"], h["reason"], h["target"], h["note"],
                                  _("yes") if h["active"] else _("released")) for h in holds]))
        if data["decisions"]:
            console.print(decisions_table(data["decisions"], tz))

    emit(data, as_json, render)


@app.command("list")
def list_(
    status: Annotated[str | None, typer.Option("--status", help="open or closed (default: "
                                               "all).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List cases with their clip counts.

    Example: avledger case list --status open --json
    """
    with session() as app_:
        rows = cases_core.list_cases(app_.catalog.conn, status)
        tz = app_.config.timezone
    emit(rows, as_json, lambda: console.print(table(
        _("{count} case(s)").format(count=len(rows)),
        [_("number"), _("name"), _("type"), _("status"), _("handlers"), _("clips"), _("opened"),
         _("closed")],
        [(r["number"], r["name"], r["enforcement_type"], r["status"], ", ".join(r["handlers"]),
          r["clips"], display(r["opened_at"], tz), display(r["closed_at"], tz))
         for r in rows])))


@app.command("step")
def step(
    number: NumberArg,
    code: Annotated[str, typer.Argument(metavar="STEP", help=_(
        "The step the case went through, a code of footage.checklist (seizure, hearing, "
        "investigation_record)."))],
    note: Annotated[str, typer.Option("--note", help=_("When and where, in a few words."))
                    ] = "",
    as_json: JsonOpt = False,
) -> None:
    """Record that a case went through a step that must be recorded (rule B, Art. 6).

    A decision that calls for one records it with 'case decide --step'. The case then needs
    a clip of that step linked to it: 'case check' and the compliance report say whether
    it has one.

    Example: avledger case step 平环罚〔2026〕12号 hearing --note "听证会 2026-11-20"
    """
    with session() as app_:
        data = coverage.record_step(app_, number, code, now=utcnow(), note=note)
    emit(data, as_json, lambda: _print_coverage(data))


@app.command("check")
def check(number: NumberArg, as_json: JsonOpt = False) -> None:
    """Does the case have a recording of every step that must be recorded (Annex 1)?

    Exits with 1 when a recording is missing.

    Example: avledger case check 平环强〔2026〕3号 --json
    """
    with session() as app_:
        conn = app_.catalog.conn
        data = coverage.case_coverage(conn, app_.config, get_case(conn, number))
    emit(data, as_json, lambda: _print_coverage(data))
    if not data["complete"]:
        raise typer.Exit(int(ExitCode.PROBLEMS))


def _print_coverage(data: dict[str, Any]) -> None:
    rows = [(r["step"], r["step_zh"] or "-", ", ".join(map(str, r["clips"])) or "-",
             _("recorded") if r["covered"] else _("[red]MISSING[/]"))
            for r in data["required"]]
    title = _("case {number}: recordings the checklist requires").format(
        number=escape(data["case"]))
    headers = [_("step"), _("checklist wording"), _("clips"), _("result")]
    console.print(table(title, headers, rows))
    if not data["required"]:
        console.print(_("no step of this case calls for a recording"))
    elif data["missing"]:
        console.print(_("missing: {steps} — tag the clip ('clips tag CLIP --step STEP') and link "
                        "it to the case ('case link')").format(steps=", ".join(data["missing"])))


def link(clips: ClipsArg, case: CaseOpt, as_json: JsonOpt = False) -> None:
    """Link clips to a case (their retention then follows the case).

    Example: avledger case link 101 102 103 --case 平环罚〔2026〕12号
    """
    _link(clips, case, as_json, unlink=False)


def unlink(clips: ClipsArg, case: CaseOpt, as_json: JsonOpt = False) -> None:
    """Unlink clips from a case.

    Example: avledger case unlink 103 --case 平环罚〔2026〕12号
    """
    _link(clips, case, as_json, unlink=True)


def _link(clips: list[int], case: str, as_json: bool, *, unlink: bool) -> None:
    with session() as app_:
        result = cases_core.link_clips(app_, case, clips, now=utcnow(), unlink=unlink)
    done = (_("{count} clip(s) unlinked from {case}") if unlink
            else _("{count} clip(s) linked to {case}"))
    already = (_("; {count} already not linked") if unlink else _("; {count} already linked"))
    emit(result, as_json, lambda: console.print(
        done.format(count=len(result["changed"]), case=result["case"]) +
        (already.format(count=len(result["unchanged"])) if result["unchanged"] else "")))


app.command("link")(link)
app.command("unlink")(unlink)
add_case_commands(app)

# The same two commands for the 'clips' group ('avledger clips link CLIP… --case N').
def add_clip_commands(clips_app: typer.Typer) -> None:
    """'clips link/unlink' are the same commands as 'case link/unlink'."""
    clips_app.command("link")(link)
    clips_app.command("unlink")(unlink)
