"""The review sample (rule B, Art. 17): reproducible, recorded, and re-derivable from the manual.

``_spec_sample`` implements the sampling exactly as docs/records-office.md and
``core/reports/review_sample.py`` describe it, with nothing but the standard library, so the
code is checked against its documentation.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import pytest

from avledger.core.app import Avledger
from avledger.core.reports import review_sample as review
from tests.factories import ClipSpec, insert_clips
from tests.factories_inspect import add_people

REVIEWER = {"badge": "0301", "name": "Auditor Sun", "os_user": "sun", "roles": ["auditor"]}
HANDLER = {"badge": "0302", "name": "Officer Qian", "os_user": "qian", "roles": ["handler"]}


def _spec_sample(ids: list[int], rate: Fraction, year: int, seed: str) -> list[int]:
    key = hashlib.sha256(json.dumps({"scheme": "avledger-review-v1", "year": year,
                                     "seed": seed}, sort_keys=True, separators=(",", ":"),
                                    ensure_ascii=False).encode()).digest()
    counter, buffer = 0, b""

    def u64() -> int:
        nonlocal counter, buffer
        if len(buffer) < 8:
            buffer += hmac.new(key, b"clips\x00" + counter.to_bytes(8, "big"),
                               hashlib.sha256).digest()
            counter += 1
        value, buffer = int.from_bytes(buffer[:8], "big"), buffer[8:]
        return value

    def below(n: int) -> int:
        limit = (2**64 // n) * n
        while True:
            x = u64()
            if x < limit:
                return x % n

    pool = sorted(ids)
    k = math.ceil(rate * len(pool))
    for i in range(k):
        j = i + below(len(pool) - i)
        pool[i], pool[j] = pool[j], pool[i]
    return pool[:k]


@pytest.fixture
def footage(home: Path, app: Avledger) -> list[int]:
    """300 clips of 2025 (site time), 3 of 2024 and 2 of 2026 around the year's edges."""
    add_people(home, [REVIEWER, HANDLER])
    start = datetime(2025, 1, 1, 9, tzinfo=UTC)
    specs = [ClipSpec(device="TC0001", source_path=f"DCIM/{n:04d}.MP4",
                      content=f"clip {n}".encode(), recorded=start + timedelta(hours=29 * n),
                      ingested=start + timedelta(hours=29 * n + 2),
                      badge="0302" if n % 3 else "0001")
             for n in range(300)]
    edges = [datetime(2024, 12, 31, 15, 59, tzinfo=UTC),  # 23:59 in Shanghai: still 2024
             datetime(2024, 12, 31, 16, 0, tzinfo=UTC),  # 00:00 on 1 January 2025
             datetime(2025, 12, 31, 16, 0, tzinfo=UTC),  # 00:00 on 1 January 2026
             datetime(2023, 6, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)]
    specs += [ClipSpec(device="TC0002", source_path=f"DCIM/E{n}.MP4", content=f"e{n}".encode(),
                       recorded=t, ingested=t + timedelta(hours=1)) for n, t in enumerate(edges)]
    ids = insert_clips(app, specs)
    return ids[:300] + [ids[301]]  # the clips of 2025 in Shanghai


def test_same_seed_same_sample_other_seed_other_sample(cli, footage: list[int]) -> None:  # type: ignore[no-untyped-def]
    def draw(seed: str, *extra: str) -> dict:  # type: ignore[type-arg]
        result = cli("review", "sample", "--year", "2025", "--rate", "10%", "--seed", seed,
                     "--json", *extra)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    first = draw("meeting-2026-01-15", "--dry-run")
    again = draw("meeting-2026-01-15")
    other = draw("meeting-2026-01-16", "--dry-run")
    assert first["clips"] == again["clips"] and len(first["clips"]) == 31  # ceil(10 % of 301)
    assert set(first["clips"]) != set(other["clips"])
    assert first["population_size"] == 301 and set(first["clips"]) <= set(footage)
    assert first["clips"] == _spec_sample(footage, Fraction(1, 10), 2025, "meeting-2026-01-15")
    wider = draw("meeting-2026-01-15", "--rate", "20%", "--dry-run")
    assert wider["clips"][:31] == first["clips"]  # a higher rate extends the same order
    assert hashlib.sha256("".join(f"{i}\n" for i in sorted(footage)).encode()).hexdigest() \
        == first["population_sha256"]


def test_the_draw_is_on_record(cli, app: Avledger, footage: list[int]) -> None:  # type: ignore[no-untyped-def]
    result = cli("review", "sample", "--year", "2025", "--rate", "1/50", "--seed", "s1",
                 "--json")
    drawn = json.loads(result.stdout)
    row = app.catalog.conn.execute("SELECT * FROM ledger WHERE seq = ?",
                                   (drawn["event"],)).fetchone()
    payload = json.loads(row["payload"])
    assert row["type"] == "review.sampled" and row["subject"] == "review:2025"
    assert payload["seed"] == "s1" and payload["clips"] == drawn["clips"]
    assert payload["rate"] == "1/50" and payload["population_size"] == 301
    dry = json.loads(cli("review", "sample", "--year", "2025", "--rate", "1/50", "--seed", "s2",
                         "--dry-run", "--json").stdout)
    assert dry["id"] is None
    assert app.catalog.conn.execute("SELECT COUNT(*) FROM review_samples").fetchone()[0] == 1
    # A second draw for the year is kept too, and the listing shows the latest.
    cli("review", "sample", "--year", "2025", "--rate", "1/50", "--seed", "s3")
    listing = json.loads(cli("review", "list", "--year", "2025", "--json").stdout)
    assert listing["sample"]["seed"] == "s3"
    assert len(review.samples_of(app.catalog.conn, 2025)) == 2


def test_without_a_seed_one_is_made_and_shown(cli, footage: list[int]) -> None:  # type: ignore[no-untyped-def]
    result = cli("review", "sample", "--year", "2025", "--json")
    data = json.loads(result.stdout)
    assert len(data["seed"]) == 16 and data["rate"] == "1/20"  # reports.review_rate_percent
    again = cli("review", "sample", "--year", "2025", "--seed", data["seed"], "--dry-run",
                "--json")
    assert json.loads(again.stdout)["clips"] == data["clips"]


def test_findings_are_recorded_and_the_latest_counts(cli, app: Avledger,  # type: ignore[no-untyped-def]
                                                     footage: list[int]) -> None:
    drawn = json.loads(cli("review", "sample", "--year", "2025", "--rate", "5%", "--seed", "x",
                           "--json").stdout)
    clip = next(c for c in drawn["clips"] if c % 3)  # footage of officer 0302
    env = {"AVLEDGER_ACTOR": "sun"}
    first = cli("review", "record", str(clip), "--finding", "unclear", "--note", "dark",
                env=env)
    assert first.returncode == 0, first.stderr
    second = cli("review", "record", str(clip), "--finding", "ok", "--json", env=env)
    assert json.loads(second.stdout)["sample"] == drawn["id"]
    listing = json.loads(cli("review", "list", "--year", "2025", "--json").stdout)
    item = next(i for i in listing["clips"] if i["clip"] == clip)
    assert item["finding"] == "ok"
    pending = json.loads(cli("review", "list", "--year", "2025", "--pending", "--json").stdout)
    assert clip not in [i["clip"] for i in pending["clips"]]
    assert len(pending["clips"]) == len(drawn["clips"]) - 1
    kinds = [r[0] for r in app.catalog.conn.execute(
        "SELECT type FROM ledger WHERE subject = ? ORDER BY seq", (f"clip:{clip}",))]
    assert kinds[-2:] == ["review.recorded", "review.recorded"]


@pytest.mark.parametrize(("actor", "args", "code", "words"), [
    ("sun", ["--finding", "unclear"], 5, "needs a --note"),
    ("sun", ["--finding", "blurry", "--note", "x"], 2, "blurry"),
    ("qian", ["--finding", "ok"], 5, "needs role"),
    ("nobody", ["--finding", "ok"], 5, "not on the roster"),
])
def test_refusals_are_one_line_and_change_nothing(cli, app: Avledger, footage: list[int],  # type: ignore[no-untyped-def]
                                                  actor: str, args: list[str], code: int,
                                                  words: str) -> None:
    before = app.catalog.conn.execute("SELECT COUNT(*) FROM ledger").fetchone()[0]
    result = cli("review", "record", str(footage[1]), *args, env={"AVLEDGER_ACTOR": actor})
    assert result.returncode == code
    assert words in result.stderr
    if code != 2:
        assert len(result.stderr.strip().splitlines()) == 1
    assert app.catalog.conn.execute("SELECT COUNT(*) FROM ledger").fetchone()[0] == before
    assert app.catalog.conn.execute("SELECT COUNT(*) FROM review_findings").fetchone()[0] == 0


def test_nobody_reviews_their_own_footage(cli, footage: list[int]) -> None:  # type: ignore[no-untyped-def]
    own = footage[0]  # badge 0001: the current user
    result = cli("review", "record", str(own), "--finding", "ok")
    assert result.returncode == 5 and "your own footage" in result.stderr
    missing = cli("review", "record", "999999", "--finding", "ok")
    assert missing.returncode == 4


def test_sampling_refusals(cli, footage: list[int]) -> None:  # type: ignore[no-untyped-def]
    for rate, words in (("0%", "above 0"), ("150%", "at most 100%"), ("lots", "percentage")):
        result = cli("review", "sample", "--year", "2025", "--rate", rate)
        assert result.returncode == 2 and words in result.stderr, result.stderr
    empty = cli("review", "sample", "--year", "2019", "--rate", "5%")
    assert empty.returncode == 4 and "no footage recorded in 2019" in empty.stderr
    handler = cli("review", "sample", "--year", "2025", env={"AVLEDGER_ACTOR": "qian"})
    assert handler.returncode == 5
    none_yet = cli("review", "list", "--year", "2024")
    assert none_yet.returncode == 4 and "review sample --year 2024" in none_yet.stderr


def test_choose_is_pure(footage: list[int]) -> None:
    ids = sorted(footage)
    a = review.choose(ids, Fraction(1, 10), 2025, "k")
    assert review.choose(list(reversed(ids)), Fraction(1, 10), 2025, "k") == a
    assert review.choose([], Fraction(1, 10), 2025, "k") == []
    assert review.choose(ids, Fraction(1, 10), 2026, "k") != a  # the year is part of the key
