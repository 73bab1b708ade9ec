"""Who has returned what for a quarter: each agency's current version, or when it is due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from digest.compare.report import return_due
from digest.domain.dataset import Dataset
from digest.domain.periods import Period
from digest.domain.timestamps import uk_time
from digest.store.returns import ReturnsStore, StoredValue, Submission
from digest.validate.rules import WHOLE_RETURN


@dataclass(frozen=True)
class ReturnStatus:
    """One agency's return for a quarter: its live version and any revision awaiting sign-off,
    or missing (due or overdue)."""

    agency: str
    agency_name: str
    version: int | None  # the live version
    submitted: str
    submitted_by: str
    queries: int
    explained: int
    due: date
    overdue: bool
    signed_off: str = ""  # "by … on …" when the live version is signed off
    awaiting: int | None = None  # the id of the latest version, when it awaits sign-off
    awaiting_version: int | None = None  # its number, when it is a revision of a live one
    awaiting_from: str = ""  # "by … on …" for that revision
    carried: int = 0  # explanations carried forward from an earlier version, to confirm

    @property
    def explanations(self) -> str:
        """How many queries are explained, in words."""
        if not self.queries:
            return "none"
        carried = f" ({self.carried} carried forward: to confirm)" if self.carried else ""
        return f"{self.explained} of {self.queries} explained{carried}"

    @property
    def state(self) -> str:
        """The state in words (never shown by colour alone)."""
        due = f"{self.due.day} {self.due:%B %Y}"
        if self.version is None:
            return f"Missing: overdue since {due}" if self.overdue else f"Missing: due {due}"
        if self.signed_off and self.awaiting_version is not None:
            return (
                f"Revised after sign-off: version {self.awaiting_version}, sent "
                f"{self.awaiting_from}, awaits sign-off; version {self.version}, signed off "
                f"{self.signed_off}, is live"
            )
        if self.signed_off:
            return f"Signed off {self.signed_off}"
        return "Submitted, awaiting sign-off"


def return_statuses(
    store: ReturnsStore, dataset: Dataset, area: str, period: Period, today: date
) -> list[ReturnStatus]:
    """Every agency's return for the quarter, in the dataset's order of agencies."""
    due = return_due(period)
    signed = store.sign_offs(area, period)
    statuses = []
    for agency in dataset.agencies:
        current = store.current(agency.code, area, period)
        if current is None:
            statuses.append(
                ReturnStatus(agency.code, agency.name, None, "", "", 0, 0, due, today > due)
            )
            continue
        latest = store.latest(agency.code, area, period)
        assert latest is not None
        queries = [f for f in store.findings(current.id) if f["severity"] == "query"]
        explained = store.explanations(current.id)
        by = signed.get(current.id)
        waiting = latest.id not in signed
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
                signed_off=f"by {by[0]} on {uk_time(by[1])}" if by else "",
                awaiting=latest.id if waiting else None,
                awaiting_version=latest.version if waiting and latest.id != current.id else None,
                awaiting_from=f"by {latest.submitted_by} on {uk_time(latest.submitted_at)}",
                carried=len(store.carried(current.id)),
            )
        )
    return statuses


def latest_figures(
    store: ReturnsStore, agency: str, area: str, period: Period
) -> tuple[Submission | None, list[StoredValue]]:
    """The latest version of one return (live, or a revision awaiting sign-off) and its
    figures, each with its sheet and cell: what the chair signs off is what is shown."""
    latest = store.latest(agency, area, period)
    return latest, store.values(latest.id) if latest else []
