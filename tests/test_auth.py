"""Sign-in, sessions and what each role may do, checked through the real server's HTTP endpoints."""

from __future__ import annotations

import base64
import json
import re
import time
from datetime import date, timedelta
from typing import Any

import pytest

from digest.app import auth
from digest.app.server import create_app
from digest.demo import COMPACT_BENCHMARKS
from digest.published.compact import import_compact
from digest.store.challenges import ChallengesStore
from digest.store.users import UsersStore
from digest.views.sources import Sources
from tests.conftest import PERIOD, figures, table_counts, workbook_bytes
from tests.dash_calls import payload
from tests.test_challenges import answer_body, decide_body, raise_body

PASSWORD = "correct horse battery staple"
ACCOUNTS = {
    "police.lead@example.org": ("data_lead", ("POLICE",)),
    "member@example.org": ("member", ()),
    "chair@example.org": ("chair", ()),
    "admin@example.org": ("admin", ()),
}


@pytest.fixture
def app(store):
    import_compact(store.connection, COMPACT_BENCHMARKS)
    users = UsersStore(store.connection)
    for name, (role, agencies) in ACCOUNTS.items():
        users.add(name, name.split("@")[0], role, PASSWORD, agencies, actor="admin")
    return create_app(Sources.open(store), secret="test secret")


def sign_in(client, username: str, password: str = PASSWORD):
    page = client.get("/login")
    found = re.search(r'name="csrf" value="([^"]+)"', page.get_data(as_text=True))
    assert found is not None
    token = found.group(1)
    return client.post("/login", data={"username": username, "password": password, "csrf": token})


def form_token(layout: Any) -> str:
    """The CSRF token of the sign-out form in the page's layout."""
    if isinstance(layout, dict):
        props = layout.get("props", {})
        if props.get("name") == "csrf":
            return str(props["value"])
        for value in [*props.values(), *layout.values()]:
            if isinstance(value, (dict, list)):
                try:
                    return form_token(value)
                except LookupError:
                    pass
    if isinstance(layout, list):
        for item in layout:
            try:
                return form_token(item)
            except LookupError:
                pass
    raise LookupError("no sign-out form")


def events(store, action: str) -> list[dict[str, Any]]:
    return [e for e in store.audit_log() if e["action"] == action]


def upload_body(app, agency: str, content: bytes) -> str:
    values = {
        "upload-file.contents": "data:application/octet-stream;base64,"
        + base64.b64encode(content).decode(),
        "upload-file.filename": "return.xlsx",
        "upload-agency.value": agency,
        "upload-area.value": "E09000901",
        "upload-period.value": str(PERIOD),
    }
    return json.dumps(payload(app, "upload-check.children", values))


@pytest.mark.parametrize(
    "path", ["/", "/upload", "/_dash-layout", "/_dash-dependencies", "/download/exceptions.xlsx"]
)
def test_nothing_but_the_sign_in_page_is_served_to_a_visitor(app, path):
    response = app.server.test_client().get(path)
    if path.startswith(("/_dash", "/download")):
        assert response.status_code == 401
    else:
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")


def test_a_callback_post_without_a_session_is_refused(app):
    client = app.server.test_client()
    body = json.dumps(payload(app, "returns-table.children", {}))
    response = client.post("/_dash-update-component", data=body, content_type="application/json")
    assert response.status_code == 401


def test_the_scripts_and_styles_and_sign_in_page_are_public(app):
    client = app.server.test_client()
    assert client.get("/login").status_code == 200
    assert client.get("/assets/digest.css").status_code == 200


def test_signing_in_opens_the_app_and_is_audited(app, store):
    client = app.server.test_client()
    response = sign_in(client, "Member@Example.org ")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/_dash-layout").status_code == 200
    assert "Signed in as member (member)" in client.get("/_dash-layout").get_data(as_text=True)
    assert events(store, "login")[0]["outcome"] == "done"


def test_a_wrong_password_is_refused_in_words_that_do_not_say_which_was_wrong(app, store):
    client = app.server.test_client()
    for name in ("member@example.org", "nobody@example.org"):
        response = sign_in(client, name, "not the password at all")
        assert response.status_code == 401
        assert "do not match an enabled account" in response.get_data(as_text=True)
    assert [e["outcome"] for e in events(store, "login")] == ["failed", "failed"]
    assert client.get("/_dash-layout").status_code == 401


def test_sign_in_needs_the_form_token(app):
    client = app.server.test_client()
    client.get("/login")
    response = client.post(
        "/login", data={"username": "member@example.org", "password": PASSWORD, "csrf": "x"}
    )
    assert response.status_code == 400
    assert client.get("/_dash-layout").status_code == 401


def test_after_sign_in_only_a_path_on_this_site_is_followed(app):
    client = app.server.test_client()
    page = client.get("/login?next=//evil.example/x").get_data(as_text=True)
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    token = found.group(1)
    response = client.post(
        "/login?next=//evil.example/x",
        data={"username": "member@example.org", "password": PASSWORD, "csrf": token},
    )
    assert response.headers["Location"] == "/"


def test_signing_out_ends_the_session(app, store):
    client = app.server.test_client()
    sign_in(client, "member@example.org")
    token = form_token(client.get("/_dash-layout").get_json())
    assert client.post("/logout", data={"csrf": token}).status_code == 302
    assert client.get("/_dash-layout").status_code == 401
    assert events(store, "logout")[0]["actor"] == "member@example.org"


def test_a_disabled_account_is_signed_out_at_its_next_request(app, store):
    client = app.server.test_client()
    sign_in(client, "member@example.org")
    assert client.get("/_dash-layout").status_code == 200
    UsersStore(store.connection).disable("member@example.org", actor="admin")
    assert client.get("/_dash-layout").status_code == 401


def test_an_idle_session_ends(app, monkeypatch):
    client = app.server.test_client()
    sign_in(client, "member@example.org")
    later = time.time() + auth.IDLE_MINUTES * 60 + 1
    monkeypatch.setattr(time, "time", lambda: later)
    assert client.get("/_dash-layout").status_code == 401


def test_the_session_cookie_is_httponly_and_samesite(app):
    client = app.server.test_client()
    response = sign_in(client, "member@example.org")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_a_member_cannot_upload_and_the_attempt_is_audited(app, store, dataset, demo_returns):
    client = app.server.test_client()
    sign_in(client, "member@example.org")
    before = table_counts(store)
    content = workbook_bytes(dataset, figures(demo_returns))
    response = client.post(
        "/_dash-update-component",
        data=upload_body(app, "CSC", content),
        content_type="application/json",
    )
    assert response.status_code == 200
    assert "Choose the agency, area and quarter" in response.get_data(as_text=True)
    assert table_counts(store) == before
    refused = events(store, "upload")[0]
    assert (refused["outcome"], refused["actor"], refused["agency"]) == (
        "refused",
        "member@example.org",
        "CSC",
    )


def test_a_data_lead_cannot_upload_for_another_agency(app, store, dataset, demo_returns):
    client = app.server.test_client()
    sign_in(client, "police.lead@example.org")
    content = workbook_bytes(dataset, figures(demo_returns))
    response = client.post(
        "/_dash-update-component",
        data=upload_body(app, "CSC", content),
        content_type="application/json",
    )
    assert "Choose the agency, area and quarter" in response.get_data(as_text=True)
    assert events(store, "upload")[0]["outcome"] == "refused"
    assert (
        client.get(f"/download/template.xlsx?agency=CSC&area=E09000901&period={PERIOD}").status_code
        == 403
    )
    assert (
        client.get(
            f"/download/template.xlsx?agency=POLICE&area=E09000901&period={PERIOD}"
        ).status_code
        == 200
    )


def test_a_callback_post_from_another_site_or_as_plain_text_is_refused(app):
    client = app.server.test_client()
    sign_in(client, "member@example.org")
    body = json.dumps(payload(app, "returns-table.children", {}))
    cross = client.post(
        "/_dash-update-component",
        data=body,
        content_type="application/json",
        headers={"Origin": "https://evil.example"},
    )
    assert cross.status_code == 403
    plain = client.post("/_dash-update-component", data=body, content_type="text/plain")
    assert plain.status_code == 415


def test_demo_mode_signs_in_a_visitor_on_this_machine_only(store):
    app = create_app(Sources.open(store), secret="test secret", demo=True)
    here = app.server.test_client()
    layout = here.get("/_dash-layout").get_data(as_text=True)
    assert "Demo mode: signed in as Demo data lead without a password" in layout
    elsewhere = app.server.test_client()
    response = elsewhere.get("/_dash-layout", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert response.status_code == 401


def test_the_audit_log_is_for_the_chair_and_administrators(app, store):
    chair = app.server.test_client()
    sign_in(chair, "chair@example.org")
    body = json.dumps(payload(app, "audit-content.children", {"audit-action.value": "login"}))
    shown = chair.post("/_dash-update-component", data=body, content_type="application/json")
    assert "chair@example.org" in shown.get_data(as_text=True)
    member = app.server.test_client()
    sign_in(member, "member@example.org")
    refused = member.post("/_dash-update-component", data=body, content_type="application/json")
    assert "Only the chair and administrators can see the audit log." in refused.get_data(
        as_text=True
    )
    assert "chair@example.org" not in refused.get_data(as_text=True)
    assert events(store, "audit_view")[0]["actor"] == "member@example.org"


@pytest.mark.parametrize(
    ("field", "sent"),
    [("upload-period.value", "1999-00 Q1"), ("upload-area.value", {"$ne": 1})],
)
def test_an_upload_with_a_choice_no_page_offers_is_refused_and_audited(
    app, store, dataset, demo_returns, field, sent
):
    client = app.server.test_client()
    sign_in(client, "police.lead@example.org")
    body = json.loads(upload_body(app, "POLICE", workbook_bytes(dataset, figures(demo_returns))))
    for part in body["inputs"] + body["state"]:
        if f"{part['id']}.{part['property']}" == field:
            part["value"] = sent
    before = table_counts(store)
    response = client.post(
        "/_dash-update-component", data=json.dumps(body), content_type="application/json"
    )
    assert "Choose the agency, area and quarter" in response.get_data(as_text=True)
    assert table_counts(store) == before
    assert events(store, "upload")[0]["outcome"] == "refused"


def sign_off_body(app, submission: int) -> str:
    body = payload(
        app,
        "returns-sign-off-result.children",
        {"returns-area.value": "E09000901", "returns-period.value": str(PERIOD)},
    )
    # A pattern-matching input is a list of the components it matches: here, the one button.
    clicked = {"type": "sign-off", "submission": submission}
    body["inputs"] = [[{"id": clicked, "property": "n_clicks", "value": 1}]]
    body["changedPropIds"] = [
        json.dumps({"submission": submission, "type": "sign-off"}) + ".n_clicks"
    ]
    return json.dumps(body)


def test_only_the_chair_signs_a_return_off(app, store, dataset, demo_returns):
    from digest.ingest import ingest

    ingest(store, workbook_bytes(dataset, figures(demo_returns)), "csc.xlsx", submitted_by="x")
    version = store.latest("CSC", "E09000901", PERIOD)
    assert version is not None
    for name in ("member@example.org", "police.lead@example.org"):
        client = app.server.test_client()
        sign_in(client, name)
        refused = client.post(
            "/_dash-update-component",
            data=sign_off_body(app, version.id),
            content_type="application/json",
        )
        assert "Only the chair signs returns off" in refused.get_data(as_text=True)
    assert store.sign_offs("E09000901", PERIOD) == {}
    assert [e["actor"] for e in events(store, "sign_off")] == [
        "police.lead@example.org",
        "member@example.org",
    ]
    chair = app.server.test_client()
    sign_in(chair, "chair@example.org")
    done = chair.post(
        "/_dash-update-component",
        data=sign_off_body(app, version.id),
        content_type="application/json",
    )
    assert "is signed off: it is now the live version" in done.get_data(as_text=True)
    assert list(store.sign_offs("E09000901", PERIOD)) == [version.id]
    assert events(store, "sign_off")[0]["outcome"] == "done"


# --- Every role against every action, through the real endpoints ----------------------------

SIGNED_IN = [name for name in ACCOUNTS]
ROLES = ["anonymous", *SIGNED_IN]
ALLOWED = {
    "page": set(SIGNED_IN),
    "read": set(SIGNED_IN),
    "export": set(SIGNED_IN),
    "upload": {"police.lead@example.org"},
    "template": {"police.lead@example.org"},
    "sign_off": {"chair@example.org"},
    "audit_view": {"chair@example.org", "admin@example.org"},
    "raise_challenge": {"chair@example.org", "member@example.org"},
    "answer_challenge": {"police.lead@example.org"},
    "decide_challenge": {"chair@example.org"},
    "manage_accounts": {"admin@example.org"},
}
#: A flag the exception report shows for the quarter: the Police return has not come in.
POLICE_FLAG = {"indicator": "cse_high", "flag": "return_missing", "agency": "POLICE"}


def police_challenge(store, *, answered: bool) -> int:
    """A challenge to the Police about its missing return (answered, if asked)."""
    log = ChallengesStore(store.connection)
    today = date.today()
    raised = log.add(
        area="E09000901",
        period=PERIOD,
        indicator=POLICE_FLAG["indicator"],
        agency="POLICE",
        asked="When will the return come in?",
        due=today + timedelta(weeks=4),
        raised_by="chair@example.org",
        today=today,
    )
    if answered:
        log.answer(raised.id, "Next week.", "police.lead@example.org")
    return raised.id


def challenge_rows(store) -> list[list[tuple[object, ...]]]:
    return [
        store.connection.execute(f"select * from {table} order by all").fetchall()
        for table in ("challenges", "challenge_events")
    ]


def attempt(
    app, client, action: str, police: bytes, submission: int, challenge: int = 0
) -> tuple[int, str]:
    """Try one action as the client's user: the HTTP status and what came back."""

    def post(body: str) -> Any:
        return client.post("/_dash-update-component", data=body, content_type="application/json")

    if action == "page":
        response = client.get("/_dash-layout")
    elif action == "read":
        response = post(
            json.dumps(
                payload(
                    app,
                    "returns-table.children",
                    {"returns-area.value": "E09000901", "returns-period.value": str(PERIOD)},
                )
            )
        )
    elif action == "export":
        response = client.get(f"/download/exceptions.xlsx?area=E09000901&period={PERIOD}")
    elif action == "upload":
        response = post(upload_body(app, "POLICE", police))
    elif action == "template":
        response = client.get(
            f"/download/template.xlsx?agency=POLICE&area=E09000901&period={PERIOD}"
        )
    elif action == "sign_off":
        response = post(sign_off_body(app, submission))
    elif action == "raise_challenge":
        response = post(
            json.dumps(
                raise_body(
                    app,
                    POLICE_FLAG,
                    "When will the return come in?",
                    (date.today() + timedelta(weeks=4)).strftime("%d/%m/%Y"),
                    "E09000901",
                    str(PERIOD),
                )
            )
        )
    elif action == "answer_challenge":
        response = post(json.dumps(answer_body(app, str(challenge), "Next week.")))
    elif action == "decide_challenge":
        response = post(json.dumps(decide_body(app, str(challenge), close=True)))
    elif action == "manage_accounts":
        response = post(
            json.dumps(
                payload(
                    app,
                    "accounts-add-result.children",
                    {
                        "accounts-add.n_clicks": 1,
                        "accounts-new-username.value": "new.member@example.org",
                        "accounts-new-name.value": "New member",
                        "accounts-new-role.value": "member",
                        "accounts-new-password.value": "a long enough new password",
                    },
                )
            )
        )
    else:
        response = post(
            json.dumps(payload(app, "audit-content.children", {"audit-action.value": "all"}))
        )
    binary = response.mimetype != "application/json" and response.status_code == 200
    return response.status_code, "" if binary else response.get_data(as_text=True)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(ALLOWED))
def test_each_role_may_do_only_what_it_is_allowed(app, store, dataset, demo_returns, role, action):
    from digest.ingest import ingest

    ingest(store, workbook_bytes(dataset, figures(demo_returns)), "csc.xlsx", submitted_by="x")
    version = store.latest("CSC", "E09000901", PERIOD)
    assert version is not None
    police = workbook_bytes(dataset, figures(demo_returns, "POLICE"), agency="POLICE")
    challenge = (
        police_challenge(store, answered=action == "decide_challenge")
        if action in ("answer_challenge", "decide_challenge")
        else 0
    )
    client = app.server.test_client()
    if role != "anonymous":
        sign_in(client, role)
    users = UsersStore(store.connection)
    before = (
        table_counts(store),
        store.sign_offs("E09000901", PERIOD),
        challenge_rows(store),
        users.users(),
    )
    refusals = len([e for e in store.audit_log() if e["outcome"] == "refused"])

    status, shown = attempt(app, client, action, police, version.id, challenge)

    allowed = role in ALLOWED[action]
    if role == "anonymous":
        assert status == 401
    elif allowed:
        assert status == 200
        assert "Only the" not in shown and "Choose the agency" not in shown
        assert "Only administrators" not in shown
    else:
        assert status in (200, 403)
        refused = ("Only the", "Choose the agency", "Only administrators")
        assert status == 403 or any(words in shown for words in refused)
    if not allowed:
        assert (
            table_counts(store),
            store.sign_offs("E09000901", PERIOD),
            challenge_rows(store),
            users.users(),
        ) == before
    elif action.endswith("_challenge"):
        assert challenge_rows(store) != before[2]  # the step was taken
    now_refused = len([e for e in store.audit_log() if e["outcome"] == "refused"])
    if not allowed and role != "anonymous" and action not in ("page", "read", "export"):
        assert now_refused == refusals + 1  # the refusal is on the record
    if allowed:
        assert now_refused == refusals


def test_a_read_callback_sent_what_no_list_offers_is_refused_and_recorded_without_the_value(
    app, store
):
    client = app.server.test_client()
    sign_in(client, "member@example.org")
    hostile = "x'); COPY (SELECT * FROM users) TO '/tmp/x.csv'; --"
    body = json.dumps(
        payload(
            app,
            "returns-table.children",
            {"returns-area.value": {"$ne": 1}, "returns-period.value": hostile},
        )
    )
    response = client.post("/_dash-update-component", data=body, content_type="application/json")
    assert "Choose an area and a quarter from the lists." in response.get_data(as_text=True)
    [refused] = events(store, "read")
    assert (refused["actor"], refused["outcome"]) == ("member@example.org", "refused")
    assert json.loads(refused["detail"]) == {
        "page": "returns",
        "sent": {"area": "dict", "period": f"str({len(hostile)})"},
    }
    assert "COPY" not in refused["detail"]


def test_a_session_cookie_replayed_after_sign_out_is_refused(app):
    client = app.server.test_client()
    sign_in(client, "member@example.org")
    kept = client.get_cookie("digest_session")
    assert kept is not None
    token = form_token(client.get("/_dash-layout").get_json())
    client.post("/logout", data={"csrf": token})
    replay = app.server.test_client()
    replay.set_cookie("digest_session", kept.value)
    assert replay.get("/_dash-layout").status_code == 401


def test_a_change_of_role_counts_at_the_next_request(app, store):
    client = app.server.test_client()
    sign_in(client, "chair@example.org")
    body = json.dumps(payload(app, "audit-content.children", {"audit-action.value": "all"}))
    allowed = client.post("/_dash-update-component", data=body, content_type="application/json")
    assert "Only the chair" not in allowed.get_data(as_text=True)
    UsersStore(store.connection).set_role("chair@example.org", "member", actor="admin")
    now = client.post("/_dash-update-component", data=body, content_type="application/json")
    assert "Only the chair and administrators can see the audit log." in now.get_data(as_text=True)


def test_the_cookie_is_secure_when_served_beyond_this_machine(store):
    app = create_app(Sources.open(store), secret="test secret", secure_cookies=True)
    UsersStore(store.connection).add(
        "someone@example.org", "Someone", "member", PASSWORD, actor="admin"
    )
    response = sign_in(app.server.test_client(), "someone@example.org")
    assert "Secure" in response.headers["Set-Cookie"]


def test_a_request_over_the_size_limit_gets_a_plain_message_and_the_next_one_works(app):
    from digest.app.pages.upload import MAX_UPLOAD_BYTES

    client = app.server.test_client()
    sign_in(client, "police.lead@example.org")
    huge = client.post(
        "/_dash-update-component",
        data=b"{" + b" " * (MAX_UPLOAD_BYTES * 2 + 10) + b"}",
        content_type="application/json",
    )
    assert huge.status_code == 413
    assert "That file is too large" in huge.get_data(as_text=True)
    body = json.dumps(
        payload(
            app,
            "returns-table.children",
            {"returns-area.value": "E09000901", "returns-period.value": str(PERIOD)},
        )
    )
    after = client.post("/_dash-update-component", data=body, content_type="application/json")
    assert after.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Forwarded-For": "203.0.113.9"},  # relayed by a proxy on this machine
        {"Forwarded": "for=203.0.113.9"},
        {"Host": "rebind.evil.example:8050"},  # a page that rebound its name to 127.0.0.1
    ],
)
def test_demo_sign_in_is_never_given_to_a_visitor_from_elsewhere(store, headers):
    app = create_app(Sources.open(store), secret="test secret", demo=True)
    response = app.server.test_client().get("/_dash-layout", headers=headers)
    assert response.status_code == 401


def test_there_is_no_demo_sign_in_on_a_real_area(store):
    from digest.domain.areas import find_area

    app = create_app(
        Sources.open(store, home=find_area("E09000022")), secret="test secret", demo=True
    )
    assert app.server.test_client().get("/_dash-layout").status_code == 401


@pytest.mark.parametrize(
    "wanted",  # as they arrive in the address: a tab, two slashes, a backslash, a scheme
    ["/%09/evil.example", "//evil.example", "/%5Cevil.example", "https://evil.example"],
)
def test_no_sign_in_sends_the_browser_to_another_site(app, wanted):
    client = app.server.test_client()
    page = client.get("/login").get_data(as_text=True)
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    response = client.post(
        f"/login?next={wanted}",
        data={"username": "member@example.org", "password": PASSWORD, "csrf": found.group(1)},
    )
    assert response.headers["Location"] == "/"


def test_what_was_typed_as_an_unknown_username_is_not_recorded(app, store):
    sign_in(app.server.test_client(), "mysecretpassw0rd!", "anything at all")
    assert events(store, "login")[0]["actor"] == "(not a username)"


def test_a_new_password_signs_out_whoever_had_the_old_one(app, store):
    client = app.server.test_client()
    sign_in(client, "member@example.org")
    UsersStore(store.connection).set_password(
        "member@example.org", "a completely new password", actor="admin"
    )
    assert client.get("/_dash-layout").status_code == 401


def test_five_failed_sign_ins_make_that_name_wait_even_with_the_right_password(app, store):
    client = app.server.test_client()
    for _ in range(5):
        assert sign_in(client, "member@example.org", "wrong password!!").status_code == 401
    waited = sign_in(client, "member@example.org")
    assert waited.status_code == 429
    assert "Too many attempts to sign in with that name" in waited.get_data(as_text=True)
    other = app.server.test_client()
    assert sign_in(other, "chair@example.org").status_code == 302  # other names are not held


def test_every_answer_forbids_framing_and_sniffing(app):
    response = app.server.test_client().get("/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Content-Security-Policy"] == "frame-ancestors 'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
