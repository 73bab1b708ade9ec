"""Faults and edges from the reliability catalogue: a check that breaks, UK time either side of
the clocks changing, and text from users that looks like HTML."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

import digest.validate.rules as rules
from digest.domain.timestamps import uk_time
from digest.ingest import CHECK_FAILED, ingest
from tests.conftest import AREA, PERIOD, figures, table_counts, workbook_bytes

ROOT = Path(__file__).resolve().parents[1]


def test_a_check_that_breaks_never_counts_as_passed(store, dataset, demo_returns, monkeypatch):
    """T28: a rule that raises on odd data refuses the file and says the check could not run."""

    def broken(*args: object) -> object:
        raise ZeroDivisionError("a rule met data it did not expect")

    monkeypatch.setattr(rules, "_plausibility", broken)
    put = ingest(
        store,
        workbook_bytes(
            dataset, figures(demo_returns, period=PERIOD.previous()), period=PERIOD.previous()
        ),
        "q1.xlsx",
        submitted_by="lead",
    )
    assert put.outcome == "accepted"  # no earlier quarter: the broken rule did not run
    before = table_counts(store)
    result = ingest(
        store, workbook_bytes(dataset, figures(demo_returns)), "q2.xlsx", submitted_by="lead"
    )
    assert result.outcome == "rejected"
    assert result.message == f"q2.xlsx was not accepted: {CHECK_FAILED}"
    assert [f.rule for f in result.findings] == ["check.failed"]
    assert table_counts(store) == before
    event = store.audit_log(1)[0]
    assert (event["outcome"], json.loads(event["detail"])["rules"]) == (
        "rejected",
        ["check.failed"],
    )


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        (datetime(2026, 7, 1, 22, 59, 59), "1 Jul 2026 23:59"),  # BST: an hour ahead of UTC
        (datetime(2026, 7, 1, 23, 0, 0), "2 Jul 2026 00:00"),
        (datetime(2026, 12, 1, 23, 59, 0), "1 Dec 2026 23:59"),  # GMT: as stored
        (datetime(2026, 3, 29, 0, 59, 0), "29 Mar 2026 00:59"),  # the hour before clocks go on
        (datetime(2026, 3, 29, 1, 0, 0), "29 Mar 2026 02:00"),
    ],
)
def test_times_are_stored_in_utc_and_shown_in_uk_time(stored, shown):
    """T38: 23:59:59 BST on a deadline day is that day in the UK, though not in UTC."""
    assert uk_time(stored) == shown


def test_submitted_at_is_stored_in_utc(store, dataset, demo_returns):
    ingest(store, workbook_bytes(dataset, figures(demo_returns)), "q2.xlsx", submitted_by="lead")
    current = store.current("CSC", AREA, PERIOD)
    assert current is not None
    assert current.submitted_at.tzinfo is None  # naive: UTC by the store's convention
    assert abs((datetime.utcnow() - current.submitted_at).total_seconds()) < 60


HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    "[click me](javascript:alert(1))",
    "<script>alert(1)</script>",
]


def test_no_page_renders_text_as_html():
    """T54: the app never turns text into HTML (Dash shows strings as text)."""
    sources = "\\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "digest").rglob("*.py"))
    assert "dangerously_allow_html" not in sources
    assert "dcc.Markdown" not in sources


def test_an_explanation_that_looks_like_html_is_stored_and_shown_as_text(
    store, dataset, demo_returns
):
    """T54: what a data lead types is kept exactly and comes back as plain text."""
    values = figures(demo_returns)
    written = {code: f"{HOSTILE[i % len(HOSTILE)]} checked" for i, code in enumerate(values)}
    result = ingest(
        store,
        workbook_bytes(dataset, values, explanations=written),
        "x.xlsx",
        submitted_by="lead",
    )
    assert result.outcome == "accepted", result.message
    current = store.current("CSC", AREA, PERIOD)
    assert current is not None
    assert store.explanations(current.id) == written
