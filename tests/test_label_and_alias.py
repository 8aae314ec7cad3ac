"""Label line breaking (property-tested) and the 'clips link/unlink' commands."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from avledger.cli.main import app as cli_app
from avledger.core import caseref
from avledger.core.app import Avledger
from avledger.core.archive.label import _width, wrap
from avledger.core.cases import registry as cases
from avledger.timestamps import utcnow
from tests.factories import ClipSpec, insert_clips

TEXT = st.lists(st.sampled_from(list("平环罚〔〕（）号案 ab12-:.，、；") + ["2026", "AVL0003"]),
                max_size=60).map("".join)


@given(text=TEXT, ems=st.floats(min_value=4, max_value=40))
def test_wrap_keeps_every_character_and_fits(text: str, ems: float) -> None:
    lines = wrap(text, ems)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    for line in lines:
        # a word carried along with its punctuation at most; closing punctuation may hang
        assert _width(line.rstrip("）〕，、；")) <= ems + 5
    for line in lines[1:]:
        assert line[:1] not in "）〕，、；"  # no line starts with closing punctuation


def test_case_number_stays_on_one_line() -> None:
    lines = wrap("平顶山某某化工有限公司超标排放大气污染物案（平环罚〔2026〕12号）", 24)
    assert lines[-1] == "（平环罚〔2026〕12号）"
    # 3 + 17 × 0.55 + 1 = 13.9 ems fit in 14; dates and times are never split.
    assert wrap("录制于 2026-05-04 08:12 至 2026-05-06 17:40", 14) == [
        "录制于 2026-05-04 08:12 至", "2026-05-06 17:40"]
    assert wrap("录制于 2026-05-04 08:12 至 2026-05-06 17:40", 10) == [
        "录制于 2026-05-04", "08:12 至", "2026-05-06 17:40"]


def test_clips_link_alias(app: Avledger) -> None:
    now = utcnow()
    ids = insert_clips(app, [ClipSpec("TC0001", f"DCIM/{i}.MP4", b"x%d" % i * 99,
                                      now - timedelta(days=1), now) for i in range(2)])
    cases.add_case(app, number="C-1", name="n", enforcement_type="inspection", handlers=[],
                   confidentiality="none", now=now)
    runner = CliRunner()
    out = runner.invoke(cli_app, ["clips", "link", *map(str, ids), "--case", "C-1", "--json"])
    assert out.exit_code == 0, out.output
    conn = app.catalog.conn
    assert caseref.clips_of_case(conn, caseref.get_case(conn, "C-1").id) == ids
    out = runner.invoke(cli_app, ["clips", "unlink", str(ids[0]), "--case", "C-1"])
    assert out.exit_code == 0 and "1 clip(s) unlinked" in out.output
