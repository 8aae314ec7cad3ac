"""``avledger migrate``: every object and row moves, verified; bad sources move nothing.

These run one SQLite installation into another (no servers needed); the move into PostgreSQL
and S3 is in ``tests/scaleout/test_migrate_shared.py``.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from avledger.config import loader
from avledger.core.app import Avledger
from avledger.core.install import relocate
from tests.storetools import flip_bit

CASE = "平环罚〔2026〕7号"


def ok(result: Any) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.lstrip().startswith(("{", "[")) else None


def one_line_error(result: Any, code: int, *words: str) -> str:
    assert result.returncode == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("avledger: error:"), result.stderr
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def busy_home(cli: Any, home: Path, tmp_path: Path) -> Path:
    """An installation with clips, a case, a hold and a verify run: many tables have rows."""
    rec = tmp_path / "rec"
    ok(cli("simulate", "recorder", str(rec), "--clips", "4", "--json"))
    ok(cli("ingest", str(rec), "--json"))
    ok(cli("case", "add", CASE, "--name", "超标排放", "--type", "penalty", "--json"))
    ok(cli("case", "link", "1", "2", "--case", CASE, "--json"))
    ok(cli("hold", "place", "--case", CASE, "--reason", "complaint", "--note", "party objects",
           "--json"))
    ok(cli("store", "verify", "--json"))
    return home


def target_config(tmp_path: Path) -> Path:
    target = tmp_path / "target"
    path = tmp_path / "target.yaml"
    path.write_text(f"store:\n  path: {target / 'store'}\ncatalog:\n  path: {target / 'c.db'}\n"
                    f"ledger:\n  checkpoint_file: {target / 'checkpoints.log'}\n",
                    encoding="utf-8")
    return path


def dump(db: Path, skip: tuple[str, ...] = ()) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(db)
    try:
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        return {n: sorted(map(tuple, conn.execute(f'SELECT * FROM "{n}"')), key=repr)
                for n in names if n not in skip}
    finally:
        conn.close()


def test_everything_moves_and_verifies(cli: Any, busy_home: Path, tmp_path: Path) -> None:
    source_db = busy_home / "data" / "catalog.db"
    before = dump(source_db)
    to = target_config(tmp_path)
    plan = ok(cli("migrate", "--to", str(to), "--dry-run", "--json"))
    assert plan["dry_run"] and plan["objects"] == 4 and plan["rows"]["clips"] == 4
    assert not (tmp_path / "target").exists(), "a dry run creates nothing"
    assert dump(source_db) == before

    moved = ok(cli("migrate", "--to", str(to), "--json"))
    assert moved["objects_copied"] == 4 and moved["verified_objects"] == 4
    events = moved["events"]
    target_db = tmp_path / "target" / "c.db"
    after = dump(target_db)
    # every source row is in the target, unchanged (the ledger gains the move's own events)
    for table, rows in before.items():
        if table in ("schema_migrations", "ledger_state"):  # the target's own; state grows
            continue
        if table in ("ledger", "checkpoints", "verify_runs"):  # append-only: the move adds
            assert set(rows) <= set(after[table]), table
            continue
        assert after[table] == rows, table
    ledger = [r for r in after["ledger"] if r[0] <= events]
    assert ledger == before["ledger"]
    types = [r[3] for r in after["ledger"] if r[0] > events]
    assert "installation.migrated" in types

    env = {"AVLEDGER_CONFIG": str(to)}
    verified = cli("ledger", "verify", "--json", env=env)
    assert verified.returncode == 0 and json.loads(verified.stdout)["ok"], verified.stdout
    store = cli("store", "verify", "--json", env=env)
    assert store.returncode == 0, store.stdout
    clips = ok(cli("clips", "list", "--json", env=env))
    assert len(clips) == 4
    held = ok(cli("hold", "list", "--json", env=env))
    assert len(held) == 1 and held[0]["reason"] == "complaint"
    # new rows in the target get fresh ids after the copied ones
    ok(cli("case", "add", "X-2", "--name", "another", "--type", "inspection", "--json", env=env))
    # the source records where it went and refuses a second move
    last = max(dump(source_db)["ledger"], key=lambda r: int(r[0]))
    assert last[3] == "installation.moved"
    one_line_error(cli("migrate", "--to", str(to)), 5, "already moved")


def test_a_corrupt_source_object_stops_the_move_before_any_row(cli: Any, busy_home: Path,
                                                                tmp_path: Path) -> None:
    with Avledger.open(loader.load()) as app:
        digest = app.catalog.conn.execute("SELECT digest FROM objects LIMIT 1").fetchone()[0]
        flip_bit(app.store.path_for(digest), offset=100)  # type: ignore[attr-defined]
    to = target_config(tmp_path)
    one_line_error(cli("migrate", "--to", str(to)), 6, digest, "corrupt")
    target = tmp_path / "target" / "c.db"
    assert dump(target)["clips"] == [] and dump(target)["ledger"] == []
    source_types = [r[3] for r in dump(busy_home / "data" / "catalog.db")["ledger"]]
    assert "installation.moved" not in source_types


def test_a_tampered_source_ledger_moves_nothing(cli: Any, busy_home: Path,
                                                tmp_path: Path) -> None:
    conn = sqlite3.connect(busy_home / "data" / "catalog.db")
    conn.execute("DROP TRIGGER ledger_no_update")
    conn.execute("UPDATE ledger SET actor = 'someone' WHERE seq = 3")
    conn.commit()
    conn.close()
    one_line_error(cli("migrate", "--to", str(target_config(tmp_path))), 6,
                   "source ledger does not verify")
    assert not (tmp_path / "target").exists()


def test_an_interrupted_move_resumes(cli: Any, busy_home: Path, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    to = target_config(tmp_path)

    def cut(*_args: Any) -> None:
        raise KeyboardInterrupt  # the power goes after the rows committed, before read-back

    with Avledger.open(loader.load()) as app, monkeypatch.context() as patch:
        patch.setattr(relocate, "_verify_objects", cut)
        with pytest.raises(KeyboardInterrupt):
            relocate.migrate(app, loader.load(to))
    again = ok(cli("migrate", "--to", str(to), "--json"))
    assert again["resumed"] and again["objects_present"] == 4 and again["objects_copied"] == 0
    assert again["verified_objects"] == 4
    verified = cli("ledger", "verify", "--json", env={"AVLEDGER_CONFIG": str(to)})
    assert json.loads(verified.stdout)["ok"]


def test_refusals(cli: Any, busy_home: Path, tmp_path: Path) -> None:
    same = tmp_path / "same.yaml"
    same.write_text("ledger:\n  checkpoint_file: /nonexistent/x.log\n", encoding="utf-8")
    one_line_error(cli("migrate", "--to", str(same)), 3, "this installation's own catalog")
    other_origin = target_config(tmp_path)
    other_origin.write_text(other_origin.read_text() + "  origin: other.example/x\n")
    one_line_error(cli("migrate", "--to", str(other_origin)), 3, "ledger.origin")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    ok(cli("init", env={"AVLEDGER_HOME": str(foreign)}))
    into_foreign = tmp_path / "into-foreign.yaml"
    into_foreign.write_text(f"catalog:\n  path: {foreign / 'data' / 'catalog.db'}\n"
                            f"store:\n  path: {tmp_path / 'x-store'}\n", encoding="utf-8")
    one_line_error(cli("migrate", "--to", str(into_foreign)), 5, "not this one")
