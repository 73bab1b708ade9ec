"""The exception report: the flagged indicators for a quarter, why and since when, the owning
agency and what it said; sortable, filterable and downloadable as a spreadsheet. The chair and
members raise a challenge from a flag here, and overdue challenges are listed."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, dcc, html, no_update

from digest.app.auth import current_user, may
from digest.app.components import choice, message, query, search, table, text_choice, updating
from digest.app.pages.challenges import raise_control, register_raising
from digest.app.pages.common import (
    AreaPeriod,
    area_period_controls,
    area_period_options,
    record_refusal,
)
from digest.views.challenges import ChallengeEntry, challenge_log, long_date, overdue_challenges
from digest.views.exceptions import FLAG_WORDS, Flagged, exceptions
from digest.views.sources import Sources

PATH = "/exceptions"
ALL = "all"
SORTS = {
    "theme": "Theme",
    "since": "Longest-standing first",
    "agency": "Owning agency",
    "flag": "Kind of flag",
}


def _sorted(found: list[Flagged], order: str) -> list[Flagged]:
    keys = {
        "theme": lambda f: (f.indicator.theme, f.indicator.title),
        "since": lambda f: (f.since, f.indicator.title),
        "agency": lambda f: (f.agency, f.indicator.title),
        "flag": lambda f: (f.kind, f.indicator.title),
    }
    return sorted(found, key=keys[order])


def layout(sources: Sources, search_text: str) -> html.Div:
    """The page, its choices set from the query string (anything not allowed is ignored)."""
    asked = query(search_text)
    where = AreaPeriod.from_query(sources, asked)
    agencies = [(ALL, "All agencies")] + [
        (a.code, f"{a.name} ({a.code})") for a in sources.dataset.agencies
    ]
    kinds = [(ALL, "All flags"), *FLAG_WORDS.items()]
    return html.Div(
        [
            html.H2("Exception report"),
            html.P(
                "The indicators flagged this quarter: worse than London, outside the local "
                "target, worse three quarters running, incomplete, or with a return not received.",
                className="lead",
            ),
            html.Div(
                [
                    *area_period_controls("exceptions", sources, where),
                    choice(
                        "Agency",
                        "exceptions-agency",
                        agencies,
                        text_choice(asked.get("agency"), [k for k, _ in agencies]) or ALL,
                    ),
                    choice(
                        "Flag",
                        "exceptions-flag",
                        kinds,
                        text_choice(asked.get("flag"), [k for k, _ in kinds]) or ALL,
                    ),
                    choice(
                        "Sort by",
                        "exceptions-sort",
                        list(SORTS.items()),
                        text_choice(asked.get("sort"), list(SORTS)) or "theme",
                    ),
                ],
                className="digest-filters",
            ),
            html.P(
                html.A(
                    "Download the exception report (Excel)",
                    id="exceptions-download",
                    href="#",
                    className="btn btn-primary mt-3",
                )
            ),
            updating("exceptions-content", "Flagged indicators"),
            html.H3("Overdue challenges", className="h4 mt-4"),
            updating("exceptions-overdue", "Overdue challenges"),
        ]
    )


def register(app: Dash, sources: Sources) -> None:
    """The page's callbacks; each checks what the browser sent against what may be chosen."""
    area_period_options(app, "exceptions", sources)
    register_raising(app, sources)

    @app.callback(
        Output("exceptions-content", "children"),
        Output("exceptions-download", "href"),
        Output("url", "search", allow_duplicate=True),
        Input("exceptions-area", "value"),
        Input("exceptions-period", "value"),
        Input("exceptions-agency", "value"),
        Input("exceptions-flag", "value"),
        Input("exceptions-sort", "value"),
        prevent_initial_call="initial_duplicate",
    )
    def show(area: object, period: object, agency: object, flag: object, order: object) -> Any:
        where = AreaPeriod.chosen(sources, area, period)
        if where is None or where.period is None:
            record_refusal(sources, "exceptions", area=area, period=period)
            return message("Choose an area and a quarter that have returns."), "#", no_update
        agency_code = text_choice(agency, [a.code for a in sources.dataset.agencies])
        kind = text_choice(flag, list(FLAG_WORDS))
        sort = text_choice(order, list(SORTS)) or "theme"
        found = [
            f
            for f in exceptions(sources, where.area.ons_code, where.period)
            if (agency_code is None or f.indicator.agency == agency_code)
            and (kind is None or f.flag.kind == kind)
        ]
        place = {"area": where.area.ons_code, "period": str(where.period)}
        link = search(**place, agency=agency_code, flag=kind, sort=sort)
        download = f"/download/exceptions.xlsx{search(**place, agency=agency_code, flag=kind)}"
        if not found:
            return message("No indicator is flagged for the choices made."), download, link
        raised = challenge_log(sources, where.area.ons_code, period=where.period)
        return _table(sources, _sorted(found, sort), place, raised), download, link

    @app.callback(
        Output("exceptions-overdue", "children"),
        Input("exceptions-area", "value"),
        Input("exceptions-period", "value"),
    )
    def overdue(area: object, period: object) -> Any:
        where = AreaPeriod.chosen(sources, area, period)
        if where is None:
            return message("Choose an area and a quarter that have returns.")
        late = overdue_challenges(sources, where.area.ons_code)
        if not late:
            return message("No challenge is overdue.")
        rows = [
            [
                f"{e.indicator_title} ({e.period})",
                e.agency_name,
                f"Answer was due {long_date(e.due)}; {e.state.lower()}",
                html.Div(e.asked, style={"whiteSpace": "pre-line"}),
                f"{e.raised_by}, {long_date(e.raised_on)}",
                dcc.Link(
                    f"Challenge {e.id}", href=f"/challenges{search(area=where.area.ons_code)}"
                ),
            ]
            for e in late
        ]
        return table(
            f"{len(rows)} overdue challenge{'s' * (len(rows) != 1)}, of any quarter",
            [
                "Indicator (quarter)",
                "Owning agency",
                "State",
                "What is asked",
                "Raised by",
                "In the log",
            ],
            rows,
            table_id="exceptions-overdue-table",
        )


def _challenges(flagged: Flagged, raised: list[ChallengeEntry]) -> list[Any]:
    """The challenges raised on this flag's indicator this quarter, in words."""
    found = [
        html.Div(f"Challenge {e.id}: {e.state.lower()}, answer due {long_date(e.due)}")
        for e in raised
        if e.indicator == flagged.indicator.id
    ]
    return found or [html.Div("None raised")]


def _table(
    sources: Sources, found: list[Flagged], place: dict[str, str], raised: list[ChallengeEntry]
) -> Any:
    challenging = may(current_user(), "challenge")
    today = sources.today()
    rows = [
        [
            dcc.Link(
                f.indicator.title, href=f"/indicator{search(indicator=f.indicator.id, **place)}"
            ),
            f.agency,
            f.kind,
            f.flag.message,
            f.standing,
            f.value,
            f.london,
            f.explanation or "None given",
            [*_challenges(f, raised), *([raise_control(f, today)] if challenging else [])],
        ]
        for f in found
    ]
    return table(
        f"{len(rows)} flag{'s' * (len(rows) != 1)}",
        [
            "Indicator",
            "Owning agency",
            "Flag",
            "Why",
            "Since",
            "Value",
            "London",
            "Explanation",
            "Challenges",
        ],
        rows,
        numeric=(5, 6),
        table_id="exceptions-table",
    )
