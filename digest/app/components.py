"""Pieces every page uses: accessible tables, labelled choices, ratings in words and shapes, and
the checks that turn what a browser sent into something that may be chosen."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, urlencode

from dash import dcc, html

from digest.compare.rating import Rating
from digest.domain.periods import Period, PeriodError

Row = Sequence[Any]


def table(
    caption: str,
    headings: Sequence[str],
    rows: Sequence[Row],
    *,
    numeric: Sequence[int] = (),
    table_id: str | None = None,
    class_name: str = "",
) -> html.Table:
    """An accessible table: a caption, column headings, and each row headed by its first cell."""

    def cell(index: int, value: Any) -> html.Td:
        return html.Td(value, className="text-end digest-number" if index in numeric else None)

    body = [
        html.Tr(
            [html.Th(row[0], scope="row")]
            + [cell(i, value) for i, value in enumerate(row[1:], start=1)]
        )
        for row in rows
    ]
    return html.Table(
        [
            html.Caption(caption),
            html.Thead(html.Tr([html.Th(h, scope="col") for h in headings])),
            html.Tbody(body),
        ],
        className=f"table table-bordered digest-table {class_name}".strip(),
        id=table_id or "",
    )


def choice(
    label: str,
    control_id: str,
    options: Sequence[tuple[str, str]],
    value: str | None,
    *,
    hidden: bool = False,
    placeholder: str = "",
) -> html.Div:
    """A labelled drop-down list of ``(value, label)`` options (``hidden``: kept for its value,
    not shown, as when there is only one area to choose)."""
    return html.Div(
        [
            html.Label(label, htmlFor=control_id, className="form-label"),
            dcc.Dropdown(
                id=control_id,
                options=[{"label": text, "value": key} for key, text in options],
                value=value,
                clearable=False,
                searchable=False,
                placeholder=placeholder,
            ),
        ],
        className="digest-choice",
        hidden=hidden,
    )


def aria(**attributes: str) -> dict[str, Any]:
    """ARIA attributes for a component: ``aria(live="polite")`` is ``aria-live="polite"``."""
    return {f"aria-{name}": value for name, value in attributes.items()}


def rating_badge(rating: Rating) -> html.Span:
    """The rating as a shape and a word, coloured as well (never by colour alone)."""
    return html.Span(
        [html.Span(rating.icon, **aria(hidden="true")), f" {rating.label}"],
        className=f"digest-rag digest-rag-{rating.colour}",
        title=rating.describe(),
    )


def updating(component_id: str, label: str, *, announced: bool = False) -> dcc.Loading:
    """A region a callback fills, with a spinner while the server works. ``announced``: a short
    status that screen readers read out when it changes (never a whole table)."""
    if announced:
        return dcc.Loading(html.Div(id=component_id, role="status", **aria(label=label)))
    return dcc.Loading(html.Div(id=component_id, role="region", **aria(label=label)))


def message(text: str) -> html.P:
    """A short message in place of content that cannot be shown."""
    return html.P(text, className="digest-message")


def query(search: object) -> dict[str, str]:
    """The first value of each parameter of a query string (``?a=1&b=2``)."""
    if not isinstance(search, str):
        return {}
    return {key: values[0] for key, values in parse_qs(search.lstrip("?")).items() if values}


def search(**params: str | None) -> str:
    """A query string of the given parameters, leaving out those that are not set."""
    chosen = {key: value for key, value in params.items() if value}
    return "?" + urlencode(chosen) if chosen else ""


def period_choice(text: object, allowed: Sequence[Period]) -> Period | None:
    """The chosen quarter if it is one that may be chosen (the browser can send anything)."""
    if not isinstance(text, str):
        return None
    try:
        period = Period.parse(text)
    except PeriodError:
        return None
    return period if period in allowed else None


def text_choice(text: object, allowed: Sequence[str]) -> str | None:
    """The chosen text if it is one of ``allowed``; anything else (a dict, a number) is ``None``."""
    return text if isinstance(text, str) and text in allowed else None
