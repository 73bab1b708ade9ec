"""The one shape of every problem found in a return: a :class:`Finding`.

Stages never raise on bad data; they collect findings, so a data lead sees every problem at once,
each located by sheet and cell, in plain English, saying what to do.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from digest.domain.cellrefs import position

Severity = Literal["error", "query", "info"]

SEVERITY_ORDER: dict[str, int] = {"error": 0, "query": 1, "info": 2}


@dataclass(frozen=True)
class Finding:
    """A problem or note about a return.

    ``error`` blocks acceptance; ``query`` needs an explanation before the return is accepted;
    ``info`` tells the data lead how something was read. ``rule`` is a stable identifier of the
    check (for example ``value.negative``); ``code`` is the measure code the finding is about.
    """

    severity: Severity
    rule: str
    message: str
    sheet: str | None = None
    cell: str | None = None
    code: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        """The finding as the JSON object the command line and the app print."""
        return asdict(self)

    @property
    def location(self) -> str:
        """Where the finding is, such as ``sheet 'Return' cell E12`` (empty when return-level)."""
        parts = []
        if self.sheet:
            parts.append(f"sheet '{self.sheet}'")
        if self.cell:
            parts.append(f"cell {self.cell}")
        return " ".join(parts)


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Errors first, then queries, then notes; within each, by sheet and cell order."""
    return sorted(
        findings,
        key=lambda f: (
            SEVERITY_ORDER[f.severity],
            f.sheet or "",
            position(f.cell) if f.cell else (0, 0),
        ),
    )
