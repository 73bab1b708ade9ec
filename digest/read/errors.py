"""The one error the safe reader raises, and how its messages name files and sheets."""

from __future__ import annotations

import unicodedata

MAX_SHOWN_NAME = 80
MAX_SHOWN_SHEET = 31  # Excel's own limit on sheet names


class UnreadableWorkbook(Exception):
    """A file that cannot be read as a return workbook.

    ``rule`` is a stable dotted identifier (for example ``file.xls``); ``message`` is plain English,
    names the file and says what to do. Neither ever contains the file's content.
    """

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message

    def __repr__(self) -> str:
        return f"UnreadableWorkbook({self.rule!r}, {self.message!r})"


def shown(text: str, limit: int = MAX_SHOWN_NAME) -> str:
    """Text from the upload made fit to quote in a message: no control or direction characters."""
    cleaned = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C").strip()
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def the_file(filename: str) -> str:
    """``the file 'q3.xlsx'``, or ``the file`` when there is no usable name."""
    name = shown(filename.replace("\\", "/").rsplit("/", 1)[-1])
    return f"the file '{name}'" if name else "the file"


def capitalised(text: str) -> str:
    """The text with its first letter in upper case (for messages that start with a name)."""
    return text[:1].upper() + text[1:]
