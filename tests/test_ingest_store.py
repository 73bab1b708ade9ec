"""Versioned storage: nothing lost, nothing silently changed, all or nothing."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import duckdb
import pytest

import digest.store
from digest.ingest import display_name, ingest
from digest.read.safe import read_workbook
from digest.store.database import StoreError, connect, migrate
from digest.store.returns import NewSubmission, ReturnsStore
from digest.validate.rules import RULESET_VERSION, validate_return
from tests.conftest import AREA, PERIOD, figures, table_counts, workbook_bytes


def put(store, content, name="return.xlsx", **kwargs):
    return ingest(store, content, name, submitted_by="tester", **kwargs)


def test_the_same_file_again_changes_nothing_and_says_so(store, dataset, demo_returns):
    content = workbook_bytes(dataset, figures(demo_returns))
    first = put(store, content)
    assert first.outcome == "accepted"
    before = table_counts(store)
    again = put(store, content, "copy of return.xlsx")
    assert again.outcome == "unchanged"
    assert again.version == 1
    assert again.message.startswith("copy of return.xlsx is identical to version 1 submitted on ")
    assert again.message.endswith(" by tester: nothing changed.")
    assert table_counts(store) == before
    assert store.audit_log(1)[0]["outcome"] == "unchanged"


def test_a_corrected_file_becomes_the_next_version_and_keeps_the_last(store, dataset, demo_returns):
    values = figures(demo_returns)
    assert put(store, workbook_bytes(dataset, values)).outcome == "accepted"
    values["CSC.REFERRALS"] = int(values["CSC.REFERRALS"]) + 7
    second = put(store, workbook_bytes(dataset, values), "corrected.xlsx")
    assert second.outcome == "accepted"
    assert second.version == 2
    assert second.message == (
        "corrected.xlsx was accepted as version 2 of the CSC return for "
        "2025-26 Q2, replacing version 1."
    )
    versions = store.submissions(period=PERIOD, area=AREA, agency="CSC")
    assert [(s.version, s.status) for s in versions] == [(1, "superseded"), (2, "current")]
    old = {v.code: v.value for v in store.values(versions[0].id)}
    new = {v.code: v.value for v in store.current_values("CSC", AREA, PERIOD)}
    assert new["CSC.REFERRALS"] == (old["CSC.REFERRALS"] or 0) + 7
    assert all(v.version == 2 for v in store.current_values("CSC", AREA, PERIOD))


def test_a_rejected_file_leaves_everything_as_it_was(store, dataset, demo_returns):
    assert put(store, workbook_bytes(dataset, figures(demo_returns))).outcome == "accepted"
    before = table_counts(store)
    bad = figures(demo_returns)
    bad["CSC.S47"] = "lots"
    result = put(store, workbook_bytes(dataset, bad))
    assert result.outcome == "rejected"
    assert table_counts(store) == before
    event = store.audit_log(1)[0]
    assert (event["action"], event["outcome"]) == ("upload", "rejected")
    assert '"value.text"' in event["detail"]
    assert "lots" not in event["detail"]


def test_a_dry_run_stores_nothing(store, dataset, demo_returns):
    before = table_counts(store)
    result = put(store, workbook_bytes(dataset, figures(demo_returns)), dry_run=True)
    assert result.outcome == "accepted"
    assert result.dry_run
    assert "dry run: nothing was stored" in result.message
    assert table_counts(store) == before
    assert store.audit_log(1)[0]["action"] == "dry_run"


def test_an_unreadable_file_is_rejected_and_audited_with_its_hash(store):
    result = put(store, b"%PDF-1.4 not a workbook", "minutes.xlsx")
    assert result.outcome == "rejected"
    assert result.findings[0].rule == "file.pdf"
    event = store.audit_log(1)[0]
    assert event["outcome"] == "rejected"
    assert len(event["sha256"]) == 64


def test_the_submission_and_its_audit_event_commit_together(store, dataset, demo_returns):
    result = put(store, workbook_bytes(dataset, figures(demo_returns)))
    current = store.current("CSC", AREA, PERIOD)
    assert current is not None and result.version == 1
    event = store.audit_log(1)[0]
    assert (event["action"], event["outcome"], event["submission_id"]) == (
        "submission",
        "accepted",
        current.id,
    )
    assert event["ruleset_version"] == current.ruleset_version


def test_two_submissions_at_once_get_consecutive_versions(db_path, dataset, demo_returns):
    store = ReturnsStore(connect(db_path))
    contents = []
    for extra in range(4):
        values = figures(demo_returns)
        values["CSC.REFERRALS"] = int(values["CSC.REFERRALS"]) + extra
        contents.append(workbook_bytes(dataset, values))
    outcomes: list[str] = []
    barrier = threading.Barrier(len(contents))

    def submit(content: bytes) -> None:
        barrier.wait()
        try:
            outcomes.append(put(store, content).outcome)
        except Exception as error:  # a conflict must surface as a message, never a traceback
            outcomes.append(type(error).__name__)

    threads = [threading.Thread(target=submit, args=(c,)) for c in contents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    accepted = outcomes.count("accepted")
    assert set(outcomes) <= {"accepted", "StoreConflict"}
    versions = store.submissions(period=PERIOD, area=AREA, agency="CSC")
    assert [s.version for s in versions] == list(range(1, accepted + 1))
    assert [s.status for s in versions].count("current") == 1


def test_migrations_are_recorded_and_run_once(db_path):
    connection = connect(db_path)
    assert migrate(connection) == []
    recorded = connection.execute(
        "select version, name from schema_migrations order by version"
    ).fetchall()
    shipped = sorted(Path(digest.store.__file__).parent.glob("migrations/*.sql"))
    assert recorded == [(int(p.name[:4]), p.stem[5:]) for p in shipped]
    assert recorded[0] == (1, "returns")


def test_sql_cannot_reach_server_files(store):
    with pytest.raises(duckdb.PermissionException):
        store._connection.execute("select * from read_csv('/etc/passwd')")
    with pytest.raises(duckdb.Error):
        store._connection.execute("set enable_external_access = true")


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("../../x.xlsx", "x.xlsx"),
        ("a.xlsx\x00.exe", "a.xlsx.exe"),
        ("C:\\Users\\me\\return.xlsx", "return.xlsx"),
        ("\u202eslx.exe", "slx.exe"),
        ("r" * 300 + ".xlsx", "r" * 117 + "..."),
    ],
)
def test_file_names_are_cleaned_before_they_are_stored_or_shown(given, shown):
    assert display_name(given) == shown


def test_an_acceptance_recorded_before_migration_4_is_not_listed_twice(db_path):
    """Databases from before 0004 wrote each acceptance as an audit row; it is kept, once."""
    folder = Path(digest.store.__file__).parent / "migrations"
    old = duckdb.connect(str(db_path))
    old.execute(
        "create table schema_migrations (version integer primary key, name varchar not null,"
        " applied_at timestamp not null)"
    )
    for script in sorted(folder.glob("000[123]_*.sql")):
        old.execute(script.read_text(encoding="utf-8"))
        old.execute(
            "insert into schema_migrations values (?, ?, now())",
            [int(script.name[:4]), script.stem[5:]],
        )
    old.execute(
        "insert into submissions (agency, area, period, period_index, version, sha256, file_name,"
        " file_size, template_version, dataset_version, ruleset_version, submitted_by,"
        " submitted_at, figures, findings) values ('CSC', ?, ?, ?, 1, 'abc', 'old.xlsx', 1, 1, 1,"
        " '1.0', 'lead', now(), [], [])",
        [AREA, str(PERIOD), PERIOD.index],
    )
    old.execute(
        "insert into audit_log (happened_at, actor, action, outcome, submission_id, detail)"
        " values (now(), 'lead', 'submission', 'accepted', 1, '{\"version\": 1}')"
    )
    old.close()

    store = ReturnsStore(connect(db_path))
    events = store.audit_log()
    assert [(e["action"], e["outcome"], e["detail"]) for e in events] == [
        ("submission", "accepted", '{"version": 1}')
    ]


def test_a_new_version_is_its_own_audit_event(store, dataset, demo_returns):
    values = figures(demo_returns)
    put(store, workbook_bytes(dataset, values), "first.xlsx")
    values["CSC.REFERRALS"] = int(values["CSC.REFERRALS"]) + 1
    put(store, workbook_bytes(dataset, values), "second.xlsx")
    [newest, oldest] = store.audit_log()
    assert newest["detail"] == (
        '{"file_name":"second.xlsx","queries":0,"superseded":1,"version":2}'
    )
    assert (oldest["action"], oldest["outcome"], oldest["actor"]) == (
        "submission",
        "accepted",
        "tester",
    )
    assert store._connection.execute("select count(*) from audit_events").fetchone() == (0,)


def test_a_version_stored_meanwhile_by_someone_else_is_followed_not_overwritten(
    store, dataset, demo_returns
):
    """The version a submitter validated against may be stale: the next free number is taken."""
    values = figures(demo_returns)
    put(store, workbook_bytes(dataset, values))
    seen = store.context("CSC", AREA, PERIOD).latest
    values["CSC.REFERRALS"] = int(values["CSC.REFERRALS"]) + 1
    put(store, workbook_bytes(dataset, values), "someone else's.xlsx")

    values["CSC.REFERRALS"] = int(values["CSC.REFERRALS"]) + 1
    content = workbook_bytes(dataset, values)
    mine = NewSubmission(
        validated=validate_return(read_workbook(content, "mine.xlsx"), dataset),
        sha256=hashlib.sha256(content).hexdigest(),
        file_name="mine.xlsx",
        file_size=len(content),
        dataset_version=dataset.dataset_version,
        ruleset_version=RULESET_VERSION,
        submitted_by="tester",
        explanations={},
    )
    stored, created = store.record(mine, seen)
    assert seen is not None and seen.version == 1
    assert (stored.version, created) == (3, True)
    assert [s.version for s in store.submissions(agency="CSC")] == [1, 2, 3]


def test_an_explanation_for_a_measure_of_another_return_is_not_stored(store, dataset, demo_returns):
    result = put(
        store,
        workbook_bytes(dataset, figures(demo_returns)),
        explanations={"HEALTH.IHA_20WD": "Every assessment was on time, honestly."},
    )
    assert result.outcome == "accepted"
    current = store.current("CSC", AREA, PERIOD)
    assert current is not None and store.explanations(current.id) == {}
    [note] = [f for f in result.findings if f.rule == "explanation.not_ours"]
    assert note.message == (
        "The explanation given for HEALTH.IHA_20WD was not stored: it is not a measure of the "
        "CSC return."
    )


def test_an_explanation_given_for_a_measure_with_no_query_is_not_stored(
    store, dataset, demo_returns
):
    result = put(
        store,
        workbook_bytes(dataset, figures(demo_returns)),
        explanations={"CSC.CLA_OPEN": "Nothing was queried here, but store this anyway."},
    )
    assert result.outcome == "accepted"
    current = store.current("CSC", AREA, PERIOD)
    assert current is not None and store.explanations(current.id) == {}
    assert any(
        f.message.endswith("no query of the CSC return is about it.") for f in result.findings
    )


def test_a_revision_after_sign_off_waits_and_the_signed_off_version_stays_live(
    store, dataset, demo_returns
):
    from digest.store.figures import current_figures

    values = figures(demo_returns)
    put(store, workbook_bytes(dataset, values), "first.xlsx")
    first = store.current("CSC", AREA, PERIOD)
    assert first is not None
    store.sign_off(first.id, "chair@example.org")
    values["CSC.REFERRALS"] = int(values["CSC.REFERRALS"]) + 9
    revised = put(store, workbook_bytes(dataset, values), "revised.xlsx")
    assert revised.version == 2

    live = store.current("CSC", AREA, PERIOD)
    assert live is not None and live.version == 1  # the signed-off one, until the revision is
    assert [(s.version, s.status) for s in store.submissions(agency="CSC")] == [
        (1, "current"),
        (2, "awaiting sign-off"),
    ]
    referrals = [r for r in current_figures(store.connection, ["CSC.REFERRALS"], [AREA], 0, 10_000)]
    assert [r[3] for r in referrals] == [float(values["CSC.REFERRALS"]) - 9]

    with pytest.raises(StoreError, match="signed off already"):
        store.sign_off(first.id, "chair@example.org")
    second = store.latest("CSC", AREA, PERIOD)
    values["CSC.REFERRALS"] = int(values["CSC.REFERRALS"]) + 1
    put(store, workbook_bytes(dataset, values), "third.xlsx")
    assert second is not None
    with pytest.raises(StoreError, match="revised since"):
        store.sign_off(second.id, "chair@example.org")
    latest = store.latest("CSC", AREA, PERIOD)
    assert latest is not None and latest.version == 3
    store.sign_off(latest.id, "chair@example.org")
    now_live = store.current("CSC", AREA, PERIOD)
    assert now_live is not None and now_live.version == 3
    with pytest.raises(StoreError, match="signed off already"):
        store.sign_off(latest.id, "chair@example.org")
    signed = [e for e in store.audit_log() if e["action"] == "sign_off"]
    assert [e["submission_id"] for e in signed] == [latest.id, first.id]


def test_an_explanation_is_carried_forward_only_while_its_query_and_figure_are_unchanged(
    store, dataset, demo_returns
):
    """T32: a corrected file keeps the answer to an unchanged query, marked to confirm; a
    changed figure is asked about afresh."""
    before = PERIOD.previous()
    assert put(store, workbook_bytes(dataset, figures(demo_returns, period=before), period=before))
    values = figures(demo_returns, period=before)  # as last quarter, but for one figure
    values["CSC.REFERRALS"] = int(values["CSC.REFERRALS"]) * 3
    reason = "A new front door opened in August and took every contact."
    first = put(store, workbook_bytes(dataset, values), explanations={"CSC.REFERRALS": reason})
    assert (first.outcome, first.version) == ("accepted", 1)

    values["CSC.CLA_OPEN"] = int(values["CSC.CLA_OPEN"]) + 1  # a correction elsewhere
    second = put(store, workbook_bytes(dataset, values), "corrected.xlsx")
    assert (second.outcome, second.version) == ("accepted", 2)
    assert second.message.endswith(
        "The explanations for CSC.REFERRALS were carried forward from version 1, as their "
        "queries are unchanged: please confirm them."
    )
    [note] = [f for f in second.findings if f.rule == "explanation.carried_forward"]
    assert note.code == "CSC.REFERRALS"
    current = store.current("CSC", AREA, PERIOD)
    assert current is not None
    assert store.explanations(current.id) == {"CSC.REFERRALS": reason}
    assert store.carried(current.id) == {"CSC.REFERRALS": 1}

    values["CSC.REFERRALS"] += 40  # the queried figure itself is corrected: ask again
    third = put(store, workbook_bytes(dataset, values), "corrected again.xlsx")
    assert third.outcome == "rejected"
    assert "1 query needs an explanation (CSC.REFERRALS)" in third.message

    given = "Recounted after the front door's first month; the rise is real."
    fourth = put(store, workbook_bytes(dataset, values), explanations={"CSC.REFERRALS": given})
    assert (fourth.outcome, fourth.version) == ("accepted", 3)
    latest = store.current("CSC", AREA, PERIOD)
    assert latest is not None and store.carried(latest.id) == {}
    assert store.explanations(latest.id) == {"CSC.REFERRALS": given}
