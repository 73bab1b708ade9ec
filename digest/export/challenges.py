"""The challenge log as a spreadsheet: every cell a number or plain text, never a formula or a
link, whatever was written in a challenge or its answer."""

from __future__ import annotations

from collections.abc import Sequence

from digest.domain.areas import Area
from digest.domain.timestamps import uk_time
from digest.export.xlsx import Sheet, workbook
from digest.store.database import utc_now
from digest.views.challenges import ChallengeEntry, long_date

HEADINGS = (
    "Challenge",
    "Quarter",
    "Indicator",
    "Owning agency",
    "What is asked",
    "Raised by",
    "Raised on",
    "Response due",
    "State",
    "Answer",
    "Answered by",
    "Answered on",
    "Outcome",
    "Chair's note",
    "Decided by",
    "Decided on",
)


def challenge_log_workbook(
    area: Area, entries: Sequence[ChallengeEntry], chosen: str | None = None
) -> bytes:
    """The challenges of ``area`` as an .xlsx file; ``chosen`` says which were chosen when not
    all (``Police only``), so a short log is not misread."""
    rows = [
        (
            e.id,
            str(e.period),
            e.indicator_title,
            e.agency_name,
            e.asked,
            e.raised_by,
            long_date(e.raised_on),
            long_date(e.due),
            e.state,
            e.answer or "",
            e.answered_by or "",
            long_date(e.answered_on) if e.answered_on else "",
            e.outcome or "",
            e.outcome_note or "",
            e.outcome_by or "",
            long_date(e.outcome_on) if e.outcome_on else "",
        )
        for e in entries
    ]
    overdue = sum(1 for e in entries if e.overdue)
    sheet = Sheet(
        name="Challenge log",
        title=f"Challenge log: {area.name}",
        notes=(
            "OFFICIAL-SENSITIVE: for the PQA sub-group.",
            f"Made by PQA Digest on {uk_time(utc_now())} (UK time) from the log as it then stood.",
            (f"Chosen: {chosen}. " if chosen else "")
            + (
                f"{len(rows)} challenge{'s' * (len(rows) != 1)}, {overdue} overdue."
                if rows
                else f"No challenge{' of those chosen' if chosen else ''} has been raised."
            ),
        ),
        headings=HEADINGS,
        rows=rows,
        widths=(11, 12, 36, 24, 50, 24, 16, 16, 16, 50, 24, 16, 12, 40, 24, 16),
    )
    return workbook([sheet])
