"""Who has returned what for a quarter: each agency's current version, or when it is due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from digest.compare.report import return_due
from digest.domain.dataset import Dataset
from digest.domain.periods import Period
from digest.domain.timestamps import uk_time
from digest.store.returns import ReturnsStore, StoredValue
from digest.validate.rules import WHOLE_RETURN


@dataclass(frozen=True)
class ReturnStatus:
    """One agency's return for a quarter: its current version, or missing (due or overdue)."""

    agency: str
    agency_name: str
    version: int | None
    submitted: str
    submitted_by: str
    queries: int
    explained: int
    due: date
    overdue: bool

    @property
    def state(self) -> str:
        """The state in words (never shown by colour alone)."""
        due = f"{self.due.day} {self.due:%B %Y}"
        if self.version is not None:
            return "Submitted"
        return f"Missing: overdue since {due}" if self.overdue else f"Missing: due {due}"


def return_statuses(
    store: ReturnsStore, dataset: Dataset, area: str, period: Period, today: date
) -> list[ReturnStatus]:
    """Every agency's return for the quarter, in the dataset's order of agencies."""
    due = return_due(period)
    statuses = []
    for agency in dataset.agencies:
        current = store.current(agency.code, area, period)
        if current is None:
            statuses.append(
                ReturnStatus(agency.code, agency.name, None, "", "", 0, 0, due, today > due)
            )
            continue
        queries = [f for f in store.findings(current.id) if f["severity"] == "query"]
        explained = store.explanations(current.id)
        statuses.append(
            ReturnStatus(
                agency.code,
                agency.name,
                current.version,
                uk_time(current.submitted_at),
                current.submitted_by,
                len(queries),
                sum(1 for q in queries if (q["code"] or WHOLE_RETURN) in explained),
                due,
                False,
            )
        )
    return statuses


def current_figures(
    store: ReturnsStore, agency: str, area: str, period: Period
) -> list[StoredValue]:
    """The figures of the current version of one return, each with its sheet and cell."""
    return store.current_values(agency, area, period)
