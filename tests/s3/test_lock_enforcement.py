"""What the S3 server really enforces, established before avledger relies on it.

Each case asks the server to do what Object Lock forbids and expects a refusal; if SeaweedFS
stopped enforcing one of them, these tests fail (they are the reason the backend can promise
that a purge the lock forbids is refused by the store)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError


def _put(s3: Any, bucket: str, key: str, **lock: Any) -> str:
    return str(s3.put_object(Bucket=bucket, Key=key, Body=b"evidence " + key.encode(),
                             **lock)["VersionId"])


def _refused(call: Any) -> str:
    with pytest.raises(ClientError) as info:
        call()
    return str(info.value.response["Error"]["Code"])


def _soon(days: int) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)


def test_bucket_has_object_lock_and_versioning(s3: Any, bucket: str) -> None:
    assert s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"][
        "ObjectLockEnabled"] == "Enabled"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"


def test_compliance_version_cannot_be_deleted_even_with_bypass(s3: Any, bucket: str) -> None:
    vid = _put(s3, bucket, "c", ObjectLockMode="COMPLIANCE",
               ObjectLockRetainUntilDate=_soon(2))
    assert _refused(lambda: s3.delete_object(Bucket=bucket, Key="c", VersionId=vid)) == \
        "AccessDenied"
    assert _refused(lambda: s3.delete_object(Bucket=bucket, Key="c", VersionId=vid,
                                             BypassGovernanceRetention=True)) == "AccessDenied"
    assert s3.get_object(Bucket=bucket, Key="c", VersionId=vid)["Body"].read() == b"evidence c"


def test_compliance_retention_cannot_be_shortened_or_weakened(s3: Any, bucket: str) -> None:
    until = _soon(3)
    vid = _put(s3, bucket, "c", ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=until)
    for retention in ({"Mode": "COMPLIANCE", "RetainUntilDate": _soon(1)},
                      {"Mode": "GOVERNANCE", "RetainUntilDate": _soon(5)}):
        assert _refused(lambda r=retention: s3.put_object_retention(  # type: ignore[misc]
            Bucket=bucket, Key="c", VersionId=vid, Retention=r,
            BypassGovernanceRetention=True)) == "AccessDenied"
    s3.put_object_retention(Bucket=bucket, Key="c", VersionId=vid,
                            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": _soon(10)})
    kept = s3.get_object_retention(Bucket=bucket, Key="c", VersionId=vid)["Retention"]
    assert kept["Mode"] == "COMPLIANCE" and kept["RetainUntilDate"] > _soon(9)


def test_unversioned_delete_only_hides_the_locked_version(s3: Any, bucket: str) -> None:
    vid = _put(s3, bucket, "c", ObjectLockMode="COMPLIANCE",
               ObjectLockRetainUntilDate=_soon(2))
    assert s3.delete_object(Bucket=bucket, Key="c").get("DeleteMarker") is True
    versions = s3.list_object_versions(Bucket=bucket, Prefix="c")["Versions"]
    assert [v["VersionId"] for v in versions] == [vid]


def test_legal_hold_blocks_deletion_until_cleared(s3: Any, bucket: str) -> None:
    vid = _put(s3, bucket, "h")
    s3.put_object_legal_hold(Bucket=bucket, Key="h", VersionId=vid, LegalHold={"Status": "ON"})
    assert s3.get_object_legal_hold(Bucket=bucket, Key="h", VersionId=vid)["LegalHold"][
        "Status"] == "ON"
    assert _refused(lambda: s3.delete_object(Bucket=bucket, Key="h", VersionId=vid)) == \
        "AccessDenied"
    assert _refused(lambda: s3.delete_object(Bucket=bucket, Key="h", VersionId=vid,
                                             BypassGovernanceRetention=True)) == "AccessDenied"
    s3.put_object_legal_hold(Bucket=bucket, Key="h", VersionId=vid, LegalHold={"Status": "OFF"})
    s3.delete_object(Bucket=bucket, Key="h", VersionId=vid)
    assert not s3.list_object_versions(Bucket=bucket, Prefix="h").get("Versions")


def test_governance_yields_only_to_the_bypass_header(s3: Any, bucket: str) -> None:
    vid = _put(s3, bucket, "g", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=_soon(2))
    assert _refused(lambda: s3.delete_object(Bucket=bucket, Key="g", VersionId=vid)) == \
        "AccessDenied"
    assert _refused(lambda: s3.put_object_retention(
        Bucket=bucket, Key="g", VersionId=vid,
        Retention={"Mode": "GOVERNANCE", "RetainUntilDate": _soon(1)})) == "AccessDenied"
    s3.put_object_retention(Bucket=bucket, Key="g", VersionId=vid,
                            Retention={"Mode": "GOVERNANCE", "RetainUntilDate": _soon(1)},
                            BypassGovernanceRetention=True)
    s3.delete_object(Bucket=bucket, Key="g", VersionId=vid, BypassGovernanceRetention=True)
    assert not s3.list_object_versions(Bucket=bucket, Prefix="g").get("Versions")


def test_wrong_content_checksum_is_rejected(s3: Any, bucket: str) -> None:
    import base64
    import hashlib

    wrong = base64.b64encode(hashlib.sha256(b"something else").digest()).decode()
    assert _refused(lambda: s3.put_object(Bucket=bucket, Key="bad", Body=b"evidence",
                                          ChecksumSHA256=wrong)) == "BadDigest"
    assert _refused(lambda: s3.head_object(Bucket=bucket, Key="bad")) == "404"
