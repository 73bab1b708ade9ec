"""What the Returns page shows, as plain data: who has submitted for a quarter, and the figures."""

from __future__ import annotations

from dataclasses import dataclass

from digest.domain.dataset import Dataset
from digest.domain.periods import Period
from digest.domain.timestamps import uk_time
from digest.store.returns import ReturnsStore, StoredValue


@dataclass(frozen=True)
class ReturnStatus:
    """One agency's return for a quarter: submitted (with its version) or missing."""

    agency: str
    agency_name: str
    version: int | None
    submitted: str
    submitted_by: str
    queries: int
    explained: int

    @property
    def state(self) -> str:
        """``Submitted`` or ``Missing``, in words (never shown by colour alone)."""
        return "Missing" if self.version is None else "Submitted"


def stored_periods(store: ReturnsStore, area: str) -> list[Period]:
    """The quarters that have at least one return for ``area``, newest first."""
    return sorted({s.period for s in store.submissions(area=area)}, reverse=True)


def return_statuses(
    store: ReturnsStore, dataset: Dataset, area: str, period: Period
) -> list[ReturnStatus]:
    """Every agency's return for the quarter, in the dataset's order of agencies."""
    submissions = store.submissions(period=period, area=area)
    statuses = []
    for agency in dataset.agencies:
        current = next(
            (s for s in submissions if s.agency == agency.code and s.status == "current"), None
        )
        if current is None:
            statuses.append(ReturnStatus(agency.code, agency.name, None, "", "", 0, 0))
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
                sum(1 for q in queries if (q["code"] or "RETURN") in explained),
            )
        )
    return statuses


def current_figures(
    store: ReturnsStore, agency: str, area: str, period: Period
) -> list[StoredValue]:
    """The figures of the current version of one return, each with its sheet and cell."""
    return store.current_values(agency, area, period)
