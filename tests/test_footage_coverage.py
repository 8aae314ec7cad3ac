"""Mandatory recordings (rule B, Art. 6; Annex 1): a case with a seizure decision and no
sealing/seizure recording is a finding in 'case check' and in the compliance report (HTML and
PDF, Chinese and English); linking a clip of that step clears it."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from avledger.core.app import Avledger
from tests.conftest import IN_CI
from tests.factories import ClipSpec, insert_clips

CASE = "平环强〔2026〕3号"


def ok(out: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert out.returncode == 0, out.stdout + out.stderr
    return out


def _pdf_text(pdf: Path) -> str:
    if shutil.which("chromium") is None or shutil.which("pdftotext") is None:
        reason = "needs chromium and poppler-utils (run 'make test' as root to install them)"
        if IN_CI:
            pytest.fail(f"CI must run this test, but it {reason}")
        pytest.skip(reason)
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


def _report(cli, out: Path, fmt: str, lang: str) -> str:  # type: ignore[no-untyped-def]
    today = datetime.now(UTC).date()
    path = out / f"compliance-{lang}.{fmt}"
    ok(cli("report", "compliance", "--from", str(today - timedelta(days=2)), "--to",
           str(today + timedelta(days=2)), "--format", fmt, "--lang", lang, "--out", str(path)))
    if fmt == "pdf":
        return _pdf_text(path)
    return path.read_text(encoding="utf-8")


@pytest.mark.slow
def test_a_seizure_without_its_recording_is_a_finding_until_one_is_linked(
        cli, app: Avledger, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    clip, other = insert_clips(app, [
        ClipSpec("BWR1", f"/DCIM/{i}.MP4", f"clip {i}".encode(),
                 datetime.now(UTC) - timedelta(hours=3 - i), datetime.now(UTC))
        for i in range(2)])
    ok(cli("case", "add", CASE, "--name", "XX化工 查封排污口", "--type", "compulsion",
           "--handler", "0001"))
    ok(cli("case", "decide", CASE, "--kind", "compulsion", "--party", "organisation",
           "--note", "查封排污口", "--step", "seizure"))
    ok(cli("case", "link", str(clip), str(other), "--case", CASE))

    check = cli("case", "check", CASE, "--json")
    assert check.returncode == 1, check.stdout + check.stderr
    data = json.loads(check.stdout)
    assert data["missing"] == ["seizure"] and not data["complete"]
    assert data["required"][0]["step_zh"] == "查封、扣押现场笔录"
    assert data["required"][0]["decisions"] and data["required"][0]["clips"] == []

    out = tmp_path / "reports"
    out.mkdir()
    before = {(fmt, lang): _report(cli, out, fmt, lang)
              for fmt in ("html", "md", "pdf") for lang in ("zh", "en")}
    for fmt in ("html", "md", "pdf"):
        zh, en = before[(fmt, "zh")], before[(fmt, "en")]
        assert "应当音像记录的执法环节" in zh and "查封、扣押现场笔录" in zh
        assert "缺失" in zh and "检查发现" in zh and CASE in zh
        assert "Mandatory recordings" in en and "Sealing or seizure" in en
        assert "MISSING" in en and "Finding: 1 mandatory recording(s) missing" in en
        assert CASE in en

    annual = json.loads(ok(cli("report", "annual", "--year", str(datetime.now(UTC).year),
                               "--format", "json")).stdout)
    section = next(s for s in annual["sections"] if s["key"] == "coverage")
    assert section["figures"]["recordings_missing"] == 1
    assert section["tables"]["mandatory_recordings"]["rows"][0][0] == CASE

    ok(cli("clips", "tag", str(clip), "--step", "seizure", "--note", "查封排污口现场"))
    check = ok(cli("case", "check", CASE, "--json"))
    data = json.loads(check.stdout)
    assert data["complete"] and data["required"][0]["clips"] == [clip]

    for fmt in ("html", "md", "pdf"):
        zh, en = _report(cli, out, fmt, "zh"), _report(cli, out, fmt, "en")
        assert "已记录" in zh and "缺失" not in zh and "检查发现" not in zh
        assert "Recorded" in en and "MISSING" not in en and "Finding:" not in en
    assert "ledger OK" in ok(cli("ledger", "verify")).stdout


def test_case_check_in_words_and_a_step_of_its_own(cli, app: Avledger) -> None:  # type: ignore[no-untyped-def]
    ok(cli("case", "add", "平环罚〔2026〕12号", "--name", "XX化工 超标排放", "--type", "penalty",
           "--handler", "0001"))
    assert "no step of this case calls for a recording" in ok(
        cli("case", "check", "平环罚〔2026〕12号")).stdout
    ok(cli("case", "step", "平环罚〔2026〕12号", "hearing", "--note", "听证会"))
    text = cli("case", "check", "平环罚〔2026〕12号")
    assert text.returncode == 1 and "missing: hearing" in text.stdout
    bad = cli("case", "step", "平环罚〔2026〕12号", "hearings")
    assert bad.returncode == 2 and "unknown recording step 'hearings'" in bad.stderr
    assert "hearing" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
