"""Build the Dash app on a returns store.

Pages stay thin: what they show comes from the pure functions of ``returns_view``. Every callback
checks its inputs on the server against what may be chosen, because Dash passes whatever the
browser sends.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dash import Dash, Input, Output, dcc, html

from digest.app.returns_view import current_figures, return_statuses, stored_periods
from digest.domain.areas import Area, home_area
from digest.domain.dataset import Dataset, load_dataset
from digest.domain.periods import Period, PeriodError
from digest.store.returns import ReturnsStore

ASSETS = Path(__file__).resolve().parent / "assets"
STATUS_WORDS = {"c": "c (suppressed)", "x": "x (not available)", "z": "z (not applicable)"}


def _table(
    caption: str, headings: list[str], rows: list[list[Any]], numeric: tuple[int, ...] = ()
) -> html.Table:
    """An accessible table: a caption, column headings, and each row headed by its first cell."""

    def cell(index: int, value: Any) -> html.Td:
        return html.Td(value, className="digest-number" if index in numeric else None)

    return html.Table(
        [
            html.Caption(caption),
            html.Thead(html.Tr([html.Th(h, scope="col") for h in headings])),
            html.Tbody(
                [
                    html.Tr(
                        [html.Th(row[0], scope="row")]
                        + [cell(i, value) for i, value in enumerate(row[1:], start=1)]
                    )
                    for row in rows
                ]
            ),
        ],
        className="digest-table",
    )


def _choice(period_text: object, allowed: list[Period]) -> Period | None:
    """The chosen period if it is one that may be chosen (the browser can send anything)."""
    if not isinstance(period_text, str):
        return None
    try:
        period = Period.parse(period_text)
    except PeriodError:
        return None
    return period if period in allowed else None


def create_app(
    store: ReturnsStore,
    *,
    area: Area | None = None,
    dataset: Dataset | None = None,
    demo: bool = False,
) -> Dash:
    """The app for one partnership area, reading the given store."""
    dataset = dataset or load_dataset()
    area = area or home_area()
    app = Dash(__name__, title="PQA Digest", assets_folder=str(ASSETS), serve_locally=True)
    periods = stored_periods(store, area.ons_code)
    agencies = [a.code for a in dataset.agencies]

    banner = (
        html.P(
            "Synthetic demo data: every figure is made up and describes no real place or child.",
            className="digest-banner",
            role="note",
        )
        if demo or area.synthetic
        else None
    )
    app.layout = html.Div(
        [
            html.Header(
                [
                    html.H1("PQA Digest"),
                    html.P(f"Quarterly returns for {area.name}", className="digest-subtitle"),
                    banner,
                ]
            ),
            html.Main(
                [
                    html.H2("Returns"),
                    html.Label("Quarter", htmlFor="returns-period"),
                    dcc.Dropdown(
                        id="returns-period",
                        clearable=False,
                        options=[{"label": str(p), "value": str(p)} for p in periods],
                        value=str(periods[0]) if periods else None,
                    ),
                    html.Div(id="returns-table", role="status"),
                    html.H2("Figures of one return"),
                    html.Label("Agency", htmlFor="returns-agency"),
                    dcc.Dropdown(
                        id="returns-agency",
                        clearable=False,
                        options=[
                            {"label": f"{a.name} ({a.code})", "value": a.code}
                            for a in dataset.agencies
                        ],
                        value=agencies[0],
                    ),
                    html.Div(id="returns-figures", role="status"),
                ]
            ),
        ],
        className="digest-page",
    )

    @app.callback(Output("returns-table", "children"), Input("returns-period", "value"))
    def show_returns(period_text: object) -> Any:
        period = _choice(period_text, stored_periods(store, area.ons_code))
        if period is None:
            return html.P("Choose a quarter from the list.", className="digest-message")
        rows = [
            [
                f"{s.agency_name} ({s.agency})",
                s.state,
                f"version {s.version}" if s.version else "-",
                s.submitted or "-",
                s.submitted_by or "-",
                f"{s.explained} of {s.queries} explained" if s.queries else "none",
            ]
            for s in return_statuses(store, dataset, area.ons_code, period)
        ]
        return _table(
            f"Returns for {period} ({period.months})",
            ["Agency", "State", "Current version", "Submitted (UK time)", "By", "Queries"],
            rows,
        )

    @app.callback(
        Output("returns-figures", "children"),
        [Input("returns-period", "value"), Input("returns-agency", "value")],
    )
    def show_figures(period_text: object, agency: object) -> Any:
        period = _choice(period_text, stored_periods(store, area.ons_code))
        if period is None or not isinstance(agency, str) or agency not in agencies:
            return html.P(
                "Choose a quarter and an agency from the lists.", className="digest-message"
            )
        figures = current_figures(store, agency, area.ons_code, period)
        if not figures:
            return html.P(
                f"No {agency} return has been accepted for {period}.", className="digest-message"
            )
        measures = dataset.measures
        rows = [
            [
                v.code,
                measures[v.code].description,
                f"{v.value:,.0f}" if v.value is not None else STATUS_WORDS[v.status],
                f"version {v.version}, sheet '{v.sheet}' cell {v.cell}",
            ]
            for v in figures
        ]
        return _table(
            f"{agency} return for {period}: current figures and where each came from",
            ["Code", "Measure", "Value", "Source"],
            rows,
            numeric=(2,),
        )

    return app
