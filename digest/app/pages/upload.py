"""Upload: a data lead chooses agency and quarter, downloads the template, uploads the filled
workbook, sees every finding located by sheet and cell, explains queries, and submits.

Choosing a file checks it at once as a dry run: nothing is stored until "Submit the return".
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update

from digest.app.auth import ROLE_NAMES, current_user, may
from digest.app.components import (
    choice,
    message,
    period_choice,
    query,
    search,
    table,
    text_choice,
    updating,
)
from digest.domain.findings import Finding
from digest.domain.periods import Period
from digest.export.findings import findings_report
from digest.ingest import IngestResult, ingest
from digest.store.audit import note
from digest.store.database import StoreError
from digest.store.users import User
from digest.validate.rules import WHOLE_RETURN, Submitting
from digest.views.sources import Sources

PATH = "/upload"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: The largest workbook accepted: a quarterly return is tens of kilobytes.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
_SEVERITY = {"error": "Error (must be corrected)", "query": "Query (explain)", "info": "Note"}


def upload_periods(sources: Sources) -> list[Period]:
    """The quarters a return can be uploaded for, newest first: the last eight that have ended,
    and any earlier one of the partnership's that already has returns (to correct it)."""
    ended = Period.containing(sources.today()).previous()
    recent = {ended.shift(-step) for step in range(8)}
    return sorted(recent | set(sources.periods(sources.home.ons_code)), reverse=True)


def layout(sources: Sources, search_text: str, user: User) -> html.Div:
    """The page for ``user``, its choices set from the query string (anything not allowed is
    ignored): only the agencies the user returns for."""
    asked = query(search_text)
    agencies = [
        (a.code, f"{a.name} ({a.code})")
        for a in sources.dataset.agencies
        if may(user, "upload", a.code)
    ]
    if not agencies:
        return html.Div(
            [
                html.H2("Upload a return"),
                message(
                    "Returns are uploaded by each agency's data lead, for their own agency. "
                    f"You are signed in as {user.display_name}, a {ROLE_NAMES[user.role]}."
                ),
            ]
        )
    periods = upload_periods(sources)
    areas = [sources.home]
    area_control = choice(
        "Area",
        "upload-area",
        [(a.ons_code, a.name) for a in areas],
        text_choice(asked.get("area"), [a.ons_code for a in areas]) or sources.home.ons_code,
        hidden=len(areas) == 1,
    )
    return html.Div(
        [
            html.H2("Upload a return"),
            html.P(
                f"Uploads are recorded as {user.display_name} ({user.username}).",
                className="text-muted",
            ),
            html.H3("1. Choose the return", className="h4 mt-3"),
            html.Div(
                [
                    choice(
                        "Agency",
                        "upload-agency",
                        agencies,
                        text_choice(asked.get("agency"), [k for k, _ in agencies]),
                        placeholder="Choose your agency",
                    ),
                    area_control,
                    choice(
                        "Quarter",
                        "upload-period",
                        [(str(p), f"{p} ({p.months})") for p in periods],
                        str(period_choice(asked.get("period"), periods) or periods[0]),
                    ),
                ],
                className="digest-filters",
            ),
            html.H3("2. Fill in the template", className="h4 mt-4"),
            html.P(
                [
                    html.A(
                        "Download the template",
                        id="upload-template",
                        href="#",
                        className="btn btn-outline-primary",
                    ),
                    html.Span(" Choose an agency first.", id="upload-template-hint"),
                ]
            ),
            html.H3("3. Upload the filled workbook", className="h4 mt-4"),
            dcc.Upload(
                id="upload-file",
                children=html.Button(
                    "Choose the workbook (.xlsx) to check",
                    className="btn btn-primary",
                    type="button",
                ),
                accept=".xlsx",
                max_size=MAX_UPLOAD_BYTES,
                multiple=False,
                className="digest-upload",
            ),
            html.P(
                "The workbook is checked as soon as it is chosen; nothing is stored until you "
                "submit it.",
                className="form-text",
            ),
            updating("upload-check", "Check of the workbook"),
            dcc.Store(id="upload-findings-data"),
            dcc.Download(id="upload-findings-file"),
            html.Div(
                [
                    html.H3("4. Submit", className="h4 mt-4"),
                    html.Button(
                        "Submit the return",
                        id="upload-submit",
                        className="btn btn-success",
                        disabled=True,
                        type="button",
                    ),
                ]
            ),
            updating("upload-result", "Result of the submission", announced=True),
        ]
    )


def register(app: Dash, sources: Sources) -> None:
    """The page's callbacks; each checks what the browser sent against what the signed-in user
    may choose, and records a refusal in the audit log."""

    @app.callback(
        Output("upload-template", "href"),
        Output("upload-template-hint", "children"),
        Input("upload-agency", "value"),
        Input("upload-area", "value"),
        Input("upload-period", "value"),
    )
    def template_link(agency: object, area: object, period: object) -> Any:
        chosen = _chosen(sources, current_user(), agency, area, period)
        if chosen is None:
            return "#", " Choose an agency, an area and a quarter first."
        code, area_code, quarter = chosen
        return (
            f"/download/template.xlsx{search(agency=code, area=area_code, period=str(quarter))}",
            f" The {code} template for {quarter}, with last quarter's figures beside it.",
        )

    @app.callback(
        Output("upload-check", "children"),
        Output("upload-submit", "disabled"),
        Output("upload-result", "children"),
        Output("upload-findings-data", "data"),
        Input("upload-file", "contents"),
        State("upload-file", "filename"),
        State("upload-agency", "value"),
        State("upload-area", "value"),
        State("upload-period", "value"),
        prevent_initial_call=True,
    )
    def check(
        contents: object, filename: object, agency: object, area: object, period: object
    ) -> Any:
        chosen = _chosen(sources, current_user(), agency, area, period)
        if chosen is None:
            return (
                message("Choose the agency, area and quarter before the workbook."),
                True,
                "",
                None,
            )
        content = _decoded(contents)
        if content is None:
            user = current_user()
            note(
                sources.store.connection,
                user.username,
                "upload",
                "refused",
                agency=chosen[0],
                detail={"why": "not a file's contents, or too large"},
            )
            return message("That file could not be received: choose it again."), True, "", None
        result = _ingest(sources, current_user(), content, filename, chosen, dry_run=True)
        kept = {"file": result.file, "findings": [f.to_dict() for f in result.findings]}
        return (
            _findings(result, explain=True),
            result.outcome != "accepted" and not _only_queries(result),
            "",
            kept if result.findings else None,
        )

    @app.callback(
        Output("upload-findings-file", "data"),
        Input("upload-findings-download", "n_clicks"),
        State("upload-findings-data", "data"),
        prevent_initial_call=True,
    )
    def download_findings(clicks: object, kept: object) -> Any:
        findings = _kept_findings(kept)
        if not clicks or findings is None:
            return no_update
        name, found = findings
        stem = name.rsplit(".", 1)[0]
        return {
            "content": base64.b64encode(findings_report(name, found)).decode(),
            "filename": f"findings - {stem}.xlsx",
            "base64": True,
            "type": XLSX,
        }

    @app.callback(
        Output("upload-result", "children", allow_duplicate=True),
        Output("upload-submit", "disabled", allow_duplicate=True),
        Input("upload-submit", "n_clicks"),
        State("upload-file", "contents"),
        State("upload-file", "filename"),
        State("upload-agency", "value"),
        State("upload-area", "value"),
        State("upload-period", "value"),
        State({"type": "upload-explain", "code": ALL}, "value"),
        State({"type": "upload-explain", "code": ALL}, "id"),
        prevent_initial_call=True,
    )
    def submit(
        clicks: object,
        contents: object,
        filename: object,
        agency: object,
        area: object,
        period: object,
        texts: object,
        ids: object,
    ) -> Any:
        if not clicks or ctx.triggered_id != "upload-submit":
            return no_update, no_update
        chosen = _chosen(sources, current_user(), agency, area, period)
        content = _decoded(contents)
        if chosen is None or content is None:
            return message("Choose the return and the workbook again, then submit."), True
        explanations = _explanations(texts, ids)
        try:
            result = _ingest(
                sources,
                current_user(),
                content,
                filename,
                chosen,
                dry_run=False,
                explanations=explanations,
            )
        except StoreError as error:  # someone else submitted the same return at this moment
            return html.P(str(error), className="alert alert-warning", role="status"), False
        return _findings(result, explain=False), result.outcome in ("accepted", "unchanged")


def _chosen(
    sources: Sources, user: User, agency: object, area: object, period: object
) -> tuple[str, str, Period] | None:
    """The return chosen, if the user may upload it. Anything sent that the page never offers
    (another agency, an unknown quarter, a value of the wrong type) is refused and audited;
    a choice not yet made is simply not a return."""
    code = text_choice(agency, [a.code for a in sources.dataset.agencies])
    # A data lead returns for the partnership's own area (another area's figures are that
    # area's partnership's to send).
    area_code = text_choice(area, [sources.home.ons_code])
    quarter = period_choice(period, upload_periods(sources))
    unoffered = [
        name
        for name, sent, found in (
            ("agency", agency, code),
            ("area", area, area_code),
            ("quarter", period, quarter),
        )
        if sent is not None and found is None
    ]
    if code is not None and not may(user, "upload", code):
        unoffered.append("agency not the user's")
    if unoffered:
        note(
            sources.store.connection,
            user.username,
            "upload",
            "refused",
            agency=code,
            detail={"not offered": unoffered},
        )
        return None
    if code is None or area_code is None or quarter is None:
        return None
    return code, area_code, quarter


def _decoded(contents: object) -> bytes | None:
    """The file's bytes from the data URL the browser sent (``data:...;base64,...``)."""
    if not isinstance(contents, str) or "," not in contents:
        return None
    if len(contents) > MAX_UPLOAD_BYTES * 4 // 3 + 200:  # base64 and its header: too big
        return None
    try:
        content = base64.b64decode(contents.split(",", 1)[1], validate=True)
    except (binascii.Error, ValueError):
        return None
    return content if len(content) <= MAX_UPLOAD_BYTES else None


def _explanations(texts: object, ids: object) -> dict[str, str]:
    if not isinstance(texts, list) or not isinstance(ids, list) or len(texts) != len(ids):
        return {}
    given = {}
    for text, key in zip(texts, ids, strict=True):
        code = key.get("code") if isinstance(key, dict) else None
        if isinstance(code, str) and isinstance(text, str) and text.strip():
            given[code] = text.strip()[:2000]
    return given


def _ingest(
    sources: Sources,
    user: User,
    content: bytes,
    filename: object,
    chosen: tuple[str, str, Period],
    *,
    dry_run: bool,
    explanations: dict[str, str] | None = None,
) -> IngestResult:
    code, area, period = chosen
    return ingest(
        sources.store,
        content,
        filename if isinstance(filename, str) else "upload.xlsx",
        submitted_by=user.username,
        submitting=Submitting(agency=code, area=area, period=period),
        explanations=explanations,
        dry_run=dry_run,
        dataset=sources.dataset,
    )


def _only_queries(result: IngestResult) -> bool:
    """Whether all that stands between the file and acceptance is queries to explain."""
    blocking = [f for f in result.findings if f.severity == "error"]
    return (
        result.outcome == "rejected"
        and not blocking
        and any(f.severity == "query" for f in result.findings)
    )


def _findings(result: IngestResult, *, explain: bool) -> list[Any]:
    outcome = {
        "accepted": "alert alert-success",
        "unchanged": "alert alert-info",
        "rejected": "alert alert-danger" if not _only_queries(result) else "alert alert-warning",
    }[result.outcome]
    shown: list[Any] = [html.P(_headline(result), className=outcome, role="status")]
    if result.findings:
        shown.append(_findings_table(result.findings))
        if explain:  # a check: the findings can be taken away to work through
            shown.append(
                html.Button(
                    "Download the findings (Excel)",
                    id="upload-findings-download",
                    className="btn btn-outline-primary",
                    type="button",
                )
            )
    queries = [f for f in result.findings if f.severity == "query"]
    if explain and queries and not any(f.severity == "error" for f in result.findings):
        shown.append(html.H4("Explain each query", className="h5 mt-3"))
        for key in sorted({q.code or WHOLE_RETURN for q in queries}):
            field_id = {"type": "upload-explain", "code": key}
            carried = (
                f" (carried forward from version {result.carried_from}: confirm it or change it)"
                if key in result.carried
                else ""
            )
            shown.append(
                html.Div(
                    [
                        html.Label(
                            f"Explanation for {key}{carried}",
                            htmlFor=f'{{"code":"{key}","type":"upload-explain"}}',
                            className="form-label",
                        ),
                        dcc.Textarea(
                            id=field_id,
                            className="form-control",
                            maxLength=2000,
                            value=result.carried.get(key, ""),
                        ),
                    ],
                    className="mb-3",
                )
            )
    return shown


def _kept_findings(kept: object) -> tuple[str, list[Finding]] | None:
    """The findings the page kept from its last check (the browser holds them: each is checked
    to be plain text before it goes into a spreadsheet, and there are only so many)."""
    if not isinstance(kept, dict) or not isinstance(kept.get("findings"), list):
        return None
    fields = ("severity", "rule", "message", "sheet", "cell", "code")
    found = []
    for item in kept["findings"][:2000]:
        if not isinstance(item, dict):
            return None
        values = {key: item.get(key) for key in fields}
        if not all(v is None or (isinstance(v, str) and len(v) <= 2000) for v in values.values()):
            return None
        if values["severity"] not in _SEVERITY or not values["rule"] or not values["message"]:
            return None
        found.append(Finding(**values))  # type: ignore[arg-type]
    name = kept.get("file")
    return (name if isinstance(name, str) else "upload.xlsx")[:120], found


def _headline(result: IngestResult) -> str:
    if result.dry_run and result.outcome == "accepted" and result.carried:
        count = len(result.carried)
        return (
            f"{result.file} passed every check. {count} explanation{'s' * (count != 1)} "
            f"{'was' if count == 1 else 'were'} carried forward from version "
            f"{result.carried_from}, as the queries are unchanged: confirm or change "
            "below, then submit."
        )
    if result.dry_run and result.outcome == "accepted":
        return f"{result.file} passed every check. Submit it to store it."
    if result.dry_run and _only_queries(result):
        count = sum(1 for f in result.findings if f.severity == "query")
        return (
            f"{result.file} has {count} quer{'ies' if count != 1 else 'y'} to explain: say why "
            "below, then submit."
        )
    return result.message


def _findings_table(findings: list[Finding]) -> Any:
    return table(
        f"{len(findings)} finding{'s' * (len(findings) != 1)}, each with where it is",
        ["Kind", "Sheet", "Cell", "Measure", "What to do"],
        [
            [
                _SEVERITY[f.severity],
                f.sheet or "–",
                f.cell or "–",
                f.code or "–",
                f.message,
            ]
            for f in findings
        ],
        table_id="upload-findings",
    )
