"""The ffmpeg filter graph that carries out a spec — pure text, built from the spec and the
clip's stream facts, so that anyone can read it and run it again.

Video: a box is blurred by cropping it, ``boxblur``-ing the crop and overlaying it back at the
same place (a moving box: position interpolated linearly between keyframes, evaluated per
frame from ``t`` by ``crop`` and ``overlay``); a fixed box is blacked out with ``drawbox`` (a
moving one as a blur, with the crop filled black, since ``drawbox`` places its box only once);
whole frames are blurred with ``boxblur``. Audio:
``volume=0`` mutes, and a beep adds a 1 kHz tone (``aevalsrc``) over the muted range. Each is
switched on only in its range (``enable='between(t,a,b)'``). Cuts come last, on the original
timeline: ``trim``/``atrim`` keep the parts between cuts and ``concat`` joins them, so the clip
is shorter by exactly the cut ranges (each boundary on the nearest frame; the audio cut at the
same instants, to the sample) and nothing else moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from avledger.core.redact.spec import AUDIO_OPS, Key, Operation, Spec

BLUR_RADIUS = 20  # luma box radius at most; smaller boxes get what their size allows
BLUR_POWER = 3
BEEP_HZ = 1000
BEEP_LEVEL = 0.25


@dataclass(frozen=True)
class Media:
    """What the graph needs to know about the clip's streams (from ffprobe)."""

    width: int
    height: int
    frame_rate: str  # e.g. "25/1"
    duration: float
    audio: bool
    sample_rate: int = 48000
    channel_layout: str = "mono"


@dataclass(frozen=True)
class Graph:
    text: str  # the -filter_complex argument
    video_out: str  # output pad labels, for -map
    audio_out: str | None


def _num(v: float) -> str:
    return f"{v:.3f}".rstrip("0").rstrip(".") or "0"


def _enable(op: Operation) -> str:
    return f"enable='between(t,{_num(op.start)},{_num(op.end)})'"


def _even(v: int) -> int:
    return v - v % 2


def _lerp(op: Operation, attr: str) -> str:
    """A per-frame expression of a keyframed coordinate, linear between keyframes, held
    before the first and after the last."""
    keys = op.boxes
    expr = str(getattr(keys[-1], attr))
    for a, b in reversed(list(zip(keys, keys[1:], strict=False))):
        va, vb = getattr(a, attr), getattr(b, attr)
        seg = f"{va}+({vb - va})*(t-{_num(a.t)})/{_num(b.t - a.t)}"
        expr = f"if(lt(t,{_num(b.t)}),{seg},{expr})"
    return f"if(lt(t,{_num(keys[0].t)}),{getattr(keys[0], attr)},{expr})"


@dataclass(frozen=True)
class _Box:
    """The box to treat: fixed size (the largest keyframe's), position as expressions."""

    w: int
    h: int
    x: str
    y: str


def _box(op: Operation, media: Media) -> _Box:
    w = min(_even(max(k.w for k in op.boxes) + 1), _even(media.width))
    h = min(_even(max(k.h for k in op.boxes) + 1), _even(media.height))
    if not op.moving:
        k = op.boxes[0]
        return _Box(w, h, str(_even(min(k.x, media.width - w))),
                    str(_even(min(k.y, media.height - h))))
    # centre interpolated, the box of the largest size around it, kept inside the frame
    centred = [Key(k.t, 2 * k.x + k.w, 2 * k.y + k.h, k.w, k.h) for k in op.boxes]
    shadow = Operation(op.op, op.start, op.end, op.reason, tuple(centred))
    cx, cy = _lerp(shadow, "x"), _lerp(shadow, "y")
    x = f"2*trunc(clip(({cx})/2-{w // 2},0,{media.width - w})/2)"
    y = f"2*trunc(clip(({cy})/2-{h // 2},0,{media.height - h})/2)"
    return _Box(w, h, x, y)


def _blur_radius(w: int, h: int) -> tuple[int, int]:
    """Luma and chroma radii boxblur accepts for a w×h region of 4:2:0 video."""
    luma = max(1, min(BLUR_RADIUS, min(w, h) // 2 - 1))
    chroma = max(1, min(luma, min(w, h) // 4 - 1))
    return luma, chroma


def frame_of(seconds: float, media: Media) -> int:
    """The frame a time falls on (cuts are made on whole frames: the nearest boundary)."""
    return round(Fraction(str(seconds)) * Fraction(media.frame_rate))


def _kept_frames(cuts: list[tuple[float, float]],
                 media: Media) -> list[tuple[int, int | None]]:
    """The [first, stop) frame ranges between the cuts (stop None: to the end)."""
    keep: list[tuple[int, int | None]] = []
    at = 0
    for start, end in cuts:
        first, stop = frame_of(start, media), frame_of(end, media)
        if first > at:
            keep.append((at, first))
        at = max(at, stop)
    if at < frame_of(media.duration, media):
        keep.append((at, None))
    return keep


def build(spec: Spec, media: Media) -> Graph:
    lines: list[str] = []
    v, n = "0:v", 0

    def label(prefix: str) -> str:
        nonlocal n
        n += 1
        return f"{prefix}{n}"

    for op in spec.operations:
        if op.op == "blur" or (op.op == "blackout" and op.moving):
            # crop the box, treat it, overlay it back: crop and overlay follow t per frame
            # (drawbox places its box only once, so a moving blackout is a black crop)
            box = _box(op, media)
            luma, chroma = _blur_radius(box.w, box.h)
            treat = (f"boxblur=luma_radius={luma}:luma_power={BLUR_POWER}:"
                     f"chroma_radius={chroma}:chroma_power={BLUR_POWER}" if op.op == "blur"
                     else "drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill")
            base, part, treated, out = label("base"), label("part"), label("box"), label("v")
            lines.append(f"[{v}]split[{base}][{part}]")
            lines.append(f"[{part}]crop=w={box.w}:h={box.h}:x='{box.x}':y='{box.y}',{treat}"
                         f"[{treated}]")
            lines.append(f"[{base}][{treated}]overlay=x='{box.x}':y='{box.y}':{_enable(op)}"
                         f"[{out}]")
            v = out
        elif op.op == "blackout":
            box = _box(op, media)
            out = label("v")
            lines.append(f"[{v}]drawbox=x={box.x}:y={box.y}:w={box.w}:h={box.h}:"
                         f"color=black:t=fill:{_enable(op)}[{out}]")
            v = out
        elif op.op == "blur-frame":
            luma, chroma = _blur_radius(media.width, media.height)
            out = label("v")
            lines.append(f"[{v}]boxblur=luma_radius={luma}:luma_power={BLUR_POWER}:"
                         f"chroma_radius={chroma}:chroma_power={BLUR_POWER}:{_enable(op)}"
                         f"[{out}]")
            v = out
    a: str | None = "0:a" if media.audio else None
    for op in spec.operations:
        if op.op not in AUDIO_OPS or a is None:
            continue
        out = label("a")
        lines.append(f"[{a}]volume=volume=0:{_enable(op)}[{out}]")
        a = out
        if op.op == "beep":
            tone, mixed = label("tone"), label("a")
            expr = (f"{BEEP_LEVEL}*sin(2*PI*{BEEP_HZ}*t)*between(t,{_num(op.start)}"
                    f",{_num(op.end)})")
            lines.append(f"aevalsrc=exprs='{expr}':s={media.sample_rate}:d="
                         f"{_num(media.duration)},aformat=channel_layouts="
                         f"{media.channel_layout}[{tone}]")
            lines.append(f"[{a}][{tone}]amix=inputs=2:duration=first:dropout_transition=0:"
                         f"normalize=0[{mixed}]")
            a = mixed
    cuts = spec.cuts
    if cuts:
        keep = _kept_frames(cuts, media)
        vparts = [label("vk") for _ in keep]
        aparts = [label("ak") for _ in keep] if a else []
        lines.append(f"[{v}]split={len(keep)}" + "".join(f"[{p}s]" for p in vparts))
        if a:
            lines.append(f"[{a}]asplit={len(keep)}" + "".join(f"[{p}s]" for p in aparts))
        rate = Fraction(media.frame_rate)
        for i, (first, stop) in enumerate(keep):
            vend = f":end_frame={stop}" if stop is not None else ""
            lines.append(f"[{vparts[i]}s]trim=start_frame={first}{vend},"
                         f"setpts=PTS-STARTPTS[{vparts[i]}]")
            if a:
                aend = (f":end_sample={round(stop * media.sample_rate / rate)}"
                        if stop is not None else "")
                lines.append(f"[{aparts[i]}s]atrim=start_sample="
                             f"{round(first * media.sample_rate / rate)}{aend},"
                             f"asetpts=PTS-STARTPTS[{aparts[i]}]")
        vout = label("vout")
        aout = label("aout") if a else None
        pads = "".join(f"[{vp}]" + (f"[{aparts[i]}]" if a else "")
                       for i, vp in enumerate(vparts))
        lines.append(f"{pads}concat=n={len(keep)}:v=1:a={1 if a else 0}[{vout}]"
                     + (f"[{aout}]" if aout else ""))
        return Graph(";\n".join(lines), vout, aout)
    vout = label("vout")
    lines.append(f"[{v}]null[{vout}]")
    aout = None
    if a is not None:
        aout = label("aout")
        lines.append(f"[{a}]anull[{aout}]")
    return Graph(";\n".join(lines), vout, aout)
