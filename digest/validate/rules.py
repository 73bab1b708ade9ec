"""The checks a return must pass: errors block it, queries need an explanation.

:func:`validate_return` never raises on bad data: it returns what it could read together with every
finding, each located by sheet, cell and measure code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace

from digest.domain.areas import AreaError, find_area
from digest.domain.dataset import Agency, Dataset
from digest.domain.findings import Finding, Severity, sort_findings
from digest.domain.periods import Period, PeriodError
from digest.domain.statuses import Status
from digest.read.cells import Cell, Sheet, Workbook, a1
from digest.validate.privacy import child_level_kind
from digest.validate.values import read_value
from digest.workbook import layout
from digest.workbook.template import fixed_texts


@dataclass(frozen=True)
class Ruleset:
    """The version of these rules and the severity of each check on a return's figures.

    The version is stored with every submission, so a figure can be traced to the rules that
    accepted it; raise it whenever a rule or its severity changes. Checks of the file, the
    template and privacy are always errors.
    """

    version: str
    severity: Mapping[str, Severity]


RULESET = Ruleset(
    version="1.0",
    severity={
        "value.part_exceeds_whole": "error",
        "query.zero": "query",
        "query.change": "query",
        "query.identical": "query",
    },
)
RULESET_VERSION = RULESET.version

#: The explanation key of a query about the return as a whole (the ``--explain`` key).
WHOLE_RETURN = "RETURN"

CHANGE_THRESHOLD = 0.5
CHANGE_MIN_VALUE = 10
ZERO_AFTER = 20
MIN_EXPLANATION = 10
INSTRUCTION_ROWS = 40
_TOTALS_ONLY = (
    "The partnership collects totals only: remove any detail about an individual child and "
    "upload again."
)
_COVER_CELLS = {layout.TITLE_CELL} | {
    ref for field in layout.COVER_FIELDS for ref in (field.label_cell, field.value_cell)
}
QUERY_PREFIX = "Please check and either amend or provide a reason:"


@dataclass(frozen=True)
class Submitting:
    """What the person uploading says the file is; the cover must agree with each given part."""

    agency: str | None = None
    area: str | None = None
    period: Period | None = None


@dataclass(frozen=True)
class PreviousReturn:
    """The accepted figures of the same agency and area for the quarter before."""

    period: Period
    version: int
    values: dict[str, tuple[float | None, Status]]


@dataclass(frozen=True)
class ReturnValue:
    """One accepted figure and the cell it came from."""

    code: str
    value: float | None
    status: Status
    sheet: str
    cell: str


@dataclass
class ValidatedReturn:
    """What validation read from a workbook, and everything it found."""

    agency: str | None = None
    area: str | None = None
    period: Period | None = None
    template_version: int | None = None
    values: list[ReturnValue] = field(default_factory=list)
    explanations: dict[str, str] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        """The findings that block acceptance."""
        return [f for f in self.findings if f.severity == "error"]

    @property
    def queries(self) -> list[Finding]:
        """The findings that need an explanation."""
        return [f for f in self.findings if f.severity == "query"]

    def unexplained(self, extra: dict[str, str] | None = None) -> list[Finding]:
        """Queries with no explanation of at least a few words, in the workbook or in ``extra``."""
        given = {**self.explanations, **(extra or {})}
        return [
            q
            for q in self.queries
            if len(given.get(q.code or WHOLE_RETURN, "").strip()) < MIN_EXPLANATION
        ]


PreviousLookup = Callable[[str, str, Period], PreviousReturn | None]


def validate_return(
    workbook: Workbook,
    dataset: Dataset,
    submitting: Submitting | None = None,
    previous: PreviousLookup | None = None,
    ruleset: Ruleset = RULESET,
) -> ValidatedReturn:
    """Check a parsed workbook against the template and the dataset's rules."""
    result = ValidatedReturn()
    found = result.findings
    cover, sheet = workbook.sheet(layout.COVER_SHEET), workbook.sheet(layout.RETURN_SHEET)
    if not _is_ours(cover, sheet):
        found.append(
            Finding(
                "error",
                "template.not_ours",
                "This is not a PQA Digest return template. Download the template "
                "for your agency and quarter, copy your figures into it and upload "
                "that file.",
            )
        )
        return result
    assert cover is not None and sheet is not None
    found.extend(_check_sheets(workbook))
    found.extend(_check_layout(workbook))
    agency = _read_cover(cover, dataset, submitting or Submitting(), result)
    found.extend(_check_privacy(workbook, fixed_texts(dataset)))
    if agency is not None and result.template_version in layout.KNOWN_TEMPLATE_VERSIONS:
        _read_measures(sheet, agency, result)
        if not result.errors:
            before = (
                previous(agency.code, result.area, result.period)
                if previous is not None and result.area and result.period
                else None
            )
            found.extend(check_figures(result.values, agency, before, ruleset))
    result.findings = sort_findings(found)
    return result


def check_figures(
    values: list[ReturnValue],
    agency: Agency,
    before: PreviousReturn | None,
    ruleset: Ruleset = RULESET,
) -> list[Finding]:
    """The checks of a return's figures, once each was read: a part never larger than its
    whole, then the queries against the previous quarter's accepted figures. They run on a
    stored version too, to show what a new ruleset would say of it."""
    found = list(_parts_within_wholes(values, agency))
    if before is not None and not found:
        found.extend(_plausibility(values, before))
    return [
        f if f.rule not in ruleset.severity else replace(f, severity=ruleset.severity[f.rule])
        for f in found
    ]


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _is_ours(cover: Sheet | None, sheet: Sheet | None) -> bool:
    return (
        cover is not None
        and sheet is not None
        and _text(cover.value(layout.TITLE_CELL)) == layout.TITLE
    )


def _check_sheets(workbook: Workbook) -> Iterator[Finding]:
    names = [s.name for s in workbook.sheets]
    for expected in layout.SHEETS:
        if expected not in names:
            yield Finding(
                "error",
                "template.sheet_missing",
                f"The sheet '{expected}' is missing. Use an unaltered template.",
                sheet=expected,
            )
    for position, sheet in enumerate(workbook.sheets, start=1):
        if sheet.name not in layout.SHEETS:
            label = sheet_label(sheet, position)
            hidden = "" if sheet.visibility == "visible" else f" ({sheet.visibility})"
            yield Finding(
                "error",
                "template.sheet_extra",
                f"The workbook has a sheet '{label}'{hidden} that is not part of the template. "
                "Delete it and upload again.",
                sheet=label,
            )


def _cover_error(rule: str, field_key: str, message: str) -> Finding:
    return Finding(
        "error", rule, message, sheet=layout.COVER_SHEET, cell=layout.COVER[field_key].value_cell
    )


def _read_cover(
    cover: Sheet, dataset: Dataset, submitting: Submitting, result: ValidatedReturn
) -> Agency | None:
    """Read agency, area, period and template version, checking each against the submission."""
    found = result.findings
    cell = {f.key: cover.value(f.value_cell) for f in layout.COVER_FIELDS}
    version = cell["template_version"]
    if isinstance(version, float) and version.is_integer():
        result.template_version = int(version)
    if result.template_version not in layout.KNOWN_TEMPLATE_VERSIONS:
        found.append(
            _cover_error(
                "template.version_unknown",
                "template_version",
                "The template version is not one this system reads. Download a fresh template "
                "and copy your figures into it.",
            )
        )

    agency: Agency | None = None
    code = _text(cell["agency"]).upper()
    try:
        agency = dataset.agency(code)
        result.agency = agency.code
    except KeyError:
        found.append(
            _cover_error(
                "cover.agency_unknown",
                "agency",
                "The agency code on the cover is not one of the dataset's "
                "agencies. Use the template downloaded for your agency.",
            )
        )
    try:
        result.area = find_area(_text(cell["area"])).ons_code
    except AreaError:
        found.append(
            _cover_error(
                "cover.area_unknown",
                "area",
                "The area code on the cover is not a known local authority. "
                "Use the template downloaded for your area.",
            )
        )
    try:
        result.period = Period.parse(_text(cell["period"]))
    except PeriodError:
        found.append(
            _cover_error(
                "cover.period_invalid",
                "period",
                "The period on the cover is not a quarter such as "
                "'2025-26 Q2'. Use the template downloaded for the quarter.",
            )
        )
    comment = _text(cell["comment"])
    if comment:
        result.explanations[WHOLE_RETURN] = comment

    said = {
        "agency": submitting.agency,
        "area": submitting.area,
        "period": str(submitting.period) if submitting.period else None,
    }
    read = {
        "agency": result.agency,
        "area": result.area,
        "period": str(result.period) if result.period else None,
    }
    for key, wanted in said.items():
        if wanted is not None and read[key] is not None and read[key] != wanted:
            found.append(
                _cover_error(
                    f"cover.{key}_mismatch",
                    key,
                    f"The file is a return for {key} {read[key]}, but you are submitting "
                    f"{key} {wanted}. Upload the return for {wanted}, or choose {read[key]}.",
                )
            )
    if agency is not None and result.area and result.period:
        found.extend(_check_derived(cover, dataset, agency, result.area, result.period))
    return agency


def _check_derived(
    cover: Sheet, dataset: Dataset, agency: Agency, area: str, period: Period
) -> Iterator[Finding]:
    """The cover cells that follow from agency, area and period: an edited old template fails."""
    expected: dict[str, object] = {
        "agency_name": agency.name,
        "area_name": find_area(area).name,
        "months": period.months,
        "dataset_version": float(dataset.dataset_version),
    }
    for key, wanted in expected.items():
        actual = cover.value(layout.COVER[key].value_cell)
        if (actual.strip() if isinstance(actual, str) else actual) != wanted:
            shown = f"{wanted:.0f}" if isinstance(wanted, float) else wanted
            yield _cover_error(
                "cover.edited",
                key,
                f"This cell should read '{shown}' in the {agency.code} return for {period}: the "
                "cover has been edited. Download the template for this return and copy your "
                "figures into it, rather than changing an old one.",
            )


def sheet_label(sheet: Sheet, position: int) -> str:
    """A sheet's name as findings show it, unless the name itself looks like a child's details."""
    return f"sheet {position}" if child_level_kind(sheet.name) else sheet.name[:31]


def _in_template(sheet: Sheet, cell: Cell) -> bool:
    """Whether a cell is one the template writes or asks for (its text is checked more lightly)."""
    if sheet.name == layout.RETURN_SHEET:
        return cell.column <= layout.LAST_COLUMN
    if sheet.name == layout.COVER_SHEET:
        return cell.ref in _COVER_CELLS
    return sheet.name == layout.INSTRUCTIONS_SHEET and cell.column == 1


def _check_privacy(workbook: Workbook, ours: frozenset[str]) -> Iterator[Finding]:
    """Refuse anything that looks like a child's details, naming the cell but never the value.

    Cells the template asks for hold labels, figures or prose (an explanation): there only
    identifiers and words such as 'born' count, while figures that are really text or dates are
    the value checks' business. Anything typed elsewhere is checked for names and dates too.
    Text of the template's own (``ours``) in its own place is not searched again.
    """
    for position, sheet in enumerate(workbook.sheets, start=1):
        label = sheet_label(sheet, position)
        if label != sheet.name[:31]:
            yield Finding(
                "error",
                "privacy.child_level",
                "The name of this sheet seems to hold "
                f"{child_level_kind(sheet.name)}. {_TOTALS_ONLY}",
                sheet=label,
            )
        for cell in sheet.cells.values():
            in_template = _in_template(sheet, cell)
            if in_template and isinstance(cell.value, str) and cell.value in ours:
                continue
            kind = child_level_kind(cell.value, free_text=in_template)
            if kind is not None:
                yield Finding(
                    "error",
                    "privacy.child_level",
                    f"This cell seems to hold {kind}. {_TOTALS_ONLY}",
                    sheet=label,
                    cell=cell.ref,
                )


def check_explanations(explanations: dict[str, str]) -> list[Finding]:
    """Explanations given outside the workbook (the command line, the app) get the same check."""
    return [
        Finding(
            "error",
            "privacy.child_level",
            f"The explanation given for {code} seems to hold {kind}. {_TOTALS_ONLY}",
            code=None if code == WHOLE_RETURN else code,
        )
        for code, text in sorted(explanations.items())
        if (kind := child_level_kind(text, free_text=True)) is not None
    ]


def _read_measures(sheet: Sheet, agency: Agency, result: ValidatedReturn) -> None:
    found = result.findings
    headings_ok = True
    for column, heading in enumerate(layout.COLUMNS, start=1):
        ref = a1(layout.HEADER_ROW, column)
        actual = _text(sheet.value(ref))
        if column == layout.PREVIOUS_COLUMN and result.period is not None:
            heading = layout.previous_heading(result.period)
        matches = actual == heading
        if not matches:
            headings_ok = False
            found.append(
                Finding(
                    "error",
                    "template.heading",
                    f"Expected the heading '{heading}' here, but it has been changed. Do not "
                    "change the template's headings.",
                    sheet=sheet.name,
                    cell=ref,
                )
            )
    if not headings_ok:
        return

    expected = {m.code: m for m in agency.measures}
    rows: dict[str, int] = {}
    code_rows = {layout.HEADER_ROW}
    for row in sorted({c.row for c in sheet.cells.values() if c.row > layout.HEADER_ROW}):
        code_ref = a1(row, layout.CODE_COLUMN)
        code = _text(sheet.value(code_ref))
        if not code:
            continue
        code_rows.add(row)
        if code not in expected:
            found.append(
                Finding(
                    "error",
                    "measure.unknown",
                    f"This is not a measure code of the {agency.code} return. Do not change "
                    "the codes in column A.",
                    sheet=sheet.name,
                    cell=code_ref,
                )
            )
        elif code in rows:
            found.append(
                Finding(
                    "error",
                    "measure.duplicate",
                    f"{code} appears twice (rows {rows[code]} and {row}). Keep one "
                    "row per measure.",
                    sheet=sheet.name,
                    cell=code_ref,
                    code=code,
                )
            )
        else:
            rows[code] = row
    for code, measure in expected.items():
        if code not in rows:
            found.append(
                Finding(
                    "error",
                    "measure.missing",
                    f"The row for {code} ({measure.description}) is missing. Use an "
                    "unaltered template.",
                    sheet=sheet.name,
                    code=code,
                )
            )
    found.extend(
        _outside_area(
            sheet,
            lambda c: (
                c.column <= layout.LAST_COLUMN
                and (c.row in code_rows or (c.row < layout.HEADER_ROW and c.column == 1))
            ),
        )
    )

    for code, row in rows.items():
        ref = a1(row, layout.VALUE_COLUMN)
        reading = read_value(sheet.cells.get(ref))
        if reading.problem is not None:
            found.append(
                Finding(
                    "error",
                    reading.rule or "value.invalid",
                    f"The value for {code} {reading.problem}",
                    sheet=sheet.name,
                    cell=ref,
                    code=code,
                )
            )
            continue
        if reading.note is not None:
            found.append(
                Finding(
                    "info",
                    "value.read_as",
                    f"The value for {code} {reading.note}",
                    sheet=sheet.name,
                    cell=ref,
                    code=code,
                )
            )
        result.values.append(ReturnValue(code, reading.value, reading.status, sheet.name, ref))
        explanation = _text(sheet.value(a1(row, layout.EXPLANATION_COLUMN)))
        if explanation:
            result.explanations[code] = explanation


def _parts_within_wholes(values: list[ReturnValue], agency: Agency) -> Iterator[Finding]:
    read = {v.code: v for v in values}
    for measure in agency.measures:
        part, whole = read.get(measure.code), read.get(measure.part_of or "")
        if (
            part is not None
            and whole is not None
            and part.value is not None
            and whole.value is not None
            and part.value > whole.value
        ):
            yield Finding(
                "error",
                "value.part_exceeds_whole",
                f"{part.code} ({part.value:,.0f}) is a part of {whole.code} ({whole.value:,.0f}) "
                "and cannot be larger. Check both figures.",
                sheet=part.sheet,
                cell=part.cell,
                code=part.code,
            )


def _outside_area(sheet: Sheet, inside: Callable[[Cell], bool]) -> Iterator[Finding]:
    """Content beyond the template's cells, which would otherwise be silently ignored."""
    stray = sorted(
        (c for c in sheet.cells.values() if not inside(c)), key=lambda c: (c.row, c.column)
    )
    if stray:
        more = f" and {len(stray) - 1} more cells" if len(stray) > 1 else ""
        yield Finding(
            "error",
            "template.outside_area",
            f"There is content outside the template area, in {stray[0].ref}{more}. "
            "Delete anything outside the return's table and upload again.",
            sheet=sheet.name[:31],
            cell=stray[0].ref,
        )


def _check_layout(workbook: Workbook) -> Iterator[Finding]:
    """Content outside the fixed parts of the cover and instructions sheets."""
    allowed: dict[str, Callable[[Cell], bool]] = {
        layout.COVER_SHEET: lambda c: c.ref in _COVER_CELLS,
        layout.INSTRUCTIONS_SHEET: lambda c: c.column == 1 and c.row <= INSTRUCTION_ROWS,
    }
    for sheet in workbook.sheets:
        if sheet.name in allowed:
            yield from _outside_area(sheet, allowed[sheet.name])


def _plausibility(values: list[ReturnValue], before: PreviousReturn) -> Iterator[Finding]:
    """Queries against the previous quarter's accepted figures."""
    now = {v.code: v for v in values}
    for code, value in now.items():
        last, last_status = before.values.get(code, (None, "x"))
        if value.value is None or last is None or last_status != "ok":
            continue
        current = value.value
        if current == 0 and last > ZERO_AFTER:
            yield Finding(
                "query",
                "query.zero",
                f"{QUERY_PREFIX} {code} is 0 this quarter after {last:,.0f} in {before.period}.",
                sheet=value.sheet,
                cell=value.cell,
                code=code,
            )
        elif max(current, last) >= CHANGE_MIN_VALUE and (
            last == 0 or abs(current - last) / last > CHANGE_THRESHOLD
        ):
            change = "up" if current > last else "down"
            size = f" {abs(current - last) / last:.0%}" if last else ""
            yield Finding(
                "query",
                "query.change",
                f"{QUERY_PREFIX} {code} is {current:,.0f}, {change}{size} from "
                f"{last:,.0f} in {before.period}.",
                sheet=value.sheet,
                cell=value.cell,
                code=code,
            )
    same = {c: (v.value, v.status) for c, v in now.items()}
    if same and same == before.values:
        yield Finding(
            "query",
            "query.identical",
            f"{QUERY_PREFIX} every figure is identical to the return for "
            f"{before.period} (version {before.version}). Was last quarter's file "
            "uploaded again by mistake? If the figures really are unchanged, say so "
            f"in the cover comment or with --explain {WHOLE_RETURN}=...",
            sheet=layout.COVER_SHEET,
            cell=layout.COVER["comment"].value_cell,
        )
