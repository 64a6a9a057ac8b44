"""The processes of one copy of the service, and where each listens (`make run`,
`make run-prod`; docs/DEPLOY.md).

Development: web, its workers (one, or two where Redis shares the send rate), the
scheduler, Rasa and its action server. Production: web (gunicorn), WORKERS workers (two
unless said), SCHEDULERS schedulers (one active, the others stand by), RASA_REPLICAS Rasa
replicas behind haproxy at RASA_URL, each with an action server of its own. Rasa listens
where RASA_URL points (or haproxy does), the action servers where ACTION_SERVER_URL (and
ACTION_SERVER_PORTS) point. Run files go in RUN_DIR, by default var/run/<copy>/, named
after the database and the web port.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from scripts.rasa_endpoints import copy_name
from services.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
APP_BIN = ROOT / ".venvs" / "app" / "bin"
RASA_BIN = ROOT / ".venvs" / "rasa" / "bin"
MODEL = ROOT / "var" / "rasa-models" / "current.tar.gz"
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
    # Where the action servers listen (ACTION_SERVER_HOST, else ACTION_SERVER_URL's host).
    action_host: str
    # One (port of Rasa, URL of its action server) per replica. With one replica Rasa
    # listens at RASA_URL itself; with more, haproxy does and balances them.
    replicas: list[tuple[int, str]]
    standin_port: int | None = None
    # gunicorn's threads per web process (gthread): bench/README.md, "Web server settings".
    web_threads: int = 8

    @property
    def balanced(self) -> bool:
        return len(self.replicas) > 1


def port_of(url: str, default: int) -> int:
    """The port of `url`, or `default` when it names none."""
    return urlsplit(url).port or default


def _ints(raw: str | None, how_many: int, first: int, name: str) -> list[int]:
    # Ports given as "5006,5007", or `how_many` from `first` on.
    if not raw:
        return [first + i for i in range(how_many)]
    try:
        values = [int(p) for p in raw.split(",") if p.strip()]
    except ValueError as exc:
        raise StartupError(f"{name} must be port numbers separated by commas") from exc
    if len(values) != how_many:
        raise StartupError(f"{name} names {len(values)} ports for {how_many} replicas")
    return values


def count(name: str, default: int, least: int = 1) -> int:
    """A whole number from the environment variable `name` (StartupError when it is not)."""
    raw = os.environ.get(name) or str(default)
    if not raw.isdigit() or int(raw) < least:
        raise StartupError(f"{name} must be a whole number, at least {least}; got {raw!r}")
    return int(raw)


def worker_count(redis_url: str | None, send_rate: float) -> int:
    """WORKERS, by default two where they can share the send rate, one where they cannot.

    Two sent faster than one on SQLite and PostgreSQL alike (bench/README.md, "Worker
    processes"), and one goes on while the other restarts. But without Redis each worker
    keeps SEND_RATE_PER_SECOND on its own (services/messaging/ratelimit.py), and two would
    hand Twilio twice the rate from one number: Twilio queues the excess first come, first
    served, so replies would wait behind bulk there, and it drops what waits for hours.
    So without REDIS_URL, at a send rate, one worker, and asking for more is a StartupError.
    """
    shared = bool(redis_url) or send_rate <= 0
    workers = count("WORKERS", 2 if shared else 1)
    if workers > 1 and not shared:
        raise StartupError(
            f"WORKERS={workers} needs REDIS_URL: without it each worker keeps "
            f"SEND_RATE_PER_SECOND ({send_rate:g}) on its own, and together they would send "
            f"{workers} times that from one number. Set REDIS_URL, or WORKERS=1"
        )
    return workers


def layout(settings: Settings, production: bool, standin: bool) -> Layout:
    """The processes of this copy, from the settings and the operational variables."""
    action_url = os.environ.get("ACTION_SERVER_URL") or "http://127.0.0.1:5055/webhook"
    action = urlsplit(action_url)
    rasa = urlsplit(settings.rasa_url)
    rasa_port = rasa.port or 5005
    replicas = count("RASA_REPLICAS", 2 if production else 1)
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
        web_workers=count("WEB_WORKERS", 4 if production else 2),
        web_threads=count("WEB_THREADS", 8),
        workers=worker_count(settings.redis_url, settings.send_rate_per_second),
        schedulers=count("SCHEDULERS", 2 if production else 1),
        # RASA_HOST and ACTION_SERVER_HOST bind elsewhere than the URLs' hosts (a container
        # reached by name listens on 0.0.0.0, say); the loopback otherwise.
        rasa_host=os.environ.get("RASA_HOST") or rasa.hostname or "127.0.0.1",
        rasa_port=rasa_port,
        action_host=os.environ.get("ACTION_SERVER_HOST") or action_host,
        replicas=[
            (rp, f"http://{action_host}:{ap}/webhook")
            for rp, ap in zip(rasa_ports, action_ports, strict=True)
        ],
        standin_port=count("STANDIN_PORT", STANDIN_PORT) if standin else None,
    )


def commands(plan: Layout) -> dict[str, str]:
    """The processes of one copy, by name: honcho's Procfile, in effect."""
    py = APP_BIN / "python"
    procs = {
        "web": (
            f"{APP_BIN / 'gunicorn'} --workers {plan.web_workers} --threads {plan.web_threads} "
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
        action_port = port_of(action_url, 5055)
        # Our action server (bot/action_server.py): only calls carrying Rasa's token, on the
        # host of its URL, the loopback unless ACTION_SERVER_HOST says otherwise.
        procs[f"actions{suffix}"] = (
            f"{py} -m bot.action_server --host {plan.action_host} --port {action_port}"
        )
        interface = "127.0.0.1" if plan.balanced else plan.rasa_host
        procs[f"rasa{suffix}"] = (
            f"{RASA_BIN / 'rasa'} run -m {MODEL} --endpoints {endpoints} "
            f"--credentials {ROOT / 'bot/credentials.yml'} --interface {interface} "
            f"--port {rasa_port}"
        )
    if plan.balanced:
        procs["balancer"] = (
            # From the PATH (the production checks make sure it is there).
            f"haproxy -db -f {plan.run_dir / 'haproxy.cfg'}"
        )
    if plan.standin_port is not None:
        procs["twilio-standin"] = (
            f"{APP_BIN / 'gunicorn'} --workers 1 --threads 8 "
            f"--bind 127.0.0.1:{plan.standin_port} 'scripts.twilio_standin:create_app()'"
        )
    return procs


def single_layout(
    port: int, rasa_port: int, action_url: str, run_dir: Path, *, send_rate: float
) -> Layout:
    """`make run`'s layout on the given ports, its endpoints file in `run_dir` (benches),
    for a service sending at `send_rate` messages a second (its SEND_RATE_PER_SECOND; 0: no
    limit) without Redis: the number of workers depends on it (`worker_count`)."""
    return Layout(
        production=False,
        run_dir=run_dir,
        host="127.0.0.1",
        port=port,
        # As `make run` has them, unless a bench sets them to compare (bench/README.md).
        web_workers=count("WEB_WORKERS", 2),
        web_threads=count("WEB_THREADS", 8),
        workers=worker_count(None, send_rate),
        schedulers=1,
        rasa_host="127.0.0.1",
        rasa_port=rasa_port,
        action_host="127.0.0.1",
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
    return f"""# Generated by scripts/layout.py; do not edit.
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


def write_run_files(
    plan: Layout, env: dict[str, str], settings: Settings, starting: bool = True
) -> None:
    """The endpoints file of each Rasa replica and haproxy's configuration, in the run dir;
    `starting`: the copy is about to start, so its metrics files are emptied too."""
    plan.run_dir.mkdir(parents=True, exist_ok=True)
    for i, (_, action_url) in enumerate(plan.replicas):
        suffix = str(i + 1) if plan.balanced else ""
        subprocess.run(
            [
                str(APP_BIN / "python"),
                "-m",
                "scripts.rasa_endpoints",
                str(plan.run_dir / f"endpoints{suffix}.yml"),
            ],
            env={**env, "ACTION_SERVER_URL": action_url},
            check=True,
            cwd=ROOT,
        )
    if plan.balanced:
        (plan.run_dir / "haproxy.cfg").write_text(haproxy_config(plan, settings.rasa_timeout))
    if not starting:
        return
    # prometheus-client's multiprocess files: those of earlier runs are stale.
    metrics = plan.run_dir / "metrics"
    shutil.rmtree(metrics, ignore_errors=True)
    metrics.mkdir()


def procfile(plan: Layout, relative: bool = False) -> str:
    """The layout as a Procfile (honcho, foreman, `honcho export systemd`); `relative`:
    paths relative to the project's folder, where it must then be run."""
    lines = "".join(f"{name}: {command}\n" for name, command in commands(plan).items())
    return lines.replace(f"{ROOT}/", "") if relative else lines


def example(run_dir: Path) -> Layout:
    """The production layout on its default ports (deploy/Procfile is this, printed)."""
    return Layout(
        production=True,
        run_dir=run_dir,
        host="127.0.0.1",
        port=5000,
        web_workers=4,
        workers=2,
        schedulers=2,
        rasa_host="127.0.0.1",
        rasa_port=5005,
        action_host="127.0.0.1",
        replicas=[(5006, "http://127.0.0.1:5055/webhook"), (5007, "http://127.0.0.1:5056/webhook")],
    )
