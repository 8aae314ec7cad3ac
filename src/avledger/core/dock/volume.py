"""Reading a recorder volume per its profile: who it is, which clips it holds, when each began.

Nothing here writes to the volume.
"""

from __future__ import annotations

import configparser
import json
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from avledger.config.profiles import Profile
from avledger.errors import DeviceError

MAX_INFO_BYTES = 64 * 1024


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

    rel: str  # path relative to the volume root, '/'-separated
    path: Path
    size: int
    mtime: datetime  # UTC
    device_start: datetime | None  # per the recorder's clock, as UTC; None when unparsed


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
    return RecorderIdentity(serial, clean.get("badge"), clean.get("unit"), clean.get("model"),
                            values if isinstance(values, dict) else {},
                            firmware=clean.get("firmware"))


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


def read_identity(root: Path, profile: Profile) -> RecorderIdentity:
    spec = profile.get("identity")
    path = root / spec["file"]
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_INFO_BYTES)
    except FileNotFoundError as exc:
        raise DeviceError(f"{spec['file']} not found on the recorder ({root})",
                          hint=f"is this a '{profile.name}' recorder?") from exc
    except OSError as exc:
        raise DeviceError(f"cannot read {spec['file']} on the recorder: "
                          f"{exc.strerror or exc}") from exc
    text = raw.decode("utf-8", errors="replace")
    try:
        return parse_identity(text, spec["format"], spec["fields"], spec.get("section"))
    except ValueError as exc:
        raise DeviceError(f"device-info file {spec['file']}: {exc}") from exc


# ---- clips -------------------------------------------------------------------------------------


def parse_start(name: str, profile: Profile) -> datetime | None:
    """The start time encoded in a clip's file name, as UTC; None when it does not parse."""
    m = profile.name_pattern.search(name)
    if not m:
        return None
    try:
        naive = datetime.strptime(m.group("start"), profile.get("clips.time_format"))
    except ValueError:
        return None
    return naive.replace(tzinfo=ZoneInfo(profile.timezone)).astimezone(UTC)


def _walk(root: Path, pattern: str) -> list[Path]:
    try:
        return [p for p in root.glob(pattern) if p.is_file()]
    except OSError as exc:
        raise DeviceError(f"cannot list {pattern} on the recorder: {exc.strerror or exc}") from exc


def scan(root: Path, profile: Profile) -> list[SourceClip]:
    """Every clip the profile's globs find, in path order (each file once)."""
    seen: dict[str, Path] = {}
    for pattern in profile.get("clips.globs"):
        for path in _walk(root, pattern):
            seen.setdefault(path.relative_to(root).as_posix(), path)
    clips: list[SourceClip] = []
    for rel, path in sorted(seen.items()):
        try:
            st = os.stat(path)
        except OSError as exc:
            raise DeviceError(f"cannot stat {rel} on the recorder: {exc.strerror or exc}") from exc
        clips.append(SourceClip(rel, path, st.st_size,
                                datetime.fromtimestamp(st.st_mtime, UTC),
                                parse_start(path.name, profile)))
    return clips
