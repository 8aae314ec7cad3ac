"""On a store that enforces holds itself (S3 Object Lock), a redaction is held exactly as its
original: made while the original is held, it is stored under a legal hold; released with it."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from avledger.config import loader
from avledger.core.app import Avledger
from avledger.timestamps import utcnow
from tests.factories import ClipSpec, insert_clips
from tests.mediatools import make_clip
from tests.s3.test_s3_end_to_end import _lock, _ok, s3_home  # noqa: F401  (fixture)


def test_redaction_follows_its_originals_legal_hold(s3_home: Path, s3: Any,  # noqa: F811
                                                    tmp_path: Path) -> None:
    _ok("init")
    original = make_clip(tmp_path / "orig.mp4")
    app = Avledger.open(loader.load())
    try:
        now = utcnow()
        [clip] = insert_clips(app, [ClipSpec("TC0009", "DCIM/REAL0001.MP4",
                                             original.read_bytes(), now - timedelta(days=1),
                                             now, duration=4)])
    finally:
        app.close()
    _ok("hold", "place", "--clip", str(clip), "--reason", "litigation", "--note", "lawsuit")
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({"operations": [
        {"op": "blur-frame", "from": 0, "to": 1, "reason": "个人隐私"}]}, allow_unicode=True),
        encoding="utf-8")
    red = json.loads(_ok("redact", str(clip), "--spec", str(spec), "--reason", "for a party",
                         "--json").stdout)
    assert _lock(s3, s3_home, red["original_blake3"]).legal_hold
    assert _lock(s3, s3_home, red["blake3"]).legal_hold
    hold_id = json.loads(_ok("hold", "list", "--json").stdout)[0]["id"]
    _ok("hold", "release", str(hold_id), "--note", "settled")
    assert not _lock(s3, s3_home, red["original_blake3"]).legal_hold
    assert not _lock(s3, s3_home, red["blake3"]).legal_hold
