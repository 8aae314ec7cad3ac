#!/usr/bin/env python3
"""Standalone verifier for avledger custody-ledger exports and copy packages.

This one file is all a third party (an auditor, a court) needs: it runs with a plain Python 3
(3.9 or later) and uses the ``blake3`` and ``cryptography`` packages when they are installed,
or the pure-Python BLAKE3 and Ed25519 routines below when they are not. It needs no avledger
database and does not import avledger. avledger itself uses these functions, so the program and
the third party check exactly the same thing.

Usage (a trusted key is required: --key FILE|TEXT, or --fingerprint HEX as printed on the
cover sheet, disc label or report footer; use your own copy of this file, not the one shipped
beside the evidence):
    python3 verify_ledger.py EXPORT_DIR --key KEY     # events.jsonl, checkpoints.jsonl, ledger.pub
    python3 verify_ledger.py --package DIR --fingerprint HEX
                                                      # a copy package (see its VERIFY.txt)
    python3 verify_ledger.py --custody REPORT.json --key KEY
                                                      # a clip's custody report (JSON edition)
    python3 verify_ledger.py --consistency OLD NEW PROOF --key KEY
                                                      # NEW checkpoint extends OLD (RFC 6962)
    ... --witness-key KEY                             # also require a witness's cosignature

Exit status 0 when everything verifies against the trusted key, 1 when anything does not (each
problem is printed, naming the file and line), 2 for a bad command line, and 3 when everything
else checks out but no trusted key was given ("UNVERIFIED: no trusted key given"; the key's
fingerprint is printed for the reader to compare).

A copy package is checked file by file against SHA256SUMS and MANIFEST.json (sizes and SHA-256;
BLAKE3 too when the blake3 package is installed); each event of its custody excerpt
(ledger/events.jsonl) against its own hash and, through its inclusion proof
(ledger/proofs.jsonl), against the Merkle root of the signed checkpoint
(ledger/checkpoint.txt, key ledger/ledger.pub); and the manifest against the package's sealed
record in that excerpt, which also lists every event the excerpt must contain.

Definitions (see docs/security.md, "The custody ledger"):
    canonical(e) = JSON of {seq, ts, actor, type, subject, payload}, keys sorted,
                   separators (",", ":"), UTF-8, no ASCII escaping
    hash_n       = BLAKE3(bytes(prev_hash) || canonical(e_n)), prev_hash of event 1 = 32 zero bytes
    leaf_n       = BLAKE3(0x00 || hash_n);  node = BLAKE3(0x01 || left || right)   (RFC 6962 tree)
    checkpoint   = C2SP tlog-checkpoint signed note: origin, size, base64 root,
                   extension lines "head <hex>" and "time <iso>", Ed25519 signature
"""

from __future__ import annotations

import base64
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Optional

if TYPE_CHECKING:
    from hashlib import _Hash

ZERO_HASH = "0" * 64
EVENT_FIELDS = ("seq", "ts", "actor", "type", "subject", "payload")

# --------------------------------------------------------------------------- hashing

try:  # the fast path: the blake3 package (Rust, multi-threaded)
    import blake3 as _blake3_mod

    def b3(data: bytes) -> bytes:
        return _blake3_mod.blake3(data).digest()

except ImportError:  # pragma: no cover - exercised by the standalone-verifier tests

    def b3(data: bytes) -> bytes:
        return _pure_blake3(data)


def b3_file(path: Path) -> str:
    """BLAKE3 hex digest of a file."""
    try:
        h = _blake3_mod.blake3(max_threads=_blake3_mod.blake3.AUTO)
        if path.stat().st_size:
            h.update_mmap(str(path))
        return str(h.hexdigest())
    except NameError:  # pragma: no cover
        return _pure_blake3(path.read_bytes()).hex()


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_body(event: dict[str, Any]) -> dict[str, Any]:
    return {k: event[k] for k in EVENT_FIELDS}


def event_hash(prev_hash: str, event: dict[str, Any]) -> str:
    return b3(bytes.fromhex(prev_hash) + canonical(event_body(event))).hex()


def leaf_hash(event_hash_hex: str) -> bytes:
    return b3(b"\x00" + bytes.fromhex(event_hash_hex))


def node_hash(left: bytes, right: bytes) -> bytes:
    return b3(b"\x01" + left + right)


# --------------------------------------------------------------------------- Merkle tree


def _split(n: int) -> int:
    """Largest power of two strictly less than n (n >= 2)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def merkle_root(leaves: list[bytes]) -> bytes:
    """RFC 6962 Merkle tree hash over already-hashed leaves."""
    if not leaves:
        return b3(b"")
    frontier = Frontier()
    for leaf in leaves:
        frontier.push(leaf)
    return frontier.root()


@dataclass
class Frontier:
    """The peaks (perfect subtrees) of a growing RFC 6962 tree: O(log n) state, O(1) root."""

    peaks: list[tuple[int, bytes]] = field(default_factory=list)
    size: int = 0

    def push(self, leaf: bytes) -> None:
        self.peaks.append((0, leaf))
        self.size += 1
        while len(self.peaks) >= 2 and self.peaks[-1][0] == self.peaks[-2][0]:
            h, right = self.peaks.pop()
            _, left = self.peaks.pop()
            self.peaks.append((h + 1, node_hash(left, right)))

    def root(self) -> bytes:
        if not self.peaks:
            return b3(b"")
        acc = self.peaks[-1][1]
        for _, peak in reversed(self.peaks[:-1]):
            acc = node_hash(peak, acc)
        return acc

    def to_json(self) -> str:
        return json.dumps([[h, p.hex()] for h, p in self.peaks])

    @classmethod
    def from_json(cls, text: str, size: int) -> Frontier:
        return cls([(int(h), bytes.fromhex(p)) for h, p in json.loads(text)], size)


def inclusion_proof(leaves: list[bytes], index: int) -> list[bytes]:
    """RFC 6962 audit path for leaf ``index`` in the tree of ``leaves``."""
    n = len(leaves)
    if n <= 1:
        return []
    k = _split(n)
    if index < k:
        return inclusion_proof(leaves[:k], index) + [merkle_root(leaves[k:])]
    return inclusion_proof(leaves[k:], index - k) + [merkle_root(leaves[:k])]


def verify_inclusion(leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes) -> bool:
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        return False
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def event_problem(event: dict[str, Any]) -> Optional[str]:
    """None when ``event`` matches its own hash; otherwise what is wrong, in words."""
    try:
        if event_hash(str(event["prev_hash"]), event) != event["hash"]:
            return "content does not match its hash (edited)"
    except (ValueError, KeyError, TypeError) as exc:
        return f"not a ledger event ({exc})"
    return None


def proved(event: dict[str, Any], proof: dict[str, Any], cp: Checkpoint) -> bool:
    """Does the inclusion ``proof`` (a proofs.jsonl record) lead from ``event``'s hash to the
    Merkle root the checkpoint signed?"""
    try:
        seq = int(event["seq"])
        path = [bytes.fromhex(p) for p in proof["proof"]]
        return (int(proof["size"]) == cp.size and int(proof.get("index", seq - 1)) == seq - 1
                and verify_inclusion(leaf_hash(str(event["hash"])), seq - 1, cp.size, path,
                                     cp.root))
    except (ValueError, KeyError, TypeError):
        return False


def consistency_proof(leaves: list[bytes], m: int) -> list[bytes]:
    """RFC 6962 PROOF(m, D[n])."""

    def subproof(m: int, d: list[bytes], complete: bool) -> list[bytes]:
        n = len(d)
        if m == n:
            return [] if complete else [merkle_root(d)]
        k = _split(n)
        if m <= k:
            return subproof(m, d[:k], complete) + [merkle_root(d[k:])]
        return subproof(m - k, d[k:], False) + [merkle_root(d[:k])]

    if m == 0 or m > len(leaves):
        return []
    return subproof(m, leaves, True)


def verify_consistency(m: int, n: int, root_m: bytes, root_n: bytes, proof: list[bytes]) -> bool:
    """RFC 9162 section 2.1.4.2."""
    if m == n:
        return root_m == root_n and not proof
    if m == 0 or m > n:
        return False
    if m & (m - 1) == 0:  # m is a power of two
        proof = [root_m] + proof
    if not proof:
        return False
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == root_m and sr == root_n and sn == 0


# --------------------------------------------------------------------------- signed checkpoints

ED25519_ALG = 0x01  # C2SP signed-note: an Ed25519 note signature
COSIGNATURE_ALG = 0x04  # C2SP tlog-cosignature: a timestamped Ed25519 cosignature/v1


def _sha(name: str, data: bytes = b"") -> _Hash:
    """A new ``hashlib`` hash (``sha256``, ``sha512``). hashlib is imported here, on first use:
    it loads OpenSSL, and avledger imports this module at every start, long before anything
    is signed or checked (key ids, package sums, signatures)."""
    import hashlib

    new: Callable[[bytes], _Hash] = getattr(hashlib, name)
    return new(data)


def key_id(name: str, public_key: bytes, alg: int = ED25519_ALG) -> bytes:
    return _sha("sha256", name.encode() + b"\n" + bytes([alg]) + public_key).digest()[:4]


def verifier_key(name: str, public_key: bytes, alg: int = ED25519_ALG) -> str:
    """``name+keyid+base64(alg||key)``, the signed-note verifier key format."""
    kid = key_id(name, public_key, alg).hex()
    return f"{name}+{kid}+{base64.b64encode(bytes([alg]) + public_key).decode()}"


def parse_verifier_key(text: str, alg: int = ED25519_ALG) -> tuple[str, bytes, bytes]:
    try:
        name, kid_hex, b64 = text.strip().split("+", 2)
        raw = base64.b64decode(b64, validate=True)
    except ValueError as exc:
        raise ValueError(f"malformed public key {text.strip()[:40]!r}") from exc
    if len(raw) != 33 or raw[0] != alg:
        kind = "an Ed25519 signed-note" if alg == ED25519_ALG else "an Ed25519 cosignature"
        raise ValueError(f"public key {name!r} is not {kind} key")
    if key_id(name, raw[1:], alg).hex() != kid_hex:
        raise ValueError("public key id does not match the key")
    return name, bytes.fromhex(kid_hex), raw[1:]


def fingerprint(public_key_text: str) -> str:
    """SHA-256 of the key as ``ledger.pub`` holds it (the key line and a newline), in hex:
    the same as ``sha256sum ledger.pub``, and what the cover sheet and disc label print."""
    return _sha("sha256", (public_key_text.strip() + "\n").encode()).hexdigest()


def grouped(hex_text: str) -> str:
    """A fingerprint in groups of four, as printed for people to compare."""
    return " ".join(hex_text[i:i + 4] for i in range(0, len(hex_text), 4))


MIN_FINGERPRINT_HEX = 32  # a typed-in prefix must carry at least 128 bits


def fingerprint_matches(public_key_text: str, given: str) -> bool:
    """Does ``given`` (spaces, colons and case ignored; a prefix of 32+ hex digits) name the key?"""
    wanted = "".join(c for c in given.lower() if c not in " :-\t")
    return (len(wanted) >= MIN_FINGERPRINT_HEX
            and fingerprint(public_key_text).startswith(wanted))


def checkpoint_body(origin: str, size: int, root: bytes, head: str, ts: str) -> str:
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\nhead {head}\ntime {ts}\n"


def sign_line(name: str, public_key: bytes, signature: bytes) -> str:
    blob = base64.b64encode(key_id(name, public_key) + signature).decode()
    return f"\u2014 {name} {blob}\n"


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    head: str
    ts: str
    note: str


def split_note(note: str) -> tuple[str, list[str]]:
    """A signed note's body (with its final newline) and its signature lines."""
    body, sep, sigs = note.partition("\n\n")
    if not sep:
        raise ValueError("checkpoint has no signature block")
    return body + "\n", [line for line in sigs.splitlines() if line.startswith("\u2014 ")]


def verify_checkpoint(note: str, public_key_text: str) -> Checkpoint:
    """Parse a signed note and check its signature; raise ValueError saying what is wrong."""
    name, kid, pub = parse_verifier_key(public_key_text)
    body, sig_lines = split_note(note)
    lines = body.splitlines()
    if len(lines) < 3:
        raise ValueError("checkpoint body too short")
    origin, size_text, root_b64 = lines[0], lines[1], lines[2]
    ext = dict(line.split(" ", 1) for line in lines[3:] if " " in line)
    good = False
    for line in sig_lines:
        sig_name, raw = _signature_line(line)
        if sig_name == name and raw[:4] == kid and ed25519_verify(pub, raw[4:], body.encode()):
            good = True
    if not good:
        raise ValueError(f"checkpoint at size {size_text} has no valid signature by {name}")
    return Checkpoint(origin, int(size_text), base64.b64decode(root_b64), ext.get("head", ""),
                      ext.get("time", ""), note)


def _signature_line(line: str) -> tuple[str, bytes]:
    """(key name, key id || signature) of a ``— name base64`` line; garbage yields no bytes."""
    parts = line.split(" ")
    if len(parts) != 3:
        return "", b""
    try:
        return parts[1], base64.b64decode(parts[2], validate=True)
    except ValueError:
        return parts[1], b""


def cosignature_message(timestamp: int, body: str) -> bytes:
    """What an Ed25519 cosignature/v1 signs (C2SP tlog-cosignature)."""
    return f"cosignature/v1\ntime {timestamp}\n{body}".encode()


def cosignature_line(name: str, public_key: bytes, timestamp: int, signature: bytes) -> str:
    """``— name base64(key id || u64 timestamp || signature)``: the cosignature's note line."""
    blob = (key_id(name, public_key, COSIGNATURE_ALG) + timestamp.to_bytes(8, "big")
            + signature)
    return f"\u2014 {name} {base64.b64encode(blob).decode()}\n"


@dataclass(frozen=True)
class Cosignature:
    witness: str
    timestamp: int  # POSIX seconds, as the witness signed it
    line: str


def verify_cosignatures(note: str, witness_keys: Iterable[str]) -> list[Cosignature]:
    """The valid cosignatures on ``note`` by the given witness keys (vkeys of type 0x04)."""
    body, lines = split_note(note)
    found: list[Cosignature] = []
    for text in witness_keys:
        name, kid, pub = parse_verifier_key(text, COSIGNATURE_ALG)
        for line in lines:
            sig_name, raw = _signature_line(line)
            if sig_name != name or len(raw) != 4 + 8 + 64 or raw[:4] != kid:
                continue
            ts = int.from_bytes(raw[4:12], "big")
            if ts < 2 ** 63 and ed25519_verify(pub, raw[12:], cosignature_message(ts, body)):
                found.append(Cosignature(name, ts, line + "\n"))
                break
    return found


def ed25519_verify(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """Verify with ``cryptography`` when installed (imported here, on first use, so that
    programs which never verify need not load it), else with the pure-Python fallback."""
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    except ImportError:  # pragma: no cover - exercised by the standalone-verifier tests
        return _pure_ed25519_verify(public_key, signature, message)
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
        return True
    except (InvalidSignature, ValueError):
        return False


# --------------------------------------------------------------------------- chain verification


@dataclass(frozen=True)
class Problem:
    seq: Optional[int]
    message: str

    def __str__(self) -> str:
        return f"seq {self.seq}: {self.message}" if self.seq is not None else self.message


@dataclass
class ChainReport:
    size: int = 0  # events read
    last_seq: int = 0  # highest sequence number read
    head: str = ZERO_HASH
    problems: list[Problem] = field(default_factory=list)
    roots: dict[int, bytes] = field(default_factory=dict)  # root at each requested size
    leaves: list[bytes] = field(default_factory=list)
    hashes: list[str] = field(default_factory=list)  # event hashes, when asked to keep them

    @property
    def first_bad(self) -> Optional[int]:
        seqs = [p.seq for p in self.problems if p.seq is not None]
        return min(seqs) if seqs else None


def _leaf_of(hash_text: str) -> bytes:
    """The Merkle leaf of a stored hash; garbage still yields a (non-matching) leaf."""
    try:
        if len(hash_text) == 64:
            return leaf_hash(hash_text)
    except ValueError:
        pass
    return b3(hash_text.encode())


def verify_chain(
    events: Iterable[Any], *, roots_at: Iterable[int] = (), keep_leaves: bool = False,
    start_seq: int = 1, start_prev: str = ZERO_HASH, keep_hashes: bool = False,
) -> ChainReport:
    """Check seq continuity, prev_hash links and every hash; compute roots at ``roots_at``.

    Each problem names the earliest event it proves bad: an edited event fails its own hash;
    an event whose hash was recomputed after an edit is betrayed by the next event, whose
    (intact) prev_hash still names the original; a deleted event leaves a gap in seq.
    """
    want = set(roots_at)
    report = ChainReport(head=start_prev)
    frontier = Frontier()
    expected_seq = start_seq
    prev = start_prev
    prev_intact = True  # did the previous event match its own hash?
    for raw in events:
        ev: dict[str, Any] = raw if isinstance(raw, dict) else {}
        seq = ev.get("seq")
        if not isinstance(raw, dict):
            report.problems.append(Problem(expected_seq, "not an event object"))
        contiguous = seq == expected_seq
        if not contiguous:
            if isinstance(seq, int) and seq > expected_seq:
                what = (f"event {expected_seq} is missing" if seq == expected_seq + 1
                        else f"events {expected_seq}..{seq - 1} are missing")
                report.problems.append(Problem(expected_seq, f"{what} (deleted?)"))
            else:
                report.problems.append(Problem(expected_seq, f"found seq {seq} out of order"))
        try:
            actual = event_hash(str(ev.get("prev_hash")), ev)
        except (KeyError, ValueError, TypeError) as exc:
            report.problems.append(Problem(seq, f"malformed event: {exc}"))
            actual = ""
        intact = actual == ev.get("hash")
        if not intact:
            report.problems.append(Problem(seq, "content does not match its hash (edited)"))
        if ev.get("prev_hash") != prev:
            if intact and prev_intact and contiguous and isinstance(seq, int) and seq > start_seq:
                report.problems.append(Problem(
                    seq - 1, f"hash was rewritten: event {seq} was chained to a different "
                             "hash (edited, then re-hashed)"))
            else:
                report.problems.append(Problem(
                    seq, "prev_hash does not link to the previous event (rows removed or "
                         "re-ordered)"))
        h = str(ev.get("hash"))
        leaf = _leaf_of(h)
        frontier.push(leaf)
        if keep_leaves:
            report.leaves.append(leaf)
        if keep_hashes:
            report.hashes.append(h)
        if frontier.size in want:
            report.roots[frontier.size] = frontier.root()
        prev = h
        prev_intact = intact
        if isinstance(seq, int):
            report.last_seq = max(report.last_seq, seq)
        expected_seq = (seq if isinstance(seq, int) else expected_seq) + 1
    report.size = frontier.size
    report.head = prev
    return report


def check_checkpoints(
    chain: ChainReport, checkpoints: list[Checkpoint], origin: Optional[str] = None,
) -> list[Problem]:
    """Each signed checkpoint must fit the chain: size not beyond it, same Merkle root.

    A root mismatch on an otherwise intact chain means history was rewritten (re-hashed)
    after that checkpoint's predecessor; it names the earliest seq that may have changed.
    """
    problems: list[Problem] = []
    good_sizes = [0]
    for cp in sorted(checkpoints, key=lambda c: c.size):
        if origin is not None and cp.origin != origin:
            problems.append(Problem(None, f"checkpoint at size {cp.size} is for origin "
                                          f"{cp.origin!r}, not {origin!r}"))
        if cp.size > chain.last_seq:
            problems.append(Problem(
                chain.last_seq + 1,
                f"ledger truncated: a signed checkpoint covers {cp.size} events but the "
                f"ledger ends at seq {chain.last_seq} (events {chain.last_seq + 1}..{cp.size} "
                "are gone)"))
            continue
        root = chain.roots.get(cp.size)
        if not cp.size or root == cp.root:
            good_sizes.append(cp.size)
            continue
        if chain.problems:
            problems.append(Problem(None, f"Merkle root at size {cp.size} differs from the "
                                          "signed checkpoint (follows from the problems above)"))
        else:
            low = max(good_sizes) + 1
            problems.append(Problem(
                low, f"history rewritten: events {low}..{cp.size} differ from what the "
                     f"checkpoint at size {cp.size} signed (Merkle root differs; earliest "
                     f"possible change is seq {low})"))
    return problems


def sorted_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Problems naming an event first, earliest event first; then the others."""
    return sorted(problems, key=lambda p: (p.seq is None, p.seq or 0))


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path.name} line {n}: not JSON ({exc.msg})") from exc


def verify_export(directory: Path,
                  trust: Optional[Trust] = None) -> tuple[list[str], list[Problem]]:
    """Verify an export directory; return (info lines, problems)."""
    trust = trust or Trust()
    shipped = (directory / "ledger.pub").read_text(encoding="utf-8").strip()
    trust_problems: list[str] = []
    pub = trust.key_for("ledger.pub", shipped, trust_problems)
    raw_cps = list(read_jsonl(directory / "checkpoints.jsonl"))
    cps: list[Checkpoint] = []
    problems: list[Problem] = [Problem(None, p) for p in trust_problems]
    for n, raw in enumerate(raw_cps, 1):
        note = raw.get("note") if isinstance(raw, dict) else None
        try:
            if not isinstance(note, str):
                raise ValueError(f"checkpoints.jsonl entry {n} has no signed note")
            cps.append(verify_checkpoint(note, pub))
        except ValueError as exc:
            problems.append(Problem(None, str(exc)))
    chain = verify_chain(read_jsonl(directory / "events.jsonl"), roots_at=[c.size for c in cps])
    problems = sorted_problems(chain.problems + problems + check_checkpoints(chain, cps))
    latest = max(cps, key=lambda c: c.size) if cps else None
    info = [f"key: {shipped.split('+')[0]}, fingerprint {grouped(fingerprint(shipped))}",
            f"events: {chain.size}", f"head: {chain.head}",
            f"signed checkpoints: {len(cps)}"
            + (f", latest at size {latest.size}" if latest else "")]
    witness_problems: list[str] = []
    info += trust.witnessed("checkpoints.jsonl", cps, witness_problems)
    problems += [Problem(None, p) for p in witness_problems]
    if latest and latest.size < chain.size:
        info.append(f"note: events {latest.size + 1}..{chain.size} are not yet covered "
                    "by a signed checkpoint")
    if not cps:
        problems.append(Problem(None, "no valid signed checkpoint"))
    return info, problems


# --------------------------------------------------------------------------- copy packages

PACKAGE_FORMAT = "avledger-package/1"
PACKAGE_SUMS = ("SHA256SUMS", "B3SUMS")
SEAL_EVENT = "access.package_sealed"


def sha256_file(path: Path) -> str:
    sha = _sha("sha256")
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(4 * 1024 * 1024), b""):
            sha.update(chunk)
    return sha.hexdigest()


def _fast_blake3() -> bool:
    return "_blake3_mod" in globals()


def _safe_relative(name: str) -> bool:
    parts = Path(name).parts
    return bool(parts) and not Path(name).is_absolute() and ".." not in parts


def _read_sums(path: Path, problems: list[str]) -> dict[str, str]:
    """``<sha256>  <file>`` lines as sha256sum writes them; malformed lines are problems."""
    sums: dict[str, str] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        digest, sep, name = line.partition(" ")
        name = name[1:] if name[:1] in (" ", "*") else name
        if not sep or len(digest) != 64 or not name or not _safe_relative(name):
            problems.append(f"{path.name} line {n}: not a '<sha256>  <file>' line")
            continue
        sums[name] = digest.lower()
    return sums


class _PackageCheck:
    """One run of the package checks; ``problems`` are ``where: what`` lines."""

    def __init__(self, root: Path, trust: Trust) -> None:
        self.root = root
        self.trust = trust
        self.info: list[str] = []
        self.problems: list[str] = []
        self.sha: dict[str, str] = {}
        self.seen: set[int] = set()  # every event seq in the excerpt, proved or not

    def bad(self, where: str, what: str) -> None:
        self.problems.append(f"{where}: {what}")

    def file_sha(self, name: str) -> Optional[str]:
        if name not in self.sha:
            path = self.root / name
            if not path.is_file():
                return None
            self.sha[name] = sha256_file(path)
        return self.sha[name]

    def run(self) -> None:
        for name in ("MANIFEST.json", "SHA256SUMS", "ledger/events.jsonl",
                     "ledger/proofs.jsonl", "ledger/checkpoint.txt", "ledger/ledger.pub"):
            if not (self.root / name).is_file():
                self.bad(name, "missing: this is not a complete avledger copy package")
        if self.problems:
            return
        manifest_bytes = (self.root / "MANIFEST.json").read_bytes()
        try:
            manifest = json.loads(manifest_bytes)
            if manifest.get("format") != PACKAGE_FORMAT:
                raise ValueError(f"format {manifest.get('format')!r}, not {PACKAGE_FORMAT}")
        except ValueError as exc:
            self.bad("MANIFEST.json", f"unreadable: {exc}")
            return
        self.info.append(f"package {manifest.get('package')}: request "
                         f"{manifest.get('request', {}).get('id')}, "
                         f"{len(manifest.get('clips', []))} clip(s)")
        self.check_sums()
        self.check_manifest(manifest)
        events = self.check_excerpt()
        if events is not None:
            self.check_seal(manifest, _sha("sha256", manifest_bytes).hexdigest(), events)

    def check_sums(self) -> None:
        sums = _read_sums(self.root / "SHA256SUMS", self.problems)
        for name, digest in sorted(sums.items()):
            actual = self.file_sha(name)
            if actual is None:
                self.bad(name, "missing (listed in SHA256SUMS)")
            elif actual != digest:
                self.bad(name, "SHA-256 differs from SHA256SUMS (the file was changed)")
        for path in sorted(self.root.rglob("*")):
            name = path.relative_to(self.root).as_posix()
            if path.is_file() and name not in sums and name not in PACKAGE_SUMS:
                self.bad(name, "not listed in SHA256SUMS (added to the package?)")
        self.info.append(f"files: {len(sums)} checked against SHA256SUMS (SHA-256)")

    def check_manifest(self, manifest: dict[str, Any]) -> None:
        entries = list(manifest.get("clips", [])) + list(manifest.get("files", []))
        fast = _fast_blake3()
        for entry in entries:
            name = str(entry.get("path"))
            path = self.root / name
            if not _safe_relative(name) or not path.is_file():
                self.bad(name, "missing (listed in MANIFEST.json)")
                continue
            if path.stat().st_size != entry.get("size"):
                self.bad(name, f"size {path.stat().st_size}, MANIFEST.json says "
                               f"{entry.get('size')}")
            elif self.file_sha(name) != entry.get("sha256"):
                self.bad(name, "SHA-256 differs from MANIFEST.json (the file was changed)")
            elif fast and b3_file(path) != entry.get("blake3"):
                self.bad(name, "BLAKE3 differs from MANIFEST.json (the file was changed)")
        self.info.append("footage: sizes and SHA-256 match MANIFEST.json" + (
            ", BLAKE3 too" if fast else " (BLAKE3 not recomputed: the blake3 package is not "
            "installed; SHA-256 suffices)"))

    def check_excerpt(self) -> Optional[list[dict[str, Any]]]:
        """Every event against its hash and its proof; returns the events that hold up."""
        base = self.root / "ledger"
        shipped = (base / "ledger.pub").read_text(encoding="utf-8").strip()
        pub = self.trust.key_for("ledger/ledger.pub", shipped, self.problems)
        self.info.append(f"key: {shipped.split('+')[0]}, fingerprint "
                         f"{grouped(fingerprint(shipped))}")
        try:
            cp = verify_checkpoint((base / "checkpoint.txt").read_text(encoding="utf-8"), pub)
        except ValueError as exc:
            self.bad("ledger/checkpoint.txt", str(exc))
            return None
        self.info.append(f"checkpoint: {cp.origin}, size {cp.size}, signed {cp.ts} by "
                         f"{pub.split('+')[0]}+{pub.split('+')[1]}")
        self.info += self.trust.witnessed("ledger/checkpoint.txt", [cp], self.problems)
        consistency = base / "consistency.jsonl"
        if consistency.is_file():
            self.info += check_consistency_file(consistency, cp, pub, self.problems,
                                                "ledger/consistency.jsonl")
        proofs: dict[int, tuple[int, dict[str, Any]]] = {}
        for n, line in enumerate((base / "proofs.jsonl").read_text(encoding="utf-8")
                                 .splitlines(), 1):
            if line.strip():
                try:
                    rec = json.loads(line)
                    proofs[int(rec["seq"])] = (n, rec)
                except (ValueError, KeyError, TypeError):
                    self.bad(f"ledger/proofs.jsonl line {n}", "not a proof record")
        good: list[dict[str, Any]] = []
        for n, line in enumerate((base / "events.jsonl").read_text(encoding="utf-8")
                                 .splitlines(), 1):
            if not line.strip():
                continue
            where = f"ledger/events.jsonl line {n}"
            try:
                ev = json.loads(line)
                seq = int(ev["seq"])
            except (ValueError, KeyError, TypeError) as exc:
                self.bad(where, f"not a ledger event ({exc})")
                continue
            self.seen.add(seq)
            wrong = event_problem(ev)
            if wrong:
                self.bad(f"{where} (event {seq})", wrong)
                continue
            m, rec = proofs.get(seq, (0, None))
            if rec is None:
                self.bad("ledger/proofs.jsonl", f"no inclusion proof for event {seq}")
            elif not proved(ev, rec, cp):
                self.bad(f"ledger/proofs.jsonl line {m} (event {seq})",
                         f"does not prove the event is in the signed ledger of size {cp.size}")
            else:
                good.append(ev)
        self.info.append(f"custody excerpt: {len(good)} event(s) proved against the signed "
                         "checkpoint")
        return good

    def check_seal(self, manifest: dict[str, Any], manifest_sha: str,
                   events: list[dict[str, Any]]) -> None:
        """The manifest must be the one sealed in the ledger, with every listed event."""
        seals = [e for e in events if e.get("type") == SEAL_EVENT
                 and e.get("payload", {}).get("package") == manifest.get("package")]
        if not seals:
            self.bad("ledger/events.jsonl", f"no proved record sealing package "
                                            f"{manifest.get('package')}")
            return
        seal = max(seals, key=lambda e: int(e["seq"]))
        sealed = seal["payload"]
        if sealed.get("manifest_sha256") != manifest_sha:
            self.bad("MANIFEST.json", f"differs from the manifest sealed in the ledger "
                                      f"(event {seal['seq']})")
        keys = ("clip", "path", "size", "sha256", "blake3")
        listed = {int(c["clip"]): {k: c.get(k) for k in keys} for c in manifest.get("clips", [])}
        for item in sealed.get("clips", []):
            if listed.get(int(item["clip"])) != {k: item.get(k) for k in keys}:
                self.bad("MANIFEST.json", f"clip {item['clip']} differs from the sealed record "
                                          f"(event {seal['seq']})")
        for seq in sealed.get("excerpt", []):
            if int(seq) not in self.seen:
                self.bad("ledger/events.jsonl", f"event {seq} is missing (the sealed record "
                                                f"lists it)")
        originals = {int(c["clip"]): c["redaction"].get("original_blake3")
                     for c in manifest.get("clips", []) if isinstance(c.get("redaction"), dict)}
        for ev in events:
            if ev.get("type") != "clip.ingested":
                continue
            clip = listed.get(int(str(ev.get("subject", "")).partition(":")[2] or 0))
            digest = ev.get("payload", {}).get("digest")
            expected = originals.get(int(clip["clip"])) if clip is not None else None
            if clip is not None and digest and digest != (expected or clip["blake3"]):
                self.bad("MANIFEST.json", f"clip {clip['clip']}: BLAKE3 differs from its "
                                          f"ingest record (event {ev['seq']})")
        self.info.append(f"seal: MANIFEST.json is the one sealed in event {seal['seq']}")
        self.check_redactions(manifest, events)

    def check_redactions(self, manifest: dict[str, Any], events: list[dict[str, Any]]) -> None:
        """A redacted clip must be linked in the proved custody events: original hash ->
        spec hash -> redacted hash (clip.redacted), the spec the one carried here, and the
        spec attached to this request before it was fulfilled (access.redaction_attached)."""
        request = f"access:{manifest.get('request', {}).get('id')}"
        count = 0
        for clip in manifest.get("clips", []):
            red = clip.get("redaction")
            if not isinstance(red, dict):
                continue
            count += 1
            where = f"clip {clip.get('clip')}"
            spec = red.get("spec", {})
            if self.file_sha(str(spec.get("path"))) != spec.get("sha256"):
                self.bad(str(spec.get("path")), f"{where}: the redaction spec is missing or "
                                                "differs from MANIFEST.json")
                continue
            made = [e for e in events if e.get("type") == "clip.redacted"
                    and e.get("subject") == f"clip:{clip.get('clip')}"
                    and e.get("payload", {}).get("original", {}).get("blake3")
                    == red.get("original_blake3")
                    and e.get("payload", {}).get("spec", {}).get("sha256") == spec.get("sha256")
                    and e.get("payload", {}).get("redacted", {}).get("blake3")
                    == clip.get("blake3")
                    and e.get("payload", {}).get("filter_graph") == red.get("filter_graph")]
            if not made:
                self.bad("ledger/events.jsonl", f"{where}: no proved record that the clip in "
                         "the package was rendered from the original with this spec and graph")
                continue
            attached = [e for e in events if e.get("type") == "access.redaction_attached"
                        and e.get("subject") == request
                        and e.get("payload", {}).get("spec", {}).get("sha256")
                        == spec.get("sha256")]
            if not attached:
                self.bad("ledger/events.jsonl", f"{where}: no proved record that this spec was "
                                                f"attached to the request ({request})")
                continue
            self.info.append(f"redaction: {where} = original {red.get('original_blake3')} "
                             f"-> spec {spec.get('blake3')} -> redacted {clip.get('blake3')} "
                             f"(event {made[0]['seq']})")
        if count:
            self.info.append(f"redactions: {count} clip(s) redacted; see redactions/ to "
                             "re-render from the originals")


def verify_package(directory: Path, expected_key: Optional[str] = None,
                   trust: Optional[Trust] = None) -> tuple[list[str], list[str]]:
    """Check a copy package; return (info lines, problems as 'where: what')."""
    check = _PackageCheck(directory, trust or Trust(key=expected_key))
    try:
        check.run()
    except OSError as exc:
        check.bad(str(directory), f"cannot read: {exc}")
    return check.info, check.problems


# --------------------------------------------------------------------------- custody reports

CUSTODY_FORMAT = "avledger-custody/1"


def verify_custody(path: Path, trust: Optional[Trust] = None) -> tuple[list[str], list[str]]:
    """Check the JSON edition of a clip's custody report: every event it prints against its
    own hash and, through its inclusion proof, against the signed checkpoint it carries;
    return (info lines, problems as 'where: what')."""
    trust = trust or Trust()
    data = json.loads(path.read_text(encoding="utf-8"))
    evidence = data.get("evidence", data) if isinstance(data, dict) else {}
    if not isinstance(evidence, dict) or evidence.get("format") != CUSTODY_FORMAT:
        raise ValueError(f"not an avledger custody report ({CUSTODY_FORMAT}); give the JSON "
                         "edition ('--format json')")
    problems: list[str] = []
    shipped = str(evidence.get("public_key", "")).strip()
    pub = trust.key_for("public_key", shipped, problems)
    info = [f"custody report of clip {evidence.get('clip')} (BLAKE3 {evidence.get('blake3')})",
            f"key: {shipped.split('+')[0]}, fingerprint {grouped(fingerprint(shipped))}"]
    try:
        cp = verify_checkpoint(str(evidence.get("checkpoint", "")), pub)
    except ValueError as exc:
        return info, problems + [f"checkpoint: {exc}"]
    info.append(f"checkpoint: {cp.origin}, size {cp.size}, signed {cp.ts}")
    info += trust.witnessed("checkpoint", [cp], problems)
    proofs = {}
    for rec in evidence.get("proofs", []):
        if isinstance(rec, dict) and "seq" in rec:
            proofs[int(rec["seq"])] = rec
    good: dict[int, str] = {}
    for n, ev in enumerate(evidence.get("events", []), 1):
        seq = ev.get("seq") if isinstance(ev, dict) else None
        where = f"events[{n}] (event {seq})"
        wrong = event_problem(ev) if isinstance(ev, dict) else "not a ledger event"
        if wrong:
            problems.append(f"{where}: {wrong}")
        elif int(ev["seq"]) not in proofs:
            problems.append(f"{where}: has no inclusion proof")
        elif not proved(ev, proofs[int(ev["seq"])], cp):
            problems.append(f"proofs (event {seq}): does not prove the event is in the signed "
                            f"ledger of size {cp.size}")
        else:
            good[int(ev["seq"])] = str(ev["type"])
    for seq, kind in _printed_events(data):
        if good.get(seq) != kind:
            problems.append(f"event table: event {seq} ({kind}) is printed but not proved here")
    info.append(f"custody events: {len(good)} proved against the signed checkpoint")
    return info, problems


def _printed_events(data: Any) -> list[tuple[int, str]]:
    """(seq, type) of every row of the report's printed event table."""
    rows: list[tuple[int, str]] = []
    for section in data.get("sections", []) if isinstance(data, dict) else []:
        table = section.get("tables", {}).get("events") if isinstance(section, dict) else None
        if section.get("key") != "custody_events" or not isinstance(table, dict):
            continue
        cols = table.get("columns", [])
        if "seq" in cols and "event" in cols:
            rows += [(int(r[cols.index("seq")]), str(r[cols.index("event")]))
                     for r in table.get("rows", [])]
    return rows


# --------------------------------------------------------------------------- pure-Python fallbacks
# Plain transcriptions of the BLAKE3 reference implementation (github.com/BLAKE3-team/BLAKE3,
# reference_impl) and of RFC 8032 section 5.1.7. Slow (pure Python) but only used when the
# blake3 / cryptography packages are missing; the tests check both against those packages.

_M32 = 0xFFFFFFFF
_B3_IV = (0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A,
          0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19)
_B3_CHUNK_START, _B3_CHUNK_END, _B3_PARENT, _B3_ROOT = 1, 2, 4, 8
_B3_CHUNK_LEN, _B3_BLOCK_LEN = 1024, 64


def _b3_steps() -> tuple[tuple[int, int, int, int, int, int], ...]:
    """The 7 rounds x 8 G calls as (a, b, c, d, index of mx, index of my) into the block words.

    Each round mixes the columns, then the diagonals, and the message words are permuted
    between rounds; the permutations are folded into these indices once, here.
    """
    lanes = ((0, 4, 8, 12), (1, 5, 9, 13), (2, 6, 10, 14), (3, 7, 11, 15),
             (0, 5, 10, 15), (1, 6, 11, 12), (2, 7, 8, 13), (3, 4, 9, 14))
    permutation = (2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8)
    order = list(range(16))
    steps = []
    for _ in range(7):
        steps += [(a, b, c, d, order[2 * i], order[2 * i + 1])
                  for i, (a, b, c, d) in enumerate(lanes)]
        order = [order[p] for p in permutation]
    return tuple(steps)


_B3_STEPS = _b3_steps()

# A pending compression (the reference implementation's "Output"): the input chaining value,
# the 16 block words, counter, block length and flags. The ROOT flag is added only to the very
# last one, which is why the last chunk and the parent nodes are kept pending until known.
_B3Output = tuple[list[int], list[int], int, int, int]


def _b3_compress(cv: list[int], m: list[int], counter: int, block_len: int,
                 flags: int) -> list[int]:
    """The BLAKE3 compression function, truncated to the 8-word chaining value."""
    v = [*cv, *_B3_IV[:4], counter & _M32, counter >> 32 & _M32, block_len, flags]
    for a, b, c, d, x, y in _B3_STEPS:  # the G function, inlined
        va = (v[a] + v[b] + m[x]) & _M32
        vd = v[d] ^ va
        vd = (vd >> 16 | vd << 16) & _M32
        vc = (v[c] + vd) & _M32
        vb = v[b] ^ vc
        vb = (vb >> 12 | vb << 20) & _M32
        va = (va + vb + m[y]) & _M32
        vd ^= va
        vd = (vd >> 8 | vd << 24) & _M32
        vc = (vc + vd) & _M32
        vb ^= vc
        vb = (vb >> 7 | vb << 25) & _M32
        v[a], v[b], v[c], v[d] = va, vb, vc, vd
    return [v[i] ^ v[i + 8] for i in range(8)]


def _b3_words(block: bytes) -> list[int]:
    """A block of up to 64 bytes, zero-padded, as 16 little-endian 32-bit words."""
    n = int.from_bytes(block, "little")
    return [n >> (32 * i) & _M32 for i in range(16)]


def _b3_chunk(chunk: bytes, counter: int) -> _B3Output:
    """Compress all but the last block of a chunk (at most 1024 bytes); return the last, pending."""
    cv = list(_B3_IV)
    flags = _B3_CHUNK_START
    last = max(len(chunk) - 1, 0) // _B3_BLOCK_LEN * _B3_BLOCK_LEN
    for start in range(0, last, _B3_BLOCK_LEN):
        cv = _b3_compress(cv, _b3_words(chunk[start:start + _B3_BLOCK_LEN]), counter,
                          _B3_BLOCK_LEN, flags)
        flags = 0
    block = chunk[last:]
    return cv, _b3_words(block), counter, len(block), flags | _B3_CHUNK_END


def _b3_parent(left: list[int], right: list[int]) -> _B3Output:
    return list(_B3_IV), left + right, 0, _B3_BLOCK_LEN, _B3_PARENT


def _pure_blake3(data: bytes) -> bytes:
    """BLAKE3 (default hash mode) of ``data``: its 32-byte digest."""
    data = bytes(data)
    last = max(len(data) - 1, 0) // _B3_CHUNK_LEN * _B3_CHUNK_LEN  # start of the last chunk
    stack: list[list[int]] = []  # chaining values of complete subtrees, largest first
    for counter, start in enumerate(range(0, last, _B3_CHUNK_LEN)):
        cv = _b3_compress(*_b3_chunk(data[start:start + _B3_CHUNK_LEN], counter))
        # Merge equal-sized subtrees: one merge per trailing zero bit of the chunk count.
        total = counter + 1
        while total & 1 == 0:
            cv = _b3_compress(*_b3_parent(stack.pop(), cv))
            total >>= 1
        stack.append(cv)
    output = _b3_chunk(data[last:], last // _B3_CHUNK_LEN)
    while stack:  # fold the right edge of the tree into the final (root) node
        output = _b3_parent(stack.pop(), _b3_compress(*output))
    cv, m, counter, block_len, flags = output
    root = _b3_compress(cv, m, counter, block_len, flags | _B3_ROOT)
    return b"".join(w.to_bytes(4, "little") for w in root)


_ED_P = 2**255 - 19
_ED_L = 2**252 + 27742317777372353535851937790883648493  # order of the base point
_ED_D = -121665 * pow(121666, _ED_P - 2, _ED_P) % _ED_P
_ED_SQRT_M1 = pow(2, (_ED_P - 1) // 4, _ED_P)

# Points in extended homogeneous coordinates (X, Y, Z, T): x = X/Z, y = Y/Z, x*y = T/Z.
_EdPoint = tuple[int, int, int, int]
_ED_IDENTITY: _EdPoint = (0, 1, 1, 0)


def _ed_add(p: _EdPoint, q: _EdPoint) -> _EdPoint:
    """Point addition (RFC 8032 5.1.4; complete, so it also doubles)."""
    x1, y1, z1, t1 = p
    x2, y2, z2, t2 = q
    a = (y1 - x1) * (y2 - x2) % _ED_P
    b = (y1 + x1) * (y2 + x2) % _ED_P
    c = 2 * t1 * t2 * _ED_D % _ED_P
    d = 2 * z1 * z2 % _ED_P
    e, f, g, h = b - a, d - c, d + c, b + a
    return e * f % _ED_P, g * h % _ED_P, f * g % _ED_P, e * h % _ED_P


def _ed_mul(s: int, p: _EdPoint) -> _EdPoint:
    """[s]p by double-and-add (variable time: verification handles only public data)."""
    q = _ED_IDENTITY
    while s > 0:
        if s & 1:
            q = _ed_add(q, p)
        p = _ed_add(p, p)
        s >>= 1
    return q


def _ed_equal(p: _EdPoint, q: _EdPoint) -> bool:
    x1, y1, z1, _ = p
    x2, y2, z2, _ = q
    return (x1 * z2 - x2 * z1) % _ED_P == 0 and (y1 * z2 - y2 * z1) % _ED_P == 0


def _ed_recover_x(y: int, sign: int) -> int | None:
    """The x with x^2 = (y^2 - 1) / (d y^2 + 1) and parity ``sign``, or None (RFC 8032 5.1.3)."""
    if y >= _ED_P:
        return None
    x2 = (y * y - 1) * pow(_ED_D * y * y + 1, _ED_P - 2, _ED_P) % _ED_P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (_ED_P + 3) // 8, _ED_P)  # a square root of x2 or of -x2
    if (x * x - x2) % _ED_P != 0:
        x = x * _ED_SQRT_M1 % _ED_P
    if (x * x - x2) % _ED_P != 0:
        return None  # x2 is not a square: not a point
    if x & 1 != sign:
        x = _ED_P - x
    return x


def _ed_decode(encoded: bytes) -> _EdPoint | None:
    """Decode a 32-byte point encoding (y little-endian, top bit = parity of x), or None."""
    if len(encoded) != 32:
        return None
    y = int.from_bytes(encoded, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    x = _ed_recover_x(y, sign)
    if x is None:
        return None
    return x, y, 1, x * y % _ED_P


_ED_BASE_X = 15112221349535400772501151409588531511454012693041857206046113283949847762202
_ED_BASE_Y = 46316835694926478169428394003475163141307993866256225615783033603165251855960  # 4/5
_ED_BASE: _EdPoint = (_ED_BASE_X, _ED_BASE_Y, 1, _ED_BASE_X * _ED_BASE_Y % _ED_P)


def _pure_ed25519_verify(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """Ed25519 signature verification (RFC 8032 5.1.7, cofactorless [S]B == R + [k]A)."""
    public_key, signature, message = bytes(public_key), bytes(signature), bytes(message)
    if len(public_key) != 32 or len(signature) != 64:
        return False
    a = _ed_decode(public_key)
    r = _ed_decode(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= _ED_L:
        return False
    k = int.from_bytes(_sha("sha512", signature[:32] + public_key + message).digest(), "little")
    return _ed_equal(_ed_mul(s, _ED_BASE), _ed_add(r, _ed_mul(k % _ED_L, a)))


# --------------------------------------------------------------------------- trust and receipts


@dataclass
class Trust:
    """What the reader brings: the agency's key (or its fingerprint) and witness keys.

    The key shipped beside the data proves nothing by itself (whoever forged the data can ship
    their own); only a key or fingerprint obtained elsewhere does.
    """

    key: Optional[str] = None  # the trusted ledger key (signed-note verifier key)
    fingerprint: Optional[str] = None  # or its SHA-256 fingerprint, as printed on paper
    witnesses: list[str] = field(default_factory=list)  # cosignature verifier keys

    @property
    def pinned(self) -> bool:
        return bool(self.key or self.fingerprint)

    def key_for(self, where: str, shipped: str, problems: list[str]) -> str:
        """The key to check signatures with; a shipped key the reader does not trust is a
        problem (and a given key is used even so, so forged signatures fail as such)."""
        shipped = shipped.strip()
        if self.key:
            if shipped != self.key.strip():
                problems.append(f"{where}: is not the key you trust (its fingerprint is "
                                f"{grouped(fingerprint(shipped))})")
            return self.key.strip()
        if self.fingerprint and not fingerprint_matches(shipped, self.fingerprint):
            problems.append(f"{where}: its fingerprint {grouped(fingerprint(shipped))} is not "
                            "the one you trust")
        return shipped

    def witnessed(self, where: str, checkpoints: list[Checkpoint],
                  problems: list[str]) -> list[str]:
        """Each given witness must have cosigned one of ``checkpoints``; info lines."""
        info: list[str] = []
        for wkey in self.witnesses:
            name = wkey.strip().split("+", 1)[0]
            sizes = [cp.size for cp in checkpoints if verify_cosignatures(cp.note, [wkey])]
            if sizes:
                info.append(f"witness {name}: cosigned the checkpoint at size {max(sizes)}")
            else:
                problems.append(f"{where}: no valid cosignature by witness {name}")
        return info


def read_checkpoint_notes(path: Path) -> list[str]:
    """Signed notes in a file: a note by itself, or ``{"size", "note"}`` JSON lines."""
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith("{"):
        notes = []
        for line in text.splitlines():
            if line.strip():
                rec = json.loads(line)
                if isinstance(rec, dict) and isinstance(rec.get("note"), str):
                    notes.append(rec["note"])
        return notes
    return [text]


def parse_proof(text: str) -> list[bytes]:
    """Proof hashes, one a line, hex or base64 (as in a tlog-witness request)."""
    return [bytes.fromhex(line) if len(line) == 64 else base64.b64decode(line, validate=True)
            for line in text.split()]


def extends(old: Checkpoint, new: Checkpoint, proof: list[bytes]) -> Optional[str]:
    """None when ``new`` provably extends ``old``; otherwise what is wrong, in words."""
    if old.origin != new.origin:
        return f"the checkpoints are of different ledgers ({old.origin!r}, {new.origin!r})"
    if new.size < old.size:
        return (f"ROLLBACK: the newer checkpoint covers {new.size} events, fewer than the "
                f"{old.size} the older one signed (events {new.size + 1}..{old.size} are gone)")
    if not verify_consistency(old.size, new.size, old.root, new.root, proof):
        if new.size == old.size:
            return (f"FORK: two different ledgers of the same size {old.size} signed under "
                    "one key")
        return (f"FORK or rewrite: the ledger of size {new.size} does not extend the one of "
                f"size {old.size} (the consistency proof fails)")
    return None


def check_consistency_file(path: Path, new: Checkpoint, key: str, problems: list[str],
                           where: str) -> list[str]:
    """``{"old": note, "proof": [hex]}`` lines: each earlier checkpoint extended by ``new``."""
    sizes = []
    for n, rec in enumerate(read_jsonl(path), 1):
        try:
            old = verify_checkpoint(str(rec["old"]), key)
            wrong = extends(old, new, [bytes.fromhex(h) for h in rec["proof"]])
        except (ValueError, KeyError, TypeError) as exc:
            problems.append(f"{where} line {n}: {exc}")
            continue
        if wrong:
            problems.append(f"{where} line {n}: {wrong}")
        else:
            sizes.append(old.size)
    return ([f"consistency: the checkpoint extends the earlier ones at size(s) "
             f"{', '.join(map(str, sorted(sizes)))}"] if sizes else [])


def _consistency_main(old_path: Path, new_path: Path, proof_path: Path,
                      trust: Trust) -> tuple[list[str], list[str], str]:
    """``--consistency OLD NEW PROOF``: does the newer checkpoint extend the older one?"""
    problems: list[str] = []
    old_text = read_checkpoint_notes(old_path)[-1]
    new_text = read_checkpoint_notes(new_path)[-1]
    beside = new_path.parent / "ledger.pub"  # a package's or disc's ledger/ledger.pub
    if not trust.key and not beside.is_file():
        raise ValueError("give --key: there is no ledger.pub beside NEW to check against")
    shipped = beside.read_text(encoding="utf-8") if beside.is_file() else str(trust.key)
    key = trust.key_for(str(beside), shipped, problems)
    info_key = [f"key: {key.split('+')[0]}, fingerprint {grouped(fingerprint(key))}"]
    old = verify_checkpoint(old_text, key)
    new = verify_checkpoint(new_text, key)
    info = info_key + [f"older: {old.origin}, size {old.size}, signed {old.ts}",
                       f"newer: {new.origin}, size {new.size}, signed {new.ts}"]
    proof_text = proof_path.read_text(encoding="utf-8")
    if proof_text.lstrip().startswith("{"):  # a package's ledger/consistency.jsonl
        match = [r for r in read_jsonl(proof_path)
                 if verify_checkpoint(str(r.get("old")), key).size == old.size]
        proof = [bytes.fromhex(h) for h in match[0]["proof"]] if match else []
    else:
        proof = parse_proof(proof_text)
    wrong = extends(old, new, proof)
    if wrong:
        problems.append(wrong)
    ok = f"OK: the checkpoint of size {new.size} extends the one of size {old.size}"
    return info, problems, ok


# --------------------------------------------------------------------------- command line

UNVERIFIED = ("UNVERIFIED: no trusted key given. Everything else checked out, but anyone can "
              "sign with a key of their own: compare the fingerprint above with the one printed "
              "on the cover sheet or disc label, or the agency's published key, and run again "
              "with --fingerprint HEX or --key FILE.")
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNVERIFIED = 0, 1, 2, 3


def _key_text(value: str) -> str:
    given = Path(value)
    return given.read_text(encoding="utf-8").strip() if given.is_file() else value.strip()


def _arguments(args: list[str]) -> Any:
    import argparse

    parser = argparse.ArgumentParser(prog="verify_ledger.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--package", metavar="DIR", help="check a copy package")
    mode.add_argument("--custody", metavar="REPORT.json",
                      help="check a clip's custody report (its JSON edition)")
    mode.add_argument("--consistency", nargs=3, metavar=("OLD", "NEW", "PROOF"),
                      help="prove the NEW checkpoint extends the OLD one")
    parser.add_argument("export", nargs="?", metavar="EXPORT_DIR", help="a ledger export")
    parser.add_argument("--key", help="the agency's public key (text or file) you trust")
    parser.add_argument("--fingerprint", help="the key's fingerprint as printed on paper")
    parser.add_argument("--witness-key", action="append", default=[], metavar="KEY",
                        help="a witness's cosignature key (text or file); repeatable")
    parsed = parser.parse_args(args)
    if sum(bool(x) for x in (parsed.package, parsed.custody, parsed.consistency,
                             parsed.export)) != 1:
        parser.error("give EXPORT_DIR, --package DIR, --custody REPORT.json or "
                     "--consistency OLD NEW PROOF")
    return parsed


def main(argv: Optional[list[str]] = None) -> int:
    try:
        opts = _arguments(sys.argv[1:] if argv is None else argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    trust = Trust(_key_text(opts.key) if opts.key else None, opts.fingerprint,
                  [_key_text(k) for k in opts.witness_key])
    try:
        if opts.package:
            info, problems = verify_package(Path(opts.package), trust=trust)
            ok = ("OK: every file matches, every custody event is proved against the signed "
                  "checkpoint")
        elif opts.custody:
            info, problems = verify_custody(Path(opts.custody), trust)
            ok = ("OK: every custody event in the report is proved against the signed "
                  "checkpoint")
        elif opts.consistency:
            old, new, proof = (Path(x) for x in opts.consistency)
            info, problems, ok = _consistency_main(old, new, proof, trust)
        else:
            info, found = verify_export(Path(opts.export), trust)
            problems = [str(p) for p in found]
            ok = "OK: chain intact, every checkpoint signed and consistent"
    except (OSError, ValueError, KeyError) as exc:
        what = opts.package or opts.custody or opts.export or opts.consistency
        print(f"FAILED: cannot read {what}: {exc}")
        return EXIT_FAILED
    for line in info:
        print(line)
    for problem in problems:
        print(f"FAILED: {problem}")
    if problems:
        return EXIT_FAILED
    if not trust.pinned:
        print(UNVERIFIED)
        return EXIT_UNVERIFIED
    print(ok)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
