"""Building a pack in one of its formats, with the audit event that records what it was built
from (so it can be rebuilt and compared)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Literal

from digest.domain.periods import Period
from digest.pack.charts import svg_images
from digest.pack.content import Edition, Pack, PackError, build_annual, build_pack
from digest.pack.html import render_html
from digest.pack.pdf import print_pdf
from digest.pack.xlsx import render_xlsx
from digest.store.audit import note
from digest.store.database import fetch
from digest.store.returns import ReturnsStore
from digest.validate.rules import RULESET
from digest.views.sources import Sources

Format = Literal["pdf", "html", "xlsx"]
FORMATS: tuple[Format, ...] = ("pdf", "html", "xlsx")
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

Progress = Callable[[str], None]


def make_pack(
    sources: Sources,
    area: str,
    edition: Edition,
    file_format: Format,
    *,
    built_by: str,
    period: Period | None = None,
    year: int | None = None,
    progress: Progress | None = None,
    record: ReturnsStore | None = None,
) -> tuple[Pack, bytes]:
    """The quarterly pack for ``period``, or the annual summary for the financial ``year``, as
    a file; the build is recorded in the audit log (of ``record``, when the figures are read
    from a copy) with the snapshot it read."""
    tell = progress or (lambda _: None)
    if (period is None) == (year is None):
        raise PackError("Choose either a quarter or a year for the pack.")
    tell("Computing the figures")
    if period is not None:
        pack = build_pack(sources, area, period, edition, built_by=built_by)
    else:
        assert year is not None
        pack = build_annual(sources, area, year, edition, built_by=built_by)
    if file_format == "xlsx":
        content = render_xlsx(pack)
    else:
        figures = [chart.figure for section in pack.sections for chart in section.charts]
        tell(f"Drawing {len(figures)} charts")
        images = svg_images(figures, lambda done, total: tell(f"Drawn chart {done} of {total}"))
        page = render_html(pack, images)
        if file_format == "html":
            content = page.encode("utf-8")
        else:
            tell("Printing the PDF")
            content = print_pdf(page)
    note(
        (record or sources.store).connection,
        built_by,
        "export",
        "done",
        area=area,
        period=period,
        ruleset_version=RULESET.version,
        detail={
            "what": "pack",
            "edition": edition,
            "format": file_format,
            "covers": pack.covers,
            "snapshot": pack.snapshot,
            "as_of": pack.built_at.isoformat(),
        },
    )
    tell("Done")
    return pack, content


def snapshot_moment(sources: Sources, snapshot: str) -> datetime:
    """When the pack with ``snapshot`` was built, from its audit event: the moment its returns
    were read, to rebuild it from the same versions (:func:`digest.store.database.as_of`)."""
    if not re.fullmatch(r"[0-9a-f]{16}", snapshot):
        raise PackError(f"'{snapshot[:40]}' is not a snapshot id: it is 16 letters and digits.")
    rows = fetch(
        sources.store.connection,
        "select detail from audit_events where action = 'export' and detail like ?",
        [f'%"snapshot": "{snapshot}"%'],
    )
    for (detail,) in rows:
        found = json.loads(detail)
        if found.get("snapshot") == snapshot and found.get("as_of"):
            return datetime.fromisoformat(found["as_of"])
    raise PackError(f"No pack built from snapshot {snapshot} is recorded in the audit log.")
