"""Computing indicators from the store for areas, groups of areas and periods.

The totals of every measure over every window needed, for every area, come from one DuckDB
query (:mod:`digest.store.windows`); the pooling and arithmetic of :mod:`digest.compute.formula`
are applied to them here. Only an incomplete total goes back to the figures, to say why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import numpy as np

from digest.compute.definitions import Indicator, Window
from digest.compute.formula import Figure, Result, Total, evaluate, total, window_quarters
from digest.domain.areas import find_area, partnership
from digest.domain.dataset import MeasureKind, load_dataset
from digest.domain.periods import Period
from digest.store.figures import current_figures, populations
from digest.store.windows import Request, pooled_totals


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


def _index(period: Period) -> int:
    return period.year * 4 + period.quarter - 1


def _span(kind: MeasureKind, quarters: Sequence[Period]) -> tuple[int, int]:
    """The quarters a measure is read over: the whole window for a flow, else its last quarter."""
    last = _index(quarters[-1])
    return (_index(quarters[0]) if kind == "flow" else last, last)


@dataclass(frozen=True)
class _Planned:
    """One indicator, period and window to compute, and the keys of its measures' totals."""

    indicator: Indicator
    period: Period
    window: Window
    quarters: list[Period]
    keys: list[int]


class ComputedTable:
    """Every indicator for every scope and period, held as arrays (a row per planned indicator
    and period, a column per scope); :meth:`computations` turns it into rows with reasons."""

    def __init__(
        self,
        plan: list[_Planned],
        scopes: Sequence[Scope],
        totals: np.ndarray,
        gaps: np.ndarray,
        people: dict[str, dict[Period, list[Total]]],
        reasons: _Reasons,
    ) -> None:
        self.plan, self.scopes = plan, list(scopes)
        self._totals, self._gaps, self._people, self._reasons = totals, gaps, people, reasons
        size = (len(plan), len(self.scopes))
        self.numerator, self.denominator = np.full(size, np.nan), np.full(size, np.nan)
        for row, planned in enumerate(plan):
            indicator = planned.indicator
            self.numerator[row] = totals[planned.keys[0]]
            if indicator.population is not None:
                self.denominator[row] = [
                    np.nan if t.value is None else t.value
                    for t in people[indicator.population][planned.period]
                ]
            elif len(planned.keys) > 1:
                self.denominator[row] = totals[planned.keys[1]]
        multiplier = np.array([[p.indicator.multiplier] for p in plan])
        divided = np.array([[p.indicator.denominator is not None] for p in plan])
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(divided, self.numerator / self.denominator, self.numerator)
        self.value = np.where(np.isfinite(ratio), ratio * multiplier, np.nan)

    def computations(self) -> list[Computation]:
        """Every computation as a row, each incomplete one with the reason for it."""
        return [
            Computation(
                planned.indicator, scope, planned.period, planned.window, self._result(row, column)
            )
            for row, planned in enumerate(self.plan)
            for column, scope in enumerate(self.scopes)
        ]

    def _result(self, row: int, column: int) -> Result:
        planned = self.plan[row]
        indicator = planned.indicator
        if not np.isnan(self.value[row, column]):
            denominator = (
                None if indicator.denominator is None else float(self.denominator[row, column])
            )
            return Result(
                float(self.numerator[row, column]),
                denominator,
                float(self.value[row, column]),
                "complete",
            )
        parts = [
            self._total(key, column, code, planned)
            for code, key in zip(indicator.measures, planned.keys, strict=True)
        ]
        if indicator.population is not None:
            return evaluate(
                indicator, parts[0], self._people[indicator.population][planned.period][column]
            )
        return evaluate(indicator, parts[0], parts[1] if len(parts) > 1 else None)

    def _total(self, key: int, column: int, code: str, planned: _Planned) -> Total:
        gap = self._gaps[key, column]
        if gap is None:
            return Total(float(self._totals[key, column]))
        pooled = len(self.scopes[column].areas) > 1
        return self._reasons.why(str(gap), code, planned.quarters, pooled)


def compute_table(
    connection: duckdb.DuckDBPyConnection,
    indicators: Sequence[Indicator],
    scopes: Sequence[Scope],
    periods: Sequence[Period],
    window: Window | None = None,
) -> ComputedTable:
    """Every indicator for every scope and period, as columns (see :class:`ComputedTable`)."""
    kinds = {code: measure.kind for code, measure in load_dataset().measures.items()}
    areas = sorted({area for scope in scopes for area in scope.areas})
    plan = []
    keys: dict[tuple[str, int, int], int] = {}
    for indicator in indicators:
        chosen = window or indicator.window
        for period in periods:
            quarters = window_quarters(period, chosen)
            parts = [
                keys.setdefault((code, *_span(kinds[code], quarters)), len(keys))
                for code in indicator.measures
            ]
            plan.append(_Planned(indicator, period, chosen, quarters, parts))
    requests = [Request(key, code, first, last) for (code, first, last), key in keys.items()]
    columns = pooled_totals(connection, requests, [scope.areas for scope in scopes])
    shape = (len(keys), len(scopes))
    totals = np.ma.filled(columns["value"].astype(float), np.nan).reshape(shape)
    gap = columns["gap"]
    gaps = np.ma.getdata(gap).astype(object)
    gaps[np.ma.getmaskarray(gap)] = None
    gaps = gaps.reshape(shape)
    people: dict[str, dict[Period, list[Total]]] = {}
    for group in {i.population for i in indicators if i.population}:
        known = _by_area(_settings(group) | populations(connection, areas, group))
        people[group] = {
            period: [_population(known, scope.areas, period, group) for scope in scopes]
            for period in periods
        }
    return ComputedTable(plan, scopes, totals, gaps, people, _Reasons(connection, kinds))


def compute(
    connection: duckdb.DuckDBPyConnection,
    indicators: Sequence[Indicator],
    scopes: Sequence[Scope],
    periods: Sequence[Period],
    window: Window | None = None,
) -> list[Computation]:
    """Every indicator for every scope and period, in its headline window unless one is given."""
    return compute_table(connection, indicators, scopes, periods, window).computations()


class _Reasons:
    """Why a total is incomplete, read from the figures themselves (fetched only when needed)."""

    def __init__(
        self, connection: duckdb.DuckDBPyConnection, kinds: dict[str, MeasureKind]
    ) -> None:
        self._connection = connection
        self._kinds = kinds
        self._figures: dict[tuple[str, str, int], Figure] = {}
        self._fetched: set[tuple[str, str]] = set()

    def why(self, area: str, code: str, quarters: Sequence[Period], pooled: bool) -> Total:
        """The incomplete total, its reason naming the area when several are pooled."""
        if (area, code) not in self._fetched:
            rows = current_figures(self._connection, [code], [area], 0, 10_000)
            for row_area, row_code, index, value, status in rows:
                self._figures[(row_area, row_code, index)] = Figure(value, status)
            self._fetched.add((area, code))
        figures = [self._figures.get((area, code, _index(q))) for q in quarters]
        found = total(code, self._kinds[code], quarters, figures)
        if pooled and found.reason:
            return Total(None, f"{found.reason} in {find_area(area)}")
        return found


def _settings(group: str) -> dict[tuple[str, int], float]:
    """The partnership's own estimates, used where no published one is loaded."""
    return {(p.area, p.year): p.value for p in partnership().populations if p.age_group == group}


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
