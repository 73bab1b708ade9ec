"""Published figures, populations, statistical neighbours and measure descriptions in the store.

The only module that runs SQL on these tables. Writes replace one source and edition's rows in
one transaction; reads prefer, for each figure, the edition reaching the latest year and then
the latest imported, so a newer publication supersedes an older one where both have a year.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import duckdb

from digest.store.database import fetch, transaction, utc_now

# Rows arrive in hundreds of thousands (LAIT): a registered DataFrame inserts them in one
# statement, several times faster than list parameters with unnest and far faster than VALUES.
_INCOMING = "published_incoming"
_PREFERRED = "order by e.last_year desc nulls last, e.imported_at desc"


class FigureRow(NamedTuple):
    """One published figure of one file, before it is stored."""

    measure: str
    area_code: str
    area_level: str  # la | region | country
    year: int
    period: str
    value: float | None
    status: str  # ok, or the published symbol (value None)


class PopulationRow(NamedTuple):
    """One population estimate of one file, before it is stored."""

    area_code: str
    year: int  # mid-year
    age_group: str
    value: float | None
    status: str


class NeighbourRow(NamedTuple):
    """One neighbour of one area in a statistical-neighbour model, before it is stored."""

    area_code: str
    rank: int
    neighbour_code: str
    closeness: str | None


class MeasureRow(NamedTuple):
    """The description of one published measure, before it is stored."""

    measure: str
    title: str | None
    description: str | None
    unit: str | None
    polarity: str | None  # high | low | neutral
    year_type: str | None
    methodology: str | None
    link: str | None


@dataclass(frozen=True)
class Edition:
    """The file a set of rows came from."""

    source: str
    edition: str
    family: str
    file_name: str
    sha256: str
    first_year: int | None
    last_year: int | None


@dataclass(frozen=True)
class PublishedFigure:
    """A stored published figure with where it came from."""

    source: str
    edition: str
    file_name: str
    measure: str
    area_code: str
    area_level: str
    year: int
    period: str
    value: float | None
    status: str


def _insert(
    cursor: duckdb.DuckDBPyConnection,
    sql: str,
    columns: tuple[str, ...],
    rows: Sequence[tuple[Any, ...]],
    parameters: list[Any],
) -> None:
    if not rows:
        return
    import pandas as pd  # only writes need it; reading the store stays light

    frame = pd.DataFrame.from_records(rows, columns=list(columns))
    cursor.register(_INCOMING, frame)
    try:
        cursor.execute(sql, parameters)
    finally:
        cursor.unregister(_INCOMING)


def _record_edition(
    cursor: duckdb.DuckDBPyConnection, edition: Edition, rows: int, imported_at: datetime
) -> None:
    cursor.execute(
        "delete from published_editions where source = ? and edition = ?",
        [edition.source, edition.edition],
    )
    cursor.execute(
        "insert into published_editions values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            edition.source,
            edition.edition,
            edition.family,
            edition.file_name,
            edition.sha256,
            rows,
            edition.first_year,
            edition.last_year,
            imported_at,
        ],
    )


def replace_figures(
    connection: duckdb.DuckDBPyConnection,
    edition: Edition,
    rows: Sequence[FigureRow],
    measures: Sequence[MeasureRow] = (),
) -> int:
    """Store a file's figures (and what its measures mean) in place of an earlier import of it."""
    imported_at = utc_now()
    with transaction(connection) as cursor:
        cursor.execute(
            "delete from published_figures where source = ? and edition = ?",
            [edition.source, edition.edition],
        )
        _insert(
            cursor,
            "insert into published_figures select ?, ?, ?, i.measure, i.area_code, i.area_level,"
            f" i.year, i.period, i.value, i.status, ? from {_INCOMING} as i",
            FigureRow._fields,
            rows,
            [edition.source, edition.edition, edition.file_name, imported_at],
        )
        _replace_measures(cursor, edition, measures)
        _record_edition(cursor, edition, len(rows), imported_at)
    return len(rows)


def replace_populations(
    connection: duckdb.DuckDBPyConnection, edition: Edition, rows: Sequence[PopulationRow]
) -> int:
    """Store a file's population estimates in place of any earlier import of the same edition."""
    imported_at = utc_now()
    with transaction(connection) as cursor:
        cursor.execute(
            "delete from populations where source = ? and edition = ?",
            [edition.source, edition.edition],
        )
        _insert(
            cursor,
            "insert into populations select i.area_code, i.year, i.age_group, i.value, i.status,"
            f" ?, ? from {_INCOMING} as i",
            PopulationRow._fields,
            rows,
            [edition.source, edition.edition],
        )
        _record_edition(cursor, edition, len(rows), imported_at)
    return len(rows)


def replace_neighbours(
    connection: duckdb.DuckDBPyConnection,
    edition: Edition,
    model: str,
    rows: Sequence[NeighbourRow],
) -> int:
    """Store a statistical-neighbour model, replacing every earlier file of the same model."""
    imported_at = utc_now()
    with transaction(connection) as cursor:
        # A model has one set of neighbours: a second file of it is a correction, not an addition.
        cursor.execute(
            "delete from published_editions where (source, edition) in"
            " (select distinct source, edition from statistical_neighbours where model = ?)",
            [model],
        )
        cursor.execute("delete from statistical_neighbours where model = ?", [model])
        _insert(
            cursor,
            "insert into statistical_neighbours select ?, i.area_code, i.rank, i.neighbour_code,"
            f" i.closeness, ?, ? from {_INCOMING} as i",
            NeighbourRow._fields,
            rows,
            [model, edition.source, edition.edition],
        )
        _record_edition(cursor, edition, len(rows), imported_at)
    return len(rows)


def _replace_measures(
    cursor: duckdb.DuckDBPyConnection, edition: Edition, rows: Sequence[MeasureRow]
) -> None:
    cursor.execute(
        "delete from published_measures where source = ? and edition = ?",
        [edition.source, edition.edition],
    )
    _insert(
        cursor,
        "insert into published_measures select ?, ?, i.measure, i.title, i.description,"
        f" i.unit, i.polarity, i.year_type, i.methodology, i.link from {_INCOMING} as i",
        MeasureRow._fields,
        rows,
        [edition.source, edition.edition],
    )


def replace_measures(
    connection: duckdb.DuckDBPyConnection, edition: Edition, rows: Sequence[MeasureRow]
) -> int:
    """Store a data dictionary's measure descriptions in place of an earlier import of it."""
    imported_at = utc_now()
    with transaction(connection) as cursor:
        _replace_measures(cursor, edition, rows)
        _record_edition(cursor, edition, len(rows), imported_at)
    return len(rows)


def remove_edition(connection: duckdb.DuckDBPyConnection, source: str, edition: str) -> int:
    """Remove every row of one imported file; return how many rows it had (0 if not imported)."""
    with transaction(connection) as cursor:
        found = cursor.execute(
            "select rows from published_editions where source = ? and edition = ?",
            [source, edition],
        ).fetchall()
        for table in (
            "published_figures",
            "populations",
            "statistical_neighbours",
            "published_measures",
            "published_editions",
        ):
            cursor.execute(
                f"delete from {table} where source = ? and edition = ?", [source, edition]
            )
    return int(found[0][0]) if found else 0


def published_figure(
    connection: duckdb.DuckDBPyConnection, source: str, measure: str, area_code: str, year: int
) -> tuple[float | None, str] | None:
    """The published ``(value, status)`` of a measure for an area and year, if published.

    ``value`` is None whenever ``status`` is not ``ok``: a suppressed figure is never zero.
    """
    rows = fetch(
        connection,
        "select f.value, f.status from published_figures as f"
        " join published_editions as e using (source, edition)"
        " where f.source = ? and f.measure = ? and f.area_code = ? and f.year = ?"
        f" {_PREFERRED} limit 1",
        [source, measure, area_code, year],
    )
    return (rows[0][0], rows[0][1]) if rows else None


def published_series(
    connection: duckdb.DuckDBPyConnection,
    source: str,
    measure: str,
    area_codes: list[str] | None = None,
    years: list[int] | None = None,
) -> list[PublishedFigure]:
    """A measure's published figures for the areas and years given (all when None).

    One figure per area and year, from the preferred edition; ordered by area, then year.
    """
    rows = fetch(
        connection,
        "select f.source, f.edition, f.file_name, f.measure, f.area_code, f.area_level, f.year,"
        " f.period, f.value, f.status"
        " from published_figures as f join published_editions as e using (source, edition)"
        " where f.source = ? and f.measure = ?"
        " and (?::varchar[] is null or list_contains(?::varchar[], f.area_code))"
        " and (?::integer[] is null or list_contains(?::integer[], f.year))"
        f" qualify row_number() over (partition by f.area_code, f.year {_PREFERRED}) = 1"
        " order by f.area_code, f.year",
        [source, measure, area_codes, area_codes, years, years],
    )
    return [PublishedFigure(*row) for row in rows]


def population(
    connection: duckdb.DuckDBPyConnection, area_code: str, year: int, age_group: str = "0-17"
) -> float | None:
    """The mid-year population estimate of an area, or None if not published or not available."""
    rows = fetch(
        connection,
        "select p.value from populations as p join published_editions as e using (source, edition)"
        f" where p.area_code = ? and p.year = ? and p.age_group = ? {_PREFERRED} limit 1",
        [area_code, year, age_group],
    )
    return float(rows[0][0]) if rows and rows[0][0] is not None else None


def neighbours(connection: duckdb.DuckDBPyConnection, area_code: str, model: str) -> list[str]:
    """The ONS codes of an area's statistical neighbours in a model ('2021', '2025'), by rank."""
    rows = fetch(
        connection,
        "select neighbour_code from statistical_neighbours where area_code = ? and model = ?"
        " order by rank",
        [area_code, model],
    )
    return [code for (code,) in rows]


def neighbour_models(connection: duckdb.DuckDBPyConnection) -> list[str]:
    """The statistical-neighbour models in the store, oldest first."""
    rows = fetch(connection, "select distinct model from statistical_neighbours order by model", [])
    return [model for (model,) in rows]


def published_measure(
    connection: duckdb.DuckDBPyConnection, source: str, measure: str
) -> dict[str, Any] | None:
    """The published description of a measure (title, unit, polarity, ...), if imported."""
    cursor = connection.cursor()
    try:
        cursor.execute(
            "select m.measure, m.title, m.description, m.unit, m.polarity, m.year_type,"
            " m.methodology, m.link, m.edition"
            " from published_measures as m join published_editions as e using (source, edition)"
            f" where m.source = ? and m.measure = ? {_PREFERRED} limit 1",
            [source, measure],
        )
        names = [column[0] for column in cursor.description or []]
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return dict(zip(names, rows[0], strict=True)) if rows else None


def published_sources(connection: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every imported file: source, edition, family, file_name, sha256, rows, years, imported_at."""
    cursor = connection.cursor()
    try:
        cursor.execute(
            "select source, edition, family, file_name, sha256, rows, first_year, last_year,"
            " imported_at from published_editions order by source, family, file_name, imported_at"
        )
        names = [column[0] for column in cursor.description or []]
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return [dict(zip(names, row, strict=True)) for row in rows]


def population_rows(
    connection: duckdb.DuckDBPyConnection, area_codes: list[str], age_group: str = "0-17"
) -> list[tuple[str, int, float | None, str, str, str]]:
    """Population estimates ``(area, year, value, status, source, edition)`` of the areas given,
    from the preferred edition of each."""
    return [
        (area, year, value, status, source, edition)
        for area, year, value, status, source, edition in fetch(
            connection,
            "select p.area_code, p.year, p.value, p.status, p.source, p.edition"
            " from populations as p join published_editions as e using (source, edition)"
            " where list_contains(?::varchar[], p.area_code) and p.age_group = ?"
            f" qualify row_number() over (partition by p.area_code, p.year {_PREFERRED}) = 1"
            " order by p.area_code, p.year",
            [area_codes, age_group],
        )
    ]


# The (source, measure) pairs asked for, as a table: two lists of the same length, unnested.
_WANTED = "(select unnest(?::varchar[]) as source, unnest(?::varchar[]) as measure)"


def _wanted(measures: Sequence[tuple[str, str]]) -> list[list[str]]:
    return [[source for source, _ in measures], [measure for _, measure in measures]]


def figures_of(
    connection: duckdb.DuckDBPyConnection, measures: Sequence[tuple[str, str]]
) -> list[tuple[str, str, str, str, int, float | None, str]]:
    """Every published figure of the ``(source, measure)`` pairs given, from the preferred edition
    of each: rows ``(source, measure, area_code, area_level, year, value, status)``."""
    if not measures:
        return []
    return fetch(
        connection,
        "select f.source, f.measure, f.area_code, f.area_level, f.year, f.value, f.status"
        " from published_figures as f join published_editions as e using (source, edition)"
        f" semi join {_WANTED} as w on f.source = w.source and f.measure = w.measure"
        " qualify row_number() over"
        f" (partition by f.source, f.measure, f.area_code, f.year {_PREFERRED}) = 1",
        _wanted(measures),
    )


def populations_of(
    connection: duckdb.DuckDBPyConnection, age_groups: Sequence[str]
) -> list[tuple[str, int, str, float | None]]:
    """Every population estimate of the age groups given, from the preferred edition of each:
    rows ``(area_code, year, age_group, value)``, the value None when not published."""
    if not age_groups:
        return []
    return fetch(
        connection,
        "select p.area_code, p.year, p.age_group, p.value"
        " from populations as p join published_editions as e using (source, edition)"
        " where list_contains(?::varchar[], p.age_group)"
        " qualify row_number() over"
        f" (partition by p.area_code, p.year, p.age_group {_PREFERRED}) = 1",
        [list(age_groups)],
    )


def neighbour_groups(connection: duckdb.DuckDBPyConnection) -> dict[str, dict[str, list[str]]]:
    """Every statistical-neighbour model: ``{model: {area_code: [neighbour codes by rank]}}``."""
    groups: dict[str, dict[str, list[str]]] = {}
    for model, area, neighbour in fetch(
        connection,
        "select model, area_code, neighbour_code from statistical_neighbours"
        " order by model, area_code, rank",
        [],
    ):
        groups.setdefault(model, {}).setdefault(area, []).append(neighbour)
    return groups


def measures_of(
    connection: duckdb.DuckDBPyConnection, measures: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """The published descriptions of the ``(source, measure)`` pairs given that were imported,
    each as :func:`published_measure` gives it."""
    if not measures:
        return {}
    cursor = connection.cursor()
    try:
        cursor.execute(
            "select m.source, m.measure, m.title, m.description, m.unit, m.polarity, m.year_type,"
            " m.methodology, m.link, m.edition"
            " from published_measures as m join published_editions as e using (source, edition)"
            f" semi join {_WANTED} as w on m.source = w.source and m.measure = w.measure"
            f" qualify row_number() over (partition by m.source, m.measure {_PREFERRED}) = 1",
            _wanted(measures),
        )
        names = [column[0] for column in cursor.description or []]
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return {(row[0], row[1]): dict(zip(names[1:], row[1:], strict=True)) for row in rows}
