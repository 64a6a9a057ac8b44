"""Flask CLI commands: `db-upgrade`, `demo-data`, `import-cases`, and the groups `tokens`
(the case systems' API tokens) and `victims` (export and erase: **contract**)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from models import AuditAction
from models.migrate import upgrade
from services.casework import bulk_import, demo
from services.console import api_clients, audit
from services.errors import ServiceError
from services.privacy import erasure, subject_access
from services.runtime import runtime

tokens = AppGroup("tokens", help="The case systems' API tokens (one per system, with scopes).")
victims = AppGroup("victims", help="Subject access and erasure (UK GDPR, DPA 2018 Part 3).")


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

    app.cli.add_command(tokens)
    app.cli.add_command(victims)


@tokens.command("create")
@click.argument("name")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(list(api_clients.SCOPES)),
    help="What the token may do (repeat for several).",
)
def create_token(name: str, scopes: tuple[str, ...]) -> None:
    """Create a case system's token: printed once, stored only as a hash."""
    try:
        with runtime().db.session() as session:
            token = api_clients.create(session, name, list(scopes))
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(token)
    click.echo(
        f"token for {name.strip().lower()} ({' '.join(sorted(set(scopes)))}): keep it in the "
        "case system's secrets; it is not shown again",
        err=True,
    )


@tokens.command("list")
def list_tokens() -> None:
    """The case systems' tokens: name, scopes, created, last used, revoked (never a token)."""
    with runtime().db.session() as session:
        for c in api_clients.everyone(session):
            used = f"{c.last_used_at:%Y-%m-%d %H:%M}" if c.last_used_at else "never"
            state = f"revoked {c.revoked_at:%Y-%m-%d}" if c.revoked_at else "active"
            click.echo(
                f"{c.name}\t{c.scopes}\tcreated {c.created_at:%Y-%m-%d}\tused {used}\t{state}"
            )


@tokens.command("revoke")
@click.argument("name")
def revoke_token(name: str) -> None:
    """Stop a token working, at once."""
    try:
        with runtime().db.session() as session:
            api_clients.revoke(session, name)
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{name} revoked")


@tokens.command("scopes")
def list_scopes() -> None:
    """The scopes a token may have, and what each allows."""
    for scope, meaning in api_clients.SCOPES.items():
        click.echo(f"{scope}\t{meaning}")


@victims.command("export")
@click.argument("victim_id", type=int)
def export_victim(victim_id: int) -> None:
    """Everything held about one victim, as JSON on stdout (a subject access request)."""
    rt = runtime()
    try:
        body = subject_access.export(
            rt.db, victim_id, actor="cli", tracker_url=rt.settings.tracker_url()
        )
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(body, indent=2, ensure_ascii=False))


@victims.command("erase")
@click.argument("victim_id", type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (open cases included).")
def erase_victim(victim_id: int, yes: bool) -> None:
    """Erase one victim from every store, Rasa's tracker included; audited."""
    rt = runtime()
    try:
        with rt.db.session() as session:
            erasure.victim(session, victim_id)
            still_open = erasure.open_cases(session, victim_id)
        if not yes:
            warning = (
                f" They are on open case(s) {', '.join(still_open)}: their updates stop."
                if still_open
                else ""
            )
            if not click.confirm(f"Erase victim {victim_id} for good?{warning}"):
                with rt.db.session() as session:
                    audit.record(
                        session,
                        None,
                        AuditAction.REFUSED,
                        actor="cli",
                        victim_id=victim_id,
                        detail="erasure not confirmed",
                    )
                raise click.ClickException("not erased")
        erased = erasure.erase(
            rt.db,
            victim_id,
            actor="cli",
            tracker_url=rt.settings.tracker_url(),
            confirm_open=True,
        )
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from None
    went = ", ".join(f"{k} {v}" for k, v in sorted(erased.counts.items()) if v) or "nothing else"
    click.echo(f"victim {victim_id} erased: {went}")
