"""Synthetic returns for a fictional borough: the demo, the tests' fixtures and the benchmarks.

SYNTHETIC DATA. Every figure here is made up by a seeded random generator, at levels typical of a
London borough with about 60,000 children, with seasonality, trend and noise. They describe no
real place or child. The same seed always gives the same figures.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass

from digest.domain.areas import Area, find_area
from digest.domain.dataset import DATA_DIR, Dataset, load_dataset
from digest.domain.periods import Period, quarters
from digest.domain.statuses import SPELLINGS, Status
from digest.ingest import IngestResult, ingest
from digest.published.compact import import_compact
from digest.store.returns import NewSubmission, ReturnsStore
from digest.validate.rules import RULESET_VERSION, ReturnValue, ValidatedReturn
from digest.workbook.fill import Entry, fill_template
from digest.workbook.layout import RETURN_SHEET, measure_rows
from digest.workbook.template import Previous, build_template

DEMO_AREA = "E09000901"
COMPACT_BENCHMARKS = DATA_DIR / "published" / "benchmarks.csv"
DEMO_FIRST = Period(2022, 3)
DEMO_LAST = Period(2026, 2)
DEMO_USER = "demo-generator"
#: Who the demo app records uploads as: there are no accounts in the demo.
DEMO_LEAD = "demo data lead"
SYNTHETIC_NOTE = "Synthetic demo data: made up, describes no real place or child."

# Quarterly level of each whole (flows per quarter, snapshots on the last day), and the seasonal
# factor of Q1..Q4 (referrals dip over the summer holidays, for example).
_LEVELS: dict[str, float] = {
    "CSC.REFERRALS": 720, "CSC.ASSESSMENTS": 660, "CSC.S47": 210, "CSC.ICPC": 62,
    "CSC.CPP_STARTED": 58, "CSC.CPP_ENDED": 56, "CSC.CPP_OPEN": 230, "CSC.CIN_OPEN": 2250,
    "CSC.CLA_OPEN": 380, "CSC.CLA_12M": 520, "CSC.CLA_MISSING_INCIDENTS": 95,
    "CSC.MISSING_EPISODES": 185, "POLICE.DA_INCIDENTS": 1150, "POLICE.MISSING_REPORTS": 160,
    "POLICE.CSE_OPEN": 46, "POLICE.MASH_CHECKS": 920, "HEALTH.IHA_DUE": 36,
    "HEALTH.RHA_DUE": 92, "HEALTH.STAFF_TRAINING_DUE": 1400, "EDU.CME_OPEN": 120,
    "EDU.EHE_OPEN": 340, "EDU.PERM_EXCLUSIONS": 9, "YJS.FTE": 19, "PSCP.LADO_REFERRALS": 62,
    "PSCP.TRAINING_PLACES": 410, "PSCP.CONF_REPORTS_REQUESTED": 150,
}  # fmt: skip
_SEASON = (1.02, 0.9, 1.08, 1.0)
# The share of its whole each part usually is.
_SHARES: dict[str, float] = {
    "CSC.REREFERRALS_12M": 0.19, "CSC.ASSESSMENTS_45WD": 0.86, "CSC.ICPC_15WD": 0.8,
    "CSC.CPP_STARTED_REPEAT": 0.21, "CSC.CPP_ENDED_2Y": 0.04, "CSC.CLA_MISSING_12M": 0.11,
    "CSC.RHI_OFFERED_72H": 0.74, "CSC.RHI_COMPLETED": 0.5, "POLICE.DA_INCIDENTS_CHILD": 0.36,
    "POLICE.CSE_HIGH": 0.2, "POLICE.MASH_CHECKS_IN_TIME": 0.88, "HEALTH.IHA_20WD": 0.62,
    "HEALTH.RHA_IN_TIME": 0.85, "HEALTH.STAFF_TRAINING_CURRENT": 0.88,
    "PSCP.TRAINING_ATTENDED": 0.82, "PSCP.CONF_REPORTS_RECEIVED": 0.7,
}  # fmt: skip
_TREND_PER_YEAR = {"EDU.EHE_OPEN": 0.12, "CSC.REFERRALS": 0.03}


@dataclass(frozen=True)
class DemoReturn:
    """One agency's figures for one area and quarter."""

    agency: str
    area: str
    period: Period
    values: dict[str, Entry]


def _poisson(rng: random.Random, mean: float) -> int:
    if mean < 30:  # Knuth's method: exact for small means
        limit, k, p = math.exp(-mean), 0, 1.0
        while True:
            p *= rng.random()
            if p <= limit:
                return k
            k += 1
    return max(0, round(rng.gauss(mean, math.sqrt(mean))))


def _binomial(rng: random.Random, n: int, share: float) -> int:
    if n < 50:
        return sum(rng.random() < share for _ in range(n))
    mean, sd = n * share, math.sqrt(n * share * (1 - share))
    return min(n, max(0, round(rng.gauss(mean, sd))))


def generate_returns(
    area: str = DEMO_AREA,
    first: Period = DEMO_FIRST,
    last: Period = DEMO_LAST,
    *,
    seed: int = 2026,
    scale: float = 1.0,
    dataset: Dataset | None = None,
) -> list[DemoReturn]:
    """Every agency's figures for ``area`` for each quarter from ``first`` to ``last``."""
    dataset = dataset or load_dataset()
    rng = random.Random(f"{seed}:{area}")  # noqa: S311 - synthetic figures, not secrets
    drift = {code: 1.0 for code in _LEVELS}
    returns: list[DemoReturn] = []
    for index, period in enumerate(quarters(first, last)):
        figures: dict[str, int] = {}
        for code, level in _LEVELS.items():
            measure = dataset.measure(code)
            drift[code] *= math.exp(rng.gauss(0, 0.03))
            drift[code] = min(1.25, max(0.8, drift[code]))
            growth = (1 + _TREND_PER_YEAR.get(code, 0.0)) ** (index / 4)
            season = 1.0 if measure.kind != "flow" else _SEASON[period.quarter - 1]
            figures[code] = _poisson(rng, level * scale * drift[code] * growth * season)
        for code, share in _SHARES.items():
            whole = dataset.measure(code).part_of
            assert whole is not None
            wobble = min(0.98, max(0.01, share * math.exp(rng.gauss(0, 0.06))))
            figures[code] = _binomial(rng, figures[whole], wobble)
        for agency in dataset.agencies:
            values: dict[str, Entry] = {m.code: figures[m.code] for m in agency.measures}
            returns.append(DemoReturn(agency.code, area, period, values))
    return returns


def return_workbook(
    demo: DemoReturn,
    dataset: Dataset | None = None,
    previous: Previous | None = None,
    explanations: dict[str, str] | None = None,
) -> bytes:
    """The filled-in template workbook of one demo return, as a data lead would save it."""
    dataset = dataset or load_dataset()
    template = build_template(
        dataset, dataset.agency(demo.agency), find_area(demo.area), demo.period, previous
    )
    return fill_template(template, demo.values, explanations)


def submit_demo_return(store: ReturnsStore, demo: DemoReturn, dataset: Dataset) -> IngestResult:
    """Submit one demo return through the real ingest, explaining any query it raises."""
    previous = {
        v.code: v.value if v.value is not None else v.status
        for v in store.current_values(demo.agency, demo.area, demo.period.previous())
    }
    content = return_workbook(demo, dataset, previous)
    name = f"{demo.agency}_{demo.area}_{demo.period.year}Q{demo.period.quarter}.xlsx"
    result = ingest(store, content, name, submitted_by=DEMO_USER, dataset=dataset)
    queried = {f.code or "RETURN" for f in result.findings if f.severity == "query"}
    if (
        result.outcome == "rejected"
        and queried
        and not any(f.severity == "error" for f in result.findings)
    ):
        reasons = {
            code: "Checked with the team: a real change in demand this quarter "
            "(synthetic demo explanation)."
            for code in queried
        }
        result = ingest(
            store, content, name, submitted_by=DEMO_USER, explanations=reasons, dataset=dataset
        )
    return result


def store_generated(store: ReturnsStore, demo: DemoReturn, dataset: Dataset) -> None:
    """Store generated figures as a return without writing a workbook: for scale only.

    The tests and benchmarks that need thousands of returns (33 boroughs, 40 quarters) use this;
    every figure is still traced to the cell the template would have held. Anything a data lead
    sends goes through :func:`digest.ingest.ingest` instead.
    """
    rows = measure_rows(dataset.agency(demo.agency))
    values = []
    for code, entry in demo.values.items():
        status: Status = "ok"
        if isinstance(entry, str) and entry.strip().casefold() in SPELLINGS:
            status = SPELLINGS[entry.strip().casefold()]
        elif not isinstance(entry, int | float):
            raise ValueError(f"{code}: {entry!r} is neither a count nor a status")
        number = float(entry) if isinstance(entry, int | float) else None
        values.append(ReturnValue(code, number, status, RETURN_SHEET, f"E{rows[code]}"))
    validated = ValidatedReturn(
        agency=demo.agency,
        area=demo.area,
        period=demo.period,
        template_version=dataset.template_version,
        values=values,
    )
    digest = hashlib.sha256(repr(sorted(demo.values.items())).encode()).hexdigest()
    store.record(
        NewSubmission(
            validated=validated,
            sha256=digest,
            file_name="generated (no workbook)",
            file_size=0,
            dataset_version=dataset.dataset_version,
            ruleset_version=RULESET_VERSION,
            submitted_by=DEMO_USER,
            explanations={},
        ),
        store.context(demo.agency, demo.area, demo.period).latest,
    )


def _problem_files(dataset: Dataset, demos: list[DemoReturn]) -> list[tuple[DemoReturn, str]]:
    """Deliberately flawed first attempts that show validation at work (later corrected)."""
    by_key = {(d.agency, d.period): d for d in demos}
    problems: list[tuple[DemoReturn, str]] = []
    police = by_key.get(("POLICE", DEMO_LAST))
    if police is not None:
        broken = dict(police.values)
        broken["POLICE.CSE_HIGH"] = float(broken["POLICE.CSE_OPEN"] or 0) + 4
        broken["POLICE.MISSING_REPORTS"] = None
        broken["POLICE.MASH_CHECKS"] = "about 900"
        problems.append(
            (
                DemoReturn("POLICE", police.area, police.period, broken),
                "part larger than whole, a blank and text",
            )
        )
    health = by_key.get(("HEALTH", DEMO_LAST))
    if health is not None:
        suppressed = dict(health.values)
        suppressed["HEALTH.IHA_20WD"] = "<5"
        problems.append(
            (
                DemoReturn("HEALTH", health.area, health.period, suppressed),
                "a suppressed figure, later replaced by a correction",
            )
        )
    return problems


def build_demo(store: ReturnsStore, *, seed: int = 2026) -> str:
    """Fill an empty store with the demo by submitting every synthetic return through ingest.

    A store that already holds returns is left alone; the message says so.
    """
    if store.submissions():
        return "The database already holds returns, so the demo was not added."
    if COMPACT_BENCHMARKS.exists():
        import_compact(store.connection, COMPACT_BENCHMARKS)
    dataset = load_dataset()
    demos = generate_returns(seed=seed, dataset=dataset)
    problems = _problem_files(dataset, demos)
    counts: dict[str, int] = {}
    for demo in demos:
        for flawed, _why in problems:
            if (flawed.agency, flawed.period) == (demo.agency, demo.period):
                outcome = submit_demo_return(store, flawed, dataset).outcome
                counts[outcome] = counts.get(outcome, 0) + 1
        outcome = submit_demo_return(store, demo, dataset).outcome
        counts[outcome] = counts.get(outcome, 0) + 1
    summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
    area: Area = find_area(DEMO_AREA)
    return (
        f"Built the demo: {area.name}, {DEMO_FIRST} to {DEMO_LAST}, "
        f"{len(demos)} returns ({summary}). {SYNTHETIC_NOTE}"
    )
