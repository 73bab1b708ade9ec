"""Shared fixtures: a real DuckDB file per test, and real return workbooks built from templates."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook as OpenpyxlWorkbook

from digest.demo import DemoReturn, generate_returns
from digest.domain.areas import find_area
from digest.domain.dataset import Dataset, load_dataset
from digest.domain.periods import Period
from digest.store.database import connect
from digest.store.returns import ReturnsStore
from digest.workbook.fill import Entry, fill_template
from digest.workbook.template import build_template

SHARED = Path(__file__).resolve().parents[2] / "shared"
AREA = "E09000901"
PERIOD = Period(2025, 2)


@pytest.fixture(scope="session")
def dataset() -> Dataset:
    return load_dataset()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "digest.duckdb"


@pytest.fixture
def store(db_path: Path) -> ReturnsStore:
    return ReturnsStore(connect(db_path))


@pytest.fixture(scope="session")
def demo_returns() -> dict[tuple[str, Period], DemoReturn]:
    """Plausible figures for every agency, 2024-25 Q1 to 2026-27 Q1."""
    return {
        (d.agency, d.period): d for d in generate_returns(AREA, Period(2024, 1), Period(2026, 1))
    }


def figures(demo_returns, agency: str = "CSC", period: Period = PERIOD) -> dict[str, Any]:
    """A copy of one agency's demo figures, to change before writing a workbook."""
    return dict(demo_returns[(agency, period)].values)


def workbook_bytes(
    dataset: Dataset,
    values: dict[str, Entry],
    *,
    agency: str = "CSC",
    period: Period = PERIOD,
    area: str = AREA,
    explanations: dict[str, str] | None = None,
    comment: str | None = None,
    edit: Callable[[OpenpyxlWorkbook], None] | None = None,
) -> bytes:
    """A filled-in return, saved as a real .xlsx; ``edit`` changes it as a person might in Excel."""
    template = build_template(dataset, dataset.agency(agency), find_area(area), period)
    content = fill_template(template, values, explanations, comment)
    if edit is None:
        return content
    book = load_workbook(BytesIO(content))
    edit(book)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def set_saved_value(content: bytes, sheet_part: str, ref: str, value: str) -> bytes:
    """Give a formula cell the cached value Excel would have saved (openpyxl writes none)."""
    source = zipfile.ZipFile(BytesIO(content))
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == sheet_part:
                text = data.decode()
                text, count = re.subn(
                    rf'(<c r="{ref}"[^>]*>)(<f>[^<]*</f>)(?:<v\s*/>|<v>[^<]*</v>)?',
                    rf"\g<1>\g<2><v>{value}</v>",
                    text,
                )
                assert count == 1, f"no formula cell {ref} in {sheet_part}"
                data = text.encode()
            target.writestr(item, data)
    return out.getvalue()


def table_counts(store: ReturnsStore) -> dict[str, list[tuple[object, ...]]]:
    """Everything stored except the audit log, to compare before and after a rejected file."""
    connection = store._connection
    return {
        table: connection.execute(f"select * from {table} order by all").fetchall()
        for table in ("submissions", "query_explanations")
    }
