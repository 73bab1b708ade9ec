"""Funnel plots: the London boroughs' published figures against their denominators.

A funnel plot shows whether a borough's figure is further from London's than chance alone would
put it, given how many children it counts: the control limits at 95% and 99.8% narrow as the
denominator grows. It needs the published counts (numerator, and denominator or population);
where DfE publishes only the percentage or rate there is no funnel.

The centre is the boroughs' pooled figure, the sum of their numerators over the sum of their
denominators, as PHE's funnel plots take the average of the areas plotted: the limits then show
how far the boroughs drawn stray from their own average. London's published figure can differ a
little, as its counts are rounded to 10 and include boroughs whose own figures are suppressed.

Percentages get exact binomial limits and rates per population exact Poisson limits
(:func:`digest.compare.stats.funnel_limits`). Exact rather than Wilson (or the normal
approximation): the limits are where a borough's count would fall by chance if London's figure
were its own, which is the binomial (or Poisson) distribution itself; at the City of London's
denominators and near 0% or 100% the approximations are visibly off, and the exact limits put a
borough outside them exactly when the exact test would.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from digest.compare.book import PublishedBook
from digest.compare.stats import EXACT_BINOMIAL, EXACT_POISSON, funnel_limits
from digest.compute.definitions import Benchmark, Indicator
from digest.domain.areas import load_areas, london_boroughs

#: The confidence of the two pairs of control limits drawn, as Fingertips draws them.
LEVELS = (0.95, 0.998)


@dataclass(frozen=True)
class FunnelPoint:
    """One area's published counts and the figure they make (numerator over denominator)."""

    area: str  # ONS code
    name: str
    numerator: float
    denominator: float  # the published denominator, or the population
    value: float


@dataclass(frozen=True)
class Funnel:
    """Every London borough's published figure for one indicator and year, the centre, and the
    control limits as functions of the denominator (:meth:`limits`, :meth:`curve`)."""

    indicator: str
    kind: Literal["percentage", "rate"]
    year: int
    multiplier: float
    centre: float  # the boroughs' pooled figure
    points: tuple[FunnelPoint, ...]  # London boroughs with counts published, by denominator
    area: FunnelPoint | None  # the area's own published point, if it has one
    source: str
    method: str  # exact binomial, or exact Poisson

    def limits(self, denominator: float, confidence: float = 0.95) -> tuple[float, float]:
        """The lower and upper control limits at a denominator, on the indicator's scale."""
        return funnel_limits(self.kind, self.centre, denominator, confidence, self.multiplier)

    def curve(self, confidence: float = 0.95, steps: int = 50) -> list[tuple[float, float, float]]:
        """``(denominator, lower, upper)`` at ``steps`` denominators evenly spaced on a log scale,
        from half the smallest denominator plotted to a tenth beyond the largest."""
        shown = [p.denominator for p in self.points]
        if self.area is not None:
            shown.append(self.area.denominator)
        low, high = max(1.0, min(shown) / 2), max(shown) * 1.1
        ratio = (high / low) ** (1 / max(1, steps - 1))
        denominators = sorted({self._denominator(low * ratio**step) for step in range(steps)})
        return [(d, *self.limits(d, confidence)) for d in denominators]

    def _denominator(self, value: float) -> float:
        # A proportion's denominator is a whole number of children.
        return float(max(1, round(value))) if self.kind == "percentage" else value


def funnel(book: PublishedBook, indicator: Indicator, year: int, area: str) -> Funnel | None:
    """The funnel plot of a percentage or rate for a published year, with ``area``'s own point.

    ``None`` when there is none to draw: the indicator is not a percentage or rate, its benchmark
    is published only as a percentage or rate (no counts), or no borough has counts that year.
    """
    spec = indicator.benchmark
    if spec is None or spec.numerator is None or indicator.kind not in ("percentage", "rate"):
        return None
    kind: Literal["percentage", "rate"] = "percentage" if indicator.kind == "percentage" else "rate"
    found = [_point(book, indicator, spec, b.ons_code, year) for b in london_boroughs()]
    points = tuple(sorted((p for p in found if p), key=lambda p: (p.denominator, p.area)))
    if not points:
        return None
    pooled = math.fsum(p.numerator for p in points) / math.fsum(p.denominator for p in points)
    own = next((p for p in points if p.area == area), None)
    return Funnel(
        indicator=indicator.id,
        kind=kind,
        year=year,
        multiplier=indicator.multiplier,
        centre=pooled * indicator.multiplier,
        points=points,
        area=own or _point(book, indicator, spec, area, year),
        source=_source(spec),
        method=EXACT_BINOMIAL if kind == "percentage" else EXACT_POISSON,
    )


def _point(
    book: PublishedBook, indicator: Indicator, spec: Benchmark, area: str, year: int
) -> FunnelPoint | None:
    """An area's published counts that year, when every one is a number (and the whole is not 0)."""
    assert spec.numerator is not None
    parts = [book.figure(spec.source, code, area, year) for code in spec.numerator]
    if any(part is None or part[0] is None or part[1] != "ok" for part in parts):
        return None
    numerator = math.fsum(part[0] or 0.0 for part in parts if part is not None)
    if spec.population is not None:
        whole = book.population(area, year - 1, spec.population)
    else:
        assert spec.denominator is not None
        published = book.figure(spec.source, spec.denominator, area, year)
        whole = published[0] if published is not None and published[1] == "ok" else None
    if whole is None or whole <= 0:
        return None
    areas = load_areas()
    name = areas[area].name if area in areas else area
    return FunnelPoint(area, name, numerator, whole, numerator / whole * indicator.multiplier)


def _source(spec: Benchmark) -> str:
    """``DfE: rereferral_count / referral_count``, or ``... / ONS population aged 0-17``."""
    assert spec.numerator is not None
    whole = spec.denominator or f"ONS population aged {spec.population}"
    return f"{spec.source}: {' + '.join(spec.numerator)} / {whole}"
