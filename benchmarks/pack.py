"""Time building the meeting pack at the demo's scale, in each format and edition.

    .venv/bin/python -m benchmarks.pack [--runs 3]

The demo database (one borough, 16 quarters, six agencies, 26 indicators) is built first through
the real ingest, as ``digest demo`` does. Each build is the whole of ``digest pack``: the figures,
the disclosure control of the publishable edition, the 26 trend charts drawn by kaleido in
headless Chromium, the HTML page, and for a PDF its printing by Chromium.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from digest.demo import build_demo
from digest.domain.periods import Period
from digest.pack.build import FORMATS, make_pack
from digest.pack.content import EDITIONS, build_pack
from digest.store.database import connect
from digest.store.returns import ReturnsStore
from digest.views.sources import Sources

LATEST = Period(2026, 2)


def main() -> None:
    """Print the median and slowest time of each kind of build."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = ReturnsStore(connect(Path(folder) / "demo.duckdb"))
        build_demo(store)
        sources = Sources.open(store)
        area = sources.home.ons_code

        def timed(name: str, build: object) -> None:
            seconds = []
            for _ in range(args.runs):
                began = time.perf_counter()
                build()  # type: ignore[operator]
                seconds.append(time.perf_counter() - began)
            print(
                f"{name:<44} median {statistics.median(seconds):6.2f} s   "
                f"slowest {max(seconds):6.2f} s   (n={len(seconds)})"
            )

        for edition in EDITIONS:
            timed(
                f"figures only, {edition}",
                lambda e=edition: build_pack(sources, area, LATEST, e, built_by="bench"),
            )
        for file_format in FORMATS:
            for edition in EDITIONS:
                timed(
                    f"quarterly pack, {edition}, {file_format}",
                    lambda e=edition, f=file_format: make_pack(
                        sources, area, e, f, built_by="bench", period=LATEST
                    ),
                )
        timed(
            "annual summary 2025-26, publishable, pdf",
            lambda: make_pack(sources, area, "publishable", "pdf", built_by="bench", year=2025),
        )


if __name__ == "__main__":
    main()
