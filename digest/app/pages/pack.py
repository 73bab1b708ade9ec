"""The meeting pack: choose the quarter (or the year), the edition and the format, and download it.

The pack is built on the server when the link is followed (a PDF of the demo takes about ten
seconds); the download route checks every choice again, whatever the browser sends.
"""

from __future__ import annotations

import re
from typing import Any

from dash import Dash, Input, Output, html
from flask import Response, abort, request

from digest.app.auth import current_user, may
from digest.app.components import choice, search, text_choice
from digest.app.pages.common import record_refusal
from digest.domain.periods import Period
from digest.pack.build import FORMATS, MEDIA_TYPES, make_pack
from digest.pack.content import EDITIONS, MARKING, PackError
from digest.store.audit import note
from digest.views.sources import Sources

PATH = "/pack"
DOWNLOAD = "/download/pack"
_FORMAT_NAMES = {"pdf": "PDF (to print)", "html": "Web page", "xlsx": "Excel workbook"}
_EDITION_NAMES = {
    "internal": "Internal: for the sub-group, unsuppressed (OFFICIAL-SENSITIVE)",
    "publishable": "Publishable: small numbers suppressed",
}


def coverings(sources: Sources, area: str) -> list[tuple[str, str]]:
    """What a pack can cover for ``area``: each quarter with returns, newest first, then each
    financial year with returns (the annual summary), as ``(value, label)``."""
    periods = sources.periods(area)
    quarters = [(str(p), f"{p} ({p.months})") for p in periods]
    years = sorted({p.year for p in periods}, reverse=True)
    return quarters + [
        (f"year {y}-{(y + 1) % 100:02d}", f"Annual summary {y}-{(y + 1) % 100:02d}") for y in years
    ]


def layout(sources: Sources, search_text: str) -> html.Div:
    """The page: what the pack covers, its edition and format, and the download link."""
    areas = sources.areas()
    options = coverings(sources, sources.home.ons_code)
    return html.Div(
        [
            html.H2("Meeting pack"),
            html.P(
                "The pack for the PQA sub-group: a summary by theme, the exception report, a page "
                "per theme with the figures and trend charts against London and England, the "
                "challenge log, the definitions and the returns it was built from."
            ),
            html.Div(
                [
                    choice(
                        "Area",
                        "pack-area",
                        [(a.ons_code, a.name) for a in areas],
                        sources.home.ons_code,
                        hidden=len(areas) == 1,
                    ),
                    choice("Covers", "pack-covers", options, options[0][0] if options else None),
                    choice("Edition", "pack-edition", list(_EDITION_NAMES.items()), "internal"),
                    choice("Format", "pack-format", list(_FORMAT_NAMES.items()), "pdf"),
                ],
                className="digest-filters",
            ),
            html.P(id="pack-marking", className="digest-message"),
            html.A(
                "Download the pack",
                id="pack-download",
                href="#",
                className="btn btn-primary",
                download="",
            ),
            html.P(
                "Building takes a few seconds for a workbook and ten to twenty for a PDF or web "
                "page, while the charts are drawn: the download starts when it is ready.",
                className="mt-2",
            ),
        ]
    )


def register(app: Dash, sources: Sources) -> None:
    """The page's callback: the download link for what is chosen (checked again on download)."""

    @app.callback(
        Output("pack-download", "href"),
        Output("pack-marking", "children"),
        Input("pack-area", "value"),
        Input("pack-covers", "value"),
        Input("pack-edition", "value"),
        Input("pack-format", "value"),
    )
    def link(area: object, covers: object, edition: object, file_format: object) -> Any:
        chosen = _chosen(sources, area, covers, edition, file_format)
        if chosen is None:
            if covers is not None:  # something no list offers was sent
                record_refusal(
                    sources, "pack", area=area, covers=covers, edition=edition, format=file_format
                )
            return "#", "Choose what the pack covers, its edition and its format."
        code, covering, kind, fmt = chosen
        return (
            f"{DOWNLOAD}{search(area=code, covers=covering, edition=kind, format=fmt)}",
            MARKING[kind],
        )


def pack_file(sources: Sources) -> Response:
    """The download route: builds the pack asked for, if every choice is one the page offers."""
    asked = request.args
    chosen = _chosen(
        sources, asked.get("area"), asked.get("covers"), asked.get("edition"), asked.get("format")
    )
    user = current_user()
    # The unsuppressed edition is the sub-group's: its members, the chair and administrators.
    internal = chosen is not None and chosen[2] == "internal"
    if chosen is None or not may(user, "read") or (internal and user.role == "data_lead"):
        note(
            sources.store.connection,
            user.username,
            "export",
            "refused",
            detail={"what": "pack", "sent": sorted(asked)[:10]},
        )
        abort(404)
    code, covering, edition, fmt = chosen
    year = int(covering.split()[1][:4]) if covering.startswith("year ") else None
    try:
        pack, content = make_pack(
            sources,
            code,
            edition,  # type: ignore[arg-type]
            fmt,  # type: ignore[arg-type]
            built_by=user.username,
            period=None if year is not None else Period.parse(covering),
            year=year,
        )
    except PackError as error:
        return Response(str(error), status=503, mimetype="text/plain")
    return Response(
        content,
        mimetype=MEDIA_TYPES[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="{_safe(pack.file_stem)}.{fmt}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
            "Content-Security-Policy": (
                "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
                "base-uri 'none'; form-action 'none'"
            ),
        },
    )


def _safe(name: str) -> str:
    """A file name any browser takes as it is: letters, digits, spaces and a few marks."""
    return re.sub(r"[^A-Za-z0-9 ()_.-]", "", name)[:120] or "pack"


def _chosen(
    sources: Sources, area: object, covers: object, edition: object, file_format: object
) -> tuple[str, str, str, str] | None:
    code = text_choice(area, [a.ons_code for a in sources.areas()])
    if code is None:
        return None
    covering = text_choice(covers, [value for value, _ in coverings(sources, code)])
    kind = text_choice(edition, list(EDITIONS))
    fmt = text_choice(file_format, list(FORMATS))
    if covering is None or kind is None or fmt is None:
        return None
    return code, covering, kind, fmt
