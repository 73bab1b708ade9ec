"""The indicator engine on a real store: windows over stored quarters, pooling across areas."""

from __future__ import annotations

import pytest

from digest.compute.definitions import load_indicators
from digest.compute.engine import Scope, compute
from digest.demo import DemoReturn, generate_returns, return_workbook
from digest.domain.periods import Period, quarters
from digest.ingest import ingest

FIRST, LAST = Period(2024, 4), Period(2025, 4)
AREAS = ("E09000901", "E09000022")


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    from digest.store.database import connect
    from digest.store.returns import ReturnsStore

    store = ReturnsStore(connect(tmp_path_factory.mktemp("engine") / "digest.duckdb"))
    figures: dict[tuple[str, Period], dict] = {}
    for area in AREAS:
        for demo in generate_returns(area, FIRST, LAST):
            if demo.agency != "CSC":
                continue
            values = dict(demo.values)
            if area == "E09000022" and demo.period == Period(2025, 2):
                values["CSC.CPP_STARTED_REPEAT"] = "c"
            figures[(area, demo.period)] = values
            reasons = {code: "Synthetic test data, checked." for code in values}
            result = ingest(
                store,
                return_workbook(DemoReturn("CSC", area, demo.period, values)),
                "csc.xlsx",
                submitted_by="test",
                explanations=reasons,
            )
            assert result.outcome == "accepted", result.message
    return store, figures


def test_a_12_month_percentage_sums_four_quarters(stored):
    store, figures = stored
    indicator = load_indicators()["cpp_repeat"]
    [done] = compute(store._connection, [indicator], [Scope.single("E09000901")], [LAST])
    window = quarters(LAST.shift(-3), LAST)
    repeat = sum(figures[("E09000901", q)]["CSC.CPP_STARTED_REPEAT"] for q in window)
    started = sum(figures[("E09000901", q)]["CSC.CPP_STARTED"] for q in window)
    assert (done.result.numerator, done.result.denominator) == (repeat, started)
    assert done.result.value == pytest.approx(repeat / started * 100)
    assert done.window == "12m"


def test_a_suppressed_quarter_makes_the_pooled_figure_incomplete(stored):
    store, _ = stored
    indicator = load_indicators()["cpp_repeat"]
    pooled = Scope("pair", AREAS)
    [done] = compute(store._connection, [indicator], [pooled], [LAST])
    assert done.result.status == "incomplete"
    assert done.result.reason == (
        "CSC.CPP_STARTED_REPEAT is suppressed (c) for 2025-26 Q2 in Lambeth (E09000022)"
    )
    [quarterly] = compute(store._connection, [indicator], [pooled], [LAST], window="quarter")
    assert quarterly.result.status == "complete"


def test_pooling_sums_numerators_and_denominators_across_areas(stored):
    store, figures = stored
    indicator = load_indicators()["rereferrals"]
    [done] = compute(
        store._connection, [indicator], [Scope("pair", AREAS)], [LAST], window="quarter"
    )
    numerator = sum(figures[(a, LAST)]["CSC.REREFERRALS_12M"] for a in AREAS)
    denominator = sum(figures[(a, LAST)]["CSC.REFERRALS"] for a in AREAS)
    assert done.result.value == pytest.approx(numerator / denominator * 100)


def test_a_missing_quarter_is_named(stored):
    store, _ = stored
    indicator = load_indicators()["rereferrals"]
    [done] = compute(store._connection, [indicator], [Scope.single("E09000901")], [FIRST])
    assert done.result.status == "incomplete"
    assert done.result.reason == "CSC.REREFERRALS_12M was not returned for 2024-25 Q1"


def test_a_rate_without_a_population_estimate_is_incomplete(stored):
    store, _ = stored
    indicator = load_indicators()["cpp_rate"]
    [done] = compute(store._connection, [indicator], [Scope.single("E09000022")], [LAST])
    assert done.result.status == "incomplete"
    assert done.result.reason == (
        "there is no mid-2025 population estimate aged 0-17 for E09000022"
    )


def test_the_partnerships_own_estimate_serves_where_none_is_published(stored):
    store, figures = stored
    indicator = load_indicators()["cpp_rate"]
    [done] = compute(store._connection, [indicator], [Scope.single("E09000901")], [LAST])
    assert done.result.denominator == 61800  # data/partnership.yaml
    assert done.result.value == pytest.approx(
        figures[("E09000901", LAST)]["CSC.CPP_OPEN"] / 61800 * 10000
    )


@pytest.mark.parametrize("window", ["quarter", "12m", "ytd"])
def test_the_engine_agrees_with_the_formula_for_every_indicator(stored, window):
    from digest.compute.formula import (
        Figure,
        Result,
        Total,
        evaluate,
        pool,
        total,
        undefined_in,
        window_quarters,
    )
    from digest.domain.dataset import load_dataset
    from digest.store.figures import current_figures

    store, _ = stored
    kinds = {code: m.kind for code, m in load_dataset().measures.items()}
    indicators = [i for i in load_indicators().values() if i.agency == "CSC" and not i.population]
    periods = quarters(FIRST, LAST)
    rows = current_figures(store._connection, sorted(kinds), list(AREAS), 0, 10_000)
    figures = {(a, c, i): Figure(v, s) for a, c, i, v, s in rows}
    scopes = [Scope.single(AREAS[0]), Scope.single(AREAS[1]), Scope("pair", AREAS)]
    computed = compute(store._connection, indicators, scopes, periods, window=window)
    assert len(computed) == len(indicators) * len(periods) * len(scopes)
    for done in computed:
        spans = window_quarters(done.period, window)
        parts = [
            pool(
                total(
                    code,
                    kinds[code],
                    spans,
                    [figures.get((area, code, q.index)) for q in spans],
                )
                for area in done.scope.areas
            )
            for code in done.indicator.measures
        ]
        expected = evaluate(done.indicator, parts[0], parts[1] if len(parts) > 1 else None)
        if undefined_in(done.indicator, window):
            expected = Result(None, None, None, "incomplete")
        assert (done.result.status, done.result.value) == (expected.status, expected.value)
        if expected.status == "incomplete":
            assert isinstance(parts[0], Total)
            assert done.result.reason


def test_a_missing_return_is_due_then_overdue(stored):
    from datetime import date

    from digest.compare.report import report

    store, _ = stored
    indicator = load_indicators()["mash_police_in_time"]  # the police sent no return
    scope = Scope.single("E09000901")

    def flag(today):
        [line] = report(store._connection, [indicator], scope, [LAST], today=today)
        [missing] = [f for f in line.flags if f.kind == "return_missing"]
        return missing.message

    # 2025-26 Q4 ends on 31 March 2026; returns are due 42 days later (data/partnership.yaml).
    assert flag(date(2026, 4, 20)) == (
        "the POLICE return for 2025-26 Q4 has not been received (due 12 May 2026)"
    )
    assert flag(date(2026, 5, 13)) == (
        "the POLICE return for 2025-26 Q4 has not been received (overdue since 12 May 2026)"
    )


def test_an_area_named_twice_counts_once(stored):
    store, _ = stored
    indicator = load_indicators()["cpp_rate"]
    once, twice = (
        compute(store._connection, [indicator], [scope], [LAST])[0].result.value
        for scope in (Scope.single("E09000901"), Scope("twice", ("E09000901", "E09000901")))
    )
    assert once is not None and twice == once
