"""``avledger package verify``: check a copy package as a court would, plus the catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from avledger.cli.common import JsonOpt, console, emit, new_app, session, table
from avledger.core.access.package_check import check_package
from avledger.errors import IntegrityError
from avledger.i18n import _

app = new_app("Copy packages made by 'access fulfil' (rule A).")


@app.command("verify")
def verify(
    source: Annotated[Path, typer.Argument(help="The package folder (ACC0007) or its zip.")],
    as_json: JsonOpt = False,
) -> None:
    """Check a copy package: every file, every custody event and its proof, the signature.

    The same checks as 'python3 verify_ledger.py --package DIR' (the same code), insisting on
    this installation's ledger key; a package made here must also carry the manifest the
    catalog recorded. Names every bad file or line; exits 6 when anything is wrong.

    Example: avledger package verify /srv/packages/ACC0007
    """
    with session() as app_:
        report = check_package(source, public_key=app_.public_key(), conn=app_.catalog.conn)

    def render() -> None:
        for line in report.info:
            console.print(line, markup=False, highlight=False)
        if report.problems:
            console.print(table(_("{count} problem(s)").format(count=len(report.problems)),
                                [_("where: what")], [(p,) for p in report.problems]))
        else:
            console.print("[green]" + _("OK") + "[/]"
                          + _(": every file matches, every custody event is proved against the "
                              "signed checkpoint"))

    emit(report.as_dict(), as_json, render)
    if not report.ok:
        raise IntegrityError(_("package {source} failed verification: {problem}").format(
            source=source, problem=report.problems[0]))
