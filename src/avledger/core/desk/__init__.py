"""The equipment desk: devices, people, checkouts and the usage ledger (台账, rule B, Art. 4).

Owns the device registry (``devices``), the roster (``roster``), checkout and check-in
(``checkouts``), the pre-use check as pure decisions (``preuse``), what the desk reads from a
docked recorder (``docked``), gap records (``gaps``) and the usage ledger as a document
(``usage``). May use the shared core, ``clock`` and ``dock`` (a docked checkout reads the
recorder), ``ingest`` (hand-in at check-in), ``footage`` (what a checkout's clips are about,
set at check-in), ``config`` and ``store``.
"""
