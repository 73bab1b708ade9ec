"""Which figures a publishable pack must withhold, so that no small number about children can be
shown or worked out.

Every figure a pack shows rests on counts: its numerator and, for a percentage or a rate of a
returned measure, its denominator. Each count is a returned measure summed over quarters (a flow
over its window, a count taken on one day at the window's last quarter). Showing a figure is
taken to show its counts: a percentage with its denominator, or a rate per population (which ONS
publishes), gives away its numerator.

- **Primary:** a figure resting on a count from 1 to 5 is withheld.
- **Secondary:** a withheld count must not be recoverable from the counts the pack shows, by
  adding or subtracting them within a table, across quarters, or between a quarter and the
  12 months or the year it is part of. Counts of one measure are vectors over its quarters; a
  withheld count is recoverable exactly when its vector lies in the span of the shown ones. While
  one is, the shown figure with the smallest count that overlaps it is withheld too.
- A figure whose counts arrived as a status (``c``, ``x``, ``z``) or were not returned shows that
  status: it is unknown here, so there is nothing to protect.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from digest.domain.periods import Period

SMALLEST, LARGEST = 1, 5

#: The symbols a pack uses, and what each means: printed under every table.
KEY: tuple[tuple[str, str], ...] = (
    (
        "c",
        "confidential: a number from 1 to 5, or one from which such a number could be worked "
        "out, withheld to protect children's identities",
    ),
    ("x", "not available: not returned, or not returned as a number"),
    ("z", "not applicable"),
    ("–", "no published comparator"),
)

#: Why a figure is withheld, in words.
SMALL, WORKED_OUT = "a count from 1 to 5", "could be worked out from other figures"


@dataclass(frozen=True)
class Count:
    """A count a figure rests on: a returned measure over some quarters, and its total."""

    code: str
    quarters: tuple[Period, ...]
    value: float | None  # None when a quarter's figure is a status or was not returned


@dataclass(frozen=True)
class Exposure:
    """A figure the pack would show, and the counts showing it gives away."""

    key: Hashable
    counts: tuple[Count, ...]


def withheld(
    figures: Sequence[Exposure], *, smallest: int = SMALLEST, largest: int = LARGEST
) -> dict[Hashable, str]:
    """The figures to show as ``c``, each with the reason; deterministic for the same input."""
    hidden: dict[Hashable, str] = {}
    sensitive: list[Count] = []
    for figure in figures:
        small = [c for c in figure.counts if c.value is not None and smallest <= c.value <= largest]
        if small:
            hidden[figure.key] = SMALL
            sensitive.extend(small)
    while True:
        shown = [f for f in figures if f.key not in hidden]
        exposed = next((s for s in sensitive if _recoverable(s, shown)), None)
        if exposed is None:
            return hidden
        hidden[_complement(exposed, shown).key] = WORKED_OUT


def recoverable(
    figures: Sequence[Exposure], hidden: Iterable[Hashable], *, largest: int = LARGEST
) -> list[Count]:
    """The small counts of withheld figures that the shown ones still give away (a pack is
    never written while this is not empty)."""
    kept = set(hidden)
    shown = [f for f in figures if f.key not in kept]
    return [
        c
        for f in figures
        if f.key in kept
        for c in f.counts
        if c.value is not None and 0 < c.value <= largest and _recoverable(c, shown)
    ]


def _recoverable(count: Count, shown: Sequence[Exposure]) -> bool:
    same = [c for f in shown for c in f.counts if c.code == count.code and c.value is not None]
    if not same:
        return False
    quarters = sorted({q for c in (*same, count) for q in c.quarters})
    column = {q: i for i, q in enumerate(quarters)}

    def vector(c: Count) -> np.ndarray:
        row = np.zeros(len(quarters))
        row[[column[q] for q in c.quarters]] = 1
        return row

    known = np.array([vector(c) for c in same])
    with_count = np.vstack([known, vector(count)])
    return bool(np.linalg.matrix_rank(known) == np.linalg.matrix_rank(with_count))


def _complement(exposed: Count, shown: Sequence[Exposure]) -> Exposure:
    """The shown figure to withhold next: one with a count of the same measure over
    overlapping quarters, preferring the very same count, then the smallest non-zero one."""
    overlapping = []
    for figure in shown:
        for c in figure.counts:
            if c.code == exposed.code and set(c.quarters) & set(exposed.quarters):
                same = c.quarters == exposed.quarters
                size = c.value if c.value else float("inf")
                overlapping.append(((not same, size, str(figure.key)), figure))
    overlapping.sort(key=lambda item: item[0])
    return overlapping[0][1]
