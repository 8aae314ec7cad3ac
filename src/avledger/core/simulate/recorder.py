"""A recorder simulator for demos, tests and benchmarks.

Lays out a volume the way a profile's recorder would: clips with valid MP4/MOV headers and
real durations, named by their start time on the recorder's (drifting) clock, a device-info
file, a clock file, and optionally a FAT image of it all (``mkfs.vfat`` + ``mcopy``; no mount,
so no root needed). Clip content is deterministic (BLAKE3 output keyed by serial and index),
so two runs with the same arguments produce the same bytes.
"""

from __future__ import annotations

import configparser
import io
import json
import math
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import blake3

from avledger.config.profiles import Profile
from avledger.core.clock import setter as clockset
from avledger.core.clock.check import parse_clock_text
from avledger.core.dock.volume import SourceClip, mark_file, read_identity, scan
from avledger.core.simulate import mp4write
from avledger.errors import AvledgerError, DeviceError, RefusedError
from avledger.i18n import _
from avledger.timestamps import utcnow

CHUNK = 8 * 1024 * 1024
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """'4096', '64k', '5MiB', '1.5G' → bytes (k/M/G/T are powers of 1024)."""
    m = _SIZE.match(text)
    if not m:
        raise ValueError(f"not a size: {text!r} (examples: 512k, 64MiB, 2G)")
    factor = 1024 ** " kmgt".index(m.group(2).lower() or " ")
    return int(float(m.group(1)) * factor)


@dataclass
class SimClip:
    rel: str
    size: int
    true_start: datetime  # what the time really was
    device_start: datetime  # what the recorder's clock said
    seconds: float
    kind: str = "video"
    marked: bool = False


@dataclass
class SimReport:
    root: Path
    profile: str
    serial: str
    badge: str | None
    drift_seconds: float
    clips: list[SimClip] = field(default_factory=list)
    image: Path | None = None
    docked_at: datetime | None = None  # when it was (simulated) docked: its clock file's moment

    def as_dict(self) -> dict[str, Any]:
        return {"root": str(self.root), "profile": self.profile, "serial": self.serial,
                "badge": self.badge, "drift_seconds": self.drift_seconds,
                "docked_at": self.docked_at.isoformat() if self.docked_at else None,
                "image": str(self.image) if self.image else None,
                "bytes": sum(c.size for c in self.clips),
                "clips": [{"path": c.rel, "size": c.size, "seconds": c.seconds,
                           "kind": c.kind, "marked": c.marked,
                           "true_start": c.true_start.isoformat(),
                           "device_start": c.device_start.isoformat()} for c in self.clips]}


# ---- the device-info file, in the profile's format ---------------------------------------------


def identity_text(profile: Profile, values: dict[str, str | None]) -> str:
    spec = profile.get("identity")
    keys = {spec["fields"][k]: v for k, v in values.items() if k in spec["fields"] and v}
    if spec["format"] == "keyvalue":
        return "".join(f"{k}={v}\n" for k, v in keys.items())
    if spec["format"] == "ini":
        parser = configparser.ConfigParser(interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser[spec.get("section") or "device"] = keys
        out = io.StringIO()
        parser.write(out)
        return out.getvalue()
    doc: dict[str, Any] = {}
    for dotted, value in keys.items():
        node = doc
        *parents, last = dotted.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = value
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def write_clock_file(root: Path, profile: Profile, drift: float, *, garbage: bool = False,
                     now: datetime | None = None) -> datetime | None:
    """What the recorder writes as it is docked: its own clock (host time + drift), in whole
    seconds of its zone. The moment of docking it returns is the host moment at which the
    recorder's clock showed exactly what the file says — the reference a dock measures the
    file against, so the drift reads back exactly however long the file waits to be read.

    The file's modification time is set to that moment too, so that ``current_drift`` reads
    the drift back (the simulated recorder keeps its clock nowhere else)."""
    spec = profile.get("clock.read")
    if spec["method"] != "file":
        return None
    path = root / spec["path"]
    path.parent.mkdir(parents=True, exist_ok=True)
    moment = now or utcnow()
    if garbage:
        path.write_bytes(b"\xff\xfeclock?? 99:99\x00\n")
        return moment
    device_now = (moment + timedelta(seconds=drift)).astimezone(ZoneInfo(profile.clock_timezone))
    text = device_now.strftime(spec["format"]) + "\n"
    path.write_text(text, encoding="utf-8")
    shown = parse_clock_text(text, spec["format"], profile.clock_timezone)
    at = shown - timedelta(seconds=drift)
    ns = round(at.timestamp() * 1e9)
    os.utime(path, ns=(ns, ns))
    return at


def current_drift(root: Path, profile: Profile) -> float | None:
    """The simulated recorder's drift, from the clock file it wrote when last connected."""
    spec = profile.get("clock.read")
    if spec["method"] != "file":
        return None
    path = root / spec["path"]
    try:
        shown = parse_clock_text(path.read_text(encoding="utf-8", errors="replace"),
                                 spec["format"], profile.clock_timezone)
        written = path.stat().st_mtime_ns / 1e9
    except (OSError, ValueError):
        return None
    return round(float(shown.timestamp() - written), 6)


def take_up_clock_setting(root: Path, profile: Profile,
                          as_of: datetime | None = None) -> float | None:
    """Play the recorder finding a clock-setting file when connected: it sets its clock to the
    written time, as of the moment the file was written (``as_of``, else its modification
    time), and removes the file. The new drift, or None when no readable file was there."""
    spec = profile.get("clock.set")
    if spec["method"] != "file":
        return None
    path = root / spec["path"]
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
        written_at = as_of or datetime.fromtimestamp(path.stat().st_mtime_ns / 1e9, UTC)
    except OSError:
        return None
    path.unlink()
    set_to = clockset.parse(spec["template"], text, profile.clock_timezone)
    return None if set_to is None else round((set_to - written_at).total_seconds(), 6)


@dataclass(frozen=True)
class Docking:
    drift_seconds: float  # the recorder's clock minus true time, now
    took_up_setting: bool  # a clock-setting file was found and applied
    battery_percent: float | None
    docked_at: datetime | None = None  # the moment its clock file was written

    def as_dict(self) -> dict[str, Any]:
        return {"drift_seconds": self.drift_seconds, "took_up_setting": self.took_up_setting,
                "battery_percent": self.battery_percent,
                "docked_at": self.docked_at.isoformat() if self.docked_at else None}


def redock(root: Path, profile: Profile, *, drift: float | None = None,
           battery: float | None = None) -> Docking:
    """The simulated recorder is connected again: it takes up a clock setting left for it,
    reports its battery (when given), and writes its clock file afresh. Without ``drift`` its
    clock runs on as before."""
    applied = take_up_clock_setting(root, profile)
    if applied is not None:
        drift = applied
    elif drift is None:
        drift = current_drift(root, profile) or 0.0
    if battery is not None:
        write_level(root, profile.get("battery"), battery)
    docked_at = write_clock_file(root, profile, drift)
    return Docking(drift, applied is not None, battery, docked_at)


def write_level(root: Path, spec: dict[str, Any], value: float) -> None:
    """Write a percentage where the profile's battery/storage section says the recorder
    reports it (merged into the file when it holds other values)."""
    if not spec.get("file"):
        return
    path = root / spec["file"]
    path.parent.mkdir(parents=True, exist_ok=True)
    shown = f"{value:g}"
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    fmt, key = spec["format"], spec.get("key") or ""
    if fmt == "text":
        text = shown + "\n"
    elif fmt == "keyvalue":
        lines = [ln for ln in old.splitlines() if not re.match(rf"^\s*{re.escape(key)}\s*[=:]", ln)]
        text = "".join(f"{ln}\n" for ln in lines) + f"{key}={shown}\n"
    elif fmt == "ini":
        parser = configparser.ConfigParser(interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read_string(old)
        section = spec.get("section") or (parser.sections() or ["status"])[0]
        if not parser.has_section(section):
            parser.add_section(section)
        parser[section][key] = shown
        out = io.StringIO()
        parser.write(out)
        text = out.getvalue()
    else:
        doc = json.loads(old) if old.strip() else {}
        node = doc
        *parents, last = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
        text = json.dumps(doc, indent=2) + "\n"
    path.write_text(text, encoding="utf-8")


# ---- clips ---------------------------------------------------------------------------------------


def _payload(path: Path, head: bytes, size: int, key: bytes) -> None:
    body = size - len(head) - len(mp4write.mdat_header(max(0, size - len(head) - 8)))
    if body < 0:
        raise RefusedError(_("clip size {size} is smaller than "
                             "its {header_size}-byte header").format(
                               size=size, header_size=len(head) + 8))
    xof = blake3.blake3(key)
    with open(path, "wb") as fh:
        fh.write(head)
        fh.write(mp4write.mdat_header(body))
        done = 0
        while done < body:
            n = min(CHUNK, body - done)
            fh.write(xof.digest(length=n, seek=done))
            done += n


def clip_name(profile: Profile, device_start: datetime, index: int) -> str:
    template = profile.get("simulate.clip_path")
    if not template:
        raise RefusedError(_("profile {name} has no simulate.clip_path; cannot simulate").format(
                               name=profile.name))
    local = device_start.astimezone(ZoneInfo(profile.timezone))
    return str(template.format(start=local, index=index))


def _lay_clips(root: Path, profile: Profile, serial: str, *, start: datetime, clips: int,
               bad_names: int, seconds: float, gap: float, drift: float, size: int,
               first_index: int) -> list[SimClip]:
    """Record clips: true times from ``start``, named by the recorder's (drifting) clock."""
    laid: list[SimClip] = []
    quicktime = any(g.lower().endswith(".mov") for g in profile.get("clips.globs"))
    for i in range(clips + bad_names):
        index = first_index + i
        true_start = start + i * timedelta(seconds=math.ceil(seconds + gap))
        # file names carry whole seconds of the recorder's clock
        device_start = (true_start + timedelta(seconds=drift)).replace(microsecond=0)
        if i < clips:
            rel = clip_name(profile, device_start, index)
        else:  # a name the profile's pattern cannot read, in the same folder
            good = clip_name(profile, device_start, index)
            rel = str(Path(good).with_name(f"MOVI{index:04d}{Path(good).suffix}"))
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        head = mp4write.header(seconds, true_start, quicktime=quicktime)
        _payload(path, head, size, f"{serial}/{index}".encode())
        device_end = (device_start + timedelta(seconds=seconds)).timestamp()
        os.utime(path, (device_end, device_end))
        laid.append(SimClip(rel, size, true_start, device_start, seconds))
    return laid


def _template(profile: Profile, kind: str) -> str:
    key = {"photo": "simulate.photo_path", "audio": "simulate.audio_path"}[kind]
    template = profile.get(key)
    if not template:
        raise RefusedError(_("profile {profile} has no {key}; cannot simulate {kind}s").format(
            profile=profile.name, key=key, kind=kind))
    return str(template)


def _lay_others(root: Path, profile: Profile, serial: str, videos: list[SimClip], *,
                kind: str, count: int, seconds: float, drift: float,
                first_index: int) -> list[SimClip]:
    """Photos (a small JPEG each) or audio recordings (WAV of ``seconds``), taken during each
    video in turn (or a minute apart when there are none)."""
    template = _template(profile, kind)
    laid: list[SimClip] = []
    base = videos[0].true_start if videos else utcnow().replace(microsecond=0) - timedelta(
        hours=1)
    for i in range(count):
        index = first_index + i
        true_start = (videos[i % len(videos)].true_start + timedelta(
            seconds=min(5.0, videos[0].seconds / 2)) if videos else base + timedelta(minutes=i))
        device_start = (true_start + timedelta(seconds=drift)).replace(microsecond=0)
        local = device_start.astimezone(ZoneInfo(profile.timezone))
        rel = template.format(start=local, index=index)
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        body = blake3.blake3(f"{serial}/{kind}/{index}".encode()).digest(length=4096)
        if kind == "photo":
            path.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + body + b"\xff\xd9")
            length = 0.0
        else:
            _write_wav(path, seconds, body)
            length = seconds
        stamp = (device_start + timedelta(seconds=length)).timestamp()
        os.utime(path, (stamp, stamp))
        laid.append(SimClip(rel, path.stat().st_size, true_start, device_start, length, kind))
    return laid


def _write_wav(path: Path, seconds: float, seed: bytes) -> None:
    """A mono 8 kHz 8-bit WAV file lasting ``seconds`` (its header says so)."""
    import wave

    frames = int(seconds * 8000)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(8000)
        noise = (seed * (frames // len(seed) + 1))[:frames]
        out.writeframes(noise)


def _add_others(root: Path, profile: Profile, serial: str, videos: list[SimClip], *,
                photos: int, audio: int, marked: int, seconds: float, drift: float,
                first_index: int) -> list[SimClip]:
    """Mark the first ``marked`` videos important; take photos and audio recordings."""
    for clip in videos[:marked]:
        mark_important(root, profile, clip)
    laid: list[SimClip] = []
    for kind, count in (("photo", photos), ("audio", audio)):
        if count:
            laid += _lay_others(root, profile, serial, videos, kind=kind, count=count,
                                seconds=seconds, drift=drift,
                                first_index=first_index + len(laid))
    return laid


def mark_important(root: Path, profile: Profile, clip: SimClip) -> None:
    """Play the officer locking a clip: the flag file or sidecar the profile describes."""
    spec = profile.get("marks")
    if spec["method"] not in ("flag", "sidecar"):
        raise RefusedError(_("profile {profile} marks clips by {method}; the simulator writes "
                             "only flag files and sidecars").format(profile=profile.name,
                                                                    method=spec["method"]))
    rel = mark_file(SourceClip(clip.rel, clip.rel, 0, clip.true_start, None), spec["path"])
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if spec["method"] == "flag":
        path.write_bytes(b"1\n")
    else:
        write_level(root, {"file": rel, "format": spec["format"], "key": spec["key"],
                           "section": None}, 1)
    clip.marked = True


def simulate(root: Path, profile: Profile, *, clips: int = 3, size: int = 1 << 20,
             seconds: float = 60.0, drift: float = 0.0, serial: str = "SIM0001",
             badge: str | None = "0001", unit: str | None = None,
             first_start: datetime | None = None, gap: float = 120.0,
             bad_names: int = 0, garbage_clock: bool = False, battery: float | None = 95.0,
             image: Path | None = None, photos: int = 0, audio: int = 0,
             marked: int = 0) -> SimReport:
    """Lay out a recorder volume in ``root`` (and a FAT image of it when ``image`` is given)."""
    root.mkdir(parents=True, exist_ok=True)
    if any(root.iterdir()):
        raise RefusedError(_("{root} is not empty; the simulator "
                             "only writes into an empty folder").format(
                               root=root))
    report = SimReport(root, profile.name, serial, badge, drift)
    spec = profile.get("identity")
    info = root / spec["file"]
    info.parent.mkdir(parents=True, exist_ok=True)
    info.write_text(identity_text(profile, {"serial": serial, "badge": badge, "unit": unit,
                                            "model": profile.data.get("model")}),
                    encoding="utf-8")
    marker = profile.get("match.marker")
    if marker and not (root / marker).exists():
        (root / marker).parent.mkdir(parents=True, exist_ok=True)
        (root / marker).write_bytes(b"")
    total = clips + bad_names
    start = first_start or (utcnow().replace(microsecond=0)
                            - timedelta(seconds=total * (seconds + gap) + 3600))
    report.clips = _lay_clips(root, profile, serial, start=start, clips=clips,
                              bad_names=bad_names, seconds=seconds, gap=gap, drift=drift,
                              size=size, first_index=1)
    report.clips += _add_others(root, profile, serial, report.clips[:clips], photos=photos,
                                audio=audio, marked=marked, seconds=seconds, drift=drift,
                                first_index=len(report.clips) + 1)
    if battery is not None:
        write_level(root, profile.get("battery"), battery)
    report.docked_at = write_clock_file(root, profile, drift, garbage=garbage_clock)
    if image is not None:
        make_fat_image(root, image, profile)
        report.image = image
    return report


def record(root: Path, profile: Profile, *, clips: int = 1, size: int = 1 << 20,
           seconds: float = 60.0, gap: float = 120.0, start: datetime | None = None,
           drift: float | None = None, photos: int = 0, audio: int = 0,
           marked: int = 0) -> list[SimClip]:
    """The simulated recorder records more clips (numbered on from those it holds), named by
    its clock as it runs now (``drift``, else read from its clock file)."""
    who = read_identity(root, profile)
    held = len(scan(root, profile))
    if drift is None:
        drift = current_drift(root, profile) or 0.0
    first = start or (utcnow().replace(microsecond=0)
                      - timedelta(seconds=clips * math.ceil(seconds + gap) + 60))
    videos = _lay_clips(root, profile, who.serial, start=first, clips=clips, bad_names=0,
                        seconds=seconds, gap=gap, drift=drift, size=size, first_index=held + 1)
    return videos + _add_others(root, profile, who.serial, videos, photos=photos, audio=audio,
                                marked=marked, seconds=seconds, drift=drift,
                                first_index=held + 1 + len(videos))


# ---- FAT image -------------------------------------------------------------------------------


def _run(argv: list[str], env: dict[str, str] | None = None) -> None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600)
    except FileNotFoundError as exc:
        raise AvledgerError(_("{argv} is not installed").format(argv=argv[0]),
                            hint=_("install dosfstools and mtools")) from exc
    if done.returncode != 0:
        raise DeviceError(_("{argv} failed: {output}").format(
                              argv=' '.join(argv[:2]), output=done.stderr.strip()[:300]))


def make_fat_image(root: Path, image: Path, profile: Profile) -> Path:
    """A FAT image holding ``root``'s tree, with the recorder's local times on its files."""
    for tool in ("mkfs.vfat", "mcopy"):
        if shutil.which(tool) is None:
            raise AvledgerError(_("{tool} is not installed").format(tool=tool),
                                hint=_("install dosfstools and mtools"))
    payload = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    files = sum(1 for _ in root.rglob("*"))
    size = max(40 << 20, int(payload * 1.08) + files * 64 * 1024 + (8 << 20))
    size = (size + (1 << 20) - 1) & ~((1 << 20) - 1)
    image.parent.mkdir(parents=True, exist_ok=True)
    if image.exists():
        image.unlink()
    with open(image, "wb") as fh:
        fh.truncate(size)
    label = (profile.get("simulate.label") or "RECORDER")[:11].upper()
    _run(["mkfs.vfat", "-n", label, str(image)])
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1", TZ=profile.timezone)
    entries = sorted(str(p) for p in root.iterdir())
    _run(["mcopy", "-s", "-m", "-Q", "-i", str(image), *entries, "::/"], env=env)
    return image


def device_time_of(report: SimReport, index: int) -> datetime:
    return report.clips[index].device_start.astimezone(UTC)
