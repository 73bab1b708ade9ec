"""Published benchmarks for an indicator: London, England and statistical neighbours.

DfE's figures are annual, for the year ending 31 March; a quarter is compared with the latest
published year up to the end of its financial year. London and England are taken as published
(a published percentage is computed from unrounded counts; the published counts of regions are
rounded to 10). The statistical-neighbour value is computed from the ten neighbours' published
figures, as a mean (as LAIT does) and as a median (as DfE's dashboard does).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import duckdb

from digest.compute.definitions import Indicator
from digest.domain.areas import ENGLAND, LONDON, load_areas
from digest.domain.periods import Period
from digest.store.figures import populations
from digest.store.published import (
    neighbour_models,
    neighbours,
    population,
    published_figure,
    published_measure,
    published_series,
)

#: Fewer neighbours with a published figure than this make no neighbour average.
MIN_NEIGHBOURS = 5
#: How far back to look for a published year before giving up.
LOOK_BACK_YEARS = 3


@dataclass(frozen=True)
class BenchmarkValue:
    """A published comparator: its name, value (or the status it was published with), year."""

    name: str
    value: float | None
    year: int
    source: str
    status: str = "ok"

    def to_dict(self) -> dict[str, object]:
        """The benchmark as the JSON object ``digest indicators`` prints."""
        return {
            "name": self.name,
            "value": self.value,
            "year": self.year,
            "source": self.source,
            "status": self.status,
        }


def published_value(
    connection: duckdb.DuckDBPyConnection, indicator: Indicator, area: str, year: int
) -> tuple[float | None, str] | None:
    """An area's published figure for an indicator and year, as ``(value, status)``.

    ``None`` when nothing is published for that area and year.
    """
    spec = indicator.benchmark
    if spec is None:
        return None
    if spec.value is not None:
        found = published_figure(connection, spec.source, spec.value, area, year)
        if found is not None:
            return found
        if spec.numerator is None:
            return None
    assert spec.numerator is not None
    parts = [published_figure(connection, spec.source, code, area, year) for code in spec.numerator]
    if any(part is None for part in parts):
        return None
    for part in parts:
        assert part is not None
        if part[1] != "ok":
            return None, part[1]
    numerator = sum(part[0] or 0.0 for part in parts if part is not None)
    if spec.population is not None:
        people = population(connection, area, year - 1, spec.population)
        if not people:
            return None
        return numerator / people * indicator.multiplier, "ok"
    assert spec.denominator is not None
    whole = published_figure(connection, spec.source, spec.denominator, area, year)
    if whole is None:
        return None
    if whole[1] != "ok" or not whole[0]:
        return None, whole[1] if whole[1] != "ok" else "z"
    return numerator / whole[0] * indicator.multiplier, "ok"


def _year_end(connection: duckdb.DuckDBPyConnection, indicator: Indicator, year: int) -> date:
    """The last day of a published year: 31 March, or 31 December for a calendar-year measure."""
    spec = indicator.benchmark
    assert spec is not None
    described = published_measure(connection, spec.source, spec.value or "")
    calendar = described is not None and "calendar" in str(described.get("year_type", "")).lower()
    return date(year, 12, 31) if calendar else date(year, 3, 31)


def benchmark_year(
    connection: duckdb.DuckDBPyConnection, indicator: Indicator, period: Period
) -> int | None:
    """The latest published year that ends on or before the period ends (so a figure is never
    compared with a year that had not finished), and that England or London has a figure for."""
    for year in range(period.end.year, period.end.year - LOOK_BACK_YEARS - 1, -1):
        if _year_end(connection, indicator, year) > period.end:
            continue
        for area in (ENGLAND, LONDON):
            if published_value(connection, indicator, area, year) is not None:
                return year
    return None


def benchmarks(
    connection: duckdb.DuckDBPyConnection, indicator: Indicator, area: str | None, period: Period
) -> list[BenchmarkValue]:
    """London, England and (for a single ``area``) statistical-neighbour values."""
    spec = indicator.benchmark
    if spec is None:
        return []
    year = benchmark_year(connection, indicator, period)
    if year is None:
        return []
    source = f"{spec.source}: {spec.value or ' + '.join(spec.numerator or [])}"
    found = []
    for name, code in (("London", LONDON), ("England", ENGLAND)):
        value = published_value(connection, indicator, code, year)
        if value is not None:
            found.append(BenchmarkValue(name, value[0], year, source, value[1]))
    if area is not None:
        found.extend(_neighbours(connection, indicator, area, year, source))
    return found


def _neighbours(
    connection: duckdb.DuckDBPyConnection, indicator: Indicator, area: str, year: int, source: str
) -> list[BenchmarkValue]:
    models = neighbour_models(connection)
    if not models:
        return []
    # The model in use that year: the latest one published by then (else the earliest).
    model = max((m for m in models if int(m) <= year), default=models[0])
    group = neighbours(connection, area, model)
    values = [
        v
        for code in group
        if (v := published_value(connection, indicator, code, year)) is not None
        and v[1] == "ok"
        and v[0] is not None
    ]
    if not group or len(values) < MIN_NEIGHBOURS:
        return []
    numbers: Sequence[float] = [v[0] for v in values if v[0] is not None]
    used = f"{source}; {len(numbers)} of {len(group)} neighbours, {model} model"
    return [
        BenchmarkValue("Statistical neighbours (mean)", statistics.fmean(numbers), year, used),
        BenchmarkValue("Statistical neighbours (median)", statistics.median(numbers), year, used),
    ]


@dataclass(frozen=True)
class Position:
    """Where a value stands among the published figures of a group of local authorities."""

    group: str
    rank: int  # 1 is the best (for a neutral indicator, the highest)
    of: int
    quartile: int  # 1 is the best quarter (for a neutral indicator, the highest)
    year: int

    def describe(self, neutral: bool) -> str:
        """``rank 5 of 33 London boroughs, quartile 1 (best)``, in words."""
        best = "highest" if neutral else "best"
        named = {1: f" ({best})", 4: f" ({'lowest' if neutral else 'worst'})"}
        return (
            f"rank {self.rank} of {self.of} {self.group} ({self.year}), quartile "
            f"{self.quartile}{named.get(self.quartile, '')}"
        )

    def to_dict(self) -> dict[str, object]:
        """The position as a JSON object."""
        return {
            "group": self.group,
            "rank": self.rank,
            "of": self.of,
            "quartile": self.quartile,
            "year": self.year,
        }


def local_authority_values(
    connection: duckdb.DuckDBPyConnection, indicator: Indicator, year: int
) -> dict[str, float]:
    """Every local authority's published figure for an indicator and year (published ones only)."""
    spec = indicator.benchmark
    if spec is None:
        return {}
    if spec.value is not None:
        series = published_series(connection, spec.source, spec.value, None, [year])
        found = {
            f.area_code: f.value
            for f in series
            if f.area_level == "la" and f.status == "ok" and f.value is not None
        }
        if found or spec.numerator is None:
            return found
    assert spec.numerator is not None
    parts = [
        {
            f.area_code: f.value
            for f in published_series(connection, spec.source, code, None, [year])
            if f.area_level == "la" and f.status == "ok" and f.value is not None
        }
        for code in spec.numerator
    ]
    numerators = {
        area: sum(p[area] for p in parts) for area in set.intersection(*(set(p) for p in parts))
    }
    if spec.population is not None:
        people = populations(connection, sorted(numerators), spec.population)
        return {
            area: n / people[(area, year - 1)] * indicator.multiplier
            for area, n in numerators.items()
            if people.get((area, year - 1))
        }
    assert spec.denominator is not None
    wholes = {
        f.area_code: f.value
        for f in published_series(connection, spec.source, spec.denominator, None, [year])
        if f.status == "ok" and f.value
    }
    return {
        area: n / wholes[area] * indicator.multiplier
        for area, n in numerators.items()
        if wholes.get(area)
    }


def positions(
    connection: duckdb.DuckDBPyConnection,
    indicator: Indicator,
    area: str,
    value: float,
    year: int,
) -> list[Position]:
    """Where ``value`` stands among London boroughs and all English authorities that year.

    The area's own published figure is left out: it is the value being placed.
    """
    others = {
        code: v
        for code, v in local_authority_values(connection, indicator, year).items()
        if code != area
    }
    if not others:
        return []
    registry = load_areas()
    london = {
        code: v for code, v in others.items() if code in registry and registry[code].in_london
    }
    found = []
    groups = [("London boroughs", london)]
    if len(others) > len(london):  # only a store with every authority's figures ranks them all
        groups.append(("English local authorities", others))
    for group, values in groups:
        if not values:
            continue
        if indicator.polarity == "low":
            ahead = sum(1 for v in values.values() if v < value)
        else:
            ahead = sum(1 for v in values.values() if v > value)
        of = len(values) + 1
        rank = ahead + 1
        found.append(Position(group, rank, of, min(4, 1 + (rank - 1) * 4 // of), year))
    return found
