"""Importing the real published files: DfE (EES and LAIT), ONS populations, neighbour models.

Every file in ``../shared/benchmarks`` is imported once into a real DuckDB file made by
``connect()`` (so migration 0002 is applied as in production); the tests then check published
facts against the store, and against the files read independently here.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from digest.domain.areas import find_area
from digest.published.files import PublishedFileError, label_end_year, parse_cell
from digest.published.importer import ImportSummary, import_published
from digest.store.database import connect
from digest.store.published import (
    neighbours,
    population,
    published_figure,
    published_measure,
    published_series,
    published_sources,
    remove_edition,
)
from tests.conftest import SHARED

BENCHMARKS = SHARED / "benchmarks"
DFE = BENCHMARKS / "dfe"
LAIT = BENCHMARKS / "lait"
D3 = DFE / "d3_cpps_subsequent_plan_2013_to_2025.csv"
POPULATION = DFE / "ons_mid-year_population_estimates_2012_to_2024.csv"
MISSING = DFE / "la_cla_missing_or_away_2020_to_2024.csv"
SN_2025 = DFE / "sn_model_2025_wide.csv"
LONDON, ENGLAND = "E12000007", "E92000001"
CITY, HACKNEY, LAMBETH = "E09000001", "E09000012", "E09000022"

pytestmark = pytest.mark.skipif(
    not BENCHMARKS.is_dir(),
    reason=f"the published files are not at {BENCHMARKS} (they are never copied into the repo)",
)


@dataclass
class Imported:
    connection: duckdb.DuckDBPyConnection
    path: Path
    summaries: list[ImportSummary]
    seconds: float


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Imported]:
    """Every published file imported once (LAIT alone has 641,070 rows)."""
    path = tmp_path_factory.mktemp("published") / "digest.duckdb"
    connection = connect(path)
    started = time.perf_counter()
    summaries = import_published(
        connection, [DFE, LAIT / "bds_long.parquet", LAIT / "lait_data_dictionary.csv"]
    )
    yield Imported(connection, path, summaries, time.perf_counter() - started)
    connection.close()


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def _count(connection: duckdb.DuckDBPyConnection, table: str) -> int:
    cursor = connection.cursor()
    try:
        [(count,)] = cursor.execute(f"select count(*) from {table}").fetchall()
    finally:
        cursor.close()
    return int(count)


def _table_counts(connection: duckdb.DuckDBPyConnection) -> dict[str, int]:
    tables = (
        "published_figures",
        "published_editions",
        "populations",
        "statistical_neighbours",
        "published_measures",
    )
    return {table: _count(connection, table) for table in tables}


def test_migration_0002_is_applied_by_connect(imported: Imported) -> None:
    cursor = imported.connection.cursor()
    versions = {v for (v,) in cursor.execute("select version from schema_migrations").fetchall()}
    cursor.close()
    assert 2 in versions
    assert _count(imported.connection, "published_figures") > 600_000


def test_every_file_is_recognised_with_its_source_edition_and_years(imported: Imported) -> None:
    by_name = {s.file.name: s for s in imported.summaries}
    assert set(by_name) == {p.name for p in DFE.glob("*.csv")} | {
        "bds_long.parquet",
        "lait_data_dictionary.csv",
    }
    d3 = by_name[D3.name]
    assert (d3.family, d3.source, d3.years[0], d3.years[-1]) == ("ees", "DfE", 2013, 2025)
    assert d3.edition.startswith("d3_cpps_subsequent_plan_2013_to_2025:2025:")
    assert len(d3.edition.rsplit(":", 1)[1]) == 12
    assert by_name[POPULATION.name].source == "ONS"
    assert by_name["bds_long.parquet"].source == "LAIT"
    assert by_name[SN_2025.name].family == "neighbours"
    assert by_name["lait_data_dictionary.csv"].rows == 434
    sources = published_sources(imported.connection)
    assert {s["file_name"] for s in sources} == set(by_name)
    assert all(s["rows"] == by_name[s["file_name"]].rows for s in sources)


def test_cp_plans_second_or_subsequent_2025_london_and_england(imported: Imported) -> None:
    figure = published_figure(imported.connection, "DfE", "CPP_subsequent_percent", LONDON, 2025)
    assert figure == (19.2, "ok")
    figure = published_figure(imported.connection, "DfE", "CPP_subsequent_percent", ENGLAND, 2025)
    assert figure == (24.5, "ok")


def test_every_d3_cell_is_stored_as_published(imported: Imported) -> None:
    stored = {
        (f.measure, f.area_code, f.year): (f.value, f.status)
        for measure in ("CPP_start", "CPP_subsequent", "CPP_subsequent_percent")
        for f in published_series(imported.connection, "DfE", measure)
    }
    rows = _csv_rows(D3)
    for row in rows:
        level = row["geographic_level"]
        code = {"National": row["country_code"], "Regional": row["region_code"]}.get(
            level, row["new_la_code"]
        )
        for measure in ("CPP_start", "CPP_subsequent", "CPP_subsequent_percent"):
            cell = row[measure]
            expected = (None, cell) if cell in {"c", "x", "z", "u", "k"} else (float(cell), "ok")
            assert stored[(measure, code, int(row["time_period"]))] == expected, (row, measure)
    assert len(stored) == 3 * len(rows)


def test_a_suppressed_cell_is_a_status_never_zero(imported: Imported) -> None:
    # City of London 2014: CPP_start is 'c' and DfE prints 0 beside it
    assert published_figure(imported.connection, "DfE", "CPP_start", CITY, 2014) == (None, "c")
    assert published_figure(imported.connection, "DfE", "CPP_subsequent", CITY, 2014) == (0, "ok")
    cursor = imported.connection.cursor()
    [(with_value,)] = cursor.execute(
        "select count(*) from published_figures where status <> 'ok' and value is not null"
    ).fetchall()
    [(suppressed,)] = cursor.execute(
        "select count(*) from published_figures where status = 'c'"
    ).fetchall()
    cursor.close()
    assert with_value == 0
    assert suppressed > 1000


@pytest.mark.parametrize(
    ("measure", "file"),
    [
        ("CPP_subsequent_percent", "d3"),
        ("rereferral_percent", "c1"),
        ("ICPC", "c4"),
        ("Duration_0-10_days", "c4"),
        ("2_years_or_more", "d5"),
    ],
)
def test_hackney_2021_and_2022_are_not_available(
    imported: Imported, measure: str, file: str
) -> None:
    series = published_series(imported.connection, "DfE", measure, [HACKNEY], [2020, 2021, 2022])
    later = [(f.year, f.status, f.value) for f in series[1:]]
    assert later == [(2021, "x", None), (2022, "x", None)]
    assert series[0].status == "ok"
    assert series[0].file_name.startswith(file)


def test_ons_population_for_a_borough_equals_the_file(imported: Imported) -> None:
    [row] = [
        r
        for r in _csv_rows(POPULATION)
        if r["new_la_code"] == LAMBETH and r["time_period"] == "2024"
    ]
    assert population(imported.connection, LAMBETH, 2024) == float(row["population_estimate"])
    assert population(imported.connection, LAMBETH, 2024, "10-17") is None
    # Bournemouth was abolished in 2019: its later estimates are published as 'x'
    assert population(imported.connection, "E06000028", 2018) is None


def test_sn_2025_gives_ten_ons_coded_neighbours(imported: Imported) -> None:
    found = neighbours(imported.connection, LAMBETH, "2025")
    [row] = [r for r in _csv_rows(SN_2025) if r["old_la_code"] == find_area(LAMBETH).dfe_code]
    assert found == [find_area(row[f"SN_{rank}"]).ons_code for rank in range(1, 11)]
    assert len(set(found)) == 10
    assert all(code.startswith("E0") and len(code) == 9 for code in found)
    older = neighbours(imported.connection, LAMBETH, "2021")
    assert len(older) == 10
    assert older != found


def test_lait_london_and_england_equal_the_parquet(imported: Imported) -> None:
    reader = duckdb.connect()
    rows = reader.execute(
        'select "Short Desc", "Years", "LA and Regions", "Values" from read_parquet(?)'
        " where \"LA and Regions\" in ('London', 'England')"
        " and \"Short Desc\" in ('CPP_rate', 'Continue_Assess_Comp', 'Section_47')",
        [str(LAIT / "bds_long.parquet")],
    ).fetchall()
    reader.close()
    assert len(rows) == 3 * 2 * 10
    for measure, year, name, text in rows:
        code = LONDON if name == "London" else ENGLAND
        stored = published_figure(imported.connection, "LAIT", measure, code, int(year))
        assert stored is not None
        assert stored[0] == pytest.approx(float(text), abs=1e-12), (measure, year, name)
    # printed in the parquet as 40.200000000000003: stored as published
    assert published_figure(imported.connection, "LAIT", "CPP_rate", LONDON, 2024) == (40.2, "ok")
    assert published_figure(imported.connection, "LAIT", "CPP_rate", ENGLAND, 2025) == (40.6, "ok")


def test_lait_first_time_entrants_england_is_not_a_rate(imported: Imported) -> None:
    england = published_figure(imported.connection, "LAIT", "FirstYJS", ENGLAND, 2024)
    assert england == (None, "invalid")
    assert published_figure(imported.connection, "LAIT", "FirstYJS", LONDON, 2024) == (157, "ok")
    lambeth = published_figure(imported.connection, "LAIT", "FirstYJS", LAMBETH, 2024)
    assert lambeth is not None
    assert lambeth[1] == "ok"


def test_lait_dictionary_describes_measures(imported: Imported) -> None:
    measure = published_measure(imported.connection, "LAIT", "Continue_Assess_Comp")
    assert measure is not None
    assert measure["polarity"] == "high"
    assert measure["year_type"] == "Financial Year"
    assert "\r" not in measure["description"]
    section_47 = published_measure(imported.connection, "LAIT", "Section_47")
    assert section_47 is not None
    assert section_47["polarity"] == "neutral"


def test_long_format_measures_are_named_from_their_labels(imported: Imported) -> None:
    measure = "percentage_of_children_who_had_a_missing_incident_during_the_year"
    [row] = [
        r
        for r in _csv_rows(MISSING)
        if r["geographic_level"] == "Regional"
        and r["region_code"] == LONDON
        and r["time_period"] == "2024"
        and r["CLA_group"] == "Percentage of children who had a missing incident during the year"
    ]
    stored = published_figure(imported.connection, "DfE", measure, LONDON, 2024)
    assert stored == (float(row["number"]), "ok")
    described = published_measure(imported.connection, "DfE", measure)
    assert described is not None
    assert described["title"] == row["CLA_group"]
    rate = "children_looked_after_on_31_march_each_year:rate_per_10000"
    assert published_figure(imported.connection, "DfE", rate, ENGLAND, 2025) == (67, "ok")


def test_old_ons_codes_in_c4_are_stored_under_the_registry_code(imported: Imported) -> None:
    # C4 gives Northumberland E06000048 for 2013-2019; every other file gives E06000057
    assert published_figure(imported.connection, "DfE", "Section47", "E06000057", 2013) == (
        849,
        "ok",
    )
    assert published_figure(imported.connection, "DfE", "Section47", "E06000048", 2013) is None


def test_reimporting_a_file_changes_no_row_count(imported: Imported) -> None:
    before = _table_counts(imported.connection)
    [again] = import_published(imported.connection, [D3])
    [first] = [s for s in imported.summaries if s.file == D3]
    assert again.edition == first.edition
    assert again.rows == first.rows
    [model] = import_published(imported.connection, [SN_2025])
    assert model.rows == 1530
    assert _table_counts(imported.connection) == before


def test_an_unrecognised_csv_gets_a_plain_message_and_nothing_is_stored(
    imported: Imported, tmp_path: Path
) -> None:
    unknown = tmp_path / "budget_2025.csv"
    unknown.write_text("team,spend\nnorth,100\n", encoding="utf-8")
    before = _table_counts(imported.connection)
    with pytest.raises(PublishedFileError) as raised:
        import_published(imported.connection, [D3, unknown])
    message = str(raised.value)
    assert message.startswith("budget_2025.csv is not a published file the importer knows.")
    assert "Its columns are: team, spend." in message
    assert _table_counts(imported.connection) == before


def test_a_workbook_or_a_missing_file_gets_a_plain_message(tmp_path: Path) -> None:
    connection = connect(tmp_path / "digest.duckdb")
    with pytest.raises(PublishedFileError, match=r"la_code_list\.xlsx is a workbook"):
        import_published(connection, [LAIT / "la_code_list.xlsx"])
    with pytest.raises(PublishedFileError, match=r"nowhere\.csv does not exist"):
        import_published(connection, [tmp_path / "nowhere.csv"])
    connection.close()


def test_the_full_import_is_quick(imported: Imported) -> None:
    assert imported.seconds < 30, f"importing every published file took {imported.seconds:.1f} s"


# Small made-up files: the rules behind the real files' handling.

_TIDY = (
    "time_period,time_identifier,geographic_level,country_code,country_name,region_code,"
    "region_name,old_la_code,new_la_code,la_name,{columns}\n"
)


def _tidy(tmp_path: Path, name: str, columns: str, *rows: str) -> Path:
    path = tmp_path / name
    path.write_text(_TIDY.format(columns=columns) + "".join(rows), encoding="utf-8")
    return path


def _london(period: str, *cells: str) -> str:
    region = "Regional,E92000001,England,E12000007,London,,,"
    return f"{period},Reporting year,{region},{','.join(cells)}\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("19.2", (19.2, "ok")),
        ("2.2999999999999998", (2.3, "ok")),
        ("4.7980000000000002E-2", (0.04798, "ok")),
        ("0", (0.0, "ok")),
        ("c", (None, "c")),
        ("[x]", (None, "x")),
        ("low", (None, "low")),
        ("", (None, "x")),
        ("nan", None),
        ("1_000", None),
        (":", None),
    ],
)
def test_a_published_cell_is_a_number_or_a_symbol(
    text: str, expected: tuple[float | None, str] | None
) -> None:
    assert parse_cell(text) == expected


@pytest.mark.parametrize(
    ("label", "year"),
    [
        ("2016", 2016),
        ("2018 (Rev)", 2018),
        ("2016-17", 2017),
        ("2016/17", 2017),
        ("2016-17 (OT)", 2017),
        ("2014-16", 2016),
        ("2013/14-15/16", 2016),
        ("1999-00", 2000),
        ("0", None),
    ],
)
def test_a_period_label_gives_the_year_it_ends_in(label: str, year: int | None) -> None:
    assert label_end_year(label) == year


def test_a_newer_edition_is_preferred_and_older_years_kept(tmp_path: Path) -> None:
    connection = connect(tmp_path / "digest.duckdb")
    old = _tidy(tmp_path, "old_2023.csv", "rate", _london("2022", "5"), _london("2023", "6"))
    new = _tidy(tmp_path, "new_2024.csv", "rate", _london("2023", "7"), _london("2024", "8"))
    import_published(connection, [new, old])
    series = published_series(connection, "DfE", "rate", [LONDON])
    assert [(f.year, f.value, f.file_name) for f in series] == [
        (2022, 5, "old_2023.csv"),
        (2023, 7, "new_2024.csv"),
        (2024, 8, "new_2024.csv"),
    ]
    connection.close()


def test_financial_years_and_several_measures_in_long_format(tmp_path: Path) -> None:
    connection = connect(tmp_path / "digest.duckdb")
    path = _tidy(
        tmp_path,
        "long.csv",
        "group,count,percent",
        _london("202324", "Went missing", "10", "2.5"),
        _london("202324", "Came back", "c", "c"),
    )
    [summary] = import_published(connection, [path])
    assert summary.years == (2024,)
    assert published_figure(connection, "DfE", "went_missing:percent", LONDON, 2024) == (2.5, "ok")
    assert published_figure(connection, "DfE", "came_back:count", LONDON, 2024) == (None, "c")
    connection.close()


def test_an_unknown_symbol_among_numbers_is_named(tmp_path: Path) -> None:
    connection = connect(tmp_path / "digest.duckdb")
    path = _tidy(
        tmp_path,
        "odd.csv",
        "count",
        *(_london(str(y), n) for y, n in [(2023, "4"), (2024, "5"), (2025, "?")]),
    )
    with pytest.raises(PublishedFileError, match=r"odd\.csv: column 'count' .* '\?'"):
        import_published(connection, [path])
    assert published_sources(connection) == []
    connection.close()


def test_removing_an_edition_removes_its_rows(tmp_path: Path) -> None:
    connection = connect(tmp_path / "digest.duckdb")
    path = _tidy(tmp_path, "one_2024.csv", "count", _london("2024", "3"))
    [summary] = import_published(connection, [path])
    assert remove_edition(connection, summary.source, summary.edition) == 1
    assert published_figure(connection, "DfE", "count", LONDON, 2024) is None
    assert published_sources(connection) == []
    assert remove_edition(connection, summary.source, summary.edition) == 0
    connection.close()
