"""Figures in words and numbers as a reader expects them: ``20.0%``, ``45.3 per 10,000``."""

from __future__ import annotations

from digest.compare.benchmarks import BenchmarkValue
from digest.compute.definitions import POPULATION, Indicator, Window
from digest.domain.dataset import load_dataset
from digest.domain.periods import Period


def figure(indicator: Indicator, value: float | None) -> str:
    """A computed figure in the indicator's own form, or a dash when there is none."""
    if value is None:
        return "–"
    if indicator.kind == "percentage":
        return f"{value:.1f}%"
    if indicator.kind == "count":
        return f"{value:,.0f}"
    if indicator.kind == "ratio":
        return f"{value:,.2f}"
    return f"{value:,.1f}"


def unit(indicator: Indicator) -> str:
    """What a figure counts: ``percentage``, ``per 10,000 aged 0-17``, ``count``, ``ratio``."""
    if indicator.kind == "percentage":
        return "percentage"
    if indicator.kind == "count":
        return "count"
    if indicator.denominator == POPULATION:
        return f"per {indicator.multiplier:,.0f} aged {indicator.population}"
    if indicator.kind == "rate":
        return f"per {indicator.multiplier:,.0f}"
    return "ratio"


def span(indicator: Indicator, period: Period, window: Window) -> str:
    """The time a figure covers: ``July to September 2025``, ``12 months to September 2025``,
    or ``on 30 September 2025`` for a count taken on one day, whatever the window."""
    kinds = {load_dataset().measures[code].kind for code in indicator.measures}
    last = period.months.split(" to ")[1]
    if kinds == {"snapshot"}:
        return f"on {period.end.day} {period.end:%B %Y}"
    if "flow" not in kinds or window == "12m":  # a rolling count is always of 12 months
        return f"12 months to {last}"
    if window == "quarter":
        return period.months
    return f"April {period.year} to {last}"  # the financial year to date


#: Why a published comparator has no value, in words.
_UNPUBLISHED = {
    "c": "suppressed",
    "x": "not available",
    "z": "not applicable",
    "low": "too few to publish",
    "invalid": "not usable as published",
}


def published_year(found: BenchmarkValue) -> str:
    """The year a published figure covers: ``2024-25`` (to 31 March), or ``2024`` (calendar)."""
    if found.ends is not None and found.ends.month == 12:
        return str(found.year)
    return f"{found.year - 1}-{found.year % 100:02d}"


def comparator(indicator: Indicator, found: BenchmarkValue | None) -> str:
    """A published comparator as a table shows it: ``18.5% (2024-25)``, or a dash."""
    if found is None:
        return "–"
    if found.value is None:
        why = _UNPUBLISHED.get(found.status, "not published")
        return f"{why} ({published_year(found)})"
    return f"{figure(indicator, found.value)} ({published_year(found)})"
