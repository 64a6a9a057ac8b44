"""`make run` and `make run-prod`: start the whole service under one supervisor (honcho).

    python -m scripts.run_service                # development: make run
    python -m scripts.run_service --production   # the production layout: make run-prod
    python -m scripts.run_service --production --procfile   # print it as a Procfile

Development (`make run`): web, one worker, the scheduler, Rasa and its action server, on
the embedded defaults (SQLite under var/, the dev phone in place of Twilio).

Production (`make run-prod`, docs/DEPLOY.md): PostgreSQL and Redis (required), gunicorn,
WORKERS workers, RASA_REPLICAS Rasa replicas behind haproxy at RASA_URL, each with the
Redis lock store and an action server of its own, and a scheduler with a standby. It
migrates the database and checks what it needs before it starts anything. Without real
Twilio credentials it runs a stand-in for Twilio (scripts/twilio_standin.py) and says so.

Either way it honours the contract's variables (and a .env file): Rasa listens where
RASA_URL points, the action server where ACTION_SERVER_URL points, workers at
WORKER_WAKE_ADDR. Run files live in var/run/<copy>/, named after the database and the web
port (scripts/rasa_endpoints.copy_name), so two copies on one host never share them. The
processes die with the supervisor, even on kill -9 (scripts/supervise.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import redis
import requests
from dotenv import load_dotenv
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from models.migrate import upgrade
from scripts.rasa_endpoints import copy_name
from scripts.supervise import manager
from services.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
APP_BIN = ROOT / ".venvs" / "app" / "bin"
RASA_BIN = ROOT / ".venvs" / "rasa" / "bin"
MODEL = ROOT / "var" / "rasa-models" / "current.tar.gz"

# What `make run-prod` uses on this machine when nothing is set: the local servers.
LOCAL_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/victimcare"
LOCAL_REDIS_URL = "redis://127.0.0.1:6379/0"
STANDIN_PORT = 5099


class StartupError(RuntimeError):
    """Something the service needs is missing or wrong: said plainly, nothing started."""


@dataclasses.dataclass(frozen=True)
class Layout:
    """Which processes run, and where: everything `commands` needs."""

    production: bool
    run_dir: Path
    host: str
    port: int
    web_workers: int
    workers: int
    schedulers: int
    rasa_host: str
    rasa_port: int
    # One (port of Rasa, URL of its action server) per replica. With one replica Rasa
    # listens at RASA_URL itself; with more, haproxy does and balances them.
    replicas: list[tuple[int, str]]
    standin_port: int | None = None

    @property
    def balanced(self) -> bool:
        return len(self.replicas) > 1


def _port(url: str, default: int) -> int:
    return urlsplit(url).port or default


def _ints(raw: str | None, count: int, first: int, name: str) -> list[int]:
    if not raw:
        return [first + i for i in range(count)]
    try:
        values = [int(p) for p in raw.split(",") if p.strip()]
    except ValueError as exc:
        raise StartupError(f"{name} must be port numbers separated by commas") from exc
    if len(values) != count:
        raise StartupError(f"{name} names {len(values)} ports for {count} replicas")
    return values


def _count(name: str, default: int, least: int = 1) -> int:
    raw = os.environ.get(name) or str(default)
    if not raw.isdigit() or int(raw) < least:
        raise StartupError(f"{name} must be a whole number, at least {least}; got {raw!r}")
    return int(raw)


def layout(settings: Settings, production: bool, standin: bool) -> Layout:
    """The processes of this copy, from the settings and the operational variables."""
    action_url = os.environ.get("ACTION_SERVER_URL") or "http://127.0.0.1:5055/webhook"
    action = urlsplit(action_url)
    rasa = urlsplit(settings.rasa_url)
    rasa_port = rasa.port or 5005
    replicas = _count("RASA_REPLICAS", 2 if production else 1)
    # Behind haproxy, the replicas listen on the next ports; one replica listens at RASA_URL.
    first_rasa = rasa_port + 1 if replicas > 1 else rasa_port
    rasa_ports = _ints(
        os.environ.get("RASA_REPLICA_PORTS"), replicas, first_rasa, "RASA_REPLICA_PORTS"
    )
    action_ports = _ints(
        os.environ.get("ACTION_SERVER_PORTS"), replicas, action.port or 5055, "ACTION_SERVER_PORTS"
    )
    action_host = action.hostname or "127.0.0.1"
    return Layout(
        production=production,
        run_dir=Path(
            os.environ.get("RUN_DIR")
            or ROOT / "var" / "run" / copy_name(settings.database_url, settings.port)
        ),
        host=os.environ.get("HOST", "127.0.0.1"),
        port=settings.port,
        web_workers=_count("WEB_WORKERS", 4 if production else 2),
        workers=_count("WORKERS", 2 if production else 1),
        schedulers=_count("SCHEDULERS", 2 if production else 1),
        rasa_host=rasa.hostname or "127.0.0.1",
        rasa_port=rasa_port,
        replicas=[
            (rp, f"http://{action_host}:{ap}/webhook")
            for rp, ap in zip(rasa_ports, action_ports, strict=True)
        ],
        standin_port=_count("STANDIN_PORT", STANDIN_PORT) if standin else None,
    )


def commands(plan: Layout) -> dict[str, str]:
    """The processes of one copy, by name: honcho's Procfile, in effect."""
    py = APP_BIN / "python"
    procs = {
        "web": (
            f"{APP_BIN / 'gunicorn'} --workers {plan.web_workers} --threads 8 "
            f"--bind {plan.host}:{plan.port} --graceful-timeout 10 "
            "'webhooks:create_app()'"
        ),
    }
    for i in range(plan.workers):
        procs[f"worker{i + 1}" if plan.workers > 1 else "worker"] = f"{py} -m workers"
    for i in range(plan.schedulers):
        procs[f"scheduler{i + 1}" if plan.schedulers > 1 else "scheduler"] = f"{py} -m scheduler"
    for i, (rasa_port, action_url) in enumerate(plan.replicas):
        suffix = str(i + 1) if plan.balanced else ""
        endpoints = plan.run_dir / f"endpoints{suffix}.yml"
        action_port = _port(action_url, 5055)
        procs[f"actions{suffix}"] = f"{py} -m rasa_sdk --actions bot.actions --port {action_port}"
        interface = "127.0.0.1" if plan.balanced else plan.rasa_host
        procs[f"rasa{suffix}"] = (
            f"{RASA_BIN / 'rasa'} run -m {MODEL} --endpoints {endpoints} "
            f"--credentials {ROOT / 'bot/credentials.yml'} --interface {interface} "
            f"--port {rasa_port}"
        )
    if plan.balanced:
        procs["balancer"] = (
            f"{shutil.which('haproxy') or 'haproxy'} -db -f {plan.run_dir / 'haproxy.cfg'}"
        )
    if plan.standin_port is not None:
        procs["twilio-standin"] = (
            f"{APP_BIN / 'gunicorn'} --workers 1 --threads 8 "
            f"--bind 127.0.0.1:{plan.standin_port} 'scripts.twilio_standin:create_app()'"
        )
    return procs


def single_layout(port: int, rasa_port: int, action_url: str, run_dir: Path) -> Layout:
    """`make run`'s layout on the given ports, its endpoints file in `run_dir` (benches)."""
    return Layout(
        production=False,
        run_dir=run_dir,
        host="127.0.0.1",
        port=port,
        web_workers=2,
        workers=1,
        schedulers=1,
        rasa_host="127.0.0.1",
        rasa_port=rasa_port,
        replicas=[(rasa_port, action_url)],
    )


def haproxy_config(plan: Layout, rasa_timeout: float) -> str:
    """haproxy in front of the Rasa replicas: least busy first, each checked every 2 s.

    A request is re-sent to another replica only if it could not connect: one that reached
    Rasa may have changed the conversation's tracker, and must not be played twice.
    """
    servers = "\n".join(
        f"    server rasa{i + 1} 127.0.0.1:{port} check inter 2s fall 2 rise 1"
        for i, (port, _) in enumerate(plan.replicas)
    )
    return f"""# Generated by scripts/run_service.py; do not edit.
global
    maxconn 1024

defaults
    mode http
    timeout connect 3s
    timeout client {int(rasa_timeout) + 30}s
    timeout server {int(rasa_timeout) + 30}s
    option redispatch
    retries 2
    retry-on conn-failure

frontend rasa
    bind {plan.rasa_host}:{plan.rasa_port}
    default_backend rasa_replicas

backend rasa_replicas
    balance leastconn
    option httpchk GET /
    http-check expect status 200
{servers}
"""


def write_run_files(plan: Layout, env: dict[str, str], settings: Settings) -> None:
    """The endpoints file of each Rasa replica and haproxy's configuration, in the run dir."""
    plan.run_dir.mkdir(parents=True, exist_ok=True)
    for i, (_, action_url) in enumerate(plan.replicas):
        suffix = str(i + 1) if plan.balanced else ""
        subprocess.run(
            [
                str(APP_BIN / "python"),
                str(ROOT / "scripts/rasa_endpoints.py"),
                str(plan.run_dir / f"endpoints{suffix}.yml"),
            ],
            env={**env, "ACTION_SERVER_URL": action_url},
            check=True,
        )
    if plan.balanced:
        (plan.run_dir / "haproxy.cfg").write_text(haproxy_config(plan, settings.rasa_timeout))
    # prometheus-client's multiprocess files: those of earlier runs are stale.
    metrics = plan.run_dir / "metrics"
    shutil.rmtree(metrics, ignore_errors=True)
    metrics.mkdir()


def _secrets(path: Path) -> dict[str, str]:
    """API_TOKEN and SECRET_KEY for a local production layout, made once, kept 0600."""
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    for name in ("API_TOKEN", "SECRET_KEY"):
        stored.setdefault(name, secrets.token_urlsafe(32))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(json.dumps(stored))
    return stored


@dataclasses.dataclass(frozen=True)
class LocalDefaults:
    """What `production_environment` had to make up on this machine."""

    standin: bool  # no Twilio account is set: the stand-in runs
    made_api_token: bool  # API_TOKEN was made here (then the banner may show it)


def production_environment() -> LocalDefaults:
    """Fill what a local production layout may default (docs/DEPLOY.md)."""
    os.environ["APP_ENV"] = "production"
    os.environ.setdefault("DATABASE_URL", LOCAL_DATABASE_URL)
    os.environ.setdefault("REDIS_URL", LOCAL_REDIS_URL)
    made_api_token = not os.environ.get("API_TOKEN")
    if made_api_token or not os.environ.get("SECRET_KEY"):
        made = _secrets(ROOT / "var" / "prod-secrets.json")
        for name, value in made.items():
            os.environ.setdefault(name, value)
    standin = not os.environ.get("TWILIO_ACCOUNT_SID")
    if standin:
        made = _secrets_standin(ROOT / "var" / "twilio-standin.json")
        os.environ["TWILIO_ACCOUNT_SID"] = made["sid"]
        os.environ["TWILIO_AUTH_TOKEN"] = made["token"]
        port = _count("STANDIN_PORT", STANDIN_PORT)
        os.environ.setdefault("TWILIO_API_BASE_URL", f"http://127.0.0.1:{port}/devphone")
    return LocalDefaults(standin, made_api_token)


def _secrets_standin(path: Path) -> dict[str, str]:
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    stored.setdefault("sid", "AC" + secrets.token_hex(16))
    stored.setdefault("token", secrets.token_hex(16))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(json.dumps(stored))
    return stored


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
    ports += [("127.0.0.1", _port(a, 5055), "an action server") for _, a in plan.replicas]
    if plan.balanced:
        ports.append((plan.rasa_host, plan.rasa_port, "the Rasa balancer, RASA_URL"))
    if plan.standin_port is not None:
        ports.append(("127.0.0.1", plan.standin_port, "the Twilio stand-in, STANDIN_PORT"))
    for host, port, what in ports:
        _port_free(host, port, what)


def banner(
    base_url: str,
    api_token: str,
    officer_password: str | None = None,
    standin_url: str | None = None,
    production: bool = False,
) -> str:
    """What the supervisor prints once /healthz answers 200."""
    lines = ["", "=" * 72]
    if production:
        lines += [
            " Victim care messaging is running: the production layout.",
            f"   Health:     {base_url}/healthz",
            f"   Metrics:    {base_url}/metrics  (same token as the API)",
            f"   API:        {base_url}/api  with  Authorization: Bearer {api_token}",
        ]
        if standin_url:
            lines += [
                " NO REAL TWILIO: no TWILIO_ACCOUNT_SID is set, so messages go to a local",
                f" stand-in and reach no phone. Its handset: {standin_url}/devphone",
            ]
    else:
        lines += [
            " Victim care messaging is running.",
            f"   Dev phone:  {base_url}/devphone   (text 'hello' as a demo victim)",
        ]
        if officer_password:
            lines += [
                f"   Console:    {base_url}/console/login   (play officer beside the dev phone)",
                f"               demo.officer / {officer_password}",
                "               (also demo.supervisor and demo.admin, same password)",
            ]
        lines += [
            f"   Health:     {base_url}/healthz",
            f"   API:        {base_url}/api  with  Authorization: Bearer {api_token}",
            "   Demo victims: Megan Jones +447700900101 (SMS, English),",
            "                 Gwenllian ap Rhys +447700900102 (WhatsApp, Welsh)",
        ]
    lines += [" Ctrl-C stops everything.", "=" * 72, ""]
    return "\n".join(lines)


def announce_when_ready(base_url: str, text_: str, stop: threading.Event) -> None:
    """Print the banner once /healthz answers 200 (Rasa takes a while to load its model)."""
    while not stop.is_set():
        try:
            if requests.get(f"{base_url}/healthz", timeout=3).status_code == 200:
                print(text_, flush=True)
                return
        except requests.RequestException:
            pass
        stop.wait(2)


def procfile(plan: Layout) -> str:
    """The layout as a Procfile (honcho, foreman, `honcho export systemd`)."""
    return "".join(f"{name}: {command}\n" for name, command in commands(plan).items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--production", action="store_true", help="the production layout")
    parser.add_argument(
        "--procfile", action="store_true", help="print it as a Procfile, start nothing"
    )
    args = parser.parse_args(argv)
    load_dotenv(ROOT / ".env")
    try:
        local = production_environment() if args.production else LocalDefaults(False, True)
        standin = local.standin
        settings = Settings.from_env()
        plan = layout(settings, args.production, standin)
        if args.procfile:
            print(procfile(plan), end="")
            return 0
        if args.production:
            startup_checks(plan, settings)
            upgrade(settings.database_url)
            print("database migrated")
    except (StartupError, RuntimeError) as exc:
        print(f"cannot start: {exc}", file=sys.stderr)
        return 1
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "PORT": str(settings.port),
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        "ACTION_SERVER_URL": plan.replicas[0][1],
        # The action server listens on the loopback only: it runs actions on victims' data.
        "SANIC_HOST": urlsplit(plan.replicas[0][1]).hostname or "127.0.0.1",
        "PROMETHEUS_MULTIPROC_DIR": str(plan.run_dir / "metrics"),
    }
    if standin:
        env.update(
            STANDIN_PORT=str(plan.standin_port),
            STANDIN_DATABASE_URL=f"sqlite:///{plan.run_dir / 'twilio-standin.db'}",
            SERVICE_URL=settings.public_base_url,
        )
    write_run_files(plan, env, settings)

    supervisor = manager()
    for name, command in commands(plan).items():
        # exec: the process honcho watches is the server itself, not a shell around it.
        supervisor.add_process(name, f"exec {command}", env=env, cwd=str(ROOT))
    stop = threading.Event()
    base_url = f"http://127.0.0.1:{settings.port}"
    standin_url = f"http://127.0.0.1:{plan.standin_port}" if standin else None
    # A token the operator set is theirs: never printed. One made here for a trial is.
    token = settings.api_token if local.made_api_token else "(API_TOKEN, as you set it)"
    text_ = banner(base_url, token, settings.demo_officer_password, standin_url, args.production)
    threading.Thread(target=announce_when_ready, args=(base_url, text_, stop), daemon=True).start()
    print(f"Starting {len(commands(plan))} processes; run files in {plan.run_dir}")
    start = time.monotonic()
    supervisor.loop()
    stop.set()
    print(f"Stopped after {time.monotonic() - start:.0f} s.")
    return supervisor.returncode or 0


if __name__ == "__main__":
    raise SystemExit(main())
