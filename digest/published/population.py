"""ONS mid-year population estimates as DfE publishes them: an EES tidy file by age group.

``time_period`` is the mid-year of the estimate (2024 is mid-2024, the denominator DfE uses for
the year ending 31 March 2025). ``Children aged 0 to 17 years`` is stored as age group ``0-17``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from digest.published import ees
from digest.published.files import PublishedFileError, ees_year, parse_cell, read_csv, slug
from digest.store.published import PopulationRow

VALUE = "population_estimate"
AGE = "age_group"


@dataclass
class ParsedPopulations:
    """The estimates of one file and what was noticed on the way."""

    populations: list[PopulationRow]
    notes: list[str] = field(default_factory=list)

    def years(self) -> tuple[int, ...]:
        """The distinct mid-years of the estimates, in order."""
        return tuple(sorted({row.year for row in self.populations}))


def is_population(header: list[str]) -> bool:
    """Whether a tidy file's only figure is a population estimate by age group."""
    return ees.is_tidy(header) and set(ees.value_columns(header)) == {VALUE, AGE}


def age_group(label: str) -> str:
    """'Children aged 0 to 17 years' → '0-17'; a label without a range as an identifier."""
    found = re.search(r"(\d+)\s*(?:to|-)\s*(\d+)", label)
    return f"{found.group(1)}-{found.group(2)}" if found else slug(label)


def parse(path: Path) -> ParsedPopulations:
    """Every estimate of a population file; an unavailable one (``x``) has no value."""
    header, rows = read_csv(path)
    if not is_population(header):
        raise PublishedFileError(f"{path.name} is not a population estimates file.")
    areas = ees.AreaReader(header)
    period_at, value_at, age_at = (header.index(n) for n in ("time_period", VALUE, AGE))
    populations: list[PopulationRow] = []
    seen: set[tuple[str, int, str]] = set()
    for line, row in rows:
        located = areas.area(row) if len(row) >= len(header) else None
        if located is None:
            continue
        year = ees_year(row[period_at])
        cell = parse_cell(row[value_at])
        if year is None or cell is None:
            raise PublishedFileError(
                f"{path.name}: line {line} has no readable year or population estimate."
            )
        group = age_group(row[age_at])
        key = (located[0], year, group)
        if key in seen:
            raise PublishedFileError(
                f"{path.name}: two estimates for {located[0]} in {year}, ages {group}."
            )
        seen.add(key)
        populations.append(PopulationRow(located[0], year, group, *cell))
    return ParsedPopulations(populations, areas.notes())
