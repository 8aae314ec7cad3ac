"""``avledger witness init|key|serve``: a witness for another station's ledger."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from avledger.cli.common import console, load_config, new_app
from avledger.core.witness import station
from avledger.i18n import _

app = new_app("Witness another machine's ledger: keep its latest checkpoint, cosign only one "
              "that extends it (C2SP tlog-witness).")


@app.command("init")
def init() -> None:
    """Create the witness's cosigning key (once) and print its public key.

    Give the printed key to the ledger's administrator for custody.witnesses.

    Example: avledger witness init
    """
    created, key = station.init_key(load_config())
    if created:
        console.print(_("created the witness key; its public key is:"), highlight=False)
    typer.echo(key)


@app.command("key")
def key() -> None:
    """Print the witness's public key (for custody.witnesses on the ledger's machine).

    Example: avledger witness key
    """
    typer.echo(station.cosigner(load_config()).verifier_key)


@app.command("serve")
def serve(
    listen: Annotated[str | None, typer.Option(
        "--listen", help="host:port to listen on (default: witness.listen).")] = None,
    port_file: Annotated[Path | None, typer.Option(
        "--port-file", help="Write the port listened on to this file once ready.")] = None,
) -> None:
    """Serve POST /add-checkpoint until stopped (run it under systemd on the second machine).

    The ledgers it accepts are listed in witness.logs (their public keys).

    Example: avledger witness serve --listen 0.0.0.0:7380
    """
    def ready(port: int) -> None:
        if port_file is not None:
            tmp = port_file.with_suffix(".tmp")
            tmp.write_text(f"{port}\n", encoding="utf-8")
            tmp.replace(port_file)

    station.run(load_config(), listen, ready)
