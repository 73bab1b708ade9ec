"""The audit log, for the chair and administrators: who did what, when, newest first."""

from __future__ import annotations

import json
from typing import Any

from dash import Dash, Input, Output, html

from digest.app.auth import current_user, may
from digest.app.components import choice, message, table, text_choice, updating
from digest.domain.timestamps import uk_time
from digest.store.audit import events, note
from digest.views.sources import Sources

PATH = "/audit"
ALL = "all"
SHOWN = 500
ACTIONS = {
    "submission": "Returns accepted",
    "upload": "Uploads refused or repeated",
    "dry_run": "Checks (dry runs)",
    "login": "Sign-ins",
    "logout": "Sign-outs",
    "template": "Template downloads",
    "export": "Exports",
    "user.add": "Accounts added",
    "user.set_role": "Roles changed",
    "user.disable": "Accounts disabled",
}
_REFUSED = "Only the chair and administrators can see the audit log."


def layout(sources: Sources) -> html.Div:
    """The page, or a refusal for anyone but the chair and administrators (audited)."""
    user = current_user()
    if not may(user, "audit"):
        note(sources.store.connection, user.username, "audit_view", "refused")
        return html.Div([html.H2("Audit log"), message(_REFUSED)])
    return html.Div(
        [
            html.H2("Audit log"),
            html.P(
                f"The latest {SHOWN} events, newest first. Nothing here can be changed or removed.",
                className="lead",
            ),
            html.Div(
                choice("Events", "audit-action", [(ALL, "Every event"), *ACTIONS.items()], ALL),
                className="digest-filters",
            ),
            updating("audit-content", "Audit events"),
        ]
    )


def register(app: Dash, sources: Sources) -> None:
    """The page's callback: checks the user's role and the filter on the server."""

    @app.callback(Output("audit-content", "children"), Input("audit-action", "value"))
    def show(action: object) -> Any:
        user = current_user()
        if not may(user, "audit"):
            note(sources.store.connection, user.username, "audit_view", "refused")
            return message(_REFUSED)
        chosen = text_choice(action, list(ACTIONS))
        found = [
            e
            for e in events(sources.store.connection, SHOWN)
            if chosen is None or e["action"] == chosen
        ]
        if not found:
            return message("No event of that kind yet.")
        rows = [
            [
                uk_time(e["happened_at"]),
                e["actor"],
                e["action"],
                e["outcome"],
                " ".join(str(e[k]) for k in ("agency", "area", "period") if e[k]) or "–",
                _detail(e["detail"]),
            ]
            for e in found
        ]
        return table(
            f"{len(rows)} event{'s' * (len(rows) != 1)}",
            ["When (UK time)", "Who", "What", "Outcome", "Return", "Detail"],
            rows,
            table_id="audit-table",
        )


def _detail(text: object) -> str:
    """The event's detail as words (it is JSON as stored), shown as plain text."""
    try:
        found = json.loads(str(text or "{}"))
    except ValueError:
        return str(text)
    if not isinstance(found, dict) or not found:
        return "–"
    return "; ".join(f"{key.replace('_', ' ')}: {value}" for key, value in sorted(found.items()))
