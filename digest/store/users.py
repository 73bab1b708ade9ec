"""Accounts, their roles and passwords, in the DuckDB store.

Only an argon2id hash of a password is kept, and it never leaves this module: a :class:`User`
has no hash. Every change to an account is written in one transaction with its audit event.
Nobody is deleted: a user who leaves is disabled, so the audit log always names an account.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Literal, TypeGuard, get_args

import duckdb
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from digest.domain.dataset import load_dataset
from digest.store import audit
from digest.store.database import StoreError, transaction, utc_now

Role = Literal["admin", "chair", "member", "data_lead"]
ROLES: tuple[Role, ...] = get_args(Role)
_ROLE_NAMES: dict[Role, str] = {
    "admin": "an administrator",
    "chair": "a chair",
    "member": "a member",
    "data_lead": "a data lead",
}

#: argon2id with the library's defaults (RFC 9106's low-memory choice); a change of parameters
#: here is applied to each user's hash the next time they sign in (see :meth:`UsersStore.verify`).
HASHER = PasswordHasher()

MIN_PASSWORD_LENGTH = 12
_MAX_USERNAME_LENGTH = 254  # the longest e-mail address
_USERNAME = re.compile(r"^[^\s\x00-\x1f\x7f]+$")
_COLUMNS = "username, display_name, role, agencies, disabled, created_at, changed_at"


class UserError(StoreError):
    """An account change that was refused; the message says why, in plain English."""


@dataclass(frozen=True)
class User:
    """An account as the rest of the digest sees it (never with its password hash)."""

    username: str
    display_name: str
    role: Role
    agencies: tuple[str, ...]  # a data lead's agencies; empty for every other role
    disabled: bool
    created_at: datetime  # UTC
    changed_at: datetime  # UTC

    def to_dict(self) -> dict[str, Any]:
        """The user as the JSON object ``digest user list --json`` prints."""
        return {
            "username": self.username,
            "name": self.display_name,
            "role": self.role,
            "agencies": list(self.agencies),
            "disabled": self.disabled,
            "created_at": self.created_at.isoformat(timespec="seconds") + "Z",
            "changed_at": self.changed_at.isoformat(timespec="seconds") + "Z",
        }


def normalise_username(username: str) -> str:
    """The username as stored: trimmed and lower-cased."""
    return username.strip().lower()


class UsersStore:
    """Reading and changing accounts; safe to share between threads (a cursor per call)."""

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self._connection = connection
        _dummy_hash()  # made now, so the first sign-in with an unknown name takes no longer

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The store's connection, for writing other events (a sign-in) to the audit log."""
        return self._connection

    def add(
        self,
        username: str,
        display_name: str,
        role: str,
        password: str,
        agencies: Iterable[str] = (),
        *,
        actor: str,
    ) -> User:
        """Create an enabled account; :class:`UserError` if anything about it is refused."""
        name = _checked_username(username)
        shown = _checked_display_name(display_name)
        chosen, codes = _checked_role(role, agencies)
        _check_password(password, name)
        if self.get(name) is not None:
            raise UserError(_duplicate(name))
        now = utc_now()
        user = User(name, shown, chosen, codes, False, now, now)
        password_hash = HASHER.hash(password)
        try:
            with transaction(self._connection) as cursor:
                cursor.execute(
                    f"insert into users ({_COLUMNS}, password_hash)"
                    " values (?, ?, ?, ?, ?, ?, ?, ?)",
                    [name, shown, chosen, list(codes), False, now, now, password_hash],
                )
                _audit(cursor, actor, "user.add", user)
        except duckdb.ConstraintException:
            if self.get(name) is None:
                raise
            raise UserError(_duplicate(name)) from None  # added by someone else meanwhile
        return user

    def get(self, username: str) -> User | None:
        """The account with this username (in any case, with any spaces around it), if any."""
        rows = self._query(
            f"select {_COLUMNS} from users where username = ?", [normalise_username(username)]
        )
        return _user(rows[0]) if rows else None

    def users(self) -> list[User]:
        """Every account, enabled or not, by username."""
        return [_user(row) for row in self._query(f"select {_COLUMNS} from users order by 1")]

    def count(self) -> int:
        """How many accounts there are, enabled or not."""
        rows = self._query("select count(*) from users")
        return int(rows[0][0]) if rows else 0

    def set_role(
        self, username: str, role: str, agencies: Iterable[str] = (), *, actor: str
    ) -> User:
        """Give an account a new role (and, for a data lead, its agencies)."""
        user = self._existing(username)
        chosen, codes = _checked_role(role, agencies)
        if (chosen, codes) == (user.role, user.agencies):
            raise UserError(f"{user.username} is already {describe_role(chosen, codes)}.")
        if chosen != "admin":
            self._keep_an_administrator(user)
        return self._change(
            user,
            "user.set_role",
            actor,
            {"role": chosen, "agencies": list(codes)},
            was={"role": user.role, "agencies": list(user.agencies)},
        )

    def disable(self, username: str, *, actor: str) -> User:
        """Stop an account from signing in; it stays, so the audit log still names it."""
        user = self._existing(username)
        if user.disabled:
            raise UserError(f"{user.username} is already disabled.")
        self._keep_an_administrator(user)
        changed = self._change(user, "user.disable", actor, {"disabled": True})
        self.end_sessions(user.username)
        return changed

    def enable(self, username: str, *, actor: str) -> User:
        """Let a disabled account sign in again."""
        user = self._existing(username)
        if not user.disabled:
            raise UserError(f"{user.username} is already enabled.")
        return self._change(user, "user.enable", actor, {"disabled": False})

    def set_password(self, username: str, password: str, *, actor: str) -> None:
        """Replace an account's password."""
        user = self._existing(username)
        _check_password(password, user.username)
        self._change(user, "user.set_password", actor, {"password_hash": HASHER.hash(password)})
        self.end_sessions(user.username)  # whoever had the old password is signed out

    def verify(self, username: str, password: str) -> User | None:
        """The user, if the password is theirs and the account is enabled; otherwise ``None``.

        The same argon2 work is done whether or not the account exists, so how long this takes
        does not tell anyone which usernames exist.
        """
        name = normalise_username(username)
        rows = self._query(
            f"select {_COLUMNS}, password_hash from users where username = ?", [name]
        )
        stored = rows[0][-1] if rows else _dummy_hash()
        if not _matches(stored, password) or not rows:
            return None
        user = _user(rows[0][:-1])
        if user.disabled:
            return None
        if HASHER.check_needs_rehash(stored):
            self._rehash(name, stored, password)
        return user

    def _keep_an_administrator(self, leaving: User) -> None:
        """Refuse to take away the last enabled administrator: no one could manage accounts."""
        if leaving.role != "admin" or leaving.disabled:
            return
        others = [u for u in self.users() if u.role == "admin" and not u.disabled and u != leaving]
        if not others:
            raise UserError(
                f"{leaving.username} is the only administrator left. Add another administrator "
                "(digest user add ... --role admin) first."
            )

    def _existing(self, username: str) -> User:
        user = self.get(username)
        if user is None:
            raise UserError(f"There is no user '{normalise_username(username)}'.")
        return user

    def _change(
        self,
        user: User,
        action: str,
        actor: str,
        columns: dict[str, Any],
        *,
        was: dict[str, Any] | None = None,
    ) -> User:
        """Update the account's ``columns`` and write the audit event, in one transaction."""
        assignments = ", ".join(f"{column} = ?" for column in columns)  # names from code only
        try:
            with transaction(self._connection) as cursor:
                row = cursor.execute(
                    f"update users set {assignments}, changed_at = ? where username = ?"
                    f" returning {_COLUMNS}",
                    [*columns.values(), utc_now(), user.username],
                ).fetchone()
                assert row is not None  # accounts are never deleted
                changed = _user(row)
                _audit(cursor, actor, action, changed, was=was)
        except duckdb.TransactionException:
            raise UserError(
                f"Someone else changed {user.username} at the same moment. Look at the account "
                "again, then make the change if it is still needed."
            ) from None
        return changed

    def _rehash(self, username: str, stored: str, password: str) -> None:
        # Not an audit event: the password is the same, only the hash's parameters change. The
        # old hash in the condition leaves a password changed meanwhile as it is.
        cursor = self._connection.cursor()
        try:
            cursor.execute(
                "update users set password_hash = ? where username = ? and password_hash = ?",
                [HASHER.hash(password), username, stored],
            )
        except duckdb.TransactionException:
            pass  # someone changed the account meanwhile; the next sign-in rehashes
        finally:
            cursor.close()

    def start_session(self, username: str) -> str:
        """A new signed-in session for ``username``: its random id, for the cookie (only a hash
        of it is stored, so a copy of the database gives no one a session)."""
        sid = secrets.token_urlsafe(32)
        self._query(
            "insert into sessions values (?, ?, ?, null)",
            [_hashed(sid), normalise_username(username), utc_now()],
        )
        return sid

    def session_user(self, sid: str, longest: timedelta) -> str | None:
        """The username of a session that has neither ended nor lasted longer than ``longest``
        (``None`` otherwise, or for an unknown one)."""
        rows = self._query(
            "select username from sessions where sid = ? and ended_at is null and started_at > ?",
            [_hashed(sid), utc_now() - longest],
        )
        return str(rows[0][0]) if rows else None

    def end_session(self, sid: str) -> None:
        """End a session: its cookie is refused from now on, even if it is replayed."""
        self._query(
            "update sessions set ended_at = ? where sid = ? and ended_at is null",
            [utc_now(), _hashed(sid)],
        )

    def end_sessions(self, username: str) -> None:
        """End every session of an account (its password changed, or it was disabled)."""
        self._query(
            "update sessions set ended_at = ? where username = ? and ended_at is null",
            [utc_now(), normalise_username(username)],
        )

    def _query(self, sql: str, parameters: list[Any] | None = None) -> list[tuple[Any, ...]]:
        cursor = self._connection.cursor()
        try:
            return cursor.execute(sql, parameters or []).fetchall()
        except duckdb.CatalogException:
            # A database from before accounts, opened read-only (so not migrated), has none.
            if _has_users_table(cursor):
                raise
            return []
        finally:
            cursor.close()


def _user(row: tuple[Any, ...]) -> User:
    username, display_name, role, agencies, disabled, created_at, changed_at = row
    return User(
        username, display_name, role, tuple(agencies), bool(disabled), created_at, changed_at
    )


def _has_users_table(cursor: duckdb.DuckDBPyConnection) -> bool:
    found = cursor.execute(
        "select count(*) from duckdb_tables() where table_name = 'users'"
    ).fetchone()
    return bool(found and found[0])


def _audit(
    cursor: duckdb.DuckDBPyConnection,
    actor: str,
    action: str,
    user: User,
    *,
    was: dict[str, Any] | None = None,
) -> None:
    detail: dict[str, Any] = {
        "username": user.username,
        "role": user.role,
        "agencies": list(user.agencies),
    }
    if was:
        detail["was"] = was
    audit.record(cursor, actor, action, "done", detail=detail)


def _duplicate(username: str) -> str:
    return f"There is already a user '{username}'. Choose another username."


def _checked_username(username: str) -> str:
    name = normalise_username(username)
    if not name or len(name) > _MAX_USERNAME_LENGTH or not _USERNAME.match(name):
        raise UserError(
            "A username is an e-mail address or a login name, without spaces, such as "
            "jo.bloggs@example.org."
        )
    return name


def _checked_display_name(display_name: str) -> str:
    shown = " ".join(display_name.split())
    if not shown:
        raise UserError("Give the user's name as it should be shown, such as 'Jo Bloggs'.")
    return shown


def _checked_role(role: str, agencies: Iterable[str]) -> tuple[Role, tuple[str, ...]]:
    """The role and the sorted agency codes, if they go together; :class:`UserError` if not."""
    if not _is_role(role):
        raise UserError(f"'{role}' is not a role; the roles are {', '.join(ROLES)}.")
    if isinstance(agencies, str):  # one code, not its letters
        agencies = (agencies,)
    codes = tuple(sorted({code.strip().upper() for code in agencies}))
    if role == "data_lead" and not codes:
        raise UserError("A data lead submits the returns of at least one agency: name it.")
    if role != "data_lead" and codes:
        raise UserError(f"Only a data lead has agencies; a user with the role {role} has none.")
    known = [agency.code for agency in load_dataset().agencies]
    unknown = [code for code in codes if code not in known]
    if unknown:
        verb = "is not an agency" if len(unknown) == 1 else "are not agencies"
        raise UserError(
            f"{', '.join(unknown)} {verb} of the dataset; the agencies are {', '.join(known)}."
        )
    return role, codes


def _is_role(value: str) -> TypeGuard[Role]:
    return value in ROLES


def describe_role(role: Role, agencies: Iterable[str] = ()) -> str:
    """The role in words: 'a member', 'a data lead for CSC and POLICE'."""
    codes = list(agencies)
    if not codes:
        return _ROLE_NAMES[role]
    listed = ", ".join(codes[:-1]) + " and " + codes[-1] if len(codes) > 1 else codes[0]
    return f"{_ROLE_NAMES[role]} for {listed}"


def _check_password(password: str, username: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"A password must be at least {MIN_PASSWORD_LENGTH} characters long.")
    if normalise_username(password) == username:
        raise UserError("A password must not be the username.")


@cache
def _dummy_hash() -> str:
    """A hash to verify against when there is no such user, made once (it takes a moment)."""
    return HASHER.hash("no such user: a password that never matches")


def _matches(stored: str, password: str) -> bool:
    try:
        return HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _hashed(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()
