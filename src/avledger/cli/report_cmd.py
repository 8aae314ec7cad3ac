"""``avledger report annual|compliance|usage|clocks``."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn

from avledger.cli.common import err_console, load_config, new_app, session
from avledger.core.reports import chromium, output
from avledger.core.reports.build import build_report
from avledger.core.reports.period import Period
from avledger.i18n import _
from avledger.timestamps import local, utcnow

app = new_app("Reports for supervisors: the annual review (Art. 17) and monthly checks.")


class Format(StrEnum):
    html = "html"
    md = "md"
    csv = "csv"
    json = "json"
    pdf = "pdf"


class Lang(StrEnum):
    en = "en"
    zh = "zh"


UnitOpt = Annotated[str | None, typer.Option(
    "--unit", help="Only this unit's officers and recorders (roster / registry unit).")]
FormatOpt = Annotated[Format, typer.Option(
    "--format", "-f", help="html (self-contained page), md, csv (a directory of tables), json, "
                           "or pdf (printed by headless chromium).")]
LangOpt = Annotated[Lang | None, typer.Option(
    "--lang", help="Labels in English (en) or Chinese (zh); default reports.lang.")]
OutOpt = Annotated[Path | None, typer.Option(
    "--out", "-o", help="File to write (a directory for csv). html, md and json go to "
                        "standard output without it.")]
DATE = ["%Y-%m-%d"]
FromOpt = Annotated[datetime | None, typer.Option(
    "--from", formats=DATE, help="First day (site time zone); default: first of last month.")]
ToOpt = Annotated[datetime | None, typer.Option(
    "--to", formats=DATE, help="Last day, inclusive; default: end of last month.")]


def _produce(kind: str, period: Period, unit: str | None, fmt: Format, lang: Lang | None,
             out: Path | None) -> None:
    with session() as app_:
        language = (lang.value if lang else str(app_.config.get("reports.lang")))
        command = str(app_.config.get("reports.chromium"))
        if fmt is Format.pdf:
            chromium.find(command)  # say so before the work, not after
        with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"),
                      console=err_console, disable=not err_console.is_terminal,
                      transient=True) as progress:
            task = progress.add_task(_("{kind} report").format(kind=kind), total=None)
            report = build_report(app_, kind, period, unit=unit, progress=lambda key: (
                progress.update(task, description=_("{kind} report: {part}").format(
                    kind=kind, part=key))))
            progress.update(task, description=_("{kind} report: writing {format}").format(
                kind=kind, format=fmt.value))
            written = output.render(report, fmt.value, language, out, chromium_command=command)
    if written.stdout is not None:
        typer.echo(written.stdout, nl=False)
    else:
        what = (f"{len(written.files)} files in {out}" if fmt is Format.csv else str(out))
        err_console.print(_("{kind} report {period} ({format}, {language}) written to {what}")
                          .format(kind=kind, period=period.label, format=fmt.value,
                                  language=language, what=what), markup=False, highlight=False)


@app.command("annual")
def annual(
    year: Annotated[int | None, typer.Option(
        "--year", min=1970, max=9998, help="Calendar year (site time zone); default: last "
                                           "year.")] = None,
    unit: UnitOpt = None,
    fmt: FormatOpt = Format.html,
    lang: LangOpt = None,
    out: OutOpt = None,
) -> None:
    """The annual review of the footage (rule B, Art. 17).

    Footage, the 24-hour window, clocks, the usage ledger, retention and archive discs, the
    access register, integrity, and the review sample with its findings.

    Examples:

      avledger report annual --year 2026 --out annual-2026.html

      avledger report annual --year 2026 --lang zh --format pdf --out 年度检查-2026.pdf

      avledger report annual --year 2026 --format csv --out annual-2026/
    """
    tz = load_config().timezone
    chosen = year if year is not None else local(utcnow(), tz).year - 1
    _produce("annual", Period.year(chosen, tz), unit, fmt, lang, out)


def _period_command(kind: str, help: str) -> None:
    def command(
        start: FromOpt = None, end: ToOpt = None, unit: UnitOpt = None,
        fmt: FormatOpt = Format.html, lang: LangOpt = None, out: OutOpt = None,
    ) -> None:
        tz = load_config().timezone
        period = _period(start.date() if start else None, end.date() if end else None, tz)
        _produce(kind, period, unit, fmt, lang, out)

    app.command(kind, help=help)(command)


def _period(first: date | None, last: date | None, tz: str) -> Period:
    today = local(utcnow(), tz).date()
    if first is None and last is None:
        return Period.previous_month(today, tz)
    if first is None:
        assert last is not None
        first = last.replace(day=1)
    if last is None:
        last = today
    return Period.span(first, last, tz)


_period_command("compliance", help=(
    "Compliance with the rules: the 24-hour window, the usage ledger and gap records, clocks, "
    "retention, the access register and integrity for a period (default: last calendar "
    "month).\n\n"
    "Examples:\n\n  avledger report compliance --from 2026-11-01 --to 2026-11-30\n\n"
    "  avledger report compliance --lang zh --format pdf --out compliance-2026-11.pdf"))
_period_command("usage", help=(
    "Footage and the usage ledger (台账): checkouts, footage without a checkout, gap records "
    "for a period (default: last calendar month).\n\n"
    "Examples:\n\n  avledger report usage --from 2026-11-01 --to 2026-11-30\n\n"
    "  avledger report usage --lang zh --format pdf --out usage-2026-11.pdf"))
_period_command("clocks", help=(
    "Recorder clocks: drift found at docking, resets, syncs, recorders out of tolerance for a "
    "period (default: last calendar month).\n\n"
    "Examples:\n\n  avledger report clocks --from 2026-11-01 --to 2026-11-30\n\n"
    "  avledger report clocks --lang zh --format pdf --out clocks-2026-11.pdf"))
