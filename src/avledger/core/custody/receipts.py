"""Receipts: signed checkpoints that left the machine, which the ledger must extend for ever.

Every artifact that leaves carries the checkpoint it was made under — a copy package or an
archive disc (``ledger/checkpoint.txt``), a ledger export (``checkpoints.jsonl``), a report or
an inspection bundle (a ``BEGIN AVLEDGER CHECKPOINT`` block), a witness (its latest cosigned
checkpoint). Whoever can rewrite the catalog and the checkpoint file cannot recall those, so
``ledger verify --against`` proves the current ledger still extends each of them: a ledger
shorter than a receipt was rolled back; one whose Merkle root at the receipt's size differs
was forked (rewritten and re-grown).
"""

from __future__ import annotations

import html
import json
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from avledger import verifier
from avledger.core.archive import iso
from avledger.errors import NotFoundError
from avledger.i18n import _

BEGIN, END = "-----BEGIN AVLEDGER CHECKPOINT-----", "-----END AVLEDGER CHECKPOINT-----"
_BLOCK = re.compile(re.escape(BEGIN) + r"\n(.*?)" + re.escape(END), re.S)
EXCERPT_CHECKPOINT = "ledger/checkpoint.txt"
EXCERPT_EVENTS = "ledger/events.jsonl"
_IMAGE_SUFFIXES = (".iso", ".img")


@dataclass(frozen=True)
class Receipt:
    source: str  # what a person named: a folder, an image, a report, a witness
    note: str  # the signed checkpoint (with any cosignatures)
    events: dict[int, str] = field(default_factory=dict)  # seq -> hash, from an excerpt


def embed(note: str) -> str:
    """The block a report or bundle carries its checkpoint in, findable by ``read``."""
    return f"{BEGIN}\n{note}{END}\n"


def _excerpt_events(text: str) -> dict[int, str]:
    found: dict[int, str] = {}
    for line in text.splitlines():
        try:
            ev = json.loads(line)
            found[int(ev["seq"])] = str(ev["hash"])
        except (ValueError, KeyError, TypeError):
            continue
    return found


def _from_excerpt(source: str, root: Path) -> list[Receipt]:
    events = root / EXCERPT_EVENTS
    text = events.read_text(encoding="utf-8") if events.is_file() else ""
    note = (root / EXCERPT_CHECKPOINT).read_text(encoding="utf-8")
    return [Receipt(source, note, _excerpt_events(text))]


def _from_text(source: str, text: str) -> list[Receipt]:
    """Signed notes in a text: embedded blocks, JSON lines of ``{size, note}``, or a note."""
    blocks = _BLOCK.findall(html.unescape(text))
    if blocks:
        return [Receipt(source, b) for b in blocks]
    whole = _json_report(source, text)
    if whole:
        return whole
    if text.lstrip().startswith("{"):
        out = []
        for line in text.splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict) and isinstance(rec.get("note"), str):
                out.append(Receipt(source, rec["note"]))
        return out
    return [Receipt(source, text)] if "\n\n\u2014 " in text else []


def _json_report(source: str, text: str) -> list[Receipt]:
    """The checkpoint of a report's JSON edition; a clip's custody report also gives the
    hashes of the events it proves, so a rewrite of any of them is named."""
    try:
        doc = json.loads(text)
    except ValueError:
        return []
    if not isinstance(doc, dict):
        return []
    evidence = doc.get("evidence")
    if isinstance(evidence, dict) and isinstance(evidence.get("checkpoint"), str):
        events = {int(e["seq"]): str(e["hash"]) for e in evidence.get("events", [])
                  if isinstance(e, dict) and "seq" in e and "hash" in e}
        return [Receipt(source, evidence["checkpoint"], events)]
    cp = (doc.get("meta") or {}).get("checkpoint") if isinstance(doc.get("meta"), dict) else None
    return [Receipt(source, cp["note"])] if isinstance(cp, dict) and isinstance(
        cp.get("note"), str) else []


def read(target: str) -> list[Receipt]:
    """The receipts in a package or disc folder, a disc image, an export, a report or a
    checkpoint file; NotFoundError when there is none."""
    path = Path(target)
    found: list[Receipt] = []
    if path.is_dir():
        if (path / EXCERPT_CHECKPOINT).is_file():
            found = _from_excerpt(target, path)
        else:
            for name in ("checkpoints.jsonl", "checkpoint.txt", "bundle.json"):
                if (path / name).is_file():
                    found += _from_text(target, (path / name).read_text(encoding="utf-8"))
    elif path.is_file() and (path.suffix.lower() in _IMAGE_SUFFIXES
                             or target.startswith("/dev/")):
        with tempfile.TemporaryDirectory(prefix="avledger-receipt-") as tmp:
            if EXCERPT_CHECKPOINT in iso.list_files(target):
                iso.extract(target, [EXCERPT_CHECKPOINT, EXCERPT_EVENTS], Path(tmp))
                found = _from_excerpt(target, Path(tmp))
    elif path.is_file():
        found = _from_text(target, path.read_text(encoding="utf-8", errors="replace"))
    else:
        raise NotFoundError(_("{target}: no such file, folder or disc").format(target=target))
    if not found:
        raise NotFoundError(_("{target}: holds no signed checkpoint").format(target=target),
                            hint=_("name a copy package, an archive disc or image, a ledger "
                                   "export, a report, or a checkpoint file"))
    return found


def read_all(targets: Iterable[str]) -> list[Receipt]:
    return [r for t in targets for r in read(t)]


def check(receipt: Receipt, chain: verifier.ChainReport, public_key: str,
          origin: str) -> list[verifier.Problem]:
    """Does the ledger (``chain``, with roots at the receipt's size) extend ``receipt``?"""
    where = receipt.source
    try:
        cp = verifier.verify_checkpoint(receipt.note, public_key)
    except ValueError as exc:
        return [verifier.Problem(None, f"{where}: not a checkpoint of this ledger ({exc})")]
    if cp.origin != origin:
        return [verifier.Problem(None, f"{where}: a checkpoint of {cp.origin!r}, not of "
                                       f"this ledger ({origin!r})")]
    changed = [seq for seq, digest in sorted(receipt.events.items())
               if seq <= chain.last_seq and chain_hash(chain, seq) not in (None, digest)]
    if cp.size > chain.last_seq:
        first = min([chain.last_seq + 1, *changed])
        return [verifier.Problem(first, (
            f"ROLLBACK: {where} holds the checkpoint of size {cp.size} signed {cp.ts}, but the "
            f"ledger now ends at seq {chain.last_seq}; the ledger was rolled back below this "
            f"receipt (first differing seq {first})"))]
    if chain.roots.get(cp.size) != cp.root:
        bound = f"first differing seq {changed[0]}" if changed else (
            f"first differing seq at or before {cp.size}")
        return [verifier.Problem(changed[0] if changed else cp.size, (
            f"FORK: {where} holds the checkpoint of size {cp.size} signed {cp.ts}, and the "
            f"ledger's first {cp.size} events no longer have that Merkle root: history was "
            f"rewritten after it was handed out ({bound})"))]
    return []


def chain_hash(chain: verifier.ChainReport, seq: int) -> str | None:
    """The hash of event ``seq`` in the chain, when the chain kept them."""
    return chain.hashes[seq - 1] if 0 < seq <= len(chain.hashes) else None
