"""Areas: every English local authority by ONS code, with its DfE code, name and region.

The registry is ``data/areas.csv`` (built from the published ONS file by
``scripts/build_areas.py``) plus ``data/demo_areas.csv`` (the synthetic demo borough).
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field

from digest.domain.dataset import DATA_DIR
from digest.domain.specfile import Strict, load_model

AREA_FILES = (DATA_DIR / "areas.csv", DATA_DIR / "demo_areas.csv")
PARTNERSHIP_FILE = DATA_DIR / "partnership.yaml"
LONDON = "E12000007"
ENGLAND = "E92000001"

_ONS_CODE = re.compile(r"^E\d{8}$")


class AreaError(ValueError):
    """An area code or name we do not know; the message says what is accepted."""


@dataclass(frozen=True)
class Area:
    """A local authority (or region, or England) known by its ONS code."""

    ons_code: str
    dfe_code: str
    name: str
    level: str  # la | region | country
    region_code: str
    region_name: str
    current: bool
    synthetic: bool = False

    @property
    def in_london(self) -> bool:
        """Whether this is a London borough (or the City of London)."""
        return self.level == "la" and self.region_code == LONDON

    def __str__(self) -> str:
        return f"{self.name} ({self.ons_code})"


class PopulationSetting(Strict):
    """A population estimate set by the partnership where none is published."""

    area: str
    age_group: Literal["0-17", "10-17"]
    year: int
    value: float = Field(gt=0)


class Partnership(Strict):
    """The settings of the partnership this installation serves."""

    name: str
    area: str
    populations: list[PopulationSetting] = Field(default_factory=list)
    return_deadline_days: int = Field(default=42, ge=0)


@cache
def load_areas(files: tuple[Path, ...] = AREA_FILES) -> dict[str, Area]:
    """Every known area, by ONS code."""
    areas: dict[str, Area] = {}
    for path in files:
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                areas[row["ons_code"]] = Area(
                    ons_code=row["ons_code"],
                    dfe_code=row["dfe_code"],
                    name=row["name"],
                    level=row["level"],
                    region_code=row["region_code"],
                    region_name=row["region_name"],
                    current=row["current"] == "yes",
                    synthetic=path.name.startswith("demo"),
                )
    return areas


def find_area(text: str) -> Area:
    """The area named by an ONS code (``E09000022``), a DfE code (``208``) or an exact name."""
    areas = load_areas()
    if not isinstance(text, str):
        raise AreaError("An area is given by its ONS code, such as 'E09000022'.")
    wanted = text.strip()
    if wanted.upper() in areas:
        return areas[wanted.upper()]
    for area in areas.values():
        if wanted and (wanted == area.dfe_code or wanted.casefold() == area.name.casefold()):
            return area
    hint = "" if _ONS_CODE.match(wanted.upper()) else " An ONS code looks like 'E09000022'."
    raise AreaError(f"'{wanted[:40]}' is not a known English local authority.{hint}")


@cache
def partnership() -> Partnership:
    """The partnership's settings (``data/partnership.yaml``)."""
    return load_model(PARTNERSHIP_FILE, Partnership)


def home_area() -> Area:
    """The partnership's own area: ``DIGEST_AREA`` if set, else the setting in partnership.yaml."""
    return find_area(os.environ.get("DIGEST_AREA") or partnership().area)


def london_boroughs() -> list[Area]:
    """The 33 London local authorities (32 boroughs and the City of London), current codes."""
    return [a for a in load_areas().values() if a.in_london and a.current and not a.synthetic]
