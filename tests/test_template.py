"""The return template a data lead downloads and fills in Excel."""

from __future__ import annotations

from io import BytesIO

import pytest
from openpyxl import load_workbook

from digest.domain.areas import find_area
from digest.domain.periods import Period
from digest.ingest import ingest
from digest.workbook import layout
from digest.workbook.template import build_template


@pytest.fixture
def police_template(dataset):
    return build_template(
        dataset,
        dataset.agency("POLICE"),
        find_area("E09000022"),
        Period(2025, 2),
        {"POLICE.DA_INCIDENTS": 1180.0, "POLICE.CSE_OPEN": "c"},
    )


def test_the_cover_names_agency_area_period_and_versions(police_template):
    cover = load_workbook(BytesIO(police_template))["Cover"]
    assert cover["A1"].value == layout.TITLE
    labelled = {
        cover[f"A{row}"].value: cover[f"B{row}"].value
        for row in range(3, 13)
        if cover[f"A{row}"].value
    }
    assert labelled == {
        "Agency code": "POLICE",
        "Agency": "Police",
        "Area code (ONS)": "E09000022",
        "Area": "Lambeth",
        "Period": "2025-26 Q2",
        "Months": "July to September 2025",
        "Template version": 1,
        "Dataset version": 1,
        "Comment on the whole return (optional)": None,
    }


def test_one_row_per_measure_with_code_value_and_previous_value(dataset, police_template):
    book = load_workbook(BytesIO(police_template))
    sheet = book["Return"]
    headings = [sheet.cell(row=layout.HEADER_ROW, column=c).value for c in range(1, 7)]
    assert headings == [
        "Code",
        "Measure",
        "Counted",
        "Previous (2025-26 Q1)",
        "Value",
        "Explanation (if queried)",
    ]
    measures = dataset.agency("POLICE").measures
    rows = [
        (
            sheet[f"A{r}"].value,
            sheet[f"B{r}"].value,
            sheet[f"C{r}"].value,
            sheet[f"D{r}"].value,
            sheet[f"E{r}"].value,
        )
        for r in range(5, 5 + len(measures))
    ]
    assert [r[0] for r in rows] == [m.code for m in measures]
    assert [r[1] for r in rows] == [m.description for m in measures]
    assert rows[0][2:] == ("During July to September 2025", 1180, None)
    assert rows[3][2:] == ("On 30 September 2025", "c", None)
    assert sheet[f"A{5 + len(measures)}"].value is None


def test_only_the_input_cells_are_unlocked_and_excel_checks_them(dataset, police_template):
    book = load_workbook(BytesIO(police_template))
    assert book.security is not None and book.security.lockStructure
    sheet = book["Return"]
    assert sheet.protection.sheet
    assert not sheet["E5"].protection.locked and not sheet["F5"].protection.locked
    assert sheet["A5"].protection.locked and sheet["D5"].protection.locked
    [check] = sheet.data_validations.dataValidation
    assert str(check.sqref) == "E5:E11"
    assert check.type == "custom" and check.showErrorMessage
    assert all(book[name].protection.sheet for name in ("Instructions", "Cover"))


@pytest.mark.parametrize(
    ("typed", "allowed"),
    [
        (5, True),
        (0, True),
        (-1, False),
        (2.5, False),
        ("c", True),
        (" N/A ", True),
        ("<5", True),
        ("*", True),
        ("[x]", True),
        ("z", True),
        ("lots", False),
        ("x*", False),
    ],
)
def test_excels_own_check_lets_through_counts_and_statuses_only(police_template, typed, allowed):
    import formulas

    check = load_workbook(BytesIO(police_template))["Return"].data_validations.dataValidation[0]
    rule = formulas.Parser().ast("=" + check.formula1)[1].compile()
    verdict = rule(typed)
    assert bool(getattr(verdict, "item", lambda: verdict)()) is allowed


def test_an_unfilled_template_is_refused_with_a_blank_error_per_value(
    store, dataset, police_template
):
    result = ingest(store, police_template, "police.xlsx", submitted_by="tester")
    assert result.outcome == "rejected"
    assert [(f.rule, f.cell) for f in result.findings] == [
        ("value.blank", f"E{row}") for row in range(5, 12)
    ]


def test_the_template_written_is_one_this_release_reads(dataset):
    from digest.workbook.layout import KNOWN_TEMPLATE_VERSIONS

    assert dataset.template_version in KNOWN_TEMPLATE_VERSIONS


def test_the_template_contains_no_formulas(police_template):
    import zipfile

    with zipfile.ZipFile(BytesIO(police_template)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name)
