"""The human side of a copy package: the cover sheet (Markdown and HTML) and VERIFY.txt.

The cover sheet says who asked, in what capacity, with which documents, who approved and
when, under which article, and lists the footage with its SHA-256; labels are Chinese with the
English alongside. VERIFY.txt is the procedure a court follows with standard tools only.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from avledger import verifier
from avledger.core.access import labels
from avledger.core.units import human_bytes

BASIS = "平环〔2019〕185号 行政执法记录信息调阅监督制度 (rule A)"


@dataclass(frozen=True)
class CoverFacts:
    package_id: str
    unit: str
    request: dict[str, Any]
    case: dict[str, Any] | None  # number, name
    registered: str  # "time, by whom"
    approval: str  # "name (badge), time" or why none was needed
    made: str  # "time, by whom"
    public_key: str
    clips: list[dict[str, Any]]  # clip, recorder, recorded (display), size, sha256, path
    verifier_sha256: str = ""  # of the verify_ledger.py shipped alongside
    redactions: list[dict[str, Any]] = field(default_factory=list)  # clip, operations, …

    @property
    def fingerprint(self) -> str:
        return verifier.grouped(verifier.fingerprint(self.public_key))


def _fields(f: CoverFacts) -> list[tuple[str, str]]:
    r = f.request
    category = labels.both(labels.CATEGORIES, r["category"])
    if r.get("kind"):
        category += f" — {labels.both(labels.KINDS, r['kind'])}"
    who = r["requester"] + (f"（{r['requester_unit']}）" if r.get("requester_unit") else "")
    return [
        ("复制件编号 Package", f.package_id),
        ("制作单位 Unit", f.unit),
        ("申请编号 Request", str(r["id"])),
        ("申请人 Requester", who),
        ("申请人类别 Category", category),
        ("事由 Purpose", r["purpose"]),
        ("查验证件 Documents seen", labels.documents(r["documents"])),
        ("案件 Case", f"{f.case['number']} {f.case['name']}" if f.case else "—（按编号调取 clips "
                                                                            "named one by one）"),
        ("保密等级 Confidentiality", labels.both(labels.CONFIDENTIALITY, r["confidentiality"])),
        ("登记 Registered", f.registered),
        ("批准 Approved", f.approval),
        ("依据 Article", f"{BASIS}, {r['article']}"),
        ("制作 Made", f.made),
        ("音像资料 Footage", f"{len(f.clips)} clip(s), "
                             f"{human_bytes(sum(int(c['size']) for c in f.clips))}"),
        ("公钥指纹 Key fingerprint", f.fingerprint),
        ("核验程序 Verifier SHA-256", f.verifier_sha256 or "—"),
    ]


def _clip_rows(f: CoverFacts) -> list[tuple[str, ...]]:
    return [(str(c["clip"]), c["recorder"], c["recorded"] or "?", human_bytes(int(c["size"])),
             c["sha256"]) for c in f.clips]


CLIP_HEAD = ("编号 Clip", "记录仪 Recorder", "录制时间 Recorded", "大小 Size", "SHA-256")
REDACTION_HEAD = ("编号 Clip", "时段 Range (s)", "处理 Treatment", "理由 Reason")
TREATMENTS = {"blur": "局部模糊 blurred area", "blackout": "局部遮挡 blacked-out area",
              "blur-frame": "整帧模糊 whole frame blurred", "mute": "静音 muted",
              "beep": "提示音 beeped", "cut": "删除片段 cut out"}
REASON_EN = {"personal-privacy": "personal privacy", "commercial-secret": "trade secret",
             "state-secret": "state secret", "other": "other"}
REDACTION_NOTE = ("下列片段经遮蔽处理后提供，原始资料未改动、保存在档案室。/ These ranges were "
                  "redacted before disclosure; the originals are unaltered and stay in the "
                  "archive. See redactions/ to re-render from the original with ffmpeg.")


def _redaction_rows(f: CoverFacts) -> list[tuple[str, ...]]:
    return [(str(r["clip"]), f"{o['from']:g}–{o['to']:g}",
             TREATMENTS.get(o["op"], o["op"]) + (" (moving 跟随)" if o.get("moving") else ""),
             f"{o['reason_zh']} {REASON_EN.get(o['reason'], o['reason'])}")
            for r in f.redactions for o in r["operations"]]


def rerender_text(original: str, command: list[str], version: str, graph: str) -> bytes:
    """How anyone with the original and ffmpeg re-renders this redaction and compares."""
    line = " ".join(f"'{a}'" if any(ch in a for ch in " ;[]'=,()") else a for a in command)
    return (f"重新生成 / Re-rendering this redaction\n\n"
            f"Original (BLAKE3): {original}\nRendered with: {version}\n\n"
            "Name a copy of the original ORIGINAL.mp4 and run:\n\n"
            f"  {line}\n\n"
            "Then compare the decoded frames of REDACTED.mp4 with the clip in this package,\n"
            "e.g. ffmpeg -i FILE -f framemd5 - for both (the same ffmpeg version gives the\n"
            "same file).\n\nThe filter graph, exactly as run:\n\n"
            f"{graph}\n").encode()


def markdown(f: CoverFacts) -> bytes:
    def row(cells: tuple[str, ...] | list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    lines = ["# 执法音像资料复制件封面 / Copy of enforcement footage — cover sheet", "",
             row(["项目 Item", "内容 Details"]), "|---|---|"]
    lines += [row(list(pair)) for pair in _fields(f)]
    lines += ["", "## 音像资料清单 / Footage", "", row(CLIP_HEAD),
              "|" + "---|" * len(CLIP_HEAD)]
    lines += [row(r) for r in _clip_rows(f)]
    if f.redactions:
        lines += ["", "## 遮蔽处理 / Redactions", "", REDACTION_NOTE, "", row(REDACTION_HEAD),
                  "|" + "---|" * len(REDACTION_HEAD)]
        lines += [row(r) for r in _redaction_rows(f)]
    lines += ["", "## 核验 / Verification", "",
              "原始资料保存在档案室，本件为复制件。/ The originals stay in the archive; this is a "
              "copy.", "",
              "See VERIFY.txt: `sha256sum -c SHA256SUMS`, then, with your own copy of the "
              "verifier, `python3 verify_ledger.py --package . --fingerprint "
              f"\"{f.fingerprint}\"`.", "",
              "Ledger key (compare with the key the agency publishes) / 签名公钥:", "",
              f"    {f.public_key}", ""]
    return "\n".join(lines).encode()


def html_page(f: CoverFacts) -> bytes:
    e = html.escape
    rows = "\n".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in _fields(f))
    head = "".join(f"<th>{e(h)}</th>" for h in CLIP_HEAD)
    clips = "\n".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>"
                      for r in _clip_rows(f))
    redactions = ""
    if f.redactions:
        rhead = "".join(f"<th>{e(h)}</th>" for h in REDACTION_HEAD)
        rrows = "\n".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>"
                          for r in _redaction_rows(f))
        redactions = (f"<h2>遮蔽处理 / Redactions</h2>\n<p>{e(REDACTION_NOTE)}</p>\n"
                      f"<table><tr>{rhead}</tr>\n{rrows}\n</table>\n")
    page = f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>{e(f.package_id)} 执法音像资料复制件封面 / cover sheet</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}
table{{border-collapse:collapse;margin:1em 0}}th,td{{border:1px solid #999;padding:.3em .6em;
text-align:left;vertical-align:top}}td{{word-break:break-all}}</style></head>
<body>
<h1>执法音像资料复制件封面<br><small>Copy of enforcement footage — cover sheet</small></h1>
<table>
{rows}
</table>
<h2>音像资料清单 / Footage</h2>
<table><tr>{head}</tr>
{clips}
</table>
{redactions}<h2>核验 / Verification</h2>
<p>原始资料保存在档案室，本件为复制件。/ The originals stay in the archive; this is a copy.</p>
<p>See VERIFY.txt: <code>sha256sum -c SHA256SUMS</code>, then, with your own copy of the
verifier, <code>python3 verify_ledger.py --package . --fingerprint "{e(f.fingerprint)}"</code></p>
<p>Ledger key (compare with the key the agency publishes) / 签名公钥:<br>
<code>{e(f.public_key)}</code></p>
</body></html>
"""
    return page.encode()


def verify_text(package_id: str, public_key: str) -> bytes:
    fp = verifier.grouped(verifier.fingerprint(public_key))
    text = f"""核验方法 / How to verify copy package {package_id}
=========================================================

This folder can be checked without avledger and without the agency's database. You need
sha256sum (GNU coreutils) and Python 3.9 or later — nothing else. Work on this folder (or a
copy of it); the checks only read.

1. Every file / 文件完整性

       cd {package_id}
       sha256sum -c SHA256SUMS

   Every line must end in "OK". A changed file is reported as "FAILED"; a missing one as
   "No such file". (With BLAKE3 tools installed, "b3sum -c B3SUMS" checks the same files.)

2. Chain of custody / 保管链

       python3 verify_ledger.py --package . --fingerprint "{fp}"

   Use your own copy of verify_ledger.py (the court's, or one obtained from the agency
   beforehand); the one in this folder is a convenience, and its SHA-256 is printed on the
   cover sheet ("Verifier SHA-256"). The fingerprint is the one printed on the cover sheet.
   It checks every file again against SHA256SUMS and MANIFEST.json (sizes, SHA-256, and
   BLAKE3 when the blake3 package is installed); every custody event in ledger/events.jsonl
   against its own hash; each event's inclusion proof (ledger/proofs.jsonl) against the
   Merkle root of the signed checkpoint (ledger/checkpoint.txt, Ed25519, key ledger/ledger.pub);
   that the checkpoint extends the agency's earlier ones (ledger/consistency.jsonl); and that
   MANIFEST.json is the manifest sealed in the agency's ledger, with every event that record
   lists. The last line is "OK: …" when all holds. Otherwise each problem is printed as
   "FAILED: <file, line or event>: <what is wrong>", and the exit status is 1.

3. The key / 公钥

   A signature only proves the excerpt comes from whoever holds the key, and a forger can
   ship a key of their own. So the verifier needs a key you trust: without --fingerprint or
   --key it checks everything, prints the fingerprint of the key it found, and ends with
   "UNVERIFIED: no trusted key given" (exit status 3). The key itself is

       {public_key}

   and can be pinned instead of its fingerprint:

       python3 verify_ledger.py --package . --key "<the published key>"

4. Later copies / 后续复制件

   ledger/checkpoint.txt is a receipt: every later package, disc or export from the agency
   must extend it. To check that a later checkpoint extends this one:

       python3 verify_ledger.py --consistency OLD/ledger/checkpoint.txt \
           NEW/ledger/checkpoint.txt NEW/ledger/consistency.jsonl --key "<the published key>"

What is in the package / 内容
   COVER.md, COVER.html  the cover sheet: who asked, who approved, when, under which article
   clips/                the footage, byte for byte as stored in the archive
   MANIFEST.json         every clip and file with size, SHA-256 and BLAKE3; the request
   SHA256SUMS, B3SUMS    checksums of every file, for sha256sum -c / b3sum -c
   ledger/               the custody events about this footage and this request only, each
                         with an inclusion proof, the signed checkpoint and its public key
   verify_ledger.py      the standalone verifier (one file, standard library only)
   VERIFY.txt            this procedure

The custody excerpt holds only the events about this footage, its case and this request:
other cases' history is not in it, yet each event is proved to belong to the whole ledger.
"""
    return text.encode()
