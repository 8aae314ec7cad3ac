"""Options that say what footage is about, shared by 'clips tag', 'checkout' and 'checkin'."""

from __future__ import annotations

from typing import Annotated

import typer

from avledger.core.footage.tagging import Change
from avledger.i18n import _

CategoryOpt = Annotated[str | None, typer.Option(
    "--category", help=_("Enforcement category: 行政检查, 行政处罚 or 行政强制 (or inspection, "
                         "penalty, compulsion)."))]
MatterOpt = Annotated[str | None, typer.Option(
    "--matter", help=_("Enforcement matter (执法事项), in words."))]
StepOpt = Annotated[str | None, typer.Option(
    "--step", help=_("Recording step, a code of footage.checklist (seizure, hearing, "
                     "investigation_record); brings its category and matter."))]
TagOpt = Annotated[list[str] | None, typer.Option(
    "--tag", help=_("A tag (one word); repeat for several."))]


def change(category: str | None, matter: str | None, step: str | None,
           tags: list[str] | None, note: str | None = None) -> Change:
    return Change(category=category, matter=matter, step=step, note=note,
                  add_tags=list(tags or []))
