"""``avledger access request|redact|approve|deny|fulfil|list|show|register|policy``
(rule A)."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from avledger.cli.common import (
    DryRunOpt,
    JsonOpt,
    byte_progress,
    console,
    emit,
    err_console,
    new_app,
    print_json,
    session,
    table,
)
from avledger.core.access import labels
from avledger.core.access import policy as policy_core
from avledger.core.access import register as register_core
from avledger.core.access import requests as requests_core
from avledger.core.access.package import make_package, package_id_for
from avledger.core.access.viewing import player_command, run_viewing
from avledger.core.redact import spec as spec_core
from avledger.core.redact.spec import Spec
from avledger.i18n import N_, _
from avledger.timestamps import display, utcnow

app = new_app("Access register (查阅登记簿, rule A): look-ups and copies under the rules.")

IdArg = Annotated[int, typer.Argument(help="Request number (see 'avledger access list').")]


def _split(values: list[str] | None) -> list[str]:
    """Values given repeatedly and/or comma-separated: ``--documents a,b --documents c``."""
    return [v.strip() for value in values or [] for v in value.split(",") if v.strip()]


def _clip_ids(values: list[str] | None) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in _split(values))
    except ValueError:
        raise typer.BadParameter(_("clip numbers are whole numbers, e.g. --clip 12,13"),
                                 param_hint="--clip") from None


def _redaction(value: str) -> tuple[int | None, Spec]:
    """``SPEC`` (the request's only clip) or ``CLIP=SPEC``."""
    head, sep, rest = value.partition("=")
    if sep and head.strip().isdigit():
        return int(head), spec_core.load(Path(rest))
    return None, spec_core.load(Path(value))


def _say_request(item: dict[str, Any]) -> None:
    state = {"approved": "[green]" + _("approved") + "[/]" + _(" at once, no approval needed"),
             "pending": "[yellow]" + _("pending") + "[/]"
                        + _(": the principal leader must approve"),
             }.get(item["status"], item["status"])
    console.print(_("request {id} registered: {state} (rule A, {article}); {action} {count} "
                    "clip(s) for {requester}").format(
                        id=item["id"], state=state, article=item["article"],
                        action=item["action"], count=len(item["clips"]),
                        requester=escape(item["requester"])))


@app.command("request")
def request(
    category: Annotated[str, typer.Option(
        "--category", help="case_handler, internal_staff, judicial, party, party_lawyer or "
        "external_agency.")],
    action: Annotated[str, typer.Option("--action", help="view or copy.")],
    purpose: Annotated[str, typer.Option("--purpose", help="Why the footage is needed.")],
    requester: Annotated[str | None, typer.Option(
        "--requester", help="Name of the person asking (staff: defaults to the roster name).")]
    = None,
    badge: Annotated[str | None, typer.Option(
        "--badge", help="Staff requesters (case_handler, internal_staff): their badge "
        "(default: yours).")] = None,
    unit: Annotated[str | None, typer.Option(
        "--unit", help="The unit or body asking, e.g. 新华区人民法院.")] = None,
    kind: Annotated[str | None, typer.Option(
        "--kind", help="judicial: police, procuratorate, court, state_security, "
        "discipline_inspection, judicial_administration or audit.")] = None,
    case: Annotated[str | None, typer.Option("--case", help="Case number: its footage.")]
    = None,
    clip: Annotated[list[str] | None, typer.Option(
        "--clip", metavar="ID[,ID…]", help="Clip numbers (repeat or comma-separate); with "
        "--case, some of its clips.")] = None,
    documents: Annotated[list[str] | None, typer.Option(
        "--documents", metavar="DOC[,DOC…]", help="Documents seen and checked: unit_letter, "
        "id_card, power_of_attorney, authorisation, lawyer_licence.")] = None,
    redaction: Annotated[list[str] | None, typer.Option(
        "--redaction", metavar="[CLIP=]SPEC", help="A redaction spec (see 'avledger redact "
        "--help'): that clip is disclosed only redacted. Repeat for more clips; CLIP= may be "
        "left out when the request has one clip.")] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Show the policy's decision; register nothing.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Register a request to view or copy footage; the policy decides at once.

    With --redaction, the clip is viewed or copied only in its redacted version, rendered at
    fulfilment; the approval of the request covers the spec (access.redaction.approval:
    'leader' makes the leader approve every redaction, even when the request needs none).

    Allowed without approval (a handler viewing their own case, Art. 4; a judicial body with
    its documents, Art. 6): approved at once. Needing approval: pending until a leader runs
    'access approve'. Refused by a rule: registered as denied, and the message names every
    article that refused it (exit 5). Every request is in the register.

    Examples:

      avledger access request --category case_handler --case 平环罚〔2026〕12号 --action view
      --purpose "preparing the hearing"

      avledger access request --category judicial --kind court --requester 李法官
      --unit 新华区人民法院 --case 平环罚〔2026〕12号 --action copy
      --purpose "administrative litigation (2026)豫0402行初15号" --documents unit_letter,id_card

      avledger access request --category party_lawyer --requester 王律师 --case 平环罚〔2026〕12号
      --action view --purpose "client's defence"
      --documents unit_letter,id_card,power_of_attorney,authorisation,lawyer_licence
    """
    new = requests_core.NewRequest(
        category=category, action=action, purpose=purpose, documents=tuple(_split(documents)),
        requester=requester, badge=badge, unit=unit, kind=kind, case=case,
        clips=_clip_ids(clip), redactions=tuple(_redaction(r) for r in redaction or []))
    with session() as app_:
        if dry_run:
            data = requests_core.preview(app_, new)
            decision = data["decision"]
            emit(data, as_json, lambda: console.print(
                _("would be {outcome}: {message}").format(
                    outcome=decision["outcome"].replace("_", " "),
                    message=decision["message"])))
            return
        item = requests_core.file_request(app_, new, now=utcnow())
    emit(item, as_json, lambda: _say_request(item))


@app.command("redact")
def redact(
    request_id: IdArg,
    spec: Annotated[str, typer.Argument(metavar="[CLIP=]SPEC", help="The redaction spec file, "
                                        "prefixed by the clip when the request has several.")],
    as_json: JsonOpt = False,
) -> None:
    """Attach a redaction spec to a request not yet fulfilled: that clip is then disclosed
    only redacted. An approval already given by a leader no longer applies: the request is
    pending again until a leader approves it with the spec.

    Example: avledger access redact 7 12=bystanders.yaml
    """
    clip, parsed = _redaction(spec)
    with session() as app_:
        item = requests_core.attach_redaction(app_, request_id, clip, parsed, now=utcnow())
    emit(item, as_json, lambda: console.print(
        _("request {id}: redaction spec attached ({count} clip(s) redacted); status {status}")
        .format(id=item["id"], count=len(item["redactions"]), status=item["status"])))


@app.command("approve")
def approve(
    request_id: IdArg,
    note: Annotated[str, typer.Option("--note", help="A note on the approval.")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Approve a pending request (role leader; not your own, nor one you registered).

    Example: avledger access approve 7 --note "approved; view in the archive room"
    """
    with session() as app_:
        item = requests_core.approve(app_, request_id, note=note, now=utcnow())
    emit(item, as_json, lambda: console.print(
        _("request {id} approved (rule A, {article})").format(id=request_id,
                                                               article=item["article"])))


@app.command("deny")
def deny(
    request_id: IdArg,
    reason: Annotated[str, typer.Option("--reason", help="Why (required; in the register).")],
    as_json: JsonOpt = False,
) -> None:
    """Deny a pending request, or withdraw an approval not yet used (role leader).

    Example: avledger access deny 7 --reason "the case is under state-secret review"
    """
    with session() as app_:
        item = requests_core.deny(app_, request_id, reason=reason, now=utcnow())
    emit(item, as_json, lambda: console.print(
        _("request {id} denied").format(id=request_id)))


@app.command("fulfil")
def fulfil(
    request_id: IdArg,
    player: Annotated[str | None, typer.Option(
        "--player", help="View: the command that plays one clip from its standard input, "
        "e.g. 'mpv --really-quiet -' (default access.player; none: list only).")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Copy: where to make the package (default access.package_dir).")] = None,
    make_zip: Annotated[bool, typer.Option("--zip", help="Copy: also make ACC<n>.zip.")]
    = False,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Carry out an approved request: a read-only viewing, or a copy package.

    View: each clip is opened read-only in the store and given to the player on its standard
    input — no copy is made; start and end are recorded in the ledger and the register.
    Without a player it lists what would be shown and records the viewing the same way.

    Copy: a folder ACC<n> with the clips, MANIFEST.json (BLAKE3 + SHA-256), SHA256SUMS, the
    custody excerpt with inclusion proofs against a signed checkpoint, the cover sheet, and
    VERIFY.txt with verify_ledger.py so a court can check it without avledger.

    Examples:

      avledger access fulfil 7 --player "mpv --really-quiet -"

      avledger access fulfil 8 --out /srv/packages --zip
    """
    with session() as app_:
        tz = app_.config.timezone
        item = requests_core.ready_to_fulfil(app_, request_id)
        copying = item["action"] == "copy"
        target = out or app_.config.path("access.package_dir")
        if dry_run:
            redacted = [r["clip"] for r in item["redactions"]]
            data = {"dry_run": True, "request": request_id, "action": item["action"],
                    "clips": item["clips"], "redacted": redacted,
                    "package": str(target / package_id_for(request_id)) if copying else None}
            emit(data, as_json, lambda: console.print(
                (_("would copy {count} clip(s) for request {id} into {package}") if copying
                 else _("would show {count} clip(s) for request {id}")).format(
                    count=len(item["clips"]), id=request_id, package=data["package"])
                + (_("; clip(s) {clips} only redacted").format(
                    clips=", ".join(map(str, redacted))) if redacted else "")))
            return
        if not copying:
            argv = player_command(app_, player)
            viewing = run_viewing(
                app_, request_id, player=argv, clock=utcnow, player_output=sys.stderr.fileno(),
                announce=lambda c: err_console.print(
                    (_("playing clip {clip}: {path} ({size} bytes)") if argv
                     else _("would play clip {clip}: {path} ({size} bytes)")).format(
                        clip=c["clip"], path=c["source_path"], size=c["size"]),
                    markup=False, highlight=False))
            emit(viewing.as_dict(), as_json, lambda: console.print(
                _("viewing for request {id} recorded: {start} – {end}").format(
                    id=request_id, start=display(viewing.started_at, tz),
                    end=display(viewing.ended_at, tz))
                + ("" if viewing.ok else _("; the player reported an error"))))
            return
        with byte_progress() as progress:
            task = progress.add_task(_("copying clips"), total=requests_core.footage_bytes(
                app_.catalog.conn, item["clips"]))
            made = make_package(app_, request_id, target, now=utcnow(), make_zip=make_zip,
                                progress=lambda n: progress.advance(task, n))
    emit(made.as_dict(), as_json, lambda: console.print(
        _("package {id}: {clips} clip(s), {events} custody event(s), manifest SHA-256 "
          "{digest}").format(id=made.package_id, clips=made.clips, events=made.events,
                             digest=made.manifest_sha256) + f"\n  {made.directory}"
        + (f"\n  {made.zip_path}" if made.zip_path else "")))


def _status_line(item: dict[str, Any], tz: str) -> list[Any]:
    return [item["id"], display(item["requested_at"], tz), item["requester"],
            labels.both(labels.CATEGORIES, item["category"]), item["action"],
            item["case_number"] or "", len(item["clips"]), item["status"], item["article"],
            item["package_id"] or ""]


STATUS_COLUMNS = [N_("no."), N_("registered"), N_("requester"), N_("category"), N_("action"),
                  N_("case"), N_("clips"), N_("status"), N_("article"), N_("package")]


@app.command("list")
def list_(
    status: Annotated[str | None, typer.Option(
        "--status", help="pending, approved, denied or fulfilled (default: all).")] = None,
    category: Annotated[str | None, typer.Option("--category", help="Only this category.")]
    = None,
    as_json: JsonOpt = False,
) -> None:
    """List access requests.

    Examples:

      avledger access list --status pending

      avledger access list --category judicial --json
    """
    with session() as app_:
        rows = requests_core.list_requests(app_.catalog.conn, status=status, category=category)
        tz = app_.config.timezone
    emit(rows, as_json, lambda: console.print(table(
        _("{count} request(s)").format(count=len(rows)), [_(c) for c in STATUS_COLUMNS],
        [_status_line(r, tz) for r in rows])))


@app.command("show")
def show(request_id: IdArg, as_json: JsonOpt = False) -> None:
    """One request: who asked, the decision and article, redaction specs, the viewing or
    package, its events.

    Example: avledger access show 7
    """
    with session() as app_:
        item = requests_core.get_request(app_.catalog.conn, request_id)
        item["events"] = requests_core.history(app_.catalog.conn, request_id)
        tz = app_.config.timezone

    def render() -> None:
        rows = [(_("requester"), f"{item['requester']} {item['requester_unit'] or ''} "
                                 f"{item['requester_badge'] or ''}".strip()),
                (_("category"), labels.both(labels.CATEGORIES, item["category"])
                 + (f" — {item['kind']}" if item["kind"] else "")),
                (_("action"), item["action"]), (_("purpose"), item["purpose"]),
                (_("documents"), labels.documents(item["documents"])),
                (_("case"), item["case_number"] or "—"),
                (_("clips"), " ".join(map(str, item["clips"]))),
                (_("confidentiality"), item["confidentiality"]),
                (_("status"), item["status"]),
                (_("article"), _("rule A, {article}").format(article=item["article"])),
                (_("decided"), f"{display(item['decided_at'], tz)} {item['decided_by'] or ''} "
                               f"{item['decision_note'] or ''}".strip()),
                (_("fulfilled"), f"{display(item['fulfilled_at'], tz)} "
                                 f"{item['fulfilled_by'] or ''}".strip()),
                (_("package"), item["package_id"] or "—")]
        if item["viewing"]:
            v = item["viewing"]
            ended = display(v["ended_at"], tz) or _("(not ended)")
            player = v["player"] or _("(listed only)")
            rows.append((_("viewing"), f"{display(v['started_at'], tz)} – {ended} {player}"))
        for r in item["redactions"]:
            rows.append((_("clip {clip} redacted").format(clip=r["clip"]), "; ".join(
                f"{o['op']} {o['from']:g}-{o['to']:g} s {o['reason_zh']}"
                for o in r["operations"]) + f" (spec {r['spec_blake3'][:16]}…)"))
        console.print(table(_("access request {id}").format(id=request_id), ["", ""], rows))
        console.print(table(_("ledger events"), [_("seq"), _("time"), _("actor"), _("event")],
                            [(e["seq"], display(e["ts"], tz), e["actor"], e["type"])
                             for e in item["events"]]))

    emit(item, as_json, render)


class RegisterFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    md = "md"


@app.command("register")
def register(
    year: Annotated[int | None, typer.Option("--year", min=1970, max=9998,
                                             help="Only requests registered in this "
                                             "calendar year (site zone).")] = None,
    format_: Annotated[RegisterFormat, typer.Option(
        "--format", help="table (terminal), csv, json or md.")] = RegisterFormat.table,
    out_file: Annotated[Path | None, typer.Option(
        "--out", help="Write to this file instead of standard output.")] = None,
) -> None:
    """The access register (查阅登记簿): every request, one line each.

    Columns: no., date, requester, category, documents seen, scope, action, purpose,
    approver, outcome, article, package, viewed from/to, registered by.

    Examples:

      avledger access register --year 2026 --format md --out 查阅登记簿-2026.md

      avledger access register --format csv > register.csv
    """
    with session() as app_:
        rows = register_core.entries(app_.catalog.conn, app_.config, year=year)
        unit = str(app_.config.get("site.unit"))
    if format_ is RegisterFormat.table and out_file is None:
        console.print(table(f"查阅登记簿 access register{f' {year}' if year else ''}: "
                            f"{len(rows)} entries",
                            [register_core.HEADINGS[c] for c in register_core.COLUMNS],
                            [[r[c] for c in register_core.COLUMNS] for r in rows]))
        return
    text = {RegisterFormat.csv: lambda: register_core.to_csv(rows),
            RegisterFormat.json: lambda: register_core.to_json(rows),
            }.get(format_, lambda: register_core.to_markdown(rows, unit=unit, year=year))()
    if out_file is None:
        typer.echo(text, nl=False)
    else:
        out_file.write_text(text, encoding="utf-8")
        err_console.print(_("wrote {count} register entries to {file}").format(
            count=len(rows), file=out_file))


@app.command("policy")
def policy(as_json: JsonOpt = False) -> None:
    """The access policy in force (config section 'access'): who may do what, with what.

    Example: avledger access policy
    """
    with session() as app_:
        data = app_.config.get("access")
        rules = policy_core.Policy.from_config(app_.config)
    if as_json:
        print_json(data)
        return
    console.print(table(_("requester categories (rule A)"), [
        _("category"), _("article"), _("actions"), _("documents (view / copy)"),
        _("leader approval"), _("scope"), _("kinds")], [
        (labels.both(labels.CATEGORIES, c.name), c.article, ", ".join(sorted(c.actions)),
         f"{', '.join(sorted(c.documents['view'])) or '-'} / "
         f"{', '.join(sorted(c.documents['copy'])) or '-'}",
         ", ".join(a for a in ("view", "copy") if c.approval[a] and a in c.actions) or _("no"),
         c.scope, ", ".join(c.kinds)) for c in rules.categories.values()]))
    console.print(table(_("confidential footage (rule A, Art. 10)"), [
        _("level"), _("who may have access"), _("leader approval"), _("except")], [
        (s.level, ", ".join(sorted(s.allowed)) or _("nobody"),
         _("yes") if s.approval else _("no"),
         ", ".join(sorted(s.exempt)) or "-") for s in rules.secrecy.values()]))
