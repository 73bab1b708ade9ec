"""Submitting a return: read the workbook safely, validate it, store it as the next version.

This is the one path by which figures enter the store, used by ``digest ingest``, the app's upload
page and the demo. It never raises on a bad file: the result says what happened and why.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Literal

from digest.domain.dataset import Dataset, load_dataset
from digest.domain.findings import Finding, sort_findings
from digest.domain.periods import Period
from digest.domain.timestamps import uk_time
from digest.read.errors import UnreadableWorkbook
from digest.read.safe import read_workbook
from digest.store.returns import (
    Explained,
    NewSubmission,
    ReturnContext,
    ReturnsStore,
    Submission,
)
from digest.validate.privacy import child_level_kind
from digest.validate.rules import (
    MIN_EXPLANATION,
    RULESET,
    WHOLE_RETURN,
    PreviousReturn,
    Ruleset,
    Submitting,
    ValidatedReturn,
    check_explanations,
    validate_return,
)

Outcome = Literal["accepted", "rejected", "unchanged"]

log = logging.getLogger(__name__)

CHECK_FAILED = (
    "a check could not run on this file, so it cannot be accepted. Nothing was stored. Please "
    "contact the partnership business unit, who can see what happened in the server log."
)

MAX_NAME = 120


@dataclass
class IngestResult:
    """What happened to one file."""

    file: str
    outcome: Outcome
    message: str
    agency: str | None = None
    area: str | None = None
    period: str | None = None
    version: int | None = None
    dry_run: bool = False
    findings: list[Finding] = field(default_factory=list)
    #: Explanations carried forward from the version before (``carried_from``), to confirm.
    carried: dict[str, str] = field(default_factory=dict)
    carried_from: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The result as the JSON object ``digest ingest --json`` prints."""
        return {
            "file": self.file,
            "outcome": self.outcome,
            "message": self.message,
            "agency": self.agency,
            "area": self.area,
            "period": self.period,
            "version": self.version,
            "dry_run": self.dry_run,
            "findings": [f.to_dict() for f in self.findings],
            "carried": self.carried,
            "carried_from": self.carried_from,
        }


def display_name(name: str) -> str:
    """A file name safe to store and show: no folders, control or direction characters, and
    never a name that looks like a child's details (then plainly ``upload.xlsx``)."""
    base = re.split(r"[\\/]", name)[-1]
    cleaned = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    stem = cleaned.rsplit(".", 1)[0].replace("_", " ")
    if not cleaned or child_level_kind(stem) or child_level_kind(stem, free_text=True):
        return "upload.xlsx"
    return cleaned if len(cleaned) <= MAX_NAME else cleaned[: MAX_NAME - 3] + "..."


def ingest(
    store: ReturnsStore,
    content: bytes,
    file_name: str,
    *,
    submitted_by: str,
    submitting: Submitting | None = None,
    explanations: dict[str, str] | None = None,
    dry_run: bool = False,
    dataset: Dataset | None = None,
    ruleset: Ruleset = RULESET,
) -> IngestResult:
    """Read, validate and (unless ``dry_run``) store one return workbook."""
    dataset = dataset or load_dataset()
    name = display_name(file_name)
    sha256 = hashlib.sha256(content).hexdigest()
    action = "dry_run" if dry_run else "upload"

    def refuse(
        message: str, findings: list[Finding], checked: ValidatedReturn | None
    ) -> IngestResult:
        store.audit(
            submitted_by,
            action,
            "rejected",
            agency=checked.agency if checked else None,
            area=checked.area if checked else None,
            period=checked.period if checked else None,
            sha256=sha256,
            ruleset_version=ruleset.version,
            detail={
                "file_name": name,
                "rules": sorted({f.rule for f in findings if f.severity != "info"}),
            },
        )
        return _result(name, "rejected", message, checked, findings, dry_run)

    try:
        workbook = read_workbook(content, name)
    except UnreadableWorkbook as problem:
        finding = Finding("error", problem.rule, problem.message)
        return refuse(f"{problem.message} Nothing was stored.", [finding], None)

    contexts: dict[tuple[str, str, Period], ReturnContext] = {}

    def previous(agency: str, area: str, period: Period) -> PreviousReturn | None:
        # What is stored is read once, here: the previous quarter for the queries and the
        # current version of this return, after which the new one is stored.
        contexts[agency, area, period] = store.context(agency, area, period)
        return contexts[agency, area, period].previous

    try:
        checked = validate_return(workbook, dataset, submitting, previous, ruleset)
    except Exception:  # a check that breaks on odd data must never count as passed
        log.exception("a check failed on %s (sha256 %s)", name, sha256)
        finding = Finding("error", "check.failed", CHECK_FAILED)
        return refuse(f"{name} was not accepted: {CHECK_FAILED}", [finding], None)
    checked.findings = sort_findings(checked.findings + check_explanations(explanations or {}))
    findings = checked.findings
    if checked.errors:
        count = len(checked.errors)
        return refuse(
            f"{name} was not accepted: {count} error{'s' * (count != 1)} to correct. "
            "Nothing was stored.",
            findings,
            checked,
        )
    assert checked.agency and checked.area and checked.period
    key = (checked.agency, checked.area, checked.period)
    latest = (contexts.get(key) or store.context(*key)).latest

    queried = {q.code or WHOLE_RETURN for q in checked.queries}
    given, stray = _own_explanations(
        checked.explanations, explanations or {}, dataset, checked.agency, queried
    )
    if stray:
        checked.findings = sort_findings(checked.findings + stray)
        findings = checked.findings
    missing = checked.unexplained(given)
    # The same file again is "unchanged" even when its explanations were given elsewhere;
    # otherwise the store itself spots a repeat as it would store it.
    if (missing or dry_run) and latest is not None and latest.sha256 == sha256:
        current = store.latest(*key)
        assert current is not None
        return _unchanged(store, name, current, submitted_by, dry_run)
    carried: dict[str, int] = {}
    if missing and latest is not None:
        before = store.explained(*key)
        kept = _carry_forward(missing, checked, before)
        if kept and before is not None:
            given |= kept
            carried = dict.fromkeys(kept, before.version)
            checked.findings = sort_findings(
                checked.findings + [_carried_note(code, before.version) for code in sorted(kept)]
            )
            findings = checked.findings
            missing = checked.unexplained(given)
    if missing:
        keys = sorted({q.code or WHOLE_RETURN for q in missing})
        short = [key for key in keys if given.get(key, "").strip()]
        too_short = (
            f" The explanation for {', '.join(short)} is too short: say in a sentence why "
            f"(at least {MIN_EXPLANATION} characters)."
            if short
            else ""
        )
        return refuse(
            f"{name} was not accepted: "
            f"{'1 query needs' if len(missing) == 1 else f'{len(missing)} queries need'}"
            f" an explanation ({', '.join(keys)}). Give a reason in the Explanation column "
            "(or the cover comment for the whole return), or with --explain "
            f"CODE=TEXT, and submit again.{too_short}",
            findings,
            checked,
        )
    if dry_run:
        store.audit(
            submitted_by,
            action,
            "passed",
            agency=checked.agency,
            area=checked.area,
            period=checked.period,
            sha256=sha256,
            ruleset_version=ruleset.version,
            detail={"file_name": name},
        )
        result = _result(
            name,
            "accepted",
            f"{name} passed every check (dry run: nothing was stored).",
            checked,
            findings,
            dry_run,
        )
        return _with_carried(result, given, carried)

    stored, created = store.record(
        NewSubmission(
            validated=checked,
            sha256=sha256,
            file_name=name,
            file_size=len(content),
            dataset_version=dataset.dataset_version,
            ruleset_version=ruleset.version,
            submitted_by=submitted_by,
            explanations=given,
            carried_from=carried,
        ),
        latest,
    )
    if not created:
        return _unchanged(store, name, stored, submitted_by, dry_run)
    superseded = f", replacing version {stored.version - 1}" if stored.version > 1 else ""
    result = _result(
        name,
        "accepted",
        f"{name} was accepted as version {stored.version} of the "
        f"{stored.agency} return for {stored.period}{superseded}."
        + (
            f" The explanations for {', '.join(sorted(carried))} were carried forward from "
            f"version {stored.version - 1}, as their queries are unchanged: please confirm them."
            if carried
            else ""
        ),
        checked,
        findings,
        dry_run,
    )
    result.version = stored.version
    return _with_carried(result, given, carried)


def _with_carried(
    result: IngestResult, given: dict[str, str], carried: dict[str, int]
) -> IngestResult:
    result.carried = {code: given[code] for code in sorted(carried)}
    result.carried_from = next(iter(carried.values()), None)
    return result


def _carry_forward(
    missing: list[Finding], checked: ValidatedReturn, before: Explained | None
) -> dict[str, str]:
    """The explanations of the version before that still answer a query of this one: the same
    rule on the same cell about the same figure (for the whole return, the same figures)."""
    if before is None:
        return {}
    now = {v.code: (v.value, v.status) for v in checked.values}
    kept = {}
    for query in missing:
        key = query.code or WHOLE_RETURN
        text = before.explanations.get(key, "")
        same_figures = (
            now == before.values
            if query.code is None
            else now.get(query.code) == before.values.get(query.code)
        )
        if (
            (query.rule, query.code, query.cell) in before.queries
            and same_figures
            and len(text.strip()) >= MIN_EXPLANATION
        ):
            kept[key] = text
    return kept


def _carried_note(code: str, version: int) -> Finding:
    subject = "the whole return" if code == WHOLE_RETURN else code
    return Finding(
        "info",
        "explanation.carried_forward",
        f"The explanation for {subject} was carried forward from version {version}, as the "
        "query and its figure are unchanged: confirm it still holds, or give a new one.",
        code=None if code == WHOLE_RETURN else code,
    )


def _own_explanations(
    written: dict[str, str],
    given: dict[str, str],
    dataset: Dataset,
    agency: str,
    queried: set[str],
) -> tuple[dict[str, str], list[Finding]]:
    """The explanations stored with the version: those written in the workbook for its own
    measures (or the whole return), and those given with the upload for its queries; and a note
    for each other one, which is not stored."""
    own = {m.code for m in dataset.agency(agency).measures} | {WHOLE_RETURN}
    kept = {code: text for code, text in written.items() if code in own}
    kept |= {code: text for code, text in given.items() if code in queried}
    notes = [
        Finding(
            "info",
            "explanation.not_ours",
            f"The explanation given for {code[:40]} was not stored: "
            + (
                f"no query of the {agency} return is about it."
                if code in own
                else f"it is not a measure of the {agency} return."
            ),
        )
        for code in sorted((set(written) - own) | (set(given) - queried))
    ]
    return kept, notes


def _unchanged(
    store: ReturnsStore, name: str, current: Submission, submitted_by: str, dry_run: bool
) -> IngestResult:
    message = (
        f"{name} is identical to version {current.version} submitted on "
        f"{uk_time(current.submitted_at)} by {current.submitted_by}: nothing changed."
    )
    store.audit(
        submitted_by,
        "dry_run" if dry_run else "upload",
        "unchanged",
        agency=current.agency,
        area=current.area,
        period=current.period,
        sha256=current.sha256,
        ruleset_version=current.ruleset_version,
        detail={"file_name": name, "version": current.version},
    )
    return IngestResult(
        file=name,
        outcome="unchanged",
        message=message,
        agency=current.agency,
        area=current.area,
        period=str(current.period),
        version=current.version,
        dry_run=dry_run,
        findings=[Finding(**f) for f in store.findings(current.id)],
    )


def _result(
    name: str,
    outcome: Outcome,
    message: str,
    checked: ValidatedReturn | None,
    findings: list[Finding],
    dry_run: bool,
) -> IngestResult:
    return IngestResult(
        file=name,
        outcome=outcome,
        message=message,
        agency=checked.agency if checked else None,
        area=checked.area if checked else None,
        period=str(checked.period) if checked and checked.period else None,
        dry_run=dry_run,
        findings=findings,
    )
