"""Turn a workbook's bytes into its non-empty cells.

Runs in the reader's child process (see :mod:`digest.read.child`), never in the server:
python-calamine can abort the whole process on a crafted file. calamine reads the values; a light
XML pass over each sheet adds what calamine drops: Excel error values (it returns ``''`` for them)
and which cells hold formulas (and so which formulas have no saved value).
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Collection
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple

from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from digest.read.cells import CellValue, Visibility
from digest.read.ooxml import Cursor, local_name, workbook_sheets
from digest.read.wire import CellRow, SheetRows
from digest.read.xmlscan import may_be_wide, may_have_marks


class _Mark(NamedTuple):
    """What the sheet XML says of a cell and calamine cannot: formula, saved value, error."""

    formula: bool
    has_value: bool
    error: str | None


def parse_cells(content: bytes, plain_sheets: Collection[str] = ()) -> list[SheetRows]:
    """Every sheet of the workbook in ``content``, in workbook order, with its non-empty cells,
    as the plain rows the child sends to the server (see :mod:`digest.read.wire`).

    ``plain_sheets`` names sheets known to hold no formula and no error value (the container check
    finds them): their XML pass is skipped. Call this only on bytes that passed
    :func:`~digest.read.container.check_container`, and only in a process that may die: a crafted
    file can make python-calamine abort.
    """
    book = CalamineWorkbook.from_filelike(io.BytesIO(content))
    metas = book.sheets_metadata
    if all(meta.name in plain_sheets for meta in metas):
        return [_sheet(book, meta, None, None) for meta in metas]
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        parts = {entry.name: entry.part for entry in workbook_sheets(archive)}
        return [
            _sheet(book, meta, archive, None if meta.name in plain_sheets else parts.get(meta.name))
            for meta in metas
        ]


def _sheet(book: Any, meta: Any, archive: zipfile.ZipFile | None, part: str | None) -> SheetRows:
    """The sheet's cells; ``part`` is the zip entry of ``archive`` to read formulas and errors
    from, ``None`` when there are none to read."""
    name = str(meta.name)
    visibility = _visibility(meta.visible)
    if meta.typ != SheetTypeEnum.WorkSheet:
        return (name, visibility, [])  # a chart sheet has no cells, but it is still a sheet
    # skip_empty_area=False: the first list is row 1 and each list starts at column A.
    rows: list[list[Any]] = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    marks = _marks(archive.read(part)) if archive is not None and part is not None else {}
    found: list[CellRow] = []
    for row_number, row in enumerate(rows, start=1):
        for column_number, value in enumerate(row, start=1):
            mark = marks.pop((row_number, column_number), None) if marks else None
            if mark is None:
                if value != "" and value is not None:
                    found.append((row_number, column_number, _value(value), False, None))
                continue
            cell = _cell(row_number, column_number, value, mark)
            if cell is not None:
                found.append(cell)
    if marks:
        # A formula with no saved value (or an error) can lie beyond the area calamine returns.
        for (row_number, column_number), mark in marks.items():
            cell = _cell(row_number, column_number, "", mark)
            if cell is not None:
                found.append(cell)
        found.sort(key=lambda cell: (cell[0], cell[1]))
    return (name, visibility, found)


def _visibility(visible: Any) -> Visibility:
    # calamine's enum members compare equal but cannot be dictionary keys.
    if visible == SheetVisibleEnum.VeryHidden:
        return "veryHidden"
    if visible == SheetVisibleEnum.Hidden:
        return "hidden"
    return "visible"


def _cell(row: int, column: int, value: Any, mark: _Mark | None) -> CellRow | None:
    if mark is not None and mark.error is not None:
        return (row, column, None, mark.formula, mark.error)
    if mark is not None and mark.formula:
        saved = _value(value) if mark.has_value and value != "" else None
        return (row, column, saved, True, None)
    if value == "" or value is None:
        return None
    return (row, column, _value(value), False, None)


#: Excel stores at most this many characters in a cell; longer text was not written by Excel.
MAX_CELL_TEXT = 32_767


class CellTextTooLong(ValueError):
    """A cell holds more text than Excel can (a crafted file)."""


_AS_IS = (float, bool, datetime, date, time)


def _value(value: Any) -> CellValue:
    """calamine's value in the shapes :class:`~digest.read.cells.Cell` promises."""
    if isinstance(value, str):
        if len(value) > MAX_CELL_TEXT:
            raise CellTextTooLong
        return value
    if isinstance(value, _AS_IS):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, timedelta):  # a duration such as [h]:mm: keep Excel's number of days
        return value.total_seconds() / 86400
    return str(value)


def _marks(data: bytes) -> dict[tuple[int, int], _Mark]:
    """Formula and error cells of one sheet part, by (row, column)."""
    if not may_be_wide(data) and not may_have_marks(data):
        return {}
    marks: dict[tuple[int, int], _Mark] = {}
    cursor = Cursor()
    in_cell = False
    position = (0, 0)
    kind = ""
    formula = False
    saved: str | None = None
    # DTDs were refused by the container check, and this runs in the memory-capped child.
    for event, element in ET.iterparse(io.BytesIO(data), events=("start", "end")):  # noqa: S314
        name = local_name(element.tag)
        if event == "start":
            if name == "row":
                cursor.start_row(element.get("r"))
            elif name == "c":
                in_cell, position, kind = True, cursor.cell(element.get("r")), element.get("t", "")
                formula, saved = False, None
            continue
        if not in_cell:
            if name == "row":
                element.clear()
            continue
        if name == "f":
            formula = True
        elif name == "v":
            saved = element.text or ""
        elif name == "c":
            in_cell = False
            error = saved.strip() if kind == "e" and saved else None
            if formula or error:
                marks[position] = _Mark(formula, bool(saved), error or None)
            element.clear()
    return marks
