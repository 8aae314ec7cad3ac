"""Device profiles: one YAML file per recorder family, validated like the configuration.

A profile says how to recognise a recorder (udev properties, file-system label, marker file),
where its identity is, where its clips are and how to read their start times, how to read and
set its clock, and how to mount it read-only. The schema below drives validation (every
problem with file and dotted path) and the defaults, using the same machinery as the config.
Profiles are found in ``profiles.dirs``; a later directory overrides a profile of the same name.
"""

from __future__ import annotations

import copy
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from avledger.config import schema
from avledger.config.loader import Config, read_yaml
from avledger.config.schema import Leaf, Node, Section
from avledger.errors import ConfigError, NotFoundError
from avledger.i18n import _

IDENTITY_FORMATS = ("keyvalue", "ini", "json")
LEVEL_FORMATS = (*IDENTITY_FORMATS, "text")
CLOCK_READ_METHODS = ("file", "command", "none")
CLOCK_WRITTEN_AT = ("connect", "live", "none")
CLOCK_SET_METHODS = ("file", "command", "none")
MOUNT_METHODS = ("kernel", "fuse")
MEDIA_KINDS = ("video", "photo", "audio")
MARK_METHODS = ("none", "name", "flag", "sidecar")
MARK_PLACEHOLDERS = ("dir", "stem", "name")
IDENTITY_FIELDS = ("serial", "badge", "unit", "model", "firmware")


# ---- value checks ------------------------------------------------------------------------------


def one_of(*choices: str) -> schema.Checker:
    def check(v: Any) -> str | None:
        return None if v in choices else f"must be one of: {', '.join(choices)}"
    return check


def optional(check: schema.Checker) -> schema.Checker:
    def maybe(v: Any) -> str | None:
        return None if v is None else check(v)
    return maybe


def regex(v: Any) -> str | None:
    if v is None:
        return None
    if not isinstance(v, str):
        return _("must be a regular expression (a string)")
    try:
        re.compile(v)
    except re.error as exc:
        return _("invalid regular expression: {exc}").format(exc=exc)
    return None


def start_regex(v: Any) -> str | None:
    problem = regex(v)
    if problem or v is None:
        return problem
    if "start" not in re.compile(v).groupindex:
        return _("must have a named group (?P<start>...) around the time stamp")
    return None


def strptime_format(v: Any) -> str | None:
    if v is None:
        return None
    if not isinstance(v, str) or "%" not in v:
        return _("must be a strptime format such as %Y%m%d_%H%M%S")
    return None


def string_map(v: Any) -> str | None:
    if not isinstance(v, dict) or not all(isinstance(k, str) for k in v):
        return _("must be a mapping of names to strings")
    if not all(isinstance(x, str | int) and not isinstance(x, bool) for x in v.values()):
        return _("every value must be a string")
    return None


def globs(v: Any) -> str | None:
    if not isinstance(v, list) or not v or not all(isinstance(g, str) and g for g in v):
        return _("must be a non-empty list of glob patterns such as DCIM/**/*.MP4")
    if any(g.startswith("/") or ".." in Path(g).parts for g in v):
        return _("globs are relative to the volume root (no leading / or ..)")
    return None


def kinds_map(v: Any) -> str | None:
    """``{GLOB: KIND}``: files a glob matches are of that kind (video, photo, audio)."""
    if not isinstance(v, dict):
        return "must be a mapping of glob patterns to kinds, e.g. 'DCIM/**/*.JPG': photo"
    problem = globs(list(v)) if v else None
    if problem:
        return problem
    bad = sorted({str(k) for k in v.values() if k not in MEDIA_KINDS})
    if bad:
        return f"unknown kind(s) {', '.join(bad)} (known: {', '.join(MEDIA_KINDS)})"
    return None


def mark_path(v: Any) -> str | None:
    """A path template beside a clip: ``{dir}/{stem}.LCK`` ({dir}, {stem}, {name})."""
    if v is None:
        return None
    if not isinstance(v, str) or not v:
        return "must be a path template such as '{dir}/{stem}.LCK'"
    try:
        filled = v.format(**{k: "x" for k in MARK_PLACEHOLDERS})
    except (KeyError, IndexError, ValueError):
        return f"may only use the placeholders {{{'}, {'.join(MARK_PLACEHOLDERS)}}}"
    if filled.startswith("/") or ".." in Path(filled).parts:
        return "must stay inside the volume (no leading / or ..)"
    return None


def relative_path(v: Any) -> str | None:
    if v is None:
        return None
    if not isinstance(v, str) or not v or v.startswith("/") or ".." in Path(v).parts:
        return _("must be a path relative to the volume root")
    return None


def argv(v: Any) -> str | None:
    if v is None:
        return None
    if not isinstance(v, list) or not v or not all(isinstance(a, str) for a in v):
        return _("must be a command as a list of arguments, e.g. [bwr-clock, --read, '{root}']")
    return None


def identity_fields(v: Any) -> str | None:
    problem = string_map(v)
    if problem:
        return problem
    if "serial" not in v:
        return _("must name at least the 'serial' field")
    unknown = set(v) - set(IDENTITY_FIELDS)
    if unknown:
        return (_("unknown field(s) {unknown} (known: {IDENTITY_FIELDS})").format(
                    unknown=', '.join(sorted(unknown)), IDENTITY_FIELDS=', '.join(IDENTITY_FIELDS)))
    return None


def optional_timezone(v: Any) -> str | None:
    return None if v is None else schema.timezone(v)


def optional_bool(v: Any) -> str | None:
    return None if isinstance(v, bool) else "must be true or false"


# ---- the schema ------------------------------------------------------------------------------

REQUIRED = object()  # marker default: the key must be given


def level_section(what: str, otherwise: str) -> Section:
    """Where the recorder reports a percentage (battery, free storage) in a file on its volume."""
    return Section(
        f"Where the recorder reports its {what} in percent (read when docked at the desk); "
        f"{otherwise}.",
        {
            "file": Leaf(relative_path, None, "The file, relative to the root; none: not read."),
            "format": Leaf(one_of(*LEVEL_FORMATS), "keyvalue",
                           "keyvalue, ini, json, or text (the first number in the file)."),
            "key": Leaf(schema.optional_str, None,
                        "The key (json: dotted path) holding the percentage; not for text."),
            "section": Leaf(schema.optional_str, None, "INI section (default: the first)."),
        },
    )


PROFILE_SCHEMA = Section(
    "A device profile: one recorder family.",
    {
        "name": Leaf(schema.optional_str, None, "Profile name; defaults to the file name."),
        "description": Leaf(schema.optional_str, None, "What recorders this profile is for."),
        "model": Leaf(schema.optional_str, None, "Model name recorded for new devices."),
        "match": Section(
            "How to recognise the recorder; every given test must pass, at least one is needed.",
            {
                "udev": Leaf(string_map, {}, "udev properties that must be equal, e.g. "
                                             "ID_VENDOR_ID: '1d6b'."),
                "label": Leaf(regex, None, "Regular expression the file-system label must match."),
                "marker": Leaf(relative_path, None, "A file that must exist on the volume."),
            },
        ),
        "identity": Section(
            "Where the recorder says who it is.",
            {
                "file": Leaf(relative_path, REQUIRED, "Device-info file, relative to the root."),
                "format": Leaf(one_of(*IDENTITY_FORMATS), REQUIRED,
                               "keyvalue (KEY=VALUE lines), ini or json."),
                "section": Leaf(schema.optional_str, None, "INI section holding the fields."),
                "fields": Leaf(identity_fields, REQUIRED,
                               "Which key holds serial, badge, unit, model, firmware (json: "
                               "dotted path)."),
            },
        ),
        "clips": Section(
            "Where the clips are and how to read their start time.",
            {
                "globs": Leaf(globs, REQUIRED, "Glob patterns relative to the root (** recurses)."),
                "name_pattern": Leaf(start_regex, REQUIRED,
                                     "Regex over the file name with a (?P<start>...) group."),
                "time_format": Leaf(strptime_format, REQUIRED,
                                    "strptime format of the start group."),
                "timezone": Leaf(schema.timezone, "Asia/Shanghai",
                                 "Time zone the recorder's clock runs in."),
                "kinds": Leaf(kinds_map, {},
                              "Media kinds by glob, e.g. 'DCIM/**/*.JPG': photo (video, "
                              "photo, audio); these globs are read too. Anything else a glob "
                              "finds is video."),
            },
        ),
        "marks": Section(
            "How the recorder marks a clip the officer locked as important (a hold is then "
            "proposed to the records office).",
            {
                "method": Leaf(one_of(*MARK_METHODS), "none",
                               "none, name (a pattern in the file name), flag (a file beside "
                               "the clip) or sidecar (a value in a file beside the clip)."),
                "pattern": Leaf(regex, None,
                                "method name: regular expression a marked clip's name matches."),
                "path": Leaf(mark_path, None,
                             "method flag or sidecar: the file beside the clip, e.g. "
                             "'{dir}/{stem}.LCK' ({dir} the clip's folder, {stem} its name "
                             "without extension, {name} its name)."),
                "format": Leaf(one_of(*IDENTITY_FORMATS), "keyvalue",
                               "method sidecar: keyvalue, ini or json."),
                "key": Leaf(schema.optional_str, None,
                            "method sidecar: the key (json: dotted path) holding the mark."),
                "value": Leaf(regex, "(?i)^(1|true|yes|on|important|lock(ed)?)$",
                              "method sidecar: regular expression the value must match."),
            },
        ),
        "clock": Section(
            "How to read and set the recorder's clock.",
            {
                "read": Section(
                    "Reading the clock at dock time.",
                    {
                        "method": Leaf(one_of(*CLOCK_READ_METHODS), "none",
                                       "file (a file the device writes at connect), command, "
                                       "or none."),
                        "path": Leaf(relative_path, None, "method file: the clock file."),
                        "format": Leaf(strptime_format, None,
                                       "strptime format of the clock file / command output."),
                        "command": Leaf(argv, None, "method command: argv; {root} and "
                                                    "{device} are replaced."),
                        "written_at": Leaf(
                            optional(one_of(*CLOCK_WRITTEN_AT)), None,
                            "When the recorder told the time it shows: connect (written when "
                            "plugged in; measured against the docking's udev event), live "
                            "(the current time when read; measured against the read) or none "
                            "(no drift is measured). Default: connect for a file, live for a "
                            "command."),
                        "timezone": Leaf(optional_timezone, None,
                                         "Time zone of the times the clock file or command "
                                         "gives (default: clips.timezone)."),
                    },
                ),
                "set": Section(
                    "Setting the clock (a separate, explicit, logged step; never during ingest).",
                    {
                        "method": Leaf(one_of(*CLOCK_SET_METHODS), "none",
                                       "file (written from a template), command, or none."),
                        "path": Leaf(relative_path, None, "method file: file to write."),
                        "template": Leaf(schema.optional_str, None,
                                         "method file: content; {time:FORMAT} is the new time."),
                        "command": Leaf(argv, None, "method command: argv; {root}, {device} "
                                                    "and {time} are replaced."),
                    },
                ),
            },
        ),
        "battery": level_section("battery level", "without it the desk enters the level"),
        "storage": level_section(
            "free storage", "without it the free space of the mounted volume is measured"),
        "mount": Section(
            "How to mount the volume (read-only; read-write only to set the clock).",
            {
                "method": Leaf(one_of(*MOUNT_METHODS), "fuse",
                               "kernel (mount -t FSTYPE -o ro) or fuse (HELPER -o ro)."),
                "fstype": Leaf(schema.non_empty_str, "vfat", "Kernel file-system type."),
                "helper": Leaf(schema.non_empty_str, "fusefat", "FUSE helper program."),
                "options": Leaf(schema.optional_str, None,
                                "Extra mount options; 'ro' is always added."),
                "write_option": Leaf(schema.optional_str, None,
                                     "Option that mounts read-write for a clock sync (default: "
                                     "rw+ for fusefat, rw otherwise)."),
            },
        ),
        "simulate": Section(
            "How the simulator lays out clips for this profile (demos and tests).",
            {
                "clip_path": Leaf(schema.optional_str, None,
                                  "Path template, e.g. DCIM/100BWR/{start:%Y%m%d_%H%M%S}_"
                                  "{index:04d}.MP4."),
                "label": Leaf(schema.optional_str, None, "FAT volume label of images."),
                "photo_path": Leaf(schema.optional_str, None,
                                   "Path template of photos (same fields as clip_path)."),
                "audio_path": Leaf(schema.optional_str, None,
                                   "Path template of audio recordings (same fields)."),
            },
        ),
    },
)

_CROSS_CHECKS = (
    ("clock.read", "file", ("path", "format")),
    ("clock.read", "command", ("command", "format")),
    ("clock.set", "file", ("path", "template")),
    ("clock.set", "command", ("command",)),
    ("marks", "name", ("pattern",)),
    ("marks", "flag", ("path",)),
    ("marks", "sidecar", ("path", "key")),
)


def _missing_required(data: Any, node: Node, path: str = "") -> list[str]:
    if not isinstance(node, Section) or not isinstance(data, dict):
        return []
    problems: list[str] = []
    for key, sub in node.fields.items():
        dotted = f"{path}.{key}" if path else key
        if isinstance(sub, Leaf) and sub.default is REQUIRED and key not in data:
            problems.append(_("{dotted}: is required").format(dotted=dotted))
        elif isinstance(sub, Section):
            if key not in data and any(
                isinstance(f, Leaf) and f.default is REQUIRED for f in sub.fields.values()
            ):
                problems.append(_("{dotted}: is required").format(dotted=dotted))
            else:
                problems += _missing_required(data.get(key, {}), sub, dotted)
    return problems


def _defaults(node: Section) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, sub in node.fields.items():
        if isinstance(sub, Section):
            out[key] = _defaults(sub)
        elif isinstance(sub, Leaf) and sub.default is not REQUIRED:
            out[key] = copy.deepcopy(sub.default)
    return out


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict) and key != "udev":
            _deep_merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def validate(raw: Any) -> list[str]:
    """Every problem in one profile document, as ``dotted.path: message``."""
    problems = schema.validate(raw, PROFILE_SCHEMA)
    if problems:
        return problems
    problems = _missing_required(raw, PROFILE_SCHEMA)
    merged = _deep_merge(_defaults(PROFILE_SCHEMA), raw)
    match = merged["match"]
    if not (match["udev"] or match["label"] or match["marker"]):
        problems.append(_("match: give at least one of udev, label, marker"))
    for where, method, needs in _CROSS_CHECKS:
        section = merged
        for part in where.split("."):
            section = section[part]
        if section["method"] == method:
            problems += [_("{where}.{n}: is required when method is {method}").format(
                             where=where, n=n, method=method)
                         for n in needs if not section.get(n)]
    if merged["identity"].get("section") and merged["identity"].get("format") != "ini":
        problems.append(_("identity.section: only used with format ini"))
    for level in ("battery", "storage"):
        spec = merged[level]
        if spec.get("file") and spec["format"] != "text" and not spec.get("key"):
            problems.append(_("{level}.key: is required when format is {format}").format(
                                level=level, format=spec['format']))
        if spec.get("section") and spec["format"] != "ini":
            problems.append(_("{level}.section: only used with format ini").format(level=level))
    return problems


@dataclass(frozen=True)
class Profile:
    """A validated profile with its defaults filled in."""

    name: str
    path: Path
    data: dict[str, Any]

    def get(self, dotted: str) -> Any:
        node: Any = self.data
        for part in dotted.split("."):
            node = node[part]
        return node

    @property
    def timezone(self) -> str:
        return str(self.get("clips.timezone"))

    @property
    def clock_timezone(self) -> str:
        """The zone of the times the recorder's clock reports (and is set in)."""
        return str(self.get("clock.read.timezone") or self.timezone)

    @property
    def name_pattern(self) -> re.Pattern[str]:
        return re.compile(self.get("clips.name_pattern"))

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "file": str(self.path),
                "description": self.data.get("description"), "model": self.data.get("model")}


def parse_profile(raw: Any, path: Path) -> Profile:
    problems = validate(raw)
    if problems:
        raise ConfigError(problems, source=str(path),
                          hint=_("check it with 'avledger profile check {path}'").format(path=path))
    data = _deep_merge(_defaults(PROFILE_SCHEMA), raw)
    data["match"]["udev"] = {k: str(v) for k, v in data["match"]["udev"].items()}
    data["identity"]["fields"] = {k: str(v) for k, v in data["identity"]["fields"].items()}
    name = data.get("name") or path.stem
    data["name"] = name
    return Profile(name, path, data)


def load_file(path: Path) -> Profile:
    return parse_profile(read_yaml(path), path)


def load_all(config: Config) -> dict[str, Profile]:
    """Every profile in the configured directories (later directories win), all validated."""
    found: dict[str, Profile] = {}
    problems: list[str] = []
    bad: list[Path] = []
    for directory in config.profile_dirs():
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml")):
            try:
                prof = load_file(path)
            except ConfigError as exc:
                where = f"{path}: "
                problems += [p if p.startswith(where) else where + p for p in exc.problems]
                bad.append(path)
                continue
            found[prof.name] = prof
    if problems:
        raise ConfigError(problems, hint=_("check it with 'avledger profile check {bad}'").format(
                                             bad=bad[0])
                          if len(bad) == 1 else _("check each with 'avledger profile check FILE'"))
    return dict(sorted(found.items()))


def get(config: Config, name: str) -> Profile:
    profiles = load_all(config)
    if name in profiles:
        return profiles[name]
    candidate = Path(name)
    if candidate.suffix in (".yaml", ".yml") and candidate.is_file():
        return load_file(candidate)
    known = ", ".join(profiles) or "none"
    raise NotFoundError(_("no device profile named {name!r} (known: {known})").format(
                            name=name, known=known),
                        hint=_("see 'avledger profile list'"))


# ---- recognising a volume ------------------------------------------------------------------


def _regular_file(path: Path) -> bool:
    """A marker counts only as a regular file: a link on a recorder is not followed."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


@dataclass(frozen=True)
class Seen:
    """What is known about a docked volume: its root (if mounted), udev properties, label."""

    root: Path | None = None
    udev: dict[str, str] | None = None
    label: str | None = None


@dataclass(frozen=True)
class Match:
    profile: Profile
    passed: tuple[str, ...]  # which tests passed, e.g. ("udev", "marker")
    skipped: tuple[str, ...]  # tests that could not be evaluated (no udev for a folder)


def match(profile: Profile, seen: Seen) -> Match | None:
    """Does ``seen`` look like this profile's recorder? Every test that can be evaluated
    must pass, and at least one must have been evaluated."""
    rules = profile.get("match")
    passed: list[str] = []
    skipped: list[str] = []
    if rules["udev"]:
        if seen.udev is None:
            skipped.append("udev")
        elif all(seen.udev.get(k) == v for k, v in rules["udev"].items()):
            passed.append("udev")
        else:
            return None
    if rules["label"]:
        if seen.label is None:
            skipped.append("label")
        elif re.search(rules["label"], seen.label):
            passed.append("label")
        else:
            return None
    if rules["marker"]:
        if seen.root is None:
            skipped.append("marker")
        elif _regular_file(seen.root / rules["marker"]):
            passed.append("marker")
        else:
            return None
    if not passed:
        return None
    return Match(profile, tuple(passed), tuple(skipped))


def recognise(profiles: dict[str, Profile], seen: Seen) -> list[Match]:
    """Matching profiles, best (most tests passed) first."""
    found = [m for p in profiles.values() if (m := match(p, seen)) is not None]
    return sorted(found, key=lambda m: (-len(m.passed), m.profile.name))
