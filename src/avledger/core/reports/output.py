"""Writing a report in the format asked for.

Making a report changes nothing: the same catalog state gives the same report, with the same
content digest, in every format and language — which is what lets the HTML, the CSV files and
the JSON be checked against one another.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from avledger.core.reports import chromium, i18n, render_html, render_text
from avledger.core.reports.model import Report
from avledger.errors import InputError, StorageError
from avledger.i18n import _

FORMATS = ("html", "md", "csv", "json", "pdf")
TO_STDOUT = ("html", "md", "json")


@dataclass
class Written:
    files: list[Path] = field(default_factory=list)
    stdout: str | None = None  # the text, when no --out was given
    target: Path | None = None  # the file or directory given as --out


def render(report: Report, fmt: str, lang: str, out: Path | None, *,
           chromium_command: str | None = None) -> Written:
    if fmt not in FORMATS:
        raise InputError(_("unknown format {fmt!r} (choose from: {FORMATS})").format(
                             fmt=fmt, FORMATS=', '.join(FORMATS)))
    if lang not in i18n.LANGS:
        raise InputError(_("unknown language {lang!r} (choose from: {LANGS})").format(
                             lang=lang, LANGS=', '.join(i18n.LANGS)))
    if out is None or str(out) == "-":
        if fmt not in TO_STDOUT:
            raise InputError(_("--format {fmt} writes files: give --out {target}").format(
                fmt=fmt, target="DIRECTORY" if fmt == "csv" else "FILE.pdf"))
        return Written(stdout=_text(report, fmt, lang))
    try:
        if fmt == "csv":
            if out.exists() and not out.is_dir():
                raise InputError(_("--out {out} is a file; CSV needs a directory").format(out=out))
            return Written(render_text.write_csv(report, lang, out), target=out)
        out.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "pdf":
            binary = chromium.find(chromium_command)  # fail before any work
            with tempfile.TemporaryDirectory(prefix="avledger-report-") as tmp:
                page = Path(tmp) / "report.html"
                page.write_text(render_html.render(report, lang), encoding="utf-8")
                chromium.print_pdf(page, out, command=binary)
            return Written([out], target=out)
        out.write_text(_text(report, fmt, lang), encoding="utf-8")
        return Written([out], target=out)
    except OSError as exc:
        raise StorageError(_("cannot write {out}: {error}").format(
                               out=out, error=exc.strerror or exc)) from None


def _text(report: Report, fmt: str, lang: str) -> str:
    if fmt == "html":
        return render_html.render(report, lang)
    if fmt == "md":
        return render_text.to_markdown(report, lang)
    return render_text.to_json(report, lang)
