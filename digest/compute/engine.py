"""Computing indicators from the store for areas, groups of areas and periods.

The figures of every area, measure and quarter needed are fetched in one query; the windows,
pooling and completeness rules of :mod:`digest.compute.formula` are then applied in memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from digest.compute.definitions import POPULATION, Indicator, Window
from digest.compute.formula import Figure, Result, Total, evaluate, pool, total, window_quarters
from digest.domain.dataset import load_dataset
from digest.domain.periods import Period
from digest.store.figures import current_figures, populations


@dataclass(frozen=True)
class Scope:
    """What a figure is computed for: one area, or several pooled under a label."""

    label: str  # an ONS code, or a group such as "london"
    areas: tuple[str, ...]

    @classmethod
    def single(cls, area: str) -> Scope:
        """One area on its own."""
        return cls(area, (area,))


@dataclass(frozen=True)
class Computation:
    """One indicator for one scope, period and window."""

    indicator: Indicator
    scope: Scope
    period: Period
    window: Window
    result: Result


def population_year(period: Period) -> int:
    """The mid-year estimate DfE uses: that of the calendar year before the period ends."""
    return period.end.year - 1


class _Figures:
    """The figures fetched for a computation, by (area, code, period index)."""

    def __init__(self, rows: Sequence[tuple[str, str, int, float | None, str]]) -> None:
        self._rows = {
            (area, code, index): Figure(value, status)  # type: ignore[arg-type]
            for area, code, index, value, status in rows
        }

    def get(self, area: str, code: str, period: Period) -> Figure | None:
        return self._rows.get((area, code, period.year * 4 + period.quarter - 1))


def compute(
    connection: duckdb.DuckDBPyConnection,
    indicators: Sequence[Indicator],
    scopes: Sequence[Scope],
    periods: Sequence[Period],
    window: Window | None = None,
) -> list[Computation]:
    """Every indicator for every scope and period, in its headline window unless one is given."""
    measures = load_dataset().measures
    areas = sorted({area for scope in scopes for area in scope.areas})
    codes = sorted({code for indicator in indicators for code in indicator.measures})
    first = min(periods).shift(-3)
    last = max(periods)
    figures = _Figures(
        current_figures(
            connection,
            codes,
            areas,
            first.year * 4 + first.quarter - 1,
            last.year * 4 + last.quarter - 1,
        )
    )
    people = {
        group: _by_area(populations(connection, areas, group))
        for group in {i.population for i in indicators if i.population}
    }
    done = []
    for indicator in indicators:
        chosen = window or indicator.window
        for period in periods:
            quarters = window_quarters(period, chosen)
            for scope in scopes:
                parts = [
                    pool(
                        total(
                            code,
                            measures[code].kind,
                            quarters,
                            [figures.get(area, code, q) for q in quarters],
                        )
                        for area in scope.areas
                    )
                    for code in indicator.measures
                ]
                if indicator.denominator == POPULATION:
                    assert indicator.population is not None
                    denominator: Total | None = _population(
                        people[indicator.population], scope.areas, period, indicator.population
                    )
                else:
                    denominator = parts[1] if len(parts) > 1 else None
                result = evaluate(indicator, parts[0], denominator)
                done.append(Computation(indicator, scope, period, chosen, result))
    return done


def _by_area(known: dict[tuple[str, int], float]) -> dict[str, list[tuple[int, float]]]:
    by_area: dict[str, list[tuple[int, float]]] = {}
    for (area, year), value in sorted(known.items()):
        by_area.setdefault(area, []).append((year, value))
    return by_area


def _population(
    known: dict[str, list[tuple[int, float]]], areas: Sequence[str], period: Period, group: str
) -> Total:
    """The areas' population for the period: DfE's year, or the latest estimate before it."""
    year = population_year(period)
    values = []
    for area in areas:
        estimates = [value for y, value in known.get(area, []) if y <= year]
        if not estimates:
            return Total(
                None, f"there is no mid-{year} population estimate aged {group} for {area}"
            )
        values.append(estimates[-1])
    return Total(sum(values))
