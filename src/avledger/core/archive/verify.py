"""Reading an archive disc (or image) back and checking it against its manifest.

Files are extracted in batches of bounded size into a temporary directory, hashed (SHA-256
and BLAKE3) and removed, so verifying a 50 GB disc needs little scratch space. Every bad file
is named: missing, unreadable, wrong size, wrong hash, or not in the manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import blake3

from avledger.core.archive import iso
from avledger.core.archive.content import (
    B3SUMS,
    DISC,
    MANIFEST,
    SHA256SUMS,
    manifest_of,
    sha256_file,
)
from avledger.core.archive.excerpt import DIR as LEDGER_DIR
from avledger.core.archive.excerpt import check_excerpt
from avledger.errors import IntegrityError

BATCH_BYTES = 1 << 30
META = (DISC, MANIFEST, SHA256SUMS, B3SUMS)
# What the catalog knows about a disc: (manifest SHA-256, image SHA-256 or None).
Lookup = Callable[[int, int, int], tuple[str, str | None] | None]


@dataclass
class Expected:
    size: int | None
    sha256: str | None
    blake3: str | None


@dataclass
class DiscReport:
    source: str
    set_id: int | None = None
    copy_no: int | None = None
    disc_no: int | None = None
    discs: int | None = None
    volume_id: str | None = None
    title: str | None = None
    in_catalog: bool = False
    files_checked: int = 0
    bytes_checked: int = 0
    ledger_events: int = 0
    problems: list[dict[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def bad(self, path: str, problem: str) -> None:
        self.problems.append({"path": path, "problem": problem})

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()} | {"ok": self.ok}


def _sums(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        digest, sep, path = line.partition("  ")
        if sep:
            out[path.lstrip("*")] = digest
    return out


def _hash_file(path: Path) -> tuple[int, str, str]:
    sha, b3 = hashlib.sha256(), blake3.blake3()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(4 * 1024 * 1024):
            sha.update(chunk)
            b3.update(chunk)
            size += len(chunk)
    return size, sha.hexdigest(), b3.hexdigest()


def _is_regular_file(source: str) -> bool:
    try:
        return stat.S_ISREG(os.stat(source.removeprefix("stdio:")).st_mode)
    except OSError:
        return False


def read_disc(source: str, *, lookup: Lookup | None = None, public_key: str | None = None,
              progress: Callable[[int], None] | None = None,
              batch_bytes: int = BATCH_BYTES) -> DiscReport:
    report = DiscReport(source)
    on_disc = set(iso.list_files(source))
    with tempfile.TemporaryDirectory(prefix="avledger-verify-") as tmp_name:
        tmp = Path(tmp_name)
        meta = [p for p in on_disc if p in META or p.startswith(LEDGER_DIR + "/")]
        iso.extract(source, meta, tmp)
        for name in (DISC, MANIFEST, SHA256SUMS):
            if name not in on_disc:
                report.bad(name, "missing: this is not a complete avledger archive disc")
        if not report.ok:
            return report
        manifest_bytes = (tmp / MANIFEST).read_bytes()
        try:
            disc = json.loads((tmp / DISC).read_text(encoding="utf-8"))
            manifest = manifest_of(manifest_bytes)
        except ValueError as exc:
            report.bad(MANIFEST, f"unreadable: {exc}")
            return report
        report.set_id, report.copy_no = int(disc["set"]), int(disc["copy"])
        report.disc_no, report.discs = int(disc["disc"]), int(disc["discs"])
        report.volume_id, report.title = disc.get("volume_id"), disc.get("title")
        manifest_sha = hashlib.sha256(manifest_bytes).hexdigest()
        if manifest_sha != disc.get("manifest_sha256"):
            report.bad(MANIFEST, "its SHA-256 differs from the one recorded in DISC.json")
        known = lookup(report.set_id, report.copy_no, report.disc_no) if lookup else None
        if known is not None:
            report.in_catalog = True
            if manifest_sha != known[0]:
                report.bad(MANIFEST, "its SHA-256 differs from the catalog's (and the label's)")
            image = Path(source.removeprefix("stdio:"))
            if known[1] and _is_regular_file(source) and sha256_file(image) != known[1]:
                report.bad("(whole image)", "image SHA-256 differs from when it was made")
        expected: dict[str, Expected] = {}
        for item in manifest["clips"]:
            if int(item["disc"]) == report.disc_no:
                expected[item["path"]] = Expected(item["size"], item["sha256"], item["blake3"])
        for item in manifest["files"]:
            expected[item["path"]] = Expected(item["size"], item["sha256"], item["blake3"])
        sha_sums = _sums((tmp / SHA256SUMS).read_text(encoding="utf-8"))
        b3_sums = _sums((tmp / B3SUMS).read_text(encoding="utf-8")) if B3SUMS in on_disc else {}
        for path, digest in sha_sums.items():
            want = expected.setdefault(path, Expected(None, None, None))
            if want.sha256 is None:
                want.sha256 = digest
            elif want.sha256 != digest:
                report.bad(path, "SHA256SUMS and MANIFEST.json disagree")
        for path, digest in b3_sums.items():
            want = expected.setdefault(path, Expected(None, None, None))
            if want.blake3 is None:
                want.blake3 = digest
        for path in sorted(on_disc - set(expected) - {SHA256SUMS, B3SUMS}):
            report.bad(path, "on the disc but in no manifest")
        for path in sorted(set(expected) - on_disc):
            report.bad(path, "missing from the disc")
        if (tmp / LEDGER_DIR / "events.jsonl").is_file():
            for problem in check_excerpt(tmp, public_key):
                report.bad(LEDGER_DIR, problem)
            events = (tmp / LEDGER_DIR / "events.jsonl").read_text(encoding="utf-8")
            report.ledger_events = sum(1 for line in events.splitlines() if line.strip())
        present = [p for p in sorted(expected) if p in on_disc]
        extracted = [p for p in present if (tmp / p).exists()]
        to_extract = [p for p in present if not (tmp / p).exists()]
        for path in extracted:
            _check(report, tmp, path, expected[path], progress)
        batch: list[str] = []
        size = 0
        for path in to_extract:
            batch.append(path)
            size += expected[path].size or 0
            if size >= batch_bytes:
                _check_batch(report, source, tmp, batch, expected, progress)
                batch, size = [], 0
        _check_batch(report, source, tmp, batch, expected, progress)
    return report


def _check_batch(report: DiscReport, source: str, tmp: Path, batch: list[str],
                 expected: dict[str, Expected], progress: Callable[[int], None] | None) -> None:
    if not batch:
        return
    try:
        iso.extract(source, batch, tmp)
    except IntegrityError:  # find out which file cannot be read
        for path in batch:
            try:
                iso.extract(source, [path], tmp)
            except IntegrityError as exc:
                report.bad(path, f"unreadable: {exc.english}")
    for path in batch:
        if (tmp / path).exists():
            _check(report, tmp, path, expected[path], progress)


def _check(report: DiscReport, tmp: Path, path: str, want: Expected,
           progress: Callable[[int], None] | None) -> None:
    local = tmp / path
    size, sha, b3 = _hash_file(local)
    local.unlink()
    report.files_checked += 1
    report.bytes_checked += size
    if progress:
        progress(size)
    if want.size is not None and size != want.size:
        report.bad(path, f"size {size}, manifest says {want.size}")
    elif want.sha256 is not None and sha != want.sha256:
        report.bad(path, "SHA-256 does not match the manifest (content changed)")
    elif want.blake3 is not None and b3 != want.blake3:
        report.bad(path, "BLAKE3 does not match the manifest (content changed)")
