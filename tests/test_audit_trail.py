"""T35 and T36: the audit trail of a quarter's work is complete, in order, holds no figures, and
nothing in the code can change or remove what it records."""

from __future__ import annotations

import json
import re
from pathlib import Path

from digest.ingest import ingest
from digest.pack.build import make_pack
from digest.store.returns import ReturnsStore
from digest.validate.rules import RULESET
from digest.views.sources import Sources
from tests.conftest import AREA, PERIOD, figures, workbook_bytes

ROOT = Path(__file__).resolve().parents[1]
LEAD, CHAIR = "lead@borough.example", "chair@borough.example"


def test_a_quarters_work_leaves_exactly_the_expected_events_in_order(
    store: ReturnsStore, dataset, demo_returns
):
    before = PERIOD.previous()
    ingest(
        store,
        workbook_bytes(dataset, figures(demo_returns, period=before), period=before),
        "q1.xlsx",
        submitted_by=LEAD,
    )
    start = len(store.audit_log())
    values = figures(demo_returns, period=before)
    values["CSC.REFERRALS"] = int(values["CSC.REFERRALS"]) * 3  # raises a query
    good = workbook_bytes(dataset, values)
    broken = dict(values, **{"CSC.S47": "lots"})
    reason = {"CSC.REFERRALS": "A new front door opened in August and took every contact."}

    assert ingest(store, good, "q2.xlsx", submitted_by=LEAD, dry_run=True).outcome == "rejected"
    rejected = ingest(store, workbook_bytes(dataset, broken), "q2.xlsx", submitted_by=LEAD)
    assert rejected.outcome == "rejected"
    first = ingest(store, good, "q2.xlsx", submitted_by=LEAD, explanations=reason)
    assert first.version == 1
    current = store.current("CSC", AREA, PERIOD)
    assert current is not None
    store.sign_off(current.id, CHAIR)
    values["CSC.CLA_OPEN"] = int(values["CSC.CLA_OPEN"]) + 1
    second = ingest(store, workbook_bytes(dataset, values), "q2 v2.xlsx", submitted_by=LEAD)
    assert second.version == 2
    pack, _ = make_pack(
        Sources.open(store), AREA, "internal", "xlsx", built_by=CHAIR, period=PERIOD
    )

    events = list(reversed(store.audit_log()))[start:]
    assert [(e["actor"], e["action"], e["outcome"]) for e in events] == [
        (LEAD, "dry_run", "rejected"),  # the query was not yet explained
        (LEAD, "upload", "rejected"),
        (LEAD, "submission", "accepted"),
        (CHAIR, "sign_off", "done"),
        (LEAD, "submission", "accepted"),
        (CHAIR, "export", "done"),
    ]
    for event in events:
        assert event["happened_at"] is not None
        assert (event["area"], event["period"]) == (AREA, str(PERIOD))
        assert event["ruleset_version"] in (RULESET.version, None)
    uploads = [e for e in events if e["action"] in ("dry_run", "upload", "submission")]
    assert all(e["agency"] == "CSC" and re.fullmatch(r"[0-9a-f]{64}", e["sha256"]) for e in uploads)
    assert json.loads(events[-1]["detail"])["snapshot"] == pack.snapshot
    # No event holds a figure of the return or what the data lead wrote.
    written = json.dumps([e["detail"] for e in events])
    assert "front door" not in written and "lots" not in written
    for number in {int(v) for v in values.values() if isinstance(v, int) and v > 99}:
        assert str(number) not in written


def test_nothing_in_the_code_changes_or_removes_what_the_trail_records():
    """Returns, explanations, sign-offs, challenges and audit events are only ever added. The one
    place rows are taken away is the scratch copy that rebuilds a pack as of a past moment."""
    recorded = ("audit_events", "submissions", "query_explanations", "sign_offs", "challenge")
    changing = re.compile(
        r"\b(update|delete\s+from|truncate|drop\s+table)\s+(\w+)", flags=re.IGNORECASE
    )
    found = []
    for source in sorted((ROOT / "digest").rglob("*")):
        if source.suffix not in (".py", ".sql"):
            continue
        for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1):
            for _verb, table in changing.findall(line):
                if table.startswith(recorded):
                    found.append(f"{source.relative_to(ROOT)}:{number}")
    scratch = [f for f in found if f.startswith("digest/store/database.py")]
    assert found == scratch and len(scratch) == 3, found
    copy_as_of = (ROOT / "digest/store/database.py").read_text(encoding="utf-8")
    assert "def copy_as_of(" in copy_as_of and 'copy = folder / "as-of.duckdb"' in copy_as_of
