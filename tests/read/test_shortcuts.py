"""The shortcuts that make a read quick find and refuse exactly what the long way would."""

from __future__ import annotations

import io
import os
import struct
import zipfile

import pytest

from digest.read.container import check_container
from digest.read.errors import UnreadableWorkbook
from digest.read.ooxml import PackageError, iter_starts
from digest.read.safe import SafeReader, read_workbook
from digest.read.xmlscan import CHUNK, CellExtent, LyingSizeError, entry_chunks
from tests import hostile


@pytest.fixture(scope="module")
def reader():
    safe = SafeReader()
    yield safe
    safe.close()


def refusal(content: bytes) -> UnreadableWorkbook:
    with pytest.raises(UnreadableWorkbook) as caught:
        check_container(content, "q3.xlsx")
    return caught.value


def extent(sheet: bytes) -> tuple[int, int, int]:
    measured = CellExtent(budget=1000)
    measured.feed(sheet)
    return measured.max_row, measured.max_column, measured.tokens


def sheet_at_offset(offset: int, body: str) -> bytes:
    """The small return with ``body`` placed ``offset`` bytes into its sheet part."""
    head = hostile.sheet_xml("").decode().split("<sheetData>")[0] + "<sheetData>"
    return hostile.with_sheet(" " * max(0, offset - len(head)) + body)


def with_directory_field(content: bytes, name: str, field: int, value: int) -> bytes:
    """``content`` with a 4-byte field of ``name``'s central directory entry set to ``value``."""
    changed = bytearray(content)
    at = changed.index(b"PK\x01\x02")
    while changed[at + 46 : at + 46 + len(name)] != name.encode():
        at = changed.index(b"PK\x01\x02", at + 4)
    struct.pack_into("<I", changed, at + field, value)
    return bytes(changed)


@pytest.mark.parametrize(
    ("sheet", "expected"),
    [
        (b'<row r="7"><c r="B7"/><c r="C7"/></row>', (7, 3, 3)),
        (b"<row r=' 7 '><c r='$B$7'/><c/></row>", (7, 3, 3)),
        (b'<x:row r="7"><x:c  r = "b7" s="1"/></x:row>', (7, 2, 2)),
        (b'<row r="7"><c t="s" r="B7"/></row>', (7, 2, 2)),
        (
            b'<row r="7" spans="1:2"><c r="AB7" t="inlineStr"><is><t>a</t></is></c></row>',
            (7, 28, 2),
        ),
        (b'<row r="7"><c r="B7"/></row><row><c/><c/></row>', (8, 2, 5)),
    ],
)
def test_plain_and_unusual_references_are_measured_alike(sheet, expected):
    assert extent(sheet) == expected


@pytest.mark.parametrize(
    "sheet", [b'<row r="0"/>', b'<c r="A0"/>', b'<c r="7"/>', b'<row r="A7"/>']
)
def test_a_reference_that_is_no_reference_is_refused(sheet):
    with pytest.raises(ValueError):
        extent(sheet)


@pytest.mark.parametrize("attribute", ['a="<"', "a='x\"", 'a="x<y"'])
def test_a_cell_tag_with_a_lt_inside_is_refused_not_skipped(attribute):
    # calamine takes a '<' in a quoted value as text, so it reads such a cell where it says.
    body = f'<row r="1"><c r="A1"><v>1</v></c><c r="XFD1" {attribute}><v>1</v></c></row>'
    assert refusal(hostile.with_sheet(body)).rule == "file.damaged"


def test_a_lt_in_a_cell_tag_is_not_mistaken_for_a_tag_cut_by_a_chunk_edge():
    measured = CellExtent(budget=1000)
    measured.feed(b'<row r="1"><c r="XFD1" a="x')
    measured.feed(b'y"><v>1</v></c></row>')
    assert (measured.max_row, measured.max_column) == (1, 16384)


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 7])
@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_every_entry_reads_as_zipfile_reads_it(size, method):
    data = (b"<row/>" * size)[: size // 2] + os.urandom(size - size // 2)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        archive.writestr("part.xml", data)
    content = buffer.getvalue()
    (info,) = zipfile.ZipFile(io.BytesIO(content)).infolist()
    chunks = list(entry_chunks(content, info))
    assert b"".join(chunks) == data
    assert all(0 < len(chunk) <= CHUNK for chunk in chunks)


def test_an_entry_holding_more_than_it_declares_is_a_lie():
    content = hostile.small_return()
    lying = with_directory_field(content, hostile.SHEET, 24, 10)  # the uncompressed size
    info = zipfile.ZipFile(io.BytesIO(lying)).getinfo(hostile.SHEET)
    with pytest.raises(LyingSizeError):
        list(entry_chunks(lying, info))
    assert refusal(lying).rule == "file.damaged"


def test_an_entry_with_a_wrong_crc_or_past_the_end_of_the_file_is_damaged():
    content = hostile.small_return()
    info = zipfile.ZipFile(io.BytesIO(content)).getinfo(hostile.SHEET)
    wrong_crc = with_directory_field(content, hostile.SHEET, 16, info.CRC ^ 1)
    past_the_end = with_directory_field(content, hostile.SHEET, 20, len(content))
    assert refusal(wrong_crc).rule == "file.damaged"
    assert refusal(past_the_end).rule == "file.damaged"


def test_sheets_without_formulas_or_errors_are_found_plain():
    assert check_container(hostile.small_return(), "q3.xlsx").plain_sheets == {"Return"}
    info = check_container(hostile.every_kind_of_cell(), "q3.xlsx")
    assert info.plain_sheets == {"Hidden", "Secret"}
    assert check_container(hostile.openpyxl_formula(), "q3.xlsx").plain_sheets == set()


@pytest.mark.parametrize(
    "cell",
    [
        '<c r="A1"><f>1+1</f><v>2</v></c>',
        '<c r="A1"><f t="shared" si="0"/><v>2</v></c>',
        "<c r='A1' t = 'e'><v>#N/A</v></c>",
        '<c r="A1" t="&#101;"><v>#N/A</v></c>',
    ],
)
def test_a_formula_or_error_is_noticed_wherever_a_chunk_edge_cuts_it(cell):
    for offset in range(CHUNK - len(cell) - 12, CHUNK + 2):
        info = check_container(sheet_at_offset(offset, f'<row r="1">{cell}</row>'), "q3.xlsx")
        assert info.plain_sheets == set(), offset


def test_a_prefixed_formula_is_noticed():
    text = (
        f'<x:worksheet xmlns:x="{hostile.MAIN_NS}"><x:sheetData><x:row r="1"><x:c r="A1">'
        "<x:f>1+1</x:f><x:v>2</x:v></x:c></x:row></x:sheetData></x:worksheet>"
    )
    content = hostile.rewrite(hostile.small_return(), {hostile.SHEET: text.encode()})
    assert check_container(content, "q3.xlsx").plain_sheets == set()


def test_a_utf16_sheet_is_never_taken_as_plain():
    # The reader looks at such a part's XML whatever it holds, as it always has.
    text = hostile.sheet_xml('<row r="1"><c r="A1"><v>1</v></c></row>').decode()
    text = text.replace('encoding="UTF-8"', 'encoding="UTF-16"')
    content = hostile.rewrite(hostile.small_return(), {hostile.SHEET: text.encode("utf-16")})
    assert check_container(content, "q3.xlsx").plain_sheets == set()


@pytest.mark.parametrize(
    "build", [hostile.every_kind_of_cell, hostile.openpyxl_formula, hostile.small_return]
)
def test_a_read_told_which_sheets_are_plain_gives_the_same_cells(reader, build):
    content = build()
    assert read_workbook(content, "q3.xlsx") == reader.read(content, "q3.xlsx")


def test_index_parts_give_the_elements_before_a_fault_then_refuse():
    found = []
    with pytest.raises(PackageError):
        for name, _ in iter_starts([b"<Types><Default/>", b"<Override/><Bad></Types>"]):
            found.append(name)
    assert found == ["Types", "Default", "Override", "Bad"]
    with pytest.raises(PackageError):
        list(iter_starts([b"<a><b/><c/><d/></a>"], max_elements=3))
