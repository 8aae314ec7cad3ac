"""Finding footage: 'clips list' by case, category, step, tag and text, alone and combined,
on the default (SQLite, FTS5 trigram) and the shared (PostgreSQL) catalog; and what tagging
leaves in the ledger."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from avledger.config import loader
from avledger.core.app import Avledger
from avledger.core.cases import registry
from avledger.core.clips import ClipFilter, list_clips
from avledger.core.footage.tagging import Change, tag_clips
from avledger.core.install.setup import initialise
from avledger.errors import InputError, NotFoundError
from avledger.store import ledger as ledger_store
from tests.conftest import use_postgres
from tests.factories import ClipSpec, insert_clips

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CASE = "平环强〔2026〕3号"


@pytest.fixture(params=["sqlite", "postgres"])
def app(request: pytest.FixtureRequest, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Avledger]:
    h = tmp_path / "home"
    monkeypatch.setenv("AVLEDGER_HOME", str(h))
    for var in ("AVLEDGER_CONFIG", "AVLEDGER_ACTOR"):
        monkeypatch.delenv(var, raising=False)
    if request.param == "postgres":
        use_postgres(h, request.getfixturevalue("pg_server").fresh_database())
    initialise(None)
    a = Avledger.open(loader.load())
    try:
        yield a
    finally:
        a.close()


def _clips(app: Avledger) -> list[int]:
    """Four clips: a seizure and a hearing linked to the case, an inspection, an untagged one."""
    ids = insert_clips(app, [
        ClipSpec("BWR2" if i == 2 else "BWR1", f"/DCIM/{i}.MP4", f"clip {i}".encode(),
                 T0 + timedelta(hours=i), T0 + timedelta(days=1))
        for i in range(4)])
    registry.add_case(app, number=CASE, name="XX化工 查封排污口", enforcement_type="compulsion",
                      handlers=[], confidentiality="none", now=T0)
    registry.link_clips(app, CASE, ids[:2], now=T0)
    tag_clips(app, [ids[0]], Change(step="seizure", note="查封排污口现场 Sealed OUTLET",
                                    add_tags=["投诉"]))
    tag_clips(app, [ids[1]], Change(step="hearing", add_tags=["投诉", "夜查"]))
    tag_clips(app, [ids[2]], Change(category="inspection", note="夜间巡查 river bank"))
    return ids


def _found(app: Avledger, **kw: object) -> list[int]:
    return [c["id"] for c in list_clips(app, ClipFilter(**kw))]  # type: ignore[arg-type]


def test_each_filter_alone_and_combined(app: Avledger) -> None:
    a, b, c, d = _clips(app)
    assert _found(app) == [a, b, c, d]
    # alone
    assert _found(app, case=CASE) == [a, b]
    assert _found(app, category="行政强制") == [a]
    assert _found(app, category="行政处罚") == [b]
    assert _found(app, category="inspection") == [c]
    assert _found(app, step="seizure") == [a]
    assert _found(app, step="hearing") == [b]
    assert _found(app, tags=("投诉",)) == [a, b]
    assert _found(app, tags=("投诉", "夜查")) == [b]
    assert _found(app, text="排污口") == [a]          # three characters or more
    assert _found(app, text="巡查") == [c]            # two: shorter than a trigram
    assert _found(app, text="夜查") == [b]            # in a tag
    assert _found(app, text="outlet") == [a]          # any case
    assert _found(app, text="查封 sealed") == [a]     # every word must be there
    assert _found(app, text="查封 river") == []
    assert _found(app, text="100%") == []             # LIKE wildcards are literal
    # combined, with each other and with the filters that were there before
    assert _found(app, case=CASE, tags=("投诉",), step="seizure") == [a]
    assert _found(app, case=CASE, text="夜查") == [b]
    assert _found(app, device="BWR2", text="巡查") == [c]
    assert _found(app, device="BWR1", text="巡查") == []
    assert _found(app, tags=("投诉",), since=T0 + timedelta(minutes=30)) == [b]
    assert _found(app, category="行政强制", until=T0 + timedelta(minutes=30)) == [a]
    listed = list_clips(app, ClipFilter(case=CASE))
    assert [(x["step"], x["category"], x["tags"]) for x in listed] == [
        ("seizure", "行政强制", ["投诉"]), ("hearing", "行政处罚", ["夜查", "投诉"])]


def test_the_text_index_follows_changes(app: Avledger) -> None:
    a, b, c, _ = _clips(app)
    tag_clips(app, [b], Change(remove_tags=["夜查"]))
    assert _found(app, text="夜查") == []
    tag_clips(app, [a], Change(note="补录说明"))
    assert _found(app, text="排污口") == []
    assert _found(app, text="补录说明") == [a]
    tag_clips(app, [c], Change(add_tags=["river_patrol"]))
    assert _found(app, text="patrol") == [c]


def test_unknown_values_are_refused_with_the_known_ones(app: Avledger) -> None:
    _clips(app)
    with pytest.raises(InputError, match="unknown recording step") as exc:
        _found(app, step="seizing")
    assert "seizure" in (exc.value.hint or "")
    with pytest.raises(InputError, match="unknown enforcement category"):
        _found(app, category="行政许可")
    with pytest.raises(NotFoundError):
        _found(app, case="平环罚〔2099〕1号")


def test_each_tag_change_is_an_event_with_old_and_new(app: Avledger) -> None:
    a, *_ = _clips(app)
    tag_clips(app, [a], Change(step="", remove_tags=["投诉"], note=""))
    events = [e for e in ledger_store.iter_events(app.catalog.conn, where="subject = ?",
                                                  params=(f"clip:{a}",))
              if e.type == "clip.tagged"]
    assert [e.payload["new"]["step"] for e in events] == ["seizure", None]
    first, second = (e.payload for e in events)
    assert first["old"] == {"category": None, "matter": None, "step": None, "tags": [],
                            "note": ""}
    assert first["new"]["category"] == "行政强制" and first["new"]["matter"] == "查封、扣押"
    assert second["old"] == first["new"]
    assert second["new"]["tags"] == [] and second["new"]["note"] == ""
    assert all(e.actor == app.actor.label for e in events)
    again = tag_clips(app, [a], Change(remove_tags=["投诉"]))
    assert again == {"changed": [], "unchanged": [a]}


def test_a_row_arriving_with_its_note_is_found(app: Avledger) -> None:
    """Rows copied in whole ('avledger migrate') are indexed as they arrive."""
    a, *_ = _clips(app)
    with app.transaction() as conn:
        conn.execute(
            "INSERT INTO clips (device_id, digest, size, source_path, source_mtime,"
            " ingested_at, attribution, note) SELECT device_id, digest, size, 'DCIM/copy.MP4',"
            " source_mtime, ingested_at, attribution, '整体搬迁后的记录' FROM clips WHERE id = ?",
            (a,))
    found = _found(app, text="整体搬迁")
    assert len(found) == 1 and found[0] not in (a,)
