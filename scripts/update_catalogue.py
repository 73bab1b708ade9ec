"""Rewrite the indicator catalogue in README.md from the files in indicators/.

    python scripts/update_catalogue.py

A test fails whenever the README's catalogue differs from what this writes.
"""

from __future__ import annotations

import re
from pathlib import Path

from digest.compute.definitions import catalogue, load_indicators

README = Path(__file__).resolve().parents[1] / "README.md"
MARKERS = re.compile(r"(<!-- catalogue:start -->\n)(?:.*?\n)?(<!-- catalogue:end -->)", re.DOTALL)


def updated(text: str) -> str:
    """The README text with its catalogue replaced by the current one."""
    table = catalogue(load_indicators())
    return MARKERS.sub(lambda m: m.group(1) + table + "\n" + m.group(2), text)


if __name__ == "__main__":
    README.write_text(updated(README.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"updated the indicator catalogue in {README}")
