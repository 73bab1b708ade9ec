"""The exception report: the flagged indicators for a quarter, why and since when, the owning
agency and what it said; sortable, filterable and downloadable as a spreadsheet."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, dcc, html, no_update

from digest.app.components import choice, message, query, search, table, text_choice, updating
from digest.app.pages.common import (
    AreaPeriod,
    area_period_controls,
    area_period_options,
    record_refusal,
)
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
        ]
    )


def register(app: Dash, sources: Sources) -> None:
    """The page's callbacks; each checks what the browser sent against what may be chosen."""
    area_period_options(app, "exceptions", sources)

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
        return _table(_sorted(found, sort), place), download, link


def _table(found: list[Flagged], place: dict[str, str]) -> Any:
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
        ]
        for f in found
    ]
    return table(
        f"{len(rows)} flag{'s' * (len(rows) != 1)}",
        ["Indicator", "Owning agency", "Flag", "Why", "Since", "Value", "London", "Explanation"],
        rows,
        numeric=(5, 6),
        table_id="exceptions-table",
    )
