"""Confidence intervals and benchmark comparisons, the way Fingertips and PHEindicatormethods do.

Proportions get Wilson score intervals; rates of counts get Byar's approximation, or the exact
Poisson interval when the count is under 10. A figure is compared with a benchmark at the 95% and
99.8% levels. Funnel plots get exact binomial and Poisson control limits. Standard library only,
so every stage and the maintainers' scripts can trust it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist
from typing import Literal

Polarity = Literal["high", "low", "neutral"]
Comparison = Literal[
    "similar",
    "better",
    "worse",
    "much better",
    "much worse",
    "higher",
    "lower",
    "much higher",
    "much lower",
]

WILSON = "Wilson score"
BYAR = "Byar"
EXACT_POISSON = "exact Poisson"
EXACT_BINOMIAL = "exact binomial"

# Byar's approximation is poor for small counts; PHEindicatormethods switches below 10.
EXACT_BELOW = 10


@dataclass(frozen=True)
class Interval:
    """A value with its confidence interval, the confidence level and the method that made it."""

    value: float
    lower: float
    upper: float
    confidence: float
    method: str


def wilson(
    numerator: int | float,
    denominator: int | float,
    confidence: float = 0.95,
    multiplier: float = 100,
) -> Interval:
    """Wilson score interval for the proportion ``numerator / denominator``, times ``multiplier``.

    With the default multiplier the value and limits are percentages.
    """
    _check_finite(numerator=numerator, denominator=denominator, multiplier=multiplier)
    if numerator < 0:
        raise ValueError(f"The numerator must not be negative; got {numerator}.")
    if denominator <= 0:
        raise ValueError(f"The denominator must be greater than zero; got {denominator}.")
    if numerator > denominator:
        raise ValueError(
            f"The numerator ({numerator}) must not be greater than the denominator "
            f"({denominator}) for a proportion."
        )
    _check_multiplier(multiplier)
    z = z_value(confidence)
    n = float(denominator)
    p = numerator / n
    shrink = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / shrink
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / shrink
    # The limits are exactly 0 at 0/n and 1 at n/n; rounding would leave them a hair off.
    lower = 0.0 if numerator == 0 else max(0.0, centre - half)
    upper = 1.0 if numerator == denominator else min(1.0, centre + half)
    return Interval(p * multiplier, lower * multiplier, upper * multiplier, confidence, WILSON)


def byar(
    count: int | float,
    denominator: int | float,
    confidence: float = 0.95,
    multiplier: float = 10_000,
) -> Interval:
    """Rate of ``count`` events per ``multiplier`` of ``denominator`` (a population), with limits.

    Byar's approximation to the Poisson interval when the count is 10 or more (method "Byar");
    the exact Poisson interval from the chi-squared distribution below 10 (method
    "exact Poisson"). A count of 0 has a lower limit of 0.
    """
    _check_finite(count=count, denominator=denominator, multiplier=multiplier)
    if count < 0:
        raise ValueError(f"The count must not be negative; got {count}.")
    if denominator <= 0:
        raise ValueError(f"The denominator must be greater than zero; got {denominator}.")
    _check_multiplier(multiplier)
    scale = multiplier / denominator
    if count < EXACT_BELOW:
        low_count, high_count = exact_poisson_limits(count, confidence)
        method = EXACT_POISSON
    else:
        z = z_value(confidence)
        o = float(count)
        low_count = o * (1 - 1 / (9 * o) - z / (3 * math.sqrt(o))) ** 3
        o1 = o + 1
        high_count = o1 * (1 - 1 / (9 * o1) + z / (3 * math.sqrt(o1))) ** 3
        method = BYAR
    return Interval(count * scale, low_count * scale, high_count * scale, confidence, method)


def exact_poisson_limits(count: int | float, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood) confidence limits for the mean of a Poisson variable observed as ``count``.

    Lower = chi2(alpha/2, 2 count) / 2 and upper = chi2(1 - alpha/2, 2 count + 2) / 2, which are
    the quantiles of gamma distributions with shapes ``count`` and ``count + 1``.
    """
    _check_finite(count=count)
    if count < 0:
        raise ValueError(f"The count must not be negative; got {count}.")
    alpha = 1 - _check_confidence(confidence)
    lower = 0.0 if count == 0 else _gamma_quantile(float(count), alpha / 2, lower_tail=True)
    upper = _gamma_quantile(float(count) + 1, alpha / 2, lower_tail=False)
    return lower, upper


def z_value(confidence: float) -> float:
    """The two-sided standard normal critical value: 1.959963984540054 for 0.95."""
    alpha = 1 - _check_confidence(confidence)
    return -NormalDist().inv_cdf(alpha / 2)


def compare(
    interval_95: Interval, interval_998: Interval, benchmark: float, polarity: Polarity
) -> Comparison:
    """Judge a figure against a benchmark as Fingertips does.

    A benchmark inside the 95% interval (limits included) is "similar". Outside it, the figure is
    "better" or "worse" according to the polarity ("high" means higher is better), or "higher" or
    "lower" for a neutral indicator; outside the 99.8% interval too, "much better", "much worse",
    "much higher" or "much lower".
    """
    if polarity not in ("high", "low", "neutral"):
        raise ValueError(f"Polarity must be 'high', 'low' or 'neutral'; got {polarity!r}.")
    if not math.isfinite(benchmark):
        raise ValueError(f"The benchmark must be a finite number; got {benchmark}.")
    if not (interval_998.lower <= interval_95.lower and interval_95.upper <= interval_998.upper):
        raise ValueError("The 99.8% interval must contain the 95% interval; are they swapped?")
    if interval_95.lower <= benchmark <= interval_95.upper:
        return "similar"
    higher = benchmark < interval_95.lower
    much = not interval_998.lower <= benchmark <= interval_998.upper
    if polarity == "neutral":
        word = "higher" if higher else "lower"
    else:
        word = "better" if higher == (polarity == "high") else "worse"
    return _COMPARISONS[(much, word)]


def judge(
    kind: Literal["percentage", "rate"],
    numerator: int | float,
    denominator: int | float,
    benchmark: float,
    polarity: Polarity,
    multiplier: float,
) -> Comparison:
    """Compare a percentage (Wilson) or a rate (Byar or exact) with a benchmark in one call."""
    if kind not in ("percentage", "rate"):
        raise ValueError(f"Only a percentage or a rate has an interval; got {kind!r}.")
    method = wilson if kind == "percentage" else byar
    return compare(
        method(numerator, denominator, 0.95, multiplier),
        method(numerator, denominator, 0.998, multiplier),
        benchmark,
        polarity,
    )


def binomial_limits(
    denominator: int, proportion: float, confidence: float = 0.95
) -> tuple[float, float]:
    """Funnel-plot control limits for a proportion out of ``denominator`` when the underlying
    proportion is ``proportion`` (the funnel's centre, a fraction): exact binomial, as fractions.

    The limits hold ``confidence`` of the observed proportions between them. A whole count ``r``
    is below the lower limit exactly when P(X <= r) < (1 - confidence) / 2, the exact one-sided
    binomial test, and above the upper limit exactly when P(X >= r) is. Between whole counts each
    limit is interpolated as in Spiegelhalter (2005), "Funnel plots for comparing institutional
    performance": ``r - (P(X <= r) - tail) / P(X = r)`` for the smallest ``r`` with
    P(X <= r) >= tail, and the same from the upper tail, so the curves are smooth.
    """
    _check_finite(proportion=proportion)
    if isinstance(denominator, bool) or denominator != int(denominator) or denominator < 1:
        raise ValueError(f"The denominator must be a whole number from 1; got {denominator}.")
    if not 0 <= proportion <= 1:
        raise ValueError(f"The proportion must be between 0 and 1; got {proportion}.")
    tail = (1 - _check_confidence(confidence)) / 2
    n = int(denominator)
    if proportion in (0, 1):
        return float(proportion), float(proportion)  # every observation is the centre
    log_p, log_q = math.log(proportion), math.log1p(-proportion)
    log_n = math.lgamma(n + 1)

    def pmf(k: int) -> float:
        return math.exp(
            log_n - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * log_p + (n - k) * log_q
        )

    counts = _Counts(pmf, n * proportion, n)
    spread = z_value(confidence) * math.sqrt(n * proportion * (1 - proportion))
    return counts.lower_limit(tail, spread) / n, counts.upper_limit(tail, spread) / n


def poisson_limits(expected: float, confidence: float = 0.95) -> tuple[float, float]:
    """Funnel-plot control limits for a count whose expected value is ``expected`` (the funnel's
    centre times the population): exact Poisson, as counts.

    Built as :func:`binomial_limits` is, from the Poisson distribution: a whole count is outside a
    limit exactly when the exact one-sided Poisson test puts it in the tail, which is when its exact
    (Garwood) interval of :func:`exact_poisson_limits` leaves out ``expected``.
    """
    _check_finite(expected=expected)
    if expected < 0:
        raise ValueError(f"The expected count must not be negative; got {expected}.")
    tail = (1 - _check_confidence(confidence)) / 2
    if expected == 0:
        return 0.0, 0.0
    log_mean = math.log(expected)

    def pmf(k: int) -> float:
        return math.exp(k * log_mean - expected - math.lgamma(k + 1))

    counts = _Counts(pmf, expected, None)
    spread = z_value(confidence) * math.sqrt(expected)
    return counts.lower_limit(tail, spread), counts.upper_limit(tail, spread)


def funnel_limits(
    kind: Literal["percentage", "rate"],
    centre: float,
    denominator: float,
    confidence: float = 0.95,
    multiplier: float = 100,
) -> tuple[float, float]:
    """The control limits of a funnel plot at one denominator, on the scale of the indicator.

    ``centre`` is on that scale too (a percentage, or a rate per ``multiplier``). A percentage's
    limits are exact binomial (:func:`binomial_limits`; the denominator is rounded to a whole
    number); a rate's are exact Poisson (:func:`poisson_limits`), the denominator a population.
    """
    _check_finite(centre=centre, denominator=denominator, multiplier=multiplier)
    _check_multiplier(multiplier)
    if denominator <= 0:
        raise ValueError(f"The denominator must be greater than zero; got {denominator}.")
    if kind == "percentage":
        whole = max(1, round(denominator))
        lower, upper = binomial_limits(whole, centre / multiplier, confidence)
        return lower * multiplier, upper * multiplier
    if kind == "rate":
        if centre < 0:
            raise ValueError(f"A rate must not be negative; got {centre}.")
        lower, upper = poisson_limits(centre / multiplier * denominator, confidence)
        scale = multiplier / denominator
        return lower * scale, upper * scale
    raise ValueError(f"Only a percentage or a rate has funnel limits; got {kind!r}.")


@dataclass(frozen=True)
class _Counts:
    """A distribution of whole counts from 0 (to ``top``, if bounded): its probabilities, mean."""

    pmf: Callable[[int], float]
    mean: float
    top: int | None

    def lower_limit(self, tail: float, spread: float) -> float:
        """The interpolated count below which a fraction ``tail`` of the counts fall."""
        r = self._clip(math.floor(self.mean - spread))
        below = self._at_most(r)
        while below < tail:
            r += 1
            below += self.pmf(r)
        while r > 0 and below - self.pmf(r) >= tail:
            below -= self.pmf(r)
            r -= 1
        return max(0.0, r - (below - tail) / self.pmf(r))

    def upper_limit(self, tail: float, spread: float) -> float:
        """The interpolated count above which a fraction ``tail`` of the counts fall."""
        r = self._clip(math.ceil(self.mean + spread))
        above = self._at_least(r)
        while above < tail:
            r -= 1
            above += self.pmf(r)
        while (self.top is None or r < self.top) and above - self.pmf(r) >= tail:
            above -= self.pmf(r)
            r += 1
        limit = r + (above - tail) / self.pmf(r)
        return limit if self.top is None else min(float(self.top), limit)

    def _clip(self, r: int) -> int:
        return max(0, r if self.top is None else min(self.top, r))

    def _at_most(self, r: int) -> float:
        if r > self.mean:  # summing towards the bulk would be long; the other tail is short
            return 1.0 - self._at_least(r + 1)
        return self._sum_outwards(r, -1)

    def _at_least(self, r: int) -> float:
        if r < self.mean:
            return 1.0 - self._at_most(r - 1)
        return self._sum_outwards(r, 1)

    def _sum_outwards(self, r: int, step: int) -> float:
        """P(X = r) + P(X = r + step) + ..., away from the mean, until the terms stop counting."""
        total = 0.0
        while r >= 0 and (self.top is None or r <= self.top):
            term = self.pmf(r)
            total += term
            if term <= total * 1e-17:
                break
            r += step
        return total


_COMPARISONS: dict[tuple[bool, str], Comparison] = {
    (False, "better"): "better",
    (False, "worse"): "worse",
    (False, "higher"): "higher",
    (False, "lower"): "lower",
    (True, "better"): "much better",
    (True, "worse"): "much worse",
    (True, "higher"): "much higher",
    (True, "lower"): "much lower",
}


def _check_confidence(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(
            f"The confidence level is a fraction between 0 and 1, such as 0.95; got {confidence}."
        )
    return confidence


def _check_multiplier(multiplier: float) -> None:
    if multiplier <= 0:
        raise ValueError(f"The multiplier must be greater than zero; got {multiplier}.")


def _check_finite(**numbers: float) -> None:
    for name, number in numbers.items():
        if not math.isfinite(number):
            raise ValueError(f"The {name} must be a finite number; got {number}.")


def _regularized_gamma(shape: float, x: float) -> tuple[float, float]:
    """P(shape, x) and Q(shape, x) = 1 - P, each computed where it is accurate."""
    if x <= 0:
        return 0.0, 1.0
    log_front = shape * math.log(x) - x - math.lgamma(shape)
    if x < shape + 1:
        # Power series converges fast here and gives P to full relative precision.
        term = total = 1 / shape
        k = shape
        while abs(term) > abs(total) * 1e-17:
            k += 1
            term *= x / k
            total += term
        p = total * math.exp(log_front)
        return p, 1 - p
    # Continued fraction for Q (modified Lentz), accurate in the upper tail.
    tiny = 1e-300
    b = x + 1 - shape
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - shape)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-16:
            break
    q = math.exp(log_front) * h
    return 1 - q, q


@lru_cache(maxsize=1024)
def _gamma_quantile(shape: float, tail: float, *, lower_tail: bool) -> float:
    """The x with P(shape, x) = tail (lower_tail) or Q(shape, x) = tail, to ~1e-14 relative.

    Newton's method kept inside a bracket that shrinks every step, falling back to bisection.
    Working in whichever tail is asked for keeps small probabilities precise.
    """

    def excess(x: float) -> float:
        p, q = _regularized_gamma(shape, x)
        return p - tail if lower_tail else tail - q

    low, high = 0.0, max(1.0, 2 * shape)
    while excess(high) < 0:
        low, high = high, 2 * high
    x = _gamma_start(shape, tail, lower_tail=lower_tail)
    if not low < x < high:  # also when the start underflowed to 0
        x = (low + high) / 2
    for _ in range(1000):
        f = excess(x)
        if f == 0:
            return x
        if f < 0:
            low = x
        else:
            high = x
        log_density = (shape - 1) * math.log(x) - x - math.lgamma(shape)
        density = math.exp(min(log_density, 700.0))
        candidate = x - f / density if density > 0 else math.nan
        if not low < candidate < high:
            if high - low <= 1e-15 * high:
                return x
            # Bisect in log space, as the bracket can span hundreds of orders of magnitude.
            candidate = math.sqrt(low) * math.sqrt(high) if low > 0 else high / 1024
        if candidate <= 0:
            return 0.0  # the quantile underflows: it is below the smallest float
        if abs(candidate - x) <= 1e-15 * x:
            return candidate
        x = candidate
    return x


def _gamma_start(shape: float, tail: float, *, lower_tail: bool) -> float:
    """A first guess at the gamma quantile: Wilson-Hilferty, or x^a / Gamma(a + 1) near zero."""
    z = NormalDist().inv_cdf(tail) * (1 if lower_tail else -1)
    guess = shape * (1 - 1 / (9 * shape) + z / (3 * math.sqrt(shape))) ** 3
    if lower_tail:
        near_zero = math.exp((math.log(tail) + math.lgamma(shape + 1)) / shape)
        if guess <= 0 or near_zero < guess:
            return near_zero
    return guess
