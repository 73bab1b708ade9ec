"""The digest's charts, drawn with plotly for the app and the meeting pack alike.

Series differ in marker shape and line style as well as colour (Okabe-Ito palette, safe for
colour-blind readers), and every chart is shown beside a table of its figures.
"""

from __future__ import annotations

from base64 import b64encode
from collections.abc import Sequence
from datetime import date

import plotly.graph_objects as go

from digest.compare.benchmarks import BenchmarkValue
from digest.compute.definitions import Indicator, Window
from digest.domain.periods import Period
from digest.views import format
from digest.views.indicator import IndicatorDetail, TrendPoint

#: Okabe-Ito colours, distinguishable with any common colour-vision deficiency; the orange is
#: darkened to keep 3:1 contrast with the white background (WCAG 1.4.11).
BLUE, ORANGE, GREEN, VERMILION, GREY = "#0072B2", "#A66300", "#009E73", "#D55E00", "#595959"
_WINDOW_NAMES: dict[str, str] = {
    "quarter": "Quarter",
    "12m": "12 months to the quarter's end",
    "ytd": "Year to date",
}
_COMPARATOR_STYLE = {
    "London": (ORANGE, "diamond", "dash"),
    "England": (GREEN, "square", "dot"),
}
_LAYOUT = {
    "font": {"size": 16, "family": "system-ui, Segoe UI, Arial, sans-serif", "color": "#1b1b1b"},
    "plot_bgcolor": "#ffffff",
    "paper_bgcolor": "#ffffff",
    "margin": {"l": 70, "r": 20, "t": 60, "b": 70},
    "legend": {"orientation": "h", "y": -0.2},
    "hoverlabel": {"font": {"size": 15}},
}


def window_name(window: Window) -> str:
    """The window in words for a legend: ``Quarter``, ``12 months to the quarter's end``."""
    return _WINDOW_NAMES[window]


def year_end_quarter(found: BenchmarkValue) -> Period:
    """The quarter a published annual figure is drawn at: the one its year ends in (31 March,
    or 31 December for a calendar-year measure)."""
    return Period.containing(found.ends or date(found.year, 3, 31))


def trend_chart(detail: IndicatorDetail) -> go.Figure:
    """The indicator over every quarter (each window, with its 95% interval), London and England
    at their published annual points, and the local target band."""
    indicator = detail.indicator
    figure = go.Figure()
    shown = [p.period for p in next(iter(detail.trends.values()))]
    labels = [str(p) for p in shown]
    for (window, points), (colour, symbol, dash) in zip(
        detail.trends.items(),
        ((BLUE, "circle", "solid"), (VERMILION, "triangle-up", "dashdot")),
        strict=False,
    ):
        figure.add_trace(_trend_trace(indicator, window, points, colour, symbol, dash))
    for name, values in detail.published.items():
        colour, symbol, dash = _COMPARATOR_STYLE.get(name, (GREY, "x", "dot"))
        inside = [v for v in values if year_end_quarter(v) in shown and v.value is not None]
        if not inside:
            continue
        figure.add_trace(
            go.Scatter(
                x=[str(year_end_quarter(v)) for v in inside],
                y=[v.value for v in inside],
                name=f"{name} (published annual figure)",
                mode="markers+lines",
                marker={"symbol": symbol, "size": 12, "color": colour},
                line={"dash": dash, "color": colour},
                hovertemplate=f"{name} %{{customdata}}: %{{y:.1f}}<extra></extra>",
                customdata=[format.published_year(v) for v in inside],
            )
        )
    if indicator.target is not None and indicator.tolerance is not None:
        figure.add_hrect(
            y0=indicator.target - indicator.tolerance,
            y1=indicator.target + indicator.tolerance,
            fillcolor=GREEN,
            opacity=0.12,
            line_width=0,
            annotation_text=f"local target {indicator.target:g} ± {indicator.tolerance:g}",
            annotation_position="top left",
        )
    figure.update_layout(
        **_LAYOUT,
        title={"text": f"{indicator.title}: trend", "x": 0},
        xaxis={"title": "Quarter", "type": "category", "categoryarray": labels},
        yaxis={"title": format.unit(indicator).capitalize(), "rangemode": "tozero"},
    )
    return figure


def _trend_trace(
    indicator: Indicator,
    window: Window,
    points: Sequence[TrendPoint],
    colour: str,
    symbol: str,
    dash: str,
) -> go.Scatter:
    upper = [p.interval.upper - p.interval.value if p.interval else None for p in points]
    lower = [p.interval.value - p.interval.lower if p.interval else None for p in points]
    return go.Scatter(
        x=[str(p.period) for p in points],
        y=[p.value for p in points],
        name=window_name(window) + (" (95% interval)" if any(upper) else ""),
        mode="lines+markers",
        marker={"symbol": symbol, "size": 10, "color": colour},
        line={"dash": dash, "color": colour, "width": 3},
        error_y={
            "type": "data",
            "array": upper,
            "arrayminus": lower,
            "visible": any(upper),
            "color": colour,
            "thickness": 1.5,
        },
        connectgaps=False,
        hovertemplate="%{x}: %{y:.1f}<extra>" + window_name(window) + "</extra>",
    )


def sparkline(values: Sequence[float | None], width: int = 120, height: int = 32) -> str:
    """A small SVG line of the values (gaps where a value is missing), as a data URI."""
    known = [v for v in values if v is not None]
    if not known:
        return _svg_uri("", width, height)
    low, high = min(known), max(known)
    spread = (high - low) or 1.0
    step = (width - 8) / max(1, len(values) - 1)
    runs: list[list[str]] = [[]]
    last = None
    for i, value in enumerate(values):
        if value is None:
            runs.append([])
            continue
        x = 4 + i * step
        y = height - 4 - (value - low) / spread * (height - 8)
        runs[-1].append(f"{x:.1f},{y:.1f}")
        last = (x, y)
    lines = "".join(
        f'<polyline points="{" ".join(run)}" fill="none" stroke="{BLUE}" stroke-width="2"/>'
        for run in runs
        if run
    )
    dot = f'<circle cx="{last[0]:.1f}" cy="{last[1]:.1f}" r="3" fill="{BLUE}"/>' if last else ""
    return _svg_uri(lines + dot, width, height)


def _svg_uri(content: str, width: int, height: int) -> str:
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">{content}</svg>'
    )
    return "data:image/svg+xml;base64," + b64encode(svg.encode()).decode()


def funnel_chart(detail: IndicatorDetail) -> go.Figure:
    """London boroughs' published figures against their denominators, the 95% and 99.8% control
    limits around the boroughs' pooled figure, and the area's own figure from its returns."""
    shown = detail.funnel
    assert shown is not None
    indicator = detail.indicator
    figure = go.Figure()
    for confidence, dash_style, width in ((0.998, "dot", 2), (0.95, "dash", 2)):
        curve = shown.curve(confidence)
        label = f"{confidence * 100:g}% limits"
        for index, name in ((1, "lower"), (2, "upper")):
            figure.add_trace(
                go.Scatter(
                    x=[point[0] for point in curve],
                    y=[point[index] for point in curve],
                    name=label,
                    legendgroup=label,
                    showlegend=name == "upper",
                    mode="lines",
                    line={"color": GREY, "dash": dash_style, "width": width},
                    hoverinfo="skip",
                )
            )
    figure.add_hline(
        y=shown.centre,
        line={"color": ORANGE, "width": 2},
        annotation_text=f"London boroughs pooled: {format.figure(indicator, shown.centre)}",
        annotation_position="top right",
    )
    figure.add_trace(
        go.Scatter(
            x=[p.denominator for p in shown.points],
            y=[p.value for p in shown.points],
            text=[p.name for p in shown.points],
            name=f"London boroughs ({format.published_year(detail.line.benchmarks[0])}, published)",
            mode="markers",
            marker={"symbol": "circle-open", "size": 10, "color": BLUE, "line": {"width": 2}},
            hovertemplate="%{text}: %{y:.1f} (denominator %{x:,.0f})<extra></extra>",
        )
    )
    own = detail.line.computation.result
    if own.value is not None and own.denominator:
        figure.add_trace(
            go.Scatter(
                x=[own.denominator],
                y=[own.value],
                text=[f"{detail.period} (from returns)"],
                name=f"This area, {detail.span}",
                mode="markers+text",
                textposition="bottom center",
                marker={"symbol": "star", "size": 18, "color": VERMILION},
                hovertemplate="This area: %{y:.1f} (denominator %{x:,.0f})<extra></extra>",
            )
        )
    figure.update_layout(
        **_LAYOUT,
        title={"text": f"{indicator.title}: London boroughs", "x": 0},
        xaxis={"title": "Denominator (log scale)", "type": "log"},
        yaxis={"title": format.unit(indicator).capitalize()},
    )
    return figure
