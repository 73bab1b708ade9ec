"""The published figures a set of indicators is compared with, read from the store once.

Published figures change only when files are imported, while the app asks about them on every
page: hundreds of small questions (London's figure, a neighbour's, a population) that would each
be a query. :class:`PublishedBook` reads everything the indicators need in four queries and
answers from memory, with the same choice of edition as the store's own reads (for each figure,
the edition reaching the latest year, then the latest imported).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast

import duckdb

from digest.compute.definitions import Benchmark, Indicator
from digest.store.published import figures_of, measures_of, neighbour_groups, populations_of

#: One published figure: its value (None unless the status is ``ok``) and status.
Figure = tuple[float | None, str]
#: A measure's figures by year, then area: ``(value, status, area level)``.
_Series = dict[int, dict[str, tuple[float | None, str, str]]]
T = TypeVar("T")


class NotInBook(LookupError):
    """A question about a published measure or age group the book was not loaded with."""


class PublishedBook:
    """Every published figure, population, neighbour group and measure description that some
    indicators' benchmarks need, held in memory. Load it with :meth:`load`.

    Answers are the store's answers at the time of loading: load a new book after an import.
    """

    def __init__(
        self,
        figures: dict[tuple[str, str], _Series],
        populations: dict[str, dict[tuple[str, int], float | None]],
        neighbours: dict[str, dict[str, list[str]]],
        measures: dict[tuple[str, str], dict[str, Any]],
    ) -> None:
        self._figures = figures
        self._populations = populations
        self._neighbours = neighbours
        self._measures = measures
        self._remembered: dict[tuple[Any, ...], Any] = {}

    @classmethod
    def load(
        cls, connection: duckdb.DuckDBPyConnection, indicators: Iterable[Indicator]
    ) -> PublishedBook:
        """Read what the benchmarks of ``indicators`` need from the store."""
        specs = [i.benchmark for i in indicators if i.benchmark is not None]
        pairs = sorted({(spec.source, code) for spec in specs for code in measures_in(spec)})
        groups = sorted({spec.population for spec in specs if spec.population is not None})
        figures: dict[tuple[str, str], _Series] = {pair: {} for pair in pairs}
        for source, measure, area, level, year, value, status in figures_of(connection, pairs):
            figures[(source, measure)].setdefault(year, {})[area] = (value, status, level)
        populations: dict[str, dict[tuple[str, int], float | None]] = {g: {} for g in groups}
        for area, year, group, value in populations_of(connection, groups):
            populations[group][(area, year)] = value
        return cls(
            figures, populations, neighbour_groups(connection), measures_of(connection, pairs)
        )

    def figure(self, source: str, measure: str, area: str, year: int) -> Figure | None:
        """The published ``(value, status)`` of a measure for an area and year, if published."""
        found = self._series(source, measure).get(year, {}).get(area)
        return None if found is None else (found[0], found[1])

    def local_authority_figures(self, source: str, measure: str, year: int) -> dict[str, float]:
        """Every local authority's published number for a measure and year (not the symbols)."""
        return {
            area: value
            for area, (value, status, level) in self._series(source, measure).get(year, {}).items()
            if level == "la" and status == "ok" and value is not None
        }

    def figures(self, source: str, measure: str, year: int) -> dict[str, Figure]:
        """Every area's published ``(value, status)`` for a measure and year, at any level."""
        return {
            area: (value, status)
            for area, (value, status, _) in self._series(source, measure).get(year, {}).items()
        }

    def years(self, source: str, measure: str) -> list[int]:
        """The years a measure has any published figure for, oldest first."""
        return sorted(self._series(source, measure))

    def population(self, area: str, year: int, age_group: str = "0-17") -> float | None:
        """The mid-year population estimate of an area, or None if not published."""
        if age_group not in self._populations:
            raise NotInBook(f"The published book holds no population estimates for {age_group}.")
        found = self._populations[age_group].get((area, year))
        return None if found is None else float(found)

    def neighbour_models(self) -> list[str]:
        """The statistical-neighbour models, oldest first."""
        return sorted(self._neighbours)

    def neighbours(self, area: str, model: str) -> list[str]:
        """The ONS codes of an area's statistical neighbours in a model, by rank."""
        return list(self._neighbours.get(model, {}).get(area, []))

    def measure(self, source: str, measure: str) -> dict[str, Any] | None:
        """The published description of a measure (title, unit, year type, ...), if imported."""
        self._series(source, measure)  # a measure the book was not loaded with is a mistake
        return self._measures.get((source, measure))

    def remember(self, key: tuple[Any, ...], work: Callable[[], T]) -> T:
        """The answer remembered under ``key``, worked out by ``work`` the first time: for what
        is derived from the figures (a benchmark year, every authority's value in a year)."""
        if key not in self._remembered:
            self._remembered[key] = work()
        return cast(T, self._remembered[key])

    def _series(self, source: str, measure: str) -> _Series:
        try:
            return self._figures[(source, measure)]
        except KeyError:
            raise NotInBook(
                f"The published book was not loaded with {source} {measure}: load it with "
                "every indicator it will be asked about."
            ) from None


def measures_in(spec: Benchmark) -> list[str]:
    """Every published measure a benchmark reads: its value, numerator and denominator."""
    codes = [spec.value, *(spec.numerator or []), spec.denominator]
    return [code for code in codes if code is not None]


def indicator_key(indicator: Indicator) -> tuple[Any, ...]:
    """What a published benchmark of an indicator depends on, to remember answers by."""
    spec = indicator.benchmark
    if spec is None:
        return (indicator.id, None)
    return (
        indicator.id,
        indicator.multiplier,
        spec.source,
        spec.value,
        tuple(spec.numerator or ()),
        spec.denominator,
        spec.population,
    )
