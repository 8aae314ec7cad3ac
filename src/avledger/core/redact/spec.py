"""A redaction spec: what to hide in one clip, where and when, and why — as data.

A spec is YAML or JSON::

    version: 1
    operations:
      - {op: blur, from: 1.0, to: 2.5, rect: {x: 40, y: 30, w: 80, h: 60}, reason: 个人隐私}
      - op: blackout            # a box following a moving object: keyframes, linear between
        track: [{t: 0, x: 10, y: 10, w: 60, h: 40}, {t: 3, x: 200, y: 90, w: 60, h: 40}]
        reason: 商业秘密
      - {op: blur-frame, from: "00:05", to: "00:06.5", reason: 其他}
      - {op: mute, from: 2, to: 3, reason: personal-privacy}
      - {op: beep, from: 7, to: 8, reason: 个人隐私}
      - {op: cut, from: 9, to: 10, reason: 国家秘密}

Times are seconds from the clip's start (a number, ``SS.s``, ``MM:SS.s`` or ``HH:MM:SS.s``).
Every problem is one line naming its place in the spec (``operations[2].rect.w: ...``). The
spec's identity is the BLAKE3 of its canonical JSON, so the same edit written in YAML or JSON,
with other spacing or key order, is the same spec.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import blake3
import yaml

from avledger.errors import InputError
from avledger.i18n import _

VERSION = 1
REASONS = {  # code → (Chinese, English)
    "personal-privacy": ("个人隐私", "personal privacy"),
    "commercial-secret": ("商业秘密", "trade secret"),
    "state-secret": ("国家秘密", "state secret"),
    "other": ("其他", "other"),
}
_REASON_ALIASES = {zh: code for code, (zh, _) in REASONS.items()} | {c: c for c in REASONS}
VIDEO_BOX_OPS = ("blur", "blackout")
OPS = (*VIDEO_BOX_OPS, "blur-frame", "mute", "beep", "cut")
AUDIO_OPS = ("mute", "beep")
MIN_BOX = 8  # pixels; smaller boxes cannot be blurred meaningfully
_TIME = re.compile(r"^(?:(?:(\d+):)?(\d{1,2}):)?(\d+(?:\.\d+)?)$")


@dataclass(frozen=True)
class Key:
    """One keyframe of a box: its top-left corner and size at time ``t``."""

    t: float
    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True)
class Operation:
    op: str
    start: float
    end: float
    reason: str  # a code of REASONS
    boxes: tuple[Key, ...] = ()  # one (static) or several keyframes (moving); box ops only

    @property
    def moving(self) -> bool:
        return len(self.boxes) > 1

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"op": self.op, "from": self.start, "to": self.end,
                               "reason": self.reason}
        if len(self.boxes) == 1:
            b = self.boxes[0]
            out["rect"] = {"x": b.x, "y": b.y, "w": b.w, "h": b.h}
        elif self.boxes:
            out["track"] = [{"t": b.t, "x": b.x, "y": b.y, "w": b.w, "h": b.h}
                            for b in self.boxes]
        return out


@dataclass(frozen=True)
class Spec:
    operations: tuple[Operation, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"version": VERSION, "operations": [o.as_dict() for o in self.operations]}

    def canonical(self) -> bytes:
        """The bytes that name the spec (sorted keys, no spaces, UTF-8)."""
        return json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False).encode()

    @property
    def digest(self) -> str:
        return blake3.blake3(self.canonical()).hexdigest()

    @property
    def cuts(self) -> list[tuple[float, float]]:
        return sorted((o.start, o.end) for o in self.operations if o.op == "cut")

    @property
    def cut_seconds(self) -> float:
        return sum(e - s for s, e in self.cuts)

    def summary(self) -> list[dict[str, Any]]:
        """What was redacted and why, per range — never what is under it."""
        return [{"op": o.op, "from": o.start, "to": o.end, "reason": o.reason,
                 "reason_zh": REASONS[o.reason][0],
                 "moving": o.moving} for o in self.operations]


# ---- parsing ------------------------------------------------------------------------------


def load(path: Path) -> Spec:
    """Read and validate a spec file (YAML or JSON)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(_("{path}: cannot read the redaction spec: {error}").format(
                             path=path, error=exc.strerror or exc)) from exc
    except UnicodeDecodeError as exc:
        raise InputError(_("{path}: the redaction "
                           "spec is not UTF-8 text").format(path=path)) from exc
    return parse_text(text, str(path))


def parse_text(text: str, source: str = "spec") -> Spec:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        message = _("{source} line {line}: not valid YAML or JSON") if mark is not None \
            else _("{source}: not valid YAML or JSON")
        raise InputError(message.format(source=source,
                                        line=mark.line + 1 if mark is not None else None)
                         ) from exc
    return parse(data, source)


def parse(data: Any, source: str = "spec") -> Spec:
    """Validate ``data`` strictly: unknown keys, wrong types, empty or reversed ranges and
    overlapping cuts are errors naming their path."""
    def fail(path: str, what: str) -> InputError:
        return InputError(_("{source}: {path}: {what}").format(source=source, path=path, what=what)
                          if path else _("{source}: {what}").format(source=source, what=what))

    if not isinstance(data, dict):
        raise fail("", _("a redaction spec is a mapping with 'version' and 'operations'"))
    _only(data, {"version", "operations"}, "", fail)
    if data.get("version", VERSION) != VERSION:
        raise fail("version", _("must be {VERSION}").format(VERSION=VERSION))
    ops = data.get("operations")
    if not isinstance(ops, list) or not ops:
        raise fail("operations", _("must be a non-empty list"))
    parsed = tuple(_operation(item, f"operations[{i}]", fail) for i, item in enumerate(ops))
    cuts = sorted((o.start, o.end, i) for i, o in enumerate(parsed) if o.op == "cut")
    for (s1, e1, i1), (s2, _e2, i2) in zip(cuts, cuts[1:], strict=False):
        if s2 < e1:
            raise fail(f"operations[{i2}]", _("cut {s2:g}-{e2:g} s overlaps the cut of "
                                              "operations[{i1}] ({s1:g}-{e1:g} s)").format(
                                                s2=s2, e2=_e2, i1=i1, s1=s1, e1=e1))
    return Spec(parsed)


def _only(item: dict[str, Any], allowed: set[str], path: str, fail: Any) -> None:
    unknown = sorted(str(k) for k in item if k not in allowed)
    if unknown:
        where = f"{path}.{unknown[0]}" if path else unknown[0]
        raise fail(where, _("unknown key (allowed: {allowed})").format(
                              allowed=', '.join(sorted(allowed))))


def _operation(item: Any, path: str, fail: Any) -> Operation:
    if not isinstance(item, dict):
        raise fail(path, _("must be a mapping with 'op', 'reason' and a time range"))
    op = item.get("op")
    if op not in OPS:
        raise fail(f"{path}.op", _("must be one of {OPS} (got {op!r})").format(
                                     OPS=', '.join(OPS), op=op))
    allowed = {"op", "from", "to", "reason"}
    if op in VIDEO_BOX_OPS:
        allowed |= {"rect", "track"}
    _only(item, allowed, path, fail)
    reason = _REASON_ALIASES.get(str(item.get("reason", "")).strip())
    if reason is None:
        raise fail(f"{path}.reason", _("must be one of 个人隐私, 商业秘密, "
                                       "国家秘密, 其他 (or {REASONS}); got "
                                       "{got!r}").format(
                                         REASONS=', '.join(REASONS), got=item.get('reason')))
    boxes: tuple[Key, ...] = ()
    if op in VIDEO_BOX_OPS:
        if ("rect" in item) == ("track" in item):
            raise fail(path, _("a {op} needs either 'rect' (a "
                               "fixed box) or 'track' (keyframes)").format(
                                 op=op))
        if "rect" in item:
            boxes = (_box(item["rect"], f"{path}.rect", fail, timed=False),)
        else:
            track = item["track"]
            if not isinstance(track, list) or len(track) < 2:
                raise fail(f"{path}.track", _("must list at least two keyframes {t, x, y, w, h}"))
            boxes = tuple(_box(k, f"{path}.track[{i}]", fail, timed=True)
                          for i, k in enumerate(track))
            for i, (a, b) in enumerate(zip(boxes, boxes[1:], strict=False), 1):
                if b.t <= a.t:
                    raise fail(f"{path}.track[{i}].t", _("keyframe times must increase"))
    if boxes and len(boxes) > 1:
        start = _time(item["from"], f"{path}.from", fail) if "from" in item else boxes[0].t
        end = _time(item["to"], f"{path}.to", fail) if "to" in item else boxes[-1].t
    else:
        for key in ("from", "to"):
            if key not in item:
                raise fail(f"{path}.{key}", _("missing (seconds from the clip's start)"))
        start = _time(item["from"], f"{path}.from", fail)
        end = _time(item["to"], f"{path}.to", fail)
    if end <= start:
        raise fail(f"{path}.to", _("must be after 'from' ({end:g} <= {start:g})").format(
                                     end=end, start=start))
    return Operation(str(op), start, end, reason, boxes)


def _box(item: Any, path: str, fail: Any, *, timed: bool) -> Key:
    keys = ("t", "x", "y", "w", "h") if timed else ("x", "y", "w", "h")
    if not isinstance(item, dict):
        raise fail(path, _("must be a mapping {{{keys}}}").format(keys=', '.join(keys)))
    _only(item, set(keys), path, fail)
    values: dict[str, int] = {}
    for k in ("x", "y", "w", "h"):
        v = item.get(k)
        if isinstance(v, bool) or not isinstance(v, int):
            raise fail(f"{path}.{k}", _("must be a whole number of pixels (got {v!r})").format(v=v))
        low = MIN_BOX if k in "wh" else 0
        if v < low:
            raise fail(f"{path}.{k}", _("must be at least {low}").format(low=low))
        values[k] = v
    t = _time(item.get("t"), f"{path}.t", fail) if timed else 0.0
    return Key(t, values["x"], values["y"], values["w"], values["h"])


def _time(value: Any, path: str, fail: Any) -> float:
    if isinstance(value, bool) or value is None:
        raise fail(path, _("must be a time: seconds, or MM:SS.s / HH:MM:SS.s"))
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        m = _TIME.match(str(value).strip())
        if not m:
            raise fail(path, _("{value!r} is not a time (seconds, MM:SS.s or HH:MM:SS.s)").format(
                                 value=value))
        hours, minutes, secs = m.groups()
        if minutes is not None and float(secs) >= 60:
            raise fail(path, _("{value!r}: seconds must be below 60").format(value=value))
        seconds = int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(secs)
    if seconds < 0 or seconds != seconds or seconds == float("inf"):
        raise fail(path, _("must be zero or more seconds"))
    return round(seconds, 3)
