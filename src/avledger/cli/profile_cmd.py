"""``avledger profile list | show | check``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from avledger.cli.common import JsonOpt, console, emit, load_config, new_app, table
from avledger.cli.ingest_cmd import left_out_text
from avledger.config import profiles
from avledger.core.dock.profilecheck import check_profile_file, check_volume
from avledger.errors import NotFoundError
from avledger.i18n import _

app = new_app("Device profiles: how each recorder family is recognised and read.")


@app.command("list")
def list_(as_json: JsonOpt = False) -> None:
    """List the device profiles found in 'profiles.dirs' (all are validated).

    Example: avledger profile list
    """
    found = profiles.load_all(load_config())
    data = [p.summary() | {"match": p.get("match"), "clock": p.get("clock.read.method"),
                           "mount": p.get("mount.method")} for p in found.values()]
    emit(data, as_json, lambda: console.print(table(
        _("{count} device profile(s)").format(count=len(data)),
        [_("name"), _("description"), _("clock"), _("mount"), _("file")],
        [(d["name"], d["description"], d["clock"], d["mount"], d["file"]) for d in data])))


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="Profile name (or a profile file to validate).")],
    as_json: JsonOpt = False,
) -> None:
    """Show one profile with every default filled in.

    Example: avledger profile show generic
    """
    prof = profiles.get(load_config(), name)

    def render() -> None:
        console.print(f"# {prof.path}", highlight=False)
        console.print(yaml.safe_dump(prof.data, allow_unicode=True, sort_keys=False),
                      highlight=False, markup=False)

    emit(prof.data | {"file": str(prof.path)}, as_json, render)


@app.command("check")
def check(
    path: Annotated[Path, typer.Argument(
        help="A profile file (.yaml) to validate, or a mounted recorder volume or folder.")],
    profile: Annotated[str | None, typer.Option(
        "--profile", "-p", help="Check the volume against this profile only (a name, or a "
                                "profile file not installed yet).")] = None,
    label: Annotated[str | None, typer.Option(
        "--label", help="The volume's file-system label, if it should count.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Is this profile file valid? Does this volume match a profile, and what would be
    ingested from it (and which media files would be left out)?

    A profile file: every problem is listed with its dotted path (exit 3). A volume: exits 4
    when no profile matches.

    Examples:

      avledger profile check /etc/avledger/profiles/newcam.yaml

      avledger profile check /media/BWR-SIM

      avledger profile check /media/NEWCAM --profile newcam.yaml
    """
    if path.is_file() and path.suffix in (".yaml", ".yml"):
        found = check_profile_file(path)
        emit(found, as_json, lambda: console.print(
            "[green]" + _("profile OK") + "[/]"
            + _(": {name} ({path}); clips {globs}; clock {clock} in {zone}").format(
                name=found["name"], path=path, globs=", ".join(found["globs"]),
                clock=found["clock"], zone=found["clock_timezone"]), highlight=False))
        return
    data = check_volume(load_config(), path, profile, label)

    def render() -> None:
        console.print(table(_("device profiles"), [_("device profile"), _("matches"),
                                                   _("tests passed"), _("not evaluated")],
                            [(r["profile"], _("yes") if r["matches"] else _("no"),
                              ", ".join(r["passed"]), ", ".join(r["not_evaluated"]))
                             for r in data["profiles"]]))
        if data["profile"] is None:
            return
        ident = data.get("identity") or {}
        console.print(_("using {profile}: serial {serial}, badge {badge}").format(
            profile=f"[bold]{data['profile']}[/]", serial=ident.get("serial", "?"),
            badge=ident.get("badge") or "-")
                      + (_(", firmware {firmware}").format(firmware=ident["firmware"])
                         if ident.get("firmware") else "")
                      + (f"  [red]{data['identity_error']}[/]" if "identity_error" in data else ""),
                      highlight=False)
        console.print(table(_("{count} clip(s) would be considered").format(
            count=len(data["clips"])), [
            _("clip"), _("size"), _("start (device clock)"), _("duration"), _("notes")], [
            (c["path"], f"{c['size']:,}", c["device_start"] or "", _duration_cell(c),
             "; ".join(n for n in (
                 "" if c["name_parsed"] else _("name does not parse: ingested, flagged"),
                 _("marked important ({how}): a hold will be proposed").format(how=c["mark"])
                 if c["mark"] else "") if n))
            for c in data["clips"]]))
        if data["left_out"]:
            console.print(left_out_text(data["left_out"], data["profile"]), highlight=False)

    emit(data, as_json, render)
    if data["profile"] is None:
        raise NotFoundError(_("no device profile matches {path}").format(path=path))


def _duration_cell(c: dict[str, Any]) -> str:
    if c["kind"] == "photo":
        return _("photo (no duration)")
    if c["duration_seconds"] is None:
        return ""
    kind = "" if c["kind"] == "video" else f"{_(c['kind'])}, "
    return kind + _("{seconds} s (from {source})").format(
        seconds=f"{c['duration_seconds']:.1f}", source=c["duration_source"])


@app.command("udev-rule")
def udev_rule(
    out: Annotated[Path | None, typer.Option(
        "--out", help="Write the rule to this file instead of printing it.")] = None,
    check: Annotated[Path | None, typer.Option(
        "--check", help="Compare with an installed rule file; exit 3 when it is stale.")] = None,
) -> None:
    """Generate the udev rule that starts avledger-ingest@.service for recognised recorders.

    The rule is derived from the device profiles (udev properties and label), so the rule
    and the daemon never disagree. Install it as /etc/udev/rules.d/99-avledger.rules.

    Examples:

      avledger profile udev-rule --out /etc/udev/rules.d/99-avledger.rules

      avledger profile udev-rule --check /etc/udev/rules.d/99-avledger.rules
    """
    from avledger.core.dock.udevrule import rule_text
    from avledger.errors import ConfigError

    text = rule_text(profiles.load_all(load_config()))
    if check is not None:
        current = check.read_text(encoding="utf-8") if check.exists() else ""
        if current != text:
            raise ConfigError([_("{file} does not match the device profiles; regenerate it with "
                                 "'avledger profile udev-rule --out'").format(file=check)])
        console.print(_("{file} matches the device profiles").format(file=check))
        return
    if out is not None:
        out.write_text(text, encoding="utf-8")
        console.print(_("wrote {file}").format(file=out))
        return
    typer.echo(text, nl=False)
