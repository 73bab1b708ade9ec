"""Builders of valid, odd and hostile upload files for the reader's tests. Each returns bytes.

Hostile files start from a valid workbook written by xlsxwriter and rewrite its parts, so that
everything but the attack is exactly what Excel-compatible writers produce.
"""

from __future__ import annotations

import functools
import importlib
import io
import random
import struct
import zipfile
import zlib
from collections.abc import Iterable
from datetime import date

import xlsxwriter
import xlwt
from msoffcrypto.format.ooxml import OOXMLFile

SHEET = "xl/worksheets/sheet1.xml"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
BOMB_BYTES = 310_000_000  # 296 MB
PASSWD_MARKER = "root:"  # what /etc/passwd would leak if an external entity were resolved


def valid_return(rows: int = 50, columns: int = 4) -> bytes:
    """A plain return: sheet 'Return' with a header row and ``rows`` rows of whole numbers."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("Return")
    sheet.write_string(0, 0, "Indicator")
    for column in range(1, columns):
        sheet.write_string(0, column, f"Q{column}")
    for row in range(1, rows + 1):
        sheet.write_string(row, 0, f"Measure {row}")
        for column in range(1, columns):
            sheet.write_number(row, column, row * column)
    book.close()
    return buffer.getvalue()


@functools.cache
def small_return() -> bytes:
    """The valid return most hostile files are made from."""
    return valid_return(rows=5, columns=3)


def every_kind_of_cell() -> bytes:
    """A workbook with text, numbers, a date, formulas with and without errors, hidden sheets.

    Return: A1 'Indicator', A2 'Referrals', B2 12, B3 2.5, B4 date 2025-06-30, C2 =B2*2 saved as
    24, D2 =1/0 saved as #DIV/0!, E2 an empty string (stays empty), F2 =B2 saved as "" (a formula
    with an empty saved value). 'Hidden' (hidden) A1 = 1; 'Secret' (veryHidden) A1 = 'x'.
    """
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("Return")
    dated = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_string("A1", "Indicator")
    sheet.write_string("A2", "Referrals")
    sheet.write_number("B2", 12)
    sheet.write_number("B3", 2.5)
    sheet.write_datetime("B4", date(2025, 6, 30), dated)
    sheet.write_formula("C2", "=B2*2", None, 24)
    sheet.write_formula("D2", "=1/0", None, "#DIV/0!")
    sheet.write_string("E2", "")
    sheet.write_formula("F2", '=""', None, "")
    hidden = book.add_worksheet("Hidden")
    hidden.write_number("A1", 1)
    hidden.hide()
    secret = book.add_worksheet("Secret")
    secret.write_string("A1", "x")
    secret.very_hidden()
    book.close()
    return buffer.getvalue()


def openpyxl_formula() -> bytes:
    """A workbook written by openpyxl: B1 = 5 and C1 = '=B1*2' with no saved value."""
    # Imported by name: openpyxl has no type stubs here, and this keeps mypy quiet either way.
    openpyxl = importlib.import_module("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Return"
    sheet["A1"] = "Total"
    sheet["B1"] = 5
    sheet["C1"] = "=B1*2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def rewrite(
    content: bytes,
    replace: dict[str, bytes | None] | None = None,
    add: dict[str, bytes] | None = None,
) -> bytes:
    """A copy of a zip with some entries replaced (or dropped, given ``None``) and some added."""
    replace = replace or {}
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(content)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            if info.filename in replace:
                data = replace[info.filename]
                if data is not None:
                    target.writestr(info.filename, data)
            else:
                target.writestr(info.filename, source.read(info.filename))
        for name, data in (add or {}).items():
            target.writestr(name, data)
    return out.getvalue()


def sheet_xml(body: str, dimension: str = "A1", head: str = "") -> bytes:
    """A worksheet part holding ``body`` as its sheetData (``head`` goes before the root)."""
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n{head}'
        f'<worksheet xmlns="{MAIN_NS}"><dimension ref="{dimension}"/>'
        f"<sheetData>{body}</sheetData></worksheet>"
    ).encode()


def with_sheet(body: str, dimension: str = "A1", head: str = "") -> bytes:
    """The small return with its sheet's data replaced."""
    return rewrite(small_return(), {SHEET: sheet_xml(body, dimension, head)})


def _streamed(content: bytes, name: str, pieces: Iterable[bytes]) -> bytes:
    """The workbook with entry ``name`` replaced by ``pieces``, deflated as they stream."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(content)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target,
    ):
        for info in source.infolist():
            if info.filename != name:
                target.writestr(info.filename, source.read(info.filename))
        with target.open(name, "w") as stream:
            for piece in pieces:
                stream.write(piece)
    return out.getvalue()


def _spaces(total: int) -> Iterable[bytes]:
    chunk = b" " * (1 << 20)
    while total > 0:
        yield chunk[: min(total, len(chunk))]
        total -= len(chunk)


@functools.cache
def zip_bomb() -> bytes:
    """About 300 KB whose sheet part expands to 296 MB (of whitespace between two tags)."""
    head = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}"><sheetData>'
    tail = "</sheetData></worksheet>"
    body = BOMB_BYTES - len(head) - len(tail)
    return _streamed(small_return(), SHEET, [head.encode(), *_spaces(body), tail.encode()])


@functools.cache
def high_compression_ratio() -> bytes:
    """A workbook with a 20 MB part that is stored in about 20 KB (within the total limit)."""
    return _streamed(small_return(), "xl/media/padding.xml", _spaces(20 * 1024 * 1024))


def lying_sizes() -> bytes:
    """A sheet part whose zip directory declares only its first, valid-looking, bytes.

    The real entry goes on with 2 MB of whitespace; the declared size and CRC cover only the first
    part, so ``zipfile`` alone would read a clean short sheet and never notice.
    """
    honest = sheet_xml('<row r="1"><c r="A1"><v>1</v></c></row>')
    content = _streamed(small_return(), SHEET, [honest, *_spaces(2 * 1024 * 1024)])
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        info = archive.getinfo(SHEET)
    patched = bytearray(content)
    crc = zlib.crc32(honest)
    local = info.header_offset
    struct.pack_into("<I", patched, local + 14, crc)
    struct.pack_into("<I", patched, local + 22, len(honest))
    central = _central_entry(patched, SHEET)
    struct.pack_into("<I", patched, central + 16, crc)
    struct.pack_into("<I", patched, central + 24, len(honest))
    return bytes(patched)


def _central_entry(content: bytearray, name: str) -> int:
    """The offset of ``name``'s record in the zip's central directory."""
    central = content.find(b"PK\x01\x02")
    while central >= 0:
        name_length = struct.unpack_from("<H", content, central + 28)[0]
        if content[central + 46 : central + 46 + name_length] == name.encode():
            return central
        central = content.find(b"PK\x01\x02", central + 4)
    raise LookupError(name)


_LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">'
        for n in range(1, 10)
    )
    + "]>"
)


def billion_laughs_sheet() -> bytes:
    """Entity expansion ("billion laughs") in the sheet part."""
    body = '<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
    return with_sheet(body, head=_LAUGHS)


def billion_laughs_shared_strings() -> bytes:
    """Entity expansion in ``xl/sharedStrings.xml``."""
    strings = (
        f'<?xml version="1.0" encoding="UTF-8"?>{_LAUGHS}'
        f'<sst xmlns="{MAIN_NS}" count="1" uniqueCount="1"><si><t>&lol9;</t></si></sst>'
    )
    return rewrite(small_return(), {"xl/sharedStrings.xml": strings.encode()})


def _workbook_xml(content: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return archive.read("xl/workbook.xml").decode()


def xxe_workbook() -> bytes:
    """An external entity (``file:///etc/passwd``) declared and used in ``xl/workbook.xml``."""
    text = _workbook_xml(small_return())
    declaration = '<!DOCTYPE workbook [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    text = text.replace("?>", "?>" + declaration, 1)
    text = text.replace(
        "</sheets>",
        '</sheets><definedNames><definedName name="x">&xxe;</definedName></definedNames>',
        1,
    )
    return rewrite(small_return(), {"xl/workbook.xml": text.encode()})


def xxe_shared_strings() -> bytes:
    """An external entity in ``xl/sharedStrings.xml``."""
    strings = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        f'<sst xmlns="{MAIN_NS}" count="1" uniqueCount="1"><si><t>&xxe;</t></si></sst>'
    )
    return rewrite(small_return(), {"xl/sharedStrings.xml": strings.encode()})


def utf16_doctype() -> bytes:
    """A DTD in a sheet part encoded as UTF-16 (which parsers accept) to slip past byte checks."""
    text = sheet_xml('<row r="1"><c r="A1"><v>1</v></c></row>', head=_LAUGHS).decode()
    text = text.replace('encoding="UTF-8"', 'encoding="UTF-16"')
    return rewrite(small_return(), {SHEET: text.encode("utf-16")})


def utf16_far_cell() -> bytes:
    """The far cell in a sheet part encoded as UTF-16."""
    text = sheet_xml('<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>').decode()
    text = text.replace('encoding="UTF-8"', 'encoding="UTF-16"')
    return rewrite(small_return(), {SHEET: text.encode("utf-16")})


def xfd1048576() -> bytes:
    """One value at the last cell of a sheet, XFD1048576 (about 5 KB)."""
    body = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>Return</t></is></c></row>'
        '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    )
    return with_sheet(body, dimension="A1:XFD1048576")


def lying_dimension() -> bytes:
    """A small valid sheet whose ``<dimension>`` claims A1:XFD1048576 (must be accepted)."""
    with zipfile.ZipFile(io.BytesIO(small_return())) as archive:
        text = archive.read(SHEET).decode()
    start = text.index('<dimension ref="') + len('<dimension ref="')
    end = text.index('"', start)
    text = text[:start] + "A1:XFD1048576" + text[end:]
    return rewrite(small_return(), {SHEET: text.encode()})


def rows_beyond_area(rows: int = 2500) -> bytes:
    """A plausible sheet that simply goes on too long: ``rows`` rows of three numbers."""
    body = "".join(
        f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}"><v>1</v></c><c r="C{r}"><v>2</v></c>'
        "</row>"
        for r in range(1, rows + 1)
    )
    return with_sheet(body, dimension=f"A1:C{rows}")


def implicit_positions(rows: int = 2100) -> bytes:
    """Rows and cells with no ``r`` at all: their position is only known by counting."""
    return with_sheet("<row><c><v>1</v></c><c><v>2</v></c></row>" * rows)


def prefixed_far_cell() -> bytes:
    """The far cell written with a namespace prefix (``<x:c>``), as some writers do."""
    text = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<x:worksheet xmlns:x="{MAIN_NS}"><x:sheetData>'
        '<x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c></x:row>'
        "<x:row r='1048576'><x:c s='0' r='XFD1048576'><x:v>1</x:v></x:c></x:row>"
        "</x:sheetData></x:worksheet>"
    )
    return rewrite(small_return(), {SHEET: text.encode()})


def far_cell_behind_comment() -> bytes:
    """A comment holding a stray quote, then the far cell: a naive tag scan would miss it."""
    body = (
        '<row r="1"><c r="A1"><v>1</v></c></row><!-- <c a=" -->'
        '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row><!-- " > -->'
    )
    return with_sheet(body)


def far_cell_in_comment() -> bytes:
    """A far cell only inside a comment: not content, so it must not cause a reject."""
    return with_sheet('<row r="1"><c r="A1"><v>1</v></c></row><!-- <c r="XFD1048576"/> -->')


def far_cell_at_offset(offset: int) -> bytes:
    """The far cell's tag placed to start ``offset`` bytes into the sheet part (chunk edges)."""
    prefix = sheet_xml("").decode().split("<sheetData>")[0] + "<sheetData>"
    filler = max(0, offset - len(prefix))
    body = " " * filler + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    return with_sheet(body)


def real_xls() -> bytes:
    """An old Excel 97-2003 workbook written by xlwt."""
    book = xlwt.Workbook()
    sheet = book.add_sheet("Return")
    sheet.write(0, 0, "Indicator")
    sheet.write(1, 1, 12)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def encrypted_xlsx() -> bytes:
    """The small return encrypted with a password to open (an OLE file with EncryptedPackage)."""
    out = io.BytesIO()
    OOXMLFile(io.BytesIO(small_return())).encrypt("secret", out)
    return out.getvalue()


def xlsm() -> bytes:
    """The small return carrying a VBA project, as a macro-enabled workbook does."""
    return rewrite(small_return(), add={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0" + bytes(512)})


def macro_content_type() -> bytes:
    """The small return whose workbook is declared macro-enabled (no vbaProject.bin)."""
    with zipfile.ZipFile(io.BytesIO(small_return())) as archive:
        types = archive.read("[Content_Types].xml").decode()
    types = types.replace(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    )
    return rewrite(small_return(), {"[Content_Types].xml": types.encode()})


def ods() -> bytes:
    """A minimal OpenDocument spreadsheet."""
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        ' manifest:version="1.2"><manifest:file-entry manifest:full-path="/"'
        ' manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="Return"><table:table-row>'
        "<table:table-cell><text:p>Indicator</text:p></table:table-cell>"
        "</table:table-row></table:table></office:spreadsheet></office:body>"
        "</office:document-content>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def empty() -> bytes:
    """A 0-byte upload."""
    return b""


def truncated_xlsx() -> bytes:
    """The first half of a valid workbook, as an interrupted copy leaves it."""
    content = valid_return()
    return content[: len(content) // 2]


def pdf_renamed() -> bytes:
    """A PDF (as if renamed to .xlsx)."""
    return (
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n"
        b"%%EOF\n"
    )


def csv_renamed() -> bytes:
    """A CSV export (as if renamed to .xlsx)."""
    return b"Indicator,Q1,Q2\nReferrals,12,15\nAssessments,8,9\n"


def text_renamed() -> bytes:
    """Plain text (as if renamed to .xlsx)."""
    return b"Please find our return attached.\n"


def missing_workbook_xml() -> bytes:
    """A zip like an xlsx but without ``xl/workbook.xml``."""
    return rewrite(small_return(), {"xl/workbook.xml": None})


def missing_content_types() -> bytes:
    """A zip like an xlsx but without ``[Content_Types].xml``."""
    return rewrite(small_return(), {"[Content_Types].xml": None})


def too_many_parts(count: int = 250) -> bytes:
    """The small return with ``count`` extra tiny parts."""
    return rewrite(small_return(), add={f"xl/extra/part{n}.xml": b"<a/>" for n in range(count)})


def zip_encrypted_entry() -> bytes:
    """The small return with one entry flagged as zip-encrypted (Excel never writes this)."""
    content = bytearray(small_return())
    with zipfile.ZipFile(io.BytesIO(bytes(content))) as archive:
        info = archive.getinfo(SHEET)
    local = info.header_offset
    flags = struct.unpack_from("<H", content, local + 6)[0]
    struct.pack_into("<H", content, local + 6, flags | 1)
    central = _central_entry(content, SHEET)
    flags = struct.unpack_from("<H", content, central + 8)[0]
    struct.pack_into("<H", content, central + 8, flags | 1)
    return bytes(content)


def _noise(length: int) -> str:
    """Text that deflates about 17 to 1: far below the compression-ratio limit, yet small."""
    rng = random.Random(length)
    return "".join(rng.choices("ab", weights=(9, 1), k=length))


@functools.cache
def huge_attribute_in_workbook() -> bytes:
    """One 45 MB attribute in ``xl/workbook.xml``: seconds of parser CPU if it were parsed."""
    text = _workbook_xml(small_return())
    text = text.replace(
        "<sheets>", '<fileVersion appName="' + _noise(45_000_000) + '"/><sheets>', 1
    )
    return rewrite(small_return(), {"xl/workbook.xml": text.encode()})


@functools.cache
def huge_shared_string() -> bytes:
    """One 8 MB string used by 40 cells: 320 MB of text once read, from a 1 MB file."""
    strings = (
        f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN_NS}" count="40" '
        f'uniqueCount="1"><si><t>{_noise(8_000_000)}</t></si></sst>'
    )
    cells = "".join(f'<row r="{r}"><c r="A{r}" t="s"><v>0</v></c></row>' for r in range(1, 41))
    return rewrite(
        small_return(), {"xl/sharedStrings.xml": strings.encode(), SHEET: sheet_xml(cells)}
    )


@functools.cache
def long_cell_text() -> bytes:
    """A cell with more text than Excel can hold (40,000 characters), under the text cap."""
    strings = (
        f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN_NS}" count="1" '
        f'uniqueCount="1"><si><t>{_noise(40_000)}</t></si></sst>'
    )
    return rewrite(
        small_return(),
        {
            "xl/sharedStrings.xml": strings.encode(),
            SHEET: sheet_xml('<row r="1"><c r="A1" t="s"><v>0</v></c></row>'),
        },
    )
