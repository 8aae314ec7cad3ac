"""Charts as inline SVG, drawn here: no scripts, no network, no plotting library.

Three shapes cover the reports: vertical bars (grouped when there are several series; touching
bars for a histogram), horizontal bars (long category names: officers, recorders), and lines
(a rate over months). Every chart has a text title and value labels, so it reads on paper in
black and white too; the palette is also distinguishable by people with red-green colour
blindness.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

PALETTE = ("#2b6cb0", "#dd8a26", "#3f9a6b", "#9b4dca", "#c0392b")
INK = "#1f2933"
GRID = "#d9dee4"
MUTED = "#5f6b7a"
CHAR_W = 6.6  # average label glyph width at 11 px (CJK glyphs are counted twice)

Number = float | int | None
Fmt = Callable[[float], str]


def _text_width(text: str) -> float:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text) * CHAR_W


def nice_step(span: float, ticks: int = 5) -> float:
    if span <= 0:
        return 1.0
    raw = span / ticks
    power = float(10 ** math.floor(math.log10(raw)))
    for mult in (1, 2, 2.5, 5, 10):
        if raw <= mult * power:
            return mult * power
    return 10 * power


def _axis(lo: float, hi: float) -> tuple[float, float, list[float]]:
    step = nice_step(hi - lo)
    top = math.ceil(hi / step) * step if hi > lo else lo + step
    bottom = math.floor(lo / step) * step
    ticks = []
    v = bottom
    while v <= top + step / 1000:
        ticks.append(round(v, 10))
        v += step
    return bottom, top, ticks


def _tick_label(v: float, percent: bool) -> str:
    text = f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"
    return text + ("%" if percent else "")


def wrap(label: str, width: float, max_lines: int = 3) -> list[str]:
    """``label`` in lines no wider than ``width`` (words kept whole; CJK breaks anywhere)."""
    if _text_width(label) <= width:
        return [label]
    tokens: list[str] = []
    for word in label.split(" "):
        if any(ord(ch) > 0x2E80 for ch in word):
            tokens.extend(word)
        else:
            tokens.append(word + " ")
    lines: list[str] = [""]
    for tok in tokens:
        if lines[-1] and _text_width((lines[-1] + tok).rstrip()) > width:
            lines.append("")
        lines[-1] += tok
    lines = [ln.rstrip() for ln in lines if ln.strip()]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1].rstrip() + "…"
    return lines


def _frame(width: int, height: int, title: str, body: list[str]) -> str:
    label = escape(title)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} '
            f'{height}" width="{width}" height="{height}" role="img" aria-label="{label}">'
            f"<title>{label}</title>" + "".join(body) + "</svg>")


def _legend(names: Sequence[str], x: float, y: float) -> list[str]:
    out = []
    for i, name in enumerate(names):
        out.append(f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="10" height="10" '
                   f'fill="{PALETTE[i % len(PALETTE)]}"/>')
        out.append(f'<text x="{x + 14:.1f}" y="{y:.1f}" font-size="11" fill="{INK}">'
                   f"{escape(name)}</text>")
        x += 14 + _text_width(name) + 18
    return out


def _y_grid(ticks: Sequence[float], y_of: Callable[[float], float], left: float, right: float,
            percent: bool) -> list[str]:
    """Horizontal grid lines with their values on the left."""
    out = []
    for t in ticks:
        y = y_of(t)
        out.append(f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" '
                   f'stroke="{GRID}" stroke-width="1"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="10" text-anchor="end" '
                   f'fill="{MUTED}">{_tick_label(t, percent)}</text>')
    return out


def _values(series: Sequence[tuple[str, Sequence[Number]]]) -> list[float]:
    return [float(v) for _, vals in series for v in vals if v is not None]


def bar(title: str, categories: Sequence[str], series: Sequence[tuple[str, Sequence[Number]]],
        *, fmt: Fmt, percent: bool = False, touching: bool = False, width: int = 720,
        height: int = 250) -> str:
    """Vertical bars; several series are grouped side by side; ``touching`` for histograms."""
    values = _values(series)
    lo, hi, ticks = _axis(0.0, max(values, default=0.0) or 1.0)
    left, right, top = 56, 12, 28 if len(series) > 1 else 14
    slot = (width - left - right) / max(1, len(categories))
    wrapped = [wrap(c, slot - 6) for c in categories]
    rotate = any(_text_width(line) > slot - 2 for lines in wrapped for line in lines)
    longest = max((_text_width(c) for c in categories), default=0.0)
    if rotate:  # a label slanting left from the first bar must not leave the picture
        left = max(left, int(min(longest, 150) * 0.82 - slot / 2) + 4)
        slot = (width - left - right) / max(1, len(categories))
    lines_needed = max((len(w) for w in wrapped), default=1)
    bottom = 30 + (min(longest, 150) * 0.7 if rotate else 13 * (lines_needed - 1))
    height = height + (0 if rotate else 13 * (lines_needed - 1))
    plot_h = height - top - bottom
    body: list[str] = []
    if len(series) > 1:
        body += _legend([name for name, _ in series], left, 14)

    def y_of(v: float) -> float:
        return top + plot_h - (v - lo) / (hi - lo) * plot_h

    body += _y_grid(ticks, y_of, left, width - right, percent)
    gap = 0.0 if touching else slot * (0.18 if len(series) == 1 else 0.12)
    bar_w = (slot - 2 * gap) / max(1, len(series))
    show_values = len(categories) * len(series) <= 24
    for ci, cat in enumerate(categories):
        x0 = left + ci * slot + gap
        for si, (_, vals) in enumerate(series):
            v = vals[ci]
            if v is None:
                continue
            x = x0 + si * bar_w
            y = y_of(float(v))
            h = top + plot_h - y
            stroke = ' stroke="#ffffff" stroke-width="1"' if touching else ""
            body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(bar_w - 1, 1):.1f}" '
                        f'height="{max(h, 0):.1f}" fill="{PALETTE[si % len(PALETTE)]}"{stroke}>'
                        f"<title>{escape(cat)}: {escape(fmt(float(v)))}</title></rect>")
            if show_values and v:
                body.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" font-size="9.5" '
                            f'text-anchor="middle" fill="{INK}">{escape(fmt(float(v)))}</text>')
        cx = left + ci * slot + slot / 2
        ly = top + plot_h + 14
        if rotate:
            body.append(f'<text x="{cx:.1f}" y="{ly:.1f}" font-size="10.5" text-anchor="end" '
                        f'fill="{INK}" transform="rotate(-35 {cx:.1f} {ly:.1f})">'
                        f"{escape(cat)}</text>")
        else:
            spans = "".join(f'<tspan x="{cx:.1f}" dy="{0 if k == 0 else 13}">{escape(line)}'
                            "</tspan>" for k, line in enumerate(wrapped[ci]))
            body.append(f'<text x="{cx:.1f}" y="{ly:.1f}" font-size="10.5" '
                        f'text-anchor="middle" fill="{INK}">{spans}</text>')
    body.append(f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h:.1f}" '
                f'y2="{top + plot_h:.1f}" stroke="{INK}" stroke-width="1"/>')
    return _frame(width, int(height), title, body)


def hbar(title: str, categories: Sequence[str], values: Sequence[Number], *, fmt: Fmt,
         percent: bool = False, width: int = 720) -> str:
    """Horizontal bars, one row per category, value printed at the end of each bar."""
    row_h = 18
    label_w = min(260.0, max((_text_width(c) for c in categories), default=40.0) + 10)
    left, right, top = label_w + 8, 64, 6
    height = top + row_h * len(categories) + 24
    nums = [float(v) for v in values if v is not None]
    lo, hi, ticks = _axis(0.0, max(nums, default=0.0) or 1.0)
    if percent:
        hi, ticks = 100.0, [0, 25, 50, 75, 100]
    plot_w = width - left - right
    body: list[str] = []

    def x_of(v: float) -> float:
        return left + (v - lo) / (hi - lo) * plot_w

    bottom = top + row_h * len(categories)
    for t in ticks:
        x = x_of(t)
        body.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{bottom}" stroke="{GRID}" '
                    'stroke-width="1"/>')
        body.append(f'<text x="{x:.1f}" y="{bottom + 14}" font-size="10" text-anchor="middle" '
                    f'fill="{MUTED}">{_tick_label(t, percent)}</text>')
    for i, (cat, v) in enumerate(zip(categories, values, strict=True)):
        y = top + i * row_h
        shown = cat if _text_width(cat) <= label_w else cat[: int(label_w / CHAR_W / 2)] + "…"
        body.append(f'<text x="{left - 6:.1f}" y="{y + row_h / 2 + 4:.1f}" font-size="10.5" '
                    f'text-anchor="end" fill="{INK}">{escape(shown)}</text>')
        if v is None:
            continue
        w = x_of(float(v)) - left
        body.append(f'<rect x="{left:.1f}" y="{y + 3:.1f}" width="{max(w, 0.5):.1f}" '
                    f'height="{row_h - 6}" fill="{PALETTE[0]}"><title>{escape(cat)}: '
                    f"{escape(fmt(float(v)))}</title></rect>")
        body.append(f'<text x="{left + w + 4:.1f}" y="{y + row_h / 2 + 4:.1f}" '
                    f'font-size="10" fill="{INK}">{escape(fmt(float(v)))}</text>')
    return _frame(width, int(height), title, body)


def line(title: str, categories: Sequence[str], series: Sequence[tuple[str, Sequence[Number]]],
         *, fmt: Fmt, percent: bool = False, width: int = 720, height: int = 230) -> str:
    """Lines over ordered categories (months); gaps where a value is missing."""
    values = _values(series)
    low = min(values, default=0.0)
    high = max(values, default=1.0)
    if percent:
        lo, hi, ticks = _axis(max(0.0, low - max(2.0, (100 - low) * 0.5)), 100.0)
        lo = max(lo, 0.0)
        ticks = [t for t in ticks if t >= lo]
    else:
        lo, hi, ticks = _axis(0.0, high or 1.0)
    left, right, top, bottom = 56, 16, 28 if len(series) > 1 else 14, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(1, len(categories))
    body: list[str] = []
    if len(series) > 1:
        body += _legend([name for name, _ in series], left, 14)

    def y_of(v: float) -> float:
        return top + plot_h - (v - lo) / (hi - lo) * plot_h

    body += _y_grid(ticks, y_of, left, width - right, percent)
    for i, cat in enumerate(categories):
        body.append(f'<text x="{left + step * (i + 0.5):.1f}" y="{top + plot_h + 16}" '
                    f'font-size="10.5" text-anchor="middle" fill="{INK}">{escape(cat)}</text>')
    show_values = len(categories) <= 14
    for si, (_, vals) in enumerate(series):
        colour = PALETTE[si % len(PALETTE)]
        runs: list[list[tuple[float, float, float]]] = [[]]
        for i, v in enumerate(vals):
            if v is None:
                runs.append([])
                continue
            runs[-1].append((left + step * (i + 0.5), y_of(float(v)), float(v)))
        for run in runs:
            if len(run) > 1:
                pts = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in run)
                body.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" '
                            'stroke-width="2"/>')
            for x, y, v in run:
                body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}">'
                            f"<title>{escape(fmt(v))}</title></circle>")
                if show_values:
                    body.append(f'<text x="{x:.1f}" y="{y - 7:.1f}" font-size="9.5" '
                                f'text-anchor="middle" fill="{INK}">{escape(fmt(v))}</text>')
    body.append(f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" '
                f'y2="{top + plot_h}" stroke="{INK}" stroke-width="1"/>')
    return _frame(width, height, title, body)
