"""Explore Education Statistics "tidy" CSV files: one row per period and area, measures as columns.

Every numeric column is kept as its own measure, named as published (``CPP_subsequent_percent``,
``Duration_0-10_days``, ``2_years_or_more``). A file in long format has a text column naming what
each row counts (``CLA_group``, ``population_type``); its labels become part of the measure name,
lower case with other characters as ``_``:

- with one numeric column (the CLA missing file's ``number``), the measure is the label alone:
  ``percentage_of_children_who_had_a_missing_incident_during_the_year``;
- with several, the label then ``:`` then the column:
  ``children_looked_after_on_31_march_each_year:rate_per_10000``.

With several label columns, their labels are joined by ``:`` in the order of the columns.

Each measure's published label is stored with it as its title. A text column with one value in
the whole file (``category``) only describes the file and is kept as the measures' description.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from digest.published import geography
from digest.published.files import (
    ParsedFigures,
    PublishedFileError,
    ees_year,
    is_ons_code,
    parse_cell,
    read_csv,
    slug,
)
from digest.store.published import FigureRow, MeasureRow

REQUIRED = ("time_period", "geographic_level")
LEVELS = {"National": "country", "Regional": "region", "Local authority": "la"}
_IDENTIFIERS = {"time_period", "time_identifier", "geographic_level"}


def is_tidy(header: list[str]) -> bool:
    """Whether a CSV header is that of an Explore Education Statistics tidy file."""
    return all(name in header for name in REQUIRED)


def value_columns(header: list[str]) -> list[str]:
    """The columns that are neither the period nor a geography (``*_code``, ``*_name``)."""
    return [
        name
        for name in header
        if name and name not in _IDENTIFIERS and not name.endswith(("_code", "_name"))
    ]


class AreaReader:
    """The ONS code and level of each row of a tidy file, noting codes it had to map."""

    def __init__(self, header: list[str]) -> None:
        self._index = {name: position for position, name in enumerate(header)}
        self.mapped: Counter[tuple[str, str]] = Counter()
        self.skipped_levels: Counter[str] = Counter()
        self.unknown: Counter[str] = Counter()

    def _cell(self, row: list[str], name: str) -> str:
        position = self._index.get(name)
        return row[position].strip() if position is not None and position < len(row) else ""

    def area(self, row: list[str]) -> tuple[str, str] | None:
        """``(area_code, area_level)`` of a row; None for a level other than LA, region, England."""
        published_level = self._cell(row, "geographic_level")
        level = LEVELS.get(published_level)
        if level is None:
            self.skipped_levels[published_level] += 1
            return None
        if level == "country":
            return self._cell(row, "country_code") or "E92000001", level
        if level == "region":
            return self._cell(row, "region_code"), level
        code = self._cell(row, "new_la_code")
        if geography.is_known(code):
            return code, level
        # C4 gives Northumberland and Gateshead their pre-2013 ONS codes in some years; the DfE
        # code says which authority it is, under the code every other file uses.
        mapped = geography.from_dfe_code(self._cell(row, "old_la_code"))
        if mapped:
            if code != mapped:
                self.mapped[(code or "(none)", mapped)] += 1
            return mapped, level
        if is_ons_code(code):
            return code, level
        self.unknown[self._cell(row, "la_name") or code or "(no name)"] += 1
        return None

    def notes(self) -> list[str]:
        """What the reader changed or left out, in plain words."""
        notes = [
            f"{count} rows gave {old} for the authority the registry knows as {new} "
            f"(same DfE code); stored under {new}"
            for (old, new), count in sorted(self.mapped.items())
        ]
        notes += [
            f"{count} rows at geographic level '{level}' skipped (only national, regional and "
            "local-authority rows are kept)"
            for level, count in sorted(self.skipped_levels.items())
        ]
        notes += [
            f"{count} rows for '{name}' skipped: neither its ONS nor its DfE code is known"
            for name, count in sorted(self.unknown.items())
        ]
        return notes


def _classify(
    path: Path, header: list[str], rows: list[tuple[int, list[str]]]
) -> tuple[list[str], list[str], dict[str, str]]:
    """The measure columns, the varying label columns and the constant labels of a file."""
    measures: list[str] = []
    labels: list[str] = []
    constants: dict[str, str] = {}
    for name in value_columns(header):
        position = header.index(name)
        cells = [row[position] for _, row in rows]
        unreadable = [cell for cell in cells if parse_cell(cell) is None]
        if not unreadable:
            measures.append(name)
        elif len(unreadable) * 2 < len(cells):
            raise PublishedFileError(
                f"{path.name}: column '{name}' holds numbers and also '{unreadable[0][:30]}', "
                "which is neither a number nor a published symbol (c, x, z, u, k, low)."
            )
        elif len(set(cells)) == 1:
            constants[name] = cells[0].strip()
        else:
            labels.append(name)
    if not measures:
        raise PublishedFileError(f"{path.name} has no column of published figures.")
    return measures, labels, constants


def parse(path: Path) -> ParsedFigures:
    """Every figure of a tidy file, with a status for each suppressed or missing cell."""
    header, rows = read_csv(path)
    if not is_tidy(header):
        raise PublishedFileError(f"{path.name} is not an Explore Education Statistics tidy file.")
    short = [line for line, row in rows if len(row) < len(header)]
    if short:
        raise PublishedFileError(
            f"{path.name}: line {short[0]} has fewer cells than the header "
            f"({len(short)} such lines)."
        )
    measures, labels, constants = _classify(path, header, rows)
    areas = AreaReader(header)
    period_at = header.index("time_period")
    measure_at = {name: header.index(name) for name in measures}
    label_at = [header.index(name) for name in labels]
    description = "; ".join(constants.values()) or None
    figures: list[FigureRow] = []
    titles: dict[str, str] = {}
    seen: set[tuple[str, str, int]] = set()
    for line, row in rows:
        located = areas.area(row)
        if located is None:
            continue
        year = ees_year(row[period_at])
        if year is None:
            raise PublishedFileError(
                f"{path.name}: line {line} has time_period '{row[period_at][:20]}', not a year."
            )
        parts = [row[position].strip() for position in label_at]
        label, labelled = ": ".join(parts), ":".join(slug(part) for part in parts)
        for name, position in measure_at.items():
            if not labels:
                measure, title = name, name
            elif len(measures) == 1:
                measure, title = labelled, label
            else:
                measure, title = f"{labelled}:{name}", f"{label}: {name}"
            key = (measure, located[0], year)
            if key in seen:
                raise PublishedFileError(
                    f"{path.name}: {measure} is given twice for {located[0]} in {year} "
                    f"(line {line}), so the file is not one figure per area and year."
                )
            seen.add(key)
            titles[measure] = title
            value, status = parse_cell(row[position]) or (None, "x")
            figures.append(
                FigureRow(measure, *located, year, row[period_at].strip(), value, status)
            )
    measure_rows = [
        MeasureRow(measure, title, description, None, None, None, None, None)
        for measure, title in titles.items()
    ]
    return ParsedFigures(figures, measure_rows, areas.notes())
