"""`make run`: start web, worker, Rasa and the action server under one supervisor (honcho).

Honours the contract's environment variables (and a .env file); whatever is unset falls
back to the embedded defaults: SQLite under var/, the dev phone in place of Twilio.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests
from dotenv import load_dotenv
from honcho.manager import Manager
from honcho.printer import Printer

from models.db import private_file, sqlite_path
from services.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
APP_BIN = ROOT / ".venvs" / "app" / "bin"
RASA_BIN = ROOT / ".venvs" / "rasa" / "bin"
RUN_DIR = ROOT / "var" / "run"


def commands(port: int, rasa_port: int, action_port: int, endpoints: Path) -> dict[str, str]:
    """The processes of one service, by name."""
    host = os.environ.get("HOST", "127.0.0.1")
    workers = os.environ.get("WEB_WORKERS", "2")
    return {
        "web": (
            f"{APP_BIN / 'gunicorn'} --workers {workers} --threads 8 --bind {host}:{port} "
            "--graceful-timeout 10 'webhooks:create_app()'"
        ),
        "worker": f"{APP_BIN / 'python'} -m workers",
        "scheduler": f"{APP_BIN / 'python'} -m scheduler",
        "actions": f"{APP_BIN / 'python'} -m rasa_sdk --actions bot.actions --port {action_port}",
        "rasa": (
            f"{RASA_BIN / 'rasa'} run -m {ROOT / 'var/rasa-models/current.tar.gz'} "
            f"--endpoints {endpoints} --credentials {ROOT / 'bot/credentials.yml'} "
            f"--interface 127.0.0.1 --port {rasa_port}"
        ),
    }


def banner(
    settings_port: int,
    api_token: str,
    base_url: str,
    officer_password: str | None = None,
    production: bool = False,
) -> str:
    """What `make run` prints once the service answers. In production no secret is printed
    (they are the operator's, in the environment) and there is no dev phone or demo."""
    if production:
        return "\n".join(
            [
                "",
                "=" * 72,
                " Victim care messaging is running (APP_ENV=production).",
                f"   Console:    {base_url}/console/login",
                f"   Health:     {base_url}/healthz",
                "   API:        bearer tokens from `flask --app webhooks tokens create`",
                "               (or API_TOKEN, as set in the environment)",
                " Ctrl-C stops everything.",
                "=" * 72,
                "",
            ]
        )
    console = (
        [
            f"   Console:    {base_url}/console/login   (play officer beside the dev phone)",
            f"               demo.officer / {officer_password}",
            "               (also demo.supervisor and demo.admin, same password)",
        ]
        if officer_password
        else []
    )
    return "\n".join(
        [
            "",
            "=" * 72,
            " Victim care messaging is running.",
            f"   Dev phone:  {base_url}/devphone   (text 'hello' as a demo victim)",
            *console,
            f"   Health:     {base_url}/healthz",
            f"   API:        {base_url}/api  with  Authorization: Bearer {api_token}",
            "   Demo victims: Megan Jones +447700900101 (SMS, English),",
            "                 Gwenllian ap Rhys +447700900102 (WhatsApp, Welsh)",
            " Ctrl-C stops everything.",
            "=" * 72,
            "",
        ]
    )


def announce_when_ready(base_url: str, text: str, stop: threading.Event) -> None:
    """Print the banner once /healthz answers 200 (Rasa takes a while to load its model)."""
    while not stop.is_set():
        try:
            if requests.get(f"{base_url}/healthz", timeout=3).status_code == 200:
                print(text, flush=True)
                return
        except requests.RequestException:
            pass
        stop.wait(2)


def main() -> int:
    load_dotenv(ROOT / ".env")
    settings = Settings.from_env()
    # Every file a process of the service creates (databases, Rasa's tracker store, logs,
    # run files) is readable by its owner only: they hold victims' names and messages.
    os.umask(0o077)
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    tracker = sqlite_path(settings.tracker_url())
    if tracker is not None:
        # Rasa creates its tracker file itself; made here first, it is 0600 from the start
        # (SQLite gives its journal the file's own permissions).
        private_file(tracker)
    endpoints = RUN_DIR / "endpoints.yml"
    rasa_port = urlsplit(settings.rasa_url).port or 5005
    action_url = os.environ.get("ACTION_SERVER_URL", "http://127.0.0.1:5055/webhook")
    action_port = urlsplit(action_url).port or 5055
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "PORT": str(settings.port),
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        "ACTION_SERVER_URL": action_url,
    }
    subprocess.run(
        [str(APP_BIN / "python"), str(ROOT / "scripts/rasa_endpoints.py"), str(endpoints)],
        env=env,
        check=True,
    )

    manager = Manager(Printer(sys.stdout))
    for name, command in commands(settings.port, rasa_port, action_port, endpoints).items():
        manager.add_process(name, command, env=env, cwd=str(ROOT))
    stop = threading.Event()
    base_url = f"http://127.0.0.1:{settings.port}"
    text = banner(
        settings.port,
        settings.api_token,
        base_url,
        settings.demo_officer_password,
        production=settings.production,
    )
    threading.Thread(target=announce_when_ready, args=(base_url, text, stop), daemon=True).start()
    print(f"Starting; the dev phone will be at {base_url}/devphone once Rasa has loaded.")
    start = time.monotonic()
    manager.loop()
    stop.set()
    print(f"Stopped after {time.monotonic() - start:.0f} s.")
    return manager.returncode or 0


if __name__ == "__main__":
    raise SystemExit(main())
