"""What `make run-prod` does before it starts anything: this machine's defaults for a
trial, and the checks that production needs (docs/DEPLOY.md)."""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import shutil
import socket
from pathlib import Path

import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from scripts.layout import MODEL, ROOT, STANDIN_PORT, Layout, StartupError, count, port_of
from services.settings import Settings, on_loopback

# What `make run-prod` uses on this machine when nothing is set: the local servers.
LOCAL_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/victimcare"
LOCAL_REDIS_URL = "redis://127.0.0.1:6379/0"


def _kept(path: Path, names: tuple[str, ...], make: dict[str, str] | None = None) -> dict[str, str]:
    """Values made once and kept in `path` (readable by its owner only): random tokens, or
    `make`'s values for names it gives."""
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    for name in names:
        stored.setdefault(name, (make or {}).get(name) or secrets.token_urlsafe(32))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a file that was there already keeps no looser mode
    with os.fdopen(fd, "w") as out:
        out.write(json.dumps(stored))
    return stored


@dataclasses.dataclass(frozen=True)
class LocalDefaults:
    """What `production_environment` had to make up on this machine."""

    standin: bool  # no Twilio account is set: the stand-in runs


def production_environment() -> LocalDefaults:
    """Fill what a local production layout may default (docs/DEPLOY.md)."""
    os.environ["APP_ENV"] = "production"
    os.environ.setdefault("DATABASE_URL", LOCAL_DATABASE_URL)
    os.environ.setdefault("REDIS_URL", LOCAL_REDIS_URL)
    # ACTION_SERVER_TOKEN: what Rasa shows the action server (docs/SAFETY.md, "Internal
    # services"); on one machine nobody else needs to know it.
    made_here = ("API_TOKEN", "SECRET_KEY", "ACTION_SERVER_TOKEN")
    if not all(os.environ.get(name) for name in made_here):
        made = _kept(ROOT / "var" / "prod-secrets.json", made_here)
        for name, value in made.items():
            os.environ.setdefault(name, value)
    # The stand-in only when neither credential is set: one without the other is a
    # deployment that lost a secret, and must stop (Settings refuses it), never quietly
    # send victims' messages to a stand-in that reaches no phone.
    standin = not os.environ.get("TWILIO_ACCOUNT_SID") and not os.environ.get("TWILIO_AUTH_TOKEN")
    public = os.environ.get("PUBLIC_BASE_URL")
    if standin and public and not on_loopback(public):
        raise StartupError(
            f"PUBLIC_BASE_URL is {public}, a public address, but no Twilio account is set "
            "(TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN): messages would reach no phone"
        )
    if standin:
        # No real Twilio calls us: the service is reached on the loopback, by the stand-in.
        # A real account keeps needing its public https address (Settings fails closed).
        os.environ.setdefault("PUBLIC_BASE_URL", f"http://127.0.0.1:{count('PORT', 5000)}")
        # Credentials for the stand-in alone: a Twilio-shaped account SID, a random token.
        made = _kept(
            ROOT / "var" / "twilio-standin.json",
            ("sid", "token"),
            {"sid": "AC" + secrets.token_hex(16), "token": secrets.token_hex(16)},
        )
        os.environ["TWILIO_ACCOUNT_SID"] = made["sid"]
        os.environ["TWILIO_AUTH_TOKEN"] = made["token"]
        port = count("STANDIN_PORT", STANDIN_PORT)
        os.environ.setdefault("TWILIO_API_BASE_URL", f"http://127.0.0.1:{port}/devphone")
    return LocalDefaults(standin)


def _ensure_database(url: str) -> None:
    """Reach the database, creating it first if the server says it does not exist."""
    engine = create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return
    except OperationalError as exc:
        if "does not exist" not in str(exc.orig):
            raise StartupError(f"the database at DATABASE_URL does not answer: {exc.orig}") from exc
    finally:
        engine.dispose()
    target = make_url(url)
    admin = create_engine(
        target.set(database="postgres"),
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 5},
    )
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
        print(f"created the database {target.database}")
    except OperationalError as exc:
        raise StartupError(f"could not create the database {target.database}: {exc.orig}") from exc
    finally:
        admin.dispose()


def _port_free(host: str, port: int, what: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise StartupError(
                f"port {port} ({what}) is in use: another copy, or one left running? ({exc})"
            ) from exc


def startup_checks(plan: Layout, settings: Settings) -> None:
    """What production needs, checked before anything starts (StartupError says what)."""
    if make_url(settings.database_url).get_backend_name() != "postgresql":
        raise StartupError("the production layout runs on PostgreSQL: set DATABASE_URL")
    if not settings.redis_url:
        raise StartupError("the production layout needs Redis (Rasa's lock store): set REDIS_URL")
    try:
        redis.Redis.from_url(settings.redis_url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        raise StartupError(f"Redis at REDIS_URL does not answer: {exc}") from exc
    if not MODEL.exists():
        raise StartupError(f"no trained model at {MODEL}: run `make model`")
    if plan.balanced and shutil.which("haproxy") is None:
        raise StartupError(
            "haproxy balances the Rasa replicas: run `make haproxy` (Debian's package)"
        )
    _ensure_database(settings.database_url)
    ports = [(plan.host, plan.port, "web, PORT")]
    ports += [("127.0.0.1", p, "a Rasa replica") for p, _ in plan.replicas]
    ports += [("127.0.0.1", port_of(a, 5055), "an action server") for _, a in plan.replicas]
    if plan.balanced:
        ports.append((plan.rasa_host, plan.rasa_port, "the Rasa balancer, RASA_URL"))
    if plan.standin_port is not None:
        ports.append(("127.0.0.1", plan.standin_port, "the Twilio stand-in, STANDIN_PORT"))
    for host, port, what in ports:
        _port_free(host, port, what)
