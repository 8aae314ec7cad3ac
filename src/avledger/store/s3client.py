"""Settings and client for the S3 backend; credentials come from a file or the environment,
never from the configuration itself (which is shown by 'config show') nor the ledger."""

from __future__ import annotations

import configparser
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from avledger.errors import ConfigError
from avledger.i18n import _

MIB = 1024 * 1024


@dataclass(frozen=True)
class S3Settings:
    endpoint_url: str | None
    bucket: str
    region: str = "us-east-1"
    prefix: str = ""
    lock_mode: str = "governance"  # governance | compliance
    min_retention_days: int = 30
    credentials_file: str | None = None
    profile: str = "default"
    multipart_threshold: int = 32 * MIB
    part_size: int = 8 * MIB
    max_concurrency: int = 8

    @classmethod
    def from_config(cls, section: dict[str, Any]) -> S3Settings:
        if not section.get("bucket"):
            raise ConfigError([_("store.s3.bucket: is required when store.backend is s3")])
        prefix = str(section.get("prefix") or "")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        return cls(
            endpoint_url=section.get("endpoint_url") or None, bucket=str(section["bucket"]),
            region=str(section.get("region") or "us-east-1"), prefix=prefix,
            lock_mode=str(section.get("lock_mode") or "governance"),
            min_retention_days=int(section.get("min_retention_days", 30)),
            credentials_file=section.get("credentials_file") or None,
            profile=str(section.get("profile") or "default"),
            multipart_threshold=int(section.get("multipart_threshold_mib", 32)) * MIB,
            part_size=int(section.get("part_size_mib", 8)) * MIB,
            max_concurrency=int(section.get("max_concurrency", 8)),
        )


@dataclass(frozen=True)
class LockState:
    """Object Lock of one object version, as the store reports it."""

    version_id: str
    mode: str | None  # GOVERNANCE | COMPLIANCE | None
    retain_until: datetime | None
    legal_hold: bool


def read_credentials(path: str, profile: str) -> tuple[str, str]:
    """Access key and secret from an AWS-style credentials file (``[profile]`` section)."""
    parser = configparser.ConfigParser()
    try:
        with open(Path(path), encoding="utf-8") as fh:
            parser.read_file(fh)
    except OSError as exc:
        raise ConfigError([_("store.s3.credentials_file: cannot read {path}: {error}").format(
                               path=path, error=exc.strerror or exc)]) from exc
    if not parser.has_section(profile):
        raise ConfigError([_("store.s3.credentials_file: {path} has no [{profile}] section").format(
                               path=path, profile=profile)])
    sec = parser[profile]
    try:
        return sec["aws_access_key_id"], sec["aws_secret_access_key"]
    except KeyError as exc:
        raise ConfigError([_("store.s3.credentials_file: "
                             "[{profile}] in {path} lacks {key}").format(
                               profile=profile, path=path, key=exc.args[0])]) from exc


def make_client(settings: S3Settings) -> Any:
    """A boto3 S3 client. Without a credentials file, boto3's own chain applies
    (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, ``~/.aws``, instance roles)."""
    import boto3
    from botocore.config import Config as BotoConfig

    keys: dict[str, str] = {}
    if settings.credentials_file:
        key_id, secret = read_credentials(settings.credentials_file, settings.profile)
        keys = {"aws_access_key_id": key_id, "aws_secret_access_key": secret}
    cfg = BotoConfig(
        # avledger sends its own SHA-256 with every upload (x-amz-checksum-sha256, a signed
        # header the server checks the body against): no extra CRC trailers on top, and no
        # second SHA-256 of the body for the request signature, which would only repeat it.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        s3={"addressing_style": "path", "payload_signing_enabled": False},
        retries={"max_attempts": 5, "mode": "standard"},
        max_pool_connections=max(10, settings.max_concurrency * 2),
    )
    return boto3.client("s3", endpoint_url=settings.endpoint_url, region_name=settings.region,
                        config=cfg, **keys)


def client_error_code(exc: BaseException) -> str:
    """The S3 error code of a botocore ClientError ('' for anything else)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""
