"""The challenge log: every challenge raised to an agency about a flagged indicator, its answer
and the chair's decision; filterable, downloadable, and where the owning agency's data lead
answers and the chair closes or escalates.

Challenges are raised from the exception report (:mod:`digest.app.pages.exceptions`, with
:func:`raise_control` and :func:`register_raising` here). Every callback checks on the server
who is signed in and that what it was sent is something the page offered; a refusal is recorded
in the audit log with the types and lengths of what was sent, never the values.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any

from dash import MATCH, Dash, Input, Output, State, ctx, dcc, html, no_update

from digest.app.auth import current_user, may
from digest.app.components import (
    aria,
    choice,
    message,
    query,
    search,
    table,
    text_choice,
    updating,
)
from digest.app.pages.common import AreaPeriod, record_refusal, shapes
from digest.domain.periods import Period
from digest.store.audit import note
from digest.store.challenges import MAX_TEXT, ChallengeError, ChallengesStore
from digest.store.users import User
from digest.views.challenges import (
    ChallengeEntry,
    challenge_log,
    default_due,
    flag_to_challenge,
    long_date,
)
from digest.views.exceptions import Flagged
from digest.views.sources import Sources

PATH = "/challenges"
ALL = "all"
STATES = {
    "open": "Open",
    "answered": "Answered",
    "escalated": "Escalated",
    "closed": "Closed",
    "overdue": "Overdue (past due, not closed)",
}
_NOT_ANSWERABLE = (
    "Only the data lead of the owning agency answers a challenge, and only one that is open or "
    "escalated: choose one from the list."
)
_NOT_DECIDABLE = (
    "Only the chair closes or escalates a challenge: close an answered one, escalate an open or "
    "answered one, chosen from the list."
)
_NOT_RAISED = "Only the chair and members raise challenges, and only from a flag shown here."
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d %B %Y", "%d %b %Y")
_PRE_LINE = {"whiteSpace": "pre-line"}  # what people wrote keeps its line breaks, as text


def due_date(text: object) -> date | None:
    """A date as a person types it (``2 February 2026``, ``2 Feb 2026``, ``2/2/2026`` or
    ``2026-02-02``), or ``None``."""
    if not isinstance(text, str) or len(text) > 40:
        return None
    cleaned = re.sub(r"\s+", " ", text.strip())
    for form in _DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, form).date()
        except ValueError:
            continue
    return None


def dom_id(component_id: dict[str, str]) -> str:
    """The id a pattern-matching component has in the page, for a label's ``htmlFor``."""
    return json.dumps(component_id, sort_keys=True, separators=(",", ":"))


def refuse(
    sources: Sources,
    action: str,
    why: str,
    *,
    area: str | None = None,
    period: Period | None = None,
    agency: str | None = None,
    **sent: object,
) -> html.P:
    """Record a refused step of the challenge log (who, what, the reason in the page's words and
    the shapes of what was sent) and say why, plainly."""
    note(
        sources.store.connection,
        current_user().username,
        action,
        "refused",
        area=area,
        period=period,
        agency=agency,
        detail={"why": why, "sent": shapes(**sent)},
    )
    return message(why)


# --- The Challenges page ------------------------------------------------------------------


def layout(sources: Sources, search_text: str, user: User) -> html.Div:
    """The page for ``user``, its filters set from the query string (anything not offered is
    ignored); the answer form for a data lead, the decision form for the chair."""
    asked = query(search_text)
    where = AreaPeriod.from_query(sources, asked)
    agencies = [(ALL, "All agencies")] + [
        (a.code, f"{a.name} ({a.code})") for a in sources.dataset.agencies
    ]
    states = [(ALL, "Every state"), *STATES.items()]
    areas = sources.areas()
    entries = challenge_log(sources, where.area.ons_code)
    parts: list[Any] = [
        html.H2("Challenge log"),
        html.P(
            "The challenges the chair and members raised to an agency about a flagged "
            "indicator, the agency's answers and the chair's decisions. Challenges are raised "
            "from the exception report. Overdue means past the date the answer was due and not "
            "closed.",
            className="lead",
        ),
        html.Div(
            [
                choice(
                    "Area",
                    "challenges-area",
                    [(a.ons_code, a.name) for a in areas],
                    where.area.ons_code,
                    hidden=len(areas) == 1,
                ),
                choice(
                    "State",
                    "challenges-state",
                    states,
                    text_choice(asked.get("state"), [k for k, _ in states]) or ALL,
                ),
                choice(
                    "Agency",
                    "challenges-agency",
                    agencies,
                    text_choice(asked.get("agency"), [k for k, _ in agencies]) or ALL,
                ),
            ],
            className="digest-filters",
        ),
        html.P(
            html.A(
                "Download the challenge log (Excel)",
                id="challenges-download",
                href="#",
                className="btn btn-primary mt-3",
            )
        ),
        dcc.Store(id="challenges-changed", data=0),
        updating("challenges-content", "Challenges"),
    ]
    if user.role == "data_lead":
        parts.append(_answer_form(answerable(entries, user)))
    if may(user, "decide"):
        parts.append(_decide_form(decidable(entries)))
    return html.Div(parts)


def answerable(entries: list[ChallengeEntry], user: User) -> list[ChallengeEntry]:
    """The challenges ``user`` may answer: open or escalated, to one of its own agencies."""
    return [
        e for e in entries if e.status in ("open", "escalated") and may(user, "answer", e.agency)
    ]


def decidable(entries: list[ChallengeEntry]) -> list[ChallengeEntry]:
    """The challenges the chair may close (answered) or escalate (open or answered)."""
    return [e for e in entries if e.status in ("open", "answered")]


def _options(entries: list[ChallengeEntry]) -> list[dict[str, str]]:
    return [
        {
            "label": f"Challenge {e.id}: {e.indicator_title} ({e.agency}, {e.period}), "
            f"{e.state.lower()}",
            "value": str(e.id),
        }
        for e in entries
    ]


def _choice_of(entries: list[ChallengeEntry], control_id: str, label: str) -> html.Div:
    offered = [(o["value"], o["label"]) for o in _options(entries)]
    return choice(label, control_id, offered, None, placeholder="Choose a challenge")


def _answer_form(entries: list[ChallengeEntry]) -> html.Section:
    return html.Section(
        [
            html.H3("Answer a challenge", id="challenges-answer-heading", className="h4 mt-4"),
            html.P(
                "Answer for your own agency: what the figures show and what is being done. The "
                "chair then closes the challenge or escalates it."
            ),
            html.Div(
                _choice_of(entries, "challenges-answer-id", "Challenge to answer"),
                className="digest-filters",
            ),
            html.Div(
                [
                    html.Label(
                        "Your answer", htmlFor="challenges-answer-text", className="form-label"
                    ),
                    dcc.Textarea(
                        id="challenges-answer-text",
                        className="form-control",
                        maxLength=MAX_TEXT,
                        rows=5,
                    ),
                ],
                className="mt-3",
            ),
            html.Button(
                "Send the answer",
                id="challenges-answer-send",
                type="button",
                className="btn btn-primary mt-3",
            ),
            updating("challenges-answer-result", "Answer", announced=True),
        ],
        **aria(labelledby="challenges-answer-heading"),
        id="challenges-answer",
    )


def _decide_form(entries: list[ChallengeEntry]) -> html.Section:
    return html.Section(
        [
            html.H3(
                "Close or escalate a challenge", id="challenges-decide-heading", className="h4 mt-4"
            ),
            html.P(
                "Close a challenge whose answer you accept; escalate one that is not answered, "
                "or not answered well enough, saying why. An escalated challenge can be answered "
                "again."
            ),
            html.Div(
                _choice_of(entries, "challenges-decide-id", "Challenge to decide"),
                className="digest-filters",
            ),
            html.Div(
                [
                    html.Label(
                        "Your note (needed to escalate, optional to close)",
                        htmlFor="challenges-decide-note",
                        className="form-label",
                    ),
                    dcc.Textarea(
                        id="challenges-decide-note",
                        className="form-control",
                        maxLength=MAX_TEXT,
                        rows=3,
                    ),
                ],
                className="mt-3",
            ),
            html.Div(
                [
                    html.Button(
                        "Close the challenge",
                        id="challenges-close",
                        type="button",
                        className="btn btn-success",
                    ),
                    html.Button(
                        "Escalate the challenge",
                        id="challenges-escalate",
                        type="button",
                        className="btn btn-outline-danger",
                    ),
                ],
                className="d-flex gap-3 mt-3",
            ),
            updating("challenges-decide-result", "Decision", announced=True),
        ],
        id="challenges-decide",
        **aria(labelledby="challenges-decide-heading"),
    )


def filtered(
    entries: list[ChallengeEntry], state: str | None, agency: str | None
) -> list[ChallengeEntry]:
    """The challenges of one agency and in one state (``overdue``: past due, not closed); each
    ``None`` for any."""
    return [
        e
        for e in entries
        if (agency is None or e.agency == agency)
        and (state is None or (e.overdue if state == "overdue" else e.status == state))
    ]


def _table(entries: list[ChallengeEntry], area: str) -> html.Table:
    rows = [
        [
            str(e.id),
            dcc.Link(
                e.indicator_title,
                href=f"/indicator{search(indicator=e.indicator, area=area, period=str(e.period))}",
            ),
            e.agency_name,
            str(e.period),
            html.Div(e.asked, style=_PRE_LINE),
            f"{e.raised_by}, {long_date(e.raised_on)}",
            long_date(e.due),
            e.state,
            [
                html.Div(e.answer, style=_PRE_LINE),
                html.Div(f"{e.answered_by}, {long_date(e.answered_on)}", className="small"),
            ]
            if e.answer is not None and e.answered_on is not None
            else "None yet",
            _outcome(e),
        ]
        for e in entries
    ]
    overdue = sum(1 for e in entries if e.overdue)
    return table(
        f"{len(rows)} challenge{'s' * (len(rows) != 1)}, {overdue} overdue",
        [
            "No.",
            "Indicator",
            "Owning agency",
            "Quarter",
            "What is asked",
            "Raised by",
            "Answer due",
            "State",
            "Answer",
            "Chair's decision",
        ],
        rows,
        table_id="challenges-table",
    )


def _outcome(entry: ChallengeEntry) -> Any:
    if entry.outcome is None or entry.outcome_on is None:
        return "None yet"
    said = [html.Div(entry.outcome_note, style=_PRE_LINE)] if entry.outcome_note else []
    return [
        html.Div(entry.outcome, className="fw-bold"),
        *said,
        html.Div(f"{entry.outcome_by}, {long_date(entry.outcome_on)}", className="small"),
    ]


def _area(sources: Sources, area: object) -> str | None:
    return text_choice(area, [a.ons_code for a in sources.areas()])


def _chosen_id(value: object, offered: list[ChallengeEntry]) -> ChallengeEntry | None:
    """The challenge chosen, if it is one the list offered (the browser can send anything)."""
    return next((e for e in offered if isinstance(value, str) and value == str(e.id)), None)


def register(app: Dash, sources: Sources) -> None:
    """The page's callbacks; each checks who is signed in and what the browser sent."""
    log = ChallengesStore(sources.store.connection)

    @app.callback(
        Output("challenges-content", "children"),
        Output("challenges-download", "href"),
        Output("url", "search", allow_duplicate=True),
        Input("challenges-area", "value"),
        Input("challenges-state", "value"),
        Input("challenges-agency", "value"),
        Input("challenges-changed", "data"),
        prevent_initial_call="initial_duplicate",
    )
    def show(area: object, state: object, agency: object, _changed: object) -> Any:
        code = _area(sources, area)
        if code is None:
            record_refusal(sources, "challenges", area=area)
            return message("Choose an area from the list."), "#", no_update
        chosen_state = text_choice(state, list(STATES))
        chosen_agency = text_choice(agency, [a.code for a in sources.dataset.agencies])
        found = filtered(challenge_log(sources, code), chosen_state, chosen_agency)
        link = search(area=code, state=chosen_state, agency=chosen_agency)
        download = f"/download/challenges.xlsx{link}"
        if not found:
            return message("No challenge has been raised for the choices made."), download, link
        return _table(found, code), download, link

    @app.callback(
        Output("challenges-answer-id", "options"),
        Output("challenges-answer-id", "value"),
        Input("challenges-area", "value"),
        Input("challenges-changed", "data"),
    )
    def offer_answers(area: object, _changed: object) -> Any:
        code = _area(sources, area)
        if code is None:
            return [], None
        return _options(answerable(challenge_log(sources, code), current_user())), None

    @app.callback(
        Output("challenges-decide-id", "options"),
        Output("challenges-decide-id", "value"),
        Input("challenges-area", "value"),
        Input("challenges-changed", "data"),
    )
    def offer_decisions(area: object, _changed: object) -> Any:
        code = _area(sources, area)
        if code is None or not may(current_user(), "decide"):
            return [], None
        return _options(decidable(challenge_log(sources, code))), None

    @app.callback(
        Output("challenges-answer-result", "children"),
        Output("challenges-changed", "data", allow_duplicate=True),
        Output("challenges-answer-text", "value"),
        Input("challenges-answer-send", "n_clicks"),
        State("challenges-answer-id", "value"),
        State("challenges-answer-text", "value"),
        State("challenges-area", "value"),
        State("challenges-changed", "data"),
        prevent_initial_call=True,
    )
    def answer(clicks: object, chosen: object, text: object, area: object, changed: object) -> Any:
        if not clicks:
            return no_update, no_update, no_update
        user = current_user()
        code = _area(sources, area)
        offered = answerable(challenge_log(sources, code), user) if code else []
        entry = _chosen_id(chosen, offered)
        if entry is None:
            refused = refuse(
                sources, "challenge.answer", _NOT_ANSWERABLE, area=code, challenge=chosen
            )
            return refused, no_update, no_update
        try:
            log.answer(entry.id, text, user.username)
        except ChallengeError as error:
            refused = refuse(
                sources,
                "challenge.answer",
                str(error),
                area=code,
                period=entry.period,
                agency=entry.agency,
                answer=text,
            )
            return refused, no_update, no_update
        done = html.P(
            f"Your answer to challenge {entry.id} ({entry.indicator_title}) is recorded: the "
            "chair will close the challenge or escalate it.",
            className="alert alert-success",
        )
        return done, _next(changed), ""

    @app.callback(
        Output("challenges-decide-result", "children"),
        Output("challenges-changed", "data", allow_duplicate=True),
        Output("challenges-decide-note", "value"),
        Input("challenges-close", "n_clicks"),
        Input("challenges-escalate", "n_clicks"),
        State("challenges-decide-id", "value"),
        State("challenges-decide-note", "value"),
        State("challenges-area", "value"),
        State("challenges-changed", "data"),
        prevent_initial_call=True,
    )
    def decide(
        closing: object,
        escalating: object,
        chosen: object,
        text: object,
        area: object,
        changed: object,
    ) -> Any:
        pressed = ctx.triggered_id
        if pressed not in ("challenges-close", "challenges-escalate"):
            return no_update, no_update, no_update
        close = pressed == "challenges-close"
        action = "challenge.close" if close else "challenge.escalate"
        user = current_user()
        code = _area(sources, area)
        offered = (
            [
                e
                for e in decidable(challenge_log(sources, code))
                if not close or e.status == "answered"
            ]
            if code and may(user, "decide")
            else []
        )
        entry = _chosen_id(chosen, offered)
        if entry is None:
            return (
                refuse(sources, action, _NOT_DECIDABLE, area=code, challenge=chosen),
                no_update,
                no_update,
            )
        try:
            if close:
                log.close(entry.id, text if text is not None else "", user.username)
            else:
                log.escalate(entry.id, text, user.username)
        except ChallengeError as error:
            refused = refuse(
                sources,
                action,
                str(error),
                area=code,
                period=entry.period,
                agency=entry.agency,
                note=text,
            )
            return refused, no_update, no_update
        said = (
            f"Challenge {entry.id} ({entry.indicator_title}) is closed."
            if close
            else f"Challenge {entry.id} ({entry.indicator_title}) is escalated: the "
            f"{entry.agency_name} data lead can answer it again."
        )
        return html.P(said, className="alert alert-success"), _next(changed), ""


def _next(changed: object) -> int:
    return (changed if type(changed) is int else 0) + 1


# --- Raising a challenge from the exception report ----------------------------------------


def _raise_key(flagged: Flagged) -> dict[str, str]:
    return {
        "indicator": flagged.indicator.id,
        "flag": flagged.flag.kind,
        "agency": flagged.indicator.agency,
    }


def raise_control(flagged: Flagged, today: date) -> html.Details:
    """The "Raise a challenge" control of one flag on the exception report: what is asked, and
    by when the owning agency should answer (four weeks on unless changed)."""
    key = _raise_key(flagged)
    asked_id = {"type": "challenge-asked", **key}
    due_id = {"type": "challenge-due", **key}
    return html.Details(
        [
            html.Summary(
                [
                    "Raise a challenge",
                    html.Span(
                        f" on {flagged.indicator.title} ({flagged.kind.lower()})",
                        className="visually-hidden",
                    ),
                ],
                className="digest-raise",
            ),
            html.Div(
                [
                    html.Label(
                        f"What is asked of {flagged.agency}",
                        htmlFor=dom_id(asked_id),
                        className="form-label mt-2",
                    ),
                    dcc.Textarea(id=asked_id, className="form-control", maxLength=MAX_TEXT, rows=4),
                    html.Label(
                        [
                            "Answer due by ",
                            html.Span(
                                "(for example, 2 February 2026 or 2/2/2026)", className="small"
                            ),
                        ],
                        htmlFor=dom_id(due_id),
                        className="form-label mt-2",
                    ),
                    dcc.Input(
                        id=due_id,
                        type="text",
                        value=long_date(default_due(today)),
                        className="form-control",
                    ),
                    html.Button(
                        "Raise the challenge",
                        id={"type": "challenge-raise", **key},
                        type="button",
                        className="btn btn-primary btn-sm mt-2",
                    ),
                    html.Div(id={"type": "challenge-raised", **key}, role="status"),
                ]
            ),
        ]
    )


def register_raising(app: Dash, sources: Sources) -> None:
    """The exception report's callback that raises a challenge from one of its flags: only the
    chair or a member, only for a flag the report shows for the area and quarter chosen."""
    log = ChallengesStore(sources.store.connection)
    pattern = {"indicator": MATCH, "flag": MATCH, "agency": MATCH}

    @app.callback(
        Output({"type": "challenge-raised", **pattern}, "children"),
        Output({"type": "challenge-asked", **pattern}, "value"),
        Input({"type": "challenge-raise", **pattern}, "n_clicks"),
        State({"type": "challenge-asked", **pattern}, "value"),
        State({"type": "challenge-due", **pattern}, "value"),
        State("exceptions-area", "value"),
        State("exceptions-period", "value"),
        prevent_initial_call=True,
    )
    def raise_challenge(
        clicks: object, asked: object, due: object, area: object, period: object
    ) -> Any:
        if not clicks:
            return no_update, no_update
        user = current_user()
        sent = ctx.inputs_list[0].get("id") if ctx.inputs_list else None
        key = sent if isinstance(sent, dict) else {}
        where = AreaPeriod.chosen(sources, area, period)
        flagged = (
            flag_to_challenge(
                sources,
                where.area.ons_code,
                where.period,
                key.get("indicator"),
                key.get("flag"),
                key.get("agency"),
            )
            if where is not None and where.period is not None
            else None
        )
        if not may(user, "challenge") or where is None or where.period is None or flagged is None:
            refused = refuse(
                sources,
                "challenge.raise",
                _NOT_RAISED,
                area=where.area.ons_code if where else None,
                period=where.period if where else None,
                indicator=key.get("indicator"),
                agency_sent=key.get("agency"),
                period_sent=period,
            )
            return refused, no_update
        day = due_date(due)
        try:
            if day is None:
                raise ChallengeError(
                    "Give the date the answer is due, such as 2 February 2026 or 2/2/2026."
                )
            made = log.add(
                area=where.area.ons_code,
                period=where.period,
                indicator=flagged.indicator.id,
                agency=flagged.indicator.agency,
                asked=asked,
                due=day,
                raised_by=user.username,
                today=sources.today(),
            )
        except ChallengeError as error:
            refused = refuse(
                sources,
                "challenge.raise",
                str(error),
                area=where.area.ons_code,
                period=where.period,
                agency=flagged.indicator.agency,
                asked=asked,
                due=due,
            )
            return refused, no_update
        return (
            html.P(
                [
                    f"Challenge {made.id} raised: the {flagged.agency} data lead is asked to "
                    f"answer by {long_date(made.due)}. ",
                    dcc.Link("See it in the challenge log", href=f"{PATH}{search(area=made.area)}"),
                ],
                className="alert alert-success",
            ),
            "",
        )
