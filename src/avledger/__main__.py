"""``python -m avledger``: the same as the ``avledger`` command."""

from avledger.cli.main import run

run()
