"""Filling in a return template as a data lead would in Excel (demo, tests, benchmarks)."""

from __future__ import annotations

from io import BytesIO

from openpyxl import load_workbook

from digest.workbook import layout

Entry = float | int | str | None


def fill_template(
    template: bytes,
    values: dict[str, Entry],
    explanations: dict[str, str] | None = None,
    comment: str | None = None,
) -> bytes:
    """Type ``values`` (by measure code) into a template's Value cells and save it as .xlsx.

    Codes not in the template are ignored; a value of ``None`` leaves the cell blank.
    Explanations go in the Explanation column, ``comment`` in the cover's whole-return comment.
    """
    book = load_workbook(BytesIO(template))
    sheet = book[layout.RETURN_SHEET]
    for row in range(layout.FIRST_MEASURE_ROW, sheet.max_row + 1):
        code = sheet.cell(row=row, column=layout.CODE_COLUMN).value
        if not isinstance(code, str):
            continue
        if code in values:
            sheet.cell(row=row, column=layout.VALUE_COLUMN).value = values[code]
        if explanations and code in explanations:
            cell = sheet.cell(row=row, column=layout.EXPLANATION_COLUMN)
            cell.value = explanations[code]
            cell.data_type = "s"
    if comment is not None:
        cell = book[layout.COVER_SHEET][layout.COVER["comment"].value_cell]
        cell.value = comment
        cell.data_type = "s"
    out = BytesIO()
    book.save(out)
    return out.getvalue()
