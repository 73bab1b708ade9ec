"""Time a full ingest of one return against pandas + openpyxl merely reading the same workbook.

    .venv/bin/python benchmarks/ingest.py [--runs 50]

Both are timed in the same run on the same workbook (the CSC return, 20 measures, written by the
template and filled by the demo generator). The ingest is the whole path a data lead's upload
takes: the container check, the parse in the warm child process, validation (including the
queries against last quarter), and the DuckDB transaction that stores the version, its values,
findings and audit event in a real database file. Each ingest stores a new version (one figure
changes by one), so nothing is skipped as "unchanged".
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from io import BytesIO
from pathlib import Path

import pandas as pd

from digest.demo import generate_returns, return_workbook
from digest.domain.periods import Period
from digest.ingest import ingest
from digest.store.database import connect
from digest.store.returns import ReturnsStore


def _summary(name: str, seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"{name:<52} median {statistics.median(ordered) * 1000:7.2f} ms"
        f"   p95 {p95 * 1000:7.2f} ms   (n={len(ordered)})"
    )


def main() -> None:
    """Run the benchmark and print median and 95th percentile of each."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()

    period = Period(2025, 2)
    demos = {
        (d.agency, d.period): d for d in generate_returns(first=period.previous(), last=period)
    }
    csc = demos[("CSC", period)]
    workbooks = []
    for i in range(args.runs + 1):
        values = dict(csc.values)
        values["CSC.CIN_OPEN"] = int(values["CSC.CIN_OPEN"]) + i  # type: ignore[arg-type]
        workbooks.append(return_workbook(type(csc)(csc.agency, csc.area, csc.period, values)))

    with tempfile.TemporaryDirectory() as folder:
        store = ReturnsStore(connect(Path(folder) / "bench.duckdb"))
        previous = demos[("CSC", period.previous())]
        ingest(store, return_workbook(previous), "q1.xlsx", submitted_by="bench")
        ingest(store, workbooks[0], "warm-up.xlsx", submitted_by="bench")  # starts the reader
        # Last quarter's figures make the queries run; explanations let every version through.

        reasons = {code: "Natural variation, checked with the team." for code in csc.values}
        full, pandas_all, pandas_return = [], [], []
        for content in workbooks[1:]:
            start = time.perf_counter()
            result = ingest(
                store, content, "return.xlsx", submitted_by="bench", explanations=reasons
            )
            full.append(time.perf_counter() - start)
            assert result.outcome == "accepted", result.message

            start = time.perf_counter()
            pd.read_excel(BytesIO(content), engine="openpyxl", sheet_name=None, header=None)
            pandas_all.append(time.perf_counter() - start)

            start = time.perf_counter()
            pd.read_excel(BytesIO(content), engine="openpyxl", sheet_name="Return", header=None)
            pandas_return.append(time.perf_counter() - start)

    print(f"workbook: {len(workbooks[1]):,} bytes, {len(csc.values)} measures")
    print(_summary("full ingest (check, parse, validate, store)", full))
    print(_summary("pandas.read_excel(engine='openpyxl'), all sheets", pandas_all))
    print(_summary("pandas.read_excel(engine='openpyxl'), Return sheet", pandas_return))
    ratio = statistics.median(pandas_all) / statistics.median(full)
    print(f"full ingest is {ratio:.1f}x faster than pandas+openpyxl reading all sheets")


if __name__ == "__main__":
    main()
