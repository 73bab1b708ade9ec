"""The ``digest`` command: templates, ingest, and what the store holds.

Exit codes: 0 success; 1 a file was not accepted (or another expected failure); 2 a usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import getpass
import json
import logging
import os
import signal
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import duckdb

from digest.compare.report import Line, report
from digest.compute.definitions import load_indicators
from digest.compute.engine import Scope
from digest.demo import build_demo
from digest.domain.areas import AreaError, find_area, home_area, london_boroughs
from digest.domain.dataset import load_dataset
from digest.domain.findings import Finding
from digest.domain.periods import Period, PeriodError
from digest.domain.timestamps import uk_time
from digest.export.challenges import challenge_log_workbook
from digest.ingest import IngestResult, ingest
from digest.published.compact import ATTRIBUTION
from digest.published.compact import export as export_compact
from digest.published.files import PublishedFileError
from digest.published.importer import import_published
from digest.read.safe import ReaderUnavailable
from digest.recheck import recheck
from digest.store.database import (
    StoreError,
    backup,
    connect,
    copy_as_of,
    database_path,
    write_failure,
)
from digest.store.figures import areas_with_returns
from digest.store.published import neighbour_models, neighbours
from digest.store.returns import ReturnsStore
from digest.store.users import (
    ROLES,
    User,
    UserError,
    UsersStore,
    describe_role,
    normalise_username,
)
from digest.validate.rules import WHOLE_RETURN, Submitting
from digest.views.challenges import challenge_log, long_date
from digest.views.sources import Sources
from digest.views.templates import return_template
from digest.workbook.template import build_template

Handler = Callable[[argparse.Namespace], int]


class UsageError(Exception):
    """A command-line argument that is not acceptable (exit code 2)."""


def _period(text: str) -> Period:
    try:
        return Period.parse(text)
    except PeriodError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _area(text: str) -> str:
    try:
        return find_area(text).ons_code
    except AreaError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _agency(text: str) -> str:
    try:
        return load_dataset().agency(text.strip().upper()).code
    except KeyError as error:
        raise argparse.ArgumentTypeError(error.args[0]) from None


def _explanation(text: str) -> tuple[str, str]:
    code, sep, reason = text.partition("=")
    if not sep or not code.strip() or not reason.strip():
        raise argparse.ArgumentTypeError(
            f"'{text[:40]}' is not CODE=TEXT, for example --explain "
            "'CSC.S47=A new MASH threshold since July'."
        )
    return code.strip().upper(), reason.strip()


def _store(args: argparse.Namespace, *, read_only: bool = False) -> ReturnsStore:
    """The store; commands that only read never create or change the database file."""
    return ReturnsStore(connect(database_path(args.db), read_only=read_only))


def _user() -> str:
    return os.environ.get("DIGEST_USER") or getpass.getuser()


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def _show_finding(finding: Finding) -> str:
    where = finding.location or "whole file"
    code = f" [{finding.code}]" if finding.code else ""
    return f"  {finding.severity:<5}  {where}{code}: {finding.message}"


def cmd_template(args: argparse.Namespace) -> int:
    """Write the return template for an agency, area and quarter."""
    dataset = load_dataset()
    agency = dataset.agency(args.agency)
    area = find_area(args.area) if args.area else home_area()
    out = Path(args.out)
    if out.suffix.lower() != ".xlsx":
        raise UsageError(f"The template is an .xlsx workbook: name it like {out.stem}.xlsx")
    if not out.parent.is_dir():
        raise UsageError(f"There is no folder {out.parent} to write the template in.")
    if database_path(args.db).exists():
        try:
            content = return_template(
                _store(args, read_only=True), dataset, agency, area, args.period
            )
        except StoreError as error:
            print(f"note: last quarter's figures are not shown ({error})", file=sys.stderr)
            content = build_template(dataset, agency, area, args.period)
    else:
        content = build_template(dataset, agency, area, args.period)
    out.write_bytes(content)
    print(f"Wrote the {agency.code} return template for {area.name}, {args.period} to {out}")
    return 0


def _failed(name: str, rule: str, message: str) -> IngestResult:
    return IngestResult(
        file=name, outcome="rejected", message=message, findings=[Finding("error", rule, message)]
    )


def cmd_ingest(args: argparse.Namespace) -> int:
    """Read, validate and store return workbooks."""
    store = _store(args)
    submitting = Submitting(agency=args.agency, area=args.area, period=args.period)
    explanations = dict(args.explain or [])
    measures = load_dataset().measures
    unknown = sorted(c for c in explanations if c != WHOLE_RETURN and c not in measures)
    if unknown:
        raise UsageError(
            f"--explain names {', '.join(unknown)}, which is not a measure code "
            f"(or {WHOLE_RETURN} for the whole return)."
        )
    results: list[IngestResult] = []
    for name in args.files:
        path = Path(name)
        try:
            content = path.read_bytes()
            result = ingest(
                store,
                content,
                path.name,
                submitted_by=_user(),
                submitting=submitting,
                explanations=explanations,
                dry_run=args.dry_run,
            )
        except OSError as error:
            result = _failed(name, "file.missing", f"{name} could not be opened: {error.strerror}.")
        except (StoreError, ReaderUnavailable) as error:  # this file only: report and go on
            result = _failed(name, "server.unavailable", f"{name} was not stored: {error}")
        results.append(result)
    if args.json:
        _print_json([r.to_dict() for r in results])
    else:
        for result in results:
            print(result.message)
            for finding in result.findings:
                print(_show_finding(finding))
    return 0 if all(r.outcome != "rejected" for r in results) else 1


def cmd_returns(args: argparse.Namespace) -> int:
    """List the stored submissions and their versions."""
    submissions = _store(args, read_only=True).submissions(period=args.period, area=args.area)
    if args.json:
        _print_json([s.to_dict() for s in submissions])
        return 0
    if not submissions:
        print("No returns are stored for that choice.")
        return 0
    print(
        f"{'period':<11} {'area':<10} {'agency':<7} {'ver':>3}  {'status':<10} "
        f"{'submitted (UK time)':<18}  by"
    )
    for s in submissions:
        print(
            f"{s.period!s:<11} {s.area:<10} {s.agency:<7} {s.version:>3}  {s.status:<10} "
            f"{uk_time(s.submitted_at):<18}  {s.submitted_by}"
        )
    return 0


def cmd_values(args: argparse.Namespace) -> int:
    """Print the current figures of one return, each with its sheet and cell."""
    area = args.area or home_area().ons_code
    store = _store(args, read_only=True)
    current = store.current(args.agency, area, args.period)
    values = [] if current is None else store.values(current.id)
    if args.json:
        _print_json([v.to_dict() for v in values])
        return 0 if current is not None else 1
    if current is None:
        print(f"No {args.agency} return is stored for {area}, {args.period}.")
        return 1
    print(
        f"{args.agency} return for {area}, {args.period}: version {current.version}, "
        f"submitted {uk_time(current.submitted_at)} by {current.submitted_by}"
    )
    for v in values:
        shown = v.status if v.value is None else f"{v.value:,.0f}"
        print(f"  {v.code:<30} {shown:>10}   {v.sheet}!{v.cell}")
    return 0


def cmd_recheck(args: argparse.Namespace) -> int:
    """Re-check the latest version of a return under the rules in force; write nothing."""
    area = args.area or home_area().ons_code
    found = recheck(_store(args, read_only=True), load_dataset(), args.agency, area, args.period)
    if found is None:
        print(f"No {args.agency} return is stored for {area}, {args.period}.")
        return 1
    print(found.summary())
    for d in found.differences:
        place = f"{d.cell} ({d.code})" if d.cell else d.code or "the return"
        print(f"  {place}: {d.change}. {d.message}")
    return 2 if found.blocked else 0


def cmd_challenges(args: argparse.Namespace) -> int:
    """List the challenge log of an area (of one quarter's flags, if given), or write it as a
    workbook."""
    area = find_area(args.area) if args.area else home_area()
    sources = Sources.open(_store(args, read_only=True), home=home_area())
    entries = challenge_log(sources, area.ons_code, period=args.period)
    if args.out:
        Path(args.out).write_bytes(
            challenge_log_workbook(area, entries, f"{args.period} only" if args.period else None)
        )
        print(f"Wrote {len(entries)} challenge{'s' * (len(entries) != 1)} to {args.out}.")
        return 0
    if not entries:
        print("No challenge has been raised for that choice.")
        return 0
    for e in entries:
        print(
            f"{e.id:>4}  {e.period!s:<11} {e.agency:<7} {e.state:<20} "
            f"due {long_date(e.due):<18} {e.indicator_title}"
        )
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    """Copy the database, with everything committed in it, to a new file."""
    path = database_path(args.db)
    store = _store(args)
    counts = store.connection.execute(
        "select (select count(*) from submissions), (select count(*) from audit_log)"
    ).fetchone()
    backup(store.connection, path, Path(args.out))
    versions, events = counts or (0, 0)
    print(f"Backed up {path} to {args.out}: {versions} versions of returns, {events} audit events.")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Build the demo database of synthetic returns."""
    path = database_path(args.db)
    if args.replace:
        path.unlink(missing_ok=True)
        path.with_name(path.name + ".wal").unlink(missing_ok=True)
    print(f"{path}: {build_demo(_store(args))}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the app on a database (first building the demo in it, if it is empty and ``--demo``
    is given)."""
    from digest.app.auth import secret_key  # dash is only needed to serve
    from digest.app.server import create_app

    store = _store(args)
    if args.demo:
        print(build_demo(store))
    elif not store.submissions():
        print(
            "note: the database holds no returns yet; upload one, or start with --demo.",
            file=sys.stderr,
        )
    path = database_path(args.db)
    local = args.host in ("127.0.0.1", "localhost", "::1")
    if args.demo and not local:
        print(
            "note: demo sign-in without a password works only for a browser on this machine; "
            "others must sign in with an account (digest user add).",
            file=sys.stderr,
        )
    app = create_app(
        Sources.open(store),
        secret=secret_key(path.with_suffix(".secret")),
        demo=args.demo,
        secure_cookies=not local,  # a server others reach must sit behind https
    )
    print(
        f"PQA Digest is running: open http://{args.host}:{args.port} in a browser (Ctrl+C to stop)."
    )
    # A service manager stops the server with SIGTERM: stop as for Ctrl+C, closing the database
    # cleanly (its log written through), so the next start finds nothing to recover.
    signal.signal(signal.SIGTERM, _stop_serving)
    with contextlib.suppress(KeyboardInterrupt):
        app.run(host=args.host, port=args.port, debug=False)
    store.connection.close()
    print("PQA Digest has stopped; the database was closed cleanly.", file=sys.stderr)
    return 0


def _stop_serving(_signal: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _scope(text: str, connection: Any) -> Scope:
    """``london``, ``sn``, one ONS code, or several separated by commas (pooled)."""
    stored = set(areas_with_returns(connection))
    home = home_area()
    if text == "london":
        members = tuple(a.ons_code for a in london_boroughs() if a.ons_code in stored)
    elif text == "sn":
        models = neighbour_models(connection)
        group = neighbours(connection, home.ons_code, models[-1]) if models else []
        members = tuple(code for code in group if code in stored)
    else:
        members = tuple(dict.fromkeys(_area(part) for part in text.split(",") if part.strip()))
    if not members:
        raise UsageError(f"No stored returns belong to '{text}': nothing to compute.")
    if text == "london" and len(members) < len(london_boroughs()):
        print(
            f"note: london pools the {len(members)} of {len(london_boroughs())} boroughs "
            "with stored returns",
            file=sys.stderr,
        )
    return Scope(text if len(members) > 1 else members[0], members)


def _csv_safe(value: object) -> str:
    """A CSV cell that a spreadsheet will show as text, never run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def cmd_indicators(args: argparse.Namespace) -> int:
    """Compute indicators for an area or group, with intervals, benchmarks and flags."""
    store = _store(args, read_only=True)
    connection = store._connection
    scope = _scope(args.area or home_area().ons_code, connection)
    period = args.period
    if period is None:
        stored = [s.period for s in store.submissions(area=scope.areas[0])]
        if not stored:
            raise UsageError(f"No returns are stored for {scope.label}: give --period.")
        period = max(stored)
    indicators = list(load_indicators().values())
    lines = report(connection, indicators, scope, [period], args.window)
    rows = [line.to_dict() for line in lines]
    if args.format == "json":
        _print_json(rows)
    elif args.format == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(
            [
                "indicator",
                "area",
                "period",
                "window",
                "numerator",
                "denominator",
                "value",
                "lower",
                "upper",
                "status",
                "reason",
                "london",
                "england",
                "comparison",
                "flags",
            ]
        )
        for row in rows:
            named = {b["name"]: b["value"] for b in row["benchmarks"]}
            writer.writerow(
                [
                    _csv_safe(v)
                    for v in (
                        row["indicator"],
                        row["area"],
                        row["period"],
                        row["window"],
                        row["numerator"],
                        row["denominator"],
                        row["value"],
                        row["lower"],
                        row["upper"],
                        row["status"],
                        row["reason"],
                        named.get("London"),
                        named.get("England"),
                        row["comparison"],
                        "; ".join(f["message"] for f in row["flags"]),
                    )
                ]
            )
    else:
        print(f"Indicators for {scope.label}, {period}")
        for line in lines:
            print(_show_line(line))
    return 0


def _show_line(line: Line) -> str:
    done, result = line.computation, line.computation.result
    if result.value is None:
        shown = f"incomplete ({result.reason})"
    else:
        interval = (
            f" [{line.interval.lower:.1f} to {line.interval.upper:.1f}]" if line.interval else ""
        )
        shown = f"{result.value:.1f}{interval}"
    marks = [f"{b.name} {b.value:.1f} ({b.year})" for b in line.benchmarks if b.value is not None]
    judged = f" - {line.comparison}" if line.comparison else ""
    neutral = done.indicator.polarity == "neutral"
    marks += [p.describe(neutral) for p in line.positions]
    flags = "".join(f"\n      ! {f.message}" for f in line.flags if f.kind != "incomplete")
    return (
        f"  {done.indicator.id:<22} {done.window:<7} {shown}{judged}"
        + (f"\n      {'; '.join(marks)}" if marks else "")
        + flags
    )


def _year(text: str) -> int:
    """A financial year written ``2024-25``: the calendar year it starts in."""
    try:
        return Period.parse(f"{text.strip()} Q1").year
    except PeriodError as error:
        raise argparse.ArgumentTypeError(
            f"'{text[:20]}' is not a financial year: write it like 2024-25."
        ) from error


def cmd_pack(args: argparse.Namespace) -> int:
    """Build the meeting pack (or the annual summary) as a PDF, HTML page or workbook."""
    from digest.pack.build import (
        make_pack,  # charts and printing are only needed here
        snapshot_moment,
    )
    from digest.pack.content import PackError

    out = Path(args.out)
    if out.suffix.lower() != f".{args.format}":
        raise UsageError(
            f"A {args.format} pack is a .{args.format} file: name it like {out.stem}.{args.format}"
        )
    if not out.parent.is_dir():
        raise UsageError(f"There is no folder {out.parent} to write the pack in.")
    store = _store(args)  # the build is recorded in the audit log
    scratch = tempfile.TemporaryDirectory(prefix="pqa-as-of-")
    try:
        read = store
        if args.snapshot:  # as the returns stood when that pack was built
            moment = snapshot_moment(Sources.open(store), args.snapshot)
            read = ReturnsStore(
                copy_as_of(store.connection, database_path(args.db), moment, Path(scratch.name))
            )
        pack, content = make_pack(
            Sources.open(read),
            args.area or home_area().ons_code,
            args.edition,
            args.format,
            built_by=_user(),
            period=args.period,
            year=args.year,
            progress=lambda step: print(f"{step}...", file=sys.stderr, flush=True),
            record=store,
        )
    except PackError as error:
        raise UsageError(str(error)) from None
    finally:
        scratch.cleanup()
    if args.snapshot and pack.snapshot != args.snapshot:
        raise UsageError(
            f"The returns read now make snapshot {pack.snapshot}, not {args.snapshot}: a version "
            "was stored while that pack was being built, so it cannot be rebuilt exactly."
        )
    out.write_bytes(content)
    print(
        f"Wrote {out}: {pack.title}, {pack.covers}, {pack.edition} edition "
        f"({len(content):,} bytes)."
    )
    return 0


def cmd_benchmarks_import(args: argparse.Namespace) -> int:
    """Import published DfE, LAIT and ONS files (or folders of them) into the store."""
    try:
        summaries = import_published(_store(args)._connection, [Path(p) for p in args.paths])
    except PublishedFileError as error:
        print(f"digest: {error} Nothing was imported.", file=sys.stderr)
        return 1
    for summary in summaries:
        print(summary.describe())
        for note in summary.notes:
            print(f"  note: {note}")
    print("Contains public sector information licensed under the Open Government Licence v3.0.")
    return 0


def cmd_benchmarks_export(args: argparse.Namespace) -> int:
    """Write the compact extract of the published figures the shipped indicators need."""
    text = export_compact(_store(args, read_only=True)._connection, load_indicators().values())
    Path(args.out).write_text(text, encoding="utf-8")
    print(f"Wrote {text.count(chr(10)) - 1} published figures to {args.out}. {ATTRIBUTION}")
    return 0


def _users(args: argparse.Namespace, *, read_only: bool = False) -> UsersStore:
    """The accounts; listing them never creates or changes the database file."""
    return UsersStore(connect(database_path(args.db), read_only=read_only))


def _new_password(args: argparse.Namespace) -> str:
    """The first line of standard input with ``--password-stdin``; else asked for twice."""
    if args.password_stdin:
        line = sys.stdin.readline()
        if not line:
            raise UserError("No password came on standard input: nothing was changed.")
        return line.rstrip("\r\n")
    first = getpass.getpass("New password: ")
    if getpass.getpass("The same password again: ") != first:
        raise UserError("The two passwords differ: nothing was changed.")
    return first


def _show_user(user: User) -> str:
    return f"{user.username} ({user.display_name}), {describe_role(user.role, user.agencies)}"


def cmd_user_add(args: argparse.Namespace) -> int:
    """Add an account, asking for its password."""
    store = _users(args)
    if store.get(args.username) is not None:  # before the password is typed for nothing
        raise UserError(f"There is already a user '{normalise_username(args.username)}'.")
    user = store.add(
        args.username,
        args.name,
        args.role,
        _new_password(args),
        args.agency or (),
        actor=_user(),
    )
    print(f"Added {_show_user(user)}.")
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    """List the accounts, enabled or not (never their passwords' hashes)."""
    users = _users(args, read_only=True).users()
    if args.json:
        _print_json([u.to_dict() for u in users])
        return 0
    if not users:
        print("There are no users yet: add one with 'digest user add'.")
        return 0
    width = max(len(u.username) for u in users)
    print(f"{'username':<{width}}  {'name':<24} {'role':<10} {'agencies':<20} disabled")
    for u in users:
        print(
            f"{u.username:<{width}}  {u.display_name:<24} {u.role:<10} "
            f"{', '.join(u.agencies) or '-':<20} {'yes' if u.disabled else 'no'}"
        )
    return 0


def cmd_user_disable(args: argparse.Namespace) -> int:
    """Stop an account from signing in."""
    user = _users(args).disable(args.username, actor=_user())
    print(f"Disabled {user.username}: they can no longer sign in.")
    return 0


def cmd_user_enable(args: argparse.Namespace) -> int:
    """Let a disabled account sign in again."""
    user = _users(args).enable(args.username, actor=_user())
    print(f"Enabled {user.username}: they can sign in again.")
    return 0


def cmd_user_set_role(args: argparse.Namespace) -> int:
    """Give an account a new role (and a data lead their agencies)."""
    user = _users(args).set_role(args.username, args.role, args.agency or (), actor=_user())
    print(f"{user.username} is now {describe_role(user.role, user.agencies)}.")
    return 0


def cmd_user_set_password(args: argparse.Namespace) -> int:
    """Replace an account's password, asking for the new one."""
    store = _users(args)
    if store.get(args.username) is None:  # before the password is typed for nothing
        raise UserError(f"There is no user '{normalise_username(args.username)}'.")
    store.set_password(args.username, _new_password(args), actor=_user())
    print(f"Changed the password of {normalise_username(args.username)}.")
    return 0


def _add_user_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``digest user ACTION``: the accounts that sign in to the app, and their roles."""
    users = commands.add_parser(
        "user",
        help="Accounts: add, list, disable, enable, set a role or a password.",
        description="The accounts that sign in to the app, and their roles.",
    )
    actions = users.add_subparsers(dest="action", required=True, metavar="ACTION")

    def add(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--db", help="the DuckDB file (default: $DIGEST_DB or data/digest.duckdb)")
        sub.set_defaults(handler=handler, parser=sub)
        return sub

    def username(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("username", metavar="USERNAME", help="an e-mail address or login name")

    def agencies(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--agency",
            action="append",
            type=_agency,
            help="a data lead's agency, e.g. CSC; may be repeated (for a data lead only)",
        )

    def password_stdin(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from the first line of standard input (for scripts)",
        )

    adding = add("add", cmd_user_add, "Add an account; its password is asked for twice.")
    username(adding)
    adding.add_argument("--name", required=True, help="the name shown, e.g. 'Jo Bloggs'")
    adding.add_argument("--role", required=True, choices=ROLES)
    agencies(adding)
    password_stdin(adding)

    listing = add("list", cmd_user_list, "List the accounts and their roles.")
    listing.add_argument("--json", action="store_true", help="print the accounts as JSON")

    username(add("disable", cmd_user_disable, "Stop an account from signing in."))
    username(add("enable", cmd_user_enable, "Let a disabled account sign in again."))

    role = add("set-role", cmd_user_set_role, "Give an account a new role.")
    username(role)
    role.add_argument("role", metavar="ROLE", choices=ROLES, help=", ".join(ROLES))
    agencies(role)

    password = add("set-password", cmd_user_set_password, "Replace an account's password.")
    username(password)
    password_stdin(password)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``digest`` command."""
    parser = argparse.ArgumentParser(
        prog="digest",
        description="PQA Digest: the partnership's quarterly performance digest.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--db", help="the DuckDB file (default: $DIGEST_DB or data/digest.duckdb)")
        sub.set_defaults(handler=handler, parser=sub)
        return sub

    template = add(
        "template", cmd_template, "Write the Excel return template for one agency and quarter."
    )
    template.add_argument("--agency", required=True, type=_agency, help="agency code, e.g. CSC")
    template.add_argument("--period", required=True, type=_period, help="e.g. '2025-26 Q2'")
    template.add_argument("--area", type=_area, help="ONS code (default: the partnership's area)")
    template.add_argument("--out", required=True, help="the .xlsx file to write")

    ingest_cmd = add(
        "ingest", cmd_ingest, "Check return workbooks and store each accepted one as a new version."
    )
    ingest_cmd.add_argument("files", nargs="+", metavar="FILE", help="filled-in templates")
    ingest_cmd.add_argument("--dry-run", action="store_true", help="check only; store nothing")
    ingest_cmd.add_argument(
        "--explain",
        action="append",
        type=_explanation,
        metavar="CODE=TEXT",
        help="explain a query (CODE is a measure code, or RETURN for the "
        "whole return); may be repeated",
    )
    ingest_cmd.add_argument("--json", action="store_true", help="print the results as JSON")
    ingest_cmd.add_argument("--agency", type=_agency, help="refuse a file for another agency")
    ingest_cmd.add_argument("--area", type=_area, help="refuse a file for another area")
    ingest_cmd.add_argument("--period", type=_period, help="refuse a file for another quarter")

    returns = add("returns", cmd_returns, "List stored returns and their versions.")
    returns.add_argument("--period", type=_period)
    returns.add_argument("--area", type=_area)
    returns.add_argument("--json", action="store_true")

    values = add("values", cmd_values, "Print the current figures of one return.")
    values.add_argument("--agency", required=True, type=_agency)
    values.add_argument("--period", required=True, type=_period)
    values.add_argument("--area", type=_area, help="ONS code (default: the partnership's area)")
    values.add_argument("--json", action="store_true")

    again = add(
        "recheck",
        cmd_recheck,
        "Re-check a stored return under the rules in force now and show what differs "
        "(exit 2: it would now be refused).",
    )
    again.add_argument("--agency", required=True, type=_agency)
    again.add_argument("--period", required=True, type=_period)
    again.add_argument("--area", type=_area, help="ONS code (default: the partnership's area)")

    challenging = add(
        "challenges",
        cmd_challenges,
        "List the challenge log (challenges raised to agencies and their answers), or write it "
        "as an Excel workbook.",
    )
    challenging.add_argument(
        "--area", type=_area, help="ONS code (default: the partnership's area)"
    )
    challenging.add_argument(
        "--period", type=_period, help="only challenges on this quarter's flags"
    )
    challenging.add_argument("--out", help="write the log to this .xlsx file instead of listing it")

    indicators = add(
        "indicators",
        cmd_indicators,
        "Compute the indicators for an area or group, "
        "with confidence intervals, published benchmarks and flags.",
    )
    indicators.add_argument(
        "--area",
        help="an ONS code, london, sn, or codes separated by "
        "commas (pooled); default: the partnership's area",
    )
    indicators.add_argument("--period", type=_period, help="default: the latest stored")
    indicators.add_argument(
        "--window",
        choices=["quarter", "12m", "ytd"],
        help="default: each indicator's headline window",
    )
    indicators.add_argument("--format", choices=["table", "csv", "json"], default="table")

    packing = add(
        "pack",
        cmd_pack,
        "Build the meeting pack for a quarter, or the annual summary for a year.",
    )
    chosen = packing.add_mutually_exclusive_group(required=True)
    chosen.add_argument("--period", type=_period, help="the quarter, e.g. '2025-26 Q2'")
    chosen.add_argument("--year", type=_year, help="the financial year, e.g. 2024-25")
    packing.add_argument("--area", type=_area, help="ONS code (default: the partnership's area)")
    packing.add_argument(
        "--edition",
        choices=["internal", "publishable"],
        default="internal",
        help="internal: unsuppressed, OFFICIAL-SENSITIVE (default); publishable: small numbers "
        "suppressed",
    )
    packing.add_argument("--format", choices=["pdf", "html", "xlsx"], required=True)
    packing.add_argument(
        "--snapshot",
        help="rebuild the pack built from this snapshot (its id is on the cover and in the audit "
        "log), from the returns as they stood then",
    )
    packing.add_argument("--out", required=True, help="the file to write")

    backing_up = add("backup", cmd_backup, "Copy the database, checkpointed, to a new file.")
    backing_up.add_argument("--out", required=True, help="the new file to write")

    serve = add("serve", cmd_serve, "Serve the app in a browser.")
    serve.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1 (this machine only)")
    serve.add_argument("--port", type=int, default=8050, help="default: 8050")
    serve.add_argument(
        "--demo",
        action="store_true",
        help="build the synthetic demo first if the database is empty",
    )

    published = commands.add_parser(
        "benchmarks",
        help="Published benchmark figures.",
        description="Published benchmark figures.",
    )
    published_commands = published.add_subparsers(dest="action", required=True, metavar="ACTION")
    importing = published_commands.add_parser(
        "import",
        help="Import published DfE (Explore Education Statistics), LAIT and ONS files.",
        description="Import published DfE (Explore Education Statistics), LAIT and ONS files, or "
        "folders of them, keeping suppression symbols and the source and edition of every figure.",
    )
    importing.add_argument("paths", nargs="+", metavar="PATH")
    importing.add_argument(
        "--db", help="the DuckDB file (default: $DIGEST_DB or data/digest.duckdb)"
    )
    importing.set_defaults(handler=cmd_benchmarks_import, parser=importing)
    exporting = published_commands.add_parser(
        "export",
        help="Write the compact extract of the figures the shipped indicators need.",
        description="Write the compact extract (London boroughs, London and England) of the "
        "published figures the shipped indicators compare with, for the demo.",
    )
    exporting.add_argument("--out", required=True, help="the CSV file to write")
    exporting.add_argument(
        "--db", help="the DuckDB file (default: $DIGEST_DB or data/digest.duckdb)"
    )
    exporting.set_defaults(handler=cmd_benchmarks_export, parser=exporting)

    demo = add("demo", cmd_demo, "Build the demo database of synthetic returns.")
    demo.add_argument("--replace", action="store_true", help="rebuild it if it exists")

    _add_user_commands(commands)
    return parser


class _StderrLines(logging.Handler):
    """Each warning as a line on whatever ``sys.stderr`` is when it is logged."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"digest: {self.format(record)}", file=sys.stderr, flush=True)


def _show_store_warnings() -> None:
    """The store's warnings (a database that was not closed cleanly) shown to the operator."""
    logger = logging.getLogger("digest.store")
    if not any(isinstance(handler, _StderrLines) for handler in logger.handlers):
        logger.addHandler(_StderrLines(logging.WARNING))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``digest`` command; returns its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _show_store_warnings()
    try:
        code: int = args.handler(args)
    except UsageError as error:
        args.parser.error(str(error))
    except BrokenPipeError:  # the output was piped to a program that stopped reading (head)
        sys.stderr.close()
        return 0
    except StoreError as error:
        print(f"digest: {error}", file=sys.stderr)
        return 1
    except duckdb.Error as error:  # a write outside a transaction, e.g. an audit event
        failure = write_failure(error)
        if failure is None:
            raise
        print(f"digest: {failure}", file=sys.stderr)
        return 1
    except ReaderUnavailable as error:
        print(
            f"digest: the workbook reader could not start ({error}). This is a fault of the "
            "server, not of the file: tell the administrator.",
            file=sys.stderr,
        )
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
