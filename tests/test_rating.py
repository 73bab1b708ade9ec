"""RAG ratings and the direction of travel respect polarity, and always come with words."""

from __future__ import annotations

import pytest

from digest.compare.judgement import Flag
from digest.compare.rating import direction, rate
from digest.compute.definitions import load_indicators

INDICATORS = load_indicators()
LOW = INDICATORS["cpp_repeat"]  # lower is better
HIGH = next(i for i in INDICATORS.values() if i.polarity == "high")
NEUTRAL = next(i for i in INDICATORS.values() if i.polarity == "neutral")


def flag(kind):
    return Flag(kind, "x", "E09000901", "2025-26 Q2", "why")


@pytest.mark.parametrize(
    ("comparison", "kinds", "colour", "reason"),
    [
        ("much worse", [], "red", "much worse than London"),
        ("similar", ["outside_target"], "red", "outside the local target"),
        ("similar", ["worsening"], "amber", "worse three quarters running"),
        (None, ["return_missing"], "amber", "return not received"),
        (None, ["incomplete"], "amber", "figures incomplete"),
        ("similar", [], "green", "similar to London"),
        ("better", [], "green", "better than London"),
        (None, [], "none", "no published figure to compare with"),
    ],
)
def test_a_rating_says_in_words_why_it_is_red_amber_or_green(comparison, kinds, colour, reason):
    rating = rate(LOW, comparison, [flag(k) for k in kinds], 12.0)
    assert (rating.colour, rating.reason) == (colour, reason)
    assert rating.describe() == f"{rating.label}: {reason}"
    assert rating.icon  # a shape as well as a colour


def test_worse_than_london_outranks_every_other_flag():
    assert rate(LOW, "worse", [flag("return_missing")], 1.0).colour == "red"


def test_a_neutral_indicator_is_not_rated_without_a_target():
    assert rate(NEUTRAL, "higher", [], 5.0).colour == "none"


def test_icons_tell_the_ratings_apart_without_colour():
    icons = {rate(LOW, c, [], 1.0).icon for c in ("worse", "similar", None)}
    icons.add(rate(LOW, None, [flag("worsening")], 1.0).icon)
    assert len(icons) == 4


@pytest.mark.parametrize(
    ("indicator", "before", "now", "words"),
    [
        (LOW, 20.0, 18.0, "down, better"),
        (LOW, 18.0, 20.0, "up, worse"),
        (HIGH, 18.0, 20.0, "up, better"),
        (HIGH, 20.0, 18.0, "down, worse"),
        (NEUTRAL, 1.0, 2.0, "up"),
        (LOW, 20.01, 20.04, "no change"),
    ],
)
def test_the_direction_of_travel_follows_polarity(indicator, before, now, words):
    moved = direction(indicator, before, now)
    assert moved is not None and moved.words == words


def test_no_direction_without_both_quarters():
    assert direction(LOW, None, 3.0) is None
    assert direction(LOW, 3.0, None) is None


def test_a_neutral_indicator_similar_to_london_is_not_called_green():
    assert rate(NEUTRAL, "similar", [], 5.0).colour == "none"
