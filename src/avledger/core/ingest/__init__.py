"""Ingest: copying a docked recorder's clips into the store with a complete custody trail.

Owns the ingest session (``session``), the 24-hour hand-in window (``window``), attributing
footage to the officer who had the recorder (``attribution``), re-reading from disk
(``readback``) and the unattended docking the daemon runs (``unattended``). May use the
shared core, ``dock``, ``clock``, ``custody``, ``retention.store_locks`` (Object Lock for new
objects), ``config`` and ``store``.
"""
