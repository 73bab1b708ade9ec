"""The append-only audit log: writing an event, and reading the log newest first.

An accepted version of a return is its own event (its row in ``submissions``); every other event
(a rejection, a dry run, a repeat upload, a change to an account) is a row of ``audit_events``.
The ``audit_log`` view shows both, in the order they happened.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb

from digest.domain.periods import Period
from digest.store.database import utc_now

#: The columns of the ``audit_log`` view, as the keys of each event :func:`events` returns.
EVENT_KEYS = (
    "happened_at",
    "actor",
    "action",
    "outcome",
    "agency",
    "area",
    "period",
    "submission_id",
    "sha256",
    "ruleset_version",
    "detail",
)


def record(
    cursor: duckdb.DuckDBPyConnection,
    actor: str,
    action: str,
    outcome: str,
    *,
    agency: str | None = None,
    area: str | None = None,
    period: Period | None = None,
    sha256: str | None = None,
    ruleset_version: str | None = None,
    submission_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one event on ``cursor`` (or a connection), in the caller's transaction if one is open.

    ``detail`` is stored as JSON; it must never hold cell values, child data or secrets.
    """
    cursor.execute(
        "insert into audit_events (happened_at, actor, action, outcome, agency, area, period,"
        " submission_id, sha256, ruleset_version, detail)"
        " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            utc_now(),
            actor,
            action,
            outcome,
            agency,
            area,
            str(period) if period else None,
            submission_id,
            sha256,
            ruleset_version,
            json.dumps(detail or {}, sort_keys=True),
        ],
    )


def note(
    connection: duckdb.DuckDBPyConnection, actor: str, action: str, outcome: str, **about: Any
) -> None:
    """Append one event by itself, on a cursor of its own (safe from any of the server's
    threads); ``about`` as for :func:`record`."""
    cursor = connection.cursor()
    try:
        record(cursor, actor, action, outcome, **about)
    finally:
        cursor.close()


def events(connection: duckdb.DuckDBPyConnection, limit: int = 1000) -> list[dict[str, Any]]:
    """The most recent audit events, newest first (an accepted version is its own event)."""
    cursor = connection.cursor()
    try:
        rows = cursor.execute(
            f"select {', '.join(EVENT_KEYS)} from audit_log order by happened_at desc limit ?",
            [limit],
        ).fetchall()
    finally:
        cursor.close()
    return [dict(zip(EVENT_KEYS, row, strict=True)) for row in rows]
