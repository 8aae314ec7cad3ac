"""The recording checklist (Annex 1) as config: the seed's rows by default, a site's own rows
validated with the path of every mistake."""

from __future__ import annotations

from avledger.config import schema
from avledger.config.schema import CHECKLIST_SEED


def test_the_default_is_the_seed_in_its_own_words() -> None:
    rows = schema.defaults()["footage"]["checklist"]
    assert [(r["code"], r["category"], r["step"], r["record_class"], r["retention"])
            for r in rows] == [
        ("investigation_record", "行政检查", "调查笔录", "场景类", "with_case_file"),
        ("hearing", "行政处罚", "听证", "会议类", "with_case_file"),
        ("seizure", "行政强制", "查封、扣押现场笔录", "场景类", "with_case_file")]
    assert rows[2]["start"] == "进入强制现场时" and rows[1]["content"] == "听证全过程"
    assert schema.validate({"footage": {"checklist": rows}}) == []
    rows[0]["code"] = "changed"
    assert CHECKLIST_SEED[0]["code"] == "investigation_record"  # defaults are copies


def test_a_site_row_is_checked_field_by_field() -> None:
    own = dict(CHECKLIST_SEED[0], code="patrol", retention=800)
    bad = [
        dict(own, code="patrol_day", retention=0),
        dict(own, code="Patrol Night", category="行政许可", record_class="scene"),
        {k: v for k, v in own.items() if k != "content"} | {"code": "patrol_dawn"},
        own,
    ]
    problems = schema.validate({"footage": {"checklist": [own, *bad]}})
    assert problems == [
        "footage.checklist[1].retention: must be with_case_file (as long as the case file) "
        "or a positive number of days",
        "footage.checklist[2].code: must be a lower-case code name such as seizure (letters, "
        "digits, _)",
        "footage.checklist[2].category: must be one of: 行政检查, 行政处罚, 行政强制",
        "footage.checklist[2].record_class: must be one of: 场景类, 会议类",
        "footage.checklist[3].content: is required",
        "footage.checklist[4].code: duplicate 'patrol' (also at [0])",
    ]
