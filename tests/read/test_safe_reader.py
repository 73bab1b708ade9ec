"""The safe reader: real files parsed in a real spawned child process, which can die alone."""

from __future__ import annotations

import os
import pickle
import signal
import statistics
import subprocess
import sys
import textwrap
import threading
import time
from datetime import date
from pathlib import Path

import pytest

from digest.read.cells import Sheet, Workbook
from digest.read.errors import UnreadableWorkbook
from digest.read.safe import (
    DEFAULT_MEMORY_LIMIT,
    ReaderUnavailable,
    SafeReader,
    read_workbook,
    shared_reader,
)
from digest.read.wire import dump_reply, load_reply
from tests import hostile
from tests.read.test_container import GENEROUS_SECONDS, REFUSED, assert_plain

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def reader():
    safe = SafeReader()
    yield safe
    safe.close()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is dead too
        return stat.read().split(")")[-1].split()[0] != "Z"


def sheet(workbook: Workbook, name: str = "Return") -> Sheet:
    found = workbook.sheet(name)
    assert found is not None, name
    return found


def child_pid(safe: SafeReader) -> int:
    pid = safe.pid
    assert pid is not None
    return pid


def refusal(call) -> UnreadableWorkbook:
    with pytest.raises(UnreadableWorkbook) as caught:
        call()
    return caught.value


def assert_reads_valid(read) -> None:
    workbook = read(hostile.small_return(), "fine.xlsx")
    assert sheet(workbook).value("B2") == 1.0


def test_every_kind_of_cell_comes_back_as_excel_saved_it(reader):
    workbook = reader.read(hostile.every_kind_of_cell(), "q3.xlsx")
    assert [(s.name, s.visibility) for s in workbook.sheets] == [
        ("Return", "visible"),
        ("Hidden", "hidden"),
        ("Secret", "veryHidden"),
    ]
    cells = sheet(workbook).cells
    assert {ref: (c.value, c.formula, c.error) for ref, c in cells.items()} == {
        "A1": ("Indicator", False, None),
        "A2": ("Referrals", False, None),
        "B2": (12.0, False, None),
        "B3": (2.5, False, None),
        "B4": (date(2025, 6, 30), False, None),
        "C2": (24.0, True, None),
        "D2": (None, True, "#DIV/0!"),
        "F2": (None, True, None),  # a formula whose saved value is empty
    }
    assert isinstance(cells["B2"].value, float)
    assert (cells["D2"].row, cells["D2"].column) == (2, 4)
    assert list(cells) == ["A1", "A2", "B2", "C2", "D2", "F2", "B3", "B4"]
    assert sheet(workbook, "Hidden").value("A1") == 1.0
    assert sheet(workbook, "Secret").value("A1") == "x"


def test_a_formula_without_a_saved_value_is_flagged_not_blank(reader):
    cells = sheet(reader.read(hostile.openpyxl_formula(), "script.xlsx")).cells
    assert (cells["B1"].value, cells["B1"].formula) == (5.0, False)
    assert (cells["C1"].value, cells["C1"].formula, cells["C1"].error) == (None, True, None)


def test_a_lying_dimension_is_read_normally(reader):
    workbook = read_workbook(hostile.lying_dimension(), "q3.xlsx")
    assert sheet(workbook).value("C6") == 10.0
    assert len(sheet(reader.read(hostile.lying_dimension(), "q3.xlsx")).cells) == 18


def test_the_far_cell_kills_only_the_child_and_the_next_file_is_read(reader):
    """Bypassing the container check: python-calamine aborts (or runs out of memory) in the
    child; the parent answers plainly, starts a new child and carries on."""
    assert_reads_valid(reader.read)
    before = reader.pid
    assert before is not None
    started = time.perf_counter()
    problem = refusal(lambda: reader.read(hostile.xfd1048576(), "far.xlsx"))
    assert time.perf_counter() - started < GENEROUS_SECONDS
    assert problem.rule == "file.unreadable"
    assert_plain(problem.message, "far.xlsx")
    assert not alive(before)
    assert reader.pid not in (None, before)
    assert_reads_valid(reader.read)


def test_parser_exceptions_are_answers_and_the_child_stays(reader):
    assert_reads_valid(reader.read)
    before = reader.pid
    for content in (hostile.billion_laughs_sheet(), hostile.truncated_xlsx(), b"not a zip"):
        problem = refusal(lambda content=content: reader.read(content, "odd.xlsx"))
        assert problem.rule == "file.unreadable"
        assert_plain(problem.message, "odd.xlsx")
    assert reader.pid == before
    assert_reads_valid(reader.read)


def test_a_slow_parse_times_out_and_the_child_is_replaced():
    safe = SafeReader(timeout=0.02)
    try:
        big = hostile.valid_return(rows=1999, columns=52)  # takes far longer than 20 ms
        safe.start()
        before = safe.pid
        problem = refusal(lambda: safe.read(big, "big.xlsx"))
        assert problem.rule == "file.unreadable"
        assert "in time" in problem.message
        assert safe.pid not in (None, before)
        safe.timeout = GENEROUS_SECONDS
        assert_reads_valid(safe.read)
        assert len(sheet(safe.read(big, "big.xlsx")).cells) == 2000 * 52
    finally:
        safe.close()


def test_a_child_killed_between_files_is_replaced(reader):
    assert_reads_valid(reader.read)
    os.kill(child_pid(reader), signal.SIGKILL)
    time.sleep(0.1)
    assert_reads_valid(reader.read)


def test_the_child_is_spawned_with_a_memory_limit(reader):
    reader.start()
    pid = reader.pid
    with open(f"/proc/{pid}/limits") as limits:
        line = next(row for row in limits if row.startswith("Max address space"))
    assert line.split()[3:5] == [str(DEFAULT_MEMORY_LIMIT)] * 2
    with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
        assert b"multiprocessing.spawn" in cmdline.read()


def test_threads_share_one_reader_safely(reader):
    content = hostile.valid_return(rows=20)
    results: list[Workbook] = []
    errors: list[BaseException] = []

    def work():
        try:
            for _ in range(5):
                results.append(reader.read(content, "q3.xlsx"))
        except BaseException as problem:
            errors.append(problem)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == 30
    assert all(sheet(r).value("D21") == 60.0 for r in results)


def test_a_child_that_cannot_start_is_a_server_fault_not_the_files():
    safe = SafeReader(memory_limit=1024 * 1024)  # less than the interpreter already uses
    try:
        with pytest.raises(ReaderUnavailable):
            safe.read(hostile.small_return(), "q3.xlsx")
    finally:
        safe.close()


def test_the_server_unpickles_only_plain_rows_from_the_child():
    rows = [("Return", "visible", [(1, 1, 2.0, False, None)])]
    assert load_reply(dump_reply("ok", rows)) == ("ok", rows)
    with pytest.raises(pickle.UnpicklingError):
        load_reply(pickle.dumps(("ok", os.system)))
    with pytest.raises(pickle.UnpicklingError):
        load_reply(pickle.dumps(("ok", Workbook([]))))
    with pytest.raises(ValueError):
        load_reply(pickle.dumps(("run", None)))


def test_close_stops_the_child_and_a_later_read_starts_another():
    safe = SafeReader()
    assert_reads_valid(safe.read)
    first = child_pid(safe)
    safe.close()
    assert safe.pid is None
    assert not alive(first)
    assert_reads_valid(safe.read)
    assert safe.pid != first
    safe.close()


def test_no_child_outlives_the_interpreter():
    script = textwrap.dedent(
        """
        from digest.read.safe import read_workbook, shared_reader
        from tests import hostile
        read_workbook(hostile.small_return(), "q3.xlsx")
        print(shared_reader().pid)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    pid = int(done.stdout.split()[-1])
    deadline = time.monotonic() + 5
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(pid)


def test_the_main_script_is_not_rerun_in_the_child(tmp_path):
    marker = tmp_path / "ran"
    script = tmp_path / "server.py"
    script.write_text(
        textwrap.dedent(
            f"""
        import pathlib, sys
        pathlib.Path({str(marker)!r}).open("a").write("x")
        sys.path.insert(0, {str(ROOT)!r})
        from digest.read.safe import read_workbook
        from tests import hostile
        if __name__ == "__main__":
            read_workbook(hostile.small_return(), "q3.xlsx")
        """
        )
    )
    subprocess.run([sys.executable, str(script)], cwd=ROOT, timeout=60, check=True)
    assert marker.read_text() == "x"


@pytest.mark.parametrize(
    ("build", "name", "rule", "words"), REFUSED, ids=[f"{b.__name__}-{n}" for b, n, _, _ in REFUSED]
)
def test_hostile_uploads_are_refused_and_the_server_reads_on(build, name, rule, words):
    content = build()
    started = time.perf_counter()
    problem = refusal(lambda: read_workbook(content, name))
    assert time.perf_counter() - started < GENEROUS_SECONDS
    assert problem.rule == rule
    assert words in problem.message
    assert_plain(problem.message, name)
    assert_reads_valid(read_workbook)


def test_a_warm_read_of_a_50_row_return_is_quick():
    content = hostile.valid_return(rows=50)
    read_workbook(content, "q3.xlsx")
    pid = shared_reader().pid
    timings = []
    for _ in range(20):
        started = time.perf_counter()
        workbook = read_workbook(content, "q3.xlsx")
        timings.append(time.perf_counter() - started)
    assert shared_reader().pid == pid
    assert len(sheet(workbook).cells) == 51 * 4
    assert statistics.median(timings) < 1.0  # about 2 ms here; the bound only catches a cold start


def test_a_cell_longer_than_excel_allows_is_refused_by_the_child(reader):
    problem = refusal(lambda: read_workbook(hostile.long_cell_text(), "q3.xlsx"))
    assert problem.rule == "file.unreadable"
    assert_reads_valid(read_workbook)
