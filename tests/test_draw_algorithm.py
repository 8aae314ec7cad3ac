"""The draw algorithm on its own: determinism, sensitivity to every input, no modulo bias,
uniformity over many seeds, and the standalone re-run script."""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from fractions import Fraction

import pytest

from avledger.core.inspect import draw

CHECKPOINT_A = "origin\n5\nAAAA\nhead aa\ntime t1\n\n— origin sigA\n"
CHECKPOINT_B = "origin\n6\nBBBB\nhead bb\ntime t2\n\n— origin sigB\n"


def material(n: int = 30, badges: int = 7, conflicts: list[list[str]] | None = None
             ) -> draw.Material:
    rows = [(f"E{i:03d}", f"Enterprise {i}") for i in range(1, n + 1)]
    roster = draw.canonical_roster([{"badge": f"0{100 + i}", "name": f"P{i}"}
                                    for i in range(badges)])
    return draw.Material(draw.population_csv(rows), roster,
                         draw.canonical_conflicts(conflicts or []))


def inputs(mat: draw.Material, **over: object) -> dict[str, object]:
    args: dict[str, object] = {"period": "2026Q4", "round_no": 1, "checkpoint": CHECKPOINT_A,
                               "rate": Fraction(1, 5), "inspectors": 2, "material": mat}
    args.update(over)
    return draw.make_inputs(**args)


def test_same_inputs_same_draw() -> None:
    mat = material()
    first = draw.run(inputs(mat), mat)
    second = draw.run(inputs(material()), material())
    assert first == second
    assert len(first) == 6  # ceil(20 % of 30)
    assert [r["task_id"] for r in first] == [f"2026Q4-{i:03d}" for i in range(1, 7)]
    assert draw.seed_of(inputs(mat)) == draw.seed_of(inputs(material()))


@pytest.mark.parametrize("change", [
    {"checkpoint": CHECKPOINT_B},
    {"period": "2027Q1"},
    {"round_no": 2},
    {"beacon": "lottery 2026-09-30: 03 11 19 24 28 33 + 07"},
])
def test_changing_a_seed_input_changes_the_draw(change: dict[str, object]) -> None:
    mat = material()
    base = draw.run(inputs(mat), mat)
    other = draw.run(inputs(mat, **change), mat)
    assert draw.seed_of(inputs(mat)) != draw.seed_of(inputs(mat, **change))
    # enterprises (ignoring task-id renaming) or inspectors differ
    assert [(r["enterprise_id"], r["inspectors"]) for r in base] != \
        [(r["enterprise_id"], r["inspectors"]) for r in other]


def test_material_must_match_the_recorded_digests() -> None:
    mat = material()
    recorded = inputs(mat)
    edited = draw.Material(mat.population.replace("Enterprise 3", "Enterprise 333"),
                           mat.roster, mat.conflicts)
    with pytest.raises(draw.DrawError, match="population does not match"):
        draw.run(recorded, edited)
    fewer = draw.Material(mat.population, mat.roster[:-1], mat.conflicts)
    with pytest.raises(draw.DrawError, match="roster does not match"):
        draw.run(recorded, fewer)


def test_conflicted_inspectors_are_never_drawn_for_that_enterprise() -> None:
    conflicts = [[f"E{i:03d}", "0100"] for i in range(1, 31)] + [["E007", "0101"]]
    mat = material(conflicts=conflicts)
    result = draw.run(inputs(mat, rate=Fraction(1)), mat)
    assert len(result) == 30
    for r in result:
        assert "0100" not in r["inspectors"]
        assert len(set(r["inspectors"])) == 2
    assert "0101" not in next(r for r in result if r["enterprise_id"] == "E007")["inspectors"]


def test_not_enough_inspectors_after_conflicts() -> None:
    mat = material(badges=3, conflicts=[["E001", "0100"], ["E001", "0101"]])
    with pytest.raises(draw.NotEnoughInspectors, match="E001 has 1 eligible"):
        draw.run(inputs(mat, rate=Fraction(1)), mat)


@pytest.mark.parametrize(("text", "value"), [("20%", Fraction(1, 5)), ("0.2", Fraction(1, 5)),
                                             ("1/5", Fraction(1, 5)), ("100%", Fraction(1)),
                                             ("12.5 %", Fraction(1, 8))])
def test_parse_rate(text: str, value: Fraction) -> None:
    assert draw.parse_rate(text) == value


@pytest.mark.parametrize("text", ["0%", "0", "150%", "-5%", "abc", "1/0", ""])
def test_parse_rate_rejects(text: str) -> None:
    with pytest.raises(draw.DrawError):
        draw.parse_rate(text)


def test_count_is_ceiling_of_rate_times_population() -> None:
    for n in (1, 4, 5, 6, 99, 101):
        mat = material(n=n)
        assert len(draw.run(inputs(mat), mat)) == math.ceil(n / 5)


def test_task_ids() -> None:
    assert draw.task_id("2026Q4", 1, 7, 40) == "2026Q4-007"
    assert draw.task_id("2026Q4", 2, 7, 40) == "2026Q4r2-007"
    assert draw.task_id("2026Q4", 1, 7, 1200) == "2026Q4-0007"


class ScriptedStream(draw.Stream):
    def __init__(self, values: list[int]) -> None:
        super().__init__("00", "x")
        self.values = values

    def next_u64(self) -> int:
        return self.values.pop(0)


def test_below_rejects_values_that_would_bias_the_modulo() -> None:
    # 2**64 = 3 * 6148914691236517205 + 1: the single value 2**64 - 1 must be rejected,
    # otherwise 0 would come up once more often than 1 and 2.
    s = ScriptedStream([2**64 - 1, 2**64 - 2, 5])
    assert s.below(3) == (2**64 - 2) % 3
    s = ScriptedStream([2**64 - 1, 5])
    assert s.below(3) == 2
    assert s.values == []
    with pytest.raises(draw.DrawError):
        ScriptedStream([1]).below(0)


def test_stream_is_hmac_sha256_counter_mode() -> None:
    import hmac

    seed = hashlib.sha256(b"x").hexdigest()
    block0 = hmac.new(bytes.fromhex(seed), b"L\x00" + (0).to_bytes(8, "big"),
                      hashlib.sha256).digest()
    block1 = hmac.new(bytes.fromhex(seed), b"L\x00" + (1).to_bytes(8, "big"),
                      hashlib.sha256).digest()
    s = draw.Stream(seed, "L")
    got = [s.next_u64() for _ in range(8)]
    want = [int.from_bytes((block0 + block1)[i:i + 8], "big") for i in range(0, 64, 8)]
    assert got == want


def chi_square(counts: Counter[str], keys: list[str], expected: float) -> float:
    return sum((counts[k] - expected) ** 2 / expected for k in keys)


def test_enterprises_are_drawn_with_equal_frequency_over_many_seeds() -> None:
    ids = [f"E{i:02d}" for i in range(20)]
    trials, k = 4000, 5
    counts: Counter[str] = Counter()
    first: Counter[str] = Counter()
    for t in range(trials):
        seed = hashlib.sha256(f"trial {t}".encode()).hexdigest()
        chosen = draw.sample(ids, k, draw.Stream(seed, "enterprises"))
        assert len(set(chosen)) == k
        counts.update(chosen)
        first[chosen[0]] += 1
    # 19 degrees of freedom: P(chi2 > 60) is about 3e-6. The seeds are fixed, so this cannot
    # flake; it fails only if the sampler is biased.
    assert chi_square(counts, ids, trials * k / len(ids)) < 60
    assert chi_square(first, ids, trials / len(ids)) < 60


def test_the_uniformity_check_would_catch_a_biased_sampler() -> None:
    ids = [f"E{i:02d}" for i in range(20)]
    counts: Counter[str] = Counter()
    for t in range(4000):
        s = draw.Stream(hashlib.sha256(f"trial {t}".encode()).hexdigest(), "enterprises")
        # a classic mistake: swap with any position, not only later ones
        pool = list(ids)
        for i in range(len(pool)):
            j = s.below(len(pool))
            pool[i], pool[j] = pool[j], pool[i]
        counts.update(pool[:5])
    assert chi_square(counts, ids, 4000 * 5 / 20) > 60


def test_inspectors_are_drawn_with_equal_frequency_over_many_seeds() -> None:
    pool = [f"0{100 + i}" for i in range(7)]
    trials = 3000
    counts: Counter[str] = Counter()
    for t in range(trials):
        seed = hashlib.sha256(f"inspectors {t}".encode()).hexdigest()
        counts.update(draw.sample(pool, 2, draw.Stream(seed, "inspectors\x00E01")))
    # 6 degrees of freedom: P(chi2 > 35) is about 4e-6
    assert chi_square(counts, pool, trials * 2 / len(pool)) < 35
