"""Published benchmarks for the shipped indicators, and the digest indicators command."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from digest.compare.benchmarks import PublishedBook, benchmarks, published_value
from digest.compute.definitions import load_indicators
from digest.demo import store_generated
from digest.domain.areas import ENGLAND, LONDON
from digest.domain.periods import Period
from digest.published.importer import import_published
from digest.store.database import connect
from digest.store.published import published_figure
from digest.store.returns import ReturnsStore
from tests.conftest import SHARED
from tests.test_cli import digest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(not (SHARED / "benchmarks").exists(), reason="needs ../shared")


@pytest.fixture(scope="module")
def published_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("published") / "digest.duckdb"
    connection = connect(path)
    import_published(connection, [SHARED / "benchmarks" / "dfe", SHARED / "benchmarks" / "lait"])
    connection.close()
    return path


@pytest.fixture
def published(published_db):
    """The database and a connection, closed after the test so a command may open the file."""
    connection = connect(published_db)
    yield published_db, connection
    connection.close()


@pytest.fixture
def book(published):
    """The published figures every indicator needs, read from the database."""
    return PublishedBook.load(published[1], load_indicators().values())


def test_cp_plans_second_or_subsequent_match_the_published_2025_figures(book):
    indicator = load_indicators()["cpp_repeat"]
    found = {
        b.name: (b.value, b.year) for b in benchmarks(book, indicator, "E09000022", Period(2024, 4))
    }
    assert found["London"] == (19.2, 2025)
    assert found["England"] == (24.5, 2025)
    assert {"Statistical neighbours (mean)", "Statistical neighbours (median)"} <= set(found)


@pytest.mark.parametrize(
    "indicator_id", [i.id for i in load_indicators().values() if i.benchmark and i.benchmark.value]
)
def test_london_and_england_are_the_published_values_for_every_year(published, book, indicator_id):
    _, connection = published
    indicator = load_indicators()[indicator_id]
    assert indicator.benchmark is not None and indicator.benchmark.value is not None
    checked = 0
    for year in range(2013, 2027):
        for area in (LONDON, ENGLAND):
            figure = published_figure(
                connection, indicator.benchmark.source, indicator.benchmark.value, area, year
            )
            if figure is None:
                continue
            assert published_value(book, indicator, area, year) == figure
            checked += 1
    assert checked, f"no published London or England figure for {indicator_id}"


def test_a_benchmark_from_counts_pools_the_published_counts(published, book):
    _, connection = published
    indicator = load_indicators()["icpc_15wd"]
    value = published_value(book, indicator, LONDON, 2025)
    counts = []
    for code in ("Duration_0-10_days", "Duration_11-15_days", "ICPC"):
        figure = published_figure(connection, "DfE", code, LONDON, 2025)
        assert figure is not None and figure[0] is not None and figure[1] == "ok"
        counts.append(figure[0])
    assert value is not None and value[1] == "ok"
    assert value[0] == pytest.approx((counts[0] + counts[1]) / counts[2] * 100)


def test_first_time_entrants_have_no_england_benchmark(book):
    indicator = load_indicators()["fte_rate"]
    found = {b.name: b for b in benchmarks(book, indicator, "E09000022", Period(2023, 4))}
    assert "London" in found
    assert found.get("England") is None or found["England"].value is None


def test_the_indicators_command_prints_the_json_the_issue_describes(
    published, dataset, demo_returns, tmp_path
):
    path, connection = published
    store = ReturnsStore(connection)
    for demo in demo_returns.values():
        if demo.agency == "CSC":
            store_generated(store, demo, dataset)
    connection.close()
    ran = digest(
        "indicators",
        "--area",
        "E09000901",
        "--period",
        "2025-26 Q4",
        "--format",
        "json",
        db=path,
        check=True,
    )
    rows = {row["indicator"]: row for row in json.loads(ran.stdout)}
    assert set(rows) == set(load_indicators())
    row = rows["cpp_repeat"]
    assert set(row) == {
        "indicator",
        "area",
        "areas",
        "period",
        "window",
        "numerator",
        "denominator",
        "value",
        "lower",
        "upper",
        "status",
        "reason",
        "benchmarks",
        "comparison",
        "ranks",
        "flags",
    }
    assert (row["area"], row["period"], row["window"], row["status"]) == (
        "E09000901",
        "2025-26 Q4",
        "12m",
        "complete",
    )
    assert row["lower"] <= row["value"] <= row["upper"]
    london = next(b for b in row["benchmarks"] if b["name"] == "London")
    assert (london["value"], london["year"]) == (19.2, 2025)
    assert row["comparison"] in {"similar", "better", "worse", "much better", "much worse"}
    police = rows["mash_police_in_time"]
    assert police["status"] == "incomplete"
    assert {f["kind"] for f in police["flags"]} == {"return_missing", "incomplete"}


def test_a_value_is_ranked_among_london_and_all_authorities_by_polarity(book):
    from digest.compare.benchmarks import local_authority_values, positions

    indicator = load_indicators()["cpp_repeat"]  # lower is better
    published_values = local_authority_values(book, indicator, 2025)
    lambeth = published_values["E09000022"]
    found = {p.group: p for p in positions(book, indicator, "E09000022", lambeth, 2025)}
    london_values = [
        v for code, v in published_values.items() if code.startswith("E09") and code != "E09000022"
    ]
    better = sum(1 for v in london_values if v < lambeth)
    assert found["London boroughs"].rank == better + 1
    assert found["London boroughs"].of == len(london_values) + 1
    best = positions(book, indicator, "E09000022", 0.0, 2025)
    assert [(p.rank, p.quartile) for p in best] == [(1, 1), (1, 1)]
    worst = positions(book, indicator, "E09000022", 100.0, 2025)
    assert all(p.rank == p.of and p.quartile == 4 for p in worst)


def test_the_committed_extract_is_what_the_importer_exports(published):
    from digest.published.compact import export

    _, connection = published
    committed = (ROOT / "data" / "published" / "benchmarks.csv").read_text(encoding="utf-8")
    assert export(connection, load_indicators().values()) == committed, (
        "run: digest benchmarks export --out data/published/benchmarks.csv"
    )


def test_the_extract_alone_gives_london_and_england_for_every_indicator(book, tmp_path):
    from digest.compare.benchmarks import benchmark_year, year_end
    from digest.published.compact import import_compact

    full = book
    extract_db = connect(tmp_path / "extract.duckdb")
    import_compact(extract_db, ROOT / "data" / "published" / "benchmarks.csv")
    extract = PublishedBook.load(extract_db, load_indicators().values())
    for indicator in load_indicators().values():
        if indicator.benchmark is None:
            continue
        for year in range(2016, 2026):
            for area in (LONDON, ENGLAND, "E09000022"):
                assert published_value(extract, indicator, area, year) == published_value(
                    full, indicator, area, year
                ), (indicator.id, area, year)
            # ... and compares each with the same published year (calendar or financial).
            period = Period(2024, 2)
            assert benchmark_year(extract, indicator, period) == benchmark_year(
                full, indicator, period
            ), indicator.id
    assert year_end(extract, load_indicators()["fte_rate"], 2024) == date(2024, 12, 31)
    extract_db.close()


def test_benchmarks_never_come_from_a_year_not_yet_ended(book):
    from digest.compare.benchmarks import benchmark_year

    indicators = load_indicators()
    # July to September 2024 is compared with the year ending 31 March 2024, not 2025.
    assert benchmark_year(book, indicators["cpp_repeat"], Period(2024, 2)) == 2024
    assert benchmark_year(book, indicators["cpp_repeat"], Period(2024, 4)) == 2025
    # First-time entrants are published by calendar year: the year to March 2024 gets 2023.
    assert benchmark_year(book, indicators["fte_rate"], Period(2023, 4)) == 2023


def test_only_comparable_windows_are_judged_against_annual_figures(
    published, dataset, demo_returns
):
    from digest.compare.report import report
    from digest.compute.engine import Scope

    _, connection = published
    store = ReturnsStore(connection)
    for demo in demo_returns.values():
        if demo.agency == "CSC" and store.current("CSC", demo.area, demo.period) is None:
            store_generated(store, demo, dataset)
    indicators = [
        load_indicators()[i] for i in ("referral_rate", "cin_rate", "cla_missing_incidents")
    ]
    scope = Scope.single("E09000901")
    lines = {
        (line.computation.indicator.id, line.computation.window): line
        for window in ("quarter", "12m")
        for line in report(connection, indicators, scope, [Period(2025, 4)], window)
    }
    assert lines[("referral_rate", "12m")].comparison is not None
    assert lines[("referral_rate", "quarter")].comparison is None  # a quarter's flow
    assert lines[("cin_rate", "quarter")].comparison is not None  # a snapshot
    incidents = lines[("cla_missing_incidents", "quarter")].computation.result
    assert incidents.status == "incomplete"
    assert "12-month windows only" in (incidents.reason or "")


def test_a_pooled_group_gets_no_statistical_neighbours(book):
    indicator = load_indicators()["cpp_repeat"]
    names = {b.name for b in benchmarks(book, indicator, None, Period(2024, 4))}
    assert names == {"London", "England"}
