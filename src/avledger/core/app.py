"""The session every command works through: config, catalog, store, actor and ledger.

Commands (CLI or daemon) open one ``Avledger``, do their work in ``transaction()`` blocks that
``record()`` ledger events alongside the change, and ``close()`` it, which signs a checkpoint
over any events not yet covered.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from avledger.config.loader import Config
from avledger.core import identity
from avledger.errors import AvledgerError, ConfigError, StorageError
from avledger.i18n import _
from avledger.store import checkpoints, db, keys
from avledger.store import ledger as ledger_store
from avledger.store.backend import ObjectStore
from avledger.store.catalog import Catalog
from avledger.store.catalogs import open_catalog
from avledger.store.factory import open_store
from avledger.store.keys import Signer, load_signer, public_key_path
from avledger.store.ledger import Event

if TYPE_CHECKING:  # the network side loads only when a witness is configured
    from avledger.core.witness import client as witness_client


@dataclass
class Avledger:
    config: Config
    actor: identity.Actor
    catalog: Catalog = field(init=False)
    store: ObjectStore = field(init=False)
    _signer: Signer | None = field(default=None, init=False)
    _wrote: bool = field(default=False, init=False)
    _no_signing: str | None = field(default=None, init=False)
    background_witnessing: bool = field(default=False, init=False)
    _witnesses_down: set[str] = field(default_factory=set, init=False)  # not retried this run

    def __post_init__(self) -> None:
        self.catalog = open_catalog(self.config)  # the configured backends, not yet connected
        self.store = open_store(self.config)

    @classmethod
    def open(cls, config: Config, *, daemon: bool = False, migrate: bool = True) -> Avledger:
        app = cls(config, identity.resolve(config, daemon=daemon))
        app.background_witnessing = daemon
        if not app.catalog.exists():
            raise StorageError(_("avledger is not initialised "
                                 "here (no catalog at {describe})").format(
                                   describe=app.catalog.describe()), hint=_("run 'avledger init'"))
        if migrate and app.catalog.pending():
            app.catalog.migrate()
        app._check_origin()
        return app

    def _check_origin(self) -> None:
        """The origin names the signing key; changing it later would break every signature."""
        row = self.catalog.conn.execute("SELECT value FROM meta WHERE key = 'origin'").fetchone()
        if row is not None and row[0] != self.origin:
            raise ConfigError([_("ledger.origin: is {origin!r} but this ledger was created as "
                                 "{row!r}; the origin cannot change after 'avledger init'").format(
                                   origin=self.origin, row=row[0])])

    # -- ledger ---------------------------------------------------------------------------
    @property
    def origin(self) -> str:
        return str(self.config.get("ledger.origin"))

    @property
    def signer(self) -> Signer:
        if self._signer is None:
            self._signer = load_signer(self.config.key_path, self.origin)
        return self._signer

    def prepare_to_sign(self) -> None:
        """Load the signing code on a thread now: a long ingest signs checkpoints as it goes,
        and importing it (about 0.1 s from a cold disk) then overlaps the copying instead of
        holding up the first group's commit."""
        if self._signer is None:
            threading.Thread(target=keys.preload, name="avledger-preload").start()

    def public_key(self) -> str:
        path = public_key_path(self.config.key_path)
        if path.exists():
            return path.read_text(encoding="utf-8").strip()
        return self.signer.verifier_key

    @property
    def checkpoint_file(self) -> checkpoints.CheckpointFile:
        return checkpoints.CheckpointFile(self.config.checkpoint_file)

    @contextmanager
    def transaction(self) -> Iterator[db.Connection]:
        """A write transaction; events recorded in it commit (or vanish) with the change."""
        with self.catalog.write() as conn:
            yield conn
        if self._wrote and checkpoints.checkpoint_due(
            self.catalog.conn, int(self.config.get("ledger.checkpoint_interval"))
        ):
            self.checkpoint()

    def record(self, conn: db.Connection, type: str, subject: str,
               payload: dict[str, Any] | None = None, *, ts: datetime | None = None,
               actor: identity.Actor | None = None) -> Event:
        """Append a ledger event in ``conn``'s transaction; unknown users change nothing."""
        who = actor or self.actor
        who.require(action=_("make changes ({type})").format(type=type))
        self._wrote = True
        return ledger_store.append(conn, actor=who.label, type=type, subject=subject,
                                   payload=payload, ts=ts)

    def record_many(self, conn: db.Connection,
                    events: Sequence[tuple[str, str, dict[str, Any]]]) -> None:
        """Several (type, subject, payload) events appended in order in ``conn``'s
        transaction, as ``record`` would append them one by one."""
        if not events:
            return
        self.actor.require(action=_("make changes ({type})").format(type=events[0][0]))
        self._wrote = True
        ledger_store.append_many(conn, actor=self.actor.label, events=events)

    def checkpoint(self) -> Any:
        """Sign the ledger as it is now, unless this session found it tampered with, and
        hand the checkpoint to the configured witnesses."""
        if self._no_signing is not None:
            return None
        cp = checkpoints.make_checkpoint(self.catalog, self.signer, self.origin,
                                         self.checkpoint_file)
        if cp is not None:
            self._keep_in_bucket(cp.size, cp.note)
            self.submit_to_witnesses()
        return cp

    def _keep_in_bucket(self, size: int, note: str) -> None:
        """With the S3 store, the checkpoint also goes into the bucket under a compliance
        lock. It is already signed and committed, so a failure here is logged, not raised:
        the next checkpoint is written there again."""
        put = getattr(self.store, "put_checkpoint", None)
        if put is None:
            return
        try:
            put(size, note)
        except AvledgerError as exc:
            import logging

            logging.getLogger("avledger.ledger").warning(
                _("checkpoint {size} not written to the bucket: {error}").format(
                    size=size, error=exc.one_line()))

    def submit_to_witnesses(self) -> list[witness_client.Outcome]:
        """Bring every configured witness up to the newest checkpoint. The daemon does it in
        the background (a slow witness never holds up ingest); a command waits a few seconds
        at most per witness, and not again in the same run once it proved unreachable. An
        unreachable witness is brought up to date next time. Without a witness configured
        the witness client (HTTP, temporary files) is not even loaded."""
        if not self.config.get("custody.witnesses"):
            return []
        from avledger.core.witness import client as witness_client

        if self.background_witnessing:
            witness_client.submit_in_background(self.config)
            return []
        outcomes = witness_client.submit_all(self.config, self.catalog.conn,
                                             skip=self._witnesses_down)
        self._witnesses_down |= {o.witness.url for o in outcomes if o.status == "unreachable"}
        return outcomes

    def refuse_signing(self, reason: str) -> None:
        """Sign nothing more in this session: a signature on top of a rewritten history
        would lend it the key's authority (``ledger verify`` calls this when it finds a
        problem)."""
        self._no_signing = reason

    @property
    def signing_refused(self) -> str | None:
        return self._no_signing

    def close(self) -> None:
        """Sign a checkpoint over what this session wrote, then release the catalog."""
        try:
            if self._wrote:
                self.checkpoint()
                self._wrote = False
        finally:
            self.catalog.close()

    def __enter__(self) -> Avledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

