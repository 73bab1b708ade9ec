"""Indicators with their intervals, benchmarks, comparison and flags: what the digest reports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import duckdb

from digest.compare.benchmarks import BenchmarkValue, Position, benchmarks, positions
from digest.compare.book import PublishedBook
from digest.compare.judgement import Flag, comparison, interval, outside_target, worsening
from digest.compare.stats import Interval
from digest.compute.definitions import Indicator, Window
from digest.compute.engine import Computation, Scope, compute
from digest.domain.areas import partnership
from digest.domain.dataset import load_dataset
from digest.domain.periods import Period, quarters
from digest.store.figures import returns_received


@dataclass
class Line:
    """One indicator for one scope and period, with everything needed to judge it."""

    computation: Computation
    interval: Interval | None
    benchmarks: list[BenchmarkValue]
    comparison: str | None
    positions: list[Position] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The line as the JSON object ``digest indicators --format json`` prints."""
        done, result = self.computation, self.computation.result
        return {
            "indicator": done.indicator.id,
            "area": done.scope.label,
            "areas": list(done.scope.areas),
            "period": str(done.period),
            "window": done.window,
            "numerator": result.numerator,
            "denominator": result.denominator,
            "value": result.value,
            "lower": self.interval.lower if self.interval else None,
            "upper": self.interval.upper if self.interval else None,
            "status": result.status,
            "reason": result.reason,
            "benchmarks": [b.to_dict() for b in self.benchmarks],
            "comparison": self.comparison,
            "ranks": [p.to_dict() for p in self.positions],
            "flags": [f.to_dict() for f in self.flags],
        }


def report(
    connection: duckdb.DuckDBPyConnection,
    indicators: Sequence[Indicator],
    scope: Scope,
    periods: Sequence[Period],
    window: Window | None = None,
    today: date | None = None,
    book: PublishedBook | None = None,
) -> list[Line]:
    """Every indicator for a scope and periods, judged against London and its own trend.

    ``today`` (default: the real date) decides whether a missing return is overdue. ``book``
    holds the published benchmarks; without one, one is read for ``indicators`` (an app keeps
    one and passes it, as the published figures change only on an import).
    """
    if book is None:
        book = PublishedBook.load(connection, indicators)
    history = quarters(min(periods).shift(-3), max(periods))
    computed = compute(connection, indicators, [scope], history, window)
    series: dict[str, dict[Period, float | None]] = {}
    for done in computed:
        series.setdefault(done.indicator.id, {})[done.period] = done.result.value
    received = returns_received(connection, list(scope.areas), [str(p) for p in periods])
    lines = []
    for done in computed:
        if done.period not in periods:
            continue
        indicator, result = done.indicator, done.result
        area = scope.areas[0] if len(scope.areas) == 1 else scope.label
        single = scope.areas[0] if len(scope.areas) == 1 else None
        found = benchmarks(book, indicator, single, done.period)
        london = next((b.value for b in found if b.name == "London"), None)
        judged = comparison(indicator, result, london) if comparable(done) else None
        line = Line(done, interval(indicator, result), found, judged)
        if found and result.value is not None and len(scope.areas) == 1 and done.window == "12m":
            line.positions = positions(book, indicator, area, result.value, found[0].year)
        line.flags = _flags(
            indicator, done, judged, series[indicator.id], received, area, today or date.today()
        )
        lines.append(line)
    return lines


def comparable(done: Computation) -> bool:
    """Whether a figure can be judged against DfE's annual figures: a 12-month window, or a
    count taken on one day (a snapshot)."""
    if done.window == "12m":
        return True
    kinds = load_dataset().measures
    return all(kinds[code].kind == "snapshot" for code in done.indicator.measures)


def return_due(period: Period) -> date:
    """The day a quarter's returns are due: the partnership's deadline after the quarter ends."""
    return period.end + timedelta(days=partnership().return_deadline_days)


def _flags(
    indicator: Indicator,
    done: Computation,
    judged: str | None,
    series: dict[Period, float | None],
    received: set[tuple[str, str, str]],
    area: str,
    today: date,
) -> list[Flag]:
    period, result = str(done.period), done.result

    def flag(kind: Any, message: str) -> Flag:
        return Flag(kind, indicator.id, area, period, message)

    flags = []
    if judged in ("worse", "much worse"):
        flags.append(flag("worse_than_london", f"{judged} than London (95% confidence)"))
    if outside_target(indicator, result.value):
        flags.append(
            flag(
                "outside_target",
                f"{result.value:.1f} is outside the local target of {indicator.target:g} "
                f"(tolerance {indicator.tolerance:g})",
            )
        )
    recent = [series.get(done.period.shift(step)) for step in (-3, -2, -1, 0)]
    if done.window != "ytd" and worsening(indicator, recent):
        flags.append(flag("worsening", "worse three quarters running"))
    if len(done.scope.areas) == 1 and (indicator.agency, area, period) not in received:
        due = return_due(done.period)
        when = f"{due.day} {due:%B %Y}"
        state = f"overdue since {when}" if today > due else f"due {when}"
        flags.append(
            flag(
                "return_missing",
                f"the {indicator.agency} return for {period} has not been received ({state})",
            )
        )
    if result.status == "incomplete":
        flags.append(flag("incomplete", f"incomplete: {result.reason}"))
    return flags
