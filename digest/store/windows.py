"""Measure totals over windows of quarters, pooled over groups of areas, computed in DuckDB.

The indicator engine asks for many (measure, window) totals for many scopes at once; one query
sums the current figures over each window and each scope's areas, and says whether every figure
that went in was there and a number. The engine never sees a figure it should not add.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb


@dataclass(frozen=True)
class Request:
    """A measure over the quarters ``first``..``last`` (period indexes), under a caller's key."""

    key: int
    code: str
    first: int
    last: int


@dataclass(frozen=True)
class PooledTotal:
    """A requested total for one scope: the sum over its areas, or the first area with a gap."""

    key: int
    scope: str
    value: float | None
    gap: str | None  # the first area (in code order) whose figures were missing or a status


def pooled_totals(
    connection: duckdb.DuckDBPyConnection,
    requests: list[Request],
    scopes: dict[str, tuple[str, ...]],
) -> list[PooledTotal]:
    """Every request summed over every scope's areas, in one query.

    A snapshot or rolling-12-month measure is requested with ``first == last``.
    """
    if not requests or not scopes:
        return []
    labels = [label for label, areas in scopes.items() for _ in areas]
    members = [area for areas in scopes.values() for area in areas]
    cursor = connection.cursor()
    try:
        rows = cursor.execute(
            """
            with wanted as (
                select unnest(?::integer[]) as key, unnest(?::varchar[]) as code,
                       unnest(?::integer[]) as first, unnest(?::integer[]) as last
            ),
            scope as (
                select unnest(?::varchar[]) as label, unnest(?::varchar[]) as area
            ),
            per_area as (
                select w.key, s.label, s.area, sum(f.value) as value,
                       count(f.value) filter (where f.status = 'ok') = w.last - w.first + 1
                           as complete
                from wanted as w
                cross join scope as s
                left join current_figures as f
                    on f.code = w.code and f.area = s.area
                    and f.period_index between w.first and w.last
                group by w.key, w.first, w.last, s.label, s.area
            )
            select key, label,
                   case when bool_and(complete) then coalesce(sum(value), 0) end as value,
                   min(area) filter (where not complete) as gap
            from per_area
            group by key, label
            """,
            [
                [r.key for r in requests],
                [r.code for r in requests],
                [r.first for r in requests],
                [r.last for r in requests],
                labels,
                members,
            ],
        ).fetchall()
    finally:
        cursor.close()
    return [PooledTotal(key, label, value, gap) for key, label, value, gap in rows]
