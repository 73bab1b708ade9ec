"""Computing indicators from the store for areas, groups of areas and periods.

The current figures of every area, measure and quarter needed come from the store in one query,
as columns. They are laid out as arrays (area x measure x quarter), so that a window's total is a
difference of running sums and pooling over a group of areas is a matrix product: the rules of
:mod:`digest.compute.formula` (flows summed, snapshots as returned, every input present and a
number, or the result is incomplete) applied to every indicator, area and period at once. Only an
incomplete figure goes back to the figures themselves, to say why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import duckdb
import numpy as np

from digest.compute.definitions import Indicator, Window
from digest.compute.formula import (
    Figure,
    Result,
    Total,
    evaluate,
    total,
    undefined_in,
    window_quarters,
)
from digest.domain.areas import find_area, partnership
from digest.domain.dataset import MeasureKind, load_dataset
from digest.domain.periods import Period
from digest.domain.statuses import Status
from digest.store.figures import figure_columns, populations


@dataclass(frozen=True)
class Scope:
    """What a figure is computed for: one area, or several pooled under a label."""

    label: str  # an ONS code, or a group such as "london"
    areas: tuple[str, ...]

    def __post_init__(self) -> None:
        # An area named twice must not count twice (its population would be added again).
        object.__setattr__(self, "areas", tuple(dict.fromkeys(self.areas)))

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


@dataclass(frozen=True)
class _Planned:
    """One indicator, period and window to compute, and the spans its measures are read over."""

    indicator: Indicator
    period: Period
    window: Window
    quarters: list[Period]
    spans: list[tuple[int, int]]  # (first, last) period index of each measure


class _Figures:
    """The current figures as arrays: values (0 where none) and whether each is a number."""

    def __init__(
        self,
        columns: dict[str, np.ndarray],
        areas: list[str],
        codes: list[str],
        first: int,
        last: int,
    ) -> None:
        self.first = first
        self.area_at = {area: i for i, area in enumerate(areas)}
        self.code_at = {code: i for i, code in enumerate(codes)}
        shape = (len(areas), len(codes), last - first + 2)  # a leading 0 for running sums
        values, ok = np.zeros(shape), np.zeros(shape, dtype=np.int64)
        if len(columns["area"]):
            a = np.array([self.area_at[x] for x in columns["area"]])
            c = np.array([self.code_at[x] for x in columns["code"]])
            p = np.asarray(columns["period_index"]) - first + 1
            number = np.ma.getdata(columns["ok"]).astype(bool) & ~np.ma.getmaskarray(
                columns["value"]
            )
            values[a, c, p] = np.where(number, np.ma.getdata(columns["value"]), 0.0)
            ok[a, c, p] = number
        self.running_values = np.cumsum(values, axis=2)
        self.running_ok = np.cumsum(ok, axis=2)

    def window(self, code: str, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
        """Every area's total over the quarters ``first``..``last``, and whether it is whole."""
        c = self.code_at[code]
        low, high = first - self.first, last - self.first + 1
        sums = self.running_values[:, c, high] - self.running_values[:, c, low]
        whole = (self.running_ok[:, c, high] - self.running_ok[:, c, low]) == last - first + 1
        return sums, whole


class ComputedTable:
    """Every indicator for every scope and period, held as arrays (a row per planned indicator
    and period, a column per scope); :meth:`computations` turns it into rows with reasons."""

    def __init__(
        self,
        plan: list[_Planned],
        scopes: Sequence[Scope],
        numerator: np.ndarray,
        denominator: np.ndarray,
        people: dict[str, dict[Period, list[Total]]],
        reasons: _Reasons,
    ) -> None:
        self.plan, self.scopes = plan, list(scopes)
        self.numerator, self.denominator = numerator, denominator
        self._people, self._reasons = people, reasons
        multiplier = np.array([[p.indicator.multiplier] for p in plan])
        divided = np.array([[p.indicator.denominator is not None] for p in plan])
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(divided, numerator / denominator, numerator)
        self._undefined = [undefined_in(p.indicator, p.window) for p in plan]
        self._defined = np.array([[why is None] for why in self._undefined])
        self.value = np.where(np.isfinite(ratio) & self._defined, ratio * multiplier, np.nan)

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
        planned, scope = self.plan[row], self.scopes[column]
        indicator = planned.indicator
        why = self._undefined[row]
        if why is not None:
            return Result(None, None, None, "incomplete", why)
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
        parts = [self._reasons.total(scope, code, planned.quarters) for code in indicator.measures]
        if indicator.population is not None:
            return evaluate(
                indicator, parts[0], self._people[indicator.population][planned.period][column]
            )
        return evaluate(indicator, parts[0], parts[1] if len(parts) > 1 else None)


def compute_table(
    connection: duckdb.DuckDBPyConnection,
    indicators: Sequence[Indicator],
    scopes: Sequence[Scope],
    periods: Sequence[Period],
    window: Window | None = None,
) -> ComputedTable:
    """Every indicator for every scope and period, as arrays (see :class:`ComputedTable`)."""
    kinds = {code: measure.kind for code, measure in load_dataset().measures.items()}
    areas = sorted({area for scope in scopes for area in scope.areas})
    codes = sorted({code for indicator in indicators for code in indicator.measures})
    plan = []
    for indicator in indicators:
        chosen = window or indicator.window
        for period in periods:
            quarters = window_quarters(period, chosen)
            last = quarters[-1].index
            spans = [
                (quarters[0].index if kinds[code] == "flow" else last, last)
                for code in indicator.measures
            ]
            plan.append(_Planned(indicator, period, chosen, quarters, spans))
    first = min(span[0] for planned in plan for span in planned.spans)
    last = max(span[1] for planned in plan for span in planned.spans)
    columns = figure_columns(connection, codes, areas, first, last)
    figures = _Figures(columns, areas, codes, first, last)
    members = np.zeros((len(scopes), len(areas)))  # which areas each scope pools
    for s, scope in enumerate(scopes):
        members[s, [figures.area_at[a] for a in scope.areas]] = 1
    people: dict[str, dict[Period, list[Total]]] = {}
    for group in {i.population for i in indicators if i.population}:
        known = _by_area(_settings(group) | populations(connection, areas, group))
        by_year = {
            year: [_population(known, scope.areas, year, group) for scope in scopes]
            for year in {population_year(p) for p in periods}
        }
        people[group] = {p: by_year[population_year(p)] for p in periods}
    numerator = np.full((len(plan), len(scopes)), np.nan)
    denominator = np.full((len(plan), len(scopes)), np.nan)
    for row, planned in enumerate(plan):
        parts = [
            _pooled(figures, members, code, span)
            for code, span in zip(planned.indicator.measures, planned.spans, strict=True)
        ]
        numerator[row] = parts[0]
        if planned.indicator.population is not None:
            denominator[row] = [
                np.nan if t.value is None else t.value
                for t in people[planned.indicator.population][planned.period]
            ]
        elif len(parts) > 1:
            denominator[row] = parts[1]
    return ComputedTable(plan, scopes, numerator, denominator, people, _Reasons(columns, kinds))


def _pooled(figures: _Figures, members: np.ndarray, code: str, span: tuple[int, int]) -> np.ndarray:
    """A measure's total over a span for every scope: the sum over its areas, NaN if any area's
    total is not whole."""
    sums, whole = figures.window(code, *span)
    pooled = members @ sums
    gaps = members @ (~whole).astype(float)
    return np.where(gaps == 0, pooled, np.nan)


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
    """Why a total is incomplete, read from the figures the table was computed from (made into
    figures only when a reason is first needed)."""

    def __init__(self, columns: dict[str, np.ndarray], kinds: dict[str, MeasureKind]) -> None:
        self._columns = columns
        self._kinds = kinds
        self._figures: dict[tuple[str, str, int], Figure] | None = None

    def _figure(self, area: str, code: str, index: int) -> Figure | None:
        if self._figures is None:
            columns = self._columns
            values = np.ma.getdata(columns["value"])
            missing = np.ma.getmaskarray(columns["value"])
            self._figures = {
                (str(area), str(code), int(index)): Figure(
                    None if gap else float(value), cast(Status, str(status))
                )
                for area, code, index, value, gap, status in zip(
                    columns["area"],
                    columns["code"],
                    columns["period_index"],
                    values,
                    missing,
                    columns["status"],
                    strict=True,
                )
            }
        return self._figures.get((area, code, index))

    def total(self, scope: Scope, code: str, quarters: Sequence[Period]) -> Total:
        """A measure's total over the quarters for a scope, or why there is none (naming the
        first area with a gap when several are pooled)."""
        values = []
        for area in scope.areas:
            figures = [self._figure(area, code, q.index) for q in quarters]
            found = total(code, self._kinds[code], quarters, figures)
            if found.value is None:
                if len(scope.areas) > 1 and found.reason:
                    return Total(None, f"{found.reason} in {find_area(area)}")
                return found
            values.append(found.value)
        return Total(sum(values))


def population_used(
    connection: duckdb.DuckDBPyConnection, area: str, period: Period, group: str
) -> tuple[int, float, str] | None:
    """The population estimate a rate for ``area`` in ``period`` is divided by, as the engine
    chooses it: ``(mid-year, value, "ONS" or "partnership")``, or ``None`` when there is none."""
    published = populations(connection, [area], group)
    year = population_year(period)
    known = _by_area(_settings(group) | published).get(area, [])
    chosen = [(y, value) for y, value in known if y <= year]
    if not chosen:
        return None
    used, value = chosen[-1]
    return used, value, "ONS" if (area, used) in published else "partnership"


def _settings(group: str) -> dict[tuple[str, int], float]:
    """The partnership's own estimates, used where no published one is loaded."""
    return {(p.area, p.year): p.value for p in partnership().populations if p.age_group == group}


def _by_area(known: dict[tuple[str, int], float]) -> dict[str, list[tuple[int, float]]]:
    by_area: dict[str, list[tuple[int, float]]] = {}
    for (area, year), value in sorted(known.items()):
        by_area.setdefault(area, []).append((year, value))
    return by_area


def _population(
    known: dict[str, list[tuple[int, float]]], areas: Sequence[str], year: int, group: str
) -> Total:
    """The areas' population for a mid-year: that estimate, or the latest one before it."""
    values = []
    for area in areas:
        estimates = [value for y, value in known.get(area, []) if y <= year]
        if not estimates:
            return Total(
                None, f"there is no mid-{year} population estimate aged {group} for {area}"
            )
        values.append(estimates[-1])
    return Total(sum(values))
