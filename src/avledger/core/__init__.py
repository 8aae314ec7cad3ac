"""The domain: everything avledger decides, with no command line and no daemon in it.

Shared by every concern and kept at this level: ``app`` (the session every command works
through), ``identity`` (who is acting), ``clips``, ``clipref`` and ``caseref`` (looking clips
and cases up), ``query``, ``units`` and ``status``; time helpers are ``avledger.timestamps``.
Each concern is a subpackage whose ``__init__`` says what it owns and what it may use:
``clock``, ``dock``, ``ingest``, ``custody``, ``retention``, ``cases``, ``desk``, ``inspect``,
``access``, ``redact``, ``archive``, ``reports``, ``install``, ``simulate`` and ``footage``.
Nothing here imports ``cli``, ``daemon``, typer or rich; the contracts in ``pyproject.toml``
(import-linter) check it.
"""
