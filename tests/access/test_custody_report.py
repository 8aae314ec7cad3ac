"""A clip's custody report: a clip ingested, viewed, copied into a package, burned to disc and
held has each of those events in every format; the PDF is looked at as a picture; every
inclusion proof checks with the standalone verifier under the system Python, and one edited
event or proof fails; who may not read the report is refused, and making it is in the ledger."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from avledger import verifier
from tests.access.conftest import OPEN, SECRET, Office
from tests.access.test_package import SYSTEM_PYTHON, make_package, need

# What the brief asks to see, by ledger event type.
MUST = {
    "ingested": "clip.ingested",
    "tagged": "clip.tagged",
    "viewed": "access.viewing_started",
    "copied into a package": "access.package_sealed",
    "handed over": "access.fulfilled",
    "burned to disc": "archive.created",
    "held": "hold.placed",
    "linked to its case": "clip.linked",
    "report made": "clip.custody_reported",
}
CLERK = {"badge": "0007", "name": "Clerk Cao", "unit": "Equipment desk", "os_user": "clerk1",
         "roles": ["clerk"]}


def lived(office: Office, tmp_path: Path) -> int:
    """One clip of case OPEN: tagged, viewed, copied into a package, burned to disc and held."""
    need("xorriso")
    clip = office.clips["open"][0]
    office.ok("clips", "tag", str(clip), "--step", "seizure", "--tag", "投诉",
              "--note", "查封排污口现场")
    view = office.ask("case_handler", "view", "--case", OPEN, actor="handler1")
    result = office.run("access", "fulfil", str(view["id"]), actor="handler1")
    assert result.returncode == 0, result.stderr
    make_package(office, tmp_path / "packages")
    office.ok("archive", "create", "--case", OPEN, "--copies", "1", "--media", "700M",
              "--out", str(tmp_path / "discs"))
    office.ok("hold", "place", "--clip", str(clip), "--reason", "complaint",
              "--note", "当事人投诉")
    return clip


def report(office: Office, clip: int, fmt: str, out: Path, *extra: str,
           actor: str | None = None) -> Path:
    result = office.run("clips", "custody", str(clip), "--format", fmt, "--output", str(out),
                        *extra, actor=actor)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def system_verifier(report_path: Path, key: Path) -> subprocess.CompletedProcess[str]:
    """The court's own copy of the verifier, under the system Python, isolated."""
    own = report_path.parent / "verify_ledger.py"
    shutil.copyfile(verifier.__file__, own)
    return subprocess.run([SYSTEM_PYTHON, "-I", str(own), "--custody", str(report_path),
                           "--key", str(key)], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin"})


def agency_key(office: Office, folder: Path) -> Path:
    published = office.run("ledger", "public-key")
    assert published.returncode == 0, published.stderr
    path = folder / "agency.pub"
    path.write_text(published.stdout, encoding="utf-8")
    return path


def test_every_event_in_every_format_and_each_proof_checks(office: Office,
                                                           tmp_path: Path) -> None:
    need(SYSTEM_PYTHON)
    clip = lived(office, tmp_path)
    data = json.loads(report(office, clip, "json", tmp_path / "c.json").read_text())
    types = [e["type"] for e in data["evidence"]["events"]]
    for what, event in MUST.items():
        assert event in types, f"{what}: {event} missing from {types}"
    seqs = [e["seq"] for e in data["evidence"]["events"]]
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))
    # Other footage's history stays out: every event names this clip or what it belongs to.
    others = set(office.clips["secret"] + office.clips["state"] + office.clips["loose"])
    assert not {f"clip:{c}" for c in others} & {e["subject"] for e in data["evidence"]["events"]}
    identity = next(s for s in data["sections"] if s["key"] == "custody_identity")
    assert len(identity["figures"]["sha256"]) == 64
    assert identity["figures"]["blake3"] == data["evidence"]["blake3"]

    md = report(office, clip, "md", tmp_path / "c.md", "--lang", "zh").read_text()
    html = report(office, clip, "html", tmp_path / "c.html", "--lang", "en").read_text()
    for event in MUST.values():
        assert event in md and event in html, event
    assert "执法音像记录保管链报告" in md and "刻录光盘" in md
    assert "-----BEGIN AVLEDGER CHECKPOINT-----" in html

    need("chromium", "pdftoppm", "pdftotext")
    pdf = report(office, clip, "pdf", tmp_path / "c.pdf", "--lang", "zh")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    for event in MUST.values():
        assert event in text, event
    looks_like_a_page(pdf, tmp_path)

    key = agency_key(office, tmp_path)
    checked = system_verifier(tmp_path / "c.json", key)
    assert checked.returncode == 0, checked.stdout
    assert checked.stdout.splitlines()[-1].startswith("OK: every custody event")
    assert f"custody events: {len(seqs)} proved" in checked.stdout


def test_a_tampered_event_or_proof_fails(office: Office, tmp_path: Path) -> None:
    need(SYSTEM_PYTHON)
    clip = office.clips["open"][1]
    office.ok("hold", "place", "--clip", str(clip), "--reason", "complaint", "--note", "投诉")
    original = json.loads(report(office, clip, "json", tmp_path / "c.json").read_text())
    key = agency_key(office, tmp_path)
    assert system_verifier(tmp_path / "c.json", key).returncode == 0

    def fails(change: Any, name: str) -> str:
        data = json.loads(json.dumps(original))
        change(data)
        path = tmp_path / name
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        result = system_verifier(path, key)
        assert result.returncode == 1, result.stdout
        return "\n".join(line for line in result.stdout.splitlines()
                         if line.startswith("FAILED"))

    held = next(i for i, e in enumerate(original["evidence"]["events"])
                if e["type"] == "hold.placed")
    seq = original["evidence"]["events"][held]["seq"]

    def edit_event(d: Any) -> None:
        d["evidence"]["events"][held]["payload"]["reason"] = "other"

    assert f"event {seq}" in fails(edit_event, "edited.json")
    assert "content does not match its hash" in fails(edit_event, "edited2.json")

    def rehash(d: Any) -> None:  # edited and re-hashed: the proof no longer leads to the root
        ev = d["evidence"]["events"][held]
        ev["payload"]["reason"] = "other"
        ev["hash"] = verifier.event_hash(ev["prev_hash"], ev)

    assert f"event {seq}" in fails(rehash, "rehashed.json")

    def edit_proof(d: Any) -> None:
        proof = next(p for p in d["evidence"]["proofs"] if p["seq"] == seq)
        proof["proof"][0] = "00" * 32

    assert "does not prove the event" in fails(edit_proof, "proof.json")

    def drop(d: Any) -> None:  # printed in the table, but its proved record removed
        del d["evidence"]["events"][held]

    assert "printed but not proved" in fails(drop, "dropped.json")


def test_pdf_in_english_looks_like_a_report(office: Office, tmp_path: Path) -> None:
    need("chromium", "pdftoppm")
    pdf = report(office, office.clips["open"][2], "pdf", tmp_path / "c.pdf", "--lang", "en")
    looks_like_a_page(pdf, tmp_path)


def looks_like_a_page(pdf: Path, tmp_path: Path) -> None:
    """The first page, rendered to pixels, is a printed page: not blank."""
    assert pdf.read_bytes().startswith(b"%PDF")
    subprocess.run(["pdftoppm", "-gray", "-r", "40", "-f", "1", "-l", "1", str(pdf),
                    str(tmp_path / "page")], check=True, capture_output=True)
    page = next(tmp_path.glob("page*.pgm"))
    width, height, pixels = read_pgm(page.read_bytes())
    dark = sum(1 for p in pixels if p < 200)
    assert width > 200 and height > 200
    assert dark > 0.01 * width * height, f"page 1 is nearly blank: {dark} dark pixels"
    page.unlink()


def read_pgm(data: bytes) -> tuple[int, int, bytes]:
    """A binary PGM (P5, 8 bit) as pdftoppm -gray writes it."""
    fields: list[bytes] = []
    pos = 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    assert fields[0] == b"P5" and fields[3] == b"255"
    width, height = int(fields[1]), int(fields[2])
    return width, height, data[pos + 1:pos + 1 + width * height]


def test_who_may_read_it(office: Office, tmp_path: Path) -> None:
    path = office.home / "avledger.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["personnel"].append(CLERK)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    secret = office.clips["secret"][0]
    before = office.ok("ledger", "show", "--subject", f"clip:{secret}")
    register = office.register()
    # Not on the roster: refused, one line, nothing recorded.
    line = office.refused("clips", "custody", str(secret), "--format", "json",
                          actor="stranger")
    assert "not on the roster" in line
    # A clerk, for footage of a commercial-secret case they do not handle: refused.
    line = office.refused("clips", "custody", str(secret), "--format", "json", actor="clerk1")
    assert SECRET in line and "commercial-secret" in line
    assert office.ok("ledger", "show", "--subject", f"clip:{secret}") == before
    # The case's handler and an auditor may; each report made is a ledger event.
    report(office, secret, "json", tmp_path / "h.json", actor="handler1")
    report(office, secret, "json", tmp_path / "a.json", actor="staff1")
    made = office.ok("ledger", "show", "--subject", f"clip:{secret}", "--type",
                     "clip.custody_reported")
    assert sorted(e["actor"] for e in made) == ["0003:handler1", "0004:staff1"]
    # The clerk may read the report of footage with no confidentiality.
    report(office, office.clips["open"][0], "json", tmp_path / "o.json", actor="clerk1")
    # It is no look-up of the footage: the access register gains no entry.
    assert office.register() == register
    # A PDF with nowhere to go, or a folder named as the file: one line, nothing recorded.
    for args in (("--format", "pdf"), ("--format", "json", "--output", str(tmp_path))):
        result = office.run("clips", "custody", str(secret), *args, actor="handler1")
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, args
    assert len(office.ok("ledger", "show", "--subject", f"clip:{secret}", "--type",
                         "clip.custody_reported")) == 2
    # A clip that does not exist is 'not found' (exit 4), not a refusal.
    result = office.run("clips", "custody", "9999", "--format", "json")
    assert result.returncode == 4 and len(result.stderr.strip().splitlines()) == 1


def test_a_docked_clip_shows_its_docking_and_the_clock_behind_its_times(  # type: ignore[no-untyped-def]
        home: Path, tmp_path: Path, cli) -> None:
    from datetime import timedelta

    from avledger.core.simulate.recorder import write_clock_file
    from avledger.timestamps import utcnow
    from tests.recorder_tools import profile

    rec = tmp_path / "SIM0001"
    assert cli("device", "add", "SIM0001", "--model", "Generic BWR").returncode == 0
    assert cli("simulate", "recorder", str(rec), "--drift", "5", "--clips", "1",
               "--size", "64k").returncode == 0
    docked = write_clock_file(rec, profile(), 5.0, now=utcnow() - timedelta(seconds=20))
    assert docked is not None
    got = cli("ingest", str(rec), "--docked-at", docked.isoformat(), "--json")
    assert got.returncode == 0, got.stderr
    clip = json.loads(cli("clips", "list", "--json").stdout)[0]["id"]
    result = cli("clips", "custody", str(clip), "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    types = [e["type"] for e in data["evidence"]["events"]]
    for event in ("dock.started", "clock.measured", "clip.ingested", "dock.finished"):
        assert event in types, types
    times = next(s for s in data["sections"] if s["key"] == "custody_times")
    clock = times["tables"]["clock"]
    cols = clock["columns"]
    dock_row = next(r for r in clock["rows"] if r[cols.index("source")] == "dock")
    assert dock_row[cols.index("reference")] == "given"
    assert dock_row[cols.index("drift")].startswith("+5.0")
    measured = next(e for e in data["evidence"]["events"] if e["type"] == "clock.measured")
    assert measured["payload"]["id"] == dock_row[cols.index("measurement")]


def test_the_report_is_a_receipt(office: Office, tmp_path: Path) -> None:
    """'ledger verify --against' reads the JSON edition's checkpoint and event hashes."""
    clip = office.clips["open"][0]
    report(office, clip, "json", tmp_path / "c.json")
    report(office, clip, "md", tmp_path / "c.md")
    checked = office.ok("ledger", "verify", "--against", str(tmp_path / "c.json"),
                        "--against", str(tmp_path / "c.md"))
    assert checked["ok"] and any("2 receipt(s)" in n for n in checked["notes"]), checked
