"""The container check refuses each hostile or odd file with a rule and a plain message."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable

import pytest

from digest.read.container import DEFAULT_LIMITS, Limits, check_container
from digest.read.errors import UnreadableWorkbook
from digest.read.xmlscan import CHUNK
from tests import hostile

GENEROUS_SECONDS = 10.0  # what the tests assert; the files are answered far faster

REFUSED: list[tuple[Callable[[], bytes], str, str, str]] = [
    # (builder, file name, rule, words the message must contain)
    (hostile.empty, "q3.xlsx", "file.empty", "is empty"),
    (hostile.truncated_xlsx, "q3.xlsx", "file.damaged", "damaged or incomplete"),
    (hostile.lying_sizes, "q3.xlsx", "file.damaged", "damaged or incomplete"),
    (hostile.pdf_renamed, "q3.xlsx", "file.pdf", "is a PDF, not an Excel .xlsx workbook"),
    (hostile.csv_renamed, "q3.xlsx", "file.not_xlsx", "is not an Excel .xlsx workbook"),
    (hostile.text_renamed, "q3.xlsx", "file.not_xlsx", "is not an Excel .xlsx workbook"),
    (hostile.missing_workbook_xml, "q3.xlsx", "file.not_xlsx", "is not an Excel .xlsx workbook"),
    (hostile.missing_content_types, "q3.xlsx", "file.not_xlsx", "is not an Excel .xlsx workbook"),
    (hostile.zip_encrypted_entry, "q3.xlsx", "file.not_xlsx", "is not an Excel .xlsx workbook"),
    (hostile.real_xls, "q3.xls", "file.xls", "old Excel 97-2003 (.xls) workbook"),
    (hostile.real_xls, "q3.xlsx", "file.xls", "old Excel 97-2003 (.xls) workbook"),
    (hostile.encrypted_xlsx, "q3.xlsx", "file.encrypted", "is password-protected"),
    (hostile.xlsm, "q3.xlsx", "file.macro", "Macro-enabled workbooks (.xlsm) are not accepted"),
    (hostile.xlsm, "q3.xlsm", "file.macro", "Macro-enabled workbooks (.xlsm) are not accepted"),
    (hostile.small_return, "q3.xlsm", "file.macro", "Save As > Excel Workbook (.xlsx)"),
    (hostile.macro_content_type, "q3.xlsx", "file.macro", "Macro-enabled workbooks"),
    (hostile.ods, "q3.ods", "file.ods", "only Excel .xlsx workbooks are accepted"),
    (hostile.ods, "q3.xlsx", "file.ods", "only Excel .xlsx workbooks are accepted"),
    (
        hostile.zip_bomb,
        "q3.xlsx",
        "file.expands_too_much",
        "The workbook expands to 296 MB; the limit is 50 MB",
    ),
    (hostile.high_compression_ratio, "q3.xlsx", "file.compression_ratio", "100 times"),
    (hostile.too_many_parts, "q3.xlsx", "file.too_many_parts", "the limit is 200"),
    (hostile.huge_attribute_in_workbook, "q3.xlsx", "file.not_xlsx", "is not an Excel .xlsx"),
    (hostile.huge_shared_string, "q3.xlsx", "file.too_much_text", "the limit is 5 MB"),
    (hostile.billion_laughs_sheet, "q3.xlsx", "file.unsafe_xml", "can't read safely"),
    (hostile.billion_laughs_shared_strings, "q3.xlsx", "file.unsafe_xml", "can't read safely"),
    (hostile.xxe_workbook, "q3.xlsx", "file.unsafe_xml", "can't read safely"),
    (hostile.xxe_shared_strings, "q3.xlsx", "file.unsafe_xml", "can't read safely"),
    (hostile.utf16_doctype, "q3.xlsx", "file.unsafe_xml", "can't read safely"),
    (
        hostile.xfd1048576,
        "q3.xlsx",
        "file.outside_area",
        "Sheet 'Return' has content outside the template area (XFD1048576)",
    ),
    (hostile.utf16_far_cell, "q3.xlsx", "file.outside_area", "template area (XFD1048576)"),
    (hostile.prefixed_far_cell, "q3.xlsx", "file.outside_area", "template area (XFD1048576)"),
    (hostile.far_cell_behind_comment, "q3.xlsx", "file.outside_area", "template area (XFD1048576)"),
    (hostile.rows_beyond_area, "q3.xlsx", "file.outside_area", "template area (C2500)"),
    (hostile.implicit_positions, "q3.xlsx", "file.outside_area", "template area (B2100)"),
]


def refusal(content: bytes, name: str, limits: Limits = DEFAULT_LIMITS) -> UnreadableWorkbook:
    with pytest.raises(UnreadableWorkbook) as caught:
        check_container(content, name, limits)
    return caught.value


def assert_plain(message: str, name: str) -> None:
    """Names the file, says what to do, and shows nothing of the file or of Python."""
    assert f"'{name}'" in message
    assert "upload" in message.lower()
    for leak in (
        "Traceback",
        "Error",
        "Exception",
        'File "',
        hostile.PASSWD_MARKER,
        "lol",
        "<",
        "xl/",
        "\\x",
    ):
        assert leak not in message, leak


@pytest.mark.parametrize(
    ("build", "name", "rule", "words"), REFUSED, ids=[f"{b.__name__}-{n}" for b, n, _, _ in REFUSED]
)
def test_refuses_with_rule_and_plain_message(build, name, rule, words):
    content = build()
    started = time.perf_counter()
    problem = refusal(content, name)
    elapsed = time.perf_counter() - started
    assert (problem.rule, words in problem.message) == (rule, True), problem.message
    assert_plain(problem.message, name)
    assert elapsed < GENEROUS_SECONDS


def test_zip_bomb_is_refused_from_the_directory_without_decompressing():
    content = hostile.zip_bomb()
    assert len(content) < 1024 * 1024
    tracemalloc.start()
    try:
        started = time.perf_counter()
        problem = refusal(content, "bomb.xlsx")
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert problem.rule == "file.expands_too_much"
    assert peak < 50 * 1024 * 1024
    assert elapsed < GENEROUS_SECONDS


def test_far_cell_is_found_whichever_chunk_edge_splits_its_tags():
    # The row and cell tags are about 40 bytes; move them across the first chunk edge.
    for offset in range(CHUNK - 45, CHUNK + 2):
        problem = refusal(hostile.far_cell_at_offset(offset), "q3.xlsx")
        assert "(XFD1048576)" in problem.message, offset


def test_lying_dimension_is_accepted_and_the_real_extent_measured():
    info = check_container(hostile.lying_dimension(), "q3.xlsx")
    (sheet,) = info.sheets
    assert (sheet.name, sheet.max_row, sheet.max_column) == ("Return", 6, 3)


def test_a_far_cell_inside_a_comment_is_not_content():
    info = check_container(hostile.far_cell_in_comment(), "q3.xlsx")
    assert info.sheets[0].max_row == 1


def test_xlsx_content_is_accepted_whatever_its_name_says():
    info = check_container(hostile.small_return(), "return.ods")
    assert info.sheet_parts == {"Return": "xl/worksheets/sheet1.xml"}


def test_valid_workbook_maps_sheets_to_parts_with_their_state():
    info = check_container(hostile.every_kind_of_cell(), "q3.xlsx")
    assert [(s.name, s.state, s.kind) for s in info.sheets] == [
        ("Return", "visible", "worksheet"),
        ("Hidden", "hidden", "worksheet"),
        ("Secret", "veryHidden", "worksheet"),
    ]
    assert info.sheet_parts["Secret"] == "xl/worksheets/sheet3.xml"
    assert info.sheets[0].max_row == 4
    assert info.entries > 0 and info.uncompressed_bytes > 0


def test_limits_can_be_tightened():
    small = hostile.small_return()
    assert refusal(small, "q3.xlsx", Limits(max_rows=3)).rule == "file.outside_area"
    assert refusal(small, "q3.xlsx", Limits(max_columns=2)).rule == "file.outside_area"
    too_large = refusal(small, "q3.xlsx", Limits(max_file_bytes=1000))
    assert too_large.rule == "file.too_large"
    assert "the limit is 0 MB" not in too_large.message
    assert refusal(small, "q3.xlsx", Limits(max_entries=3)).rule == "file.too_many_parts"
    assert refusal(small, "q3.xlsx", Limits(max_cells=10)).rule == "file.too_many_cells"


def test_a_sheet_that_fills_the_area_exactly_is_accepted():
    content = hostile.valid_return(
        rows=DEFAULT_LIMITS.max_rows - 1, columns=DEFAULT_LIMITS.max_columns
    )
    started = time.perf_counter()
    info = check_container(content, "full.xlsx")
    elapsed = time.perf_counter() - started
    sheet = info.sheets[0]
    assert (sheet.max_row, sheet.max_column) == (
        DEFAULT_LIMITS.max_rows,
        DEFAULT_LIMITS.max_columns,
    )
    assert elapsed < GENEROUS_SECONDS


def test_names_from_the_upload_are_cleaned_before_they_are_shown():
    problem = refusal(b"", "../../evil\u202eslx.xlsx")
    assert "\u202e" not in problem.message
    assert "'evilslx.xlsx'" in problem.message
    assert refusal(b"", "").message.startswith("The file is empty.")
