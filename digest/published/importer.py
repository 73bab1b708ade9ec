"""Importing published files into the store: recognise each by its columns, parse it, store it.

Every file is recognised before any is stored, so an unknown file stops the import with nothing
written. Each file is then parsed and stored in its own transaction, replacing an earlier import
of the same file (the same edition). A folder stands for the CSV and parquet files in it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import duckdb

from digest.published import compact, ees, lait, neighbours, population
from digest.published.files import PublishedFileError, csv_header, edition_of, sha256_of
from digest.store import published as store
from digest.store.published import Edition

Family = Literal["ees", "population", "neighbours", "lait", "lait_dictionary", "compact"]
SOURCES: dict[Family, str] = {
    "ees": "DfE",
    "population": "ONS",
    "neighbours": "DfE",
    "lait": "LAIT",
    "lait_dictionary": "LAIT",
    "compact": "DfE, LAIT and ONS",
}
_FOLDER_FILES = ("*.csv", "*.parquet")
_KNOWN = (
    "an Explore Education Statistics tidy CSV (with time_period and geographic_level columns), "
    "the ONS population estimates, a statistical-neighbour model (SN1 to SN10), LAIT's "
    "bds_long.parquet, LAIT's data dictionary or this project's compact extract"
)


@dataclass(frozen=True)
class ImportSummary:
    """What one imported file added to the store."""

    file: Path
    family: Family
    source: str
    edition: str
    rows: int
    years: tuple[int, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    def describe(self) -> str:
        """One line for the command line: the file, its source and edition, rows and years."""
        span = f"{self.years[0]}–{self.years[-1]}" if self.years else "no years"
        return f"{self.file.name}: {self.rows} rows from {self.source} ({self.edition}), {span}"

    def to_dict(self) -> dict[str, Any]:
        """The summary as a JSON-ready object."""
        return {
            "file": str(self.file),
            "family": self.family,
            "source": self.source,
            "edition": self.edition,
            "rows": self.rows,
            "years": list(self.years),
            "notes": list(self.notes),
        }


def _expand(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted({f for pattern in _FOLDER_FILES for f in path.glob(pattern)})
            if not found:
                raise PublishedFileError(f"The folder {path} holds no CSV or parquet file.")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise PublishedFileError(f"{path} does not exist (or is not a file).")
    return list(dict.fromkeys(files))


def recognise(path: Path) -> Family:
    """The family of a published file, from its columns; a plain error if it is none of them."""
    with path.open("rb") as handle:
        start = handle.read(4)
    if start == b"PAR1":
        columns = lait.parquet_columns(path)
        if lait.is_data(columns):
            return "lait"
    elif start.startswith(b"PK"):
        raise PublishedFileError(
            f"{path.name} is a workbook or zip file; the importer reads {_KNOWN}."
        )
    else:
        columns = csv_header(path)
        if compact.is_compact(columns):
            return "compact"
        if population.is_population(columns):
            return "population"
        if ees.is_tidy(columns):
            return "ees"
        if neighbours.is_model(columns):
            return "neighbours"
        if lait.is_dictionary(columns):
            return "lait_dictionary"
    shown = ", ".join(columns[:8]) + (", ..." if len(columns) > 8 else "")
    found = f"Its columns are: {shown}." if columns else "It has no columns the importer can read."
    raise PublishedFileError(
        f"{path.name} is not a published file the importer knows. It reads {_KNOWN}. {found}"
    )


def _edition(path: Path, family: Family, years: tuple[int, ...]) -> Edition:
    sha256 = sha256_of(path)
    last = years[-1] if years else None
    return Edition(
        source=SOURCES[family],
        edition=edition_of(path, last, sha256),
        family=family,
        file_name=path.name,
        sha256=sha256,
        first_year=years[0] if years else None,
        last_year=last,
    )


@contextmanager
def _collector_paused() -> Iterator[None]:
    # A file's rows are hundreds of thousands of small tuples and none is cyclic: left running,
    # the cyclic collector rescans the growing list again and again (a third of LAIT's import).
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def import_file(connection: duckdb.DuckDBPyConnection, path: Path, family: Family) -> ImportSummary:
    """Parse one recognised file and store it, replacing an earlier import of the same edition."""
    with _collector_paused():
        return _import(connection, path, family)


def _import(connection: duckdb.DuckDBPyConnection, path: Path, family: Family) -> ImportSummary:
    rows: int
    if family in ("ees", "lait"):
        parsed = ees.parse(path) if family == "ees" else lait.parse(path)
        years, notes = parsed.years(), parsed.notes
        edition = _edition(path, family, years)
        rows = store.replace_figures(connection, edition, parsed.figures, parsed.measures)
    elif family == "compact":
        rows, years = compact.import_compact(connection, path)
        return ImportSummary(path, family, SOURCES[family], f"extract {path.name}", rows, years)
    elif family == "population":
        estimates = population.parse(path)
        years, notes = estimates.years(), estimates.notes
        edition = _edition(path, family, years)
        rows = store.replace_populations(connection, edition, estimates.populations)
    elif family == "neighbours":
        model = neighbours.parse(path)
        years, notes = (int(model.model),), model.notes
        edition = _edition(path, family, years)
        rows = store.replace_neighbours(connection, edition, model.model, model.neighbours)
    else:
        measures, notes = lait.parse_dictionary(path)
        years = ()
        edition = _edition(path, family, years)
        rows = store.replace_measures(connection, edition, measures)
    return ImportSummary(path, family, edition.source, edition.edition, rows, years, tuple(notes))


def import_published(
    connection: duckdb.DuckDBPyConnection, paths: list[Path]
) -> list[ImportSummary]:
    """Import published files (or folders of them) into the store; one summary per file.

    Raises :class:`PublishedFileError`, naming the file, if any file is missing or not a
    published file the importer knows: nothing is stored then. A recognised file that turns out
    unreadable further in stops the import there; the files before it stay imported, each whole.
    """
    recognised = [(path, recognise(path)) for path in _expand(paths)]
    return [import_file(connection, path, family) for path, family in recognised]
