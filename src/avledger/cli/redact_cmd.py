"""``avledger redact CLIP --spec FILE``: render a redaction and keep it as derived evidence."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from avledger.cli.common import DryRunOpt, JsonOpt, console, emit, session, table
from avledger.core.redact import derived
from avledger.core.redact import spec as spec_core
from avledger.core.redact import suggest as suggest_core
from avledger.i18n import _
from avledger.timestamps import utcnow


def redact(
    clip: Annotated[int, typer.Argument(help="Clip id (see 'clips list').")],
    spec: Annotated[Path, typer.Option("--spec", "-s", help="The redaction spec (YAML or JSON).",
                                       exists=False, dir_okay=False)],
    reason: Annotated[str, typer.Option(
        "--reason", "-r", help="Why this redaction is made (e.g. the request it serves).")],
    preview: Annotated[Path | None, typer.Option(
        "--preview", help="Also write the redacted clip here, to look at it.")] = None,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Render a redacted copy of a clip for disclosure; the original is never changed.

    The copy is made with ffmpeg and kept in the store beside its original. The ledger
    records the original's hash, the spec's hash, the redacted hash, the ffmpeg version and
    the full filter graph. The same spec on the same clip is rendered once. With --dry-run,
    the spec is checked and the filter graph shown; nothing is rendered or recorded.

    A spec lists operations on time ranges (seconds from the clip's start), each with the
    reason category of what it protects (个人隐私, 商业秘密, 国家秘密, 其他):

      operations:
        - {op: blur, from: 1, to: 4.5, rect: {x: 40, y: 30, w: 80, h: 60}, reason: 个人隐私}
        - {op: blackout, track: [{t: 0, x: 10, y: 10, w: 60, h: 40},
                                 {t: 3, x: 200, y: 90, w: 60, h: 40}], reason: 商业秘密}
        - {op: blur-frame, from: 5, to: 6, reason: 其他}
        - {op: mute, from: 2, to: 3, reason: 个人隐私}    # or beep
        - {op: cut, from: 9, to: 10, reason: 国家秘密}

    Examples:

      avledger redact 42 --spec bystanders.yaml --reason "for access request 7" --dry-run

      avledger redact 42 --spec bystanders.yaml -r "for request 7" --preview /tmp/42.mp4
    """
    parsed = spec_core.load(spec)
    with session() as app_:
        if dry_run:
            data = derived.plan(app_, clip, parsed)
        else:
            made = derived.make_redaction(app_, clip, parsed, reason=reason, now=utcnow(),
                                          preview=preview)
            data = made.as_dict()

    def render_() -> None:
        ops = [(o["op"], f"{o['from']:g}-{o['to']:g} s", o["reason_zh"],
                _("moving") if o["moving"] else "") for o in data["operations"]]
        console.print(table(_("clip {clip}: {count} operation(s)").format(clip=clip,
                                                                          count=len(ops)),
                            [_("op"), _("range"), _("reason"), ""], ops))
        if dry_run:
            console.print(_("dry run: nothing rendered. spec {spec}").format(
                spec=data["spec_blake3"]) + "\n" + _("filter graph:") + "\n"
                + data["filter_graph"], markup=False)
            return
        console.print(_("redaction {id}: {size} bytes, BLAKE3 {digest}").format(
            id=data["redaction"], size=f"{data['size']:,}", digest=data["blake3"]) + "\n"
            + _("original {digest} (unchanged)").format(digest=data["original_blake3"]) + "\n"
            + _("spec {digest}").format(digest=data["spec_blake3"]) + "\n" + data["ffmpeg"])
        if preview is not None:
            console.print(_("preview written to {path}").format(path=preview))

    emit(data, as_json, render_)



def suggest(
    clip: Annotated[int, typer.Argument(help="Clip id (see 'clips list').")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the draft spec.",
                                      dir_okay=False)],
    as_json: JsonOpt = False,
) -> None:
    """Suggest face boxes to redact, as a draft spec for a person to review (suggestions only).

    SUGGESTIONS ONLY: face boxes (once per second, OpenCV's Haar cascade) written as a
    draft redaction spec for a person to review, correct and complete. Nothing is redacted
    or recorded. Needs the optional extra: pip install 'avledger[suggest]'.

    Example: avledger redact-suggest 42 --out draft.yaml
    """
    with session() as app_:
        found = suggest_core.suggest_for_clip(app_, clip, out)
    emit(found, as_json, lambda: console.print(
        _("clip {clip}: {faces} face box(es) in {seconds} second(s) -> {operations} suggested "
          "blur(s) in {out}. These are suggestions: review every box before using the draft.")
        .format(clip=clip, faces=found["faces"], seconds=found["seconds"],
                operations=found["operations"], out=out)))
