"""Returns: for a quarter, which agencies have submitted (version, when, by whom, queries) and
which are missing or overdue; and the figures of one return with where each came from."""

from __future__ import annotations

from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update

from digest.app.auth import current_user, may
from digest.app.components import (
    choice,
    message,
    period_choice,
    query,
    search,
    table,
    text_choice,
    updating,
)
from digest.app.pages.common import record_refusal
from digest.domain.periods import Period
from digest.store.audit import note
from digest.store.database import StoreError
from digest.views.returns import ReturnStatus, latest_figures, return_statuses
from digest.views.sources import Sources

PATH = "/returns"
STATUS_WORDS = {"c": "c (suppressed)", "x": "x (not available)", "z": "z (not applicable)"}


def quarters_to_show(sources: Sources, area: str) -> list[Period]:
    """The quarters with returns, and the last quarter that has ended even if none came in."""
    ended = Period.containing(sources.today()).previous()
    return sorted({*sources.periods(area), ended}, reverse=True)


def layout(sources: Sources, search_text: str) -> html.Div:
    """The page, its choices set from the query string (anything not allowed is ignored)."""
    asked = query(search_text)
    areas = sources.areas()
    area = next((a for a in areas if a.ons_code == asked.get("area")), sources.home)
    periods = quarters_to_show(sources, area.ons_code)
    period = period_choice(asked.get("period"), periods) or periods[0]
    area_control = choice(
        "Area",
        "returns-area",
        [(a.ons_code, a.name) for a in areas],
        area.ons_code,
        hidden=len(areas) == 1,
    )
    return html.Div(
        [
            html.H2("Returns"),
            html.Div(
                [
                    area_control,
                    choice(
                        "Quarter",
                        "returns-period",
                        [(str(p), f"{p} ({p.months})") for p in periods],
                        str(period),
                    ),
                ],
                className="digest-filters",
            ),
            updating("returns-table", "Returns received"),
            dcc.Store(id="returns-signed"),
            updating("returns-sign-off-result", "Sign-off", announced=True),
            html.H3("Figures of one return", className="h4 mt-4"),
            html.Div(
                choice(
                    "Agency",
                    "returns-agency",
                    [(a.code, f"{a.name} ({a.code})") for a in sources.dataset.agencies],
                    sources.dataset.agencies[0].code,
                ),
                className="digest-filters",
            ),
            updating("returns-figures", "Figures of the return"),
        ]
    )


def register(app: Dash, sources: Sources) -> None:
    """The page's callbacks; each checks what the browser sent against what may be chosen."""

    @app.callback(
        Output("returns-period", "options"),
        Output("returns-period", "value"),
        Input("returns-area", "value"),
        State("returns-period", "value"),
        prevent_initial_call=True,
    )
    def offer(area: object, period: object) -> Any:
        code = text_choice(area, [a.ons_code for a in sources.areas()])
        if code is None:
            return no_update, no_update
        periods = quarters_to_show(sources, code)
        kept = period_choice(period, periods) or periods[0]
        return [{"label": f"{p} ({p.months})", "value": str(p)} for p in periods], str(kept)

    @app.callback(
        Output("returns-table", "children"),
        Output("url", "search", allow_duplicate=True),
        Input("returns-area", "value"),
        Input("returns-period", "value"),
        Input("returns-signed", "data"),
        prevent_initial_call="initial_duplicate",
    )
    def show_returns(area: object, period_text: object, _signed: object) -> Any:
        code = text_choice(area, [a.ons_code for a in sources.areas()])
        period = period_choice(period_text, quarters_to_show(sources, code)) if code else None
        if code is None or period is None:
            record_refusal(sources, "returns", area=area, period=period_text)
            return message("Choose an area and a quarter from the lists."), no_update
        statuses = return_statuses(sources.store, sources.dataset, code, period, sources.today())
        chair = may(current_user(), "sign_off")
        rows = [
            [
                f"{s.agency_name} ({s.agency})",
                s.state,
                f"version {s.version}" if s.version else "–",
                s.submitted or "–",
                s.submitted_by or "–",
                s.explanations,
                *([_sign_off_button(s)] if chair else []),
            ]
            for s in statuses
        ]
        missing = sum(1 for s in statuses if s.version is None)
        caption = (
            f"Returns for {period} ({period.months}): {len(statuses) - missing} of "
            f"{len(statuses)} received"
        )
        return (
            table(
                caption,
                ["Agency", "State", "Current version", "Submitted (UK time)", "By", "Queries"]
                + (["Sign-off"] if chair else []),
                rows,
                table_id="returns-status",
            ),
            search(area=code, period=str(period)),
        )

    @app.callback(
        Output("returns-sign-off-result", "children"),
        Output("returns-signed", "data"),
        Input({"type": "sign-off", "submission": ALL}, "n_clicks"),
        State("returns-area", "value"),
        State("returns-period", "value"),
        prevent_initial_call=True,
    )
    def sign_off(clicks: object, area: object, period_text: object) -> Any:
        chosen = ctx.triggered_id
        if not isinstance(clicks, list) or not any(clicks) or not isinstance(chosen, dict):
            return no_update, no_update
        user = current_user()
        version = chosen.get("submission")
        code = text_choice(area, [a.ons_code for a in sources.areas()])
        period = period_choice(period_text, quarters_to_show(sources, code)) if code else None
        awaiting = (
            {
                s.awaiting: s
                for s in return_statuses(
                    sources.store, sources.dataset, code, period, sources.today()
                )
                if s.awaiting is not None
            }
            if code and period
            else {}
        )
        known = type(version) is int and version in awaiting  # a bool is an int to Python
        if not may(user, "sign_off") or not known or not isinstance(version, int):
            note(
                sources.store.connection,
                user.username,
                "sign_off",
                "refused",
                area=code,
                period=period,
                detail={"version id": str(version)[:40]},
            )
            return message("Only the chair signs returns off, and only a version awaiting it."), 0
        try:
            signed = sources.store.sign_off(version, user.username)
        except StoreError as refused:
            note(
                sources.store.connection,
                user.username,
                "sign_off",
                "refused",
                area=code,
                period=period,
                detail={"why": str(refused)},
            )
            return message(str(refused)), 0
        return (
            html.P(
                f"Version {signed.version} of the {signed.agency} return for {signed.period} is "
                "signed off: it is now the live version.",
                className="alert alert-success",
            ),
            version,
        )

    @app.callback(
        Output("returns-figures", "children"),
        Input("returns-area", "value"),
        Input("returns-period", "value"),
        Input("returns-agency", "value"),
    )
    def show_figures(area: object, period_text: object, agency: object) -> Any:
        code = text_choice(area, [a.ons_code for a in sources.areas()])
        period = period_choice(period_text, quarters_to_show(sources, code)) if code else None
        agency_code = text_choice(agency, [a.code for a in sources.dataset.agencies])
        if code is None or period is None or agency_code is None:
            record_refusal(sources, "figures", area=area, period=period_text, agency=agency)
            return message("Choose a quarter and an agency from the lists.")
        latest, figures = latest_figures(sources.store, agency_code, code, period)
        if latest is None or not figures:
            return message(f"No {agency_code} return has been accepted for {period}.")
        measures = sources.dataset.measures
        rows = [
            [
                v.code,
                measures[v.code].description,
                f"{v.value:,.0f}" if v.value is not None else STATUS_WORDS[v.status],
                f"version {v.version}, sheet '{v.sheet}' cell {v.cell}",
            ]
            for v in figures
        ]
        which = (
            "the live figures"
            if latest.status == "current"
            else f"version {latest.version}, awaiting sign-off (not yet live)"
        )
        return table(
            f"{agency_code} return for {period}, {which}, sent by {latest.submitted_by}: "
            "each figure and where it came from",
            ["Code", "Measure", "Value", "Source"],
            rows,
            numeric=(2,),
        )


def _sign_off_button(status: ReturnStatus) -> Any:
    """The chair's button to sign off the version awaiting it, or what there is instead."""
    if status.awaiting is None:
        return "signed off" if status.signed_off else "–"
    shown = status.awaiting_version or status.version
    return html.Button(
        f"Sign off version {shown}",
        id={"type": "sign-off", "submission": status.awaiting},
        className="btn btn-success btn-sm",
        type="button",
    )
