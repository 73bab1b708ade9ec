"""The arithmetic of an indicator: windows, pooling and completeness, on figures already fetched.

Flows are summed over the window's quarters; a snapshot, and a rolling-12-month count, is taken
as returned for the window's last quarter. Percentages, rates and ratios over several quarters or
areas are pooled: the sum of numerators over the sum of denominators, never an average of
percentages. A missing quarter or a status (c, x, z) makes the result incomplete, with the
reason; it is never computed as if the figure were zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from digest.compute.definitions import POPULATION, Indicator, Window
from digest.domain.dataset import MeasureKind, load_dataset
from digest.domain.periods import Period
from digest.domain.statuses import MEANING, Status

Completeness = Literal["complete", "incomplete"]
_WORDS: dict[str, str] = {"ok": "blank"} | {symbol: word for symbol, word in MEANING.items()}


@dataclass(frozen=True)
class Figure:
    """One returned figure: a value with status ``ok``, or a status with no value."""

    value: float | None
    status: Status = "ok"


@dataclass(frozen=True)
class Total:
    """A measure over a window for one area: its total, or why there is none."""

    value: float | None
    reason: str | None = None


@dataclass(frozen=True)
class Result:
    """An indicator for one area (or pooled group), period and window."""

    numerator: float | None
    denominator: float | None
    value: float | None
    status: Completeness
    reason: str | None = None


def window_quarters(period: Period, window: Window) -> list[Period]:
    """The quarters a window covers, oldest first, ending with ``period``."""
    if window == "quarter":
        return [period]
    if window == "12m":
        return [period.shift(-3), period.shift(-2), period.shift(-1), period]
    return [Period(period.year, q) for q in range(1, period.quarter + 1)]  # ytd


def total(
    code: str, kind: MeasureKind, quarters: Sequence[Period], figures: Sequence[Figure | None]
) -> Total:
    """A measure over the window: flows summed, snapshots and rolling counts at the last quarter.

    ``figures`` are the returned figures of ``quarters``, ``None`` where none was returned.
    """
    used = list(zip(quarters, figures, strict=True))
    if kind != "flow":
        used = used[-1:]
    values = []
    for period, figure in used:
        if figure is None:
            return Total(None, f"{code} was not returned for {period}")
        if figure.status != "ok" or figure.value is None:
            meaning = _WORDS[figure.status]
            return Total(None, f"{code} is {meaning} ({figure.status}) for {period}")
        values.append(figure.value)
    return Total(sum(values))


def pool(totals: Iterable[Total]) -> Total:
    """The sum of a measure over several areas; incomplete if any area's total is."""
    values = []
    for item in totals:
        if item.value is None:
            return item
        values.append(item.value)
    return Total(sum(values))


def undefined_in(indicator: Indicator, window: Window) -> str | None:
    """Why an indicator means nothing in a window, or ``None``: a count over the period divided
    by children counted over 12 months (incidents per child who went missing) is defined over
    12 months only."""
    kinds = {load_dataset().measure(code).kind for code in indicator.measures}
    if window != "12m" and {"flow", "rolling12"} <= kinds:
        return (
            "it divides a count over the period by children counted over 12 months, so it "
            "is shown for 12-month windows only"
        )
    return None


def evaluate(indicator: Indicator, numerator: Total, denominator: Total | None) -> Result:
    """The indicator's value from its numerator and denominator over the window."""
    for part in (numerator, denominator):
        if part is not None and part.value is None:
            return Result(
                numerator.value,
                denominator.value if denominator else None,
                None,
                "incomplete",
                part.reason,
            )
    assert numerator.value is not None
    if denominator is None:
        return Result(numerator.value, None, numerator.value * indicator.multiplier, "complete")
    assert denominator.value is not None
    if denominator.value == 0:
        return Result(
            numerator.value,
            0.0,
            None,
            "incomplete",
            f"{_denominator_name(indicator)} is 0, so there is no rate to show",
        )
    value = numerator.value / denominator.value * indicator.multiplier
    return Result(numerator.value, denominator.value, value, "complete")


def _denominator_name(indicator: Indicator) -> str:
    if indicator.denominator == POPULATION:
        return f"the population aged {indicator.population}"
    return str(indicator.denominator)
