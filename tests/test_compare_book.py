"""The published book, the trend chart's published points, the funnel plot, and the report on it.

A small store is written here through the store's own functions (two editions of one file, so the
choice of edition is exercised), then the book is checked against the store's single reads.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from digest.compare.benchmarks import (
    FunnelPoint,
    PublishedBook,
    benchmark_year,
    benchmarks,
    funnel,
    published_points,
    published_value,
)
from digest.compare.book import NotInBook
from digest.compare.report import report
from digest.compare.stats import EXACT_BINOMIAL, EXACT_POISSON, funnel_limits
from digest.compute.definitions import load_indicators
from digest.compute.engine import Scope
from digest.demo import DemoReturn, store_generated
from digest.domain.areas import ENGLAND, LONDON, london_boroughs
from digest.domain.dataset import Dataset
from digest.domain.periods import Period, quarters
from digest.published.compact import import_compact
from digest.store.database import connect
from digest.store.published import (
    Edition,
    FigureRow,
    MeasureRow,
    NeighbourRow,
    PopulationRow,
    neighbour_models,
    neighbours,
    population,
    published_figure,
    published_measure,
    replace_figures,
    replace_measures,
    replace_neighbours,
    replace_populations,
)
from digest.store.returns import ReturnsStore
from tests.conftest import SHARED

ROOT = Path(__file__).resolve().parents[1]
INDICATORS = load_indicators()
CITY, HACKNEY, LAMBETH, SOUTHWARK = "E09000001", "E09000012", "E09000022", "E09000028"
LEEDS = "E08000035"
# cpp_repeat (CPP_subsequent over CPP_start) published in 2024 and 2025 for four boroughs,
# London and England; 2025 comes in a newer edition that also corrects Lambeth's 2024 figures.
CPP: dict[int, dict[str, tuple[int | None, int]]] = {
    2024: {LAMBETH: (40, 200), HACKNEY: (30, 120), SOUTHWARK: (45, 250), CITY: (None, 5)},
    2025: {LAMBETH: (50, 210), HACKNEY: (24, 100), SOUTHWARK: (60, 240), CITY: (1, 4)},
}


def _edition(source: str, name: str, last_year: int | None, family: str = "ees") -> Edition:
    return Edition(source, f"{name}:{last_year}", family, f"{name}.csv", "0" * 64, 2020, last_year)


def _figure(measure: str, area: str, year: int, value: float | None) -> FigureRow:
    level = {LONDON: "region", ENGLAND: "country"}.get(area, "la")
    status = "ok" if value is not None else "c"
    return FigureRow(measure, area, level, year, str(year), value, status)


def _cpp_rows(year: int) -> list[FigureRow]:
    rows = []
    for area, (repeat, started) in CPP[year].items():
        rows += [
            _figure("CPP_subsequent", area, year, repeat),
            _figure("CPP_start", area, year, started),
        ]
    rows += [
        _figure("CPP_subsequent_percent", LONDON, year, {2024: 18.2, 2025: 19.2}[year]),
        _figure("CPP_subsequent_percent", ENGLAND, year, 24.5),
    ]
    return rows


@pytest.fixture
def small_store(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    connection = connect(tmp_path / "digest.duckdb")
    replace_figures(connection, _edition("DfE", "d3_2024", 2024), _cpp_rows(2024))
    newer = [*_cpp_rows(2025), _figure("CPP_subsequent", LAMBETH, 2024, 41)]
    replace_figures(connection, _edition("DfE", "d3_2025", 2025), newer)
    referrals = [
        _figure("referral_count", area, 2025, count)
        for area, count in ((LAMBETH, 3000), (HACKNEY, 2500), (LONDON, 50_000), (LEEDS, 9000))
    ]
    replace_figures(connection, _edition("DfE", "c1_2025", 2025), referrals)
    people = [
        PopulationRow(area, 2024, "0-17", value, "ok")
        for area, value in ((LAMBETH, 60_000), (HACKNEY, 55_000), (LONDON, 1_900_000))
    ]
    replace_populations(connection, _edition("ONS", "population", 2024, "population"), people)
    fte = [
        _figure("FirstYJS", LONDON, 2023, 147),
        _figure("FirstYJS", LAMBETH, 2023, 180),
    ]
    calendar = MeasureRow(
        "FirstYJS", "First time entrants", None, None, "low", "Calendar Year", None, None
    )
    replace_figures(connection, _edition("LAIT", "bds_long", 2023, "lait"), fte, [calendar])
    group = [
        NeighbourRow(LAMBETH, rank, code, None) for rank, code in enumerate((HACKNEY, SOUTHWARK), 1)
    ]
    replace_neighbours(connection, _edition("DfE", "sn_2025", 2025, "neighbours"), "2025", group)
    replace_measures(
        connection,
        _edition("LAIT", "lait_data_dictionary", None, "lait_dictionary"),
        [
            MeasureRow(
                "CPP_rate",
                "CP plans per 10,000",
                None,
                "rate",
                "neutral",
                "Financial Year",
                None,
                None,
            )
        ],
    )
    return connection


def test_the_book_answers_as_the_store_does(small_store: duckdb.DuckDBPyConnection) -> None:
    book = PublishedBook.load(small_store, INDICATORS.values())
    areas = (LONDON, ENGLAND, LAMBETH, HACKNEY, SOUTHWARK, CITY, LEEDS, "E09000002")
    measures = ("CPP_subsequent", "CPP_start", "CPP_subsequent_percent", "referral_count")
    for measure in measures:
        for area in areas:
            for year in (2023, 2024, 2025):
                expected = published_figure(small_store, "DfE", measure, area, year)
                assert book.figure("DfE", measure, area, year) == expected
    assert book.figure("DfE", "CPP_subsequent", LAMBETH, 2024) == (41, "ok")  # the newer edition
    for area in areas:
        assert book.population(area, 2024) == population(small_store, area, 2024)
    assert book.neighbour_models() == neighbour_models(small_store) == ["2025"]
    assert book.neighbours(LAMBETH, "2025") == neighbours(small_store, LAMBETH, "2025")
    assert book.measure("LAIT", "FirstYJS") == published_measure(small_store, "LAIT", "FirstYJS")
    assert book.measure("LAIT", "CPP_rate") == published_measure(small_store, "LAIT", "CPP_rate")
    assert book.years("DfE", "CPP_start") == [2024, 2025]


def test_once_loaded_the_book_needs_no_store(small_store: duckdb.DuckDBPyConnection) -> None:
    book = PublishedBook.load(small_store, INDICATORS.values())
    small_store.close()
    found = benchmarks(book, INDICATORS["cpp_repeat"], LAMBETH, Period(2024, 4))
    assert [(b.name, b.value, b.year, b.ends) for b in found] == [
        ("London", 19.2, 2025, date(2025, 3, 31)),
        ("England", 24.5, 2025, date(2025, 3, 31)),
    ]


def test_a_measure_the_book_was_not_loaded_with_is_refused(
    small_store: duckdb.DuckDBPyConnection,
) -> None:
    book = PublishedBook.load(small_store, [INDICATORS["cpp_repeat"]])
    assert published_value(book, INDICATORS["cpp_repeat"], LONDON, 2025) == (19.2, "ok")
    with pytest.raises(NotInBook, match="referral_count"):
        published_value(book, INDICATORS["referral_rate"], LONDON, 2025)
    with pytest.raises(NotInBook, match="10-17"):
        book.population(LAMBETH, 2024, "10-17")


def test_a_benchmark_year_is_worked_out_once(
    small_store: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = PublishedBook.load(small_store, INDICATORS.values())
    asked: list[tuple[str, ...]] = []
    look_up = book.figure

    def counted(source: str, measure: str, area: str, year: int) -> tuple[float | None, str] | None:
        asked.append((source, measure, area, str(year)))
        return look_up(source, measure, area, year)

    monkeypatch.setattr(book, "figure", counted)
    indicator = INDICATORS["cpp_repeat"]
    assert benchmark_year(book, indicator, Period(2024, 4)) == 2025
    first = len(asked)
    assert first
    assert benchmark_year(book, indicator, Period(2024, 4)) == 2025
    assert len(asked) == first


def test_published_points_give_every_year_at_its_end(
    small_store: duckdb.DuckDBPyConnection,
) -> None:
    book = PublishedBook.load(small_store, INDICATORS.values())
    points = published_points(book, INDICATORS["cpp_repeat"], (LONDON, ENGLAND, CITY))
    assert list(points) == ["London", "England", "City of London"]
    assert [(p.value, p.year, p.ends) for p in points["London"]] == [
        (18.2, 2024, date(2024, 3, 31)),
        (19.2, 2025, date(2025, 3, 31)),
    ]
    # City's 2024 plans were suppressed: the year is kept with its symbol; 2025 is pooled.
    assert [(p.value, p.status, p.year) for p in points["City of London"]] == [
        (None, "c", 2024),
        (25.0, "ok", 2025),
    ]
    # First-time entrants are published by calendar year: drawn at 31 December.
    [fte] = published_points(book, INDICATORS["fte_rate"])["London"]
    assert (fte.value, fte.year, fte.ends) == (147, 2023, date(2023, 12, 31))
    assert published_points(book, INDICATORS["fte_rate"])["England"] == []
    assert published_points(book, INDICATORS["cme"]) == {}


def test_a_funnel_of_published_counts(small_store: duckdb.DuckDBPyConnection) -> None:
    book = PublishedBook.load(small_store, INDICATORS.values())
    found = funnel(book, INDICATORS["cpp_repeat"], 2025, LAMBETH)
    assert found is not None
    assert (found.kind, found.year, found.method, found.multiplier) == (
        "percentage",
        2025,
        EXACT_BINOMIAL,
        100,
    )
    assert [(p.area, p.numerator, p.denominator) for p in found.points] == [
        (CITY, 1, 4),
        (HACKNEY, 24, 100),
        (LAMBETH, 50, 210),
        (SOUTHWARK, 60, 240),
    ]
    assert found.points[0] == FunnelPoint(CITY, "City of London", 1, 4, 25.0)
    assert found.centre == pytest.approx((1 + 24 + 60 + 50) / (4 + 100 + 240 + 210) * 100)
    assert found.area == found.points[2]
    assert found.limits(210, 0.998) == funnel_limits("percentage", found.centre, 210, 0.998, 100)
    curve = found.curve(0.95, steps=20)
    assert curve[0][0] == 2 and curve[-1][0] == pytest.approx(264)
    assert all(0 <= low <= found.centre <= high <= 100 for _, low, high in curve)
    assert curve[-1][2] - curve[-1][1] < (curve[0][2] - curve[0][1]) / 3  # the funnel narrows


def test_a_suppressed_borough_is_left_out_and_an_outside_area_has_its_own_point(
    small_store: duckdb.DuckDBPyConnection,
) -> None:
    book = PublishedBook.load(small_store, INDICATORS.values())
    found = funnel(book, INDICATORS["cpp_repeat"], 2024, CITY)
    assert found is not None
    assert CITY not in {p.area for p in found.points}  # its 2024 count was suppressed
    assert found.area is None
    rates = funnel(book, INDICATORS["referral_rate"], 2025, LEEDS)
    assert rates is not None
    assert (rates.kind, rates.method) == ("rate", EXACT_POISSON)
    assert [p.area for p in rates.points] == [HACKNEY, LAMBETH]
    assert rates.centre == pytest.approx((3000 + 2500) / (60_000 + 55_000) * 10_000)
    assert rates.area is None  # Leeds has referrals but no population loaded here


def test_no_funnel_without_counts(small_store: duckdb.DuckDBPyConnection) -> None:
    book = PublishedBook.load(small_store, INDICATORS.values())
    assert funnel(book, INDICATORS["cpp_rate"], 2025, LAMBETH) is None  # a published rate only
    assert funnel(book, INDICATORS["cla_missing_incidents"], 2024, LAMBETH) is None  # a ratio
    assert funnel(book, INDICATORS["cme"], 2025, LAMBETH) is None  # no benchmark
    assert funnel(book, INDICATORS["cpp_repeat"], 2019, LAMBETH) is None  # nothing that year


# --- the report -----------------------------------------------------------------------------


@pytest.fixture
def demo_store(tmp_path: Path, dataset: Dataset, demo_returns: dict) -> ReturnsStore:
    """The demo borough's returns (2024-25 Q1 to 2026-27 Q1) and the benchmark extract."""
    store = ReturnsStore(connect(tmp_path / "demo.duckdb"))
    for demo in demo_returns.values():
        store_generated(store, demo, dataset)
    import_compact(store._connection, ROOT / "data" / "published" / "benchmarks.csv")
    return store


def test_a_report_is_the_same_with_a_book_given(demo_store: ReturnsStore) -> None:
    connection = demo_store._connection
    indicators = list(INDICATORS.values())
    periods = quarters(Period(2024, 1), Period(2026, 1))
    book = PublishedBook.load(connection, indicators)
    for scope in (Scope.single("E09000901"), Scope("pair", ("E09000901", LAMBETH))):
        given = report(connection, indicators, scope, periods, book=book, today=date(2026, 6, 1))
        read = report(connection, indicators, scope, periods, today=date(2026, 6, 1))
        assert json.dumps([line.to_dict() for line in given]) == json.dumps(
            [line.to_dict() for line in read]
        )


def test_a_missing_return_is_flagged_for_its_agency_and_quarter_only(
    demo_store: ReturnsStore, dataset: Dataset, demo_returns: dict
) -> None:
    # Remove nothing from the store: add a quarter for which only CSC has sent a return, and a
    # second version of an earlier CSC return (any version is a return received).
    late = Period(2026, 2)
    values = dict(demo_returns[("CSC", Period(2026, 1))].values)
    store_generated(demo_store, DemoReturn("CSC", "E09000901", late, values), dataset)
    values["CSC.REFERRALS"] = int(values["CSC.REFERRALS"]) + 1
    store_generated(demo_store, DemoReturn("CSC", "E09000901", Period(2026, 1), values), dataset)
    indicators = [INDICATORS["rereferrals"], INDICATORS["mash_police_in_time"]]
    lines = report(
        demo_store._connection,
        indicators,
        Scope.single("E09000901"),
        [Period(2026, 1), late],
        today=date(2026, 12, 1),
    )
    missing = {
        (line.computation.indicator.agency, str(line.computation.period))
        for line in lines
        for flag in line.flags
        if flag.kind == "return_missing"
    }
    assert missing == {("POLICE", "2026-27 Q2")}
    pooled = report(
        demo_store._connection,
        indicators,
        Scope("pair", ("E09000901", LAMBETH)),
        [late],
        today=date(2026, 12, 1),
    )
    assert not [f for line in pooled for f in line.flags if f.kind == "return_missing"]


# --- the real published files ---------------------------------------------------------------


@pytest.mark.skipif(not (SHARED / "benchmarks").exists(), reason="needs ../shared")
def test_the_funnel_of_the_real_rereferral_counts(tmp_path: Path) -> None:
    from digest.published.importer import import_published

    connection = connect(tmp_path / "published.duckdb")
    dfe = SHARED / "benchmarks" / "dfe"
    import_published(
        connection, [dfe / "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv"]
    )
    book = PublishedBook.load(connection, [INDICATORS["rereferrals"]])
    found = funnel(book, INDICATORS["rereferrals"], 2025, LAMBETH)
    assert found is not None
    assert len(found.points) >= len(london_boroughs()) - 1  # the City's may be suppressed
    london = published_value(book, INDICATORS["rereferrals"], LONDON, 2025)
    assert london is not None and london[0] is not None
    assert found.centre == pytest.approx(london[0], abs=0.5)  # the published counts are rounded
    assert found.area is not None and found.area.area == LAMBETH
    lambeth = [
        published_figure(connection, "DfE", m, LAMBETH, 2025)
        for m in ("rereferral_count", "referral_count")
    ]
    assert (found.area.numerator, found.area.denominator) == tuple(f[0] for f in lambeth if f)
    connection.close()
