"""Copy packages (rule A, Arts. 4, 6, 8): approved copies a court can verify on its own.

A package is a folder ``ACC<request>`` (and optionally a zip of it) holding the clips copied
byte for byte from the store (their BLAKE3 checked while copying), ``MANIFEST.json`` (BLAKE3 and
SHA-256 of every clip and file, and the request), the cover sheet, ``VERIFY.txt``, the
standalone ``verify_ledger.py``, ``SHA256SUMS``/``B3SUMS``, and ``ledger/``: the custody
events about this footage, its case and this request only, each with an inclusion proof
against a signed checkpoint.

The manifest is tied to the ledger: before the excerpt is cut, an ``access.package_sealed``
event records the manifest's SHA-256, every clip's hashes and the list of events the excerpt
will hold; the checkpoint then covers that event, so the verifier can prove the manifest (and
through it every clip) is the one the agency sealed, and that no event was left out. The
package is built in a hidden folder, verified with the standalone verifier, and only then
renamed into place and recorded as fulfilled; a failure leaves no package and the request
still approved.

A clip with a redaction spec attached to the request is copied only in its redacted version;
``redactions/`` then holds its spec and how to re-render it from the original with ffmpeg, and
the manifest and cover sheet say what was hidden and why, per range (never what is under it).
The custody excerpt holds the ``clip.redacted`` event linking original → spec → redacted.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from avledger import verifier
from avledger.core.access import cover
from avledger.core.access.redactions import redacted_versions
from avledger.core.access.requests import mark_fulfilled, ready_to_fulfil
from avledger.core.app import Avledger
from avledger.core.archive.content import Hashes, hash_bytes, hash_clips, sums
from avledger.core.archive.excerpt import DIR as LEDGER_DIR
from avledger.core.archive.excerpt import build_excerpt
from avledger.core.archive.selection import ArchiveClip, select
from avledger.core.caseref import case_by_id
from avledger.core.identity import find_person
from avledger.core.redact.derived import Redaction
from avledger.errors import IntegrityError, RefusedError, StorageError
from avledger.i18n import N_, _
from avledger.store import db
from avledger.store.ledger import Event
from avledger.store.proofs import events_about
from avledger.timestamps import display, iso

MANIFEST, SHA256SUMS, B3SUMS = "MANIFEST.json", "SHA256SUMS", "B3SUMS"
COVER_MD, COVER_HTML, VERIFY_TXT, VERIFIER = ("COVER.md", "COVER.html", "VERIFY.txt",
                                              "verify_ledger.py")
REDACTIONS_DIR = "redactions"
Progress = Callable[[int], None]


@dataclass
class PackageResult:
    package_id: str
    request_id: int
    directory: Path
    zip_path: Path | None
    manifest_sha256: str
    clips: int
    bytes: int
    events: int
    checkpoint_size: int

    def as_dict(self) -> dict[str, Any]:
        return {"package": self.package_id, "request": self.request_id,
                "directory": str(self.directory),
                "zip": str(self.zip_path) if self.zip_path else None,
                "manifest_sha256": self.manifest_sha256, "clips": self.clips,
                "bytes": self.bytes, "ledger_events": self.events,
                "checkpoint_size": self.checkpoint_size}


def package_id_for(request_id: int) -> str:
    return f"ACC{request_id:04d}"


def _who(app: Avledger, label: str | None) -> str:
    """``Name（badge）`` for an actor label such as ``0002:leader``."""
    if not label:
        return "—"
    badge = label.split(":", 1)[0]
    person = find_person(app.config, badge)
    return f"{person['name']}（{badge}）" if person else label


def _cover_facts(app: Avledger, item: dict[str, Any], package_id: str,
                 case: dict[str, Any] | None, clips: list[ArchiveClip],
                 hashes: dict[int, Hashes], now: datetime) -> cover.CoverFacts:
    tz = app.config.timezone
    if item["decided_by"] == "policy":
        approval = f"无需批准 not required (rule A, {item['article']})"
    else:
        approval = f"{_who(app, item['decided_by'])}, {display(item['decided_at'], tz)}"
    return cover.CoverFacts(
        package_id=package_id, unit=str(app.config.get("site.unit")), request=item, case=case,
        registered=f"{display(item['requested_at'], tz)}, {_who(app, item['registered_by'])}",
        approval=approval, made=f"{display(now, tz)} ({tz}), {_who(app, app.actor.label)}",
        public_key=app.public_key(),
        verifier_sha256=hashlib.sha256(Path(verifier.__file__).read_bytes()).hexdigest(),
        clips=[{"clip": c.id, "recorder": c.serial, "recorded": display(c.recorded_at, tz),
                "size": c.size, "sha256": hashes[c.id].sha256, "path": c.path} for c in clips])


def _redaction_files(redacted: dict[int, Redaction]) -> tuple[dict[str, bytes],
                                                                dict[int, dict[str, Any]]]:
    """Per redacted clip: its spec (the canonical bytes its hash names) and how to re-render
    it; and the manifest's account of it (what was hidden and why, per range)."""
    files: dict[str, bytes] = {}
    entries: dict[int, dict[str, Any]] = {}
    for clip_id, red in sorted(redacted.items()):
        spec_path = f"{REDACTIONS_DIR}/clip-{clip_id:06d}.spec.json"
        how_path = f"{REDACTIONS_DIR}/clip-{clip_id:06d}.ffmpeg.txt"
        spec_bytes = red.spec.canonical()
        files[spec_path] = spec_bytes
        files[how_path] = cover.rerender_text(red.original_digest, red.command,
                                              red.ffmpeg_version, red.filter_graph)
        entries[clip_id] = {
            "redaction": red.id, "original_blake3": red.original_digest,
            "spec": {"path": spec_path, "blake3": red.spec_digest,
                     "sha256": hashlib.sha256(spec_bytes).hexdigest()},
            "rerender": how_path, "ffmpeg": red.ffmpeg_version, "filter_graph": red.filter_graph,
            "command": red.command, "operations": red.spec.summary()}
    return files, entries


def _manifest(app: Avledger, item: dict[str, Any], package_id: str,
              case: dict[str, Any] | None, clips: list[ArchiveClip],
              hashes: dict[int, Hashes], files: dict[str, bytes], now: datetime,
              redactions: dict[int, dict[str, Any]]) -> bytes:
    request = {k: item[k] for k in ("id", "requester", "requester_unit", "category", "kind",
                                    "action", "purpose", "documents", "requested_at",
                                    "registered_by", "decided_at", "decided_by", "article",
                                    "confidentiality")}
    doc = {
        "format": verifier.PACKAGE_FORMAT, "package": package_id,
        "unit": str(app.config.get("site.unit")), "made_at": iso(now),
        "made_by": app.actor.label, "request": request, "case": case,
        "clips": [{"clip": c.id, "path": c.path, "size": c.size,
                   "sha256": hashes[c.id].sha256, "blake3": hashes[c.id].blake3,
                   "recorder": c.serial, "source_path": c.source_path,
                   "recorded_at": c.recorded_at, "ingested_at": c.ingested_at,
                   **({"redaction": redactions[c.id]} if c.id in redactions else {})}
                  for c in clips],
        "files": [{"path": path, "size": len(data), **hash_bytes(data).__dict__}
                  for path, data in sorted(files.items())],
    }
    return (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode()


def _excerpt_filter(conn: db.Connection, clips: list[ArchiveClip], case_ids: set[int],
                    request_id: int) -> Callable[[Event], bool]:
    """Which events about the footage belong in the package: none that speaks of a case
    outside the package's scope (a clip may be linked to other cases too), and of this
    request's seals only the newest."""
    others: dict[int, str] = {}
    for clip in clips:
        for row in conn.execute("SELECT k.id, k.number FROM clip_cases cc JOIN cases k"
                                " ON k.id = cc.case_id WHERE cc.clip_id = ?", (clip.id,)):
            if row["id"] not in case_ids:
                others[int(row["id"])] = str(row["number"])

    def keep(event: Event) -> bool:
        if event.subject == f"access:{request_id}":
            return event.type != verifier.SEAL_EVENT
        text = verifier.canonical(event.payload).decode()
        return not any(event.payload.get("case") == k or f"case:{k}" in text or number in text
                       for k, number in others.items())

    return keep


def make_package(app: Avledger, request_id: int, out_dir: Path, *, now: datetime,
                 make_zip: bool = False, progress: Progress | None = None) -> PackageResult:
    """Fulfil a copy request with a verified package in ``out_dir/ACC<request>``."""
    item = ready_to_fulfil(app, request_id)
    if item["action"] != "copy":
        raise RefusedError(_("request {request_id} is for a viewing, not a copy").format(
                               request_id=request_id))
    package_id = package_id_for(request_id)
    target = out_dir / package_id
    zip_path = out_dir / f"{package_id}.zip" if make_zip else None
    for path in (target, zip_path):
        if path is not None and path.exists():
            raise StorageError(_("{path} already exists").format(path=path),
                               hint=_("move it away first"))
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(_("cannot create {out_dir}: {strerror}").format(
                               out_dir=out_dir, strerror=exc.strerror)) from exc
    stage = out_dir / f".{package_id}.partial-{os.getpid()}"
    made: list[Path] = []
    try:
        try:
            stage.mkdir()
            result = _build(app, item, package_id, stage, now, progress)
            os.rename(stage, target)
        except OSError as exc:
            raise _write_error(exc, target) from exc
        made.append(target)
        result.directory = target
        if zip_path is not None:
            _zip(target, zip_path)
            made.append(zip_path)
            result.zip_path = zip_path
        with app.transaction() as conn:
            conn.execute(
                "INSERT INTO access_packages (id, request_id, made_at, made_by, directory,"
                " zip_path, manifest_sha256, clips, bytes, checkpoint_size)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (package_id, request_id, iso(now), app.actor.label, str(target),
                 str(zip_path) if zip_path else None, result.manifest_sha256, result.clips,
                 result.bytes, result.checkpoint_size))
            mark_fulfilled(app, conn, request_id, now, package_id)
            app.record(conn, "access.fulfilled", f"access:{request_id}", {
                "package": package_id, "manifest_sha256": result.manifest_sha256,
                "clips": result.clips, "bytes": result.bytes, "directory": str(target),
                "zip": str(zip_path) if zip_path else None})
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        for path in made:
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(
                missing_ok=True)
        raise
    return result


def _build(app: Avledger, item: dict[str, Any], package_id: str, stage: Path, now: datetime,
           progress: Progress | None) -> PackageResult:
    conn = app.catalog.conn
    request_id = int(item["id"])
    redacted = redacted_versions(app, item, now)  # such clips leave only redacted
    clips = [replace(c, digest=redacted[c.id].digest, size=redacted[c.id].size)
             if c.id in redacted else c
             for c in select(conn, clips=item["clips"], title=package_id).clips]
    hashes = hash_clips(app.store, clips, progress, copy_into=stage,
                        outcome=N_("no package was made"))
    case = None
    case_ids: set[int] = set()
    if item["case_id"] is not None:
        k = case_by_id(conn, item["case_id"])
        case, case_ids = {"number": k.number, "name": k.name}, {k.id}
    else:
        case_ids = {int(r[0]) for c in clips for r in conn.execute(
            "SELECT case_id FROM clip_cases WHERE clip_id = ?", (c.id,))}
    redaction_files, redaction_entries = _redaction_files(redacted)
    facts = _cover_facts(app, item, package_id, case, clips, hashes, now)
    facts = replace(facts, redactions=[{"clip": k, **v} for k, v in
                                       sorted(redaction_entries.items())])
    files = {COVER_MD: cover.markdown(facts), COVER_HTML: cover.html_page(facts),
             VERIFY_TXT: cover.verify_text(package_id, app.public_key()),
             VERIFIER: Path(verifier.__file__).read_bytes(), **redaction_files}
    manifest = _manifest(app, item, package_id, case, clips, hashes, files, now,
                         redaction_entries)
    files[MANIFEST] = manifest
    manifest_sha = hashlib.sha256(manifest).hexdigest()
    subjects = ([f"clip:{c.id}" for c in clips] + [f"case:{k}" for k in sorted(case_ids)]
                + [f"access:{request_id}"])
    keep = _excerpt_filter(conn, clips, case_ids, request_id)
    chosen = {e.seq for e in events_about(conn, subjects) if keep(e)}
    with app.transaction() as wconn:
        seal = app.record(wconn, verifier.SEAL_EVENT, f"access:{request_id}", {
            "package": package_id, "manifest_sha256": manifest_sha,
            "clips": [{"clip": c.id, "path": c.path, "size": c.size,
                       "sha256": hashes[c.id].sha256, "blake3": hashes[c.id].blake3,
                       **({"redaction": redacted[c.id].id,
                           "original_blake3": redacted[c.id].original_digest}
                          if c.id in redacted else {})}
                      for c in clips],
            "excerpt": sorted(chosen)})
    excerpt = build_excerpt(app, subjects, keep=lambda e: e.seq in chosen or e.seq == seal.seq)
    excerpt.files.pop(f"{LEDGER_DIR}/verify_ledger.py", None)
    files.update(excerpt.files)
    for path, data in files.items():
        (stage / path).parent.mkdir(parents=True, exist_ok=True)
        (stage / path).write_bytes(data)
    entries = {p: hash_bytes(d) for p, d in files.items()}
    entries.update({c.path: hashes[c.id] for c in clips})
    (stage / SHA256SUMS).write_bytes(sums(entries, "sha256"))
    (stage / B3SUMS).write_bytes(sums(entries, "blake3"))
    problems = verifier.verify_package(stage, app.public_key())[1]
    if problems:
        raise IntegrityError(_("the package did not verify after it was made: {problems}").format(
                                 problems=problems[0]))
    _fsync_tree(stage)
    return PackageResult(package_id, request_id, stage, None, manifest_sha, len(clips),
                         sum(c.size for c in clips), excerpt.events, excerpt.size)


def _write_error(exc: OSError, target: Path) -> StorageError:
    if exc.errno == errno.ENOSPC:
        return StorageError(_("disk full while writing package {name} in {parent}; nothing was "
                              "handed out").format(name=target.name,
                                                        parent=target.parent),
                            hint=_("free space or use --out elsewhere"))
    if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
        return StorageError(_("{target} already exists (made "
                              "meanwhile by another process?)").format(
                                target=target))
    return StorageError(_("cannot write package {target}: {error}").format(
                            target=target, error=exc.strerror or exc))


def _fsync_tree(root: Path) -> None:
    """Files first, then their folders, so the renamed package is on disk as a whole."""
    for path in [*sorted(root.rglob("*"), reverse=True), root]:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _zip(folder: Path, zip_path: Path) -> None:
    """``ACC0007.zip`` holding the folder ``ACC0007/`` (footage stored, text deflated)."""
    tmp = zip_path.with_name(f".{zip_path.name}.partial-{os.getpid()}")
    try:
        with zipfile.ZipFile(tmp, "x") as zf:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    name = f"{folder.name}/{path.relative_to(folder).as_posix()}"
                    method = (zipfile.ZIP_STORED if path.parts[-2] == "clips"
                              else zipfile.ZIP_DEFLATED)
                    zf.write(path, name, compress_type=method)
        os.rename(tmp, zip_path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StorageError(_("cannot write {zip_path}: {error}").format(
                               zip_path=zip_path, error=exc.strerror or exc)) from exc
