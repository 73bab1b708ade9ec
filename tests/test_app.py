"""The app's Returns page, served by the real Dash server and called as a browser would."""

from __future__ import annotations

import json

import pytest

from digest.app.server import create_app
from digest.ingest import ingest
from tests.conftest import figures, workbook_bytes


@pytest.fixture
def client(store, dataset, demo_returns):
    result = ingest(
        store,
        workbook_bytes(dataset, figures(demo_returns)),
        "csc.xlsx",
        submitted_by="lead@example.org",
    )
    assert result.outcome == "accepted"
    return create_app(store, dataset=dataset).server.test_client()


def call(client, output: str, inputs: list[tuple[str, object]]):
    body = {
        "output": output,
        "outputs": {"id": output.split(".")[0], "property": "children"},
        "inputs": [{"id": i, "property": "value", "value": v} for i, v in inputs],
        "changedPropIds": [f"{inputs[0][0]}.value"],
    }
    response = client.post(
        "/_dash-update-component", data=json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 200
    return json.dumps(response.get_json())


def test_the_page_is_served_with_the_synthetic_data_banner(client):
    page = client.get("/")
    assert page.status_code == 200
    layout = json.dumps(client.get("/_dash-layout").get_json())
    assert "Synthetic demo data" in layout
    assert "2025-26 Q2" in layout


def test_the_returns_table_shows_who_submitted_and_who_is_missing(client):
    shown = call(client, "returns-table.children", [("returns-period", "2025-26 Q2")])
    assert "Children's social care (CSC)" in shown
    assert "version 1" in shown and "lead@example.org" in shown
    assert shown.count("Missing") == 5


def test_each_figure_shows_the_version_sheet_and_cell_it_came_from(client, demo_returns):
    shown = call(
        client,
        "returns-figures.children",
        [("returns-period", "2025-26 Q2"), ("returns-agency", "CSC")],
    )
    referrals = figures(demo_returns)["CSC.REFERRALS"]
    assert f"{referrals:,}" in shown
    assert "version 1, sheet 'Return' cell E5" in shown


@pytest.mark.parametrize("period", [{"$ne": 1}, ["2025-26 Q2"], "2019-20 Q1", "x" * 100_000, None])
def test_choices_the_page_never_offers_are_refused_on_the_server(client, period):
    shown = call(client, "returns-table.children", [("returns-period", period)])
    assert "Choose a quarter from the list." in shown


def test_an_agency_that_is_not_offered_is_refused(client):
    shown = call(
        client,
        "returns-figures.children",
        [("returns-period", "2025-26 Q2"), ("returns-agency", "CSC' or 1=1 --")],
    )
    assert "Choose a quarter and an agency from the lists." in shown
