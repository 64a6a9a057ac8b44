"""Starting the project's real servers (Rasa, the action server, the worker) for tests."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import requests

from tests.support.ports import start_with_retry

ROOT = Path(__file__).resolve().parents[2]
APP_PY = ROOT / ".venvs" / "app" / "bin" / "python"
RASA = ROOT / ".venvs" / "rasa" / "bin" / "rasa"
MODEL = ROOT / "var" / "rasa-models" / "current.tar.gz"


class Process:
    """A child process with its output in a log file, stopped for sure at the end."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        env: dict[str, str],
        log_dir: Path,
        pass_fds: tuple[int, ...] = (),
    ) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            pass_fds=pass_fds,
        )

    def tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def wait_http(self, url: str, timeout: float) -> None:
        """Wait until `url` answers 200, or fail with the process's last output."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.tail()}")
            try:
                if requests.get(url, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{self.name} did not answer {url} in {timeout:.0f} s:\n{self.tail()}")

    def kill(self) -> None:
        """kill -9: what a crash or an OOM kill does."""
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(10)

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


def start_http(
    name: str,
    argv_for: Callable[[int], list[str]],
    url_for: Callable[[int], str],
    env: dict[str, str],
    log_dir: Path,
    timeout: float,
) -> tuple[Process, int]:
    """Start a server that can only be told its port, and wait until `url_for(port)` answers.

    It gets a spare port (tests/support/ports.py); if the port was taken after all, the
    server exits saying so and is started again on another. Any other failure stops it and
    raises with its last output.
    """

    def start(port: int) -> Process:
        process = Process(name, argv_for(port), env, log_dir)
        try:
            process.wait_http(url_for(port), timeout)
        except BaseException:
            process.stop()
            raise
        return process

    return start_with_retry(start)


def base_env(**overrides: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PYTEST") and k != "PYTHONTRACEMALLOC"
    }
    env.update(
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="2",
    )
    env.update(overrides)
    return env


def require_built() -> None:
    """Fail, saying what to run, when the venvs or the model are missing."""
    missing = [str(p.relative_to(ROOT)) for p in (APP_PY, RASA, MODEL) if not p.exists()]
    if missing:
        raise RuntimeError(f"missing {', '.join(missing)}: run `make test` (it builds them)")
