"""Rebuild ``data/areas.csv`` from the published ONS population file in ``../shared/benchmarks``.

Every English local authority (past and present), the nine regions and England, each with its ONS
code, DfE three-digit code (local authorities only), name and region. Run from the repository top:

    python scripts/build_areas.py \
        ../shared/benchmarks/dfe/ons_mid-year_population_estimates_2012_to_2024.csv
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "data" / "areas.csv"
COLUMNS = ["ons_code", "dfe_code", "name", "level", "region_code", "region_name", "current"]
LONDON_SUBREGIONS = {"Inner London", "Outer London"}
LONDON = "E12000007"


def build(source: Path) -> list[dict[str, str]]:
    """Read the population file and return one row per area, sorted by level then code."""
    with source.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    latest = max(int(r["time_period"]) for r in rows)
    areas: dict[str, dict[str, str]] = {}
    for row in sorted(rows, key=lambda r: int(r["time_period"])):
        level = row["geographic_level"]
        is_current = "yes" if int(row["time_period"]) == latest else "no"
        if level == "National":
            code, entry = (
                row["country_code"],
                {
                    "name": row["country_name"],
                    "level": "country",
                    "dfe_code": "",
                    "region_code": "",
                    "region_name": "",
                },
            )
        elif level == "Regional":
            code, entry = (
                row["region_code"],
                {
                    "name": row["region_name"],
                    "level": "region",
                    "dfe_code": "",
                    "region_code": row["region_code"],
                    "region_name": row["region_name"],
                },
            )
        elif level == "Local authority":
            region_code, region = row["region_code"], row["region_name"]
            if region in LONDON_SUBREGIONS:  # DfE files give boroughs Inner or Outer London
                region_code, region = LONDON, "London"
            code, entry = (
                row["new_la_code"],
                {
                    "name": row["la_name"],
                    "level": "la",
                    "dfe_code": row["old_la_code"],
                    "region_code": region_code,
                    "region_name": region,
                },
            )
        else:
            continue
        areas[code] = {"ons_code": code, **entry, "current": is_current}
    order = {"country": 0, "region": 1, "la": 2}
    return sorted(areas.values(), key=lambda a: (order[a["level"]], a["ons_code"]))


def main(argv: list[str]) -> int:
    """Write ``data/areas.csv`` from the file named on the command line."""
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    rows = build(Path(argv[0]))
    with OUT.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} areas to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
