"""Time the refusal of each hostile file of the reliability catalogue (T01-T12), end to end.

    .venv/bin/python -m benchmarks.hostile [--runs 5]

Each file goes through the whole ingest of an upload (the container check, the parse in the
memory-limited child process, the refusal and its audit event in a real DuckDB file), as the
test suite sends it; the suite checks what is refused and says, this measures how long it takes
and how much this process's memory grows (the parse itself runs in the child). The catalogue
asks for a zip bomb refused in under a second and a cell at XFD1048576 in under two.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from digest.ingest import ingest
from digest.store.database import connect
from digest.store.returns import ReturnsStore
from tests import hostile

FILES: list[tuple[str, Callable[[], bytes]]] = [
    ("T01 zip bomb (expands to 296 MB)", hostile.zip_bomb),
    ("T02 billion laughs in a sheet", hostile.billion_laughs_sheet),
    ("T03 billion laughs in the shared strings", hostile.billion_laughs_shared_strings),
    ("T03 XXE in the workbook part", hostile.xxe_workbook),
    ("T04 one cell at XFD1048576", hostile.xfd1048576),
    ("T05 a sheet going on for 2,500 rows", hostile.rows_beyond_area),
    ("T07 a real .xls named .xlsx", hostile.real_xls),
    ("T08 a password-protected workbook", hostile.encrypted_xlsx),
]


def main() -> None:
    """Print the median and worst time to refuse each file, and the growth of this process."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = ReturnsStore(connect(Path(folder) / "hostile.duckdb"))
        ingest(store, hostile.small_return(), "warm-up.xlsx", submitted_by="bench")
        start_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for name, make in FILES:
            content = make()
            seconds = []
            for _ in range(args.runs):
                began = time.perf_counter()
                result = ingest(store, content, "return.xlsx", submitted_by="bench")
                seconds.append(time.perf_counter() - began)
                assert result.outcome == "rejected", (name, result.message)
            print(
                f"{name:<46} {len(content) / 1024:8.0f} KB   median "
                f"{statistics.median(seconds) * 1000:7.1f} ms   worst {max(seconds) * 1000:7.1f} ms"
            )
        grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - start_rss) / 1024
        print(f"this process's peak memory grew by {grown:.1f} MB over all of them")


if __name__ == "__main__":
    main()
