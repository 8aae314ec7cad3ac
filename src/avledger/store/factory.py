"""Which object store a configuration names: the local directory (default) or S3; and the
second copy's location, when there is one."""

from __future__ import annotations

from avledger.config.loader import Config
from avledger.store.backend import ObjectStore
from avledger.store.local import LocalObjectStore


def open_store(config: Config) -> ObjectStore:
    """The configured backend; ``store.path`` holds S3's local state (resumable uploads)."""
    if config.get("store.backend") == "s3":
        from avledger.store.s3 import S3ObjectStore
        from avledger.store.s3client import S3Settings

        return S3ObjectStore(S3Settings.from_config(dict(config.get("store.s3"))),
                             config.store_path)
    return LocalObjectStore(config.store_path)


def open_second_store(config: Config) -> LocalObjectStore | None:
    """The second copy's location (``store.second.path``) when ``store.copies`` is 2."""
    if int(config.get("store.copies")) < 2 or not config.get("store.second.path"):
        return None
    return LocalObjectStore(config.path("store.second.path"))
