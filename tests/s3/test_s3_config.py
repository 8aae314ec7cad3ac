"""Choosing the backend from the configuration (no S3 server needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from avledger.config import loader
from avledger.errors import ConfigError
from avledger.store.factory import open_store
from avledger.store.local import LocalObjectStore
from avledger.store.s3 import S3ObjectStore
from avledger.store.s3client import read_credentials


def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> Path:
    home = tmp_path / "home"
    home.mkdir(parents=True)
    (home / "avledger.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("AVLEDGER_HOME", str(home))
    monkeypatch.delenv("AVLEDGER_CONFIG", raising=False)
    return home


def test_local_is_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _home(tmp_path, monkeypatch, "site: {station: d1}\n")
    config = loader.load()
    store = open_store(config)
    assert isinstance(store, LocalObjectStore) and not store.locks
    assert store.location == str(config.store_path)


def test_s3_backend_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = _home(tmp_path, monkeypatch, "store:\n  backend: s3\n  s3:\n    bucket: ev\n"
                 "    prefix: site1\n    lock_mode: compliance\n"
                 "    credentials_file: s3.credentials\n    part_size_mib: 8\n")
    (home / "s3.credentials").write_text("[default]\naws_access_key_id = K\n"
                                         "aws_secret_access_key = S\n", encoding="utf-8")
    config = loader.load()
    assert config.get("store.s3.credentials_file") == str(home / "s3.credentials")
    store = open_store(config)
    assert isinstance(store, S3ObjectStore) and store.locks
    assert store.location == "s3://ev/site1/"
    assert store.key_for("ab" * 32) == f"site1/objects/ab/ab/{'ab' * 32}"
    assert store.settings.lock_mode == "compliance"
    assert store.settings.part_size == 8 * 1024 * 1024
    assert read_credentials(str(home / "s3.credentials"), "default") == ("K", "S")


def test_s3_problems_are_reported_with_their_paths(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    _home(tmp_path, monkeypatch, "store:\n  backend: s3\n  s3:\n    lock_mode: forever\n"
          "    part_size_mib: 1\n")
    with pytest.raises(ConfigError) as info:
        loader.load()
    text = info.value.one_line()
    assert "store.s3.lock_mode: must be one of" in text
    assert "store.s3.part_size_mib: must be a whole number of MiB from 5" in text
    _home(tmp_path / "b", monkeypatch, "store: {backend: s3}\n")
    with pytest.raises(ConfigError, match="store.s3.bucket: is required"):
        loader.load()
