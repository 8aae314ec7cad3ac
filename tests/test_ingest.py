"""Ingest from a folder laid out like a recorder (no root needed)."""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from avledger.timestamps import iso, parse_iso, utcnow
from tests.recorder_tools import catalog_objects, clip_rows, dock, make_recorder, store_objects


def db(home: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(home / "data" / "catalog.db")
    conn.row_factory = sqlite3.Row
    return conn


def ingest_json(cli, *args: str, code: int = 0) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    out = cli("ingest", *args, "--json")
    assert out.returncode == code, out.stderr
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def events(home: Path, type_: str) -> list[dict[str, Any]]:
    with db(home) as conn:
        return [json.loads(r[0]) for r in conn.execute(
            "SELECT payload FROM ledger WHERE type = ? ORDER BY seq", (type_,))]


def test_ingest_then_redock_ingests_nothing_twice(home: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    rec = tmp_path / "rec"
    sim = make_recorder(rec, clips=4, size=300_000, serial="BWR0042", badge="0001")
    first = ingest_json(cli, str(rec))
    assert first["totals"]["new"] == 4 and first["totals"]["failed"] == 0
    assert first["device_new"] is True and first["serial"] == "BWR0042"
    with db(home) as conn:
        dev = conn.execute("SELECT * FROM devices").fetchone()
        assert dev["registration"] == "unregistered" and dev["badge_hint"] == "0001"
        assert conn.execute("SELECT COUNT(*) FROM clips").fetchone()[0] == 4
        dock_row = conn.execute("SELECT * FROM docks").fetchone()
        assert dock_row["state"] == "done" and dock_row["files_done"] == 4
        assert dock_row["bytes_done"] == dock_row["bytes_total"] == 4 * 300_000
    assert len(events(home, "clip.ingested")) == 4
    assert events(home, "device.discovered")[0]["serial"] == "BWR0042"
    assert len(events(home, "clock.measured")) == 1
    objects = store_objects(home / "data" / "store")
    assert objects == catalog_objects(home / "data" / "catalog.db") and len(objects) == 4

    again = ingest_json(cli, str(rec))
    assert again["totals"]["new"] == 0 and again["totals"]["skipped"] == 4
    assert again["totals"]["bytes_copied"] == 0
    assert store_objects(home / "data" / "store") == objects
    assert len(events(home, "clip.ingested")) == 4
    assert len(events(home, "device.discovered")) == 1
    # the stored copies are the recorder's bytes
    import blake3

    for c in sim.clips:
        digest = blake3.blake3((rec / c.rel).read_bytes()).hexdigest()
        assert digest in objects
    assert cli("ledger", "verify").returncode == 0


def test_dry_run_changes_nothing(home: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    rec = tmp_path / "rec"
    make_recorder(rec, clips=3, size=100_000)
    with db(home) as conn:
        before = conn.execute("SELECT size FROM ledger_state").fetchone()[0]
    plan = ingest_json(cli, str(rec), "--dry-run")
    assert plan["dry_run"] is True and plan["totals"]["planned"] == 3
    assert all(c["status"] == "planned" and c["corrected_start"] for c in plan["clips"])
    with db(home) as conn:
        assert conn.execute("SELECT size FROM ledger_state").fetchone()[0] == before
        for table in ("clips", "devices", "docks", "clock_measurements", "objects"):
            assert conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0, table
    assert store_objects(home / "data" / "store") == set()


def test_drift_95_seconds_fast(home: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    rec = tmp_path / "rec"
    sim = make_recorder(rec, clips=3, size=50_000, drift=95)
    docked = dock(rec, 95)  # the recorder writes its clock at connect
    report = ingest_json(cli, str(rec), "--docked-at", docked)
    drift = report["clock"]["drift_seconds"]
    # measured against the moment of docking, not the read: exactly what the recorder said
    assert report["clock"]["status"] == "drifted" and drift == 95.0
    assert report["clock"]["uncertainty_seconds"] == 2.0  # given by hand (1 s) + 1 s file
    assert report["clock"]["reference"] == "given"
    rows = json.loads(cli("clips", "list", "--json").stdout)
    assert len(rows) == 3
    for row, simclip in zip(rows, sim.clips, strict=True):
        device_start = parse_iso(row["device_start"])
        corrected = parse_iso(row["corrected_start"])
        assert device_start == simclip.device_start  # raw device time kept as recorded
        assert row["drift_seconds"] == drift
        assert device_start - corrected == timedelta(seconds=drift)
        # 1 s clock-file resolution + dock-to-measurement time (see above).
        assert abs((corrected - simclip.true_start).total_seconds()) <= 3
        assert abs((device_start - corrected).total_seconds() - 95) <= 3
    shown = json.loads(cli("clips", "show", str(rows[0]["id"]), "--json").stdout)
    assert shown["drift_seconds"] == drift
    assert shown["clock_measurement"]["drift_seconds"] == drift
    assert shown["events"][0]["type"] == "clip.ingested"
    assert shown["events"][0]["payload"]["drift_seconds"] == drift
    text = cli("clips", "show", str(rows[0]["id"])).stdout
    assert f"{drift:+.3f} s" in text
    measured = events(home, "clock.measured")[0]
    assert measured["drift_seconds"] == drift and measured["status"] == "drifted"


def test_unparseable_names_are_ingested_and_flagged(home: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    rec = tmp_path / "rec"
    make_recorder(rec, clips=2, bad_names=2, size=40_000)
    report = ingest_json(cli, str(rec))
    assert report["totals"]["new"] == 4
    bad = [c for c in report["clips"] if "unparsed-name" in c["flags"]]
    assert len(bad) == 2 and all(c["on_time"] is None for c in bad)
    assert all(c["device_start"] is None for c in bad)
    rows = json.loads(cli("clips", "list", "--json").stdout)
    assert sum("unparsed-name" in r["flags"] for r in rows) == 2
    assert all(r["duration_source"] == "container" for r in rows)


def test_garbage_clock_gives_unknown_drift(home: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    rec = tmp_path / "rec"
    make_recorder(rec, clips=2, size=40_000, garbage_clock=True)
    report = ingest_json(cli, str(rec))
    assert report["clock"]["status"] == "unknown" and report["clock"]["drift_seconds"] is None
    assert "does not parse" in report["clock"]["detail"]
    for c in report["clips"]:
        assert "drift-unknown" in c["flags"] and c["drift_seconds"] is None
        assert c["corrected_start"] == c["device_start"]
    text = cli("ingest", str(rec)).stdout
    assert "unknown" in text


def test_nothing_recognised_and_bad_profile_exit_codes(home: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    empty = tmp_path / "empty"
    empty.mkdir()
    out = cli("ingest", str(empty))
    assert out.returncode == 4 and "no device profile recognises" in out.stderr
    (home / "profiles").mkdir()
    (home / "profiles" / "bad.yaml").write_text("match: {label: '('}\n")
    out = cli("ingest", str(empty))
    assert out.returncode == 3 and "bad.yaml" in out.stderr


def _device_with_checkouts(home: Path, serial: str, checkouts: list[tuple[str, datetime,
                                                                          datetime | None, int]]
                           ) -> None:
    with db(home) as conn:
        dev = conn.execute(
            "INSERT INTO devices (serial, registration, first_seen_at) VALUES (?, 'registered',"
            " ?)", (serial, iso(utcnow()))).lastrowid
        for badge, out_at, in_at, remote in checkouts:
            conn.execute(
                "INSERT INTO checkouts (device_id, badge, remote, out_at, in_at, out_by)"
                " VALUES (?, ?, ?, ?, ?, 'desk')",
                (dev, badge, remote, iso(out_at), iso(in_at) if in_at else None))


def test_attribution_window_and_late_explanations(home: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    now = utcnow().replace(microsecond=0)
    start = now - timedelta(days=3)  # clips at start, +1 h, +2 h: all older than 24 h
    _device_with_checkouts(home, "BWR7", [
        ("1001", start - timedelta(minutes=30), start + timedelta(minutes=30), 0),
        # (start + 1 h falls between the two checkouts)
        ("1002", start + timedelta(minutes=90), now - timedelta(hours=1), 1),  # remote
    ])
    rec = tmp_path / "rec"
    make_recorder(rec, clips=3, size=30_000, serial="BWR7", badge="9999", first_start=start,
                  seconds=60, gap=3540)
    report = ingest_json(cli, str(rec))
    by_name = sorted(report["clips"], key=lambda c: c["rel"])
    first, between, remote = by_name
    assert (first["attribution"], first["badge"], first["on_time"]) == ("checkout", "1001", False)
    assert (between["attribution"], between["badge"]) == ("between-checkouts", None)
    assert between["on_time"] is False and "between-checkouts" in between["flags"]
    # remote checkout: deadline is check-in + 24 h, so still on time
    assert (remote["attribution"], remote["badge"], remote["on_time"]) == ("checkout", "1002",
                                                                           True)
    assert parse_iso(remote["deadline"]) == now - timedelta(hours=1) + timedelta(hours=24)
    assert report["totals"]["late"] == 2

    late = json.loads(cli("clips", "list", "--late", "--json").stdout)
    assert {c["source_path"] for c in late} == {first["rel"], between["rel"]}
    unattributed = json.loads(cli("clips", "list", "--unattributed", "--json").stdout)
    assert [c["source_path"] for c in unattributed] == [between["rel"]]
    status = json.loads(cli("status", "--json").stdout)
    assert status["clips"]["unattributed"] == len(unattributed) == 1
    mine = json.loads(cli("clips", "list", "--officer", "1002", "--json").stdout)
    assert [c["source_path"] for c in mine] == [remote["rel"]]

    out = cli("clips", "explain", str(late[0]["id"]), "--reason", "road closed by flooding")
    assert out.returncode == 0, out.stderr
    shown = json.loads(cli("clips", "show", str(late[0]["id"]), "--json").stdout)
    assert shown["late_reason"] == "road closed by flooding"
    assert [e["type"] for e in shown["events"]] == ["clip.ingested", "clip.late_explained"]
    assert shown["events"][1]["actor"].startswith("0001:")
    on_time_id = json.loads(cli("clips", "list", "--officer", "1002", "--json").stdout)[0]["id"]
    refused = cli("clips", "explain", str(on_time_id), "--reason", "x")
    assert refused.returncode == 5 and "was not late" in refused.stderr
    assert cli("clips", "explain", "999", "--reason", "x").returncode == 4


def test_device_info_badge_until_checkouts_exist(home: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    rec = tmp_path / "rec"
    make_recorder(rec, clips=1, size=30_000, serial="A1", badge="0007")
    report = ingest_json(cli, str(rec))
    assert report["clips"][0]["attribution"] == "device-info"
    assert report["clips"][0]["badge"] == "0007"
    rec2 = tmp_path / "rec2"
    make_recorder(rec2, clips=1, size=30_000, serial="A2", badge=None)
    report = ingest_json(cli, str(rec2))
    assert report["clips"][0]["attribution"] == "unattributed"
    assert report["clips"][0]["badge"] is None


def test_second_profile_mov_json_utc_plus_6(home: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    rec = tmp_path / "fc"
    sim = make_recorder(rec, "fieldcam-json", clips=2, size=60_000, seconds=42.5, serial="FC9",
                        badge="0002", drift=-20)
    docked = dock(rec, -20, "fieldcam-json")
    report = ingest_json(cli, str(rec), "--docked-at", docked)
    assert report["clock"]["drift_seconds"] == -20.0
    assert report["profile"] == "fieldcam-json" and report["serial"] == "FC9"
    rows = json.loads(cli("clips", "list", "--device", "FC9", "--json").stdout)
    assert [r["duration_seconds"] for r in rows] == [42.5, 42.5]
    assert all(r["source_path"].endswith(".MOV") for r in rows)
    for row, simclip in zip(rows, sim.clips, strict=True):
        assert parse_iso(row["device_start"]) == simclip.device_start  # read in UTC+6
        # Error budget: the clock file's 1 s resolution plus the time from "dock" to the
        # measurement (a CLI start-up, slower on a loaded machine).
        assert abs((parse_iso(row["corrected_start"]) - simclip.true_start).total_seconds()) <= 3


def test_ini_profile_from_the_config_directory(home: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    from tests.test_profiles import GOOD

    (home / "profiles").mkdir()
    (home / "profiles" / "ini-cam.yaml").write_text(yaml.safe_dump(GOOD))
    rec = tmp_path / "ini"
    out = cli("simulate", "recorder", str(rec), "--profile", "ini-cam", "--clips", "2",
              "--size", "20k", "--serial", "INI-1")
    assert out.returncode == 0, out.stderr
    assert "[Device]" in (rec / "INFO.INI").read_text()
    report = ingest_json(cli, str(rec))
    assert report["profile"] == "ini-cam" and report["serial"] == "INI-1"
    assert report["totals"]["new"] == 2
    assert report["clock"]["status"] == "unknown"  # this profile cannot read the clock


def test_changed_file_times_confirmed_by_hash(home: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    rec = tmp_path / "rec"
    sim = make_recorder(rec, clips=2, size=30_000)
    ingest_json(cli, str(rec))
    os.utime(rec / sim.clips[0].rel, (1_800_000_000, 1_800_000_000))  # same bytes, new mtime
    report = ingest_json(cli, str(rec), "--verify")
    assert report["totals"]["new"] == 0
    reasons = {c["rel"]: c["reason"] for c in report["clips"]}
    assert reasons[sim.clips[0].rel] == "same content already ingested"
    with db(home) as conn:
        assert conn.execute("SELECT COUNT(*) FROM clips").fetchone()[0] == 2


def test_changed_file_times_in_a_group_are_found_by_content(home: Path, tmp_path: Path,
                                                            cli) -> None:  # type: ignore[no-untyped-def]
    """Without --verify the clips are copied in groups: the group asks once which of its
    clips' contents this recorder gave before under the same names."""
    rec = tmp_path / "rec"
    sim = make_recorder(rec, clips=5, size=30_000)
    first = ingest_json(cli, str(rec))
    ids = {c["rel"]: c["clip_id"] for c in first["clips"]}
    touched = [c.rel for c in sim.clips[:3]]
    for i, rel in enumerate(touched):  # same bytes, new times
        os.utime(rec / rel, (1_800_000_000 + i, 1_800_000_000 + i))
    copy = rec / sim.clips[0].rel
    renamed = copy.with_name("COPY_" + copy.name)  # the same bytes under another name: new
    renamed.write_bytes(copy.read_bytes())
    report = ingest_json(cli, str(rec))
    by_rel = {c["rel"]: c for c in report["clips"]}
    assert report["totals"]["new"] == 1 and report["totals"]["skipped"] == 5
    for rel in touched:
        assert by_rel[rel]["reason"] == "same content already ingested"
        assert by_rel[rel]["clip_id"] == ids[rel]
    assert by_rel[str(renamed.relative_to(rec))]["status"] == "new"
    assert by_rel[sim.clips[3].rel]["reason"] == "already ingested"


def test_verify_rereads_and_duration_falls_back_to_file_times(home: Path, tmp_path: Path,
                                                              cli) -> None:  # type: ignore[no-untyped-def]
    rec = tmp_path / "rec"
    sim = make_recorder(rec, clips=2, size=30_000, seconds=30)
    broken = rec / sim.clips[1].rel
    st = broken.stat()
    with open(broken, "r+b") as fh:  # wreck the container header, keep the times
        fh.write(b"\0" * 64)
    os.utime(broken, (st.st_atime, st.st_mtime))
    report = ingest_json(cli, str(rec), "--verify")
    assert all(c["verified"] is True for c in report["clips"])
    rows = {r["source_path"]: r for r in json.loads(cli("clips", "list", "--json").stdout)}
    assert rows[sim.clips[0].rel]["duration_source"] == "container"
    fallback = rows[sim.clips[1].rel]
    assert fallback["duration_source"] == "file-times"
    assert "duration-from-file-times" in fallback["flags"]
    assert abs(fallback["duration_seconds"] - 30) < 1


def test_dock_left_by_a_killed_process_is_closed(home: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    import socket

    with db(home) as conn:
        station = yaml.safe_load((home / "avledger.yaml").read_text())["site"]["station"]
        assert station == (socket.gethostname() or "dock-1")
        conn.execute("INSERT INTO docks (station, source, started_at, updated_at, state, pid)"
                     " VALUES (?, '/x', ?, ?, 'ingesting', 999999999)",
                     (station, iso(utcnow()), iso(utcnow())))
    rec = tmp_path / "rec"
    make_recorder(rec, clips=1, size=10_000)
    ingest_json(cli, str(rec))
    with db(home) as conn:
        row = conn.execute("SELECT state, result FROM docks WHERE pid = 999999999").fetchone()
    assert row["state"] == "interrupted" and json.loads(row["result"])["interrupted"] is True
    assert events(home, "dock.interrupted")
    # Tables say so, with the reason in the error column, also for rows an older version
    # closed as 'failed'.
    with db(home) as conn:
        conn.execute("INSERT INTO docks (station, source, started_at, updated_at, state, pid,"
                     " result) VALUES (?, '/y', ?, ?, 'failed', 999999998, ?)",
                     (station, iso(utcnow()), iso(utcnow()), '{"interrupted": true}'))
    recent = json.loads(cli("dock", "status", "--json").stdout)["recent"]
    closed = [d for d in recent if d["source"] in ("/x", "/y")]
    assert [d["state"] for d in closed] == ["interrupted", "interrupted"]
    assert all("ended without finishing" in d["result"]["error"] for d in closed)
    table = cli("dock", "status").stdout
    assert table.count("interrupted") == 2 and table.count("failed") == 1  # the header


def test_profile_commands(home: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    listing = json.loads(cli("profile", "list", "--json").stdout)
    assert {p["name"] for p in listing} >= {"generic", "fieldcam-json"}
    shown = json.loads(cli("profile", "show", "generic", "--json").stdout)
    assert shown["clips"]["timezone"] == "Asia/Shanghai"
    rec = tmp_path / "rec"
    make_recorder(rec, clips=2, bad_names=1, size=20_000, serial="CHK1")
    check = json.loads(cli("profile", "check", str(rec), "--json").stdout)
    assert check["profile"] == "generic" and check["identity"]["serial"] == "CHK1"
    assert [c["name_parsed"] for c in check["clips"]] == [True, True, False]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli("profile", "check", str(empty)).returncode == 4
    assert cli("profile", "show", "nope").returncode == 4


def test_status_counts_clips(home: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    rec = tmp_path / "rec"
    make_recorder(rec, clips=2, size=20_000, first_start=datetime.now(UTC) - timedelta(days=2))
    ingest_json(cli, str(rec))
    status = json.loads(cli("status", "--json").stdout)
    assert status["clips"]["count"] == 2 and status["clips"]["late"] == 2
    assert clip_rows(home / "data" / "catalog.db")[0]["on_time"] == 0


def test_verify_confirms_skipped_clips_by_hash(home: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    rec = tmp_path / "rec"
    sim = make_recorder(rec, clips=2, size=30_000)
    ingest_json(cli, str(rec))
    ok = ingest_json(cli, str(rec), "--verify")
    assert [c["verified"] for c in ok["clips"]] == [True, True]
    target = rec / sim.clips[1].rel  # same name, size and time; other bytes
    st = target.stat()
    with open(target, "r+b") as fh:
        fh.seek(20_000)
        fh.write(b"tampered")
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    bad = ingest_json(cli, str(rec), "--verify", code=1)
    failed = [c for c in bad["clips"] if c["status"] == "failed"]
    assert len(failed) == 1 and "content differs" in failed[0]["error"]
