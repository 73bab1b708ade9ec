"""Time the digest's report (indicators with benchmarks, comparison and flags) as the app calls it.

    .venv/bin/python benchmarks/report.py [--runs 20] [--published ../shared/benchmarks]

Two stores, each with the published DfE, LAIT and ONS files imported in full (the folders under
``--published``; the demo's compact extract when they are absent):

- the demo scale: the demo borough's returns, 2022-23 Q3 to 2026-27 Q2, stored without workbooks;
- 33 London boroughs x 43 quarters of every agency's returns (as ``benchmarks/indicators.py``).

For each it times loading the published book (every published figure, population, neighbour
group and measure description the 26 indicators need, read once) and :func:`report` with the book
given, for the 26 indicators over the last 12 quarters stored for one area; on the large store
also over 40 quarters, and for the 33 boroughs pooled. Medians over ``--runs``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path

import duckdb

from digest.compare.benchmarks import PublishedBook
from digest.compare.report import report
from digest.compute.definitions import load_indicators
from digest.compute.engine import Scope
from digest.demo import DEMO_AREA, DEMO_FIRST, DEMO_LAST, generate_returns, store_generated
from digest.domain.areas import london_boroughs
from digest.domain.dataset import load_dataset
from digest.domain.periods import Period, quarters
from digest.published.compact import import_compact
from digest.published.importer import import_published
from digest.store.database import connect
from digest.store.returns import ReturnsStore

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "benchmarks"
FIRST, LAST = Period(2016, 1), Period(2025, 4)  # 40 quarters, as benchmarks/indicators.py
TODAY = date(2026, 3, 1)


def _median_ms(runs: int, action: Callable[[], object]) -> float:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds) * 1000


def _store(path: Path, areas: list[str], first: Period, last: Period, published: Path) -> None:
    dataset = load_dataset()
    connection = connect(path)
    store = ReturnsStore(connection)
    for area in areas:
        for demo in generate_returns(area, first, last, dataset=dataset):
            store_generated(store, demo, dataset)
    if published.is_dir():
        import_published(connection, [published / "dfe", published / "lait"])
    else:
        import_compact(connection, ROOT / "data" / "published" / "benchmarks.csv")
    connection.close()


def _time(
    label: str,
    connection: duckdb.DuckDBPyConnection,
    scopes: dict[str, Scope],
    last: Period,
    counts: tuple[int, ...],
    runs: int,
) -> None:
    indicators = list(load_indicators().values())
    load = _median_ms(runs, lambda: PublishedBook.load(connection, indicators))
    book = PublishedBook.load(connection, indicators)
    print(f"{label}: book load {load:.1f} ms")
    for name, scope in scopes.items():
        for count in counts:
            periods = quarters(last.shift(1 - count), last)
            run = partial(report, connection, indicators, scope, periods, book=book, today=TODAY)
            lines = len(run())
            took = _median_ms(runs, run)
            print(f"  report, {name}, {count} quarters ({lines} lines): {took:.1f} ms")


def main() -> None:
    """Build both stores and time the book and the report on each."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--published", type=Path, default=SHARED)
    args = parser.parse_args()
    boroughs = [a.ons_code for a in london_boroughs()]
    with tempfile.TemporaryDirectory() as folder:
        demo, large = Path(folder) / "demo.duckdb", Path(folder) / "large.duckdb"
        _store(demo, [DEMO_AREA], DEMO_FIRST, DEMO_LAST, args.published)
        _store(large, boroughs, FIRST.shift(-3), LAST, args.published)
        connection = connect(demo, read_only=True)
        demo_scope = {DEMO_AREA: Scope.single(DEMO_AREA)}
        _time("demo scale", connection, demo_scope, DEMO_LAST, (12,), args.runs)
        connection.close()
        connection = connect(large, read_only=True)
        scopes = {
            boroughs[21]: Scope.single(boroughs[21]),
            "london": Scope("london", tuple(boroughs)),
        }
        _time("33 areas x 43 quarters", connection, scopes, LAST, (12, 40), args.runs)
        connection.close()


if __name__ == "__main__":
    main()
