"""Published areas as ONS codes: DfE three-digit codes and region names through the registry."""

from __future__ import annotations

from functools import cache

from digest.domain.areas import load_areas

# LAIT names London's two halves after London; the registry (like EES) names them the other way.
_NAME_ALIASES = {"london (inner)": "inner london", "london (outer)": "outer london"}


@cache
def _by_dfe_code() -> dict[str, str]:
    found: dict[str, str] = {}
    # A DfE code can outlive an ONS code (North Yorkshire, Somerset, Buckinghamshire were recoded
    # when they became unitary): the current area wins, so the mapping gives today's code.
    areas = sorted(
        (a for a in load_areas().values() if a.dfe_code and not a.synthetic),
        key=lambda a: (a.current, a.ons_code),
    )
    for area in areas:
        found[area.dfe_code] = area.ons_code
    return found


@cache
def _by_region_name() -> dict[str, str]:
    return {
        area.name.casefold(): area.ons_code
        for area in load_areas().values()
        if area.level in ("region", "country")
    }


def is_known(code: str) -> bool:
    """Whether an ONS code is in the registry of areas."""
    return code in load_areas()


def is_current(code: str) -> bool:
    """Whether an ONS code is that of an area that exists today."""
    area = load_areas().get(code)
    return area is not None and area.current


def level_of(code: str) -> str | None:
    """The level of a known area: la, region or country."""
    area = load_areas().get(code)
    return area.level if area else None


def from_dfe_code(code: str) -> str | None:
    """The ONS code of a local authority given by its DfE code ('208' or '208.0'), if known."""
    text = code.strip()
    if text.endswith(".0"):
        text = text[:-2]
    return _by_dfe_code().get(text)


def region_or_country(name: str) -> str | None:
    """The ONS code of a region, London half or England given by name, if it is one."""
    folded = name.strip().casefold()
    return _by_region_name().get(_NAME_ALIASES.get(folded, folded))
