"""A day at the desk with the recorder docked, end to end through the installed command.

One recorder, two officers, one day, in real time: register it; hand it to officer A (not
docked: nothing to read yet); it records; dock and ingest; check it in; it records once more
at the end of A's task and once between the two checkouts; hand it to officer B docked — refused
while those clips wait, then its clock is set on the spot and taken up when it is docked
again; it records during B's task; check it in docked, ingesting what is left. Clip times,
corrected for the recorder's drift, decide whose footage is whose; the clip recorded between
the checkouts is flagged. Once with the recorder as a folder (its clock 40 s fast), once as a
real FAT image on a loop device mounted by fusefat (root).
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from avledger.core.simulate.recorder import make_fat_image
from avledger.timestamps import parse_iso, utcnow
from tests.conftest import require_root_tools
from tests.desk.conftest import one_error_line
from tests.loopfuse import loop_device
from tests.recorder_tools import profile
from tests.udevtools import ensure_udevd, settle

SITE = ZoneInfo("Asia/Shanghai")
# The recorder docked: its path or device, and the options that say when it was docked (a
# folder's docking moment is given; a block device's comes from udev).
Dock = Callable[[], AbstractContextManager[tuple[str, list[str]]]]


def wait_until(moment: datetime) -> None:
    while (left := (moment - utcnow()).total_seconds()) > 0:
        time.sleep(min(left, 0.5))


def site(moment: datetime) -> str:
    return moment.astimezone(SITE).strftime("%Y-%m-%d %H:%M:%S")


class Desk:
    def __init__(self, dcli: Callable[..., Any], rec: Path) -> None:
        self.dcli, self.rec = dcli, rec

    def ok(self, *args: str) -> Any:
        res = self.dcli(*args)
        assert res.returncode == 0, (args, res.stdout, res.stderr)
        return json.loads(res.stdout) if "--json" in args else res.stdout

    def refused(self, *args: str) -> str:
        res = self.dcli(*args)
        assert res.returncode == 5, (args, res.stdout, res.stderr)
        return one_error_line(res)

    def record(self, true_start: datetime) -> str:
        """The recorder records a 1 s clip that truly began at ``true_start`` (whole s)."""
        wait_until(true_start + timedelta(seconds=2))
        laid = self.ok("simulate", "record", str(self.rec), "--start", site(true_start),
                       "--seconds", "1", "--size", "48k", "--json")
        return str(laid[0]["path"])


def whole(moment: datetime, plus: float) -> datetime:
    return (moment + timedelta(seconds=plus)).replace(microsecond=0) + timedelta(seconds=1)


def run_day(dcli: Callable[..., Any], rec: Path, dock: Dock, *, drift: float,
            entered: tuple[str, ...] = ()) -> None:
    """The day; ``entered`` are the levels the clerk types (a folder has no free space)."""
    d = Desk(dcli, rec)
    d.ok("device", "add", "BWR-D", "--model", "DSJ-A8")
    d.ok("simulate", "recorder", str(rec), "--serial", "BWR-D", "--badge", "0003", "--clips",
         "0", "--drift", str(drift), "--battery", "96")

    # Morning: officer A takes it (not docked: levels entered, clock not yet known).
    a = d.ok("checkout", "BWR-D", "--to", "0003", "--task", "inspection, Xinhua Paper Mill",
             "--battery", "96", "--storage-free", "88", "--json")
    out_a = parse_iso(a["out_at"])
    a1 = d.record(whole(out_a, 2))
    with dock() as (where, when):
        first = d.ok("ingest", *(["--device", where] if where.startswith("/dev/")
                                 else [where]), *when, "--json")
        assert [(c["rel"], c["badge"], c["attribution"]) for c in first["clips"]] == [
            (a1, "0003", "checkout")]
        wait_until(out_a + timedelta(seconds=12))
        back = d.ok("checkin", "BWR-D", "--docked", where, *when, "--json")
    assert (back["footage"]["status"], back["footage"]["clips"]) == ("ingested", 1)
    in_a = parse_iso(back["in_at"])

    # A clip from the end of A's task, and one recorded between the checkouts.
    a2 = d.record(whole(in_a, -5))
    between = d.record(whole(in_a, 4))
    wait_until(in_a + timedelta(seconds=12))
    with dock() as (where, when):
        b_args = ("checkout", "BWR-D", "--to", "0004", "--task",
                  "complaint follow-up, Riverside Dyeing", "--docked", where, *when, *entered)
        waiting = d.refused(*b_args)
        assert "2 clip(s) on BWR-D are not yet ingested" in waiting
        d.ok("ingest", *(["--device", where] if where.startswith("/dev/") else [where]), *when)
        if abs(drift) > 10:  # set on the spot; the recorder takes it up when docked again
            assert "takes effect when it is next connected" in d.refused(*b_args)
    with dock() as (where, when):
        b = d.ok("checkout", "BWR-D", "--to", "0004", "--task",
                 "complaint follow-up, Riverside Dyeing", "--docked", where, *when, *entered,
                 "--json")
    out_b = parse_iso(b["out_at"])
    pre = b["precheck"]
    assert pre["clock"]["result"] == "ok" and pre["clock"]["source"] == "device"
    assert pre["battery"] == {"result": "ok", "value": 96.0, "source": "device"}
    assert pre["footage"] == {"result": "ok", "value": 0.0, "source": "device"}

    b1 = d.record(whole(out_b, 3))
    wait_until(out_b + timedelta(seconds=8))
    with dock() as (where, when):
        done = d.ok("checkin", "BWR-D", "--docked", where, *when, "--ingest", "--json")
    assert done["ingest"]["new"] == 1
    assert (done["footage"]["status"], done["footage"]["clips"]) == ("ingested", 1)

    # Whose footage: decided by corrected recording times.
    clips = {c["source_path"]: c for c in d.ok("clips", "list", "--device", "BWR-D", "--json")}
    assert set(clips) == {a1, a2, between, b1}
    assert [(clips[p]["badge"], clips[p]["checkout_id"], clips[p]["attribution"])
            for p in (a1, a2, between, b1)] == [
        ("0003", a["id"], "checkout"), ("0003", a["id"], "checkout"),
        (None, None, "between-checkouts"), ("0004", b["id"], "checkout")]
    assert "between-checkouts" in clips[between]["flags"]
    corrected = {p: parse_iso(c["corrected_start"]) for p, c in clips.items()}
    assert out_a < corrected[a1] < corrected[a2] < in_a < corrected[between] < out_b \
        < corrected[b1]
    if drift > 10:  # by its own clock the last clip of A's task began after A checked it in
        assert parse_iso(clips[a2]["device_start"]) > in_a

    ledger = {int(r["checkout"]): r for r in
              csv.DictReader(io.StringIO(d.ok("checkout", "export")))}
    assert [(r["badge"], r["clips"]) for r in ledger.values()] == [("0003", "2"), ("0004", "1")]
    assert ledger[b["id"]]["battery"] == "96%" and ledger[b["id"]]["clock"] == "ok"
    assert d.ok("checkout", "list", "--open", "--json") == []
    d.ok("ledger", "verify")
    d.ok("store", "verify")


def test_a_day_with_the_recorder_docked_as_a_folder(docked_home, dcli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rec = tmp_path / "BWR-D"

    @contextmanager
    def dock() -> Iterator[tuple[str, list[str]]]:
        # plugged in: writes its clock file afresh, and says when
        res = dcli("simulate", "dock", str(rec), "--json")
        assert res.returncode == 0, res.stderr
        yield str(rec), ["--docked-at", json.loads(res.stdout)["docked_at"]]

    run_day(dcli, rec, dock, drift=40, entered=("--storage-free", "75"))
    events = [e["type"] for e in reversed(json.loads(dcli(
        "ledger", "show", "--type", "clock.*", "--limit", "100", "--json").stdout))]
    assert events.count("clock.synced") == 1 and events.count("clock.sync_settled") == 1


def test_a_day_with_the_recorder_on_a_loop_device(docked_home, dcli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    require_root_tools("losetup", "fusefat", "fusermount", "mkfs.vfat", "mcopy", "udevadm")
    ensure_udevd()  # the docking moment is udev's
    rec = tmp_path / "BWR-D"
    image = tmp_path / "BWR-D.img"

    @contextmanager
    def dock() -> Iterator[tuple[str, list[str]]]:
        res = dcli("simulate", "dock", str(rec))
        assert res.returncode == 0, res.stderr
        make_fat_image(rec, image, profile())  # the recorder as its USB volume
        with loop_device(image, read_only=False) as dev:
            settle()
            yield dev, []
        with open("/proc/mounts") as fh:
            assert f"/avledger-{Path(dev).name}-" not in fh.read(), "left mounted"

    run_day(dcli, rec, dock, drift=2)
    storage = json.loads(dcli("checkout", "list", "--json").stdout)
    assert len(storage) == 2
    shown = json.loads(dcli("checkout", "show", str(storage[0]["id"]), "--json").stdout)
    free = shown["precheck"]["storage"]
    assert free["source"] == "device" and 50 < free["value"] <= 100  # statvfs of the volume
