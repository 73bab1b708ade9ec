"""No acknowledged return is lost: uploads through the real server, many at once while others
read, and a kill -9 straight after the server said "accepted"."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import pytest

from digest.app.server import create_app
from digest.demo import DEMO_LAST, generate_returns
from digest.store.database import connect
from digest.store.returns import ReturnsStore
from digest.views.sources import Sources
from digest.workbook.fill import fill_template
from digest.workbook.template import build_template
from tests.browser.conftest import _free_port
from tests.dash_calls import payload, submit_payload

pytestmark = pytest.mark.slow
AREA = "E09000901"
DEMO = generate_returns()  # the figures the demo database holds


class Browser:
    """One visitor of the served app: its own cookies (the demo signs it in on first request)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self.opener.open(base + "/_dash-layout", timeout=30).read()

    def call(self, body: dict[str, Any]) -> str:
        request = urllib.request.Request(
            self.base + "/_dash-update-component",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with self.opener.open(request, timeout=60) as response:
            return str(response.read().decode())


@pytest.fixture
def server(tmp_path) -> Any:
    db = tmp_path / "digest.duckdb"
    subprocess.run(
        [sys.executable, "-m", "digest", "demo", "--db", str(db)], check=True, capture_output=True
    )
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "digest", "serve", "--demo", "--db", str(db), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(base + "/login", timeout=2).read()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the server did not start")
            time.sleep(0.3)
    yield base, db, process
    if process.poll() is None:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def bodies(tmp_path_factory) -> Any:
    """The app's callbacks as a browser posts them (the same code builds the same callbacks)."""
    store = ReturnsStore(connect(tmp_path_factory.mktemp("keys") / "keys.duckdb"))
    app = create_app(Sources.open(store), secret="keys")

    def submit(agency: str, period: str, content: bytes) -> dict[str, Any]:
        return submit_payload(app, agency, AREA, period, content)

    def read(period: str) -> dict[str, Any]:
        return payload(
            app,
            "scorecard-content.children",
            {
                "scorecard-area.value": AREA,
                "scorecard-period.value": period,
                "scorecard-theme.value": "all",
                "scorecard-agency.value": "all",
            },
        )

    yield submit, read
    store.connection.close()


def workbook(agency: str, period_index: int, extra: int) -> tuple[str, bytes]:
    """A plausible return for an agency and quarter, one figure raised by ``extra``."""
    from digest.domain.areas import find_area
    from digest.domain.dataset import load_dataset
    from digest.domain.periods import Period

    period = Period(period_index // 4, period_index % 4 + 1)
    demo = next(
        d for d in generate_returns(last=period) if (d.agency, d.period) == (agency, period)
    )
    values = dict(demo.values)
    first = next(iter(values))
    values[first] = int(values[first] or 0) + extra
    dataset = load_dataset()
    template = build_template(dataset, dataset.agency(agency), find_area(AREA), period)
    # Any query the figures raise against last quarter is explained, as a data lead would.
    reasons = {code: "Checked with the team: the change is real." for code in values}
    same = "Checked: the figures really are as last quarter's."
    return str(period), fill_template(template, values, reasons, same)


def stored_versions(db: Path) -> dict[tuple[str, str], list[int]]:
    connection = duckdb.connect(str(db), read_only=True)
    try:
        rows = connection.execute(
            "select agency, period, list(version order by version) from submissions"
            " where submitted_by = 'demo data lead' group by all"
        ).fetchall()
    finally:
        connection.close()
    return {(agency, period): versions for agency, period, versions in rows}


def test_sixty_uploads_at_once_while_others_read_lose_nothing(server, bodies):
    base, db, process = server
    submit, read = bodies
    agencies = ["CSC", "POLICE", "HEALTH", "EDU", "YJS"]
    returns = [(a, DEMO_LAST.index - q) for a in agencies for q in range(4)]  # 20 returns
    uploads = [(a, q, n) for a, q in returns for n in (1, 2, 3)]  # 3 versions of each
    prepared = [(a, *workbook(a, q, n)) for a, q, n in uploads]

    def upload(item: tuple[str, str, bytes]) -> str:
        agency, period, content = item
        return Browser(base).call(submit(agency, period, content))

    def reader(period: str) -> str:
        return Browser(base).call(read(period))

    with ThreadPoolExecutor(max_workers=12) as pool:
        readers = [pool.submit(reader, str(DEMO_LAST.shift(-i % 4))) for i in range(20)]
        answers = list(pool.map(upload, prepared))
        assert all("Traceback" not in r.result() for r in readers)
    accepted: dict[tuple[str, str], list[int]] = {}
    for (agency, period, _), answer in zip(prepared, answers, strict=True):
        assert "Traceback" not in answer
        found = re.search(r"accepted as version (\d+)", answer)
        if found:
            accepted.setdefault((agency, period), []).append(int(found.group(1)))
        else:
            assert "Someone else has just submitted" in answer, answer[:300]
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=20)
    stored = stored_versions(db)
    for key, versions in accepted.items():
        assert sorted(versions) == [v for v in stored[key] if v in versions]  # every one kept
        assert len(set(versions)) == len(versions)  # never the same number twice
    assert sum(len(v) for v in accepted.values()) >= 50  # almost all got through at once


def test_a_return_acknowledged_before_a_kill_9_is_in_the_database(server, bodies):
    base, db, process = server
    submit, _ = bodies
    period, content = workbook("CSC", DEMO_LAST.index, 5)
    answer = Browser(base).call(submit("CSC", period, content))
    found = re.search(r"accepted as version (\d+)", answer)
    assert found, answer[:300]
    os.kill(process.pid, signal.SIGKILL)  # straight after "accepted", before any shutdown
    process.wait()
    assert int(found.group(1)) in stored_versions(db)[("CSC", period)]


def test_another_program_is_refused_while_the_server_goes_on_serving(server, bodies):
    """T43: a second process cannot open the database the server owns; the server carries on."""
    base, db, _ = server
    _, read = bodies
    other = subprocess.run(
        [sys.executable, "-m", "digest", "returns", "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert other.returncode == 1
    assert "is in use by another program" in other.stderr
    assert "Traceback" not in other.stderr
    answer = Browser(base).call(read(str(DEMO_LAST)))
    assert "Traceback" not in answer and "indicators" in answer
