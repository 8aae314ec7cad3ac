"""With the S3 store, every signed checkpoint is also a compliance-locked object in the bucket:
the catalog's owner cannot delete it, so a rollback of the catalog and the checkpoint file is
caught by 'ledger verify' from the bucket alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import run_cli
from tests.ledgertools import checkpoint_sizes, grow_ledger, roll_back
from tests.s3.test_s3_end_to_end import _ok, s3_home  # noqa: F401 - the fixture


def test_checkpoints_are_locked_in_the_bucket(s3_home: Path, s3: Any) -> None:  # noqa: F811
    _ok("init")
    grow_ledger(12, 4)
    cfg = yaml.safe_load((s3_home / "avledger.yaml").read_text())["store"]["s3"]
    bucket = cfg["bucket"]
    top = max(checkpoint_sizes())
    key = f"site1/checkpoints/{top:020d}.txt"
    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    assert body.split("\n")[1] == str(top)
    refused = False
    try:
        s3.delete_object(Bucket=bucket, Key=key, VersionId=head["VersionId"])
    except Exception:  # noqa: BLE001 - the lock refuses, as an S3 error
        refused = True
    assert refused and s3.head_object(Bucket=bucket, Key=key)["VersionId"] == head["VersionId"]

    boundary = sorted(checkpoint_sizes())[-3]
    roll_back(boundary)
    out = run_cli("ledger", "verify", "--json")
    assert out.returncode == 6, out.stdout + out.stderr
    (problem,) = [p for p in json.loads(out.stdout)["problems"] if "ROLLBACK" in p]
    assert problem.startswith(f"seq {boundary + 1}: ROLLBACK: s3://{bucket}/{key} holds the "
                              f"checkpoint of size {top}")
