"""Witnesses: checkpoints cosigned on other machines, so a rollback or fork cannot go unseen.

Owns the C2SP tlog-witness protocol (``protocol``), the witness service a second machine runs
(``server``: keeps the largest checkpoint of each ledger, cosigns only one that provably
extends it) and the ledger's side (``client``: submits every signed checkpoint, keeps the
cosignatures beside the checkpoint file, retries an unreachable witness later, and fetches a
witness's latest cosigned checkpoint for ``ledger verify``). Imports neither ``core.app`` nor
other core packages, so the session can submit after signing; may use ``config``, ``store``
and the standalone ``verifier``.
"""
