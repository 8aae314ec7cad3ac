"""The ledger's side of witnessing: submit checkpoints, keep cosignatures, fetch the latest.

Only the newest signed checkpoint is ever submitted (with a consistency proof from the size the
witness last cosigned), so a witness that was unreachable simply catches up on the next try:
the queue is the difference between the newest checkpoint and what each witness has cosigned,
kept in the cosignature file beside the checkpoint file. Network trouble is never an error
here: it is reported as an outcome, and the checkpoint is retried later.
"""

from __future__ import annotations

import logging
import threading
import urllib.error
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from avledger import verifier
from avledger.config.loader import Config
from avledger.core.witness import protocol
from avledger.i18n import _
from avledger.store import db
from avledger.store.catalogs import open_catalog
from avledger.store.checkpoints import CheckpointFile

log = logging.getLogger("avledger.witness")
TIMEOUT = 5.0  # seconds per request: a witness must never hold up the work


@dataclass(frozen=True)
class WitnessRef:
    url: str
    key: str  # cosignature verifier key

    @property
    def name(self) -> str:
        return self.key.split("+", 1)[0]

    def label(self) -> str:
        return f"witness {self.name} ({self.url})"


@dataclass(frozen=True)
class Outcome:
    witness: WitnessRef
    status: str  # cosigned | current | unreachable | refused
    size: int
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"witness": self.witness.url, "name": self.witness.name, "status": self.status,
                "size": self.size, "detail": self.detail}


def configured(config: Config) -> list[WitnessRef]:
    return [WitnessRef(str(w["url"]).rstrip("/"), str(w["key"]).strip())
            for w in config.get("custody.witnesses") or []]


def cosignature_file(config: Config) -> CheckpointFile:
    """Cosigned checkpoints, one JSON line each, beside the checkpoint file."""
    cp = config.checkpoint_file
    return CheckpointFile(cp.with_name("cosignatures" + (cp.suffix or ".log")))


def cosigned(config: Config) -> list[dict[str, Any]]:
    """Every cosignature kept: ``{"witness", "size", "note"}``."""
    return cosignature_file(config).read_records()


def last_cosigned(config: Config, witness: WitnessRef) -> tuple[int, str]:
    """(size, note) of the newest checkpoint ``witness`` cosigned for us; (0, "") if none."""
    kept = [(int(r["size"]), str(r["note"])) for r in cosigned(config)
            if r.get("witness") == witness.url]
    return max(kept, default=(0, ""), key=lambda k: k[0])


def with_cosignatures(config: Config, note: str, size: int) -> str:
    """``note`` with every cosignature kept for it appended (for artifacts that leave)."""
    lines = []
    for rec in cosigned(config):
        if int(rec.get("size", -1)) != size:
            continue
        for line in str(rec["note"]).splitlines(keepends=True):
            if line.startswith("\u2014 ") and line not in note and line not in lines:
                lines.append(line)
    return note + "".join(lines)


def _leaves(conn: db.Connection, size: int) -> list[bytes]:
    return [verifier.leaf_hash(r[0]) for r in conn.execute(
        "SELECT hash FROM ledger WHERE seq <= ? ORDER BY seq", (size,))]


def _post(url: str, body: bytes, timeout: float) -> tuple[int, str]:
    import urllib.request  # here: HTTP, e-mail parsing and TLS load only with a witness

    req = urllib.request.Request(url + protocol.ADD_CHECKPOINT, data=body, method="POST",
                                 headers={"Content-Type": "text/plain; charset=utf-8"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return int(resp.status), resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read().decode("utf-8", "replace")


def submit(config: Config, conn: db.Connection, witness: WitnessRef, *,
           timeout: float = TIMEOUT) -> Outcome:
    """Bring ``witness`` up to the newest signed checkpoint."""
    row = conn.execute("SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1").fetchone()
    if row is None:
        return Outcome(witness, "current", 0, "no checkpoint yet")
    size, note = int(row["size"]), str(row["note"])
    old, old_note = last_cosigned(config, witness)
    if old == size and verifier.split_note(old_note)[0] == verifier.split_note(note)[0]:
        return Outcome(witness, "current", size)
    leaves: list[bytes] | None = None
    try:
        for _attempt in range(2):  # a 409 tells the witness's size: one more try from there
            if old > size:
                return Outcome(witness, "refused", size, (
                    f"the witness has cosigned size {old}, larger than this ledger's newest "
                    f"checkpoint ({size}): a rollback?"))
            if leaves is None and 0 < old < size:
                leaves = _leaves(conn, size)
            proof = verifier.consistency_proof(leaves, old) if leaves and 0 < old < size else []
            status, text = _post(witness.url, protocol.encode(
                protocol.AddCheckpoint(old, proof, note)), timeout)
            if status == 409 and text.strip().isdigit() and int(text) != old:
                old = int(text)
                continue
            break
    except (OSError, urllib.error.URLError) as exc:
        log.info(_("{witness} unreachable ({error}); size {size} stays queued").format(
            witness=witness.label(), error=exc, size=size))
        return Outcome(witness, "unreachable", size, str(exc))
    if status != 200:
        log.warning(_("{witness} refused size {size}: {status} {text}").format(
            witness=witness.label(), size=size, status=status, text=text.strip()))
        return Outcome(witness, "refused", size, f"HTTP {status}: {text.strip()}")
    full = note + text
    if not verifier.verify_cosignatures(full, [witness.key]):
        return Outcome(witness, "refused", size, "the reply holds no valid cosignature")
    cosignature_file(config).append_record({"witness": witness.url, "size": size,
                                            "note": full})
    return Outcome(witness, "cosigned", size)


def submit_all(config: Config, conn: db.Connection, *, timeout: float = TIMEOUT,
               skip: set[str] | frozenset[str] = frozenset()) -> list[Outcome]:
    """Submit to every configured witness but those in ``skip`` (URLs)."""
    return [submit(config, conn, w, timeout=timeout) for w in configured(config)
            if w.url not in skip]


def latest(witness: WitnessRef, origin: str, *, timeout: float = TIMEOUT) -> str:
    """The witness's latest cosigned checkpoint of ``origin`` (its cosignature checked);
    OSError when unreachable, ValueError when it answers with nothing valid."""
    import urllib.request

    url = f"{witness.url}{protocol.LATEST}?origin={quote(origin, safe='')}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            note = str(resp.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise ValueError(f"{witness.label()} holds no checkpoint of {origin}") from exc
        raise
    except urllib.error.URLError as exc:
        raise OSError(str(exc.reason)) from exc
    if not verifier.verify_cosignatures(note, [witness.key]):
        raise ValueError(f"{witness.label()} answered without a valid cosignature")
    return note


_background = threading.Lock()


def submit_in_background(config: Config) -> threading.Thread:
    """Submit on a thread of its own, with its own catalog connection (the daemon: a slow or
    absent witness never holds up ingest). One at a time; each submits the newest."""
    thread = threading.Thread(target=_submit_quietly, args=(config,), daemon=True,
                              name="witness-submit")
    thread.start()
    return thread


def _submit_quietly(config: Config) -> None:
    if not _background.acquire(blocking=False):
        return
    try:
        catalog = open_catalog(config)
        try:
            submit_all(config, catalog.conn)
        finally:
            catalog.close()
    except Exception:  # noqa: BLE001 - witnessing must never disturb the daemon
        log.exception(_("submitting to witnesses failed"))
    finally:
        _background.release()
