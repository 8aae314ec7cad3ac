"""A read-only viewing (rule A, Art. 4: the material does not leave the archive room).

Each clip is opened read-only from the store and handed to the player as its standard input —
the player reads the stored bytes and no copy is made anywhere. A clip with a redaction spec
attached to the request is played only in its redacted version. The start is recorded before
the player runs and the end after it exits (also when interrupted), so the ledger and the
register show who watched what, and for how long. Without a player, the viewing lists what
would be shown and is recorded the same way.
"""

from __future__ import annotations

import contextlib
import json
import shlex
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from avledger.core.access.redactions import redacted_versions
from avledger.core.access.requests import mark_fulfilled, ready_to_fulfil
from avledger.core.app import Avledger
from avledger.core.clipref import fetch_clips
from avledger.errors import DeviceError, NotFoundError, RefusedError
from avledger.i18n import _
from avledger.timestamps import iso, parse_iso

Clock = Callable[[], datetime]


@dataclass
class Viewing:
    request_id: int
    started_at: str
    player: str | None
    clips: list[dict[str, Any]]
    ended_at: str | None = None
    results: list[dict[str, Any]] = field(default_factory=list)
    interrupted: bool = False

    @property
    def seconds(self) -> float:
        if self.ended_at is None:
            return 0.0
        return (parse_iso(self.ended_at) - parse_iso(self.started_at)).total_seconds()

    @property
    def ok(self) -> bool:
        return not self.interrupted and all(r["exit"] in (0, None) for r in self.results)

    def as_dict(self) -> dict[str, Any]:
        return {"request": self.request_id, "started_at": self.started_at,
                "ended_at": self.ended_at, "seconds": round(self.seconds, 3),
                "player": self.player, "clips": self.clips, "results": self.results,
                "interrupted": self.interrupted, "ok": self.ok}


def player_command(app: Avledger, given: str | None) -> list[str] | None:
    """The player to run: ``given`` (on a real installation only a configured one), else
    ``access.player``; None to list only. Arbitrary commands would run as the service user,
    which can read the whole store, so only development homes accept any."""
    configured = str(app.config.get("access.player") or "")
    allowed = [configured, *app.config.get("access.players")]
    text = given if given is not None else configured
    if not text.strip():
        return None
    if given is not None and not app.config.layout.development and given not in allowed:
        raise RefusedError(_("player {given!r} is not one of access.players").format(given=given),
                           hint=_("the administrator lists allowed players in the config"))
    argv = shlex.split(text)
    if shutil.which(argv[0]) is None:
        raise NotFoundError(_("player {argv!r} not found").format(argv=argv[0]),
                            hint=_("install it or fix "
                                                                    "access.player / --player"))
    return argv


def run_viewing(app: Avledger, request_id: int, *, player: list[str] | None, clock: Clock,
         player_output: int | None = None,
         announce: Callable[[dict[str, Any]], None] | None = None) -> Viewing:
    """Fulfil a view request: record the start, play each clip read-only, record the end."""
    item = ready_to_fulfil(app, request_id)
    if item["action"] != "view":
        raise RefusedError(_("request {request_id} is for a copy, not a viewing").format(
                               request_id=request_id))
    rows = fetch_clips(app.catalog.conn, item["clips"])
    redacted = redacted_versions(app, item, clock())
    digests = {i: redacted[i].digest if i in redacted else r["digest"] for i, r in rows.items()}
    clips = [{"clip": i, "size": redacted[i].size if i in redacted else r["size"],
              "recorded_at": r["corrected_start"], "source_path": r["source_path"],
              "redaction": redacted[i].id if i in redacted else None}
             for i, r in rows.items()]
    line = shlex.join(player) if player else None
    start = clock()
    viewing = Viewing(request_id, iso(start), line, clips)
    with app.transaction() as conn:
        conn.execute("INSERT INTO access_viewings (request_id, started_at, started_by, player)"
                     " VALUES (?, ?, ?, ?)", (request_id, iso(start), app.actor.label, line))
        mark_fulfilled(app, conn, request_id, start)
        app.record(conn, "access.viewing_started", f"access:{request_id}", {
            "clips": item["clips"], "player": line, "started_at": iso(start),
            "redacted": {str(i): {"redaction": r.id, "blake3": r.digest}
                         for i, r in redacted.items()}}, ts=start)
    try:
        for clip in clips:
            if announce:
                announce(clip)
            if player is None:
                viewing.results.append({"clip": clip["clip"], "exit": None})
                continue
            digest = digests[clip["clip"]]  # a redacted clip: only its redacted version
            env = dict(PLAYER_ENV, AVLEDGER_CLIP=str(clip["clip"]),
                       AVLEDGER_CLIP_RECORDED=str(clip["recorded_at"] or ""))
            with app.store.open(digest) as source:
                try:
                    code = _play(player, source, player_output, env)
                except OSError as exc:
                    viewing.results.append({"clip": clip["clip"], "exit": None,
                                            "error": exc.strerror or str(exc)})
                    raise DeviceError(_("the player could not be started: {error}").format(
                                          error=exc.strerror or exc)) from exc
            viewing.results.append({"clip": clip["clip"], "exit": code})
    except KeyboardInterrupt:
        viewing.interrupted = True
        raise
    finally:
        end = clock()
        viewing.ended_at = iso(end)
        result = {"clips": viewing.results, "interrupted": viewing.interrupted}
        with app.transaction() as conn:
            conn.execute("UPDATE access_viewings SET ended_at = ?, result = ? WHERE request_id"
                         " = ?", (iso(end), json.dumps(result), request_id))
            app.record(conn, "access.viewing_ended", f"access:{request_id}", {
                "ended_at": iso(end), "seconds": round(viewing.seconds, 3), **result}, ts=end)
    return viewing


# A player runs with a fixed environment of ours (nothing inherited from the caller, who may
# have come through sudo) and no open descriptor but the clip on stdin and the output.
PLAYER_ENV = {"PATH": "/usr/bin:/bin"}


def _play(player: list[str], source: Any, output: int | None, env: dict[str, str]) -> int:
    """Run the player on one clip: the object's own file as its stdin when it has one (local
    store), else the bytes streamed through a pipe (S3). A player that stops reading early
    (closed its stdin) is not an error of ours."""
    try:
        source.fileno()
    except (AttributeError, OSError, ValueError):
        pass
    else:
        return subprocess.run(player, stdin=source, stdout=output, env=env, close_fds=True,
                              pass_fds=(), check=False).returncode
    proc = subprocess.Popen(player, stdin=subprocess.PIPE, stdout=output, env=env,
                            close_fds=True, pass_fds=())
    assert proc.stdin is not None
    try:
        shutil.copyfileobj(source, proc.stdin, 1024 * 1024)
    except BrokenPipeError:
        pass
    finally:
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.close()
    return proc.wait()
