"""The exception report: what the chair should challenge this quarter, why, and since when."""

from __future__ import annotations

from dataclasses import dataclass

from digest.compare.judgement import Flag
from digest.compare.report import Line, report
from digest.compute.definitions import Indicator
from digest.compute.engine import Scope
from digest.domain.periods import Period
from digest.validate.rules import WHOLE_RETURN
from digest.views import format
from digest.views.sources import Sources

#: How far back the report looks to say since when a flag has been raised.
LOOK_BACK = 8

FLAG_WORDS = {
    "worse_than_london": "Worse than London",
    "outside_target": "Outside the local target",
    "worsening": "Worsening",
    "return_missing": "Return not received",
    "incomplete": "Incomplete figures",
}


@dataclass(frozen=True)
class Flagged:
    """One flag on one indicator, with what the chair needs to challenge it."""

    indicator: Indicator
    agency: str  # the owning agency's name
    line: Line
    flag: Flag
    since: Period  # the first quarter of the flag's unbroken run, within the report's look-back
    explanation: str | None  # what the owning agency said about these figures, if anything

    @property
    def kind(self) -> str:
        """The flag in words: ``Worse than London``, …"""
        return FLAG_WORDS[self.flag.kind]

    @property
    def value(self) -> str:
        """The figure, in the indicator's form."""
        return format.figure(self.indicator, self.line.computation.result.value)

    @property
    def london(self) -> str:
        """London's published figure with its year, or a dash."""
        found = next((b for b in self.line.benchmarks if b.name == "London"), None)
        return format.comparator(self.indicator, found)

    @property
    def quarters(self) -> int:
        """For how many quarters running the flag has been raised (as far back as the report
        looks: :data:`LOOK_BACK`)."""
        return self.line.computation.period - self.since + 1

    @property
    def standing(self) -> str:
        """``2025-26 Q1 (3 quarters)``, or ``… (8 quarters or more)`` at the look-back's limit."""
        count = self.quarters
        more = " or more" if count >= LOOK_BACK else ""
        return f"{self.since} ({count} quarter{'s' * (count != 1)}{more})"


def exceptions(sources: Sources, area: str, period: Period) -> list[Flagged]:
    """Every flag raised for ``area`` in ``period``, longest-standing first within each theme."""
    indicators = list(sources.indicators.values())
    stored = sources.periods(area)
    first = min(stored) if stored else period  # nothing was flagged before returns began
    periods = [p for p in (period.shift(-step) for step in range(LOOK_BACK)) if p >= first]
    lines = report(
        sources.store.connection,
        indicators,
        Scope.single(area),
        periods,
        book=sources.book,
        today=sources.today(),
    )
    raised = {
        (line.computation.indicator.id, line.computation.period, flag.kind)
        for line in lines
        for flag in line.flags
    }
    agencies = {a.code: a.name for a in sources.dataset.agencies}
    said = _explanations(sources, area, period)
    found = []
    for line in lines:
        if line.computation.period != period:
            continue
        indicator = line.computation.indicator
        for flag in line.flags:
            since = period
            while (indicator.id, since.previous(), flag.kind) in raised:
                since = since.previous()
            words = [
                said[code]
                for code in (*indicator.measures, f"{indicator.agency}.{WHOLE_RETURN}")
                if code in said
            ]
            found.append(
                Flagged(
                    indicator=indicator,
                    agency=agencies.get(indicator.agency, indicator.agency),
                    line=line,
                    flag=flag,
                    since=since,
                    explanation=" ".join(words) or None,
                )
            )
    found.sort(key=lambda e: (e.indicator.theme, e.since, e.indicator.title))
    return found


def _explanations(sources: Sources, area: str, period: Period) -> dict[str, str]:
    """The explanations in each agency's current return for the quarter, by measure code (an
    explanation of the whole return under ``AGENCY.RETURN``)."""
    said: dict[str, str] = {}
    for agency in sources.dataset.agencies:
        current = sources.store.current(agency.code, area, period)
        if current is None:
            continue
        own = {m.code for m in agency.measures}
        carried = sources.store.carried(current.id)
        for code, said_first in sources.store.explanations(current.id).items():
            text = (
                f"(Carried forward from version {carried[code]}: to confirm) {said_first}"
                if code in carried
                else said_first
            )
            if code == WHOLE_RETURN:
                said[f"{agency.code}.{WHOLE_RETURN}"] = text
            elif code in own:  # an agency explains its own figures only
                said[code] = text
    return said
