"""Making an archive set: hash, lay out over discs, stage, write images, label, catalogue.

Every image is read back and verified after it is written (unless told not to); only a set
whose every disc was made is catalogued, with one ``archive.created`` ledger event. A failure
leaves no catalogue entry and no partial images.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from avledger import verifier
from avledger.core.app import Avledger
from avledger.core.archive import content, iso, media
from avledger.core.archive.excerpt import build_excerpt
from avledger.core.archive.label import LabelText, write_label
from avledger.core.archive.selection import Selection
from avledger.core.archive.verify import DiscReport, read_disc
from avledger.core.units import human_bytes
from avledger.errors import DeviceError, IntegrityError, RefusedError, StorageError
from avledger.i18n import _
from avledger.timestamps import display, local
from avledger.timestamps import iso as iso_time

ARCHIVE_ROLES = ("records_manager",)
# Announces the next blank disc before burning: (copy, disc, discs).
InsertDisc = Callable[[int, int, int], None]
Progress = Callable[[str, int], None]  # (stage, bytes or items)


@dataclass
class DiscImage:
    copy_no: int
    disc_no: int
    discs: int
    volume_id: str
    image: Path
    size: int
    sha256: str
    labels: list[Path]
    clips: list[int]
    verified: DiscReport | None = None
    burned_to: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"copy": self.copy_no, "disc": self.disc_no, "discs": self.discs,
                "volume_id": self.volume_id, "image": str(self.image), "size": self.size,
                "sha256": self.sha256, "labels": [str(p) for p in self.labels],
                "clips": self.clips, "burned_to": self.burned_to,
                "verified": self.verified.ok if self.verified else None,
                "problems": self.verified.problems if self.verified else []}


@dataclass
class ArchiveLayout:
    capacity: int
    discs: list[list[int]]
    bytes: int

    def as_dict(self) -> dict[str, Any]:
        return {"capacity": self.capacity, "discs_per_copy": len(self.discs),
                "bytes": self.bytes, "clips_per_disc": [len(d) for d in self.discs]}


@dataclass
class ArchiveResult:
    set_id: int
    title: str
    media: str
    copies: int
    layout: ArchiveLayout
    manifest_sha256: str
    out_dir: Path
    images: list[DiscImage] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"set": self.set_id, "title": self.title, "media": self.media,
                "copies": self.copies, **self.layout.as_dict(),
                "manifest_sha256": self.manifest_sha256, "out_dir": str(self.out_dir),
                "images": [i.as_dict() for i in self.images], "skipped_purged": self.skipped}


def _sums_size(paths: list[str]) -> int:
    return sum(64 + 3 + len(p) for p in paths)


def layout(sel: Selection, media_name: str, shared: dict[str, bytes]) -> ArchiveLayout:
    """Spread the clips over discs; every disc also carries ``shared`` and its own files."""
    cap = media.capacity(media_name)
    every_disc = [len(data) for data in shared.values()]
    paths = [c.path for c in sel.clips] + list(shared) + [content.DISC]
    every_disc += [2048, _sums_size(paths), _sums_size(paths)]  # DISC.json, the two sums
    room = cap - media.FIXED_OVERHEAD - sum(media.on_disc(n) for n in every_disc)
    if room <= 0:
        raise RefusedError(_("media {media_name} is too small for even the manifest").format(
                               media_name=media_name))
    discs = media.span([media.Piece(c.id, c.size) for c in sel.clips], room)
    return ArchiveLayout(cap, discs, sel.bytes)


def _shared_files(app: Avledger, sel: Selection, *, set_id: int, made_by: str, made_at: str,
                  discs: int, copies: int, sign: bool = True) -> dict[str, bytes]:
    files = dict(build_excerpt(app, sel.subjects(), sign=sign).files)
    files[content.README] = content.readme(
        sel, set_id=set_id, unit=str(app.config.get("site.unit")), made_by=made_by,
        made_at=made_at, discs=discs, copies=copies)
    return files


def plan_archive(app: Avledger, sel: Selection, *, media_name: str,
                 copies: int) -> ArchiveLayout:
    """How the set would be laid out (for --dry-run); writes nothing, signs nothing."""
    shared = _shared_files(app, sel, set_id=9999, made_by=_maker(app), made_at="", discs=99,
                           copies=copies, sign=False)
    shared[content.MANIFEST] = b" " * (600 * len(sel.clips) + 4096)
    return layout(sel, media_name, shared)


def _maker(app: Avledger) -> str:
    a = app.actor
    return f"{a.name}（{a.badge}）" if a.name and a.badge else a.label


def create_archive(app: Avledger, sel: Selection, *, media_name: str, copies: int,
                   out_dir: Path, now: datetime, burn_device: str | None = None,
                   insert_disc: InsertDisc | None = None, verify: bool = True,
                   progress: Progress | None = None) -> ArchiveResult:
    app.actor.require(*ARCHIVE_ROLES, action=_("make archive discs"))
    if copies < 1:
        raise RefusedError(_("at least one copy (rule B, Art. 16 asks for two)"))
    media.capacity(media_name)
    iso.xorriso()
    if burn_device and not burn_device.startswith("stdio:") and not Path(burn_device).exists():
        raise DeviceError(_("no drive at {burn_device}").format(burn_device=burn_device),
                          hint=_("is the burner connected?"))
    out_dir.mkdir(parents=True, exist_ok=True)
    tick = progress or (lambda stage, n: None)
    with app.transaction() as conn:  # reserve the set number; no event until it is complete
        set_id = int(conn.execute(
            "INSERT INTO archive_sets (title, scope, case_id, hold_id, media, capacity, copies,"
            " discs, clips, bytes, out_dir, created_at, created_by)"
            " VALUES (?, ?, ?, ?, ?, 0, ?, 0, ?, ?, ?, ?, ?) RETURNING id",
            (sel.title, json.dumps(sel.scope, ensure_ascii=False), sel.case_id, sel.hold_id,
             media_name, copies, len(sel.clips), sel.bytes, str(out_dir), iso_time(now),
             app.actor.label)).fetchone()[0])
    target = out_dir / f"AVL{set_id:04d}"
    try:
        result = _make(app, sel, set_id=set_id, media_name=media_name, copies=copies,
                       target=target, now=now, burn_device=burn_device,
                       insert_disc=insert_disc, verify=verify, tick=tick)
        _catalogue(app, result, sel, now)
    except BaseException:
        with app.transaction() as conn:
            conn.execute("DELETE FROM archive_discs WHERE set_id = ?", (set_id,))
            conn.execute("DELETE FROM archive_sets WHERE id = ? AND status = 'building'",
                         (set_id,))
        shutil.rmtree(target, ignore_errors=True)
        raise
    return result


def _make(app: Avledger, sel: Selection, *, set_id: int, media_name: str, copies: int,
          target: Path, now: datetime, burn_device: str | None,
          insert_disc: InsertDisc | None, verify: bool,
          tick: Progress) -> ArchiveResult:
    if target.exists():
        raise StorageError(_("{target} already exists").format(target=target))
    made_by = _maker(app)
    tz = app.config.timezone
    made_at = local(now, tz).strftime("%Y-%m-%d %H:%M %Z")
    hashes = content.hash_clips(app.store, sel.clips, lambda n: tick("hashing", n))
    estimate = _shared_files(app, sel, set_id=set_id, made_by=made_by, made_at=made_at,
                             discs=99, copies=copies)
    estimate[content.MANIFEST] = content.manifest(
        sel, set_id=set_id, unit="", made_by=made_by, made_at=made_at, media=media_name,
        copies=copies, discs=[[c.id for c in sel.clips]], clip_hashes=hashes, shared=estimate)
    estimate[content.MANIFEST] += b" " * (8 * len(sel.clips) + 512)
    plan = layout(sel, media_name, estimate)
    shared = _shared_files(app, sel, set_id=set_id, made_by=made_by, made_at=made_at,
                           discs=len(plan.discs), copies=copies)
    manifest = content.manifest(
        sel, set_id=set_id, unit=str(app.config.get("site.unit")), made_by=made_by,
        made_at=made_at, media=media_name, copies=copies, discs=plan.discs,
        clip_hashes=hashes, shared=shared)
    manifest_sha = hashlib.sha256(manifest).hexdigest()
    checkpoint_size = int(shared["ledger/checkpoint.txt"].decode().split("\n")[1])
    result = ArchiveResult(set_id, sel.title, media_name, copies, plan, manifest_sha, target,
                           skipped=sel.skipped)
    target.mkdir(parents=True)
    (target / content.MANIFEST).write_bytes(manifest)
    by_id = {c.id: c for c in sel.clips}
    m = len(plan.discs)
    for n, members in enumerate(plan.discs, 1):
        stage = target / f".stage-disc{n}"
        files = dict(shared) | {content.MANIFEST: manifest}
        entries = {p: content.hash_bytes(d) for p, d in files.items()}
        for path, data in files.items():
            (stage / path).parent.mkdir(parents=True, exist_ok=True)
            (stage / path).write_bytes(data)
        (stage / "clips").mkdir(exist_ok=True)
        for clip_id in members:
            clip = by_id[clip_id]
            app.store.link_into(clip.digest, stage / clip.path)
            entries[clip.path] = hashes[clip_id]
        for k in range(1, copies + 1):
            volume_id = f"AVL{set_id:04d}_C{k}_D{n}OF{m}"
            disc = content.disc_info(set_id=set_id, copy_no=k, copies=copies, disc_no=n,
                                     discs=m, volume_id=volume_id, manifest_sha256=manifest_sha,
                                     title=sel.title)
            (stage / content.DISC).write_bytes(disc)
            per_disc = entries | {content.DISC: content.hash_bytes(disc)}
            (stage / content.SHA256SUMS).write_bytes(content.sums(per_disc, "sha256"))
            (stage / content.B3SUMS).write_bytes(content.sums(per_disc, "blake3"))
            stem = f"AVL{set_id:04d}-copy{k}-disc{n}of{m}"
            image = target / f"{stem}.iso"
            iso.build_image(stage, image, volume_id)
            size = image.stat().st_size
            if size > plan.capacity:
                raise StorageError(_("{name} is {size} bytes, more than the media holds "
                                     "({capacity})").format(
                                       name=image.name, size=size, capacity=plan.capacity))
            clips_here = [by_id[i] for i in members]
            times = sorted(c.recorded_at or c.ingested_at for c in clips_here)
            labels = write_label(LabelText(
                unit=str(app.config.get("site.unit")), maker=made_by,
                made_at=local(now, tz).strftime("%Y年%m月%d日"), title=sel.title,
                set_code=f"AVL{set_id:04d}", volume_id=volume_id, copy_no=k, copies=copies,
                disc_no=n, discs=m, clips=len(clips_here),
                size=human_bytes(sum(c.size for c in clips_here)),
                recorded=f"{display(times[0], tz)[:16]} 至 {display(times[-1], tz)[:16]}",
                reasons=tuple(sel.reasons), manifest_sha256=manifest_sha,
                checkpoint_size=checkpoint_size,
                key_fingerprint=verifier.grouped(verifier.fingerprint(app.public_key()))),
                target / f"{stem}.label.svg")
            item = DiscImage(k, n, m, volume_id, image, size, content.sha256_file(image), labels,
                             list(members))
            tick("image", 1)
            if verify:
                item.verified = _verify_made(image, manifest_sha, item.sha256, app)
            if burn_device:
                if insert_disc:
                    insert_disc(k, n, m)
                iso.burn(stage, burn_device, volume_id)
                item.burned_to = burn_device
                if verify:
                    item.verified = _verify_made(burn_device, manifest_sha, None, app)
                iso.eject(burn_device)
            result.images.append(item)
        shutil.rmtree(stage)
    result.images.sort(key=lambda i: (i.copy_no, i.disc_no))
    return result


def _verify_made(source: str | Path, manifest_sha: str, image_sha: str | None,
                 app: Avledger) -> DiscReport:
    report = read_disc(str(source), lookup=lambda s, c, d: (manifest_sha, image_sha),
                       public_key=app.public_key())
    if not report.ok:
        bad = report.problems[0]
        raise IntegrityError(_("{source} did not verify after writing: {path}: {problem}").format(
                                 source=source, path=bad['path'], problem=bad['problem']))
    return report


def _catalogue(app: Avledger, result: ArchiveResult, sel: Selection, now: datetime) -> None:
    with app.transaction() as conn:
        conn.execute("UPDATE archive_sets SET capacity = ?, discs = ?, manifest_sha256 = ?,"
                     " status = 'complete' WHERE id = ?",
                     (result.layout.capacity, len(result.layout.discs), result.manifest_sha256,
                      result.set_id))
        for img in result.images:
            conn.execute(
                "INSERT INTO archive_discs (set_id, copy_no, disc_no, volume_id, image_path,"
                " image_size, image_sha256, label_path, burned_device, burned_at,"
                " last_verified_at, last_verify_ok, last_verify_detail, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (result.set_id, img.copy_no, img.disc_no, img.volume_id, str(img.image),
                 img.size, img.sha256, str(img.labels[0]), img.burned_to,
                 iso_time(now) if img.burned_to else None,
                 iso_time(now) if img.verified else None,
                 int(img.verified.ok) if img.verified else None,
                 "[]" if img.verified else None, iso_time(now)))
        disc_of = {c: n for n, members in enumerate(result.layout.discs, 1) for c in members}
        paths = {c.id: c.path for c in sel.clips}
        hashes = json.loads((result.out_dir / content.MANIFEST).read_bytes())["clips"]
        conn.executemany(
            "INSERT INTO archive_items (set_id, clip_id, disc_no, path, sha256)"
            " VALUES (?, ?, ?, ?, ?)",
            [(result.set_id, h["clip"], disc_of[h["clip"]], paths[h["clip"]], h["sha256"])
             for h in hashes])
        app.record(conn, "archive.created", f"archive:{result.set_id}", {
            "title": result.title, "scope": sel.scope, "media": result.media,
            "copies": result.copies, "discs": len(result.layout.discs),
            "clips": [c.id for c in sel.clips], "bytes": result.layout.bytes,
            "manifest_sha256": result.manifest_sha256,
            "images": [{"copy": i.copy_no, "disc": i.disc_no, "volume_id": i.volume_id,
                        "sha256": i.sha256, "burned_to": i.burned_to} for i in result.images]})
