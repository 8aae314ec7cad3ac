"""An installation as a whole: creating one (``setup``, ``avledger init``) and moving a
single-machine installation into the shared backends (``relocate``, ``avledger migrate``).

May use the shared core, ``custody`` (keys, ledger verification), ``retention.store_locks``,
``config`` and ``store``.
"""
