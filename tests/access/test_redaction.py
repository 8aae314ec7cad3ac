"""Redacted disclosure end to end, on a real H.264 clip of a case: a party's request with a
redaction spec is fulfilled only with the redacted version, after the approval the policy
asks for; a court's copy package verifies with the standalone verifier, says what was hidden
and why per range, and re-rendering the original with the package's own command gives the
same frames. The redaction is held with its original and purged with it."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import blake3
import yaml

from avledger.config import loader
from avledger.core.app import Avledger
from avledger.core.cases import registry as cases
from avledger.timestamps import utcnow
from tests.access.conftest import OPEN, Office
from tests.access.test_package import AGENCY_KEY, SYSTEM_PYTHON, need, standalone
from tests.factories import ClipSpec, insert_clips
from tests.mediatools import framemd5, gray_frames, make_clip, region_diff

SPEC = {"operations": [
    {"op": "blur", "from": 1, "to": 3, "rect": {"x": 40, "y": 30, "w": 80, "h": 60},
     "reason": "个人隐私"},
    {"op": "mute", "from": 1, "to": 2, "reason": "商业秘密"},
]}


def add_real_clip(office: Office, tmp_path: Path, *, days_ago: float = 2,
                  case: str | None = OPEN) -> tuple[int, Path]:
    original = make_clip(tmp_path / "orig.mp4")
    app = Avledger.open(loader.load())
    try:
        now = utcnow()
        [clip] = insert_clips(app, [ClipSpec("TC0009", "DCIM/100MEDIA/REAL0001.MP4",
                                             original.read_bytes(),
                                             now - timedelta(days=days_ago),
                                             now - timedelta(days=days_ago) + timedelta(hours=1),
                                             duration=4)])
        if case is not None:
            cases.link_clips(app, case, [clip], now=now)
    finally:
        app.close()
    return clip, original


def write_spec(tmp_path: Path, data: dict[str, Any] = SPEC) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def set_redaction_approval(office: Office, mode: str) -> None:
    path = office.home / "avledger.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc.setdefault("access", {})["redaction"] = {"approval": mode}
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


def object_path(office: Office, digest: str) -> Path:
    return office.home / "data" / "store" / "objects" / digest[:2] / digest[2:4] / digest


def test_party_views_only_the_redacted_version_after_approval(office: Office,
                                                              tmp_path: Path) -> None:
    clip, original = add_real_clip(office, tmp_path)
    spec = write_spec(tmp_path)
    req = office.ask("party", "view", "--requester", "张经理", "--case", OPEN, "--documents",
                     "unit_letter,id_card", "--redaction", f"{clip}={spec}")
    assert req["status"] == "pending"
    assert [r["clip"] for r in req["redactions"]] == [clip]
    seen = tmp_path / "seen"
    seen.mkdir()
    player = f"sh -c {shlex.quote(f'cat > {seen}/$AVLEDGER_CLIP')}"
    line = office.refused("access", "fulfil", str(req["id"]), "--player", player)
    assert "awaits the principal leader's approval" in line
    office.ok("access", "approve", str(req["id"]), actor="leader")
    planned = office.ok("access", "fulfil", str(req["id"]), "--dry-run")
    assert planned["redacted"] == [clip]
    result = office.run("access", "fulfil", str(req["id"]), "--player", player, "--json")
    assert result.returncode == 0, result.stderr
    shown = (seen / str(clip)).read_bytes()
    assert shown != original.read_bytes()
    details = office.ok("clips", "show", str(clip))
    [red] = details["redactions"]
    assert blake3.blake3(shown).hexdigest() == red["blake3"]
    assert red["original_blake3"] == blake3.blake3(original.read_bytes()).hexdigest()
    assert object_path(office, red["original_blake3"]).read_bytes() == original.read_bytes()
    made = [e for e in details["events"] if e["type"] == "clip.redacted"]
    assert made[0]["payload"]["filter_graph"] == red["filter_graph"]
    assert made[0]["payload"]["spec"]["blake3"] == red["spec_blake3"]
    assert made[0]["payload"]["ffmpeg"].startswith("ffmpeg version")
    # the other clips of the case, without a spec, were shown as stored
    assert {p.name for p in seen.iterdir()} == {str(c) for c in [*office.clips["open"], clip]}
    # the access register says the clip was seen redacted, and why (never what was hidden)
    [line] = [r for r in office.register() if r["no"] == req["id"]]
    assert line["redacted"] == [clip]
    assert f"遮蔽处理 redacted: {clip} (个人隐私、商业秘密)" in line["scope"]
    others = [r for r in office.register() if r["no"] != req["id"]]
    assert all(r["redacted"] == [] and "遮蔽" not in r["scope"] for r in others)
    csv_text = office.run("access", "register", "--format", "csv").stdout
    assert f"遮蔽处理 redacted: {clip} (个人隐私、商业秘密)" in csv_text


def test_court_package_is_redacted_verifiable_and_re_renders(office: Office,
                                                             tmp_path: Path) -> None:
    need("sha256sum", SYSTEM_PYTHON)
    clip, original = add_real_clip(office, tmp_path)
    set_redaction_approval(office, "leader")
    spec = write_spec(tmp_path)
    req = office.ask("judicial", "copy", "--kind", "court", "--requester", "李法官", "--unit",
                     "新华区人民法院", "--clip", str(clip), "--documents", "unit_letter,id_card",
                     "--redaction", str(spec), purpose="administrative litigation")
    assert req["status"] == "pending"  # a court needs no approval, but the redaction does
    office.ok("access", "approve", str(req["id"]), actor="leader")
    made = office.ok("access", "fulfil", str(req["id"]), "--out", str(tmp_path / "out"))
    court = tmp_path / "court" / made["package"]
    shutil.copytree(made["directory"], court)
    # the agency's published key, which the court holds from elsewhere (not from the package)
    published = office.run("ledger", "public-key")
    assert published.returncode == 0, published.stderr
    (court.parent / AGENCY_KEY).write_text(published.stdout, encoding="utf-8")

    manifest = json.loads((court / "MANIFEST.json").read_text(encoding="utf-8"))
    [entry] = manifest["clips"]
    packaged = court / entry["path"]
    assert packaged.read_bytes() != original.read_bytes()
    red = entry["redaction"]
    assert red["original_blake3"] == blake3.blake3(original.read_bytes()).hexdigest()
    assert [(o["op"], o["from"], o["to"], o["reason"]) for o in red["operations"]] == [
        ("blur", 1.0, 3.0, "personal-privacy"), ("mute", 1.0, 2.0, "commercial-secret")]
    cover = (court / "COVER.md").read_text(encoding="utf-8")
    assert "遮蔽处理 / Redactions" in cover
    assert "1–3 | 局部模糊 blurred area | 个人隐私 personal privacy" in cover
    assert "1–2 | 静音 muted | 商业秘密 trade secret" in cover

    result = standalone(court)
    assert result.returncode == 0, result.stdout
    assert (f"redaction: clip {clip} = original {red['original_blake3']} -> spec "
            f"{red['spec']['blake3']} -> redacted {entry['blake3']}") in result.stdout

    # a court with the original and ffmpeg re-renders it with the package's own command
    work = tmp_path / "rerender"
    work.mkdir()
    shutil.copy(original, work / "ORIGINAL.mp4")
    subprocess.run(red["command"], cwd=work, check=True, capture_output=True)
    assert framemd5(work / "REDACTED.mp4") == framemd5(packaged)
    before, after = gray_frames(original), gray_frames(packaged)
    assert region_diff(before[50], after[50], (40, 30, 80, 60), inside=True) > 8
    spec_bytes = (court / red["spec"]["path"]).read_bytes()
    assert blake3.blake3(spec_bytes).hexdigest() == red["spec"]["blake3"]

    # a package whose clip is swapped for the unredacted original no longer verifies
    os.chmod(packaged, 0o644)
    shutil.copy(original, packaged)
    failed = standalone(court)
    assert failed.returncode == 1
    assert any("differs from MANIFEST.json" in ln or "differs from SHA256SUMS" in ln
               for ln in failed.stdout.splitlines())


def test_policy_approves_the_redaction_with_a_request_it_approves(office: Office,
                                                                 tmp_path: Path) -> None:
    clip, _ = add_real_clip(office, tmp_path)
    spec = write_spec(tmp_path)
    req = office.ask("judicial", "copy", "--kind", "court", "--requester", "李法官", "--unit",
                     "新华区人民法院", "--clip", str(clip), "--documents", "unit_letter,id_card",
                     purpose="administrative litigation")
    assert req["status"] == "approved" and req["decided_by"] == "policy"
    attached = office.ok("access", "redact", str(req["id"]), str(spec))
    assert attached["status"] == "approved"  # the default: the same approvers as the request
    party = office.ask("party", "view", "--requester", "张经理", "--case", OPEN, "--documents",
                       "unit_letter,id_card")
    office.ok("access", "approve", str(party["id"]), actor="leader")
    again = office.ok("access", "redact", str(party["id"]), f"{clip}={spec}")
    assert again["status"] == "pending"  # the leader approved a different disclosure
    line = office.refused("access", "redact", str(party["id"]), str(spec))
    assert "name the one the spec is for" in line
    line = office.refused("access", "redact", str(party["id"]),
                          f"{office.clips['open'][0]}={spec}", code=8)
    assert "ffprobe cannot read the clip" in line  # that clip is not footage ffmpeg reads


def test_redaction_is_held_and_purged_with_its_original(office: Office,
                                                       tmp_path: Path) -> None:
    clip, original = add_real_clip(office, tmp_path, days_ago=800, case=None)
    spec = write_spec(tmp_path)
    red = office.ok("redact", str(clip), "--spec", str(spec), "--reason", "demo for training")
    redacted = object_path(office, red["blake3"])
    assert redacted.is_file()
    preview = tmp_path / "preview.mp4"
    again = office.ok("redact", str(clip), "--spec", str(spec), "--reason", "again",
                      "--preview", str(preview))
    assert again["redaction"] == red["redaction"]  # rendered once
    assert preview.read_bytes() == redacted.read_bytes()
    events = office.ok("clips", "show", str(clip))["events"]
    assert [e["payload"]["path"] for e in events
            if e["type"] == "clip.redaction_previewed"] == [str(preview)]
    bad = tmp_path / "bad.yaml"
    bad.write_text("operations:\n  - {op: mute, from: 9, to: 10, reason: 其他}\n",
                   encoding="utf-8")
    line = office.refused("redact", str(clip), "--spec", str(bad), "--reason", "x", code=2)
    assert "operations[0].from: 9 s is past the clip's end" in line
    hold = office.ok("hold", "place", "--clip", str(clip), "--reason", "complaint", "--note",
                     "party complained")
    line = office.refused("purge", str(clip), "--reason", "no value", "--yes")
    assert "held" in line
    assert redacted.is_file()
    assert office.ok("clips", "show", str(clip))["redactions"][0]["status"] == "stored"
    office.ok("hold", "release", str(hold["id"]), "--note", "complaint withdrawn")
    office.ok("purge", str(clip), "--reason", "no value", "--yes")
    assert not redacted.exists()
    assert not object_path(office, red["original_blake3"]).exists()
    shown = office.ok("clips", "show", str(clip))
    assert shown["redactions"][0]["status"] == "purged"
    assert any(e["type"] == "clip.redaction_purged" for e in shown["events"])
    verify = office.run("store", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
