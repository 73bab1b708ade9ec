"""How parsed cells travel from the reader's child process to the server.

Plain tuples, not :class:`~digest.read.cells.Cell` objects: they pickle and unpickle several times
faster, and the server unpickles nothing but tuples, strings, numbers and dates, so a child taken
over by a crafted file could not make it build anything else.
"""

from __future__ import annotations

import io
import pickle
from typing import Any

from digest.read.cells import Cell, CellValue, Sheet, Visibility, Workbook, column_letters

# (row, column, value, formula, error); rows and columns are 1-based.
CellRow = tuple[int, int, CellValue | None, bool, str | None]
SheetRows = tuple[str, Visibility, list[CellRow]]

_VISIBILITIES = ("visible", "hidden", "veryHidden")
_ALLOWED_GLOBALS = frozenset({("datetime", "date"), ("datetime", "datetime"), ("datetime", "time")})


def dump_reply(outcome: str, payload: Any) -> bytes:
    """A reply from the child: ``("ok", [SheetRows…])``, ``("failed", type name)``, ``("memory",
    None)``."""
    return pickle.dumps((outcome, payload), protocol=pickle.HIGHEST_PROTOCOL)


class _ReplyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a reader reply")
        return super().find_class(module, name)


def load_reply(reply: bytes) -> tuple[str, Any]:
    """The child's reply, refusing anything but the shapes :func:`dump_reply` makes.

    Raises ``pickle.UnpicklingError`` or ``ValueError`` for anything else.
    """
    loaded = _ReplyUnpickler(io.BytesIO(reply)).load()
    if not (isinstance(loaded, tuple) and len(loaded) == 2):
        raise ValueError("not a reply")
    outcome, payload = loaded
    if outcome not in ("ok", "failed", "memory"):
        raise ValueError("unknown outcome")
    return outcome, payload


def to_workbook(sheets: list[SheetRows]) -> Workbook:
    """The :class:`Workbook` the rows describe (``ValueError`` if they are not well formed)."""
    built = []
    for name, visibility, rows in sheets:
        if not isinstance(name, str) or visibility not in _VISIBILITIES:
            raise ValueError("not a sheet")
        letters: dict[int, str] = {}
        cells = {}
        for row, column, value, formula, error in rows:
            prefix = letters.get(column)
            if prefix is None:
                prefix = letters[column] = column_letters(column)
            ref = f"{prefix}{row}"
            cells[ref] = Cell(ref, row, column, value, formula, error)
        built.append(Sheet(name, visibility, cells))
    return Workbook(built)
