"""The dock: what a recorder is and how its volume is reached, before any footage moves.

Owns reading a volume per its device profile (``volume``), which profile a volume or block
device is (``recognition``), opening a recorder presented at the desk (``recorder_volume``),
mounting block devices read-only (``mounting``), the generated udev rule (``udevrule``),
recorder identity as ingest sees it (``recorders``), which of a volume's clips the catalog
already holds (``ingested``), clip durations from their containers (``media``), dock status
rows (``status``) and profile checks against a volume (``profilecheck``). May use the shared
core, ``config`` and ``store``; never the clock, ingest, the desk, cases or retention.
"""
