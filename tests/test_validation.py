"""Every error, query and note of validation, each with a real workbook and its exact location."""

from __future__ import annotations

from datetime import datetime

import pytest
from openpyxl import Workbook as OpenpyxlWorkbook

from digest.domain.findings import Finding
from digest.ingest import IngestResult, ingest
from digest.validate.rules import Submitting
from digest.workbook.layout import measure_rows
from tests.conftest import AREA, PERIOD, figures, set_saved_value, table_counts, workbook_bytes


@pytest.fixture
def rows(dataset):
    return measure_rows(dataset.agency("CSC"))


@pytest.fixture
def submit(store, dataset):
    def run(content: bytes, **kwargs) -> IngestResult:
        return ingest(store, content, "csc_return.xlsx", submitted_by="tester", **kwargs)

    return run


def only(result: IngestResult, rule: str) -> Finding:
    matching = [f for f in result.findings if f.rule == rule]
    assert len(matching) == 1, (rule, result.findings)
    return matching[0]


def located(finding: Finding) -> tuple[str | None, str | None, str | None]:
    return finding.sheet, finding.cell, finding.code


# -- the good case ---------------------------------------------------------------------------


def test_a_filled_template_is_accepted_with_every_value_traced(
    submit, store, dataset, demo_returns, rows
):
    values = figures(demo_returns)
    result = submit(workbook_bytes(dataset, values))
    assert result.outcome == "accepted", result.findings
    assert (result.agency, result.area, result.period, result.version) == (
        "CSC",
        AREA,
        "2025-26 Q2",
        1,
    )
    stored = {v.code: v for v in store.current_values("CSC", AREA, PERIOD)}
    assert set(stored) == set(values)
    for code, value in values.items():
        assert stored[code].value == value
        assert stored[code].status == "ok"
        assert (stored[code].sheet, stored[code].cell) == ("Return", f"E{rows[code]}")


@pytest.mark.parametrize("agency", ["CSC", "POLICE", "HEALTH", "EDU", "YJS", "PSCP"])
def test_every_agencys_filled_template_is_accepted(submit, dataset, demo_returns, agency):
    result = submit(workbook_bytes(dataset, figures(demo_returns, agency), agency=agency))
    assert result.outcome == "accepted", result.findings
    assert result.findings == []


# -- errors ----------------------------------------------------------------------------------


def test_a_workbook_that_is_not_our_template_is_refused(submit):
    book = OpenpyxlWorkbook()
    assert book.active is not None
    book.active["A1"] = "Referrals"
    book.active["B1"] = 700
    from io import BytesIO

    out = BytesIO()
    book.save(out)
    result = submit(out.getvalue())
    finding = only(result, "template.not_ours")
    assert finding.message == (
        "This is not a PQA Digest return template. Download the template for your agency and "
        "quarter, copy your figures into it and upload that file."
    )
    assert result.outcome == "rejected"


def test_an_unknown_template_version_is_an_error(submit, dataset, demo_returns):
    def edit(book):
        book["Cover"]["B9"] = 7

    finding = only(
        submit(workbook_bytes(dataset, figures(demo_returns), edit=edit)),
        "template.version_unknown",
    )
    assert located(finding) == ("Cover", "B9", None)
    assert finding.message == (
        "The template version is not one this system reads. Download a fresh template and copy "
        "your figures into it."
    )


@pytest.mark.parametrize(
    ("said", "rule", "cell", "message"),
    [
        (
            Submitting(agency="POLICE"),
            "cover.agency_mismatch",
            "B3",
            "The file is a return for agency CSC, but you are submitting agency POLICE. Upload the "
            "return for POLICE, or choose CSC.",
        ),
        (
            Submitting(area="E09000022"),
            "cover.area_mismatch",
            "B5",
            "The file is a return for area E09000901, but you are submitting area E09000022. "
            "Upload the return for E09000022, or choose E09000901.",
        ),
        (
            Submitting(period=PERIOD.next()),
            "cover.period_mismatch",
            "B7",
            "The file is a return for period 2025-26 Q2, but you are submitting period 2025-26 Q3. "
            "Upload the return for 2025-26 Q3, or choose 2025-26 Q2.",
        ),
    ],
)
def test_a_cover_that_disagrees_with_the_submission_is_never_relabelled(
    submit, dataset, demo_returns, said, rule, cell, message
):
    result = submit(workbook_bytes(dataset, figures(demo_returns)), submitting=said)
    finding = only(result, rule)
    assert located(finding) == ("Cover", cell, None)
    assert finding.message == message
    assert result.outcome == "rejected"


def test_an_unreadable_cover_period_is_an_error(submit, dataset, demo_returns):
    def edit(book):
        book["Cover"]["B7"] = "Q2 2025"

    finding = only(
        submit(workbook_bytes(dataset, figures(demo_returns), edit=edit)), "cover.period_invalid"
    )
    assert located(finding) == ("Cover", "B7", None)
    assert finding.message == (
        "The period on the cover is not a quarter such as '2025-26 Q2'. Use the template "
        "downloaded for the quarter."
    )


@pytest.mark.parametrize(
    ("cell", "typed", "rule", "message"),
    [
        (
            "B3",
            "SOCIAL",
            "cover.agency_unknown",
            "The agency code on the cover is not one of the "
            "dataset's agencies. Use the template downloaded for your agency.",
        ),
        (
            "B5",
            "E09999999",
            "cover.area_unknown",
            "The area code on the cover is not a known "
            "local authority. Use the template downloaded for your area.",
        ),
        (
            "B4",
            "Police",
            "cover.edited",
            "This cell should read 'Children's social care' in the "
            "CSC return for 2025-26 Q2: the cover has been edited. Download the template for this "
            "return and copy your figures into it, rather than changing an old one.",
        ),
        (
            "B8",
            "April to June 2025",
            "cover.edited",
            "This cell should read 'July to September "
            "2025' in the CSC return for 2025-26 Q2: the cover has been edited. Download the "
            "template for this return and copy your figures into it, rather than changing an old "
            "one.",
        ),
    ],
)
def test_an_unknown_or_edited_cover_is_an_error(
    submit, dataset, demo_returns, cell, typed, rule, message
):
    def edit(book):
        book["Cover"][cell] = typed

    result = submit(workbook_bytes(dataset, figures(demo_returns), edit=edit))
    finding = only(result, rule)
    assert located(finding) == ("Cover", cell, None)
    assert finding.message == message
    assert result.outcome == "rejected"


def test_an_old_template_relabelled_for_the_next_quarter_is_caught(submit, dataset, demo_returns):
    def edit(book):
        book["Cover"]["B7"] = "2025-26 Q3"

    result = submit(workbook_bytes(dataset, figures(demo_returns), edit=edit))
    assert {(f.rule, f.cell) for f in result.findings if f.severity == "error"} == {
        ("cover.edited", "B8"),
        ("template.heading", "D4"),
    }


def test_missing_duplicated_and_unknown_rows_are_each_located(submit, dataset, demo_returns, rows):
    def edit(book):
        sheet = book["Return"]
        sheet[f"A{rows['CSC.S47']}"] = "CSC.S74"  # a typo: unknown, and S47 is then missing
        sheet[f"A{rows['CSC.ICPC_15WD']}"] = "CSC.ICPC"  # ICPC twice, ICPC_15WD missing

    result = submit(workbook_bytes(dataset, figures(demo_returns), edit=edit))
    unknown = only(result, "measure.unknown")
    assert located(unknown) == ("Return", f"A{rows['CSC.S47']}", None)
    assert unknown.message == (
        "This is not a measure code of the CSC return. Do not change the codes in column A."
    )
    duplicate = only(result, "measure.duplicate")
    assert located(duplicate) == ("Return", f"A{rows['CSC.ICPC_15WD']}", "CSC.ICPC")
    assert duplicate.message == (
        f"CSC.ICPC appears twice (rows {rows['CSC.ICPC']} and "
        f"{rows['CSC.ICPC_15WD']}). Keep one row per measure."
    )
    missing = {f.code: f for f in result.findings if f.rule == "measure.missing"}
    assert sorted(missing) == ["CSC.ICPC_15WD", "CSC.S47"]
    assert located(missing["CSC.S47"]) == ("Return", None, "CSC.S47")
    assert missing["CSC.S47"].message == (
        "The row for CSC.S47 (Section 47 enquiries started) is missing. Use an unaltered template."
    )
    assert result.outcome == "rejected"


@pytest.mark.parametrize(
    ("typed", "rule", "message"),
    [
        (
            None,
            "value.blank",
            "is blank. Enter 0 if there were none, or x if the figure is not available.",
        ),
        (
            "about 200",
            "value.text",
            "is text that is neither a number nor a status symbol. Enter "
            "a whole number of 0 or more, or c (suppressed), x (not available) or z (not "
            "applicable).",
        ),
        (
            "kk",
            "value.text",
            "is text that is neither a number nor a status symbol. Enter a whole "
            "number of 0 or more, or c (suppressed), x (not available) or z (not applicable).",
        ),
        (-3, "value.negative", "is negative. A count is a whole number of 0 or more."),
        ("-3", "value.negative", "is negative. A count is a whole number of 0 or more."),
        (
            2.5,
            "value.fraction",
            "is 2.5, not a whole number. A count has no fractions: enter the "
            "number of children or events.",
        ),
        (
            "12.5",
            "value.fraction",
            "is 12.5, not a whole number. A count has no fractions: enter "
            "the number of children or events.",
        ),
        (
            1e308,
            "value.too_large",
            "is larger than any plausible quarterly count (1,000,000). Check for a typing slip.",
        ),
        (True, "value.text", "holds TRUE or FALSE, not a count."),
        (
            "#DIV/0!",
            "value.excel_error",
            "contains an Excel error (#DIV/0!). Correct the formula "
            "or type the figure, then upload again.",
        ),
        (
            "#REF!",
            "value.excel_error",
            "contains an Excel error (#REF!). Correct the formula or "
            "type the figure, then upload again.",
        ),
        (
            "=D5*2",
            "value.formula_no_value",
            "contains a formula with no calculated value. Open "
            "the file in Excel, press F9 to calculate, save and upload again (or type the figure).",
        ),
    ],
)
def test_a_bad_value_is_an_error_at_its_cell(
    submit, store, dataset, demo_returns, rows, typed, rule, message
):
    values = figures(demo_returns)
    values["CSC.S47"] = typed
    before = table_counts(store)
    result = submit(workbook_bytes(dataset, values))
    finding = only(result, rule)
    assert located(finding) == ("Return", f"E{rows['CSC.S47']}", "CSC.S47")
    assert finding.message == f"The value for CSC.S47 {message}"
    assert result.outcome == "rejected"
    assert table_counts(store) == before


def test_a_part_larger_than_its_whole_is_an_error(submit, dataset, demo_returns, rows):
    values = figures(demo_returns)
    values["CSC.CPP_STARTED"] = 40
    values["CSC.CPP_STARTED_REPEAT"] = 41
    finding = only(submit(workbook_bytes(dataset, values)), "value.part_exceeds_whole")
    assert located(finding) == (
        "Return",
        f"E{rows['CSC.CPP_STARTED_REPEAT']}",
        "CSC.CPP_STARTED_REPEAT",
    )
    assert finding.message == (
        "CSC.CPP_STARTED_REPEAT (41) is a part of CSC.CPP_STARTED (40) "
        "and cannot be larger. Check both figures."
    )


def test_a_formula_with_a_saved_value_is_read_with_a_note(
    submit, store, dataset, demo_returns, rows
):
    values = figures(demo_returns)
    values["CSC.S47"] = f"=E{rows['CSC.ICPC']}+150"
    content = workbook_bytes(dataset, values)
    content = set_saved_value(content, "xl/worksheets/sheet3.xml", f"E{rows['CSC.S47']}", "212")
    result = submit(content)
    assert result.outcome == "accepted", result.findings
    note = only(result, "value.read_as")
    assert note.severity == "info"
    assert note.message == "The value for CSC.S47 holds a formula; its saved value was read."
    stored = {v.code: v for v in store.current_values("CSC", AREA, PERIOD)}
    assert stored["CSC.S47"].value == 212


def test_a_formulas_floating_point_dust_is_read_as_the_whole_number(
    submit, store, dataset, demo_returns, rows
):
    values = figures(demo_returns)
    values["CSC.S47"] = f"=E{rows['CSC.ICPC']}*1.1"
    content = workbook_bytes(dataset, values)
    content = set_saved_value(
        content, "xl/worksheets/sheet3.xml", f"E{rows['CSC.S47']}", "210.00000000000003"
    )
    assert submit(content).outcome == "accepted"
    stored = {v.code: v for v in store.current_values("CSC", AREA, PERIOD)}
    assert stored["CSC.S47"].value == 210


def test_content_outside_the_template_area_is_an_error(submit, dataset, demo_returns):
    def edit(book):
        book["Return"]["H30"] = "working: 12 + 30"
        book["Return"]["K2"] = 5
        book["Cover"]["D3"] = "note"

    result = submit(workbook_bytes(dataset, figures(demo_returns), edit=edit))
    stray = {
        (f.sheet, f.cell): f.message for f in result.findings if f.rule == "template.outside_area"
    }
    assert stray == {
        ("Return", "K2"): "There is content outside the template area, in K2 and 1 more cells. "
        "Delete anything outside the return's table and upload again.",
        ("Cover", "D3"): "There is content outside the template area, in D3. Delete anything "
        "outside the return's table and upload again.",
    }


def test_changed_headings_are_each_reported(submit, dataset, demo_returns):
    def edit(book):
        book["Return"]["E4"] = "Values"
        book["Return"]["A4"] = "Measure code"
        book["Return"]["B4"] = " Measure "  # spaces around a heading are harmless

    result = submit(workbook_bytes(dataset, figures(demo_returns), edit=edit))
    headings = {f.cell: f.message for f in result.findings if f.rule == "template.heading"}
    assert headings == {
        "A4": "Expected the heading 'Code' here, but it has been changed. Do not change the "
        "template's headings.",
        "E4": "Expected the heading 'Value' here, but it has been changed. Do not change the "
        "template's headings.",
    }
    assert all(f.sheet == "Return" for f in result.findings if f.rule == "template.heading")


def test_extra_hidden_and_missing_sheets_are_errors(submit, dataset, demo_returns):
    def edit(book):
        secret = book.create_sheet("Workings")
        secret["A1"] = 3
        secret.sheet_state = "veryHidden"
        del book["Instructions"]

    result = submit(workbook_bytes(dataset, figures(demo_returns), edit=edit))
    extra = only(result, "template.sheet_extra")
    assert extra.message == (
        "The workbook has a sheet 'Workings' (veryHidden) that is not part "
        "of the template. Delete it and upload again."
    )
    missing = only(result, "template.sheet_missing")
    assert located(missing) == ("Instructions", None, None)
    assert missing.message == "The sheet 'Instructions' is missing. Use an unaltered template."
    assert result.outcome == "rejected"


CHILD_DETAILS = ("Jane", "Smith", "A123456789012", "943 476 5919", "9434765919", "SW1A", "2014")


def assert_not_repeated(result: IngestResult) -> None:
    shown = " ".join(f.message + (f.sheet or "") for f in result.findings) + result.message
    for fragment in CHILD_DETAILS:
        assert fragment not in shown


@pytest.mark.parametrize(
    ("where", "typed", "kind"),
    [
        ("explanation", "Rise due to A123456789012 and siblings", "a unique pupil number (UPN)"),
        ("explanation", "See child 943 476 5919", "an NHS number"),
        ("explanation", "Family moved to SW1A 1AA", "a full postcode"),
        ("explanation", "Child DOB 2014 in care", "personal details of a child"),
        ("explanation", "Jane Smith born 02/03/2014 entered care", "personal details of a child"),
        ("value", 9434765919, "an NHS number"),
        ("value", "A123456789012", "a unique pupil number (UPN)"),
        ("outside", "Jane Smith", "a person's name"),
        ("outside", datetime(2014, 3, 2), "a date (it could be a date of birth)"),
        ("outside", "02/03/2014", "a date (it could be a date of birth)"),
    ],
)
def test_child_level_data_is_refused_without_repeating_it(
    submit, store, dataset, demo_returns, rows, where, typed, kind
):
    values = figures(demo_returns)
    explanations = {}
    cell = {"value": "E", "explanation": "F", "outside": "H"}[where] + str(rows["CSC.S47"])
    if where == "value":
        values["CSC.S47"] = typed
    elif where == "explanation":
        explanations["CSC.S47"] = typed

    def edit(book):
        if where == "outside":
            book["Return"][cell] = typed

    before = table_counts(store)
    result = submit(workbook_bytes(dataset, values, explanations=explanations, edit=edit))
    finding = only(result, "privacy.child_level")
    assert located(finding) == ("Return", cell, None)
    assert finding.message == (
        f"This cell seems to hold {kind}. The partnership collects totals only: remove any "
        "detail about an individual child and upload again."
    )
    assert_not_repeated(result)
    assert result.outcome == "rejected"
    assert table_counts(store) == before


@pytest.mark.parametrize(
    ("typed", "rule"),
    [
        ("Jane Smith", "value.text"),
        ("Not Known", "value.text"),
        (datetime(2014, 3, 2), "value.date"),
        ("02/03/2014", "value.text"),
    ],
)
def test_text_or_a_date_as_a_figure_is_a_value_error_that_is_never_repeated(
    submit, dataset, demo_returns, rows, typed, rule
):
    values = figures(demo_returns)
    values["CSC.S47"] = typed
    result = submit(workbook_bytes(dataset, values))
    finding = only(result, rule)
    assert located(finding) == ("Return", f"E{rows['CSC.S47']}", "CSC.S47")
    assert not [f for f in result.findings if f.rule == "privacy.child_level"]
    assert_not_repeated(result)


def test_a_sheet_named_after_a_child_is_refused_without_repeating_the_name(
    submit, dataset, demo_returns
):
    def edit(book):
        book.create_sheet("Jane Smith 943 476 5919")

    result = submit(workbook_bytes(dataset, figures(demo_returns), edit=edit))
    assert {(f.rule, f.sheet) for f in result.findings if f.severity == "error"} == {
        ("privacy.child_level", "sheet 4"),
        ("template.sheet_extra", "sheet 4"),
    }
    assert_not_repeated(result)


def test_explanations_given_outside_the_workbook_are_checked_too(
    submit, store, dataset, demo_returns
):
    result = submit(
        workbook_bytes(dataset, figures(demo_returns)),
        explanations={"CSC.S47": "Jane Smith born 02/03/2014 came into care"},
    )
    finding = only(result, "privacy.child_level")
    assert located(finding) == (None, None, "CSC.S47")
    assert finding.message == (
        "The explanation given for CSC.S47 seems to hold personal details of a child. The "
        "partnership collects totals only: remove any detail about an individual child and "
        "upload again."
    )
    assert result.outcome == "rejected"
    assert store.current("CSC", AREA, PERIOD) is None


def test_every_problem_is_listed_at_once(submit, dataset, demo_returns, rows):
    values = figures(demo_returns)
    values.update({"CSC.S47": None, "CSC.ICPC": -1, "CSC.REFERRALS": "lots"})
    result = submit(workbook_bytes(dataset, values))
    assert {(f.rule, f.cell) for f in result.findings if f.severity == "error"} == {
        ("value.blank", f"E{rows['CSC.S47']}"),
        ("value.negative", f"E{rows['CSC.ICPC']}"),
        ("value.text", f"E{rows['CSC.REFERRALS']}"),
    }
    assert (
        result.message
        == "csc_return.xlsx was not accepted: 3 errors to correct. Nothing was stored."
    )


# -- statuses and numbers typed as text --------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "status", "note"),
    [
        ("c", "c", None),
        ("x", "x", None),
        ("z", "z", None),
        ("<5", "c", "was typed as '<5' and read as the status c (suppressed)."),
        ("[c]", "c", "was typed as '[c]' and read as the status c (suppressed)."),
        ("[x]", "x", "was typed as '[x]' and read as the status x (not available)."),
        ("n/a", "x", "was typed as 'n/a' and read as the status x (not available)."),
        ("N/A", "x", "was typed as 'N/A' and read as the status x (not available)."),
        ("-", "x", "was typed as '-' and read as the status x (not available)."),
        (" C ", "c", None),
        ("low", "c", "was typed as 'low' and read as the status c (suppressed)."),
        ("k", "c", "was typed as 'k' and read as the status c (suppressed)."),
        ("~", "c", "was typed as '~' and read as the status c (suppressed)."),
        ("*", "c", "was typed as '*' and read as the status c (suppressed)."),
        (":", "x", "was typed as ':' and read as the status x (not available)."),
        ("NA", "x", "was typed as 'NA' and read as the status x (not available)."),
    ],
)
def test_a_status_is_stored_as_a_status_never_zero(
    submit, store, dataset, demo_returns, rows, typed, status, note
):
    values = figures(demo_returns)
    values["CSC.CPP_ENDED_2Y"] = typed
    result = submit(workbook_bytes(dataset, values))
    assert result.outcome == "accepted", result.findings
    stored = {v.code: v for v in store.current_values("CSC", AREA, PERIOD)}
    assert stored["CSC.CPP_ENDED_2Y"].value is None
    assert stored["CSC.CPP_ENDED_2Y"].status == status
    notes = [f.message for f in result.findings if f.code == "CSC.CPP_ENDED_2Y"]
    assert notes == ([] if note is None else [f"The value for CSC.CPP_ENDED_2Y {note}"])


@pytest.mark.parametrize(
    ("typed", "number", "shown"),
    [
        (" 1,234 ", 1234, "1,234"),
        ("12", 12, "12"),
        ("12.0", 12, "12.0"),
        ("2 345", 2345, "2 345"),
        ("2\u00a0345", 2345, "2\u00a0345"),
    ],
)
def test_numbers_typed_as_text_are_read_as_numbers_with_a_note(
    submit, store, dataset, demo_returns, rows, typed, number, shown
):
    values = figures(demo_returns)
    values["CSC.CIN_OPEN"] = typed
    result = submit(workbook_bytes(dataset, values))
    assert result.outcome == "accepted", result.findings
    note = only(result, "value.read_as")
    assert located(note) == ("Return", f"E{rows['CSC.CIN_OPEN']}", "CSC.CIN_OPEN")
    assert note.message == (
        f"The value for CSC.CIN_OPEN was typed as text ('{shown}') and read as the number {number}."
    )
    stored = {v.code: v for v in store.current_values("CSC", AREA, PERIOD)}
    assert stored["CSC.CIN_OPEN"].value == number


# -- queries ---------------------------------------------------------------------------------


def previous_figures(demo_returns):
    """Last quarter's figures: this quarter's, a little different, so nothing is queried."""
    return {code: round(int(v) * 1.05) for code, v in figures(demo_returns).items()}


def accept_previous_quarter(submit, dataset, values):
    result = submit(workbook_bytes(dataset, values, period=PERIOD.previous()))
    assert result.outcome == "accepted", result.findings


def test_a_large_change_is_a_query_that_blocks_until_explained(
    submit, store, dataset, demo_returns, rows
):
    last = previous_figures(demo_returns)
    accept_previous_quarter(submit, dataset, last)
    values = figures(demo_returns)
    values["CSC.S47"] = int(last["CSC.S47"]) * 2
    content = workbook_bytes(dataset, values)
    result = submit(content)
    query = only(result, "query.change")
    assert query.severity == "query"
    assert located(query) == ("Return", f"E{rows['CSC.S47']}", "CSC.S47")
    assert query.message == (
        f"Please check and either amend or provide a reason: CSC.S47 is {values['CSC.S47']:,}, "
        f"up 100% from {last['CSC.S47']:,} in 2025-26 Q1."
    )
    assert result.outcome == "rejected"
    assert "1 query needs an explanation (CSC.S47)" in result.message
    assert store.current("CSC", AREA, PERIOD) is None

    reason = "A new MASH threshold doubled strategy discussions from July."
    accepted = submit(content, explanations={"CSC.S47": reason})
    assert accepted.outcome == "accepted"
    current = store.current("CSC", AREA, PERIOD)
    assert current is not None
    assert store.explanations(current.id) == {"CSC.S47": reason}
    assert [f["rule"] for f in store.findings(current.id)] == ["query.change"]


def test_an_explanation_too_short_to_say_why_is_asked_for_again(submit, dataset, demo_returns):
    last = previous_figures(demo_returns)
    accept_previous_quarter(submit, dataset, last)
    values = figures(demo_returns)
    values["CSC.S47"] = int(last["CSC.S47"]) * 2
    result = submit(workbook_bytes(dataset, values), explanations={"CSC.S47": "Checked"})
    assert result.outcome == "rejected"
    assert result.message.endswith(
        "The explanation for CSC.S47 is too short: say in a sentence why (at least 10 characters)."
    )


def test_an_explanation_in_the_workbook_counts(submit, dataset, demo_returns):
    last = previous_figures(demo_returns)
    accept_previous_quarter(submit, dataset, last)
    values = figures(demo_returns)
    values["CSC.S47"] = int(last["CSC.S47"]) * 2
    result = submit(
        workbook_bytes(
            dataset, values, explanations={"CSC.S47": "Threshold change in July doubled enquiries."}
        )
    )
    assert result.outcome == "accepted", result.findings


def test_a_zero_after_more_than_twenty_is_a_query(submit, dataset, demo_returns, rows):
    last = previous_figures(demo_returns)
    accept_previous_quarter(submit, dataset, last)
    values = figures(demo_returns)
    values["CSC.ICPC"], values["CSC.ICPC_15WD"] = 0, 0
    assert int(last["CSC.ICPC"]) > 20
    result = submit(workbook_bytes(dataset, values))
    [query] = [f for f in result.findings if f.rule == "query.zero" and f.code == "CSC.ICPC"]
    assert located(query) == ("Return", f"E{rows['CSC.ICPC']}", "CSC.ICPC")
    assert query.message == (
        "Please check and either amend or provide a reason: CSC.ICPC is 0 "
        f"this quarter after {last['CSC.ICPC']} in 2025-26 Q1."
    )


def test_small_numbers_are_not_queried(submit, dataset, demo_returns):
    last = previous_figures(demo_returns)
    last["CSC.CPP_ENDED_2Y"] = 4
    accept_previous_quarter(submit, dataset, last)
    values = figures(demo_returns)
    values["CSC.CPP_ENDED_2Y"] = 9
    result = submit(workbook_bytes(dataset, values))
    assert not [f for f in result.findings if f.code == "CSC.CPP_ENDED_2Y"]


def test_a_return_identical_to_last_quarter_is_a_query(submit, store, dataset, demo_returns):
    last = previous_figures(demo_returns)
    accept_previous_quarter(submit, dataset, last)
    result = submit(workbook_bytes(dataset, last))
    query = only(result, "query.identical")
    assert located(query) == ("Cover", "B12", None)
    assert query.message.startswith(
        "Please check and either amend or provide a reason: every "
        "figure is identical to the return for 2025-26 Q1 (version 1)."
    )
    assert result.outcome == "rejected"
    explained = submit(
        workbook_bytes(dataset, last, comment="Figures confirmed unchanged by the service manager.")
    )
    assert explained.outcome == "accepted"


@pytest.mark.parametrize("typed", ["None", "null", "NaN"])
def test_words_that_mean_nothing_in_particular_are_refused_not_guessed(
    submit, dataset, demo_returns, typed
):
    """T19: 'None' and 'null' are not collapsed into a status (as pandas would): the data lead
    is asked what they mean."""
    values = figures(demo_returns)
    values["CSC.CPP_ENDED_2Y"] = typed
    result = submit(workbook_bytes(dataset, values))
    assert result.outcome == "rejected"
    [error] = [f for f in result.findings if f.code == "CSC.CPP_ENDED_2Y"]
    assert error.severity == "error" and error.cell is not None
