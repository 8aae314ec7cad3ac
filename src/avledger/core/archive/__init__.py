"""Long-term archive discs (rule B, Art. 16): footage burned to optical media, two copies.

An archive *set* is the footage of a case, a hold or named clips, laid out over as many discs
as the media needs; each *copy* of the set is one such series of discs. Every disc carries the
set-wide manifest (BLAKE3 and SHA-256 of every file), its own ``SHA256SUMS`` for
``sha256sum -c``, the ledger excerpt for that footage with inclusion proofs, and a README; each
disc gets a printable label. The catalog tracks every disc: where it is kept and when it was
last verified.

Modules: ``media`` (capacities, spanning), ``selection`` (which clips), ``content`` (manifest,
checksums, README), ``excerpt`` (ledger excerpt and proofs), ``iso`` (xorriso), ``label``,
``build`` (making a set), ``verify`` (reading a disc back), ``register`` (the catalog).
"""
