"""`flask --app webhooks officers create|list|unlock|set-password|reset-second-factor`:
accounts from a shell. Whoever runs these runs the server: they may grant any role (the
first supervisor is made here), and each change is audited as `cli`."""

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
    help="Asked for when not given (12 characters or more, not a common password).",
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
            paused = officers.paused_until(db, o)
            locked = f", sign-in paused until {paused:%H:%M} UTC" if paused else ""
            factor = "" if o.totp_enrolled_at else ", no second factor yet"
            click.echo(f"{o.username}\t{o.role.value}\t{o.display_name}\t{state}{locked}{factor}")


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
    """Lift the pause on an account's sign-in after failures."""
    _change(username, unlock=True)
    click.echo(f"{username} unlocked")


@group.command("set-password")
@click.argument("username")
@_password
def set_password(username: str, password: str) -> None:
    """Set a new password."""
    _change(username, password=password, unlock=True)
    click.echo(f"password set for {username}")


@group.command("reset-second-factor")
@click.argument("username")
def reset_second_factor(username: str) -> None:
    """Forget an officer's authenticator and recovery codes (a lost phone): they set up a
    new one at their next sign-in. Every session of theirs ends."""
    _change(username, reset_second_factor=True)
    click.echo(f"second factor reset for {username}: they enrol again at their next sign-in")
