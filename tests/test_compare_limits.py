"""Funnel-plot control limits (exact binomial and Poisson) against values worked out independently.

Three independent checks: values worked by hand from the binomial and Poisson probabilities; a
reference written here in exact rational arithmetic (``fractions``), which shares nothing with
the floating-point code it checks; and values from SciPy (not a dependency), noted with how they
were made. Then the property that gives the limits their meaning: a whole count falls outside a
limit exactly when the exact one-sided test puts it in the tail.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.compare.stats import (
    binomial_limits,
    exact_poisson_limits,
    funnel_limits,
    poisson_limits,
)

TAILS = {0.95: Fraction(1, 40), 0.998: Fraction(1, 1000)}


def test_binomial_limits_worked_by_hand() -> None:
    # Binomial(10, 1/2): P(X <= 1) = 11/1024 < 2.5% <= P(X <= 2) = 56/1024, P(X = 2) = 45/1024,
    # so the lower limit is 2 - (56/1024 - 0.025) / (45/1024) = 59.6/45 counts, and by symmetry
    # the upper limit is 10 - 59.6/45.
    lower, upper = binomial_limits(10, 0.5, 0.95)
    assert lower == pytest.approx(59.6 / 45 / 10, abs=1e-14)
    assert upper == pytest.approx(1 - 59.6 / 45 / 10, abs=1e-14)


def test_poisson_limits_worked_by_hand() -> None:
    # Poisson(2): P(X = 0) = e^-2 is above 2.5%, so nothing is below the lower limit; P(X >= 5) =
    # 5.27% and P(X >= 6) = 1.66%, so the upper limit is 5 + (P(X >= 5) - 0.025) / P(X = 5).
    def pmf(k: int) -> float:
        return math.exp(-2) * 2.0**k / math.factorial(k)

    at_least_5 = 1 - math.fsum(pmf(k) for k in range(5))
    assert poisson_limits(2.0, 0.95) == pytest.approx((0.0, 5 + (at_least_5 - 0.025) / pmf(5)))


def _binomial_reference(n: int, p: Fraction, tail: Fraction) -> tuple[Fraction, Fraction]:
    """The limits in counts, from the exact binomial probabilities as fractions."""
    pmf = [math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1)]
    below = [sum(pmf[: k + 1], Fraction(0)) for k in range(n + 1)]  # P(X <= k)
    r = next(k for k in range(n + 1) if below[k] >= tail)
    lower = max(Fraction(0), r - (below[r] - tail) / pmf[r])
    above = [1 - (below[k - 1] if k else 0) for k in range(n + 1)]  # P(X >= k)
    r = max(k for k in range(n + 1) if above[k] >= tail)
    upper = min(Fraction(n), r + (above[r] - tail) / pmf[r])
    return lower, upper


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13, 20, 29, 40])
@pytest.mark.parametrize("p", [Fraction(1, 100), Fraction(1, 7), Fraction(1, 2), Fraction(9, 10)])
@pytest.mark.parametrize("confidence", [0.95, 0.998])
def test_binomial_limits_match_exact_arithmetic(n: int, p: Fraction, confidence: float) -> None:
    lower, upper = _binomial_reference(n, p, TAILS[confidence])
    got = binomial_limits(n, float(p), confidence)
    assert got == pytest.approx((float(lower) / n, float(upper) / n), abs=1e-12)


# scipy.stats.binom.cdf, .sf and .pmf (SciPy 1.17), with the interpolation of the docstring:
# lower = r - (cdf(r) - tail) / pmf(r) for the smallest r with cdf(r) >= tail, upper = r +
# (sf(r - 1) - tail) / pmf(r) for the largest r with sf(r - 1) >= tail, both over n.
SCIPY_BINOMIAL = [
    (2250, 0.188, 0.95, 0.17176230875335757, 0.20449689230572182),
    (2250, 0.188, 0.998, 0.16272728776078277, 0.2140673698575084),
    (148, 0.1, 0.95, 0.05063908161403505, 0.15427914860893988),
    (148, 0.1, 0.998, 0.02855324867877281, 0.18702771945547594),
    (33, 0.9, 0.95, 0.7695403973891696, 1.0),
    (33, 0.9, 0.998, 0.6948262315284793, 1.0),
    (70000, 0.0716, 0.95, 0.06968869551599195, 0.07352291263531775),
    (70000, 0.0716, 0.998, 0.06859900078518172, 0.07463594237160724),
]
# The same from scipy.stats.poisson, in counts.
SCIPY_POISSON = [
    (0.3, 0.95, 0.0, 2.3580519419245114),
    (0.3, 0.998, 0.0, 3.7797663929837997),
    (7.5, 0.95, 2.1219706362510458, 13.83719663926587),
    (7.5, 0.998, 0.10773898859414244, 17.820359124681246),
    (2400.0, 0.95, 2303.957808372082, 2496.9888134649796),
    (2400.0, 0.998, 2249.5373851969944, 2553.3114062367945),
    (123456.0, 0.95, 122767.31448388414, 124145.63271523443),
    (123456.0, 0.998, 122371.13234988558, 124543.71788384221),
]


@pytest.mark.parametrize(("n", "p", "confidence", "lower", "upper"), SCIPY_BINOMIAL)
def test_binomial_limits_match_scipy(
    n: int, p: float, confidence: float, lower: float, upper: float
) -> None:
    assert binomial_limits(n, p, confidence) == pytest.approx((lower, upper), abs=1e-11)


@pytest.mark.parametrize(("mean", "confidence", "lower", "upper"), SCIPY_POISSON)
def test_poisson_limits_match_scipy(
    mean: float, confidence: float, lower: float, upper: float
) -> None:
    assert poisson_limits(mean, confidence) == pytest.approx((lower, upper), rel=1e-11, abs=1e-11)


@given(st.integers(1, 400), st.floats(0.001, 0.999), st.sampled_from([0.95, 0.998]))
def test_a_count_is_outside_a_binomial_limit_exactly_when_the_exact_test_says_so(
    n: int, p: float, confidence: float
) -> None:
    tail = (1 - confidence) / 2
    lower, upper = binomial_limits(n, p, confidence)
    pmf = [math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1)]
    for r in range(n + 1):
        at_most, at_least = math.fsum(pmf[: r + 1]), math.fsum(pmf[r:])
        if abs(at_most - tail) > 1e-9:
            assert (r / n < lower) == (at_most < tail), r
        if abs(at_least - tail) > 1e-9:
            assert (r / n > upper) == (at_least < tail), r


@pytest.mark.parametrize("mean", [0.2, 1.0, 3.3, 9.5, 27.0, 150.0, 1234.5])
@pytest.mark.parametrize("confidence", [0.95, 0.998])
def test_a_count_is_outside_a_poisson_limit_exactly_when_its_exact_interval_leaves_out_the_mean(
    mean: float, confidence: float
) -> None:
    lower, upper = poisson_limits(mean, confidence)
    top = int(mean + 10 * math.sqrt(mean) + 10)
    for count in range(top):
        low, high = exact_poisson_limits(count, confidence)
        assert (count > upper) == (low > mean), count
        assert (count < lower) == (high < mean), count


@given(st.integers(1, 100_000), st.floats(0.01, 0.99))
def test_binomial_limits_nest_and_surround_the_centre(n: int, p: float) -> None:
    inner, outer = binomial_limits(n, p, 0.95), binomial_limits(n, p, 0.998)
    assert 0 <= outer[0] <= inner[0] <= p <= inner[1] <= outer[1] <= 1


@given(st.integers(50, 20_000), st.floats(0.05, 0.95))
def test_binomial_limits_narrow_as_the_denominator_grows(n: int, p: float) -> None:
    small, large = binomial_limits(n, p), binomial_limits(4 * n, p)
    assert large[1] - large[0] < small[1] - small[0]


def test_large_denominators_approach_the_normal_approximation() -> None:
    lower, upper = binomial_limits(1_000_000, 0.2)
    half = 1.959963984540054 * math.sqrt(0.2 * 0.8 / 1_000_000)
    assert lower == pytest.approx(0.2 - half, abs=2e-6)
    assert upper == pytest.approx(0.2 + half, abs=2e-6)


def test_a_centre_of_none_or_all_has_no_spread() -> None:
    assert binomial_limits(50, 0.0) == (0.0, 0.0)
    assert binomial_limits(50, 1.0) == (1.0, 1.0)
    assert poisson_limits(0.0) == (0.0, 0.0)


def test_funnel_limits_are_on_the_indicator_scale() -> None:
    # A percentage: the binomial limits times 100, at a whole denominator.
    assert funnel_limits("percentage", 18.8, 2250, 0.95, 100) == pytest.approx(
        tuple(100 * limit for limit in binomial_limits(2250, 0.188, 0.95))
    )
    assert funnel_limits("percentage", 50, 9.6, 0.95, 100) == funnel_limits(
        "percentage", 50, 10, 0.95, 100
    )
    # A rate per 10,000 of 60,000 children at 400: the Poisson limits of 2,400 expected.
    lower, upper = poisson_limits(2400.0, 0.998)
    assert funnel_limits("rate", 400, 60_000, 0.998, 10_000) == pytest.approx(
        (lower / 6, upper / 6)
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: binomial_limits(0, 0.5), "whole number from 1"),
        (lambda: binomial_limits(10.5, 0.5), "whole number from 1"),  # type: ignore[arg-type]
        (lambda: binomial_limits(10, 1.5), "between 0 and 1"),
        (lambda: binomial_limits(10, math.nan), "proportion must be a finite number"),
        (lambda: binomial_limits(10, 0.5, 95), "fraction between 0 and 1"),
        (lambda: poisson_limits(-1.0), "must not be negative"),
        (lambda: funnel_limits("percentage", 50, 0), "greater than zero"),
        (lambda: funnel_limits("rate", -1, 100, 0.95, 10_000), "must not be negative"),
        (lambda: funnel_limits("ratio", 1, 100), "Only a percentage or a rate"),  # type: ignore[arg-type]
    ],
)
def test_bad_inputs_raise_plain_errors(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
