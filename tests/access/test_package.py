"""Copy packages checked the way a court would: a copy of the folder elsewhere, avledger's
home deleted, nothing but ``sha256sum`` and the system Python in isolated mode. One altered
byte of a clip, one altered line of the custody excerpt, a dropped event or a rewritten
manifest each make it fail, naming the file and line; the excerpt holds no other case's
history; the package is a real copy, so tampering with it never touches the store."""

from __future__ import annotations

import html.parser
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from avledger import verifier
from tests.access.conftest import OPEN, OTHER, Office
from tests.conftest import IN_CI

SYSTEM_PYTHON = "/usr/bin/python3"


def need(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None and not Path(t).exists()]
    if missing:
        reason = f"needs {', '.join(missing)}"
        if IN_CI:
            pytest.fail(f"CI must run this test, but it {reason}")
        pytest.skip(reason)


def make_package(office: Office, out: Path, *extra: str) -> dict[str, Any]:
    req = office.ask("judicial", "copy", "--kind", "procuratorate", "--requester", "陈检察官",
                     "--unit", "新华区人民检察院", "--case", OPEN, "--documents",
                     "unit_letter,id_card", purpose="public-interest litigation review")
    return dict(office.ok("access", "fulfil", str(req["id"]), "--out", str(out), *extra))


def court_copy(office: Office, tmp_path: Path) -> tuple[dict[str, Any], Path]:
    """A package, copied to another directory, with avledger's home then deleted."""
    made = make_package(office, tmp_path / "out")
    court = tmp_path / "court" / made["package"]
    shutil.copytree(made["directory"], court)
    # The agency's published key, which the court holds from elsewhere (not from the package).
    published = office.run("ledger", "public-key")
    assert published.returncode == 0, published.stderr
    (court.parent / AGENCY_KEY).write_text(published.stdout, encoding="utf-8")
    shutil.rmtree(office.home)
    return made, court


AGENCY_KEY = "agency.pub"


def sha256sum(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True,
                          text=True)


def standalone(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The package's own verify_ledger.py under the system Python, isolated (-I): no avledger,
    no virtualenv, no PYTHONPATH."""
    env = {"PATH": "/usr/bin:/bin"}
    pinned = any(a in args for a in ("--key", "--fingerprint", "--no-key"))
    args = tuple(a for a in args if a != "--no-key")
    if not pinned and (folder.parent / AGENCY_KEY).is_file():
        args = ("--key", str(folder.parent / AGENCY_KEY), *args)
    return subprocess.run([SYSTEM_PYTHON, "-I", "verify_ledger.py", "--package", ".", *args],
                          cwd=folder, capture_output=True, text=True, env=env)


def failures(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("FAILED")]


def test_verifies_with_standard_tools_alone(office: Office, tmp_path: Path) -> None:
    need("sha256sum", SYSTEM_PYTHON)
    made, court = court_copy(office, tmp_path)
    assert not office.home.exists()
    check = sha256sum(court)
    assert check.returncode == 0, check.stdout + check.stderr
    files = sorted(p for p in court.rglob("*") if p.is_file())
    assert check.stdout.count(": OK") == len(files) - 2  # all but SHA256SUMS and B3SUMS
    result = standalone(court)
    assert result.returncode == 0, result.stdout
    assert result.stdout.splitlines()[-1].startswith("OK: every file matches")
    assert "seal: MANIFEST.json is the one sealed in event" in result.stdout
    assert f"custody excerpt: {made['ledger_events']} event(s) proved" in result.stdout
    # With neither blake3 nor cryptography importable: the pure-Python fallbacks do it.
    bare = subprocess.run(
        [SYSTEM_PYTHON, "-I", "-c", "import runpy, sys; sys.modules['blake3'] = None; "
         "sys.modules['cryptography'] = None; sys.argv = ['verify_ledger.py', '--package', "
         "'.', '--key', '../agency.pub']; runpy.run_path('verify_ledger.py', "
         "run_name='__main__')"],
        cwd=court, capture_output=True, text=True)
    assert bare.returncode == 0, bare.stdout + bare.stderr
    assert "BLAKE3 not recomputed" in bare.stdout and "OK: every file" in bare.stdout
    # The published key can be insisted on; another key is refused.
    key = (court / "ledger" / "ledger.pub").read_text().strip()
    assert standalone(court, "--key", key).returncode == 0
    other = key.split("+")[0] + "+00000000+" + key.split("+")[2]
    wrong = standalone(court, "--key", other)
    assert wrong.returncode == 1
    assert "FAILED: ledger/ledger.pub: is not the key you trust" in wrong.stdout
    # Without a trusted key everything is checked, the fingerprint shown, and the verdict
    # withheld; the fingerprint printed on the cover sheet pins the key as well.
    fp = verifier.fingerprint(key)
    unpinned = standalone(court, "--no-key")
    assert unpinned.returncode == 3, unpinned.stdout
    assert f"fingerprint {verifier.grouped(fp)}" in unpinned.stdout
    assert unpinned.stdout.splitlines()[-1].startswith("UNVERIFIED: no trusted key given")
    assert verifier.grouped(fp) in (court / "COVER.md").read_text(encoding="utf-8")
    assert standalone(court, "--fingerprint", verifier.grouped(fp)).returncode == 0
    assert standalone(court, "--fingerprint", fp[:16]).returncode == 1  # too short to trust


def test_one_byte_of_a_clip(office: Office, tmp_path: Path) -> None:
    need("sha256sum", SYSTEM_PYTHON)
    made, court = court_copy(office, tmp_path)
    victim = sorted((court / "clips").iterdir())[1]
    data = bytearray(victim.read_bytes())
    data[1234] ^= 0x01
    victim.write_bytes(bytes(data))
    name = f"clips/{victim.name}"
    check = sha256sum(court)
    assert check.returncode == 1 and f"{name}: FAILED" in check.stdout
    result = standalone(court)
    assert result.returncode == 1
    assert failures(result) == [
        f"FAILED: {name}: SHA-256 differs from SHA256SUMS (the file was changed)",
        f"FAILED: {name}: SHA-256 differs from MANIFEST.json (the file was changed)"]


def test_one_line_of_the_custody_excerpt(office: Office, tmp_path: Path) -> None:
    need(SYSTEM_PYTHON)
    made, court = court_copy(office, tmp_path)
    events = court / "ledger" / "events.jsonl"
    lines = events.read_text().splitlines()
    n = next(i for i, line in enumerate(lines) if '"clip.ingested"' in line)
    event = json.loads(lines[n])
    event["payload"]["source_path"] = "DCIM/100MEDIA/OTHER.MP4"
    lines[n] = json.dumps(event, ensure_ascii=False, sort_keys=True)
    events.write_text("\n".join(lines) + "\n")
    result = standalone(court)
    assert result.returncode == 1
    assert (f"FAILED: ledger/events.jsonl line {n + 1} (event {event['seq']}): content does not"
            " match its hash (edited)") in failures(result)
    # Hiding the edit by rehashing is caught by the proof, which names its line too.
    body = {k: event[k] for k in ("seq", "ts", "actor", "type", "subject", "payload")}
    from avledger import verifier

    event["hash"] = verifier.event_hash(event["prev_hash"], body)
    lines[n] = json.dumps(event, ensure_ascii=False, sort_keys=True)
    events.write_text("\n".join(lines) + "\n")
    result = standalone(court)
    proof_line = next(i for i, line in enumerate(
        (court / "ledger" / "proofs.jsonl").read_text().splitlines(), 1)
        if json.loads(line)["seq"] == event["seq"])
    assert failures(result) == [
        "FAILED: ledger/events.jsonl: SHA-256 differs from SHA256SUMS (the file was changed)",
        f"FAILED: ledger/proofs.jsonl line {proof_line} (event {event['seq']}): does not prove "
        f"the event is in the signed ledger of size {made['checkpoint_size']}"]


def test_dropped_event_and_rewritten_manifest(office: Office, tmp_path: Path) -> None:
    need(SYSTEM_PYTHON)
    made, court = court_copy(office, tmp_path)
    events = court / "ledger" / "events.jsonl"
    lines = events.read_text().splitlines()
    dropped = json.loads(lines[1])["seq"]
    events.write_text("\n".join(lines[:1] + lines[2:]) + "\n")
    assert (f"FAILED: ledger/events.jsonl: event {dropped} is missing (the sealed record lists "
            "it)") in failures(standalone(court))
    events.write_text("\n".join(lines) + "\n")
    # Swap a clip and rewrite MANIFEST.json and SHA256SUMS to match: the seal still knows.
    victim = sorted((court / "clips").iterdir())[0]
    victim.write_bytes(b"not the footage")
    manifest = json.loads((court / "MANIFEST.json").read_text())
    entry = next(c for c in manifest["clips"] if c["path"] == f"clips/{victim.name}")
    import hashlib

    entry["size"] = victim.stat().st_size
    entry["sha256"] = hashlib.sha256(victim.read_bytes()).hexdigest()
    (court / "MANIFEST.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
    sums = [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(court).as_posix()}"
            for p in sorted(court.rglob("*")) if p.is_file() and p.name not in ("SHA256SUMS",
                                                                                   "B3SUMS")]
    (court / "SHA256SUMS").write_text("\n".join(sums) + "\n")
    assert sha256sum(court).returncode == 0  # the standard tool alone is fooled...
    found = failures(standalone(court))  # ...the sealed record is not
    assert any("FAILED: MANIFEST.json: differs from the manifest sealed in the ledger" in f
               for f in found)
    assert f"FAILED: MANIFEST.json: clip {entry['clip']} differs from the sealed record" in \
        " ".join(found)


def test_excerpt_holds_only_this_footage(office: Office, tmp_path: Path) -> None:
    shown = office.ok("case", "show", OPEN)
    other = office.ok("case", "show", OTHER)
    # Another request on the same footage, so there is unrelated access history too.
    office.ask("case_handler", "view", "--case", OPEN, actor="handler1")
    made = make_package(office, tmp_path / "out")
    folder = Path(made["directory"])
    events = [json.loads(line) for line in
              (folder / "ledger" / "events.jsonl").read_text().splitlines()]
    subjects = {e["subject"] for e in events}
    clips = {f"clip:{c}" for c in office.clips["open"]}
    request = f"access:{int(made['package'][3:])}"
    assert subjects == clips | {f"case:{shown['id']}", request}
    text = (folder / "ledger" / "events.jsonl").read_text()
    assert OTHER not in text and f"case:{other['id']}" not in text
    assert "\"case\":" + str(other["id"]) not in text.replace(" ", "")
    types = [e["type"] for e in events if e["subject"] == request]
    assert types == ["access.requested", "access.approved", "access.package_sealed"]
    manifest = json.loads((folder / "MANIFEST.json").read_text())
    assert OTHER not in json.dumps(manifest, ensure_ascii=False)
    assert [c["clip"] for c in manifest["clips"]] == sorted(
        office.clips["open"], key=lambda c: next(x["corrected_start"] for x in shown["clips"]
                                                 if x["id"] == c))
    # The full ledger does hold OTHER's link of the shared clip; the package leaves it out.
    full = office.ok("ledger", "show", "--subject", f"clip:{office.clips['open'][0]}")
    assert any(e["payload"].get("number") == OTHER for e in full)


def test_cover_sheet_and_register(office: Office, tmp_path: Path) -> None:
    made = make_package(office, tmp_path / "out")
    folder = Path(made["directory"])
    md = (folder / "COVER.md").read_text()
    for text in ("复制件编号 Package | ACC0001", "申请人 Requester | 陈检察官（新华区人民检察院）",
                 "司法、监察等机关 judicial or supervisory body — 检察院 procuratorate",
                 "单位介绍信 unit letter、有效身份证件 ID",
                 "无需批准 not required (rule A, Art. 6)",
                 "public-interest litigation review", "Art. 6", OPEN):
        assert text in md
    manifest = json.loads((folder / "MANIFEST.json").read_text())
    for clip in manifest["clips"]:
        assert clip["sha256"] in md
    page = (folder / "COVER.html").read_text()

    class Checker(html.parser.HTMLParser):
        text = ""

        def handle_data(self, data: str) -> None:
            self.text += data

    parser = Checker()
    parser.feed(page)
    assert "陈检察官（新华区人民检察院）" in parser.text and "Approved" in parser.text
    verify = (folder / "VERIFY.txt").read_text()
    assert "sha256sum -c SHA256SUMS" in verify and "python3 verify_ledger.py --package ." in verify
    assert (folder / "ledger" / "ledger.pub").read_text().strip() in verify
    reg = office.register()[-1]
    assert reg["package"] == "ACC0001" and reg["status"] == "fulfilled"
    shown = office.ok("access", "show", "1")
    assert [e["type"] for e in shown["events"]] == [
        "access.requested", "access.approved", "access.package_sealed", "access.fulfilled"]
    assert shown["events"][-1]["payload"]["manifest_sha256"] == made["manifest_sha256"]


def test_zip_and_avledger_package_verify(office: Office, tmp_path: Path) -> None:
    made = make_package(office, tmp_path / "out", "--zip")
    assert made["zip"] and zipfile.is_zipfile(made["zip"])
    report = office.ok("package", "verify", made["zip"])
    assert report["ok"] and report["in_catalog"] and report["package"] == "ACC0001"
    with zipfile.ZipFile(made["zip"]) as zf:
        names = zf.namelist()
        assert "ACC0001/MANIFEST.json" in names and "ACC0001/verify_ledger.py" in names
        zf.extractall(tmp_path / "unzipped")
    assert office.ok("package", "verify", str(tmp_path / "unzipped" / "ACC0001"))["ok"]
    # Tampering is named by avledger too (exit 6), and the store is untouched by it.
    victim = sorted((Path(made["directory"]) / "clips").iterdir())[0]
    store_before = office.ok("store", "verify")
    assert os.stat(victim).st_nlink == 1  # a real copy, not a link into the store
    with open(victim, "r+b") as fh:
        fh.seek(100)
        byte = fh.read(1)
        fh.seek(100)
        fh.write(bytes([byte[0] ^ 0xFF]))
    line = office.refused("package", "verify", made["directory"], code=6)
    assert f"clips/{victim.name}: SHA-256 differs from SHA256SUMS" in line
    assert office.ok("store", "verify")["problems"] == store_before["problems"] == 0
    events = office.ok("ledger", "show", "--type", "access.*")
    assert events[0]["type"] == "access.fulfilled"
