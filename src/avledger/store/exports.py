"""The one rule on footage leaving the store, written down so that a test can enforce it.

Footage reaches people only through the access register (rule A) and the archive discs (rule B,
Art. 16). So, outside ``store/``, the object-store calls that hand out an object's bytes or its
path (``READ_CALLS``) are made only by the modules in ``READERS``, and the functions that move
footage out of the store (``EXPORTS``) are called only from where ``EXPORTS`` says: in the end
only by ``avledger access fulfil`` and ``avledger archive create`` — and, for a redacted version
only, ``avledger redact --preview`` — each of which writes a ledger event.
``tests/access/test_export_paths.py`` reads the source and fails on any other use.

The rule is the same for every backend: with the S3 store, ``open`` streams the object from
the bucket and ``link_into`` downloads a copy into the staging folder, through these calls only.
"""

from __future__ import annotations

READ_CALLS = ("open", "link_into", "path_for")

READERS = {
    "avledger.core.ingest.session": "re-reads a clip it has just stored (--verify) and reads its "
                            "container for the duration",
    "avledger.core.archive.content": "hashes clips for an archive set, or copies them into a "
                                     "copy package while hashing",
    "avledger.core.archive.build": "links clips into a disc's staging folder for xorriso",
    "avledger.core.access.viewing": "hands one clip, opened read-only, to a player's stdin",
    "avledger.core.redact.derived": "gives ffmpeg the original of a clip to render a "
                                    "redaction (kept in the store, a ledger event) or to "
                                    "propose face boxes; writes the redacted version to "
                                    "'avledger redact --preview' (a ledger event)",
    "avledger.core.install.relocate": "streams every object into the installation's new store "
                              "(avledger migrate): the footage moves store to store, hashed "
                              "on the way, and reaches no person",
    "avledger.core.custody.copies": "copies each object into the second store location "
                                    "(store.copies: 2) and mends either copy from the other, "
                                    "hashed on the way: store to store, to no person",
}

# function -> the places allowed to call it ("module" or "module:function")
EXPORTS = {
    # (a clip's custody report only hashes: no copy, nothing written)
    "hash_clips": ("avledger.core.archive.build", "avledger.core.access.package",
                   "avledger.core.reports.custody"),
    "create_archive": ("avledger.cli.archive_cmd:create",),
    "make_package": ("avledger.cli.access_cmd:fulfil",),
    "run_viewing": ("avledger.cli.access_cmd:fulfil",),
    "make_redaction": ("avledger.cli.redact_cmd:redact",
                       "avledger.core.access.redactions:redacted_versions"),
}
