"""Accounts and roles: what is refused and why, passwords, the audit trail and ``digest user``."""

from __future__ import annotations

import getpass
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Literal

import duckdb
import pytest
from argon2 import PasswordHasher

import digest.store
from digest import cli
from digest.store import audit as audit_module
from digest.store import users as users_module
from digest.store.audit import events, record
from digest.store.database import connect, transaction
from digest.store.users import HASHER, UserError, UsersStore

PASSWORD = "correct horse battery staple"
ADMIN = "admin@example.org"


@pytest.fixture
def users(store) -> UsersStore:
    return UsersStore(store.connection)


def user_events(connection: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str, dict]]:
    """(actor, action, outcome, detail) of every account event, oldest first."""
    return [
        (e["actor"], e["action"], e["outcome"], json.loads(e["detail"]))
        for e in reversed(events(connection))
        if e["action"].startswith("user.")
    ]


def stored_hash(users: UsersStore, username: str) -> str:
    row = users.connection.execute(
        "select password_hash from users where username = ?", [username]
    ).fetchone()
    assert row is not None
    return str(row[0])


def add_lead(users: UsersStore, username: str = "Jo.Bloggs@Example.org ") -> None:
    users.add(username, "Jo  Bloggs", "data_lead", PASSWORD, ["csc", " POLICE"], actor=ADMIN)


# --- adding -------------------------------------------------------------------------------------


def test_an_added_user_is_stored_normalised_and_audited(users):
    added = users.add(
        " Jo.Bloggs@Example.ORG ",
        "Jo  Bloggs",
        "data_lead",
        PASSWORD,
        ["police", "CSC"],
        actor=ADMIN,
    )
    assert (added.username, added.display_name, added.role, added.agencies, added.disabled) == (
        "jo.bloggs@example.org",
        "Jo Bloggs",
        "data_lead",
        ("CSC", "POLICE"),
        False,
    )
    assert added.created_at == added.changed_at
    assert users.get("JO.BLOGGS@example.org") == added
    users.add("chair", "Sam Chair", "chair", PASSWORD, actor=ADMIN)
    assert [u.username for u in users.users()] == ["chair", "jo.bloggs@example.org"]
    assert users.count() == 2
    assert users.get("nobody") is None
    assert user_events(users.connection) == [
        (
            ADMIN,
            "user.add",
            "done",
            {
                "username": "jo.bloggs@example.org",
                "role": "data_lead",
                "agencies": ["CSC", "POLICE"],
            },
        ),
        (ADMIN, "user.add", "done", {"username": "chair", "role": "chair", "agencies": []}),
    ]


@pytest.mark.parametrize(
    ("username", "name", "role", "password", "agencies", "message"),
    [
        ("JO.BLOGGS@example.org", "Jo", "member", PASSWORD, (), "already a user 'jo.bloggs@"),
        ("sam", "Sam", "owner", PASSWORD, (), "'owner' is not a role; the roles are admin, chair"),
        ("sam", "Sam", "data_lead", PASSWORD, (), "A data lead submits the returns of at least"),
        ("sam", "Sam", "member", PASSWORD, ("CSC",), "Only a data lead has agencies"),
        ("sam", "Sam", "data_lead", PASSWORD, ("CSC", "NHS"), "NHS is not an agency of the data"),
        ("sam", "Sam", "member", "short pass1", (), "at least 12 characters"),
        (
            "sam.smith@example.org",
            "Sam",
            "member",
            "Sam.Smith@Example.org",
            (),
            "must not be the username",
        ),
        ("sam smith", "Sam", "member", PASSWORD, (), "A username is an e-mail address or a login"),
        ("  ", "Sam", "member", PASSWORD, (), "A username is an e-mail address or a login"),
        ("sam", "  ", "member", PASSWORD, (), "Give the user's name"),
    ],
)
def test_a_refused_user_is_not_stored_nor_audited(
    users, username, name, role, password, agencies, message
):
    add_lead(users)
    with pytest.raises(UserError, match=message):
        users.add(username, name, role, password, agencies, actor=ADMIN)
    assert [u.username for u in users.users()] == ["jo.bloggs@example.org"]
    assert [e[1] for e in user_events(users.connection)] == ["user.add"]


def test_one_agency_code_is_not_taken_for_its_letters(users):
    assert users.add("sam", "Sam", "data_lead", PASSWORD, "CSC", actor=ADMIN).agencies == ("CSC",)


def test_a_user_added_by_someone_else_meanwhile_is_refused_as_a_duplicate(users, monkeypatch):
    add_lead(users)
    real_get = UsersStore.get
    looked: list[str] = []

    def first_misses(self: UsersStore, username: str):
        looked.append(username)
        return None if len(looked) == 1 else real_get(self, username)

    monkeypatch.setattr(UsersStore, "get", first_misses)
    with pytest.raises(UserError, match="There is already a user 'jo"):
        users.add("jo.bloggs@example.org", "Jo", "member", PASSWORD, actor=ADMIN)
    assert len(looked) == 2
    assert [e[1] for e in user_events(users.connection)] == ["user.add"]


def test_a_user_and_its_audit_event_are_written_together(users, monkeypatch):
    def broken(*args, **kwargs):
        raise duckdb.IOException("the disk is full")

    monkeypatch.setattr(audit_module, "record", broken)
    with pytest.raises(duckdb.IOException):
        add_lead(users)
    assert users.count() == 0
    monkeypatch.undo()
    add_lead(users)
    with monkeypatch.context() as patched:
        patched.setattr(audit_module, "record", broken)
        with pytest.raises(duckdb.IOException):
            users.disable("jo.bloggs@example.org", actor=ADMIN)
    assert users.get("jo.bloggs@example.org").disabled is False


# --- changing -----------------------------------------------------------------------------------


def test_role_changes_are_checked_and_audited_with_what_was_before(users):
    add_lead(users)
    changed = users.set_role("jo.bloggs@example.org", "member", actor="chair@example.org")
    assert (changed.role, changed.agencies) == ("member", ())
    assert changed.changed_at > changed.created_at
    back = users.set_role("JO.bloggs@example.org", "data_lead", ["EDU"], actor=ADMIN)
    assert (back.role, back.agencies) == ("data_lead", ("EDU",))
    assert users.get("jo.bloggs@example.org") == back
    for role, agencies, message in [
        ("data_lead", ["EDU"], "already a data lead for EDU"),
        ("data_lead", [], "at least one agency"),
        ("chair", ["EDU"], "Only a data lead has agencies"),
        ("data_lead", ["XYZ"], "XYZ is not an agency"),
        ("superuser", [], "'superuser' is not a role"),
    ]:
        with pytest.raises(UserError, match=message):
            users.set_role("jo.bloggs@example.org", role, agencies, actor=ADMIN)
    with pytest.raises(UserError, match="There is no user 'nobody'"):
        users.set_role("Nobody", "member", actor=ADMIN)
    assert user_events(users.connection)[1:] == [
        (
            "chair@example.org",
            "user.set_role",
            "done",
            {
                "username": "jo.bloggs@example.org",
                "role": "member",
                "agencies": [],
                "was": {"role": "data_lead", "agencies": ["CSC", "POLICE"]},
            },
        ),
        (
            ADMIN,
            "user.set_role",
            "done",
            {
                "username": "jo.bloggs@example.org",
                "role": "data_lead",
                "agencies": ["EDU"],
                "was": {"role": "member", "agencies": []},
            },
        ),
    ]


def test_disable_and_enable_are_audited_and_refused_when_there_is_nothing_to_do(users):
    add_lead(users)
    with pytest.raises(UserError, match="is already enabled"):
        users.enable("jo.bloggs@example.org", actor=ADMIN)
    assert users.disable("jo.bloggs@example.org", actor=ADMIN).disabled is True
    with pytest.raises(UserError, match="already disabled"):
        users.disable("jo.bloggs@example.org", actor=ADMIN)
    assert users.enable("jo.bloggs@example.org", actor=ADMIN).disabled is False
    for change in (users.disable, users.enable):
        with pytest.raises(UserError, match="There is no user 'ghost'"):
            change("ghost", actor=ADMIN)
    assert [(e[1], e[3]["username"]) for e in user_events(users.connection)] == [
        ("user.add", "jo.bloggs@example.org"),
        ("user.disable", "jo.bloggs@example.org"),
        ("user.enable", "jo.bloggs@example.org"),
    ]


def test_the_last_administrator_cannot_be_demoted_or_disabled(users):
    users.add(ADMIN, "Admin", "admin", PASSWORD, actor="setup")
    for change in (
        lambda: users.set_role(ADMIN, "chair", actor=ADMIN),
        lambda: users.disable(ADMIN, actor=ADMIN),
    ):
        with pytest.raises(UserError, match=rf"{re.escape(ADMIN)} is the only administrator left"):
            change()
    assert users.get(ADMIN).role == "admin" and not users.get(ADMIN).disabled
    users.add("second@example.org", "Second", "admin", PASSWORD, actor=ADMIN)
    assert users.disable(ADMIN, actor="second@example.org").disabled
    with pytest.raises(UserError, match="only administrator left"):
        users.set_role("second@example.org", "member", actor="second@example.org")
    users.enable(ADMIN, actor="second@example.org")
    assert users.set_role("second@example.org", "member", actor=ADMIN).role == "member"


def test_set_password_checks_the_new_one_and_records_no_secret(users):
    add_lead(users)
    old_hash = stored_hash(users, "jo.bloggs@example.org")
    for password, message in [
        ("too short", "at least 12 characters"),
        ("JO.BLOGGS@EXAMPLE.ORG", "must not be the username"),
    ]:
        with pytest.raises(UserError, match=message):
            users.set_password("jo.bloggs@example.org", password, actor=ADMIN)
    with pytest.raises(UserError, match="There is no user"):
        users.set_password("ghost", "another long password", actor=ADMIN)
    assert stored_hash(users, "jo.bloggs@example.org") == old_hash
    users.set_password("jo.bloggs@example.org", "another long password", actor=ADMIN)
    assert users.verify("jo.bloggs@example.org", PASSWORD) is None
    assert users.verify("jo.bloggs@example.org", "another long password") is not None
    assert user_events(users.connection)[-1] == (
        ADMIN,
        "user.set_password",
        "done",
        {"username": "jo.bloggs@example.org", "role": "data_lead", "agencies": ["CSC", "POLICE"]},
    )


# --- passwords ----------------------------------------------------------------------------------


def test_the_password_is_kept_only_as_an_argon2id_hash(users):
    add_lead(users)
    users.set_password("jo.bloggs@example.org", "another long password", actor=ADMIN)
    password_hash = stored_hash(users, "jo.bloggs@example.org")
    assert password_hash.startswith("$argon2id$")
    everything = repr(users.users()) + repr(events(users.connection))
    for secret in (password_hash, PASSWORD, "another long password", "$argon2"):
        assert secret not in everything


def test_verify_takes_the_right_password_of_an_enabled_user_only(users):
    add_lead(users)
    assert users.verify(" JO.Bloggs@example.org", PASSWORD) == users.get("jo.bloggs@example.org")
    assert users.verify("jo.bloggs@example.org", PASSWORD.upper()) is None
    assert users.verify("jo.bloggs@example.org", "") is None
    assert users.verify("nobody@example.org", PASSWORD) is None
    users.disable("jo.bloggs@example.org", actor=ADMIN)
    assert users.verify("jo.bloggs@example.org", PASSWORD) is None
    users.enable("jo.bloggs@example.org", actor=ADMIN)
    assert users.verify("jo.bloggs@example.org", PASSWORD) is not None


def test_verify_spends_the_same_argon2_work_whether_or_not_the_user_exists(users, monkeypatch):
    add_lead(users)
    users.disable("jo.bloggs@example.org", actor=ADMIN)
    checked: list[str] = []

    class Counting(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            checked.append(str(hash))
            return super().verify(hash, password)

    monkeypatch.setattr(users_module, "HASHER", Counting())
    for username, password in [
        ("nobody@example.org", PASSWORD),
        ("jo.bloggs@example.org", "the wrong password"),
        ("jo.bloggs@example.org", PASSWORD),  # right, but disabled
        ("not even a username", PASSWORD),
    ]:
        assert users.verify(username, password) is None
    assert len(checked) == 4
    # The dummy hash has the same parameters as a real one, so it costs the same to check.
    parameters = {stored.rsplit("$", 2)[0] for stored in checked}
    assert len(parameters) == 1


def test_an_outdated_hash_is_replaced_when_its_user_signs_in(users):
    add_lead(users)
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    users.connection.execute(
        "update users set password_hash = ? where username = 'jo.bloggs@example.org'", [weak]
    )
    assert users.verify("jo.bloggs@example.org", "not the password") is None
    assert stored_hash(users, "jo.bloggs@example.org") == weak
    assert users.verify("jo.bloggs@example.org", PASSWORD) is not None
    renewed = stored_hash(users, "jo.bloggs@example.org")
    assert renewed != weak
    assert not HASHER.check_needs_rehash(renewed)
    assert users.verify("jo.bloggs@example.org", PASSWORD) is not None
    assert [e[1] for e in user_events(users.connection)] == ["user.add"]


# --- the audit trail ----------------------------------------------------------------------------


def test_an_event_recorded_in_a_transaction_that_fails_is_not_kept(store):
    with pytest.raises(RuntimeError), transaction(store.connection) as cursor:
        record(cursor, "tester", "sign_off", "done", submission_id=7, detail={"b": 1, "a": 2})
        raise RuntimeError("something after the event failed")
    assert events(store.connection) == []
    with transaction(store.connection) as cursor:
        record(cursor, "tester", "sign_off", "done", submission_id=7, detail={"b": 1, "a": 2})
    [event] = events(store.connection)
    assert (event["actor"], event["submission_id"], event["detail"]) == (
        "tester",
        7,
        '{"a": 2, "b": 1}',
    )
    assert store.audit_log() == events(store.connection)


# --- the command line ---------------------------------------------------------------------------


def digest_user(
    *args: str, db: Path, stdin: str = "", user: str = ADMIN
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "digest", "user", *args, "--db", str(db)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DIGEST_USER": user},
    )


def test_the_user_commands_round_trip_in_real_processes(db_path):
    lead = "Jo.Bloggs@Example.org"
    lead_args = (
        "--name",
        "Jo Bloggs",
        "--role",
        "data_lead",
        "--agency",
        "csc",
        "--agency",
        "POLICE",
    )
    added = digest_user(
        "add", lead, *lead_args, "--password-stdin", db=db_path, stdin=PASSWORD + "\n"
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout == (
        "Added jo.bloggs@example.org (Jo Bloggs), a data lead for CSC and POLICE.\n"
    )
    chair = ("add", "chair", "--name", "Sam", "--role", "chair", "--password-stdin")
    assert digest_user(*chair, db=db_path, stdin=PASSWORD).returncode == 0

    changes = [
        (("set-role", lead, "member"), "jo.bloggs@example.org is now a member.\n"),
        (("set-role", lead, "data_lead", "--agency", "EDU"), "is now a data lead for EDU.\n"),
        (("disable", lead), "Disabled jo.bloggs@example.org: they can no longer sign in.\n"),
        (("enable", lead), "Enabled jo.bloggs@example.org: they can sign in again.\n"),
    ]
    for args, shown in changes:
        ran = digest_user(*args, db=db_path)
        assert (ran.returncode, ran.stderr) == (0, ""), args
        assert ran.stdout.endswith(shown)
    ran = digest_user(
        "set-password", lead, "--password-stdin", db=db_path, stdin="new password 123\r\n"
    )
    assert (ran.returncode, ran.stdout) == (0, "Changed the password of jo.bloggs@example.org.\n")

    listed = digest_user("list", "--json", db=db_path)
    assert listed.returncode == 0
    rows = json.loads(listed.stdout)
    assert [
        {k: r[k] for k in ("username", "name", "role", "agencies", "disabled")} for r in rows
    ] == [
        {"username": "chair", "name": "Sam", "role": "chair", "agencies": [], "disabled": False},
        {
            "username": "jo.bloggs@example.org",
            "name": "Jo Bloggs",
            "role": "data_lead",
            "agencies": ["EDU"],
            "disabled": False,
        },
    ]
    assert "argon2" not in listed.stdout
    table = digest_user("list", db=db_path).stdout
    assert "jo.bloggs@example.org" in table and "EDU" in table and "argon2" not in table

    users = UsersStore(connect(db_path))
    assert users.verify(lead, "new password 123") is not None
    assert users.verify(lead, PASSWORD) is None
    assert [(e[0], e[1]) for e in user_events(users.connection)] == [
        (ADMIN, "user.add"),
        (ADMIN, "user.add"),
        (ADMIN, "user.set_role"),
        (ADMIN, "user.set_role"),
        (ADMIN, "user.disable"),
        (ADMIN, "user.enable"),
        (ADMIN, "user.set_password"),
    ]


REFUSED = [
    (("add", "jo", "--name", "Jo", "--role", "member"), PASSWORD, "There is already a user 'jo'."),
    (("add", "sam", "--name", "Sam", "--role", "data_lead"), PASSWORD, "A data lead submits"),
    (("add", "sam", "--name", "Sam", "--role", "member"), "too short", "at least 12 characters"),
    (("add", "sam", "--name", "Sam", "--role", "member"), "", "No password came on standard"),
    (("disable", "ghost"), "", "There is no user 'ghost'."),
    (("set-role", "jo", "chair", "--agency", "CSC"), "", "Only a data lead has agencies"),
    (("set-password", "ghost"), PASSWORD, "There is no user 'ghost'."),
]
USAGE_ERRORS = [
    ("add", "sam", "--name", "Sam", "--role", "owner"),
    ("add", "sam", "--name", "Sam", "--role", "data_lead", "--agency", "NHS"),
    ("add", "sam", "--role", "member"),
    ("set-role", "jo", "superuser"),
    ("rename", "jo"),
]


def test_a_refused_command_exits_1_with_its_message_and_a_usage_error_exits_2(db_path):
    first = ("add", "jo", "--name", "Jo", "--role", "member", "--password-stdin")
    assert digest_user(*first, db=db_path, stdin=PASSWORD).returncode == 0
    for args, password, message in REFUSED:
        stdin_args = ("--password-stdin",) if args[0] in ("add", "set-password") else ()
        ran = digest_user(*args, *stdin_args, db=db_path, stdin=password)
        assert ran.returncode == 1, (args, ran.stderr)
        assert ran.stderr.startswith("digest: ") and message in ran.stderr
        assert "Traceback" not in ran.stderr
    for args in USAGE_ERRORS:
        ran = digest_user(*args, "--password-stdin", db=db_path, stdin=PASSWORD)
        assert ran.returncode == 2, (args, ran.stderr)
        assert "usage: digest user" in ran.stderr
    users = UsersStore(connect(db_path))
    assert [u.username for u in users.users()] == ["jo"]
    assert [e[1] for e in user_events(users.connection)] == ["user.add"]


def test_the_password_is_asked_for_twice(db_path, monkeypatch, capsys):
    answers = iter(["first long password", "second long password", PASSWORD, PASSWORD])
    monkeypatch.setattr(getpass, "getpass", lambda prompt: next(answers))
    monkeypatch.setenv("DIGEST_USER", ADMIN)
    add = ["user", "add", "jo", "--name", "Jo", "--role", "member", "--db", str(db_path)]
    assert cli.main(add) == 1
    assert "The two passwords differ: nothing was changed." in capsys.readouterr().err
    assert cli.main(add) == 0
    users = UsersStore(connect(db_path))
    assert users.verify("jo", PASSWORD) is not None


def test_listing_a_database_from_before_accounts_changes_nothing(db_path):
    """A read-only listing does not migrate: a database without the users table has none."""
    folder = Path(digest.store.__file__).parent / "migrations"
    old = duckdb.connect(str(db_path))
    old.execute(
        "create table schema_migrations (version integer primary key, name varchar not null,"
        " applied_at timestamp not null)"
    )
    for script in sorted(folder.glob("000[1234]_*.sql")):
        old.execute(script.read_text(encoding="utf-8"))
        old.execute(
            "insert into schema_migrations values (?, ?, now())",
            [int(script.name[:4]), script.stem[5:]],
        )
    old.close()
    listed = digest_user("list", db=db_path)
    assert (listed.returncode, listed.stdout) == (
        0,
        "There are no users yet: add one with 'digest user add'.\n",
    )
    assert digest_user("list", "--json", db=db_path).stdout.strip() == "[]"
    check = duckdb.connect(str(db_path), read_only=True)
    assert check.execute("select max(version) from schema_migrations").fetchone() == (4,)
    check.close()
