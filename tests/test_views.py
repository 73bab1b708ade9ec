"""What the pages show, computed by the views from a real store (no app, no HTTP).

The store holds real returns submitted through ``digest.ingest`` for the synthetic borough
E09000901 and the compact published benchmarks; "today" is given to each view, so the tests do
not depend on the date they run.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from io import BytesIO
from typing import Any

import pytest
from openpyxl import load_workbook

from digest.demo import COMPACT_BENCHMARKS
from digest.domain.areas import find_area
from digest.domain.dataset import Dataset
from digest.domain.periods import Period
from digest.ingest import ingest
from digest.published.compact import import_compact
from digest.store.returns import ReturnsStore
from digest.views.exceptions import exceptions
from digest.views.returns import latest_figures, return_statuses
from digest.views.scorecard import scorecard
from digest.views.sources import Sources
from digest.views.templates import return_template
from digest.workbook import layout
from tests.conftest import AREA, PERIOD, figures, workbook_bytes

Q1, Q2 = PERIOD.previous(), PERIOD
DUE = date(2025, 11, 11)  # 2025-26 Q2 ended on 30 September; returns are due 42 days on
QUERIED = "CSC.CPP_STARTED_REPEAT"  # falls sharply from Q1 to Q2 in the demo figures
EXPLAINED = "Fewer repeat plans after the audit of step-downs in June."


def put(
    store: ReturnsStore,
    dataset: Dataset,
    values: dict[str, Any],
    agency: str,
    period: Period,
    explanations: dict[str, str] | None = None,
) -> None:
    content = workbook_bytes(
        dataset, values, agency=agency, period=period, explanations=explanations
    )
    result = ingest(store, content, f"{agency}.xlsx", submitted_by="lead@borough.example")
    assert result.outcome == "accepted", result.message


@pytest.fixture
def sources(store, dataset, demo_returns) -> Sources:
    """CSC for Q1 and Q2 (its query explained), Police for Q2; "today" is the due date."""
    import_compact(store.connection, COMPACT_BENCHMARKS)
    put(store, dataset, figures(demo_returns, "CSC", Q1), "CSC", Q1)
    put(
        store,
        dataset,
        figures(demo_returns, "CSC", Q2),
        "CSC",
        Q2,
        explanations={QUERIED: EXPLAINED},
    )
    put(store, dataset, figures(demo_returns, "POLICE", Q2), "POLICE", Q2)
    return dataclasses.replace(Sources.open(store), today=lambda: DUE)


def test_a_missing_return_is_due_on_its_due_date_and_overdue_the_day_after(sources):
    def states(today: date) -> dict[str, str]:
        found = return_statuses(sources.store, sources.dataset, AREA, Q2, today)
        return {s.agency: s.state for s in found}

    assert states(DUE)["HEALTH"] == "Missing: due 11 November 2025"
    assert states(DUE + timedelta(days=1))["HEALTH"] == "Missing: overdue since 11 November 2025"
    assert states(DUE + timedelta(days=1))["CSC"] == "Submitted, awaiting sign-off"


def test_a_submitted_return_says_which_version_by_whom_and_its_queries_explained(sources):
    found = {s.agency: s for s in return_statuses(sources.store, sources.dataset, AREA, Q2, DUE)}
    assert list(found) == [a.code for a in sources.dataset.agencies]
    csc = found["CSC"]
    assert (csc.version, csc.submitted_by, csc.queries, csc.explained) == (
        1,
        "lead@borough.example",
        1,
        1,
    )
    assert (found["POLICE"].version, found["POLICE"].queries) == (1, 0)
    assert found["HEALTH"].version is None


def test_the_current_figures_of_a_return_say_where_each_came_from(sources, demo_returns):
    stored = {v.code: v for v in latest_figures(sources.store, "CSC", AREA, Q2)[1]}
    referrals = stored["CSC.REFERRALS"]
    assert referrals.value == figures(demo_returns, "CSC", Q2)["CSC.REFERRALS"]
    assert (referrals.version, referrals.sheet, referrals.cell) == (1, "Return", "E5")
    assert latest_figures(sources.store, "HEALTH", AREA, Q2) == (None, [])


def test_the_scorecard_keeps_only_the_theme_and_agency_asked_for(sources):
    everything = scorecard(sources, AREA, Q2)
    assert len(everything) == len(sources.indicators)
    police = scorecard(sources, AREA, Q2, agency="POLICE")
    assert police and {row.indicator.agency for row in police} == {"POLICE"}
    health = scorecard(sources, AREA, Q2, theme="Health")
    assert health and {row.indicator.theme for row in health} == {"Health"}
    assert scorecard(sources, AREA, Q2, theme="Health", agency="POLICE") == []


def test_a_flag_raised_two_quarters_running_is_reported_since_the_first(sources):
    found = {
        (f.indicator.id, f.flag.kind): f
        for f in exceptions(sources, AREA, Q2)
        if f.indicator.agency == "CSC"
    }
    interviews = found["rhi_completed", "outside_target"]
    assert (interviews.since, interviews.quarters) == (Q1, 2)
    assert interviews.kind == "Outside the local target"


def test_an_explanation_is_reported_with_the_indicator_it_explains(sources):
    found = [f for f in exceptions(sources, AREA, Q2) if f.explanation is not None]
    assert "cpp_repeat" in {f.indicator.id for f in found}
    assert all(QUERIED in f.indicator.measures for f in found)
    assert {f.explanation for f in found} == {EXPLAINED}


def test_a_return_not_received_is_flagged_for_the_owning_agency(sources):
    missing = [f for f in exceptions(sources, AREA, Q2) if f.flag.kind == "return_missing"]
    assert {f.indicator.agency for f in missing} == {"HEALTH", "EDU", "YJS", "PSCP"}
    assert all(f.explanation is None for f in missing)


def test_the_template_shows_last_quarters_figures_and_status_symbols(sources, demo_returns):
    last = Period(2023, 1)  # a quarter with nothing before it, so no query is raised
    values = figures(demo_returns, "CSC", Q1)
    values["CSC.S47"] = "c"
    put(sources.store, sources.dataset, values, "CSC", last)
    content = return_template(
        sources.store, sources.dataset, sources.dataset.agency("CSC"), find_area(AREA), last.next()
    )
    sheet = load_workbook(BytesIO(content))[layout.RETURN_SHEET]
    previous = {
        sheet.cell(row=row, column=layout.CODE_COLUMN).value: sheet.cell(
            row=row, column=layout.PREVIOUS_COLUMN
        ).value
        for row in range(layout.FIRST_MEASURE_ROW, sheet.max_row + 1)
    }
    assert previous["CSC.S47"] == "c"
    assert previous["CSC.REFERRALS"] == values["CSC.REFERRALS"]


def test_a_rate_shows_the_population_it_is_per_and_where_that_came_from(sources):
    from digest.views.indicator import detail

    shown = detail(sources, sources.indicators["referral_rate"], AREA, Q2)
    [people] = [f for f in shown.figures if f.code == "population"]
    result = shown.line.computation.result
    assert people.value == result.denominator
    # The synthetic borough has no ONS estimate: the partnership's own is used, and said so.
    assert people.source.startswith("the partnership's own estimate (data/partnership.yaml)")
    assert "mid-2024 estimate" in people.measure
