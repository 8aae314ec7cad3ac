"""The C2SP tlog-witness ``add-checkpoint`` request body, and the monitoring path we add.

    old <size>
    <base64 consistency-proof hash>     (zero or more, at most 63)
    <empty line>
    <signed checkpoint note>
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

ADD_CHECKPOINT = "/add-checkpoint"
LATEST = "/checkpoint"  # GET ?origin=...: the latest cosigned checkpoint (our monitoring path)
SIZE_TYPE = "text/x.tlog.size"
MAX_PROOF = 63
MAX_BODY = 64 * 1024


@dataclass(frozen=True)
class AddCheckpoint:
    old: int
    proof: list[bytes]
    note: str


def encode(request: AddCheckpoint) -> bytes:
    lines = [f"old {request.old}"] + [base64.b64encode(p).decode() for p in request.proof]
    return ("\n".join(lines) + "\n\n" + request.note).encode()


def decode(body: bytes) -> AddCheckpoint:
    """Parse a request body; ValueError names what is malformed."""
    text = body.decode("utf-8")
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise ValueError("no empty line before the checkpoint")
    lines = head.split("\n")
    if not lines[0].startswith("old "):
        raise ValueError("the first line must be 'old <size>'")
    size = lines[0][4:]
    if not size.isdigit() or (size != "0" and size.startswith("0")):
        raise ValueError("the old size must be a decimal number without leading zeroes")
    if len(lines) - 1 > MAX_PROOF:
        raise ValueError(f"more than {MAX_PROOF} consistency proof lines")
    proof = [base64.b64decode(line, validate=True) for line in lines[1:]]
    if any(len(p) != 32 for p in proof):
        raise ValueError("a consistency proof line is not a 32-byte hash")
    return AddCheckpoint(int(size), proof, note)
