"""Flask CLI commands: `flask --app webhooks db-upgrade`, `flask --app webhooks demo-data`."""

from __future__ import annotations

import click
from flask import Flask

from models.migrate import upgrade
from services import demo
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
        with runtime().db.session() as session:
            created = demo.ensure(session)
        click.echo("demo data created" if created else "demo data already present")
