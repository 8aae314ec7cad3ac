"""Signed checkpoints: making them, and the append-only file that keeps them outside the catalog.

Checkpoints are signed notes over (origin, size, Merkle root, head hash), stored in the catalog
and appended to a file outside it, so that deleting the tail of the ledger (which leaves a
valid chain) is still detected. The session (``core.app``) makes one when enough events have
been written; verification lives in ``custody.ledger``.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from avledger import verifier
from avledger.errors import StorageError
from avledger.i18n import _
from avledger.store import db
from avledger.store import ledger as ledger_store
from avledger.store.catalog import Catalog
from avledger.store.keys import Signer
from avledger.timestamps import iso, utcnow


@dataclass(frozen=True)
class CheckpointFile:
    """Append-only JSON-lines file of signed checkpoints, kept outside the database."""

    path: Path

    def append(self, size: int, note: str) -> None:
        """Append one line durably; on failure the file is cut back to where it was, so a
        half-written line never remains to look like tampering."""
        self.append_record({"size": size, "note": note})

    def append_record(self, record: dict[str, Any]) -> None:
        """Append one JSON line durably (see ``append``)."""
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        except OSError as exc:
            raise StorageError.from_os(exc, _("opening the checkpoint file {path}").format(
                                                path=self.path)) from exc
        try:
            start = os.fstat(fd).st_size
            try:
                view = memoryview(line)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            except OSError as exc:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, start)
                raise StorageError.from_os(
                    exc, _("appending to the "
                           "checkpoint file {path}").format(path=self.path)) from exc
        finally:
            os.close(fd)

    def read_records(self) -> list[dict[str, Any]]:
        """Every well-formed JSON line, as written by ``append_record``."""
        if not self.path.exists():
            return []
        out: list[dict[str, Any]] = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(rec, dict):
                out.append(rec)
        return out

    def read(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        out: list[dict[str, Any]] = []
        for n, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                out.append({"size": int(rec["size"]), "note": str(rec["note"])})
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                out.append({"size": -1, "note": "", "error": f"line {n} is not a checkpoint"})
        return out


def make_checkpoint(catalog: Catalog, signer: Signer, origin: str,
                    cp_file: CheckpointFile) -> verifier.Checkpoint | None:
    """Sign the current ledger state; None when the latest checkpoint already covers it.

    The line goes to the checkpoint file before the catalog commits (inside the same
    serialised write transaction, so lines stay in size order). A crash between the two
    leaves a signed checkpoint in the file only — harmless, and reported as a note by
    ``verify`` — never a catalog checkpoint the file lacks, which would signal tampering.
    """
    with catalog.write() as conn:
        st = ledger_store.state(conn)
        if st.size == 0 or ledger_store.latest_checkpoint_size(conn) >= st.size:
            return None
        ts = iso(utcnow())
        root = st.frontier.root()
        body = verifier.checkpoint_body(origin, st.size, root, st.head, ts)
        note = signer.sign_note(body)
        conn.execute(
            "INSERT INTO checkpoints (size, root, head, ts, note) VALUES (?, ?, ?, ?, ?)",
            (st.size, root.hex(), st.head, ts, note),
        )
        cp_file.append(st.size, note)  # raises StorageError; the row then rolls back
    return verifier.Checkpoint(origin, st.size, root, st.head, ts, note)


def checkpoint_due(conn: db.Connection, interval: int) -> bool:
    size = ledger_store.state(conn).size
    return size - ledger_store.latest_checkpoint_size(conn) >= interval
