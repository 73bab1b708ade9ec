"""Time a full recompute of every indicator for 33 areas x 40 quarters against plain pandas.

    .venv/bin/python benchmarks/indicators.py [--runs 5]

The store holds synthetic returns of every agency for the 33 London boroughs over 43 quarters
(so that every 12-month window of the 40 quarters computed is full), stored through the real
store without workbooks (:func:`digest.demo.store_generated`). Both implementations start from
the same DuckDB file: the engine (:func:`digest.compute.engine.compute`) and a straightforward
pandas version of the same definitions (current figures into a DataFrame, rolling sums per area,
numerator over denominator). The run checks that both give the same figures before timing.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

from digest.compute.definitions import POPULATION, Indicator, load_indicators
from digest.compute.engine import Scope, compute, compute_table
from digest.demo import generate_returns, store_generated
from digest.domain.areas import london_boroughs
from digest.domain.dataset import load_dataset
from digest.domain.periods import Period, quarters
from digest.store.database import connect
from digest.store.returns import ReturnsStore

FIRST, LAST = Period(2016, 1), Period(2025, 4)  # 40 quarters


def pandas_recompute(connection, indicators: list[Indicator], periods: list[Period]) -> dict:
    """The same definitions, written plainly with pandas: {(id, area, period index): value}."""
    kinds = {code: m.kind for code, m in load_dataset().measures.items()}
    frame = connection.execute(
        "select area, code, period_index, value, status from current_figures"
    ).df()
    frame["ok"] = frame["status"].eq("ok")
    wanted = [p.index for p in periods]
    results: dict[tuple[str, str, int], float | None] = {}
    for indicator in indicators:
        if indicator.denominator == POPULATION:
            continue  # no population is loaded in this benchmark: both sides skip rates
        width = 4 if indicator.window == "12m" else 1
        parts = []
        for code in indicator.measures:
            rows = frame[frame["code"] == code].set_index(["area", "period_index"])
            rows = rows[["value", "ok"]].sort_index()
            if kinds[code] == "flow" and width > 1:
                grouped = rows.groupby(level="area")
                value = grouped["value"].rolling(width).sum().droplevel(0)
                ok = grouped["ok"].rolling(width).sum().droplevel(0) == width
            else:
                value, ok = rows["value"], rows["ok"]
            parts.append(pd.DataFrame({"value": value, "ok": ok}))
        numerator = parts[0]
        joined = numerator if len(parts) == 1 else numerator.join(parts[1].add_suffix("_d"))
        joined = joined[joined.index.get_level_values("period_index").isin(wanted)]
        for row in joined.reset_index().to_dict("records"):
            key = (indicator.id, str(row["area"]), int(row["period_index"]))
            complete = row["ok"] and (len(parts) == 1 or row["ok_d"])
            if not complete or (len(parts) > 1 and row["value_d"] == 0):
                results[key] = None
            elif len(parts) == 1:
                results[key] = row["value"] * indicator.multiplier
            else:
                results[key] = row["value"] / row["value_d"] * indicator.multiplier
    return results


def main() -> None:
    """Build the store, check both implementations agree, and time each."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    dataset = load_dataset()
    areas = [a.ons_code for a in london_boroughs()]
    periods = quarters(FIRST, LAST)
    indicators = list(load_indicators().values())
    with tempfile.TemporaryDirectory() as folder:
        store = ReturnsStore(connect(Path(folder) / "bench.duckdb"))
        started = time.perf_counter()
        for area in areas:
            for demo in generate_returns(area, FIRST.shift(-3), LAST, dataset=dataset):
                store_generated(store, demo, dataset)
        print(
            f"stored {len(areas)} areas x {len(periods) + 3} quarters x 6 agencies in "
            f"{time.perf_counter() - started:.1f} s"
        )
        connection = store._connection
        scopes = [Scope.single(area) for area in areas]

        engine = {
            (
                c.indicator.id,
                c.scope.label,
                c.period.index,
            ): c.result.value
            for c in compute(connection, indicators, scopes, periods)
        }
        plain = pandas_recompute(connection, indicators, periods)
        assert plain, "the pandas version computed nothing"
        for key, value in plain.items():
            assert (engine[key] is None) == (value is None), key
            assert value is None or abs((engine[key] or 0.0) - value) < 1e-9, key

        ours, rows, theirs = [], [], []
        for _ in range(args.runs):
            started = time.perf_counter()
            compute_table(connection, indicators, scopes, periods)
            ours.append(time.perf_counter() - started)
            started = time.perf_counter()
            compute(connection, indicators, scopes, periods)
            rows.append(time.perf_counter() - started)
            started = time.perf_counter()
            pandas_recompute(connection, indicators, periods)
            theirs.append(time.perf_counter() - started)
    print(
        f"{len(engine):,} results ({len(indicators)} indicators x {len(areas)} areas x "
        f"{len(periods)} quarters); {len(plain):,} compared with pandas (no rates)"
    )
    print(
        f"engine, all figures as arrays: median {statistics.median(ours):.3f} s over "
        f"{args.runs} runs"
    )
    print(
        f"engine, every figure as a row object with its reason: median "
        f"{statistics.median(rows):.3f} s"
    )
    print(f"pandas: median {statistics.median(theirs):.3f} s over {args.runs} runs")
    print(f"the engine is {statistics.median(theirs) / statistics.median(ours):.1f} times as fast")


if __name__ == "__main__":
    main()
