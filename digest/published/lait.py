"""The Local Authority Interactive Tool's benchmarking data (``bds_long.parquet``) and dictionary.

The parquet file has one row per measure, period and area: ``Short Desc`` is the measure's code
(``CPP_rate``, ``Continue_Assess_Comp``; ``Data item`` is mostly empty), ``Years`` the period as
LAIT labels it, ``LA and Regions`` and ``LA Number`` the area, ``Values`` the figure as text.

- The year is the year the label ends in: '2025' → 2025, '2024-25 (OT)' → 2025, '2014-16' → 2016.
  LAIT mixes financial, academic and calendar years; the dictionary's ``Year_Type`` (stored with
  each measure) says which. The label itself is kept as the figure's period.
- Areas: England, the regions and London's halves by name; local authorities by DfE code.
- ``-`` (no figure) is stored as ``x``, not available, with no value.
- Values printed in full (``2.2999999999999998``) are stored as published (2.3).
- ``FirstYJS`` (first-time entrants, a rate per 100,000) has for England the sum of the nine
  regional rates: that row is stored as ``invalid``, with no value, when it is such a sum.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import duckdb

from digest.published import geography
from digest.published.files import (
    ParsedFigures,
    PublishedFileError,
    label_end_year,
    parse_cell,
    read_csv,
)
from digest.store.published import FigureRow, MeasureRow

DATA_COLUMNS = ("Short Desc", "Years", "LA and Regions", "LA Number", "Values")
DICTIONARY_COLUMNS = ("Measure_short", "Polarity", "Description", "Methodology")
ENGLAND = "E92000001"
MISSING = "-"
INVALID = "invalid"
#: Measures whose England row LAIT fills with the sum of the regional rates.
ENGLAND_IS_SUM_OF_REGIONS = frozenset({"FirstYJS"})
# Nine regional rates each rounded to a whole number: their sum is within 4.5 of the true sum.
_SUM_TOLERANCE = 5.0
_POLARITY = {"high": "high", "low": "low", "-": "neutral"}
_NOT_GIVEN = {"", "-", "na", "n/a"}
_SELECT = """
    select "Short Desc", "Years", "LA and Regions",
        coalesce(cast("LA Number" as varchar), ''), coalesce(cast("Values" as varchar), '')
    from read_parquet(?)
"""


def parquet_columns(path: Path) -> list[str]:
    """The column names of a parquet file; empty if it is not one."""
    connection = duckdb.connect()
    try:
        rows = connection.execute("describe select * from read_parquet(?)", [str(path)]).fetchall()
    except duckdb.Error:
        return []
    finally:
        connection.close()
    return [str(row[0]) for row in rows]


def is_data(columns: list[str]) -> bool:
    """Whether a parquet file's columns are those of LAIT's long benchmarking data."""
    return all(name in columns for name in DATA_COLUMNS)


def is_dictionary(header: list[str]) -> bool:
    """Whether a CSV header is that of LAIT's data dictionary."""
    return all(name in header for name in DICTIONARY_COLUMNS)


def _read(path: Path) -> list[tuple[str, str, str, str, str]]:
    connection = duckdb.connect()  # a plain in-memory database: it may read the file
    try:
        return connection.execute(_SELECT, [str(path)]).fetchall()
    except duckdb.Error as error:
        raise PublishedFileError(
            f"{path.name} could not be read as a parquet file: {error}"
        ) from None
    finally:
        connection.close()


def _area(name: str, number: str) -> tuple[str, str] | None:
    code = geography.region_or_country(name)
    if code is not None:
        return code, "country" if code == ENGLAND else "region"
    code = geography.from_dfe_code(number)
    return (code, "la") if code is not None else None


def parse(path: Path) -> ParsedFigures:
    """Every figure of LAIT's long data, measures by their LAIT code."""
    areas: dict[tuple[str, str], tuple[str, str] | None] = {}
    years: dict[str, int | None] = {}
    unknown_areas: Counter[str] = Counter()
    no_year: Counter[str] = Counter()
    figures: list[FigureRow] = []
    seen: set[tuple[str, str, int]] = set()
    for measure, label, name, number, text in _read(path):
        if label not in years:
            years[label] = label_end_year(label)
        year = years[label]
        if year is None:
            no_year[label] += 1
            continue
        if (name, number) not in areas:
            areas[(name, number)] = _area(name, number)
        located = areas[(name, number)]
        if located is None:
            unknown_areas[name] += 1
            continue
        cell = (None, "x") if text.strip() == MISSING else parse_cell(text)
        if cell is None:
            raise PublishedFileError(
                f"{path.name}: {measure} for {name} in {label} is '{text[:20]}', neither a "
                "number nor '-'."
            )
        key = (measure, located[0], year)
        if key in seen:
            raise PublishedFileError(
                f"{path.name}: {measure} is given twice for {name} in {year} (as '{label}')."
            )
        seen.add(key)
        figures.append(FigureRow(measure, *located, year, label, *cell))
    notes = _mark_sums_of_regions(figures)
    notes += [
        f"{count} rows with period '{label}' skipped: the label has no year"
        for label, count in sorted(no_year.items())
    ]
    notes += [
        f"{count} rows for '{name}' skipped: not an area the registry knows"
        for name, count in sorted(unknown_areas.items())
    ]
    return ParsedFigures(figures, [], notes)


def _mark_sums_of_regions(figures: list[FigureRow]) -> list[str]:
    """Mark an England row that is the sum of the regional rates as invalid; say which."""
    england: dict[tuple[str, int], int] = {}
    regions: dict[tuple[str, int], list[float | None]] = defaultdict(list)
    for position, figure in enumerate(figures):
        if figure.measure not in ENGLAND_IS_SUM_OF_REGIONS:
            continue
        key = (figure.measure, figure.year)
        if figure.area_code == ENGLAND:
            england[key] = position
        elif figure.area_code.startswith("E12"):
            regions[key].append(figure.value)
    marked: list[str] = []
    for key, position in sorted(england.items()):
        value = figures[position].value
        regional = regions[key]
        known = [v for v in regional if v is not None]
        if (
            value is not None
            and len(known) == len(regional) == 9
            and abs(value - sum(known)) <= _SUM_TOLERANCE
            and value > max(known)
        ):
            figures[position] = figures[position]._replace(value=None, status=INVALID)
            marked.append(f"{key[0]} {key[1]}")
    if not marked:
        return []
    return [
        "England's figure is the sum of the nine regional rates, not a rate, so it is stored as "
        f"'{INVALID}' with no value: {', '.join(marked)}"
    ]


def _given(text: str) -> str | None:
    cleaned = text.replace("\r\r\n", "\n").replace("\r\n", "\n").strip()
    return None if cleaned.casefold() in _NOT_GIVEN else cleaned


def parse_dictionary(path: Path) -> tuple[list[MeasureRow], list[str]]:
    """LAIT's description of every measure, by its code; and what was noticed on the way."""
    header, rows = read_csv(path)
    if not is_dictionary(header):
        raise PublishedFileError(f"{path.name} is not LAIT's data dictionary.")
    index = {name: position for position, name in enumerate(header)}

    def cell(row: list[str], name: str) -> str:
        position = index.get(name)
        return row[position] if position is not None and position < len(row) else ""

    measures: dict[str, MeasureRow] = {}
    repeated = 0
    for _, row in rows:
        code = cell(row, "Measure_short").strip()
        if not code:
            continue
        if code in measures:  # the same measure listed under a second topic
            repeated += 1
            continue
        measures[code] = MeasureRow(
            measure=code,
            title=_given(cell(row, "Chart_title")) or _given(cell(row, "Measure")),
            description=_given(cell(row, "Description")),
            unit=_given(cell(row, "y_axis_name")),
            polarity=_POLARITY.get(cell(row, "Polarity").strip().casefold()),
            year_type=_given(cell(row, "Year_Type")),
            methodology=_given(cell(row, "Methodology")),
            link=_given(cell(row, "Hyperlink(s)")),
        )
    notes = [f"{repeated} measures listed twice (under two topics): the first kept"]
    return list(measures.values()), notes if repeated else []
