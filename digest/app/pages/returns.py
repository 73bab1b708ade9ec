"""Returns: for a quarter, which agencies have submitted (version, when, by whom, queries) and
which are missing or overdue; and the figures of one return with where each came from."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State, html, no_update

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
from digest.domain.periods import Period
from digest.views.returns import current_figures, return_statuses
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
        prevent_initial_call="initial_duplicate",
    )
    def show_returns(area: object, period_text: object) -> Any:
        code = text_choice(area, [a.ons_code for a in sources.areas()])
        period = period_choice(period_text, quarters_to_show(sources, code)) if code else None
        if code is None or period is None:
            return message("Choose an area and a quarter from the lists."), no_update
        statuses = return_statuses(sources.store, sources.dataset, code, period, sources.today())
        rows = [
            [
                f"{s.agency_name} ({s.agency})",
                s.state,
                f"version {s.version}" if s.version else "–",
                s.submitted or "–",
                s.submitted_by or "–",
                f"{s.explained} of {s.queries} explained" if s.queries else "none",
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
                ["Agency", "State", "Current version", "Submitted (UK time)", "By", "Queries"],
                rows,
                table_id="returns-status",
            ),
            search(area=code, period=str(period)),
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
            return message("Choose a quarter and an agency from the lists.")
        figures = current_figures(sources.store, agency_code, code, period)
        if not figures:
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
        return table(
            f"{agency_code} return for {period}: current figures and where each came from",
            ["Code", "Measure", "Value", "Source"],
            rows,
            numeric=(2,),
        )
