"""The access register (rule A): who may view or copy footage, and every look-up and copy.

Modules: ``policy`` (the rules as data and the pure decision), ``requests`` (registering,
approving, denying), ``viewing`` (read-only viewings), ``package`` (verifiable copy packages),
``cover`` (cover sheet and VERIFY.txt), ``register`` (the 查阅登记簿 as a document),
``summary`` (figures for reports), ``labels`` (Chinese and English names).

Footage leaves the store only through ``viewing`` (to a player's standard input, never to a
file), ``package`` (approved copies) and the archive discs of ``core.archive``.
"""

from avledger.core.access.summary import summary

__all__ = ["summary"]
