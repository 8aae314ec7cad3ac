"""The witness service: ``POST /add-checkpoint`` (C2SP tlog-witness) over waitress.

Per origin it keeps the latest checkpoint it cosigned. A newer one is cosigned only if it is
signed by the ledger's key and a consistency proof shows it extends the one kept; a different
root at the same size (a fork) is refused with 409, as is any submission whose old size is not
the size kept. Checking and persisting happen under one lock, so two submissions cannot roll
the kept checkpoint back (the race the specification warns of).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from avledger import verifier
from avledger.core.witness import protocol
from avledger.i18n import _
from avledger.store.keys import Cosigner

log = logging.getLogger("avledger.witness")

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


@dataclass(frozen=True)
class Kept:
    size: int
    root: bytes
    note: str  # the checkpoint with this witness's cosignature


class WitnessState:
    """The latest cosigned checkpoint of each origin, one JSON file each, replaced atomically."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def _file(self, origin: str) -> Path:
        return self.directory / (hashlib.sha256(origin.encode()).hexdigest()[:32] + ".json")

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """One writer at a time, across threads and processes."""
        with self._lock, open(self.directory / ".lock", "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            yield

    def get(self, origin: str) -> Kept | None:
        path = self._file(origin)
        if not path.exists():
            return None
        rec = json.loads(path.read_text(encoding="utf-8"))
        return Kept(int(rec["size"]), bytes.fromhex(rec["root"]), str(rec["note"]))

    def put(self, origin: str, kept: Kept) -> None:
        path = self._file(origin)
        tmp = path.with_suffix(".tmp")
        data = json.dumps({"origin": origin, "size": kept.size, "root": kept.root.hex(),
                           "note": kept.note}, ensure_ascii=False)
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@dataclass(frozen=True)
class Reply:
    status: str
    body: str
    content_type: str = "text/plain; charset=utf-8"


class Witness:
    """The protocol's decisions, separate from HTTP."""

    def __init__(self, cosigner: Cosigner, logs: Iterable[str], state: WitnessState,
                 clock: Callable[[], float] = time.time) -> None:
        self.cosigner = cosigner
        self.logs = {k.strip().split("+", 1)[0]: k.strip() for k in logs}
        self.state = state
        self.clock = clock

    def add_checkpoint(self, body: bytes) -> Reply:
        try:
            req = protocol.decode(body)
        except (ValueError, UnicodeDecodeError) as exc:
            return Reply("400 Bad Request", f"{exc}\n")
        origin = req.note.split("\n", 1)[0]
        key = self.logs.get(origin)
        if key is None:
            return Reply("404 Not Found", f"unknown log {origin!r}\n")
        try:
            cp = verifier.verify_checkpoint(req.note, key)
        except ValueError as exc:
            return Reply("403 Forbidden", f"{exc}\n")
        if req.old > cp.size:
            return Reply("400 Bad Request", "old size is larger than the checkpoint\n")
        with self.state.locked():
            kept = self.state.get(origin)
            size = kept.size if kept else 0
            if req.old != size:
                return Reply("409 Conflict", f"{size}\n", protocol.SIZE_TYPE)
            if kept is not None and cp.size == kept.size and cp.root != kept.root:
                log.warning(_("{origin}: FORK refused: size {size} with a different root").format(
                    origin=origin, size=cp.size))
                return Reply("409 Conflict", f"{size}\n", protocol.SIZE_TYPE)
            if kept is None and req.proof:
                return Reply("422 Unprocessable Entity", "a first checkpoint takes no proof\n")
            if kept is not None and cp.size > kept.size and not verifier.verify_consistency(
                    kept.size, cp.size, kept.root, cp.root, req.proof):
                log.warning(_("{origin}: refused size {size}: it does not extend size {kept}"
                              ).format(origin=origin, size=cp.size, kept=kept.size))
                return Reply("422 Unprocessable Entity", "the consistency proof does not "
                                                         "verify\n")
            line = self.cosigner.cosign(req.note, timestamp=int(self.clock()))
            self.state.put(origin, Kept(cp.size, cp.root, req.note + line))
        log.info(_("{origin}: cosigned size {size}").format(origin=origin, size=cp.size))
        return Reply("200 OK", line)

    def latest(self, origin: str) -> Reply:
        kept = self.state.get(origin) if origin in self.logs else None
        if kept is None:
            return Reply("404 Not Found", f"no checkpoint of {origin!r}\n")
        return Reply("200 OK", kept.note)

    def wsgi(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        method, path = environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")
        if method == "POST" and path == protocol.ADD_CHECKPOINT:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            if length > protocol.MAX_BODY:
                reply = Reply("413 Content Too Large", "request too large\n")
            else:
                reply = self.add_checkpoint(environ["wsgi.input"].read(length))
        elif method == "GET" and path == protocol.LATEST:
            origin = parse_qs(environ.get("QUERY_STRING", "")).get("origin", [""])[0]
            reply = self.latest(origin)
        else:
            reply = Reply("404 Not Found", "not found\n")
        data = reply.body.encode()
        start_response(reply.status, [("Content-Type", reply.content_type),
                                      ("Content-Length", str(len(data)))])
        return [data]


def serve(witness: Witness, host: str, port: int,
          on_listening: Callable[[int], None] | None = None) -> None:
    """Serve until interrupted; ``on_listening`` is told the port (useful with port 0)."""
    from waitress.server import create_server

    server: Any = create_server(witness.wsgi, host=host, port=port, threads=4,
                                ident="avledger-witness")
    if on_listening is not None:
        on_listening(int(server.effective_port))
    log.info(_("witness {name} listening on {host}:{port}").format(
        name=witness.cosigner.name, host=host, port=server.effective_port))
    try:
        server.run()
    finally:
        server.close()
