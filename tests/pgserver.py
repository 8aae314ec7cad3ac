"""A throw-away PostgreSQL server on 127.0.0.1 for the tests (Debian's ``postgresql`` package).

``initdb`` into a temporary directory, ``pg_ctl start`` on a free port as an unprivileged user
(PostgreSQL refuses to run as root: under root the server runs as ``postgres``), one migrated
template database, and a fresh database per test copied from it (``CREATE DATABASE …
TEMPLATE``, fast). The server keeps its data on a tmpfs-like temp dir with ``fsync`` off: the
tests check behaviour, not durability of this throw-away cluster.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from avledger.store.postgres import PgCatalog, PgSettings

TEMPLATE = "avledger_template"


def bindir() -> Path | None:
    """Where initdb/pg_ctl are (the newest Debian cluster version), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    bin: Path
    root: Path
    port: int = 0
    user: str | None = None  # run the server as this OS user (when we are root)
    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def data(self) -> Path:
        return self.root / "data"

    def _run(self, *cmd: str) -> subprocess.CompletedProcess[str]:
        full = [str(self.bin / cmd[0]), *cmd[1:]]
        if self.user:
            full = ["runuser", "-u", self.user, "--", *full]
        return subprocess.run(full, capture_output=True, text=True, timeout=120, check=True,
                              cwd="/")

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--locale=C", "--no-sync")
        self.port = _free_port()
        opts = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
                " -c synchronous_commit=off -c full_page_writes=off -c max_connections=100")
        self._run("pg_ctl", "-D", str(self.data), "-o", opts, "-l", str(self.root / "log"),
                  "-w", "-t", "60", "start")
        self.make_template()

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root.parent, ignore_errors=True)  # the temporary directory

    def dsn(self, dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname}"

    def admin(self, sql: str) -> None:
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(sql)

    def make_template(self) -> None:
        """One database migrated once; every test's database is a copy of it."""
        self.admin(f"CREATE DATABASE {TEMPLATE} TEMPLATE template0 LC_COLLATE 'C'"
                   " LC_CTYPE 'C' ENCODING 'UTF8'")
        catalog = PgCatalog(PgSettings(self.dsn(TEMPLATE)))
        try:
            catalog.create()
        finally:
            catalog.close()

    def empty_database(self, *, collate: str = "C") -> str:
        """A new database with no schema (what a DBA creates before 'avledger init')."""
        name = f"avl_empty_{os.getpid()}_{next(self._counter)}"
        self.admin(f"CREATE DATABASE {name} TEMPLATE template0 LC_COLLATE '{collate}'"
                   f" LC_CTYPE '{collate}' ENCODING 'UTF8'")
        return self.dsn(name)

    def fresh_database(self) -> str:
        """A new, fully migrated database; returns its DSN."""
        name = f"avl_{os.getpid()}_{next(self._counter)}"
        self.admin(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        return self.dsn(name)


def launch() -> PgServer:
    """Start a server (the caller stops it); raises if the binaries are missing."""
    found = bindir()
    if found is None:
        raise FileNotFoundError("PostgreSQL server binaries (Debian package 'postgresql')")
    root = Path(tempfile.mkdtemp(prefix="avledger-pg-"))
    user = None
    if os.geteuid() == 0:
        user = "postgres"
        os.chmod(root, 0o755)
    server = PgServer(found, root / "cluster", user=user)
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    return server


def catalog_yaml(dsn: str) -> str:
    """The config section a home needs to use this database."""
    return f"catalog:\n  backend: postgres\n  dsn: {dsn!r}\n"
