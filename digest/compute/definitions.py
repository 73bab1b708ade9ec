"""Indicator definitions: one declarative YAML file per indicator in ``indicators/``."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from digest.domain.dataset import DATA_DIR, Dataset, load_dataset
from digest.domain.specfile import SpecError, Strict, load_model, read_yaml

INDICATORS_DIR = DATA_DIR.parent / "indicators"

Kind = Literal["count", "percentage", "rate", "ratio"]
Polarity = Literal["high", "low", "neutral"]
Window = Literal["quarter", "12m", "ytd"]
AgeGroup = Literal["0-17", "10-17"]
POPULATION = "population"

Given = int | float | str
"""A test input: a number, or a status symbol such as 'c'."""


class Benchmark(Strict):
    """Where the published figure to compare with comes from.

    Either ``value`` (a published percentage or rate, taken as published for London and England
    and pooled from counts otherwise) or ``numerator`` with ``denominator`` or ``population``
    (published counts, summed over the areas compared and divided here).
    """

    source: Literal["DfE", "LAIT", "ONS"]
    value: str | None = None
    numerator: list[str] | None = None
    denominator: str | None = None
    population: AgeGroup | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> Benchmark:
        if self.value is None and self.numerator is None:
            raise ValueError("a benchmark names a published value or numerator")
        if self.numerator is not None and (self.denominator is None) == (self.population is None):
            raise ValueError("a benchmark numerator needs a denominator or a population")
        return self


class IndicatorTest(Strict):
    """Given measure values (a list is the quarters of the window, oldest first) -> expected."""

    given: dict[str, Given | list[Given]]
    window: Window | None = None
    expected: float | Literal["incomplete"]


class Indicator(Strict):
    """A measure of how well children are protected, computed from the returned measures."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    description: str = Field(min_length=20)
    kind: Kind
    numerator: str
    denominator: str | None = None
    multiplier: float = 1
    population: AgeGroup | None = None
    polarity: Polarity
    window: Window
    theme: str
    agency: str
    benchmark: Benchmark | None = None
    target: float | None = None
    tolerance: float | None = None
    caveats: str | None = None
    tests: list[IndicatorTest] = Field(min_length=1)

    @model_validator(mode="after")
    def _shape(self) -> Indicator:
        if self.kind == "count" and self.denominator is not None:
            raise ValueError("a count has no denominator")
        if self.kind != "count" and self.denominator is None:
            raise ValueError(f"a {self.kind} needs a denominator")
        if (self.denominator == POPULATION) != (self.population is not None):
            raise ValueError("a rate per population names its age group in 'population'")
        if self.kind == "percentage" and self.multiplier != 100:
            raise ValueError("a percentage has multiplier 100")
        if (self.target is None) != (self.tolerance is None):
            raise ValueError("a target needs a tolerance, and a tolerance a target")
        return self

    @property
    def measures(self) -> list[str]:
        """The returned measures this indicator reads."""
        codes = [self.numerator]
        if self.denominator not in (None, POPULATION):
            codes.append(self.denominator)
        return codes


def _check_against_dataset(indicator: Indicator, dataset: Dataset, path: Path) -> None:
    for code in indicator.measures:
        if code not in dataset.measures:
            raise SpecError(f"{path}: '{code}' is not a measure of data/dataset.yaml")
    if indicator.agency not in {a.code for a in dataset.agencies}:
        raise SpecError(f"{path}: agency '{indicator.agency}' is not an agency of the dataset")
    if path.stem != indicator.id:
        raise SpecError(f"{path}: the file must be named after its id ({indicator.id}.yaml)")


@cache
def load_indicators(folder: Path = INDICATORS_DIR) -> dict[str, Indicator]:
    """Every indicator in ``folder``, by id, checked strictly against the dataset."""
    dataset = load_dataset()
    indicators: dict[str, Indicator] = {}
    for path in sorted(folder.glob("*.yaml")):
        try:
            indicator = load_model(path, Indicator, read_yaml(path))
        except SpecError:
            raise
        except ValueError as error:  # pragma: no cover - pydantic reports validator errors
            raise SpecError(f"{path}: {error}") from None
        _check_against_dataset(indicator, dataset, path)
        indicators[indicator.id] = indicator
    return indicators


def catalogue(indicators: dict[str, Indicator]) -> str:
    """The indicator catalogue as a Markdown table, grouped by theme (kept in the README)."""
    lines = [
        "| theme | id | indicator | computed as | polarity | window | benchmark |",
        "|---|---|---|---|---|---|---|",
    ]
    for indicator in sorted(indicators.values(), key=lambda i: (i.theme, i.id)):
        if indicator.denominator == POPULATION:
            per = f"{indicator.multiplier:,.0f} aged {indicator.population}"
            computed = f"{indicator.numerator} per {per}"
        elif indicator.denominator:
            computed = f"{indicator.numerator} / {indicator.denominator}"
        else:
            computed = indicator.numerator
        spec = indicator.benchmark
        if spec is None:
            target = (
                f"local target {indicator.target:g} ± {indicator.tolerance:g}"
                if indicator.target is not None and indicator.tolerance is not None
                else "none"
            )
            benchmark = target
        else:
            benchmark = f"{spec.source} `{spec.value or ' + '.join(spec.numerator or [])}`"
        lines.append(
            f"| {indicator.theme} | `{indicator.id}` | {indicator.title} | {computed} | "
            f"{indicator.polarity} | {indicator.window} | {benchmark} |"
        )
    return "\n".join(lines)
