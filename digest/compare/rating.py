"""The RAG rating of a figure and its direction of travel, always in words as well as colour.

Red, amber and green respect the indicator's polarity through the comparison and flags they are
built on: "worse than London" is worse whichever way the indicator runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from digest.compare.judgement import Flag
from digest.compute.definitions import Indicator

Colour = Literal["red", "amber", "green", "none"]

_ICON = {"red": "✖", "amber": "!", "green": "✔", "none": "–"}
_LABEL = {"red": "Red", "amber": "Amber", "green": "Green", "none": "Not rated"}


@dataclass(frozen=True)
class Rating:
    """A RAG rating: its colour, the word for it, a shape to show with it, and why."""

    colour: Colour
    reason: str

    @property
    def label(self) -> str:
        """``Red``, ``Amber``, ``Green`` or ``Not rated``."""
        return _LABEL[self.colour]

    @property
    def icon(self) -> str:
        """A shape that tells the ratings apart without colour."""
        return _ICON[self.colour]

    def describe(self) -> str:
        """``Red: worse than London``, in words."""
        return f"{self.label}: {self.reason}"


def rate(
    indicator: Indicator, comparison: str | None, flags: Sequence[Flag], value: float | None
) -> Rating:
    """Red when worse than London or outside the local target; amber when worsening, incomplete
    or not yet returned; green when within the local target, or (for an indicator with a better
    direction) similar to or better than London. A neutral indicator without a target is not
    rated: neither higher nor lower is better."""
    kinds = {flag.kind for flag in flags}
    if comparison in ("worse", "much worse"):
        return Rating("red", f"{comparison} than London")
    if "outside_target" in kinds:
        return Rating("red", "outside the local target")
    if "return_missing" in kinds:
        return Rating("amber", "return not received")
    if "incomplete" in kinds:
        return Rating("amber", "figures incomplete")
    if "worsening" in kinds:
        return Rating("amber", "worse three quarters running")
    if indicator.target is not None and value is not None:
        return Rating("green", "within the local target")
    if indicator.polarity == "neutral":
        return Rating("none", "neither higher nor lower is better")
    if comparison in ("similar", "better", "much better"):
        return Rating("green", f"{comparison} {'to' if comparison == 'similar' else 'than'} London")
    return Rating("none", "no published figure to compare with")


@dataclass(frozen=True)
class Direction:
    """How a figure moved since the quarter before: an arrow and words."""

    arrow: str
    words: str


def direction(indicator: Indicator, before: float | None, now: float | None) -> Direction | None:
    """Up, down or the same since ``before`` (to one decimal place), better or worse by polarity.

    ``None`` when either figure is missing.
    """
    if before is None or now is None:
        return None
    change = round(now, 1) - round(before, 1)
    if abs(change) < 0.05:
        return Direction("→", "no change")
    up = change > 0
    arrow, word = ("↑", "up") if up else ("↓", "down")
    if indicator.polarity == "neutral":
        return Direction(arrow, word)
    better = up == (indicator.polarity == "high")
    return Direction(arrow, f"{word}, {'better' if better else 'worse'}")
