"""Write the Excel return template a data lead fills in for one agency, area and quarter."""

from __future__ import annotations

from collections.abc import Mapping
from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from digest.domain.areas import Area
from digest.domain.dataset import Agency, Dataset
from digest.domain.periods import Period
from digest.domain.statuses import SPELLINGS
from digest.workbook import layout

_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
_HEADER_FILL = PatternFill("solid", fgColor="1F3864")
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
_THIN = Side(style="thin", color="808080")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")
_UNLOCKED = Protection(locked=False)

Previous = Mapping[str, float | str]
"""Last quarter's accepted figures by measure code: a number, or a status symbol such as 'c'."""


def build_template(
    dataset: Dataset,
    agency: Agency,
    area: Area,
    period: Period,
    previous: Previous | None = None,
) -> bytes:
    """The template workbook as .xlsx bytes, with last quarter's accepted values for reference."""
    book = Workbook()
    instructions = book.active
    assert instructions is not None
    instructions.title = layout.INSTRUCTIONS_SHEET
    _write_instructions(instructions, agency, area, period)
    _write_cover(book.create_sheet(layout.COVER_SHEET), dataset, agency, area, period)
    _write_return(book.create_sheet(layout.RETURN_SHEET), agency, area, period, previous or {})
    book.active = 2
    book.security.lockStructure = True  # sheets cannot be added, removed or renamed
    out = BytesIO()
    book.save(out)
    return out.getvalue()


_HOW_TO = (
    "1. Go to the 'Return' sheet. Enter one figure in the yellow 'Value' cell of every row.",
    "2. Enter 0 when there were none. Never leave a value blank.",
    "3. Where you cannot give a figure, enter a status symbol instead of a number:",
    *(f"      {symbol}  {meaning}" for symbol, meaning in layout.STATUS_HELP),
    "4. Figures are whole numbers of 0 or more: counts, not percentages.",
    "5. Enter totals only, never any detail that could identify a child (a name, a birth",
    "    date, an identity number or an address). A return that contains one is refused.",
    "6. If a figure is very different from last quarter's (the 'Previous' column), say why",
    "    in 'Explanation'. The upload asks you to explain large changes.",
    "7. Do not add, rename or move sheets, rows or columns. Save as an Excel Workbook",
    "    (.xlsx), not .xls or .xlsm, and upload it.",
    "",
    "The 'Code' column holds the dataset's measure codes: quote them when you ask the",
    "partnership business unit for help.",
)


_HOW_TO_HEADING = "How to fill in this return"
_RETURN_HINT = (
    "Enter a whole number (0 or more) or a status symbol (c, x, z) in every yellow Value cell."
)


def fixed_texts(dataset: Dataset) -> frozenset[str]:
    """The text every template of ``dataset`` holds whatever its area and quarter.

    It is ours, so a check for a child's details need not search it again in each upload.
    """
    return frozenset(
        {
            layout.TITLE,
            _HOW_TO_HEADING,
            *_HOW_TO,
            _RETURN_HINT,
            *layout.COLUMNS,
            *(f.label for f in layout.COVER_FIELDS),
            *(agency.name for agency in dataset.agencies),
            *(m.code for agency in dataset.agencies for m in agency.measures),
            *(m.description for agency in dataset.agencies for m in agency.measures),
        }
    )


def _write_instructions(sheet: Worksheet, agency: Agency, area: Area, period: Period) -> None:
    lines = [
        (layout.TITLE, _TITLE),
        (f"{agency.name} ({agency.code}) - {area.name} - {period} ({period.months})", _BOLD),
        ("", None),
        (_HOW_TO_HEADING, _BOLD),
        *((text, None) for text in _HOW_TO),
    ]
    for row, (text, font) in enumerate(lines, start=1):
        cell = sheet.cell(row=row, column=1, value=text)
        if font is not None:
            cell.font = font
    sheet.column_dimensions["A"].width = 100
    sheet.protection.sheet = True


def _write_cover(
    sheet: Worksheet, dataset: Dataset, agency: Agency, area: Area, period: Period
) -> None:
    values = {
        "agency": agency.code,
        "agency_name": agency.name,
        "area": area.ons_code,
        "area_name": area.name,
        "period": str(period),
        "months": period.months,
        "template_version": dataset.template_version,
        "dataset_version": dataset.dataset_version,
        "comment": None,
    }
    sheet[layout.TITLE_CELL] = layout.TITLE
    sheet[layout.TITLE_CELL].font = _TITLE
    for field in layout.COVER_FIELDS:
        sheet[field.label_cell] = field.label
        sheet[field.label_cell].font = _BOLD
        value_cell = sheet[field.value_cell]
        value_cell.value = values[field.key]
        value_cell.border = _BOX
        if field.key == "comment":
            value_cell.protection = _UNLOCKED
            value_cell.fill = _INPUT_FILL
            value_cell.alignment = _WRAP
            value_cell.data_type = "s"
    sheet.column_dimensions["A"].width = 40
    sheet.column_dimensions["B"].width = 70
    sheet.protection.sheet = True


def _write_return(
    sheet: Worksheet, agency: Agency, area: Area, period: Period, previous: Previous
) -> None:
    sheet["A1"] = f"{agency.name} return for {area.name}, {period} ({period.months})"
    sheet["A1"].font = _TITLE
    sheet["A2"] = _RETURN_HINT
    headings = list(layout.COLUMNS)
    headings[layout.PREVIOUS_COLUMN - 1] = layout.previous_heading(period)
    for column, heading in enumerate(headings, start=1):
        cell = sheet.cell(row=layout.HEADER_ROW, column=column, value=heading)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = _WRAP
        cell.border = _BOX
    rows = layout.measure_rows(agency)
    for measure in agency.measures:
        row = rows[measure.code]
        cells = {
            layout.CODE_COLUMN: measure.code,
            layout.MEASURE_COLUMN: measure.description,
            layout.COUNTED_COLUMN: layout.counted(measure, period),
            layout.PREVIOUS_COLUMN: previous.get(measure.code),
            layout.VALUE_COLUMN: None,
            layout.EXPLANATION_COLUMN: None,
        }
        for column, value in cells.items():
            cell = sheet.cell(row=row, column=column, value=value)
            cell.border = _BOX
            cell.alignment = _WRAP
        for column in (layout.VALUE_COLUMN, layout.EXPLANATION_COLUMN):
            sheet.cell(row=row, column=column).protection = _UNLOCKED
            sheet.cell(row=row, column=column).fill = _INPUT_FILL
        sheet.cell(row=row, column=layout.EXPLANATION_COLUMN).data_type = "s"
    _add_value_check(sheet, min(rows.values()), max(rows.values()))
    for letter, width in zip("ABCDEF", (34, 60, 30, 16, 12, 50), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = f"A{layout.FIRST_MEASURE_ROW}"
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False  # let people widen columns to read long text


def _add_value_check(sheet: Worksheet, first: int, last: int) -> None:
    """Excel's own check on the value cells: a whole number of 0 or more, or a status symbol."""
    ref = f"E{first}"
    # IF, not AND/OR: Excel evaluates every argument of AND and OR, and INT("c") is an error
    # that would refuse every status. FIND, not SEARCH: "*" is a status, not a wildcard.
    statuses = "|" + "|".join(SPELLINGS) + "|"
    check = DataValidation(
        type="custom",
        formula1=f"IF(ISNUMBER({ref}),AND({ref}>=0,{ref}=INT({ref})),"
        f'ISNUMBER(FIND("|"&LOWER(TRIM({ref}))&"|","{statuses}")))',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Not a count or a status",
        error="Enter a whole number of 0 or more, or c (suppressed), x (not available) "
        "or z (not applicable).",
        showInputMessage=True,
        promptTitle="Value",
        prompt="A whole number (0 if none), or c, x or z.",
    )
    check.add(f"E{first}:E{last}")
    sheet.add_data_validation(check)
