"""Running a witness from the configuration: its key, its state, the ledgers it accepts."""

from __future__ import annotations

from collections.abc import Callable

from avledger.config.loader import Config
from avledger.core.witness.server import Witness, WitnessState, serve
from avledger.errors import ConfigError
from avledger.i18n import _
from avledger.store.keys import Cosigner, create_key, load_cosigner


def init_key(config: Config) -> tuple[bool, str]:
    """Create the cosigning key unless it exists; (created?, public key to hand out)."""
    created = create_key(config.path("witness.key_path"))
    return created, cosigner(config).verifier_key


def cosigner(config: Config) -> Cosigner:
    return load_cosigner(config.path("witness.key_path"), str(config.get("witness.name")))


def listen_address(config: Config, override: str | None) -> tuple[str, int]:
    text = override or str(config.get("witness.listen"))
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise ConfigError([_("witness.listen: {text!r} is not host:port").format(text=text)])
    return host or "0.0.0.0", int(port)


def run(config: Config, listen: str | None = None,
        on_listening: Callable[[int], None] | None = None) -> None:
    logs = list(config.get("witness.logs") or [])
    if not logs:
        raise ConfigError([_("witness.logs: lists no ledger key, so nothing could be witnessed "
                             "(add the output of 'avledger ledger public-key' of each ledger)")])
    host, port = listen_address(config, listen)
    witness = Witness(cosigner(config), logs, WitnessState(config.path("witness.state_dir")))
    serve(witness, host, port, on_listening)
