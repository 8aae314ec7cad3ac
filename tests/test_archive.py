"""Archive discs: two copies spanning two discs, read back with standard tools, a flipped bit
named, labels that render, burning through xorriso -outdev, the disc catalog."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from avledger.core.app import Avledger
from avledger.core.archive import iso
from avledger.core.archive.excerpt import check_excerpt
from avledger.core.archive.register import list_discs, verify_disc
from avledger.core.archive.verify import read_disc
from avledger.core.cases import registry as cases
from avledger.core.retention import holds
from avledger.timestamps import utcnow
from tests.conftest import IN_CI
from tests.factories import ClipSpec, insert_clips

CASE = "平环罚〔2026〕12号"
NAME = "平顶山某某化工有限公司超标排放大气污染物案"


def need(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        reason = f"needs {', '.join(missing)} (run 'make test' as root to install them)"
        if IN_CI:
            pytest.fail(f"CI must run this test, but it {reason}")
        pytest.skip(reason)


def case_footage(app: Avledger, n: int = 12, size: int = 400_000) -> list[int]:
    now = utcnow()
    ids = insert_clips(app, [ClipSpec("TC0001", f"DCIM/100MEDIA/V{i:04d}.MP4", os.urandom(size),
                                      now - timedelta(days=3, minutes=10 * (n - i)),
                                      now - timedelta(days=2)) for i in range(n)])
    cases.add_case(app, number=CASE, name=NAME, enforcement_type="penalty", handlers=["0001"],
                   confidentiality="commercial-secret", now=now)
    cases.link_clips(app, CASE, ids, now=now)
    holds.place_hold(app, holds.HoldTarget(case=CASE), reason="complaint",
                     note="party objected on site", now=now)
    return ids


def ok_json(result):  # type: ignore[no-untyped-def]
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def made_set(cli, app: Avledger, tmp_path: Path) -> dict:  # type: ignore[no-untyped-def,type-arg]
    need("xorriso")
    case_footage(app)
    return ok_json(cli("archive", "create", "--case", CASE, "--copies", "2", "--media", "3M",
                       "--out", str(tmp_path / "out"), "--json"))


def extract_all(image: str, dest: Path) -> Path:
    subprocess.run(["xorriso", "-osirrox", "on", "-indev", image, "-extract", "/", str(dest)],
                   check=True, capture_output=True)
    for path in [dest, *dest.rglob("*")]:  # the disc's files are read-only; let us tidy up
        path.chmod(0o755 if path.is_dir() else 0o644)
    return dest


def test_two_copies_spanning_two_discs_verify(cli, app: Avledger, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    made = made_set(cli, app, tmp_path)
    assert made["copies"] == 2 and made["discs_per_copy"] == 2
    images = made["images"]
    assert [(i["copy"], i["disc"]) for i in images] == [(1, 1), (1, 2), (2, 1), (2, 2)]
    assert all(i["size"] <= 3 * 1024 * 1024 and i["verified"] for i in images)
    assert {i["volume_id"] for i in images} == {"AVL0001_C1_D1OF2", "AVL0001_C1_D2OF2",
                                                 "AVL0001_C2_D1OF2", "AVL0001_C2_D2OF2"}
    # The two discs of a copy hold every clip exactly once; both copies hold the same.
    for copy in (1, 2):
        clips = [c for i in images if i["copy"] == copy for c in i["clips"]]
        assert sorted(clips) == sorted(set(clips)) and len(clips) == 12
    report = ok_json(cli("archive", "verify", *[i["image"] for i in images], "--json"))
    assert [r["ok"] for r in report] == [True] * 4
    assert all(r["in_catalog"] and r["ledger_events"] > 12 for r in report)
    assert sum(r["files_checked"] for r in report) == 4 * 9 + 2 * 12  # 9 set files a disc
    listed = ok_json(cli("archive", "list", "--json"))
    assert len(listed) == 4 and all(r["last_verify_ok"] == 1 for r in listed)
    events = json.loads(cli("ledger", "show", "--type", "archive.*", "--json").stdout)
    assert sorted(e["type"] for e in events) == ["archive.created"] + ["archive.verified"] * 4
    created = next(e for e in events if e["type"] == "archive.created")
    assert created["payload"]["manifest_sha256"] == made["manifest_sha256"]


def test_standard_tools_read_the_disc(cli, app: Avledger, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    made = made_set(cli, app, tmp_path)
    need("sha256sum", "b3sum")
    image = made["images"][0]["image"]
    found = subprocess.run(["xorriso", "-indev", image, "-find", "/", "-type", "f"],
                           capture_output=True, text=True, check=True).stdout
    for name in ("'/MANIFEST.json'", "'/SHA256SUMS'", "'/README.txt'", "'/DISC.json'",
                 "'/ledger/events.jsonl'", "'/clips/000001_TC0001_V0000.MP4'"):
        assert name in found
    root = extract_all(image, tmp_path / "x")
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=root, capture_output=True,
                           text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    files = [p for p in root.rglob("*") if p.is_file()]
    assert check.stdout.count(": OK") == len(files) - 2  # all but SHA256SUMS and B3SUMS
    assert subprocess.run(["b3sum", "-c", "B3SUMS"], cwd=root, capture_output=True).returncode == 0
    manifest_sha = subprocess.run(["sha256sum", "MANIFEST.json"], cwd=root, capture_output=True,
                                  text=True).stdout.split()[0]
    assert manifest_sha == made["manifest_sha256"]
    manifest = json.loads((root / "MANIFEST.json").read_text())
    assert manifest["title"] == f"{NAME}（{CASE}）"
    assert manifest["hold_reasons"] == ["complaint"]
    on_disc = [c for c in manifest["clips"] if c["disc"] == 1]
    for c in on_disc:
        data = (root / c["path"]).read_bytes()
        assert len(data) == c["size"] and app.store.exists(c["blake3"])
    assert check_excerpt(root, app.public_key()) == []
    disc = json.loads((root / "DISC.json").read_text())
    assert (disc["copy"], disc["disc"], disc["discs"]) == (1, 1, 2)
    # A forged event in the excerpt is caught.
    events = (root / "ledger/events.jsonl").read_text().splitlines()
    forged = json.loads(events[0])
    forged["payload"]["size"] = 1
    events[0] = json.dumps(forged)
    (root / "ledger/events.jsonl").write_text("\n".join(events) + "\n")
    assert "does not match its hash" in check_excerpt(root, app.public_key())[0]


def flip_bit_in(image: Path, iso_path: str, offset: int = 1000) -> None:
    out = subprocess.run(["xorriso", "-indev", str(image), "-find", "/" + iso_path,
                          "-exec", "report_lba", "--"], capture_output=True, text=True,
                         check=True).stdout
    lba = int(re.search(r"File data lba:\s*\d+\s*,\s*(\d+)", out).group(1))  # type: ignore[union-attr]
    with open(image, "r+b") as fh:
        fh.seek(lba * 2048 + offset)
        byte = fh.read(1)[0]
        fh.seek(lba * 2048 + offset)
        fh.write(bytes([byte ^ 0x10]))


def test_one_flipped_bit_is_named(cli, app: Avledger, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    made = made_set(cli, app, tmp_path)
    image = Path(made["images"][3]["image"])  # copy 2, disc 2
    manifest = json.loads((Path(made["out_dir"]) / "MANIFEST.json").read_text())
    victim = next(c["path"] for c in manifest["clips"] if c["disc"] == 2)
    flip_bit_in(image, victim)
    bad = cli("archive", "verify", str(image), "--json")
    assert bad.returncode == 6
    problems = json.loads(bad.stdout)[0]["problems"]
    assert {p["path"] for p in problems} == {victim, "(whole image)"}
    assert "SHA-256 does not match" in next(p["problem"] for p in problems
                                            if p["path"] == victim)
    lines = bad.stderr.strip().splitlines()
    assert len(lines) == 1 and "failed verification" in lines[0]
    table = cli("archive", "verify", str(image))
    assert victim in table.stdout.replace("\n", "") or victim.split("/")[-1][:20] in table.stdout
    # The other copy of the same disc is intact.
    assert ok_json(cli("archive", "verify", made["images"][1]["image"], "--json"))[0]["ok"]
    row = next(r for r in ok_json(cli("archive", "list", "--json"))
               if (r["copy_no"], r["disc_no"]) == (2, 2))
    assert row["last_verify_ok"] == 0 and victim in row["last_verify_detail"]
    # sha256sum alone names the same file.
    need("sha256sum")
    root = extract_all(str(image), tmp_path / "flipped")
    check = subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=root,
                           capture_output=True, text=True)
    assert check.returncode == 1 and check.stdout.strip() == f"{victim}: FAILED"


def test_label_renders_with_chinese_text(cli, app: Avledger, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    made = made_set(cli, app, tmp_path)
    need("rsvg-convert", "fc-list")
    if not subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout:
        need("a CJK font (fonts-wqy-zenhei)")
    svg_path, pdf_path = map(Path, made["images"][2]["labels"])
    assert pdf_path.suffix == ".pdf" and pdf_path.read_bytes().startswith(b"%PDF")
    svg = svg_path.read_text(encoding="utf-8")
    for needed in ("制作单位", "制作人", "制作时间", "执法活动或者案件名称及编号",
                   "第 2 份（共 2 份）", "第 1 张（共 2 张）", "Desk Clerk（0001）",
                   made["manifest_sha256"][:32], made["manifest_sha256"][32:],
                   "当事人有异议、可能引起投诉", "AVL0001_C2_D1OF2"):
        assert needed in svg, needed
    assert "平环罚" in svg and "12号" in svg
    png = tmp_path / "label.png"
    subprocess.run(["rsvg-convert", "-f", "png", "-w", "900", "-o", str(png), str(svg_path)],
                   check=True)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(data[16:20], "big") == 900
    shutil.copy(png, Path(os.environ.get("AVLEDGER_LABEL_PREVIEW", tmp_path / "keep.png")))


def test_burn_uses_xorriso_outdev(cli, app: Avledger, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    need("xorriso")
    stage = tmp_path / "stage"
    cmd = iso.burn_command(stage, "/dev/sr0", "AVL0007_C1_D1OF1")
    assert cmd[0].endswith("xorriso")
    tail = cmd[cmd.index("-outdev"):]
    assert tail[:4] == ["-outdev", "/dev/sr0", "-blank", "as_needed"]
    assert tail[-3:] == ["-close", "on", "-commit"]  # read back first, then ejected
    assert iso.eject_command("/dev/sr0")[-4:] == ["-outdev", "/dev/sr0", "-eject", "all"]
    assert ["-map", str(stage), "/"] == tail[tail.index("-map"):tail.index("-map") + 3]
    assert "-joliet" in tail and "-rockridge" in tail and "AVL0007_C1_D1OF1" in tail
    # No drive here: a missing one is refused before anything is made.
    case_footage(app, n=2, size=10_000)
    gone = cli("archive", "create", "--case", CASE, "--out", str(tmp_path / "o"),
               "--burn", "/dev/sr9")
    assert gone.returncode == 8 and "no drive at /dev/sr9" in gone.stderr
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())
    assert app.catalog.conn.execute("SELECT COUNT(*) FROM archive_sets").fetchone()[0] == 0
    # The same path, aimed at xorriso's file pseudo-drive: burned, read back, verified.
    burned = tmp_path / "burned.iso"
    made = ok_json(cli("archive", "create", "--case", CASE, "--copies", "1", "--out",
                       str(tmp_path / "o"), "--burn", f"stdio:{burned}", "--yes", "--json"))
    assert made["images"][0]["burned_to"] == f"stdio:{burned}" and made["images"][0]["verified"]
    report = read_disc(str(burned))
    assert report.ok and report.files_checked == 11 and report.volume_id == "AVL0001_C1_D1OF1"
    row = ok_json(cli("archive", "list", "--json"))[0]
    assert row["burned_device"] == f"stdio:{burned}" and row["burned_at"]
    # What was burned is the same content as the image file: same manifest, same clips.
    extract_all(made["images"][0]["image"], stage)
    assert sorted(iso.list_files(str(burned))) == sorted(
        str(p.relative_to(stage)) for p in stage.rglob("*") if p.is_file())


def test_catalog_locations_and_due_verification(cli, app: Avledger, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    made = made_set(cli, app, tmp_path)
    ok_json(cli("archive", "copy", "set-location", "1", "2", "--location", "档案室 B 柜 3 层",
                "--json"))
    one = cli("archive", "copy", "set-location", "9", "1", "--location", "x")
    assert one.returncode == 4 and "no archive set 9" in one.stderr
    rows = ok_json(cli("archive", "list", "--json"))
    assert [r["location"] for r in rows] == [None, None, "档案室 B 柜 3 层", "档案室 B 柜 3 层"]
    assert ok_json(cli("archive", "list", "--due-verify", "--json")) == []
    conn = app.catalog.conn
    later = utcnow() + timedelta(days=731)
    due = list_discs(conn, now=later, verify_days=730, due_only=True)
    assert len(due) == 4
    verify_disc(app, made["images"][0]["image"], now=later)
    due = list_discs(conn, now=later, verify_days=730, due_only=True)
    assert [(r["copy_no"], r["disc_no"]) for r in due] == [(1, 2), (2, 1), (2, 2)]
    shown = ok_json(cli("archive", "show", "1", "--json"))
    assert len(shown["clip_ids"]) == 12 and shown["manifest_sha256"] == made["manifest_sha256"]
    assert json.loads(cli("ledger", "show", "--type", "archive.located", "--json").stdout)


def test_selection_by_hold_and_clips(cli, app: Avledger, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    need("xorriso")
    ids = case_footage(app, n=4, size=5000)
    hold = holds.place_hold(app, holds.HoldTarget(clips=(ids[0], ids[1])), reason="obstruction",
                            note="XX厂现场检查受阻 2026-05-04", now=utcnow())
    by_hold = ok_json(cli("archive", "create", "--hold", str(hold["id"]), "--out",
                          str(tmp_path / "o"), "--json"))
    assert by_hold["title"] == "XX厂现场检查受阻 2026-05-04" and by_hold["discs_per_copy"] == 1
    assert sorted(by_hold["images"][0]["clips"]) == ids[:2]
    no_title = cli("archive", "create", "--clip", str(ids[2]), "--out", str(tmp_path / "o"))
    assert no_title.returncode == 5 and "--title" in no_title.stderr
    dry = ok_json(cli("archive", "create", "--clip", str(ids[2]), "--clip", str(ids[3]),
                      "--title", "日常巡查", "--out", str(tmp_path / "o"), "--dry-run", "--json"))
    assert dry["dry_run"] and dry["clips"] == 2 and dry["discs_per_copy"] == 1
    assert app.catalog.conn.execute("SELECT COUNT(*) FROM archive_sets").fetchone()[0] == 1
    tiny = cli("archive", "create", "--case", CASE, "--media", "1M", "--out",
               str(tmp_path / "o"))
    assert tiny.returncode == 0, tiny.stderr  # 4 small clips fit on the smallest media
    big = insert_clips(app, [ClipSpec("TC0001", "DCIM/BIG.MP4", os.urandom(1_200_000),
                                      utcnow() - timedelta(days=1), utcnow())])
    refused = cli("archive", "create", "--clip", str(big[0]), "--title", "t", "--media", "1M",
                  "--out", str(tmp_path / "o"))
    assert refused.returncode == 5 and "does not fit on one disc" in refused.stderr


def test_failure_leaves_no_set(app: Avledger, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    need("xorriso")
    from avledger.core.archive import build
    from avledger.core.archive.selection import select
    from avledger.errors import StorageError

    case_footage(app)
    real = iso.build_image
    calls = []

    def fail_third(stage: Path, image: Path, volume_id: str) -> None:
        calls.append(volume_id)
        if len(calls) == 3:
            raise StorageError("store disk is full while writing an image")
        real(stage, image, volume_id)

    monkeypatch.setattr(iso, "build_image", fail_third)
    sel = select(app.catalog.conn, case=CASE)
    with pytest.raises(StorageError):
        build.create_archive(app, sel, media_name="3M", copies=2, out_dir=tmp_path / "o",
                             now=utcnow())
    assert app.catalog.conn.execute("SELECT COUNT(*) FROM archive_sets").fetchone()[0] == 0
    assert not (tmp_path / "o" / "AVL0001").exists()
    assert app.catalog.conn.execute("SELECT COUNT(*) FROM ledger WHERE type LIKE 'archive.%'"
                                    ).fetchone()[0] == 0
