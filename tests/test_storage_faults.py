"""Storage faults from the reliability catalogue: a full disk while a return is stored (T46), and
a database log (``<db>.wal``) left damaged by a crash, found when the server starts (T47).

A full disk is made portably by running the writing process with a file-size limit
(``RLIMIT_FSIZE``; Python ignores ``SIGXFSZ``, so a write past it fails with EFBIG instead of
killing the process), and, where this machine allows ``mount``, by filling a small tmpfs (ENOSPC).

What DuckDB 2.0.0 was seen to do. A commit that cannot be written raises TransactionException
("Failed to commit: Could not write file ...") and is rolled back; the database carries on. A
checkpoint that cannot be written (``CHECKPOINT``, or the automatic one after a commit, which
says the commit itself is durable) raises FatalException and invalidates the database until the
process restarts. On opening, a log cut short is replayed up to the damage and a log of random
bytes is ignored, both without a word, and the next write overwrites them; a log with garbage in
the middle fails its checksum and the database does not open. The tests about a damaged log
accept either a refusal or a served database, and check what must hold in both.
"""

from __future__ import annotations

import errno
import hashlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from digest.app.server import create_app
from digest.demo import DEMO_LAST
from digest.ingest import ingest
from digest.store.database import RUNBOOK, StoreBusy, StoreError, connect
from digest.store.returns import ReturnsStore
from digest.views.sources import Sources
from tests.browser.conftest import _free_port
from tests.conftest import AREA, PERIOD, figures, workbook_bytes
from tests.dash_calls import payload, submit_payload
from tests.test_server_durability import Browser, workbook

ROOT = Path(__file__).resolve().parents[1]
DISK_FULL = "could not be written to disk"
NOTHING_STORED = "nothing was stored"
NOT_CLOSED = "was not closed cleanly"
NEEDS_RECOVERY = "needs recovery"

# Run in a child process: store one return, then stop as a crash does, leaving the log beside the
# database (``os._exit`` skips the close that would write it into the file and delete it).
CRASH = """
import os, sys
from pathlib import Path
from digest.ingest import ingest
from digest.read.safe import shared_reader
from digest.store.database import connect
from digest.store.returns import ReturnsStore
store = ReturnsStore(connect(Path(sys.argv[1])))
result = ingest(store, Path(sys.argv[2]).read_bytes(), "return.xlsx", submitted_by="lead")
print(result.outcome, result.version, flush=True)
shared_reader().close()
os._exit(0)
"""


def file_size_limit(limit: int) -> Callable[[], None]:
    """For ``preexec_fn``: no file the process writes may grow past ``limit`` bytes."""

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))

    return limited


def digest(*args: str, limit: int | None = None) -> subprocess.CompletedProcess[str]:
    """Run the ``digest`` command in a new process, its files limited to ``limit`` bytes."""
    return subprocess.run(
        [sys.executable, "-m", "digest", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        preexec_fn=None if limit is None else file_size_limit(limit),
    )


def crash_after_storing(db: Path, content: bytes) -> None:
    """Store a return in a process that then stops without closing the database."""
    upload = db.with_name("crashed-return.xlsx")
    upload.write_bytes(content)
    ran = subprocess.run(
        [sys.executable, "-c", CRASH, str(db), str(upload)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    assert ran.stdout.split()[0] == "accepted", ran.stdout + ran.stderr
    assert wal(db).stat().st_size > 0


def wal(db: Path) -> Path:
    return db.with_name(db.name + ".wal")


def kept_logs(db: Path) -> list[Path]:
    return sorted(db.parent.glob(db.name + ".wal.kept-*"))


def stored(db: Path) -> set[tuple[str, str, int, str]]:
    """Every stored version as (agency, period, version, sha256), read without changing a file."""
    connection = duckdb.connect(str(db), read_only=True)
    try:
        rows = connection.execute("select agency, period, version, sha256 from submissions")
        return {(a, p, v, s) for a, p, v, s in rows.fetchall()}
    finally:
        connection.close()


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def no_traceback(*outputs: str) -> None:
    for output in outputs:
        assert "Traceback" not in output, output


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db: Path = tmp_path_factory.mktemp("demo") / "digest.duckdb"
    ran = digest("demo", "--db", str(db))
    assert ran.returncode == 0, ran.stderr
    return db


@pytest.fixture
def demo_db(demo_file: Path, tmp_path: Path) -> Path:
    """A copy of the demo database, closed cleanly (no log beside it)."""
    db = tmp_path / "digest.duckdb"
    shutil.copyfile(demo_file, db)
    return db


class Server:
    """``digest serve`` in its own process, its output kept in files to read afterwards."""

    def __init__(self, db: Path, *options: str, limit: int | None = None) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = db.with_name(f"serve-{self.port}.log")
        command = [sys.executable, "-m", "digest", "serve", "--db", str(db)]
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [*command, "--port", str(self.port), *options],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=None if limit is None else file_size_limit(limit),
            )

    def started(self) -> bool:
        """Whether it serves pages (``False``: it exited without serving)."""
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(self.base + "/login", timeout=2).read()
                return True
            except OSError:
                if self.process.poll() is not None:
                    return False
                if time.monotonic() > deadline:
                    self.stop()
                    pytest.fail("the server neither served nor exited:\n" + self.output())
                time.sleep(0.3)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    """Servers a test starts, stopped at its end whatever happened."""
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()


# ---------------------------------------------------------------------------------------------
# T46: a full disk while a return is stored


@pytest.mark.slow
def test_a_full_disk_during_an_upload_stores_nothing_and_says_so(demo_db):
    """T46 through ``digest ingest``: the commit cannot be written, the file is refused with a
    plain message, and a fresh process (the limit lifted) finds the store as it was."""
    before = stored(demo_db)
    period, content = workbook("CSC", DEMO_LAST.index, 11)
    upload = demo_db.with_name("csc.xlsx")
    upload.write_bytes(content)

    full = digest("ingest", "--db", str(demo_db), "--period", period, str(upload), limit=0)

    assert full.returncode == 1
    assert DISK_FULL in full.stdout and NOTHING_STORED in full.stdout, full.stdout + full.stderr
    assert "Someone else" not in full.stdout
    no_traceback(full.stdout, full.stderr)
    assert stored(demo_db) == before  # read in this process, after the writer has gone
    assert sha(content) not in {s for *_, s in before}

    again = digest("ingest", "--db", str(demo_db), "--period", period, str(upload))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "accepted as version" in again.stdout
    assert [(a, p, s) for a, p, _, s in stored(demo_db) - before] == [("CSC", period, sha(content))]


@pytest.mark.slow
def test_a_full_disk_during_an_upload_without_explanations_is_not_called_a_conflict(
    tmp_path, dataset, demo_returns
):
    db = tmp_path / "digest.duckdb"
    first = tmp_path / "csc.xlsx"
    first.write_bytes(workbook_bytes(dataset, figures(demo_returns)))
    assert digest("ingest", "--db", str(db), str(first)).returncode == 0
    police = tmp_path / "police.xlsx"
    police.write_bytes(workbook_bytes(dataset, figures(demo_returns, "POLICE"), agency="POLICE"))

    full = digest("ingest", "--db", str(db), str(police), limit=0)

    assert full.returncode == 1
    no_traceback(full.stdout, full.stderr)
    assert DISK_FULL in full.stdout, full.stdout


@pytest.mark.slow
def test_a_refused_file_on_a_full_disk_says_the_disk_is_full(demo_db, tmp_path):
    """A refusal's audit event cannot be written either: the command says why, not a traceback."""
    before = stored(demo_db)
    not_a_workbook = tmp_path / "notes.xlsx"
    not_a_workbook.write_bytes(b"these are not figures")

    full = digest("ingest", "--db", str(demo_db), str(not_a_workbook), limit=0)

    assert full.returncode == 1
    assert DISK_FULL in full.stderr, full.stdout + full.stderr
    no_traceback(full.stdout, full.stderr)
    assert stored(demo_db) == before


@pytest.fixture(scope="module")
def upload_body(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The body a browser posts to submit a return on the upload page."""
    store = ReturnsStore(connect(tmp_path_factory.mktemp("keys") / "keys.duckdb"))
    app = create_app(Sources.open(store), secret="keys")

    def body(agency: str, period: str, content: bytes) -> dict[str, Any]:
        return submit_payload(app, agency, AREA, period, content)

    yield body
    store.connection.close()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 32 MB tmpfs, to be filled up; skipped where this machine does not allow ``mount``."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("there is no mount command here; the RLIMIT_FSIZE tests cover a full disk")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=32m,mode=0700", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(
            f"a tmpfs cannot be mounted here ({mounted.stderr.strip() or 'not permitted'}); "
            "the RLIMIT_FSIZE tests cover a full disk"
        )
    yield disk
    subprocess.run(["umount", str(disk)], check=False, capture_output=True)


def fill(disk: Path) -> Path:
    """Fill the disk to its last byte with one file, to delete to free the space again."""
    filler = disk / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        for size in (1 << 20, 4096, 1):
            chunk = b"\0" * size
            try:
                while True:
                    os.write(descriptor, chunk)
            except OSError as error:
                assert error.errno == errno.ENOSPC
    finally:
        os.close(descriptor)
    return filler


def answer(browser: Browser, body: dict[str, Any]) -> tuple[int, str]:
    try:
        return 200, browser.call(body)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.mark.slow
def test_an_upload_on_a_full_disk_is_refused_and_the_server_carries_on(
    demo_file, small_disk, upload_body, servers
):
    """T46 through the served app on a real full disk (ENOSPC): the data lead is told, the
    server goes on serving, takes the upload once there is room, and a restart finds the
    accepted version but never the refused one."""
    db = small_disk / "digest.duckdb"
    shutil.copyfile(demo_file, db)
    server = Server(db, "--demo")
    servers.append(server)
    assert server.started(), server.output()
    browser = Browser(server.base)  # signed in before the disk fills: a sign-in is written
    period, refused = workbook("CSC", DEMO_LAST.index, 21)
    _, accepted = workbook("CSC", DEMO_LAST.index, 22)

    filler = fill(small_disk)
    status, text = answer(browser, upload_body("CSC", period, refused))
    assert status == 200, text[:500]
    assert DISK_FULL in text and "No space left on device" in text, text[:500]
    no_traceback(text)
    assert server.process.poll() is None  # DuckDB rolled the commit back and carries on

    filler.unlink()
    status, text = answer(browser, upload_body("CSC", period, accepted))
    assert status == 200 and "accepted as version" in text, text[:500]

    server.stop()
    restarted = Server(db, "--demo")
    servers.append(restarted)
    assert restarted.started(), restarted.output()
    restarted.stop()
    versions = {s for *_, s in stored(db)}
    assert sha(accepted) in versions
    assert sha(refused) not in versions
    no_traceback(server.output(), restarted.output())


def test_a_database_stopped_by_a_failed_checkpoint_says_it_must_be_restarted(
    db_path, dataset, demo_returns, upload_body
):
    """When DuckDB invalidates the database (here a checkpoint that cannot be written), every
    request gets the operator's message, not stale pages; a restart finds everything committed."""
    store = ReturnsStore(connect(db_path))
    content = workbook_bytes(dataset, figures(demo_returns))
    assert ingest(store, content, "csc.xlsx", submitted_by="lead").outcome == "accepted"
    app = create_app(Sources.open(store), secret="keys", demo=True)  # answers store failures
    client = app.server.test_client()
    assert client.get("/_dash-layout").status_code == 200  # the demo signs this visitor in
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, hard))  # Python ignores SIGXFSZ
    try:
        with pytest.raises(duckdb.FatalException):
            store.connection.execute("checkpoint")
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))

    read = payload(
        app,
        "scorecard-content.children",
        {
            "scorecard-area.value": AREA,
            "scorecard-period.value": str(PERIOD),
            "scorecard-theme.value": "all",
            "scorecard-agency.value": "all",
        },
    )
    response = client.post(
        "/_dash-update-component", json=read, headers={"Origin": "http://localhost"}
    )
    assert response.status_code == 503
    text = response.get_data(as_text=True)
    assert "must be restarted" in text and "File too large" in text
    no_traceback(text)
    upload = client.post(
        "/_dash-update-component",
        json=upload_body("CSC", str(PERIOD), content),
        headers={"Origin": "http://localhost"},
    )
    assert "must be restarted" in upload.get_data(as_text=True)

    store.connection.close()  # the restart: the log is replayed
    reopened = ReturnsStore(connect(db_path))
    current = reopened.current("CSC", AREA, PERIOD)
    assert current is not None and current.sha256 == sha(content)
    reopened.connection.close()


@pytest.mark.slow
def test_a_full_disk_during_a_backup_stops_cleanly_and_loses_nothing(demo_db, tmp_path):
    """The backup's checkpoint cannot be written: DuckDB stops the database, the command says so
    and leaves no backup file; a fresh process finds the version that was only in the log."""
    _, content = workbook("CSC", DEMO_LAST.index, 31)
    crash_after_storing(demo_db, content)
    out = tmp_path / "backup.duckdb"
    log_size = wal(demo_db).stat().st_size  # the copy of the log kept on opening fits

    full = digest("backup", "--db", str(demo_db), "--out", str(out), limit=log_size)

    assert full.returncode == 1
    assert "must be restarted" in full.stderr, full.stdout + full.stderr
    no_traceback(full.stdout, full.stderr)
    assert not out.exists() and not out.with_name(out.name + ".partial").exists()
    assert sha(content) in {s for *_, s in stored(demo_db)}
    again = digest("backup", "--db", str(demo_db), "--out", str(out))
    assert again.returncode == 0, again.stderr
    assert sha(content) in {s for *_, s in stored(out)}


# ---------------------------------------------------------------------------------------------
# T47: a log left by a crash, intact or damaged, found at startup


def _truncated(log: bytes) -> bytes:
    return log[:-37]


def _garbage_in_the_middle(log: bytes) -> bytes:
    middle = len(log) // 2
    return log[:middle] + os.urandom(64) + log[middle + 64 :]


def _random_bytes(log: bytes) -> bytes:
    return os.urandom(len(log))


DAMAGE: dict[str, Callable[[bytes], bytes] | None] = {
    "intact": None,
    "truncated": _truncated,
    "garbage in the middle": _garbage_in_the_middle,
    "random bytes": _random_bytes,
}


@pytest.mark.slow
@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_log_left_by_a_crash_is_kept_and_never_deleted(damage, demo_db, servers):
    """T47: ``digest serve`` on a database whose last run crashed either serves it, saying so
    and keeping the log as it was, or refuses with the recovery message; it never deletes the
    log, never prints a traceback, and refuses the same way when started again."""
    _, content = workbook("CSC", DEMO_LAST.index, 41)
    crash_after_storing(demo_db, content)
    spoil = DAMAGE[damage]
    if spoil is not None:
        wal(demo_db).write_bytes(spoil(wal(demo_db).read_bytes()))
    log = wal(demo_db).read_bytes()
    database = demo_db.read_bytes()

    server = Server(demo_db)
    servers.append(server)
    served = server.started()
    server.stop()
    output = server.output()
    no_traceback(output)
    kept = kept_logs(demo_db)
    assert [path.read_bytes() for path in kept] == [log]  # the log as it was, once
    if served:
        assert f"digest: The database {demo_db.resolve()} {NOT_CLOSED}" in output, output
        assert str(kept[0]) in output and RUNBOOK in output
    else:
        assert server.process.returncode == 1
        assert f"digest: The database {demo_db.resolve()} {NEEDS_RECOVERY}" in output, output
        assert RUNBOOK in output and str(kept[0]) in output
        assert wal(demo_db).read_bytes() == log and demo_db.read_bytes() == database
        second = Server(demo_db)
        servers.append(second)
        assert not second.started()
        assert second.process.returncode == 1 and NEEDS_RECOVERY in second.output()
        assert wal(demo_db).read_bytes() == log and demo_db.read_bytes() == database
    if damage == "intact":
        assert served and sha(content) in {s for *_, s in stored(demo_db)}


@pytest.mark.slow
def test_a_log_that_cannot_be_copied_aside_keeps_the_database_closed(demo_db):
    """With no room to keep a copy of the log, the server does not open the database (which
    could lose the log's end) and says why; the log is left as it was."""
    _, content = workbook("CSC", DEMO_LAST.index, 51)
    crash_after_storing(demo_db, content)
    log = wal(demo_db).read_bytes()

    full = digest("serve", "--db", str(demo_db), "--port", str(_free_port()), limit=0)

    assert full.returncode == 1
    assert "could not be copied aside" in full.stderr, full.stdout + full.stderr
    no_traceback(full.stdout, full.stderr)
    assert wal(demo_db).read_bytes() == log
    assert kept_logs(demo_db) == []


def test_connect_keeps_the_log_of_a_crash_and_warns(db_path, dataset, demo_returns, caplog):
    content = workbook_bytes(dataset, figures(demo_returns))
    crash_after_storing(db_path, content)
    log = wal(db_path).read_bytes()

    connection = connect(db_path)

    (kept,) = kept_logs(db_path)
    assert kept.read_bytes() == log
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [
        f"The database {db_path} {NOT_CLOSED} last time: DuckDB replayed its log of recent "
        "changes, dropping without a word any part it could not read. The log as it was is "
        f"kept at {kept}: if something accepted just before the stop is missing, {RUNBOOK}."
    ]
    assert ReturnsStore(connection).current("CSC", AREA, PERIOD) is not None
    connect(db_path).close()  # the same database again, its log live: nothing more is kept
    assert kept_logs(db_path) == [kept]
    connection.close()


def test_a_log_held_by_another_program_is_not_copied(db_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from digest.store.database import connect;"
            "c = connect(Path(sys.argv[1])); c.execute('create table t (i integer)');"
            "print('ready', flush=True); sys.stdin.read()",
            str(db_path),
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        assert wal(db_path).stat().st_size > 0
        with pytest.raises(StoreBusy):
            connect(db_path)
        assert kept_logs(db_path) == []
    finally:
        holder.kill()
        holder.wait()


def test_a_damaged_log_refuses_a_read_only_open_too(db_path, dataset, demo_returns):
    crash_after_storing(db_path, workbook_bytes(dataset, figures(demo_returns)))
    spoilt = _garbage_in_the_middle(wal(db_path).read_bytes())
    wal(db_path).write_bytes(spoilt)

    with pytest.raises(StoreError, match=NEEDS_RECOVERY) as refused:
        connect(db_path, read_only=True)

    assert RUNBOOK in str(refused.value)
    assert wal(db_path).read_bytes() == spoilt
    assert kept_logs(db_path) == []  # reading changes no file, so it copies none


def test_the_runbook_the_messages_name_is_in_the_readme():
    assert "'Recovering the database'" in RUNBOOK
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "\n### Recovering the database\n" in readme


def test_a_server_stopped_by_sigterm_closes_the_database_cleanly(demo_db, servers):
    """A service manager's stop leaves no log behind, so the next start has nothing to say."""
    first = Server(demo_db)
    servers.append(first)
    assert first.started(), first.output()
    first.stop()
    assert first.process.returncode == 0, first.output()
    assert "the database was closed cleanly" in first.output()
    assert not wal(demo_db).exists() or wal(demo_db).stat().st_size == 0
    second = Server(demo_db)
    servers.append(second)
    assert second.started(), second.output()
    assert "not closed cleanly" not in second.output() and kept_logs(demo_db) == []
