"""The scorecard (home page): every indicator for a quarter, grouped by theme."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from dash import Dash, Input, Output, dcc, html, no_update

from digest.app.components import (
    choice,
    message,
    query,
    rating_badge,
    search,
    table,
    text_choice,
    updating,
)
from digest.app.pages.common import (
    AreaPeriod,
    area_period_controls,
    area_period_options,
    record_refusal,
)
from digest.views import format
from digest.views.charts import sparkline
from digest.views.scorecard import COMPARATORS, ScorecardRow, scorecard, themes
from digest.views.sources import Sources

ALL = "all"
PATH = "/"


def layout(sources: Sources, search_text: str) -> html.Div:
    """The page, its filters set from the query string (anything not allowed is ignored)."""
    asked = query(search_text)
    where = AreaPeriod.from_query(sources, asked)
    indicators = list(sources.indicators.values())
    theme_options = [(ALL, "All themes"), *((t, t) for t in themes(indicators))]
    agency_options = [(ALL, "All agencies")] + [
        (a.code, f"{a.name} ({a.code})")
        for a in sources.dataset.agencies
        if any(i.agency == a.code for i in indicators)
    ]
    return html.Div(
        [
            html.H2("Scorecard"),
            html.P(
                "Every indicator for the quarter, with London, England and statistical "
                "neighbours. Choose an indicator to see its trend and where its figures came "
                "from.",
                className="lead",
            ),
            html.Div(
                [
                    *area_period_controls("scorecard", sources, where),
                    choice(
                        "Theme",
                        "scorecard-theme",
                        theme_options,
                        text_choice(asked.get("theme"), [k for k, _ in theme_options]) or ALL,
                    ),
                    choice(
                        "Agency",
                        "scorecard-agency",
                        agency_options,
                        text_choice(asked.get("agency"), [k for k, _ in agency_options]) or ALL,
                    ),
                ],
                className="digest-filters",
            ),
            updating("scorecard-content", "Indicators"),
        ]
    )


def register(app: Dash, sources: Sources) -> None:
    """The page's callbacks; each checks what the browser sent against what may be chosen."""
    area_period_options(app, "scorecard", sources)

    @app.callback(
        Output("scorecard-content", "children"),
        Output("url", "search", allow_duplicate=True),
        Input("scorecard-area", "value"),
        Input("scorecard-period", "value"),
        Input("scorecard-theme", "value"),
        Input("scorecard-agency", "value"),
        prevent_initial_call="initial_duplicate",
    )
    def show(area: object, period_text: object, theme: object, agency: object) -> Any:
        where = AreaPeriod.chosen(sources, area, period_text)
        indicators = list(sources.indicators.values())
        chosen_theme = text_choice(theme, themes(indicators))
        chosen_agency = text_choice(agency, [a.code for a in sources.dataset.agencies])
        if where is None or where.period is None:
            record_refusal(sources, "scorecard", area=area, period=period_text)
            return message("Choose an area and a quarter that have returns."), no_update
        rows = scorecard(
            sources, where.area.ons_code, where.period, theme=chosen_theme, agency=chosen_agency
        )
        link = search(
            area=where.area.ons_code,
            period=str(where.period),
            theme=chosen_theme,
            agency=chosen_agency,
        )
        if not rows:
            return message("No indicator matches the theme and agency chosen."), link
        return _content(sources, rows, where.area.ons_code, str(where.period)), link


def _content(sources: Sources, rows: list[ScorecardRow], area: str, period: str) -> list[Any]:
    sections: list[Any] = []
    for theme, grouped in groupby(rows, key=lambda r: r.indicator.theme):
        members = list(grouped)
        sections.append(html.H3(theme, className="h4 mt-4"))
        sections.append(
            table(
                f"{len(members)} indicator{'s' * (len(members) != 1)}, {period}",
                [
                    "Indicator",
                    "Value",
                    "Since last quarter",
                    "London",
                    "England",
                    "Statistical neighbours",
                    "Rating",
                    "Last 8 quarters",
                    "Flags",
                ],
                [_row(r, area, period) for r in members],
                numeric=(1, 3, 4, 5),
                class_name="digest-scorecard",
            )
        )
    return sections


def _row(row: ScorecardRow, area: str, period: str) -> list[Any]:
    indicator, line = row.indicator, row.line
    result = line.computation.result
    value = (
        [
            html.Span(format.figure(indicator, result.value), className="digest-value"),
            html.Br(),
            html.Small(format.span(indicator, line.computation.period, line.computation.window)),
        ]
        if result.value is not None
        else [html.Span("Not available"), html.Br(), html.Small(result.reason or "")]
    )
    trend_words = ", ".join(
        f"{p}: {format.figure(indicator, v)}" for p, v in row.trend if v is not None
    )
    return [
        dcc.Link(
            indicator.title,
            href=f"/indicator{search(indicator=indicator.id, area=area, period=period)}",
        ),
        value,
        f"{row.direction.arrow} {row.direction.words}" if row.direction else "–",
        *(format.comparator(indicator, row.benchmark(name)) for name in COMPARATORS),
        [
            rating_badge(row.rating),
            html.Br(),
            html.Small(row.rating.reason),
        ],
        html.Img(
            src=sparkline([v for _, v in row.trend]),
            alt=f"Trend: {trend_words}" if trend_words else "No figures in the last 8 quarters",
            width=120,
            height=32,
        ),
        html.Ul([html.Li(f.message) for f in row.flags], className="digest-flags")
        if row.flags
        else "None",
    ]
