#!/usr/bin/env python3
"""The verifiable random inspection draw ("double random": random enterprises, random inspectors).

This one file is the whole algorithm. avledger uses it to make and to verify a draw, and ships a
copy (``rerun_draw.py``) in every published draw bundle, so that anyone can re-run the draw with
a plain Python 3 (3.9 or later, standard library only) and get the same result.

Usage:
    python3 rerun_draw.py BUNDLE_DIR

BUNDLE_DIR holds ``draw.json`` (the inputs, the seed and the published result),
``population.csv``, ``roster.json`` and ``conflicts.json``; when ``verify_ledger.py`` and
``ledger.pub`` are beside it, the signature of the custody-ledger checkpoint the seed came from is
checked too. Exit status 0 when the recomputed draw equals the published one, 1 otherwise.

Definitions (see docs/records-office.md, "avledger inspect"):
    population  = CSV "id,name", one row per enterprise, sorted by id (code-point order), UTF-8,
                  "\\n" line ends; population_sha256 = SHA-256 of those bytes
    roster      = JSON list of {"badge", "name"} of the eligible inspectors, sorted by badge
    conflicts   = JSON list of [enterprise_id, badge] pairs, sorted, no duplicates
    canonical   = JSON, keys sorted, separators (",", ":"), UTF-8 (no ASCII escaping)
    seed        = SHA-256(canonical(inputs))   -- inputs carry the signed checkpoint note, the
                  period, the round, the rate, inspectors per enterprise, the optional public
                  beacon, and the three SHA-256 digests above
    stream(L)   = HMAC-SHA256(key=seed, msg=L || 0x00 || uint64_be(i)) for i = 0, 1, 2, ...
                  read as consecutive big-endian uint64 values
    below(n)    = next value x of the stream with x < floor(2^64 / n) * n (others rejected, so
                  there is no modulo bias), returned as x mod n
    sample(k)   = the first k items after a partial Fisher-Yates shuffle: for i in 0..k-1,
                  swap item i with item i + below(len - i)
    enterprises = sample(ceil(rate * population size)) of the population ids, stream "enterprises"
    inspectors  = for each drawn enterprise E, in draw order: sample(N) of the roster badges
                  without those in conflict with E, stream "inspectors" || 0x00 || E
    task ids    = "<period>-<position>" for round 1, "<period>r<round>-<position>" after voids,
                  position zero-padded to at least 3 digits
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

SCHEME = "avledger-draw-v1"
POPULATION_HEADER = ("id", "name")
UINT64 = 1 << 64


class DrawError(ValueError):
    """The inputs cannot give a draw (empty population, rate out of range, bad files)."""


class NotEnoughInspectors(DrawError):
    """Fewer eligible inspectors for an enterprise than the draw needs."""


# --------------------------------------------------------------------------- canonical forms


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def population_csv(rows: Sequence[tuple[str, str]]) -> str:
    """The canonical population file: header ``id,name``, rows sorted by id."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(POPULATION_HEADER)
    for eid, name in sorted(rows):
        writer.writerow((eid, name))
    return buf.getvalue()


def read_population_csv(text: str) -> list[tuple[str, str]]:
    """Parse a canonical population file (as written by ``population_csv``)."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or tuple(rows[0]) != POPULATION_HEADER:
        raise DrawError("population file must start with the header 'id,name'")
    out = [(r[0], r[1]) for r in rows[1:] if len(r) == 2]
    if len(out) != len(rows) - 1:
        raise DrawError("population file has rows without exactly two fields")
    return out


def canonical_roster(people: Sequence[dict[str, str]]) -> list[dict[str, str]]:
    return sorted(({"badge": str(p["badge"]), "name": str(p["name"])} for p in people),
                  key=lambda p: p["badge"])


def canonical_conflicts(pairs: Sequence[Sequence[str]]) -> list[list[str]]:
    return [list(p) for p in sorted({(str(e), str(b)) for e, b in pairs})]


def parse_rate(text: str) -> Fraction:
    """``20%``, ``0.2`` or ``1/5`` → Fraction(1, 5); must be above 0 and at most 1."""
    raw = str(text).strip()
    try:
        value = Fraction(raw[:-1].strip()) / 100 if raw.endswith("%") else Fraction(raw)
    except (ValueError, ZeroDivisionError):
        raise DrawError(f"rate {text!r} is not a percentage (20%) or a fraction (0.2, 1/5)") \
            from None
    if not 0 < value <= 1:
        raise DrawError(f"rate {text!r} must be above 0 and at most 100%")
    return value


def task_id(period: str, round_no: int, position: int, total: int) -> str:
    width = max(3, len(str(total)))
    prefix = period if round_no == 1 else f"{period}r{round_no}"
    return f"{prefix}-{position:0{width}d}"


# --------------------------------------------------------------------------- randomness


class Stream:
    """A deterministic stream of uint64 values: HMAC-SHA256(seed, label ‖ 0x00 ‖ counter)."""

    def __init__(self, seed_hex: str, label: str) -> None:
        self._key = bytes.fromhex(seed_hex)
        self._label = label.encode() + b"\x00"
        self._counter = 0
        self._buffer = b""

    def next_u64(self) -> int:
        if len(self._buffer) < 8:
            block = hmac.new(self._key, self._label + self._counter.to_bytes(8, "big"),
                             hashlib.sha256).digest()
            self._counter += 1
            self._buffer += block
        value, self._buffer = int.from_bytes(self._buffer[:8], "big"), self._buffer[8:]
        return value

    def below(self, n: int) -> int:
        """A uniform integer in [0, n): rejection sampling, so no modulo bias."""
        if n <= 0:
            raise DrawError("cannot draw from an empty range")
        limit = (UINT64 // n) * n
        while True:
            x = self.next_u64()
            if x < limit:
                return x % n


def sample(items: Sequence[str], k: int, stream: Stream) -> list[str]:
    """The first ``k`` items of a partial Fisher–Yates shuffle driven by ``stream``."""
    pool = list(items)
    if k > len(pool):
        raise DrawError(f"cannot draw {k} from {len(pool)}")
    for i in range(k):
        j = i + stream.below(len(pool) - i)
        pool[i], pool[j] = pool[j], pool[i]
    return pool[:k]


# --------------------------------------------------------------------------- the draw


@dataclass(frozen=True)
class Material:
    """Everything the draw reads besides the seed inputs: the texts whose digests they carry."""

    population: str  # canonical CSV text
    roster: list[dict[str, str]]
    conflicts: list[list[str]]

    def digests(self) -> dict[str, str]:
        return {
            "population_sha256": sha256_hex(self.population.encode()),
            "roster_sha256": sha256_hex(canonical(self.roster)),
            "conflicts_sha256": sha256_hex(canonical(self.conflicts)),
        }


def make_inputs(*, period: str, round_no: int, checkpoint: str, rate: Fraction,
                inspectors: int, material: Material, beacon: str | None = None
                ) -> dict[str, Any]:
    """The seed inputs: fixed before the draw and recorded with it."""
    return {
        "scheme": SCHEME, "period": period, "round": round_no, "checkpoint": checkpoint,
        "beacon": beacon or "", "rate": f"{rate.numerator}/{rate.denominator}",
        "inspectors_per_enterprise": inspectors,
        "population_size": len(read_population_csv(material.population)),
        **material.digests(),
    }


def seed_of(inputs: dict[str, Any]) -> str:
    return sha256_hex(canonical(inputs))


def check_material(inputs: dict[str, Any], material: Material) -> None:
    """Refuse material whose digests differ from those the inputs recorded."""
    for key, actual in material.digests().items():
        if inputs.get(key) != actual:
            what = key.replace("_sha256", "")
            raise DrawError(f"the {what} does not match the recorded digest "
                            f"({actual[:12]}… instead of {str(inputs.get(key))[:12]}…)")
    if inputs.get("scheme") != SCHEME:
        raise DrawError(f"unknown draw scheme {inputs.get('scheme')!r} (this is {SCHEME})")


def run(inputs: dict[str, Any], material: Material) -> list[dict[str, Any]]:
    """The draw itself: a list of {position, task_id, enterprise_id, enterprise_name,
    inspectors: [badge, ...]} in draw order."""
    check_material(inputs, material)
    seed = seed_of(inputs)
    names = dict(read_population_csv(material.population))
    ids = sorted(names)
    rate = Fraction(inputs["rate"])
    count = math.ceil(rate * len(ids))
    if count == 0:
        raise DrawError("the population is empty: nothing to draw")
    per = int(inputs["inspectors_per_enterprise"])
    badges = [p["badge"] for p in material.roster]
    excluded: dict[str, set[str]] = {}
    for eid, badge in material.conflicts:
        excluded.setdefault(eid, set()).add(badge)
    chosen = sample(ids, count, Stream(seed, "enterprises"))
    result = []
    for position, eid in enumerate(chosen, 1):
        pool = [b for b in badges if b not in excluded.get(eid, set())]
        if len(pool) < per:
            raise NotEnoughInspectors(
                f"enterprise {eid} has {len(pool)} eligible inspector(s), the draw needs {per}")
        result.append({
            "position": position,
            "task_id": task_id(inputs["period"], int(inputs["round"]), position, count),
            "enterprise_id": eid, "enterprise_name": names[eid],
            "inspectors": sample(pool, per, Stream(seed, "inspectors\x00" + eid)),
        })
    return result


def published(result: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The part of a result the ledger event records (names are in the population)."""
    return [{"task_id": r["task_id"], "enterprise_id": r["enterprise_id"],
             "inspectors": list(r["inspectors"])} for r in result]


# --------------------------------------------------------------------------- re-running a bundle


def _check_signature(bundle: Path, note: str) -> str:
    """Check the checkpoint signature with verify_ledger.py and ledger.pub, when present."""
    if not (bundle / "verify_ledger.py").exists() or not (bundle / "ledger.pub").exists():
        return "checkpoint signature NOT checked (verify_ledger.py or ledger.pub missing)"
    sys.path.insert(0, str(bundle))
    sys.dont_write_bytecode = True  # leave the published bundle as it was
    try:
        import verify_ledger
    finally:
        sys.path.pop(0)
    key = (bundle / "ledger.pub").read_text(encoding="utf-8").strip()
    try:
        cp = verify_ledger.verify_checkpoint(note, key)
    except ValueError as exc:
        raise DrawError(f"checkpoint signature: {exc}") from None
    except RuntimeError as exc:  # no Ed25519 implementation available
        return f"checkpoint signature NOT checked ({exc})"
    return f"checkpoint signature OK ({cp.origin}, size {cp.size}, signed {cp.ts})"


def rerun_bundle(bundle: Path) -> list[str]:
    """Re-run a published draw; return the lines to print, raise DrawError on any mismatch."""
    record = json.loads((bundle / "draw.json").read_text(encoding="utf-8"))
    inputs = record["inputs"]
    material = Material(
        (bundle / "population.csv").read_bytes().decode("utf-8"),
        json.loads((bundle / "roster.json").read_text(encoding="utf-8")),
        json.loads((bundle / "conflicts.json").read_text(encoding="utf-8")),
    )
    lines = [_check_signature(bundle, inputs["checkpoint"])]
    seed = seed_of(inputs)
    if seed != record.get("seed"):
        raise DrawError(f"the seed recomputes to {seed[:16]}…, the bundle says "
                        f"{str(record.get('seed'))[:16]}…")
    lines.append(f"seed {seed} recomputed from the inputs")
    again = published(run(inputs, material))
    if again != record.get("result"):
        raise DrawError("the recomputed draw differs from the published result")
    lines.append(f"draw {inputs['period']} round {inputs['round']}: {len(again)} enterprises, "
                 f"{inputs['inspectors_per_enterprise']} inspectors each — recomputed, identical")
    return lines


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] in ("-h", "--help"):
        print(__doc__.split("Definitions")[0].strip())
        return 2
    try:
        lines = rerun_bundle(Path(args[0]))
    except (OSError, KeyError, json.JSONDecodeError, DrawError) as exc:
        print(f"FAILED: {exc}")
        return 1
    for line in lines:
        print(line)
    unsigned = "NOT checked" in lines[0]
    print("OK, except that the checkpoint signature was not checked" if unsigned else "OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
