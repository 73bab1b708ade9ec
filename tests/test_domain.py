"""Periods, the dataset specification and the area registry."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from digest.domain.areas import AreaError, find_area, home_area, load_areas, london_boroughs
from digest.domain.dataset import DATASET_FILE, Dataset, load_dataset
from digest.domain.periods import Period, PeriodError, quarters
from digest.domain.specfile import SpecError, load_model
from tests.conftest import SHARED

# -- periods ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["2025-26 Q2", "2025-26Q2", "2025/26 Q2", " 2025-26 q2 "])
def test_accepted_ways_of_writing_a_quarter(text):
    period = Period.parse(text)
    assert period == Period(2025, 2)
    assert str(period) == "2025-26 Q2"
    assert (period.start, period.end) == (date(2025, 7, 1), date(2025, 9, 30))
    assert period.months == "July to September 2025"


@pytest.mark.parametrize("text", ["Q2 2025", "2025 Q2", "2025-27 Q2", "2025-26 Q5", "", "2025-26"])
def test_other_forms_are_refused_with_the_expected_form_shown(text):
    with pytest.raises(PeriodError, match="2025-26 Q2"):
        Period.parse(text)


def test_quarter_four_ends_in_march_of_the_next_calendar_year():
    q4 = Period.parse("2024-25 Q4")
    assert (q4.start, q4.end, q4.months) == (
        date(2025, 1, 1),
        date(2025, 3, 31),
        "January to March 2025",
    )
    assert q4.next() == Period(2025, 1)
    assert Period.containing(date(2025, 3, 31)) == q4
    assert Period.containing(date(2025, 4, 1)) == Period(2025, 1)


@given(st.integers(2000, 2090), st.integers(1, 4), st.integers(-40, 40))
def test_periods_round_trip_and_shift(year, quarter, steps):
    period = Period(year, quarter)
    assert Period.parse(str(period)) == period
    assert period.shift(steps) - period == steps
    assert period.next().previous() == period
    assert len(quarters(period, period.shift(abs(steps)))) == abs(steps) + 1


# -- the dataset -----------------------------------------------------------------------------


def _contract() -> dict[str, str]:
    """Measure codes and kinds from the agreed dataset.md (the contract with the data leads)."""
    text = (SHARED / "domain" / "dataset.md").read_text(encoding="utf-8")
    return dict(
        re.findall(
            r"^\| `([A-Z]+\.[A-Z0-9_]+)` \| (flow|snapshot|rolling12) \|", text, flags=re.MULTILINE
        )
    )


@pytest.mark.skipif(not (SHARED / "domain" / "dataset.md").exists(), reason="needs ../shared")
def test_every_agreed_measure_is_declared_with_its_kind():
    contract = _contract()
    assert len(contract) == 42
    declared = {code: m.kind for code, m in load_dataset().measures.items()}
    assert {code: declared.get(code) for code in contract} == contract


def test_parts_name_their_wholes():
    dataset = load_dataset()
    assert dataset.measure("CSC.CPP_STARTED_REPEAT").part_of == "CSC.CPP_STARTED"
    assert dataset.measure("CSC.CLA_MISSING_12M").part_of == "CSC.CLA_12M"
    assert [a.code for a in dataset.agencies] == ["CSC", "POLICE", "HEALTH", "EDU", "YJS", "PSCP"]


def _load(tmp_path: Path, change) -> str:
    document = yaml.safe_load(DATASET_FILE.read_text(encoding="utf-8"))
    change(document)
    path = tmp_path / "dataset.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    with pytest.raises(SpecError) as raised:
        load_model(path, Dataset)
    return str(raised.value)


def test_a_misspelt_field_is_refused_naming_file_and_field(tmp_path):
    message = _load(tmp_path, lambda d: d["agencies"][1]["measures"][2].update(kinds="flow"))
    assert message == (
        f"{tmp_path / 'dataset.yaml'}: agencies[POLICE].measures"
        "[POLICE.MISSING_REPORTS].kinds: unknown field (check its spelling)"
    )


def test_a_missing_field_and_a_bad_kind_are_refused(tmp_path):
    def change(document):
        del document["agencies"][0]["measures"][0]["description"]
        document["agencies"][0]["measures"][1]["kind"] = "stock"

    message = _load(tmp_path, change)
    assert "agencies[CSC].measures[CSC.REFERRALS].description: required field is missing" in message
    assert "agencies[CSC].measures[CSC.REREFERRALS_12M].kind: Input should be 'flow'" in message


def test_a_part_of_an_unknown_whole_is_refused(tmp_path):
    message = _load(tmp_path, lambda d: d["agencies"][0]["measures"][1].update(part_of="CSC.NOPE"))
    assert "CSC.REREFERRALS_12M: part_of names an unknown measure" in message


def test_a_duplicated_key_is_refused(tmp_path):
    path = tmp_path / "dataset.yaml"
    path.write_text("dataset_version: 1\ndataset_version: 2\n", encoding="utf-8")
    with pytest.raises(SpecError, match="the key 'dataset_version' appears twice"):
        load_model(path, Dataset)


# -- areas -----------------------------------------------------------------------------------


def test_areas_are_found_by_ons_code_dfe_code_or_name():
    assert find_area("E09000022").name == "Lambeth"
    assert find_area("208").ons_code == "E09000022"
    assert find_area("lambeth").dfe_code == "208"
    assert home_area().ons_code == "E09000901"
    assert home_area().synthetic
    with pytest.raises(AreaError, match="An ONS code looks like 'E09000022'"):
        find_area("Lambeth Council")


def test_the_home_area_is_a_setting(monkeypatch):
    monkeypatch.setenv("DIGEST_AREA", "E09000022")
    assert home_area().name == "Lambeth"


def test_every_english_authority_is_known_with_both_codes():
    areas = load_areas()
    current = [a for a in areas.values() if a.level == "la" and a.current and not a.synthetic]
    assert len(current) == 153
    assert all(re.fullmatch(r"\d{3}", a.dfe_code) for a in current)
    assert len(london_boroughs()) == 33
    assert {a.name for a in london_boroughs()} >= {"City of London", "Hackney", "Westminster"}


@pytest.mark.skipif(not (SHARED / "benchmarks").exists(), reason="needs ../shared")
def test_the_area_registry_is_what_the_builder_makes_from_the_published_file():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "build_areas", Path(__file__).resolve().parents[1] / "scripts" / "build_areas.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows = module.build(
        SHARED / "benchmarks" / "dfe" / "ons_mid-year_population_estimates_2012_to_2024.csv"
    )
    from_file = {
        a.ons_code: (a.dfe_code, a.name, a.region_code)
        for a in load_areas().values()
        if not a.synthetic
    }
    assert {r["ons_code"]: (r["dfe_code"], r["name"], r["region_code"]) for r in rows} == from_file
