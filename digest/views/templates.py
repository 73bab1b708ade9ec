"""The return template a data lead downloads, with last quarter's accepted figures beside it."""

from __future__ import annotations

from digest.domain.areas import Area
from digest.domain.dataset import Agency, Dataset
from digest.domain.periods import Period
from digest.store.returns import ReturnsStore
from digest.workbook.template import build_template


def return_template(
    store: ReturnsStore, dataset: Dataset, agency: Agency, area: Area, period: Period
) -> bytes:
    """The template for ``agency``, ``area`` and ``period``, showing the previous quarter's
    current figures (numbers, or status symbols such as ``c``) for reference."""
    stored = store.current_values(agency.code, area.ons_code, period.previous())
    previous = {v.code: v.value if v.value is not None else v.status for v in stored}
    return build_template(dataset, agency, area, period, previous)
