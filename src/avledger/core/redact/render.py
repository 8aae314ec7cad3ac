"""Running ffmpeg: probing a clip, checking a spec against it, and rendering the graph.

The command line is fixed apart from the input, the graph and the output, and asks for
bit-exact output (no encoder version strings, one encoder thread), so that the same ffmpeg on
the same original with the same spec gives the same redacted file, and a court's re-render can
be compared with the one handed out.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from avledger.core.redact.graph import Graph, Media, build
from avledger.core.redact.spec import AUDIO_OPS, Spec
from avledger.errors import DeviceError, InputError, NotFoundError
from avledger.i18n import _

ENCODE = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "16", "-pix_fmt", "yuv420p",
          "-threads", "1", "-c:a", "aac", "-b:a", "160k"]
BITEXACT = ["-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
            "-map_metadata", "-1", "-map_chapters", "-1"]


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise NotFoundError(_("{name} is not installed; redaction needs ffmpeg and ffprobe").format(
                                name=name),
                            hint=_("install the Debian package 'ffmpeg'"))
    return path


def ffmpeg_version() -> str:
    """The first line of ``ffmpeg -version`` (named in the ledger with every redaction)."""
    out = subprocess.run([tool("ffmpeg"), "-hide_banner", "-version"], capture_output=True,
                         text=True, check=False)
    first = (out.stdout.splitlines() or ["ffmpeg (version unknown)"])[0]
    return first.split(" Copyright")[0].strip()


def probe(path: Path, pass_fds: tuple[int, ...] = ()) -> Media:
    """The clip's video size, frame rate, duration and audio format."""
    out = subprocess.run(
        [tool("ffprobe"), "-v", "error", "-print_format", "json", "-show_streams",
         "-show_format", str(path)], capture_output=True, text=True, check=False,
        pass_fds=pass_fds)
    if out.returncode != 0:
        raise DeviceError(_("ffprobe cannot read the clip: {output}").format(
                              output=out.stderr.strip()[:200]))
    info: dict[str, Any] = json.loads(out.stdout or "{}")
    streams = info.get("streams", [])
    video = next((s for s in streams if s.get("codec_type") == "video"), None)
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    if video is None:
        raise InputError(_("the clip has no video stream; there is nothing to redact"))
    duration = float(info.get("format", {}).get("duration") or video.get("duration") or 0)
    return Media(int(video["width"]), int(video["height"]),
                 str(video.get("avg_frame_rate") or video.get("r_frame_rate")),
                 duration, audio is not None,
                 int(audio.get("sample_rate", 48000)) if audio else 48000,
                 str(audio.get("channel_layout") or _layout(audio)) if audio else "mono")


def _layout(audio: dict[str, Any]) -> str:
    return {1: "mono", 2: "stereo"}.get(int(audio.get("channels", 1)), "mono")


def check_fits(spec: Spec, media: Media) -> None:
    """Ranges inside the clip, boxes inside the frame, audio operations only with audio."""
    for i, op in enumerate(spec.operations):
        where = f"operations[{i}]"
        if op.start >= media.duration:
            raise InputError(_("{where}.from: {start:g} s is past the clip's end ({duration:.3f} "
                               "s)").format(where=where, start=op.start, duration=media.duration))
        if op.op in AUDIO_OPS and not media.audio:
            raise InputError(_("{where}.op: the clip has no audio to {op}").format(
                                 where=where, op=op.op))
        for j, box in enumerate(op.boxes):
            at = f"{where}.rect" if len(op.boxes) == 1 else f"{where}.track[{j}]"
            if box.x + box.w > media.width or box.y + box.h > media.height:
                raise InputError(_("{at}: the box {w}x{h}+{x}+{y} goes outside the "
                                   "{width}x{height} frame").format(
                                     at=at, w=box.w, h=box.h, x=box.x, y=box.y, width=media.width,
                                     height=media.height))
    if spec.cut_seconds >= media.duration - 0.01:
        raise InputError(_("operations: the cuts would remove the whole clip"))


def command(source: str, graph: Graph, target: str) -> list[str]:
    """The ffmpeg command line (argv) that renders ``graph`` from ``source`` into ``target``."""
    maps = ["-map", f"[{graph.video_out}]"]
    if graph.audio_out:
        maps += ["-map", f"[{graph.audio_out}]"]
    return ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", source,
            "-filter_complex", graph.text, *maps, *ENCODE, *BITEXACT, "-f", "mp4", target]


def render(source: Path, spec: Spec, target: Path,
           pass_fds: tuple[int, ...] = ()) -> tuple[Graph, list[str]]:
    """Render ``spec`` on ``source`` into ``target``; the graph and the command used."""
    media = probe(source, pass_fds)
    check_fits(spec, media)
    graph = build(spec, media)
    argv = command(str(source), graph, str(target))
    done = subprocess.run([tool("ffmpeg"), *argv[1:]], capture_output=True, text=True,
                          check=False, pass_fds=pass_fds)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise DeviceError(_("ffmpeg failed to render the redaction: {last}").format(
                              last=last[:300]))
    return graph, argv
