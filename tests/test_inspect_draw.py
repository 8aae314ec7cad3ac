"""``avledger inspect draw|void|verify|export|list|show`` end to end, against a real catalog."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest

from avledger.config import loader
from avledger.core.app import Avledger
from avledger.core.inspect import draw
from tests.factories_inspect import add_standard_roster, write_population

pytestmark = pytest.mark.usefixtures("home")


@pytest.fixture
def roster(home: Path) -> Path:
    add_standard_roster(home)
    return home


@pytest.fixture
def population(tmp_path: Path) -> Path:
    return write_population(tmp_path / "enterprises.csv", 40)


def ok(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.lstrip().startswith(("{", "[")) else None


def catalog(home: Path) -> sqlite3.Connection:
    return sqlite3.connect(home / "data" / "catalog.db")


def ledger_types(home: Path) -> list[str]:
    with catalog(home) as conn:
        return [r[0] for r in conn.execute("SELECT type FROM ledger ORDER BY seq")]


def draw_cmd(cli: Any, population: Path, period: str = "2026Q4", *extra: str,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return cli("inspect", "draw", "--population", str(population), "--period", period,
               "--rate", "20%", "--inspectors", "2", "--json", *extra, env=env)


def test_draw_records_event_rows_and_verifies(cli: Any, roster: Path, population: Path) -> None:
    data = ok(draw_cmd(cli, population))
    assert data["period"] == "2026Q4" and data["round"] == 1 and data["status"] == "active"
    assert data["drawn"] == 8 and data["population"] == 40
    tasks = [i["task_id"] for i in data["inspections"]]
    assert tasks == [f"2026Q4-{n:03d}" for n in range(1, 9)]
    assert len({i["enterprise_id"] for i in data["inspections"]}) == 8
    for insp in data["inspections"]:
        badges = [p["badge"] for p in insp["inspectors"]]
        assert len(set(badges)) == 2
        assert all(b == "0001" or b.startswith("01") for b in badges)  # handlers only
    # the seed's checkpoint is a real signed one that predates the draw event
    with catalog(roster) as conn:
        ev = conn.execute("SELECT seq, type, subject, payload FROM ledger"
                          " WHERE type = 'inspection.drawn'").fetchone()
        notes = [r[0] for r in conn.execute("SELECT note FROM checkpoints WHERE size < ?",
                                            (ev[0],))]
    payload = json.loads(ev[3])
    assert ev[2] == f"draw:{data['id']}"
    assert payload["inputs"]["checkpoint"] in notes
    assert payload["seed"] == data["seed"] == draw.seed_of(payload["inputs"])
    assert [r["task_id"] for r in payload["result"]] == tasks
    verify = cli("inspect", "verify", "2026Q4")
    assert verify.returncode == 0, verify.stderr
    assert "1 draw(s) verified" in verify.stdout
    assert ok(cli("ledger", "verify", "--json"))["ok"] is True


def test_unsigned_events_are_signed_before_the_draw(cli: Any, roster: Path,
                                                    population: Path) -> None:
    """A conflict declared just before the draw is covered by the checkpoint seeding it."""
    ok(cli("inspect", "conflict", "add", "0102", "E0003", "--note", "cousin", "--json"))
    with Avledger.open(loader.load()) as app:  # leave an event unsigned
        with app.transaction() as conn:
            app.record(conn, "test.unsigned", "test")
        app._wrote = False
        app.close()
    with catalog(roster) as conn:
        unsigned_at = conn.execute("SELECT MAX(seq) FROM ledger").fetchone()[0]
        assert conn.execute("SELECT MAX(size) FROM checkpoints").fetchone()[0] < unsigned_at
    data = ok(draw_cmd(cli, population))
    note = data["inputs"]["checkpoint"]
    assert int(note.splitlines()[1]) == unsigned_at


def test_same_inputs_same_draw_and_other_checkpoint_or_period_differ(
        cli: Any, roster: Path, population: Path) -> None:
    data = ok(draw_cmd(cli, population))
    with catalog(roster) as conn:
        row = conn.execute("SELECT inputs, population, roster, conflicts FROM inspection_draws"
                           ).fetchone()
        later = conn.execute("SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1"
                             ).fetchone()[0]
    inputs = json.loads(row[0])
    mat = draw.Material(row[1], json.loads(row[2]), json.loads(row[3]))
    stored = [(i["enterprise_id"], [p["badge"] for p in i["inspectors"]])
              for i in data["inspections"]]
    again = [(r["enterprise_id"], r["inspectors"]) for r in draw.run(inputs, mat)]
    assert again == stored
    assert later != inputs["checkpoint"]  # the draw's own checkpoint, signed afterwards
    other_cp = [(r["enterprise_id"], r["inspectors"])
                for r in draw.run({**inputs, "checkpoint": later}, mat)]
    other_period = [(r["enterprise_id"], r["inspectors"])
                    for r in draw.run({**inputs, "period": "2027Q1"}, mat)]
    assert other_cp != stored and other_period != stored


def test_second_draw_refused_void_then_redraw(cli: Any, roster: Path, population: Path) -> None:
    first = ok(draw_cmd(cli, population))
    again = draw_cmd(cli, population)
    assert again.returncode == 5
    assert "cannot be re-rolled" in again.stderr and len(again.stderr.strip().splitlines()) == 1
    # a dry run of the void changes nothing
    dry = ok(cli("inspect", "void", "2026Q4", "--reason", "wrong file", "--dry-run", "--json"))
    assert dry["dry_run"] is True
    assert draw_cmd(cli, population).returncode == 5
    no_reason = cli("inspect", "void", "2026Q4", "--reason", "  ")
    assert no_reason.returncode == 2
    voided = ok(cli("inspect", "void", "2026Q4", "--reason", "population omitted the park",
                    "--json", env={"AVLEDGER_ACTOR": "leader"}))
    assert voided["draw"] == first["id"]
    assert cli("inspect", "void", str(first["id"]), "--reason", "x").returncode == 5
    second = ok(draw_cmd(cli, population))
    assert second["round"] == 2 and second["seed"] != first["seed"]
    assert second["inspections"][0]["task_id"] == "2026Q4r2-001"
    listing = ok(cli("inspect", "list", "--json"))
    assert [(d["id"], d["status"]) for d in listing] == [(first["id"], "void"),
                                                         (second["id"], "active")]
    assert listing[0]["void_reason"] == "population omitted the park"
    types = ledger_types(roster)
    assert types.count("inspection.drawn") == 2 and types.count("inspection.voided") == 1
    assert types.index("inspection.voided") < len(types) - 1 - types[::-1].index(
        "inspection.drawn")
    assert ok(cli("inspect", "verify", "--json"))["ok"] is True
    # another period is independent
    assert ok(draw_cmd(cli, population, "2027Q1"))["round"] == 1


def test_roles(cli: Any, roster: Path, population: Path) -> None:
    desk = draw_cmd(cli, population, env={"AVLEDGER_ACTOR": "desk"})
    assert desk.returncode == 5 and "needs role leader or records_manager" in desk.stderr
    stranger = draw_cmd(cli, population, env={"AVLEDGER_ACTOR": "nobody"})
    assert stranger.returncode == 5 and "not on the roster" in stranger.stderr
    leader = ok(draw_cmd(cli, population, env={"AVLEDGER_ACTOR": "leader"}))
    assert leader["drawn_by"] == "0002:leader"
    void = cli("inspect", "void", "2026Q4", "--reason", "x", env={"AVLEDGER_ACTOR": "desk"})
    assert void.returncode == 5
    assert "inspection.drawn" in ledger_types(roster)
    assert not any(t == "inspection.voided" for t in ledger_types(roster))


@pytest.mark.parametrize(("sql", "what"), [
    ("UPDATE inspection_inspectors SET badge = '0199', name = 'Someone Else'"
     " WHERE inspection_id = (SELECT MIN(id) FROM inspections) AND slot = 1",
     "stored inspections"),
    ("UPDATE inspections SET enterprise_id = 'E9999' WHERE position = 3", "stored inspections"),
    ("UPDATE inspections SET enterprise_name = 'Renamed Ltd' WHERE position = 2",
     "stored inspections"),
    ("DELETE FROM inspection_inspectors WHERE inspection_id = (SELECT MAX(id) FROM inspections)"
     " AND slot = 2", "stored inspections"),
    # The first two hex digits become something they are not (the seed varies per run).
    ("UPDATE inspection_draws SET seed = CASE WHEN substr(seed, 1, 2) = 'ab' THEN 'cd'"
     " ELSE 'ab' END || substr(seed, 3)", "seed"),
    ("UPDATE inspection_draws SET population = replace(population, 'E0001', 'E0001x')",
     "recompute"),
    ("UPDATE inspection_draws SET roster = replace(roster, 'Inspector 101', 'Inspector X')",
     "recompute"),
    ("UPDATE inspection_draws SET conflicts = '[]'", "recompute"),
    ("UPDATE inspection_draws SET inputs = replace(inputs, '\"1/5\"', '\"1/4\"')",
     "recorded inputs"),
    ("UPDATE inspection_draws SET status = 'void', void_reason = 'quietly', void_seq = 1",
     "void state"),
    ("UPDATE inspection_draws SET event_seq = 1", "ledger event"),
])
def test_verify_fails_when_the_stored_draw_is_edited(cli: Any, roster: Path, tmp_path: Path,
                                                     sql: str, what: str) -> None:
    pop = write_population(tmp_path / "e.csv", 40, conflicts={"E0001": ["0101"]})
    data = ok(draw_cmd(cli, pop))
    assert cli("inspect", "verify", str(data["id"])).returncode == 0
    with catalog(roster) as conn:
        assert conn.execute(sql).rowcount >= 1
    result = cli("inspect", "verify", str(data["id"]), "--json")
    assert result.returncode == 6, result.stdout
    report = json.loads(result.stdout)
    failed = [c["check"] for c in report["draws"][0]["checks"] if not c["ok"]]
    assert what in failed, failed
    assert result.stderr.startswith("avledger: error: inspection draw verification failed")
    # a tampered draw is never exported
    assert cli("inspect", "export", str(data["id"]), "--format", "csv").returncode == 6


def test_verify_all_reports_a_deleted_draw(cli: Any, roster: Path, population: Path) -> None:
    data = ok(draw_cmd(cli, population))
    with catalog(roster) as conn:
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("DELETE FROM inspection_inspectors")
        conn.execute("DELETE FROM inspections")
        conn.execute("DELETE FROM inspection_draws")
    result = cli("inspect", "verify", "--json")
    assert result.returncode == 6
    assert f"draw:{data['id']}" in json.loads(result.stdout)["missing"][0]


def test_void_flipped_back_to_active_is_detected(cli: Any, roster: Path,
                                                 population: Path) -> None:
    first = ok(draw_cmd(cli, population))
    ok(cli("inspect", "void", "2026Q4", "--reason", "mistake", "--json"))
    with catalog(roster) as conn:
        conn.execute("UPDATE inspection_draws SET status = 'active', void_seq = NULL,"
                     " void_reason = NULL WHERE id = ?", (first["id"],))
    result = cli("inspect", "verify", str(first["id"]))
    assert result.returncode == 6 and "ledger voided it" in result.stdout


def test_conflicts_from_register_and_file_are_respected(cli: Any, roster: Path,
                                                        tmp_path: Path) -> None:
    # 0001 (a handler) declares their own conflict; a records manager declares one for 0101
    ok(cli("inspect", "conflict", "add", "0001", "E0002", "--note", "former employer",
           "--json"))
    refused = cli("inspect", "conflict", "add", "0102", "E0002", "--note", "x",
                  env={"AVLEDGER_ACTOR": "desk"})
    assert refused.returncode == 5
    ok(cli("inspect", "conflict", "add", "0101", "E0002", "--note", "spouse works there",
           "--json", env={"AVLEDGER_ACTOR": "records2"}))
    dup = cli("inspect", "conflict", "add", "0101", "E0002", "--note", "again")
    assert dup.returncode == 5
    assert cli("inspect", "conflict", "add", "0999", "E0002", "--note", "x").returncode == 4
    listed = ok(cli("inspect", "conflict", "list", "--json"))
    assert {(c["badge"], c["enterprise_id"]) for c in listed} == {("0001", "E0002"),
                                                                    ("0101", "E0002")}
    pop = write_population(tmp_path / "e.csv", 10, conflicts={
        "E0002": ["0102"], "E0005": ["0103", "0104"]})
    data = ok(cli("inspect", "draw", "--population", str(pop), "--period", "2026Q4",
                  "--rate", "100%", "--inspectors", "3", "--json"))
    by_ent = {i["enterprise_id"]: {p["badge"] for p in i["inspectors"]}
              for i in data["inspections"]}
    assert len(by_ent) == 10
    assert not by_ent["E0002"] & {"0001", "0101", "0102"}
    assert not by_ent["E0005"] & {"0103", "0104"}
    assert data["inputs"]["conflicts_sha256"] == draw.sha256_hex(draw.canonical(
        [["E0002", "0001"], ["E0002", "0101"], ["E0002", "0102"], ["E0005", "0103"],
         ["E0005", "0104"]]))
    # withdrawal: managers only, ledgered
    assert cli("inspect", "conflict", "remove", "0101", "E0002", "--note", "divorced",
               env={"AVLEDGER_ACTOR": "insp106"}).returncode == 5
    ok(cli("inspect", "conflict", "remove", "0101", "E0002", "--note", "divorced", "--json"))
    assert len(ok(cli("inspect", "conflict", "list", "--json"))) == 1
    assert len(ok(cli("inspect", "conflict", "list", "--all", "--json"))) == 2
    types = ledger_types(roster)
    assert types.count("inspection.conflict.declared") == 2
    assert types.count("inspection.conflict.withdrawn") == 1


@pytest.mark.parametrize(("content", "message"), [
    ("", "the file is empty"),
    ("code,title\nE1,A\n", "needs an 'id' and a 'name' column"),
    ("id,name\nE1,A\nE2,B\nE1,C\n", "enterprise id E1 appears twice (also on line 2)"),
    ("id,name\nE1,A\n,B\n", "line 3: the enterprise id is empty"),
    ("id,name\nE1,\n", "enterprise E1 has no name"),
    ("id,name\nE1,A,extra\n", "line 2: 3 fields but the header has 2"),
    ("id,name\n", "no enterprises after the header line"),
    ("id,name,conflicts\nE1,A,0999\n", "name badge 0999, who is not on the roster"),
    ("id,name\nE1,\"two\nlines\"\n", "line 2: a field contains a line break"),
])
def test_bad_population_is_one_line_and_changes_nothing(cli: Any, roster: Path, tmp_path: Path,
                                                        content: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    before = ledger_types(roster)
    result = draw_cmd(cli, path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("avledger: error:")
    assert message in lines[0]
    assert ledger_types(roster) == before
    with catalog(roster) as conn:
        assert conn.execute("SELECT COUNT(*) FROM inspection_draws").fetchone()[0] == 0


def test_other_bad_input(cli: Any, roster: Path, population: Path, tmp_path: Path) -> None:
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("id,name\nE1,平顶山化工有限公司\n".encode("gb18030"))
    not_utf8 = draw_cmd(cli, gbk)
    assert not_utf8.returncode == 2 and "--encoding gb18030" in not_utf8.stderr
    assert ok(draw_cmd(cli, gbk, "2026Q3", "--encoding", "gb18030"))["inspections"][0][
        "enterprise_name"] == "平顶山化工有限公司"
    missing = draw_cmd(cli, tmp_path / "nope.csv")
    assert missing.returncode == 4
    for rate in ("0%", "120%", "lots"):
        r = cli("inspect", "draw", "--population", str(population), "--period", "2026Q4",
                "--rate", rate)
        assert r.returncode == 2 and "rate" in r.stderr
    bad_period = draw_cmd(cli, population, "2026 Q4")
    assert bad_period.returncode == 2 and "period" in bad_period.stderr
    too_many = cli("inspect", "draw", "--population", str(population), "--period", "2026Q4",
                   "--inspectors", "50")
    assert too_many.returncode == 5 and "the draw needs 50" in too_many.stderr
    with catalog(roster) as conn:
        assert conn.execute("SELECT COUNT(*) FROM inspection_draws WHERE period = '2026Q4'"
                            ).fetchone()[0] == 0


def test_conflicts_leaving_too_few_inspectors_refuse_and_write_nothing(
        cli: Any, roster: Path, tmp_path: Path) -> None:
    everyone = ["0001"] + [f"0{101 + i}" for i in range(5)]
    pop = write_population(tmp_path / "e.csv", 5, conflicts={"E0003": everyone})
    result = cli("inspect", "draw", "--population", str(pop), "--period", "2026Q4",
                 "--rate", "100%", "--inspectors", "2")
    assert result.returncode == 5 and "E0003 has 1 eligible" in result.stderr
    assert "inspection.drawn" not in ledger_types(roster)


def test_population_order_and_extra_columns_do_not_change_the_draw(tmp_path: Path) -> None:
    from avledger.core.inspect.population import read_population

    a = read_population(write_population(tmp_path / "a.csv", 25))
    b = read_population(write_population(tmp_path / "b.csv", 25, extra_columns=False,
                                         shuffle_seed=3))
    assert a.source_sha256 != b.source_sha256
    assert a.canonical == b.canonical


def test_dry_run_never_shows_the_outcome(cli: Any, roster: Path, population: Path) -> None:
    plan = ok(draw_cmd(cli, population, "2026Q4", "--dry-run"))
    assert plan["to_draw"] == 8 and plan["eligible_inspectors"] == 7
    assert "inspections" not in plan and "seed" not in plan
    assert "inspection.drawn" not in ledger_types(roster)


def test_export_csv_and_show(cli: Any, roster: Path, population: Path, tmp_path: Path) -> None:
    data = ok(draw_cmd(cli, population))
    out = cli("inspect", "export", "2026Q4", "--format", "csv")
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert [r["task_id"] for r in rows] == [i["task_id"] for i in data["inspections"]]
    assert rows[0]["inspector_badges"] == "; ".join(
        p["badge"] for p in data["inspections"][0]["inspectors"])
    assert rows[0]["enterprise_name"].startswith("平顶山")
    target = tmp_path / "published.csv"
    assert cli("inspect", "export", "2026Q4", "--out", str(target)).returncode == 0
    assert target.read_text(encoding="utf-8") == out.stdout
    shown = ok(cli("inspect", "show", str(data["id"]), "--json"))
    assert shown["inspections"] == data["inspections"]
    as_json = json.loads(cli("inspect", "export", "2026Q4", "--format", "json").stdout)
    assert as_json["seed"] == data["seed"]
    assert cli("inspect", "export", "2026Q4", "--format", "bundle").returncode == 2
    assert cli("inspect", "show", "2031Q1").returncode == 4


def test_published_bundle_reruns_without_avledger(cli: Any, roster: Path, tmp_path: Path
                                                  ) -> None:
    pop = write_population(tmp_path / "e.csv", 40, conflicts={"E0004": ["0101"]})
    ok(draw_cmd(cli, pop, "2026Q4", "--beacon", "national lottery 2026-09-30: 03 11 19 24"))
    bundle = tmp_path / "published"
    assert cli("inspect", "export", "2026Q4", "--format", "bundle", "--out",
               str(bundle)).returncode == 0
    assert sorted(p.name for p in bundle.iterdir()) == [
        "README.txt", "checkpoint.txt", "conflicts.json", "draw.json", "ledger.pub",
        "population.csv", "rerun_draw.py", "result.csv", "roster.json", "verify_ledger.py"]
    # the bundle is a receipt the ledger must extend
    assert cli("ledger", "verify", "--against", str(bundle)).returncode == 0
    # the system interpreter, isolated: no avledger, no project virtualenv
    rerun = subprocess.run(["/usr/bin/python3", "-I", str(bundle / "rerun_draw.py"),
                            str(bundle)], capture_output=True, text=True, cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert rerun.stdout.strip().endswith("OK")
    assert "recomputed, identical" in rerun.stdout
    assert "checkpoint signature OK" in rerun.stdout
    assert not (bundle / "__pycache__").exists()
    # without site packages (no blake3, no cryptography) the shipped verifier's pure-Python
    # BLAKE3 and Ed25519 still check the signature
    bare = subprocess.run(["/usr/bin/python3", "-I", "-S", str(bundle / "rerun_draw.py"),
                           str(bundle)], capture_output=True, text=True, cwd=tmp_path)
    assert bare.returncode == 0, bare.stdout + bare.stderr
    assert "checkpoint signature OK" in bare.stdout
    assert bare.stdout.strip().endswith("OK")
    # without the shipped verifier it says the signature was not checked, and checks the rest
    (bundle / "verify_ledger.py").rename(tmp_path / "verify_ledger.py")
    bare = subprocess.run(["/usr/bin/python3", "-I", "-S", str(bundle / "rerun_draw.py"),
                           str(bundle)], capture_output=True, text=True, cwd=tmp_path)
    (tmp_path / "verify_ledger.py").rename(bundle / "verify_ledger.py")
    assert bare.returncode == 0, bare.stdout + bare.stderr
    assert "checkpoint signature NOT checked" in bare.stdout
    assert bare.stdout.strip().endswith("OK, except that the checkpoint signature was not "
                                        "checked")
    # anyone who edits the published population, result or beacon is caught
    for name, old, new in [("population.csv", "E0010", "E0010b"),
                           ("draw.json", "national lottery", "regional lottery"),
                           ("draw.json", '"enterprise_id": "E', '"enterprise_id": "X')]:
        path = bundle / name
        original = path.read_text(encoding="utf-8")
        path.write_text(original.replace(old, new, 1), encoding="utf-8")
        bad = subprocess.run(["/usr/bin/python3", "-I", str(bundle / "rerun_draw.py"),
                              str(bundle)], capture_output=True, text=True)
        assert bad.returncode == 1 and "FAILED" in bad.stdout, (name, bad.stdout)
        path.write_text(original, encoding="utf-8")
    # the bundle goes only into a new or empty directory
    assert cli("inspect", "export", "2026Q4", "--format", "bundle", "--out",
               str(bundle)).returncode == 7


def test_rate_and_inspectors_default_from_the_config(cli: Any, roster: Path,
                                                     population: Path) -> None:
    plan = ok(cli("inspect", "draw", "--population", str(population), "--period", "2026Q4",
                  "--dry-run", "--json"))
    assert (plan["rate"], plan["to_draw"], plan["inspectors_per_enterprise"]) == ("1/5", 8, 2)
    cfg = roster / "avledger.yaml"
    cfg.write_text(cfg.read_text(encoding="utf-8") +
                   "inspections:\n  rate_percent: 12.5\n  inspectors: 3\n", encoding="utf-8")
    data = ok(cli("inspect", "draw", "--population", str(population), "--period", "2026Q4",
                  "--json"))
    assert (data["rate"], data["drawn"], data["inspectors_per_enterprise"]) == ("1/8", 5, 3)
    assert all(len(i["inspectors"]) == 3 for i in data["inspections"])


def test_two_desks_drawing_at_once_give_one_draw(roster: Path, population: Path) -> None:
    from tests.conftest import AVLEDGER_BIN

    cmd = [AVLEDGER_BIN, "inspect", "draw", "--population", str(population), "--period",
           "2026Q4", "--json"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    codes = sorted(p.wait(timeout=120) for p in procs)
    assert codes == [0, 5, 5], [p.stderr.read() for p in procs if p.stderr]
    assert ledger_types(roster).count("inspection.drawn") == 1
    with catalog(roster) as conn:
        assert conn.execute("SELECT COUNT(*) FROM inspection_draws").fetchone()[0] == 1


def test_a_draw_that_fails_midway_leaves_nothing(roster: Path, population: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The ledger append fails after the rows were inserted: the transaction takes both back,
    and the period is not blocked."""
    from avledger.core.inspect import inspections
    from avledger.errors import StorageError
    from avledger.store import ledger as ledger_store

    real_append = ledger_store.append

    def failing(conn: sqlite3.Connection, **kw: Any) -> Any:
        if kw.get("type") == "inspection.drawn":
            assert conn.execute("SELECT COUNT(*) FROM inspections").fetchone()[0] > 0
            raise StorageError("disk is full while appending to the ledger")
        return real_append(conn, **kw)

    monkeypatch.setattr(ledger_store, "append", failing)
    req = inspections.DrawRequest(population, "2026Q4", "20%", 2)
    with Avledger.open(loader.load()) as app, pytest.raises(StorageError):
        inspections.make(app, req)
    with catalog(roster) as conn:
        for table in ("inspection_draws", "inspections", "inspection_inspectors"):
            assert conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0
    assert "inspection.drawn" not in ledger_types(roster)
    monkeypatch.setattr(ledger_store, "append", real_append)
    with Avledger.open(loader.load()) as app:
        assert inspections.make(app, req)["round"] == 1


def test_export_write_failures_are_one_line(cli: Any, roster: Path, population: Path,
                                            tmp_path: Path) -> None:
    ok(draw_cmd(cli, population))
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    for args in (["--format", "bundle", "--out", str(blocker / "bundle")],
                 ["--format", "csv", "--out", str(blocker / "out.csv")]):
        result = cli("inspect", "export", "2026Q4", *args)
        assert result.returncode == 7, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("avledger: error: cannot write")
