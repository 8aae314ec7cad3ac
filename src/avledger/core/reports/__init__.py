"""Reports (rule B, Art. 17): what supervisors read and print for the annual review and for
monthly checks.

One module per section computes plain data from the catalog and the custody ledger for a period
(``footage``, ``handin``, ``clocks``, ``usage``, ``retention``, ``access``, ``integrity``,
``review``); ``build`` assembles the sections a report kind needs; the ``render_*`` modules
print that one data structure as HTML (with inline SVG charts from ``svg``), Markdown, CSV,
JSON or PDF, with labels from ``i18n`` in English or Chinese. Nothing in a report is typed in by
hand.

``custody`` is the one report about a single clip rather than a period: its chain of custody,
every event that touched it (found by ``custody_events``) with its inclusion proof, printed
by the same renderers with labels from ``custody_labels``.
"""
