"""Submissions, their versions and values, in the DuckDB store.

Nothing is ever overwritten: a corrected return becomes the next version and the one before is
kept, marked superseded. Every change is written in one transaction with its audit event.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import duckdb

from digest.domain.periods import Period
from digest.domain.statuses import Status
from digest.store import audit as audit_trail
from digest.store.database import StoreError, fetch, transaction, utc_now, write_failure
from digest.validate.rules import PreviousReturn, ValidatedReturn

_ATTEMPTS = 3
_SUBMISSION_COLUMNS = (
    "id, agency, area, period, version, status, sha256, file_name, file_size, template_version,"
    " dataset_version, ruleset_version, submitted_by, submitted_at"
)
_ONE_VERSION = (
    "select s.id, s.agency, s.area, s.period, s.version, '{status}' as status, s.sha256,"
    " s.file_name, s.file_size, s.template_version, s.dataset_version, s.ruleset_version,"
    " s.submitted_by, s.submitted_at from submissions as s"
)


#: The submission fields stored exactly as the new submission gives them, in column order.
_STORED_AS_GIVEN = (
    "sha256",
    "file_name",
    "file_size",
    "template_version",
    "dataset_version",
    "ruleset_version",
    "submitted_by",
    "submitted_at",
)


class StoreConflict(StoreError):
    """Another submission for the same return was committed at the same moment."""


@dataclass(frozen=True)
class Submission:
    """One stored version of a return."""

    id: int
    agency: str
    area: str
    period: Period
    version: int
    status: str
    sha256: str
    file_name: str
    file_size: int
    template_version: int
    dataset_version: int
    ruleset_version: str
    submitted_by: str
    submitted_at: datetime  # UTC

    def to_dict(self) -> dict[str, Any]:
        """The submission as a JSON-ready object."""
        return {
            **self.__dict__,
            "period": str(self.period),
            "submitted_at": self.submitted_at.isoformat(timespec="seconds") + "Z",
        }


@dataclass(frozen=True)
class StoredValue:
    """A figure of the current version of a return, with where it came from."""

    code: str
    value: float | None
    status: Status
    sheet: str
    cell: str
    version: int

    def to_dict(self) -> dict[str, Any]:
        """The value as the JSON object ``digest values --json`` prints."""
        number = (
            None
            if self.value is None
            else (int(self.value) if self.value.is_integer() else self.value)
        )
        return {
            "code": self.code,
            "value": number,
            "status": self.status,
            "sheet": self.sheet,
            "cell": self.cell,
            "version": self.version,
        }


@dataclass(frozen=True)
class NewSubmission:
    """A validated return about to be stored, with the facts about its file and submitter."""

    validated: ValidatedReturn
    sha256: str
    file_name: str
    file_size: int
    dataset_version: int
    ruleset_version: str
    submitted_by: str
    explanations: dict[str, str]
    carried_from: dict[str, int] = field(default_factory=dict)  # explanation code → version


@dataclass(frozen=True)
class Explained:
    """A version's queries with what they asked about and how they were answered, so a
    corrected file raising the same query can carry the answer forward."""

    version: int
    queries: frozenset[tuple[str, str | None, str | None]]  # (rule, code, cell)
    values: dict[str, tuple[float | None, Status]]
    explanations: dict[str, str]


@dataclass(frozen=True)
class Latest:
    """The number and file hash of a return's latest stored version."""

    version: int
    sha256: str


@dataclass(frozen=True)
class ReturnContext:
    """What validating and storing a return needs to know of what is already stored."""

    previous: PreviousReturn | None  # the same return's current version a quarter before
    latest: Latest | None  # this return's current version, if one was accepted


def _submission(row: tuple[Any, ...]) -> Submission:
    values = list(row)
    values[3] = Period.parse(values[3])
    return Submission(*values)


class ReturnsStore:
    """Reading and writing returns; safe to share between threads (a cursor per call)."""

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self._connection = connection

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The store's connection, for the engine's and the benchmarks' own queries."""
        return self._connection

    def _query(self, sql: str, parameters: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return fetch(self._connection, sql, parameters)

    def current(self, agency: str, area: str, period: Period) -> Submission | None:
        """The live version of a return, if one was accepted: the latest signed off, or the
        latest if none is (see migration 0006)."""
        rows = self._query(
            _ONE_VERSION.format(status="current")
            + " join live_versions as l using (agency, area, period)"
            " where s.version = l.version and s.agency = ? and s.area = ? and s.period = ?",
            [agency, area, str(period)],
        )
        return _submission(rows[0]) if rows else None

    def latest(self, agency: str, area: str, period: Period) -> Submission | None:
        """The latest version of a return, signed off or not (its status as the versions list
        gives it)."""
        rows = self._query(
            f"select {_SUBMISSION_COLUMNS} from submission_versions"
            " where agency = ? and area = ? and period = ? order by version desc limit 1",
            [agency, area, str(period)],
        )
        return _submission(rows[0]) if rows else None

    def sign_off(self, submission_id: int, signed_by: str) -> Submission:
        """Sign off a version, with its audit event, in one transaction. Only the latest
        version of a return, not yet signed off, can be: anything else raises
        :class:`StoreError` with the reason."""
        try:
            return self._sign_off(submission_id, signed_by)
        except (duckdb.TransactionException, duckdb.ConstraintException):
            raise StoreError("Someone has just signed this version off.") from None

    def _sign_off(self, submission_id: int, signed_by: str) -> Submission:
        with transaction(self._connection) as cursor:
            found = cursor.execute(
                "select s.agency, s.area, s.period, s.version,"
                " s.version = (select max(t.version) from submissions as t"
                "  where t.agency = s.agency and t.area = s.area and t.period = s.period),"
                " exists (select 1 from sign_offs as o where o.submission_id = s.id)"
                " from submissions as s where s.id = ?",
                [submission_id],
            ).fetchone()
            if found is None:
                raise StoreError("There is no such version to sign off.")
            agency, area, period, version, is_latest, signed = found
            if signed:
                raise StoreError(f"Version {version} of the {agency} return is signed off already.")
            if not is_latest:
                raise StoreError(
                    f"Version {version} of the {agency} return has been revised since: sign off "
                    "the latest version."
                )
            cursor.execute(
                "insert into sign_offs values (?, ?, ?)", [submission_id, signed_by, utc_now()]
            )
            audit_trail.record(
                cursor,
                signed_by,
                "sign_off",
                "done",
                agency=agency,
                area=area,
                period=Period.parse(period),
                submission_id=submission_id,
                detail={"version": version},
            )
        signed_off = self.current(agency, area, Period.parse(period))
        assert signed_off is not None and signed_off.id == submission_id
        return signed_off

    def sign_offs(self, area: str, period: Period) -> dict[int, tuple[str, datetime]]:
        """Who signed off which version of the returns of an area's quarter, and when."""
        rows = self._query(
            "select o.submission_id, o.signed_by, o.signed_at from sign_offs as o"
            " join submissions as s on s.id = o.submission_id where s.area = ? and s.period = ?",
            [area, str(period)],
        )
        return {row[0]: (row[1], row[2]) for row in rows}

    def submissions(
        self, *, period: Period | None = None, area: str | None = None, agency: str | None = None
    ) -> list[Submission]:
        """Every stored version, newest period first, then by agency and version."""
        rows = self._query(
            f"select {_SUBMISSION_COLUMNS} from submission_versions "
            "where (? is null or period = ?) and (? is null or area = ?) "
            "and (? is null or agency = ?) "
            "order by period_index desc, area, agency, version",
            [str(period) if period else None] * 2 + [area] * 2 + [agency] * 2,
        )
        return [_submission(row) for row in rows]

    def periods(self, area: str) -> list[Period]:
        """The quarters with at least one stored return for ``area``, newest first."""
        rows = self._query(
            "select distinct period, period_index from submissions where area = ?"
            " order by period_index desc",
            [area],
        )
        return [Period.parse(period) for period, _ in rows]

    def values(self, submission_id: int) -> list[StoredValue]:
        """The figures of one stored version, in the order of the template's rows."""
        rows = self._query(
            "select code, value, status, sheet, cell, version from submission_values "
            "where submission_id = ? order by length(cell), cell",
            [submission_id],
        )
        return [StoredValue(*row) for row in rows]

    def current_values(self, agency: str, area: str, period: Period) -> list[StoredValue]:
        """The figures of the current version of a return (empty when none was accepted)."""
        current = self.current(agency, area, period)
        return [] if current is None else self.values(current.id)

    def explanations(self, submission_id: int) -> dict[str, str]:
        """The explanations given for a version's queries, by measure code (or ``RETURN``)."""
        rows = self._query(
            "select code, text from query_explanations where submission_id = ? order by code",
            [submission_id],
        )
        return dict(rows)

    def carried(self, submission_id: int) -> dict[str, int]:
        """The explanations of a version carried forward from an earlier one: code → version."""
        rows = self._query(
            "select code, carried_from from query_explanations"
            " where submission_id = ? and carried_from is not null order by code",
            [submission_id],
        )
        return dict(rows)

    def explained(self, agency: str, area: str, period: Period) -> Explained | None:
        """The latest version of a return with its queries, figures and explanations."""
        rows = self._query(
            "select s.version,"
            " [(f.rule, f.code, f.cell) for f in s.findings if f.severity = 'query'],"
            " s.figures,"
            " (select map(list(e.code), list(e.text)) from query_explanations as e"
            "  where e.submission_id = s.id)"
            " from submissions as s where s.agency = ? and s.area = ? and s.period = ?"
            " order by s.version desc limit 1",
            [agency, area, str(period)],
        )
        if not rows:
            return None
        version, queries, figures, explanations = rows[0]
        return Explained(
            version=version,
            queries=frozenset(tuple(q) for q in queries),
            values={f["code"]: (f["value"], f["status"]) for f in figures},
            explanations=dict(explanations or {}),
        )

    def findings(self, submission_id: int) -> list[dict[str, Any]]:
        """The queries and notes recorded when a version was accepted."""
        rows = self._query(
            "select severity, rule, sheet, cell, code, message from ("
            " select unnest(findings, recursive := true) from submissions where id = ?)",
            [submission_id],
        )
        keys = ("severity", "rule", "sheet", "cell", "code", "message")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def context(self, agency: str, area: str, period: Period) -> ReturnContext:
        """The latest version of a return and the same return's a quarter before, in one query."""
        before = period.previous()
        rows = self._query(
            "select period, max(version), arg_max(sha256, version),"
            " arg_max(figures, version) filter (where period = ?)"
            " from submissions where agency = ? and area = ? and period in (?, ?)"
            " group by period",
            [str(before), agency, area, str(period), str(before)],
        )
        previous, latest = None, None
        for stored_period, version, sha256, figures in rows:
            if stored_period == str(period):
                latest = Latest(version, sha256)
            else:
                values = {f["code"]: (f["value"], f["status"]) for f in figures}
                previous = PreviousReturn(period=before, version=version, values=values)
        return ReturnContext(previous=previous, latest=latest)

    def audit(
        self,
        actor: str,
        action: str,
        outcome: str,
        *,
        agency: str | None = None,
        area: str | None = None,
        period: Period | None = None,
        sha256: str | None = None,
        ruleset_version: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Append an event that changes nothing else (a rejection, a dry run, a repeat upload)."""
        audit_trail.note(
            self._connection,
            actor,
            action,
            outcome,
            agency=agency,
            area=area,
            period=period,
            sha256=sha256,
            ruleset_version=ruleset_version,
            detail=detail,
        )

    def audit_log(self, limit: int = 1000) -> list[dict[str, Any]]:
        """The most recent audit events, newest first (an accepted version is its own event)."""
        return audit_trail.events(self._connection, limit)

    def record(self, new: NewSubmission, latest: Latest | None) -> tuple[Submission, bool]:
        """Store a validated return as the version after ``latest``, all or nothing.

        ``latest`` is the current version the caller saw (``None``: there was none). Returns the
        stored submission and whether it is new: when the current version has the same file hash
        nothing is written and that version is returned. The version's acceptance event in the
        audit log is its own row, so the two cannot be apart. If someone else stored a version
        in the meantime, the unique version number catches it and the next number is tried; if
        the store cannot settle the race in a few attempts it raises :class:`StoreConflict`.
        """
        validated = new.validated
        assert validated.agency and validated.area and validated.period
        key = (validated.agency, validated.area, validated.period)
        for attempt in range(_ATTEMPTS):
            if latest is not None and latest.sha256 == new.sha256:
                same = self.latest(*key)
                assert same is not None
                return same, False
            try:
                return self._insert(new, latest.version + 1 if latest else 1), True
            except (duckdb.TransactionException, duckdb.ConstraintException) as error:
                if (failure := write_failure(error)) is not None:  # a full disk, not a race
                    raise failure from None
                time.sleep(0.05 * attempt)
                latest = self.context(*key).latest
        raise StoreConflict(
            "Someone else has just submitted this return. Refresh to see their version, then "
            "submit yours again if it is still needed."
        )

    def _insert(self, new: NewSubmission, version: int) -> Submission:
        if not new.explanations:  # one statement is its own transaction, and the quickest
            cursor = self._connection.cursor()
            try:
                return self._insert_submission(cursor, new, version)
            finally:
                cursor.close()
        with transaction(self._connection) as cursor:
            stored = self._insert_submission(cursor, new, version)
            self._insert_explanations(cursor, stored, new)
        return stored

    @staticmethod
    def _insert_submission(
        cursor: duckdb.DuckDBPyConnection, new: NewSubmission, version: int
    ) -> Submission:
        validated = new.validated
        assert validated.agency and validated.area and validated.period
        assert validated.template_version is not None
        stored = Submission(
            0,
            validated.agency,
            validated.area,
            validated.period,
            version,
            "current",
            new.sha256,
            new.file_name,
            new.file_size,
            validated.template_version,
            new.dataset_version,
            new.ruleset_version,
            new.submitted_by,
            utc_now(),
        )
        row = cursor.execute(
            "insert into submissions (agency, area, period, period_index, version, sha256,"
            " file_name, file_size, template_version, dataset_version, ruleset_version,"
            " submitted_by, submitted_at, figures, findings)"
            " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning id",
            [
                stored.agency,
                stored.area,
                str(stored.period),
                stored.period.index,
                version,
                *(getattr(stored, name) for name in _STORED_AS_GIVEN),
                [
                    {
                        "code": v.code,
                        "value": v.value,
                        "status": v.status,
                        "sheet": v.sheet,
                        "cell": v.cell,
                    }
                    for v in validated.values
                ],
                [f.to_dict() for f in validated.findings],
            ],
        ).fetchone()
        assert row is not None
        return replace(stored, id=row[0])

    @staticmethod
    def _insert_explanations(
        cursor: duckdb.DuckDBPyConnection, submission: Submission, new: NewSubmission
    ) -> None:
        _insert_rows(
            cursor,
            "query_explanations",
            [
                (
                    submission.id,
                    code,
                    text,
                    new.submitted_by,
                    submission.submitted_at,
                    new.carried_from.get(code),
                )
                for code, text in sorted(new.explanations.items())
            ],
        )


def _insert_rows(
    cursor: duckdb.DuckDBPyConnection, table: str, rows: list[tuple[Any, ...]]
) -> None:
    """One multi-row insert: far quicker in DuckDB than ``executemany``."""
    if not rows:
        return
    marks = "(" + ", ".join("?" * len(rows[0])) + ")"
    cursor.execute(
        f"insert into {table} values " + ", ".join([marks] * len(rows)),
        [item for row in rows for item in row],
    )
