"""The documentation keeps up with the code: every command is in the README."""

from __future__ import annotations

import re
from pathlib import Path

from digest.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]


def _readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_command_is_documented_in_the_readme():
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    assert commands
    readme = _readme()
    for name in commands:
        assert f"digest {name}" in readme, f"'digest {name}' is not in the README"


def test_ci_runs_exactly_the_readme_test_command():
    blocks = re.findall(r"```(?:bash|sh)?\n(.*?)```", _readme(), flags=re.DOTALL)
    lines = [line.strip() for block in blocks for line in block.splitlines()]
    [command] = [line for line in lines if "pytest" in line]
    assert command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_every_published_source_file_stays_out_of_the_repository():
    committed = [p for p in ROOT.rglob("*") if ".venv" not in p.parts and ".git" not in p.parts]
    names = {p.name for p in committed}
    for published in (
        "bds_long.parquet",
        "d3_cpps_subsequent_plan_2013_to_2025.csv",
        "ons_mid-year_population_estimates_2012_to_2024.csv",
    ):
        assert published not in names


def test_the_readme_catalogue_lists_every_indicator_as_defined():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "update_catalogue", ROOT / "scripts" / "update_catalogue.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    readme = _readme()
    assert module.updated(readme) == readme, "run: python scripts/update_catalogue.py"
