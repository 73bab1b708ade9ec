"""The area and quarter every page is about: chosen from the query string or the lists, and
checked on the server against the areas and quarters that have returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dash import Dash, Input, Output, State, html

from digest.app.auth import current_user
from digest.app.components import choice, period_choice, text_choice
from digest.domain.areas import Area
from digest.domain.periods import Period
from digest.store.audit import note
from digest.views.sources import Sources


@dataclass(frozen=True)
class AreaPeriod:
    """An area that has returns, and one of its quarters (``None`` when it has none yet)."""

    area: Area
    period: Period | None

    @classmethod
    def from_query(cls, sources: Sources, asked: dict[str, str]) -> AreaPeriod:
        """What a shared link asks for, falling back to the home area and its latest quarter."""
        areas = {a.ons_code: a for a in sources.areas()}
        area = areas.get(asked.get("area", ""), sources.home)
        periods = sources.periods(area.ons_code)
        period = period_choice(asked.get("period"), periods)
        return cls(area, period or (periods[0] if periods else None))

    @classmethod
    def chosen(cls, sources: Sources, area: object, period: object) -> AreaPeriod | None:
        """What the lists hold, if both may be chosen (else ``None``: the browser sent
        something no list offers)."""
        areas = {a.ons_code: a for a in sources.areas()}
        code = text_choice(area, list(areas))
        if code is None:
            return None
        found = period_choice(period, sources.periods(code))
        return cls(areas[code], found) if found else None


def area_period_controls(prefix: str, sources: Sources, where: AreaPeriod) -> list[html.Div]:
    """The area list (shown when the store holds more than one area) and the quarter list."""
    areas = sources.areas()
    periods = sources.periods(where.area.ons_code)
    controls = [
        choice(
            "Area",
            f"{prefix}-area",
            [(a.ons_code, a.name) for a in areas],
            where.area.ons_code,
            hidden=len(areas) == 1,
        )
    ]
    controls.append(
        choice(
            "Quarter",
            f"{prefix}-period",
            [(str(p), f"{p} ({p.months})") for p in periods],
            str(where.period) if where.period else None,
        )
    )
    return controls


def area_period_options(app: Dash, prefix: str, sources: Sources) -> None:
    """When the area changes, offer its quarters, keeping the one chosen if it has it."""

    @app.callback(
        Output(f"{prefix}-period", "options"),
        Output(f"{prefix}-period", "value"),
        Input(f"{prefix}-area", "value"),
        State(f"{prefix}-period", "value"),
        prevent_initial_call=True,
    )
    def offer(area: object, period: object) -> Any:
        code = text_choice(area, [a.ons_code for a in sources.areas()])
        periods = sources.periods(code) if code else []
        kept = period_choice(period, periods)
        options = [{"label": f"{p} ({p.months})", "value": str(p)} for p in periods]
        return options, str(kept or periods[0]) if periods else None


def shapes(**sent: object) -> dict[str, str]:
    """What a browser sent, as types and lengths only: for the audit log, never the values
    (one of them may be a password, or what someone typed)."""
    return {
        name: f"{type(value).__name__}({len(value)})"
        if isinstance(value, str | list)
        else type(value).__name__
        for name, value in sent.items()
    }


def record_refusal(sources: Sources, page: str, **sent: object) -> None:
    """Record in the audit log that a callback refused what it was sent (something no list
    offers): which inputs, and their types and lengths, never the values themselves."""
    found = shapes(**{name: value for name, value in sent.items() if value is not None})
    if found:  # nothing sent yet is a page still being filled in, not a refusal
        note(
            sources.store.connection,
            current_user().username,
            "read",
            "refused",
            detail={"page": page, "sent": found},
        )
