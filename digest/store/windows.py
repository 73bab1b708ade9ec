"""Current figures in bulk, as columns, for the indicator engine's window arithmetic."""

from __future__ import annotations

from typing import Any

import duckdb


def figure_columns(
    connection: duckdb.DuckDBPyConnection,
    codes: list[str],
    areas: list[str],
    first_index: int,
    last_index: int,
) -> dict[str, Any]:
    """The current figures of these measures and areas over a range of quarters, as numpy
    columns: ``area``, ``code``, ``period_index``, ``value`` (masked when a status) and
    ``ok`` (true when the figure is a number)."""
    cursor = connection.cursor()
    try:
        return cursor.execute(
            "select area, code, period_index, value, status = 'ok' as ok from current_figures "
            "where list_contains(?::varchar[], code) and list_contains(?::varchar[], area) "
            "and period_index between ? and ?",
            [codes, areas, first_index, last_index],
        ).fetchnumpy()
    finally:
        cursor.close()
