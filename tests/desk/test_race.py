"""Two desks checking out the same device at the same moment: exactly one wins.

The partial unique index ``checkouts_one_open`` is the arbiter. The CLI test starts two real
``avledger checkout`` processes at once; the core test holds two processes at a barrier after
both have passed the pre-check, so that both really try to insert and one must be turned away
by the index (not by the friendly pre-check).
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import AVLEDGER_BIN
from tests.desk.conftest import register

ROUNDS = 6


def _start(serial: str, badge: str) -> subprocess.Popen[str]:
    env = dict(os.environ, COLUMNS="200")
    return subprocess.Popen(
        [AVLEDGER_BIN, "checkout", serial, "--to", badge, "--task", f"race {badge}",
         "--battery", "90", "--storage-free", "90", "--json"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env)


def test_two_cli_processes_race_for_one_device(desk, dcli) -> None:  # type: ignore[no-untyped-def]
    register(desk, "SN-1")
    for _ in range(ROUNDS):
        a, b = _start("SN-1", "0003"), _start("SN-1", "0004")
        results = [(p.wait(60), *p.communicate()) for p in (a, b)]
        codes = sorted(r[0] for r in results)
        assert codes == [0, 5], results
        loser = next(r for r in results if r[0] == 5)
        assert "is already checked out" in loser[2]
        assert len(loser[2].strip().splitlines()) == 1
        assert dcli("checkin", "SN-1").returncode == 0
    conn = desk.catalog.conn
    assert conn.execute("SELECT COUNT(*) FROM checkouts").fetchone()[0] == ROUNDS
    opened = conn.execute("SELECT COUNT(*) FROM ledger WHERE type = 'checkout.opened'")
    assert opened.fetchone()[0] == ROUNDS
    assert dcli("ledger", "verify").returncode == 0


def _racer(home: str, badge: str, barrier: Any, results: Any) -> None:
    """A desk process that waits, after its pre-use check, until the other has done its own."""
    os.environ["AVLEDGER_HOME"] = home
    from avledger.config import loader
    from avledger.core.app import Avledger
    from avledger.core.desk import checkouts
    from avledger.errors import AvledgerError

    original = checkouts._pre_use

    def pre_use_then_wait(*args: Any, **kw: Any) -> Any:
        result = original(*args, **kw)
        barrier.wait(30)
        return result

    checkouts._pre_use = pre_use_then_wait  # type: ignore[assignment]
    app = Avledger.open(loader.load())
    try:
        co = checkouts.check_out(app, checkouts.CheckoutRequest(
            "SN-1", badge, "race", battery_percent=90, storage_free_percent=90))
        results.put((badge, "won", co["id"]))
    except AvledgerError as exc:
        results.put((badge, type(exc).__name__, exc.one_line()))
    finally:
        app.close()


def test_the_unique_index_turns_the_loser_away(desk, desk_home: Path) -> None:  # type: ignore[no-untyped-def]
    register(desk, "SN-1")
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_racer, args=(str(desk_home), badge, barrier, results))
             for badge in ("0003", "0004")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    outcome = sorted([results.get(timeout=5) for _ in procs], key=lambda r: r[1])
    assert [r[1] for r in outcome] == ["RefusedError", "won"], outcome
    winner = outcome[1][0]
    assert outcome[0][2].startswith(f"device SN-1 is already checked out to {winner} (")
    rows = desk.catalog.conn.execute("SELECT badge FROM checkouts").fetchall()
    assert [r[0] for r in rows] == [winner]

