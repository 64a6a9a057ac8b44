"""A Redis server of a test's own, to stop and start at will: the shared one is never touched."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest
import redis

from tests.support.ports import start_with_retry


class RedisServer:
    """`redis-server` on a spare port, no persistence, its output in a log file."""

    def __init__(self, port: int, workdir: Path) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.log_path = workdir / f"redis-{port}.log"
        self.popen = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
                "--logfile",
                str(self.log_path),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=port, socket_timeout=1, socket_connect_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError as exc:
                if self.popen.poll() is not None or time.monotonic() > deadline:
                    log = self.log_path.read_text() if self.log_path.exists() else ""
                    self.stop()
                    raise RuntimeError(f"redis-server did not start: {log[-500:]}") from exc
                time.sleep(0.05)
        client.close()

    def stop(self) -> None:
        """kill -9: Redis gone at once, as in an outage."""
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(10)


def start_redis(workdir: Path) -> RedisServer:
    """A fresh Redis on a spare port (another one if the port was taken meanwhile)."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is missing: install Debian's redis-server package")
    server, _port = start_with_retry(lambda port: RedisServer(port, workdir))
    return server
