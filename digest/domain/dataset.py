"""The agreed quarterly dataset: agencies and the measures each returns (``data/dataset.yaml``)."""

from __future__ import annotations

import re
from functools import cache, cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from digest.domain.specfile import SpecError, Strict, load_model

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
DATASET_FILE = DATA_DIR / "dataset.yaml"

MeasureKind = Literal["flow", "snapshot", "rolling12"]

_CODE = re.compile(r"^[A-Z]+\.[A-Z0-9_]+$")


class Measure(Strict):
    """One number an agency returns for one area and one quarter."""

    code: str
    kind: MeasureKind
    description: str = Field(min_length=3)
    part_of: str | None = None

    @property
    def agency(self) -> str:
        """The code of the agency that returns this measure."""
        return self.code.split(".", 1)[0]


class Agency(Strict):
    """A partner agency and the measures its data lead returns each quarter."""

    code: str
    name: str
    measures: list[Measure] = Field(min_length=1)


class Dataset(Strict):
    """Every agency and measure of the dataset, with the versions of the dataset and template."""

    dataset_version: int
    template_version: int
    agencies: list[Agency] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Dataset:
        problems: list[str] = []
        codes: dict[str, Measure] = {}
        for agency in self.agencies:
            for measure in agency.measures:
                if not _CODE.match(measure.code):
                    problems.append(f"{measure.code}: a code is AGENCY.NAME in capitals")
                elif measure.agency != agency.code:
                    problems.append(f"{measure.code}: listed under agency {agency.code}")
                if measure.code in codes:
                    problems.append(f"{measure.code}: declared twice")
                codes[measure.code] = measure
        for measure in codes.values():
            whole = codes.get(measure.part_of) if measure.part_of else None
            if measure.part_of and whole is None:
                problems.append(f"{measure.code}: part_of names an unknown measure")
            elif whole is not None and (whole.agency, whole.kind) != (measure.agency, measure.kind):
                problems.append(
                    f"{measure.code}: a part must be of the same agency and kind as its whole"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def agency(self, code: str) -> Agency:
        """The agency with this code; ``KeyError`` with the known codes if there is none."""
        for agency in self.agencies:
            if agency.code == code:
                return agency
        known = ", ".join(a.code for a in self.agencies)
        raise KeyError(f"'{code}' is not an agency of the dataset; the agencies are {known}.")

    def measure(self, code: str) -> Measure:
        """The measure with this code."""
        return self.measures[code]

    @cached_property
    def measures(self) -> dict[str, Measure]:
        """Every measure of every agency, by code."""
        return {m.code: m for a in self.agencies for m in a.measures}


@cache
def load_dataset(path: Path = DATASET_FILE) -> Dataset:
    """Read and check the dataset specification; :class:`SpecError` names any bad field."""
    try:
        return load_model(path, Dataset)
    except SpecError:
        raise
    except ValueError as error:  # pragma: no cover - pydantic wraps validator errors
        raise SpecError(f"{path}: {error}") from None
