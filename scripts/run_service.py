"""`make run` and `make run-prod`: start the whole service under one supervisor (honcho).

    python -m scripts.run_service                # development: make run
    python -m scripts.run_service --production   # the production layout: make run-prod
    python -m scripts.run_service --production --procfile   # print it as a Procfile

Development (`make run`): web, one worker (two with REDIS_URL), the scheduler, Rasa and its
action server, on the embedded defaults (SQLite under var/, the dev phone in place of
Twilio).

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
import os
import sys
import threading
import time
from pathlib import Path

import requests
from dotenv import load_dotenv

from models.db import private_file, sqlite_path
from models.migrate import upgrade
from scripts.layout import StartupError, commands, layout, procfile, write_run_files
from scripts.production import LocalDefaults, production_environment, startup_checks
from scripts.supervise import manager
from services.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def banner(
    base_url: str,
    api_token: str,
    officer_password: str | None = None,
    standin_url: str | None = None,
    production: bool = False,
) -> str:
    """What the supervisor prints once /healthz answers 200. In production no secret is
    printed (they are the operator's, in the environment or a file only they can read) and
    there is no dev phone or demo."""
    lines = ["", "=" * 72]
    if production:
        lines += [
            " Victim care messaging is running: the production layout.",
            f"   Console:    {base_url}/console/login",
            f"   Health:     {base_url}/healthz",
            f"   Metrics:    {base_url}/metrics  (a token with the metrics:read scope)",
            f"   API:        {base_url}/api  with a bearer token from",
            "               `flask --app webhooks tokens create`, or API_TOKEN (as set in",
            "               the environment, or made for a trial in var/prod-secrets.json)",
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--production", action="store_true", help="the production layout")
    parser.add_argument(
        "--procfile",
        action="store_true",
        help="print it as a Procfile and write the run files it names; start nothing",
    )
    args = parser.parse_args(argv)
    load_dotenv(ROOT / ".env")
    try:
        local = production_environment() if args.production else LocalDefaults(False)
        standin = local.standin
        settings = Settings.from_env()
        plan = layout(settings, args.production, standin)
        # Every file a process of the service creates (databases, Rasa's tracker store,
        # logs, run files) is readable by its owner only: they hold victims' names and
        # messages.
        os.umask(0o077)
        tracker = sqlite_path(settings.tracker_url())
        if tracker is not None:
            # Rasa creates its tracker file itself; made here first, it is 0600 from the
            # start (SQLite gives its journal the file's own permissions).
            private_file(tracker)
        if args.production and not args.procfile:
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
        # Rasa's endpoints file and the action server must agree on it (a dev install's is
        # generated once, in var/dev-secrets.json).
        "ACTION_SERVER_TOKEN": settings.action_server_token,
        "PROMETHEUS_MULTIPROC_DIR": str(plan.run_dir / "metrics"),
    }
    if standin:
        env.update(
            STANDIN_PORT=str(plan.standin_port),
            STANDIN_DATABASE_URL=f"sqlite:///{plan.run_dir / 'twilio-standin.db'}",
            SERVICE_URL=settings.public_base_url,
        )
    write_run_files(plan, env, settings, starting=not args.procfile)
    if args.procfile:
        print(procfile(plan), end="")
        print(f"(the files it names are in {plan.run_dir})", file=sys.stderr)
        return 0

    supervisor = manager()
    for name, command in commands(plan).items():
        # exec: the process honcho watches is the server itself, not a shell around it.
        supervisor.add_process(name, f"exec {command}", env=env, cwd=str(ROOT))
    stop = threading.Event()
    base_url = f"http://127.0.0.1:{settings.port}"
    standin_url = f"http://127.0.0.1:{plan.standin_port}" if standin else None
    text_ = banner(
        base_url,
        settings.api_token,
        settings.demo_officer_password,
        standin_url,
        production=args.production or settings.production,
    )
    threading.Thread(target=announce_when_ready, args=(base_url, text_, stop), daemon=True).start()
    print(f"Starting {len(commands(plan))} processes; run files in {plan.run_dir}")
    start = time.monotonic()
    supervisor.loop()
    stop.set()
    print(f"Stopped after {time.monotonic() - start:.0f} s.")
    return supervisor.returncode or 0


if __name__ == "__main__":
    raise SystemExit(main())
