"""``avledger simulate recorder DIR``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from avledger.cli.common import JsonOpt, console, emit, load_config, new_app, table
from avledger.config import profiles
from avledger.core.simulate.recorder import parse_size, record, redock, simulate
from avledger.i18n import _

app = new_app("Simulated recorders for demos and tests.")

PhotosOpt = Annotated[int, typer.Option(
    "--photos", min=0, max=10_000,
    help=_("Photos to take as well (the profile's simulate.photo_path)."))]
AudioOpt = Annotated[int, typer.Option(
    "--audio", min=0, max=10_000,
    help=_("Audio recordings as well, each --seconds long (simulate.audio_path)."))]
MarkedOpt = Annotated[int, typer.Option(
    "--marked", min=0, max=100_000,
    help=_("Mark this many of the clips important, as the profile's 'marks' says."))]


def _site_time(value: datetime | None, tz: str) -> datetime | None:
    return value.replace(tzinfo=ZoneInfo(tz)) if value and not value.tzinfo else value


def _size(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


@app.command("recorder")
def recorder(
    directory: Annotated[Path, typer.Argument(help="Empty folder to lay the volume out in.")],
    profile: Annotated[str, typer.Option("--profile", "-p", help="Device profile to imitate.")
                       ] = "generic",
    clips: Annotated[int, typer.Option("--clips", "-n", min=0, max=100_000,
                                        help="Number of clips.")] = 3,
    size: Annotated[str, typer.Option("--size", help="Size of each clip (e.g. 512k, 64MiB).")
                    ] = "1MiB",
    seconds: Annotated[float, typer.Option("--seconds", min=0.1, max=86_400,
                                           help="Duration of each clip.")] = 60.0,
    drift: Annotated[float, typer.Option(
        "--drift", help="Recorder clock minus true time, in seconds (95 = 95 s fast).")] = 0.0,
    serial: Annotated[str, typer.Option("--serial", help="Serial number.")] = "SIM0001",
    badge: Annotated[str | None, typer.Option(
        "--badge", help="Badge number in the device-info file.")] = "0001",
    start: Annotated[datetime | None, typer.Option(
        "--start", help="True start of the first clip (site time); default: about an hour "
                        "before now.")] = None,
    gap: Annotated[float, typer.Option("--gap", min=0, max=86_400,
                                         help="Seconds between clips.")] = 120.0,
    bad_names: Annotated[int, typer.Option(
        "--bad-names", min=0, max=10_000,
        help="Extra clips whose names the profile cannot parse.")] = 0,
    garbage_clock: Annotated[bool, typer.Option(
        "--garbage-clock", help="Write an unreadable clock file.")] = False,
    battery: Annotated[float, typer.Option(
        "--battery", min=0, max=100, help="Battery level the recorder reports, % (where its "
                                          "profile's 'battery' section says).")] = 95.0,
    image: Annotated[Path | None, typer.Option(
        "--image", help="Also write a FAT image of the volume (mkfs.vfat + mcopy).")] = None,
    photos: PhotosOpt = 0,
    audio: AudioOpt = 0,
    marked: MarkedOpt = 0,
    as_json: JsonOpt = False,
) -> None:
    """Lay out a recorder volume: clips with valid MP4/MOV headers and durations, named by
    the recorder's (drifting) clock, a device-info file, and a clock file.

    Examples:

      avledger simulate recorder /tmp/bwr --clips 5 --size 8MiB --drift 95

      avledger simulate recorder /tmp/bwr --image /tmp/bwr.img

      avledger simulate recorder /tmp/fc --profile fieldcam-json --clips 2

      avledger simulate recorder /tmp/bwr --photos 2 --audio 1 --marked 1
    """
    config = load_config()
    prof = profiles.get(config, profile)
    first = _site_time(start, config.timezone)
    report = simulate(directory, prof, clips=clips, size=_size(size), seconds=seconds,
                      drift=drift, serial=serial, badge=badge, first_start=first, gap=gap,
                      bad_names=bad_names, garbage_clock=garbage_clock, battery=battery,
                      image=image, photos=photos, audio=audio, marked=marked)
    data = report.as_dict()

    def render() -> None:
        console.print(table(
            _("simulated {profile} recorder {serial} in {directory}").format(
                profile=prof.name, serial=serial, directory=directory)
            + (_(" (image {image})").format(image=image) if image else ""),
            [_("clip"), _("kind"), _("size"), _("seconds"), _("recorder clock says")],
            [(c["path"], c["kind"] + (_(", marked") if c["marked"] else ""), f"{c['size']:,}",
              c["seconds"], c["device_start"]) for c in data["clips"]]))
        _docked_line(directory, report.docked_at)

    emit(data, as_json, render)


def _docked_line(directory: Path, docked_at: datetime | None) -> None:
    """The docking moment, as a folder ingest needs it (--docked-at)."""
    if docked_at is None:
        return
    console.print(_("docked at {time} (its clock file was written then; measure it with: "
                    "{command})").format(
                        time=docked_at.isoformat(),
                        command=f"avledger ingest {directory} --docked-at "
                                f"{docked_at.isoformat()}"), highlight=False, soft_wrap=True)


VolumeArg = Annotated[Path, typer.Argument(metavar="DIR", help="A simulated recorder's folder.")]
ProfileOpt = Annotated[str, typer.Option("--profile", "-p", help="Device profile it imitates.")]


@app.command("dock")
def dock(
    directory: VolumeArg,
    profile: ProfileOpt = "generic",
    drift: Annotated[float | None, typer.Option(
        "--drift", help="Its clock now runs this many seconds off (default: as before).")]
    = None,
    battery: Annotated[float | None, typer.Option(
        "--battery", min=0, max=100, help="Battery level it reports now, %.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The simulated recorder is connected again, as a real one would be.

    It takes up a clock setting left on it by 'avledger clock sync' (setting its clock to the
    written time as of the moment it was written, and removing the file), reports its
    battery, and writes its clock file afresh — at the moment of docking, which it prints:
    give it to 'ingest' or 'clock check' as --docked-at, as the dock gives udev's.

    Examples:

      avledger simulate dock /tmp/bwr

      avledger simulate dock /tmp/bwr --drift 12 --battery 40
    """
    prof = profiles.get(load_config(), profile)
    result = redock(directory, prof, drift=drift, battery=battery)

    def render() -> None:
        console.print(_("docked {directory}: clock {drift} s").format(
            directory=directory, drift=f"{result.drift_seconds:+.3f}")
            + (_(" (took up the clock setting written to it)")
               if result.took_up_setting else ""), highlight=False)
        _docked_line(directory, result.docked_at)

    emit(result.as_dict(), as_json, render)


@app.command("record")
def record_(
    directory: VolumeArg,
    profile: ProfileOpt = "generic",
    clips: Annotated[int, typer.Option("--clips", "-n", min=1, max=100_000,
                                        help="Number of clips.")] = 1,
    size: Annotated[str, typer.Option("--size", help="Size of each clip.")] = "1MiB",
    seconds: Annotated[float, typer.Option("--seconds", min=0.1, max=86_400,
                                           help="Duration of each clip.")] = 60.0,
    start: Annotated[datetime | None, typer.Option(
        "--start", help="True start of the first clip (site time); default: just ended.")]
    = None,
    gap: Annotated[float, typer.Option("--gap", min=0, max=86_400,
                                         help="Seconds between clips.")] = 120.0,
    photos: PhotosOpt = 0,
    audio: AudioOpt = 0,
    marked: MarkedOpt = 0,
    as_json: JsonOpt = False,
) -> None:
    """The simulated recorder records more clips, named by its clock as it runs now.

    Examples:

      avledger simulate record /tmp/bwr --clips 2 --start "2026-11-27 09:30:00"

      avledger simulate record /tmp/bwr --clips 2 --photos 1 --audio 1 --marked 1
    """
    config = load_config()
    prof = profiles.get(config, profile)
    laid = record(directory, prof, clips=clips, size=_size(size), seconds=seconds, gap=gap,
                  start=_site_time(start, config.timezone), photos=photos, audio=audio,
                  marked=marked)
    rows = [{"path": c.rel, "size": c.size, "seconds": c.seconds, "kind": c.kind,
             "marked": c.marked,
             "true_start": c.true_start.isoformat(), "device_start": c.device_start.isoformat()}
            for c in laid]
    emit(rows, as_json, lambda: console.print(table(
        _("recorded in {directory}").format(directory=directory),
        [_("clip"), _("true start"), _("recorder clock says")],
        [(r["path"], r["true_start"], r["device_start"]) for r in rows])))
