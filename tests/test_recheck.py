"""T29: a ruleset change mid-quarter. Stored versions keep the ruleset that accepted them, and a
re-check on demand shows what the rules in force would say, writing nothing."""

from __future__ import annotations

import subprocess
import sys

from digest.ingest import ingest
from digest.recheck import recheck
from digest.validate.rules import RULESET, Ruleset
from tests.conftest import AREA, PERIOD, figures, table_counts, workbook_bytes

REASON = "The team moved to a new system and counted nothing this quarter."
STRICTER = Ruleset("1.1", {**RULESET.severity, "query.zero": "error"})
LAXER = Ruleset("1.1", {**RULESET.severity, "value.part_exceeds_whole": "query"})


def stored_with_a_zero_query(store, dataset, demo_returns):
    """Last quarter's CSC return, then this quarter's with S47 at 0, explained (ruleset 1.0)."""
    before = PERIOD.previous()
    values = figures(demo_returns, period=before)
    assert (
        ingest(
            store, workbook_bytes(dataset, values, period=before), "q1.xlsx", submitted_by="lead"
        ).outcome
        == "accepted"
    )
    values["CSC.S47"] = 0
    result = ingest(
        store,
        workbook_bytes(dataset, values),
        "q2.xlsx",
        submitted_by="lead",
        explanations={"CSC.S47": REASON},
    )
    assert (result.outcome, result.version) == ("accepted", 1)
    assert [f.rule for f in result.findings if f.severity == "query"] == ["query.zero"]
    return values


def test_under_the_same_rules_a_recheck_finds_no_difference(store, dataset, demo_returns):
    stored_with_a_zero_query(store, dataset, demo_returns)
    found = recheck(store, dataset, "CSC", AREA, PERIOD)
    assert found is not None and found.differences == [] and not found.blocked
    assert found.summary() == (
        "Version 1 of the CSC return for 2025-26 Q2 was accepted under ruleset 1.0; re-checked "
        "under ruleset 1.0: no difference."
    )


def test_a_query_made_an_error_shows_as_a_difference_and_changes_nothing(
    store, dataset, demo_returns
):
    stored_with_a_zero_query(store, dataset, demo_returns)
    before, events = table_counts(store), len(store.audit_log())
    found = recheck(store, dataset, "CSC", AREA, PERIOD, STRICTER)
    assert found is not None and found.blocked
    [difference] = found.differences
    assert (difference.rule, difference.code, difference.change) == (
        "query.zero",
        "CSC.S47",
        "was a query, now an error",
    )
    assert found.summary() == (
        "Version 1 of the CSC return for 2025-26 Q2 was accepted under ruleset 1.0; re-checked "
        "under ruleset 1.1: 1 difference. It would now be refused until corrected."
    )
    assert table_counts(store) == before and len(store.audit_log()) == events
    current = store.current("CSC", AREA, PERIOD)
    assert current is not None and current.ruleset_version == "1.0"


def test_a_new_version_is_checked_and_stamped_with_the_rules_in_force(store, dataset, demo_returns):
    values = stored_with_a_zero_query(store, dataset, demo_returns)
    values["CSC.CLA_OPEN"] = int(values["CSC.CLA_OPEN"]) + 1
    refused = ingest(
        store,
        workbook_bytes(dataset, values, explanations={"CSC.S47": REASON}),
        "q2 v2.xlsx",
        submitted_by="lead",
        ruleset=STRICTER,
    )
    assert refused.outcome == "rejected"
    assert [f.rule for f in refused.findings if f.severity == "error"] == ["query.zero"]

    values["CSC.S47"] = figures(demo_returns)["CSC.S47"]
    values["CSC.CPP_STARTED_REPEAT"] = int(values["CSC.CPP_STARTED"]) + 1  # now only a query
    accepted = ingest(
        store,
        workbook_bytes(dataset, values),
        "q2 v3.xlsx",
        submitted_by="lead",
        explanations={"CSC.CPP_STARTED_REPEAT": "Two plans were counted twice; being fixed."},
        ruleset=LAXER,
    )
    assert (accepted.outcome, accepted.version) == ("accepted", 2), accepted.message
    versions = store.submissions(agency="CSC", period=PERIOD)
    assert [(s.version, s.ruleset_version) for s in versions] == [(1, "1.0"), (2, "1.1")]
    found = recheck(store, dataset, "CSC", AREA, PERIOD)  # under 1.0 it would be refused
    assert found is not None and found.blocked
    assert [d.change for d in found.differences if d.rule == "value.part_exceeds_whole"] == [
        "was a query, now an error"
    ]


def test_the_recheck_command(db_path, store, dataset, demo_returns):
    stored_with_a_zero_query(store, dataset, demo_returns)
    store.connection.close()
    shown = subprocess.run(
        [
            sys.executable,
            "-m",
            "digest",
            "recheck",
            "--agency",
            "CSC",
            "--period",
            "2025-26 Q2",
            "--db",
            str(db_path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip().endswith("re-checked under ruleset 1.0: no difference.")
