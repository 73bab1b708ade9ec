"""Reading current figures and populations in bulk, for the indicator engine."""

from __future__ import annotations

from typing import Any

import duckdb

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
    cursor = connection.cursor()
    try:
        return cursor.execute(
            _CURRENT.format(status="status"), [codes, areas, first_index, last_index]
        ).fetchall()
    finally:
        cursor.close()


def figure_columns(
    connection: duckdb.DuckDBPyConnection,
    codes: list[str],
    areas: list[str],
    first_index: int,
    last_index: int,
) -> dict[str, Any]:
    """The same figures as numpy columns: ``area``, ``code``, ``period_index``, ``value``
    (masked when a status) and ``ok`` (true when the figure is a number)."""
    cursor = connection.cursor()
    try:
        return cursor.execute(
            _CURRENT.format(status="status = 'ok' as ok"), [codes, areas, first_index, last_index]
        ).fetchnumpy()
    finally:
        cursor.close()


def areas_with_returns(connection: duckdb.DuckDBPyConnection) -> list[str]:
    """Every area that has at least one stored return."""
    cursor = connection.cursor()
    try:
        return [
            area
            for (area,) in cursor.execute(
                "select distinct area from submissions order by area"
            ).fetchall()
        ]
    finally:
        cursor.close()


def populations(
    connection: duckdb.DuckDBPyConnection, areas: list[str], age_group: str
) -> dict[tuple[str, int], float]:
    """Mid-year population estimates ``{(area, year): value}`` for an age group."""
    cursor = connection.cursor()
    try:
        rows = cursor.execute(
            "select area_code, year, value from populations "
            "where list_contains(?, area_code) and age_group = ? and value is not null",
            [areas, age_group],
        ).fetchall()
    finally:
        cursor.close()
    return {(area, year): value for area, year, value in rows}
