"""Redaction specs and their rendering on a real H.264 clip made by ffmpeg: a blurred box
changes the pixels inside it and (within the re-encoding's small tolerance) nothing outside;
a muted range is silent and the rest sounds as before; a cut shortens the clip by exactly its
length; resolution and frame rate are kept. Bad specs fail with one line naming the place."""

from __future__ import annotations

from pathlib import Path

import pytest

from avledger.core.redact import render
from avledger.core.redact.spec import parse, parse_text
from avledger.errors import InputError
from tests.mediatools import (
    RATE,
    SECONDS,
    gray_frames,
    make_clip,
    region_diff,
    rms,
    samples,
    streams,
)

BOX = (40, 30, 80, 60)


def spec(*ops: dict[str, object]) -> object:
    return parse({"version": 1, "operations": list(ops)})


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("media") / "orig.mp4")


def redacted(original: Path, tmp_path: Path, *ops: dict[str, object]) -> Path:
    target = tmp_path / "redacted.mp4"
    render.render(original, spec(*ops), target)  # type: ignore[arg-type]
    return target


def test_blurred_box_changes_inside_only(original: Path, tmp_path: Path) -> None:
    x, y, w, h = BOX
    out = redacted(original, tmp_path, {"op": "blur", "from": 1, "to": 3,
                                        "rect": {"x": x, "y": y, "w": w, "h": h},
                                        "reason": "个人隐私"})
    before, after = gray_frames(original), gray_frames(out)
    assert len(after) == len(before) == SECONDS * RATE
    during = 2 * RATE  # t = 2 s, inside the range
    assert region_diff(before[during], after[during], BOX, inside=True) > 8
    assert region_diff(before[during], after[during], BOX, inside=False) < 1.5
    outside_range = RATE // 2  # t = 0.5 s: untouched, box included
    assert region_diff(before[outside_range], after[outside_range], BOX, inside=True) < 1.5
    v_in, v_out = streams(original)["video"], streams(out)["video"]
    assert (v_out["width"], v_out["height"]) == (v_in["width"], v_in["height"])
    assert v_out["avg_frame_rate"] == v_in["avg_frame_rate"] == f"{RATE}/1"
    assert float(v_out["duration"]) == float(v_in["duration"])


def test_moving_blackout_follows_its_keyframes(original: Path, tmp_path: Path) -> None:
    out = redacted(original, tmp_path, {"op": "blackout", "reason": "商业秘密", "track": [
        {"t": 0, "x": 0, "y": 0, "w": 40, "h": 40}, {"t": 3, "x": 240, "y": 160, "w": 40,
                                                      "h": 40}]})
    frames = gray_frames(out)
    start, middle = frames[0], frames[int(1.5 * RATE)]
    assert max(start[y * 320 + x] for y in range(2, 38) for x in range(2, 38)) < 30
    # half-way the box's corner is at (120, 80): black there, the start corner is not
    assert max(middle[y * 320 + x] for y in range(84, 116) for x in range(124, 156)) < 30
    assert region_diff(gray_frames(original)[int(1.5 * RATE)], middle, (0, 0, 40, 40),
                       inside=True) < 1.5


def test_muted_range_is_silent_and_the_rest_unchanged(original: Path, tmp_path: Path) -> None:
    out = redacted(original, tmp_path, {"op": "mute", "from": 1, "to": 2,
                                        "reason": "personal-privacy"})
    before, after = samples(original), samples(out)
    assert rms(before, 1.05, 1.95) > 1000
    assert max(abs(v) for v in after[int(1.05 * 44100):int(1.95 * 44100)]) < 30
    for start, end in ((0.1, 0.95), (2.05, 3.9)):
        assert abs(rms(after, start, end) - rms(before, start, end)) < 0.05 * rms(before,
                                                                                start, end)


def test_cut_shortens_by_exactly_its_length(original: Path, tmp_path: Path) -> None:
    out = redacted(original, tmp_path, {"op": "cut", "from": 1, "to": 2, "reason": "国家秘密"})
    v_in, v_out = streams(original)["video"], streams(out)["video"]
    assert int(v_out["nb_frames"]) == int(v_in["nb_frames"]) - RATE
    assert float(v_out["duration"]) == float(v_in["duration"]) - 1.0
    assert (v_out["width"], v_out["height"], v_out["avg_frame_rate"]) == (
        v_in["width"], v_in["height"], v_in["avg_frame_rate"])
    before, after = gray_frames(original), gray_frames(out)
    # what follows the cut is the original from 2 s on
    assert region_diff(before[2 * RATE + 5], after[RATE + 5], (0, 0, 320, 240),
                       inside=True) < 1.5
    audio = streams(out)["audio"]
    assert abs(float(audio["duration"]) - 3.0) < 0.05


def test_same_spec_renders_the_same_bytes(original: Path, tmp_path: Path) -> None:
    op = {"op": "blur-frame", "from": 0.5, "to": 1.5, "reason": "其他"}
    a = redacted(original, tmp_path, op)
    b = tmp_path / "b.mp4"
    render.render(original, spec(op), b)  # type: ignore[arg-type]
    assert a.read_bytes() == b.read_bytes()


def test_box_outside_the_frame_is_refused_naming_it(original: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"operations\[0\]\.rect: the box 80x60\+300\+0 goes "
                                         r"outside the 320x240 frame"):
        redacted(original, tmp_path, {"op": "blur", "from": 0, "to": 1, "reason": "其他",
                                      "rect": {"x": 300, "y": 0, "w": 80, "h": 60}})


@pytest.mark.parametrize(("text", "message"), [
    ("operations: []", "operations: must be a non-empty list"),
    ("operations: [{op: smear, from: 0, to: 1, reason: 其他}]",
     "operations[0].op: must be one of blur"),
    ("operations: [{op: mute, from: 2, to: 1, reason: 其他}]",
     "operations[0].to: must be after 'from'"),
    ("operations: [{op: mute, from: 0, to: 1, reason: 机密}]", "operations[0].reason: must be"),
    ("operations: [{op: mute, from: 0, to: 1, reason: 其他, rect: {x: 0}}]",
     "operations[0].rect: unknown key"),
    ("operations: [{op: blur, from: 0, to: 1, reason: 其他}]",
     "operations[0]: a blur needs either 'rect'"),
    ("operations: [{op: blur, from: 0, to: 1, reason: 其他, rect: {x: 0, y: 0, w: 2.5, h: 9}}]",
     "operations[0].rect.w: must be a whole number"),
    ("operations: [{op: blackout, reason: 其他, track: [{t: 2, x: 0, y: 0, w: 9, h: 9},"
     " {t: 1, x: 0, y: 0, w: 9, h: 9}]}]", "operations[0].track[1].t: keyframe times"),
    ("operations: [{op: cut, from: 0, to: 2, reason: 其他}, {op: cut, from: 1, to: 3,"
     " reason: 其他}]", "operations[1]: cut 1-3 s overlaps"),
    ("operations: [{op: cut, from: '1:75', to: 2, reason: 其他}]",
     "operations[0].from: '1:75': seconds must be below 60"),
    ("operations: [{op: cut, from: 0, to: 1, reason: 其他}]\nextra: 1", "extra: unknown key"),
])
def test_bad_specs_fail_with_their_path(text: str, message: str) -> None:
    with pytest.raises(InputError) as err:
        parse_text(text, "s.yaml")
    assert f"s.yaml: {message}" in err.value.message
    assert "\n" not in err.value.one_line()


def test_same_edit_in_yaml_or_json_is_the_same_spec() -> None:
    a = parse_text("operations:\n  - {op: mute, from: '00:01.5', to: 2, reason: 个人隐私}\n")
    b = parse_text('{"version": 1, "operations": [{"reason": "personal-privacy", "to": 2.0,'
                   ' "op": "mute", "from": 1.5}]}')
    assert a.digest == b.digest
    assert a.summary() == [{"op": "mute", "from": 1.5, "to": 2.0, "reason": "personal-privacy",
                            "reason_zh": "个人隐私", "moving": False}]


def test_moving_blur_follows_its_keyframes(original: Path, tmp_path: Path) -> None:
    out = redacted(original, tmp_path, {"op": "blur", "reason": "个人隐私", "track": [
        {"t": 0, "x": 0, "y": 0, "w": 60, "h": 60}, {"t": 3, "x": 240, "y": 160, "w": 60,
                                                      "h": 60}]})
    before, after = gray_frames(original), gray_frames(out)
    middle = int(1.5 * RATE)  # the box's corner at (120, 80)
    assert region_diff(before[middle], after[middle], (120, 80, 60, 60), inside=True) > 5
    assert region_diff(before[middle], after[middle], (0, 0, 60, 60), inside=True) < 1.5
    assert region_diff(before[0], after[0], (0, 0, 60, 60), inside=True) > 5


def test_fixed_blackout_is_black_in_its_range_only(original: Path, tmp_path: Path) -> None:
    out = redacted(original, tmp_path, {"op": "blackout", "from": 1, "to": 2,
                                        "rect": {"x": 100, "y": 100, "w": 50, "h": 40},
                                        "reason": "国家秘密"})
    before, after = gray_frames(original), gray_frames(out)
    inside = [after[int(1.5 * RATE)][y * 320 + x] for y in range(102, 138)
              for x in range(102, 148)]
    assert max(inside) < 30
    assert region_diff(before[int(1.5 * RATE)], after[int(1.5 * RATE)], (100, 100, 50, 40),
                       inside=False) < 1.5
    assert region_diff(before[int(2.5 * RATE)], after[int(2.5 * RATE)], (100, 100, 50, 40),
                       inside=True) < 1.5
