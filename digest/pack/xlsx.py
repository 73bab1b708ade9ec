"""A pack as an inert Excel workbook: one sheet per part, every cell plain text."""

from __future__ import annotations

from digest.export.xlsx import Sheet, workbook
from digest.pack.content import Pack, Section


def render_xlsx(pack: Pack) -> bytes:
    """The pack as an .xlsx file: a cover, then each section's tables, and the charts' figures
    on one sheet of trends."""
    parts: list[Sheet] = []
    contents: list[tuple[str, str]] = []
    trends: list[tuple[str, ...]] = []
    taken = {"Cover", "Trends"}
    for section in pack.sections:
        for number, table in enumerate(section.tables):
            name = _name(section) if number == 0 else f"{_name(section)[:27]} {number + 1}"
            while name in taken:  # two themes alike in their first 28 letters
                name = f"{name[:27]} {len(taken)}"
            taken.add(name)
            contents.append((section.title if number == 0 else table.title, name))
            parts.append(
                Sheet(
                    name=name,
                    title=table.title,
                    notes=(pack.marking, *section.paragraphs, *table.notes),
                    headings=table.headings,
                    rows=table.rows,
                    widths=tuple(40 if i == 0 else 18 for i in range(len(table.headings))),
                )
            )
        for chart in section.charts:
            trends.extend((section.title, chart.title, *row) for row in chart.table.rows)
    if trends:
        contents.append(("The figures of every trend chart", "Trends"))
        parts.append(
            Sheet(
                name="Trends",
                title="The figures of every trend chart",
                notes=(pack.marking,),
                headings=("Theme", "Chart", "Quarter", "Value", "95% interval"),
                rows=trends,
                widths=(24, 60, 12, 12, 24),
            )
        )
    cover = Sheet(
        name="Cover",
        title=f"{pack.title}: {pack.covers}",
        notes=(
            pack.marking,
            f"Edition: {pack.edition}. Built on {pack.built} (UK time) by {pack.built_by} "
            f"from snapshot {pack.snapshot}.",
        ),
        headings=("Part", "Sheet"),
        rows=contents,
        widths=(50, 30),
    )
    return workbook([cover, *parts])


def _name(section: Section) -> str:
    # Excel forbids some characters in sheet names, and allows 31 characters.
    cleaned = "".join(ch for ch in section.key if ch not in "[]:*?/\\")
    return cleaned[:31] or "Part"
