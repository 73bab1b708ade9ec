"""The meeting pack: choose the quarter (or the year), the edition and the format, build it, and
download it.

The build runs in the server's own threads (:mod:`digest.app.builds`) and the page follows its
progress; every choice is checked on the server, and the file is given only to whoever asked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from dash import Dash, Input, Output, State, dcc, html, no_update
from flask import Response, abort, request

from digest.app.auth import current_user, may
from digest.app.builds import Builds, Work
from digest.app.components import aria, choice, message, search, text_choice
from digest.app.pages.common import record_refusal
from digest.domain.periods import Period
from digest.pack.build import FORMATS, MEDIA_TYPES, make_pack
from digest.pack.content import EDITIONS, MARKING
from digest.store.audit import note
from digest.store.users import User
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
    """The page: what the pack covers, its edition and format, the button that builds it, how
    far the build has got, and the download once it is ready."""
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
            html.Button(
                "Build the pack", id="pack-build", className="btn btn-primary", type="button"
            ),
            html.P(
                "A workbook takes a second or two; a PDF or web page ten to twenty seconds, while "
                "the charts are drawn. You can follow the build below.",
                className="mt-2",
            ),
            html.Div(id="pack-status", role="status", **aria(live="polite")),
            html.Div(id="pack-ready"),
            dcc.Store(id="pack-build-id"),
            dcc.Interval(id="pack-poll", interval=1000, disabled=True),
        ]
    )


def register(app: Dash, sources: Sources, builds: Builds) -> None:
    """The page's callbacks: the marking of the edition chosen, starting a build (every choice
    checked on the server), and following it until its file can be downloaded."""

    @app.callback(
        Output("pack-marking", "children"),
        Input("pack-area", "value"),
        Input("pack-covers", "value"),
        Input("pack-edition", "value"),
        Input("pack-format", "value"),
    )
    def marking(area: object, covers: object, edition: object, file_format: object) -> Any:
        chosen = _chosen(sources, area, covers, edition, file_format)
        if chosen is None:
            if covers is not None:  # something no list offers was sent
                record_refusal(
                    sources, "pack", area=area, covers=covers, edition=edition, format=file_format
                )
            return "Choose what the pack covers, its edition and its format."
        return MARKING[chosen[2]]

    @app.callback(
        Output("pack-build-id", "data"),
        Output("pack-poll", "disabled"),
        Output("pack-status", "children"),
        Output("pack-ready", "children"),
        Input("pack-build", "n_clicks"),
        State("pack-area", "value"),
        State("pack-covers", "value"),
        State("pack-edition", "value"),
        State("pack-format", "value"),
        prevent_initial_call=True,
    )
    def build(
        clicks: object, area: object, covers: object, edition: object, file_format: object
    ) -> Any:
        if not clicks:
            return no_update, no_update, no_update, no_update
        user = current_user()
        chosen = _chosen(sources, area, covers, edition, file_format)
        if chosen is None or not _may_build(user, chosen[2]):
            note(
                sources.store.connection,
                user.username,
                "export",
                "refused",
                detail={"what": "pack", "edition": chosen[2] if chosen else None},
            )
            said = (
                "Choose what the pack covers, its edition and its format."
                if chosen is None
                else "The internal edition is for the sub-group's members and the chair: "
                "choose the publishable edition."
            )
            return None, True, message(said), []
        started = builds.start(user.username, _work(sources, user.username, *chosen))
        if started is None:
            return no_update, False, message("Your packs are still being built: wait a moment."), []
        return started.id, False, "Building the pack…", []

    @app.callback(
        Output("pack-status", "children", allow_duplicate=True),
        Output("pack-ready", "children", allow_duplicate=True),
        Output("pack-poll", "disabled", allow_duplicate=True),
        Input("pack-poll", "n_intervals"),
        State("pack-build-id", "data"),
        prevent_initial_call=True,
    )
    def follow(_ticks: object, build_id: object) -> Any:
        found = builds.get(build_id, current_user().username)
        if found is None:
            return no_update, no_update, True
        if found.failed is not None:
            return message(found.failed), [], True
        if found.content is None:
            return f"{found.step}…", no_update, False
        return (
            f"The pack is ready: {found.file_name}.",
            html.A(
                f"Download {found.file_name}",
                href=f"{DOWNLOAD}{search(build=found.id)}",
                className="btn btn-success",
                download=found.file_name,
                id="pack-download",
            ),
            True,
        )


def pack_file(builds: Builds) -> Response:
    """The download route: a finished build's file, for the person who asked for it only."""
    found = builds.get(request.args.get("build"), current_user().username)
    if found is None or found.content is None:
        abort(404)
    return Response(
        found.content,
        mimetype=found.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{found.file_name}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
            "Content-Security-Policy": (
                "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
                "base-uri 'none'; form-action 'none'"
            ),
        },
    )


def _may_build(user: User, edition: str) -> bool:
    """Anyone signed in builds the publishable edition; the unsuppressed one is the sub-group's:
    its members, the chair and administrators (not the agencies' data leads)."""
    return may(user, "read") and (edition != "internal" or user.role != "data_lead")


def _work(
    sources: Sources, username: str, area: str, covering: str, edition: str, fmt: str
) -> Work:
    year = int(covering.split()[1][:4]) if covering.startswith("year ") else None

    def work(tell: Callable[[str], None]) -> tuple[str, str, bytes]:
        pack, content = make_pack(
            sources,
            area,
            edition,  # type: ignore[arg-type]
            fmt,  # type: ignore[arg-type]
            built_by=username,
            period=None if year is not None else Period.parse(covering),
            year=year,
            progress=tell,
        )
        return f"{_safe(pack.file_stem)}.{fmt}", MEDIA_TYPES[fmt], content

    return work


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
