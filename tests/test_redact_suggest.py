"""Face suggestions are a draft for a person, never a redaction: boxes found per second are
grouped into blurs over the seconds they stay near each other, the draft says it is a
suggestion, and it is a valid spec once reviewed. The Haar cascade comes from the
opencv-python-headless package itself (optional extra 'suggest')."""

from __future__ import annotations

from pathlib import Path

import pytest

from avledger.core.redact import suggest
from avledger.core.redact.spec import load
from tests.mediatools import make_clip


def test_boxes_near_each_other_in_consecutive_seconds_become_one_blur() -> None:
    per_second = [[(100, 50, 40, 40)], [(104, 52, 40, 40)], [], [(10, 10, 30, 30)]]
    doc = suggest.draft(per_second, 320, 240, 4.0)
    assert doc["operations"] == [
        {"op": "blur", "from": 0, "to": 2.0, "rect": {"x": 90, "y": 40, "w": 64, "h": 62},
         "reason": "个人隐私"},
        {"op": "blur", "from": 3, "to": 4.0, "rect": {"x": 3, "y": 3, "w": 44, "h": 44},
         "reason": "个人隐私"}]


def test_draft_is_marked_and_parses_after_review(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4")
    seen: list[int] = []

    def detector(frame: bytes, width: int, height: int) -> list[tuple[int, int, int, int]]:
        seen.append(len(frame))
        return [(140, 100, 40, 40)] if len(seen) <= 2 else []

    out = tmp_path / "draft.yaml"
    found = suggest.suggest(clip, out, detector)
    assert found == {"draft": str(out), "seconds": 4, "faces": 2, "operations": 1}
    assert seen == [320 * 240] * 4  # one gray frame per second
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# DRAFT") and "SUGGESTIONS, not a redaction" in text
    [op] = load(out).operations
    assert (op.op, op.start, op.end, op.reason) == ("blur", 0.0, 2.0, "personal-privacy")


def test_haar_cascade_runs_from_the_package(tmp_path: Path) -> None:
    pytest.importorskip("cv2", reason="needs the optional extra 'suggest' (opencv)")
    clip = make_clip(tmp_path / "clip.mp4")
    found = suggest.suggest(clip, tmp_path / "draft.yaml")
    assert found["seconds"] == 4
    assert found["faces"] == 0  # a test pattern has no faces
