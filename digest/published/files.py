"""What every published file has in common: reading it, its cells, its years and its edition."""

from __future__ import annotations

import csv
import hashlib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from digest.store.published import FigureRow, MeasureRow

#: The symbols of the Government Statistical Service that DfE publishes in place of a number.
SYMBOLS = frozenset({"c", "x", "z", "u", "k", "low"})

# A double printed in full (``2.2999999999999998``) has 16 or 17 significant digits; 15 is the
# most a double holds faithfully, so rounding to 15 gives back the number that was published.
_FAITHFUL_DIGITS = 15
_ONS_CODE = re.compile(r"^[EWSN]\d{8}$")


class PublishedFileError(ValueError):
    """A file the importer cannot read as a published file; the message names it and says why."""


@dataclass
class ParsedFigures:
    """The figures of one file, with what its measures mean and what was noticed on the way."""

    figures: list[FigureRow]
    measures: list[MeasureRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def years(self) -> tuple[int, ...]:
        """The distinct years of the figures, in order."""
        return tuple(sorted({figure.year for figure in self.figures}))


def is_ons_code(text: str) -> bool:
    """Whether the text has the shape of a nine-character ONS area code."""
    return bool(_ONS_CODE.match(text))


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file's bytes, in hex."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def edition_of(path: Path, last_year: int | None, sha256: str) -> str:
    """The edition string of a file: its name, the last year it covers and its SHA-256 prefix."""
    year = f":{last_year}" if last_year is not None else ""
    return f"{path.stem}{year}:{sha256[:12]}"


def read_csv(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """A CSV file's header and its rows with their line numbers, blank rows left out.

    Read as UTF-8 with or without a byte-order mark.
    """
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = [name.strip() for name in next(reader, [])]
            rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except UnicodeDecodeError:
        raise PublishedFileError(
            f"{path.name} is not a UTF-8 text file, so it is not a published CSV file."
        ) from None
    except csv.Error as error:
        raise PublishedFileError(f"{path.name} could not be read as a CSV file: {error}.") from None
    return header, rows


def csv_header(path: Path) -> list[str]:
    """Just the header of a CSV file (empty if the file is not UTF-8 text)."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return [name.strip() for name in next(csv.reader(handle), [])]
    except (UnicodeDecodeError, csv.Error):
        return []


def parse_cell(text: str) -> tuple[float | None, str] | None:
    """A published cell as ``(value, status)``; None if it is neither a number nor a symbol.

    A symbol (``c``, ``x``, ``[c]``, ``low`` ...) gives a None value: never a zero. An empty cell
    is ``x``, not available.
    """
    cell = text.strip()
    if not cell:
        return None, "x"
    try:
        number = float(cell)
    except ValueError:
        symbol = cell.strip("[]").strip().lower()
        return (None, symbol) if symbol in SYMBOLS else None
    if "_" in cell or not math.isfinite(number):  # float() also takes '1_000', 'nan' and 'inf'
        return None
    if len(cell) > _FAITHFUL_DIGITS:
        number = float(f"{number:.{_FAITHFUL_DIGITS}g}")
    return number, "ok"


def ees_year(time_period: str) -> int | None:
    """The year an EES ``time_period`` ends in: '2025' is 2025, '202425' (2024/25) is 2025."""
    period = time_period.strip()
    if re.fullmatch(r"\d{4}", period):
        return int(period)
    if re.fullmatch(r"\d{6}", period) and int(period[4:]) == (int(period[:4]) + 1) % 100:
        return int(period[:4]) + 1
    return None


def label_end_year(label: str) -> int | None:
    """The year a published period label ends in, ignoring qualifiers such as '(OT)' or '(Rev)'.

    '2016' → 2016; '2016-17', '2016/17' and '2016-17 (OT)' → 2017; '2014-16' → 2016;
    '2013/14-15/16' → 2016. A label without a four-digit year ('0') gives None.
    """
    text = re.sub(r"\(.*?\)", "", label).strip()
    first = re.match(r"(\d{4})", text)
    if not first:
        return None
    last = re.findall(r"\d+", text)[-1]
    if len(last) == 4:
        return int(last)
    if len(last) == 2:
        century = int(first.group(1)) // 100 * 100
        year = century + int(last)
        return year if year >= int(first.group(1)) else year + 100
    return None


def slug(text: str) -> str:
    """A published label as an identifier: lower case, runs of other characters as '_'."""
    return re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_")
