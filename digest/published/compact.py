"""The compact extract of published figures that the demo ships with (``data/published/``).

It holds only what the shipped indicators compare with, for the London boroughs, London and
England: each figure with the source and edition it was imported from, the 0 to 17 population
estimates that rate benchmarks need, and how each measure's years run (a ``measure`` row, its
``period`` the published year type: a calendar-year measure is compared by calendar year). It
is written from a store that imported the published files (``digest benchmarks export``) and
read back like any published file.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import duckdb

from digest.compute.definitions import Indicator
from digest.domain.areas import ENGLAND, LONDON, london_boroughs
from digest.published.files import PublishedFileError, sha256_of
from digest.store import published as store
from digest.store.published import Edition, FigureRow, MeasureRow, PopulationRow

COLUMNS = [
    "kind",
    "source",
    "edition",
    "measure",
    "area_code",
    "area_level",
    "year",
    "period",
    "value",
    "status",
]
#: The first year (ending 31 March) kept: ten years of quarters back from the latest.
FIRST_YEAR = 2016
ATTRIBUTION = "Contains public sector information licensed under the Open Government Licence v3.0."


def is_compact(header: list[str]) -> bool:
    """Whether a CSV header is that of the compact extract."""
    return header == COLUMNS


def _measures(indicators: Iterable[Indicator]) -> set[tuple[str, str]]:
    wanted: set[tuple[str, str]] = set()
    for indicator in indicators:
        spec = indicator.benchmark
        if spec is None:
            continue
        for code in [spec.value, *(spec.numerator or []), spec.denominator]:
            if code is not None:
                wanted.add((spec.source, code))
    return wanted


def export(connection: duckdb.DuckDBPyConnection, indicators: Iterable[Indicator]) -> str:
    """The compact extract, as CSV text, of what the indicators compare with."""
    areas = [a.ons_code for a in london_boroughs()] + [LONDON, ENGLAND]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for source, measure in sorted(_measures(indicators)):
        for figure in store.published_series(connection, source, measure, areas):
            if figure.year < FIRST_YEAR:
                continue
            writer.writerow(
                [
                    "figure",
                    figure.source,
                    figure.edition,
                    figure.measure,
                    figure.area_code,
                    figure.area_level,
                    figure.year,
                    figure.period,
                    "" if figure.value is None else repr(figure.value),
                    figure.status,
                ]
            )
    for source, measure in sorted(_measures(indicators)):
        described = store.published_measure(connection, source, measure)
        if described is not None and described.get("year_type"):
            writer.writerow(
                [
                    "measure",
                    source,
                    described["edition"],
                    measure,
                    "",
                    "",
                    "",
                    described["year_type"],
                    "",
                    "",
                ]
            )
    for area, year, value, status, source, edition in store.population_rows(connection, areas):
        if year < FIRST_YEAR - 1:
            continue
        level = "country" if area == ENGLAND else "region" if area == LONDON else "la"
        writer.writerow(
            [
                "population",
                source,
                edition,
                "0-17",
                area,
                level,
                year,
                str(year),
                "" if value is None else repr(value),
                status,
            ]
        )
    return out.getvalue()


def import_compact(
    connection: duckdb.DuckDBPyConnection, path: Path
) -> tuple[int, tuple[int, ...]]:
    """Store the extract's figures and estimates under their original sources and editions."""
    figures: dict[tuple[str, str], list[FigureRow]] = defaultdict(list)
    people: dict[tuple[str, str], list[PopulationRow]] = defaultdict(list)
    described: dict[tuple[str, str], list[MeasureRow]] = defaultdict(list)
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        for line, row in enumerate(reader, start=2):
            if row["kind"] == "measure":
                described[(row["source"], row["edition"])].append(
                    MeasureRow(row["measure"], None, None, None, None, row["period"], None, None)
                )
                continue
            try:
                value = float(row["value"]) if row["value"] else None
                year = int(row["year"])
            except (TypeError, ValueError):
                raise PublishedFileError(f"{path.name} line {line}: not a figure.") from None
            key = (row["source"], row["edition"])
            if row["kind"] == "population":
                people[key].append(
                    PopulationRow(row["area_code"], year, row["measure"], value, row["status"])
                )
            elif row["kind"] == "figure":
                figures[key].append(
                    FigureRow(
                        row["measure"],
                        row["area_code"],
                        row["area_level"],
                        year,
                        row["period"],
                        value,
                        row["status"],
                    )
                )
            else:
                raise PublishedFileError(f"{path.name} line {line}: unknown kind.")
    sha256, stored, years = sha256_of(path), 0, set()
    for (source, edition), rows in figures.items():
        span = sorted({r.year for r in rows})
        years.update(span)
        stored += store.replace_figures(
            connection,
            Edition(source, edition, "compact", path.name, sha256, span[0], span[-1]),
            rows,
        )
    for (source, edition), estimates in people.items():
        span = sorted({r.year for r in estimates})
        stored += store.replace_populations(
            connection,
            Edition(source, edition, "compact", path.name, sha256, span[0], span[-1]),
            estimates,
        )
    for (source, edition), measures in described.items():
        store.replace_measures(
            connection, Edition(source, edition, "compact", path.name, sha256, None, None), measures
        )
    return stored, tuple(sorted(years))
