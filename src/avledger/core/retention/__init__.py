"""Retention (rule B, Arts. 15-16): how long footage is kept, what keeps it longer, and purge.

Owns the pure policy (``policy``), the facts it reads in bulk (``facts``), holds
(``holds``, with hold membership in ``held``), the pending-purge state (``pending``), purging
one clip with its redactions (``purge``), the daily sweep (``sweep``) and the mirror of these
decisions into a store that enforces them (``store_locks``). May use the shared core,
``cases`` (case links and keeping periods), ``config`` and ``store``.
"""
