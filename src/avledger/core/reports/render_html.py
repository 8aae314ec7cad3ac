"""A report as one self-contained HTML page: inline CSS and SVG, no scripts, no network.

Made to be read on screen and printed: a cover block, a table of contents, one section per
page in print, figures as a grid of numbers, each chart above the table it is drawn from.
Every number carries ``data-figure``/``data-col`` attributes naming what it is.
"""

from __future__ import annotations

from html import escape
from typing import Any

from avledger.core.custody import receipts
from avledger.core.reports import i18n, svg, text
from avledger.core.reports.model import NUMERIC, Chart, Report, Section, Table
from avledger.timestamps import display

FONTS_LATIN = ('"Noto Sans", "Segoe UI", Roboto, "Helvetica Neue", Arial, "DejaVu Sans", '
               '"Noto Sans CJK SC", "WenQuanYi Zen Hei", sans-serif')
FONTS_CJK = ('"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei", '
             '"PingFang SC", "Microsoft YaHei", "Noto Sans", Arial, sans-serif')
MONO = '"DejaVu Sans Mono", "Noto Sans Mono", Menlo, Consolas, monospace'

CSS = """
:root { --ink: #1f2933; --muted: #5f6b7a; --rule: #d9dee4; --accent: #2b6cb0;
        --band: #f4f6f8; }
* { box-sizing: border-box; }
html { font-size: 15px; }
body { font-family: FONTS; color: var(--ink); margin: 0; line-height: 1.55;
       -webkit-print-color-adjust: exact; print-color-adjust: exact; }
.page { max-width: 980px; margin: 0 auto; padding: 32px 40px 48px; }
h1 { font-size: 1.9rem; line-height: 1.25; margin: .2rem 0 .4rem; letter-spacing: .01em; }
h2 { font-size: 1.35rem; margin: 2.6rem 0 .4rem; padding-bottom: .3rem;
     border-bottom: 2px solid var(--accent); }
h2 .num { color: var(--accent); margin-right: .5rem; }
h3 { font-size: 1.02rem; margin: 1.6rem 0 .5rem; }
p { margin: .4rem 0; }
.kicker { color: var(--muted); font-size: .95rem; margin: 0; }
.period { font-size: 1.25rem; margin: 0 0 1rem; }
.cover { border-bottom: 1px solid var(--rule); padding-bottom: 1rem; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1.2rem;
          font-size: .86rem; margin: .6rem 0 0; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
.mono, code, pre { font-family: MONOFONT; font-size: .82rem; }
nav.toc { margin: 1.4rem 0 0; }
nav.toc h2 { border: 0; margin: 0 0 .3rem; font-size: 1.1rem; }
nav.toc ol { margin: 0; padding-left: 1.4rem; columns: 2; column-gap: 2.5rem; }
nav.toc li.appendix { list-style: none; margin-left: -1.4rem; }
nav.toc a { color: var(--ink); text-decoration: none; }
nav.toc a:hover { text-decoration: underline; }
.lead { color: #3a4654; max-width: 46rem; }
.scope { color: var(--muted); font-size: .86rem; font-style: italic; }
dl.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(165px, 1fr));
             gap: .6rem; margin: 1rem 0 .6rem; }
dl.figures div { background: var(--band); border-left: 3px solid var(--accent);
                 padding: .45rem .65rem .5rem; break-inside: avoid; }
dl.figures dt { font-size: .78rem; color: var(--muted); line-height: 1.3; }
dl.figures dd { margin: .15rem 0 0; font-size: 1.28rem; font-weight: 600;
                font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
dl.figures dd.mono { font-size: .95rem; font-weight: 500; }
dl.figures dd.time { font-size: 1.02rem; }
table.short { break-inside: avoid; }
figure.chart { margin: 1rem 0 .4rem; break-inside: avoid; }
figure.chart figcaption { font-size: .88rem; font-weight: 600; margin-bottom: .2rem; }
svg.chart { width: 100%; max-width: 720px; height: auto; display: block; }
table { border-collapse: collapse; width: 100%; font-size: .84rem; margin: .3rem 0 .4rem; }
table.long { font-size: .78rem; }
th, td { padding: .28rem .5rem; text-align: left; vertical-align: top;
         border-bottom: 1px solid var(--rule); }
th { border-bottom: 1.5px solid var(--ink); font-weight: 600; background: #fff; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.t { white-space: nowrap; }
td.mono { overflow-wrap: anywhere; word-break: break-all; }
td[data-col="event"], td[data-col="subject"], td[data-col="what"] { white-space: nowrap;
  word-break: normal; }
td[data-col="details"] { overflow-wrap: anywhere; font-size: .74rem; }
tbody tr:nth-child(even) td { background: #fafbfc; }
.note { color: var(--muted); font-size: .82rem; margin: .2rem 0 .8rem; }
.empty { color: var(--muted); font-style: italic; }
.unavailable { background: #fff8e6; border-left: 3px solid #dd8a26; padding: .6rem .8rem; }
pre.signed { background: var(--band); padding: .7rem .9rem; white-space: pre-wrap;
             overflow-wrap: anywhere; border: 1px solid var(--rule); }
footer { margin-top: 3rem; padding-top: .6rem; border-top: 1px solid var(--rule);
         color: var(--muted); font-size: .8rem; }
@page { size: A4; margin: 15mm 14mm 16mm;
        @bottom-left { content: "RUNNING"; font-size: 8pt; color: #5f6b7a; }
        @bottom-right { content: counter(page) " / " counter(pages); font-size: 8pt;
                        color: #5f6b7a; } }
@media print {
  html { font-size: 10.5pt; }
  .page { max-width: none; padding: 0; }
  section.report-section { break-before: page; }
  .kind-custody section.report-section { break-before: auto; }
  h2, h3 { break-after: avoid; }
  table { break-inside: auto; }
  tr, dl.figures div { break-inside: avoid; }
  thead { display: table-header-group; }
  nav.toc a::after { content: ""; }
  a { color: inherit; text-decoration: none; }
}
"""



def render(report: Report, lang: str) -> str:
    meta = report.meta
    title = i18n.t(f"title.{report.kind}", lang)
    period = i18n.heading(meta, lang)
    fonts = FONTS_CJK if lang == "zh" else FONTS_LATIN
    running = f"{meta['site_unit']} · {title} · {period}"
    css = (CSS.replace("MONOFONT", MONO).replace("FONTS", fonts)
           .replace("RUNNING", _css_string(running)))
    sections = report.sections
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}">',
        '<head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)} · {escape(period)}</title>",
        f"<style>{css}</style></head>",
        f'<body class="kind-{report.kind}"><div class="page">',
        _cover(report, lang, title, period),
        _toc(sections, lang, bool(_long_tables(sections))),
        "<main>",
        *(_section(n, s, report, lang) for n, s in enumerate(sections, 1)),
        _appendix(sections, lang),
        "</main>",
        f'<footer>{escape(i18n.t("ui.footer", lang))} '
        f'{escape(i18n.t("ui.digest", lang))}: <span class="mono">{meta["digest"]}</span>'
        f"{_receipt(meta, lang)}</footer>",
        "</div></body></html>",
    ]
    return "\n".join(parts) + "\n"


def _receipt(meta: dict[str, Any], lang: str) -> str:
    """The checkpoint the report was made under, as a reader and ``--against`` see it."""
    cp = meta.get("checkpoint")
    if not cp:
        return ""
    text = i18n.t("ui.receipt", lang, size=f"{cp['size']:,}", fp=meta["key_fingerprint"])
    return (f'<p>{escape(text)}</p><pre class="signed receipt">'
            f"{escape(receipts.embed(cp['note']))}</pre>")


def _css_string(text: str) -> str:
    """Text for inside a double-quoted CSS string (the page footer)."""
    return "".join(f"\\{ord(ch):x} " if ch in '"\\<>' or ord(ch) < 32 else ch for ch in text)


def _cover(report: Report, lang: str, title: str, period: str) -> str:
    meta = report.meta
    ledger = meta["ledger"]
    rows = [
        ("ui.unit", escape(meta["unit"] or i18n.t("ui.all_units", lang))),
        ("ui.generated", escape(_local(meta["generated_at"], report.timezone))),
        ("ui.generated_by", escape(meta["generated_by"])),
        ("ui.ledger", escape(i18n.t("ui.ledger_state", lang, events=f"{ledger['events']:,}",
                                    head=ledger["head"][:16] + "…"))),
        ("ui.digest", f'<span class="mono">{meta["digest"]}</span>'),
    ]
    if not meta.get("period"):
        rows = rows[1:]  # a custody report is about one clip, not a unit's footage
    body = "".join(f"<dt>{escape(i18n.t(k, lang))}</dt><dd>{v}</dd>" for k, v in rows)
    tz = escape(i18n.t("ui.timezone", lang, tz=report.timezone))
    return (f'<header class="cover"><p class="kicker">{escape(meta["site_unit"])} · '
            f'{escape(i18n.subtitle(report.kind, lang))}</p>'
            f"<h1>{escape(title)}</h1>"
            f'<p class="period">{escape(period)}</p>'
            f'<dl class="meta">{body}</dl><p class="note">{tz}</p></header>')


def _local(stamp: str, tz: str) -> str:
    return display(stamp, tz)[:16]


def _long_tables(sections: list[Section]) -> list[tuple[Section, Table]]:
    return [(s, t) for s in sections for t in s.tables if t.in_appendix]


def _appendix_id(s: Section, table: Table) -> str:
    return f"a-{s.key}-{table.key}"


def _toc(sections: list[Section], lang: str, appendix: bool) -> str:
    items = "".join(f'<li><a href="#s-{s.key}">{escape(i18n.t(f"section.{s.key}", lang))}</a>'
                    "</li>" for s in sections)
    if appendix:
        items += (f'<li class="appendix"><a href="#appendix">'
                  f'{escape(i18n.t("ui.appendix", lang))}</a></li>')
    return (f'<nav class="toc"><h2>{escape(i18n.t("ui.contents", lang))}</h2>'
            f"<ol>{items}</ol></nav>")


def _section(n: int, s: Section, report: Report, lang: str) -> str:
    out = [f'<section class="report-section" id="s-{s.key}">',
           f'<h2><span class="num">{n}</span>{escape(i18n.t(f"section.{s.key}", lang))}</h2>',
           f'<p class="lead">{escape(i18n.t(f"lead.{s.key}", lang))}</p>']
    if s.scope == "site" and report.meta["unit"]:
        out.append(f'<p class="scope">{escape(i18n.t("ui.site_wide", lang))}</p>')
    if not s.available:
        out += [f'<p class="unavailable">{escape(_note(n_, lang))}</p>' for n_ in s.notes]
        out.append("</section>")
        return "\n".join(out)
    if s.figures:
        out.append('<dl class="figures">' + "".join(
            f'<div><dt>{escape(i18n.t(f"fig.{f.key}", lang))}</dt>'
            f'<dd class="{f.kind}" data-figure="{s.key}.{f.key}">'
            f"{escape(text.value(f.value, f.kind, lang))}</dd></div>" for f in s.figures)
            + "</dl>")
    for note in s.notes:
        out.append(f'<p class="note">{escape(_note(note, lang))}</p>')
    for table in s.tables:
        for chart in (c for c in s.charts if c.table == table.key):
            out.append(_chart(s, chart, table, lang))
        if table.in_appendix:
            out.append(f'<h3>{escape(i18n.t(f"table.{s.key}.{table.key}", lang))}</h3>'
                       f'<p class="note"><a href="#{_appendix_id(s, table)}">'
                       + escape(i18n.t("ui.in_appendix", lang, rows=f"{len(table.rows):,}"))
                       + "</a></p>")
        else:
            out.append(_table(s, table, lang))
    if "checkpoint" in s.texts:
        out.append(f'<h3>{escape(i18n.t("ui.checkpoint", lang))}</h3>'
                   f'<pre class="signed">{escape(s.texts["checkpoint"])}</pre>')
    out.append("</section>")
    return "\n".join(out)


def _appendix(sections: list[Section], lang: str) -> str:
    tables = _long_tables(sections)
    if not tables:
        return ""
    out = ['<section class="report-section" id="appendix">',
           f'<h2>{escape(i18n.t("ui.appendix", lang))}</h2>']
    for s, table in tables:
        heading = (f'{i18n.t(f"section.{s.key}", lang)} — '
                   f'{i18n.t(f"table.{s.key}.{table.key}", lang)}')
        out.append(f'<div id="{_appendix_id(s, table)}">'
                   + _table(s, table, lang, heading=heading) + "</div>")
    out.append("</section>")
    return "\n".join(out)


def _note(note: Any, lang: str) -> str:
    return i18n.t(note.key, lang, **note.params)


def _chart(s: Section, chart: Chart, table: Table, lang: str) -> str:
    rows = table.rows[: chart.limit] if chart.limit else table.rows
    keys = [c.key for c in table.columns]
    kinds = {c.key: c.kind for c in table.columns}
    label_cols = chart.labels or (chart.x,)

    def label(row: list[Any]) -> str:
        parts = [text.value(row[keys.index(c)], kinds[c], lang) for c in label_cols]
        return " ".join(p for p in parts if p and p != text.DASH) or text.DASH

    cats = [label(r) for r in rows]
    series = [(i18n.column(y, lang), [r[keys.index(y)] for r in rows]) for y in chart.ys]
    ykind = kinds[chart.ys[0]]

    def fmt(v: float) -> str:
        return text.value(v, ykind if ykind != "bytes" else "int", lang)

    title = i18n.t(f"chart.{s.key}.{chart.key}", lang)
    if chart.kind == "hbar":
        drawing = svg.hbar(title, cats, series[0][1], fmt=fmt, percent=chart.percent)
    elif chart.kind == "line":
        drawing = svg.line(title, cats, series, fmt=fmt, percent=chart.percent)
    else:
        drawing = svg.bar(title, cats, series, fmt=fmt, percent=chart.percent,
                          touching=chart.kind == "hist")
    return (f'<figure class="chart" data-chart="{s.key}.{chart.key}">'
            f"<figcaption>{escape(title)}</figcaption>{drawing}</figure>")


def _table(s: Section, table: Table, lang: str, *, heading: str | None = None) -> str:
    title = escape(heading or i18n.t(f"table.{s.key}.{table.key}", lang))
    if not table.rows:
        return f'<h3>{title}</h3><p class="empty">{escape(i18n.none(s.key, lang))}</p>'
    head = "".join(f'<th class="{"n" if c.kind in NUMERIC else ""}">'
                   f"{escape(i18n.column(c.key, lang))}</th>" for c in table.columns)
    body = []
    for row in table.rows:
        cells = []
        for col, v in zip(table.columns, row, strict=True):
            cls = "n" if col.kind in NUMERIC else ("t" if col.kind == "time" else
                                                   "mono" if col.kind == "mono" else "")
            cells.append(f'<td class="{cls}" data-col="{col.key}">'
                         f"{escape(text.value(v, col.kind, lang))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    long = (' class="long"' if len(table.rows) > 25 else
            ' class="short"' if len(table.rows) <= 15 else "")
    out = (f"<h3>{title}</h3><table{long} data-table=\"{s.key}.{table.key}\"><thead><tr>{head}"
           f"</tr></thead><tbody>{''.join(body)}</tbody></table>")
    notes = []
    if table.total_rows is not None:
        notes.append(i18n.t("ui.showing", lang, shown=f"{len(table.rows):,}",
                            total=f"{table.total_rows:,}"))
    if table.note is not None:
        notes.append(_note(table.note, lang))
    if notes:
        out += f'<p class="note">{escape(" ".join(notes))}</p>'
    return out
