"""Where everything sits in a return workbook, by template version.

The template writer and the validator both read this module, so the two can never disagree about
which cell holds what.
"""

from __future__ import annotations

from dataclasses import dataclass

from digest.domain.dataset import Agency, Measure
from digest.domain.periods import Period
from digest.domain.statuses import MEANING, variants

TITLE = "PQA Digest quarterly return"
INSTRUCTIONS_SHEET = "Instructions"
COVER_SHEET = "Cover"
RETURN_SHEET = "Return"
SHEETS = (INSTRUCTIONS_SHEET, COVER_SHEET, RETURN_SHEET)

#: Template versions this release can read. A new layout gets a new number; old ones stay readable.
KNOWN_TEMPLATE_VERSIONS = frozenset({1})


@dataclass(frozen=True)
class CoverField:
    """A labelled cell of the cover sheet: the label in column A, the value in column B."""

    key: str
    label: str
    row: int

    @property
    def label_cell(self) -> str:
        """The A1 reference of the label."""
        return f"A{self.row}"

    @property
    def value_cell(self) -> str:
        """The A1 reference of the value."""
        return f"B{self.row}"


TITLE_CELL = "A1"
COVER_FIELDS = (
    CoverField("agency", "Agency code", 3),
    CoverField("agency_name", "Agency", 4),
    CoverField("area", "Area code (ONS)", 5),
    CoverField("area_name", "Area", 6),
    CoverField("period", "Period", 7),
    CoverField("months", "Months", 8),
    CoverField("template_version", "Template version", 9),
    CoverField("dataset_version", "Dataset version", 10),
    CoverField("comment", "Comment on the whole return (optional)", 12),
)
COVER = {f.key: f for f in COVER_FIELDS}
COVER_LAST_ROW = max(f.row for f in COVER_FIELDS)
COVER_LAST_COLUMN = 2

HEADER_ROW = 4
COLUMNS = ("Code", "Measure", "Counted", "Previous", "Value", "Explanation (if queried)")
CODE_COLUMN = 1
MEASURE_COLUMN = 2
COUNTED_COLUMN = 3
PREVIOUS_COLUMN = 4
VALUE_COLUMN = 5
EXPLANATION_COLUMN = 6
LAST_COLUMN = len(COLUMNS)
FIRST_MEASURE_ROW = HEADER_ROW + 1

#: Status symbols a data lead may type instead of a number (printed in the instructions).
STATUS_HELP = tuple(
    (symbol, f"{meaning} (also accepted: {', '.join(variants(symbol))})")
    for symbol, meaning in MEANING.items()
)


def counted(measure: Measure, period: Period) -> str:
    """How a measure is counted over a period, in words for the template's 'Counted' column."""
    last_day = f"{period.end.day} {period.end:%B %Y}"
    if measure.kind == "snapshot":
        return f"On {last_day}"
    if measure.kind == "rolling12":
        return f"In the 12 months to {last_day}"
    return f"During {period.months}"


def previous_heading(period: Period) -> str:
    """The heading of the reference column holding last quarter's accepted values."""
    return f"Previous ({period.previous()})"


def measure_rows(agency: Agency) -> dict[str, int]:
    """The row of each of the agency's measures in a freshly written template."""
    return {m.code: FIRST_MEASURE_ROW + i for i, m in enumerate(agency.measures)}
