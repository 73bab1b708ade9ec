"""Long builds in the server's threads: progress, failures in words, whose file it is."""

from __future__ import annotations

import threading
import time

from digest.app.builds import FAILED, Build, Builds
from digest.pack.content import PackError


def finished(builds: Builds, build: Build) -> Build:
    for _ in range(200):
        if build.done:
            return build
        time.sleep(0.01)
    raise AssertionError("the build did not end")


def test_a_build_tells_its_progress_and_keeps_its_file_for_its_owner():
    builds = Builds()
    go_on = threading.Event()

    def work(tell):
        tell("Drawn chart 1 of 2")
        go_on.wait(5)
        return "pack.xlsx", "application/xlsx", b"PK"

    started = builds.start("chair", work)
    assert started is not None
    for _ in range(200):
        if started.step == "Drawn chart 1 of 2":
            break
        time.sleep(0.01)
    assert started.step == "Drawn chart 1 of 2" and not started.done
    go_on.set()
    done = finished(builds, started)
    assert (done.file_name, done.content) == ("pack.xlsx", b"PK")
    assert builds.get(started.id, "chair") is started
    assert builds.get(started.id, "member") is None
    assert builds.get({"$ne": 1}, "chair") is None


def test_a_failed_build_says_why_and_never_shows_a_traceback():
    builds = Builds()

    def refused(tell):
        raise PackError("No return is stored for Kestrelford in 2010-11 Q1: choose a quarter.")

    def broken(tell):
        raise RuntimeError("secret internals")

    said = finished(builds, builds.start("chair", refused))  # type: ignore[arg-type]
    assert said.failed == "No return is stored for Kestrelford in 2010-11 Q1: choose a quarter."
    assert finished(builds, builds.start("chair", broken)).failed == FAILED  # type: ignore[arg-type]


def test_one_person_cannot_start_builds_without_end():
    builds = Builds()
    hold = threading.Event()

    def slow(tell):
        hold.wait(5)
        return "p.pdf", "application/pdf", b"%PDF"

    running = [builds.start("member", slow) for _ in range(Builds.PER_PERSON)]
    assert all(running)
    assert builds.start("member", slow) is None
    assert builds.start("chair", slow) is not None  # others are not held up by it
    hold.set()
