"""Measure totals over windows of quarters, computed in DuckDB for many areas and periods at once.

For each requested (measure, area, window end, first quarter of the window), the sum of the
current figures over the window and whether every quarter was returned with a number. The
indicator engine turns these into indicator values; it never sees a figure it should not add.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb


@dataclass(frozen=True)
class WindowTotal:
    """A measure summed over the quarters ``first``..``last`` (period indexes) for one area."""

    code: str
    area: str
    first: int
    last: int
    value: float | None  # the sum of the figures with a value
    complete: bool  # every quarter returned, none with a status


def window_totals(
    connection: duckdb.DuckDBPyConnection,
    requests: list[tuple[str, int, int]],
    areas: list[str],
) -> list[WindowTotal]:
    """Totals for each ``(code, first, last)`` request and each area, in one query.

    A snapshot or rolling-12-month measure is requested with ``first == last``.
    """
    if not requests or not areas:
        return []
    codes, firsts, lasts = (list(column) for column in zip(*requests, strict=True))
    cursor = connection.cursor()
    try:
        rows = cursor.execute(
            """
            with wanted as (
                select unnest(?::varchar[]) as code, unnest(?::integer[]) as first,
                       unnest(?::integer[]) as last
            ),
            grid as (
                select w.code, w.first, w.last, a.area
                from wanted as w, (select unnest(?::varchar[]) as area) as a
            )
            select g.code, g.area, g.first, g.last,
                   sum(f.value) as total,
                   count(f.value) filter (where f.status = 'ok') = g.last - g.first + 1
                       as complete
            from grid as g
            left join current_figures as f
                on f.code = g.code and f.area = g.area
                and f.period_index between g.first and g.last
            group by g.code, g.area, g.first, g.last
            """,
            [codes, firsts, lasts, areas],
        ).fetchall()
    finally:
        cursor.close()
    return [
        WindowTotal(code, area, first, last, total, bool(complete))
        for code, area, first, last, total, complete in rows
    ]
