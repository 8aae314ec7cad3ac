"""Viewing leaves no copy behind: the player reads the store's object through a read-only
descriptor on its standard input; afterwards no file anywhere under the home or the temporary
directories holds the footage, only the catalog and the checkpoint log changed, and the
viewing — start and end — is in the ledger and in the register."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from avledger.config import loader
from avledger.config.loader import Config, Layout
from avledger.core.access.viewing import player_command
from avledger.core.app import Avledger
from avledger.errors import NotFoundError, RefusedError
from tests.access.conftest import OPEN, SECRET, Office
from tests.conftest import AVLEDGER_BIN

# A "player" that proves what it was given: the bytes' SHA-256, where its stdin points, and
# whether that descriptor was opened read-only (access mode bits of the open flags).
PROBE = ("import hashlib, os, sys; data = sys.stdin.buffer.read(); "
         "flags = int(open('/proc/self/fdinfo/0').read().split('flags:')[1].split()[0], 8); "
         "print('seen', hashlib.sha256(data).hexdigest(), os.readlink('/proc/self/fd/0'), "
         "'readonly' if flags & 3 == os.O_RDONLY else 'WRITABLE')")


def snapshot(*roots: Path) -> dict[str, tuple[int, int]]:
    files = {}
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file():
                st = path.stat()
                files[str(path)] = (st.st_size, st.st_mtime_ns)
    return files


def clip_hashes(home: Path, clip_ids: list[int]) -> dict[str, str]:
    """SHA-256 of each clip's stored bytes (read in the test, through the store API)."""
    assert os.environ["AVLEDGER_HOME"] == str(home)
    app = Avledger.open(loader.load())
    try:
        out = {}
        for clip_id in clip_ids:
            digest = app.catalog.conn.execute("SELECT digest FROM clips WHERE id = ?",
                                              (clip_id,)).fetchone()[0]
            with app.store.open(digest) as fh:
                out[hashlib.sha256(fh.read()).hexdigest()] = digest
        return out
    finally:
        app.close()


def footage_copies(roots: list[Path], hashes: dict[str, str], since: float,
                   skip: Path) -> list[str]:
    """Files changed since ``since`` under ``roots`` (the store's objects excepted) whose
    content is one of the clips."""
    found = []
    for root in roots:
        for dirpath, _, names in os.walk(root, onerror=lambda e: None):
            if Path(dirpath).is_relative_to(skip):
                continue
            for name in names:
                path = Path(dirpath) / name
                try:
                    st = path.stat()
                    if st.st_mtime < since or not path.is_file():
                        continue
                    if (hashlib.sha256(path.read_bytes()).hexdigest() in hashes
                            and str(path) not in found):
                        found.append(str(path))
                except OSError:
                    continue
    return found


def test_viewing_leaves_no_copy(office: Office, tmp_path: Path) -> None:
    req = office.ask("party", "view", "--requester", "张经理", "--case", OPEN, "--documents",
                     "unit_letter,id_card")
    office.ok("access", "approve", str(req["id"]), actor="leader")
    hashes = clip_hashes(office.home, office.clips["open"])
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    before = snapshot(office.home, private_tmp)
    started = time.time() - 1
    result = subprocess.run(
        [AVLEDGER_BIN, "access", "fulfil", str(req["id"]), "--json", "--player",
         f"/usr/bin/python3 -I -c \"{PROBE}\""], capture_output=True, text=True,
        env=dict(os.environ, TMPDIR=str(private_tmp)))
    assert result.returncode == 0, result.stderr
    # The player got exactly the stored bytes, through a read-only descriptor on the object.
    seen = [line.split() for line in result.stderr.splitlines() if line.startswith("seen ")]
    assert len(seen) == 3
    store_objects = office.home / "data" / "store" / "objects"
    for _, sha, source, mode in seen:
        assert sha in hashes and mode == "readonly"
        assert Path(source).parent.parent.parent == store_objects
        assert Path(source).name == hashes[sha]
    # Nothing new anywhere but the catalog and the checkpoint log.
    after = snapshot(office.home, private_tmp)
    changed = {p for p in after if before.get(p) != after[p]}
    allowed = {str(office.home / "data" / n) for n in ("catalog.db", "catalog.db-wal",
                                                        "catalog.db-shm")}
    allowed.add(str(office.home / "log" / "checkpoints.log"))
    assert changed <= allowed, changed - allowed
    assert not list(private_tmp.iterdir())
    roots = [tmp_path, Path("/tmp"), Path("/var/tmp"), Path("/dev/shm")]
    assert footage_copies(roots, hashes, started, skip=store_objects) == []
    # (The search does find footage where there is some: a control.)
    digest = next(iter(hashes.values()))
    leak = tmp_path / "control" / "leak.bin"
    leak.parent.mkdir()
    leak.write_bytes((store_objects / digest[:2] / digest[2:4] / digest).read_bytes())
    assert footage_copies(roots, hashes, started, skip=store_objects) == [str(leak)]
    # The viewing is in the ledger and in the register, with its start and end.
    viewing = json_of(result)
    assert viewing["player"].startswith("/usr/bin/python3") and viewing["ok"]
    assert [r["exit"] for r in viewing["results"]] == [0, 0, 0]
    shown = office.ok("access", "show", str(req["id"]))
    types = [e["type"] for e in shown["events"]]
    assert types == ["access.requested", "access.approved", "access.viewing_started",
                     "access.viewing_ended"]
    start, end = shown["events"][2], shown["events"][3]
    assert start["payload"]["clips"] == office.clips["open"]
    assert start["ts"] == viewing["started_at"] and end["ts"] == viewing["ended_at"]
    assert start["ts"] <= end["ts"]
    line = next(e for e in office.register() if e["no"] == req["id"])
    assert line["status"] == "fulfilled" and line["viewed_from"] and line["viewed_to"]
    # A viewing is used once; seeing the footage again needs a new request.
    again = office.refused("access", "fulfil", str(req["id"]))
    assert "was already fulfilled" in again


def json_of(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    return dict(json.loads(result.stdout))


def test_viewing_without_a_player_lists_and_records(office: Office) -> None:
    req = office.ask("case_handler", "view", "--case", OPEN, actor="handler1")
    result = office.run("access", "fulfil", str(req["id"]), actor="handler1")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("would play clip") == 3
    assert "viewing for request" in result.stdout
    shown = office.ok("access", "show", str(req["id"]))
    assert shown["viewing"]["player"] is None and shown["viewing"]["ended_at"]
    assert shown["events"][-1]["payload"]["clips"] == [
        {"clip": c, "exit": None} for c in office.clips["open"]]


def test_interrupted_viewing_is_still_closed(office: Office) -> None:
    req = office.ask("case_handler", "view", "--case", OPEN, actor="handler1")
    player = ("/usr/bin/python3 -I -c \"import sys, time; print('started', file=sys.stderr, "
              "flush=True); time.sleep(120)\"")
    proc = subprocess.Popen([AVLEDGER_BIN, "access", "fulfil", str(req["id"]), "--player",
                             player], stderr=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env=dict(os.environ, AVLEDGER_ACTOR="handler1"))
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.strip() == "started":
            break
    proc.send_signal(signal.SIGINT)
    _, rest = proc.communicate(timeout=60)
    assert proc.returncode == 130, rest
    shown = office.ok("access", "show", str(req["id"]))
    assert shown["status"] == "fulfilled" and shown["viewing"]["ended_at"]
    assert shown["viewing"]["result"]["interrupted"] is True
    ended = shown["events"][-1]
    assert ended["type"] == "access.viewing_ended" and ended["payload"]["interrupted"]


def test_player_problems_change_nothing(office: Office) -> None:
    req = office.ask("case_handler", "view", "--case", SECRET, actor="handler1")
    line = office.refused("access", "fulfil", str(req["id"]), "--player", "no-such-player -",
                          actor="handler1", code=4)
    assert "player 'no-such-player' not found" in line
    shown = office.ok("access", "show", str(req["id"]))
    assert shown["status"] == "approved" and shown["viewing"] is None


def test_only_configured_players_on_a_real_installation(home: Path) -> None:
    config = loader.load()
    real = Config(config.data, config.sources, Layout(None, Path("/etc/avledger/x.yaml"), {}))
    real.data["access"]["players"] = ["cat"]
    app = SimpleNamespace(config=real)
    assert player_command(app, "cat") == ["cat"]  # type: ignore[arg-type]
    with pytest.raises(RefusedError, match="not one of access.players"):
        player_command(app, "sh -c 'cp /dev/stdin /tmp/x'")  # type: ignore[arg-type]
    assert player_command(app, None) is None  # type: ignore[arg-type]
    dev = SimpleNamespace(config=config)
    assert player_command(dev, "cat -") == ["cat", "-"]  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        player_command(dev, "no-such-player")  # type: ignore[arg-type]


# A player that tells what it inherited: its environment and its open descriptors.
ENV_PROBE = ("import json, os, sys; sys.stdin.buffer.read(); "
             "print('inherited', json.dumps({'env': dict(os.environ), "
             "'fds': sorted(int(f) for f in os.listdir('/proc/self/fd'))}), file=sys.stderr)")


def test_player_inherits_no_environment_and_no_descriptors(office: Office,
                                                           tmp_path: Path) -> None:
    """Whoever runs avledger (through sudo, say) passes nothing to the player: not their
    environment, not a descriptor they left open; only the clip on stdin and the output."""
    req = office.ask("party", "view", "--requester", "张经理", "--case", OPEN, "--documents",
                     "unit_letter,id_card")
    office.ok("access", "approve", str(req["id"]), actor="leader")
    opened = os.open(tmp_path / "secret.txt", os.O_RDWR | os.O_CREAT, 0o600)
    leaked = os.dup2(opened, 57, inheritable=True)
    os.close(opened)
    try:
        result = subprocess.run(
            [AVLEDGER_BIN, "access", "fulfil", str(req["id"]), "--json", "--player",
             f"/usr/bin/python3 -I -c \"{ENV_PROBE}\""], capture_output=True, text=True,
            env=dict(os.environ, LD_PRELOAD="", SECRET_TOKEN="s3cr3t",
                     PYTHONSTARTUP="/tmp/evil.py"), pass_fds=(leaked,))
    finally:
        os.close(leaked)
    assert result.returncode == 0, result.stderr
    seen = [json.loads(line.split(" ", 1)[1]) for line in result.stderr.splitlines()
            if line.startswith("inherited ")]
    assert len(seen) == 3
    for probe in seen:
        assert set(probe["env"]) <= {"PATH", "AVLEDGER_CLIP", "AVLEDGER_CLIP_RECORDED",
                                     "LC_CTYPE"}  # python may set LC_CTYPE itself
        assert probe["env"]["PATH"] == "/usr/bin:/bin"
        # stdin (the clip), stdout and stderr (the output), and the listing's own descriptor
        assert leaked not in probe["fds"] and len(probe["fds"]) <= 4, probe["fds"]
