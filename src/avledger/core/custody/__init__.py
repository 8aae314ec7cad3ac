"""Custody: the tamper-evident ledger's services and the integrity of the object store.

Owns ``ledger`` (verification, listing, export) and ``integrity`` (store verification and
quarantine). The ledger's persistence sits one layer down, in ``store``: the event chain
(``store.ledger``), the signed checkpoints and their file (``store.checkpoints``) and the signing
key (``store.keys``), so that the session (``core.app``) can make checkpoints without importing
this package. May use the shared core, the standalone ``verifier`` (the Merkle and note formats
are defined there, once), ``config`` and ``store``.
"""
