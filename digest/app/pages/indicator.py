"""One indicator: its trend against London and England, where the area stands among London
boroughs, its definition, and every figure it was computed from. The URL names the view, so it
can be shared: ``/indicator?indicator=cpp_repeat&area=E09000022&period=2025-26+Q2``."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
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
from digest.views.charts import funnel_chart, trend_chart, window_name
from digest.views.indicator import IndicatorDetail, detail
from digest.views.sources import Sources

PATH = "/indicator"
_POLARITY = {
    "high": "higher is better",
    "low": "lower is better",
    "neutral": "neither higher nor lower is better in itself",
}


def layout(sources: Sources, search_text: str) -> html.Div:
    """The page, its choices set from the query string (anything not allowed is ignored)."""
    asked = query(search_text)
    where = AreaPeriod.from_query(sources, asked)
    indicators = sorted(sources.indicators.values(), key=lambda i: (i.theme, i.title))
    chosen = text_choice(asked.get("indicator"), [i.id for i in indicators]) or indicators[0].id
    return html.Div(
        [
            html.H2("Indicator", id="indicator-heading"),
            html.Div(
                [
                    choice(
                        "Indicator",
                        "indicator-id",
                        [(i.id, f"{i.title} ({i.theme})") for i in indicators],
                        chosen,
                    ),
                    *area_period_controls("indicator", sources, where),
                ],
                className="digest-filters",
            ),
            updating("indicator-content", "The indicator"),
        ]
    )


def register(app: Dash, sources: Sources) -> None:
    """The page's callbacks; each checks what the browser sent against what may be chosen."""
    area_period_options(app, "indicator", sources)

    @app.callback(
        Output("indicator-content", "children"),
        Output("url", "search", allow_duplicate=True),
        Input("indicator-id", "value"),
        Input("indicator-area", "value"),
        Input("indicator-period", "value"),
        prevent_initial_call="initial_duplicate",
    )
    def show(indicator_id: object, area: object, period_text: object) -> Any:
        chosen = text_choice(indicator_id, list(sources.indicators))
        where = AreaPeriod.chosen(sources, area, period_text)
        if chosen is None or where is None or where.period is None:
            record_refusal(
                sources, "indicator", indicator=indicator_id, area=area, period=period_text
            )
            return message("Choose an indicator, an area and a quarter from the lists."), no_update
        shown = detail(sources, sources.indicators[chosen], where.area.ons_code, where.period)
        link = search(indicator=chosen, area=where.area.ons_code, period=str(where.period))
        return _content(shown, where.area.name), link


def _content(shown: IndicatorDetail, area_name: str) -> list[Any]:
    indicator, line = shown.indicator, shown.line
    result = line.computation.result
    headline = (
        f"{format.figure(indicator, result.value)} ({shown.span})"
        if result.value is not None
        else f"not available: {result.reason}"
    )
    interval = (
        f"95% confidence interval {format.figure(indicator, line.interval.lower)} to "
        f"{format.figure(indicator, line.interval.upper)}"
        if line.interval
        else "no confidence interval (a count of every case, not a sample)"
        if indicator.kind == "count"
        else "no confidence interval"
    )
    return [
        html.H3(f"{indicator.title}, {area_name}", className="h3 mt-3"),
        html.P(
            [
                html.Strong(headline),
                f"; {interval}. ",
                rating_badge(shown.rating),
                f" {shown.rating.reason}.",
            ],
            className="digest-headline",
        ),
        _benchmark_table(shown),
        html.H4("Trend", className="h4 mt-4"),
        _chart(
            trend_chart(shown),
            f"The trend of {indicator.title} by quarter, with 95% confidence intervals, and "
            "London and England at their published annual points. The figures are in the table "
            "below.",
        ),
        html.Details(
            [html.Summary("The figures in the trend chart"), _trend_table(shown)],
            open=False,
        ),
        html.H4("Among London boroughs", className="h4 mt-4"),
        *_funnel(shown),
        html.H4("Definition", className="h4 mt-4"),
        _definition(shown),
        html.H4("Where the figures came from", className="h4 mt-4"),
        _sources_table(shown),
    ]


def _chart(figure: go.Figure, caption: str) -> html.Figure:
    """A chart with its caption, which says where the same figures are given as a table."""
    return html.Figure(
        [
            dcc.Graph(
                figure=figure,
                config={"displaylogo": False, "responsive": True},
                className="digest-chart",
            ),
            html.Figcaption(caption),
        ]
    )


def _benchmark_table(shown: IndicatorDetail) -> Any:
    indicator, line = shown.indicator, shown.line
    if not line.benchmarks:
        return message("No published figure to compare with.")
    rows = [[b.name, format.comparator(indicator, b), b.source] for b in line.benchmarks]
    for position in line.positions:
        rows.append(
            [
                f"Rank among {position.group}",
                position.describe(indicator.polarity == "neutral"),
                "the area's figure placed among published figures",
            ]
        )
    comparison = line.comparison or "not compared"
    return html.Div(
        [
            table(
                f"Published comparators; compared with London: {comparison}",
                ["Comparator", "Published value (year)", "Source"],
                rows,
                numeric=(1,),
            ),
            html.Ul([html.Li(f.message) for f in line.flags], className="digest-flags")
            if line.flags
            else html.P("No flags this quarter."),
        ]
    )


def _trend_table(shown: IndicatorDetail) -> Any:
    indicator = shown.indicator
    headings = ["Period"]
    for window in shown.trends:
        headings += [window_name(window), "95% interval"]
    by_period: dict[str, list[Any]] = {}
    for points in shown.trends.values():
        for point in points:
            row = by_period.setdefault(str(point.period), [str(point.period)])
            row.append(format.figure(indicator, point.value))
            row.append(
                f"{format.figure(indicator, point.interval.lower)} to "
                f"{format.figure(indicator, point.interval.upper)}"
                if point.interval
                else "–"
            )
    tables = [
        table(f"{indicator.title} by quarter", headings, list(by_period.values()), numeric=(1, 3))
    ]
    names = list(shown.published)
    years = sorted({v.year for values in shown.published.values() for v in values})
    if names and years:
        found = {(name, v.year): v for name, values in shown.published.items() for v in values}
        rows = [
            [
                format.published_year(next(found[(n, year)] for n in names if (n, year) in found)),
                *(format.comparator(indicator, found.get((name, year))) for name in names),
            ]
            for year in years
        ]
        tables.append(
            table("Published figures drawn on the chart", ["Year", *names], rows, numeric=(1, 2))
        )
    return html.Div(tables)


def _funnel(shown: IndicatorDetail) -> list[Any]:
    if shown.funnel is None:
        spec = shown.indicator.benchmark
        why = (
            "This indicator has no published benchmark."
            if spec is None
            else "No funnel plot: the published figures do not include the counts it needs "
            "(DfE publishes only the percentage or rate), or no London borough has a figure."
        )
        return [message(why)]
    year = format.published_year(shown.line.benchmarks[0])
    funnel = shown.funnel
    result = shown.line.computation.result

    def placed(value: float, denominator: float) -> str:
        for confidence, words in ((0.998, "99.8%"), (0.95, "95%")):
            lower, upper = funnel.limits(denominator, confidence)
            if not lower <= value <= upper:
                return f"outside the {words} limits"
        return "within the 95% limits"

    rows = [
        [
            p.name,
            f"{p.numerator:,.0f}",
            f"{p.denominator:,.0f}",
            format.figure(shown.indicator, p.value),
            placed(p.value, p.denominator),
        ]
        for p in funnel.points
    ]
    if result.value is not None and result.numerator is not None and result.denominator:
        rows.insert(
            0,
            [
                f"This area, {shown.span} (from its returns)",
                f"{result.numerator:,.0f}",
                f"{result.denominator:,.0f}",
                format.figure(shown.indicator, result.value),
                placed(result.value, result.denominator),
            ],
        )
    return [
        _chart(
            funnel_chart(shown),
            f"London boroughs' published figures for {year} against their denominators, with "
            "95% and 99.8% limits "
            "around the boroughs' pooled figure, and this area's figure from its returns. A "
            "borough outside the limits differs by more than chance would explain; between "
            "boroughs the figures vary more than chance alone, so read the limits as a guide. The "
            "figures are in the table below.",
        ),
        html.Details(
            [
                html.Summary("The figures in the funnel plot"),
                table(
                    f"This area and the London boroughs ({year}), with the pooled figure of "
                    f"{format.figure(shown.indicator, funnel.centre)}",
                    ["Area", "Numerator", "Denominator", "Value", "Against the limits"],
                    rows,
                    numeric=(1, 2, 3),
                ),
            ]
        ),
    ]


def _definition(shown: IndicatorDetail) -> Any:
    indicator = shown.indicator
    spec = indicator.benchmark
    items = [
        ("What it measures", indicator.description),
        ("Numerator", shown.numerator),
        ("Denominator", shown.denominator or "none: a count"),
        ("Shown as", format.unit(indicator)),
        ("Which way is better", _POLARITY[indicator.polarity]),
        ("Headline window", window_name(indicator.window)),
        ("Returned by", shown.agency),
        (
            "Benchmark source",
            f"{spec.source}: {spec.value or ' + '.join(spec.numerator or [])}"
            + (f" ({spec.note})" if spec.note else "")
            if spec
            else "none",
        ),
        (
            "Local target",
            f"{indicator.target:g} (tolerance {indicator.tolerance:g})"
            if indicator.target is not None
            else "none",
        ),
        ("Caveats", indicator.caveats or "none"),
    ]
    return html.Dl(
        [part for term, text in items for part in (html.Dt(term), html.Dd(text))],
        className="digest-definition",
    )


def _sources_table(shown: IndicatorDetail) -> Any:
    return table(
        f"The returned figures behind the value for {shown.period}",
        ["Measure", "Quarter", "Value", "Source (version, sheet and cell)"],
        [[f"{f.measure} ({f.code})", str(f.period), f.shown, f.source] for f in shown.figures],
        numeric=(2,),
    )
