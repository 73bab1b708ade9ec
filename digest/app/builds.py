"""Long builds (a meeting pack) run in the server's own threads, each telling how far it has got.

The database has one owning process, so a build never runs in another process; a few run at once
(each draws its charts in its own headless Chromium). A finished file waits a while for the person
who asked for it, and only for them.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

#: What a build does: told how to report progress, it returns (file name, media type, content).
Work = Callable[[Callable[[str], None]], tuple[str, str, bytes]]

FAILED = "The pack could not be built. Please try again, or tell the partnership business unit."


@dataclass
class Build:
    """One build: whose it is, how far it has got, and the file once it is made."""

    id: str
    owner: str
    started: float
    step: str = "Waiting for a free slot"
    failed: str | None = None
    file_name: str = ""
    media_type: str = ""
    content: bytes | None = None

    @property
    def done(self) -> bool:
        """Whether the build has ended, with a file or with a message."""
        return self.content is not None or self.failed is not None


class Builds:
    """The builds under way and those waiting to be downloaded."""

    KEEP_SECONDS = 15 * 60
    AT_ONCE = 2
    PER_PERSON = 2

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._builds: dict[str, Build] = {}
        self._slots = threading.BoundedSemaphore(self.AT_ONCE)

    def start(self, owner: str, work: Work) -> Build | None:
        """Start ``work`` for ``owner`` in a thread; ``None`` when they have enough under way."""
        with self._lock:
            self._forget_old()
            running = [b for b in self._builds.values() if b.owner == owner and not b.done]
            if len(running) >= self.PER_PERSON:
                return None
            build = Build(secrets.token_urlsafe(16), owner, time.monotonic())
            self._builds[build.id] = build
        threading.Thread(target=self._run, args=(build, work), daemon=True).start()
        return build

    def get(self, build_id: object, owner: str) -> Build | None:
        """The build with this id, if it is ``owner``'s (anyone else is told there is none)."""
        if not isinstance(build_id, str):
            return None
        with self._lock:
            found = self._builds.get(build_id)
        return found if found is not None and found.owner == owner else None

    def _run(self, build: Build, work: Work) -> None:
        def tell(step: str) -> None:
            build.step = step

        with self._slots:
            try:
                build.file_name, build.media_type, build.content = work(tell)
            except ValueError as problem:  # a PackError: its message says what to do
                build.failed = str(problem)
            except Exception:  # never a traceback to the browser; the log has it
                log.exception("a pack build failed")
                build.failed = FAILED

    def _forget_old(self) -> None:
        now = time.monotonic()
        for key in [k for k, b in self._builds.items() if now - b.started > self.KEEP_SECONDS]:
            del self._builds[key]
