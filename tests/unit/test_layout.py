"""The production layout's process definitions: deploy/Procfile is what the code runs."""

from __future__ import annotations

import pytest

from scripts.layout import ROOT, StartupError, example, haproxy_config, procfile, worker_count


def test_the_committed_procfile_is_the_layout_make_run_prod_starts() -> None:
    committed = (ROOT / "deploy" / "Procfile").read_text()
    definitions = "".join(
        line + "\n" for line in committed.splitlines() if not line.startswith("#")
    )
    assert definitions == procfile(example(ROOT / "var/run/production"), relative=True)


def test_every_rasa_replica_has_its_own_action_server_and_haproxy_fronts_them() -> None:
    plan = example(ROOT / "var/run/production")
    names = procfile(plan).split("\n")
    assert sum(n.startswith(("rasa1:", "rasa2:")) for n in names) == 2
    assert any("--port 5055" in n for n in names) and any("--port 5056" in n for n in names)
    config = haproxy_config(plan, rasa_timeout=30)
    assert "bind 127.0.0.1:5005" in config
    assert "server rasa1 127.0.0.1:5006" in config and "server rasa2 127.0.0.1:5007" in config
    # Only a request that never reached a replica may go to another.
    assert "retry-on conn-failure\n" in config


def test_workers_share_the_send_rate_or_there_is_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without Redis each worker keeps the send rate on its own: two would hand Twilio twice
    the rate from one number."""
    monkeypatch.delenv("WORKERS", raising=False)
    assert worker_count(None, 10.0) == 1  # `make run`: SQLite, no Redis
    assert worker_count("redis://127.0.0.1:6379/0", 10.0) == 2  # the pace is shared there
    assert worker_count(None, 0.0) == 2  # no rate to keep (the benches)
    monkeypatch.setenv("WORKERS", "3")
    assert worker_count("redis://127.0.0.1:6379/0", 10.0) == 3
    with pytest.raises(StartupError, match="WORKERS=3 needs REDIS_URL"):
        worker_count(None, 10.0)
    monkeypatch.setenv("WORKERS", "1")
    assert worker_count(None, 10.0) == 1
