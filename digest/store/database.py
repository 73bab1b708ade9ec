"""The DuckDB file: opening it safely, hardening it and bringing its schema up to date."""

from __future__ import annotations

import filecmp
import glob
import logging
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb

from digest.domain.dataset import DATA_DIR

DEFAULT_DB = DATA_DIR / "digest.duckdb"

RUNBOOK = "see 'Recovering the database' in the README"

log = logging.getLogger(__name__)

_HOLDER = re.compile(r"PID (\d+)")
_WRITE_FAILED = re.compile(r'Could not write file "([^"]*)": ([^"\n]+)')
# How DuckDB says, on opening, that the log or the file itself is damaged.
_DAMAGED = ("WAL", "Corrupt", "not a valid DuckDB database file", "Could not read enough bytes")


class StoreError(RuntimeError):
    """A problem with the database that an operator must act on; the message says what to do."""


class StoreBusy(StoreError):
    """The database file is held by another process (the server, or another command)."""


class StoreWriteFailed(StoreError):
    """A change could not be written to disk (most often, the disk is full): it was not stored,
    and the database carries on."""


class StoreStopped(StoreError):
    """DuckDB stopped the database after a fatal error (a checkpoint that could not be written):
    it refuses every statement until the program restarts."""


def write_failure(error: duckdb.Error) -> StoreError | None:
    """The operator's message for ``error`` if it is a write to disk that failed or a database
    DuckDB has stopped; ``None`` for any other error.

    A commit that cannot be written is rolled back and the database goes on working; a fatal
    error (a checkpoint that cannot be written, even one run after a commit that succeeded)
    invalidates the database until the process restarts and replays its log.
    """
    text = str(error)
    found = _WRITE_FAILED.search(text)
    reason = f"{found.group(2).strip()}, writing {Path(found.group(1)).name}" if found else None
    if isinstance(error, duckdb.FatalException):
        saved = "The change was saved, but then the" if "COMMIT succeeded" in text else "The"
        if reason is None:
            return StoreStopped(
                f"{saved} database stopped after an internal error ({_first_line(text)}) "
                "and must be restarted: restart the server (or run the command again). "
                "Everything accepted before is kept."
            )
        return StoreStopped(
            f"{saved} database stopped because it could not write to disk ({reason}) and must "
            "be restarted. The disk is probably full: free some space, then restart the server "
            "(or run the command again). Everything accepted before is kept."
        )
    if reason is None:
        return None
    return StoreWriteFailed(
        f"The database could not be written to disk ({reason}), so nothing was stored. The "
        "disk is probably full: the administrator must free some space. Everything stored "
        "before is safe."
    )


def _first_line(text: str) -> str:
    return (text.splitlines() or [""])[0].rstrip(".!")


@contextmanager
def _write_failures_explained() -> Iterator[None]:
    """Raise a write to disk that failed, or a stopped database, as the operator's message."""
    try:
        yield
    except duckdb.Error as error:
        failure = write_failure(error)
        if failure is None:
            raise
        raise failure from None


def database_path(path: str | Path | None = None) -> Path:
    """The database file: the argument, else ``DIGEST_DB``, else ``data/digest.duckdb``."""
    chosen = path or os.environ.get("DIGEST_DB") or DEFAULT_DB
    return Path(chosen).expanduser().resolve()


def utc_now() -> datetime:
    """The current time in UTC, as the naive timestamp the database stores."""
    return datetime.now(UTC).replace(tzinfo=None)


def connect(path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the database file, hardened so that SQL can neither read nor write other files.

    Read-only, the file must exist already: reading never creates an empty database.

    Read-write, a log (``<db>.wal``) left by a program that did not close the database is first
    copied to ``<db>.wal.kept-<UTC time>`` and the operator warned: DuckDB replays the log, drops
    any part of it that it cannot read without a word, and overwrites it at the next write. A log
    or file too damaged to open raises :class:`StoreError` saying the database needs recovery;
    nothing is ever deleted.
    """
    if read_only and not path.exists():
        raise StoreError(
            f"There is no database at {path} yet. Ingest a return first, or build the demo "
            "database with 'digest demo'."
        )
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    kept, copied = (None, False) if read_only else _keep_log(path)
    try:
        # One thread per query: the digest's queries are small and many, and DuckDB's own
        # parallelism only adds scheduling to each of them (about 10% of an upload's time)
        # while the server's request threads are already sharing the cores.
        connection = duckdb.connect(str(path), read_only=read_only, config={"threads": 1})
    except duckdb.Error as error:
        text = str(error)
        if "Could not set lock" in text:
            if kept is not None and copied:  # the live log of the program holding the database
                kept.unlink()
            pid = _HOLDER.search(text)
            holder = f" (process {pid.group(1)})" if pid else ""
            raise StoreBusy(
                f"The database {path} is in use by another program{holder}, probably the "
                "digest server, which allows no other program to open it. Stop that program "
                "(or wait for it to finish) and try again."
            ) from None
        also = f" A copy of its log is kept at {kept}." if kept else ""
        if any(sign in text for sign in _DAMAGED):
            raise StoreError(
                f"The database {path} needs recovery: DuckDB cannot open it "
                f"({_first_line(text)}). Nothing has been changed or deleted.{also} Do not "
                f"delete any of its files; {RUNBOOK}."
            ) from None
        raise StoreError(
            f"The database {path} could not be opened: {_first_line(text)}.{also}"
        ) from None
    # A second connection to the same file in one process shares the first one's database,
    # already hardened and locked.
    (external,) = connection.execute(
        "select current_setting('enable_external_access')"
    ).fetchone() or (True,)
    if external:
        connection.execute("set enable_external_access = false")
        connection.execute("set lock_configuration = true")
        if kept is not None:
            log.warning(
                "The database %s was not closed cleanly last time: DuckDB replayed its log of "
                "recent changes, dropping without a word any part it could not read. The log "
                "as it was is kept at %s: if something accepted just before the stop is "
                "missing, %s.",
                path,
                kept,
                RUNBOOK,
            )
    elif kept is not None and copied:  # this process's own live log: nothing was left over
        kept.unlink()
    if not read_only:
        migrate(connection)
    return connection


def _keep_log(path: Path) -> tuple[Path | None, bool]:
    """Copy the log a program that did not close the database left beside it, if any, to a new
    file, unless an identical copy is kept already. The copy (``None`` when there is no log or
    it is empty), and whether this call made it."""
    wal = path.with_name(path.name + ".wal")
    try:
        if wal.stat().st_size == 0:
            return None, False
    except FileNotFoundError:
        return None, False
    for earlier in sorted(path.parent.glob(f"{glob.escape(wal.name)}.kept-*")):
        # A program restarted again and again on the same log (a crash loop) keeps it once.
        with suppress(OSError):
            if filecmp.cmp(earlier, wal, shallow=False):
                return earlier, False
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    attempt = 1
    while True:
        kept = wal.with_name(f"{wal.name}.kept-{stamp}" + (f"-{attempt}" if attempt > 1 else ""))
        try:
            with kept.open("xb") as target, wal.open("rb") as source:
                shutil.copyfileobj(source, target)
                target.flush()
                os.fsync(target.fileno())
            shutil.copymode(wal, kept)
        except FileExistsError:  # another copy made this second: never overwrite one
            attempt += 1
            continue
        except OSError as error:
            kept.unlink(missing_ok=True)
            raise _not_kept(path, wal, error) from None
        return kept, True


def _not_kept(path: Path, wal: Path, error: OSError) -> StoreError:
    return StoreError(
        f"The database {path} was not closed cleanly last time, and its log {wal} could not be "
        f"copied aside before opening it ({error.strerror or error}), so it was not opened: "
        "opening it could lose the log's last changes. The disk may be full: free some space "
        f"and start again. Nothing has been changed or deleted; {RUNBOOK}."
    )


def fetch(
    connection: duckdb.DuckDBPyConnection, sql: str, parameters: list[Any] | None = None
) -> list[tuple[Any, ...]]:
    """The rows of one statement, on a cursor of its own: safe from any of the server's threads
    sharing the connection."""
    cursor = connection.cursor()
    try:
        with _write_failures_explained():
            return cursor.execute(sql, parameters or []).fetchall()
    finally:
        cursor.close()


def copy_as_of(
    connection: duckdb.DuckDBPyConnection, path: Path, moment: datetime, folder: Path
) -> duckdb.DuckDBPyConnection:
    """A scratch copy of the database at ``path`` (in ``folder``) holding the returns as they
    stood at ``moment`` (UTC): the versions submitted, their explanations and the sign-offs
    made by then. Rows are only ever added, so taking away the later ones is the past exactly.
    For rebuilding a pack; the database itself is not changed."""
    connection.execute("checkpoint")
    copy = folder / "as-of.duckdb"
    shutil.copyfile(path, copy)
    scratch = duckdb.connect(str(copy), config={"threads": 1})
    scratch.execute("set enable_external_access = false")
    with transaction(scratch) as cursor:
        later = "select id from submissions where submitted_at > ?"
        cursor.execute(
            f"delete from sign_offs where signed_at > ? or submission_id in ({later})",
            [moment, moment],
        )
        cursor.execute(f"delete from query_explanations where submission_id in ({later})", [moment])
        cursor.execute("delete from submissions where submitted_at > ?", [moment])
    return scratch


def backup(connection: duckdb.DuckDBPyConnection, path: Path, out: Path) -> None:
    """Copy the database at ``path`` to ``out``: first written through (``CHECKPOINT``), so the
    copy holds everything committed, then copied and opened read-only to prove it whole."""
    if out.exists():
        raise StoreError(f"{out} exists already: choose a new file for the backup.")
    with _write_failures_explained():
        connection.execute("checkpoint")
    partial = out.with_name(out.name + ".partial")
    try:
        shutil.copyfile(path, partial)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise StoreError(
            f"The backup could not be written to {out} ({error.strerror or error}), so it was "
            "not kept. The disk may be full: free some space and try again."
        ) from None
    try:
        duckdb.connect(str(partial), read_only=True).close()
    except duckdb.Error as error:
        partial.unlink(missing_ok=True)
        raise StoreError(f"The backup could not be checked, so it was not kept: {error}") from None
    partial.replace(out)


def _migrations() -> list[tuple[int, str, str]]:
    folder = resources.files("digest.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = re.match(r"^(\d{4})_(\w+)\.sql$", entry.name)
        if match:
            found.append((int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    return sorted(found)


def migrate(connection: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply the migrations not yet recorded in ``schema_migrations``; return their numbers."""
    connection.execute(
        "create table if not exists schema_migrations ("
        " version integer primary key, name varchar not null, applied_at timestamp not null)"
    )
    rows = connection.execute("select version from schema_migrations").fetchall()
    applied = {version for (version,) in rows}
    done = []
    for version, name, sql in _migrations():
        if version in applied:
            continue
        with transaction(connection) as cursor:
            cursor.execute(sql)
            cursor.execute(
                "insert into schema_migrations values (?, ?, ?)", [version, name, utc_now()]
            )
        done.append(version)
    return done


@contextmanager
def transaction(
    connection: duckdb.DuckDBPyConnection,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor in a transaction: committed when the block ends, rolled back on any error.

    DuckDB's ``COMMIT`` after a failed statement silently rolls back instead of raising, so the
    rollback here is explicit and the error is always re-raised: a write to disk that failed as
    :class:`StoreWriteFailed` or :class:`StoreStopped`, never as a transaction conflict.
    """
    cursor = connection.cursor()
    try:
        with _write_failures_explained():
            cursor.execute("begin transaction")
            try:
                yield cursor
                cursor.execute("commit")
            except BaseException:
                with suppress(duckdb.Error):  # a failed COMMIT has already rolled back
                    cursor.execute("rollback")
                raise
    finally:
        cursor.close()
