"""The challenge log as the chair and a data lead use it: raised from the exception report,
answered by the owning agency's data lead, closed by the chair, each signed in with their own
account on the real server in headless Chromium."""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from openpyxl import load_workbook

from tests.browser.conftest import PASSWORD, serious_violations
from tests.browser.test_pages import choose

pytestmark = pytest.mark.browser

CHAIR = "chair@kestrelford.example"
CSC_LEAD = "csc.lead@kestrelford.example"
#: A CSC indicator the demo's latest quarter flags as outside the local target.
FLAGGED = "Return home interviews completed (%)"
ASKED = "Why are fewer return home interviews completed this quarter, and what is being done?"


def sign_in(page, username: str) -> None:
    """Sign in through the sign-in form, as a person does."""
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector(".digest-account")
    assert f"Signed in as {username.split('@')[0]}" in page.inner_text(".digest-account")


def sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_selector("form.digest-login")


def test_the_chair_raises_a_challenge_the_data_lead_answers_it_and_the_chair_closes_it(page):
    # The chair raises a challenge from a flag on the exception report.
    sign_in(page, CHAIR)
    page.goto("/exceptions")
    page.wait_for_selector("#exceptions-content table")
    row = page.locator("#exceptions-table tbody tr", has_text=FLAGGED).first
    row.get_by_text("Raise a challenge").click()
    row.get_by_label("What is asked of Children's social care").fill(ASKED)
    due = row.get_by_label("Answer due by")
    assert re.fullmatch(r"\d{1,2} [A-Z][a-z]+ \d{4}", due.input_value())  # four weeks on
    assert serious_violations(page) == []
    row.get_by_role("button", name="Raise the challenge").click()
    raised = row.locator(".alert")
    raised.wait_for()
    found = re.match(r"Challenge (\d+) raised", raised.inner_text())
    assert found, raised.inner_text()
    number = found.group(1)
    sign_out(page)

    # The CSC data lead answers it on the Challenges page.
    sign_in(page, CSC_LEAD)
    page.goto("/challenges")
    page.wait_for_selector("#challenges-table")
    assert ASKED in page.inner_text("#challenges-table")
    assert serious_violations(page) == []
    choose(page, "challenges-answer-id", f"Challenge {number}: {FLAGGED}")
    page.get_by_label("Your answer").fill("A new provider since July; completions are back up.")
    page.get_by_role("button", name="Send the answer").click()
    page.wait_for_selector("#challenges-answer-result .alert")
    assert f"Your answer to challenge {number}" in page.inner_text("#challenges-answer-result")
    sign_out(page)

    # The chair accepts the answer and closes the challenge.
    sign_in(page, CHAIR)
    page.goto("/challenges")
    page.wait_for_selector("#challenges-table")
    assert serious_violations(page) == []
    choose(page, "challenges-decide-id", f"Challenge {number}: {FLAGGED}")
    page.get_by_role("button", name="Close the challenge").click()
    page.wait_for_selector("#challenges-decide-result .alert")
    assert f"Challenge {number} ({FLAGGED}) is closed." in page.inner_text(
        "#challenges-decide-result"
    )
    closed = page.locator("#challenges-table tbody tr", has_text=ASKED)
    page.wait_for_function(
        "document.querySelector('#challenges-table').innerText.includes('Closed')"
    )
    text = closed.inner_text()
    assert "Closed" in text and "A new provider since July" in text and CHAIR in text

    # And it is in the meeting pack the chair downloads, closed, with the answer.
    page.goto("/pack")
    page.wait_for_selector("#pack-build")
    assert serious_violations(page) == []
    choose(page, "pack-format", "Excel workbook")
    page.get_by_role("button", name="Build the pack").click()
    ready = page.get_by_role("link", name=re.compile("^Download PQA pack"))
    ready.wait_for(timeout=60_000)  # the page follows the build until its file is ready
    assert "The pack is ready" in page.inner_text("#pack-status")
    with page.expect_download() as downloading:
        ready.click()
    assert downloading.value.suggested_filename.endswith("internal.xlsx")
    book = load_workbook(BytesIO(downloading.value.path().read_bytes()))
    log = [row for row in book["Challenges"].iter_rows(values_only=True) if ASKED in row]
    assert len(log) == 1
    assert "Closed" in log[0] and "A new provider since July; completions are back up." in log[0]


def test_an_administrator_manages_accounts_on_an_accessible_page(page):
    sign_in(page, "admin@kestrelford.example")
    page.goto("/accounts")
    page.wait_for_selector("#accounts-list")
    assert "csc.lead@kestrelford.example" in page.inner_text("#accounts-list")
    assert serious_violations(page) == []
    page.get_by_label("Username (an email address)").fill("police.lead@kestrelford.example")
    page.get_by_label("Name as shown").fill("Police lead")
    choose(page, "accounts-new-role", "Data lead")
    choose(page, "accounts-new-agencies", "Police (POLICE)")
    page.get_by_label("First password (at least 12 characters)").fill(PASSWORD)
    page.get_by_role("button", name="Add the account").click()
    page.wait_for_selector("#accounts-add-result .alert")
    assert "Added police.lead@kestrelford.example, a data lead for POLICE." in page.inner_text(
        "#accounts-add-result"
    )
    page.wait_for_function(
        "document.querySelector('#accounts-list').innerText.includes('police.lead@')"
    )
