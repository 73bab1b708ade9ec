"""Published benchmarks for an indicator: London, England and statistical neighbours.

DfE's figures are annual, for the year ending 31 March; a quarter is compared with the latest
published year up to the end of its financial year. London and England are taken as published
(a published percentage is computed from unrounded counts; the published counts of regions are
rounded to 10). The statistical-neighbour value is computed from the ten neighbours' published
figures, as a mean (as LAIT does) and as a median (as DfE's dashboard does).

Everything here reads a :class:`PublishedBook` (the published figures the indicators need, read
from the store once), so that a page of indicators asks the store nothing.
"""

from __future__ import annotations

import statistics
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from digest.compare.book import Figure, PublishedBook, indicator_key, measures_in
from digest.compare.funnel import Funnel, FunnelPoint, funnel
from digest.compute.definitions import Benchmark, Indicator
from digest.domain.areas import ENGLAND, LONDON, load_areas
from digest.domain.periods import Period

__all__ = [
    "LOOK_BACK_YEARS",
    "MIN_NEIGHBOURS",
    "BenchmarkValue",
    "Funnel",
    "FunnelPoint",
    "Position",
    "PublishedBook",
    "benchmark_year",
    "benchmarks",
    "funnel",
    "local_authority_values",
    "positions",
    "published_points",
    "published_value",
    "year_end",
]

#: Fewer neighbours with a published figure than this make no neighbour average.
MIN_NEIGHBOURS = 5
#: How far back to look for a published year before giving up.
LOOK_BACK_YEARS = 3


@dataclass(frozen=True)
class BenchmarkValue:
    """A published comparator: its name, value (or the status it was published with), year,
    and the day that year ended (31 March, or 31 December for a calendar-year measure)."""

    name: str
    value: float | None
    year: int
    source: str
    status: str = "ok"
    ends: date | None = field(default=None, compare=False)

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
    book: PublishedBook, indicator: Indicator, area: str, year: int
) -> Figure | None:
    """An area's published figure for an indicator and year, as ``(value, status)``.

    ``None`` when nothing is published for that area and year.
    """
    spec = indicator.benchmark
    if spec is None:
        return None
    if spec.value is not None:
        found = book.figure(spec.source, spec.value, area, year)
        if found is not None:
            return found
        if spec.numerator is None:
            return None
    assert spec.numerator is not None
    parts = [book.figure(spec.source, code, area, year) for code in spec.numerator]
    if any(part is None for part in parts):
        return None
    for part in parts:
        assert part is not None
        if part[1] != "ok":
            return None, part[1]
    numerator = sum(part[0] or 0.0 for part in parts if part is not None)
    if spec.population is not None:
        people = book.population(area, year - 1, spec.population)
        if not people:
            return None
        return numerator / people * indicator.multiplier, "ok"
    assert spec.denominator is not None
    whole = book.figure(spec.source, spec.denominator, area, year)
    if whole is None:
        return None
    if whole[1] != "ok" or not whole[0]:
        return None, whole[1] if whole[1] != "ok" else "z"
    return numerator / whole[0] * indicator.multiplier, "ok"


def year_end(book: PublishedBook, indicator: Indicator, year: int) -> date:
    """The last day of a published year of an indicator's benchmark: 31 March, or 31 December
    when the measure is published by calendar year."""
    spec = indicator.benchmark
    calendar = spec is not None and book.remember(
        ("calendar", *indicator_key(indicator)), lambda: _calendar_year(book, spec)
    )
    return date(year, 12, 31) if calendar else date(year, 3, 31)


def _calendar_year(book: PublishedBook, spec: Benchmark) -> bool:
    described = None if spec.value is None else book.measure(spec.source, spec.value)
    return described is not None and "calendar" in str(described.get("year_type", "")).lower()


def benchmark_year(book: PublishedBook, indicator: Indicator, period: Period) -> int | None:
    """The latest published year that ends on or before the period ends (so a figure is never
    compared with a year that had not finished), and that England or London has a figure for.

    Remembered in the book for each indicator and day a period ends.
    """
    if indicator.benchmark is None:
        return None
    return book.remember(
        ("year", *indicator_key(indicator), period.end),
        lambda: _benchmark_year(book, indicator, period.end),
    )


def _benchmark_year(book: PublishedBook, indicator: Indicator, ended: date) -> int | None:
    for year in range(ended.year, ended.year - LOOK_BACK_YEARS - 1, -1):
        if year_end(book, indicator, year) > ended:
            continue
        for area in (ENGLAND, LONDON):
            if published_value(book, indicator, area, year) is not None:
                return year
    return None


def benchmarks(
    book: PublishedBook, indicator: Indicator, area: str | None, period: Period
) -> list[BenchmarkValue]:
    """London, England and (for a single ``area``) statistical-neighbour values."""
    spec = indicator.benchmark
    if spec is None:
        return []
    year = benchmark_year(book, indicator, period)
    if year is None:
        return []
    source, ends = _source(spec), year_end(book, indicator, year)
    found = []
    for name, code in (("London", LONDON), ("England", ENGLAND)):
        value = published_value(book, indicator, code, year)
        if value is not None:
            found.append(BenchmarkValue(name, value[0], year, source, value[1], ends))
    if area is not None:
        found.extend(_neighbours(book, indicator, area, year, source))
    return found


def _source(spec: Benchmark) -> str:
    return f"{spec.source}: {spec.value or ' + '.join(spec.numerator or [])}"


def _neighbours(
    book: PublishedBook, indicator: Indicator, area: str, year: int, source: str
) -> list[BenchmarkValue]:
    models = book.neighbour_models()
    if not models:
        return []
    # The model in use that year: the latest one published by then (else the earliest).
    model = max((m for m in models if int(m) <= year), default=models[0])
    group = book.neighbours(area, model)
    values = [
        v
        for code in group
        if (v := published_value(book, indicator, code, year)) is not None
        and v[1] == "ok"
        and v[0] is not None
    ]
    if not group or len(values) < MIN_NEIGHBOURS:
        return []
    numbers: Sequence[float] = [v[0] for v in values if v[0] is not None]
    used = f"{source}; {len(numbers)} of {len(group)} neighbours, {model} model"
    ends = year_end(book, indicator, year)
    return [
        BenchmarkValue(name, number, year, used, ends=ends)
        for name, number in (
            ("Statistical neighbours (mean)", statistics.fmean(numbers)),
            ("Statistical neighbours (median)", statistics.median(numbers)),
        )
    ]


def published_points(
    book: PublishedBook, indicator: Indicator, areas: Sequence[str] = (LONDON, ENGLAND)
) -> dict[str, list[BenchmarkValue]]:
    """Each comparator's published figure for every year there is one, oldest first, by name
    ("London", "England", or the area's name): what a trend chart draws at the end of each year
    (:attr:`BenchmarkValue.ends`).

    A figure published as a symbol (suppressed, not available) is kept, with no value and its
    status; a comparator with nothing published has an empty list, and an indicator with no
    published benchmark none at all.
    """
    spec = indicator.benchmark
    if spec is None:
        return {}
    years = sorted({y for code in measures_in(spec) for y in book.years(spec.source, code)})
    source, found = _source(spec), {}
    for area in areas:
        name, points = _name(area), []
        for year in years:
            value = published_value(book, indicator, area, year)
            if value is not None:
                ends = year_end(book, indicator, year)
                points.append(BenchmarkValue(name, value[0], year, source, value[1], ends))
        found[name] = points
    return found


def _name(area: str) -> str:
    known = {LONDON: "London", ENGLAND: "England"}
    registry = load_areas()
    return known.get(area) or (registry[area].name if area in registry else area)


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
    book: PublishedBook, indicator: Indicator, year: int
) -> dict[str, float]:
    """Every local authority's published figure for an indicator and year (published ones only).

    Remembered in the book for each indicator and year.
    """
    return dict(_authority_values(book, indicator, year))


def _authority_values(book: PublishedBook, indicator: Indicator, year: int) -> dict[str, float]:
    return book.remember(
        ("authorities", *indicator_key(indicator), year),
        lambda: _work_out_authority_values(book, indicator, year),
    )


def _work_out_authority_values(
    book: PublishedBook, indicator: Indicator, year: int
) -> dict[str, float]:
    spec = indicator.benchmark
    if spec is None:
        return {}
    if spec.value is not None:
        found = book.local_authority_figures(spec.source, spec.value, year)
        if found or spec.numerator is None:
            return found
    assert spec.numerator is not None
    parts = [book.local_authority_figures(spec.source, code, year) for code in spec.numerator]
    numerators = {
        area: sum(p[area] for p in parts) for area in set.intersection(*(set(p) for p in parts))
    }
    if spec.population is not None:
        wholes = {area: book.population(area, year - 1, spec.population) for area in numerators}
    else:
        assert spec.denominator is not None
        wholes = {
            area: value
            for area, (value, status) in book.figures(spec.source, spec.denominator, year).items()
            if status == "ok"
        }
    return {
        area: n / whole * indicator.multiplier
        for area, n in numerators.items()
        if (whole := wholes.get(area))
    }


def positions(
    book: PublishedBook, indicator: Indicator, area: str, value: float, year: int
) -> list[Position]:
    """Where ``value`` stands among London boroughs and all English authorities that year.

    The area's own published figure is left out: it is the value being placed.
    """
    london, everyone = book.remember(
        ("ranked", *indicator_key(indicator), year), lambda: _ranked(book, indicator, year)
    )
    if not everyone.count(area):
        return []
    found = []
    groups = [("London boroughs", london)]
    if everyone.count(area) > london.count(area):  # only when every authority's figure is stored
        groups.append(("English local authorities", everyone))
    for group, ranked in groups:
        of = ranked.count(area) + 1
        if of == 1:
            continue
        rank = ranked.ahead(area, value, indicator.polarity == "low") + 1
        found.append(Position(group, rank, of, min(4, 1 + (rank - 1) * 4 // of), year))
    return found


@dataclass(frozen=True)
class _Ranked:
    """The published figures of a group of authorities, sorted, to place a value among them."""

    values: dict[str, float]
    ordered: list[float]

    def count(self, leaving_out: str) -> int:
        """How many authorities there are besides ``leaving_out``."""
        return len(self.ordered) - (leaving_out in self.values)

    def ahead(self, leaving_out: str, value: float, lower_is_better: bool) -> int:
        """How many of the others are better than ``value`` (higher, unless lower is better)."""
        own = self.values.get(leaving_out)
        if lower_is_better:
            below = bisect_left(self.ordered, value)
            return below - int(own is not None and own < value)
        above = len(self.ordered) - bisect_right(self.ordered, value)
        return above - int(own is not None and own > value)


def _ranked(book: PublishedBook, indicator: Indicator, year: int) -> tuple[_Ranked, _Ranked]:
    values = _authority_values(book, indicator, year)
    registry = load_areas()
    london = {c: v for c, v in values.items() if c in registry and registry[c].in_london}
    return _Ranked(london, sorted(london.values())), _Ranked(values, sorted(values.values()))
