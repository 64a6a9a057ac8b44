"""`flask --app webhooks officers create|list|unlock|set-password`: accounts from a shell."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from models import OfficerRole
from services.console import officers
from services.errors import ServiceError
from services.runtime import runtime

group = AppGroup("officers", help="Officers' accounts for the console.")

_password = click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Asked for when not given (12 characters or more).",
)


@group.command("create")
@click.argument("username")
@click.option("--name", "display_name", required=True, help='Name and rank, "PC Alys Pritchard".')
@click.option(
    "--role", type=click.Choice([r.value for r in OfficerRole]), default=OfficerRole.OFFICER.value
)
@_password
def create(username: str, display_name: str, role: str, password: str) -> None:
    """Create an officer's account."""
    try:
        with runtime().db.session() as db:
            officer = officers.create(db, username, display_name, role, password)
            click.echo(f"created {officer.username} ({officer.role.value})")
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from None


@group.command("list")
def list_officers() -> None:
    """List the accounts."""
    with runtime().db.session() as db:
        for o in officers.everyone(db):
            state = "active" if o.active else "deactivated"
            locked = f", locked until {o.locked_until:%H:%M} UTC" if o.locked_until else ""
            click.echo(f"{o.username}\t{o.role.value}\t{o.display_name}\t{state}{locked}")


def _change(username: str, **changes: object) -> None:
    try:
        with runtime().db.session() as db:
            officer = officers.by_username(db, username)
            if officer is None:
                raise click.ClickException(f"no officer {username!r}")
            officers.change(db, officer, None, **changes)  # type: ignore[arg-type]
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from None


@group.command("unlock")
@click.argument("username")
def unlock(username: str) -> None:
    """Lift a lock after failed sign-ins."""
    _change(username, unlock=True)
    click.echo(f"{username} unlocked")


@group.command("set-password")
@click.argument("username")
@_password
def set_password(username: str, password: str) -> None:
    """Set a new password."""
    _change(username, password=password, unlock=True)
    click.echo(f"password set for {username}")
