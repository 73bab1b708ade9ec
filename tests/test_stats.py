"""The statistics module against an independently computed golden table, and its properties."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.compare.stats import (
    BYAR,
    EXACT_POISSON,
    WILSON,
    Interval,
    byar,
    compare,
    exact_poisson_limits,
    judge,
    wilson,
    z_value,
)

GOLDEN = Path(__file__).parent / "golden" / "stats_golden.csv"


def golden_rows() -> list[dict[str, str]]:
    with GOLDEN.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize(
    "row",
    golden_rows(),
    ids=lambda r: f"{r['method']}-{r['numerator']}/{r['denominator']}@{r['confidence']}",
)
def test_golden(row: dict[str, str]) -> None:
    function = wilson if row["method"] == WILSON else byar
    got = function(
        int(row["numerator"]),
        int(row["denominator"]),
        float(row["confidence"]),
        float(row["multiplier"]),
    )
    assert got.method == row["method"]
    assert got.confidence == float(row["confidence"])
    for field in ("value", "lower", "upper"):
        assert getattr(got, field) == pytest.approx(float(row[field]), abs=1e-6, rel=0), field


def test_golden_table_covers_every_method_at_both_levels() -> None:
    seen = {(r["method"], r["confidence"]) for r in golden_rows()}
    methods = {WILSON, BYAR, EXACT_POISSON}
    assert seen == {(m, c) for m in methods for c in ("0.95", "0.998")}


def test_z_values_are_exact() -> None:
    assert z_value(0.95) == pytest.approx(1.959963984540054, abs=1e-15)
    assert z_value(0.998) == pytest.approx(3.090232306167813, abs=1e-15)


def test_exact_poisson_limits_solve_the_poisson_tails() -> None:
    # For a whole count k the limits L and U satisfy P(X >= k | L) = P(X <= k | U) = alpha / 2.
    def cdf(k: int, mean: float) -> float:
        return sum(math.exp(-mean) * mean**j / math.factorial(j) for j in range(k + 1))

    for confidence in (0.95, 0.998):
        tail = (1 - confidence) / 2
        for k in range(10):
            lower, upper = exact_poisson_limits(k, confidence)
            assert cdf(k, upper) == pytest.approx(tail, rel=1e-10)
            if k:
                assert 1 - cdf(k - 1, lower) == pytest.approx(tail, rel=1e-10)


def test_byar_switches_to_exact_below_ten() -> None:
    assert byar(9, 1000).method == EXACT_POISSON
    assert byar(9.5, 1000).method == EXACT_POISSON
    assert byar(10, 1000).method == BYAR


def test_zero_count_and_zero_numerator_have_lower_limit_zero() -> None:
    assert byar(0, 50_000).lower == 0
    assert byar(0, 50_000).upper > 0
    assert wilson(0, 30).lower == 0
    assert wilson(30, 30).upper == 100


# --- properties -------------------------------------------------------------------------------

proportions = st.integers(1, 1_000_000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n)))
counts = st.one_of(st.integers(0, 30), st.integers(0, 100_000))
populations = st.integers(1, 20_000_000)
confidences = st.sampled_from([0.95, 0.998])


def contains(wide: Interval, narrow: Interval) -> bool:
    return wide.lower <= narrow.lower and narrow.upper <= wide.upper


@given(proportions, confidences)
def test_wilson_bounds_hold(pair: tuple[int, int], confidence: float) -> None:
    got = wilson(*pair, confidence=confidence)
    assert 0 <= got.lower <= got.value <= got.upper <= 100


@given(counts, populations, confidences)
def test_rate_bounds_hold(count: int, population: int, confidence: float) -> None:
    got = byar(count, population, confidence)
    assert 0 <= got.lower <= got.value <= got.upper


@given(proportions)
def test_wilson_is_wider_at_998(pair: tuple[int, int]) -> None:
    assert contains(wilson(*pair, confidence=0.998), wilson(*pair))


@given(counts, populations)
def test_rate_is_wider_at_998(count: int, population: int) -> None:
    assert contains(byar(count, population, 0.998), byar(count, population))


@given(proportions, st.integers(2, 50), confidences)
def test_wilson_narrows_as_n_grows(pair: tuple[int, int], factor: int, confidence: float) -> None:
    small = wilson(*pair, confidence=confidence)
    large = wilson(pair[0] * factor, pair[1] * factor, confidence=confidence)
    assert large.upper - large.lower <= small.upper - small.lower + 1e-9


@given(proportions, confidences)
def test_wilson_limits_rise_with_the_numerator(pair: tuple[int, int], confidence: float) -> None:
    x, n = pair
    if x < n:
        low, high = wilson(x, n, confidence), wilson(x + 1, n, confidence)
        assert low.lower < high.lower
        assert low.upper < high.upper


@given(st.integers(0, 2_000), populations, confidences)
def test_rate_limits_rise_with_the_count(count: int, population: int, confidence: float) -> None:
    # Including across the switch from the exact method to Byar's at 10.
    low, high = byar(count, population, confidence), byar(count + 1, population, confidence)
    assert low.lower < high.lower or (count == 0 and low.lower == 0 < high.lower)
    assert low.upper < high.upper


@given(st.integers(1, 2_000), st.integers(2, 20), confidences)
def test_rate_narrows_relatively_as_the_count_grows(
    count: int, factor: int, confidence: float
) -> None:
    # Same rate, more events: the interval is narrower relative to the value.
    small = byar(count, 10_000, confidence)
    large = byar(count * factor, 10_000 * factor, confidence)
    assert large.upper - large.lower <= small.upper - small.lower + 1e-9


# --- comparison -------------------------------------------------------------------------------

NARROW = Interval(value=50.0, lower=45.0, upper=55.0, confidence=0.95, method=WILSON)
WIDE = Interval(value=50.0, lower=42.0, upper=58.0, confidence=0.998, method=WILSON)


@pytest.mark.parametrize(
    ("benchmark", "polarity", "expected"),
    [
        (50.0, "high", "similar"),
        (50.0, "low", "similar"),
        (50.0, "neutral", "similar"),
        # The benchmark below the interval: the figure is higher than the benchmark.
        (44.0, "high", "better"),
        (44.0, "low", "worse"),
        (44.0, "neutral", "higher"),
        (40.0, "high", "much better"),
        (40.0, "low", "much worse"),
        (40.0, "neutral", "much higher"),
        # The benchmark above the interval: the figure is lower than the benchmark.
        (56.0, "high", "worse"),
        (56.0, "low", "better"),
        (56.0, "neutral", "lower"),
        (60.0, "high", "much worse"),
        (60.0, "low", "much better"),
        (60.0, "neutral", "much lower"),
        # A benchmark exactly on a limit is inside it.
        (45.0, "high", "similar"),
        (55.0, "low", "similar"),
        (42.0, "high", "better"),
        (58.0, "neutral", "lower"),
    ],
)
def test_compare(benchmark: float, polarity: str, expected: str) -> None:
    assert compare(NARROW, WIDE, benchmark, polarity) == expected  # type: ignore[arg-type]


def test_judge_uses_the_right_interval() -> None:
    # 30% of 200 against 20%: outside both intervals, so "much" by polarity.
    assert judge("percentage", 60, 200, 20.0, "low", 100) == "much worse"
    assert judge("percentage", 60, 200, 30.0, "low", 100) == "similar"
    # 3 in 10,000 is a rate of 3 whose exact interval reaches past 8.
    assert judge("rate", 3, 10_000, 8.0, "high", 10_000) == "similar"
    assert judge("rate", 300, 10_000, 250.0, "neutral", 10_000) == "higher"


# --- bad inputs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: wilson(-1, 10), "numerator must not be negative"),
        (lambda: wilson(11, 10), "must not be greater than the denominator"),
        (lambda: wilson(0, 0), "denominator must be greater than zero"),
        (lambda: wilson(1, 10, confidence=95), "fraction between 0 and 1"),
        (lambda: wilson(1, 10, multiplier=0), "multiplier must be greater than zero"),
        (lambda: wilson(math.nan, 10), "numerator must be a finite number"),
        (lambda: byar(-1, 100), "count must not be negative"),
        (lambda: byar(5, 0), "denominator must be greater than zero"),
        (lambda: byar(5, math.inf), "denominator must be a finite number"),
        (lambda: byar(50, 100, confidence=1.0), "fraction between 0 and 1"),
        (lambda: compare(NARROW, WIDE, 50.0, "up"), "Polarity must be"),  # type: ignore[arg-type]
        (lambda: compare(WIDE, NARROW, 50.0, "high"), "must contain the 95% interval"),
        (lambda: compare(NARROW, WIDE, math.nan, "high"), "benchmark must be a finite number"),
        (lambda: judge("ratio", 1, 2, 0.5, "high", 1), "Only a percentage or a rate"),  # type: ignore[arg-type]
    ],
)
def test_bad_inputs_raise_plain_errors(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
