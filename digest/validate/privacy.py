"""Spotting child-level data in what should be an aggregate return.

The partnership collects counts only. A cell that looks like a child's name, date of birth, UPN,
NHS number or full postcode makes the whole return refused; messages name the cell, never the value.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time

from digest.read.cells import CellValue

_UPN = re.compile(r"\b[A-Z]\d{11}[A-Z0-9]\b", re.IGNORECASE)
_NHS = re.compile(r"(?<!\d)(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?!\d)")
_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2}\b", re.IGNORECASE)
_PERSON_NAME = re.compile(r"^[A-Z][a-z]+(?:[ '-][A-Z][a-z']+)+$")
_DATE_TEXT = re.compile(r"\b\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})\b")
_PERSONAL_WORDS = re.compile(
    r"\b(?:d\.?o\.?b\b\.?|dates? of birth|born|birthday|nhs (?:no|number)|upn|child'?s name"
    r"|name:)",
    re.IGNORECASE,
)


def nhs_number_valid(digits: str) -> bool:
    """Whether ten digits pass the NHS number modulus-11 check."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(digits[9])


def _has_nhs_number(text: str) -> bool:
    return any(nhs_number_valid("".join(m.groups())) for m in _NHS.finditer(text))


def child_level_kind(value: CellValue | None, *, free_text: bool = False) -> str | None:
    """What child-level detail a cell seems to hold (``'a date of birth'``, …), or ``None``.

    ``free_text`` marks an explanation or comment, where ordinary prose (capitalised words, dates of
    events) is expected: there only identifiers and words such as 'DOB' count.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime | date | time):
        return None if free_text else "a date (it could be a date of birth)"
    if isinstance(value, float):
        if value.is_integer() and 10**9 <= value < 10**10:
            return "an NHS number" if nhs_number_valid(f"{int(value):010d}") else None
        return None
    text = value.strip()
    if _UPN.search(text):
        return "a unique pupil number (UPN)"
    if _has_nhs_number(text):
        return "an NHS number"
    if _POSTCODE.search(text):
        return "a full postcode"
    if _PERSONAL_WORDS.search(text):
        return "personal details of a child"
    if free_text:
        return None
    if _DATE_TEXT.search(text):
        return "a date (it could be a date of birth)"
    if _PERSON_NAME.match(text):
        return "a person's name"
    return None
