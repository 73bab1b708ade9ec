"""A pack as one self-contained, inert HTML page: every text escaped, no script, no link out.

Charts are SVG images inside the page (as ``data:`` images, which can run nothing), each followed
by its figures as a table. The same page is printed to PDF (:mod:`digest.pack.pdf`).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from html import escape

from digest.pack.content import Pack, Section, Table

_STYLE = """
@page { size: A4 landscape; margin: 14mm 12mm; }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10.5pt; color: #1b1b1b;
       line-height: 1.4; margin: 0 auto; max-width: 1200px; padding: 0 1rem; }
h1 { font-size: 22pt; margin: 0 0 .5rem; }
h2 { font-size: 16pt; margin: 1.2rem 0 .4rem; border-bottom: 2px solid #1b1b1b; }
h3 { font-size: 12pt; margin: 1rem 0 .3rem; }
.marking { font-weight: bold; border: 2px solid #1b1b1b; padding: .3rem .6rem; margin: .6rem 0; }
.cover { page-break-after: always; }
section { page-break-before: always; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0; page-break-inside: auto; }
caption { text-align: left; font-weight: bold; padding: .3rem 0; }
th, td { border: 1px solid #767676; padding: .25rem .4rem; vertical-align: top; text-align: left; }
th { background: #e8e8e8; }
tr { page-break-inside: avoid; }
.note { font-size: 9pt; margin: .2rem 0 .8rem; }
figure { margin: .8rem 0; page-break-inside: avoid; }
figure img { width: 100%; max-width: 960px; height: auto; }
nav ol { columns: 2; }
"""


def render_html(pack: Pack, charts: list[bytes]) -> str:
    """The pack as an HTML document; ``charts`` are the SVG images of its charts, in the order
    the sections hold them."""
    images = iter(charts)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en-GB"><head><meta charset="utf-8">',
        # Nothing in the page may load or run anything: no scripts, no fetches, no frames.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'\">",
        f"<title>{escape(pack.title)}: {escape(pack.covers)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        _cover(pack),
    ]
    for section in pack.sections:
        parts.append(_section(pack, section, images))
    parts.append("</body></html>")
    return "\n".join(parts)


def _cover(pack: Pack) -> str:
    contents = "".join(
        f'<li><a href="#{_anchor(s)}">{escape(s.title)}</a></li>' for s in pack.sections
    )
    return (
        '<div class="cover">'
        f"<h1>{escape(pack.title)}</h1>"
        f"<p><strong>{escape(pack.covers)}</strong></p>"
        f'<p class="marking">{escape(pack.marking)}</p>'
        f"<p>Edition: {escape(pack.edition)}. Built on {escape(pack.built)} (UK time) by "
        f"{escape(pack.built_by)} from snapshot {escape(pack.snapshot)}.</p>"
        f'<nav aria-label="Contents"><h2>Contents</h2><ol>{contents}</ol></nav>'
        "</div>"
    )


def _anchor(section: Section) -> str:
    return "s-" + "".join(ch if ch.isalnum() else "-" for ch in section.key.lower())


def _section(pack: Pack, section: Section, images: Iterator[bytes]) -> str:
    parts = [
        f'<section id="{_anchor(section)}">',
        f'<p class="marking">{escape(pack.marking)}</p>',
        f"<h2>{escape(section.title)}</h2>",
        *(f"<p>{escape(text)}</p>" for text in section.paragraphs),
        *(_table(table) for table in section.tables),
    ]
    for chart in section.charts:
        image = next(images)
        encoded = base64.b64encode(image).decode()
        parts.append(
            "<figure>"
            f'<img src="data:image/svg+xml;base64,{encoded}" '
            f'alt="{escape(chart.title)}: the figures are in the table below.">'
            f"<figcaption><h3>{escape(chart.title)}</h3></figcaption>"
            f"{_table(chart.table)}</figure>"
        )
    parts.append("</section>")
    return "\n".join(parts)


def _table(table: Table) -> str:
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in table.headings)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in table.rows
    )
    if not table.rows:
        body = f'<tr><td colspan="{len(table.headings)}">None.</td></tr>'
    notes = "".join(f'<p class="note">{escape(note)}</p>' for note in table.notes)
    return (
        f"<table><caption>{escape(table.title)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table>{notes}"
    )
