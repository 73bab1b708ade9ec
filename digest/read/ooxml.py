"""What an xlsx package says about itself: which part holds which sheet, and where each cell sits.

Used by the container check (in the server process, after the parts have been checked for document
type declarations) and by the parser in the child process.
"""

from __future__ import annotations

import functools
import posixpath
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal
from xml.parsers import expat

from digest.read.cells import column_number

CONTENT_TYPES = "[Content_Types].xml"
WORKBOOK_PART = "xl/workbook.xml"
WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
SHARED_STRINGS = "xl/sharedstrings.xml"  # lower case, as looked up

# Index parts are a few kilobytes in a real workbook; this bounds the work a crafted one can cause.
MAX_INDEX_ELEMENTS = 100_000

SheetKind = Literal["worksheet", "chartsheet", "other"]
SheetState = Literal["visible", "hidden", "veryHidden"]

_REF = re.compile(r"\$?([A-Za-z]{1,7})\$?([0-9]{1,10})")
_ROW = re.compile(r"[0-9]{1,10}")


_column = functools.lru_cache(maxsize=1024)(column_number)


class PackageError(ValueError):
    """The package's index parts are missing, malformed or implausibly large."""


@dataclass(frozen=True)
class SheetEntry:
    """A ``<sheet>`` of ``xl/workbook.xml``: its name, state, kind and the zip entry holding it."""

    name: str
    state: SheetState
    kind: SheetKind
    part: str | None


def parse_ref(ref: str) -> tuple[int, int]:
    """``"B7"`` -> ``(7, 2)`` (row and column, 1-based); ``ValueError`` if it is not a reference."""
    match = _REF.fullmatch(ref.strip())
    if match is None or int(match.group(2)) == 0:
        raise ValueError("not a cell reference")
    return int(match.group(2)), _column(match.group(1))


def parse_row(number: str) -> int:
    """The 1-based row number of a ``<row r="…">``; ``ValueError`` if it is not one."""
    match = _ROW.fullmatch(number.strip())
    if match is None or int(number) == 0:
        raise ValueError("not a row number")
    return int(number)


class Cursor:
    """Where each ``<row>`` and ``<c>`` of a sheet sits, counted as calamine counts them.

    An explicit ``r`` wins; without one, a row is one below the previous row and a cell is one to
    the right of the previous cell in its row. Crafted files can leave ``r`` out, so the position
    must be counted, not just read.
    """

    def __init__(self) -> None:
        self.row = 0
        self.next_column = 1

    def start_row(self, r: str | None) -> int:
        """The number of the row that starts here."""
        self.row = parse_row(r) if r is not None else self.row + 1
        self.next_column = 1
        return self.row

    def cell(self, r: str | None) -> tuple[int, int]:
        """The (row, column) of the cell that starts here."""
        position = parse_ref(r) if r is not None else (max(self.row, 1), self.next_column)
        self.next_column = position[1] + 1
        return position


def local_name(tag: str) -> str:
    """``{namespace}name`` -> ``name``."""
    return tag.rpartition("}")[2]


def iter_starts(
    chunks: Iterable[bytes], max_elements: int = MAX_INDEX_ELEMENTS
) -> Iterator[tuple[str, dict[str, str]]]:
    """The local name and attributes (by local name) of each element, in document order.

    Keeps no tree, so memory stays small whatever the part's size; raises :class:`PackageError`
    when the XML is malformed or has more than ``max_elements`` elements.
    """
    # expat itself, as ElementTree uses it, but without building elements nobody keeps.
    parser = expat.ParserCreate(namespace_separator="}")
    found: list[tuple[str, dict[str, str]]] = []
    count = 0

    def start(tag: str, attributes: dict[str, str]) -> None:
        nonlocal count
        count += 1
        if count <= max_elements:
            found.append((local_name(tag), {local_name(k): v for k, v in attributes.items()}))

    parser.StartElementHandler = start
    try:
        for chunk in chunks:
            parser.Parse(chunk, False)
            yield from _taken(found, count > max_elements)
        parser.Parse(b"", True)
    except expat.ExpatError as problem:
        yield from found  # the elements before the fault come first, as from a pull parser
        raise PackageError("malformed XML") from problem
    yield from _taken(found, count > max_elements)


def _taken(
    found: list[tuple[str, dict[str, str]]], too_many: bool
) -> Iterator[tuple[str, dict[str, str]]]:
    """The elements found so far, then (if ``too_many``) :class:`PackageError`."""
    yield from found
    found.clear()
    if too_many:
        raise PackageError("too many elements")


def part_chunks(archive: zipfile.ZipFile, name: str, size: int = 65536) -> Iterator[bytes]:
    """The bytes of one zip entry, in chunks (for parts already checked by the container check)."""
    with archive.open(name) as stream:
        while chunk := stream.read(size):
            yield chunk


def find_part(names: Mapping[str, str], target: str) -> str | None:
    """The zip entry a workbook relationship target points to (part names ignore case)."""
    path = target[1:] if target.startswith("/") else posixpath.join("xl", target)
    path = posixpath.normpath(path)
    return names.get(path.lower())


def relationships(chunks: Iterable[bytes]) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type, target) of a ``.rels`` part (external targets left out)."""
    found: dict[str, tuple[str, str]] = {}
    for name, attributes in iter_starts(chunks):
        if name != "Relationship" or attributes.get("TargetMode", "") == "External":
            continue
        if "Id" in attributes and "Target" in attributes:
            found[attributes["Id"]] = (attributes.get("Type", ""), attributes["Target"])
    return found


def sheet_elements(chunks: Iterable[bytes]) -> list[tuple[str, SheetState, str]]:
    """(name, state, relationship id) of each ``<sheet>`` in ``xl/workbook.xml``, in order."""
    found: list[tuple[str, SheetState, str]] = []
    for name, attributes in iter_starts(chunks):
        if name == "sheet":
            state = attributes.get("state", "visible")
            checked: SheetState = state if state in ("hidden", "veryHidden") else "visible"  # type: ignore[assignment]
            found.append((attributes.get("name", ""), checked, attributes.get("id", "")))
    return found


def _kind(relationship_type: str) -> SheetKind:
    last = relationship_type.rsplit("/", 1)[-1]
    if last == "worksheet":
        return "worksheet"
    if last == "chartsheet":
        return "chartsheet"
    return "other"


def workbook_sheets(archive: zipfile.ZipFile) -> list[SheetEntry]:
    """Every sheet the workbook lists, with the zip entry that holds it (``None`` if missing)."""
    names = {info.filename.lower(): info.filename for info in archive.infolist()}
    workbook = names.get(WORKBOOK_PART)
    rels = names.get(WORKBOOK_RELS)
    if workbook is None or rels is None:
        raise PackageError("no workbook part")
    return listed_sheets(names, part_chunks(archive, workbook), part_chunks(archive, rels))


def listed_sheets(
    names: Mapping[str, str], workbook: Iterable[bytes], rels: Iterable[bytes]
) -> list[SheetEntry]:
    """:func:`workbook_sheets`, from the bytes of ``xl/workbook.xml`` and of its relationships.

    ``names`` maps the lower-case name of each zip entry to its name.
    """
    targets = relationships(rels)
    entries = []
    for name, state, relationship_id in sheet_elements(workbook):
        relationship = targets.get(relationship_id)
        if relationship is None:
            entries.append(SheetEntry(name, state, "other", None))
            continue
        kind = _kind(relationship[0])
        entries.append(SheetEntry(name, state, kind, find_part(names, relationship[1])))
    return entries
