"""Every indicator definition, its declared tests, and the arithmetic of windows and pooling."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from digest.compute.definitions import POPULATION, Indicator, load_indicators
from digest.compute.formula import Figure, Total, evaluate, pool, total, window_quarters
from digest.domain.periods import Period
from digest.domain.specfile import SpecError, load_model

INDICATORS = load_indicators()
PERIOD = Period(2025, 4)


def _figures(given, count: int) -> list[Figure | None]:
    entries = given if isinstance(given, list) else [given]
    figures = [
        Figure(None, e) if isinstance(e, str) else Figure(float(e))  # type: ignore[arg-type]
        for e in entries
    ]
    return [None] * (count - len(figures)) + figures[-count:]


def run(indicator: Indicator, given: dict, window: str):
    from digest.domain.dataset import load_dataset

    measures = load_dataset().measures
    quarters = window_quarters(PERIOD, window)  # type: ignore[arg-type]
    parts = []
    for code in indicator.measures:
        figures = _figures(given[code], len(quarters))
        parts.append(total(code, measures[code].kind, quarters, figures))
    denominator = parts[1] if len(parts) > 1 else None
    if indicator.denominator == POPULATION:
        denominator = Total(float(given["population"]))
    return evaluate(indicator, parts[0], denominator)


CASES = [(i.id, n, case) for i in INDICATORS.values() for n, case in enumerate(i.tests)]


@pytest.mark.parametrize(
    ("indicator_id", "number", "case"), CASES, ids=[f"{i}-{n}" for i, n, _ in CASES]
)
def test_every_declared_indicator_test_passes(indicator_id, number, case):
    indicator = INDICATORS[indicator_id]
    result = run(indicator, case.given, case.window or indicator.window)
    if case.expected == "incomplete":
        assert result.status == "incomplete"
        assert result.value is None
        assert result.reason
    else:
        assert result.status == "complete", result.reason
        assert result.value == pytest.approx(case.expected, abs=1e-6)


def test_every_indicator_of_the_agreed_dataset_is_defined():
    assert set(INDICATORS) == {
        "rereferrals",
        "referral_rate",
        "assessments_45wd",
        "s47_rate",
        "icpc_15wd",
        "cpp_repeat",
        "cpp_2y_ended",
        "cpp_rate",
        "cin_rate",
        "cla_rate",
        "cla_missing",
        "cla_missing_incidents",
        "rhi_offered",
        "rhi_completed",
        "da_child",
        "cse_high",
        "mash_police_in_time",
        "iha_20wd",
        "rha_in_time",
        "health_training",
        "cme",
        "ehe",
        "fte_rate",
        "lado",
        "training_attendance",
        "conf_reports",
    }


def test_percentages_are_pooled_never_averaged():
    indicator = INDICATORS["cpp_repeat"]
    small = (Total(1), Total(2))  # 50%
    large = (Total(10), Total(100))  # 10%
    result = evaluate(indicator, pool([small[0], large[0]]), pool([small[1], large[1]]))
    assert result.value == pytest.approx(11 / 102 * 100)
    assert result.value != pytest.approx((50 + 10) / 2)


def test_a_snapshot_is_never_summed_and_a_status_is_never_zero():
    quarters = window_quarters(PERIOD, "12m")
    snapshot = total(
        "CSC.CPP_OPEN", "snapshot", quarters, [Figure(200), Figure(210), None, Figure(240)]
    )
    assert snapshot == Total(240)
    flow = total(
        "CSC.S47", "flow", quarters, [Figure(50), Figure(None, "c"), Figure(40), Figure(45)]
    )
    assert flow == Total(None, "CSC.S47 is suppressed (c) for 2025-26 Q2")
    gap = total("CSC.S47", "flow", quarters, [Figure(50), None, Figure(40), Figure(45)])
    assert gap == Total(None, "CSC.S47 was not returned for 2025-26 Q2")


def test_windows_cover_the_right_quarters():
    assert [str(p) for p in window_quarters(Period(2025, 1), "12m")] == [
        "2024-25 Q2",
        "2024-25 Q3",
        "2024-25 Q4",
        "2025-26 Q1",
    ]
    assert [str(p) for p in window_quarters(Period(2025, 3), "ytd")] == [
        "2025-26 Q1",
        "2025-26 Q2",
        "2025-26 Q3",
    ]
    assert window_quarters(Period(2025, 3), "quarter") == [Period(2025, 3)]


def test_a_zero_denominator_is_incomplete_not_an_error():
    result = evaluate(INDICATORS["cpp_repeat"], Total(0), Total(0))
    assert (result.status, result.reason) == (
        "incomplete",
        "CSC.CPP_STARTED is 0, so there is no rate to show",
    )


def _broken(tmp_path: Path, change) -> str:
    document = yaml.safe_load((Path("indicators") / "cpp_repeat.yaml").read_text())
    change(document)
    path = tmp_path / "cpp_repeat.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(SpecError) as raised:
        load_model(path, Indicator)
    return str(raised.value)


def test_a_misspelt_field_names_file_and_field(tmp_path):
    message = _broken(tmp_path, lambda d: d.update(polarty="low"))
    assert message == f"{tmp_path / 'cpp_repeat.yaml'}: polarty: unknown field (check its spelling)"


def test_an_impossible_definition_is_refused(tmp_path):
    message = _broken(tmp_path, lambda d: d.update(multiplier=1000))
    assert "a percentage has multiplier 100" in message


def test_a_benchmark_must_say_how_it_is_computed(tmp_path):
    message = _broken(tmp_path, lambda d: d["benchmark"].pop("denominator"))
    assert "a benchmark numerator needs a denominator or a population" in message
    message = _broken(tmp_path, lambda d: d["benchmark"].update(source="Dfe"))
    assert "benchmark.source" in message


def test_a_plain_count_has_no_confidence_interval():
    from digest.compare.judgement import interval
    from digest.compute.formula import Result

    complete = Result(9, None, 9, "complete")
    assert interval(INDICATORS["cse_high"], complete) is None
    assert interval(INDICATORS["cla_missing_incidents"], Result(90, 15, 6, "complete")) is not None
