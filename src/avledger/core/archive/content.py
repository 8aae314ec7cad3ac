"""What goes on every disc besides the footage: manifest, per-disc checksums, README.

``MANIFEST.json`` is the same on every disc of every copy: each file of the set with its disc,
size, SHA-256 and BLAKE3 (so a verifier without BLAKE3 tools can still check), and the
footage's metadata. Its SHA-256 is printed on the labels. ``DISC.json`` says which copy and
disc this is; ``SHA256SUMS`` and ``B3SUMS`` cover every file on the disc, in the formats of
``sha256sum -c`` and ``b3sum -c``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import blake3

from avledger.core.archive.selection import ArchiveClip, Selection
from avledger.errors import IntegrityError
from avledger.i18n import N_, _
from avledger.store.backend import ObjectStore

FORMAT = "avledger-archive/1"
MANIFEST, DISC, SHA256SUMS, B3SUMS, README = (
    "MANIFEST.json", "DISC.json", "SHA256SUMS", "B3SUMS", "README.txt")
CHUNK = 4 * 1024 * 1024


@dataclass(frozen=True)
class Hashes:
    sha256: str
    blake3: str


def hash_bytes(data: bytes) -> Hashes:
    return Hashes(hashlib.sha256(data).hexdigest(), blake3.blake3(data).hexdigest())


def sha256_file(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            sha.update(chunk)
    return sha.hexdigest()


def hash_clips(store: ObjectStore, clips: Iterable[ArchiveClip],
               progress: Callable[[int], None] | None = None, *,
               copy_into: Path | None = None,
               outcome: str = N_("nothing was archived")) -> dict[int, Hashes]:
    """SHA-256 of every clip, reading it once; its BLAKE3 must still match its name. With
    ``copy_into``, each clip is also written (new file, synced) to ``copy_into/clip.path``
    in the same pass."""
    out: dict[int, Hashes] = {}
    for clip in clips:
        sha, b3 = hashlib.sha256(), blake3.blake3()
        sink = None
        if copy_into is not None:
            (copy_into / clip.path).parent.mkdir(parents=True, exist_ok=True)
            sink = open(copy_into / clip.path, "xb")  # noqa: SIM115 - closed below
        try:
            with store.open(clip.digest) as fh:
                while chunk := fh.read(CHUNK):
                    sha.update(chunk)
                    b3.update(chunk)
                    if sink is not None:
                        sink.write(chunk)
                    if progress:
                        progress(len(chunk))
            if sink is not None:
                sink.flush()
                os.fsync(sink.fileno())
        finally:
            if sink is not None:
                sink.close()
        if b3.hexdigest() != clip.digest:
            raise IntegrityError(_("clip {id}: stored object {digest}… does not match its hash; "
                                   "{outcome}").format(
                                     id=clip.id, digest=clip.digest[:16], outcome=_(outcome)),
                                 hint=_("run 'avledger store verify'"))
        out[clip.id] = Hashes(sha.hexdigest(), clip.digest)
    return out


def manifest(sel: Selection, *, set_id: int, unit: str, made_by: str, made_at: str,
             media: str, copies: int, discs: list[list[int]], clip_hashes: dict[int, Hashes],
             shared: dict[str, bytes]) -> bytes:
    disc_of = {clip_id: n for n, members in enumerate(discs, 1) for clip_id in members}
    doc = {
        "format": FORMAT, "set": set_id, "title": sel.title, "scope": sel.scope,
        "unit": unit, "made_by": made_by, "made_at": made_at, "media": media,
        "copies": copies, "discs": len(discs), "hold_reasons": sel.reasons,
        "clips": [{
            "clip": c.id, "path": c.path, "disc": disc_of[c.id], "size": c.size,
            "sha256": clip_hashes[c.id].sha256, "blake3": clip_hashes[c.id].blake3,
            "recorder": c.serial, "source_path": c.source_path, "recorded_at": c.recorded_at,
            "ingested_at": c.ingested_at, "cases": list(c.cases), "holds": list(c.holds),
        } for c in sel.clips],
        "files": [{"path": path, "disc": "every", "size": len(data),
                   **hash_bytes(data).__dict__} for path, data in sorted(shared.items())],
    }
    return (json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=False) + "\n").encode()


def disc_info(*, set_id: int, copy_no: int, copies: int, disc_no: int, discs: int,
              volume_id: str, manifest_sha256: str, title: str) -> bytes:
    doc = {"format": FORMAT, "set": set_id, "copy": copy_no, "copies": copies,
           "disc": disc_no, "discs": discs, "volume_id": volume_id,
           "manifest_sha256": manifest_sha256, "title": title}
    return (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode()


def sums(entries: dict[str, Hashes], which: str) -> bytes:
    """``<hex>  <path>`` lines, as ``sha256sum``/``b3sum`` write them (text mode)."""
    return "".join(f"{getattr(h, which)}  {path}\n"
                   for path, h in sorted(entries.items())).encode()


def readme(sel: Selection, *, set_id: int, unit: str, made_by: str, made_at: str,
           discs: int, copies: int) -> bytes:
    text = f"""执法音像记录 长期保存光盘 / Enforcement audio-video records, long-term archive
=====================================================================

制作单位 Unit:        {unit}
制作人 Made by:        {made_by}
制作时间 Made at:      {made_at}
执法活动或者案件名称及编号 Activity or case: {sel.title}
归档编号 Archive set:  AVL{set_id:04d}   ({copies} copies, {discs} disc(s) per copy)
依据 Basis:            平环〔2019〕185号 rule B, Art. 16 (keep long-term on disc, two copies)

Contents of every disc
  clips/            the footage, byte for byte as stored (named clip no._recorder_file)
  MANIFEST.json     every file of the set: disc, size, SHA-256, BLAKE3, and the footage's
                    metadata (recorder, recording time, cases, holds). Identical on every
                    disc of every copy; its SHA-256 is printed on the label.
  DISC.json         which copy and which disc this is
  SHA256SUMS        SHA-256 of every file on this disc  (check: sha256sum -c SHA256SUMS)
  B3SUMS            BLAKE3 of every file on this disc   (check: b3sum -c B3SUMS)
  ledger/           the custody-ledger events about this footage (events.jsonl), each with
                    an inclusion proof (proofs.jsonl) against a signed checkpoint
                    (checkpoint.txt, key ledger.pub); verify_ledger.py holds the routines.

To check a disc with standard tools only:
  1. sha256sum MANIFEST.json        -> must equal the manifest hash on the label
  2. sha256sum -c SHA256SUMS        -> every line must say OK
With avledger:  avledger archive verify /dev/sr0   (or the image file)
"""
    return text.encode()


def manifest_of(data: bytes) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(data)
    if doc.get("format") != FORMAT:
        raise ValueError(f"not an avledger archive manifest (format {doc.get('format')!r})")
    return doc
