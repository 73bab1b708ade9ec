"""Reading current figures, populations and the returns received in bulk, for the indicator
engine and the report."""

from __future__ import annotations

from typing import Any

import duckdb

from digest.store.database import fetch

_CURRENT = (
    "select area, code, period_index, value, {status} from current_figures "
    "where list_contains(?::varchar[], code) and list_contains(?::varchar[], area) "
    "and period_index between ? and ?"
)


def current_figures(
    connection: duckdb.DuckDBPyConnection,
    codes: list[str],
    areas: list[str],
    first_index: int,
    last_index: int,
) -> list[tuple[Any, ...]]:
    """Rows ``(area, code, period_index, value, status)`` of the current versions of returns."""
    return fetch(
        connection, _CURRENT.format(status="status"), [codes, areas, first_index, last_index]
    )


def figure_columns(
    connection: duckdb.DuckDBPyConnection,
    codes: list[str],
    areas: list[str],
    first_index: int,
    last_index: int,
) -> dict[str, Any]:
    """The same figures as numpy columns: ``area``, ``code``, ``period_index``, ``value``
    (masked when a status), ``status`` and ``ok`` (true when the figure is a number)."""
    cursor = connection.cursor()
    try:
        sql = _CURRENT.format(status="status, status = 'ok' as ok")
        return cursor.execute(sql, [codes, areas, first_index, last_index]).fetchnumpy()
    finally:
        cursor.close()


def areas_with_returns(connection: duckdb.DuckDBPyConnection) -> list[str]:
    """Every area that has at least one stored return."""
    return [
        area
        for (area,) in fetch(connection, "select distinct area from submissions order by area", [])
    ]


def populations(
    connection: duckdb.DuckDBPyConnection, areas: list[str], age_group: str
) -> dict[tuple[str, int], float]:
    """Mid-year population estimates ``{(area, year): value}`` for an age group."""
    rows = fetch(
        connection,
        "select area_code, year, value from populations "
        "where list_contains(?, area_code) and age_group = ? and value is not null",
        [areas, age_group],
    )
    return {(area, year): value for area, year, value in rows}


def returns_received(
    connection: duckdb.DuckDBPyConnection, areas: list[str], periods: list[str]
) -> set[tuple[str, str, str]]:
    """``(agency, area, period)`` of every return stored (any version) for the areas and periods
    given, periods written as ``2025-26 Q2``."""
    rows = fetch(
        connection,
        "select distinct agency, area, period from submissions "
        "where list_contains(?::varchar[], area) and list_contains(?::varchar[], period)",
        [areas, periods],
    )
    return {(agency, area, period) for agency, area, period in rows}
