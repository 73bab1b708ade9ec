"""How sure a figure is, how it compares, and what the chair should look at (flags).

Every finding for the exception report has one shape, :class:`Flag`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

from digest.compare.stats import Interval, byar, compare, wilson
from digest.compute.definitions import Indicator
from digest.compute.formula import Result

FlagKind = Literal[
    "worse_than_london", "outside_target", "worsening", "return_missing", "incomplete"
]


@dataclass(frozen=True)
class Flag:
    """Something about an indicator the chair should see, and why."""

    kind: FlagKind
    indicator: str
    area: str
    period: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """The flag as a JSON object."""
        return {
            "kind": self.kind,
            "indicator": self.indicator,
            "area": self.area,
            "period": self.period,
            "message": self.message,
        }


def interval(indicator: Indicator, result: Result, confidence: float = 0.95) -> Interval | None:
    """The confidence interval of a complete result: Wilson for percentages, Byar (exact Poisson
    below 10) for rates and ratios. A plain count is every case known, not a sample: none."""
    if result.status != "complete" or result.numerator is None or indicator.kind == "count":
        return None
    if indicator.kind == "percentage":
        assert result.denominator is not None
        return wilson(result.numerator, result.denominator, confidence, indicator.multiplier)
    denominator = 1.0 if result.denominator is None else result.denominator
    if denominator <= 0:
        return None
    return byar(result.numerator, denominator, confidence, indicator.multiplier)


def comparison(indicator: Indicator, result: Result, benchmark: float | None) -> str | None:
    """The Fingertips comparison with a benchmark, or ``None`` when either is missing."""
    narrow, wide = interval(indicator, result, 0.95), interval(indicator, result, 0.998)
    if narrow is None or wide is None or benchmark is None:
        return None
    return compare(narrow, wide, benchmark, indicator.polarity)


def outside_target(indicator: Indicator, value: float | None) -> bool:
    """Whether a value is beyond the local target by more than its tolerance, the wrong way."""
    if value is None or indicator.target is None or indicator.tolerance is None:
        return False
    if indicator.polarity == "high":
        return value < indicator.target - indicator.tolerance
    if indicator.polarity == "low":
        return value > indicator.target + indicator.tolerance
    return abs(value - indicator.target) > indicator.tolerance


def worsening(indicator: Indicator, values: Sequence[float | None]) -> bool:
    """Whether the last three changes (four values, oldest first) were each for the worse."""
    if indicator.polarity == "neutral" or len(values) < 4 or None in values[-4:]:
        return False
    recent = [v for v in values[-4:] if v is not None]
    steps = [later - earlier for earlier, later in pairwise(recent)]
    if indicator.polarity == "high":
        return all(step < 0 for step in steps)
    return all(step > 0 for step in steps)
