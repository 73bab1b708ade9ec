"""Reading one value cell: a count, a status symbol, or a problem to report.

A status (``c`` suppressed, ``x`` not available, ``z`` not applicable) is kept as a status and
never becomes zero. Numbers typed as text are read as numbers, with a note saying so.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from digest.domain.statuses import MEANING, SPELLINGS, Status
from digest.read.cells import Cell

#: No quarterly count for one borough comes near this; a larger figure is a typing slip.
MAX_COUNT = 1_000_000

# Thousands may be separated by commas or by spaces (ordinary, no-break or thin), as people type.
_NUMBER_TEXT = re.compile(
    r"^[+]?(?:\d{1,3}(?:,\d{3})+|\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+)(?:\.\d+)?$"
)
_SEPARATORS = str.maketrans("", "", ", \u00a0\u202f")


@dataclass(frozen=True)
class Reading:
    """What a value cell says: a number with status ``ok``, or a status with no number.

    ``problem`` (with ``rule``) is set when the cell cannot be accepted; ``note`` when it was read
    in a way worth telling the data lead about.
    """

    value: float | None = None
    status: Status = "ok"
    rule: str | None = None
    problem: str | None = None
    note: str | None = None


def read_value(cell: Cell | None) -> Reading:
    """Interpret a value cell of the return."""
    if cell is None or (isinstance(cell.value, str) and not cell.value.strip()):
        if cell is not None and cell.formula:
            return _formula_without_value()
        return Reading(
            rule="value.blank",
            problem="is blank. Enter 0 if there were none, or x if the figure is not available.",
        )
    if cell.error is not None:
        return Reading(
            rule="value.excel_error",
            problem=f"contains an Excel error ({cell.error}). Correct the formula or type the "
            "figure, then upload again.",
        )
    if cell.value is None:
        return _formula_without_value()
    note = "holds a formula; its saved value was read." if cell.formula else None
    value = cell.value
    if isinstance(value, bool):
        return Reading(rule="value.text", problem="holds TRUE or FALSE, not a count.")
    if isinstance(value, str):
        return _read_text(value, note)
    if isinstance(value, float):
        return _check_count(value, note)
    return Reading(
        rule="value.date",
        problem="holds a date, not a count. Enter a whole number of 0 or more.",
    )


def _formula_without_value() -> Reading:
    return Reading(
        rule="value.formula_no_value",
        problem="contains a formula with no calculated value. Open the file in Excel, press F9 "
        "to calculate, save and upload again (or type the figure).",
    )


def _read_text(text: str, note: str | None) -> Reading:
    folded = text.strip().casefold()
    if folded in SPELLINGS:
        status = SPELLINGS[folded]
        if folded != status:
            note = (
                f"was typed as '{text.strip()}' and read as the status {status} "
                f"({MEANING[status]})."
            )
        return Reading(status=status, note=note)
    compact = text.strip()
    if _NUMBER_TEXT.match(compact):
        number = float(compact.translate(_SEPARATORS))
        reading = _check_count(number, None)
        if reading.problem is None:
            shown = int(number) if number.is_integer() else number
            return Reading(
                value=reading.value,
                note=f"was typed as text ('{compact}') and read as the number {shown}.",
            )
        return reading
    if compact.startswith("-") and _NUMBER_TEXT.match(compact[1:]):
        return _check_count(-float(compact[1:].translate(_SEPARATORS)), None)
    return Reading(
        rule="value.text",
        problem="is text that is neither a number nor a status symbol. Enter a whole number of "
        "0 or more, or c (suppressed), x (not available) or z (not applicable).",
    )


def _check_count(number: float, note: str | None) -> Reading:
    if math.isnan(number) or math.isinf(number):
        return Reading(rule="value.text", problem="is not a number Excel can store.")
    if abs(number - round(number)) < 1e-9 * max(1.0, abs(number)):
        number = float(round(number))  # a formula's floating-point dust: 210.00000000000003
    if number < 0:
        return Reading(
            rule="value.negative", problem="is negative. A count is a whole number of 0 or more."
        )
    if not number.is_integer():
        return Reading(
            rule="value.fraction",
            problem=f"is {number:g}, not a whole number. A count has no fractions: "
            "enter the number of children or events.",
        )
    if number > MAX_COUNT:
        return Reading(
            rule="value.too_large",
            problem=f"is larger than any plausible quarterly count "
            f"({MAX_COUNT:,}). Check for a typing slip.",
        )
    return Reading(value=number, note=note)
