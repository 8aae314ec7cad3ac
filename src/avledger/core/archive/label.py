"""The printable disc label (rule B, Art. 16): unit, maker, date, activity or case name and
number — and the manifest hash that ties the label to the disc's content.

An SVG (120 × 120 mm, the size of a disc case insert) is always written; a PDF is rendered
from it with ``rsvg-convert`` (Debian ``librsvg2-bin``) when that is installed. Chinese text
needs a CJK font (Debian ``fonts-wqy-zenhei`` or ``fonts-noto-cjk``).
"""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from avledger.errors import StorageError
from avledger.i18n import _

FONT = "'WenQuanYi Zen Hei', 'Noto Sans CJK SC', 'Source Han Sans SC', sans-serif"
MONO = "'DejaVu Sans Mono', 'WenQuanYi Zen Hei Mono', monospace"
REASONS_ZH = {
    "complaint": "当事人有异议、可能引起投诉",
    "obstruction": "当事人逃避、拒绝、阻挠或者辱骂、殴打执法人员",
    "major-sensitive": "重大、敏感案件",
    "litigation": "复议、诉讼",
    "other": "其他",
    "legal-review": "重大执法决定法制审核",
}


@dataclass(frozen=True)
class LabelText:
    unit: str
    maker: str
    made_at: str  # already formatted for people, e.g. 2026年11月28日
    title: str
    set_code: str
    volume_id: str
    copy_no: int
    copies: int
    disc_no: int
    discs: int
    clips: int
    size: str
    recorded: str  # range, already formatted
    reasons: tuple[str, ...]
    manifest_sha256: str
    checkpoint_size: int = 0  # the signed ledger checkpoint the disc carries
    key_fingerprint: str = ""  # of the key that signed it, grouped for reading


def _width(text: str) -> float:
    """Rough text width in ems: CJK and full-width characters are one em, others ~0.55."""
    return sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.55 for ch in text)


_NO_LINE_END = "（〔【《「(["
_NO_LINE_START = "）〕】》」)]，。；：、,.;:"


def _tokens(text: str) -> list[str]:
    """Wide characters one by one; runs of narrow characters (numbers, Latin words, dates)
    stay together so they are never split across lines."""
    out: list[str] = []
    for ch in text:
        narrow = unicodedata.east_asian_width(ch) not in "WF" and not ch.isspace()
        if narrow and out and out[-1] and not out[-1][-1].isspace() and \
                unicodedata.east_asian_width(out[-1][-1]) not in "WF":
            out[-1] += ch
        else:
            out.append(ch)
    return _keep_brackets(out)


def _keep_brackets(tokens: list[str], most: float = 14) -> list[str]:
    """A short bracketed part, such as a case number （平环罚〔2026〕12号）, stays whole."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        close = {"（": "）", "(": ")"}.get(tokens[i])
        if close:
            j = next((k for k in range(i + 1, len(tokens)) if tokens[k] == close), None)
            if j is not None and _width("".join(tokens[i:j + 1])) <= most:
                out.append("".join(tokens[i:j + 1]))
                i = j + 1
                continue
        out.append(tokens[i])
        i += 1
    return out


def wrap(text: str, ems: float) -> list[str]:
    """Break text into lines of at most ``ems`` between words and wide characters; no line
    ends on an opening bracket or starts with closing punctuation (Chinese line breaking)."""
    lines: list[str] = []
    line: list[str] = []
    for tok in _tokens(text):
        glued = tok in _NO_LINE_START and all(t in _NO_LINE_START for t in line[:-1])
        if line and _width("".join(line) + tok.rstrip()) > ems and not (glued and len(line) <= 1):
            carry: list[str] = []
            while line and (line[-1] in _NO_LINE_END or line[-1].isspace()):
                carry.insert(0, line.pop())
            if tok in _NO_LINE_START:  # take the word before along, and its punctuation
                moved: list[str] = []
                while line and (not moved or moved[0] in _NO_LINE_START):
                    moved.insert(0, line.pop())
                if line:
                    carry = moved + carry
                else:  # nothing to break before: leave the line as it was
                    line = moved
            if line:
                lines.append("".join(line).rstrip())
            line = [t for t in carry if not t.isspace()]
        if _width(tok) > ems:  # a single overlong word: split it by characters
            for ch in tok:
                if line and _width("".join(line) + ch) > ems:
                    # closing punctuation never starts a line: take a character along
                    carry = [line.pop()] if ch in _NO_LINE_START and len(line) > 1 else []
                    lines.append("".join(line))
                    line = carry
                line.append(ch)
            continue
        if line or not tok.isspace():
            line.append(tok)
    if line:
        lines.append("".join(line).rstrip())
    return _no_leading_closers(lines)


def _no_leading_closers(lines: list[str]) -> list[str]:
    """Closing punctuation left at a line start hangs at the end of the line before it
    (hanging punctuation, as Chinese typesetting does)."""
    out: list[str] = []
    for text in lines:
        n = 0
        while n < len(text) and text[n] in _NO_LINE_START:
            n += 1
        if out and n:
            out[-1] += text[:n]
            text = text[n:].lstrip()
        if text:
            out.append(text)
    return out


TOP, BOTTOM = 30.0, 100.0  # the body lies between the header and the hash lines (mm)
LEFT, RIGHT = 10.0, 110.0


def _body(t: LabelText, scale: float) -> tuple[list[str], float]:
    """The fields as SVG text at ``scale``; returns the elements and where they end."""
    out: list[str] = []
    y = TOP

    def field(name: str, value: str, size: float, *, block: bool = False) -> None:
        nonlocal y
        size *= scale
        head = f"{name}："
        if block:
            out.append(_text(head, LEFT, y + size, size * 0.8, bold=True))
            y += size * 1.35
            indent = LEFT + 2
        else:
            indent = LEFT + _width(head) * size
            out.append(_text(head, LEFT, y + size, size, bold=True))
        for line in wrap(value, (RIGHT - indent) / size):
            out.append(_text(line, indent, y + size, size))
            y += size * 1.35
        y += 1.6 * scale

    field("制作单位", t.unit, 3.6)
    field("制作人", t.maker, 3.6)
    field("制作时间", t.made_at, 3.6)
    field("执法活动或者案件名称及编号", t.title, 4.0, block=True)
    field("内容", f"{t.clips} 段音像记录，{t.size}，录制于 {t.recorded}", 3.0)
    if t.reasons:
        field("保存原因", "；".join(REASONS_ZH.get(r, r) for r in t.reasons)
              + "（平环〔2019〕185号 规则B第十六条）", 3.0)
    field("归档编号", f"{t.set_code}    卷标 {t.volume_id}", 3.0)
    if t.key_fingerprint:
        field("账本检查点", f"第 {t.checkpoint_size} 条事件；签名公钥指纹 Key fingerprint "
                          f"{t.key_fingerprint}", 2.6)
    return out, y


def _text(s: str, x: float, y: float, size: float, *, bold: bool = False,
          mono: bool = False, anchor: str = "start") -> str:
    weight = ' font-weight="bold"' if bold else ""
    return (f'<text x="{x:.2f}" y="{y:.2f}" font-family="{MONO if mono else FONT}" '
            f'font-size="{size:.2f}"{weight} text-anchor="{anchor}">{escape(s)}</text>')


def svg(t: LabelText) -> str:
    scale = 1.0
    body, end = _body(t, scale)
    while end > BOTTOM and scale > 0.5:  # long titles: shrink the body until it fits
        scale *= 0.92
        body, end = _body(t, scale)
    parts = [
        _text("执法音像记录 · 长期保存光盘", 60, 13, 5.6, bold=True, anchor="middle"),
        _text(f"第 {t.copy_no} 份（共 {t.copies} 份）    第 {t.disc_no} 张（共 {t.discs} 张）",
              60, 21, 4.6, bold=True, anchor="middle"),
        '<line x1="10" y1="25.5" x2="110" y2="25.5" stroke="#000" stroke-width="0.3"/>',
        *body,
        '<line x1="10" y1="101.5" x2="110" y2="101.5" stroke="#000" stroke-width="0.2"/>',
        _text("清单哈希（MANIFEST.json 的 SHA-256）", LEFT, 105.5, 2.6, bold=True),
        _text(t.manifest_sha256[:32], LEFT + 2, 109.6, 3.0, mono=True),
        _text(t.manifest_sha256[32:], LEFT + 2, 113.4, 3.0, mono=True),
    ]
    body_text = "\n  ".join(parts)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="120mm" height="120mm" viewBox="0 0 120 120">
  <rect x="0" y="0" width="120" height="120" fill="#fff"/>
  <rect x="3" y="3" width="114" height="114" fill="none" stroke="#000" stroke-width="0.5"/>
  {body_text}
</svg>
"""


def write_label(t: LabelText, svg_path: Path, *, pdf: bool = True) -> list[Path]:
    """Write the SVG (and a PDF when rsvg-convert is installed); return the files made."""
    svg_path.write_text(svg(t), encoding="utf-8")
    made = [svg_path]
    tool = shutil.which("rsvg-convert")
    if pdf and tool:
        pdf_path = svg_path.with_suffix(".pdf")
        proc = subprocess.run([tool, "-f", "pdf", "-o", str(pdf_path), str(svg_path)],
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise StorageError(_("rsvg-convert could not render {name}: {output}").format(
                                   name=svg_path.name, output=proc.stderr.strip()))
        made.append(pdf_path)
    return made
