"""Reading a recorder volume per its profile: who it is, which clips it holds, when each began.

Nothing here writes to the volume, and every file is read through a ``VolumeRoot``: a link,
FIFO or device node where a clip or the device-info file should be is refused, not read.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from avledger.config.profiles import Profile
from avledger.core.dock.volume_root import RefusedFile, VolumeRoot, excerpt, reached
from avledger.errors import DeviceError
from avledger.i18n import _
from avledger.timestamps import EARLIEST, in_range, zoned_to_utc

MAX_INFO_BYTES = 64 * 1024
MAX_FIELD_CHARS = 128  # badge, unit, model: shown escaped and cut, as all recorder text


@dataclass(frozen=True)
class RecorderIdentity:
    serial: str
    badge: str | None = None
    unit: str | None = None
    model: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    firmware: str | None = None


@dataclass(frozen=True)
class SourceClip:
    """One clip file on the volume, with what its name and stat say."""

    rel: str  # path relative to the volume root, '/'-separated, in its shown form
    raw: str  # the same path as the OS gives it (opens the file through a VolumeRoot)
    size: int
    mtime: datetime  # UTC
    device_start: datetime | None  # per the recorder's clock, as UTC; None when unparsed
    flags: tuple[str, ...] = ()  # unparsed-name, impossible-name-time, impossible-file-time
    kind: str = "video"  # video | photo | audio, per the profile's clips.kinds
    mark: str | None = None  # how the recorder marked it important (name, flag, sidecar)


# ---- device-info files -----------------------------------------------------------------------


def parse_keyvalue(text: str) -> dict[str, str]:
    """``KEY=VALUE`` or ``KEY: VALUE`` lines; blank lines and ``#``/``;`` comments ignored."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip().lstrip("\ufeff")
        if not line or line[0] in "#;":
            continue
        m = re.match(r"^([^=:]+?)\s*[=:]\s*(.*)$", line)
        if m:
            out[m.group(1).strip()] = m.group(2).strip().strip('"')
    return out


def parse_ini(text: str, section: str | None) -> dict[str, str]:
    import configparser  # a few recorders only write their device file as INI

    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        raise ValueError(f"not a valid INI file: {str(exc).splitlines()[0]}") from exc
    if section is None:
        sections = parser.sections()
        if not sections:
            return {}
        section = sections[0]
    if not parser.has_section(section):
        raise ValueError(f"no [{section}] section")
    return dict(parser.items(section))


def _dotted(data: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def parse_identity(text: str, fmt: str, fields: dict[str, str],
                   section: str | None = None) -> RecorderIdentity:
    """Turn a device-info file into an identity; ValueError when it has no usable serial."""
    values: dict[str, Any]
    if fmt == "keyvalue":
        values = parse_keyvalue(text)
        picked = {name: values.get(key) for name, key in fields.items()}
    elif fmt == "ini":
        values = parse_ini(text, section)
        picked = {name: values.get(key) for name, key in fields.items()}
    elif fmt == "json":
        try:
            values = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON: {exc.msg} at line {exc.lineno}") from exc
        picked = {name: _dotted(values, key) for name, key in fields.items()}
    else:
        raise ValueError(f"unknown device-info format {fmt!r}")
    clean = {k: (str(v).strip() if v is not None and str(v).strip() else None)
             for k, v in picked.items() if not isinstance(v, dict | list)}
    serial = clean.get("serial")
    if not serial:
        raise ValueError(f"no serial number (looked for {fields['serial']!r})")
    if len(serial) > 128 or any(ord(c) < 32 for c in serial):
        raise ValueError("serial number is not printable text")
    others = {k: excerpt(v, MAX_FIELD_CHARS) if v else None for k, v in clean.items()}
    return RecorderIdentity(serial, others.get("badge"), others.get("unit"), others.get("model"),
                            values if isinstance(values, dict) else {},
                            firmware=others.get("firmware"))


def parse_field(text: str, fmt: str, key: str | None, section: str | None = None) -> Any:
    """One value from a small device file: a key (keyvalue, ini), a dotted path (json), or the
    first number in the file (text). None when absent; ValueError when the file is malformed."""
    if fmt == "text":
        m = re.search(r"-?\d+(?:\.\d+)?", text)
        return m.group(0) if m else None
    if key is None:
        raise ValueError(f"format {fmt} needs a key")
    if fmt == "keyvalue":
        return parse_keyvalue(text).get(key)
    if fmt == "ini":
        return parse_ini(text, section).get(key)
    if fmt == "json":
        try:
            return _dotted(json.loads(text), key)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON: {exc.msg} at line {exc.lineno}") from exc
    raise ValueError(f"unknown format {fmt!r}")


def read_identity(root: VolumeRoot | Path, profile: Profile) -> RecorderIdentity:
    spec = profile.get("identity")
    with reached(root) as vol:
        try:
            raw = vol.read_small(spec["file"], MAX_INFO_BYTES)
        except FileNotFoundError as exc:
            raise DeviceError(_("{file} not found on the recorder ({path})").format(
                                  file=spec['file'], path=vol.path),
                              hint=_("is this a '{name}' "
                                     "recorder?").format(name=profile.name)) from exc
        except RefusedFile as exc:
            raise RefusedFile(exc.rel, f"{exc.reason} (the device-info file)") from exc
        except OSError as exc:
            raise DeviceError(_("cannot read {file} on the recorder: {error}").format(
                                  file=spec['file'], error=exc.strerror or exc)) from exc
    text = raw.decode("utf-8", errors="replace")
    try:
        return parse_identity(text, spec["format"], spec["fields"], spec.get("section"))
    except ValueError as exc:
        raise DeviceError(_("device-info file {file}: {exc}").format(
                              file=spec['file'], exc=excerpt(str(exc), 120))) from exc


# ---- clips -------------------------------------------------------------------------------------


def start_of(name: str, profile: Profile) -> tuple[datetime | None, str | None]:
    """The start time a clip's file name encodes (UTC), or None and the flag saying why."""
    m = profile.name_pattern.search(name)
    if not m:
        return None, "unparsed-name"
    try:
        naive = datetime.strptime(m.group("start"), profile.get("clips.time_format"))
    except ValueError:
        return None, "unparsed-name"
    try:
        return zoned_to_utc(naive, profile.timezone), None
    except ValueError:
        return None, "impossible-name-time"


def parse_start(name: str, profile: Profile) -> datetime | None:
    """The start time encoded in a clip's file name, as UTC; None when it does not parse."""
    return start_of(name, profile)[0]


def _glob_match(pattern: list[str], parts: list[str]) -> bool:
    """pathlib's glob over '/'-separated parts: ``**`` is any number of folders."""
    if not pattern:
        return not parts
    if pattern[0] == "**":
        return any(_glob_match(pattern[1:], parts[i:]) for i in range(len(parts)))
    return bool(parts) and fnmatchcase(parts[0], pattern[0]) and _glob_match(pattern[1:],
                                                                            parts[1:])


def _glob_below(pattern: list[str], parts: list[str]) -> bool:
    """Could the folder ``parts`` hold something ``pattern`` matches?"""
    if not parts:
        return bool(pattern)
    if not pattern:
        return False
    if pattern[0] == "**":
        return _glob_below(pattern[1:], parts) or _glob_below(pattern, parts[1:])
    return fnmatchcase(parts[0], pattern[0]) and _glob_below(pattern[1:], parts[1:])


def _file_time(st: os.stat_result) -> tuple[datetime, str | None]:
    try:
        moment = datetime.fromtimestamp(st.st_mtime, UTC)
    except (OverflowError, OSError, ValueError):
        moment = EARLIEST
    return (moment, None) if in_range(moment) else (EARLIEST, "impossible-file-time")


@dataclass(frozen=True)
class Refused:
    """Something on the volume where a clip could be, which is not read, and why."""

    rel: str
    reason: str


@dataclass
class Survey:
    clips: list[SourceClip] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)


def kind_of(parts: list[str], kinds: list[tuple[list[str], str]]) -> str:
    """The media kind the first matching ``clips.kinds`` glob gives; video otherwise."""
    return next((kind for pattern, kind in kinds if _glob_match(pattern, parts)), "video")


def survey(root: VolumeRoot | Path, profile: Profile) -> Survey:
    """The clips the profile's globs find, in path order, and whatever matched but is not a
    regular file of the volume (links, FIFOs, device nodes, folders that are links)."""
    kinds = [(g.split("/"), k) for g, k in profile.get("clips.kinds").items()]
    patterns = [g.split("/") for g in profile.get("clips.globs")] + [p for p, _ in kinds]
    found = Survey()
    with reached(root) as vol:
        try:
            entries = list(vol.walk())
        except OSError as exc:
            raise DeviceError(_("cannot list the recorder: {error}").format(
                                  error=exc.strerror or exc)) from exc
    for entry in entries:
        parts = entry.raw.split("/")
        is_folder = entry.st is not None and stat.S_ISDIR(entry.st.st_mode)
        if is_folder or (entry.st is not None and stat.S_ISLNK(entry.st.st_mode)):
            wanted = any(_glob_below(p, parts) for p in patterns)
            wanted = wanted or (not is_folder and any(_glob_match(p, parts) for p in patterns))
        else:
            wanted = any(_glob_match(p, parts) for p in patterns)
        if not wanted:
            continue
        if entry.refused or entry.st is None:
            found.refused.append(Refused(entry.rel, entry.refused or "cannot be examined"))
            continue
        mtime, time_flag = _file_time(entry.st)
        start, start_flag = start_of(parts[-1], profile)
        flags = tuple(f for f in (start_flag, time_flag) if f)
        found.clips.append(SourceClip(entry.rel, entry.raw, entry.st.st_size, mtime, start,
                                      flags, kind_of(parts, kinds)))
    if profile.get("marks.method") != "none":
        with reached(root) as vol:
            found.clips = [replace(c, mark=marked(vol, c, profile)) for c in found.clips]
    return found


def mark_file(clip: SourceClip, template: str) -> str:
    """Where a clip's flag file or sidecar is, from the profile's template."""
    folder, _, name = clip.raw.rpartition("/")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return template.format(dir=folder or ".", stem=stem, name=name)


def marked(vol: VolumeRoot, clip: SourceClip, profile: Profile) -> str | None:
    """How the recorder marked ``clip`` important (``name``, ``flag``, ``sidecar``), or None.

    A flag file counts only as a regular file of the volume, and a sidecar is read through
    the volume root: a link or FIFO in their place is never followed or opened."""
    spec = profile.get("marks")
    method = spec["method"]
    if method == "name":
        return "name" if re.search(spec["pattern"], clip.raw.rsplit("/", 1)[-1]) else None
    where = mark_file(clip, spec["path"])
    if method == "flag":
        return "flag" if vol.is_regular(where) else None
    try:
        text = vol.read_small(where, MAX_INFO_BYTES).decode("utf-8", errors="replace")
        value = parse_field(text, spec["format"], spec["key"], None)
    except (OSError, RefusedFile, ValueError):
        return None
    if value is None or isinstance(value, dict | list):
        return None
    return "sidecar" if re.search(spec["value"], str(value).strip()) else None


def scan(root: VolumeRoot | Path, profile: Profile) -> list[SourceClip]:
    """Every clip the profile's globs find, in path order (each file once)."""
    return survey(root, profile).clips
