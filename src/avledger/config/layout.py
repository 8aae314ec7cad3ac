"""Where an installation keeps things: one home directory in development, FHS paths on a
real install. Light on purpose (no schema, no YAML): every start of the command reads it to
find the configuration file that says the site's language."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SYSTEM_CONFIG = Path("/etc/avledger/avledger.yaml")
SYSTEM_DIRS = {
    "data": Path("/var/lib/avledger"),
    "keys": Path("/etc/avledger/keys"),
    "log": Path("/var/log/avledger"),
    "run": Path("/run/avledger"),
    "config_dir": Path("/etc/avledger"),
}


@dataclass(frozen=True)
class Layout:
    """Where things live: one home directory in development, FHS paths on a real install."""

    home: Path | None
    config_file: Path
    dirs: dict[str, Path]

    @classmethod
    def discover(cls, environ: Mapping[str, str] | None = None) -> Layout:
        env = os.environ if environ is None else environ
        home = env.get("AVLEDGER_HOME")
        if home:
            root = Path(home).expanduser().resolve()
            dirs = {
                "data": root / "data",
                "keys": root / "keys",
                "log": root / "log",
                "run": root / "run",
                "config_dir": root,
            }
            return cls(root, root / "avledger.yaml", dirs)
        return cls(None, SYSTEM_CONFIG, dict(SYSTEM_DIRS))

    @property
    def development(self) -> bool:
        return self.home is not None
