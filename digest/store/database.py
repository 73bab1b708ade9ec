"""The DuckDB file: opening it safely, hardening it and bringing its schema up to date."""

from __future__ import annotations

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

_HOLDER = re.compile(r"PID (\d+)")


class StoreError(RuntimeError):
    """A problem with the database that an operator must act on; the message says what to do."""


class StoreBusy(StoreError):
    """The database file is held by another process (the server, or another command)."""


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
    """
    if read_only and not path.exists():
        raise StoreError(
            f"There is no database at {path} yet. Ingest a return first, or build the demo "
            "database with 'digest demo'."
        )
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # One thread per query: the digest's queries are small and many, and DuckDB's own
        # parallelism only adds scheduling to each of them (about 10% of an upload's time)
        # while the server's request threads are already sharing the cores.
        connection = duckdb.connect(str(path), read_only=read_only, config={"threads": 1})
    except duckdb.IOException as error:
        if "Could not set lock" in str(error):
            pid = _HOLDER.search(str(error))
            holder = f" (process {pid.group(1)})" if pid else ""
            raise StoreBusy(
                f"The database {path} is in use by another program{holder}, probably the "
                "digest server, which allows no other program to open it. Stop that program "
                "(or wait for it to finish) and try again."
            ) from None
        raise StoreError(f"The database {path} could not be opened: {error}") from None
    # A second connection to the same file in one process shares the first one's database,
    # already hardened and locked.
    (external,) = connection.execute(
        "select current_setting('enable_external_access')"
    ).fetchone() or (True,)
    if external:
        connection.execute("set enable_external_access = false")
        connection.execute("set lock_configuration = true")
    if not read_only:
        migrate(connection)
    return connection


def fetch(
    connection: duckdb.DuckDBPyConnection, sql: str, parameters: list[Any] | None = None
) -> list[tuple[Any, ...]]:
    """The rows of one statement, on a cursor of its own: safe from any of the server's threads
    sharing the connection."""
    cursor = connection.cursor()
    try:
        return cursor.execute(sql, parameters or []).fetchall()
    finally:
        cursor.close()


def backup(connection: duckdb.DuckDBPyConnection, path: Path, out: Path) -> None:
    """Copy the database at ``path`` to ``out``: first written through (``CHECKPOINT``), so the
    copy holds everything committed, then copied and opened read-only to prove it whole."""
    if out.exists():
        raise StoreError(f"{out} exists already: choose a new file for the backup.")
    connection.execute("checkpoint")
    partial = out.with_name(out.name + ".partial")
    shutil.copyfile(path, partial)
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
    rollback here is explicit and the error is always re-raised.
    """
    cursor = connection.cursor()
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
