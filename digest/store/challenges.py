"""The challenge log in the DuckDB store: challenges raised to an agency, and what became of each.

Nothing is ever changed or removed. A challenge is a row; its answer, and the chair closing or
escalating it, are events added after it, and its state is its latest event's (see migration
0009). Every change is written in one transaction with its audit event, which records what was
done and to which challenge, never the words written.

Who may do what (the chair and members raise, the owning agency's data lead answers, the chair
closes or escalates) is the app's to check; this module checks what is written and the order of
the steps.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal

import duckdb

from digest.domain.periods import Period
from digest.store import audit
from digest.store.database import StoreError, fetch, transaction, utc_now
from digest.validate.privacy import child_level_kind

#: The longest text a challenge, an answer or a note may be, in characters.
MAX_TEXT = 2000
#: How far ahead a response may be made due.
LONGEST_DUE = timedelta(days=366)

State = Literal["open", "answered", "closed", "escalated"]
EventKind = Literal["answered", "closed", "escalated"]

#: The states from which each step may be taken.
_ALLOWED_FROM: dict[EventKind, tuple[State, ...]] = {
    "answered": ("open", "escalated"),
    "closed": ("answered",),
    "escalated": ("open", "answered"),
}
_REFUSED_FROM: dict[EventKind, str] = {
    "answered": "Only an open or escalated challenge can be answered",
    "closed": "Only an answered challenge can be closed",
    "escalated": "Only an open or answered challenge can be escalated",
}
_ACTIONS: dict[EventKind, str] = {
    "answered": "challenge.answer",
    "closed": "challenge.close",
    "escalated": "challenge.escalate",
}
_COLUMNS = "id, area, period, indicator, agency, asked, raised_by, raised_at, due"


class ChallengeError(StoreError):
    """A challenge, answer or note that was refused; the message says why in plain words and
    never repeats what was written."""


@dataclass(frozen=True)
class ChallengeEvent:
    """One step after a challenge was raised: its answer, or the chair closing or escalating it."""

    kind: EventKind
    text: str
    made_by: str
    made_at: datetime  # UTC


@dataclass(frozen=True)
class Challenge:
    """A challenge raised to an agency about one flagged indicator of one quarter, with every
    step taken since, oldest first."""

    id: int
    area: str
    period: Period
    indicator: str  # the indicator's id
    agency: str  # the owning agency's code
    asked: str
    raised_by: str
    raised_at: datetime  # UTC
    due: date
    events: tuple[ChallengeEvent, ...] = ()

    @property
    def state(self) -> State:
        """``open`` until answered; then the latest step's: answered, closed or escalated."""
        return self.events[-1].kind if self.events else "open"

    def latest(self, *kinds: EventKind) -> ChallengeEvent | None:
        """The latest step of one of ``kinds``, if any was taken."""
        return next((e for e in reversed(self.events) if e.kind in kinds), None)


def checked_text(text: object, what: str, *, required: bool = True) -> str:
    """``text`` as it will be stored (trimmed, with plain line ends), or :class:`ChallengeError`
    saying why it cannot be: not text, empty when ``required``, longer than :data:`MAX_TEXT`,
    holding control characters, or looking like a child's details (as explanations are checked)."""
    if not isinstance(text, str):
        raise ChallengeError(f"Write {what} as text.")
    cleaned = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if required and not cleaned:
        raise ChallengeError(f"Write {what}: it cannot be empty.")
    if len(cleaned) > MAX_TEXT:
        raise ChallengeError(
            f"Shorten {what} to {MAX_TEXT:,} characters or fewer (it has {len(cleaned):,})."
        )
    if any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in cleaned):
        raise ChallengeError(f"Write {what} as plain text, without control characters.")
    kind = child_level_kind(cleaned, free_text=True)
    if kind is not None:
        raise ChallengeError(
            f"{what.capitalize()} seems to hold {kind}. The challenge log is about figures, never "
            "about a child: take out anything that could identify one."
        )
    return cleaned


def checked_due(due: object, today: date) -> date:
    """The due date if it is a date from ``today`` to a year ahead; else :class:`ChallengeError`."""
    if not isinstance(due, date) or isinstance(due, datetime):
        raise ChallengeError("Give the date the answer is due.")
    if due < today:
        raise ChallengeError("The answer cannot be due before today: choose a later date.")
    if due > today + LONGEST_DUE:
        raise ChallengeError("Choose a due date within a year from today.")
    return due


class ChallengesStore:
    """Reading and adding to the challenge log; safe to share between threads (a cursor per
    call)."""

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self._connection = connection

    def add(
        self,
        *,
        area: str,
        period: Period,
        indicator: str,
        agency: str,
        asked: object,
        due: object,
        raised_by: str,
        today: date,
    ) -> Challenge:
        """Raise a challenge, with its audit event, in one transaction. What is asked and the
        due date are checked first (:func:`checked_text`, :func:`checked_due`); anything
        refused raises :class:`ChallengeError` and stores nothing."""
        text = checked_text(asked, "what is asked")
        when = checked_due(due, today)
        now = utc_now()
        with transaction(self._connection) as cursor:
            row = cursor.execute(
                "insert into challenges (area, period, period_index, indicator, agency, asked,"
                " raised_by, raised_at, due) values (?, ?, ?, ?, ?, ?, ?, ?, ?) returning id",
                [area, str(period), period.index, indicator, agency, text, raised_by, now, when],
            ).fetchone()
            assert row is not None
            audit.record(
                cursor,
                raised_by,
                "challenge.raise",
                "done",
                agency=agency,
                area=area,
                period=period,
                detail={"challenge": row[0], "indicator": indicator, "due": when.isoformat()},
            )
        return Challenge(row[0], area, period, indicator, agency, text, raised_by, now, when)

    def answer(self, challenge_id: int, text: object, by: str) -> Challenge:
        """The owning agency's answer to an open or escalated challenge."""
        return self._step(challenge_id, "answered", checked_text(text, "the answer"), by)

    def close(self, challenge_id: int, note: object, by: str) -> Challenge:
        """The chair accepts the answer to an answered challenge and closes it (the note may be
        empty)."""
        return self._step(
            challenge_id, "closed", checked_text(note, "the note", required=False), by
        )

    def escalate(self, challenge_id: int, note: object, by: str) -> Challenge:
        """The chair escalates an open or answered challenge, saying why; the agency may answer
        it again."""
        return self._step(challenge_id, "escalated", checked_text(note, "why it is escalated"), by)

    def _step(self, challenge_id: int, kind: EventKind, text: str, by: str) -> Challenge:
        try:
            with transaction(self._connection) as cursor:
                found = self._read(cursor, "where c.id = ?", [challenge_id])
                if not found:
                    raise ChallengeError("There is no such challenge.")
                challenge = found[0]
                if challenge.state not in _ALLOWED_FROM[kind]:
                    raise ChallengeError(
                        f"{_REFUSED_FROM[kind]}: challenge {challenge.id} is {challenge.state}."
                    )
                now = utc_now()
                cursor.execute(
                    "insert into challenge_events values (?, ?, ?, ?, ?, ?)",
                    [challenge.id, len(challenge.events) + 1, kind, text, by, now],
                )
                audit.record(
                    cursor,
                    by,
                    _ACTIONS[kind],
                    "done",
                    agency=challenge.agency,
                    area=challenge.area,
                    period=challenge.period,
                    detail={"challenge": challenge.id, "indicator": challenge.indicator},
                )
        except (duckdb.TransactionException, duckdb.ConstraintException):
            raise ChallengeError(
                "Someone else has just changed this challenge: look at it again."
            ) from None
        return replace(challenge, events=(*challenge.events, ChallengeEvent(kind, text, by, now)))

    def get(self, challenge_id: int) -> Challenge | None:
        """One challenge with its steps, if there is such a challenge."""
        cursor = self._connection.cursor()
        try:
            found = self._read(cursor, "where c.id = ?", [challenge_id])
        finally:
            cursor.close()
        return found[0] if found else None

    def challenges(self, area: str, period: Period | None = None) -> list[Challenge]:
        """The challenges of an area (of one quarter, if given), newest quarter first, then in
        the order they were raised. A database from before the challenge log has none."""
        if not fetch(
            self._connection,
            "select 1 from duckdb_tables() where table_name = 'challenge_events'",
        ):
            return []  # read-only, never brought up to date: nothing can have been raised
        cursor = self._connection.cursor()
        try:
            return self._read(
                cursor,
                "where c.area = ? and (? is null or c.period = ?)",
                [area, *[str(period) if period else None] * 2],
            )
        finally:
            cursor.close()

    @staticmethod
    def _read(
        cursor: duckdb.DuckDBPyConnection, where: str, parameters: list[Any]
    ) -> list[Challenge]:
        rows = cursor.execute(
            f"select {', '.join('c.' + c for c in _COLUMNS.split(', '))},"
            " coalesce((select list((e.kind, e.text, e.made_by, e.made_at) order by e.step)"
            "  from challenge_events as e where e.challenge_id = c.id), [])"
            f" from challenges as c {where} order by c.period_index desc, c.id",
            parameters,
        ).fetchall()
        return [
            Challenge(
                id=row[0],
                area=row[1],
                period=Period.parse(row[2]),
                indicator=row[3],
                agency=row[4],
                asked=row[5],
                raised_by=row[6],
                raised_at=row[7],
                due=row[8],
                events=tuple(ChallengeEvent(*_event(e)) for e in row[9]),
            )
            for row in rows
        ]


def _event(value: Any) -> tuple[Any, ...]:
    """An event as DuckDB returns an unnamed struct: a dict of its fields, in order."""
    return tuple(value.values()) if isinstance(value, dict) else tuple(value)
