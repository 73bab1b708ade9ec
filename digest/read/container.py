"""Checks on an uploaded file's bytes, made before any XML parser or spreadsheet library sees them.

Pure Python (``zipfile``, ``re``). Every refusal is an :class:`UnreadableWorkbook` with a stable
rule and a plain message that names the file and says what to do, and never quotes its content.
"""

from __future__ import annotations

import io
import itertools
import logging
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from digest.read.cells import a1
from digest.read.errors import MAX_SHOWN_SHEET, UnreadableWorkbook, capitalised, shown, the_file
from digest.read.ooxml import (
    CONTENT_TYPES,
    SHARED_STRINGS,
    WORKBOOK_PART,
    WORKBOOK_RELS,
    PackageError,
    SheetEntry,
    iter_starts,
    listed_sheets,
)
from digest.read.xmlscan import (
    CellExtent,
    CrampedTagError,
    DeclarationCheck,
    LyingSizeError,
    TooManyTokensError,
    UnsafeXmlError,
    as_utf8,
    entry_chunks,
    may_be_wide,
)

__all__ = [
    "DEFAULT_LIMITS",
    "ContainerInfo",
    "Limits",
    "SheetInfo",
    "UnreadableWorkbook",
    "check_container",
]

log = logging.getLogger(__name__)

MB = 1024 * 1024

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_SIGNATURE = b"PK\x03\x04"
ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
MACRO_NAMES = (".xlsm", ".xltm", ".xlam")
SHEET_FOLDERS = ("xl/worksheets/", "xl/macrosheets/", "xl/dialogsheets/")

_END_OF_DIRECTORY = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_END = b"PK\x06\x06"
# A real xlsx's directory entry is under 200 bytes; 1 KB each is generous.
_DIRECTORY_BYTES_PER_ENTRY = 1024

_RE_SAVE = "Open it in Excel, choose File > Save As > Excel Workbook (.xlsx), and upload the .xlsx."


@dataclass(frozen=True)
class Limits:
    """How big an upload may be. Sizes are in bytes; an MB is 1,048,576 bytes."""

    max_file_bytes: int = 10 * MB
    max_entries: int = 200
    max_uncompressed_bytes: int = 50 * MB
    max_compression_ratio: float = 100.0
    ratio_applies_above: int = 1 * MB  # entries smaller than this uncompressed may compress better
    max_rows: int = 2000
    max_columns: int = 52
    max_cells: int = 500_000  # <c>, <row> and comment tokens in all sheets: bounds the scan time
    # The parts parsed in this process are a few KB in a real workbook; a huge one could hold
    # one enormous token that takes the XML parser seconds of CPU.
    max_index_bytes: int = 1 * MB
    # A return's text (labels, codes, explanations) is tens of KB; far more is no return.
    max_shared_strings_bytes: int = 5 * MB


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class SheetInfo:
    """A sheet as the container check saw it: where it is stored, the largest cell it uses, and
    whether it may hold formulas or error values (``False`` only when it certainly holds none)."""

    name: str
    state: str
    kind: str
    part: str | None
    max_row: int
    max_column: int
    may_have_marks: bool = True


@dataclass(frozen=True)
class ContainerInfo:
    """What the container check learned about a workbook that passed it."""

    sheets: tuple[SheetInfo, ...]
    entries: int
    uncompressed_bytes: int

    @property
    def sheet_parts(self) -> dict[str, str]:
        """Sheet name -> the zip entry holding it (sheets whose entry is missing are left out)."""
        return {sheet.name: sheet.part for sheet in self.sheets if sheet.part is not None}

    @property
    def plain_sheets(self) -> frozenset[str]:
        """The names of the sheets that certainly hold no formula and no error value."""
        marked = {sheet.name for sheet in self.sheets if sheet.may_have_marks}
        return frozenset(sheet.name for sheet in self.sheets if sheet.name not in marked)


def check_container(
    content: bytes, filename: str, limits: Limits = DEFAULT_LIMITS
) -> ContainerInfo:
    """Check an upload is a plain .xlsx workbook, safe to parse, within ``limits``.

    ``filename`` is the name to show in messages (it decides nothing, except that a ``.xlsm`` name
    is refused). Raises :class:`UnreadableWorkbook` with a rule such as ``file.xls``.
    """
    file = the_file(filename)
    _check_signature(content, file, limits)
    _check_directory(content, file, limits)
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            infos = archive.infolist()
        return _check_archive(content, infos, filename, file, limits)
    except UnreadableWorkbook:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        LyingSizeError,
        PackageError,
        ValueError,
        EOFError,
        OSError,
        NotImplementedError,
        RuntimeError,
        zlib.error,
        struct.error,
    ) as problem:
        raise _damaged(file) from problem
    except Exception as problem:
        # Not expected; the user still gets a plain answer. Only the type is logged: exception
        # text may quote the file.
        log.warning("container check failed unexpectedly: %s", type(problem).__name__)
        raise UnreadableWorkbook(
            "file.unreadable",
            f"We could not read {file}. Re-save it in Excel as .xlsx and upload again.",
        ) from problem


def _check_signature(content: bytes, file: str, limits: Limits) -> None:
    if not content:
        raise UnreadableWorkbook(
            "file.empty",
            f"{capitalised(file)} is empty. Open it in Excel, check it has your figures, save it "
            "as .xlsx and upload again.",
        )
    if len(content) > limits.max_file_bytes:
        raise UnreadableWorkbook(
            "file.too_large",
            f"{capitalised(file)} is {_mb(len(content))}; the limit is "
            f"{_mb(limits.max_file_bytes)}. A quarterly return is much smaller: check it is the "
            "right file, delete anything that is not part of the return, save and upload again.",
        )
    if content.startswith(OLE_SIGNATURE):
        if ENCRYPTED_PACKAGE in content:
            raise UnreadableWorkbook(
                "file.encrypted",
                f"{capitalised(file)} is password-protected. Remove the password in Excel "
                "(File > Info > Protect Workbook > Encrypt with Password, clear it), save and "
                "upload again.",
            )
        raise UnreadableWorkbook(
            "file.xls",
            f"{capitalised(file)} is an old Excel 97-2003 (.xls) workbook. {_RE_SAVE}",
        )
    if b"%PDF-" in content[:1024]:
        raise UnreadableWorkbook(
            "file.pdf",
            f"{capitalised(file)} is a PDF, not an Excel .xlsx workbook. Upload the return "
            "itself: open it in Excel, choose File > Save As > Excel Workbook (.xlsx), and upload "
            "the .xlsx.",
        )
    if not content.startswith(ZIP_SIGNATURE):
        raise _not_xlsx(file)


def _check_directory(content: bytes, file: str, limits: Limits) -> None:
    """Read the entry count from the zip's end record, before ``zipfile`` builds its directory."""
    found = _directory_size(content)
    if found is None:
        raise _damaged(file)
    entries, directory_bytes = found
    if entries > limits.max_entries:
        raise _too_many_parts(file, entries, limits)
    if directory_bytes > limits.max_entries * _DIRECTORY_BYTES_PER_ENTRY:
        raise _too_many_parts(file, None, limits)


def _directory_size(content: bytes) -> tuple[int, int] | None:
    """(entries, directory size in bytes) from the end-of-central-directory record, if any."""
    end = content.rfind(_END_OF_DIRECTORY, max(0, len(content) - 22 - 65535))
    if end < 0 or len(content) - end < 22:
        return None
    entries, directory_bytes = struct.unpack_from("<HI", content, end + 10)
    if entries != 0xFFFF and directory_bytes != 0xFFFFFFFF:
        return entries, directory_bytes
    locator = end - 20
    if locator < 0 or content[locator : locator + 4] != _ZIP64_LOCATOR:
        return None
    (record,) = struct.unpack_from("<Q", content, locator + 8)
    if record + 56 > len(content) or content[record : record + 4] != _ZIP64_END:
        return None
    entries64, directory64 = struct.unpack_from("<QQ", content, record + 32)
    return entries64, directory64


def _check_archive(
    content: bytes, infos: list[zipfile.ZipInfo], filename: str, file: str, limits: Limits
) -> ContainerInfo:
    if len(infos) > limits.max_entries:
        raise _too_many_parts(file, len(infos), limits)
    for info in infos:
        # Zip encryption and other compression methods: Excel never writes them, and zipfile
        # inflates bzip2 and lzma without an output bound.
        if info.flag_bits & 0x1 or info.compress_type not in (
            zipfile.ZIP_STORED,
            zipfile.ZIP_DEFLATED,
        ):
            raise _not_xlsx(file)
    by_name = {info.filename.lower(): info for info in infos}
    _check_ods(content, by_name, file)
    _check_macros(filename, by_name, file)
    if CONTENT_TYPES.lower() not in by_name or WORKBOOK_PART not in by_name:
        raise _not_xlsx(file)
    total = _check_sizes(infos, file, limits)

    index = [
        by_name[name.lower()]
        for name in (CONTENT_TYPES, WORKBOOK_PART, WORKBOOK_RELS)
        if name.lower() in by_name
    ]
    # The index parts are small (max_index_bytes at most): kept, to be parsed without a second read.
    kept: dict[str, list[bytes]] = {}
    for info in index:
        if info.file_size > limits.max_index_bytes:
            raise _not_xlsx(file)
        kept[info.filename.lower()] = chunks = list(entry_chunks(content, info))
        _scan(iter(chunks), file, None)
    strings = by_name.get(SHARED_STRINGS)
    if strings is not None and strings.file_size > limits.max_shared_strings_bytes:
        raise UnreadableWorkbook(
            "file.too_much_text",
            f"{capitalised(file)} holds {_mb(strings.file_size)} of text; a quarterly return "
            f"holds far less (the limit is {_mb(limits.max_shared_strings_bytes)}). Check it is "
            "the right file, delete anything that is not part of the return, save and upload "
            "again.",
        )
    _check_content_types(kept[CONTENT_TYPES.lower()], file)
    if WORKBOOK_RELS not in kept:
        raise _not_xlsx(file)
    names = {name: info.filename for name, info in by_name.items()}
    try:
        entries = listed_sheets(names, kept[WORKBOOK_PART], kept[WORKBOOK_RELS])
    except PackageError as problem:
        raise _not_xlsx(file) from problem

    extents = _scan_parts(content, infos, index, entries, file, limits)
    sheets = tuple(_sheet_info(entry, extents) for entry in entries)
    return ContainerInfo(sheets=sheets, entries=len(infos), uncompressed_bytes=total)


def _sheet_info(entry: SheetEntry, extents: dict[str, CellExtent]) -> SheetInfo:
    extent = extents.get(entry.part) if entry.part is not None else None
    if extent is None:
        return SheetInfo(entry.name, entry.state, entry.kind, entry.part, 0, 0)
    return SheetInfo(
        name=entry.name,
        state=entry.state,
        kind=entry.kind,
        part=entry.part,
        max_row=extent.max_row,
        max_column=extent.max_column,
        may_have_marks=extent.may_have_marks,
    )


def _scan_parts(
    content: bytes,
    infos: list[zipfile.ZipInfo],
    done: list[zipfile.ZipInfo],
    entries: list[SheetEntry],
    file: str,
    limits: Limits,
) -> dict[str, CellExtent]:
    """Stream every entry not yet checked; measure the sheets. Returns the extent of each sheet.

    Entries in the sheet folders count as sheets even when the workbook does not list them, in
    case a parser finds them where this check does not.
    """
    sheet_of_part: dict[str, SheetEntry | None] = {
        info.filename: None
        for info in infos
        if info.filename.lower().startswith(SHEET_FOLDERS) and not info.is_dir()
    }
    sheet_of_part.update({entry.part: entry for entry in entries if entry.part is not None})
    budget = limits.max_cells
    extents: dict[str, CellExtent] = {}
    for info in infos:
        if info in done or info.is_dir():
            continue
        if info.filename not in sheet_of_part:
            _scan(entry_chunks(content, info), file, None)
            continue
        extent = CellExtent(budget)
        _scan(entry_chunks(content, info), file, extent)
        budget -= extent.tokens
        extents[info.filename] = extent
        _check_extent(sheet_of_part[info.filename], extent, file, limits)
    return extents


def _check_ods(content: bytes, by_name: dict[str, zipfile.ZipInfo], file: str) -> None:
    info = by_name.get("mimetype")
    if info is None or info.file_size > 256:
        return
    if b"".join(entry_chunks(content, info)).strip().startswith(ODS_MIMETYPE):
        raise UnreadableWorkbook(
            "file.ods",
            f"{capitalised(file)} is an OpenDocument spreadsheet (.ods); only Excel .xlsx "
            "workbooks are accepted. Open it in Excel or LibreOffice Calc, choose Save As > "
            "Excel Workbook (.xlsx), and upload the .xlsx.",
        )


def _check_macros(filename: str, by_name: dict[str, zipfile.ZipInfo], file: str) -> None:
    if filename.strip().lower().endswith(MACRO_NAMES) or any(
        name.endswith("vbaproject.bin") for name in by_name
    ):
        raise _macro(file)


def _check_content_types(chunks: list[bytes], file: str) -> None:
    for _, attributes in iter_starts(chunks):
        content_type = attributes.get("ContentType", "").lower()
        if "macroenabled" in content_type or "vbaproject" in content_type:
            raise _macro(file)


def _check_sizes(infos: list[zipfile.ZipInfo], file: str, limits: Limits) -> int:
    """The declared uncompressed total, refused when too large or when an entry is a bomb."""
    total = sum(info.file_size for info in infos)
    if total > limits.max_uncompressed_bytes:
        raise UnreadableWorkbook(
            "file.expands_too_much",
            f"The workbook expands to {_mb(total)}; the limit is "
            f"{_mb(limits.max_uncompressed_bytes)}. Delete anything that is not part of the "
            f"return from {file} (extra sheets, images, data), save it as .xlsx and upload again.",
        )
    for info in infos:
        if (
            info.file_size > limits.ratio_applies_above
            and info.file_size > limits.max_compression_ratio * max(info.compress_size, 1)
        ):
            raise UnreadableWorkbook(
                "file.compression_ratio",
                f"{capitalised(file)} holds a part that expands to more than "
                f"{limits.max_compression_ratio:g} times its stored size, which a real workbook "
                "never does. Re-save it in Excel as .xlsx and upload again.",
            )
    return total


def _scan(chunks: Iterator[bytes], file: str, extent: CellExtent | None) -> None:
    """Stream one entry's chunks: refuse declarations, and measure the cells when it is a sheet."""
    first = next(chunks, b"")
    if extent is not None and may_be_wide(first):
        # The reader reads such a sheet's XML whatever it holds (and refuses it if malformed).
        extent.may_have_marks = True
    declarations = DeclarationCheck()
    try:
        for chunk in as_utf8(itertools.chain((first,), chunks)):
            declarations.feed(chunk)
            if extent is not None:
                extent.feed(chunk)
    except UnsafeXmlError:
        raise UnreadableWorkbook(
            "file.unsafe_xml",
            f"{capitalised(file)} contains content we can't read safely (an XML document type "
            "declaration). Re-save it in Excel as .xlsx and upload again.",
        ) from None
    except TooManyTokensError:
        raise UnreadableWorkbook(
            "file.too_many_cells",
            f"{capitalised(file)} has more cells than we read from one workbook. Delete any sheets "
            "or data that are not part of the return, save it as .xlsx and upload again.",
        ) from None
    except CrampedTagError:
        raise _damaged(file) from None


def _check_extent(entry: SheetEntry | None, extent: CellExtent, file: str, limits: Limits) -> None:
    if extent.max_row <= limits.max_rows and extent.max_column <= limits.max_columns:
        return
    sheet = "A sheet" if entry is None else f"Sheet '{shown(entry.name, MAX_SHOWN_SHEET)}'"
    largest = a1(max(extent.max_row, 1), max(extent.max_column, 1))
    area = a1(limits.max_rows, limits.max_columns)
    raise UnreadableWorkbook(
        "file.outside_area",
        f"{sheet} has content outside the template area ({largest}); the area is A1:{area}. "
        f"Delete anything outside the return's table in {file} and upload again.",
    )


def _damaged(file: str) -> UnreadableWorkbook:
    return UnreadableWorkbook(
        "file.damaged",
        f"{capitalised(file)} is damaged or incomplete. Re-save it in Excel and upload again.",
    )


def _not_xlsx(file: str) -> UnreadableWorkbook:
    return UnreadableWorkbook(
        "file.not_xlsx", f"{capitalised(file)} is not an Excel .xlsx workbook. {_RE_SAVE}"
    )


def _macro(file: str) -> UnreadableWorkbook:
    return UnreadableWorkbook(
        "file.macro",
        f"Macro-enabled workbooks (.xlsm) are not accepted, and {file} is one. Open it in Excel, "
        "choose File > Save As > Excel Workbook (.xlsx) (this removes the macros), and upload "
        "the .xlsx.",
    )


def _too_many_parts(file: str, entries: int | None, limits: Limits) -> UnreadableWorkbook:
    count = "too many" if entries is None else f"{entries:,}"
    return UnreadableWorkbook(
        "file.too_many_parts",
        f"{capitalised(file)} has {count} parts; the limit is {limits.max_entries:,}. Delete "
        "anything that is not part of the return (extra sheets, images), save it as .xlsx and "
        "upload again.",
    )


def _mb(size: int) -> str:
    """``296 MB``, ``1.5 MB``, ``640 KB``."""
    if size < MB:
        return f"{max(1, round(size / 1024))} KB"
    value = size / MB
    text = f"{value:.0f}" if value >= 10 else f"{value:.1f}".removesuffix(".0")
    return f"{text} MB"
