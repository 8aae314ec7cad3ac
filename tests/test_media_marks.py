"""Media kinds (video, photo, audio) and device marks (a clip the officer locked as important).

Photos and audio recordings are ingested with their kind; a photo has no duration and counts
in no footage hours, an audio file's duration comes from its own header, and the 24-hour
window applies to every kind. A clip the recorder marked is flagged and a hold proposed; a
records manager confirms it (an ordinary hold is placed) or dismisses it; a desk clerk can do
neither, and a flag file that is a link or a FIFO on the recorder is never followed or opened.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from avledger.core.app import Avledger
from avledger.core.clips import ClipFilter, list_clips
from avledger.core.ingest.session import ingest
from avledger.core.reports.build import build_report
from avledger.core.reports.period import Period
from avledger.core.retention import proposals
from avledger.core.retention.holds import holds_for_clip
from avledger.errors import RefusedError
from avledger.timestamps import utcnow
from tests.conftest import require_root_tools
from tests.loopfuse import fusefat, loop_device
from tests.recorder_tools import make_recorder, profile
from tests.test_cases_holds_cli import add_clerk, ok, one_line_error


def events(app: Avledger, type_: str) -> list[dict[str, Any]]:
    return [json.loads(r[0]) | {"subject": r[1]} for r in app.catalog.conn.execute(
        "SELECT payload, subject FROM ledger WHERE type = ? ORDER BY seq", (type_,))]


def by_kind(app: Avledger) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for clip in list_clips(app, ClipFilter()):
        out.setdefault(clip["kind"], []).append(clip)
    return out


def test_photos_and_audio_are_ingested_with_their_kind(app: Avledger, tmp_path: Path) -> None:
    rec = tmp_path / "rec"
    make_recorder(rec, clips=2, size=200_000, seconds=30, photos=3, audio=1)
    report = ingest(app, rec)
    assert report.totals()["new"] == 6 and report.failed == 0
    kinds = by_kind(app)
    assert {k: len(v) for k, v in kinds.items()} == {"video": 2, "photo": 3, "audio": 1}
    for photo in kinds["photo"]:
        assert photo["duration_seconds"] is None and photo["duration_source"] == "still"
        assert "duration-unknown" not in photo["flags"]
        assert photo["source_path"].endswith(".JPG")
        # the window applies to photos too: a deadline 24 h after the moment it was taken
        assert photo["deadline"] is not None and photo["on_time"] is True
    audio = kinds["audio"][0]
    assert audio["duration_source"] == "container"
    assert audio["duration_seconds"] == pytest.approx(30, abs=0.1)
    assert audio["on_time"] is True
    ingested = events(app, "clip.ingested")
    assert sorted(e["kind"] for e in ingested) == ["audio", "photo", "photo", "photo",
                                                   "video", "video"]
    assert list_clips(app, ClipFilter(kind="photo")) == kinds["photo"]
    with pytest.raises(RefusedError, match="unknown kind"):
        list_clips(app, ClipFilter(kind="film"))


def test_photos_count_in_no_footage_hours(app: Avledger, tmp_path: Path) -> None:
    rec = tmp_path / "rec"
    make_recorder(rec, clips=2, size=200_000, seconds=600, photos=4, audio=1)
    ingest(app, rec)
    report = build_report(app, "annual", Period.year(utcnow().year, app.config.timezone))
    section = next(s for s in report.sections if s.key == "footage")
    figures = {f.key: f.value for f in section.figures}
    assert figures["clips"] == 7
    assert figures["hours"] == 0.5  # 2 videos and 1 audio recording of 10 minutes
    assert figures["length_unknown"] == 0  # a photo's length is not unknown: it has none


def test_marked_clip_is_flagged_and_a_hold_proposed_then_confirmed(app: Avledger,
                                                                   tmp_path: Path) -> None:
    rec = tmp_path / "rec"
    sim = make_recorder(rec, clips=3, size=100_000, marked=1)
    assert (rec / sim.clips[0].rel).with_suffix(".LCK").is_file()
    assert ingest(app, rec).totals()["marked"] == 1
    marked = list_clips(app, ClipFilter(marked=True))
    assert [c["source_path"] for c in marked] == [sim.clips[0].rel]
    assert marked[0]["mark"] == "flag"
    clip_id = marked[0]["id"]
    open_ = proposals.list_proposals(app.catalog.conn)
    assert [(p["clip_id"], p["mark"], p["state"]) for p in open_] == [(clip_id, "flag", "open")]
    assert holds_for_clip(app.catalog.conn, clip_id) == []  # proposed, not placed
    assert events(app, "hold.proposed")[0]["subject"] == f"clip:{clip_id}"

    done = proposals.confirm(app, open_[0]["id"], note="", now=utcnow())
    assert done["state"] == "confirmed" and done["hold_id"] == done["hold"]["id"]
    holds = holds_for_clip(app.catalog.conn, clip_id)
    assert [h["id"] for h in holds] == [done["hold_id"]] and holds[0]["active"]
    assert "marked important on the recorder" in holds[0]["note"]
    assert events(app, "hold.placed")[0]["proposal"] == open_[0]["id"]
    assert events(app, "hold.proposal_confirmed")[0]["hold"] == done["hold_id"]
    assert proposals.list_proposals(app.catalog.conn) == []
    with pytest.raises(RefusedError, match="already confirmed"):
        proposals.dismiss(app, open_[0]["id"], reason="too late", now=utcnow())
    # docked again: nothing is proposed twice
    ingest(app, rec)
    assert len(events(app, "hold.proposed")) == 1


def test_dismissed_proposal_leaves_no_hold(app: Avledger, tmp_path: Path) -> None:
    rec = tmp_path / "rec"
    make_recorder(rec, clips=2, size=100_000, marked=2)
    ingest(app, rec)
    first, second = proposals.list_proposals(app.catalog.conn)
    with pytest.raises(RefusedError, match="needs a reason"):
        proposals.dismiss(app, first["id"], reason="  ", now=utcnow())
    out = proposals.dismiss(app, first["id"], reason="locked by mistake", now=utcnow())
    assert out["state"] == "dismissed" and out["note"] == "locked by mistake"
    assert holds_for_clip(app.catalog.conn, first["clip_id"]) == []
    assert app.catalog.conn.execute("SELECT COUNT(*) FROM holds").fetchone()[0] == 0
    assert events(app, "hold.proposal_dismissed")[0]["note"] == "locked by mistake"
    assert [p["id"] for p in proposals.list_proposals(app.catalog.conn)] == [second["id"]]
    assert len(proposals.list_proposals(app.catalog.conn, include_decided=True)) == 2


def write_profile(home: Path, name: str, marks: dict[str, Any]) -> None:
    """The generic profile, marking clips another way."""
    doc = dict(profile("generic").data)
    doc["name"] = name
    doc["match"] = {"marker": "DEVICE.TXT", "udev": {}, "label": None}
    doc["marks"] = marks
    folder = home / "profiles"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True))


def test_marks_by_name_and_by_sidecar(app: Avledger, home: Path, tmp_path: Path) -> None:
    write_profile(home, "sidecar-cam", {"method": "sidecar", "path": "{dir}/{stem}.XML.TXT",
                                        "format": "keyvalue", "key": "LOCK"})
    rec = tmp_path / "rec"
    sim = make_recorder(rec, clips=3, size=100_000)
    folder = (rec / sim.clips[0].rel).parent
    (folder / (Path(sim.clips[0].rel).stem + ".XML.TXT")).write_text("LOCK=1\n")
    (folder / (Path(sim.clips[1].rel).stem + ".XML.TXT")).write_text("LOCK=0\n")
    ingest(app, rec, profile="sidecar-cam")
    assert [c["source_path"] for c in list_clips(app, ClipFilter(marked=True))] == [
        sim.clips[0].rel]

    write_profile(home, "name-cam", {"method": "name", "pattern": r"_000[23]\.MP4$"})
    rec2 = tmp_path / "rec2"
    sim2 = make_recorder(rec2, clips=3, size=100_000, serial="SIM0002")
    ingest(app, rec2, profile="name-cam")
    got = [c for c in list_clips(app, ClipFilter(marked=True, device="SIM0002"))]
    assert [c["source_path"] for c in got] == [c.rel for c in sim2.clips[1:]]
    assert {c["mark"] for c in got} == {"name"}


def test_a_flag_that_is_a_link_or_fifo_is_not_followed(app: Avledger, tmp_path: Path) -> None:
    """The recorder decides what its volume holds: a link named like the flag file (pointing
    at a real file) does not mark the clip, and a FIFO there is never opened (no hang)."""
    rec = tmp_path / "rec"
    sim = make_recorder(rec, clips=3, size=100_000)
    outside = tmp_path / "outside.LCK"
    outside.write_text("1\n")
    first, second = (rec / c.rel for c in sim.clips[:2])
    first.with_suffix(".LCK").symlink_to(outside)
    os.mkfifo(second.with_suffix(".LCK"))
    write_sidecar_fifo = (rec / sim.clips[2].rel).with_suffix(".LCK")
    write_sidecar_fifo.write_text("1\n")  # a real flag: the one marked clip
    ingest(app, rec)
    marked = list_clips(app, ClipFilter(marked=True))
    assert [c["source_path"] for c in marked] == [sim.clips[2].rel]
    assert len(proposals.list_proposals(app.catalog.conn)) == 1


def test_sidecar_that_is_a_fifo_is_not_opened(app: Avledger, home: Path,
                                              tmp_path: Path) -> None:
    write_profile(home, "sidecar-cam", {"method": "sidecar", "path": "{dir}/{stem}.INF",
                                        "format": "json", "key": "clip.locked"})
    rec = tmp_path / "rec"
    sim = make_recorder(rec, clips=2, size=100_000)
    os.mkfifo((rec / sim.clips[0].rel).with_suffix(".INF"))
    (rec / sim.clips[1].rel).with_suffix(".INF").write_text('{"clip": {"locked": true}}')
    ingest(app, rec, profile="sidecar-cam")
    assert [c["source_path"] for c in list_clips(app, ClipFilter(marked=True))] == [
        sim.clips[1].rel]


def test_proposal_doors_through_the_command(home: Path, tmp_path: Path,
                                            cli) -> None:  # type: ignore[no-untyped-def]
    """A desk clerk may list proposals but neither confirm nor dismiss them; a records
    manager confirms; bad input is a one-line error."""
    add_clerk(home)
    rec = tmp_path / "rec"
    ok(cli("simulate", "recorder", str(rec), "--clips", "2", "--size", "64k", "--photos", "1",
           "--audio", "1", "--marked", "2", "--json"))
    ok(cli("ingest", str(rec), "--json"))
    listed = ok(cli("hold", "proposals", "--json", env={"AVLEDGER_ACTOR": "clerk1"}))
    assert len(listed) == 2 and {p["state"] for p in listed} == {"open"}
    first, second = listed[0]["id"], listed[1]["id"]
    one_line_error(cli("hold", "confirm", str(first), env={"AVLEDGER_ACTOR": "clerk1"}), 5,
                   "records_manager or leader")
    one_line_error(cli("hold", "dismiss", str(first), "--reason", "x",
                       env={"AVLEDGER_ACTOR": "clerk1"}), 5, "records_manager or leader")
    one_line_error(cli("hold", "confirm", "999"), 4, "no hold proposal 999")
    placed = ok(cli("hold", "confirm", str(first), "--note", "party obstructed", "--json"))
    assert placed["state"] == "confirmed" and placed["hold"]["note"] == "party obstructed"
    ok(cli("hold", "dismiss", str(second), "--reason", "routine", "--json"))
    holds = ok(cli("hold", "list", "--json"))
    assert [h["id"] for h in holds] == [placed["hold_id"]]
    clips = ok(cli("clips", "list", "--json"))
    assert sorted(c["kind"] for c in clips) == ["audio", "photo", "video", "video"]
    assert sorted(str(c["mark"]) for c in clips) == ["None", "None", "flag", "flag"]
    shown = cli("clips", "list", "--marked")
    assert shown.returncode == 0 and shown.stdout.count("marked important") == 2
    assert cli("ledger", "verify").returncode == 0



@pytest.mark.root
def test_a_fat_recorder_with_photos_audio_and_a_flag(home: Path, tmp_path: Path,
                                                     cli) -> None:  # type: ignore[no-untyped-def]
    """A real FAT image on a loop device through fusefat, ingested one clip at a time
    (--verify) into two store copies: kinds, the mark and the proposal, both copies."""
    require_root_tools("losetup", "fusefat", "mkfs.vfat", "mcopy", "fusermount")
    from tests.test_store_copies import two_copies

    second = tmp_path / "disk2" / "store"
    two_copies(home, second)
    image = tmp_path / "bwr.img"
    make_recorder(tmp_path / "tree", clips=2, size=1 << 20, photos=2, audio=1, marked=1,
                  serial="FAT002", image=image)
    with loop_device(image) as dev, fusefat(dev, tmp_path / "mnt"):
        report = ok(cli("ingest", str(tmp_path / "mnt"), "--json", "--verify"))
    assert report["totals"]["new"] == 5 and report["totals"]["marked"] == 1
    assert sorted(c["kind"] for c in report["clips"]) == ["audio", "photo", "photo", "video",
                                                         "video"]
    assert len(ok(cli("hold", "proposals", "--json"))) == 1
    status = ok(cli("status", "--json"))["store"]["copies"]
    assert status["clips_short"] == 0 and not status["second_missing"]
    assert len([p for p in (second / "objects").rglob("*") if p.is_file()]) == 5
    assert cli("store", "verify").returncode == 0
