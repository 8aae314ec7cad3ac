"""Wiring: configuration and profiles → the daemon's settings, matcher and runner."""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from avledger.config.loader import Config
from avledger.core.ingest.unattended import (
    CLEAR_REFUSED,
    daemon_profiles,
    load_ahead,
    match_block_device,
    run_docking,
)
from avledger.core.witness import client as witness_client
from avledger.daemon.scheduler import Job
from avledger.daemon.service import Daemon, DaemonSettings, Matcher
from avledger.i18n import N_, _

DROP_MEMORY = "drop-batches-ingested.json"


def settings_from(config: Config, concurrency: int | None = None,
                  drop_folders: list[Path] | None = None) -> DaemonSettings:
    folders = drop_folders if drop_folders else [Path(p) for p in config.get("daemon.drop_folders")]
    return DaemonSettings(
        concurrency=concurrency or int(config.get("daemon.concurrency")),
        drop_folders=tuple(folders),
        drop_profile=str(config.get("daemon.drop_profile")),
        settle_seconds=float(config.get("daemon.settle_seconds")),
        watch_udev=bool(config.get("daemon.watch_udev")),
        drop_memory=config.layout.dirs["data"] / DROP_MEMORY,
    )


def matcher_from(config: Config) -> Matcher:
    known = daemon_profiles(config)
    return lambda props: match_block_device(known, props)


def setup_logging(verbose: bool) -> None:
    under_journal = bool(os.environ.get("JOURNAL_STREAM") or os.environ.get("INVOCATION_ID"))
    fmt = "%(levelname)s %(message)s" if under_journal else \
        "%(asctime)s %(levelname)s %(message)s"
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG if verbose else logging.INFO,
                        format=fmt, force=True)


def serve(load: Callable[[], Config], *, concurrency: int | None = None,
          drop_folders: list[Path] | None = None) -> int:
    """Run the dock daemon until SIGTERM/SIGINT; SIGHUP reloads config and profiles."""
    current = {"config": load()}
    config = current["config"]
    Path(config.get("daemon.mount_dir")).mkdir(parents=True, exist_ok=True)
    if config.get("daemon.clear_after_ingest"):
        logging.getLogger("avledger.daemon").warning(_(CLEAR_REFUSED))
    # loaded on a thread so the daemon is ready at once; a docking meanwhile loads what it needs
    threading.Thread(target=load_ahead, args=(config,), name="avledger-load-ahead",
                     daemon=True).start()
    holder: dict[str, Daemon] = {}

    def runner(job: Job) -> dict[str, Any]:
        daemon = holder["daemon"]

        def stop() -> str | None:
            if daemon.stopping.is_set():
                return N_("the dock daemon is stopping")  # stored in English
            if job.cancel.is_set():
                return N_("the recorder was removed")
            return None

        kwargs: dict[str, Any] = {"device": job.key, "docked_at": job.docked_at} \
            if job.kind == "device" else {"folder": job.path}
        return run_docking(current["config"], profile=job.profile, stop=stop, **kwargs)

    def reload() -> tuple[DaemonSettings, Matcher]:
        fresh = load()
        current["config"] = fresh
        return settings_from(fresh, concurrency, drop_folders), matcher_from(fresh)

    def retry_witnesses() -> None:  # checkpoints an unreachable witness missed
        if witness_client.configured(current["config"]):
            witness_client.submit_in_background(current["config"])  # never waited for

    daemon = Daemon(settings_from(config, concurrency, drop_folders), matcher_from(config),
                    runner, reload=reload, housekeeping=retry_witnesses)
    holder["daemon"] = daemon
    return daemon.run()
