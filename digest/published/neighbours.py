"""DfE statistical-neighbour models: each local authority's ten nearest authorities, ranked.

Two layouts are published: the 2021 model (``LA num``, ``SN1``, ``SNP``, ``SN2``, ``SNP`` ...) and
the 2025 model (``old_la_code``, ``SN_1``, ``SN_1P`` ...). Both give DfE three-digit codes, stored
as ONS codes through the area registry. The model's year comes from the file name, because the
two models differ sharply and nothing inside the file says which it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from digest.published import geography
from digest.published.files import PublishedFileError, is_ons_code, read_csv
from digest.store.published import NeighbourRow

NEIGHBOURS = 10
_CODE_COLUMNS = ("old_la_code", "la num", "la number", "la_code", "la code")
_NEIGHBOUR = re.compile(r"^sn_?(\d{1,2})$", re.IGNORECASE)
_CLOSENESS = re.compile(r"^sn_?(\d{1,2})?p$", re.IGNORECASE)
_MODEL_YEAR = re.compile(r"(?<!\d)(20\d\d)(?!\d)")


@dataclass
class ParsedModel:
    """One model's neighbours and what was noticed on the way."""

    model: str
    neighbours: list[NeighbourRow]
    notes: list[str] = field(default_factory=list)


def _layout(header: list[str]) -> tuple[int, dict[int, tuple[int, int | None]]] | None:
    """The code column and, for each rank, its neighbour column and closeness column."""
    folded = [name.strip().casefold() for name in header]
    code_at = next((folded.index(name) for name in _CODE_COLUMNS if name in folded), None)
    ranks: dict[int, tuple[int, int | None]] = {}
    for position, name in enumerate(header):
        found = _NEIGHBOUR.match(name.strip())
        if found:
            following = header[position + 1].strip() if position + 1 < len(header) else ""
            closeness = position + 1 if _CLOSENESS.match(following) else None
            ranks[int(found.group(1))] = (position, closeness)
    if code_at is None or sorted(ranks) != list(range(1, NEIGHBOURS + 1)):
        return None
    return code_at, ranks


def is_model(header: list[str]) -> bool:
    """Whether a CSV header is that of a statistical-neighbour model."""
    return _layout(header) is not None


def _ons(path: Path, code: str, line: int) -> str:
    text = code.strip()
    if is_ons_code(text):
        return text
    mapped = geography.from_dfe_code(text)
    if mapped is None:
        raise PublishedFileError(
            f"{path.name}: line {line} names local authority '{text[:12]}', a code the area "
            "registry does not know."
        )
    return mapped


def parse(path: Path) -> ParsedModel:
    """The neighbours of every authority in a model file, ranked 1 to 10."""
    found = _MODEL_YEAR.findall(path.stem)
    if len(set(found)) != 1:
        raise PublishedFileError(
            f"{path.name}: the file name must say which model this is (for example "
            "'sn_model_2025_wide.csv'), because the 2021 and 2025 models differ."
        )
    header, rows = read_csv(path)
    layout = _layout(header)
    if layout is None:
        raise PublishedFileError(f"{path.name} is not a statistical-neighbour model.")
    code_at, ranks = layout
    neighbours: list[NeighbourRow] = []
    areas: set[str] = set()
    notes: list[str] = []
    for line, cells in rows:
        row = cells + [""] * (len(header) - len(cells))
        if not row[code_at].strip():
            # The 2021 file ends with a heading 'Old SNs:' above the models of authorities
            # abolished since: the heading is skipped, their rows are kept under their old codes.
            text = " ".join(cell.strip() for cell in row if cell.strip())
            notes.append(f"line {line} ('{text[:40]}') has no authority code and was skipped")
            continue
        area = _ons(path, row[code_at], line)
        if area in areas:
            raise PublishedFileError(f"{path.name}: line {line} gives {area} a second time.")
        areas.add(area)
        chosen: list[str] = []
        for rank, (at, closeness_at) in sorted(ranks.items()):
            neighbour = _ons(path, row[at], line)
            published = row[closeness_at] if closeness_at is not None else ""
            closeness = published.strip().capitalize() or None  # 'Very Close', 'Very close '
            chosen.append(neighbour)
            neighbours.append(NeighbourRow(area, rank, neighbour, closeness))
        if area in chosen or len(set(chosen)) != NEIGHBOURS:
            raise PublishedFileError(
                f"{path.name}: line {line} does not give {NEIGHBOURS} different neighbours "
                f"other than the authority itself."
            )
    former = sorted(code for code in areas if not geography.is_current(code))
    if former:
        notes.append(f"kept the neighbours of authorities abolished since: {', '.join(former)}")
    return ParsedModel(found[0], neighbours, notes)
