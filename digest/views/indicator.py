"""One indicator in depth: its trend with confidence intervals, the published benchmarks, where
the area stands among London boroughs, its definition, and every figure it was computed from."""

from __future__ import annotations

from dataclasses import dataclass

from digest.compare.benchmarks import BenchmarkValue, Funnel, funnel, published_points
from digest.compare.judgement import interval
from digest.compare.rating import Rating, rate
from digest.compare.report import Line, report
from digest.compare.stats import Interval
from digest.compute.definitions import POPULATION, Indicator, Window
from digest.compute.engine import Computation, Scope, compute, population_used
from digest.compute.formula import window_quarters
from digest.domain.dataset import load_dataset
from digest.domain.periods import Period
from digest.domain.statuses import MEANING
from digest.domain.timestamps import uk_time
from digest.views import format
from digest.views.sources import Sources

_MEANING = {str(symbol): words for symbol, words in MEANING.items()}


@dataclass(frozen=True)
class TrendPoint:
    """The indicator in one window ending with one quarter, with its 95% interval."""

    computation: Computation
    interval: Interval | None

    @property
    def period(self) -> Period:
        """The quarter the window ends with."""
        return self.computation.period

    @property
    def value(self) -> float | None:
        """The figure, or ``None`` when it cannot be computed."""
        return self.computation.result.value


@dataclass(frozen=True)
class SourceFigure:
    """A returned figure the indicator was computed from, and exactly where it came from."""

    code: str
    measure: str
    period: Period
    value: float | None
    status: str  # ok, c, x, z, or "missing" when no return holds it
    version: int | None = None
    sheet: str | None = None
    cell: str | None = None
    submitted: str | None = None  # UK time
    submitted_by: str | None = None
    file_name: str | None = None
    origin: str | None = None  # where a figure that is not a returned one came from

    @property
    def shown(self) -> str:
        """The value as shown: a number, a status in words, or "not returned"."""
        if self.status == "missing":
            return "not returned"
        if self.value is None:
            return f"{self.status} ({_MEANING.get(self.status, self.status)})"
        return f"{self.value:,.0f}"

    @property
    def source(self) -> str:
        """``version 2, sheet 'Return' cell E7 (file.xlsx, 3 Oct 2025 by lead)``."""
        if self.origin is not None:
            return self.origin
        if self.version is None:
            return "no accepted return"
        return (
            f"version {self.version}, sheet '{self.sheet}' cell {self.cell} "
            f"({self.file_name}, {self.submitted} by {self.submitted_by})"
        )


@dataclass(frozen=True)
class IndicatorDetail:
    """Everything the indicator page shows for one area and quarter."""

    indicator: Indicator
    area: str
    period: Period
    line: Line
    trends: dict[Window, list[TrendPoint]]  # the quarter, and the headline window if different
    published: dict[str, list[BenchmarkValue]]
    funnel: Funnel | None
    figures: list[SourceFigure]

    @property
    def span(self) -> str:
        """The time the quarter's figure covers, in words."""
        return format.span(self.indicator, self.period, self.line.computation.window)

    @property
    def agency(self) -> str:
        """The owning agency's name and code."""
        return f"{load_dataset().agency(self.indicator.agency).name} ({self.indicator.agency})"

    @property
    def rating(self) -> Rating:
        """The RAG rating of the quarter's figure."""
        line = self.line
        return rate(self.indicator, line.comparison, line.flags, line.computation.result.value)

    @property
    def numerator(self) -> str:
        """The numerator in words, with its code."""
        return _measure_words(self.indicator.numerator)

    @property
    def denominator(self) -> str | None:
        """The denominator in words, with its code (or the population it is per)."""
        found = self.indicator.denominator
        if found is None:
            return None
        if found == POPULATION:
            return (
                f"children aged {self.indicator.population} living in the area (ONS mid-year "
                "population estimate, or the partnership's own figure where ONS has none)"
            )
        return _measure_words(found)


def _measure_words(code: str) -> str:
    return f"{load_dataset().measures[code].description} ({code})"


def detail(sources: Sources, indicator: Indicator, area: str, period: Period) -> IndicatorDetail:
    """The indicator page for ``area`` in ``period``: trends over every stored quarter."""
    scope = Scope.single(area)
    connection = sources.store.connection
    stored = sorted(sources.store.periods(area)) or [period]
    history = [p for p in stored if p <= period] or [period]
    kinds = {sources.dataset.measures[code].kind for code in indicator.measures}
    windows: list[Window] = ["quarter"] if "flow" in kinds else []
    if indicator.window not in windows:  # a count taken at a quarter's end is the same in each
        windows.append(indicator.window)
    trends = {
        window: [
            TrendPoint(done, interval(indicator, done.result))
            for done in compute(connection, [indicator], [scope], history, window)
        ]
        for window in windows
    }
    [line] = report(
        connection, [indicator], scope, [period], book=sources.book, today=sources.today()
    )
    year = line.benchmarks[0].year if line.benchmarks else None
    return IndicatorDetail(
        indicator=indicator,
        area=area,
        period=period,
        line=line,
        trends=trends,
        published=published_points(sources.book, indicator),
        funnel=funnel(sources.book, indicator, year, area) if year is not None else None,
        figures=source_figures(sources, indicator, area, period),
    )


def source_figures(
    sources: Sources, indicator: Indicator, area: str, period: Period
) -> list[SourceFigure]:
    """Every returned figure the headline value for ``period`` is computed from."""
    measures = sources.dataset.measures
    found = []
    for code in indicator.measures:
        measure = measures[code]
        covered = window_quarters(period, indicator.window)
        if measure.kind != "flow":
            covered = covered[-1:]  # a snapshot or rolling count is read at the window's end
        for quarter in covered:
            current = sources.store.current(measure.agency, area, quarter)
            stored = ({v.code: v for v in sources.store.values(current.id)} if current else {}).get(
                code
            )
            if current is None or stored is None:
                found.append(SourceFigure(code, measure.description, quarter, None, "missing"))
                continue
            found.append(
                SourceFigure(
                    code,
                    measure.description,
                    quarter,
                    stored.value,
                    stored.status,
                    current.version,
                    stored.sheet,
                    stored.cell,
                    uk_time(current.submitted_at),
                    current.submitted_by,
                    current.file_name,
                )
            )
    if indicator.population is not None:
        found.append(_population_figure(sources, indicator.population, area, period))
    return found


def _population_figure(sources: Sources, group: str, area: str, period: Period) -> SourceFigure:
    """The population a rate is per, with the estimate it was taken from."""
    used = population_used(sources.store.connection, area, period, group)
    if used is None:
        return SourceFigure(
            "population",
            f"Children aged {group}",
            period,
            None,
            "missing",
            origin="no population estimate is loaded",
        )
    year, value, origin = used
    return SourceFigure(
        "population",
        f"Children aged {group} living in the area (mid-{year} estimate)",
        period,
        value,
        "ok",
        origin="ONS mid-year population estimate, as published"
        if origin == "ONS"
        else "the partnership's own estimate (data/partnership.yaml): ONS publishes none",
    )
