"""Time a full ingest of one return against pandas + openpyxl merely reading the same workbook.

    .venv/bin/python benchmarks/ingest.py [--runs 50]

Both are timed in the same run on the same workbooks: the CSC return (20 measures) written by the
template and filled by the demo generator. A full ingest is the whole path of a data lead's
upload: the container check, the parse in the warm child process, validation including the
queries against last quarter's stored return, and the DuckDB transaction, in a real database
file, that stores the new version, its values, findings and audit event. Every file differs from
the last (one figure changes), so each run stores a new version.

Two kinds of return are timed: a typical one (no query), and one whose figures moved enough to
raise queries, submitted with 20 explanations.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import pandas as pd

from digest.demo import DemoReturn, generate_returns, return_workbook
from digest.domain.periods import Period
from digest.ingest import ingest
from digest.store.database import connect
from digest.store.returns import ReturnsStore
from digest.workbook.fill import Entry

PERIOD = Period(2025, 2)


def _timed(runs: list[bytes], action: Callable[[bytes], object]) -> list[float]:
    seconds = []
    for content in runs:
        start = time.perf_counter()
        action(content)
        seconds.append(time.perf_counter() - start)
    return seconds


def _summary(name: str, seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    median = statistics.median(ordered) * 1000
    return f"{name:<58} median {median:6.2f} ms   p95 {p95 * 1000:6.2f} ms   (n={len(ordered)})"


def _versions(demo: DemoReturn, count: int) -> list[bytes]:
    """``count`` workbooks of the same return, each with one figure one higher than the last."""
    books = []
    for i in range(count):
        values = dict(demo.values)
        values["CSC.CIN_OPEN"] = int(values["CSC.CIN_OPEN"] or 0) + i
        books.append(return_workbook(DemoReturn(demo.agency, demo.area, demo.period, values)))
    return books


def main() -> None:
    """Run the benchmark; print the median and 95th percentile of each measurement."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()

    demos = {(d.agency, d.period): d for d in generate_returns(first=PERIOD.shift(-1), last=PERIOD)}
    now, before = demos[("CSC", PERIOD)], demos[("CSC", PERIOD.shift(-1))]
    steady: dict[str, Entry] = {c: round(int(v or 0) * 1.03) for c, v in now.values.items()}
    last_quarter = DemoReturn("CSC", now.area, PERIOD.shift(-1), steady)
    typical, queried = _versions(now, args.runs + 1), _versions(now, args.runs + 1)
    reasons = {code: "Natural variation, checked with the team." for code in now.values}

    with tempfile.TemporaryDirectory() as folder:
        store = ReturnsStore(connect(Path(folder) / "bench.duckdb"))
        ingest(store, return_workbook(last_quarter), "q1.xlsx", submitted_by="bench")
        ingest(store, typical[0], "warm-up.xlsx", submitted_by="bench")  # starts the reader

        def full(content: bytes) -> None:
            result = ingest(store, content, "return.xlsx", submitted_by="bench")
            assert result.outcome == "accepted" and not result.findings, result.message

        full_typical = _timed(typical[1:], full)

        store = ReturnsStore(connect(Path(folder) / "queried.duckdb"))
        ingest(store, return_workbook(before), "q1.xlsx", submitted_by="bench")

        def full_with_queries(content: bytes) -> None:
            result = ingest(
                store, content, "return.xlsx", submitted_by="bench", explanations=reasons
            )
            assert result.outcome == "accepted", result.message

        full_queried = _timed(queried[1:], full_with_queries)

    pandas_all = _timed(
        typical[1:],
        lambda c: pd.read_excel(BytesIO(c), engine="openpyxl", sheet_name=None, header=None),
    )
    pandas_return = _timed(
        typical[1:],
        lambda c: pd.read_excel(BytesIO(c), engine="openpyxl", sheet_name="Return", header=None),
    )

    print(f"workbook: {len(typical[1]):,} bytes, 3 sheets, {len(now.values)} measures")
    print(_summary("full ingest, typical return (check, parse, validate, store)", full_typical))
    print(_summary("full ingest, return with queries and 20 explanations", full_queried))
    print(_summary("pandas.read_excel(engine='openpyxl'), all sheets", pandas_all))
    print(_summary("pandas.read_excel(engine='openpyxl'), the Return sheet only", pandas_return))
    ratio = statistics.median(pandas_all) / statistics.median(full_typical)
    print(
        f"a typical full ingest takes {1 / ratio:.2f} times as long as pandas+openpyxl "
        "reading the workbook"
    )


if __name__ == "__main__":
    main()
