"""Flask CLI commands: `flask --app webhooks db-upgrade`, `flask --app webhooks demo-data`."""

from __future__ import annotations

import time
from pathlib import Path

import click
from flask import Flask

from models.migrate import upgrade
from services.casework import bulk_import, demo
from services.runtime import runtime


def init_app(app: Flask) -> None:
    """Register the commands on `app`."""

    @app.cli.command("db-upgrade")
    def db_upgrade() -> None:
        """Apply every Alembic migration to DATABASE_URL."""
        upgrade(runtime().settings.database_url)
        click.echo("database is up to date")

    @app.cli.command("demo-data")
    def demo_data() -> None:
        """Register the demo case and its invented victims, unless they are there already."""
        if runtime().settings.production:
            # Never in production: invented victims, and officers with one shared password.
            click.echo("demo data is never created when APP_ENV=production; skipped")
            return
        with runtime().db.session() as session:
            created = demo.ensure(session, runtime().settings.demo_officer_password)
        click.echo("demo data created" if created else "demo data already present")

    @app.cli.command("import-cases")
    @click.argument("csv_file", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--dry-run", is_flag=True, help="Check every row, save nothing.")
    def import_cases(csv_file: Path, dry_run: bool) -> None:
        """Register victims and their cases from a CSV file (columns: see README.md)."""
        started = time.monotonic()
        try:
            report = bulk_import.import_file(runtime().db, csv_file, dry_run)
        except bulk_import.UnreadableFile as exc:
            raise click.ClickException(str(exc)) from None
        for line in sorted(report.problems + report.notes, key=lambda p: p.line):
            click.echo(str(line))
        # The welcomes planned go out with the scheduler's next hand-over, as the API's do.
        click.echo(f"{report.summary()} in {time.monotonic() - started:.1f} s")
