"""Disclosure control of the pack's figures: primary and secondary suppression over quarters."""

from __future__ import annotations

import random

from digest.domain.periods import Period
from digest.pack.protect import SMALL, WORKED_OUT, Count, Exposure, recoverable, withheld

Q = [Period(2025, q) for q in range(1, 5)]


def quarter(code: str, period: Period, value: float | None) -> Exposure:
    return Exposure((code, period), (Count(code, (period,), value),))


def year(code: str, value: float | None) -> Exposure:
    return Exposure((code, "year"), (Count(code, tuple(Q), value),))


def test_a_count_from_1_to_5_is_withheld_and_0_and_6_are_not():
    figures = [quarter("A", Q[0], 3), quarter("B", Q[0], 0), quarter("C", Q[0], 6)]
    assert withheld(figures) == {("A", Q[0]): SMALL}
    assert withheld(figures, largest=9) == {("A", Q[0]): SMALL, ("C", Q[0]): SMALL}


def test_a_small_quarter_is_not_left_to_be_worked_out_from_the_year():
    figures = [quarter("A", Q[0], 3), *(quarter("A", q, 40) for q in Q[1:]), year("A", 123)]
    hidden = withheld(figures)
    assert hidden[("A", Q[0])] == SMALL
    assert list(hidden.values()).count(WORKED_OUT) == 1
    assert recoverable(figures, hidden) == []
    assert recoverable(figures, {("A", Q[0])})  # primary suppression alone would not do


def test_the_same_count_shown_twice_is_withheld_in_both_places():
    twice = [quarter("A", Q[0], 2), Exposure(("rate", Q[0]), (Count("A", (Q[0],), 2),))]
    assert set(withheld(twice)) == {("A", Q[0]), ("rate", Q[0])}


def test_a_percentage_with_a_small_denominator_is_withheld():
    share = Exposure("share", (Count("N", (Q[0],), 3), Count("D", (Q[0],), 4)))
    assert withheld([share, quarter("D", Q[0], 4)]) == {"share": SMALL, ("D", Q[0]): SMALL}


def test_overlapping_windows_cannot_be_differenced():
    """Two 12-month totals and the quarter that leaves one of them reveal the quarter entering."""
    periods = [Period(2024, 4), *Q]
    figures = [
        Exposure("12m to Q3", (Count("A", tuple(periods[:4]), 80),)),
        Exposure("12m to Q4", (Count("A", tuple(periods[1:]), 79),)),
        quarter("A", periods[0], 30),
        quarter("A", periods[4], 4),
    ]
    hidden = withheld(figures)
    assert ("A", periods[4]) in hidden and len(hidden) >= 2
    assert recoverable(figures, hidden) == []


def test_a_status_is_nothing_to_protect():
    assert withheld([quarter("A", Q[0], None), year("A", None)]) == {}


def test_no_small_count_is_ever_left_recoverable_in_random_tables():
    rng = random.Random(2026)
    for _ in range(300):
        figures = []
        for code in ("A", "B"):
            values = [rng.choice([0, 1, 2, 3, 5, 6, 9, 20, 40]) for _ in Q]
            figures += [quarter(code, q, v) for q, v in zip(Q, values, strict=True)]
            if rng.random() < 0.7:
                figures.append(year(code, sum(values)))
            if rng.random() < 0.5:
                figures.append(
                    Exposure((code, "H1"), (Count(code, tuple(Q[:2]), sum(values[:2])),))
                )
        hidden = withheld(figures)
        assert recoverable(figures, hidden) == []
        assert hidden == withheld(list(figures))  # the same pattern every time
        for figure in figures:
            if figure.key not in hidden:
                assert all(not (c.value and 1 <= c.value <= 5) for c in figure.counts)
