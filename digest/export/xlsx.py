"""Spreadsheets that cannot run anything: every cell is a number or plain text.

Text from users (explanations, names) can begin with ``=``, ``+``, ``-`` or ``@``. openpyxl writes
such a string as a formula, so each text cell is marked as a string explicitly; no hyperlinks are
ever written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO

from openpyxl import Workbook
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

Value = str | int | float | None


@dataclass(frozen=True)
class Sheet:
    """One worksheet: a title line, notes under it, and a table."""

    name: str  # at most 31 characters, as Excel allows
    title: str
    notes: Sequence[str]
    headings: Sequence[str]
    rows: Sequence[Sequence[Value]]
    widths: Sequence[int] = ()


def workbook(sheets: Sequence[Sheet]) -> bytes:
    """The sheets as an .xlsx file."""
    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for sheet in sheets:
        _write(book.create_sheet(sheet.name[:31]), sheet)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _write(target: Worksheet, sheet: Sheet) -> None:
    _put(target.cell(row=1, column=1), sheet.title).font = Font(bold=True, size=14)
    for row, note in enumerate(sheet.notes, start=2):
        _put(target.cell(row=row, column=1), note)
    top = len(sheet.notes) + 3
    for column, heading in enumerate(sheet.headings, start=1):
        _put(target.cell(row=top, column=column), heading).font = Font(bold=True)
    for r, values in enumerate(sheet.rows, start=top + 1):
        for c, value in enumerate(values, start=1):
            _put(target.cell(row=r, column=c), value).alignment = Alignment(
                wrap_text=True, vertical="top"
            )
    for column, width in enumerate(sheet.widths, start=1):
        target.column_dimensions[get_column_letter(column)].width = width
    target.freeze_panes = f"A{top + 1}"


def _put(cell: Cell | MergedCell, value: Value) -> Cell | MergedCell:
    if isinstance(value, str):
        cell.value = value
        cell.data_type = "s"  # never a formula, whatever the text begins with
    else:
        cell.value = value
    return cell
