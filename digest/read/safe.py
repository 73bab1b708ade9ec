"""Read an uploaded workbook without letting it hurt the server.

:func:`read_workbook` checks the container in this process, then parses in a child process that has
a memory limit and a deadline (:class:`SafeReader`). If the child dies (python-calamine aborts the
process on some crafted files), runs out of memory or time, it is replaced and the user gets a plain
message; the server carries on.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import pickle
import sys
import threading
import weakref
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from digest.read import child
from digest.read.cells import Workbook
from digest.read.container import DEFAULT_LIMITS, Limits, check_container
from digest.read.errors import UnreadableWorkbook, the_file
from digest.read.wire import load_reply, to_workbook

__all__ = ["ReaderUnavailable", "SafeReader", "UnreadableWorkbook", "read_workbook"]

log = logging.getLogger(__name__)

DEFAULT_MEMORY_LIMIT = 1024 * 1024 * 1024
DEFAULT_TIMEOUT = 10.0
DEFAULT_START_TIMEOUT = 30.0
# The cells of a real return pickle to tens of KB; a far larger reply would only fill the server.
MAX_REPLY_BYTES = 64 * 1024 * 1024

_RESAVE = "Re-save it in Excel as .xlsx and upload again."


class ReaderUnavailable(RuntimeError):
    """The child process could not start: a fault of the server, not of the file."""


class SafeReader:
    """Parses workbooks in a warm child process started with ``spawn``, one request at a time.

    ``spawn``, not ``fork``: the server holds a DuckDB connection whose address space a forked
    child would inherit, leaving no room under the memory limit. The child caps its address space
    at ``memory_limit`` bytes before importing python-calamine and stays alive between files. A
    request that takes longer than ``timeout`` seconds, or that kills the child or exhausts its
    memory, raises :class:`UnreadableWorkbook` (rule ``file.unreadable``) and the child is
    replaced. If a child cannot even start (a server fault, such as a memory limit too small to
    load python-calamine), :class:`ReaderUnavailable` is raised instead. Safe to share between
    threads; requests are answered one at a time.
    """

    def __init__(
        self,
        *,
        memory_limit: int = DEFAULT_MEMORY_LIMIT,
        timeout: float = DEFAULT_TIMEOUT,
        start_timeout: float = DEFAULT_START_TIMEOUT,
    ) -> None:
        self.memory_limit = memory_limit
        self.timeout = timeout
        self.start_timeout = start_timeout
        self._lock = threading.Lock()
        self._process: BaseProcess | None = None
        self._connection: Connection | None = None
        self._ready = False
        self._owner = os.getpid()
        _open_readers.add(self)

    @property
    def pid(self) -> int | None:
        """The child's process id, or ``None`` while there is no child."""
        with self._lock:
            return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Start the child now (otherwise the first :meth:`read` starts it)."""
        with self._lock:
            self._ensure_child()

    def read(
        self, content: bytes, filename: str, *, plain_sheets: Collection[str] = ()
    ) -> Workbook:
        """Parse ``content`` in the child. ``filename`` is only shown in messages.

        ``plain_sheets`` names sheets known to hold no formula and no error value (as the container
        check finds them), which the child then need not look for. This does not check the
        container: use :func:`read_workbook` for uploads.
        """
        file = the_file(filename)
        with self._lock:
            connection = self._ensure_child()
            try:
                self._await_ready(connection)
                connection.send((content, tuple(plain_sheets)))
                if not connection.poll(self.timeout):
                    self._replace_child("timed out")
                    raise UnreadableWorkbook(
                        "file.unreadable",
                        f"We could not read {file} in time: it may be damaged or far larger "
                        f"than a quarterly return. {_RESAVE}",
                    )
                reply = connection.recv_bytes(MAX_REPLY_BYTES)
            except (EOFError, OSError):
                self._replace_child("died")
                raise _unreadable(file) from None
            try:
                outcome, payload = load_reply(reply)
                if outcome == "ok":
                    return to_workbook(payload)
            except (pickle.UnpicklingError, ValueError, TypeError, EOFError, AttributeError):
                self._replace_child("sent a reply that is not a result")
                raise _unreadable(file) from None
            if outcome == "memory":
                self._replace_child("ran out of memory")  # its heap may be in a bad state
            else:
                log.info("workbook reader could not parse a file: %s", payload)
            raise _unreadable(file)

    def close(self) -> None:
        """Stop the child. A later :meth:`read` starts a new one."""
        with self._lock:
            self._stop_child()

    def _ensure_child(self) -> Connection:
        if self._owner != os.getpid():
            # This process was forked from the one that started the child: that child is not ours.
            if self._connection is not None:
                self._connection.close()  # only this process's copy of the pipe
            self._process, self._connection, self._ready = None, None, False
            self._owner = os.getpid()
        if self._process is not None and self._connection is not None:
            if self._process.is_alive():
                return self._connection
            self._stop_child()
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe(duplex=True)
        process = context.Process(
            target=child.serve,
            args=(theirs, self.memory_limit),
            name="digest-workbook-reader",
            daemon=True,
        )
        with _main_module_hidden():
            process.start()
        theirs.close()
        self._process, self._connection, self._ready = process, ours, False
        return ours

    def _await_ready(self, connection: Connection) -> None:
        if self._ready:
            return
        try:
            if connection.poll(self.start_timeout) and connection.recv_bytes() == child.READY:
                self._ready = True
                return
        except (EOFError, OSError):
            pass
        self._stop_child()
        raise ReaderUnavailable("the workbook reader's child process did not start")

    def _replace_child(self, why: str) -> None:
        exitcode = self._stop_child(at_once=True)
        log.warning("workbook reader child %s (exit code %s); starting a new one", why, exitcode)
        try:
            self._ensure_child()
        except OSError:
            log.exception("could not start a new workbook reader child")

    def _stop_child(self, *, at_once: bool = False) -> int | None:
        """Stop the child: politely (close its pipe) unless ``at_once``. Returns its exit code."""
        process, connection = self._process, self._connection
        self._process, self._connection, self._ready = None, None, False
        if connection is not None:
            connection.close()  # an idle child sees its pipe close and exits
        if process is None:
            return None
        if at_once:
            process.kill()
        process.join(timeout=1)
        if process.is_alive():
            process.kill()
            process.join(timeout=5)
        exitcode = process.exitcode
        if exitcode is not None:
            process.close()
        return exitcode


_starting = threading.Lock()


@contextmanager
def _main_module_hidden() -> Iterator[None]:
    """Keep ``spawn`` from re-running the server's main script in the child.

    ``spawn`` re-imports the parent's ``__main__`` in the child, in case the target is defined
    there; ours is in :mod:`digest.read.child`. Re-running ``app.py`` or a command-line script in
    the child would import dash, pandas and duckdb (hundreds of MB of address space before the
    limit is set) and could even try to open the database, which another process holds.
    """
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    with _starting:
        names: tuple[str, ...] = ("__file__", "__spec__")
        saved = {key: main.__dict__[key] for key in names if key in main.__dict__}
        main.__dict__.pop("__file__", None)
        main.__dict__["__spec__"] = None
        try:
            yield
        finally:
            main.__dict__.pop("__spec__", None)
            main.__dict__.update(saved)


def _unreadable(file: str) -> UnreadableWorkbook:
    return UnreadableWorkbook(
        "file.unreadable",
        f"We could not read {file}: it may be damaged or far larger than a quarterly return. "
        f"{_RESAVE}",
    )


_open_readers: weakref.WeakSet[SafeReader] = weakref.WeakSet()
_shared: SafeReader | None = None
_shared_lock = threading.Lock()


def shared_reader() -> SafeReader:
    """The reader :func:`read_workbook` uses, started on first use."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = SafeReader()
        return _shared


def read_workbook(content: bytes, filename: str, limits: Limits = DEFAULT_LIMITS) -> Workbook:
    """Check and parse an upload; raises :class:`UnreadableWorkbook` with a plain message.

    The container check runs here, in this process; parsing runs in the shared child process.
    """
    info = check_container(content, filename, limits)
    return shared_reader().read(content, filename, plain_sheets=info.plain_sheets)


@atexit.register
def _close_all() -> None:
    for reader in list(_open_readers):
        reader.close()
