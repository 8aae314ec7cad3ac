"""Setting a recorder's clock through its profile: the one write avledger makes to a recorder.

``clock.set`` in the profile says how. ``file``: a file is written from a template; the
recorder reads (and removes) it when it is next connected, so the new time takes effect then.
``command``: a program sets the clock at once. In a template or a command argument,
``{time:FORMAT}`` is the new time in the recorder's zone, ``{time}`` the same as ISO 8601 with
its offset; a command also gets ``{root}`` and ``{device}``. ``parse`` reads a written file
back — the simulator uses it to play the recorder taking the time up.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from avledger.config.profiles import Profile
from avledger.core.clock.check import COMMAND_TIMEOUT, expand
from avledger.core.dock.volume_root import RefusedFile, VolumeRoot, reached
from avledger.errors import DeviceError, RefusedError
from avledger.i18n import _
from avledger.timestamps import iso, utcnow

TIME_FIELD = re.compile(r"\{time(?::([^{}]*))?\}")


def can_set(profile: Profile) -> bool:
    return str(profile.get("clock.set.method")) != "none"


def takes_effect_at_once(profile: Profile) -> bool:
    """A command sets the clock now; a file is taken up when the recorder is next connected."""
    return str(profile.get("clock.set.method")) == "command"


def setting_waiting(root: VolumeRoot | Path, profile: Profile) -> bool:
    """Is a clock-setting file still on the volume, not yet taken up by the recorder?"""
    spec = profile.get("clock.set")
    if spec["method"] != "file":
        return False
    with reached(root) as vol:
        return vol.is_regular(spec["path"])


def render(template: str, moment: datetime, tz: str) -> str:
    local = moment.astimezone(ZoneInfo(tz))

    def one(m: re.Match[str]) -> str:
        return local.strftime(m.group(1)) if m.group(1) else local.isoformat()

    return TIME_FIELD.sub(one, template)


def parse(template: str, text: str, tz: str) -> datetime | None:
    """The time (UTC) in ``text`` written from ``template``; None when it does not match."""
    field = TIME_FIELD.search(template)
    if field is None:
        return None
    prefix, suffix = template[:field.start()].strip(), template[field.end():].strip()
    value = text.lstrip("\ufeff").strip()
    if not (value.startswith(prefix) and value.endswith(suffix)):
        return None
    value = value[len(prefix):len(value) - len(suffix)].strip()
    try:
        moment = (datetime.strptime(value, field.group(1)) if field.group(1)
                  else datetime.fromisoformat(value))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(tz))
    return moment.astimezone(UTC)


def nearest_second(moment: datetime) -> datetime:
    whole = moment.replace(microsecond=0)
    return whole + timedelta(seconds=1) if moment.microsecond >= 500_000 else whole


@dataclass(frozen=True)
class Written:
    """What was written to the recorder to set its clock."""

    method: str  # file | command
    target: str  # the file (relative to the volume root) or the program run
    set_to: datetime  # the new time (UTC)
    content: str  # the file's text, or the command line

    def as_dict(self) -> dict[str, Any]:
        return {"method": self.method, "target": self.target, "set_to": iso(self.set_to),
                "content": self.content}


def plan(profile: Profile, root: Path, device_node: str | None = None,
         now: datetime | None = None) -> Written:
    """What ``write`` would write now, without writing it."""
    spec = profile.get("clock.set")
    moment = nearest_second(now or utcnow())
    if spec["method"] == "file":
        return Written("file", spec["path"], moment,
                       render(spec["template"], moment, profile.clock_timezone))
    if spec["method"] == "command":
        argv = _argv(profile, root, device_node, moment)
        return Written("command", argv[0], moment, " ".join(argv))
    raise RefusedError(_("profile {name} cannot set a recorder "
                         "clock (clock.set.method is none)").format(
                           name=profile.name))


def _argv(profile: Profile, root: Path, device_node: str | None,
          moment: datetime) -> list[str]:
    filled = expand(profile.get("clock.set.command"),
                    {"root": str(root), "device": device_node or ""})
    return [render(arg, moment, profile.clock_timezone) for arg in filled]


def write(profile: Profile, root: VolumeRoot | Path, device_node: str | None = None) -> Written:
    """Set the clock: write the file (synced to the medium) or run the command.

    The file is written through the volume root's descriptor and only as a regular file of
    the volume: a link, FIFO or device node of that name is refused, its target untouched."""
    spec = profile.get("clock.set")
    where = root.path if isinstance(root, VolumeRoot) else Path(root)
    written = plan(profile, where, device_node)
    if written.method == "file":
        try:
            with reached(root) as vol:
                vol.write(spec["path"], written.content.encode("utf-8"))
        except RefusedFile as exc:
            raise DeviceError(_("{rel} on the recorder is {reason}: nothing written, the clock "
                                "was not set").format(rel=exc.rel, reason=_(exc.reason)),
                              hint=_("remove that file from the recorder and sync again")) from exc
        except OSError as exc:
            raise DeviceError(_("cannot write {path} on the recorder: {error}").format(
                                  path=spec['path'], error=exc.strerror or exc)) from exc
        return written
    argv = _argv(profile, where, device_node, written.set_to)
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DeviceError(_("clock-setting command failed: {exc}").format(exc=exc)) from exc
    if done.returncode != 0:
        raise DeviceError(_("clock-setting command exited {returncode}: {output}").format(
                              returncode=done.returncode, output=done.stderr.strip()[:200]))
    return written
