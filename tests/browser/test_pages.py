"""The app as a person uses it: real server, real database, real headless Chromium."""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from openpyxl import load_workbook

from digest.demo import DEMO_LAST, generate_returns
from digest.workbook.fill import fill_template
from tests.browser.conftest import serious_violations

pytestmark = pytest.mark.browser

LATEST = str(DEMO_LAST)
EARLIER = str(DEMO_LAST.shift(-2))


def choose(page, control: str, option: str) -> None:
    """Pick an option of a drop-down list by its visible text, as a person does."""
    page.click(f"#{control}")
    page.get_by_role("option", name=option).first.click()


def test_the_scorecard_shows_every_theme_with_ratings_in_words(page):
    page.goto("/")
    page.wait_for_selector("#scorecard-content table")
    assert page.title() == "Scorecard - PQA Digest"
    text = page.inner_text("#scorecard-content")
    for theme in ("Child protection", "Front door and assessment", "Youth justice"):
        assert theme in text
    assert re.search(r"(Green|Red|Amber|Not rated)", text)
    assert "Synthetic demo data" in page.inner_text("header")


def test_changing_the_quarter_redraws_the_scorecard_and_the_link(page):
    page.goto("/")
    page.wait_for_selector("#scorecard-content table")
    assert LATEST in page.inner_text("#scorecard-content caption >> nth=0")
    choose(page, "scorecard-period", EARLIER)
    page.wait_for_function(
        f"document.querySelector('#scorecard-content caption').textContent.includes('{EARLIER}')"
    )
    assert f"period={EARLIER.replace(' ', '+')}" in page.url


def test_following_an_indicator_shows_its_trend_london_and_sources(page):
    page.goto("/")
    page.wait_for_selector("#scorecard-content table")
    page.get_by_role("link", name="Re-referrals within 12 months (%)").click()
    page.wait_for_selector("#indicator-content h3")
    assert "indicator=rereferrals" in page.url
    content = page.inner_text("#indicator-content")
    assert "Re-referrals within 12 months (%)" in content
    london = page.locator("#indicator-content table >> nth=0").locator("tr", has_text="London")
    assert re.search(r"\d+\.\d%", london.first.inner_text())
    assert page.locator("#indicator-content .js-plotly-plot").count() >= 1
    assert re.search(r"version \d+, sheet 'Return' cell E\d+", content)


def test_a_shared_link_opens_the_same_view(page):
    page.goto(f"/indicator?indicator=cpp_repeat&area=E09000901&period={EARLIER}")
    page.wait_for_selector("#indicator-content h3")
    assert "Child protection plans for a second or subsequent time" in page.inner_text(
        "#indicator-content h3"
    )
    assert EARLIER in page.inner_text("#indicator-period")
    assert EARLIER in page.inner_text("#indicator-content")


def test_a_link_with_choices_no_list_offers_falls_back_to_the_defaults(page):
    page.goto("/indicator?indicator=<script>&area=E09000022&period=1999-00+Q1")
    page.wait_for_selector("#indicator-content h3")
    assert LATEST in page.inner_text("#indicator-period")


def test_the_exception_report_downloads_as_a_workbook_that_opens(page):
    page.goto("/exceptions")
    page.wait_for_selector("#exceptions-content table")
    flagged = page.locator("#exceptions-table tbody tr").count()
    assert flagged > 0
    with page.expect_download() as download:
        page.click("#exceptions-download")
    content = download.value.path().read_bytes()
    sheet = load_workbook(BytesIO(content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert str(rows[0][0]).startswith("Exception report: Kestrelford")
    headings = next(i for i, row in enumerate(rows) if row[0] == "Theme")
    assert len(rows) - headings - 1 == flagged


def _upload(page, content: bytes, name: str) -> None:
    page.goto("/upload")
    choose(page, "upload-agency", "Children's social care (CSC)")
    choose(page, "upload-period", f"{LATEST} ")
    page.set_input_files(
        "#upload-file input[type=file]",
        files=[{"name": name, "mimeType": "application/octet-stream", "buffer": content}],
    )


def _template(page) -> bytes:
    page.goto("/upload")
    choose(page, "upload-agency", "Children's social care (CSC)")
    choose(page, "upload-period", f"{LATEST} ")
    page.wait_for_function(
        "document.querySelector('#upload-template').getAttribute('href').includes('agency=CSC')"
    )
    with page.expect_download() as download:
        page.click("#upload-template")
    content: bytes = download.value.path().read_bytes()
    return content


def test_a_filled_template_is_checked_then_accepted(page):
    template = _template(page)
    values = dict(
        next(d for d in generate_returns() if d.agency == "CSC" and d.period == DEMO_LAST).values
    )
    values["CSC.CIN_OPEN"] = int(values["CSC.CIN_OPEN"] or 0) + 3  # a correction: a new version
    _upload(page, fill_template(template, values), "csc-corrected.xlsx")
    page.wait_for_selector("#upload-check .alert")
    assert "passed every check" in page.inner_text("#upload-check")
    page.click("#upload-submit")
    page.wait_for_selector("#upload-result .alert")
    result = page.inner_text("#upload-result")
    assert re.search(r"accepted as version \d+ of the CSC return", result), result
    page.goto(f"/returns?period={LATEST.replace(' ', '+')}")
    page.wait_for_selector("#returns-table table")
    assert "demo data lead" in page.inner_text("#returns-table")


def test_a_broken_workbook_shows_each_error_by_sheet_and_cell_and_stores_nothing(page):
    template = _template(page)
    values = dict(
        next(d for d in generate_returns() if d.agency == "CSC" and d.period == DEMO_LAST).values
    )
    values["CSC.REFERRALS"] = "lots"
    values["CSC.S47"] = -4
    _upload(page, fill_template(template, values), "csc-broken.xlsx")
    page.wait_for_selector("#upload-findings")
    findings = page.inner_text("#upload-findings")
    assert "Return" in findings and re.search(r"\bE\d+\b", findings)
    assert "CSC.REFERRALS" in findings and "CSC.S47" in findings
    assert page.is_disabled("#upload-submit")
    assert "was not accepted" in page.inner_text("#upload-check")
    with page.expect_download() as download:
        page.click("#upload-findings-download")
    sheet = load_workbook(BytesIO(download.value.path().read_bytes())).active
    assert sheet is not None
    rows = [r for r in sheet.iter_rows(values_only=True) if r[0] == "Error (must be corrected)"]
    assert {r[3] for r in rows} >= {"CSC.REFERRALS", "CSC.S47"}
    assert all(r[1] == "Return" and r[2] for r in rows)


@pytest.mark.parametrize(
    ("path", "ready"),
    [
        ("/", "#scorecard-content table"),
        ("/indicator?indicator=rereferrals", "#indicator-content .js-plotly-plot"),
        ("/exceptions", "#exceptions-content table"),
        ("/returns", "#returns-table table"),
        ("/pack", "#pack-build"),
        ("/upload", "#upload-file"),
    ],
)
def test_no_page_has_a_serious_accessibility_violation(page, path, ready):
    page.goto(path)
    page.wait_for_selector(ready)
    assert serious_violations(page) == []


def test_the_pages_can_be_reached_and_used_by_keyboard(page):
    page.goto("/")
    page.wait_for_selector("#scorecard-content table")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to the main content"
    reached = set()
    for _ in range(10):  # the sign-out button, six pages in the navigation, then the filters
        page.keyboard.press("Tab")
        reached.add(
            page.evaluate("document.activeElement.id || document.activeElement.textContent")
        )
    assert {"scorecard-period", "scorecard-theme", "scorecard-agency"} <= reached
