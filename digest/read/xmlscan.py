"""Byte-level checks of the parts of an xlsx, made before any XML parser sees them.

Parts are streamed in chunks, so a part is never held whole in memory; every check copes with a
token split across two chunks.
"""

from __future__ import annotations

import codecs
import copy
import re
import zipfile
from collections.abc import Iterator

from digest.read.ooxml import Cursor

CHUNK = 65536
# A cell or row tag in a real workbook is well under 1 KB; a longer one is crafted.
MAX_TAG = 65536

_DECLARATION = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_DECLARATION_OVERLAP = len(b"<!DOCTYPE") - 1

# What can hide or start a <row> or <c> tag: comments, CDATA, processing instructions, the tags.
# Attribute values may hold '>' but never '<'. Each alternative starts differently: no backtracking.
_TOKEN = re.compile(
    rb"<!--|<!\[CDATA\[|<\?"
    rb"""|<(?:[^\s<>/=:!?"']+:)?(row|c)(?=[\s/>])((?:[^>"'<]|"[^"<]*"|'[^'<]*')*)(>?)"""
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


def entry_chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """The bytes of a zip entry, in chunks; raises :class:`LyingSizeError` past the declared size.

    ``zipfile`` itself stops at the declared size, which would hide a lie: the entry is opened
    with room for one chunk more, so any excess is seen, and at most that much is read.
    """
    roomy = copy.copy(info)
    roomy.file_size = info.file_size + CHUNK
    read = 0
    with archive.open(roomy) as stream:
        while chunk := stream.read(CHUNK):
            read += len(chunk)
            if read > info.file_size:
                raise LyingSizeError(info.filename)
            yield chunk


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


class CellExtent:
    """The largest row and column a sheet part uses, from its ``<row>`` and ``<c>`` tags.

    ``<dimension>`` is ignored (it can say anything). Positions are counted as the parser counts
    them (see :class:`~digest.read.ooxml.Cursor`); comments, CDATA and processing instructions are
    skipped so they can neither hide a tag nor invent one. ``budget`` bounds the number of tokens
    handled (and so the time taken); past it :class:`TooManyTokensError` is raised. A malformed
    reference raises ``ValueError``.
    """

    def __init__(self, budget: int) -> None:
        self.max_row = 0
        self.max_column = 0
        self.tokens = 0
        self._budget = budget
        self._cursor = Cursor()
        self._carry = b""
        self._closer: bytes | None = None

    def feed(self, chunk: bytes) -> None:
        """Scan the next chunk."""
        data = self._carry + chunk
        self._carry = b""
        pos = 0
        while True:
            if self._closer is not None:
                end = data.find(self._closer, pos)
                if end < 0:
                    self._carry = data[max(pos, len(data) - len(self._closer) + 1) :]
                    return
                pos = end + len(self._closer)
                self._closer = None
            match = _TOKEN.search(data, pos)
            if match is None:
                break
            name = match.group(1)
            if name is None:
                self._spend()
                self._closer = _CLOSER[match.group(0)]
                pos = match.end()
                continue
            if not match.group(3):
                if data.find(b"<", match.end()) < 0:  # the tag goes on in the next chunk
                    self._keep(data[match.start() :])
                    return
                pos = match.end()  # malformed: the parser will refuse it
                continue
            self._spend()
            self._element(name, match.group(2))
            pos = match.end()
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

    def _element(self, name: bytes, attributes: bytes) -> None:
        r = _attribute_r(attributes)
        if name == b"row":
            self.max_row = max(self.max_row, self._cursor.start_row(r))
        else:
            row, column = self._cursor.cell(r)
            self.max_row = max(self.max_row, row)
            self.max_column = max(self.max_column, column)


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
