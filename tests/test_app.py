"""The app, served by its real Flask server and called over HTTP exactly as a browser calls it.

Every test drives ``create_app`` through the Flask test client: pages are drawn by the router
callback, content by each page's callback at the real ``/_dash-update-component`` endpoint, files
by the download routes. Behind it is a real DuckDB file holding real returns, submitted through
``digest.ingest`` from workbooks built on the templates, and the compact published benchmarks.

The store holds, for the synthetic home borough E09000901:

* 2025-26 Q1: the CSC return only;
* 2025-26 Q2: the CSC return (its one query explained, in words that look like a spreadsheet
  formula) and the Police return.

"Today" is fixed at 5 January 2026 (``Sources.today``): 2025-26 Q3 has ended and its returns
are due on 11 February 2026, while the missing returns for Q1 and Q2 are overdue.

The server must check everything it is sent against what a page offers: values no page offers
(a dict, a list, a number, nothing, a huge string, an unknown quarter, SQL, an unknown indicator,
an area with no returns) are refused with the page's plain "Choose …" message and change nothing
stored.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import time
import zipfile
from collections.abc import Iterator
from datetime import date
from io import BytesIO
from typing import Any

import pytest
from dash import Dash
from openpyxl import load_workbook

from digest.app.pages.upload import MAX_UPLOAD_BYTES, upload_periods
from digest.app.server import create_app
from digest.compute.definitions import load_indicators
from digest.demo import COMPACT_BENCHMARKS
from digest.domain.areas import find_area
from digest.domain.dataset import Dataset
from digest.domain.periods import Period
from digest.ingest import ingest
from digest.published.compact import import_compact
from digest.store.database import connect
from digest.store.returns import ReturnsStore
from digest.store.users import UsersStore
from digest.views.sources import Sources
from digest.workbook import layout
from tests.conftest import AREA, PERIOD, figures, table_counts, workbook_bytes
from tests.dash_calls import call, payload

TODAY = date(2026, 1, 5)
Q1, Q2, Q3 = PERIOD.previous(), PERIOD, PERIOD.next()
#: A CSC measure that falls sharply from Q1 to Q2 in the demo figures, so Q2 raises a query.
QUERIED = "CSC.CPP_STARTED_REPEAT"
#: The explanation given with it: text from a user that a spreadsheet would run as a formula.
EXPLAINED = '=HYPERLINK("http://example.org/steal","Fewer repeat plans after the audit")'
FIRST = "first@borough.example"
USER = "lead@borough.example"
PASSWORD = "a long enough test password"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATA_URL = f"data:{XLSX};base64,"
NOT_IN_STORE = "E09000001"  # the City of London: a real area, with no returns here

#: What a browser can send that no page offers.
UNOFFERED: dict[str, object] = {
    "dict": {"$ne": 1},
    "list": [str(Q2)],
    "number": 2025,
    "none": None,
    "huge": "x" * 100_000,
    "unknown-quarter": "2019-20 Q1",
    "bad-quarter": "2025-26 Q9",
    "sql": "CSC' or 1=1 --",
    "unknown-indicator": "no_such_indicator",
    "area-not-in-store": NOT_IN_STORE,
}


@dataclasses.dataclass
class Served:
    """The app on a store, and a test client of its server."""

    app: Dash
    store: ReturnsStore
    client: Any

    def answer(self, output: str, values: dict[str, Any]) -> dict[str, Any]:
        """The callback's outputs by component id (status 200 and no traceback asserted)."""
        return _answer(call(self.client, self.app, output, values))

    def shown(self, output: str, values: dict[str, Any]) -> list[str]:
        """Every piece of text the callback's outputs show."""
        return texts(self.answer(output, values))


def _answer(response: Any) -> dict[str, Any]:
    text = response.get_data(as_text=True)
    assert response.status_code == 200, text[:500]
    assert "Traceback" not in text
    assert "x" * 1000 not in text  # a huge value sent is never shown back
    answer: dict[str, Any] = response.get_json()["response"]
    return answer


def texts(tree: Any) -> list[str]:
    """Every piece of text a component tree shows: its children's text and titles, in order."""
    if isinstance(tree, str):
        return [tree]
    if isinstance(tree, list):
        return [text for item in tree for text in texts(item)]
    if not isinstance(tree, dict):
        return []
    if "props" not in tree:  # the outputs of a callback, by component or property
        return [text for value in tree.values() for text in texts(value)]
    props = tree["props"]
    title = [props["title"]] if isinstance(props.get("title"), str) else []
    return title + texts(props.get("children"))


def component(tree: Any, component_id: Any) -> dict[str, Any]:
    """The properties of the component with ``component_id`` in a tree."""
    children: list[Any] = []
    if isinstance(tree, dict):
        props = tree.get("props")
        if isinstance(props, dict) and props.get("id") == component_id:
            return props
        children = list(tree.values())
    elif isinstance(tree, list):
        children = tree
    for child in children:
        try:
            return component(child, component_id)
        except LookupError:
            continue
    raise LookupError(f"no component {component_id!r}")


def message_of(answer: dict[str, Any], component_id: str) -> str:
    """The plain message a content area shows in place of content."""
    shown = answer[component_id]["children"]
    assert shown["type"] == "P" and shown["props"]["className"] == "digest-message", shown
    return str(shown["props"]["children"])


def put(
    store: ReturnsStore,
    dataset: Dataset,
    demo_returns: Any,
    agency: str,
    period: Period,
    explanations: dict[str, str] | None = None,
) -> None:
    """Submit one agency's demo return through the real ingest."""
    content = workbook_bytes(
        dataset,
        figures(demo_returns, agency, period),
        agency=agency,
        period=period,
        explanations=explanations,
    )
    result = ingest(store, content, f"{agency}.xlsx", submitted_by=FIRST)
    assert result.outcome == "accepted", result.message


def serve(store: ReturnsStore, dataset: Dataset, demo_returns: Any) -> Served:
    """The benchmarks and three returns in ``store``, and the app reading it."""
    import_compact(store.connection, COMPACT_BENCHMARKS)
    put(store, dataset, demo_returns, "CSC", Q1)
    put(store, dataset, demo_returns, "CSC", Q2, explanations={QUERIED: EXPLAINED})
    put(store, dataset, demo_returns, "POLICE", Q2)
    if UsersStore(store.connection).get(USER) is None:
        UsersStore(store.connection).add(
            USER, "Lead", "data_lead", PASSWORD, [a.code for a in dataset.agencies], actor="admin"
        )
    sources = dataclasses.replace(Sources.open(store), today=lambda: TODAY)
    app = create_app(sources, secret="test secret")
    return Served(app, store, signed_in(app))


def signed_in(app: Dash, username: str = USER) -> Any:
    """A test client of the app's server, signed in through the real sign-in form."""
    client = app.server.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token is not None
    response = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf": token.group(1)}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@pytest.fixture(scope="module")
def served(tmp_path_factory, dataset, demo_returns) -> Iterator[Served]:
    """One app for the tests that only read (those that could write check they did not)."""
    store = ReturnsStore(connect(tmp_path_factory.mktemp("app") / "digest.duckdb"))
    yield serve(store, dataset, demo_returns)
    store.connection.close()


@pytest.fixture
def fresh(store, dataset, demo_returns) -> Served:
    """An app of its own, for a test that stores something."""
    return serve(store, dataset, demo_returns)


# --- The layout and the router ------------------------------------------------------------


def route(served: Served, path: Any, search: Any = "") -> dict[str, Any]:
    """The page the router draws for a path and query string."""
    answer = served.answer(
        "main.children", {"url.pathname": path, "url.search": search, "shown-path.data": None}
    )
    page: dict[str, Any] = answer["main"]["children"]
    return page


def test_the_page_is_served_in_british_english(served):
    page = served.client.get("/")
    assert page.status_code == 200
    assert '<html lang="en-GB">' in page.get_data(as_text=True)


def test_the_layout_says_the_data_are_synthetic_for_the_synthetic_home_area(served):
    response = served.client.get("/_dash-layout")
    assert response.status_code == 200
    shown = texts(response.get_json())
    assert (
        "Synthetic demo data: every figure is made up and describes no real place or child."
        in shown
    )


@pytest.mark.parametrize("home", [NOT_IN_STORE, AREA])
def test_the_banner_shows_only_when_the_home_area_is_synthetic(served, home):
    app = create_app(Sources.open(served.store, home=find_area(home)), secret="test secret")
    shown = texts(signed_in(app).get("/_dash-layout").get_json())
    banner = any(text.startswith("Synthetic demo data") for text in shown)
    assert banner == find_area(home).synthetic


@pytest.mark.parametrize(
    ("path", "heading", "content"),
    [
        ("/", "Scorecard", "scorecard-content"),
        ("/indicator", "Indicator", "indicator-content"),
        ("/exceptions", "Exception report", "exceptions-content"),
        ("/returns", "Returns", "returns-table"),
        ("/upload", "Upload a return", "upload-file"),
    ],
)
def test_each_page_is_drawn_by_the_router(served, path, heading, content):
    page = route(served, path)
    assert texts(page)[0] == heading
    component(page, content)  # the page's content area is there for its callback to fill
    assert "Page not found" not in texts(page)


@pytest.mark.parametrize("path", ["/nope", "/indicator/extra", "/Upload", "/download"])
def test_an_unknown_path_shows_page_not_found(served, path):
    assert texts(route(served, path))[0] == "Page not found"


def test_the_navigation_marks_this_page_and_carries_only_the_area_and_quarter(served):
    answer = served.answer(
        "nav.children",
        {"url.pathname": "/returns", "url.search": f"?area={AREA}&period=2025-26+Q2&theme=x"},
    )
    links = [
        item["props"]["children"]["props"]
        for item in answer["nav"]["children"]["props"]["children"]
    ]
    carried = f"?area={AREA}&period=2025-26+Q2"
    assert [link["href"] for link in links] == [
        f"{path}{carried}"
        for path in ("/", "/exceptions", "/challenges", "/returns", "/pack", "/upload")
    ]
    assert [texts(link["children"]) for link in links] == [
        ["Scorecard"],
        ["Exception report"],
        ["Challenges"],
        ["Returns", " (this page)"],
        ["Meeting pack"],
        ["Upload"],
    ]


def test_a_change_of_query_string_alone_leaves_the_page_to_redraw_itself(served):
    answer = served.answer(
        "main.children",
        {"url.pathname": "/returns", "url.search": "?period=x", "shown-path.data": "/returns"},
    )
    assert answer == {}


def test_a_path_that_is_not_text_draws_the_scorecard(served):
    assert texts(route(served, {"$ne": 1}))[0] == "Scorecard"


def test_a_shared_link_sets_the_choices_on_the_page(served):
    page = route(served, "/indicator", f"?indicator=cpp_repeat&area={AREA}&period=2025-26+Q1")
    assert component(page, "indicator-id")["value"] == "cpp_repeat"
    assert component(page, "indicator-period")["value"] == "2025-26 Q1"


def test_a_shared_link_naming_nothing_offered_falls_back_to_the_latest_quarter(served):
    page = route(served, "/", "?period=2019-20+Q1&area=%3Cscript%3E&theme=%7B%7D&agency=1")
    assert component(page, "scorecard-area")["value"] == AREA
    assert component(page, "scorecard-period")["value"] == str(Q2)
    assert component(page, "scorecard-theme")["value"] == "all"
    assert component(page, "scorecard-agency")["value"] == "all"
    assert "<script>" not in json.dumps(page)


def test_the_upload_page_offers_the_last_eight_quarters_that_have_ended(served):
    page = route(served, "/upload")
    offered = [o["value"] for o in component(page, "upload-period")["options"]]
    assert offered == [str(Q3.shift(-step)) for step in range(8)]  # 2025-26 Q3 to 2023-24 Q4
    assert component(page, "upload-period")["value"] == str(Q3)
    assert f"Uploads are recorded as Lead ({USER})." in texts(page)


# --- What each page shows for the choices it offers ---------------------------------------


def scorecard_values(
    period: Any = str(Q2), theme: Any = "all", agency: Any = "all", area: Any = AREA
) -> dict[str, Any]:
    return {
        "scorecard-area.value": area,
        "scorecard-period.value": period,
        "scorecard-theme.value": theme,
        "scorecard-agency.value": agency,
    }


def indicator_values(
    indicator: Any = "referral_rate", period: Any = str(Q2), area: Any = AREA
) -> dict[str, Any]:
    return {
        "indicator-id.value": indicator,
        "indicator-area.value": area,
        "indicator-period.value": period,
    }


def exceptions_values(
    period: Any = str(Q2),
    agency: Any = "all",
    flag: Any = "all",
    sort: Any = "theme",
    area: Any = AREA,
) -> dict[str, Any]:
    return {
        "exceptions-area.value": area,
        "exceptions-period.value": period,
        "exceptions-agency.value": agency,
        "exceptions-flag.value": flag,
        "exceptions-sort.value": sort,
    }


def returns_values(period: Any = str(Q2), agency: Any = "CSC", area: Any = AREA) -> dict[str, Any]:
    return {
        "returns-area.value": area,
        "returns-period.value": period,
        "returns-agency.value": agency,
    }


def test_the_scorecard_lists_every_indicator_with_its_rating_in_words(served):
    answer = served.answer("scorecard-content.children", scorecard_values())
    shown = texts(answer["scorecard-content"])
    for indicator in load_indicators().values():
        assert indicator.title in shown
    assert "Not rated: neither higher nor lower is better" in shown  # a neutral indicator
    assert "Red: outside the local target" in shown
    assert "Amber: return not received" in shown  # Health sent nothing for Q2
    assert (
        "the HEALTH return for 2025-26 Q2 has not been received "
        "(overdue since 11 November 2025)" in shown
    )
    assert answer["url"]["search"] == f"?area={AREA}&period=2025-26+Q2"


def test_the_scorecard_shows_only_the_theme_and_agency_chosen(served):
    shown = served.shown("scorecard-content.children", scorecard_values(agency="POLICE"))
    assert "MASH police checks returned in time (%)" in shown
    assert "Referrals per 10,000 children" not in shown
    shown = served.shown("scorecard-content.children", scorecard_values(theme="Health"))
    assert "Review health assessments on time (%)" in shown
    assert "MASH police checks returned in time (%)" not in shown
    shown = served.shown(
        "scorecard-content.children", scorecard_values(theme="Health", agency="POLICE")
    )
    assert "No indicator matches the theme and agency chosen." in shown


def test_the_indicator_shows_the_figures_it_came_from_by_version_sheet_and_cell(
    served, demo_returns
):
    answer = served.answer("indicator-content.children", indicator_values())
    shown = texts(answer["indicator-content"])
    assert shown[0] == f"Referrals per 10,000 children, {find_area(AREA).name}"
    referrals = figures(demo_returns, "CSC", Q2)["CSC.REFERRALS"]
    row = shown.index(f"{referrals:,}")
    assert re.fullmatch(
        rf"version 1, sheet 'Return' cell E\d+ \(CSC\.xlsx, .+ by {re.escape(FIRST)}\)",
        shown[row + 1],
    )
    assert answer["url"]["search"] == f"?indicator=referral_rate&area={AREA}&period=2025-26+Q2"


def test_the_exception_report_lists_each_flag_with_the_agencys_explanation(served):
    answer = served.answer("exceptions-content.children", exceptions_values())
    shown = texts(answer["exceptions-content"])
    assert "Return not received" in shown
    assert (
        "the YJS return for 2025-26 Q2 has not been received (overdue since 11 November 2025)"
        in shown
    )
    assert "Outside the local target" in shown
    assert EXPLAINED in shown  # shown as the text it is
    assert answer["exceptions-download"]["href"] == (
        f"/download/exceptions.xlsx?area={AREA}&period=2025-26+Q2"
    )


def test_the_exception_report_filters_by_agency_and_flag(served):
    answer = served.answer(
        "exceptions-content.children", exceptions_values(agency="CSC", flag="outside_target")
    )
    shown = texts(answer["exceptions-content"])
    assert shown[0] == "2 flags"
    assert "Return home interviews completed (%)" in shown
    assert "Return not received" not in shown
    assert answer["exceptions-download"]["href"] == (
        f"/download/exceptions.xlsx?area={AREA}&period=2025-26+Q2&agency=CSC&flag=outside_target"
    )


def test_the_returns_table_shows_who_submitted_and_who_is_overdue(served):
    shown = served.shown("returns-table.children", returns_values())
    assert "Returns for 2025-26 Q2 (July to September 2025): 2 of 6 received" in shown
    csc = shown.index("Children's social care (CSC)")
    assert shown[csc + 1 : csc + 3] == ["Submitted, awaiting sign-off", "version 1"]
    assert shown[csc + 4 : csc + 6] == [FIRST, "1 of 1 explained"]
    police = shown.index("Police (POLICE)")
    assert shown[police + 4] == FIRST
    assert shown.count("Missing: overdue since 11 November 2025") == 4


def test_the_returns_table_offers_the_quarter_just_ended_with_every_return_still_due(served):
    shown = served.shown("returns-table.children", returns_values(period=str(Q3)))
    assert "Returns for 2025-26 Q3 (October to December 2025): 0 of 6 received" in shown
    assert shown.count("Missing: due 11 February 2026") == 6


def test_the_figures_of_a_return_show_their_version_sheet_and_cell(served, demo_returns):
    shown = served.shown("returns-figures.children", returns_values())
    referrals = figures(demo_returns, "CSC", Q2)["CSC.REFERRALS"]
    row = shown.index("CSC.REFERRALS")
    assert shown[row + 2 : row + 4] == [f"{referrals:,}", "version 1, sheet 'Return' cell E5"]


def test_a_return_not_received_has_no_figures_to_show(served):
    shown = served.shown("returns-figures.children", returns_values(agency="HEALTH"))
    assert shown == ["No HEALTH return has been accepted for 2025-26 Q2."]


# --- Values no page offers are refused on the server ---------------------------------------

#: Each content callback: the choices a page offers, the choices it needs, and its refusal.
CONTENT = {
    "scorecard-content": (
        scorecard_values(),
        ["scorecard-area.value", "scorecard-period.value"],
        "Choose an area and a quarter that have returns.",
    ),
    "indicator-content": (
        indicator_values(),
        ["indicator-id.value", "indicator-area.value", "indicator-period.value"],
        "Choose an indicator, an area and a quarter from the lists.",
    ),
    "exceptions-content": (
        exceptions_values(),
        ["exceptions-area.value", "exceptions-period.value"],
        "Choose an area and a quarter that have returns.",
    ),
    "returns-table": (
        returns_values(),
        ["returns-area.value", "returns-period.value"],
        "Choose an area and a quarter from the lists.",
    ),
    "returns-figures": (
        returns_values(),
        ["returns-area.value", "returns-period.value", "returns-agency.value"],
        "Choose a quarter and an agency from the lists.",
    ),
}
REFUSALS = [
    pytest.param(content, field, value, id=f"{field.removesuffix('.value')}={name}")
    for content, (_, fields, _) in CONTENT.items()
    for field in fields
    for name, value in UNOFFERED.items()
]


@pytest.mark.parametrize(("content", "field", "value"), REFUSALS)
def test_a_choice_no_page_offers_is_refused_with_a_plain_message(served, content, field, value):
    valid, _, refusal = CONTENT[content]
    before = table_counts(served.store)
    answer = served.answer(f"{content}.children", {**valid, field: value})
    assert message_of(answer, content) == refusal
    assert "url" not in answer  # the address bar is left as it was
    assert answer.get("exceptions-download", {"href": "#"})["href"] == "#"
    assert table_counts(served.store) == before


@pytest.mark.parametrize(
    ("content", "values"),
    [
        ("scorecard-content", scorecard_values(period=str(Q3))),
        ("indicator-content", indicator_values(period=str(Q3))),
        ("exceptions-content", exceptions_values(period=str(Q3))),
    ],
)
def test_a_quarter_with_no_returns_yet_is_refused_where_only_quarters_with_returns_are_offered(
    served, content, values
):
    answer = served.answer(f"{content}.children", values)
    assert message_of(answer, content) == CONTENT[content][2]


@pytest.mark.parametrize(
    ("content", "values", "field", "default"),
    [
        ("scorecard-content", scorecard_values, "theme", "all"),
        ("scorecard-content", scorecard_values, "agency", "all"),
        ("exceptions-content", exceptions_values, "agency", "all"),
        ("exceptions-content", exceptions_values, "flag", "all"),
        ("exceptions-content", exceptions_values, "sort", "theme"),
    ],
)
@pytest.mark.parametrize("bad", ["dict", "list", "none", "huge", "sql"])
def test_a_filter_no_page_offers_is_ignored_as_if_its_default_were_chosen(
    served, content, values, field, default, bad
):
    expected = served.answer(f"{content}.children", values(**{field: default}))
    assert served.answer(f"{content}.children", values(**{field: UNOFFERED[bad]})) == expected


# --- Downloads ------------------------------------------------------------------------------


def test_the_template_for_an_offered_quarter_is_a_return_template(served, demo_returns):
    response = served.client.get(
        f"/download/template.xlsx?agency=CSC&area={AREA}&period=2025-26+Q3"
    )
    assert response.status_code == 200
    assert response.mimetype == XLSX
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="CSC-{AREA}-2025-26Q3.xlsx"'
    )
    book = load_workbook(BytesIO(response.data))
    assert book.sheetnames == ["Instructions", "Cover", "Return"]
    sheet = book[layout.RETURN_SHEET]
    previous = {
        sheet.cell(row=row, column=layout.CODE_COLUMN).value: sheet.cell(
            row=row, column=layout.PREVIOUS_COLUMN
        ).value
        for row in range(layout.FIRST_MEASURE_ROW, sheet.max_row + 1)
    }
    # last quarter's accepted figure is beside the blank for this quarter's
    assert previous["CSC.REFERRALS"] == figures(demo_returns, "CSC", Q2)["CSC.REFERRALS"]


@pytest.mark.parametrize(
    "query",
    [
        f"agency=NOPE&area={AREA}&period=2025-26+Q3",
        f"agency=CSC%27+or+1%3D1+--&area={AREA}&period=2025-26+Q3",
        f"area={AREA}&period=2025-26+Q3",
        f"agency=CSC&area={AREA}&period=2019-20+Q1",  # before the quarters offered
        f"agency=CSC&area={AREA}&period=2025-26+Q4",  # not ended
        f"agency=CSC&area={AREA}&period=2025-26+Q9",
        f"agency=CSC&area={AREA}",
        f"agency=CSC&area={NOT_IN_STORE}&period=2025-26+Q3",
        "agency=CSC&area=E99999999&period=2025-26+Q3",
        "agency=CSC&period=2025-26+Q3",
        "agency=CSC&area=" + "x" * 100_000 + "&period=2025-26+Q3",
    ],
)
def test_a_template_no_page_offers_is_not_found(served, query):
    assert served.client.get(f"/download/template.xlsx?{query}").status_code == 404


def test_the_exception_report_download_is_inert_text(served):
    response = served.client.get(f"/download/exceptions.xlsx?area={AREA}&period=2025-26+Q2")
    assert response.status_code == 200
    assert response.mimetype == XLSX
    book = load_workbook(BytesIO(response.data))
    sheet = book.worksheets[0]
    assert str(sheet["A1"].value).startswith("Exception report")
    cells = [c.value for row in sheet.iter_rows() for c in row]
    assert EXPLAINED in cells  # the agency's explanation, kept as the text it is
    with zipfile.ZipFile(BytesIO(response.data)) as archive:
        xml = "".join(
            archive.read(name).decode()
            for name in archive.namelist()
            if name.startswith("xl/worksheets/")
        )
    assert "<f>" not in xml and "<f " not in xml
    assert "<hyperlink" not in xml


def test_the_exception_report_download_keeps_the_filters_chosen(served):
    response = served.client.get(
        f"/download/exceptions.xlsx?area={AREA}&period=2025-26+Q2&agency=CSC&flag=outside_target"
    )
    assert response.status_code == 200
    rows = list(load_workbook(BytesIO(response.data)).worksheets[0].iter_rows(values_only=True))
    heading = next(i for i, row in enumerate(rows) if row[0] == "Theme")
    assert [(row[1], row[3]) for row in rows[heading + 1 :]] == [
        ("Return home interviews completed (%)", "Outside the local target"),
        ("Return home interviews offered within 72 hours (%)", "Outside the local target"),
    ]


@pytest.mark.parametrize(
    "query",
    [
        f"area={AREA}&period=2025-26+Q3",  # no returns yet
        f"area={AREA}&period=2019-20+Q1",
        f"area={AREA}&period=%7B%22%24ne%22%3A1%7D",
        f"area={AREA}",
        "period=2025-26+Q2",
        f"area={NOT_IN_STORE}&period=2025-26+Q2",
        "area=E09000901%27+or+1%3D1+--&period=2025-26+Q2",
    ],
)
def test_an_exception_report_no_page_offers_is_not_found(served, query):
    assert served.client.get(f"/download/exceptions.xlsx?{query}").status_code == 404


# --- Meeting pack ---------------------------------------------------------------------------


def pack_values(**chosen: Any) -> dict[str, Any]:
    values = {"area": AREA, "covers": "2025-26 Q2", "edition": "publishable", "format": "xlsx"}
    values |= chosen
    return {f"pack-{key}.value": value for key, value in values.items()}


def build_pack_file(served: Served, client: Any = None, **chosen: Any) -> tuple[Any, str]:
    """Press "Build the pack", follow the build as the page does, and return the answer that
    ended it with the download link's address ("" when there is none)."""
    client = client or served.client
    started = _answer(
        call(
            client,
            served.app,
            "pack-build-id.data",
            {"pack-build.n_clicks": 1, **pack_values(**chosen)},
        )
    )
    build_id = started["pack-build-id"]["data"]
    if build_id is None:
        return started, ""
    for tick in range(600):
        answer = _answer(
            call(
                client,
                served.app,
                "pack-status.children",
                {"pack-poll.n_intervals": tick, "pack-build-id.data": build_id},
            )
        )
        if answer["pack-poll"]["disabled"]:
            link = (
                component(answer["pack-ready"], "pack-download") if answer.get("pack-ready") else {}
            )
            return answer, link.get("href", "")
        time.sleep(0.1)
    raise AssertionError("the build did not end")


def test_the_pack_page_offers_each_quarter_and_year_and_says_what_the_edition_is(served):
    page = route(served, "/pack")
    offered = component(page, "pack-covers")["options"]
    assert [o["value"] for o in offered] == ["2025-26 Q2", "2025-26 Q1", "year 2025-26"]
    answer = served.answer("pack-marking.children", pack_values())
    assert texts(answer["pack-marking"])[0].startswith("Publishable edition: counts from 1 to 5")


def test_the_pack_is_built_with_its_progress_shown_and_downloads_as_an_inert_workbook(fresh):
    answer, href = build_pack_file(fresh)
    assert texts(answer["pack-status"])[0].startswith("The pack is ready: PQA pack ")
    response = fresh.client.get(href)
    assert response.status_code == 200 and response.mimetype == XLSX
    assert "attachment" in response.headers["Content-Disposition"]
    book = load_workbook(BytesIO(response.data))
    assert "Challenges" in book.sheetnames and "Snapshot" in book.sheetnames
    assert str(book["Cover"]["A2"].value).startswith("Publishable edition")
    with zipfile.ZipFile(BytesIO(response.data)) as archive:
        xml = "".join(
            archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/worksheets/")
        )
    assert "<f>" not in xml and "<f " not in xml and "<hyperlink" not in xml
    [done] = [e for e in fresh.store.audit_log(3) if e["action"] == "export"]
    assert (done["actor"], done["outcome"]) == (USER, "done")
    assert json.loads(done["detail"])["edition"] == "publishable"
    # The file is for whoever asked for it: anyone else is told there is none.
    UsersStore(fresh.store.connection).add(
        "member@borough.example", "M", "member", PASSWORD, actor="admin"
    )
    assert signed_in(fresh.app, "member@borough.example").get(href).status_code == 404
    assert fresh.client.get("/download/pack?build=not-a-build").status_code == 404


def test_a_data_lead_builds_the_publishable_edition_only(fresh):
    answer, href = build_pack_file(fresh, edition="internal")
    assert href == ""
    assert texts(answer["pack-status"])[0].startswith("The internal edition is for the sub-group")
    [refused] = [e for e in fresh.store.audit_log(3) if e["action"] == "export"]
    assert (refused["actor"], refused["outcome"]) == (USER, "refused")


@pytest.mark.parametrize(
    "forged",
    [
        {"covers": "2025-26 Q3"},  # no returns yet
        {"covers": "year 2019-20"},
        {"covers": {"$ne": 1}},
        {"edition": "unsuppressed"},
        {"format": "docx"},
        {"area": NOT_IN_STORE},
    ],
)
def test_a_pack_no_page_offers_is_refused_and_recorded(fresh, forged):
    marked = fresh.answer("pack-marking.children", pack_values(**forged))
    assert texts(marked["pack-marking"]) == [
        "Choose what the pack covers, its edition and its format."
    ]
    answer, href = build_pack_file(fresh, **forged)
    assert href == "" and answer["pack-build-id"]["data"] is None
    refused = [e for e in fresh.store.audit_log(5) if e["outcome"] == "refused"]
    assert len(refused) == 2  # the marking's callback and the build's


# --- Upload ---------------------------------------------------------------------------------


def data_url(content: bytes) -> str:
    """The file as the upload component sends it."""
    return DATA_URL + base64.b64encode(content).decode()


def upload_values(
    contents: Any, agency: Any = "CSC", period: Any = str(Q2), area: Any = AREA
) -> dict[str, Any]:
    return {
        "upload-file.contents": contents,
        "upload-file.filename": f"{agency}-return.xlsx",
        "upload-agency.value": agency,
        "upload-area.value": area,
        "upload-period.value": period,
    }


def submit(served: Served, values: dict[str, Any], explanations: dict[str, str]) -> Any:
    """Click "Submit the return", with the explanations typed into the boxes shown."""
    body = payload(served.app, "upload-result.children", {"upload-submit.n_clicks": 1, **values})
    boxes = [{"type": "upload-explain", "code": code} for code in explanations]
    for position, item in enumerate(body["state"]):
        if isinstance(item["id"], str) and item["id"].startswith("{"):  # the boxes, by pattern
            body["state"][position] = [
                {
                    "id": box,
                    "property": item["property"],
                    "value": explanations[box["code"]] if item["property"] == "value" else box,
                }
                for box in boxes
            ]
    return _answer(
        served.client.post(
            "/_dash-update-component", data=json.dumps(body), content_type="application/json"
        )
    )


def changed_csc_return(dataset: Dataset, demo_returns: Any, *, queried: bool = True) -> bytes:
    """A corrected CSC return for Q2 that does not explain its query; with ``queried`` the
    queried figure is among the corrections, so its query is asked afresh."""
    values = figures(demo_returns, "CSC", Q2)
    values["CSC.S47"] = int(values["CSC.S47"]) + 1
    if queried:
        values[QUERIED] = int(values[QUERIED]) + 1
    return workbook_bytes(dataset, values, agency="CSC", period=Q2)


def test_an_unchanged_query_keeps_its_explanation_to_confirm_or_change(
    fresh, dataset, demo_returns
):
    """T32 in the app: the box comes filled with the answer given before; sent as it is, it is
    the data lead's own again, and left out it is stored as carried forward."""
    content = changed_csc_return(dataset, demo_returns, queried=False)
    answer = fresh.answer("upload-check.children", upload_values(data_url(content)))
    shown = texts(answer["upload-check"])
    assert shown[0] == (
        "CSC-return.xlsx passed every check. 1 explanation was carried forward from version 1, "
        "as the queries are unchanged: confirm or change below, then submit."
    )
    assert (
        f"Explanation for {QUERIED} (carried forward from version 1: confirm it or change it)"
        in shown
    )
    box = component(answer, {"type": "upload-explain", "code": QUERIED})
    assert box["value"] == EXPLAINED
    assert answer["upload-submit"]["disabled"] is False

    answer = submit(fresh, upload_values(data_url(content)), {})
    assert texts(answer["upload-result"])[0].endswith(
        f"The explanations for {QUERIED} were carried forward from version 1, as their queries "
        "are unchanged: please confirm them."
    )
    current = fresh.store.current("CSC", AREA, Q2)
    assert current is not None and fresh.store.carried(current.id) == {QUERIED: 1}
    shown = fresh.shown("returns-table.children", returns_values())
    assert "1 of 1 explained (1 carried forward: to confirm)" in shown
    flagged = fresh.shown("exceptions-content.children", exceptions_values())
    assert any(text.startswith("(Carried forward from version 1: to confirm)") for text in flagged)


def test_checking_a_workbook_stores_nothing_and_says_it_passed(fresh, dataset, demo_returns):
    before = table_counts(fresh.store)
    content = workbook_bytes(dataset, figures(demo_returns, "HEALTH", Q2), agency="HEALTH")
    answer = fresh.answer(
        "upload-check.children", upload_values(data_url(content), agency="HEALTH")
    )
    assert texts(answer["upload-check"]) == [
        "HEALTH-return.xlsx passed every check. Submit it to store it."
    ]
    assert answer["upload-submit"]["disabled"] is False
    assert table_counts(fresh.store) == before


def test_checking_a_workbook_reports_each_finding_with_its_sheet_and_cell(
    fresh, dataset, demo_returns
):
    before = table_counts(fresh.store)
    values = figures(demo_returns, "CSC", Q3)
    values["CSC.S47"] = "lots"
    content = workbook_bytes(dataset, values, period=Q3)
    answer = fresh.answer("upload-check.children", upload_values(data_url(content), period=str(Q3)))
    shown = texts(answer["upload-check"])
    assert "1 finding, each with where it is" in shown
    row = shown.index("Error (must be corrected)")
    assert shown[row + 1 : row + 4] == ["Return", "E9", "CSC.S47"]
    assert "lots" not in shown  # the finding says what is wrong, not what was typed
    assert answer["upload-submit"]["disabled"] is True
    assert table_counts(fresh.store) == before


def test_checking_a_workbook_with_a_query_asks_for_an_explanation(fresh, dataset, demo_returns):
    content = changed_csc_return(dataset, demo_returns)
    answer = fresh.answer("upload-check.children", upload_values(data_url(content)))
    shown = texts(answer["upload-check"])
    assert shown[0] == "CSC-return.xlsx has 1 query to explain: say why below, then submit."
    row = shown.index("Query (explain)")
    assert shown[row + 1 : row + 4] == ["Return", "E13", QUERIED]
    component(answer, {"type": "upload-explain", "code": QUERIED})  # the box to explain it in
    assert answer["upload-submit"]["disabled"] is False


def test_submitting_with_the_explanation_stores_the_next_version(fresh, dataset, demo_returns):
    content = changed_csc_return(dataset, demo_returns)
    reason = "One more enquiry after a late strategy meeting."
    answer = submit(fresh, upload_values(data_url(content)), {QUERIED: reason})
    assert texts(answer["upload-result"])[0] == (
        "CSC-return.xlsx was accepted as version 2 of the CSC return for 2025-26 Q2, "
        "replacing version 1."
    )
    assert answer["upload-submit"]["disabled"] is True
    current = fresh.store.current("CSC", AREA, Q2)
    assert current is not None
    assert (current.version, current.submitted_by) == (2, USER)
    assert fresh.store.explanations(current.id) == {QUERIED: reason}
    shown = fresh.shown("returns-table.children", returns_values())
    row = shown.index("Children's social care (CSC)")
    assert shown[row + 2] == "version 2"
    assert shown[row + 4 : row + 6] == [USER, "1 of 1 explained"]


def test_submitting_without_the_explanation_stores_nothing(fresh, dataset, demo_returns):
    before = table_counts(fresh.store)
    content = changed_csc_return(dataset, demo_returns)
    answer = submit(fresh, upload_values(data_url(content)), {})
    assert "1 query needs an explanation (CSC.CPP_STARTED_REPEAT)" in texts(answer)[0]
    assert answer["upload-submit"]["disabled"] is False
    assert table_counts(fresh.store) == before


def test_a_new_return_is_submitted_as_version_one(fresh, dataset, demo_returns):
    content = workbook_bytes(dataset, figures(demo_returns, "HEALTH", Q2), agency="HEALTH")
    answer = submit(fresh, upload_values(data_url(content), agency="HEALTH"), {})
    assert texts(answer)[0] == (
        "HEALTH-return.xlsx was accepted as version 1 of the HEALTH return for 2025-26 Q2."
    )
    current = fresh.store.current("HEALTH", AREA, Q2)
    assert current is not None
    assert (current.version, current.submitted_by) == (1, USER)
    assert {v.version for v in fresh.store.current_values("HEALTH", AREA, Q2)} == {1}


@pytest.mark.parametrize(
    "contents",
    [
        pytest.param(DATA_URL + "not base64 at all!", id="not-base64"),
        pytest.param(DATA_URL.rstrip(","), id="no-comma"),
        pytest.param(data_url(b"\0" * (MAX_UPLOAD_BYTES + 1)), id="oversized"),
        pytest.param({"$ne": 1}, id="dict"),
        pytest.param(None, id="none"),
    ],
)
def test_a_file_that_cannot_be_received_is_refused_and_nothing_stored(fresh, contents):
    before = table_counts(fresh.store)
    checked = fresh.answer("upload-check.children", upload_values(contents))
    assert texts(checked["upload-check"]) == ["That file could not be received: choose it again."]
    assert checked["upload-submit"]["disabled"] is True
    submitted = submit(fresh, upload_values(contents), {})
    assert texts(submitted["upload-result"]) == [
        "Choose the return and the workbook again, then submit."
    ]
    assert table_counts(fresh.store) == before


@pytest.mark.parametrize(
    ("chosen", "cell", "says"),
    [
        pytest.param(
            {"upload-agency.value": "CSC"},
            "B3",
            "The file is a return for agency POLICE, but you are submitting agency CSC.",
            id="another-agency",
        ),
        pytest.param(
            {"upload-agency.value": "POLICE", "upload-period.value": str(Q2)},
            "B7",
            "The file is a return for period 2025-26 Q3, but you are submitting period 2025-26 Q2.",
            id="another-quarter",
        ),
    ],
)
def test_a_workbook_for_another_return_than_the_one_chosen_is_refused(
    fresh, dataset, demo_returns, chosen, cell, says
):
    before = table_counts(fresh.store)
    content = workbook_bytes(
        dataset, figures(demo_returns, "POLICE", Q3), agency="POLICE", period=Q3
    )
    values = upload_values(data_url(content), agency="POLICE", period=str(Q3)) | chosen
    for answer in (
        fresh.answer("upload-check.children", values),
        submit(fresh, values, {}),
    ):
        shown = texts(answer)
        assert shown[0].endswith("was not accepted: 1 error to correct. Nothing was stored.")
        row = shown.index("Error (must be corrected)")
        assert shown[row + 1 : row + 3] == ["Cover", cell]
        assert shown[row + 4].startswith(says)
    assert table_counts(fresh.store) == before


def test_only_the_queries_of_the_return_submitted_can_be_explained(fresh, dataset, demo_returns):
    content = changed_csc_return(dataset, demo_returns)
    reason = "One more enquiry after a late strategy meeting."
    forged = "Health: every assessment was done in time; ignore this flag."
    answer = submit(
        fresh,
        upload_values(data_url(content)),
        {QUERIED: reason, "HEALTH.IHA_20WD": forged, "NOT.A_MEASURE": "y" * 2000},
    )
    assert "was accepted as version 2" in texts(answer)[0]
    shown = fresh.shown("exceptions-content.children", exceptions_values(agency="HEALTH"))
    assert forged not in shown  # Health sent no return, so it has explained nothing
    current = fresh.store.current("CSC", AREA, Q2)
    assert current is not None
    assert fresh.store.explanations(current.id) == {QUERIED: reason}


def test_a_file_of_the_largest_size_allowed_is_received_and_checked(fresh):
    before = table_counts(fresh.store)
    answer = fresh.answer(
        "upload-check.children", upload_values(data_url(b"\0" * MAX_UPLOAD_BYTES))
    )
    shown = texts(answer["upload-check"])
    assert shown[0] != "That file could not be received: choose it again."
    assert "Nothing was stored." in shown[0]  # received, then refused as no workbook
    assert table_counts(fresh.store) == before


def test_a_file_name_that_is_not_text_is_shown_as_upload_xlsx(fresh, dataset, demo_returns):
    content = workbook_bytes(dataset, figures(demo_returns, "HEALTH", Q2), agency="HEALTH")
    values = upload_values(data_url(content), agency="HEALTH")
    values["upload-file.filename"] = {"name": "../../etc/passwd"}
    answer = fresh.answer("upload-check.children", values)
    assert texts(answer["upload-check"]) == [
        "upload.xlsx passed every check. Submit it to store it."
    ]


def test_nothing_is_submitted_until_the_button_is_clicked(fresh, dataset, demo_returns):
    before = table_counts(fresh.store)
    content = workbook_bytes(dataset, figures(demo_returns, "HEALTH", Q2), agency="HEALTH")
    for clicks in (None, 0):
        values = upload_values(data_url(content), agency="HEALTH")
        response = call(
            fresh.client,
            fresh.app,
            "upload-result.children",
            values | {"upload-submit.n_clicks": clicks},
        )
        assert response.status_code == 200
        assert response.get_json()["response"] == {}  # no output is updated
    assert table_counts(fresh.store) == before


@pytest.mark.parametrize(
    "choice",
    [
        pytest.param({"upload-period.value": "2019-20 Q1"}, id="period-long-ago"),
        pytest.param({"upload-period.value": "2025-26 Q4"}, id="period-not-ended"),
        pytest.param({"upload-period.value": "2026-27 Q1"}, id="period-to-come"),
        pytest.param({"upload-period.value": ["2025-26 Q2"]}, id="period-list"),
        pytest.param({"upload-agency.value": "CSC' or 1=1 --"}, id="agency-sql"),
        pytest.param({"upload-agency.value": None}, id="agency-none"),
        pytest.param({"upload-area.value": NOT_IN_STORE}, id="area-not-in-store"),
        pytest.param({"upload-area.value": {"$ne": 1}}, id="area-dict"),
    ],
)
def test_a_return_no_page_offers_is_refused_and_nothing_stored(
    fresh, dataset, demo_returns, choice
):
    before = table_counts(fresh.store)
    content = data_url(workbook_bytes(dataset, figures(demo_returns, "CSC", Q3), period=Q3))
    values = upload_values(content, period=str(Q3)) | choice
    checked = fresh.answer("upload-check.children", values)
    assert texts(checked["upload-check"]) == [
        "Choose the agency, area and quarter before the workbook."
    ]
    submitted = submit(fresh, values, {})
    assert texts(submitted["upload-result"]) == [
        "Choose the return and the workbook again, then submit."
    ]
    assert table_counts(fresh.store) == before


def test_an_earlier_quarter_with_returns_can_still_be_corrected(fresh, dataset, demo_returns):
    old = Period(2022, 1)
    values = figures(demo_returns, "CSC", Q1)
    put_old = workbook_bytes(dataset, values, period=old)
    assert ingest(fresh.store, put_old, "old.xlsx", submitted_by=FIRST).outcome == "accepted"
    sources = dataclasses.replace(Sources.open(fresh.store), today=lambda: TODAY)
    assert old in upload_periods(sources)
    values["CSC.S47"] = int(values["CSC.S47"]) + 1
    content = data_url(workbook_bytes(dataset, values, period=old))
    answer = submit(fresh, upload_values(content, period=str(old)), {})
    assert texts(answer)[0] == (
        "CSC-return.xlsx was accepted as version 2 of the CSC return for 2022-23 Q1, "
        "replacing version 1."
    )
