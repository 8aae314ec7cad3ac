"""Report parts on their own: the access-register section against
``avledger.core.access.summary``, the labels of both languages, and the SVG charts."""

from __future__ import annotations

import sys
import types
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from avledger.core.app import Avledger
from avledger.core.reports import i18n, render_html, render_text, svg
from avledger.core.reports.build import build_report
from avledger.core.reports.model import Report
from avledger.core.reports.period import Period
from tests.factories import ClipSpec, insert_clips

MODULE = "avledger.core.access"


def _annual(app: Avledger, year: int = 2025) -> Report:
    return build_report(app, "annual", Period.year(year, app.config.timezone))


@pytest.fixture
def some_footage(app: Avledger) -> None:
    start = datetime(2025, 5, 1, 2, tzinfo=UTC)
    insert_clips(app, [ClipSpec(device="TC0001", source_path=f"D/{n}.MP4",
                                content=f"c{n}".encode(), recorded=start + timedelta(days=n),
                                ingested=start + timedelta(days=n, hours=30 if n == 3 else 1),
                                late=n == 3, attribution="unattributed" if n == 4 else
                                "checkout", badge=None if n == 4 else "0001")
                       for n in range(6)])


# -- the access register --------------------------------------------------------------------

def test_without_the_register_the_section_says_so(app: Avledger, some_footage: None,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, MODULE, None)  # importing it raises ImportError
    report = _annual(app)
    access = report.section("access")
    assert access.available is False and access.figures == [] and access.tables == []
    html = render_html.render(report, "en")
    assert "Access register not available" in html
    assert "access register not available" in render_html.render(report, "zh")
    assert "access register not available" in render_text.to_markdown(report, "en").lower()


def test_the_section_shows_what_the_register_counts(app: Avledger, some_footage: None,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The register's own summary, in the shape the register promises, laid out by category
    and outcome; the function gets the period's UTC bounds."""
    calls: list[tuple[Any, ...]] = []

    def summary(conn: Any, start_iso: str, end_iso: str) -> dict[str, Any]:
        calls.append((conn, start_iso, end_iso))
        return {"requests": 9, "views": 7, "copies": 3, "packages": 2,
                "by_category": {"party": {"approved": 2, "refused": 1},
                                "judicial": {"approved": 4},
                                "handler": {"approved": 1, "pending": 1}}}

    fake = types.ModuleType(MODULE)
    fake.summary = summary  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, MODULE, fake)
    report = _annual(app)
    access = report.section("access")
    period = Period.year(2025, app.config.timezone)
    assert calls == [(app.catalog.conn, period.start, period.end)]
    assert {f.key: f.value for f in access.figures} == {"requests": 9, "views": 7, "copies": 3,
                                                        "packages": 2}
    table = access.table("by_category")
    assert [c.key for c in table.columns] == ["category", "approved", "pending", "refused",
                                              "total"]
    assert table.rows == [["handler", 1, 1, 0, 2], ["judicial", 4, 0, 0, 4],
                          ["party", 2, 0, 1, 3]]
    html = render_html.render(report, "zh")
    assert "当事人" in html and "不予批准" in html and 'data-chart="access.' in html


def test_access_section_with_the_real_register(app: Avledger, some_footage: None) -> None:
    """Runs once the access register is part of avledger."""
    try:
        from avledger.core import access  # noqa: F401
    except ImportError:
        pytest.skip("access register not available")
    report = _annual(app)
    period = Period.year(2025, app.config.timezone)
    expected = access.summary(app.catalog.conn, period.start, period.end)
    section = report.section("access")
    assert section.available
    assert {f.key: f.value for f in section.figures} == {
        k: expected[k] for k in ("requests", "views", "copies", "packages")}
    rows = {r[0]: r[-1] for r in section.table("by_category").rows}
    assert rows == {c: sum(v.values()) for c, v in expected["by_category"].items()}


# -- labels ---------------------------------------------------------------------------------

def test_every_label_exists_in_both_languages(app: Avledger, some_footage: None,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, MODULE, None)
    keys: set[str] = set()
    for kind in ("annual", "compliance", "usage", "clocks"):
        report = build_report(app, kind, Period.year(2025, app.config.timezone))
        keys.add(f"title.{kind}")
        for s in report.sections:
            keys |= {f"section.{s.key}", f"lead.{s.key}"}
            keys |= {f"fig.{f.key}" for f in s.figures}
            keys |= {n.key for n in s.notes}
            for t in s.tables:
                keys.add(f"table.{s.key}.{t.key}")
                keys |= {f"col.{c.key}" for c in t.columns}
                for c in t.columns:
                    if c.kind == "code":
                        keys |= {f"code.{row[t.columns.index(c)]}" for row in t.rows}
            keys |= {f"chart.{s.key}.{c.key}" for c in s.charts}
    keys |= {f"code.{v}" for v in ("ok", "problems", "never", "full", "sample", "budget",
                                   "store", "ledger", "verified-ok", "verify-failed",
                                   "never-verified", "verify-due", "not-reviewed",
                                   "no-announcement", "incomplete", "unclear", "other")}
    missing = sorted(k for k in keys if not i18n.has(k))
    assert not missing
    for key in keys:
        en, zh = i18n.L[key]
        assert en and zh
        if key.startswith(("section.", "title.", "lead.")):
            assert en != zh and any(ord(ch) > 0x2E80 for ch in zh), key


def test_period_in_words() -> None:
    year = Period.year(2025, "Asia/Shanghai").as_dict()
    month = Period.previous_month(datetime(2025, 12, 3).date(), "UTC").as_dict()
    assert i18n.period_text(year, "zh") == "2025年" and i18n.period_text(year, "en") == "2025"
    assert i18n.period_text(month, "zh") == "2025年11月1日至2025年11月30日"


# -- charts ---------------------------------------------------------------------------------

def _parse(drawing: str) -> ET.Element:
    return ET.fromstring(drawing)


NS = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize("values", [[0, 0, 0], [None, 5, None], [1], [3.5, 120000, 7]])
def test_charts_are_wellformed_for_any_data(values: list[float | None]) -> None:
    cats = [f"c{i}" for i in range(len(values))]
    fmt = str
    for drawing in (svg.bar("t", cats, [("a", values)], fmt=fmt),
                    svg.bar("t", cats, [("a", values), ("b", values)], fmt=fmt, touching=True),
                    svg.hbar("t", cats, values, fmt=fmt),
                    svg.hbar("t", cats, values, fmt=fmt, percent=True),
                    svg.line("t", cats, [("a", values)], fmt=fmt),
                    svg.line("t", cats, [("a", values)], fmt=fmt, percent=True)):
        root = _parse(drawing)
        assert root.tag == f"{NS}svg" and "nan" not in drawing.lower()
        assert "inf" not in drawing.replace("font", "")


def test_bars_are_drawn_to_scale() -> None:
    root = _parse(svg.bar("t", ["a", "b"], [("n", [10, 40])], fmt=str))
    heights = [float(r.get("height", 0)) for r in root.iter(f"{NS}rect")]
    assert len(heights) == 2 and abs(heights[1] - 4 * heights[0]) < 0.5


def test_labels_are_escaped_and_wrapped() -> None:
    drawing = svg.bar("<t>", ["Party objects, may complain", "a & b", "当事人有异议、可能投诉"],
                      [("n", [1, 2, 3])], fmt=str, width=360)
    root = _parse(drawing)
    texts = ["".join(t.itertext()) for t in root.iter(f"{NS}text")]
    assert "a & b" in texts
    assert svg.wrap("Party objects, may complain", 80) == ["Party", "objects, may", "complain"]
    assert all(svg._text_width(line) <= 100 for line in svg.wrap("当事人有异议、可能投诉", 100))
    assert svg.wrap("short", 200) == ["short"]


def test_names_cannot_break_out_of_the_page(app: Avledger, some_footage: None,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, MODULE, None)
    report = _annual(app)
    report.meta["site_unit"] = 'Bureau "X" </style><script>alert(1)</script>'
    html = render_html.render(report, "en")
    assert "<script" not in html and html.count("</style>") == 1
    assert "@bottom-right" in html and "counter(pages)" in html
