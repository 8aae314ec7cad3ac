"""Which device profile a volume or a block device is: named, or recognised by its profile's
match rules (udev properties, file-system label, marker file)."""

from __future__ import annotations

from collections.abc import Callable

from avledger.config import profiles as profiles_mod
from avledger.config.profiles import Match, Profile, Seen
from avledger.core.app import Avledger
from avledger.errors import NotFoundError
from avledger.i18n import _


def recognise(app: Avledger, seen: Seen, name: str | None, source: str,
              choose: Callable[[list[Match]], Match] | None = None) -> Profile:
    """The profile for a volume: the one named, else the best match (``choose`` may pick
    another of the matches, as the desk's interactive session does)."""
    known = profiles_mod.load_all(app.config)
    if name:
        return profiles_mod.get(app.config, name)
    if seen.root is not None and not seen.root.is_dir():
        raise NotFoundError(_("{root} is not a directory or mounted volume").format(root=seen.root))
    matches = profiles_mod.recognise(known, seen)
    if not matches:
        raise NotFoundError(
            _("no device profile recognises {source} (tried: {profiles})").format(
                source=source, profiles=', '.join(known) or 'no profiles'),
            hint=_("name one with --profile, or add a profile (see 'avledger profile list')"))
    return (choose(matches) if choose else matches[0]).profile


def profile_for_device(app: Avledger, device: str, udev: dict[str, str], label: str | None,
                       name: str | None) -> Profile:
    """Which profile to mount a block device with, before its files can be seen."""
    if name:
        return profiles_mod.get(app.config, name)
    known = profiles_mod.load_all(app.config)
    matches = profiles_mod.recognise(known, Seen(None, udev, label))
    if matches:
        return matches[0].profile
    # Profiles that can only tell by a marker file: try the first one's way of mounting.
    by_marker = [p for p in known.values() if p.get("match.marker")
                 and not p.get("match.udev") and not p.get("match.label")]
    if by_marker:
        return by_marker[0]
    raise NotFoundError(_("no device profile recognises {device} (label {label!r})").format(
                            device=device, label=label),
                        hint=_("name one with --profile, or add a profile"))
