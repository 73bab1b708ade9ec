"""The reader's child process: cap its memory, then parse the workbooks sent down a pipe.

Started by :class:`~digest.read.safe.SafeReader` with the ``spawn`` method, so it holds nothing of
the server (no database connection, no address space already used). Nothing here imports
python-calamine before the memory limit is in force.
"""

from __future__ import annotations

import os
import resource
import signal
from multiprocessing.connection import Connection
from typing import Any

from digest.read.wire import dump_reply

READY = b"ready"


def serve(connection: Connection, memory_limit: int) -> None:
    """Answer parse requests until the pipe closes.

    Each request is a workbook's bytes and the names of its sheets known to hold no formula and no
    error value (see :func:`~digest.read.worker.parse_cells`), pickled by the server (which this
    process trusts); each answer is made by :func:`~digest.read.wire.dump_reply`:
    the cells, or the type of the exception the parser raised, or word that memory ran out. An
    abort inside python-calamine ends the process instead, which the parent sees as the pipe
    closing.
    """
    _limit_memory(memory_limit)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the server, which stops us
    # An abort in python-calamine is expected here; one line in the log says enough.
    os.environ["RUST_BACKTRACE"] = "0"
    # Imported only now, so python-calamine loads under the memory limit.
    from digest.read.worker import parse_cells

    try:
        connection.send_bytes(READY)
    except OSError:  # the server closed us while we started
        return
    while True:
        try:
            content, plain_sheets = connection.recv()
        except (EOFError, OSError):
            return
        result: tuple[str, Any]
        try:
            result = ("ok", parse_cells(content, plain_sheets))
        except MemoryError:
            result = ("memory", None)
        except Exception as problem:  # every parser failure becomes an answer, not a crash
            result = ("failed", type(problem).__name__)
        del content
        try:
            reply = dump_reply(*result)
        except MemoryError:
            del result
            reply = dump_reply("memory", None)
        try:
            connection.send_bytes(reply)
        except OSError:  # the server gave up on this request (timeout) or went away
            return


def _limit_memory(limit: int) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
