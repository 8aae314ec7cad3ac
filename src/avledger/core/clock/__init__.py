"""Recorder clocks (rule B, Art. 7): reading a recorder's clock, measuring and classifying its
drift, writing a new time to it, and checking that the write took effect.

Owns ``check`` (measurement and classification), ``setter`` (the one write avledger makes to a
recorder), ``settle`` (settings awaiting their confirming reading) and ``sync`` (the ``clock
check`` / ``clock sync`` services). May use the shared core, ``dock`` (to open a recorder
volume and see what is not yet ingested), ``config`` and ``store``; never ``ingest``, which
uses the clock.
"""
