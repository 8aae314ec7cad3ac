"""A report as Markdown, as CSV files (one per table) and as JSON.

The same values as the HTML: Markdown prints them formatted exactly as the HTML does; CSV and
JSON keep numbers unformatted (bytes as bytes, rates as percentages with one decimal).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from avledger.core.custody import receipts
from avledger.core.reports import i18n, text
from avledger.core.reports.model import NUMERIC, Report, Section, Table
from avledger.timestamps import display

# -- Markdown -------------------------------------------------------------------------------

def _md_cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def _md_table(headers: list[str], rows: list[list[str]], right: list[bool]) -> list[str]:
    out = ["| " + " | ".join(_md_cell(h) for h in headers) + " |",
           "|" + "|".join("---:" if r else "---" for r in right) + "|"]
    out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return out


def to_markdown(report: Report, lang: str) -> str:
    meta = report.meta
    covers = "ui.period" if meta.get("period") else "ui.subject"
    lines = [f"# {i18n.t(f'title.{report.kind}', lang)}", "",
             f"**{i18n.t(covers, lang)}:** {i18n.heading(meta, lang)}  ",
             f"**{i18n.t('ui.site', lang)}:** {meta['site_unit']}  ",
             *([f"**{i18n.t('ui.unit', lang)}:** "
                f"{meta['unit'] or i18n.t('ui.all_units', lang)}  "] if meta.get("period")
               else []),
             f"**{i18n.t('ui.generated', lang)}:** "
             f"{display(meta['generated_at'], report.timezone)[:16]}, "
             f"{meta['generated_by']}  ",
             f"**{i18n.t('ui.ledger', lang)}:** "
             + i18n.t("ui.ledger_state", lang, events=f"{meta['ledger']['events']:,}",
                      head=meta["ledger"]["head"][:16] + "…") + "  ",
             f"**{i18n.t('ui.digest', lang)}:** `{meta['digest']}`", "",
             f"_{i18n.t('ui.timezone', lang, tz=report.timezone)}. "
             f"{i18n.t('ui.chart_in_html', lang)}_", ""]
    for n, s in enumerate(report.sections, 1):
        lines += _md_section(n, s, report, lang)
    long = [(s, t) for s in report.sections for t in s.tables if t.in_appendix]
    if long:
        lines += [f"## {i18n.t('ui.appendix', lang)}", ""]
        for s, table in long:
            lines += _md_table_block(s, table, lang, heading=(
                f"{i18n.t(f'section.{s.key}', lang)} — "
                f"{i18n.t(f'table.{s.key}.{table.key}', lang)}"))
    lines += ["---", "", i18n.t("ui.footer", lang), ""]
    cp = meta.get("checkpoint")
    if cp:
        lines += [i18n.t("ui.receipt", lang, size=f"{cp['size']:,}",
                         fp=meta["key_fingerprint"]), "", "```",
                  receipts.embed(cp["note"]).rstrip("\n"), "```", ""]
    return "\n".join(lines)


def _md_section(n: int, s: Section, report: Report, lang: str) -> list[str]:
    lines = [f"## {n}. {i18n.t(f'section.{s.key}', lang)}", "", i18n.t(f"lead.{s.key}", lang),
             ""]
    if s.scope == "site" and report.meta["unit"]:
        lines += [f"_{i18n.t('ui.site_wide', lang)}_", ""]
    if s.figures:
        lines += _md_table([i18n.t("ui.item", lang), i18n.t("ui.value", lang)],
                           [[i18n.t(f"fig.{f.key}", lang), text.value(f.value, f.kind, lang)]
                            for f in s.figures], [False, True])
        lines.append("")
    for note in s.notes:
        lines += [f"> {i18n.t(note.key, lang, **note.params)}", ""]
    for table in s.tables:
        if table.in_appendix:
            lines += [f"### {i18n.t(f'table.{s.key}.{table.key}', lang)}", "",
                      f"_{i18n.t('ui.in_appendix', lang, rows=f'{len(table.rows):,}')}_", ""]
        else:
            lines += _md_table_block(s, table, lang)
    if "checkpoint" in s.texts:
        lines += [f"### {i18n.t('ui.checkpoint', lang)}", "", "```", s.texts["checkpoint"]
                  .rstrip("\n"), "```", ""]
    return lines


def _md_table_block(s: Section, table: Table, lang: str, *,
                    heading: str | None = None) -> list[str]:
    lines = [f"### {heading or i18n.t(f'table.{s.key}.{table.key}', lang)}", ""]
    if not table.rows:
        return lines + [f"_{i18n.none(s.key, lang)}_", ""]
    lines += _md_table([i18n.column(c.key, lang) for c in table.columns],
                       [[text.value(v, c.kind, lang) for c, v in zip(table.columns, row,
                                                                     strict=True)]
                        for row in table.rows],
                       [c.kind in NUMERIC for c in table.columns])
    lines.append("")
    if table.total_rows is not None:
        lines += [f"_{i18n.t('ui.showing', lang, shown=len(table.rows), total=table.total_rows)}_",
                  ""]
    if table.note is not None:
        lines += [f"_{i18n.t(table.note.key, lang, **table.note.params)}_", ""]
    return lines


# -- CSV ------------------------------------------------------------------------------------

def csv_name(section: str, table: str) -> str:
    return f"{section}.{table}.csv"


def write_csv(report: Report, lang: str, out: Path) -> list[Path]:
    """``summary.csv`` (every figure) and one file per table, UTF-8 with a byte-order mark so
    that spreadsheet programs read the Chinese correctly; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def write(name: str, rows: list[list[Any]]) -> None:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(rows)
        path = out / name
        path.write_text(buf.getvalue(), encoding="utf-8-sig")
        written.append(path)

    summary: list[list[Any]] = [[i18n.t("ui.section", lang), i18n.t("ui.key", lang),
                                 i18n.t("ui.item", lang), i18n.t("ui.value", lang)]]
    for s in report.sections:
        for f in s.figures:
            summary.append([s.key, f.key, i18n.t(f"fig.{f.key}", lang),
                            text.raw(f.value, f.kind, lang)])
    write("summary.csv", summary)
    for s in report.sections:
        for table in s.tables:
            rows: list[list[Any]] = [[i18n.column(c.key, lang) for c in table.columns]]
            rows += [[text.raw(v, c.kind, lang) for c, v in zip(table.columns, row, strict=True)]
                     for row in table.rows]
            write(csv_name(s.key, table.key), rows)
        if "checkpoint" in s.texts:
            path = out / f"{s.key}.checkpoint.txt"
            path.write_text(s.texts["checkpoint"], encoding="utf-8")
            written.append(path)
    return written


# -- JSON -----------------------------------------------------------------------------------

def to_json(report: Report, lang: str) -> str:
    data = {
        "report": report.kind, "title": i18n.t(f"title.{report.kind}", lang), "lang": lang,
        "meta": report.meta,
        "sections": [{**s.as_dict(), "title": i18n.t(f"section.{s.key}", lang),
                      "notes": [i18n.t(n.key, lang, **n.params) for n in s.notes]}
                     for s in report.sections],
        **({"evidence": report.evidence} if report.evidence is not None else {}),
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
