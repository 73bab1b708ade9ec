"""A check's findings as a spreadsheet, for the data lead to work through in Excel."""

from __future__ import annotations

import re
from collections.abc import Sequence

from digest.domain.findings import Finding
from digest.export.xlsx import Sheet, workbook

_ORDER = {"error": 0, "query": 1, "info": 2}
_WORDS = {"error": "Error (must be corrected)", "query": "Query (explain)", "info": "Note"}


def _cell_key(cell: str | None) -> tuple[int, int]:
    """A1-style references in reading order: row, then column (E9 before E10)."""
    found = re.fullmatch(r"([A-Z]+)(\d+)", cell or "")
    if not found:
        return (0, 0)
    column = 0
    for letter in found.group(1):
        column = column * 26 + ord(letter) - 64
    return (int(found.group(2)), column)


def findings_report(file_name: str, findings: Sequence[Finding]) -> bytes:
    """The findings of one checked workbook as .xlsx: errors first, then queries, then notes,
    each in sheet and cell order."""
    ordered = sorted(
        findings,
        key=lambda f: (_ORDER.get(f.severity, 3), f.sheet or "", _cell_key(f.cell), f.code or ""),
    )
    rows = [
        (_WORDS.get(f.severity, f.severity), f.sheet or "", f.cell or "", f.code or "", f.message)
        for f in ordered
    ]
    return workbook(
        [
            Sheet(
                name="Findings",
                title=f"Findings for {file_name}",
                notes=(
                    f"{len(rows)} finding{'s' * (len(rows) != 1)}: correct every error, explain "
                    "every query, then upload the workbook again.",
                ),
                headings=("Kind", "Sheet", "Cell", "Measure", "What to do"),
                rows=rows,
                widths=(24, 12, 8, 28, 90),
            )
        ]
    )
