"""Redaction for disclosure (rule A, Art. 10; rule B, Art. 14): show a party what they may
see, never alter the original.

Owns the redaction spec (``spec``: parsing and strict validation), the ffmpeg filter graph
built from it (``graph``, pure), running ffmpeg and ffprobe (``render``), the rendered result
as derived evidence in the store and the ledger (``derived``), and face suggestions written as
a draft spec for a person to review (``suggest``; OpenCV is an optional extra). May use the
shared core, ``custody`` (registering objects), ``retention`` (the store locks),
``config`` and ``store``. The access register
attaches specs to requests and hands out redacted versions (``access.redactions``); retention
purges a redaction with its original.
"""
