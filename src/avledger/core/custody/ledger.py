"""Custody ledger services: verification, listing and export (checkpoints: ``checkpoints``).

Checkpoints are signed notes over (origin, size, Merkle root, head hash), stored in the catalog
and appended to a file outside it, so that deleting the tail of the ledger (which leaves a
valid chain) is still detected.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from avledger import verifier
from avledger.config.loader import Config
from avledger.core.custody import receipts
from avledger.core.witness import client as witness_client
from avledger.errors import IntegrityError, NotFoundError, StorageError
from avledger.i18n import _
from avledger.store import db
from avledger.store import ledger as ledger_store
from avledger.store.catalog import Catalog
from avledger.store.checkpoints import CheckpointFile
from avledger.timestamps import iso, utcnow

if TYPE_CHECKING:
    from avledger.core.app import Avledger


@dataclass
class LedgerVerifyReport:
    size: int
    head: str
    checkpoints_db: int
    checkpoints_file: int
    problems: list[verifier.Problem] = field(default_factory=list)
    latest_checkpoint: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad(self) -> int | None:
        seqs = [p.seq for p in self.problems if p.seq is not None]
        return min(seqs) if seqs else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "events": self.size, "head": self.head,
            "checkpoints_in_catalog": self.checkpoints_db,
            "checkpoints_in_file": self.checkpoints_file,
            "latest_checkpoint": self.latest_checkpoint, "first_bad_seq": self.first_bad,
            "problems": [str(p) for p in self.problems], "notes": self.notes,
        }


def _signed(rows: list[dict[str, Any]], label: str, public_key: str,
            problems: list[verifier.Problem]) -> dict[int, verifier.Checkpoint]:
    """The checkpoints among ``rows`` whose signature verifies; the rest become problems."""
    good: dict[int, verifier.Checkpoint] = {}
    for rec in rows:
        if rec.get("error"):
            problems.append(verifier.Problem(None, f"{label}: {rec['error']}"))
            continue
        try:
            cp = verifier.verify_checkpoint(rec["note"], public_key)
        except ValueError as exc:
            problems.append(verifier.Problem(None, f"{label}: {exc}"))
            continue
        if cp.size != rec["size"]:
            problems.append(verifier.Problem(None, f"{label}: checkpoint says size {cp.size} "
                                                   f"but is filed under {rec['size']}"))
            continue
        good.setdefault(cp.size, cp)
    return good


def _creation_key(conn: db.Connection) -> str | None:
    row = conn.execute("SELECT type, payload FROM ledger WHERE seq = 1").fetchone()
    if row is None or row["type"] != "ledger.created":
        return None
    try:
        key = json.loads(row["payload"]).get("public_key")
    except (json.JSONDecodeError, AttributeError):
        return None
    return key if isinstance(key, str) else None


def verify(catalog: Catalog, public_key: str, origin: str, cp_file: CheckpointFile,
           against: Sequence[receipts.Receipt] = ()) -> LedgerVerifyReport:
    """Chain, signatures, agreement between the catalog and the checkpoint file, and that
    the ledger extends every receipt in ``against`` (checkpoints that left the machine)."""
    conn = catalog.conn
    db_rows = [dict(r) for r in ledger_store.checkpoints(conn)]
    file_rows = cp_file.read()
    problems: list[verifier.Problem] = []
    notes: list[str] = []
    created_with = _creation_key(conn)
    if created_with is not None and created_with != public_key:
        problems.append(verifier.Problem(
            None, f"the verifying public key is not the one this ledger was created with "
                  f"(seq 1 names {created_with[:40]}…)"))
    in_db = _signed(db_rows, "catalog", public_key, problems)
    in_file = _signed(file_rows, "checkpoint file", public_key, problems)
    for size in sorted(set(in_db) - set(in_file)):
        problems.append(verifier.Problem(None, f"checkpoint at size {size} is in the catalog but "
                                               "missing from the checkpoint file"))
    for size in sorted(set(in_file) - set(in_db)):
        notes.append(f"checkpoint at size {size} is only in the checkpoint file (a checkpoint "
                     "interrupted before the catalog committed); it is checked like the others")
    parsed = in_file | in_db
    events = (e.as_dict() for e in ledger_store.iter_events(conn))
    chain = verifier.verify_chain(events, roots_at=set(parsed) | _sizes(against),
                                  keep_hashes=any(r.events for r in against))
    problems += chain.problems + verifier.check_checkpoints(chain, list(parsed.values()), origin)
    for receipt in against:
        problems += receipts.check(receipt, chain, public_key, origin)
    st = ledger_store.state(conn)
    if st.size != chain.last_seq or st.head != chain.head:
        problems.append(verifier.Problem(
            None, f"ledger state records {st.size} events (head {st.head[:12]}…) but the table "
                  f"ends at seq {chain.last_seq} (head {chain.head[:12]}…)"))
    latest = max(parsed) if parsed else 0
    if latest < chain.last_seq:
        notes.append(f"events {latest + 1}..{chain.last_seq} are not yet covered by a signed "
                     "checkpoint")
    if against:
        notes.append(f"checked against {len(against)} receipt(s): "
                     + ", ".join(sorted({r.source for r in against})))
    return LedgerVerifyReport(chain.size, chain.head, len(db_rows), len(file_rows),
                              verifier.sorted_problems(problems), latest, notes)


def is_url(target: str) -> bool:
    return target.startswith(("http://", "https://"))


def witness_receipts(config: Config, origin: str, named: Sequence[str] = ()
                     ) -> tuple[list[receipts.Receipt], list[str]]:
    """Each configured witness's latest cosigned checkpoint, as a receipt; and notes on the
    witnesses that could not be asked (unreachable: not a finding, but said). A witness named
    by URL must be configured: its key is what makes its answer worth anything."""
    known = witness_client.configured(config)
    for url in named:
        if url.rstrip("/") not in {w.url for w in known}:
            raise NotFoundError(_("{url} is not a configured witness (custody.witnesses)").format(
                                    url=url),
                                hint=_("add its url and key to custody.witnesses"))
    held: list[receipts.Receipt] = []
    notes: list[str] = []
    for ref in known:
        try:
            held.append(receipts.Receipt(ref.label(), witness_client.latest(ref, origin)))
        except OSError as exc:
            notes.append(f"{ref.label()} could not be asked ({exc}); not checked against it")
        except ValueError as exc:
            notes.append(f"{exc}; not checked against it")
    return held, notes


def bucket_receipt(store: object) -> list[receipts.Receipt]:
    """The newest checkpoint kept (compliance-locked) in the S3 bucket, when there is one."""
    latest = getattr(store, "latest_checkpoint", None)
    found = latest() if latest is not None else None
    return [receipts.Receipt(found[0], found[1])] if found else []


def _sizes(against: Sequence[receipts.Receipt]) -> set[int]:
    """The sizes the receipts claim (their signatures are checked later, one by one)."""
    sizes = set()
    for receipt in against:
        size = receipt.note.split("\n", 2)[1:2]
        if size and size[0].isdigit():
            sizes.add(int(size[0]))
    return sizes


def record_verification(app: Avledger, report: LedgerVerifyReport, started: datetime) -> bool:
    """Keep the result as a ``verify_runs`` row, so reports and ``status`` can say when the
    ledger was last verified and what was found; a clean result also as a ``ledger.verified``
    event, appended after the verification, so it is covered by the next one.

    A ledger with a problem is never written to: an event or checkpoint appended to a
    truncated or edited chain would sign over the damage. Only the run row, outside the
    ledger, says that problems were found. Returns whether the ledger was written to."""
    app.actor.require(action=_("make changes (ledger.verified)"))
    summary = report.as_dict() | {"mode": "full"}
    with app.transaction() as conn:
        conn.execute(
            "INSERT INTO verify_runs (kind, started_at, finished_at, actor, checked, problems,"
            " summary) VALUES ('ledger', ?, ?, ?, ?, ?, ?)",
            (iso(started), iso(utcnow()), app.actor.label, report.size, len(report.problems),
             json.dumps(summary, ensure_ascii=False)))
        if report.ok:
            app.record(conn, "ledger.verified", "ledger", {
                "ok": report.ok, "events": report.size, "head": report.head,
                "latest_checkpoint": report.latest_checkpoint, "problems": 0,
                "first_bad_seq": None, "details": []})
    return report.ok


def export(catalog: Catalog, public_key: str, out: Path, *, where: str = "",
           params: tuple[Any, ...] = (), config: Config | None = None) -> dict[str, Any]:
    """Write events.jsonl, checkpoints.jsonl, ledger.pub and the standalone verifier to ``out``."""
    prepare_export_dir(out)
    try:
        return _write_export(catalog, public_key, out, where, params, config)
    except OSError as exc:
        raise StorageError.from_os(exc, _("writing the export to {out}").format(out=out)) from exc


def prepare_export_dir(out: Path) -> None:
    """Create the (empty) target, or refuse, before anything is recorded."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise StorageError(_("export target {out} exists and is not an empty directory").format(
                               out=out),
                           hint=_("name a new directory"))
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError.from_os(exc, _("creating the export "
                                          "directory {out}").format(out=out)) from exc


def _write_export(catalog: Catalog, public_key: str, out: Path, where: str,
                  params: tuple[Any, ...], config: Config | None) -> dict[str, Any]:
    conn = catalog.conn
    n = 0
    conn.execute("BEGIN")  # one snapshot: checkpoints never cover events the export lacks
    try:
        with open(out / "events.jsonl", "w", encoding="utf-8") as fh:
            for ev in ledger_store.iter_events(conn, where=where, params=params):
                fh.write(json.dumps(ev.as_dict(), ensure_ascii=False, sort_keys=True) + "\n")
                n += 1
        cps = ledger_store.checkpoints(conn)
    finally:
        conn.execute("COMMIT")
    with open(out / "checkpoints.jsonl", "w", encoding="utf-8") as fh:
        for row in cps:
            note = (witness_client.with_cosignatures(config, row["note"], row["size"])
                    if config is not None else row["note"])
            fh.write(json.dumps({"size": row["size"], "note": note},
                                ensure_ascii=False) + "\n")
    (out / "ledger.pub").write_text(public_key + "\n", encoding="utf-8")
    shutil.copyfile(Path(verifier.__file__), out / "verify_ledger.py")
    readme = EXPORT_README + (FILTERED_NOTE if where else "")
    (out / "README.txt").write_text(readme, encoding="utf-8")
    return {"directory": str(out), "events": n, "checkpoints": len(cps), "complete": not where,
            "fingerprint": verifier.grouped(verifier.fingerprint(public_key))}


EXPORT_README = """avledger custody ledger export
================================

events.jsonl       every custody event, one JSON object per line, in sequence order
checkpoints.jsonl  signed checkpoints (Ed25519 signed notes over size, Merkle root, head hash)
ledger.pub         the public key that signed them (signed-note verifier key format)
verify_ledger.py   a standalone verifier: needs only Python 3 (no avledger, no database)

To verify, with your own copy of verify_ledger.py and the key the agency publishes (or its
fingerprint, as printed on its cover sheets, disc labels and report footers):

    python3 verify_ledger.py . --key agency.pub
    python3 verify_ledger.py . --fingerprint "<fingerprint>"

It recomputes every event hash and the hash chain, checks each checkpoint signature against
the trusted key, and checks that each checkpoint's Merkle root matches the events it covers.
It prints OK, or each problem with the sequence number of the first bad event, and exits
non-zero. Without --key or --fingerprint it checks everything else, prints the fingerprint of
ledger.pub, and ends "UNVERIFIED: no trusted key given" (exit 3): anyone can sign with a key
of their own. Checkpoints a witness cosigned carry its cosignature (--witness-key KEY checks
it). Every checkpoint here is a receipt: the agency's ledger must extend it for ever.
"""


FILTERED_NOTE = """
This export is FILTERED: it holds only some events, so the chain check reports the events
left out as missing, and the checkpoints cannot be matched. Use it to read those events;
to verify the ledger, export it without filters.
"""


def require_ok(report: LedgerVerifyReport) -> None:
    """Raise the one-line IntegrityError naming the first bad event, if any."""
    if not report.ok:
        first = report.first_bad
        message = _("custody ledger verification failed (first bad event: seq {first}): "
                    "{problems}") if first is not None else \
            _("custody ledger verification failed: {problems}")
        raise IntegrityError(message.format(first=first, problems=report.problems[0]),
                             hint=_("keep the catalog and checkpoint file as they are and "
                                    "investigate; see 'avledger ledger verify --json'"))
