"""`GET /healthz` (contract): each component and whether it answers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
from flask import Blueprint, Response, jsonify
from sqlalchemy import text

from models import utcnow
from services.operations import heartbeats
from services.runtime import Runtime, runtime

bp = Blueprint("health", __name__)

TIMEOUT = 2.0


def _database(rt: Runtime) -> dict[str, Any]:
    with rt.db.session() as session:
        session.execute(text("SELECT 1"))
    return {"ok": True}


def _http(url: str, params: dict[str, str] | None = None) -> dict[str, Any]:
    response = requests.get(url, params=params, timeout=TIMEOUT)
    return {"ok": response.status_code == 200, "status": response.status_code}


def _heartbeat(rt: Runtime, name: str) -> dict[str, Any]:
    # The active scheduler and every worker beat every few seconds (scheduler/jobs.py,
    # workers/worker.py); a stale beat means none is running.
    with rt.db.session() as session:
        beat_at = heartbeats.last_beat(session, name)
    if beat_at is None:
        return {"ok": False, "detail": "no heartbeat yet"}
    age = (utcnow() - beat_at).total_seconds()
    fresh = age <= rt.settings.heartbeat_stale_seconds
    return {"ok": fresh, "last_heartbeat_seconds_ago": round(age, 1)}


def check(rt: Runtime) -> dict[str, dict[str, Any]]:
    """Probe every component at once, each with a short timeout."""
    probes = {
        "database": lambda: _database(rt),
        "rasa": lambda: _http(f"{rt.settings.rasa_url}/"),
        # With the token Rasa sends: a server that refuses it is as good as down.
        "action_server": lambda: _http(
            f"{rt.settings.action_server_url}/actions",
            {"token": rt.settings.action_server_token},
        ),
        "scheduler": lambda: _heartbeat(rt, heartbeats.SCHEDULER),
        "worker": lambda: _heartbeat(rt, heartbeats.WORKER),
    }
    results: dict[str, dict[str, Any]] = {}
    with ThreadPoolExecutor(len(probes)) as pool:
        futures = {name: pool.submit(probe) for name, probe in probes.items()}
        for name, future in futures.items():
            try:
                results[name] = future.result()
            except Exception as exc:  # noqa: BLE001 - any failure means "does not answer"
                results[name] = {"ok": False, "detail": type(exc).__name__}
    return results


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    components = check(runtime())
    healthy = all(c["ok"] for c in components.values())
    body = {
        "status": "ok" if healthy else "unavailable",
        "checked_at": utcnow().isoformat(timespec="seconds"),
        "components": components,
    }
    return jsonify(body), 200 if healthy else 503
