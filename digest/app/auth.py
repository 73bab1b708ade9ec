"""Who is signed in and what they may do, checked on the server for every request.

Every page, callback and download needs a signed-in, enabled account; the session is re-checked
against the accounts table on each request, so disabling an account or changing its role takes
effect at once, and a session idle for longer than :data:`IDLE_MINUTES` ends. Sign-in and
sign-out are plain forms with a CSRF token; callback POSTs must be JSON from this origin.

In demo mode, a visitor on this machine (and only on this machine) is signed in as the demo's
data lead without a password, and every page says so.
"""

from __future__ import annotations

import hmac
import html
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address
from pathlib import Path
from typing import Literal
from urllib.parse import urlencode, urlsplit

from flask import Flask, Response, g, has_request_context, redirect, request, session
from werkzeug.wrappers import Response as BaseResponse

from digest.domain.dataset import load_dataset
from digest.store.audit import note
from digest.store.users import User, UsersStore

IDLE_MINUTES = 30
ONE_PROCESS = (
    "The digest server must be one process, the only one with the database open: run it as "
    "'digest serve', or 'gunicorn -w 1 --threads 8 digest.app.wsgi:server' (one worker, no "
    "--preload)."
)
#: What anyone may fetch: the app's scripts and styles, and the sign-in page itself. Browsers
#: ask for /favicon.ico by themselves after the sign-in page loads: in demo mode that request
#: must not start a demo session, which would replace the sign-in form's session and token.
PUBLIC_PREFIXES = ("/assets/", "/_dash-component-suites/")
PUBLIC_PATHS = ("/_favicon.ico", "/favicon.ico", "/login")
#: A session ends this long after sign-in, however busy.
LONGEST_HOURS = 12
_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}

Action = Literal["read", "upload", "sign_off", "audit", "challenge", "answer", "decide", "accounts"]
ROLE_NAMES = {
    "admin": "administrator",
    "chair": "chair",
    "member": "member",
    "data_lead": "data lead",
}


def may(user: User, action: Action, agency: str | None = None) -> bool:
    """Whether ``user`` may do ``action`` (for ``agency``, when it concerns one agency's return).

    Everyone signed in reads; a data lead uploads (and downloads templates) for its own agencies
    only; the chair signs returns off; the chair and administrators read the audit log. In the
    challenge log, the chair and members raise challenges, a data lead answers those to its own
    agencies only, and the chair decides them (closes or escalates).
    """
    if user.disabled:
        return False
    if action == "read":
        return True
    if action in ("upload", "answer"):
        return user.role == "data_lead" and agency is not None and agency in user.agencies
    if action in ("sign_off", "decide"):
        return user.role == "chair"
    if action == "challenge":
        return user.role in ("chair", "member")
    if action == "accounts":
        return user.role == "admin"
    return user.role in ("admin", "chair")


def demo_user() -> User:
    """The demo's data lead, for every agency: signed in without a password in demo mode."""
    now = datetime.now(UTC).replace(tzinfo=None)
    agencies = tuple(a.code for a in load_dataset().agencies)
    return User("demo data lead", "Demo data lead", "data_lead", agencies, False, now, now)


def current_user() -> User:
    """The signed-in user of this request (every route but the public ones has one)."""
    user: User = g.user
    return user


def signed_in_user() -> User | None:
    """The signed-in user, or ``None`` outside a signed-in request (as when Dash draws the
    layout once at start-up to check it)."""
    if not has_request_context():
        return None
    found: User | None = g.get("user")
    return found


def secret_key(path: Path) -> str:
    """The key that signs session cookies: made at first start, kept beside the database (only
    its owner may read it), never in the repository."""
    if path.exists():
        key = path.read_text(encoding="utf-8").strip()
        if len(key) >= 32:
            return key
    key = secrets.token_hex(32)
    partial = path.with_name(path.name + ".new")
    partial.unlink(missing_ok=True)
    partial.touch(mode=0o600)
    partial.write_text(key, encoding="utf-8")
    partial.replace(path)  # never an empty key, even if this process dies half way
    return key


def csrf_token() -> str:
    """This session's token for the sign-in and sign-out forms."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


_CHECKING = threading.BoundedSemaphore(2)
_TOO_MANY = (
    "Too many attempts to sign in with that name: wait 15 minutes, or ask an administrator to "
    "set a new password."
)


class Throttle:
    """Failed sign-ins by name in the last :attr:`WINDOW` seconds: after :attr:`LIMIT` of
    them, that name waits out the window (guessing a password takes too long to be worth it)."""

    LIMIT = 5
    WINDOW = 15 * 60

    def __init__(self) -> None:
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def waiting(self, name: str) -> bool:
        """Whether ``name`` must wait before trying again."""
        now = time.time()
        with self._lock:
            recent = [t for t in self._failures.get(name, []) if now - t < self.WINDOW]
            self._failures[name] = recent
            return len(recent) >= self.LIMIT

    def count(self, name: str, *, failed: bool) -> None:
        """Count a failure (or forget them all after a success)."""
        with self._lock:
            if failed:
                self._failures.setdefault(name, []).append(time.time())
                if len(self._failures) > 10_000:  # a flood of names: keep memory bounded
                    self._failures.clear()
            else:
                self._failures.pop(name, None)


def _hardened(response: BaseResponse) -> BaseResponse:
    """Headers every answer carries: never framed by another site, never sniffed."""
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


@dataclass
class Guard:
    """Installs the sign-in pages and the checks on a Flask server."""

    users: UsersStore
    demo: bool = False
    secure_cookies: bool = False
    owner: int = field(default_factory=os.getpid)
    _throttle: Throttle = field(default_factory=Throttle)

    def install(self, server: Flask, key: str) -> None:
        """Configure the session cookie and add the hooks and routes."""
        server.secret_key = key
        server.config.update(
            SESSION_COOKIE_HTTPONLY=True,
            SESSION_COOKIE_SAMESITE="Lax",
            SESSION_COOKIE_SECURE=self.secure_cookies,
            SESSION_COOKIE_NAME="digest_session",
        )
        server.before_request(self._check)
        server.after_request(_hardened)
        server.add_url_rule("/login", view_func=self._login, methods=["GET", "POST"])
        server.add_url_rule("/logout", view_func=self._logout, methods=["POST"])

    def _check(self) -> BaseResponse | None:
        if os.getpid() != self.owner:
            # A forked copy of the process that opened the database would share its connection.
            return _refuse(503, ONE_PROCESS)
        path = request.path
        if request.method == "POST" and not _same_origin():
            return _refuse(403, "This request came from another site.")
        if path == "/_dash-update-component" and not request.is_json:
            return _refuse(415, "Callbacks are JSON.")
        if path.startswith(PUBLIC_PREFIXES) or path in PUBLIC_PATHS:
            return None
        user = self._signed_in()
        if user is None:
            if path.startswith("/_dash") or path.startswith("/download/"):
                return _refuse(401, "Sign in first.")
            return redirect("/login?" + _next(request.full_path))
        g.user = user
        return None

    def _signed_in(self) -> User | None:
        """The user of this request's session: one started at sign-in, not ended, not idle,
        whose account is still enabled (read again now, so a change of role counts at once)."""
        sid, seen = session.get("sid"), session.get("seen")
        fresh = isinstance(seen, (int, float)) and time.time() - seen < IDLE_MINUTES * 60
        longest = timedelta(hours=LONGEST_HOURS)
        name = self.users.session_user(sid, longest) if isinstance(sid, str) and fresh else None
        demo = self.demo and _from_this_machine()
        user = demo_user() if demo and name == demo_user().username else None
        user = user or (self.users.get(name) if name else None)
        if user is None and demo:
            user = demo_user()
            self._start(user)
        elif user is None or user.disabled:
            if isinstance(sid, str):
                self.users.end_session(sid)
                session.clear()
            return None
        session["seen"] = time.time()
        return user

    def _start(self, user: User) -> None:
        """A new session at sign-in: the last one (if any) ends, and nothing of it carries over."""
        old = session.get("sid")
        if isinstance(old, str):
            self.users.end_session(old)
        session.clear()
        session["sid"], session["seen"] = self.users.start_session(user.username), time.time()
        # The sign-out form's token is made now, with the session's first cookie: made later,
        # by whichever of a page's parallel requests drew the form, a sibling request's
        # answer could write the cookie back without it, and signing out would fail.
        csrf_token()

    def _login(self) -> BaseResponse | str:
        wanted = _safe_next(request.args.get("next"))
        if request.method == "GET":
            return _login_page(csrf_token(), wanted)
        if not _token_ok():
            expired = "The form had expired: sign in again."
            return Response(_login_page(csrf_token(), wanted, expired), 400)
        name = str(request.form.get("username", "")).strip().lower()[:200]
        if self._throttle.waiting(name):
            note(self.users.connection, "(throttled)", "login", "refused")
            return Response(_login_page(csrf_token(), wanted, _TOO_MANY), 429)
        with _CHECKING:  # argon2 takes 64 MB a check: a few at a time, whoever is trying
            user = self.users.verify(name, str(request.form.get("password", ""))[:1000])
        self._throttle.count(name, failed=user is None)
        connection = self.users.connection
        if user is None:
            # Only a real username is recorded: what was typed could be a password.
            known = self.users.get(name) is not None
            note(connection, name if known else "(not a username)", "login", "failed")
            return Response(
                _login_page(
                    csrf_token(),
                    wanted,
                    "That username and password do not match an enabled account.",
                ),
                401,
            )
        self._start(user)
        note(connection, user.username, "login", "done")
        return redirect(wanted)

    def _logout(self) -> BaseResponse:
        if not _token_ok():
            return _refuse(400, "The form had expired.")
        sid = session.get("sid")
        name = (
            self.users.session_user(sid, timedelta(hours=LONGEST_HOURS))
            if isinstance(sid, str)
            else None
        )
        if isinstance(sid, str):
            self.users.end_session(sid)
        session.clear()
        if name:
            note(self.users.connection, name, "logout", "done")
        return redirect("/login")


def _token_ok() -> bool:
    sent, kept = request.form.get("csrf", ""), session.get("csrf", "")
    return bool(kept) and isinstance(sent, str) and hmac.compare_digest(sent, str(kept))


def _same_origin() -> bool:
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not sent by a browser's cross-site request (and SameSite keeps cookies home)
    return urlsplit(origin).netloc == request.host


def _from_this_machine() -> bool:
    """A browser on this machine, asking for this machine by name: not a visitor relayed by a
    proxy on it (which would come from loopback too), nor a page that rebound its own name."""
    if any(h in request.headers for h in ("Forwarded", "X-Forwarded-For", "X-Real-IP")):
        return False
    host = request.host.rsplit(":", 1)[0] if not request.host.startswith("[") else "[::1]"
    if request.host.startswith("[") and not request.host.startswith("[::1]"):
        return False
    try:
        loopback = ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False
    return loopback and host in _LOOPBACK_NAMES


def _next(path: str) -> str:
    return urlencode({"next": path.rstrip("?")})


def _safe_next(wanted: str | None) -> str:
    """Where to go after signing in: a path on this site, never another site (no control
    characters or spaces, no scheme, no host, however written)."""
    if (
        not wanted
        or not wanted.startswith("/")
        or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in wanted)
    ):
        return "/"
    parts = urlsplit(wanted.replace("\\", "/"))
    if parts.scheme or parts.netloc or wanted.replace("\\", "/").startswith("//"):
        return "/"
    return wanted


def _refuse(status: int, text: str) -> Response:
    return Response(text, status, mimetype="text/plain")


def _login_page(token: str, wanted: str, problem: str = "") -> str:
    """The sign-in form (plain HTML, every value escaped)."""
    warning = (
        f'<p class="alert alert-danger" role="alert">{html.escape(problem)}</p>' if problem else ""
    )
    return f"""<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8"><title>Sign in - PQA Digest</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/assets/bootstrap.min.css">
<link rel="stylesheet" href="/assets/digest.css">
</head><body><header class="digest-header"><p class="digest-brand">PQA Digest</p></header>
<main class="digest-page" id="main"><h1 class="h2">Sign in</h1>{warning}
<form method="post" action="/login?{html.escape(_next(wanted))}" class="digest-login">
<input type="hidden" name="csrf" value="{html.escape(token)}">
<label class="form-label" for="username">Username</label>
<input class="form-control" id="username" name="username" autocomplete="username" required>
<label class="form-label mt-3" for="password">Password</label>
<input class="form-control" id="password" name="password" type="password"
 autocomplete="current-password" required>
<button class="btn btn-primary mt-3" type="submit">Sign in</button>
</form></main></body></html>"""
