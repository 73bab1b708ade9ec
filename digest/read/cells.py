"""What the safe reader hands on: the cells of each sheet of a workbook, located in A1 form."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Literal

from digest.domain.cellrefs import a1, column_letters, column_number

__all__ = [
    "Cell",
    "CellValue",
    "Sheet",
    "Visibility",
    "Workbook",
    "a1",
    "column_letters",
    "column_number",
]

CellValue = str | float | bool | date | datetime | time

Visibility = Literal["visible", "hidden", "veryHidden"]


@dataclass(frozen=True)
class Cell:
    """One non-empty cell.

    ``value`` is the saved value as Excel stored it (numbers are floats, text is str, a date cell
    is a ``date``/``datetime``). ``error`` holds an Excel error value such as ``#DIV/0!``
    (``value`` is then ``None``). ``formula`` is true when the cell holds a formula; ``value`` is
    ``None`` when the formula has no saved (cached) value.
    """

    ref: str
    row: int  # 1-based
    column: int  # 1-based
    value: CellValue | None
    formula: bool = False
    error: str | None = None


@dataclass(frozen=True)
class Sheet:
    """A worksheet: its name, visibility and non-empty cells by A1 reference."""

    name: str
    visibility: Visibility
    cells: dict[str, Cell] = field(default_factory=dict)

    def value(self, ref: str) -> CellValue | None:
        """The value of a cell, or ``None`` when it is empty."""
        cell = self.cells.get(ref)
        return None if cell is None else cell.value


@dataclass(frozen=True)
class Workbook:
    """A parsed workbook: its sheets in workbook order."""

    sheets: list[Sheet]

    def sheet(self, name: str) -> Sheet | None:
        """The sheet with exactly this name, if any."""
        return next((s for s in self.sheets if s.name == name), None)
