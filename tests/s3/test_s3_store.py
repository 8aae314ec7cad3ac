"""The S3 backend against a real SeaweedFS: the store calls, server-verified checksums,
Object Lock on every upload, refusals, and multipart resume after an interruption."""

from __future__ import annotations

import io
import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import blake3
import pytest

from avledger.errors import StorageError, StoreRefusedError
from avledger.store.local import SourceReadError
from avledger.store.s3 import S3ObjectStore
from tests.s3 import seaweed
from tests.s3.conftest import make_store

MIB = 1024 * 1024


def test_put_dedup_open_stat_iterate_verify(store: S3ObjectStore) -> None:
    data = os.urandom(300_000)
    first = store.put_stream(io.BytesIO(data), expected_size=len(data))
    assert first.digest == blake3.blake3(data).hexdigest() and first.created
    again = store.put_stream(io.BytesIO(data))
    assert (again.digest, again.created) == (first.digest, False)
    key = store.key_for(first.digest)
    assert key == f"objects/{first.digest[:2]}/{first.digest[2:4]}/{first.digest}"
    assert store.exists(first.digest) and store.stat(first.digest).size == len(data)
    with store.open(first.digest) as fh:
        assert fh.read(10) == data[:10]
        fh.seek(-5, io.SEEK_END)
        assert fh.read() == data[-5:]
        fh.seek(0)
        assert fh.read() == data
    assert list(store.iterate()) == [first.digest] and store.strays() == []
    assert store.verify(first.digest, len(data)).status == "ok"
    assert store.verify(first.digest, len(data) + 1).status == "corrupt"
    missing = "0" * 64
    assert store.verify(missing).status == "missing" and not store.exists(missing)


def test_every_upload_is_locked_in_the_configured_mode(weed: seaweed.Seaweed, bucket: str,
                                                       tmp_path: Path) -> None:
    store = make_store(weed, bucket, tmp_path / "state", lock_mode="compliance",
                       min_retention_days=3)
    put = store.put_bytes(b"clip")
    lock = store.lock_state(put.digest)
    assert lock.mode == "COMPLIANCE" and not lock.legal_hold
    assert lock.retain_until is not None
    assert lock.retain_until > datetime.now(UTC) + timedelta(days=2, hours=23)
    later = datetime.now(UTC) + timedelta(days=40)
    assert store.retain(put.digest, later)
    assert not store.retain(put.digest, later - timedelta(days=10))  # never shortens
    assert store.lock_state(put.digest).retain_until >= later - timedelta(seconds=1)  # type: ignore[operator]


def test_delete_under_retention_is_refused_by_the_store(weed: seaweed.Seaweed, bucket: str,
                                                        tmp_path: Path) -> None:
    store = make_store(weed, bucket, tmp_path / "state", lock_mode="compliance",
                       min_retention_days=2)
    put = store.put_bytes(b"locked clip")
    with pytest.raises(StoreRefusedError) as info:
        store.delete(put.digest)
    msg = info.value.one_line()
    assert msg.startswith(f"store refuses to delete {put.digest}: under COMPLIANCE retention "
                          f"until {(datetime.now(UTC) + timedelta(days=2)).date()}"), msg
    assert store.verify(put.digest).status == "ok"


def test_legal_hold_blocks_delete_until_cleared(store: S3ObjectStore) -> None:
    put = store.put_bytes(b"held clip")
    assert store.set_legal_hold(put.digest, True)
    assert not store.set_legal_hold(put.digest, True)
    assert store.lock_state(put.digest).legal_hold
    with pytest.raises(StoreRefusedError, match="under an S3 legal hold"):
        store.delete(put.digest)
    assert store.set_legal_hold(put.digest, False)
    assert not store.lock_state(put.digest).legal_hold


def test_governance_delete_is_refused_without_bypass(store: S3ObjectStore) -> None:
    put = store.put_bytes(b"governed")
    with pytest.raises(StoreRefusedError, match="under GOVERNANCE retention"):
        store.delete(put.digest)


class ChangesAfterFirstRead(io.BytesIO):
    """A source whose bytes differ the second time round (a recorder rewriting a file)."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.other = bytes(b ^ 0xFF for b in data[:16]) + data[16:]
        self.reads = 0

    def seek(self, pos: int, whence: int = 0) -> int:
        if pos == 0 and whence == 0 and self.tell() > 0:
            self.reads += 1
            if self.reads == 2:  # after the hash pass
                keep = self.tell()
                super().seek(0)
                self.write(self.other)
                super().seek(keep)
        return super().seek(pos, whence)


def test_server_rejects_content_that_does_not_match_its_checksum(store: S3ObjectStore) -> None:
    data = os.urandom(100_000)
    with pytest.raises(SourceReadError, match="content checksum does not match"):
        store.put_stream(ChangesAfterFirstRead(data), expected_size=len(data))
    assert list(store.iterate()) == []


def test_quarantine_copies_aside_and_says_when_the_lock_keeps_the_original(
        store: S3ObjectStore, s3: Any, bucket: str) -> None:
    put = store.put_bytes(b"suspicious")
    where = store.quarantine(put.digest, "content hashes to 1234")
    assert where is not None and "/quarantine/" in where
    assert "the original stays: store refuses to delete" in where
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="quarantine/")["Contents"]]
    assert len(keys) == 2 and keys[1].endswith(".reason")


class Interrupted(Exception):
    pass


def test_multipart_upload_resumes_after_interruption(weed: seaweed.Seaweed, bucket: str,
                                                     tmp_path: Path) -> None:
    settings = {"multipart_threshold": 5 * MIB, "part_size": 5 * MIB, "max_concurrency": 1}
    data = os.urandom(23 * MIB)  # five parts, the last one short
    src = tmp_path / "clip.mp4"
    src.write_bytes(data)
    digest = blake3.blake3(data).hexdigest()

    first = make_store(weed, bucket, tmp_path / "state", **settings)
    real = first.client.upload_part
    sent: list[int] = []

    def fail_after_two(**kw: Any) -> Any:
        if len(sent) == 2:
            raise Interrupted("connection lost")
        sent.append(kw["PartNumber"])
        return real(**kw)

    first.client.upload_part = fail_after_two
    with pytest.raises(StorageError, match="connection lost"), open(src, "rb", buffering=0) as fh:
        first.put_stream(fh, expected_size=len(data))
    state = first.upload_state(digest)
    assert state is not None and sorted(state["done"]) == [1, 2]
    assert not first.exists(digest)

    second = make_store(weed, bucket, tmp_path / "state", **settings)  # a new process
    again = second.client.upload_part
    resent: list[int] = []

    def count(**kw: Any) -> Any:
        resent.append(kw["PartNumber"])
        return again(**kw)

    second.client.upload_part = count
    with open(src, "rb", buffering=0) as fh:
        put = second.put_stream(fh, expected_size=len(data))
    assert put.digest == digest and put.created
    assert resent == [3, 4, 5], "parts the server already had were sent again"
    assert second.upload_state(digest) is None
    assert second.verify(digest, len(data)).status == "ok"
    assert second.lock_state(digest).mode == "GOVERNANCE"


def test_stale_multipart_upload_is_aborted_by_the_sweep(weed: seaweed.Seaweed, bucket: str,
                                                        tmp_path: Path, s3: Any) -> None:
    store = make_store(weed, bucket, tmp_path / "state")
    s3.create_multipart_upload(Bucket=bucket, Key=store.key_for("a" * 64))
    assert store.sweep_temp(older_than=3600) == 0
    assert store.sweep_temp(older_than=0) == 1
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")


def test_player_and_disc_staging_get_the_bytes_without_a_local_object(
        store: S3ObjectStore, tmp_path: Path) -> None:
    from avledger.core.access.viewing import _play

    data = os.urandom(3 * MIB + 17)
    put = store.put_bytes(data)
    out = tmp_path / "played"
    with store.open(put.digest) as source:
        code = _play(["sh", "-c", f"cat > '{out}'"], source, None, dict(os.environ))
    assert code == 0 and out.read_bytes() == data
    staged = tmp_path / "stage" / "clip.mp4"
    staged.parent.mkdir()
    store.link_into(put.digest, staged)
    assert staged.read_bytes() == data and staged.stat().st_mode & 0o777 == 0o444


class Gate:
    """Holds every part upload until released, and says when the first one has begun."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.began = threading.Event()
        self.release = threading.Event()

    def __call__(self, **kw: Any) -> Any:
        self.began.set()
        assert self.release.wait(60), "the test never released the uploads"
        return self.real(**kw)


def test_a_clip_is_named_while_the_one_before_is_uploading(weed: seaweed.Seaweed, bucket: str,
                                                           tmp_path: Path) -> None:
    store = make_store(weed, bucket, tmp_path / "state", multipart_threshold=5 * MIB,
                       part_size=5 * MIB, max_concurrency=2)
    gate = Gate(store.client.upload_part)
    store.client.upload_part = gate
    datas = [os.urandom(6 * MIB), os.urandom(6 * MIB + 3)]
    staged = []
    try:
        for i, data in enumerate(datas):
            path = tmp_path / f"clip{i}.mp4"
            path.write_bytes(data)
            with open(path, "rb", buffering=0) as fh:
                staged.append(store.stage_stream(fh, expected_size=len(data)))
            assert gate.began.wait(30)
        # both named while the first clip's parts are held in flight
        assert [s.digest for s in staged] == [blake3.blake3(d).hexdigest() for d in datas]
        assert not any(store.exists(s.digest) for s in staged)
        with store.open_staged(staged[0]) as fh:  # read from its source meanwhile
            assert fh.read() == datas[0]
    finally:
        gate.release.set()
    puts = store.publish(staged)
    assert [(p.digest, p.size, p.created) for p in puts] == [
        (s.digest, s.size, True) for s in staged]
    for s in staged:
        assert store.verify(s.digest, s.size).status == "ok"
        assert store.lock_state(s.digest).mode == "GOVERNANCE"
        assert store.upload_state(s.digest) is None


def test_a_failed_background_upload_fails_the_group_after_all_ended(
        weed: seaweed.Seaweed, bucket: str, tmp_path: Path) -> None:
    from botocore.exceptions import ClientError

    store = make_store(weed, bucket, tmp_path / "state")
    real = store.client.put_object
    bad = os.urandom(50_000)
    bad_key = store.key_for(blake3.blake3(bad).hexdigest())

    def reject(**kw: Any) -> Any:
        if kw["Key"] == bad_key:
            raise ClientError({"Error": {"Code": "BadDigest", "Message": "checksum"}},
                              "PutObject")
        return real(**kw)

    store.client.put_object = reject
    staged = []
    for i, data in enumerate([os.urandom(40_000), bad, os.urandom(60_000)]):
        path = tmp_path / f"clip{i}.mp4"
        path.write_bytes(data)
        with open(path, "rb", buffering=0) as fh:
            staged.append(store.stage_stream(fh, expected_size=len(data)))
    with pytest.raises(SourceReadError, match="content checksum does not match"):
        store.publish(staged)
    assert not store.exists(staged[1].digest)
    # the others ended before publish raised: nothing is left running to surprise a re-run
    assert store.exists(staged[0].digest) and store.exists(staged[2].digest)
    store.discard(staged)  # harmless after the failure


def _settings(weed: seaweed.Seaweed, bucket: str) -> Any:
    from avledger.store.s3client import S3Settings

    return S3Settings(endpoint_url=weed.endpoint, bucket=bucket,
                      credentials_file=str(weed.credentials_file()))


def test_a_store_makes_no_client_until_one_is_needed(weed: seaweed.Seaweed, bucket: str,
                                                     tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import avledger.store.s3 as s3_module

    made: list[str] = []
    real = s3_module.make_client
    monkeypatch.setattr(s3_module, "make_client",
                        lambda settings: made.append(threading.current_thread().name)
                        or real(settings))
    store = S3ObjectStore(_settings(weed, bucket), tmp_path / "state")
    assert made == []  # a command that never reaches the bucket never imports boto3
    store.check_ready()
    assert made == [threading.current_thread().name]
    store.check_ready()
    assert store.client is store.client and len(made) == 1



def test_a_lazy_client_still_refuses_a_bucket_without_object_lock(
        weed: seaweed.Seaweed, s3: Any, tmp_path: Path) -> None:
    plain = f"avl-nolock-{os.getpid()}"
    s3.create_bucket(Bucket=plain)  # no Object Lock
    store = S3ObjectStore(_settings(weed, plain), tmp_path / "state")
    with pytest.raises(StorageError, match="Object Lock"):
        store.put_bytes(b"nowhere")
    with pytest.raises(StorageError, match="Object Lock"):  # asked again, not forgotten
        store.check_ready()
    missing = S3ObjectStore(_settings(weed, f"avl-missing-{os.getpid()}"), tmp_path / "s2")
    with pytest.raises(StorageError, match="no bucket"):
        missing.put_bytes(b"nowhere")
