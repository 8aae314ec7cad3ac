"""What footage is about (rule B, Art. 6; Annex 1): the recording checklist, and each clip's
category, matter, step, tags and note.

Owns ``checklist`` (the rows of ``footage.checklist`` as typed steps) and ``tagging`` (setting
what a clip is about, each change a ``clip.tagged`` ledger event). May use the shared core,
``config`` and ``store``. Coverage of a case's mandatory recordings is in ``cases.coverage``;
searching clips by these fields is ``core.clips``.
"""
