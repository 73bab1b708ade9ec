"""The challenge log as plain data: what the app's Challenges page, the exception report, the
export and the meeting pack show.

:func:`challenge_log` is the one interface to the log for everything that shows it; its entries
(:class:`ChallengeEntry`) are stable: fields may be added, never renamed or removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from digest.domain.periods import Period
from digest.domain.timestamps import UK
from digest.store.challenges import Challenge, ChallengeEvent, ChallengesStore, State
from digest.views.exceptions import Flagged, exceptions
from digest.views.sources import Sources

#: Each state in words, as the log shows it (never by colour alone).
STATE_WORDS: dict[State, str] = {
    "open": "Open",
    "answered": "Answered",
    "closed": "Closed",
    "escalated": "Escalated",
}
#: How long an agency has to answer, unless the one raising the challenge says otherwise.
ANSWER_WEEKS = 4


@dataclass(frozen=True)
class ChallengeEntry:
    """One challenge of the log, ready to show: every date a calendar date in UK time, every
    text exactly as written (plain text: to be shown as text, never as HTML or a link)."""

    id: int
    indicator: str  # the indicator's id
    indicator_title: str
    agency: str  # the owning agency's code
    agency_name: str
    period: Period  # the quarter the flag was raised for
    asked: str
    raised_by: str
    raised_on: date
    due: date
    status: State  # open, answered, closed or escalated
    state: str  # the state in words: "Open", "Answered", …, with ", overdue" when it is
    answer: str | None  # the agency's latest answer, if it has answered
    answered_by: str | None
    answered_on: date | None
    outcome: str | None  # "Closed" or "Escalated": the chair's latest decision, if any
    outcome_note: str | None  # what the chair said with it ("" when nothing)
    outcome_by: str | None
    outcome_on: date | None
    overdue: bool  # past its due date and not closed

    @property
    def closed(self) -> bool:
        """Whether the chair has accepted the answer and closed the challenge."""
        return self.status == "closed"


def long_date(day: date) -> str:
    """``2 February 2026``."""
    return f"{day.day} {day:%B %Y}"


def uk_day(moment: datetime) -> date:
    """The calendar day in the UK of a stored UTC timestamp."""
    return moment.replace(tzinfo=UTC).astimezone(UK).date()


def default_due(today: date) -> date:
    """When an answer is due unless the one raising the challenge says otherwise: four weeks on."""
    return today + timedelta(weeks=ANSWER_WEEKS)


def challenge_log(
    sources: Sources, area: str, *, period: Period | None = None, today: date | None = None
) -> list[ChallengeEntry]:
    """Every challenge raised for ``area`` (only those about ``period``'s flags, if given),
    newest quarter first and then in the order raised; ``overdue`` as of ``today`` (default:
    the sources' today)."""
    day = today or sources.today()
    titles = {i.id: i.title for i in sources.indicators.values()}
    agencies = {a.code: a.name for a in sources.dataset.agencies}
    return [
        _entry(c, titles, agencies, day)
        for c in ChallengesStore(sources.store.connection).challenges(area, period)
    ]


def overdue_challenges(
    sources: Sources, area: str, *, today: date | None = None
) -> list[ChallengeEntry]:
    """The challenges of ``area``, of any quarter, past their due date and not closed."""
    return [e for e in challenge_log(sources, area, today=today) if e.overdue]


def flag_to_challenge(
    sources: Sources, area: str, period: Period, indicator: object, kind: object, agency: object
) -> Flagged | None:
    """The flag of the exception report for ``area`` and ``period`` that a challenge may be
    raised from: the indicator, the kind of flag and the owning agency must all be those of a
    flag the report shows (whatever a browser sends), else ``None``."""
    return next(
        (
            f
            for f in exceptions(sources, area, period)
            if f.indicator.id == indicator and f.flag.kind == kind and f.indicator.agency == agency
        ),
        None,
    )


def _entry(
    challenge: Challenge, titles: dict[str, str], agencies: dict[str, str], today: date
) -> ChallengeEntry:
    answered = challenge.latest("answered")
    decided = challenge.latest("closed", "escalated")
    status = challenge.state
    overdue = status != "closed" and today > challenge.due
    return ChallengeEntry(
        id=challenge.id,
        indicator=challenge.indicator,
        indicator_title=titles.get(challenge.indicator, challenge.indicator),
        agency=challenge.agency,
        agency_name=agencies.get(challenge.agency, challenge.agency),
        period=challenge.period,
        asked=challenge.asked,
        raised_by=challenge.raised_by,
        raised_on=uk_day(challenge.raised_at),
        due=challenge.due,
        status=status,
        state=STATE_WORDS[status] + (", overdue" if overdue else ""),
        answer=answered.text if answered else None,
        answered_by=answered.made_by if answered else None,
        answered_on=_on(answered),
        outcome=STATE_WORDS[decided.kind] if decided else None,
        outcome_note=decided.text if decided else None,
        outcome_by=decided.made_by if decided else None,
        outcome_on=_on(decided),
        overdue=overdue,
    )


def _on(event: ChallengeEvent | None) -> date | None:
    return uk_day(event.made_at) if event else None
