"""Random inspections (Annex 3, "double random"): the verifiable draw and its register.

Owns the draw algorithm (``draw``, standard library only: it ships in bundles as a script),
the enterprise population file (``population``), declared conflicts of interest
(``conflicts``), making, voiding and listing draws (``inspections``), verifying a stored draw
(``verify``), publishing one (``export``) and which inspections have footage (``status``).
May use the shared core, ``custody``, ``config`` and ``store``.
"""
