"""The status symbols a figure may carry instead of a number, and the spellings people type.

A status is never a number: ``c`` (suppressed), ``x`` (not available) and ``z`` (not applicable)
follow the Government Statistical Service symbols that DfE publishes with.
"""

from __future__ import annotations

from typing import Literal

Symbol = Literal["c", "x", "z"]
Status = Literal["ok", "c", "x", "z"]

MEANING: dict[Symbol, str] = {
    "c": "suppressed",
    "x": "not available",
    "z": "not applicable",
}

#: Every spelling accepted in a return, folded to lower case and trimmed, and the status it means.
SPELLINGS: dict[str, Symbol] = {
    "c": "c", "[c]": "c", "<5": "c", "< 5": "c", "*": "c", "k": "c", "low": "c", "~": "c",
    "x": "x", "[x]": "x", "n/a": "x", "na": "x", "-": "x", "..": "x", ":": "x",
    "z": "z", "[z]": "z",
}  # fmt: skip


def variants(symbol: Symbol) -> list[str]:
    """The other spellings accepted for a symbol, such as ``['[c]', '<5', '< 5', '*']``."""
    return [
        spelling for spelling, meant in SPELLINGS.items() if meant == symbol and spelling != symbol
    ]
