"""Financial-year quarters, the period every return and indicator is counted over.

A period is written ``2025-26 Q2``: the second quarter (July to September 2025) of the financial
year that runs from 1 April 2025 to 31 March 2026.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_INPUT = re.compile(
    r"^\s*(?P<start>\d{4})\s*[-/]\s*(?P<end>\d{2})\s*(?:Q|q)\s*(?P<quarter>[1-4])\s*$"
)

_QUARTER_MONTHS = {
    1: ("April", "June"),
    2: ("July", "September"),
    3: ("October", "December"),
    4: ("January", "March"),
}


class PeriodError(ValueError):
    """A period written in a form we do not accept; the message shows the expected form."""


@dataclass(frozen=True, order=True)
class Period:
    """One quarter of a financial year: ``Period(2025, 2)`` is ``2025-26 Q2`` (Jul-Sep 2025)."""

    year: int  # the calendar year in which the financial year starts
    quarter: int

    def __post_init__(self) -> None:
        if not 1 <= self.quarter <= 4:
            raise PeriodError(f"A quarter is 1 to 4, not {self.quarter}.")
        if not 1990 <= self.year <= 2100:
            raise PeriodError(f"{self.year} is not a plausible financial year.")

    @classmethod
    def parse(cls, text: str) -> Period:
        """Read ``2025-26 Q2``; ``2025-26Q2`` and ``2025/26 Q2`` are accepted too."""
        if not isinstance(text, str):
            raise PeriodError(f"A period is text such as '2025-26 Q2', not {type(text).__name__}.")
        match = _INPUT.match(text)
        if match is None:
            raise PeriodError(
                f"'{text[:40]}' is not a period. Write the financial year and quarter, "
                "for example '2025-26 Q2' (July to September 2025)."
            )
        start, end = int(match["start"]), int(match["end"])
        if (start + 1) % 100 != end:
            raise PeriodError(
                f"'{text[:40]}' is not a financial year: {start} is followed by "
                f"{(start + 1) % 100:02d}. Write it as '{start}-{(start + 1) % 100:02d} "
                f"Q{match['quarter']}'."
            )
        return cls(start, int(match["quarter"]))

    @classmethod
    def containing(cls, day: date) -> Period:
        """The quarter that contains a calendar day."""
        if day.month >= 4:
            return cls(day.year, (day.month - 4) // 3 + 1)
        return cls(day.year - 1, 4)

    def __str__(self) -> str:
        return f"{self.financial_year} Q{self.quarter}"

    @property
    def financial_year(self) -> str:
        """The financial year, written ``2025-26``."""
        return f"{self.year}-{(self.year + 1) % 100:02d}"

    @property
    def start(self) -> date:
        """The first day of the quarter."""
        month = 3 * self.quarter + 1
        return date(self.year + 1, 1, 1) if month > 12 else date(self.year, month, 1)

    @property
    def end(self) -> date:
        """The last day of the quarter (a snapshot measure is counted on this day)."""
        following = self.next().start
        return date.fromordinal(following.toordinal() - 1)

    @property
    def months(self) -> str:
        """The quarter's months in words, such as ``July to September 2025``."""
        first, last = _QUARTER_MONTHS[self.quarter]
        return f"{first} to {last} {self.end.year}"

    @property
    def index(self) -> int:
        """Quarters since the start of year 0: consecutive quarters have consecutive indexes."""
        return self.year * 4 + self.quarter - 1

    def next(self) -> Period:
        """The following quarter."""
        return (
            Period(self.year + 1, 1) if self.quarter == 4 else Period(self.year, self.quarter + 1)
        )

    def previous(self) -> Period:
        """The preceding quarter."""
        return (
            Period(self.year - 1, 4) if self.quarter == 1 else Period(self.year, self.quarter - 1)
        )

    def shift(self, quarters: int) -> Period:
        """The quarter ``quarters`` later (or earlier, when negative)."""
        index = self.index + quarters
        return Period(index // 4, index % 4 + 1)

    def __sub__(self, other: Period) -> int:
        """How many quarters lie between two periods."""
        return self.index - other.index


def quarters(first: Period, last: Period) -> list[Period]:
    """Every quarter from ``first`` to ``last`` inclusive."""
    return [first.shift(i) for i in range(last - first + 1)]
