"""Cell references in A1 form: column letters, row numbers, and their order."""

from __future__ import annotations


def column_letters(column: int) -> str:
    """``1`` -> ``A``, ``27`` -> ``AA``."""
    letters = ""
    while column:
        column, remainder = divmod(column - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def column_number(letters: str) -> int:
    """``A`` -> ``1``, ``AA`` -> ``27``."""
    number = 0
    for letter in letters.upper():
        number = number * 26 + (ord(letter) - 64)
    return number


def a1(row: int, column: int) -> str:
    """The A1 reference of a 1-based row and column."""
    return f"{column_letters(column)}{row}"


def position(ref: str) -> tuple[int, int]:
    """``B12`` -> ``(12, 2)``: row then column, so references sort in reading order."""
    letters = ref.rstrip("0123456789")
    return int(ref[len(letters) :] or 0), column_number(letters)
