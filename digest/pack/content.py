"""What a meeting pack says: its sections, tables and charts, as plain data every format prints.

A pack is built from the views the app shows (the scorecard, the exception report, the
indicator trends, the returns received), for one area and quarter, or for a financial year
(the annual summary). The *internal* edition is for the PQA sub-group, unsuppressed and marked
OFFICIAL-SENSITIVE; the *publishable* edition withholds small numbers (:mod:`digest.pack.protect`)
whoever asks for it. Every figure is text as it is printed, so each format shows the same.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

import plotly.graph_objects as go

from digest.compare.benchmarks import published_points
from digest.compare.judgement import interval
from digest.compute.definitions import POPULATION, Indicator, Window
from digest.compute.engine import Computation, Scope, compute
from digest.compute.formula import window_quarters
from digest.domain.areas import Area
from digest.domain.periods import Period, quarters
from digest.domain.timestamps import uk_time
from digest.pack.protect import KEY, Count, Exposure, recoverable, withheld
from digest.store.database import utc_now
from digest.store.returns import Submission
from digest.validate.rules import RULESET
from digest.views import format
from digest.views.challenges import challenge_log, long_date
from digest.views.charts import trend_chart, window_name
from digest.views.exceptions import LOOK_BACK, Flagged, exceptions
from digest.views.indicator import IndicatorDetail, TrendPoint
from digest.views.scorecard import COMPARATORS, ScorecardRow, scorecard
from digest.views.sources import Sources

Edition = Literal["internal", "publishable"]
EDITIONS: tuple[Edition, ...] = ("internal", "publishable")

#: The version of the pack's layout: recorded in every pack with the data it was built from.
PACK_VERSION = "1"
TREND_QUARTERS = 8

MARKING = {
    "internal": (
        "OFFICIAL-SENSITIVE: for the PQA sub-group only. Figures are not suppressed: do not "
        "publish or forward."
    ),
    "publishable": (
        "Publishable edition: counts from 1 to 5, and any figure from which one could be worked "
        "out, are shown as c. Agencies' explanations are left out."
    ),
}


class PackError(ValueError):
    """A pack cannot be built as asked; the message says why and what to do."""


@dataclass(frozen=True)
class Table:
    """A table as printed: a caption, headings and rows of text, and notes under it."""

    title: str
    headings: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Chart:
    """One of the app's charts, and its figures as a table (the chart's text alternative)."""

    title: str
    figure: go.Figure
    table: Table


@dataclass(frozen=True)
class Section:
    """A part of the pack: a heading, paragraphs, tables and charts."""

    key: str  # short, for a sheet name or an anchor
    title: str
    paragraphs: tuple[str, ...] = ()
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)


@dataclass(frozen=True)
class Pack:
    """A whole meeting pack, ready to print in any format."""

    title: str
    area: Area
    covers: str  # "2025-26 Q2 (July to September 2025)" or "2024-25"
    edition: Edition
    marking: str
    built_at: datetime  # UTC: the moment the returns were read
    built_by: str
    snapshot: str  # an id of the returns' versions the pack was built from
    sections: list[Section]
    #: The headline figure of each indicator, as printed: {indicator id: text}.
    figures: dict[str, str]

    @property
    def built(self) -> str:
        """When the pack was built, in UK time."""
        return uk_time(self.built_at)

    @property
    def file_stem(self) -> str:
        """A file name for the pack, without its extension."""
        return f"PQA pack {self.area.name} {self.covers.split(' (')[0]} {self.edition}"


def build_pack(
    sources: Sources,
    area: str,
    period: Period,
    edition: Edition,
    *,
    built_by: str,
) -> Pack:
    """The quarterly meeting pack of ``area`` for ``period``."""
    built_at = utc_now()
    place = _area(sources, area)
    if period not in sources.periods(area):
        raise PackError(f"No return is stored for {place.name} in {period}: choose a quarter.")
    scored = scorecard(sources, area, period)
    trends = _trends(sources, scored, area, period)
    shown = _Shown(edition, _protect(sources, area, edition))
    flagged = exceptions(sources, area, period)
    themes = sorted({r.indicator.theme for r in scored})
    sections = [
        _summary(scored, themes, shown),
        _exceptions(flagged, shown),
        *[
            _theme(sources, theme, [r for r in scored if r.indicator.theme == theme], trends, shown)
            for theme in themes
        ],
    ]
    versions = _snapshot_versions(sources, area, [period])
    snapshot = _snapshot_id(versions)
    sections += [
        _challenges(sources, area, [period], edition),
        _definitions(scored),
        _snapshot(versions, snapshot, edition),
    ]
    figures = {r.indicator.id: shown.value(r.indicator, r.line.computation) for r in scored}
    return Pack(
        title=f"Performance digest: {place.name}",
        area=place,
        covers=f"{period} ({period.months})",
        edition=edition,
        marking=MARKING[edition],
        built_at=built_at,
        built_by=built_by,
        snapshot=snapshot,
        sections=sections,
        figures=figures,
    )


def build_annual(
    sources: Sources, area: str, year: int, edition: Edition, *, built_by: str
) -> Pack:
    """The annual summary of ``area`` for the financial year starting in April of ``year``:
    each indicator in its four quarters and for the year, with the published benchmarks."""
    built_at = utc_now()
    place = _area(sources, area)
    four = [Period(year, q) for q in range(1, 5)]
    stored = set(sources.periods(area))
    if not stored & set(four):
        raise PackError(
            f"No return is stored for {place.name} in {year}-{(year + 1) % 100:02d}: choose a "
            "year with returns."
        )
    last = max(p for p in four if p in stored)
    scored = scorecard(sources, area, last)
    indicators = [r.indicator for r in scored]
    quarterly = _computations(sources, indicators, area, four, "quarter")
    yearly = _computations(sources, indicators, area, [Period(year, 4)], "ytd")
    shown = _Shown(edition, _protect(sources, area, edition))
    label = f"{year}-{(year + 1) % 100:02d}"
    versions = _snapshot_versions(sources, area, four)
    snapshot = _snapshot_id(versions)
    themes = sorted({i.theme for i in indicators})
    tables = []
    for theme in themes:
        table_rows = []
        for row in (r for r in scored if r.indicator.theme == theme):
            indicator = row.indicator
            table_rows.append(
                (
                    indicator.title,
                    format.unit(indicator),
                    *(shown.value(indicator, quarterly[indicator.id, p, "quarter"]) for p in four),
                    shown.value(indicator, yearly[indicator.id, Period(year, 4), "ytd"]),
                    *(format.comparator(indicator, row.benchmark(name)) for name in COMPARATORS),
                )
            )
        tables.append(
            Table(
                theme,
                (
                    "Indicator",
                    "Unit",
                    *(f"Q{p.quarter} ({p.months})" for p in four),
                    f"Year {label}",
                    *COMPARATORS,
                ),
                table_rows,
                _key_notes(),
            )
        )
    summary = Section(
        "Year",
        f"The year {label} in figures",
        (
            f"Each indicator for each quarter of {label} (the quarter's own figure) and for the "
            "year (April to March; a count taken on one day is that at 31 March). London, "
            "England and statistical neighbours are the latest published figures.",
        ),
        tables,
    )
    return Pack(
        title=f"Annual summary: {place.name}",
        area=place,
        covers=label,
        edition=edition,
        marking=MARKING[edition],
        built_at=built_at,
        built_by=built_by,
        snapshot=snapshot,
        sections=[
            summary,
            _challenges(sources, area, four, edition),
            _definitions(scored),
            _snapshot(versions, snapshot, edition),
        ],
        figures={i.id: shown.value(i, yearly[i.id, Period(year, 4), "ytd"]) for i in indicators},
    )


# --- figures and what may be shown ----------------------------------------------------------------

_Key = tuple[str, Period, str]


class _Shown:
    """Figures as the edition prints them: withheld ones as ``c``, missing ones as a status."""

    def __init__(self, edition: Edition, hidden: dict[Hashable, str]) -> None:
        self.edition = edition
        self.hidden = hidden

    def is_hidden(self, done: Computation) -> bool:
        return _key(done) in self.hidden

    def value(self, indicator: Indicator, done: Computation) -> str:
        if self.is_hidden(done):
            return "c"
        result = done.result
        if result.value is None:
            return _status(result.reason)
        return format.figure(indicator, result.value)

    def count(self, done: Computation, which: Literal["numerator", "denominator"]) -> str:
        result = done.result
        number = result.numerator if which == "numerator" else result.denominator
        if which == "denominator" and done.indicator.denominator == POPULATION:
            return f"{number:,.0f} (population)" if number is not None else "x"
        if self.is_hidden(done):
            return "c"
        if number is None:
            return _status(result.reason)
        return f"{number:,.0f}"

    def interval(self, done: Computation) -> str:
        found = interval(done.indicator, done.result)
        if found is None or self.is_hidden(done):
            return "c" if self.is_hidden(done) else "–"
        return (
            f"{format.figure(done.indicator, found.lower)} to "
            f"{format.figure(done.indicator, found.upper)}"
        )


def _status(reason: str | None) -> str:
    for symbol in ("c", "z"):
        if reason and f"({symbol})" in reason:
            return symbol
    return "x"


def _key(done: Computation) -> _Key:
    return (done.indicator.id, done.period, done.window)


def _exposure(sources: Sources, done: Computation, key: _Key) -> Exposure:
    """The counts printing ``done`` gives away: its numerator, and its denominator unless that
    is a population (published by ONS, so public already)."""
    indicator, result = done.indicator, done.result
    pairs = [(indicator.numerator, result.numerator)]
    if indicator.denominator not in (None, POPULATION):
        assert indicator.denominator is not None
        pairs.append((indicator.denominator, result.denominator))
    counts = []
    for code, value in pairs:
        spanned = window_quarters(done.period, done.window)
        if sources.dataset.measures[code].kind != "flow":
            spanned = spanned[-1:]
        counts.append(Count(code, tuple(spanned), value))
    if len(counts) == 2 and sources.dataset.measures[indicator.numerator].part_of == (
        indicator.denominator
    ):
        # 37 of 40 assessed in time also says 3 children were not: the rest is a count too.
        part, whole = counts
        rest = None if part.value is None or whole.value is None else whole.value - part.value
        counts.append(Count(f"{whole.code}-{part.code}", whole.quarters, rest))
    return Exposure(key, tuple(counts))


def _checked(exposures: list[Exposure]) -> dict[Hashable, str]:
    hidden = withheld(exposures)
    left = recoverable(exposures, hidden)
    if left:  # never expected: withheld() runs until nothing is; checked before any file
        raise PackError(
            f"The publishable pack was not written: {len(left)} withheld count(s) could still be "
            "worked out. Please report this."
        )
    return hidden


def _protect(sources: Sources, area: str, edition: Edition) -> dict[Hashable, str]:
    """What the edition withholds: nothing for the sub-group. For publication, one set for the
    area, over every figure any pack could print (each indicator in every window ending in
    every stored quarter), so that no pack, nor any two packs together, shows a small count or
    one that could be worked out: a quarter withheld in an annual summary stays withheld in the
    12 months a later quarter's pack shows."""
    if edition != "publishable":
        return {}
    indicators = list(sources.indicators.values())
    stored = sorted(sources.periods(area))
    printable: dict[_Key, Computation] = {}
    for window in ("quarter", "12m", "ytd"):
        printable |= _computations(sources, indicators, area, stored, window)
    ordered = sorted(printable.items(), key=str)
    return _checked([_exposure(sources, done, key) for key, done in ordered])


def _computations(
    sources: Sources,
    indicators: Sequence[Indicator],
    area: str,
    periods: list[Period],
    window: Window,
) -> dict[_Key, Computation]:
    done = compute(sources.store.connection, indicators, [Scope.single(area)], periods, window)
    return {_key(d): d for d in done}


def _trends(
    sources: Sources, scored: list[ScorecardRow], area: str, period: Period
) -> dict[str, list[TrendPoint]]:
    """The last :data:`TREND_QUARTERS` quarters of each indicator in its headline window."""
    history = quarters(period.shift(1 - TREND_QUARTERS), period)
    first = min(sources.periods(area))
    history = [p for p in history if p >= first]
    found: dict[str, list[TrendPoint]] = {}
    by_window: dict[Window, list[Indicator]] = {}
    for row in scored:
        by_window.setdefault(row.indicator.window, []).append(row.indicator)
    for window, indicators in by_window.items():
        for key, done in _computations(sources, indicators, area, history, window).items():
            found.setdefault(key[0], []).append(
                TrendPoint(done, interval(done.indicator, done.result))
            )
    for points in found.values():
        points.sort(key=lambda p: p.period)
    return found


def _area(sources: Sources, code: str) -> Area:
    found = next((a for a in sources.areas() if a.ons_code == code), None)
    if found is None:
        raise PackError(
            f"No return is stored for the area {code[:20]}: choose an area with returns."
        )
    return found


def _key_notes() -> tuple[str, ...]:
    return ("Key: " + "; ".join(f"{symbol} {meaning}" for symbol, meaning in KEY) + ".",)


# --- sections -----------------------------------------------------------------------------------


def _summary(scored: list[ScorecardRow], themes: list[str], shown: _Shown) -> Section:
    labels = ("Red", "Amber", "Green", "Not rated")
    publishable = shown.edition == "publishable"

    def rated(row: ScorecardRow) -> str:
        return "c" if shown.is_hidden(row.line.computation) else row.rating.label

    table_rows = []
    for theme in themes:
        inside = [r for r in scored if r.indicator.theme == theme]
        table_rows.append(
            (
                theme,
                str(len(inside)),
                *(str(sum(1 for r in inside if rated(r) == label)) for label in labels),
                *((str(sum(1 for r in inside if rated(r) == "c")),) if publishable else ()),
                str(sum(1 for r in inside if r.flags and rated(r) != "c")),
            )
        )
    return Section(
        "Summary",
        "Summary by theme",
        (
            "How many indicators of each theme are rated red, amber or green against London "
            "and the local targets, and how many are flagged for the chair.",
        ),
        [
            Table(
                "Ratings by theme",
                (
                    "Theme",
                    "Indicators",
                    *labels,
                    *(("Figure withheld (c)",) if publishable else ()),
                    "Flagged",
                ),
                table_rows,
                ("Ratings are counts of indicators, not of children.",),
            )
        ],
    )


def _exceptions(flagged: list[Flagged], shown: _Shown) -> Section:
    table_rows = []
    for f in flagged:
        hidden = shown.is_hidden(f.line.computation)
        table_rows.append(
            (
                f.indicator.theme,
                f.indicator.title,
                f.agency,
                # A flag on a withheld figure says which side of a line it is: withheld too.
                "c" if hidden else f.kind,
                "c" if hidden else f.flag.message,
                "c" if hidden else f.standing,
                shown.value(f.indicator, f.line.computation),
                f.london,
                *(() if shown.edition == "publishable" else (f.explanation or "None given",)),
            )
        )
    headings = (
        "Theme",
        "Indicator",
        "Owning agency",
        "Flag",
        "Why",
        "Since",
        "Value",
        "London",
        *(() if shown.edition == "publishable" else ("Agency's explanation",)),
    )
    return Section(
        "Exceptions",
        "Exception report",
        (
            f"Every flag raised this quarter, longest-standing first within each theme (looking "
            f"back up to {LOOK_BACK} quarters)."
            if flagged
            else "No indicator is flagged this quarter.",
        ),
        [Table("Flags raised", headings, table_rows, _key_notes())],
    )


def _theme(
    sources: Sources,
    theme: str,
    scored: list[ScorecardRow],
    trends: dict[str, list[TrendPoint]],
    shown: _Shown,
) -> Section:
    table_rows = []
    charts = []
    for row in scored:
        indicator, done = row.indicator, row.line.computation
        hidden = shown.is_hidden(done)
        table_rows.append(
            (
                indicator.title,
                format.span(indicator, done.period, done.window),
                shown.count(done, "numerator"),
                shown.count(done, "denominator") if indicator.denominator else "z",
                shown.value(indicator, done),
                shown.interval(done),
                *(format.comparator(indicator, row.benchmark(name)) for name in COMPARATORS),
                "c" if hidden else row.rating.describe(),
                "c"
                if hidden or shown.is_hidden(replace(done, period=done.period.previous()))
                else "–"
                if row.direction is None
                else row.direction.words,
            )
        )
        charts.append(_trend(sources, row, trends.get(indicator.id, []), shown))
    return Section(
        theme[:28],
        theme,
        (),
        [
            Table(
                f"{theme}: the quarter's figures",
                (
                    "Indicator",
                    "Period covered",
                    "Numerator",
                    "Denominator",
                    "Value",
                    "95% interval",
                    *COMPARATORS,
                    "Rating",
                    "Since last quarter",
                ),
                table_rows,
                _key_notes(),
            )
        ],
        charts,
    )


def _trend(sources: Sources, row: ScorecardRow, points: list[TrendPoint], shown: _Shown) -> Chart:
    indicator = row.indicator
    kept = [
        p
        if not shown.is_hidden(p.computation)
        else TrendPoint(
            replace(
                p.computation,
                result=replace(p.computation.result, value=None, numerator=None, denominator=None),
            ),
            None,
        )
        for p in points
    ]
    done = row.line.computation
    figure = trend_chart(
        IndicatorDetail(
            indicator=indicator,
            area=done.scope.label,
            period=done.period,
            line=row.line,
            trends={indicator.window: kept},
            published=published_points(sources.book, indicator),
            funnel=None,
            figures=[],
        )
    )
    table_rows = [
        (
            str(p.period),
            shown.value(indicator, p.computation),
            shown.interval(p.computation),
        )
        for p in points
    ]
    return Chart(
        f"{indicator.title}: {window_name(indicator.window)}",
        figure,
        Table(
            f"{indicator.title}: the figures of the chart",
            ("Quarter", "Value", "95% interval"),
            table_rows,
            _key_notes(),
        ),
    )


_WORDS_LEFT_OUT = "The publishable edition leaves out what was asked and answered."


def _challenges(sources: Sources, area: str, periods: list[Period], edition: Edition) -> Section:
    """The chair's challenges on the flags of the quarters covered, with the agencies' answers
    (the publishable edition says what was challenged and where it stands, not the words)."""
    entries = [e for e in challenge_log(sources, area) if e.period in periods]
    words = edition == "internal"
    table_rows = [
        (
            str(e.period),
            e.indicator_title,
            e.agency_name,
            long_date(e.raised_on),
            long_date(e.due),
            e.state,
            *(
                (
                    e.asked,
                    e.answer or "Not answered yet",
                    f"{e.outcome}: {e.outcome_note or 'no note'} ({e.outcome_by})"
                    if e.outcome
                    else "–",
                )
                if words
                else ()
            ),
        )
        for e in entries
    ]
    overdue = sum(1 for e in entries if e.overdue)
    return Section(
        "Challenges",
        "Challenge log",
        (
            f"{len(entries)} challenge{'s' * (len(entries) != 1)} raised on these flags, "
            f"{overdue} overdue."
            if entries
            else "No challenge has been raised on these flags.",
            *(
                ()
                if words
                else ("The publishable edition leaves out what was asked and answered.",)
            ),
        ),
        [
            Table(
                "Challenges raised",
                (
                    "Quarter",
                    "Indicator",
                    "Agency",
                    "Raised",
                    "Due",
                    "State",
                    *(("Asked", "Answer", "Outcome") if words else ()),
                ),
                table_rows,
            )
        ],
    )


def _definitions(scored: list[ScorecardRow]) -> Section:
    table_rows = []
    for row in scored:
        i = row.indicator
        table_rows.append(
            (
                i.title,
                i.description,
                i.numerator,
                i.denominator or "none (a count)",
                format.unit(i),
                window_name(i.window),
                {"high": "higher is better", "low": "lower is better"}.get(
                    i.polarity, "neither higher nor lower is better"
                ),
                f"{i.benchmark.source}: {i.benchmark.value}" if i.benchmark else "local only",
                i.caveats or "",
            )
        )
    return Section(
        "Definitions",
        "Definitions and sources",
        ("Each indicator as the partnership has defined it (the files in indicators/).",),
        [
            Table(
                "Definitions",
                (
                    "Indicator",
                    "Definition",
                    "Numerator",
                    "Denominator",
                    "Unit",
                    "Window",
                    "Polarity",
                    "Benchmark source",
                    "Caveats",
                ),
                table_rows,
            )
        ],
    )


def _snapshot_versions(sources: Sources, area: str, periods: list[Period]) -> list[Submission]:
    """The live version of every return the pack's figures can read: the quarters covered and
    the year before them (the 12-month windows and the trends)."""
    first = min(periods).shift(-(TREND_QUARTERS + 3))
    found = []
    for submission in sources.store.submissions(area=area):
        if first <= submission.period <= max(periods):
            live = sources.store.current(submission.agency, area, submission.period)
            if live is not None and live.id == submission.id:
                found.append(submission)
    return sorted(found, key=lambda s: (s.period, s.agency))


def _snapshot_id(versions: list[Submission]) -> str:
    listed = ";".join(f"{s.agency},{s.period},{s.version},{s.sha256}" for s in versions)
    return hashlib.sha256(listed.encode()).hexdigest()[:16]


def _snapshot(versions: list[Submission], snapshot: str, edition: Edition) -> Section:
    table_rows = [
        (
            str(s.period),
            s.agency,
            str(s.version),
            uk_time(s.submitted_at),
            s.ruleset_version,
            s.sha256[:12],
        )
        for s in versions
    ]
    return Section(
        "Snapshot",
        "The data this pack was built from",
        (
            f"Snapshot {snapshot}: the live version of each return below. Rules in force: "
            f"ruleset {RULESET.version}. Pack layout version {PACK_VERSION}. Edition: {edition}.",
        ),
        [
            Table(
                "Returns read",
                ("Quarter", "Agency", "Version", "Submitted (UK time)", "Ruleset", "File hash"),
                table_rows,
            )
        ],
    )
