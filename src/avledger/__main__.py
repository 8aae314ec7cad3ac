"""``python -m avledger``: the same as the ``avledger`` command."""

from avledger.cli.launch import run

run()
