"""``avledger case decide|review|reviews``: proposed decisions and their legal review."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from avledger.cli.common import JsonOpt, console, emit, session, table
from avledger.core.cases import legal_review
from avledger.core.cases.decisions import Kind, Outcome, Party, list_reviews, yuan_text
from avledger.i18n import _
from avledger.timestamps import display, utcnow

NumberArg = Annotated[str, typer.Argument(metavar="CASE",
                                          help="Case number, e.g. 平环罚〔2026〕12号.")]


def decide(
    number: NumberArg,
    kind: Annotated[Kind, typer.Option("--kind", help="Kind of decision: penalties are judged "
                                       "by amount, every compulsion is reviewed.")],
    amount: Annotated[str | None, typer.Option(
        "--amount", metavar="YUAN", help="Amount in yuan: 10000, 10,000 or 9999.50 (at most "
        "two decimals). Required for a penalty.")] = None,
    party: Annotated[Party | None, typer.Option(
        "--party", help="Who the decision is about: citizen or organisation. Required for a "
        "penalty.")] = None,
    note: Annotated[str, typer.Option("--note", help="What is decided, in a few words.")] = "",
    step: Annotated[str | None, typer.Option(
        "--step", help=_("The recording step this decision calls for (footage.checklist, "
                         "e.g. seizure for sealing or seizure): the case must then have a "
                         "clip of that step ('case check')."))] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record the decision a case is heading for (its handler, or a records manager).

    A penalty of at least decisions.citizen_threshold_yuan (10,000) on a citizen or
    decisions.organisation_threshold_yuan (100,000) on an organisation, and every compulsion,
    needs legal review (Annex 2): the decision is flagged, a review is opened, and a
    'legal-review' hold keeps the case's footage until 'case review' ends it.

    Examples:

      avledger case decide 平环罚〔2026〕12号 --kind penalty --amount 10,000 --party citizen
      --note "fine for unlicensed discharge"

      avledger case decide 平环强〔2026〕3号 --kind compulsion --party organisation
      --note "seal the discharge outlet" --step seizure
    """
    with session() as app_:
        result = legal_review.record_decision(
            app_, number, kind=kind, amount=amount, party=party, note=note, now=utcnow(),
            step=step)

    def render() -> None:
        what = legal_review.describe(result["kind"], result["amount"], result["party"])
        console.print(_("recorded decision {id} on case {case}: {what}").format(
            id=result["id"], case=escape(result["case_number"]), what=what))
        if not result["review_required"]:
            console.print(_("no legal review needed: {reason}").format(
                reason=result["review_reason"]))
            return
        hold = result["hold"]
        console.print("[bold]" + _("legal review required") + "[/]"
                      + _(": {reason}").format(reason=result["review_reason"]))
        console.print(_("hold {id} (legal-review) keeps the case's {count} clip(s) until the "
                        "review ends: {command}").format(
                            id=hold["id"], count=hold["clip_count"],
                            command=f"avledger case review {escape(result['case_number'])} "
                                    "--outcome approved|returned --note …"))

    emit(result, as_json, render)


def review(
    number: NumberArg,
    outcome: Annotated[Outcome, typer.Option(
        "--outcome", help="approved: the decision may be made; returned: it goes back to the "
        "handler.")],
    note: Annotated[str, typer.Option("--note", help="What was checked, or why it goes "
                                      "back.")],
    decision: Annotated[int | None, typer.Option(
        "--decision", help="Decision number, when the case has several awaiting review.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Close the legal review of a case's decision (role legal_reviewer).

    Neither a handler of the case nor the person who recorded the decision may review it.
    Either outcome releases the decision's legal-review hold; after 'returned' a new
    decision may be recorded with 'case decide' (and is flagged again when it needs review).

    Examples:

      avledger case review 平环罚〔2026〕12号 --outcome approved --note "facts clear, footage
      of 3 May sufficient"

      avledger case review 平环罚〔2026〕12号 --outcome returned --note "amount not
      supported by the sampling report"
    """
    with session() as app_:
        result = legal_review.review_decision(app_, number, outcome=outcome, note=note,
                                              now=utcnow(), decision_id=decision)

    def render() -> None:
        rev, hold = result["review"], result["hold"]
        what = legal_review.describe(result["kind"], result["amount"], result["party"])
        console.print(_("legal review {review} of decision {id} ({what}) on case {case}: "
                        "{outcome} by {who}").format(
                            review=rev["id"], id=result["id"], what=what,
                            case=escape(result["case_number"]), outcome=rev["outcome"],
                            who=rev["reviewed_by"]))
        console.print(_("hold {id} released; the case's {count} clip(s) follow the retention "
                        "rules again").format(id=hold["id"], count=hold["clip_count"]))
        if rev["outcome"] == Outcome.returned:
            console.print(_("the decision goes back to the handler; record the new one with "
                            "{command}").format(
                command=f"'avledger case decide {escape(result['case_number'])} …'"))

    emit(result, as_json, render)


def reviews(
    open_only: Annotated[bool, typer.Option("--open", help="Only reviews still open.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List legal reviews, oldest first, with their age in days.

    The age of an open review counts from when its decision was flagged to now; of a closed
    one, to when it was closed.

    Examples:

      avledger case reviews --open

      avledger case reviews --json
    """
    with session() as app_:
        rows = list_reviews(app_.catalog.conn, utcnow(), open_only=open_only)
        tz = app_.config.timezone
    title = (_("{count} open legal review(s), times in {tz}") if open_only
             else _("{count} legal review(s), times in {tz}")).format(count=len(rows), tz=tz)
    emit(rows, as_json, lambda: console.print(table(
        title, [_("review"), _("case"), _("decision"), _("flagged"), _("by"), _("age (days)"),
                _("state"), _("reviewed by")],
        [(r["id"], r["case_number"],
          f"{r['decision_id']}: {legal_review.describe(r['kind'], r['amount'], r['party'])}",
          display(r["flagged_at"], tz), r["flagged_by"], r["age_days"],
          _("open") if r["open"] else r["outcome"], r["reviewed_by"] or "") for r in rows])))


def review_state(decision: dict[str, Any], tz: str) -> str:
    """How 'case show' sums up a decision's legal review in one cell."""
    rev = decision["review"]
    if rev is None:
        return _("not required")
    if rev["open"]:
        return _("open for {days} day(s) (review {id}, hold {hold})").format(
            days=rev["age_days"], id=rev["id"], hold=rev["hold_id"])
    return _("{outcome} {time} by {who}").format(outcome=rev["outcome"],
                                                 time=display(rev["reviewed_at"], tz),
                                                 who=rev["reviewed_by"])


def decisions_table(decisions: list[dict[str, Any]], tz: str) -> Any:
    return table(_("decisions"), [_("decision"), _("kind"), _("amount (yuan)"), _("party"),
                                  _("recorded"), _("by"), _("legal review"), _("note")],
                 [(d["id"], d["kind"], yuan_text(d["amount"]), d["party"] or "-",
                   display(d["decided_at"], tz), d["decided_by"], review_state(d, tz), d["note"])
                  for d in decisions])


def add_case_commands(case_app: typer.Typer) -> None:
    """'case decide', 'case review' and 'case reviews' belong to the case group."""
    case_app.command("decide")(decide)
    case_app.command("review")(review)
    case_app.command("reviews")(reviews)
