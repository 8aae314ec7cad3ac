"""``avledger review sample|record|list``."""

from __future__ import annotations

from enum import StrEnum
from fractions import Fraction
from typing import Annotated, Any

import typer

from avledger.cli.common import DryRunOpt, JsonOpt, console, emit, new_app, session, table
from avledger.core.reports import review_sample as review
from avledger.i18n import _
from avledger.timestamps import display, local, utcnow

app = new_app("The annual footage review (rule B, Art. 17): a reproducible sample, findings.")


class Finding(StrEnum):
    ok = "ok"
    unclear = "unclear"
    incomplete = "incomplete"
    no_announcement = "no-announcement"
    other = "other"


YearOpt = Annotated[int | None, typer.Option(
    "--year", min=1970, max=9998, help="Calendar year of the footage; default: last year.")]
UnitOpt = Annotated[str | None, typer.Option(
    "--unit", help="Only footage of this unit (see 'avledger report').")]


def _year(app_: Any, year: int | None) -> int:
    return year if year is not None else local(utcnow(), app_.config.timezone).year - 1


@app.command("sample")
def sample(
    year: YearOpt = None,
    rate: Annotated[str | None, typer.Option(
        "--rate", help="Share of the year's clips: 5%, 0.05 or 1/20 (default: "
                       "reports.review_rate_percent).")] = None,
    seed: Annotated[str | None, typer.Option(
        "--seed", help="Any text; the same seed gives the same sample. Default: a random seed, "
                       "printed and recorded.")] = None,
    unit: UnitOpt = None,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Draw the review sample of a year's footage and record it (seed included) in the ledger.

    The sample is reproducible: the same seed over the same footage gives the same clips, a
    higher rate with the same seed a superset. Every draw is recorded, so redraws show.
    Roles: leader, records_manager or auditor.

    Examples:

      avledger review sample --year 2026 --rate 5% --seed 2027-01-05-leadership-meeting

      avledger review sample --year 2026 --rate 5% --seed abc --dry-run --json
    """
    with session() as app_:
        chosen = review.parse_rate(rate) if rate else Fraction(
            str(app_.config.get("reports.review_rate_percent"))) / 100
        result = review.draw_sample(app_, year=_year(app_, year), rate=chosen, seed=seed,
                                    unit=unit, dry_run=dry_run)

    def render() -> None:
        said = (_("would draw {count} of {population} clips of {year}{unit} (rate {rate}%, seed "
                  "{seed}, {scheme})") if dry_run
                else _("sample {id} drew {count} of {population} clips of {year}{unit} (rate "
                       "{rate}%, seed {seed}, {scheme})"))
        console.print(said.format(id=result.get("id"), count=len(result["clips"]),
                                  population=result["population_size"], year=result["year"],
                                  unit=_(" in {unit}").format(unit=unit) if unit else "",
                                  rate=f"{result['rate_percent']:g}", seed=repr(result["seed"]),
                                  scheme=result["scheme"]), markup=False, highlight=False)
        console.print(_("population SHA-256 {digest}").format(
            digest=result["population_sha256"]))
        ids = result["clips"]
        console.print(_("clips: {clips}").format(clips=" ".join(str(c) for c in ids[:200]))
                      + (_(" … (+{more}; --json lists all)").format(more=len(ids) - 200)
                         if len(ids) > 200 else ""))
        if not dry_run:
            console.print(_("record findings with: {command}").format(
                command="avledger review record CLIP --finding ok|unclear|incomplete|"
                        "no-announcement|other --note TEXT"))

    emit(result, as_json, render)


@app.command("record")
def record(
    clip: Annotated[int, typer.Argument(help="Clip number.")],
    finding: Annotated[Finding, typer.Option(
        "--finding", help="ok, unclear (picture or sound), incomplete (place, time, scene, "
                          "people, acts or evidence missing: Art. 10), no-announcement (the "
                          "party was not told: Art. 9), other.")],
    note: Annotated[str, typer.Option(
        "--note", help="What the reviewer saw; required unless the finding is ok.")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Record a review finding about a clip (rule B, Arts. 9-11). The latest finding counts;
    earlier ones stay on record. Nobody reviews their own footage.

    Examples:

      avledger review record 81234 --finding ok

      avledger review record 81240 --finding no-announcement --note "no statement at start"
    """
    with session() as app_:
        result = review.record_finding(app_, clip, finding.value, note)
    emit(result, as_json, lambda: console.print(
        _("clip {clip}: {finding}").format(clip=clip, finding=result["finding"])
        + (_(" (sample {sample})").format(sample=result["sample"]) if result["sample"]
           else _(" (not in a sample)"))
        + _(", ledger event {event}").format(event=result["event"]), markup=False,
        highlight=False))


@app.command("list")
def list_(
    year: YearOpt = None,
    unit: UnitOpt = None,
    pending: Annotated[bool, typer.Option(
        "--pending", help="Only clips not reviewed yet.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """The year's latest review sample, clip by clip, with each clip's latest finding.

    Examples:

      avledger review list --year 2026 --pending

      avledger review list --year 2026 --json
    """
    with session() as app_:
        data = review.listing(app_, _year(app_, year), unit=unit, pending=pending)
        tz = app_.config.timezone

    def render() -> None:
        s = data["sample"]
        console.print(_("sample {id} of {year}: seed {seed}, rate {rate}, {population} clips in "
                        "the year; drawn {time} by {who}").format(
                            id=s["id"], year=s["year"], seed=repr(s["seed"]), rate=s["rate"],
                            population=s["population_size"], time=display(s["drawn_at"], tz),
                            who=s["drawn_by"]), markup=False, highlight=False)
        rows = [(i["position"], i["clip"], i["recorded"], i["device"], i["badge"] or "-",
                 f"{(i['duration_seconds'] or 0) / 60:.1f}", i["finding"] or "-",
                 i["note"] or "") for i in data["clips"]]
        console.print(table(None, ["#", _("clip"), _("recorded"), _("recorder"), _("badge"),
                                   _("minutes"), _("finding"), _("note")], rows))

    emit(data, as_json, render)
