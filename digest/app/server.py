"""Build the Dash app on a returns store: the scorecard, indicator, exception report, challenge
log, returns and upload pages, and the downloads.

Pages stay thin: what they show comes from :mod:`digest.views`. Every callback and route checks
its inputs on the server against what may be chosen, because Dash passes whatever the browser
sends.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import duckdb
from dash import Dash, Input, Output, State, dcc, html, no_update
from flask import Response, abort, request

from digest.app.auth import (
    ROLE_NAMES,
    Action,
    Guard,
    csrf_token,
    current_user,
    demo_user,
    may,
    signed_in_user,
)
from digest.app.builds import Builds
from digest.app.components import aria, period_choice, query, search, text_choice
from digest.app.pages import (
    accounts,
    audit,
    challenges,
    exceptions,
    indicator,
    pack,
    returns,
    scorecard,
    upload,
)
from digest.app.pages.common import AreaPeriod
from digest.export.challenges import challenge_log_workbook
from digest.export.exceptions import exception_report
from digest.store.audit import note
from digest.store.database import StoreError, StoreStopped, StoreWriteFailed, write_failure
from digest.store.users import User, UsersStore
from digest.views.challenges import challenge_log
from digest.views.exceptions import FLAG_WORDS
from digest.views.exceptions import exceptions as flagged
from digest.views.sources import Sources
from digest.views.templates import return_template

ASSETS = Path(__file__).resolve().parent / "assets"
PAGES = {
    scorecard.PATH: "Scorecard",
    exceptions.PATH: "Exception report",
    challenges.PATH: "Challenges",
    returns.PATH: "Returns",
    pack.PATH: "Meeting pack",
    upload.PATH: "Upload",
    audit.PATH: "Audit log",
    accounts.PATH: "Accounts",
}
#: The pages only some may see, and what they must be allowed to do (the rest: read).
_ONLY_FOR: dict[str, Action] = {audit.PATH: "audit", accounts.PATH: "accounts"}
#: What the navigation keeps from one page to the next.
_CARRIED = ("area", "period")


def create_app(
    sources: Sources, *, secret: str, demo: bool = False, secure_cookies: bool = False
) -> Dash:
    """The app for the partnership, reading the given sources; every page needs a signed-in
    account (:mod:`digest.app.auth`).

    ``secret`` signs the session cookies (:func:`digest.app.auth.secret_key`). ``demo`` signs a
    visitor on this machine in as the demo's data lead without a password, and says so on every
    page. ``secure_cookies`` for a server reached over https. Every page of a synthetic area says
    its data are made up.
    """
    synthetic = sources.home.synthetic
    demo = demo and synthetic  # never a password-less sign-in on a real area's figures
    app = Dash(
        __name__,
        title="PQA Digest",
        assets_folder=str(ASSETS),
        serve_locally=True,
        suppress_callback_exceptions=True,  # pages are drawn by the router, not all at once
        update_title="",
    )
    # A request carries at most one upload (base64 is 4/3 of the file) and the page's state.
    app.server.config["MAX_CONTENT_LENGTH"] = upload.MAX_UPLOAD_BYTES * 2
    app.server.register_error_handler(413, _too_large)
    app.index_string = app.index_string.replace("<html>", '<html lang="en-GB">', 1)
    Guard(UsersStore(sources.store.connection), demo, secure_cookies).install(app.server, secret)
    banner = (
        html.P(
            "Synthetic demo data: every figure is made up and describes no real place or child.",
            className="digest-banner",
            role="note",
        )
        if synthetic
        else None
    )

    def frame() -> html.Div:
        """The frame of every page, drawn for the signed-in user of each request."""
        user = signed_in_user()
        return html.Div(
            [
                html.A("Skip to the main content", href="#main", className="digest-skip"),
                dcc.Location(id="url", refresh=False),
                dcc.Store(id="shown-path"),
                dcc.Store(id="page-title"),
                html.Header(
                    [
                        html.P("PQA Digest", className="digest-brand"),
                        html.P(
                            f"Performance and quality assurance: {sources.home.name}",
                            className="digest-subtitle",
                        ),
                        banner,
                        _account(user, demo) if user else None,
                        html.Nav(id="nav", **aria(label="Pages")),
                    ],
                    className="digest-header",
                ),
                html.Main(id="main", tabIndex="-1", className="digest-page"),
            ],
        )

    app.layout = frame

    @app.callback(
        Output("main", "children"),
        Output("shown-path", "data"),
        Input("url", "pathname"),
        State("url", "search"),
        State("shown-path", "data"),
    )
    def route(pathname: object, search_text: object, shown: object) -> Any:
        path = pathname if isinstance(pathname, str) else "/"
        if path == shown:
            return no_update, no_update  # only the query string changed: the page redraws itself
        text = search_text if isinstance(search_text, str) else ""
        if path == scorecard.PATH:
            return scorecard.layout(sources, text), path
        if path == indicator.PATH:
            return indicator.layout(sources, text), path
        if path == exceptions.PATH:
            return exceptions.layout(sources, text), path
        if path == challenges.PATH:
            return challenges.layout(sources, text, current_user()), path
        if path == returns.PATH:
            return returns.layout(sources, text), path
        if path == upload.PATH:
            return upload.layout(sources, text, current_user()), path
        if path == audit.PATH:
            return audit.layout(sources), path
        if path == pack.PATH:
            return pack.layout(sources, text), path
        if path == accounts.PATH:
            return accounts.layout(sources), path
        return (
            html.Div(
                [
                    html.H2("Page not found"),
                    html.P(["There is no such page. ", dcc.Link("Go to the scorecard", href="/")]),
                ]
            ),
            path,
        )

    @app.callback(Output("nav", "children"), Input("url", "pathname"), Input("url", "search"))
    def navigation(pathname: object, search_text: object) -> Any:
        asked = query(search_text)
        carried = search(**{key: asked.get(key) for key in _CARRIED})
        current = pathname if isinstance(pathname, str) else "/"
        return html.Ul(
            [
                html.Li(
                    dcc.Link(
                        [name, html.Span(" (this page)", className="visually-hidden")]
                        if path == current
                        else name,
                        href=f"{path}{carried}",
                        className="nav-link active" if path == current else "nav-link",
                    ),
                    className="nav-item",
                )
                for path, name in PAGES.items()
                if may(current_user(), _ONLY_FOR.get(path, "read"))
            ],
            className="nav nav-pills digest-nav",
        )

    # Each page has its own title (WCAG 2.4.2), set in the browser as the address changes.
    titles = {**PAGES, indicator.PATH: "Indicator"}
    app.clientside_callback(  # type: ignore[no-untyped-call]  # Dash leaves it untyped
        "function (path) { const titles = "
        + json.dumps(titles)
        + "; document.title = (titles[path] || 'Page not found') + ' - PQA Digest';"
        " return path; }",
        Output("page-title", "data"),
        Input("url", "pathname"),
    )

    for page in (scorecard, indicator, exceptions, returns):
        page.register(app, sources)
    upload.register(app, sources)
    audit.register(app, sources)
    challenges.register(app, sources)
    accounts.register(app, sources)
    builds = Builds()
    pack.register(app, sources, builds)
    _downloads(app, sources)
    app.server.add_url_rule(pack.DOWNLOAD, view_func=lambda: pack.pack_file(builds))
    _answer_store_failures(app.server)
    return app


def _answer_store_failures(server: Any) -> None:
    """A request that meets a write to disk that failed, or a database DuckDB has stopped, is
    answered with the operator's message (503), which the server also prints, once each."""
    told: set[str] = set()

    def answer(error: Exception) -> tuple[str, int, dict[str, str]]:
        failure = error if isinstance(error, StoreError) else None
        if isinstance(error, duckdb.Error):
            failure = write_failure(error)
        if failure is None:
            raise error  # any other fault: Flask's own 500, with its traceback in the log
        message = str(failure)
        if message not in told:
            told.add(message)
            print(f"digest: {message}", file=sys.stderr, flush=True)
        return message, 503, {"Content-Type": "text/plain; charset=utf-8"}

    for kind in (StoreWriteFailed, StoreStopped, duckdb.Error):
        server.register_error_handler(kind, answer)


def _downloads(app: Dash, sources: Sources) -> None:
    """The files a page links to, each checked like a callback's inputs."""
    server = app.server

    def template_file() -> Response:
        asked = request.args
        agencies = {a.code: a for a in sources.dataset.agencies}
        code = text_choice(asked.get("agency"), list(agencies))
        home = sources.home  # uploads, and so templates, are for the partnership's own area
        area = home if text_choice(asked.get("area"), [home.ons_code]) else None
        period = period_choice(asked.get("period"), upload.upload_periods(sources))
        if code is None or area is None or period is None:
            _unoffered(sources, "template")
        user = current_user()
        if not may(user, "upload", code):
            note(sources.store.connection, user.username, "template", "refused", agency=code)
            abort(403)
        content = return_template(sources.store, sources.dataset, agencies[code], area, period)
        note(
            sources.store.connection,
            user.username,
            "template",
            "done",
            agency=code,
            area=area.ons_code,
            period=period,
        )
        name = f"{code}-{area.ons_code}-{str(period).replace(' ', '')}.xlsx"
        return _file(content, name)

    def exceptions_file() -> Response:
        asked = request.args
        where = AreaPeriod.chosen(sources, asked.get("area"), asked.get("period"))
        if where is None or where.period is None:
            _unoffered(sources, "export")
        agency = text_choice(asked.get("agency"), [a.code for a in sources.dataset.agencies])
        kind = text_choice(asked.get("flag"), list(FLAG_WORDS))
        found = [
            f
            for f in flagged(sources, where.area.ons_code, where.period)
            if (agency is None or f.indicator.agency == agency)
            and (kind is None or f.flag.kind == kind)
        ]
        chosen = "; ".join(
            part
            for part in (
                f"{agency} only" if agency else "",
                f"{FLAG_WORDS[kind].lower()} only" if kind else "",
            )
            if part
        )
        content = exception_report(where.area, where.period, found, chosen or None)
        note(
            sources.store.connection,
            current_user().username,
            "export",
            "done",
            area=where.area.ons_code,
            period=where.period,
            detail={"file": "exceptions.xlsx", "flags": len(found)},
        )
        name = f"exceptions-{where.area.ons_code}-{str(where.period).replace(' ', '')}.xlsx"
        return _file(content, name)

    def challenges_file() -> Response:
        asked = request.args
        areas = {a.ons_code: a for a in sources.areas()}
        code = text_choice(asked.get("area"), list(areas))
        if code is None:
            _unoffered(sources, "export")
        user = current_user()
        if not may(user, "read"):
            note(sources.store.connection, user.username, "export", "refused", area=code)
            abort(403)
        agency = text_choice(asked.get("agency"), [a.code for a in sources.dataset.agencies])
        state = text_choice(asked.get("state"), list(challenges.STATES))
        found = challenges.filtered(challenge_log(sources, code), state, agency)
        chosen = "; ".join(
            part
            for part in (
                f"{agency} only" if agency else "",
                f"{challenges.STATES[state].lower()} only" if state else "",
            )
            if part
        )
        content = challenge_log_workbook(areas[code], found, chosen or None)
        note(
            sources.store.connection,
            user.username,
            "export",
            "done",
            area=code,
            detail={"file": "challenges.xlsx", "challenges": len(found)},
        )
        return _file(content, f"challenges-{code}.xlsx")

    server.add_url_rule("/download/template.xlsx", view_func=template_file)
    server.add_url_rule("/download/exceptions.xlsx", view_func=exceptions_file)
    server.add_url_rule("/download/challenges.xlsx", view_func=challenges_file)


def _account(user: User, demo: bool) -> html.Div:
    """Who is signed in, and the sign-out button (a form with this session's CSRF token)."""
    said = (
        f"Demo mode: signed in as {user.display_name} without a password (this machine only)."
        if demo and user.username == demo_user().username
        else f"Signed in as {user.display_name} ({ROLE_NAMES[user.role]})."
    )
    return html.Div(
        [
            html.Span(said),
            html.Form(
                [
                    dcc.Input(type="hidden", name="csrf", value=csrf_token()),
                    html.Button("Sign out", type="submit", className="btn btn-light btn-sm"),
                ],
                action="/logout",
                method="POST",
                className="digest-signout",
            ),
        ],
        className="digest-account",
    )


def _unoffered(sources: Sources, action: str) -> NoReturn:
    """Refuse a download asked for with choices no page offers (recorded), as not found."""
    note(
        sources.store.connection,
        current_user().username,
        action,
        "refused",
        detail={"sent": sorted(request.args)[:10]},
    )
    abort(404)


def _too_large(_error: Exception) -> Response:
    limit = upload.MAX_UPLOAD_BYTES // (1024 * 1024)
    return Response(
        f"That file is too large: a quarterly return is a few tens of kilobytes, and the most "
        f"the digest accepts is {limit} MB. Upload the return template filled in, and nothing "
        "else.",
        413,
        mimetype="text/plain",
    )


def _file(content: bytes, name: str) -> Response:
    return Response(
        content,
        mimetype=upload.XLSX,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )
