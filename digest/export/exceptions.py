"""The exception report as a spreadsheet, for the chair and the sub-group."""

from __future__ import annotations

from digest.domain.areas import Area
from digest.domain.periods import Period
from digest.domain.timestamps import uk_time
from digest.export.xlsx import Sheet, workbook
from digest.store.database import utc_now
from digest.views.exceptions import LOOK_BACK, Flagged

HEADINGS = (
    "Theme",
    "Indicator",
    "Owning agency",
    "Flag",
    "Why",
    "Since",
    "Quarters running",
    "Value",
    "London",
    "Agency's explanation",
)


def exception_report(
    area: Area, period: Period, flagged: list[Flagged], chosen: str | None = None
) -> bytes:
    """The flagged indicators of ``area`` for ``period`` as an .xlsx file; ``chosen`` says
    which flags were chosen when not all (``Police only``), so an empty report is not misread."""
    rows = [
        (
            f.indicator.theme,
            f.indicator.title,
            f.agency,
            f.kind,
            f.flag.message,
            str(f.since),
            f.quarters if f.quarters < LOOK_BACK else f"{LOOK_BACK} or more",
            f.value,
            f.london,
            f.explanation or "",
        )
        for f in flagged
    ]
    sheet = Sheet(
        name="Exception report",
        title=f"Exception report: {area.name}, {period} ({period.months})",
        notes=(
            "OFFICIAL-SENSITIVE: for the PQA sub-group. Figures are unsuppressed.",
            f"Made by PQA Digest on {uk_time(utc_now())} (UK time) from the returns then accepted.",
            (f"Chosen: {chosen}. " if chosen else "")
            + (
                f"{len(rows)} flag{'s' * (len(rows) != 1)}."
                if rows
                else f"No indicator{' of those chosen' if chosen else ''} is flagged this quarter."
            ),
        ),
        headings=HEADINGS,
        rows=rows,
        widths=(24, 40, 24, 22, 50, 12, 10, 12, 16, 60),
    )
    return workbook([sheet])
