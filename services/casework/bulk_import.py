"""Bulk registration: victims and their cases from a CSV file, one row per victim on a case.

Every row goes through the same code as the API (`services.cases`), in a savepoint of its
own, so a bad row is reported and loses nothing else. A case named on several rows is
created once, from its first row; a later row whose crime type or officer differ from the
case's is refused, because a mistyped reference would put a victim on someone else's case.
A victim already on the case is reported as such, not registered twice, so a file can be
imported again after its rejected rows are fixed.

The file is read and parsed whole before anything is written: a file that cannot be read
(missing, not UTF-8, not CSV) or whose header is wrong imports nothing. Rows are then
committed in batches, so that on SQLite the web app and the workers are never kept waiting
for long; a dry run does all the work in one transaction and rolls it back.

Nothing this module reports shows a phone number in full (only its last three digits), a
date of birth or a name: the report may be pasted into a ticket.

Every registration is audited under ACTOR (with the victim and the case), every rejected
row as a refusal (with the victim its number belongs to, when it is a known one), and the
import as a whole once, in a transaction of its own (a dry run too: it read the file).
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import enum
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import AuditAction, Case, CaseVictim, Victim
from models.db import Database
from services.casework import cases
from services.casework.cases import KnownVictim
from services.console import audit
from services.errors import Conflict, InvalidField, NotFound, ServiceError
from services.messaging import phones

REQUIRED = (
    "case_ref",
    "crime_type",
    "officer_in_charge",
    "name",
    "phone",
    "channel",
    "language",
    "date_of_birth",
)
OPTIONAL = (
    "enhanced_rights",
    "update_every_days",
    "quiet_start",
    "quiet_end",
    "safe_contact",
    # The Code's Right 3: the welcome serves as the written acknowledgement of the report.
    "acknowledges_report",
)
COLUMNS = REQUIRED + OPTIONAL
BATCH_ROWS = 100
# Who the audit trail says registered the rows: whoever ran the command, on the server.
ACTOR = audit.CSV_IMPORT.name

_TRUE = frozenset({"yes", "y", "true", "1"})
_FALSE = frozenset({"no", "n", "false", "0", ""})
_UK_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
# The service's field names where the CSV's columns are named differently.
_COLUMN_OF = {"quiet_hours.start": "quiet_start", "quiet_hours.end": "quiet_end"}


class UnreadableFile(Exception):
    """The file cannot be imported at all (missing, not UTF-8 CSV, wrong header)."""


class RowResult(enum.StrEnum):
    IMPORTED = "imported"
    # Imported, for a person registered on another case already: their stricter settings
    # stay in force (docs/SAFETY.md), and the row says which it raised or kept.
    KNOWN = "imported, person already known"
    ALREADY_REGISTERED = "already registered"
    REJECTED = "rejected"


@dataclasses.dataclass(frozen=True)
class Row:
    """One record of the file: the line it starts on, and its cells by column."""

    line: int
    cells: dict[str, str]
    # Cells beyond the header's columns that hold something (the row is then refused).
    surplus: int = 0


@dataclasses.dataclass(frozen=True)
class RowReport:
    line: int
    result: RowResult
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.result.value}: {self.reason}"


@dataclasses.dataclass
class ImportReport:
    """What an import did, row by row (imported rows are counted, not listed)."""

    dry_run: bool = False
    rows: int = 0
    imported: int = 0
    cases_created: int = 0
    problems: list[RowReport] = dataclasses.field(default_factory=list)
    # Imported rows worth a look: a person already known, whose settings differ.
    notes: list[RowReport] = dataclasses.field(default_factory=list)

    @property
    def already_registered(self) -> int:
        return sum(p.result is RowResult.ALREADY_REGISTERED for p in self.problems)

    @property
    def rejected(self) -> int:
        return sum(p.result is RowResult.REJECTED for p in self.problems)

    def summary(self) -> str:
        imported = "would be imported" if self.dry_run else "imported"
        text = (
            f"{self.rows} rows: {self.imported} {imported}, {self.already_registered} already"
            f" registered, {self.rejected} rejected; cases created: {self.cases_created}"
        )
        return text + (" (dry run: nothing was saved)" if self.dry_run else "")


def read_rows(path: Path) -> list[Row]:
    """Every non-blank record of the file; UnreadableFile says what is wrong with it."""
    try:
        # utf-8-sig drops the byte order mark that Excel's "CSV UTF-8" starts with.
        content = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UnreadableFile(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            f"{path}: not UTF-8 (byte {exc.object[exc.start]:#04x} at offset {exc.start});"
            " save it as 'CSV UTF-8'"
        ) from None
    except OSError as exc:
        raise UnreadableFile(f"{path}: {exc.strerror}") from None
    reader = csv.reader(content.splitlines(keepends=True), strict=True)
    try:
        records = _records(reader)
        header = next(records, None)
        if header is None:
            raise UnreadableFile(f"{path}: the file is empty (no header row)")
        columns = _check_header(header[1])
        rows = []
        for line, cells in records:
            # A short row is padded: its missing cells are then reported as missing values.
            padded = cells + [""] * (len(columns) - len(cells))
            surplus = sum(bool(c.strip()) for c in cells[len(columns) :])
            rows.append(Row(line, dict(zip(columns, padded, strict=False)), surplus))
    except csv.Error as exc:
        raise UnreadableFile(
            f"{path}: not a readable CSV file, line {reader.line_num}: {exc}"
        ) from None
    return rows


def _records(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """(first line, cells) of each record, skipping blank lines and rows of empty cells."""
    line = 1
    for cells in reader:
        if any(cell.strip() for cell in cells):
            yield line, cells
        line = reader.line_num + 1


def _check_header(header: list[str]) -> list[str]:
    names = [h.strip().lower().replace(" ", "_").replace("-", "_") for h in header]
    problems = []
    if missing := [c for c in REQUIRED if c not in names]:
        problems.append("missing " + ", ".join(missing))
    if unknown := [n or "(empty)" for n in names if n not in COLUMNS]:
        problems.append("unknown " + ", ".join(unknown))
    if repeated := sorted({n for n in names if n and names.count(n) > 1}):
        problems.append("repeated " + ", ".join(repeated))
    if problems:
        hint = ""
        if len(header) == 1 and ";" in header[0]:
            hint = "; the columns seem to be separated by ';': use commas"
        raise UnreadableFile(
            "wrong header: "
            + "; ".join(problems)
            + hint
            + ". Expected columns: "
            + ", ".join(REQUIRED)
            + ", and optionally "
            + ", ".join(OPTIONAL)
        )
    return names


def _flag(value: str, column: str) -> bool:
    folded = value.strip().lower()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise InvalidField(column, "must be yes, no, true or false")


def _date(value: str) -> str:
    # Spreadsheets saved in a UK locale write dates as DD/MM/YYYY; the service takes ISO.
    value = value.strip()
    if match := _UK_DATE.fullmatch(value):
        day, month, year = match.groups()
        return f"{year}-{int(month):02d}-{int(day):02d}"
    return value


def _clock(value: str) -> str:
    value = value.strip()
    if match := _CLOCK.fullmatch(value):
        return f"{int(match[1]):02d}:{match[2]}"
    return value


def _payloads(row: Row) -> tuple[dict[str, Any], dict[str, Any]]:
    """The API's case and victim payloads for a row (the service validates them)."""
    if row.surplus:
        raise InvalidField("row", f"has {row.surplus} more cells than the header has columns")
    cells = {k: v.strip() for k, v in row.cells.items()}
    case = {k: cells[k] for k in ("case_ref", "crime_type", "officer_in_charge")}
    victim: dict[str, Any] = {
        "name": cells["name"],
        "phone": cells["phone"],
        # The API takes these lower case; a spreadsheet may well say "SMS" or "WhatsApp".
        "channel": cells["channel"].lower(),
        "language": cells["language"].lower(),
        "date_of_birth": _date(cells["date_of_birth"]),
    }
    # An empty cell asks for nothing: a new victim gets "no", a known one keeps theirs.
    for flag in ("enhanced_rights", "safe_contact", "acknowledges_report"):
        if cells.get(flag):
            victim[flag] = _flag(cells[flag], flag)
    if every := cells.get("update_every_days"):
        try:
            victim["update_every_days"] = int(every)
        except ValueError:
            raise InvalidField(
                "update_every_days", "must be a whole number of days from 1 to 365"
            ) from None
    quiet_start, quiet_end = cells.get("quiet_start", ""), cells.get("quiet_end", "")
    if quiet_start or quiet_end:
        victim["quiet_hours"] = {"start": _clock(quiet_start), "end": _clock(quiet_end)}
    return case, victim


def _case(session: Session, fields: dict[str, Any]) -> tuple[str, bool]:
    """The row's case reference, and whether this row created the case."""
    ref = fields["case_ref"]
    try:
        case = cases.find_case(session, ref)
    except NotFound:
        return cases.register_case(session, fields).case_ref, True
    for name in ("crime_type", "officer_in_charge"):
        if getattr(case, name).casefold() != fields[name].casefold():
            raise Conflict(
                f"case {ref!r} is registered with {name} {getattr(case, name)!r}, not"
                f" {fields[name]!r}: check the case reference"
            )
    return case.case_ref, False


def _on_case_already(session: Session, case_ref: str, phone: Any) -> bool:
    number = phones.normalise(phone)
    return number is not None and bool(
        session.scalar(
            select(CaseVictim.id)
            .join(Victim, Victim.id == CaseVictim.victim_id)
            .join(Case, Case.id == CaseVictim.case_id)
            .where(Victim.phone == number, Case.case_ref == case_ref)
        )
    )


def _import_row(session: Session, row: Row, report: ImportReport, created: set[str]) -> None:
    def problem(result: RowResult, reason: str, victim_id: int | None = None) -> None:
        report.problems.append(RowReport(row.line, result, reason))
        # Outside the row's savepoint: the refusal stays when the row is rolled back.
        audit.record(
            session,
            None,
            AuditAction.REFUSED,
            actor=ACTOR,
            victim_id=victim_id,
            detail=f"line {row.line}: {reason}",
        )

    context = f" (case {row.cells['case_ref'].strip()!r}, phone {_redacted(row)})"
    try:
        case_fields, victim_fields = _payloads(row)
        # The case and the victim together or neither: a rejected row leaves nothing behind.
        with session.begin_nested():
            case_ref, new_case = _case(session, case_fields)
            registration = cases.register_victim(session, case_ref, victim_fields, audit.CSV_IMPORT)
            if new_case:
                audit.record(
                    session,
                    None,
                    AuditAction.REGISTER_CASE,
                    actor=ACTOR,
                    case_id=registration.case.id,
                    detail=case_ref,
                )
    except InvalidField as exc:
        column = _COLUMN_OF.get(exc.field, exc.field)
        reason = str(exc).removeprefix(f"{exc.field}: ")
        problem(RowResult.REJECTED, f"{column}: {reason}{context}")
    except Conflict as exc:
        known = exc.victim_id if isinstance(exc, KnownVictim) else None
        if _on_case_already(session, case_fields["case_ref"], victim_fields["phone"]):
            report.problems.append(
                RowReport(
                    row.line,
                    RowResult.ALREADY_REGISTERED,
                    f"this victim is on the case already{context}",
                )
            )
        else:
            problem(RowResult.REJECTED, f"{exc}{context}", known)
    except ServiceError as exc:
        problem(RowResult.REJECTED, f"{exc}{context}")
    except IntegrityError:
        # The API registered the same case or victim at the same moment.
        problem(RowResult.REJECTED, f"registered at the same moment by someone else{context}")
    else:
        report.imported += 1
        if new_case:
            created.add(case_ref)
        merged = registration.merged
        if registration.known and (merged.raised or merged.differences):
            reason = f"{registration.summary()}{context}"
            report.notes.append(RowReport(row.line, RowResult.KNOWN, reason))


def _redacted(row: Row) -> str:
    raw = row.cells.get("phone", "").strip()
    number = phones.normalise(raw) or raw
    return phones.redact(number) or "none"


@contextlib.contextmanager
def _transaction(db: Database, commit: bool) -> Iterator[Session]:
    """A session whose rows' savepoints all belong to one transaction, committed or not."""
    with db.sessions() as session, session.begin() as transaction:
        if db.engine.dialect.name == "sqlite":
            # Python's sqlite3 (legacy transaction control, the project's engine) only opens
            # a transaction on INSERT, UPDATE or DELETE; a SAVEPOINT before one stands alone,
            # and its RELEASE commits, so a dry run's rollback would undo nothing. BEGIN opens
            # it now; IMMEDIATE takes the write lock at once, since every row may write.
            session.connection().exec_driver_sql("BEGIN IMMEDIATE")
        yield session
        if not commit:
            transaction.rollback()


def import_rows(
    db: Database, rows: Sequence[Row], dry_run: bool = False, batch_rows: int = BATCH_ROWS
) -> ImportReport:
    """Import parsed rows, each in its own savepoint; commits every `batch_rows` rows.

    A dry run imports them all in one transaction and rolls it back, so that later rows see
    what earlier ones would have registered.
    """
    report = ImportReport(dry_run=dry_run, rows=len(rows))
    created: set[str] = set()
    batches = (
        [rows] if dry_run else [rows[i : i + batch_rows] for i in range(0, len(rows), batch_rows)]
    )
    for batch in batches:
        with _transaction(db, commit=not dry_run) as session:
            for row in batch:
                _import_row(session, row, report, created)
    report.cases_created = len(created)
    report.problems.sort(key=lambda p: p.line)
    report.notes.sort(key=lambda p: p.line)
    return report


def import_file(db: Database, path: Path, dry_run: bool = False) -> ImportReport:
    """Read and import a CSV file; UnreadableFile (before any write) when it cannot be.
    The import is audited once, as a whole, whatever happened to its rows."""
    try:
        rows = read_rows(path)
    except UnreadableFile as exc:
        with db.session() as session:
            audit.record(
                session, None, AuditAction.IMPORT_CASES, actor=ACTOR, detail=f"{path.name}: {exc}"
            )
        raise
    report = import_rows(db, rows, dry_run)
    with db.session() as session:
        audit.record(
            session,
            None,
            AuditAction.IMPORT_CASES,
            actor=ACTOR,
            detail=f"{path.name}: {report.summary()}",
        )
    return report
