"""Byte-level checks of the parts of an xlsx, made before any XML parser sees them.

Parts are streamed out of the zip in chunks (:func:`entry_chunks`), so a part is never held whole
in memory; every check copes with a token split across two chunks.
"""

from __future__ import annotations

import codecs
import functools
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator

from digest.read.cells import column_number
from digest.read.ooxml import Cursor

CHUNK = 65536
# A cell or row tag in a real workbook is well under 1 KB; a longer one is crafted.
MAX_TAG = 65536

# A zip entry's local header: signature, flags, and the lengths of the name and extra field.
_LOCAL_HEADER = struct.Struct("<4s2xH18xHH")
_UTF8_NAME = 0x800
_UNSUPPORTED_FLAGS = 0x20 | 0x40  # patched data, strong encryption: zipfile refuses them too

# A formula is an <f> element (<x:f> with a prefix); an error cell has t="e" (or a character
# reference in t's value). Each pattern starts with literal bytes, which the regex engine finds
# several times faster than a choice of patterns; they may find more than marks, never less.
_MARKS = (
    re.compile(rb"<f[\s/>]"),
    re.compile(rb":f[\s/>]"),
    re.compile(rb"""t\s*=\s*["'][e&]"""),
)

_DECLARATION = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_DECLARATION_OVERLAP = len(b"<!DOCTYPE") - 1

# What can hide or start a <row> or <c> tag: comments, CDATA, processing instructions, the tags.
# Attribute values may hold '>' but never '<'. Groups: the tag's name; its attributes; when they
# open with a plain r="B7" or r="7" (as every writer puts them), that reference's letters and
# digits, so an ordinary tag needs no second parse; the closing '>'. The attribute loop is
# possessive and its alternatives start differently, so it never backtracks; the optional r group
# consumes exactly what the loop would, so the match ends where it would without it.
_TOKEN = re.compile(
    rb"<!--|<!\[CDATA\[|<\?"
    rb"""|<(?:[^\s<>/=:!?"']++:)?(row|c)(?=[\s/>])"""
    rb"""((?:\s+r="([A-Z]{1,3})?([1-9][0-9]{0,9})")?(?:[^>"'<]++|"[^"<]*+"|'[^'<]*+')*+)(>?)"""
)
_CLOSER = {b"<!--": b"-->", b"<![CDATA[": b"]]>", b"<?": b"?>"}
_ATTRIBUTE = re.compile(rb"""([^\s=/<>"']+)\s*=\s*(?:"([^"<]*)"|'([^'<]*)')""")
_FIRST_R = re.compile(rb"""\s+r=["']([A-Za-z0-9$]{1,20})["']""")
_REFERENCE = re.compile(r"&(#[0-9]{1,7}|#x[0-9a-fA-F]{1,6}|amp|lt|gt|quot|apos);")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}

# Byte patterns that mark a part as UTF-16 or UTF-32 (which parsers accept) and its decoder.
_WIDE_ENCODINGS = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
    (b"<\x00", "utf-16-le"),
    (b"\x00<", "utf-16-be"),
)


class UnsafeXmlError(Exception):
    """A part holds a document type or entity declaration."""


class LyingSizeError(Exception):
    """A zip entry holds more data than its directory entry declares."""


class CrampedTagError(Exception):
    """A tag is longer than any real workbook writes."""


class TooManyTokensError(Exception):
    """A sheet holds more cells and rows than the budget allows."""


def entry_chunks(content: bytes, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """The bytes of the entry ``info`` of the zip ``content``, in chunks of at most :data:`CHUNK`.

    Found and checked as ``zipfile`` finds and checks them (through the entry's local header,
    bounded by the directory's compressed size, CRC compared), and refused as it refuses them:
    ``BadZipFile``, ``EOFError`` or ``NotImplementedError``. But ``zipfile`` stops at the declared
    size, which would hide a lie; here :class:`LyingSizeError` is raised as soon as the entry holds
    more, after at most one chunk beyond it has been inflated. Only stored and deflated entries.
    """
    start = _data_start(content, info)
    data = memoryview(content)[start : start + info.compress_size]
    if len(data) < info.compress_size:  # the file ends inside the entry
        raise EOFError
    if info.compress_type == zipfile.ZIP_STORED:
        pieces: Iterator[bytes] = (
            bytes(data[at : at + CHUNK]) for at in range(0, len(data), CHUNK)
        )
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        pieces = _inflated(data)
    else:
        raise NotImplementedError("compression method")
    size = 0
    crc = 0
    previous = None
    for piece in pieces:
        size += len(piece)
        if size > info.file_size:
            raise LyingSizeError(info.filename)
        crc = zlib.crc32(piece, crc)
        # Each chunk is handed on once the next is read, so that, as with zipfile, a wrong CRC or
        # a cut-short entry is refused before its last chunk is used.
        if previous is not None:
            yield previous
        previous = piece
    if crc != info.CRC:
        raise zipfile.BadZipFile("bad CRC")
    if previous is not None:
        yield previous


def _data_start(content: bytes, info: zipfile.ZipInfo) -> int:
    """Where the entry's data starts in ``content``: after its local header, checked as zipfile
    checks it."""
    offset = info.header_offset
    if offset < 0 or offset + _LOCAL_HEADER.size > len(content):
        raise zipfile.BadZipFile("truncated local header")
    signature: bytes
    flags: int
    name_length: int
    extra_length: int
    signature, flags, name_length, extra_length = _LOCAL_HEADER.unpack_from(content, offset)
    if signature != b"PK\x03\x04":
        raise zipfile.BadZipFile("bad local header")
    if info.flag_bits & _UNSUPPORTED_FLAGS:
        raise NotImplementedError("patched data or strong encryption")
    name_start = offset + _LOCAL_HEADER.size
    raw_name = content[name_start : name_start + name_length]
    name = raw_name.decode("utf-8") if flags & _UTF8_NAME else raw_name.decode("cp437")
    if name != info.orig_filename:
        raise zipfile.BadZipFile("names in the directory and the local header differ")
    return name_start + name_length + extra_length


def _inflated(data: memoryview) -> Iterator[bytes]:
    """The inflated ``data``, in chunks of at most :data:`CHUNK`, to the end of its deflate stream
    or of ``data``, whichever comes first (as zipfile reads it: the CRC check finds a cut stream).

    Input is fed a chunk at a time, so no call copies more than a chunk of it.
    """
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    pending: bytes | memoryview = b""
    position = 0
    while not inflater.eof:
        if not pending and position < len(data):
            pending = data[position : position + CHUNK]
            position += CHUNK
        piece = inflater.decompress(pending, CHUNK)
        pending = inflater.unconsumed_tail
        if piece:
            yield piece
        elif pending or position >= len(data):  # nothing came out, and no more input will
            return


def as_utf8(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The chunks re-encoded as UTF-8 when the part is UTF-16 or UTF-32; otherwise unchanged.

    Other encodings parsers accept keep ASCII as ASCII, so byte patterns match in them as they are.
    """
    first = next(chunks, b"")
    encoding = next((name for mark, name in _WIDE_ENCODINGS if first.startswith(mark)), None)
    if encoding is None:
        yield first
        yield from chunks
        return
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    yield decoder.decode(first).encode()
    for chunk in chunks:
        yield decoder.decode(chunk).encode()
    yield decoder.decode(b"", final=True).encode()


class DeclarationCheck:
    """Refuses ``<!DOCTYPE`` and ``<!ENTITY`` anywhere in a part (entity expansion, external
    entities): a workbook saved by Excel never has them."""

    def __init__(self) -> None:
        self._tail = b""

    def feed(self, chunk: bytes) -> None:
        """Check the next chunk; raises :class:`UnsafeXmlError`."""
        data = self._tail + chunk
        if _DECLARATION.search(data):
            raise UnsafeXmlError
        self._tail = data[-_DECLARATION_OVERLAP:]


def may_be_wide(data: bytes) -> bool:
    """Whether a part that starts with ``data`` may be in UTF-16 or UTF-32 (a NUL in its first
    four bytes, or a byte order mark): byte patterns such as :func:`may_have_marks` miss in it."""
    return b"\x00" in data[:4] or data[:2] in (b"\xff\xfe", b"\xfe\xff")


def may_have_marks(data: bytes) -> bool:
    """Whether part of a sheet (in UTF-8, or another encoding that keeps ASCII as ASCII) may hold a
    formula or an error value, which calamine does not report; ``False`` only if it holds neither.
    """
    return any(pattern.search(data) for pattern in _MARKS)


class CellExtent:
    """The largest row and column a sheet part uses, from its ``<row>`` and ``<c>`` tags, and
    whether it may hold formulas or error values (:func:`may_have_marks`).

    ``<dimension>`` is ignored (it can say anything). Positions are counted as the parser counts
    them (see :class:`~digest.read.ooxml.Cursor`); comments, CDATA and processing instructions are
    skipped so they can neither hide a tag nor invent one. ``budget`` bounds the number of tokens
    handled (and so the time taken); past it :class:`TooManyTokensError` is raised. A malformed
    reference, or a row or cell tag with a ``<`` inside it, raises ``ValueError``.
    """

    def __init__(self, budget: int) -> None:
        self.max_row = 0
        self.max_column = 0
        self.tokens = 0
        self.may_have_marks = False
        self._budget = budget
        self._cursor = Cursor()
        self._carry = b""
        self._closer: bytes | None = None

    def feed(self, chunk: bytes) -> None:
        """Scan the next chunk."""
        data = self._carry + chunk
        self._carry = b""
        # A tag cut by the chunk's end is carried whole into the next data, so no mark is missed.
        self.may_have_marks = self.may_have_marks or may_have_marks(data)
        pos = 0
        while True:
            if self._closer is not None:
                end = data.find(self._closer, pos)
                if end < 0:
                    self._carry = data[max(pos, len(data) - len(self._closer) + 1) :]
                    return
                pos = end + len(self._closer)
                self._closer = None
            match = None
            for match in _TOKEN.finditer(data, pos):
                name, attributes, letters, digits, closed = match.groups()
                if name is None:
                    self._spend()
                    self._closer = _CLOSER[match.group()]
                    pos = match.end()
                    break
                if not closed:
                    if data.find(b"<", match.end()) < 0:  # the tag goes on in the next chunk
                        self._keep(data[match.start() :])
                        return
                    # A '<' before the tag's end: never in XML, but calamine takes a '<' in a
                    # quoted value as text and reads on, so skipping the tag would hide its cell.
                    raise ValueError("malformed row or cell tag")
                self._spend()
                if digits is not None and (letters is None) == (name == b"row"):
                    self._explicit(letters, int(digits))
                else:
                    self._element(name, attributes)
            else:
                if match is not None:
                    pos = match.end()
                break
        last = data.rfind(b"<", pos)
        if last >= 0 and data.find(b">", last) < 0:
            self._keep(data[last:])

    def _keep(self, unfinished: bytes) -> None:
        if len(unfinished) > MAX_TAG:
            raise CrampedTagError
        self._carry = unfinished

    def _spend(self) -> None:
        self.tokens += 1
        if self.tokens > self._budget:
            raise TooManyTokensError

    def _explicit(self, letters: bytes | None, number: int) -> None:
        """A row (no ``letters``) or cell whose ``r`` is plain: what :meth:`_element` would do,
        without parsing the reference again."""
        cursor = self._cursor
        if number > self.max_row:
            self.max_row = number
        if letters is None:
            cursor.row, cursor.next_column = number, 1
            return
        column = _column(letters)
        cursor.next_column = column + 1
        if column > self.max_column:
            self.max_column = column

    def _element(self, name: bytes, attributes: bytes) -> None:
        r = _attribute_r(attributes)
        if name == b"row":
            self.max_row = max(self.max_row, self._cursor.start_row(r))
        else:
            row, column = self._cursor.cell(r)
            self.max_row = max(self.max_row, row)
            self.max_column = max(self.max_column, column)


@functools.lru_cache(maxsize=1024)
def _column(letters: bytes) -> int:
    return column_number(letters.decode("ascii"))


def _attribute_r(attributes: bytes) -> str | None:
    first = _FIRST_R.match(attributes)  # every writer puts r first: skip the general parse
    if first is not None:
        return first.group(1).decode("ascii")
    for match in _ATTRIBUTE.finditer(attributes):
        if match.group(1) == b"r":
            raw = match.group(2) if match.group(2) is not None else match.group(3)
            return _unescape(raw.decode("utf-8", "replace"))
    return None


def _unescape(value: str) -> str:
    """Character and entity references resolved, as an XML parser would (``ValueError`` if bad).

    Anything left unresolved cannot be a cell reference, and is refused as one later.
    """
    if "&" not in value:
        return value

    def resolve(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("#x"):
            return chr(int(name[2:], 16))
        if name.startswith("#"):
            return chr(int(name[1:]))
        return _NAMED[name]

    return _REFERENCE.sub(resolve, value)
