"""Time the app's server-side callbacks, page by page, and the scorecard's first render.

    .venv/bin/python benchmarks/app.py [--runs 30] [--no-browser]

Two stores are timed: the demo (one synthetic borough, 17 quarters, every return submitted
through the real ingest, with the committed published benchmarks), and 33 London boroughs x
43 quarters of synthetic returns (stored without workbooks) with the same benchmarks, the app
reading it for one of the boroughs. Each callback is posted to the real ``/_dash-update-component``
endpoint of the app's Flask server, as a browser posts it, cycling through the quarters; the
time is the whole request on the server. The first render is timed in headless Chromium against
``digest serve``: from asking for ``/`` to the scorecard's tables being on screen.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from digest.app.server import create_app
from digest.demo import COMPACT_BENCHMARKS, build_demo, generate_returns, store_generated
from digest.domain.areas import london_boroughs
from digest.domain.dataset import load_dataset
from digest.domain.periods import Period, quarters
from digest.published.compact import import_compact
from digest.store.database import connect
from digest.store.returns import ReturnsStore
from digest.store.users import UsersStore
from digest.views.sources import Sources
from tests.dash_calls import payload

FIRST, LAST = Period(2016, 1), Period(2025, 4)  # 40 quarters, after three to fill the windows
READER, PASSWORD = "reader@example.org", "a benchmark-only password"


def _summary(name: str, seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"  {name:<44} median {statistics.median(ordered) * 1000:7.1f} ms   "
        f"p95 {p95 * 1000:7.1f} ms   (n={len(ordered)})"
    )


def _large_store(path: Path) -> tuple[ReturnsStore, str]:
    store = ReturnsStore(connect(path))
    dataset = load_dataset()
    import_compact(store.connection, COMPACT_BENCHMARKS)
    UsersStore(store.connection).add(READER, "Reader", "member", PASSWORD, actor="benchmark")
    areas = [a.ons_code for a in london_boroughs()]
    for area in areas:
        for demo in generate_returns(area, FIRST.shift(-3), LAST, dataset=dataset):
            store_generated(store, demo, dataset)
    return store, areas[0]


def _time_callbacks(sources: Sources, runs: int) -> None:
    app = create_app(sources, secret="benchmark", demo=True)
    client = app.server.test_client()
    if not sources.home.synthetic:  # no demo sign-in for a real area: a member signs in
        form = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf" value="([^"]+)"', form)
        assert token is not None
        client.post(
            "/login", data={"username": READER, "password": PASSWORD, "csrf": token.group(1)}
        )
    area = sources.home.ons_code
    periods = [str(p) for p in sources.periods(area)]
    indicators = list(sources.indicators)

    def page(first_output: str, values: Callable[[int], dict[str, Any]]) -> list[float]:
        seconds = []
        for run in range(runs + 2):
            body = json.dumps(payload(app, first_output, values(run)))
            started = time.perf_counter()
            response = client.post(
                "/_dash-update-component", data=body, content_type="application/json"
            )
            elapsed = time.perf_counter() - started
            assert response.status_code == 200, response.get_data(as_text=True)[:300]
            if run >= 2:  # the first calls warm the caches, as the first visitor does
                seconds.append(elapsed)
        return seconds

    def chosen(prefix: str, run: int) -> dict[str, Any]:
        return {f"{prefix}-area.value": area, f"{prefix}-period.value": periods[run % len(periods)]}

    timings = {
        "scorecard (every indicator)": page(
            "scorecard-content.children",
            lambda run: {
                **chosen("scorecard", run),
                "scorecard-theme.value": "all",
                "scorecard-agency.value": "all",
            },
        ),
        "indicator detail": page(
            "indicator-content.children",
            lambda run: {
                **chosen("indicator", run),
                "indicator-id.value": indicators[run % len(indicators)],
            },
        ),
        "exception report": page(
            "exceptions-content.children",
            lambda run: {
                **chosen("exceptions", run),
                "exceptions-agency.value": "all",
                "exceptions-flag.value": "all",
                "exceptions-sort.value": "theme",
            },
        ),
        "returns": page("returns-table.children", lambda run: chosen("returns", run)),
        "figures of one return": page(
            "returns-figures.children",
            lambda run: {**chosen("returns", run), "returns-agency.value": "CSC"},
        ),
    }
    for name, seconds in timings.items():
        print(_summary(name, seconds))


def _first_render(db: Path, runs: int) -> None:
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM_FLAGS, _chromium, _free_port

    chromium = _chromium()
    if chromium is None:
        print("  first render: skipped (no Chromium)")
        return
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "digest", "serve", "--demo", "--db", str(db), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(base, timeout=2):
                    break
            except OSError:
                time.sleep(0.5)
        seconds = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
            for run in range(runs + 1):
                page = browser.new_page()
                started = time.perf_counter()
                page.goto(base)
                if "/login" in page.url:  # a real area: sign in as a member would
                    page.fill("#username", READER)
                    page.fill("#password", PASSWORD)
                    page.click("button[type=submit]")
                page.wait_for_selector("#scorecard-content table", timeout=60_000)
                if run:
                    seconds.append(time.perf_counter() - started)
                page.close()
            browser.close()
        print(_summary("first render of the scorecard (browser)", seconds))
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    """Build both stores and time each page's callbacks and the scorecard's first render."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--no-browser", action="store_true", help="skip the first-render timing")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        demo_db = Path(folder) / "demo.duckdb"
        store = ReturnsStore(connect(demo_db))
        build_demo(store)
        print("demo: 1 area, every quarter of the demo")
        _time_callbacks(Sources.open(store), args.runs)
        store.connection.close()
        if not args.no_browser:
            _first_render(demo_db, 10)

        large_db = Path(folder) / "large.duckdb"
        started = time.perf_counter()
        large, home = _large_store(large_db)
        print(
            f"33 areas x {len(quarters(FIRST, LAST))} quarters (stored in "
            f"{time.perf_counter() - started:.0f} s), read for {home}"
        )
        from digest.domain.areas import find_area

        _time_callbacks(Sources.open(large, home=find_area(home)), args.runs)
        large.connection.close()
        if not args.no_browser:
            _first_render_for(large_db, home)


def _first_render_for(db: Path, home: str) -> None:
    import os

    os.environ["DIGEST_AREA"] = home
    _first_render(db, 10)


if __name__ == "__main__":
    main()
