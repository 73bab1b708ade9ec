"""Hostile files sent through the real ``digest ingest`` process, among a good return."""

from __future__ import annotations

import json

import duckdb

from tests.conftest import figures, workbook_bytes
from tests.read.test_container import REFUSED
from tests.test_cli import digest


def test_every_hostile_file_is_refused_and_the_good_one_beside_them_is_stored(
    tmp_path, dataset, demo_returns
):
    db = tmp_path / "digest.duckdb"
    files, expected = [], {}
    for number, (build, name, rule, _words) in enumerate(REFUSED):
        path = tmp_path / f"{number:02d}_{name}"
        path.write_bytes(build())
        files.append(str(path))
        expected[path.name] = rule
    good = tmp_path / "good.xlsx"
    good.write_bytes(workbook_bytes(dataset, figures(demo_returns)))
    files.insert(len(files) // 2, str(good))

    ran = digest("ingest", *files, "--json", db=db)
    assert ran.returncode == 1
    assert "Traceback" not in ran.stderr + ran.stdout
    results = {r["file"]: r for r in json.loads(ran.stdout)}
    assert results.pop("good.xlsx")["outcome"] == "accepted"
    assert {name: (r["outcome"], r["findings"][0]["rule"]) for name, r in results.items()} == {
        name: ("rejected", rule) for name, rule in expected.items()
    }

    connection = duckdb.connect(str(db), read_only=True)
    assert connection.execute("select count(*) from submissions").fetchone() == (1,)
    rejected = connection.execute(
        "select sha256, detail from audit_log where outcome = 'rejected'"
    ).fetchall()
    assert len(rejected) == len(expected)
    assert all(len(sha) == 64 for sha, _ in rejected)
    assert not any("root:" in detail for _, detail in rejected)
    connection.close()
