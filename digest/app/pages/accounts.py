"""Accounts, for administrators: who can sign in, with which role and for which agencies.

The same rules as ``digest user`` (:class:`digest.store.users.UsersStore`): each change is
checked and audited with who made it; the last administrator cannot be demoted or disabled; a
new password or a disabled account ends that person's sessions. Passwords are never shown back,
stored only as argon2 hashes, and never recorded in the audit log.
"""

from __future__ import annotations

from typing import Any, Literal

from dash import Dash, Input, Output, State, dcc, html, no_update

from digest.app.auth import ROLE_NAMES, current_user, may
from digest.app.components import choice, message, table, text_choice, updating
from digest.app.pages.common import shapes
from digest.domain.timestamps import uk_time
from digest.store.audit import note
from digest.store.users import ROLES, UserError, UsersStore, describe_role
from digest.views.sources import Sources

PATH = "/accounts"
_REFUSED = "Only administrators manage accounts."
_UNOFFERED = "The form sent something it does not offer: reload the page and try again."
_CHANGES = {
    "role": "Change the role (and agencies)",
    "password": "Set a new password",
    "disable": "Disable the account",
    "enable": "Enable the account again",
}


def layout(sources: Sources) -> html.Div:
    """The page, or a refusal for anyone but an administrator (audited)."""
    user = current_user()
    if not may(user, "accounts"):
        note(sources.store.connection, user.username, "accounts_view", "refused")
        return html.Div([html.H2("Accounts"), message(_REFUSED)])
    agencies = [(a.code, f"{a.name} ({a.code})") for a in sources.dataset.agencies]
    roles = [(role, ROLE_NAMES[role].capitalize()) for role in ROLES]
    return html.Div(
        [
            html.H2("Accounts"),
            html.P(
                "Who can sign in, and what each may do: members read, data leads upload for their "
                "agencies, the chair also signs off and decides challenges, administrators manage "
                "accounts. Every change is recorded in the audit log.",
                className="lead",
            ),
            dcc.Store(id="accounts-changed", data=0),
            updating("accounts-table", "Accounts"),
            html.H3("Add an account", className="h4 mt-4"),
            html.Div(
                [
                    _field("Username (an email address)", "accounts-new-username", "email"),
                    _field("Name as shown", "accounts-new-name", "text"),
                    choice("Role", "accounts-new-role", roles, "member"),
                    _agencies("accounts-new-agencies", agencies),
                    _field("First password (at least 12 characters)", "accounts-new-password"),
                ],
                className="digest-filters",
            ),
            html.Button(
                "Add the account", id="accounts-add", className="btn btn-primary", type="button"
            ),
            html.Div(id="accounts-add-result", role="status"),
            html.H3("Change an account", className="h4 mt-4"),
            html.Div(
                [
                    choice("Account", "accounts-username", [], None),
                    choice("Change", "accounts-change", list(_CHANGES.items()), "role"),
                    choice("New role", "accounts-role", roles, "member"),
                    _agencies("accounts-agencies", agencies),
                    _field("New password (at least 12 characters)", "accounts-password"),
                ],
                className="digest-filters",
            ),
            html.Button(
                "Apply the change", id="accounts-apply", className="btn btn-primary", type="button"
            ),
            html.Div(id="accounts-apply-result", role="status"),
        ]
    )


def _field(
    label: str, field_id: str, kind: Literal["text", "email", "password"] = "password"
) -> html.Div:
    return html.Div(
        [
            html.Label(label, htmlFor=field_id, className="form-label"),
            dcc.Input(
                id=field_id,
                type=kind,
                className="form-control",
                maxLength=200,
                autoComplete="new-password" if kind == "password" else "off",
            ),
        ],
        className="digest-choice",
    )


def _agencies(control_id: str, agencies: list[tuple[str, str]]) -> html.Div:
    return html.Div(
        [
            html.Label("Agencies (for a data lead)", htmlFor=control_id, className="form-label"),
            dcc.Dropdown(
                id=control_id,
                options=[{"label": text, "value": code} for code, text in agencies],
                multi=True,
                searchable=False,
            ),
        ],
        className="digest-choice",
    )


def register(app: Dash, sources: Sources) -> None:
    """The page's callbacks: each checks on the server that an administrator sent it, and what
    was sent, before anything changes."""
    users = UsersStore(sources.store.connection)
    codes = [a.code for a in sources.dataset.agencies]

    @app.callback(
        Output("accounts-table", "children"),
        Output("accounts-username", "options"),
        Input("accounts-changed", "data"),
    )
    def listing(_changed: object) -> Any:
        if not may(current_user(), "accounts"):
            return message(_REFUSED), []
        everyone = users.users()
        rows = [
            [
                u.username,
                u.display_name,
                describe_role(u.role, u.agencies).capitalize(),
                "Disabled" if u.disabled else "Enabled",
                uk_time(u.created_at),
                uk_time(u.changed_at),
            ]
            for u in everyone
        ]
        return (
            table(
                f"{len(rows)} account{'s' * (len(rows) != 1)}",
                ["Username", "Name", "Role", "State", "Added (UK time)", "Changed (UK time)"],
                rows,
                table_id="accounts-list",
            ),
            [{"label": f"{u.username} ({u.display_name})", "value": u.username} for u in everyone],
        )

    @app.callback(
        Output("accounts-add-result", "children"),
        Output("accounts-changed", "data"),
        Output("accounts-new-password", "value"),
        Input("accounts-add", "n_clicks"),
        State("accounts-new-username", "value"),
        State("accounts-new-name", "value"),
        State("accounts-new-role", "value"),
        State("accounts-new-agencies", "value"),
        State("accounts-new-password", "value"),
        State("accounts-changed", "data"),
        prevent_initial_call=True,
    )
    def add(
        clicks: object,
        username: object,
        name: object,
        role: object,
        agencies: object,
        password: object,
        changed: object,
    ) -> Any:
        if not clicks:
            return no_update, no_update, no_update
        admin = current_user()
        sent = _sent(username, name, role, agencies, password, codes)
        forged = (
            not all(v is None or isinstance(v, str) for v in (username, name, password))
            or (role is not None and text_choice(role, list(ROLES)) is None)
            or _agency_list(agencies, codes) is None
        )
        if not may(admin, "accounts") or forged:
            _refuse(sources, "user.add", username=username, role=role, agencies=agencies)
            return message(_REFUSED if forged is False else _UNOFFERED), no_update, ""
        if sent is None:
            return message("Fill in every box, then add the account."), no_update, ""
        account, shown, chosen, kept, secret = sent
        try:
            made = users.add(account, shown, chosen, secret, kept, actor=admin.username)
        except UserError as problem:
            return message(str(problem)), no_update, ""
        return (
            html.P(
                f"Added {made.username}, {describe_role(made.role, made.agencies)}. Tell them "
                "their password another way than email.",
                className="alert alert-success",
            ),
            _next(changed),
            "",
        )

    @app.callback(
        Output("accounts-apply-result", "children"),
        Output("accounts-changed", "data", allow_duplicate=True),
        Output("accounts-password", "value"),
        Input("accounts-apply", "n_clicks"),
        State("accounts-username", "value"),
        State("accounts-change", "value"),
        State("accounts-role", "value"),
        State("accounts-agencies", "value"),
        State("accounts-password", "value"),
        State("accounts-changed", "data"),
        prevent_initial_call=True,
    )
    def apply(
        clicks: object,
        username: object,
        change: object,
        role: object,
        agencies: object,
        password: object,
        changed: object,
    ) -> Any:
        if not clicks:
            return no_update, no_update, no_update
        admin = current_user()
        account = text_choice(username, [u.username for u in users.users()])
        what = text_choice(change, list(_CHANGES))
        chosen = text_choice(role, list(ROLES))
        kept = _agency_list(agencies, codes)
        if (
            not may(admin, "accounts")
            or (username is not None and account is None)
            or (what is None)
        ):
            _refuse(sources, "user.change", username=username, change=change)
            return message(_UNOFFERED if may(admin, "accounts") else _REFUSED), no_update, ""
        if account is None:
            return message("Choose an account, then apply the change."), no_update, ""
        try:
            if what == "role":
                if chosen is None or kept is None:
                    raise UserError("Choose a role (and, for a data lead, its agencies).")
                users.set_role(account, chosen, kept, actor=admin.username)
            elif what == "password":
                if not isinstance(password, str):
                    raise UserError("Type the new password.")
                users.set_password(account, password, actor=admin.username)
            elif what == "disable":
                users.disable(account, actor=admin.username)
            else:
                users.enable(account, actor=admin.username)
        except UserError as problem:
            return message(str(problem)), no_update, ""
        return (
            html.P(f"{_CHANGES[what]}: done for {account}.", className="alert alert-success"),
            _next(changed),
            "",
        )


def _sent(
    username: object,
    name: object,
    role: object,
    agencies: object,
    password: object,
    codes: list[str],
) -> tuple[str, str, str, list[str], str] | None:
    """What the add form sent, if each part is of the kind the form offers."""
    chosen = text_choice(role, list(ROLES))
    kept = _agency_list(agencies, codes)
    texts = (username, name, password)
    if chosen is None or kept is None or not all(isinstance(t, str) and t for t in texts):
        return None
    return str(username), str(name), chosen, kept, str(password)


def _agency_list(agencies: object, codes: list[str]) -> list[str] | None:
    """The agencies chosen (none is an empty list), if each is one the list offers."""
    if agencies is None:
        return []
    if not isinstance(agencies, list) or not all(a in codes for a in agencies):
        return None
    return [str(a) for a in agencies]


def _next(changed: object) -> int:
    return (changed if isinstance(changed, int) else 0) + 1


def _refuse(sources: Sources, action: str, **sent: object) -> None:
    """Record a refused change: the types and lengths of what was sent, never the values."""
    note(
        sources.store.connection,
        current_user().username,
        action[:40],
        "refused",
        detail={"sent": shapes(**sent)},
    )
