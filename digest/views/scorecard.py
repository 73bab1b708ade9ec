"""The scorecard: every indicator for one area and quarter, grouped by theme, judged and rated."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from digest.compare.benchmarks import BenchmarkValue
from digest.compare.judgement import Flag
from digest.compare.rating import Direction, Rating, direction, rate
from digest.compare.report import Line, report
from digest.compute.definitions import Indicator
from digest.compute.engine import Scope, compute_table
from digest.domain.periods import Period, quarters
from digest.views.sources import Sources

#: How many quarters the sparkline of each row shows.
TREND_QUARTERS = 8
#: The published comparators a row shows, in order.
COMPARATORS = ("London", "England", "Statistical neighbours (mean)")


@dataclass(frozen=True)
class ScorecardRow:
    """One indicator on the scorecard."""

    line: Line
    trend: list[tuple[Period, float | None]]  # oldest first, ending with the row's quarter
    direction: Direction | None
    rating: Rating

    @property
    def indicator(self) -> Indicator:
        """The indicator this row shows."""
        return self.line.computation.indicator

    @property
    def value(self) -> float | None:
        """The figure for the quarter (``None`` when it cannot be computed)."""
        return self.line.computation.result.value

    @property
    def flags(self) -> list[Flag]:
        """What the chair should look at."""
        return self.line.flags

    def benchmark(self, name: str) -> BenchmarkValue | None:
        """A published comparator by name (``London``, ``England``, …), if there is one."""
        return next((b for b in self.line.benchmarks if b.name == name), None)


def scorecard(
    sources: Sources,
    area: str,
    period: Period,
    *,
    theme: str | None = None,
    agency: str | None = None,
) -> list[ScorecardRow]:
    """Every indicator (of ``theme`` and ``agency`` when given) for ``area`` in ``period``,
    ordered by theme and title."""
    chosen = [
        i
        for i in sources.indicators.values()
        if (theme is None or i.theme == theme) and (agency is None or i.agency == agency)
    ]
    chosen.sort(key=lambda i: (i.theme, i.title))
    if not chosen:
        return []
    return rows(sources, chosen, area, period)


def rows(
    sources: Sources, indicators: Sequence[Indicator], area: str, period: Period
) -> list[ScorecardRow]:
    """The scorecard rows of ``indicators``, in the order given."""
    scope = Scope.single(area)
    connection = sources.store.connection
    lines = report(
        connection, indicators, scope, [period], book=sources.book, today=sources.today()
    )
    history = quarters(period.shift(1 - TREND_QUARTERS), period)
    table = compute_table(connection, indicators, [scope], history)
    series: dict[str, dict[Period, float | None]] = {}
    for planned, value in zip(table.plan, table.value[:, 0], strict=True):
        series.setdefault(planned.indicator.id, {})[planned.period] = (
            None if math.isnan(value) else float(value)
        )
    found = []
    for line in lines:
        indicator = line.computation.indicator
        values = series.get(indicator.id, {})
        trend = [(p, values.get(p)) for p in history]
        value = line.computation.result.value
        found.append(
            ScorecardRow(
                line=line,
                trend=trend,
                direction=direction(indicator, values.get(period.previous()), value),
                rating=rate(indicator, line.comparison, line.flags, value),
            )
        )
    return found


def themes(indicators: Sequence[Indicator]) -> list[str]:
    """The themes of the indicators, in alphabetical order."""
    return sorted({i.theme for i in indicators})
