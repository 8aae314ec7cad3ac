"""Putting an object without a good copy back in service, from any other copy of its bytes.

``store verify`` moves a corrupt object aside and never repairs it in place; the catalog keeps
the clip and marks the object quarantined, and every later run reports it until it is restored.
Any copy holding the same bytes restores it: an archive disc (image file, drive, or its
mounted folder), the recorder, a second store, a single file. The bytes are checked against
the object's BLAKE3 name before and after they are written, so nothing else can take its place.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import blake3

from avledger.core.app import Avledger
from avledger.errors import IntegrityError, NotFoundError
from avledger.i18n import _
from avledger.timestamps import iso, utcnow

# Catalogued objects whose stored copy is not good: quarantined, or found missing, corrupt
# (left in place by --no-quarantine) or unreadable by the last verification.
WITHOUT_GOOD_COPY = ("quarantined_at IS NOT NULL"
                     " OR verify_status IN ('missing', 'corrupt', 'unreadable')")
ISO_MAGIC_OFFSET, ISO_MAGIC = 0x8001, b"CD001"


def without_good_copy(conn: Any) -> dict[str, int]:
    """Digest → size of every catalogued object that has no good copy in the store."""
    return {r["digest"]: int(r["size"]) for r in conn.execute(
        f"SELECT digest, size FROM objects WHERE {WITHOUT_GOOD_COPY} ORDER BY digest")}


def copy_state(row: Any) -> str:
    """``verified``, ``unverified``, ``quarantined``, ``missing``, ``corrupt`` or
    ``unreadable`` — the state of the stored copy, from its ``objects`` row."""
    if row["quarantined_at"]:
        return "quarantined"
    status = row["verify_status"]
    if status in ("missing", "corrupt", "unreadable"):
        return str(status)
    return "verified" if status == "ok" else "unverified"


@dataclass
class RestoreReport:
    dry_run: bool
    wanted: int = 0  # objects without a good copy when the run started
    restored: list[dict[str, Any]] = field(default_factory=list)
    looked_at: int = 0  # files whose size matched a wanted object and were hashed
    remaining: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "wanted": self.wanted, "restored": self.restored,
                "looked_at": self.looked_at, "remaining": self.remaining}


def restore_objects(app: Avledger, sources: list[Path], *,
                    dry_run: bool = False) -> RestoreReport:
    """Look through ``sources`` for the bytes of every object without a good copy."""
    app.actor.require(action=_("restore objects to the store"))
    wanted = without_good_copy(app.catalog.conn)
    report = RestoreReport(dry_run, wanted=len(wanted))
    for source in sources:
        if not os.path.exists(source):
            raise NotFoundError(_("no such file or folder: {source}").format(source=source))
    for source in sources:
        if not wanted:
            break
        for path, digest, label in _matching_files(source, wanted, report):
            if not dry_run:
                restore_from_file(app, path, digest, wanted[digest], source=label)
            report.restored.append({"object": digest, "size": wanted.pop(digest),
                                    "source": label})
            if not wanted:
                break
    report.remaining = sorted(wanted)
    return report


def restore_from_file(app: Avledger, path: Path, digest: str, size: int, *,
                      source: str, opener: Callable[[], BinaryIO] | None = None) -> None:
    """Store ``path`` as object ``digest`` and mark it in service, with ``object.restored``.

    A corrupt copy left in place (``--no-quarantine``) is moved to quarantine first: the
    store never overwrites an object. ``opener`` reads the file another way (a recorder's
    files are read through the volume's directory descriptor, never by path)."""
    store = app.store
    before = store.verify(digest, size, threads=0)
    if before.status == "ok":
        was = "in place"
    else:
        if before.status in ("corrupt", "unreadable"):
            store.quarantine(digest, f"replaced by restore: {before.detail}")
        with (opener() if opener else open(path, "rb")) as fh:
            put = store.put_stream(fh, expected_size=size)
        if put.digest != digest:
            raise IntegrityError(_("{path} changed while it was read (hashes to {digest})").format(
                                     path=path, digest=put.digest),
                                 hint=_("nothing was restored from it; try again"))
        after = store.verify(digest, size, threads=0)
        if after.status != "ok":
            raise IntegrityError(_("restored object {digest} does not verify: {detail}").format(
                                     digest=digest, detail=after.detail),
                                 hint=_("check the store's disk"))
        was = before.status
    now = iso(utcnow())
    with app.transaction() as conn:
        row = conn.execute("SELECT quarantined_at, verify_status FROM objects WHERE digest = ?",
                           (digest,)).fetchone()
        conn.execute("UPDATE objects SET quarantined_at = NULL, verify_status = 'ok',"
                     " last_verified_at = ? WHERE digest = ?", (now, digest))
        app.record(conn, "object.restored", f"object:{digest}", {
            "size": size, "source": source, "stored_copy": was,
            "was": copy_state(row) if row else "unknown"})


def _matching_files(source: Path, wanted: dict[str, int],
                    report: RestoreReport) -> Iterator[tuple[Path, str, str]]:
    """Files under ``source`` whose bytes are a wanted object: path, digest, and where
    they came from (for the ledger)."""
    if _is_disc(source):
        yield from _from_disc(source, wanted, report)
        return
    sizes = set(wanted.values())
    for path in _files(source):
        try:
            if path.stat().st_size not in sizes:
                continue
            digest = _blake3(path)
        except OSError:
            continue  # unreadable files on a damaged copy are simply not a source
        report.looked_at += 1
        if digest in wanted:
            yield path, digest, str(path)


def _files(source: Path) -> Iterator[Path]:
    if source.is_file():
        yield source
        return
    for top, dirs, names in os.walk(source):
        dirs.sort()
        for name in sorted(names):
            path = Path(top) / name
            if path.is_file() and not path.is_symlink():
                yield path


def _blake3(path: Path) -> str:
    hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
    if path.stat().st_size:
        hasher.update_mmap(path)
    return str(hasher.hexdigest())


def _is_disc(source: Path) -> bool:
    """An ISO 9660 image file, or a disc in a drive (a block device)."""
    try:
        mode = source.stat().st_mode
        if stat.S_ISBLK(mode):
            return True
        if not stat.S_ISREG(mode):
            return False
        with open(source, "rb") as fh:
            fh.seek(ISO_MAGIC_OFFSET)
            return fh.read(len(ISO_MAGIC)) == ISO_MAGIC
    except OSError:
        return False


def _from_disc(source: Path, wanted: dict[str, int],
               report: RestoreReport) -> Iterator[tuple[Path, str, str]]:
    """The archive disc's manifest names each clip's BLAKE3: extract only the wanted ones.

    The archive modules load here: an ingest restores from the recorder, never a disc."""
    from avledger.core.archive import content
    from avledger.core.archive import iso as disc

    on_disc = set(disc.list_files(str(source)))
    if content.MANIFEST not in on_disc:
        raise IntegrityError(_("{source} is a disc image but not an avledger archive disc").format(
                                 source=source),
                             hint=_("mount it and restore from the mounted folder"))
    import tempfile  # only a restore from a disc image needs a scratch folder

    with tempfile.TemporaryDirectory(prefix="avledger-restore-") as tmp:
        disc.extract(str(source), [content.MANIFEST], Path(tmp))
        doc = content.manifest_of((Path(tmp) / content.MANIFEST).read_bytes())
        entries = [e for e in doc.get("clips", [])
                   if e.get("blake3") in wanted and e.get("path") in on_disc]
        disc.extract(str(source), [e["path"] for e in entries], Path(tmp))
        for entry in entries:
            path = Path(tmp) / entry["path"]
            report.looked_at += 1
            if _blake3(path) == entry["blake3"]:
                yield path, entry["blake3"], f"{source}:{entry['path']}"
