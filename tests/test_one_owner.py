"""One process owns the database: a second worker or a forked copy is refused with a message
that says how to run the server; a backup holds everything committed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import duckdb
import pytest

from digest.app.auth import ONE_PROCESS
from digest.ingest import ingest
from digest.store.database import StoreError, backup, connect
from digest.store.returns import ReturnsStore
from tests.browser.conftest import _free_port
from tests.conftest import figures, workbook_bytes

GUNICORN = Path(sys.executable).parent / "gunicorn"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    db: Path = tmp_path_factory.mktemp("owner") / "digest.duckdb"
    subprocess.run(
        [sys.executable, "-m", "digest", "demo", "--db", str(db)], check=True, capture_output=True
    )
    return db


def gunicorn(db: Path, *options: str) -> tuple[subprocess.Popen[str], int]:
    port = _free_port()
    process = subprocess.Popen(
        [str(GUNICORN), *options, "-b", f"127.0.0.1:{port}", "digest.app.wsgi:server"],
        cwd=ROOT,
        env={**os.environ, "DIGEST_DB": str(db)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return process, port


@pytest.mark.slow
@pytest.mark.skipif(shutil.which(str(GUNICORN)) is None, reason="gunicorn is not installed")
def test_a_second_worker_process_is_refused_with_how_to_run_the_server(demo_db):
    process, _ = gunicorn(demo_db, "-w", "2")
    try:
        output, _ = process.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        pytest.fail("gunicorn -w 2 kept running:\n" + output)
    assert process.returncode != 0
    assert "is in use by another program" in output
    assert "gunicorn -w 1 --threads 8 digest.app.wsgi:server" in output
    assert "Traceback" not in output.split("is in use by another program")[0][-200:]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which(str(GUNICORN)) is None, reason="gunicorn is not installed")
def test_a_worker_forked_from_the_process_that_opened_the_database_refuses_to_serve(demo_db):
    process, port = gunicorn(demo_db, "-w", "1", "--preload")
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2)
                pytest.fail("a forked worker served a page")
            except urllib.error.HTTPError as error:
                assert error.code == 503
                assert error.read().decode() == ONE_PROCESS
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("gunicorn did not start")
                time.sleep(0.5)
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_a_backup_holds_what_is_committed_but_not_yet_checkpointed(
    db_path, tmp_path, dataset, demo_returns
):
    store = ReturnsStore(connect(db_path))
    result = ingest(
        store, workbook_bytes(dataset, figures(demo_returns)), "csc.xlsx", submitted_by="lead"
    )
    assert result.outcome == "accepted"
    wal = db_path.with_name(db_path.name + ".wal")
    assert wal.exists() and wal.stat().st_size > 0  # the version is in the log, not the file
    out = tmp_path / "backup.duckdb"
    backup(store.connection, db_path, out)
    copy = duckdb.connect(str(out), read_only=True)
    assert copy.execute("select agency, version from submissions").fetchall() == [("CSC", 1)]
    copy.close()
    with pytest.raises(StoreError, match="exists already"):
        backup(store.connection, db_path, out)


def test_digest_backup_says_what_it_copied(db_path, tmp_path, dataset, demo_returns):
    store = ReturnsStore(connect(db_path))
    ingest(store, workbook_bytes(dataset, figures(demo_returns)), "csc.xlsx", submitted_by="lead")
    store.connection.close()
    out = tmp_path / "copy.duckdb"
    ran = subprocess.run(
        [sys.executable, "-m", "digest", "backup", "--out", str(out), "--db", str(db_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert ran.stdout.strip() == (
        f"Backed up {db_path} to {out}: 1 versions of returns, 1 audit events."
    )
