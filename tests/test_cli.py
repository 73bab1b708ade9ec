"""The ``digest`` command as a data lead or business manager runs it, in a real process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
from openpyxl import load_workbook

from digest.workbook.fill import fill_template
from digest.workbook.layout import measure_rows
from tests.conftest import PERIOD, figures


def digest(
    *args: str, db: Path, env: dict[str, str] | None = None, check: bool = False
) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(
        [sys.executable, "-m", "digest", *args, "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DIGEST_USER": "data.lead@example.org", **(env or {})},
    )
    if check:
        assert completed.returncode == 0, completed.stderr + completed.stdout
    return completed


def write_template(out: Path, db: Path, period: str = "2025-26 Q2") -> None:
    """The CSC template for the demo borough, written by the real command."""
    digest(
        "template",
        "--agency",
        "CSC",
        "--period",
        period,
        "--area",
        "E09000901",
        "--out",
        str(out),
        db=db,
        check=True,
    )


def test_template_fill_ingest_and_values_round_trip(tmp_path, dataset, demo_returns):
    db = tmp_path / "digest.duckdb"
    template = tmp_path / "csc.xlsx"
    write_template(template, db, "2025-26 Q2")
    values = figures(demo_returns)
    filled = tmp_path / "csc_filled.xlsx"
    filled.write_bytes(fill_template(template.read_bytes(), values))

    ran = digest("ingest", str(filled), "--json", db=db, check=True)
    [result] = json.loads(ran.stdout)
    assert {k: result[k] for k in ("file", "outcome", "agency", "area", "period", "version")} == {
        "file": "csc_filled.xlsx",
        "outcome": "accepted",
        "agency": "CSC",
        "area": "E09000901",
        "period": "2025-26 Q2",
        "version": 1,
    }
    assert result["findings"] == []

    shown = json.loads(
        digest(
            "values",
            "--agency",
            "CSC",
            "--period",
            "2025-26Q2",
            "--area",
            "E09000901",
            "--json",
            db=db,
            check=True,
        ).stdout
    )
    rows = measure_rows(dataset.agency("CSC"))
    assert shown == [
        {
            "code": code,
            "value": values[code],
            "status": "ok",
            "sheet": "Return",
            "cell": f"E{rows[code]}",
            "version": 1,
        }
        for code in sorted(values, key=rows.__getitem__)
    ]

    listed = json.loads(
        digest("returns", "--period", "2025/26 Q2", "--json", db=db, check=True).stdout
    )
    assert [(r["agency"], r["version"], r["status"], r["submitted_by"]) for r in listed] == [
        ("CSC", 1, "current", "data.lead@example.org")
    ]

    again = digest("ingest", str(filled), db=db)
    assert again.returncode == 0
    assert "is identical to version 1 submitted on" in again.stdout


def test_the_template_shows_last_quarters_accepted_values(tmp_path, dataset, demo_returns):
    db = tmp_path / "digest.duckdb"
    q1 = tmp_path / "q1.xlsx"
    write_template(q1, db, "2025-26 Q1")
    values = figures(demo_returns, period=PERIOD.previous())
    values["CSC.S47"] = "c"
    q1.write_bytes(fill_template(q1.read_bytes(), values))
    digest("ingest", str(q1), db=db, check=True)
    q2 = tmp_path / "q2.xlsx"
    write_template(q2, db)
    sheet = load_workbook(q2)["Return"]
    rows = measure_rows(dataset.agency("CSC"))
    assert sheet["D4"].value == "Previous (2025-26 Q1)"
    assert sheet[f"D{rows['CSC.REFERRALS']}"].value == values["CSC.REFERRALS"]
    assert sheet[f"D{rows['CSC.S47']}"].value == "c"


def test_exit_codes_and_explanations(tmp_path, dataset, demo_returns):
    db = tmp_path / "digest.duckdb"
    good, bad = tmp_path / "good.xlsx", tmp_path / "bad.xlsx"
    template = tmp_path / "t.xlsx"
    write_template(template, db, "2025-26 Q2")
    values = figures(demo_returns)
    good.write_bytes(fill_template(template.read_bytes(), values))
    values["CSC.S47"] = None
    bad.write_bytes(fill_template(template.read_bytes(), values))

    dry = digest("ingest", str(good), "--dry-run", "--json", db=db)
    assert dry.returncode == 0
    assert json.loads(digest("returns", "--json", db=db).stdout) == []

    mixed = digest("ingest", str(good), str(bad), "--json", db=db)
    assert mixed.returncode == 1
    outcomes = [(r["file"], r["outcome"]) for r in json.loads(mixed.stdout)]
    assert outcomes == [("good.xlsx", "accepted"), ("bad.xlsx", "rejected")]
    human = digest("ingest", str(bad), db=db)
    assert (
        "error  sheet 'Return' cell E9 [CSC.S47]: The value for CSC.S47 is blank." in human.stdout
    )

    assert digest("ingest", str(good), "--period", "2025-26 Q7", db=db).returncode == 2
    assert (
        "is not a period"
        in digest("values", "--agency", "CSC", "--period", "Q2 2025", db=db).stderr
    )
    assert digest("ingest", str(good), "--explain", "no-equals-sign", db=db).returncode == 2
    assert digest("ingest", str(good), "--agency", "NOPE", db=db).returncode == 2
    missing = digest("ingest", str(tmp_path / "nowhere.xlsx"), "--json", db=db)
    assert missing.returncode == 1
    assert json.loads(missing.stdout)[0]["outcome"] == "rejected"


def test_a_database_held_by_another_process_gets_a_clear_message(tmp_path, dataset, demo_returns):
    db = tmp_path / "digest.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(db)!r}); print('held', flush=True); "
            "time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        ran = digest("returns", db=db)
        assert ran.returncode == 1
        assert "is in use by another program" in ran.stderr
        assert f"process {holder.pid}" in ran.stderr
        assert "Traceback" not in ran.stderr
    finally:
        holder.kill()
        holder.wait()


def test_kill_9_during_an_ingest_keeps_the_previous_version_and_nothing_of_the_new(
    tmp_path, dataset, demo_returns
):
    db = tmp_path / "digest.duckdb"
    template = tmp_path / "t.xlsx"
    write_template(template, db, "2025-26 Q2")
    values = figures(demo_returns)
    first = tmp_path / "v1.xlsx"
    first.write_bytes(fill_template(template.read_bytes(), values))
    digest("ingest", str(first), db=db, check=True)
    values["CSC.REFERRALS"] = int(values["CSC.REFERRALS"]) + 1
    second = tmp_path / "v2.xlsx"
    explained = {"CSC.REFERRALS": "One more referral was found when the figures were checked."}
    second.write_bytes(fill_template(template.read_bytes(), values, explained))

    # The real command, held open after its last write and before its commit. The explanation
    # makes the new version two writes in one transaction (without one it is a single statement).
    hold = (
        "import sys, time\n"
        "from digest.store.returns import ReturnsStore\n"
        "write = ReturnsStore._insert_explanations\n"
        "def write_then_wait(*args):\n"
        "    write(*args)\n"
        "    print('rows written, about to commit', flush=True)\n"
        "    time.sleep(60)\n"
        "ReturnsStore._insert_explanations = staticmethod(write_then_wait)\n"
        "from digest.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", hold, "ingest", str(second), "--db", str(db)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    line = ""
    while "about to commit" not in line and time.monotonic() < deadline:
        line = process.stdout.readline()
    assert "about to commit" in line
    os.kill(process.pid, signal.SIGKILL)
    process.wait()

    connection = duckdb.connect(str(db), read_only=True)
    assert connection.execute(
        "select version, status from submission_versions order by version"
    ).fetchall() == [(1, "current")]
    assert connection.execute("select count(*) from submission_values").fetchone() == (len(values),)
    assert connection.execute("select action, outcome from audit_log").fetchall() == [
        ("submission", "accepted")
    ]
    assert connection.execute("select count(*) from query_explanations").fetchone() == (0,)
    connection.close()
    stored = json.loads(
        digest(
            "values", "--agency", "CSC", "--period", "2025-26 Q2", "--json", db=db, check=True
        ).stdout
    )
    assert {v["code"]: v["value"] for v in stored}["CSC.REFERRALS"] == values["CSC.REFERRALS"] - 1
    listed = json.loads(digest("returns", "--json", db=db, check=True).stdout)
    assert [(r["version"], r["status"]) for r in listed] == [(1, "current")]
