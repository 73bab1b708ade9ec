"""The challenge log: the store (append-only, states, refusals, audit), the view, the export and
the command, and the app's callbacks called through the real ``/_dash-update-component``
endpoint as each role's browser would call them, including what no page offers.

The app is the one of ``tests/test_app.py`` (today fixed at 5 January 2026; for 2025-26 Q2 the
CSC and Police returns are in, and CSC's return home interview indicators are outside the local
target), with an account for each role.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterator
from datetime import date, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from dash import Dash
from openpyxl import load_workbook

from digest.app.pages.challenges import dom_id, due_date
from digest.cli import main
from digest.domain.areas import find_area
from digest.export.challenges import challenge_log_workbook
from digest.store.challenges import MAX_TEXT, ChallengeError, ChallengesStore
from digest.store.database import connect
from digest.store.returns import ReturnsStore
from digest.store.users import UsersStore
from digest.views.challenges import challenge_log, default_due, overdue_challenges
from tests.conftest import AREA
from tests.dash_calls import payload
from tests.test_app import PASSWORD, Q1, Q2, Q3, TODAY, Served, serve, signed_in, texts

CHAIR = "chair@borough.example"
MEMBER = "member@borough.example"
CSC_LEAD = "csc.lead@borough.example"
POLICE_LEAD = "police.lead@borough.example"
ADMIN = "admin@borough.example"
ACCOUNTS = {
    CHAIR: ("chair", ()),
    MEMBER: ("member", ()),
    CSC_LEAD: ("data_lead", ("CSC",)),
    POLICE_LEAD: ("data_lead", ("POLICE",)),
    ADMIN: ("admin", ()),
}
#: A flag the exception report shows for 2025-26 Q2: CSC's indicator outside the local target.
FLAG = {"indicator": "rhi_completed", "flag": "outside_target", "agency": "CSC"}
ASKED = "Why are fewer return home interviews completed, and what is being done?"
HOSTILE = (
    '=HYPERLINK("http://example.org/x","click")',
    "<img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    "[a link](javascript:alert(1))",
    "+1-2",
    "@SUM(A1)",
)


def accounts(served: Served) -> Served:
    users = UsersStore(served.store.connection)
    for name, (role, agencies) in ACCOUNTS.items():
        users.add(name, name.split("@")[0], role, PASSWORD, agencies, actor="admin")
    return served


@pytest.fixture(scope="module")
def shared(tmp_path_factory, dataset, demo_returns) -> Iterator[Served]:
    """One app for the module: each test starts from an empty challenge log (below)."""
    store = ReturnsStore(connect(tmp_path_factory.mktemp("challenges") / "digest.duckdb"))
    yield accounts(serve(store, dataset, demo_returns))
    store.connection.close()


@pytest.fixture
def app(shared: Served) -> Served:
    """The shared app with nothing in its challenge log or audit log: the log is append-only,
    so only a test may empty it, and only here."""
    for table in ("challenge_events", "challenges", "audit_events"):
        shared.store.connection.execute(f"delete from {table}")
    return shared


@pytest.fixture
def own_app(store, dataset, demo_returns) -> Served:
    """An app on a database of its own, for a test that closes it."""
    return accounts(serve(store, dataset, demo_returns))


_signed: dict[tuple[int, str], Any] = {}


def client(app: Served, username: str) -> Any:
    """A test client signed in as ``username`` (once per app: signing in takes a while)."""
    key = (id(app.app), username)
    if key not in _signed:
        _signed[key] = signed_in(app.app, username)
    return _signed[key]


def log(app: Served) -> ChallengesStore:
    return ChallengesStore(app.store.connection)


def rows(app: Served) -> dict[str, list[tuple[object, ...]]]:
    """Everything the challenge log holds, to compare before and after a refusal."""
    return {
        table: app.store.connection.execute(f"select * from {table} order by all").fetchall()
        for table in ("challenges", "challenge_events")
    }


def audited(app: Served, action: str) -> list[dict[str, Any]]:
    return [e for e in app.store.audit_log() if e["action"] == action]


def answer_of(response: Any) -> dict[str, Any]:
    text = response.get_data(as_text=True)
    assert response.status_code == 200, text[:500]
    assert "Traceback" not in text
    found: dict[str, Any] = response.get_json()["response"]
    return found


def post(user_client: Any, body: dict[str, Any]) -> dict[str, Any]:
    return answer_of(
        user_client.post(
            "/_dash-update-component", data=json.dumps(body), content_type="application/json"
        )
    )


def raise_body(
    app: Dash,
    key: dict[str, Any] = FLAG,
    asked: Any = ASKED,
    due: Any = "2 February 2026",
    area: Any = AREA,
    period: Any = str(Q2),
) -> dict[str, Any]:
    """What the browser posts when "Raise the challenge" is pressed on one flag's row."""
    output = next(k for k in app.callback_map if "challenge-raised" in k)

    def of(kind: str) -> dict[str, Any]:
        return {"type": kind, **key}

    return {
        "output": output,
        "outputs": [
            {"id": of("challenge-raised"), "property": "children"},
            {"id": of("challenge-asked"), "property": "value"},
        ],
        "inputs": [{"id": of("challenge-raise"), "property": "n_clicks", "value": 1}],
        "state": [
            {"id": of("challenge-asked"), "property": "value", "value": asked},
            {"id": of("challenge-due"), "property": "value", "value": due},
            {"id": "exceptions-area", "property": "value", "value": area},
            {"id": "exceptions-period", "property": "value", "value": period},
        ],
        "changedPropIds": [dom_id(of("challenge-raise")) + ".n_clicks"],
    }


def raise_as(app: Served, username: str, **changes: Any) -> list[str]:
    """Raise a challenge from the exception report as ``username``: what the row then shows."""
    answer = post(client(app, username), raise_body(app.app, **changes))
    return texts(answer)


def answer_body(app: Dash, challenge: Any, text: Any) -> dict[str, Any]:
    """What the browser posts when "Send the answer" is pressed."""
    return payload(
        app,
        "challenges-answer-result.children",
        {
            "challenges-answer-send.n_clicks": 1,
            "challenges-answer-id.value": challenge,
            "challenges-answer-text.value": text,
            "challenges-area.value": AREA,
            "challenges-changed.data": 0,
        },
    )


def decide_body(app: Dash, challenge: Any, *, close: bool, note: Any = "") -> dict[str, Any]:
    """What the browser posts when "Close the challenge" (or "Escalate …") is pressed."""
    pressed = "challenges-close" if close else "challenges-escalate"
    body = payload(
        app,
        "challenges-decide-result.children",
        {
            f"{pressed}.n_clicks": 1,
            "challenges-decide-id.value": challenge,
            "challenges-decide-note.value": note,
            "challenges-area.value": AREA,
            "challenges-changed.data": 0,
        },
    )
    body["changedPropIds"] = [f"{pressed}.n_clicks"]
    return body


def answer_as(app: Served, username: str, challenge: Any, text: Any) -> list[str]:
    return texts(post(client(app, username), answer_body(app.app, challenge, text)))


def decide_as(
    app: Served, username: str, challenge: Any, *, close: bool, note: Any = ""
) -> list[str]:
    body = decide_body(app.app, challenge, close=close, note=note)
    return texts(post(client(app, username), body))


def add(app: Served, *, today: date = TODAY, due: date | None = None, **changes: Any) -> int:
    """A challenge stored directly (as the chair, on the CSC flag), for the steps after it."""
    fields: dict[str, Any] = {
        "area": AREA,
        "period": Q2,
        "indicator": "rhi_completed",
        "agency": "CSC",
        "asked": ASKED,
        "due": due or default_due(today),
        "raised_by": CHAIR,
        "today": today,
        **changes,
    }
    return log(app).add(**fields).id


# --- The store ------------------------------------------------------------------------------


def test_a_challenge_is_open_then_answered_then_closed_each_step_with_its_audit_event(app):
    store = log(app)
    raised = store.add(
        area=AREA,
        period=Q2,
        indicator="rhi_completed",
        agency="CSC",
        asked=f"  {ASKED}\r\nAnd by when?  ",
        due=date(2026, 2, 2),
        raised_by=CHAIR,
        today=TODAY,
    )
    assert (raised.state, raised.asked) == ("open", f"{ASKED}\nAnd by when?")
    assert store.answer(raised.id, "A new provider since July.", CSC_LEAD).state == "answered"
    closed = store.close(raised.id, "", CHAIR)
    assert closed.state == "closed"
    assert [(e.kind, e.made_by) for e in closed.events] == [
        ("answered", CSC_LEAD),
        ("closed", CHAIR),
    ]
    assert store.get(raised.id) == closed
    events = [
        (e["action"], e["actor"], e["outcome"], e["agency"], e["period"], json.loads(e["detail"]))
        for e in reversed(app.store.audit_log())
        if e["action"].startswith("challenge.")
    ]
    assert events == [
        (
            "challenge.raise",
            CHAIR,
            "done",
            "CSC",
            str(Q2),
            {"challenge": raised.id, "indicator": "rhi_completed", "due": "2026-02-02"},
        ),
        (
            "challenge.answer",
            CSC_LEAD,
            "done",
            "CSC",
            str(Q2),
            {"challenge": raised.id, "indicator": "rhi_completed"},
        ),
        (
            "challenge.close",
            CHAIR,
            "done",
            "CSC",
            str(Q2),
            {"challenge": raised.id, "indicator": "rhi_completed"},
        ),
    ]
    assert "fewer" not in json.dumps(events)  # the words written are never in the audit log


def test_an_escalated_challenge_can_be_answered_again_and_then_closed(app):
    store = log(app)
    challenge = add(app)
    store.escalate(challenge, "No answer yet: to the board.", CHAIR)
    store.answer(challenge, "First answer.", CSC_LEAD)
    store.escalate(challenge, "Not enough.", CHAIR)
    store.answer(challenge, "Second answer.", CSC_LEAD)
    assert store.close(challenge, "Accepted.", CHAIR).state == "closed"
    [entry] = challenge_log(_sources(app), AREA)
    assert (entry.answer, entry.outcome, entry.outcome_note) == (
        "Second answer.",
        "Closed",
        "Accepted.",
    )


@pytest.mark.parametrize(
    ("steps", "refused"),
    [
        ([], "close"),
        ([("answer", CSC_LEAD)], "answer"),
        ([("answer", CSC_LEAD), ("close", CHAIR)], "answer"),
        ([("answer", CSC_LEAD), ("close", CHAIR)], "escalate"),
        ([("answer", CSC_LEAD), ("close", CHAIR)], "close"),
        ([("escalate", CHAIR)], "escalate"),
        ([("escalate", CHAIR)], "close"),
    ],
)
def test_a_step_out_of_order_is_refused_and_changes_nothing(app, steps, refused):
    store = log(app)
    challenge = add(app)
    for step, by in steps:
        getattr(store, step)(challenge, "Said.", by)
    before = rows(app), len(app.store.audit_log())
    with pytest.raises(ChallengeError, match=r"^Only an? .* challenge can be"):
        getattr(store, refused)(challenge, "Said.", CHAIR)
    assert (rows(app), len(app.store.audit_log())) == before


def test_a_step_on_no_such_challenge_is_refused(app):
    with pytest.raises(ChallengeError, match="There is no such challenge"):
        log(app).answer(404, "Said.", CSC_LEAD)


def test_the_log_is_only_ever_added_to(app):
    store = log(app)
    challenge = add(app)
    first = app.store.connection.execute("select * from challenges").fetchall()
    store.answer(challenge, "Answer.", CSC_LEAD)
    store.escalate(challenge, "Escalated.", CHAIR)
    store.answer(challenge, "Again.", CSC_LEAD)
    assert app.store.connection.execute("select * from challenges").fetchall() == first
    steps = app.store.connection.execute(
        "select step, kind, text from challenge_events order by step"
    ).fetchall()
    assert steps == [
        (1, "answered", "Answer."),
        (2, "escalated", "Escalated."),
        (3, "answered", "Again."),
    ]
    source = Path("digest/store/challenges.py").read_text(encoding="utf-8").lower()
    assert not re.search(r"\b(update|delete)\s+(from\s+)?challenge", source)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Is this about child A12345678901B?", "a unique pupil number (UPN)"),
        ("The child with NHS number 943 476 5919 was missed.", "an NHS number"),
        ("A family at SW1A 1AA moved away.", "a full postcode"),
        ("DOB 3/4/2015, seen late.", "personal details of a child"),
    ],
)
def test_text_that_looks_like_a_childs_details_is_refused_without_repeating_it(app, text, kind):
    with pytest.raises(ChallengeError) as refused:
        add(app, asked=text)
    assert str(refused.value) == (
        f"What is asked seems to hold {kind}. The challenge log is about figures, never about "
        "a child: take out anything that could identify one."
    )
    challenge = add(app)
    with pytest.raises(ChallengeError, match=f"The answer seems to hold {re.escape(kind)}"):
        log(app).answer(challenge, text, CSC_LEAD)
    assert rows(app)["challenge_events"] == []


@pytest.mark.parametrize(
    ("asked", "why"),
    [
        ("   ", "Write what is asked: it cannot be empty."),
        (None, "Write what is asked as text."),
        (["a list"], "Write what is asked as text."),
        (
            "x" * (MAX_TEXT + 1),
            "Shorten what is asked to 2,000 characters or fewer (it has 2,001).",
        ),
        ("a\x00b", "Write what is asked as plain text, without control characters."),
    ],
)
def test_what_is_asked_must_be_plain_text_of_a_sensible_length(app, asked, why):
    with pytest.raises(ChallengeError) as refused:
        add(app, asked=asked)
    assert str(refused.value) == why
    assert rows(app)["challenges"] == []


@pytest.mark.parametrize(
    ("due", "why"),
    [
        (TODAY - timedelta(days=1), "The answer cannot be due before today"),
        (TODAY + timedelta(days=400), "Choose a due date within a year from today."),
        ("2026-02-02", "Give the date the answer is due."),
    ],
)
def test_a_due_date_in_the_past_or_too_far_ahead_is_refused(app, due, why):
    with pytest.raises(ChallengeError, match=re.escape(why)):
        add(app, due=due)


def test_due_dates_are_read_as_people_write_them():
    assert {due_date(t) for t in ("2 February 2026", "2 Feb 2026", "2/2/2026", "2026-02-02")} == {
        date(2026, 2, 2)
    }
    assert due_date("next week") is None and due_date({"$ne": 1}) is None


# --- The view -------------------------------------------------------------------------------


def _sources(app: Served) -> Any:
    import dataclasses

    from digest.views.sources import Sources

    return dataclasses.replace(Sources.open(app.store), today=lambda: TODAY)


def test_the_log_says_each_state_in_words_and_overdue_only_when_past_due_and_not_closed(app):
    store = log(app)
    early = TODAY - timedelta(days=60)
    late_open = add(app, today=early, due=early + timedelta(days=28))
    late_answered = add(app, today=early, due=early + timedelta(days=28))
    store.answer(late_answered, "Answered late.", CSC_LEAD)
    late_closed = add(app, today=early, due=early + timedelta(days=28))
    store.answer(late_closed, "Answered.", CSC_LEAD)
    store.close(late_closed, "", CHAIR)
    on_time = add(app)
    entries = {e.id: e for e in challenge_log(_sources(app), AREA)}
    assert {i: (e.state, e.overdue) for i, e in entries.items()} == {
        late_open: ("Open, overdue", True),
        late_answered: ("Answered, overdue", True),
        late_closed: ("Closed", False),
        on_time: ("Open", False),
    }
    entry = entries[late_answered]
    assert (entry.indicator_title, entry.agency_name, entry.period) == (
        "Return home interviews completed (%)",
        "Children's social care",
        Q2,
    )
    assert (entry.answer, entry.answered_by, entry.outcome) == ("Answered late.", CSC_LEAD, None)
    assert [e.id for e in overdue_challenges(_sources(app), AREA)] == [late_open, late_answered]
    # On the day it is due a challenge is not yet overdue.
    assert not challenge_log(_sources(app), AREA, today=early + timedelta(days=28))[0].overdue


def test_the_log_of_one_quarter_holds_only_the_challenges_on_its_flags(app):
    add(app)
    add(app, period=Q1)
    assert [e.period for e in challenge_log(_sources(app), AREA)] == [Q2, Q1]
    assert [e.period for e in challenge_log(_sources(app), AREA, period=Q1)] == [Q1]
    assert challenge_log(_sources(app), AREA, period=Q3) == []


# --- Raising a challenge from the exception report -----------------------------------------


def exceptions_table(app: Served, username: str) -> dict[str, Any]:
    body = payload(
        app.app,
        "exceptions-content.children",
        {
            "exceptions-area.value": AREA,
            "exceptions-period.value": str(Q2),
            "exceptions-agency.value": "all",
            "exceptions-flag.value": "all",
            "exceptions-sort.value": "theme",
        },
    )
    return post(client(app, username), body)


@pytest.mark.parametrize("username", [CHAIR, MEMBER])
def test_the_chair_or_a_member_raises_a_challenge_from_a_flag(app, username):
    page = json.dumps(exceptions_table(app, username))
    assert '"type": "challenge-raise"' in page and "Raise a challenge" in page
    shown = raise_as(app, username)
    [challenge] = log(app).challenges(AREA)
    assert shown[0] == (
        f"Challenge {challenge.id} raised: the Children's social care data lead is asked to "
        "answer by 2 February 2026. "
    )
    assert (challenge.indicator, challenge.agency, challenge.period) == ("rhi_completed", "CSC", Q2)
    assert (challenge.asked, challenge.raised_by, challenge.due) == (
        ASKED,
        username,
        date(2026, 2, 2),
    )
    assert audited(app, "challenge.raise")[0]["outcome"] == "done"
    after = texts(exceptions_table(app, username))
    assert f"Challenge {challenge.id}: open, answer due 2 February 2026" in after


@pytest.mark.parametrize("username", [CSC_LEAD, POLICE_LEAD, ADMIN])
def test_a_data_lead_or_an_administrator_cannot_raise_a_challenge(app, username):
    assert '"type": "challenge-raise"' not in json.dumps(exceptions_table(app, username))
    before = rows(app)
    shown = raise_as(app, username)
    assert shown == [
        "Only the chair and members raise challenges, and only from a flag shown here."
    ]
    assert rows(app) == before
    [refused] = audited(app, "challenge.raise")
    assert (refused["actor"], refused["outcome"]) == (username, "refused")


FORGED: dict[str, dict[str, Any]] = {
    "indicator-not-flagged": {"key": {**FLAG, "indicator": "referral_rate"}},
    "unknown-indicator": {"key": {**FLAG, "indicator": "no_such_indicator"}},
    "another-agency": {"key": {**FLAG, "agency": "POLICE"}},
    "another-kind-of-flag": {"key": {**FLAG, "flag": "worse_than_london"}},
    "key-not-text": {"key": {**FLAG, "indicator": {"$ne": 1}}},
    "quarter-not-offered": {"period": str(Q3)},
    "quarter-unknown": {"period": "2019-20 Q1"},
    "flag-of-another-quarter": {
        "key": {"indicator": "cse_high", "flag": "return_missing", "agency": "POLICE"}
    },
    "quarter-not-text": {"period": ["2025-26 Q2"]},
    "area-not-offered": {"area": "E09000001"},
    "area-not-text": {"area": {"$ne": 1}},
}


@pytest.mark.parametrize("forged", list(FORGED))
def test_a_forged_flag_agency_or_quarter_is_refused_recorded_and_stores_nothing(app, forged):
    before = rows(app)
    shown = raise_as(app, CHAIR, **FORGED[forged])
    assert shown == [
        "Only the chair and members raise challenges, and only from a flag shown here."
    ]
    assert rows(app) == before
    [refused] = audited(app, "challenge.raise")
    assert (refused["actor"], refused["outcome"]) == (CHAIR, "refused")
    detail = json.loads(refused["detail"])
    assert set(detail["sent"]) == {"indicator", "agency_sent", "period_sent"}
    assert all(re.fullmatch(r"[a-z]+(\(\d+\))?", shape) for shape in detail["sent"].values())


@pytest.mark.parametrize(
    ("asked", "due", "why"),
    [
        (
            "DOB 3/4/2015: was she seen?",
            "2 February 2026",
            "What is asked seems to hold personal details of a child.",
        ),
        ("", "2 February 2026", "Write what is asked: it cannot be empty."),
        (
            ASKED,
            "next week",
            "Give the date the answer is due, such as 2 February 2026 or 2/2/2026.",
        ),
        (ASKED, "1 January 2026", "The answer cannot be due before today: choose a later date."),
        ("y" * 100_000, "2 February 2026", "Shorten what is asked to 2,000 characters"),
    ],
)
def test_a_challenge_that_cannot_be_stored_is_refused_plainly_and_recorded_without_its_words(
    app, asked, due, why
):
    shown = raise_as(app, CHAIR, asked=asked, due=due)
    assert shown[0].startswith(why)
    assert rows(app)["challenges"] == []
    [refused] = audited(app, "challenge.raise")
    assert refused["outcome"] == "refused"
    assert "2015" not in refused["detail"] and "yyyy" not in refused["detail"]
    assert json.loads(refused["detail"])["sent"]["asked"] == f"str({len(asked)})"


# --- Answering, closing and escalating ------------------------------------------------------


def test_only_the_owning_agencys_data_lead_answers(app):
    challenge = add(app)
    for username in (POLICE_LEAD, MEMBER, CHAIR, ADMIN):
        shown = answer_as(app, username, str(challenge), "Not mine to answer.")
        assert shown[0].startswith("Only the data lead of the owning agency answers")
    assert rows(app)["challenge_events"] == []
    assert [e["actor"] for e in audited(app, "challenge.answer")] == [
        ADMIN,
        CHAIR,
        MEMBER,
        POLICE_LEAD,
    ]
    shown = answer_as(app, CSC_LEAD, str(challenge), "A new provider since July.")
    assert shown[0] == (
        f"Your answer to challenge {challenge} (Return home interviews completed (%)) is "
        "recorded: the chair will close the challenge or escalate it."
    )
    assert log(app).get(challenge).state == "answered"  # type: ignore[union-attr]
    assert audited(app, "challenge.answer")[0]["outcome"] == "done"


@pytest.mark.parametrize("chosen", [{"$ne": 1}, 1, None, "999", "1 or 1=1", True])
def test_an_answer_to_a_challenge_no_list_offers_is_refused(app, chosen):
    add(app)
    shown = answer_as(app, CSC_LEAD, chosen, "An answer.")
    assert shown[0].startswith("Only the data lead of the owning agency answers")
    assert rows(app)["challenge_events"] == []
    assert audited(app, "challenge.answer")[0]["outcome"] == "refused"


def test_only_the_chair_closes_or_escalates(app):
    challenge = add(app)
    log(app).answer(challenge, "An answer.", CSC_LEAD)
    for username in (MEMBER, CSC_LEAD, ADMIN):
        for close in (True, False):
            shown = decide_as(app, username, str(challenge), close=close, note="Decided.")
            assert shown[0].startswith("Only the chair closes or escalates a challenge")
    assert len(rows(app)["challenge_events"]) == 1
    assert len(audited(app, "challenge.close")) == len(audited(app, "challenge.escalate")) == 3
    shown = decide_as(app, CHAIR, str(challenge), close=True)
    assert shown[0] == f"Challenge {challenge} (Return home interviews completed (%)) is closed."
    assert log(app).get(challenge).state == "closed"  # type: ignore[union-attr]


def test_the_chair_cannot_close_an_unanswered_challenge_but_can_escalate_it(app):
    challenge = add(app)
    shown = decide_as(app, CHAIR, str(challenge), close=True)
    assert shown[0].startswith("Only the chair closes or escalates a challenge")
    assert rows(app)["challenge_events"] == []
    shown = decide_as(app, CHAIR, str(challenge), close=False, note="")
    assert shown == ["Write why it is escalated: it cannot be empty."]
    shown = decide_as(app, CHAIR, str(challenge), close=False, note="No answer: to the board.")
    assert shown[0].startswith(
        f"Challenge {challenge} (Return home interviews completed (%)) is escalated"
    )
    assert answer_as(app, CSC_LEAD, str(challenge), "Answered after all.")[0].startswith(
        "Your answer to challenge"
    )


# --- The Challenges page and the exception report ------------------------------------------


def challenges_page(
    app: Served, username: str, state: Any = "all", agency: Any = "all"
) -> dict[str, Any]:
    body = payload(
        app.app,
        "challenges-content.children",
        {
            "challenges-area.value": AREA,
            "challenges-state.value": state,
            "challenges-agency.value": agency,
            "challenges-changed.data": 0,
        },
    )
    return post(client(app, username), body)


def test_the_challenges_page_lists_the_log_and_filters_it_by_state_and_agency(app):
    answered = add(app)
    log(app).answer(answered, "A new provider since July.", CSC_LEAD)
    add(app, indicator="rhi_offered")
    answer = challenges_page(app, MEMBER)
    shown = texts(answer["challenges-content"])
    assert shown[0] == "2 challenges, 0 overdue"
    assert "A new provider since July." in shown and "None yet" in shown
    assert answer["challenges-download"]["href"] == f"/download/challenges.xlsx?area={AREA}"
    only = texts(challenges_page(app, MEMBER, state="answered", agency="CSC"))
    assert only[0] == "1 challenge, 0 overdue"
    none = texts(challenges_page(app, MEMBER, state="closed"))
    assert none[0] == "No challenge has been raised for the choices made."
    assert texts(challenges_page(app, MEMBER, state={"$ne": 1}))[0] == "2 challenges, 0 overdue"


@pytest.mark.parametrize(
    ("username", "answering", "deciding"),
    [(CHAIR, False, True), (MEMBER, False, False), (CSC_LEAD, True, False), (ADMIN, False, False)],
)
def test_the_page_offers_each_role_only_its_own_form(app, username, answering, deciding):
    add(app)
    page = answer_of(
        client(app, username).post(
            "/_dash-update-component",
            data=json.dumps(
                payload(
                    app.app,
                    "main.children",
                    {"url.pathname": "/challenges", "url.search": "", "shown-path.data": None},
                )
            ),
            content_type="application/json",
        )
    )
    text = json.dumps(page)
    assert texts(page)[0] == "Challenge log"
    assert ('"challenges-answer-send"' in text) == answering
    assert ('"challenges-decide-id"' in text) == deciding


def test_overdue_challenges_show_on_the_exception_report_in_words(app):
    early = TODAY - timedelta(days=60)
    late = add(app, today=early, due=early + timedelta(days=28))
    closed = add(app, today=early, due=early + timedelta(days=28))
    log(app).answer(closed, "Answered.", CSC_LEAD)
    log(app).close(closed, "", CHAIR)
    body = payload(
        app.app,
        "exceptions-overdue.children",
        {"exceptions-area.value": AREA, "exceptions-period.value": str(Q2)},
    )
    shown = texts(post(client(app, MEMBER), body))
    assert shown[0] == "1 overdue challenge, of any quarter"
    due = early + timedelta(days=28)
    assert f"Answer was due {due.day} {due:%B %Y}; open, overdue" in shown
    assert f"Challenge {late}" in shown and f"Challenge {closed}" not in shown


def test_hostile_text_is_shown_as_the_text_it_is(app):
    for text in HOSTILE:
        shown = raise_as(app, CHAIR, asked=text)
        assert shown[0].startswith("Challenge ")
    challenge = log(app).challenges(AREA)[0].id
    answer_as(app, CSC_LEAD, str(challenge), HOSTILE[1])
    answer = challenges_page(app, CHAIR)
    shown = texts(answer["challenges-content"])
    for text in HOSTILE:
        assert text in shown
    page = json.dumps(answer)
    assert "dangerouslySetInnerHTML" not in page and '"type": "Markdown"' not in page
    assert not re.search(r'"href": "(javascript|=|<)', page)


# --- The workbook, its download and the command ---------------------------------------------


def sheet_xml(content: bytes) -> str:
    """The worksheets' XML and their relationships (where a hyperlink's target would be)."""
    with zipfile.ZipFile(BytesIO(content)) as book:
        return "".join(
            book.read(name).decode()
            for name in book.namelist()
            if name.startswith("xl/worksheets/")
        )


def test_the_exported_log_is_inert_whatever_was_written(app):
    for text in HOSTILE:
        add(app, asked=text)
    first = log(app).challenges(AREA)[0].id
    log(app).answer(first, HOSTILE[0], CSC_LEAD)
    log(app).escalate(first, HOSTILE[2], CHAIR)
    entries = challenge_log(_sources(app), AREA)
    content = challenge_log_workbook(find_area(AREA), entries)
    xml = sheet_xml(content)
    assert "<f>" not in xml and "<f " not in xml and "<hyperlink" not in xml
    assert "relationships/hyperlink" not in xml
    assert 't="inlineStr"><is><t>=HYPERLINK(' in xml  # a string, written as the text it is
    sheet = load_workbook(BytesIO(content)).active
    assert sheet is not None
    cells = [c for row in sheet.iter_rows() for c in row if c.value is not None]
    assert all(c.data_type in ("s", "n") for c in cells)
    values = {c.value for c in cells}
    assert set(HOSTILE) <= values


def test_the_log_downloads_for_anyone_signed_in_and_nobody_else(app):
    add(app)
    response = client(app, MEMBER).get(f"/download/challenges.xlsx?area={AREA}&state=open")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="challenges-{AREA}.xlsx"'
    )
    sheet = load_workbook(BytesIO(response.data)).active
    assert sheet is not None
    values = [row for row in sheet.iter_rows(values_only=True)]
    assert values[0][0].startswith("Challenge log: ")  # type: ignore[union-attr]
    assert any(row[4] == ASKED for row in values)
    assert audited(app, "export")[0]["detail"] == json.dumps(
        {"challenges": 1, "file": "challenges.xlsx"}, sort_keys=True
    )
    assert (
        app.app.server.test_client().get(f"/download/challenges.xlsx?area={AREA}").status_code
        == 401
    )
    for query in ("area=E09000001", "area=%7B%7D", ""):
        assert client(app, MEMBER).get(f"/download/challenges.xlsx?{query}").status_code == 404


def test_the_command_lists_the_log_and_writes_it_as_a_workbook(own_app, db_path, tmp_path, capsys):
    challenge = add(own_app)
    log(own_app).answer(challenge, "Answered.", CSC_LEAD)
    own_app.store.connection.close()
    assert main(["challenges", "--db", str(db_path), "--area", AREA]) == 0
    listed = capsys.readouterr().out
    assert re.search(
        rf"^\s+{challenge}\s+2025-26 Q2\s+CSC\s+Answered(, overdue)?\s+due 2 February 2026\s+"
        r"Return home interviews completed \(%\)$",
        listed,
        flags=re.MULTILINE,
    ), listed
    out = tmp_path / "log.xlsx"
    assert (
        main(
            [
                "challenges",
                "--db",
                str(db_path),
                "--area",
                AREA,
                "--period",
                str(Q1),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert "Wrote 0 challenges" in capsys.readouterr().out
    rows_written = list(load_workbook(out).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert "Chosen: 2025-26 Q1 only. No challenge of those chosen has been raised." in [
        r[0] for r in rows_written
    ]
