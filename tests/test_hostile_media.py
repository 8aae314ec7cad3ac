"""A recorder (or a drop folder) is hostile ground: links, FIFOs, device nodes, names that are
not UTF-8, impossible dates and empty clips. Each is refused or flagged with its reason, no host
file enters the store, nothing hangs, and the rest of the recorder goes in."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
from pathlib import Path
from typing import Any

import blake3
import pytest

from avledger.core.app import Avledger
from avledger.core.clock import setter as clockset
from avledger.core.dock import mounting, volume_root
from avledger.core.dock.volume import SourceClip
from avledger.core.dock.volume_root import VolumeRoot
from avledger.core.ingest.session import IngestHooks, ingest_device
from avledger.daemon.dropfolder import is_batch, snapshot
from avledger.errors import DeviceError
from tests.conftest import require_root_tools
from tests.loopfuse import loop_device, tmpfs
from tests.recorder_tools import make_recorder, profile, store_objects

CLIP_DIR = "DCIM/100BWR01"
QUICK = 30  # seconds: a FIFO that blocked a read would end the test here, not hang it
SECRET = b"root:$6$not-for-the-evidence-store$abcdefghijklmnopqrstuvwxyz:19000:0:99999:7:::\n"


def recorder(tmp_path: Path, serial: str = "HOST001", clips: int = 2) -> Path:
    rec = tmp_path / "rec"
    make_recorder(rec, clips=clips, size=40_000, serial=serial)
    return rec


def host_file(tmp_path: Path, name: str = "shadow", content: bytes = SECRET * 50) -> Path:
    """A file of the host, outside the recorder: what an attacker's link points at."""
    path = tmp_path / "host" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def ingest(cli: Any, target: Path, *extra: str) -> tuple[int, dict[str, Any] | None, str]:
    out = cli("ingest", str(target), "--json", *extra, timeout=QUICK)
    report = json.loads(out.stdout) if out.stdout.strip() else None
    return out.returncode, report, out.stdout + out.stderr


def by_status(report: dict[str, Any], status: str) -> dict[str, dict[str, Any]]:
    return {c["rel"]: c for c in report["clips"] if c["status"] == status}


def ledger(home: Path, type_: str) -> list[dict[str, Any]]:
    conn = sqlite3.connect(home / "data" / "catalog.db")
    try:
        rows = conn.execute("SELECT subject, payload FROM ledger WHERE type = ?",
                            (type_,)).fetchall()
    finally:
        conn.close()
    return [{"subject": s, **json.loads(p)} for s, p in rows]


def all_ledger_text(home: Path) -> str:
    conn = sqlite3.connect(home / "data" / "catalog.db")
    try:
        return "\n".join(p for (p,) in conn.execute("SELECT payload FROM ledger"))
    finally:
        conn.close()


def digest(path: Path) -> str:
    return blake3.blake3(path.read_bytes()).hexdigest()


# ---- links ---------------------------------------------------------------------------------


def test_a_clip_named_link_to_a_host_file_never_enters_the_store(home: Path, tmp_path: Path,
                                                                 cli) -> None:  # type: ignore[no-untyped-def]
    rec = recorder(tmp_path)
    shadow = host_file(tmp_path)
    link = f"{CLIP_DIR}/20261127_083015_0099.MP4"
    os.symlink(shadow, rec / link)
    code, report, text = ingest(cli, rec)
    assert code == 1 and "1 file(s) refused" in text
    assert report is not None
    assert by_status(report, "refused") == {link: {**by_status(report, "refused")[link],
                                                   "reason": "a symbolic link"}}
    assert len(by_status(report, "new")) == 2 and report["totals"]["refused"] == 1
    assert digest(shadow) not in store_objects(home / "data" / "store")
    events = ledger(home, "media.refused")
    assert [(e["path"], e["reason"]) for e in events] == [(link, "a symbolic link")]
    assert events[0]["subject"] == f"dock:{report['dock_id']}"
    assert "not-for-the-evidence-store" not in all_ledger_text(home)


def test_a_linked_folder_is_not_followed(home: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    rec = recorder(tmp_path)
    outside = tmp_path / "outside"
    make_recorder(outside, clips=2, size=30_000, serial="OTHER01")
    os.symlink(outside / CLIP_DIR, rec / "DCIM" / "101LINK")
    code, report, _ = ingest(cli, rec)
    assert code == 1 and report is not None
    assert by_status(report, "refused") == {"DCIM/101LINK": {
        **by_status(report, "refused")["DCIM/101LINK"], "reason": "a symbolic link"}}
    stored = store_objects(home / "data" / "store")
    assert len(stored) == 2
    assert not {digest(p) for p in (outside / CLIP_DIR).iterdir()} & stored


def test_a_linked_clock_file_is_not_read(home: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    rec = recorder(tmp_path)
    (rec / "CLOCK.TXT").unlink()
    os.symlink(host_file(tmp_path, content=SECRET), rec / "CLOCK.TXT")
    code, report, text = ingest(cli, rec)
    assert code == 0, text
    assert report is not None and report["clock"]["status"] == "unknown"
    assert "CLOCK.TXT is a symbolic link: not read" in report["clock"]["detail"]
    assert len(by_status(report, "new")) == 2
    assert "not-for-the-evidence-store" not in text
    assert "not-for-the-evidence-store" not in all_ledger_text(home)
    measured = ledger(home, "clock.measured")
    assert measured and "symbolic link" in measured[0]["detail"]


def test_a_linked_device_info_file_stops_the_dock_with_its_reason(home: Path, tmp_path: Path,
                                                                  cli) -> None:  # type: ignore[no-untyped-def]
    rec = recorder(tmp_path)
    (rec / "DEVICE.TXT").unlink()
    os.symlink(host_file(tmp_path, content=b"SERIAL=FAKE01\n" + SECRET), rec / "DEVICE.TXT")
    code, report, text = ingest(cli, rec, "--profile", "generic")
    assert code == 8 and report is None
    assert "DEVICE.TXT is a symbolic link (the device-info file): not read" in text
    assert len(text.strip().splitlines()) == 1 and "not-for-the-evidence-store" not in text
    assert [(e["path"], e["subject"]) for e in ledger(home, "media.refused")] == [
        ("DEVICE.TXT", f"source:{rec}")]
    assert store_objects(home / "data" / "store") == set()


def test_a_link_is_not_recognised_as_the_marker(home: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    rec = recorder(tmp_path)
    (rec / "DEVICE.TXT").unlink()
    os.symlink(host_file(tmp_path, content=b"SERIAL=FAKE01\n"), rec / "DEVICE.TXT")
    code, _, text = ingest(cli, rec)
    assert code == 4, text  # not recognised: the marker file is not a regular file


# ---- FIFOs and device nodes ------------------------------------------------------------------


def test_fifos_named_as_clip_clock_and_device_info_never_block(home: Path, tmp_path: Path,
                                                               cli) -> None:  # type: ignore[no-untyped-def]
    rec = recorder(tmp_path)
    fifo_clip = f"{CLIP_DIR}/20261127_083015_0098.MP4"
    os.mkfifo(rec / fifo_clip)
    (rec / "CLOCK.TXT").unlink()
    os.mkfifo(rec / "CLOCK.TXT")
    code, report, text = ingest(cli, rec)  # each call has its own QUICK timeout
    assert code == 1 and report is not None, text
    assert by_status(report, "refused")[fifo_clip]["reason"] == "a FIFO (named pipe)"
    assert report["clock"]["status"] == "unknown" and "FIFO" in report["clock"]["detail"]
    assert len(by_status(report, "new")) == 2
    (rec / "DEVICE.TXT").unlink()
    os.mkfifo(rec / "DEVICE.TXT")
    code, report, text = ingest(cli, rec, "--profile", "generic")
    assert code == 8 and "DEVICE.TXT is a FIFO (named pipe) (the device-info file)" in text


@pytest.mark.root
def test_a_device_node_named_as_a_clip_is_refused(home: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    require_root_tools()
    rec = recorder(tmp_path)
    node = f"{CLIP_DIR}/20261127_083015_0097.MP4"
    os.mknod(rec / node, stat.S_IFCHR | 0o600, os.makedev(1, 8))  # /dev/random's numbers
    code, report, _ = ingest(cli, rec)
    assert code == 1 and report is not None
    assert by_status(report, "refused")[node]["reason"] == "a device node"
    assert [e["reason"] for e in ledger(home, "media.refused")] == ["a device node"]
    assert len(store_objects(home / "data" / "store")) == 2


@pytest.mark.root
def test_a_file_system_mounted_inside_the_volume_is_not_read(home: Path, tmp_path: Path,
                                                             cli) -> None:  # type: ignore[no-untyped-def]
    require_root_tools("mount", "umount")
    rec = recorder(tmp_path)
    clip = sorted((rec / CLIP_DIR).iterdir())[0]
    with tmpfs(rec / "DCIM" / "102MNT", "1m") as inner:
        (inner / "20261127_100000_0095.MP4").write_bytes(clip.read_bytes()[:30_000])
        code, report, _ = ingest(cli, rec)
    assert code == 1 and report is not None
    assert by_status(report, "refused")["DCIM/102MNT"]["reason"] == \
        "a folder on another file system"
    assert len(by_status(report, "new")) == 2


# ---- values that must never block a dock -------------------------------------------------------


def test_a_name_that_is_not_utf8_is_ingested_under_a_stable_escaped_name(home: Path,
                                                                         tmp_path: Path,
                                                                         cli) -> None:  # type: ignore[no-untyped-def]
    rec = recorder(tmp_path)
    first = sorted((rec / CLIP_DIR).iterdir())[0]
    gbk = os.fsencode(rec / CLIP_DIR) + b"/\xb2\xe2\xca\xd4\x1b[31m.MP4"  # GBK "测试", an escape
    shutil.copyfile(first, gbk)
    os.truncate(gbk, 39_000)  # other content than the clip it was copied from
    code, report, text = ingest(cli, rec)
    assert code == 0, text
    assert report is not None
    shown = f"{CLIP_DIR}/\\xb2\\xe2\\xca\\xd4\\x1b[31m.MP4"
    new = by_status(report, "new")
    assert shown in new and "unparsed-name" in new[shown]["flags"] and len(new) == 3
    code, again, _ = ingest(cli, rec)
    assert code == 0 and again is not None and shown in by_status(again, "skipped")
    assert volume_root.shown(os.fsdecode(b"a\xffb\x07")) == "a\\xffb\\x07"


@pytest.mark.parametrize("clock", ["9999-12-31 23:59:59", "0001-01-01 00:00:00"])
def test_an_impossible_clock_is_unknown_not_an_error(home: Path, tmp_path: Path, cli,  # type: ignore[no-untyped-def]
                                                     clock: str) -> None:
    rec = recorder(tmp_path)
    (rec / "CLOCK.TXT").write_text(clock + "\n", encoding="utf-8")
    code, report, text = ingest(cli, rec)
    assert code == 0, text
    assert report is not None and report["clock"]["status"] == "unknown"
    assert "impossible date" in report["clock"]["detail"]
    assert len(by_status(report, "new")) == 2
    assert all("drift-unknown" in c["flags"] for c in report["clips"])


def test_impossible_times_in_file_names_are_flagged(home: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    rec = recorder(tmp_path)
    first = sorted((rec / CLIP_DIR).iterdir())[0]
    for i, name in enumerate(("99991231_235959_0090.MP4", "00010101_000000_0091.MP4")):
        shutil.copyfile(first, rec / CLIP_DIR / name)
        os.truncate(rec / CLIP_DIR / name, 30_000 + i)
    code, report, text = ingest(cli, rec)
    assert code == 0, text
    assert report is not None
    new = by_status(report, "new")
    assert len(new) == 4
    for name in ("99991231_235959_0090.MP4", "00010101_000000_0091.MP4"):
        clip = new[f"{CLIP_DIR}/{name}"]
        assert "impossible-name-time" in clip["flags"] and clip["device_start"] is None


def test_an_empty_clip_is_one_failed_clip(home: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    rec = recorder(tmp_path)
    empty = f"{CLIP_DIR}/20261127_090000_0096.MP4"
    (rec / empty).write_bytes(b"")
    code, report, text = ingest(cli, rec)
    assert code == 1 and "1 clip(s) failed" in text
    assert report is not None
    assert "empty file (0 bytes)" in by_status(report, "failed")[empty]["error"]
    assert len(by_status(report, "new")) == 2


# ---- the clock sync's one write -----------------------------------------------------------------


def test_clock_sync_does_not_write_through_a_link(tmp_path: Path, home: Path) -> None:
    rec = recorder(tmp_path, clips=0)
    target = host_file(tmp_path, "passwd", b"ORIGINAL\n")
    os.symlink(target, rec / "TIMESET.TXT")
    with pytest.raises(DeviceError, match="TIMESET.TXT on the recorder is a symbolic link"):
        clockset.write(profile(), rec)
    assert target.read_bytes() == b"ORIGINAL\n" and (rec / "TIMESET.TXT").is_symlink()
    assert not clockset.setting_waiting(rec, profile())
    (rec / "TIMESET.TXT").unlink()
    os.mkfifo(rec / "TIMESET.TXT")
    with pytest.raises(DeviceError, match="FIFO"):
        clockset.write(profile(), rec)
    (rec / "TIMESET.TXT").unlink()
    (rec / "TIMESET.TXT").write_bytes(b"an older setting, longer than the new one\n")
    written = clockset.write(profile(), rec)
    assert (rec / "TIMESET.TXT").read_text(encoding="utf-8") == written.content
    assert clockset.setting_waiting(rec, profile())


def test_a_folder_swapped_for_a_link_cannot_redirect_a_read(tmp_path: Path, home: Path) -> None:
    rec = recorder(tmp_path, clips=1)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "CLOCK.TXT").write_bytes(SECRET)
    with VolumeRoot(rec) as vol:
        os.rename(rec / "DCIM", rec / "DCIM.old")
        os.symlink(elsewhere, rec / "DCIM")
        with pytest.raises(DeviceError, match="behind a folder that is a symbolic link"):
            vol.read_small("DCIM/CLOCK.TXT", 100)


def test_a_folder_read_once_and_then_swapped_for_a_link_is_still_the_one_read(
        tmp_path: Path, home: Path) -> None:
    """The volume root keeps the folders it reached open: a link put in a folder's place
    afterwards redirects nothing (the clips read are those of the folder first reached)."""
    rec = recorder(tmp_path, clips=1)
    (rec / CLIP_DIR / "NOTE.TXT").write_bytes(b"the recorder's own\n")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "100BWR01").mkdir(parents=True)
    (elsewhere / "100BWR01" / "NOTE.TXT").write_bytes(SECRET)
    with VolumeRoot(rec) as vol:
        assert vol.read_small(f"{CLIP_DIR}/NOTE.TXT", 100) == b"the recorder's own\n"
        os.rename(rec / "DCIM", rec / "DCIM.old")
        os.symlink(elsewhere, rec / "DCIM")
        assert vol.read_small(f"{CLIP_DIR}/NOTE.TXT", 100) == b"the recorder's own\n"
        assert vol.is_regular(f"{CLIP_DIR}/NOTE.TXT")
        with pytest.raises(DeviceError, match="behind a folder that is a symbolic link"):
            vol.read_small("DCIM/OTHER.TXT", 100)  # a folder not reached before: refused


# ---- drop folders ------------------------------------------------------------------------------


def test_a_drop_folder_batch_that_is_a_link_is_not_a_batch(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    (drop / "real").mkdir(parents=True)
    (drop / "real" / "a.MP4").write_bytes(b"x")
    os.symlink(tmp_path / "host", drop / "linked")
    os.symlink(host_file(tmp_path), drop / "real" / "b.MP4")
    assert is_batch(drop / "real") and not is_batch(drop / "linked")
    sizes = {name: size for name, size, _ in snapshot(drop / "real")}
    assert sizes["a.MP4"] == 1 and sizes["b.MP4"] == len(str(tmp_path / "host" / "shadow"))


# ---- numbers and dates typed at the command line ---------------------------------------------

OUT_OF_RANGE = [
    ("clips", "show", "99999999999999999999999"),
    ("clips", "list", "--since", "0001-01-01"),
    ("clips", "list", "--until", "9999-12-31"),
    ("clips", "list", "--dock", "-99999999999999999999"),
    ("ledger", "show", "--since", "0001-01-01"),
    ("ledger", "show", "--limit", "99999999999999999999"),
    ("checkout", "export", "--from", "0001-01-01"),
    ("hold", "place", "--clip", "99999999999999999999", "--case", "X1"),
    ("hold", "show", "99999999999999999999"),
    ("report", "usage", "--from", "9999-12-31"),
    ("access", "register", "--year", "99999"),
    ("retention", "restore", "1", "--note", "n", "--keep-days", "99999999999999"),
    ("store", "verify", "--budget", "inf"),
    ("simulate", "recorder", "x", "--drift", "1e300"),
    ("simulate", "recorder", "x", "--start", "0001-01-01"),
]


@pytest.mark.parametrize("argv", OUT_OF_RANGE, ids=[" ".join(a) for a in OUT_OF_RANGE])
def test_numbers_and_dates_out_of_range_are_usage_errors(home: Path, cli,  # type: ignore[no-untyped-def]
                                                         argv: tuple[str, ...]) -> None:
    events = len(ledger(home, "dock.started")) + len(all_ledger_text(home))
    out = cli(*argv)
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.startswith("avledger: error: ") and out.stderr.count("\n") == 1
    assert ("out of range" in out.stderr or "is outside" in out.stderr
            or "at most" in out.stderr) and "internal error" not in out.stderr
    assert len(ledger(home, "dock.started")) + len(all_ledger_text(home)) == events


# ---- how a real recorder is mounted ------------------------------------------------------------


def _mount_options(dev: str) -> list[set[str]]:
    """The options of every mount of ``dev`` that avledger made, from /proc/mounts."""
    mine = f"/avledger-{Path(dev).name}-"
    return [set(fields[3].split(",")) for fields in
            (line.split() for line in Path("/proc/mounts").read_text().splitlines())
            if mine in fields[1]]


class _MountsSeen(IngestHooks):
    def __init__(self, dev: str) -> None:
        self.dev = dev
        self.seen: list[set[str]] = []

    def clip_started(self, clip: SourceClip) -> None:
        self.seen += _mount_options(self.dev)


@pytest.mark.root
def test_a_docked_recorder_is_mounted_nosuid_nodev_noexec(app: Avledger, tmp_path: Path) -> None:
    require_root_tools("losetup", "fusefat", "mkfs.vfat", "mcopy", "fusermount")
    image = tmp_path / "bwr.img"
    make_recorder(tmp_path / "tree", clips=1, size=40_000, serial="MNT001", image=image)
    with loop_device(image, read_only=False) as dev:
        hooks = _MountsSeen(dev)
        report = ingest_device(app, dev, hooks=hooks)
        assert report.count("new") == 1
        assert len(hooks.seen) == 1
        assert {"ro", "nosuid", "nodev", "noexec"} <= hooks.seen[0], hooks.seen
        with mounting.mounted(dev, profile(), writable=True):  # the clock sync's one write
            (writable,) = _mount_options(dev)
        assert {"rw", "nosuid", "nodev", "noexec"} <= writable, writable
        assert _mount_options(dev) == []


def test_the_store_reads_only_regular_files(app: Avledger, tmp_path: Path) -> None:
    shadow = host_file(tmp_path)
    os.symlink(shadow, tmp_path / "link.MP4")
    os.mkfifo(tmp_path / "fifo.MP4")
    with pytest.raises(DeviceError, match="is a symbolic link: not read"):
        app.store.put_file(tmp_path / "link.MP4")
    with pytest.raises(DeviceError, match="is not a regular file: not read"):
        app.store.put_file(tmp_path / "fifo.MP4")
    assert app.store.put_file(shadow).digest == digest(shadow)


def test_identity_text_from_the_recorder_is_shown_escaped() -> None:
    from avledger.core.dock.volume import parse_identity

    who = parse_identity("SERIAL=ESC01\nPOLICE_ID=00\x1b[2J03\nMODEL=" + "M" * 500 + "\n",
                         "keyvalue", {"serial": "SERIAL", "badge": "POLICE_ID",
                                      "model": "MODEL"})
    assert who.badge == "00\\x1b[2J03"
    assert who.model is not None and len(who.model) == 129 and who.model.endswith("…")
