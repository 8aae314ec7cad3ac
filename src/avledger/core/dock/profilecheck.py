"""``profile check``: is a profile file valid; does a mounted volume match, and what would be
ingested from it — and which media files the profile would leave behind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from avledger.config import profiles as profiles_mod
from avledger.config.loader import Config
from avledger.config.profiles import Seen
from avledger.core.dock.leftout import media_left_out
from avledger.core.dock.media import Duration, duration
from avledger.core.dock.volume import read_identity, survey
from avledger.core.dock.volume_root import VolumeRoot
from avledger.errors import AvledgerError, NotFoundError
from avledger.i18n import _
from avledger.timestamps import iso


def check_volume(config: Config, root: Path, name: str | None = None,
                 label: str | None = None) -> dict[str, Any]:
    """Which profiles match ``root``, and with the best (or named) one: identity and clips."""
    if not root.is_dir():
        raise NotFoundError(_("{root} is not a directory or mounted volume").format(root=root))
    known = profiles_mod.load_all(config)
    seen = Seen(root, None, label)
    results = []
    for prof in known.values():
        m = profiles_mod.match(prof, seen)
        results.append({"profile": prof.name, "matches": m is not None,
                        "passed": list(m.passed) if m else [],
                        "not_evaluated": list(m.skipped) if m else []})
    if name:
        chosen = profiles_mod.get(config, name)
    else:
        best = profiles_mod.recognise(known, seen)
        if not best:
            return {"root": str(root), "profiles": results, "profile": None}
        chosen = best[0].profile
    out: dict[str, Any] = {"root": str(root), "profiles": results, "profile": chosen.name}
    with VolumeRoot(root) as media:
        try:
            who = read_identity(media, chosen)
            out["identity"] = {"serial": who.serial, "badge": who.badge, "unit": who.unit,
                               "model": who.model, "firmware": who.firmware}
        except AvledgerError as exc:
            out["identity_error"] = exc.english
        clips = []
        found = survey(media, chosen)
        for clip in found.clips:
            try:
                with media.open(clip.raw) as fh:
                    dur = duration(fh, clip.device_start, clip.mtime, clip.kind)
            except (OSError, AvledgerError):
                dur = Duration(None, "unknown", "unreadable")
            clips.append({"path": clip.rel, "size": clip.size, "kind": clip.kind,
                          "mark": clip.mark,
                          "device_start": iso(clip.device_start) if clip.device_start else None,
                          "name_parsed": clip.device_start is not None,
                          "duration_seconds": dur.seconds, "duration_source": dur.source})
        out["left_out"] = media_left_out(media, [str(c["path"]) for c in clips]
                                         + [r.rel for r in found.refused])
    out["clips"] = clips
    out["refused"] = [{"path": r.rel, "reason": r.reason} for r in found.refused]
    return out


def check_profile_file(path: Path) -> dict[str, Any]:
    """Validate one profile file (a new recorder model's, before it is installed)."""
    prof = profiles_mod.load_file(path)  # ConfigError with every problem
    return prof.summary() | {"ok": True, "globs": prof.get("clips.globs"),
                             "clock": prof.get("clock.read.method"),
                             "clock_timezone": prof.clock_timezone,
                             "identity_fields": prof.get("identity.fields")}
