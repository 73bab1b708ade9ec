"""Measure totals over windows of quarters, pooled over groups of areas, computed in DuckDB.

The indicator engine asks for many (measure, window) totals for many scopes at once. One query
rolls every area's current figures over the three windows (the quarter, the four quarters ending
with it, the financial year to date) in a single pass, picks the totals asked for, and sums them
over each scope's areas, saying whether every figure that went in was there and a number. The
engine never sees a figure it should not add.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb


@dataclass(frozen=True)
class Request:
    """A measure over the quarters ``first``..``last`` (period indexes), under a caller's key.

    ``first`` is ``last`` (one quarter), ``last - 3`` (12 months) or the financial year's first
    quarter (year to date).
    """

    key: int
    code: str
    first: int
    last: int


def pooled_totals(
    connection: duckdb.DuckDBPyConnection,
    requests: list[Request],
    scopes: list[tuple[str, ...]],
) -> dict[str, Any]:
    """Every request summed over every scope's areas, as columns (numpy arrays).

    Columns: ``key``, ``scope`` (the position in ``scopes``), ``value`` (masked where
    incomplete) and ``gap`` (the first area, in code order, whose figures were missing or a
    status; masked where complete).
    """
    members = [(position, area) for position, areas in enumerate(scopes) for area in areas]
    codes = sorted({r.code for r in requests})
    areas = sorted({area for _, area in members})
    cursor = connection.cursor()
    try:
        return cursor.execute(
            """
            with figures as (
                select area, code, period_index, value, status = 'ok' as ok
                from current_figures
                where list_contains(?::varchar[], code) and list_contains(?::varchar[], area)
            ),
            rolled as (
                select
                    area, code, period_index as last,
                    value as one, ok as one_ok,
                    sum(value) over twelve as twelve, count(*) filter (where ok) over twelve
                        as twelve_ok,
                    sum(value) over ytd as ytd, count(*) filter (where ok) over ytd as ytd_ok
                from figures
                window
                    twelve as (partition by area, code order by period_index
                               range between 3 preceding and current row),
                    ytd as (partition by area, code, period_index // 4 order by period_index
                            rows between unbounded preceding and current row)
            ),
            wanted as (
                select unnest(?::integer[]) as key, unnest(?::varchar[]) as code,
                       unnest(?::integer[]) as first, unnest(?::integer[]) as last
            ),
            scope as (
                select unnest(?::integer[]) as scope, unnest(?::varchar[]) as area
            ),
            per_area as (
                select
                    w.key, s.scope, s.area,
                    case when w.first = w.last then r.one
                         when w.last - w.first = 3 then r.twelve
                         else r.ytd end as value,
                    coalesce(case when w.first = w.last then r.one_ok
                                  when w.last - w.first = 3 then r.twelve_ok = 4
                                  else r.ytd_ok = w.last - w.first + 1 end, false) as complete
                from wanted as w
                cross join scope as s
                left join rolled as r on r.code = w.code and r.area = s.area and r.last = w.last
            )
            select key, scope,
                   case when bool_and(complete) then coalesce(sum(value), 0) end as value,
                   min(area) filter (where not complete) as gap
            from per_area
            group by key, scope
            order by key, scope
            """,
            [
                codes,
                areas,
                [r.key for r in requests],
                [r.code for r in requests],
                [r.first for r in requests],
                [r.last for r in requests],
                [p for p, _ in members],
                [a for _, a in members],
            ],
        ).fetchnumpy()
    finally:
        cursor.close()
