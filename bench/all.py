"""`make bench`'s first part: every figure of issue 12, on SQLite and on PostgreSQL, in one run.

    .venvs/app/bin/python -m bench.all [--postgresql-url URL] [--no-postgresql]
                                       [--notifications 10000]

For each database: `bench.pipeline` (webhook acknowledgement under bursts, end to end
against Rasa alone, CPU per message per process) on a fresh stack, then `bench.dispatch`'s
run with the rate limit off (how many due notifications go out a second) and at 100
segments a second. First, once, `bench.floor`: the same bursts of webhooks answered by an
empty view under the same gunicorn, the floor under the acknowledgement figure. Then one
table of every figure, a column per database, with the targets.
PostgreSQL is the server of `--postgresql-url` (fresh databases, dropped at the end); when
none answers there, its column says why and the run goes on.

It prints figures and asserts nothing about timing: it exits 1 only when a stack cannot be
started, and 130 when interrupted.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sqlalchemy import create_engine, text

from bench import dispatch, floor, pipeline
from bench.pipeline import Target, measure, ms, percentile, say

POSTGRESQL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DISPATCH_GOAL = 200.0  # messages a second with the rate limit off (issue 12)
DISPATCH_RATE = 100.0  # segments a second: the second dispatch run


def unreachable(url: str) -> str | None:
    """Why the PostgreSQL server of `url` cannot be used, or None."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means: not this server
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    finally:
        engine.dispose()
    return None


def one_database(label: str, url: str | None, notifications: int, work: Path) -> list[Target]:
    """Every figure on one database: the pipeline's, then dispatch's."""
    print()
    say(f"==== {label} ====")
    args = pipeline.parse_args([] if url is None else ["--database-url", url])
    run_dir = work / f"{label}-pipeline"
    run_dir.mkdir()
    targets = pipeline.bench(args, run_dir)
    run_dir = work / f"{label}-dispatch"
    run_dir.mkdir()
    unlimited, limited = dispatch.runs(run_dir, url, notifications, DISPATCH_RATE)
    return [
        *targets[:5],
        Target(
            "dispatch, rate limit off",
            f">= {DISPATCH_GOAL:.0f}/s",
            f"{unlimited:.0f} msg/s",
            unlimited >= DISPATCH_GOAL,
        ),
        Target(
            f"(dispatch at {DISPATCH_RATE:g} segments/s)",
            "-",
            f"{limited:.0f} msg/s",
            None,
        ),
        *targets[5:],
    ]


def table(columns: dict[str, list[Target] | str]) -> list[str]:
    """One row per figure, one column per database: the measure and the verdict.

    Rows are matched by name, in the order of the column with the most: a database may measure
    figures the other has not (PostgreSQL's own CPU per message), and those cells say "-".
    """
    measured = {
        label: {t.name: t for t in column}
        for label, column in columns.items()
        if not isinstance(column, str)
    }
    names: dict[str, str] = {}  # name -> goal, the longest column's order first
    for by_name in sorted(measured.values(), key=len, reverse=True):
        for target in by_name.values():
            names.setdefault(target.name, target.goal)
    lines = [f"  {'figure':<44}{'goal':<12}" + "".join(f"{label:<26}" for label in columns)]
    for name, goal in names.items():
        cells = []
        for label in columns:
            cell = measured.get(label, {}).get(name)
            if cell is None:
                cells.append("-")
                continue
            verdict = "" if cell.meets is None else (" meets" if cell.meets else " misses")
            cells.append(f"{cell.measured}{verdict}")
        lines.append(f"  {name:<44}{goal:<12}" + "".join(f"{c:<26}" for c in cells))
    for label, column in columns.items():
        if isinstance(column, str):
            lines.append(f"  {label}: not measured ({column})")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.all", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--postgresql-url", default=POSTGRESQL)
    parser.add_argument("--no-postgresql", action="store_true")
    parser.add_argument("--notifications", type=int, default=10_000)
    args = parser.parse_args(argv)

    def body(work: Path) -> list[str]:
        print()
        say("==== the floor: an empty view under the same gunicorn, the same bursts ====")
        empty = floor.measure_floor(rounds=5, senders=100, pause=1.0)
        columns: dict[str, list[Target] | str] = {}
        columns["SQLite"] = one_database("SQLite", None, args.notifications, work)
        why = "--no-postgresql" if args.no_postgresql else unreachable(args.postgresql_url)
        if why is None:
            columns["PostgreSQL"] = one_database(
                "PostgreSQL", args.postgresql_url, args.notifications, work
            )
        else:
            say(f"PostgreSQL skipped: {why}")
            columns["PostgreSQL"] = why
        return [
            "Issue 12's figures, one run (informative; nothing here fails the run):",
            *table(columns),
            f"  the floor (bench.floor): an empty view under gunicorn {empty.workers} x "
            f"{empty.threads}, 5 rounds of 100 at once: ack p99 "
            f"{ms(percentile(empty.latencies, 99))}, {empty.cpu_ms:.2f} ms of CPU a request",
        ]

    return measure("bench-all-", body)


if __name__ == "__main__":
    raise SystemExit(main())
