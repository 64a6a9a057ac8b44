"""`make bench`: planning the Victims' Code notifications for 100,000 victims on cases.

    .venvs/app/bin/python -m bench.planning [--victims N] [--database-url URL] [--no-postgresql]

On a fresh database (SQLite in a temporary directory, then PostgreSQL when one answers), it
puts N victims on cases (one in 28 of them last heard from over 28 days ago), and times:
the scheduler's check-in pass over all of them (`notifications.plan_check_ins`, when it
exists); one Code event per case recorded through `services.casework.cases.record_event` (the API's
path: one transaction per event, one notification planned per victim on the case); the
worker's query for due notifications; the `hand_over_due` sweep that writes them to the
outbox; and the compliance report over them.

Ofcom's drama range holds 1,000 numbers and a victim is one person with one number, so the
N victims on cases are 1,000 invented people, each on N / 1,000 cases (four victims a case):
as many notifications per event as N single-case victims would get.

It prints figures and asserts nothing about timing. Planning and the sweep each stop at a
time budget (`--plan-seconds`, `--sweep-seconds`) and then say how far they got and how long
the whole would take at that rate, so a slow machine gets slow figures, exit status 0 and a
run of a few minutes. It exits 1 only when a database cannot be set up.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from models import (
    Case,
    CaseStatus,
    CaseVictim,
    Channel,
    Language,
    Notification,
    NotificationStatus,
    Victim,
    utcnow,
)
from models.db import Database
from models.migrate import upgrade
from services.casework import cases, notifications, reports

PEOPLE = 1000  # +447700900000 to +447700900999: Ofcom's drama range, nothing else.
VICTIMS_PER_CASE = 4
CHECK_IN_SHARE = 28
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
EVENT = {
    "type": "suspect_arrested",
    "summary": "A man has been arrested and is being questioned.",
    "summary_cy": "Mae dyn wedi'i arestio ac mae'n cael ei holi.",
}


def load() -> str:
    return f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"


def rate(count: int, seconds: float) -> str:
    return f"{count:,} in {seconds:.1f} s, {count / seconds:,.0f}/s" if seconds else f"{count:,}"


@contextmanager
def fresh_database(url: str | None, workdir: str) -> Iterator[str]:
    """A new, migrated database: a SQLite file in `workdir`, or one made on a PostgreSQL server."""
    if url is None:
        path = f"sqlite:///{workdir}/planning.db"
        upgrade(path)
        yield path
        return
    name = f"bench_planning_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        target = make_url(url).set(database=name).render_as_string(hide_password=False)
        upgrade(target)
        yield target
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def register(db: Database, victims: int) -> list[str]:
    """Cases and the victims on them, inserted in bulk (set-up, not the path under test)."""
    case_count = victims // VICTIMS_PER_CASE
    refs = [f"BENCH-{i:06d}" for i in range(case_count)]
    with db.session() as session:
        session.execute(
            insert(Case),
            [
                {
                    "case_ref": ref,
                    "crime_type": "burglary",
                    "officer_in_charge": "PC Ifan Rees",
                    "status": CaseStatus.OPEN,
                }
                for ref in refs
            ],
        )
        session.execute(
            insert(Victim),
            [
                {
                    "name": f"Bench Victim {n:03d}",
                    "phone": f"+447700900{n:03d}",
                    "channel": Channel.SMS if n % 2 else Channel.WHATSAPP,
                    "language": Language.CY if n % 3 == 0 else Language.EN,
                    "date_of_birth": dt.date(1950 + n % 50, 1 + n % 12, 1 + n % 28),
                    "enhanced_rights": n % 5 == 0,
                    # No quiet hours: every notification is due at once, for the sweep.
                    "quiet_start": dt.time(0, 0),
                    "quiet_end": dt.time(0, 0),
                }
                for n in range(PEOPLE)
            ],
        )
        case_ids = list(session.scalars(select(Case.id).order_by(Case.id)))
        victim_ids = list(session.scalars(select(Victim.id).order_by(Victim.id)))
        now = utcnow()
        session.execute(
            insert(CaseVictim),
            [
                {
                    "case_id": case_id,
                    "victim_id": victim_ids[(i * VICTIMS_PER_CASE + k) % PEOPLE],
                    # One place in CHECK_IN_SHARE has heard nothing for longer than its
                    # 28 days, as on any day of the month: those are due a check-in.
                    "created_at": now
                    - dt.timedelta(days=29 if (i + k) % CHECK_IN_SHARE == 0 else 1),
                }
                for i, case_id in enumerate(case_ids)
                for k in range(VICTIMS_PER_CASE)
            ],
        )
    return refs


def plan(db: Database, refs: list[str], budget: float) -> tuple[int, int, float]:
    """Record a Code event on each case, one transaction each; (events, planned, seconds)."""
    occurred_at = (utcnow() - dt.timedelta(hours=1)).isoformat()
    payload = {**EVENT, "occurred_at": occurred_at}
    started = time.perf_counter()
    events = 0
    for ref in refs:
        with db.session() as session:
            cases.record_event(session, ref, payload, recorded_by="bench")
        events += 1
        if time.perf_counter() - started > budget:
            break
    seconds = time.perf_counter() - started
    with db.session() as session:
        planned = (
            session.scalar(
                select(func.count())
                .select_from(Notification)
                .where(Notification.event_id.is_not(None))
            )
            or 0
        )
    return events, planned, seconds


def check_ins(db: Database) -> tuple[int, float] | None:
    """The scheduler's check-in planning pass over every victim on a case, when it exists."""
    planner = getattr(notifications, "plan_check_ins", None)
    if planner is None:
        return None
    started = time.perf_counter()
    with db.session() as session:
        planned = int(planner(session))
    return planned, time.perf_counter() - started


def timed[T](action: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def due_query(db: Database, repeats: int = 20) -> float:
    """Median seconds of the worker's question: which pending ones are due (500 at most)."""
    times = []
    for _ in range(repeats):
        with db.session() as session:
            started = time.perf_counter()
            notifications.due(session, 500)
            times.append(time.perf_counter() - started)
    return sorted(times)[len(times) // 2]


def sweep(db: Database, budget: float) -> tuple[int, float]:
    """`hand_over_due` rounds until nothing is due or the budget is spent; (handed, seconds)."""
    handed = 0
    started = time.perf_counter()
    while time.perf_counter() - started < budget:
        done = notifications.hand_over_due(db, limit=100)
        if not done:
            break
        handed += done
    return handed, time.perf_counter() - started


def run(label: str, url: str, args: argparse.Namespace) -> None:
    print(f"\n== {label} ({load()})")
    db = Database(url)
    try:
        refs, seconds = timed(lambda: register(db, args.victims))
        print(
            f"set-up, bulk insert: {len(refs):,} cases, {args.victims:,} victims on them"
            f" ({PEOPLE:,} people): {seconds:.1f} s"
        )

        result = check_ins(db)
        if result is None:
            print("check-ins: services.notifications has no plan_check_ins yet; skipped")
        else:
            planned, seconds = result
            print(
                f"check-in pass over {args.victims:,} victims on cases, one transaction:"
                f" {planned:,} planned in {seconds:.1f} s ({load()})"
            )

        print(f"planning, {len(refs):,} Code events through record_event ({load()})")
        events, planned, seconds = plan(db, refs, args.plan_seconds)
        print(f"  events:        {rate(events, seconds)}")
        print(f"  notifications: {rate(planned, seconds)}")
        if events < len(refs):
            whole = seconds * len(refs) / events
            print(
                f"  stopped at the {args.plan_seconds:.0f} s budget: {events:,} of {len(refs):,}"
                f" events; all of them would take about {whole:.0f} s"
            )

        median = due_query(db)
        print(f"due query (500 of the pending ones): median {median * 1000:.1f} ms")

        with db.session() as session:
            pending = session.scalar(
                select(func.count())
                .select_from(Notification)
                .where(Notification.status == NotificationStatus.PENDING)
            )
            pending = pending or 0
        print(f"hand_over_due sweep of {pending:,} due notifications ({load()})")
        handed, seconds = sweep(db, args.sweep_seconds)
        print(f"  handed over:   {rate(handed, seconds)}")
        if handed < pending:
            whole = seconds * pending / handed if handed else float("nan")
            print(
                f"  stopped at the {args.sweep_seconds:.0f} s budget: {handed:,} of {pending:,};"
                f" all of them would take about {whole:.0f} s"
            )

        today = dt.datetime.now(dt.UTC).date()
        with db.session() as session:
            report, seconds = timed(
                lambda: reports.compliance(session, today, today + dt.timedelta(days=14))
            )
            counted = session.scalar(select(func.count()).select_from(Notification))
        print(
            f"compliance report over {report.overall.count:,} of {counted:,} notifications:"
            f" {seconds:.2f} s"
        )
    finally:
        db.dispose()


def postgres_reachable(url: str) -> str | None:
    """None when a PostgreSQL server answers at `url`, else why not."""
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        return str(exc.orig).strip().splitlines()[0][:120]
    finally:
        engine.dispose()
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--victims", type=int, default=100_000, help="victims on cases")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_PG_URL", DEFAULT_PG),
        help="a PostgreSQL server to make a fresh database on",
    )
    parser.add_argument("--no-postgresql", action="store_true", help="SQLite only")
    parser.add_argument("--plan-seconds", type=float, default=45.0)
    parser.add_argument("--sweep-seconds", type=float, default=15.0)
    args = parser.parse_args(argv)
    if args.victims < VICTIMS_PER_CASE:
        parser.error(f"--victims must be at least {VICTIMS_PER_CASE}")
    print(f"planning bench: {args.victims:,} victims on cases, {utcnow():%Y-%m-%d %H:%M} UTC")
    with tempfile.TemporaryDirectory(prefix="bench-planning-") as workdir:
        targets: list[tuple[str, str | None]] = [("SQLite", None)]
        if not args.no_postgresql:
            reason = postgres_reachable(args.database_url)
            if reason is None:
                targets.append(("PostgreSQL", args.database_url))
            else:
                print(f"\nPostgreSQL skipped: nothing answers at {args.database_url} ({reason})")
        for label, url in targets:
            try:
                with fresh_database(url, workdir) as database_url:
                    run(label, database_url, args)
            except OperationalError as exc:
                print(f"{label}: cannot set up the database: {exc.orig}", file=sys.stderr)
                return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
