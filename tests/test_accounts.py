"""The Accounts page: administrators add and change accounts through the real callback endpoint;
anyone else is refused, changes nothing and is recorded; passwords are never shown or audited."""

from __future__ import annotations

import json
from typing import Any

import pytest

from digest.store.users import UsersStore
from tests.dash_calls import call
from tests.test_app import (
    PASSWORD,
    USER,
    Served,
    _answer,
    route,
    serve,
    signed_in,
    texts,
)

ADMIN = "admin@borough.example"
NEW_PASSWORD = "another long test password"


@pytest.fixture
def admin(store, dataset, demo_returns) -> Served:
    served = serve(store, dataset, demo_returns)
    UsersStore(store.connection).add(ADMIN, "Admin", "admin", PASSWORD, actor="setup")
    return Served(served.app, store, signed_in(served.app, ADMIN))


@pytest.fixture
def lead(store, dataset, demo_returns) -> Served:
    """The app, signed in as a data lead."""
    return serve(store, dataset, demo_returns)


def add_values(**given: Any) -> dict[str, Any]:
    values = {
        "username": "new.lead@borough.example",
        "name": "New Lead",
        "role": "data_lead",
        "agencies": ["POLICE"],
        "password": NEW_PASSWORD,
    }
    values |= given
    return {"accounts-add.n_clicks": 1, "accounts-changed.data": 0} | {
        f"accounts-new-{key}.value": value for key, value in values.items()
    }


def change_values(username: str, change: str, **given: Any) -> dict[str, Any]:
    values = {"role": "member", "agencies": None, "password": None} | given
    return {
        "accounts-apply.n_clicks": 1,
        "accounts-changed.data": 0,
        "accounts-username.value": username,
        "accounts-change.value": change,
    } | {f"accounts-{key}.value": value for key, value in values.items()}


def account_events(served: Served) -> list[tuple[str, str, str]]:
    return [
        (e["actor"], e["action"], e["outcome"])
        for e in reversed(served.store.audit_log(20))
        if e["action"].startswith("user.")
    ]


def test_an_administrator_sees_every_account_and_adds_one(admin):
    shown = texts(route(admin, "/accounts"))
    assert "Add an account" in shown and "Change an account" in shown
    listed = admin.answer("accounts-table.children", {"accounts-changed.data": 0})
    assert {USER, ADMIN} <= set(texts(listed["accounts-table"]))
    answer = admin.answer("accounts-add-result.children", add_values())
    assert texts(answer["accounts-add-result"])[0].startswith(
        "Added new.lead@borough.example, a data lead for POLICE."
    )
    assert answer["accounts-new-password"]["value"] == ""  # never left in the page
    made = UsersStore(admin.store.connection).get("new.lead@borough.example")
    assert made is not None and (made.role, made.agencies) == ("data_lead", ("POLICE",))
    assert account_events(admin)[-1] == (ADMIN, "user.add", "done")
    assert NEW_PASSWORD not in json.dumps(admin.store.audit_log(50), default=str)


def test_an_administrator_changes_roles_passwords_and_who_may_sign_in(admin):
    users = UsersStore(admin.store.connection)
    for change, given, check in [
        ("role", {"role": "chair"}, lambda u: u.role == "chair"),
        ("disable", {}, lambda u: u.disabled),
        ("enable", {}, lambda u: not u.disabled),
        ("password", {"password": NEW_PASSWORD}, lambda u: True),
    ]:
        answer = admin.answer(
            "accounts-apply-result.children", change_values(USER, change, **given)
        )
        assert texts(answer["accounts-apply-result"])[0].endswith(f"done for {USER}.")
        assert check(users.get(USER))
    assert users.verify(USER, NEW_PASSWORD) is not None
    assert [a for _, a, _ in account_events(admin)][-4:] == [
        "user.set_role", "user.disable", "user.enable", "user.set_password"
    ]  # fmt: skip


def test_the_last_administrator_is_kept_and_told_why(admin):
    answer = admin.answer("accounts-apply-result.children", change_values(ADMIN, "disable"))
    assert "the only administrator left" in texts(answer["accounts-apply-result"])[0]
    assert UsersStore(admin.store.connection).get(ADMIN).disabled is False  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "forged",
    [
        {"role": {"$ne": 1}},
        {"role": "superuser"},
        {"agencies": ["POLICE", "NOT.AN.AGENCY"]},
        {"agencies": "POLICE"},
        {"username": ["a", "b"]},
        {"password": {"password": "x"}},
    ],
)
def test_a_value_no_form_offers_is_refused_and_recorded(admin, forged):
    before = UsersStore(admin.store.connection).users()
    answer = admin.answer("accounts-add-result.children", add_values(**forged))
    assert texts(answer["accounts-add-result"]) == [
        "The form sent something it does not offer: reload the page and try again."
    ]
    assert UsersStore(admin.store.connection).users() == before
    assert account_events(admin)[-1] == (ADMIN, "user.add", "refused")


def test_anyone_but_an_administrator_is_refused_changes_nothing_and_is_recorded(lead):
    assert texts(route(lead, "/accounts"))[-1] == "Only administrators manage accounts."
    users = UsersStore(lead.store.connection)
    before = users.users()
    for output, values in [
        ("accounts-add-result.children", add_values(role="admin")),
        ("accounts-apply-result.children", change_values(USER, "role", role="admin")),
    ]:
        answer = _answer(call(lead.client, lead.app, output, values))
        assert "Only administrators manage accounts." in texts(answer)
    assert users.users() == before
    assert [o for _, _, o in account_events(lead)][-2:] == ["refused", "refused"]
    nav = lead.answer("nav.children", {"url.pathname": "/", "url.search": ""})
    assert "Accounts" not in texts(nav["nav"])


def test_an_administrator_finds_accounts_in_the_navigation(admin):
    nav = admin.answer("nav.children", {"url.pathname": "/accounts", "url.search": ""})
    assert "Accounts" in texts(nav["nav"])
