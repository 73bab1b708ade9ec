"""Where every view reads from: the returns store, the indicators and the published figures."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from digest.compare.book import PublishedBook
from digest.compute.definitions import Indicator, load_indicators
from digest.domain.areas import Area, home_area, load_areas
from digest.domain.dataset import Dataset, load_dataset
from digest.domain.periods import Period
from digest.store.figures import areas_with_returns
from digest.store.returns import ReturnsStore


@dataclass
class Sources:
    """The store, the indicators and the published benchmarks, read once and shared.

    Published figures change only when benchmarks are imported, so they are read into memory
    when the sources are opened; returns are always read from the store.
    """

    store: ReturnsStore
    dataset: Dataset
    indicators: dict[str, Indicator]
    book: PublishedBook
    home: Area
    today: Callable[[], date] = field(default=date.today)

    @classmethod
    def open(cls, store: ReturnsStore, home: Area | None = None) -> Sources:
        """Sources on a store, for the partnership's own area unless another is given."""
        indicators = load_indicators()
        return cls(
            store=store,
            dataset=load_dataset(),
            indicators=indicators,
            book=PublishedBook.load(store.connection, list(indicators.values())),
            home=home or home_area(),
        )

    def areas(self) -> list[Area]:
        """The areas with at least one return, the partnership's own first."""
        known = load_areas()
        codes = areas_with_returns(self.store.connection)
        others = sorted(
            (known[c] for c in codes if c in known and c != self.home.ons_code),
            key=lambda a: a.name,
        )
        return [self.home, *others]

    def periods(self, area: str) -> list[Period]:
        """The quarters with at least one return for ``area``, newest first."""
        return self.store.periods(area)
