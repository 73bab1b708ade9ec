"""Re-checking a stored return under the rules in force now, to show what a ruleset change means.

A stored version keeps the ruleset that accepted it, with that validation's findings. Re-checking
runs today's checks of the figures (parts within wholes, the queries against the quarter
before) on the version's stored figures, writes nothing, and lists where the answer differs:
a new query or error, one no longer raised, or one whose severity has changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from digest.domain.dataset import Dataset
from digest.domain.findings import Finding, Severity
from digest.domain.periods import Period
from digest.store.returns import ReturnsStore, Submission
from digest.validate.rules import RULESET, ReturnValue, Ruleset, check_figures

_KIND = {"error": "an error", "query": "a query", "info": "a note"}


@dataclass(frozen=True)
class Difference:
    """One check whose answer differs between the ruleset that accepted a version and now."""

    rule: str
    code: str | None
    cell: str | None
    then: Severity | None  # under the ruleset that accepted the version
    now: Severity | None  # under the ruleset in force
    message: str  # what the check says now, or said then if it no longer does

    @property
    def change(self) -> str:
        """The difference in words."""
        if self.then is None:
            return f"new: {_KIND[self.now or 'info']}"
        if self.now is None:
            return f"no longer raised (was {_KIND[self.then]})"
        return f"was {_KIND[self.then]}, now {_KIND[self.now]}"


@dataclass(frozen=True)
class Recheck:
    """What the rules in force now say of a stored version, against what they said then."""

    submission: Submission
    ruleset: str  # the version in force now
    differences: list[Difference]

    @property
    def blocked(self) -> bool:
        """Whether the version would now be refused (a check now gives an error)."""
        return any(d.now == "error" for d in self.differences)

    def summary(self) -> str:
        """One sentence on the outcome."""
        s = self.submission
        head = (
            f"Version {s.version} of the {s.agency} return for {s.period} was accepted under "
            f"ruleset {s.ruleset_version}; re-checked under ruleset {self.ruleset}:"
        )
        if not self.differences:
            return f"{head} no difference."
        count = len(self.differences)
        verdict = (
            " It would now be refused until corrected."
            if self.blocked
            else " It would still be accepted (explain any new query)."
        )
        return f"{head} {count} difference{'s' * (count != 1)}.{verdict}"


def recheck(
    store: ReturnsStore,
    dataset: Dataset,
    agency: str,
    area: str,
    period: Period,
    ruleset: Ruleset = RULESET,
) -> Recheck | None:
    """Re-check the latest version of a return under ``ruleset`` (``None``: nothing stored)."""
    latest = store.latest(agency, area, period)
    if latest is None:
        return None
    values = [
        ReturnValue(v.code, v.value, v.status, v.sheet, v.cell) for v in store.values(latest.id)
    ]
    before = store.context(agency, area, period).previous
    now = check_figures(values, dataset.agency(agency), before, ruleset)
    then = [Finding(**f) for f in store.findings(latest.id) if f["rule"] in ruleset.severity]
    return Recheck(latest, ruleset.version, _differences(then, now))


def _differences(then: list[Finding], now: list[Finding]) -> list[Difference]:
    def by_place(findings: list[Finding]) -> dict[tuple[str, str, str], Finding]:
        return {(f.rule, f.code or "", f.cell or ""): f for f in findings}

    before, after = by_place(then), by_place(now)
    found = []
    for place in sorted(before.keys() | after.keys()):
        old, new = before.get(place), after.get(place)
        if old is not None and new is not None and old.severity == new.severity:
            continue
        shown = new or old
        assert shown is not None
        found.append(
            Difference(
                shown.rule,
                shown.code,
                shown.cell,
                old.severity if old else None,
                new.severity if new else None,
                shown.message,
            )
        )
    return found
