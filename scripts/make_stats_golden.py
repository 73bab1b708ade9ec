"""Rebuild ``tests/golden/stats_golden.csv``, the independent check on ``digest.compare.stats``.

The values come from SciPy's normal and chi-squared quantiles and the textbook formulas written out
here, not from the package, so the table can catch a mistake in it. SciPy is not a dependency of
the project: ``pip install scipy`` first, then run from the repository top:

    python scripts/make_stats_golden.py
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from scipy.stats import chi2, norm  # type: ignore[import-untyped]

OUT = Path(__file__).resolve().parents[1] / "tests" / "golden" / "stats_golden.csv"
COLUMNS = [
    "method",
    "numerator",
    "denominator",
    "confidence",
    "multiplier",
    "value",
    "lower",
    "upper",
]
LEVELS = (0.95, 0.998)

# Proportions from 0/n to n/n, tiny to national-sized denominators; 81/263, 15/148, 0/20 and 1/29
# are Newcombe's (1998) worked examples.
PROPORTIONS = [
    (0, 1), (1, 1), (0, 20), (1, 29), (15, 148), (81, 263), (3, 7), (5, 5), (1, 2), (9, 10),
    (10, 10), (0, 250), (250, 250), (37, 41), (50, 100), (99, 100), (1, 1000), (999, 1000),
    (412, 1893), (2710, 12345), (5012, 70000), (250_000, 1_000_000), (1, 1_000_000),
]  # fmt: skip
# Counts against child populations the size of a small borough, a London borough and England.
RATES = [
    (10, 45_000), (11, 60_000), (15, 8_000), (20, 1_500), (37, 62_000), (50, 50_000),
    (65, 100_000), (100, 71_234), (250, 58_000), (500, 80_000), (1045, 250_000),
    (2000, 12_000_000), (5000, 12_000_000),
]  # fmt: skip
SMALL_COUNTS = [(count, 45_000) for count in range(10)]

Row = tuple[str, int, int, float, int, float, float, float]


def z(confidence: float) -> float:
    """Two-sided normal critical value."""
    return float(norm.ppf(1 - (1 - confidence) / 2))


def wilson(x: int, n: int, confidence: float) -> tuple[float, float]:
    """Wilson score limits for x/n, in the form of Newcombe (1998), method 3."""
    zz = z(confidence)
    p = x / n
    root = zz * math.sqrt(zz * zz + 4 * n * p * (1 - p))
    lower = (2 * n * p + zz * zz - root) / (2 * (n + zz * zz))
    upper = (2 * n * p + zz * zz + root) / (2 * (n + zz * zz))
    return max(lower, 0.0), min(upper, 1.0)


def byar(o: int, confidence: float) -> tuple[float, float]:
    """Byar's limits for a count, as in Breslow and Day (1987) and PHEindicatormethods."""
    zz = z(confidence)
    lower = o * (1 - 1 / (9 * o) - zz / (3 * math.sqrt(o))) ** 3
    upper = (o + 1) * (1 - 1 / (9 * (o + 1)) + zz / (3 * math.sqrt(o + 1))) ** 3
    return lower, upper


def exact(o: int, confidence: float) -> tuple[float, float]:
    """Exact Poisson limits for a count from chi-squared quantiles (Armitage and Berry)."""
    alpha = 1 - confidence
    lower = 0.0 if o == 0 else float(chi2.ppf(alpha / 2, 2 * o)) / 2
    upper = float(chi2.ppf(1 - alpha / 2, 2 * o + 2)) / 2
    return lower, upper


def proportion_row(x: int, n: int, confidence: float, multiplier: int) -> Row:
    """One Wilson row, scaled."""
    lower, upper = wilson(x, n, confidence)
    m = multiplier
    return ("Wilson score", x, n, confidence, m, x / n * m, lower * m, upper * m)


def rate_row(o: int, n: int, confidence: float, multiplier: int) -> Row:
    """One rate row: exact Poisson below a count of 10, Byar from 10, per multiplier of n."""
    if o < 10:
        method, (lower, upper) = "exact Poisson", exact(o, confidence)
    else:
        method, (lower, upper) = "Byar", byar(o, confidence)
    scale = multiplier / n
    return (method, o, n, confidence, multiplier, o * scale, lower * scale, upper * scale)


def rows() -> list[Row]:
    """Every golden row, in a stable order."""
    out: list[Row] = []
    for confidence in LEVELS:
        out += [proportion_row(x, n, confidence, 100) for x, n in PROPORTIONS]
        out += [proportion_row(x, n, confidence, 1) for x, n in [(3, 7), (81, 263)]]
        out += [rate_row(o, n, confidence, 10_000) for o, n in SMALL_COUNTS + RATES]
        extra = [(0, 30_000), (7, 30_000), (12, 30_000), (480, 700_000)]
        out += [rate_row(o, n, confidence, 100_000) for o, n in extra]
    return out


def check_published() -> None:
    """Stop if the formulas disagree with published worked examples, to their printed places."""
    newcombe = {
        (81, 263): (0.2553, 0.3662),
        (15, 148): (0.0624, 0.1605),
        (0, 20): (0.0, 0.1611),
        (1, 29): (0.0061, 0.1718),
    }
    for (x, n), expected in newcombe.items():
        lower, upper = wilson(x, n, 0.95)
        assert (round(lower, 4), round(upper, 4)) == expected, (x, n, lower, upper)
    # Garwood's exact 95% limits for a Poisson count, as tabulated.
    garwood = {0: (0.0, 3.689), 1: (0.0253, 5.572), 9: (4.115, 17.08)}
    for o, (lo, hi) in garwood.items():
        lower, upper = exact(o, 0.95)
        assert abs(lower - lo) < 5e-4 and abs(upper - hi) < 5e-3, (o, lower, upper)
    # Byar's approximation should sit close to the exact limits once counts are moderate.
    for o in (10, 65, 1045):
        (bl, bu), (el, eu) = byar(o, 0.95), exact(o, 0.95)
        assert abs(bl - el) / el < 0.01 and abs(bu - eu) / eu < 0.01, (o, bl, el, bu, eu)


def main() -> None:
    """Check against the published examples, then write the table."""
    check_published()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in rows():
            writer.writerow(repr(v) if isinstance(v, float) else v for v in row)
    print(f"Wrote {OUT}")


if __name__ == "__main__":
    main()
