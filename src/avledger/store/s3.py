"""S3 Object Lock backend: ``<prefix>objects/ab/cd/<blake3-hex>`` in a versioned, locked bucket.

The store itself enforces what avledger decides: every object version is written with an
Object Lock retention (governance or compliance mode) and carries a legal hold while avledger
holds it, so a purge the lock forbids is refused by the store, whoever asks.

Write path. The key is the BLAKE3 of the content, so it is known only after a full read; S3
has no rename, and uploading under a temporary key then copying would move the bytes twice
over the network. So a first pass reads the source once and computes BLAKE3 (the key) and
SHA-256 (per part for large clips); the upload is skipped when the key exists (dedup). The
second pass re-reads the just-read clip (from the page cache) and sends it with
``ChecksumSHA256``: the server verifies it against what the first pass saw, so a source that
changed between the passes is rejected by the server, never stored under the wrong name. The
second pass runs in the background (``s3upload``) while the caller names the next clip;
``publish`` waits for a group's uploads before its rows commit.
Large clips go up in parts; the upload id is kept in a small state file, so a re-run after an
interruption asks the server (ListParts) which parts it has and sends only the rest.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import blake3

from avledger.errors import (
    AvledgerError,
    IntegrityError,
    NotFoundError,
    StorageError,
    StoreRefusedError,
)
from avledger.i18n import _
from avledger.store.backend import ObjectStat, Progress, PutResult, Staged, VerifyResult
from avledger.store.local import CHUNK, SourceReadError, _is_digest, _relative
from avledger.store.s3client import LockState, S3Settings, client_error_code, make_client
from avledger.store.s3upload import Reread, Sending, Uploader, first_error

STALE_UPLOAD_SECONDS = 24 * 3600


@dataclass
class _Pass:
    """What the first read of a source found."""

    digest: str
    size: int
    sums: list[str]  # base64 SHA-256: of the whole content, or of each part


class S3ObjectStore:
    """Content-addressed objects in an S3 bucket with Object Lock."""

    locks = True  # the store enforces retention and legal holds itself
    stages_in_background = True  # uploads run on while the next clip is named

    def __init__(self, settings: S3Settings, state_dir: Path, client: Any = None) -> None:
        self.settings = settings
        self.state_dir = Path(state_dir)
        self._client = client
        self._client_lock = threading.Lock()
        self._ready = False
        self._uploads: Uploader | None = None

    @property
    def client(self) -> Any:
        """The boto3 client, made on first use. Importing boto3 and building a client take
        0.2-0.5 s from a cold disk, which a command that never reaches the bucket need not
        pay; and an ingest pays it better late than early (docs/benchmarks.md, "S3": built
        when the store opened, the S3 ingest took 5.9 s against 5.5 s, medians of 4 and 14
        alternating rounds; at the start the import's reads compete with the program's own
        and with reading the recorder ahead)."""
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    self._client = make_client(self.settings)
        return self._client

    # -- names -------------------------------------------------------------------------
    @property
    def location(self) -> str:
        return f"s3://{self.settings.bucket}/{self.settings.prefix}"

    def key_for(self, digest: str) -> str:
        if not _is_digest(digest):
            raise NotFoundError(_("not an object id: {digest!r}").format(digest=digest))
        return f"{self.settings.prefix}objects/{_relative(digest)}"

    @property
    def _bucket(self) -> str:
        return self.settings.bucket

    # -- set-up --------------------------------------------------------------------------
    def create(self) -> bool:
        """Create the bucket with Object Lock when it does not exist; True when created."""
        self.state_dir.mkdir(mode=0o750, parents=True, exist_ok=True)
        created = False
        try:
            self.client.head_bucket(Bucket=self._bucket)
        except Exception as exc:
            if client_error_code(exc) not in ("404", "NoSuchBucket", "NotFound"):
                raise self._error(exc, _("reaching the bucket")) from exc
            try:
                self.client.create_bucket(Bucket=self._bucket, ObjectLockEnabledForBucket=True)
            except Exception as exc2:
                raise self._error(exc2, _("creating the bucket")) from exc2
            created = True
        self._ready = False
        self.check_ready()
        return created

    def check_ready(self) -> None:
        """The bucket exists and has Object Lock (otherwise nothing would be enforced)."""
        if self._ready:
            return
        try:
            cfg = self.client.get_object_lock_configuration(Bucket=self._bucket)
        except Exception as exc:
            if client_error_code(exc) in ("404", "NoSuchBucket"):
                raise StorageError(_("no bucket {bucket!r} at {endpoint_url}").format(
                                       bucket=self._bucket,
                                       endpoint_url=self.settings.endpoint_url),
                                   hint=_("run 'avledger init' first")) from exc
            if client_error_code(exc) == "ObjectLockConfigurationNotFoundError":
                raise StorageError(_("bucket {bucket!r} has no Object Lock; evidence cannot be "
                                     "stored there").format(bucket=self._bucket),
                                   hint=_("use a bucket created with Object Lock")) from exc
            raise self._error(exc, _("reading the bucket's Object Lock configuration")) from exc
        if cfg.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") != "Enabled":
            raise StorageError(_("bucket {bucket!r} has no Object Lock").format(
                                   bucket=self._bucket),
                               hint=_("use a bucket created with Object Lock"))
        self._ready = True

    # -- writing ------------------------------------------------------------------------
    def put_stream(
        self, source: BinaryIO, *, expected_size: int | None = None,
        progress: Progress | None = None,
    ) -> PutResult:
        return self.publish([self.stage_stream(source, expected_size=expected_size,
                                               progress=progress)])[0]

    def put_bytes(self, data: bytes) -> PutResult:
        return self.put_stream(io.BytesIO(data), expected_size=len(data))

    # An upload is durable when S3 acknowledges it. Staging names the clip (the first pass)
    # and starts its upload in the background; publishing waits until the group's uploads
    # are acknowledged, so the catalog rows commit only for objects the store holds.
    def stage_stream(
        self, source: BinaryIO, *, expected_size: int | None = None,
        progress: Progress | None = None,
    ) -> Staged:
        """Name ``source`` (BLAKE3, and the SHA-256 the server checks) in one read, then
        upload it in the background from a second read; ``progress`` follows the first."""
        self.check_ready()
        if not _seekable(source):
            with tempfile.TemporaryFile(dir=self._spool_dir()) as spool:
                _spool(source, spool)
                return self._stage(spool, expected_size, progress, wait=True)
        # a source without a descriptor is read again through itself: before returning
        return self._stage(source, expected_size, progress, wait=not _has_fd(source))

    def _stage(self, source: BinaryIO, expected_size: int | None, progress: Progress | None,
               *, wait: bool) -> Staged:
        uploads = self._uploader()
        uploads.wait_for_room()
        start = source.tell()
        size = source.seek(0, io.SEEK_END) - start
        source.seek(start)
        multipart = size > self.settings.multipart_threshold
        first = _first_pass(source, self.settings.part_size if multipart else 0, progress)
        if expected_size is not None and first.size != expected_size:
            raise SourceReadError(
                _("source ended early: read {size} of {expected_size} bytes").format(
                    size=first.size, expected_size=expected_size)
                if first.size < expected_size else
                _("source grew while being read: {size} bytes, expected {expected_size}").format(
                    size=first.size, expected_size=expected_size))
        if self.exists(first.digest):
            existing = self.stat(first.digest).size
            if existing != first.size:
                raise IntegrityError(
                    _("object {digest} exists with size {existing}, expected {size}").format(
                        digest=first.digest, existing=existing, size=first.size),
                    hint=_("run 'avledger store verify' and quarantine it"))
            return Staged(first.digest, first.size, PutResult(first.digest, first.size, False))
        reread = Reread(source, start, None if wait else source.fileno())
        send = self._put_parts if multipart else self._put_single
        sending = uploads.start(first.digest, first.size, lambda: send(reread, first), reread)
        staged = Staged(first.digest, first.size, sending)
        if wait:  # the caller's own object (or a spool about to go): finished before returning
            self._settled([staged])
        return staged

    def _uploader(self) -> Uploader:
        if self._uploads is None:
            window = 2 * self.settings.part_size * max(1, self.settings.max_concurrency)
            self._uploads = Uploader(self.settings.max_concurrency, window)
        return self._uploads

    def publish(self, staged: Sequence[Staged]) -> list[PutResult]:
        """Wait for the group's uploads; if any failed, raise (a store failure before a
        source's) once all have ended, so the caller records none of the group."""
        return self._settled(staged)

    def _settled(self, staged: Sequence[Staged]) -> list[PutResult]:
        results: list[PutResult] = []
        errors: list[AvledgerError] = []
        for item in staged:
            handle = item.handle
            if isinstance(handle, PutResult):
                results.append(handle)
                continue
            assert isinstance(handle, Sending)
            try:
                results.append(PutResult(item.digest, item.size, handle.result()))
            except AvledgerError as exc:
                errors.append(exc)
        if errors:
            raise first_error(errors)
        return results

    def discard(self, staged: Sequence[Staged]) -> None:
        """Let the uploads end (content-addressed: an object sent is harmless, and an
        unfinished multipart upload is resumed by the next put of that clip)."""
        for item in staged:
            if isinstance(item.handle, Sending):
                item.handle.settle()

    def open_staged(self, staged: Staged) -> BinaryIO:
        """The staged clip's bytes: from its source while the upload runs (so reading its
        duration waits for no upload), from the store once sent."""
        handle = staged.handle
        if isinstance(handle, Sending) and handle.source is not None:
            reopened = handle.source.reopen()
            if reopened is not None:
                return reopened
            handle.result()  # ended: raises its failure, if it failed
        return self.open(staged.digest)

    def _lock_args(self) -> dict[str, Any]:
        until = datetime.now(UTC) + timedelta(days=self.settings.min_retention_days)
        return {"ObjectLockMode": self.settings.lock_mode.upper(),
                "ObjectLockRetainUntilDate": until}

    # -- signed checkpoints ------------------------------------------------------------
    def checkpoint_key(self, size: int) -> str:
        return f"{self.settings.prefix}checkpoints/{size:020d}.txt"

    def put_checkpoint(self, size: int, note: str) -> str:
        """Keep a signed checkpoint as an object under a COMPLIANCE lock (whatever lock_mode
        says): nobody, not even the bucket's owner, can delete or overwrite it before its
        date, so a rollback of the catalog and the checkpoint file cannot take it along."""
        until = datetime.now(UTC) + timedelta(days=self.settings.min_retention_days)
        key = self.checkpoint_key(size)
        try:
            self.client.put_object(Bucket=self._bucket, Key=key, Body=note.encode(),
                                   ContentType="text/plain; charset=utf-8",
                                   ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=until)
        except Exception as exc:
            raise self._error(exc, _("writing checkpoint {size}").format(size=size)) from exc
        return f"s3://{self._bucket}/{key}"

    def latest_checkpoint(self) -> tuple[str, str] | None:
        """(s3 URL, note) of the largest checkpoint kept in the bucket, or None."""
        names = [n for n in self._keys("checkpoints/") if n.endswith(".txt")]
        if not names:
            return None
        key = f"{self.settings.prefix}checkpoints/{max(names)}"
        try:
            body = self.client.get_object(Bucket=self._bucket, Key=key)["Body"].read()
        except Exception as exc:
            raise self._error(exc, _("reading the newest checkpoint")) from exc
        return f"s3://{self._bucket}/{key}", body.decode("utf-8")

    def _put_single(self, source: Reread, first: _Pass) -> None:
        body = source.read(0, first.size)
        try:
            self.client.put_object(Bucket=self._bucket, Key=self.key_for(first.digest),
                                   Body=body, ChecksumSHA256=first.sums[0], **self._lock_args())
        except Exception as exc:
            raise self._upload_error(exc, first.digest) from exc

    def _put_parts(self, source: Reread, first: _Pass) -> None:
        """Send the parts the server does not hold yet (all of them, unless an earlier
        upload of this clip is resumed) through the shared part threads, then complete."""
        key = self.key_for(first.digest)
        state = self._resume(first, key)
        done: dict[int, str] = state["done"]
        part_size = self.settings.part_size
        todo = [n for n in range(1, len(first.sums) + 1) if n not in done]

        def send(number: int) -> tuple[int, str]:
            offset = (number - 1) * part_size
            data = source.read(offset, min(part_size, first.size - offset))
            try:
                res = self.client.upload_part(
                    Bucket=self._bucket, Key=key, UploadId=state["upload_id"],
                    PartNumber=number, Body=data, ChecksumSHA256=first.sums[number - 1])
            except Exception as exc:
                raise self._upload_error(exc, first.digest) from exc
            return number, str(res["ETag"])

        def sent(part: tuple[int, str]) -> None:
            done[part[0]] = part[1]
            self._save_state(first.digest, state)

        uploads = self._uploader()
        Uploader.gather([uploads.part(send, n) for n in todo], sent)
        parts = [{"PartNumber": n, "ETag": done[n], "ChecksumSHA256": first.sums[n - 1]}
                 for n in sorted(done)]
        try:
            self.client.complete_multipart_upload(
                Bucket=self._bucket, Key=key, UploadId=state["upload_id"],
                MultipartUpload={"Parts": parts})
        except Exception as exc:
            raise self._upload_error(exc, first.digest) from exc
        self._state_path(first.digest).unlink(missing_ok=True)

    def _resume(self, first: _Pass, key: str) -> dict[str, Any]:
        """The upload to continue (parts the server holds with the checksums we expect),
        or a new one; an unusable earlier upload is aborted."""
        path = self._state_path(first.digest)
        with contextlib.suppress(FileNotFoundError, ValueError):
            old = json.loads(path.read_text(encoding="utf-8"))
            if old.get("part_size") == self.settings.part_size and old.get("key") == key:
                listed = self._listed_parts(key, str(old["upload_id"]))
                if listed is not None:
                    saved = {int(k): v for k, v in old.get("done", {}).items()}
                    done = {n: etag for n, (etag, chk) in listed.items()
                            if n <= len(first.sums) and _same_part(
                                chk, first.sums[n - 1], etag, saved.get(n))}
                    return {**old, "done": done, "resumed": sorted(done)}
            self._abort(key, str(old["upload_id"]))
        try:
            res = self.client.create_multipart_upload(
                Bucket=self._bucket, Key=key, ChecksumAlgorithm="SHA256", **self._lock_args())
        except Exception as exc:
            raise self._upload_error(exc, first.digest) from exc
        state = {"upload_id": res["UploadId"], "key": key, "part_size": self.settings.part_size,
                 "started": time.time(), "pid": os.getpid(), "done": {}, "resumed": []}
        self._save_state(first.digest, state)
        return state

    def _listed_parts(self, key: str, upload_id: str) -> dict[int, tuple[str, str]] | None:
        parts: dict[int, tuple[str, str]] = {}
        try:
            for page in self.client.get_paginator("list_parts").paginate(
                    Bucket=self._bucket, Key=key, UploadId=upload_id):
                for p in page.get("Parts", []):
                    parts[int(p["PartNumber"])] = (str(p["ETag"]), str(p.get("ChecksumSHA256")))
        except Exception as exc:
            if client_error_code(exc) in ("NoSuchUpload", "404"):
                return None
            raise self._error(exc, _("listing the parts of an interrupted upload")) from exc
        return parts

    def _abort(self, key: str, upload_id: str) -> None:
        with contextlib.suppress(Exception):
            self.client.abort_multipart_upload(Bucket=self._bucket, Key=key, UploadId=upload_id)

    def _state_path(self, digest: str) -> Path:
        return self.state_dir / "uploads" / f"{digest}.json"

    def _save_state(self, digest: str, state: dict[str, Any]) -> None:
        path = self._state_path(digest)
        path.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({**state, "done": {str(k): v for k, v in
                                                     state["done"].items()}}), encoding="utf-8")
        os.replace(tmp, path)

    def upload_state(self, digest: str) -> dict[str, Any] | None:
        """The saved state of an unfinished multipart upload (for status and tests)."""
        try:
            raw: dict[str, Any] = json.loads(self._state_path(digest).read_text("utf-8"))
        except FileNotFoundError:
            return None
        raw["done"] = {int(k): v for k, v in raw.get("done", {}).items()}
        return raw

    def _spool_dir(self) -> Path:
        d = self.state_dir / "spool"
        d.mkdir(mode=0o750, parents=True, exist_ok=True)
        return d

    # -- reading ------------------------------------------------------------------------
    def open(self, digest: str) -> BinaryIO:
        size = self.stat(digest).size
        raw = _ObjectReader(self.client, self._bucket, self.key_for(digest), size)
        return io.BufferedReader(raw, buffer_size=CHUNK)

    def exists(self, digest: str) -> bool:
        try:
            self.client.head_object(Bucket=self._bucket, Key=self.key_for(digest))
        except Exception as exc:
            if client_error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise self._error(exc, _("looking up object {digest}").format(digest=digest)) from exc
        return True

    def stat(self, digest: str) -> ObjectStat:
        try:
            head = self.client.head_object(Bucket=self._bucket, Key=self.key_for(digest))
        except Exception as exc:
            if client_error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                raise NotFoundError(_("object {digest} is not in the store").format(
                                        digest=digest)) from exc
            raise self._error(exc, _("looking up object {digest}").format(digest=digest)) from exc
        return ObjectStat(digest, int(head["ContentLength"]), head["LastModified"].timestamp())

    def _keys(self, under: str) -> Iterator[str]:
        prefix = f"{self.settings.prefix}{under}"
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(
                    Bucket=self._bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield str(item["Key"])[len(prefix):]
        except Exception as exc:
            raise self._error(exc, _("listing the bucket")) from exc

    def iterate(self) -> Iterator[str]:
        for rel in self._keys("objects/"):
            name = rel.rsplit("/", 1)[-1]
            if _is_digest(name) and rel == _relative(name):
                yield name

    def strays(self) -> list[str]:
        return sorted(rel for rel in self._keys("objects/")
                      if not (_is_digest(rel.rsplit("/", 1)[-1])
                              and rel == _relative(rel.rsplit("/", 1)[-1])))

    def verify(self, digest: str, expected_size: int | None = None, *,
               threads: int = 0) -> VerifyResult:
        """Stream the object back and re-hash it (the bytes as the store serves them)."""
        try:
            body = self.client.get_object(Bucket=self._bucket, Key=self.key_for(digest))["Body"]
        except Exception as exc:
            if client_error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                return VerifyResult(digest, "missing", "not in the bucket")
            return VerifyResult(digest, "unreadable", str(exc))
        hasher = blake3.blake3(max_threads=threads or blake3.blake3.AUTO)
        size = 0
        try:
            for chunk in body.iter_chunks(CHUNK):
                hasher.update(chunk)
                size += len(chunk)
        except Exception as exc:
            return VerifyResult(digest, "unreadable", str(exc), size)
        finally:
            body.close()
        if expected_size is not None and size != expected_size:
            return VerifyResult(digest, "corrupt", f"size {size}, catalog says {expected_size}",
                                size)
        actual = hasher.hexdigest()
        if actual != digest:
            return VerifyResult(digest, "corrupt", f"content hashes to {actual[:16]}…", size)
        return VerifyResult(digest, "ok", "", size)

    def link_into(self, digest: str, dest: Path) -> None:
        """A read-only local copy for tools that need a file name (xorriso)."""
        try:
            self.client.download_file(self._bucket, self.key_for(digest), str(dest))
            os.chmod(dest, 0o444)
        except Exception as exc:
            if client_error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                raise NotFoundError(_("object {digest} is not in the store").format(
                                        digest=digest)) from exc
            if isinstance(exc, OSError):
                raise StorageError.from_os(exc, _("copying an object for export")) from exc
            raise self._error(exc, _("copying object "
                                     "{digest} for export").format(digest=digest)) from exc

    # -- Object Lock ---------------------------------------------------------------------
    def _versions(self, digest: str) -> list[dict[str, Any]]:
        """Every version and delete marker of the object's key."""
        key = self.key_for(digest)
        out: list[dict[str, Any]] = []
        try:
            for page in self.client.get_paginator("list_object_versions").paginate(
                    Bucket=self._bucket, Prefix=key):
                out += [v for v in page.get("Versions", []) if v["Key"] == key]
                out += [{**m, "marker": True} for m in page.get("DeleteMarkers", [])
                        if m["Key"] == key]
        except Exception as exc:
            raise self._error(exc, _("listing the versions of object {digest}").format(
                                       digest=digest)) from exc
        return out

    def lock_state(self, digest: str) -> LockState:
        """Retention and legal hold of the object's current version."""
        key = self.key_for(digest)
        try:
            head = self.client.head_object(Bucket=self._bucket, Key=key)
        except Exception as exc:
            if client_error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                raise NotFoundError(_("object {digest} is not in the store").format(
                                        digest=digest)) from exc
            raise self._error(exc, _("reading the lock "
                                     "of object {digest}").format(digest=digest)) from exc
        return LockState(str(head.get("VersionId") or ""), head.get("ObjectLockMode"),
                         head.get("ObjectLockRetainUntilDate"),
                         head.get("ObjectLockLegalHoldStatus") == "ON")

    def _version_locks(self, digest: str) -> list[LockState]:
        """The lock of every version of the object (one HEAD each: mode, date, hold)."""
        out = []
        for v in self._versions(digest):
            if v.get("marker"):
                continue
            try:
                head = self.client.head_object(Bucket=self._bucket, Key=self.key_for(digest),
                                               VersionId=v["VersionId"])
            except Exception as exc:
                raise self._error(exc, _("reading the lock of object {digest}").format(
                                           digest=digest)) from exc
            out.append(LockState(str(v["VersionId"]), head.get("ObjectLockMode"),
                                 head.get("ObjectLockRetainUntilDate"),
                                 head.get("ObjectLockLegalHoldStatus") == "ON"))
        return out

    def apply_lock(self, digest: str, until: datetime | None,
                   held: bool | None) -> tuple[bool, bool]:
        """Extend every version's retain-until to ``until`` (never shortens) and set its
        legal hold to ``held`` (None: leave as is); (retention changed, hold changed)."""
        extended = hold_changed = False
        key = self.key_for(digest)
        for lock in self._version_locks(digest):
            if until is not None and (lock.retain_until is None or lock.retain_until < until):
                mode = lock.mode or self.settings.lock_mode.upper()
                try:
                    self.client.put_object_retention(
                        Bucket=self._bucket, Key=key, VersionId=lock.version_id,
                        Retention={"Mode": mode, "RetainUntilDate": until})
                except Exception as exc:
                    raise self._error(exc, _("extending the retention of {digest}").format(
                                               digest=digest)) from exc
                extended = True
            if held is not None and lock.legal_hold != held:
                try:
                    self.client.put_object_legal_hold(
                        Bucket=self._bucket, Key=key, VersionId=lock.version_id,
                        LegalHold={"Status": "ON" if held else "OFF"})
                except Exception as exc:
                    raise self._error(exc, _("setting the legal hold of {digest}").format(
                                               digest=digest)) from exc
                hold_changed = True
        return extended, hold_changed

    def retain(self, digest: str, until: datetime) -> bool:
        return self.apply_lock(digest, until, None)[0]

    def set_legal_hold(self, digest: str, on: bool) -> bool:
        return self.apply_lock(digest, None, on)[1]

    # -- removal ------------------------------------------------------------------------
    def delete(self, digest: str) -> bool:
        """Delete every version of the object (a mere delete marker would leave the bytes),
        unless the store refuses: then StoreRefusedError says why. avledger writes one
        version per object, so a refusal leaves the object as it was."""
        versions = self._versions(digest)
        real = [v for v in versions if not v.get("marker")]
        for v in versions:
            try:
                self.client.delete_object(Bucket=self._bucket, Key=self.key_for(digest),
                                          VersionId=v["VersionId"])
            except Exception as exc:
                if client_error_code(exc) in ("AccessDenied", "403"):
                    raise self._refusal(digest) from exc
                raise self._error(exc, _("deleting object {digest}").format(digest=digest)) from exc
        return bool(real)

    def _refusal(self, digest: str) -> StoreRefusedError:
        try:
            lock = self.lock_state(digest)
        except Exception:
            return StoreRefusedError(_("store refuses to delete {digest} (access denied)").format(
                                         digest=digest))
        why = []
        if lock.legal_hold:
            why.append("under an S3 legal hold")
        if lock.mode and lock.retain_until and lock.retain_until > datetime.now(UTC):
            why.append(f"under {lock.mode} retention until "
                       f"{lock.retain_until.astimezone(UTC).isoformat(timespec='seconds')}")
        return StoreRefusedError(_("store refuses to delete {digest}: {value}").format(
                                     digest=digest, value=' and '.join(why) or 'access denied'))

    def quarantine(self, digest: str, reason: str) -> str | None:
        """Copy a bad object to ``quarantine/`` with its reason, then try to delete it; the
        lock may refuse the deletion, which the returned text then says."""
        key = self.key_for(digest)
        if not self.exists(digest):
            return None
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        target = f"{self.settings.prefix}quarantine/{digest}.{stamp}"
        try:
            self.client.copy_object(Bucket=self._bucket, Key=target,
                                    CopySource={"Bucket": self._bucket, "Key": key})
            self.client.put_object(Bucket=self._bucket, Key=f"{target}.reason",
                                   Body=(reason + "\n").encode())
        except Exception as exc:
            raise self._error(exc, _("copying object {digest} to quarantine").format(
                                       digest=digest)) from exc
        where = f"s3://{self._bucket}/{target}"
        try:
            self.delete(digest)
        except StoreRefusedError as exc:
            return f"{where} (copy; the original stays: {exc.message})"
        return where

    def sweep_temp(self, older_than: float = STALE_UPLOAD_SECONDS) -> int:
        """Abort multipart uploads under our prefix begun more than ``older_than`` ago."""
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than)
        aborted = 0
        try:
            pages = self.client.get_paginator("list_multipart_uploads").paginate(
                Bucket=self._bucket, Prefix=f"{self.settings.prefix}objects/")
            for page in pages:
                for up in page.get("Uploads", []):
                    if up["Initiated"] < cutoff:
                        self._abort(up["Key"], up["UploadId"])
                        aborted += 1
        except Exception as exc:
            raise self._error(exc, _("listing unfinished uploads")) from exc
        stale = time.time() - older_than
        for path in (self.state_dir / "uploads").glob("*.json"):
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime < stale:
                    path.unlink()
        return aborted

    def sweep_abandoned(self) -> int:
        """Nothing to do: an interrupted upload is resumed by the next put of that clip."""
        return 0

    def temp_files(self) -> list[str]:
        d = self.state_dir / "uploads"
        return sorted(p.name for p in d.glob("*.json")) if d.is_dir() else []

    # -- errors --------------------------------------------------------------------------
    def _error(self, exc: BaseException, what: str) -> StorageError:
        code = client_error_code(exc)
        return StorageError(_("S3 store {location}: {value} while {what}: {exc}").format(
                                location=self.location, value=code or type(exc).__name__,
                                what=what,
                                         exc=exc),
                            hint=_("check store.s3 in the configuration and "
                                                     "that the S3 service is reachable"))

    def _upload_error(self, exc: BaseException, digest: str) -> AvledgerError:
        if client_error_code(exc) in ("BadDigest", "XAmzContentSHA256Mismatch", "InvalidDigest"):
            return SourceReadError(_("the store rejected object {digest}: its content checksum "
                                     "does not match (the source changed while being read?)"
                                     ).format(
                                       digest=digest))
        return self._error(exc, _("uploading object {digest}").format(digest=digest))


class _ObjectReader(io.RawIOBase):
    """A seekable reader over one object: one streaming GET from the current position,
    reopened (ranged) only after a seek, so sequential reads cost one request."""

    def __init__(self, client: Any, bucket: str, key: str, size: int) -> None:
        self._client, self._bucket, self._key, self._size = client, bucket, key, size
        self._pos = 0
        self._body: Any = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        new = max(0, base + offset)
        if new != self._pos:
            self._drop()
            self._pos = new
        return self._pos

    def readinto(self, b: Any) -> int:
        if self._pos >= self._size:
            return 0
        if self._body is None:
            self._body = self._client.get_object(Bucket=self._bucket, Key=self._key,
                                                 Range=f"bytes={self._pos}-")["Body"]
        view = memoryview(b).cast("B")
        data = self._body.read(len(view))
        n = len(data)
        view[:n] = data
        self._pos += n
        return n

    def _drop(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None

    def close(self) -> None:
        self._drop()
        super().close()


def _first_pass(source: BinaryIO, part_size: int, progress: Progress | None = None) -> _Pass:
    """BLAKE3 of everything, SHA-256 of everything (or of each part) in one read."""
    # one hashing thread: BLAKE3 alone outruns the disk, and the upload threads and the
    # S3 server (often on the same cores) need the others (measured: docs/benchmarks.md)
    b3 = blake3.blake3()
    sums: list[str] = []
    sha = hashlib.sha256()
    in_part = 0
    size = 0
    buf = bytearray(CHUNK)
    while True:
        n = source.readinto(buf)  # type: ignore[attr-defined]
        if not n:
            break
        view = memoryview(buf)[:n]
        b3.update(view)
        size += n
        if progress is not None:
            progress(n)
        if not part_size:
            sha.update(view)
            continue
        pos = 0
        while pos < n:
            take = min(n - pos, part_size - in_part)
            sha.update(view[pos:pos + take])
            in_part += take
            pos += take
            if in_part == part_size:
                sums.append(_b64(sha))
                sha, in_part = hashlib.sha256(), 0
    if not part_size or in_part or not sums:
        sums.append(_b64(sha))
    return _Pass(b3.hexdigest(), size, sums)


def _same_part(listed_sum: str, our_sum: str, listed_etag: str, saved_etag: str | None) -> bool:
    """Whether a part the server lists is the part we mean to send. ListParts reports its
    SHA-256 where the server keeps it (AWS does; SeaweedFS 4.48 does not): then compare
    that. Otherwise trust it only if its ETag is the one the server answered when it accepted
    that part with our SHA-256 (recorded in the state file); anything else is sent again."""
    if listed_sum and listed_sum != "None":
        return listed_sum == our_sum
    return saved_etag is not None and listed_etag == saved_etag


def _b64(sha: Any) -> str:
    return base64.b64encode(sha.digest()).decode("ascii")


def _seekable(source: BinaryIO) -> bool:
    try:
        return bool(source.seekable())
    except (AttributeError, ValueError):
        return False


def _has_fd(source: BinaryIO) -> bool:
    try:
        source.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    return True


def _spool(source: BinaryIO, spool: BinaryIO) -> None:
    while chunk := source.read(CHUNK):
        spool.write(chunk)
    spool.flush()
    spool.seek(0)
