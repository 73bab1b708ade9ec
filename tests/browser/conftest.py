"""The real app, served by `digest serve` on a demo database, driven by headless Chromium.

Chromium is Debian's (``/usr/bin/chromium``, installed by ``.ci/run``; ``DIGEST_CHROMIUM`` names
another). Without it these tests are skipped on a workstation, but fail under CI, where a skip
would hide that they did not run.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SHARED  # noqa: F401  (the shared folder must be beside the repo)

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
#: Accounts added to the database before the server starts, for the tests that sign in as a
#: person rather than as the demo's data lead: username -> (role, agency or None).
ACCOUNTS = {
    "chair@kestrelford.example": ("chair", None),
    "csc.lead@kestrelford.example": ("data_lead", "CSC"),
    "admin@kestrelford.example": ("admin", None),
}
PASSWORD = "a long browser test password"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str | None:
    named = os.environ.get("DIGEST_CHROMIUM")
    if named:
        return named
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def chromium_path() -> str:
    found = _chromium()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed: .ci/run installs Debian's chromium package.")
        pytest.skip("Chromium is not installed (apt-get install chromium chromium-driver)")
    return found


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[str]:
    """The base URL of `digest serve --demo` on a fresh database holding only :data:`ACCOUNTS`
    before it starts, stopped after the session."""
    folder = tmp_path_factory.mktemp("served")
    for username, (role, agency) in ACCOUNTS.items():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "digest",
                "user",
                "add",
                username,
                "--name",
                username.split("@")[0],
                "--role",
                role,
                *(["--agency", agency] if agency else []),
                "--password-stdin",
                "--db",
                str(folder / "digest.duckdb"),
            ],
            input=PASSWORD + "\n",
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
    port = _free_port()
    log = (folder / "server.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "digest",
            "serve",
            "--demo",
            "--db",
            str(folder / "digest.duckdb"),
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        try:
            with urllib.request.urlopen(base + "/", timeout=2):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail("the app did not start:\n" + (folder / "server.log").read_text())
            time.sleep(0.5)
    yield base
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: object, served: str) -> Iterator[object]:
    """A fresh browser page (its own context: no cookies or storage from another test)."""
    context = browser.new_context(  # type: ignore[attr-defined]
        base_url=served, accept_downloads=True, viewport={"width": 1400, "height": 1000}
    )
    context.set_default_timeout(20_000)
    opened = context.new_page()
    problems: list[str] = []
    opened.on("pageerror", lambda error: problems.append(str(error)))
    yield opened
    context.close()
    assert not problems, f"the page raised JavaScript errors: {problems}"


def serious_violations(page: object) -> list[str]:
    """What axe-core finds of serious or critical impact on the page as it stands."""
    page.add_script_tag(path=str(AXE))  # type: ignore[attr-defined]
    found = page.evaluate(  # type: ignore[attr-defined]
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => ['serious', 'critical'].includes(v.impact))"
        ".map(v => v.id + ': ' + v.help + ' -> '"
        " + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '))"
    )
    return list(found)
